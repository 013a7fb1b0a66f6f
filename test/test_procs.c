/*
** test_procs.c — processes through the C API and from a Lua state the host
** binds to a node: host threads as processes (send, receive, names,
** timeouts), 10,000 processes spawned and exited (LeakSanitizer checks
** that nothing is left behind, `make check-asan`), a host-driven node,
** the sender the node records for a message sent from C, and interrupted
** waits (hl_interrupt).
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "heirloom.h"
#include "node.h"
#include "proc.h"
#include "ptab.h"
#include "term.h"
#include "testutil.h"

#define PINGS 1000

typedef struct peer {
  hl_node *node;
  hl_pid pid;
  int ok;
} peer;

/* Attaches, registers as "ponger", answers PINGS messages in order. */
static void *ponger(void *arg) {
  peer *pr = arg;
  hl_buf in, out;
  hl_pid self;
  hl_buf_init(&in);
  hl_buf_init(&out);
  pr->ok = hl_attach(pr->node, &self) == HL_OK && hl_register(pr->node, "ponger", self) == HL_OK;
  for (int i = 0; i < PINGS && pr->ok; i++) {
    int64_t v = -1;
    hl_buf_clear(&in);
    if (hl_receive(pr->node, 5000, &in) != HL_OK || hl_term_get_int(in.data, in.len, &v) == 0 ||
        v != i)
      pr->ok = 0;
    int_term(&out, v);
    if (hl_send(pr->node, pr->pid, out.data, out.len) != HL_OK) pr->ok = 0;
  }
  hl_detach(pr->node);
  hl_buf_free(&in);
  hl_buf_free(&out);
  return NULL;
}

static void test_host_threads(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 2};
  peer pr;
  pthread_t th;
  hl_buf b, in;
  hl_pid self, found = 0;
  int ordered = 1;
  struct timespec t0, t1;
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_EEXIST);
  pr = (peer){node, self, 0};
  hl_buf_init(&b);
  hl_buf_init(&in);
  pthread_create(&th, NULL, ponger, &pr);
  for (int i = 0; i < 200 && (found = hl_whereis(node, "ponger")) == 0; i++) {
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
  }
  CHECK(found != 0);
  for (int i = 0; i < PINGS; i++) {
    int64_t v = -1;
    int_term(&b, i);
    CHECK(i == 0 ? hl_send_name(node, "ponger", b.data, b.len) == HL_OK
                 : hl_send(node, found, b.data, b.len) == HL_OK);
    hl_buf_clear(&in);
    if (hl_receive(node, 5000, &in) != HL_OK || hl_term_get_int(in.data, in.len, &v) == 0 || v != i)
      ordered = 0;
  }
  CHECK(ordered);
  pthread_join(th, NULL);
  CHECK(pr.ok);
  CHECK(hl_whereis(node, "ponger") == 0);          /* freed when its holder left */
  CHECK(hl_send_name(node, "ponger", b.data, b.len) == HL_ENOTFOUND);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  hl_buf_clear(&in);
  CHECK(hl_receive(node, 50, &in) == HL_ENOTFOUND);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 45);
  CHECK(hl_send(node, self, "\x99", 1) == HL_EFORMAT);
  hl_detach(node);
  hl_buf clear;
  hl_buf_init(&clear);
  CHECK(hl_receive(node, 0, &clear) == HL_EBADARG);   /* detached */
  hl_buf_free(&clear);
  hl_node_stop(node);
  hl_buf_free(&b);
  hl_buf_free(&in);
}

static void test_many_processes(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 2};
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(lua_check(node,
    "local n = 10000\n"
    "for i = 1, n do\n"
    "  hl.spawn(function(parent, i) require('heirloom').send(parent, i) end, hl.self(), i)\n"
    "end\n"
    "local seen, sum = 0, 0\n"
    "for _ = 1, n do local m = hl.receive(10000); if not m then break end; seen = seen + 1; sum = sum + m end\n"
    "for _ = 1, 100 do if #hl.processes() <= 2 then break end hl.sleep(10) end\n"
    "return seen == n and sum == n * (n + 1) // 2 and #hl.processes() == 2\n"));
  hl_node_stop(node);
}

/* schedulers = 0: nothing runs until the host drives the node. */
static void test_driven_node(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0};
  hl_buf in;
  hl_pid self;
  int64_t sum = 0;
  hl_buf_init(&in);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_register(node, "collector", self) == HL_OK);
  CHECK(lua_check(node,
    "for i = 1, 10 do hl.spawn(function(i) require('heirloom').send('collector', i) end, i) end\n"
    "return #hl.processes() == 13\n"));     /* 10, this thread, the Lua state, the node's */
  hl_buf_clear(&in);
  CHECK(hl_receive(node, 0, &in) == HL_ENOTFOUND);    /* nothing ran yet */
  CHECK(hl_node_run(node) >= 10);
  for (int i = 0; i < 10; i++) {
    int64_t v = 0;
    hl_buf_clear(&in);
    CHECK(hl_receive(node, 1000, &in) == HL_OK && hl_term_get_int(in.data, in.len, &v) > 0);
    sum += v;
  }
  CHECK(sum == 55);
  hl_buf_clear(&in);
  CHECK(hl_receive(node, -1, &in) == HL_ECLOSED);    /* nothing can ever arrive */
  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&in);
}

/* ---- spawning from C, module paths, the logger callback ---- */

typedef struct reports {
  pthread_mutex_t lock;
  int count;
  char last[512];
} reports;

static void on_report(void *ud, const char *text) {
  reports *r = ud;
  pthread_mutex_lock(&r->lock);
  r->count++;
  snprintf(r->last, sizeof r->last, "%s", text);
  pthread_mutex_unlock(&r->lock);
}

static int report_count(reports *r) {
  int n;
  pthread_mutex_lock(&r->lock);
  n = r->count;
  pthread_mutex_unlock(&r->lock);
  return n;
}

static void write_module(const char *dir) {
  char file[300];
  FILE *f;
  snprintf(file, sizeof file, "%s/c_spawned.lua", dir);
  f = fopen(file, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs("local hl = require('heirloom')\n"
        "local M = {}\n"
        "function M.double(to, x) hl.send(to, x * 2) end\n"
        "function M.count(to, ...) if to then hl.send(to, select('#', ...)) end end\n"
        "function M.crash(msg) error(msg, 0) end\n"
        "return M\n", f);
  fclose(f);
}

static void test_spawn_from_c(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 2};
  char dir[] = "/tmp/heirloom-test-XXXXXX", path[300];
  hl_buf args, in;
  hl_pid self, pid = 0;
  int64_t v = 0;
  reports r = {PTHREAD_MUTEX_INITIALIZER, 0, ""};
  CHECK(mkdtemp(dir) != NULL);
  write_module(dir);
  snprintf(path, sizeof path, "%s/?.lua", dir);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_node_set_path(node, path, NULL) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_OK);
  hl_buf_init(&args);
  hl_buf_init(&in);

  /* double("c_host", 21): the C term builders make no pids, so the
  ** process answers a registered name */
  CHECK(hl_register(node, "c_host", self) == HL_OK);
  hl_term_array(&args, 2);
  hl_term_string(&args, "c_host", 6);
  hl_term_int(&args, 21);
  CHECK(hl_spawn(node, "c_spawned", "double", args.data, args.len, &pid) == HL_OK);
  CHECK(pid != 0);
  CHECK(hl_receive(node, 5000, &in) == HL_OK);
  CHECK(hl_term_get_int(in.data, in.len, &v) > 0 && v == 42);

  hl_buf_clear(&in);                            /* no arguments */
  CHECK(hl_spawn(node, "c_spawned", "count", NULL, 0, &pid) == HL_OK);
  hl_buf_clear(&args);
  hl_term_array(&args, 1);
  hl_term_string(&args, "c_host", 6);
  CHECK(hl_spawn(node, "c_spawned", "count", args.data, args.len, &pid) == HL_OK);
  CHECK(hl_receive(node, 5000, &in) == HL_OK);
  CHECK(hl_term_get_int(in.data, in.len, &v) > 0 && v == 0);

  CHECK(hl_spawn(node, "no_such_module", "f", NULL, 0, &pid) == HL_EBADARG);
  CHECK(pid == 0);
  CHECK(strstr(hl_errmsg(), "hl_spawn: cannot load module 'no_such_module'") == hl_errmsg());
  CHECK(hl_spawn(node, "c_spawned", "nofn", NULL, 0, &pid) == HL_EBADARG);
  CHECK(strcmp(hl_errmsg(), "hl_spawn: module 'c_spawned' has no function 'nofn'") == 0);
  hl_buf_clear(&args);
  hl_term_int(&args, 5);
  CHECK(hl_spawn(node, "c_spawned", "count", args.data, args.len, &pid) == HL_EBADARG);
  CHECK(strcmp(hl_errmsg(), "hl_spawn: args must be an array term") == 0);
  CHECK(hl_spawn(node, "c_spawned", "count", "\x60\xff", 2, &pid) == HL_EFORMAT);
  CHECK(hl_spawn(node, NULL, "count", NULL, 0, &pid) == HL_EBADARG);
  CHECK(strcmp(hl_errmsg(), "hl_spawn: module must be a non-empty string") == 0);
  CHECK(hl_spawn(node, "c_spawned", "", NULL, 0, &pid) == HL_EBADARG);
  CHECK(hl_spawn(node, "c_spawned", "count", NULL, 0, NULL) == HL_EBADARG);

  /* reports reach the host's function, and stderr again after NULL */
  hl_node_set_logger(node, on_report, &r);
  hl_buf_clear(&args);
  hl_term_array(&args, 1);
  hl_term_string(&args, "boom from C", 11);
  CHECK(hl_spawn(node, "c_spawned", "crash", args.data, args.len, &pid) == HL_OK);
  for (int i = 0; i < 500 && report_count(&r) == 0; i++) {
    struct timespec ms = {0, 10 * 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  CHECK(report_count(&r) == 1);
  pthread_mutex_lock(&r.lock);
  CHECK(strstr(r.last, "boom from C") != NULL);
  CHECK(strstr(r.last, "CRASH REPORT") != NULL);
  pthread_mutex_unlock(&r.lock);
  hl_node_set_logger(node, NULL, NULL);

  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&args);
  hl_buf_free(&in);
  snprintf(path, sizeof path, "%s/c_spawned.lua", dir);
  remove(path);
  remove(dir);
}

/* ---- the true sender, interrupts ---- */

static int run_lua(lua_State *L, const char *code) {
  int ok = luaL_dostring(L, code) == LUA_OK && lua_toboolean(L, -1);
  if (!ok) fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
  lua_settop(L, 0);
  return ok;
}

typedef struct interrupter {
  hl_node *node;
  hl_pid pid;
} interrupter;

static void *interrupt_later(void *arg) {
  interrupter *it = arg;
  struct timespec ms = {0, 50 * 1000 * 1000};
  nanosleep(&ms, NULL);
  hl_interrupt(it->node, it->pid, 1);
  return NULL;
}

/* A thread's hl_receive blocked for ever gives up when another thread
** interrupts it. */
static void interrupted_wait(hl_node *node, hl_pid self) {
  interrupter it = {node, self};
  pthread_t th;
  hl_buf in;
  hl_buf_init(&in);
  pthread_create(&th, NULL, interrupt_later, &it);
  CHECK(hl_receive(node, -1, &in) == HL_EINTR);
  CHECK(has_msg("hl_receive: interrupted"));
  pthread_join(th, NULL);
  CHECK(hl_receive(node, 1000, &in) == HL_EINTR);      /* until withdrawn */
  CHECK(hl_interrupt(node, self, 0) == HL_OK);
  CHECK(hl_receive(node, 0, &in) == HL_ENOTFOUND);
  hl_buf_free(&in);
}

static void test_sender_and_interrupt(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 2};
  hl_pid self, lpid;
  hl_buf b, in;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  hl_buf_init(&b);
  hl_buf_init(&in);
  CHECK(hl_lua_self(L) == 0);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_register(node, "c_main", self) == HL_OK);
  CHECK(hl_lua_attach(L, node));
  lua_setglobal(L, "hl");
  lpid = hl_lua_self(L);
  CHECK(lpid != 0 && lpid != self);
  /* a message from an attached thread comes from its pid */
  int_term(&b, 7);
  CHECK(hl_send(node, lpid, b.data, b.len) == HL_OK);
  CHECK(run_lua(L, "local m, from = hl.receive_with_sender(1000)\n"
                   "return m == 7 and from == hl.whereis('c_main')"));
  /* a Lua host state interrupted: its receive raises, until withdrawn */
  CHECK(hl_interrupt(node, lpid, 1) == HL_OK);
  CHECK(run_lua(L, "local ok, e = pcall(hl.receive)\n"
                   "local ok2, e2 = pcall(hl.receive, 1000)\n"
                   "return not ok and e == 'heirloom.receive: interrupted' and not ok2"));
  CHECK(run_lua(L, "hl.send(hl.self(), 'there'); return hl.receive() == 'there'"));
  CHECK(hl_interrupt(node, lpid, 0) == HL_OK);
  CHECK(run_lua(L, "return hl.receive(10) == nil"));
  interrupted_wait(node, self);
  CHECK(hl_interrupt(node, 0, 1) == HL_EBADARG);       /* not a process */
  CHECK(has_msg("hl_interrupt: pid is not a live host process"));
  lua_close(L);
  hl_detach(node);
  CHECK(hl_interrupt(node, self, 1) == HL_EBADARG);    /* gone */
  hl_node_stop(node);

  /* a host-driven node: the wait until a far timer gives up too (on the
  ** real clock: a virtual one would jump to the timer instead of waiting
  ** for the interrupt) */
  cfg.schedulers = 0;
  cfg.clock = HL_CLOCK_REAL;
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_OK);
  L = luaL_newstate();
  luaL_openlibs(L);
  CHECK(hl_lua_attach(L, node));
  lua_setglobal(L, "hl");
  CHECK(run_lua(L, "hl.send_after(60000, hl.self(), 'late'); return true"));
  interrupted_wait(node, self);
  lua_close(L);
  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&b);
  hl_buf_free(&in);
}

/* ---- terms no Lua state could read ---- */

/* {[nil] = true} or {[NaN] = true}: valid bytes, but no Lua table. */
static void bad_key_map(hl_buf *b, int nan_key) {
  hl_buf_clear(b);
  hl_term_array(b, 2);
  hl_term_string(b, "m", 1);
  hl_term_map(b, 1);
  if (nan_key) hl_term_float(b, 0.0 / 0.0);
  else hl_term_nil(b);
  hl_term_bool(b, 1);
}

/* Such a message or spawn argument is refused, naming the argument: sent,
** it made every receive of the process raise, and stayed at the head of
** its mailbox for ever. */
static void test_unreadable_messages(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 1};
  hl_buf b, in;
  hl_pid self, pid = 0;
  hl_buf_init(&b);
  hl_buf_init(&in);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_register(node, "me", self) == HL_OK);
  for (int nan_key = 0; nan_key <= 1; nan_key++) {
    bad_key_map(&b, nan_key);
    CHECK(hl_send(node, self, b.data, b.len) == HL_EBADARG);
    CHECK(has_msg("hl_send: msg ") && has_msg(nan_key ? "NaN" : "nil"));
    CHECK(hl_send_name(node, "me", b.data, b.len) == HL_EBADARG);
    CHECK(has_msg("hl_send: msg "));
    CHECK(hl_spawn(node, "c_spawned", "count", b.data, b.len, &pid) == HL_EBADARG);
    CHECK(has_msg("hl_spawn: args ") && pid == 0);
  }
  hl_buf_clear(&in);
  CHECK(hl_receive(node, 0, &in) == HL_ENOTFOUND);   /* nothing got through */
  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&b);
  hl_buf_free(&in);
}

static node *inject_node;

/* inject(name): puts into the mailbox of the process registered as name
** two messages no C API or Lua send lets through: a map with a nil key,
** and a truncated array. */
static int l_inject(lua_State *L) {
  static const unsigned char nil_key[] = {TERM_MAP, 1, TERM_NIL, TERM_TRUE};
  static const unsigned char cut[] = {TERM_ARRAY, 2, TERM_TRUE};
  proc *p = ptab_get(&inject_node->procs, ptab_whereis(&inject_node->procs, luaL_checkstring(L, 1)));
  if (p == NULL) return luaL_error(L, "inject: no such process");
  proc_deliver(p, nil_key, sizeof nil_key);
  proc_deliver(p, cut, sizeof cut);
  proc_unref(p);
  return 0;
}

/* A message that cannot be decoded (none can arrive, but were one to)
** is dropped with a report: it never blocks the mailbox. */
static void test_undecodable_mail_is_dropped(void) {
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 1};
  reports r = {PTHREAD_MUTEX_INITIALIZER, 0, ""};
  lua_State *L;
  int ok;
  CHECK(hl_node_start(&cfg, &inject_node) == HL_OK);
  hl_node_set_logger(inject_node, on_report, &r);
  L = luaL_newstate();
  luaL_openlibs(L);
  CHECK(hl_lua_attach(L, inject_node));
  lua_setglobal(L, "hl");
  lua_register(L, "inject", l_inject);
  ok = luaL_dostring(L,
    "hl.register('victim', hl.self())\n"
    "inject('victim')\n"
    "hl.send(hl.self(), 'after')\n"
    "local first = hl.receive(0)\n"
    "inject('victim')\n"
    "hl.send(hl.self(), 'again')\n"
    "local second = hl.receive(function(m) return m == 'again' end, 0)\n"
    "return first == 'after' and second == 'again' and hl.receive(0) == nil\n") == LUA_OK &&
       lua_toboolean(L, -1);
  if (!ok) fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
  CHECK(ok);
  lua_close(L);
  CHECK(report_count(&r) == 4);
  pthread_mutex_lock(&r.lock);
  CHECK(strstr(r.last, "heirloom.receive") != NULL && strstr(r.last, "does not decode") != NULL);
  pthread_mutex_unlock(&r.lock);
  hl_node_stop(inject_node);
}

int main(void) {
  test_sender_and_interrupt();
  test_host_threads();
  test_unreadable_messages();
  test_undecodable_mail_is_dropped();
  test_spawn_from_c();
  test_many_processes();
  test_driven_node();
  return check_summary("procs");
}
