/*
** test_capi.c — the public C API as a host uses it, through heirloom.h
** alone: hl_node_stop ends the waits of attached threads, bad pointer
** arguments are refused with a message naming them, error messages name
** what was not found, and the host's process functions (pid terms, term
** types, exit, links, monitors, process info, the config's size).
*/
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "check.h"
#include "heirloom.h"

static hl_config config(int schedulers) {
  hl_config cfg;
  hl_config_init(&cfg);
  cfg.schedulers = schedulers;
  return cfg;
}

static int contains(const char *s, const char *part) {
  return s != NULL && strstr(s, part) != NULL;
}

/* ---- hl_node_stop wakes hl_receive ---- */

typedef struct waiter {
  hl_node *node;
  int timeout_ms;
  pthread_mutex_t lock;
  int attached;
  hl_status got;
  int done;
  char msg[200];
} waiter;

static void *wait_for_mail(void *arg) {
  waiter *w = arg;
  hl_pid self;
  hl_buf in;
  hl_status st;
  hl_buf_init(&in);
  st = hl_attach(w->node, &self);
  pthread_mutex_lock(&w->lock);
  w->attached = st == HL_OK ? 1 : -1;
  pthread_mutex_unlock(&w->lock);
  if (st == HL_OK) st = hl_receive(w->node, w->timeout_ms, &in);
  pthread_mutex_lock(&w->lock);
  w->got = st;
  snprintf(w->msg, sizeof w->msg, "%s", hl_errmsg());
  w->done = 1;
  pthread_mutex_unlock(&w->lock);
  hl_detach(w->node);
  hl_buf_free(&in);
  return NULL;
}

/* Waits up to ms for w to finish; 1 if it did. */
static int finished_within(waiter *w, long ms) {
  for (long waited = 0; waited <= ms; waited += 10) {
    int done;
    pthread_mutex_lock(&w->lock);
    done = w->done;
    pthread_mutex_unlock(&w->lock);
    if (done) return 1;
    check_sleep_ms(10);
  }
  return 0;
}

static void test_stop_wakes_receive(int timeout_ms) {
  hl_config cfg = config(1);
  waiter w = {.timeout_ms = timeout_ms, .lock = PTHREAD_MUTEX_INITIALIZER};
  pthread_t th;
  int attached = 0;
  CHECK(hl_node_start(&cfg, &w.node) == HL_OK);
  pthread_create(&th, NULL, wait_for_mail, &w);
  while (attached == 0) {
    pthread_mutex_lock(&w.lock);
    attached = w.attached;
    pthread_mutex_unlock(&w.lock);
    check_sleep_ms(1);
  }
  check_sleep_ms(50);   /* into its wait */
  hl_node_stop(w.node);
  /* well before a timeout of 20 s */
  CHECK(finished_within(&w, 5000));
  if (!w.done) {
    fprintf(stderr, "the waiting thread did not return after hl_node_stop\n");
    pthread_detach(th);
    return;
  }
  pthread_join(th, NULL);
  CHECK(w.got == HL_ECLOSED);
  CHECK(contains(w.msg, "hl_receive"));
  CHECK(contains(w.msg, "stopped"));
}

/* hl_receive on an attached thread after its node stopped. */
static void test_receive_after_stop(void) {
  hl_config cfg = config(1);
  hl_node *node;
  hl_pid self;
  hl_buf in;
  hl_buf_init(&in);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_OK);
  hl_node_stop(node);
  CHECK(hl_receive(node, -1, &in) == HL_ECLOSED);
  CHECK(hl_receive(node, 10, &in) == HL_ECLOSED);
  hl_detach(node);
  hl_buf_free(&in);
}

/* A Lua state of the host's, bound to the node on a thread of its own,
** blocked in hl.receive: the stop ends its wait with an error. */
static void *lua_waits(void *arg) {
  waiter *w = arg;
  lua_State *L = luaL_newstate();
  int ok;
  luaL_openlibs(L);
  ok = hl_lua_attach(L, w->node);
  pthread_mutex_lock(&w->lock);
  w->attached = ok ? 1 : -1;
  pthread_mutex_unlock(&w->lock);
  if (ok) {
    lua_setglobal(L, "hl");
    ok = luaL_dostring(L, w->timeout_ms < 0 ? "hl.receive()" : "hl.receive(20000)") == LUA_OK;
  }
  pthread_mutex_lock(&w->lock);
  w->got = ok ? HL_OK : HL_ECLOSED;
  snprintf(w->msg, sizeof w->msg, "%s", ok ? "" : lua_tostring(L, -1));
  w->done = 1;
  pthread_mutex_unlock(&w->lock);
  lua_close(L);
  return NULL;
}

static void test_stop_wakes_lua_receive(int timeout_ms) {
  hl_config cfg = config(1);
  waiter w = {.timeout_ms = timeout_ms, .lock = PTHREAD_MUTEX_INITIALIZER};
  pthread_t th;
  int attached = 0;
  CHECK(hl_node_start(&cfg, &w.node) == HL_OK);
  pthread_create(&th, NULL, lua_waits, &w);
  while (attached == 0) {
    pthread_mutex_lock(&w.lock);
    attached = w.attached;
    pthread_mutex_unlock(&w.lock);
    check_sleep_ms(1);
  }
  check_sleep_ms(50);
  hl_node_stop(w.node);
  CHECK(finished_within(&w, 5000));
  if (!w.done) {
    fprintf(stderr, "the Lua state's receive did not return after hl_node_stop\n");
    pthread_detach(th);
    return;
  }
  pthread_join(th, NULL);
  CHECK(w.got == HL_ECLOSED);
  CHECK(contains(w.msg, "heirloom.receive: the node stopped"));
}

/* ---- pointer arguments ---- */

static void test_null_arguments(void) {
  hl_config cfg = config(0);
  hl_node *node;
  hl_table *t, *other;
  hl_buf b, out;
  size_t count = 99;
  int64_t i;
  hl_pid pid;
  hl_buf_init(&b);
  hl_buf_init(&out);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_table_new(node, "t", NULL, &t) == HL_OK);
  hl_term_array(&b, 2);
  hl_term_int(&b, 1);
  hl_term_int(&b, 2);
  CHECK(hl_table_insert(t, b.data, b.len) == HL_OK);
  hl_buf_clear(&b);
  hl_term_int(&b, 1);

  /* the reported crash */
  CHECK(hl_table_lookup(t, b.data, b.len, &out, NULL) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_lookup: count"));
  CHECK(hl_table_lookup(t, b.data, b.len, NULL, &count) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_lookup: out"));
  CHECK(hl_table_lookup(NULL, b.data, b.len, &out, &count) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_lookup: t"));
  CHECK(hl_table_lookup(t, NULL, 3, &out, &count) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_lookup: key"));

  CHECK(hl_table_select(t, b.data, b.len, &out, NULL) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_select: count"));
  CHECK(hl_table_select(t, b.data, b.len, NULL, &count) == HL_EBADARG);
  CHECK(hl_table_select_reverse(t, b.data, b.len, &out, NULL) == HL_EBADARG);
  CHECK(hl_table_next(t, NULL, 0, NULL) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_next: out"));
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, 1, NULL) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_update_counter: result"));
  CHECK(hl_table_incr(t, "k", 1, 1, NULL) == HL_EBADARG);
  CHECK(hl_table_incr(NULL, "k", 1, 1, &i) == HL_EBADARG);
  CHECK(hl_table_put(t, NULL, 1, "v", 1) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_put: key"));
  CHECK(hl_table_put(t, "k", 1, NULL, 1) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_put: val"));
  CHECK(hl_table_put(t, "k", 0, "", 0) == HL_OK);   /* NULL-free empty strings are fine */
  CHECK(hl_table_get(t, "k", 1, NULL) == HL_EBADARG);
  CHECK(hl_table_get(NULL, "k", 1, &out) == HL_EBADARG);
  CHECK(hl_table_del(t, NULL, 1) == HL_EBADARG);
  CHECK(hl_table_insert(NULL, b.data, b.len) == HL_EBADARG);
  CHECK(hl_table_insert_new(t, NULL, 4) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_insert_new: obj is NULL"));
  CHECK(hl_send(node, 1, NULL, 4) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_send: msg is NULL"));
  CHECK(hl_table_delete(NULL, b.data, b.len) == HL_EBADARG);
  CHECK(hl_table_drop(NULL) == HL_EBADARG);
  CHECK(hl_table_claim(NULL) == HL_EBADARG);
  CHECK(hl_table_size(NULL) == 0);
  CHECK(hl_table_tab2file(NULL, "/tmp/x") == HL_EBADARG);
  hl_table_release(NULL);

  CHECK(hl_table_new(node, "u", NULL, NULL) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_new: out"));
  CHECK(hl_table_open(node, "t", &other) == HL_ENOTFOUND);   /* unnamed */
  CHECK(other == NULL);
  CHECK(hl_table_new(NULL, "u", NULL, &other) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_table_new: node"));
  CHECK(hl_table_new_durable(node, "u", NULL, HL_SYNC_DEFAULT, NULL) == HL_EBADARG);
  CHECK(hl_table_open(node, "t", NULL) == HL_EBADARG);
  CHECK(hl_table_open(NULL, "t", &other) == HL_EBADARG);
  CHECK(hl_table_file2tab(node, "/tmp/x", NULL, NULL) == HL_EBADARG);
  CHECK(hl_table_file2tab(NULL, "/tmp/x", NULL, &other) == HL_EBADARG);

  CHECK(hl_node_start(&cfg, NULL) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_node_start: out"));
  CHECK(hl_attach(node, NULL) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_attach: self"));
  CHECK(hl_attach(NULL, &pid) == HL_EBADARG);
  CHECK(hl_send(NULL, 1, b.data, b.len) == HL_EBADARG);
  CHECK(hl_send_name(NULL, "x", b.data, b.len) == HL_EBADARG);
  CHECK(hl_send_name(node, NULL, b.data, b.len) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_send_name: name"));
  CHECK(hl_receive(NULL, 0, &out) == HL_EBADARG);
  CHECK(hl_interrupt(NULL, 1, 1) == HL_EBADARG);
  CHECK(hl_register(NULL, "x", 1) == HL_EBADARG);
  CHECK(hl_whereis(NULL, "x") == 0);
  CHECK(hl_spawn(NULL, "m", "f", NULL, 0, &pid) == HL_EBADARG);
  CHECK(hl_spawn(node, NULL, "f", NULL, 0, &pid) == HL_EBADARG);
  CHECK(hl_spawn(node, "m", NULL, NULL, 0, &pid) == HL_EBADARG);
  CHECK(hl_spawn(node, "m", "f", NULL, 0, NULL) == HL_EBADARG);
  CHECK(hl_node_set_path(NULL, "x", NULL) == HL_EBADARG);
  hl_node_set_logger(NULL, NULL, NULL);
  CHECK(hl_node_step(NULL) == 0);
  CHECK(hl_node_run(NULL) == 0);
  CHECK(hl_node_now(NULL) == 0);
  CHECK(hl_node_advance(NULL, 1) == HL_EBADARG);
  CHECK(hl_node_trace_hash(NULL) == 0);
  CHECK(hl_store_repair(NULL, &out) == HL_EBADARG);
  hl_detach(NULL);
  hl_node_stop(NULL);
  hl_node_crash(NULL);

  /* terms and buffers */
  CHECK(hl_term_check(NULL) == HL_EBADARG);
  hl_term_nil(NULL);
  hl_term_int(NULL, 1);
  hl_term_string(NULL, "x", 1);
  hl_term_string(&out, NULL, 1);   /* refused: out unchanged */
  hl_buf_append(NULL, "x", 1);
  hl_buf_init(NULL);
  hl_buf_free(NULL);
  hl_buf_clear(NULL);
  CHECK(hl_term_size(NULL, 5) == 0);
  CHECK(hl_term_get_int(NULL, 9, &i) == 0);
  CHECK(hl_term_get_int(b.data, b.len, NULL) == 0);
  CHECK(contains(hl_errmsg(), "hl_term_get_int: v"));
  CHECK(hl_term_get_string(b.data, b.len, NULL) == 0);
  CHECK(hl_term_get_array(b.data, b.len, NULL) == 0);
  CHECK(hl_term_get_float(b.data, b.len, NULL) == 0);

  hl_table_release(t);
  hl_node_stop(node);
  hl_buf_free(&b);
  hl_buf_free(&out);
}

/* ---- messages name what they could not find ---- */

static void test_messages_name_it(void) {
  hl_config cfg = config(0);
  hl_node *node;
  hl_table *t;
  hl_buf b;
  hl_pid self;
  hl_buf_init(&b);
  hl_term_int(&b, 1);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_send_name(node, "foo", b.data, b.len) == HL_ENOTFOUND);
  CHECK(strcmp(hl_errmsg(), "hl_send_name: no process registered as 'foo'") == 0);
  CHECK(hl_table_open(node, "nosuch", &t) == HL_ENOTFOUND);
  CHECK(contains(hl_errmsg(), "'nosuch'"));
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_register(node, "me", self) == HL_OK);
  CHECK(hl_register(node, "me", self) == HL_EEXIST);
  CHECK(contains(hl_errmsg(), "'me'"));
  CHECK(hl_register(node, "other", 12345) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "<0.12345.0>"));
  CHECK(hl_interrupt(node, 12345, 1) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "<0.12345.0>"));
  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&b);
}


/* ---- terms: pids, types, booleans, nil, maps ---- */

static void test_terms(void) {
  hl_buf b, s;
  hl_pid pid = 2 | (hl_pid)1 << 32, back = 0;
  char text[HL_PID_TEXT_SIZE];
  const void *k, *v, *e;
  size_t kl, vl, el;
  uint32_t n = 0;
  int flag = -1;
  int64_t i = 0;
  hl_buf_init(&b);
  hl_buf_init(&s);

  hl_term_pid(&b, pid);
  CHECK(hl_term_check(&b) == HL_OK);
  CHECK(hl_term_type(b.data, b.len) == HL_T_PID);
  CHECK(hl_term_get_pid(b.data, b.len, &back) == b.len && back == pid);
  CHECK(hl_term_get_int(b.data, b.len, &i) == 0);
  CHECK(hl_pid_format(pid, text, sizeof text) == 7);
  CHECK(strcmp(text, "<0.2.1>") == 0);
  CHECK(hl_pid_format(pid, text, 4) == 7 && strcmp(text, "<0.") == 0);   /* cut, terminated */
  CHECK(hl_pid_format(UINT64_MAX, text, sizeof text) == strlen("<0.4294967295.4294967295>"));
  CHECK(hl_pid_parse("<0.2.1>", &back) == HL_OK && back == pid);
  CHECK(hl_pid_parse("<0.4294967295.4294967295>", &back) == HL_OK && back == UINT64_MAX);
  CHECK(hl_pid_parse("<0.2.1> ", &back) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_pid_parse: text '<0.2.1> '"));
  CHECK(hl_pid_parse("<1.2.1>", &back) == HL_EBADARG);
  CHECK(hl_pid_parse("<0.-2.1>", &back) == HL_EBADARG);
  CHECK(hl_pid_parse("<0.4294967296.1>", &back) == HL_EBADARG);
  CHECK(hl_pid_parse("<0.2>", &back) == HL_EBADARG);
  CHECK(hl_pid_parse(NULL, &back) == HL_EBADARG);
  CHECK(hl_pid_parse("<0.2.1>", NULL) == HL_EBADARG);

  hl_buf_clear(&b);
  hl_term_nil(&b);
  CHECK(hl_term_type(b.data, b.len) == HL_T_NIL);
  CHECK(hl_term_get_nil(b.data, b.len) == 1);
  CHECK(hl_term_get_bool(b.data, b.len, &flag) == 0);
  hl_buf_clear(&b);
  hl_term_bool(&b, 1);
  CHECK(hl_term_type(b.data, b.len) == HL_T_BOOLEAN);
  CHECK(hl_term_get_bool(b.data, b.len, &flag) == 1 && flag == 1);
  CHECK(hl_term_get_nil(b.data, b.len) == 0);
  hl_buf_clear(&b);
  hl_term_bool(&b, 0);
  CHECK(hl_term_get_bool(b.data, b.len, &flag) == 1 && flag == 0);
  hl_buf_clear(&b);
  hl_term_int(&b, -7);
  CHECK(hl_term_type(b.data, b.len) == HL_T_INTEGER);
  hl_buf_clear(&b);
  hl_term_float(&b, 0.5);
  CHECK(hl_term_type(b.data, b.len) == HL_T_FLOAT);
  hl_buf_clear(&b);
  hl_term_string(&b, "abc", 3);
  CHECK(hl_term_type(b.data, b.len) == HL_T_STRING);
  CHECK(hl_term_type(b.data, b.len - 1) == HL_T_NONE);
  CHECK(hl_term_type("\xff", 1) == HL_T_NONE);

  /* {"a" = 1, "b" = true}: keys in encoded order, then the values */
  hl_buf_clear(&b);
  hl_term_map(&b, 2);
  hl_term_string(&b, "a", 1);
  hl_term_string(&b, "b", 1);
  hl_term_int(&b, 1);
  hl_term_bool(&b, 1);
  CHECK(hl_term_check(&b) == HL_OK);
  CHECK(hl_term_type(b.data, b.len) == HL_T_MAP);
  CHECK(hl_term_get_map(b.data, b.len, &n) > 0 && n == 2);
  CHECK(hl_term_get_array(b.data, b.len, &n) == 0);
  CHECK(hl_term_map_entry(b.data, b.len, 1, &k, &kl, &v, &vl) == 1);
  hl_buf_clear(&s);
  CHECK(hl_term_get_string(k, kl, &s) == kl && s.len == 1 && s.data[0] == 'b');
  CHECK(hl_term_get_bool(v, vl, &flag) == vl && flag == 1);
  CHECK(hl_term_map_entry(b.data, b.len, 0, &k, &kl, &v, &vl) == 1);
  CHECK(hl_term_get_int(v, vl, &i) == vl && i == 1);
  CHECK(hl_term_map_entry(b.data, b.len, 2, &k, &kl, &v, &vl) == 0);
  hl_buf_clear(&s);
  hl_term_string(&s, "b", 1);
  CHECK(hl_term_map_get(b.data, b.len, s.data, s.len, &v, &vl) == 1);
  CHECK(hl_term_get_bool(v, vl, &flag) == vl && flag == 1);
  hl_buf_clear(&s);
  hl_term_string(&s, "c", 1);
  CHECK(hl_term_map_get(b.data, b.len, s.data, s.len, &v, &vl) == 0);

  /* {pid, 5} */
  hl_buf_clear(&b);
  hl_term_array(&b, 2);
  hl_term_pid(&b, pid);
  hl_term_int(&b, 5);
  CHECK(hl_term_type(b.data, b.len) == HL_T_ARRAY);
  CHECK(hl_term_array_elem(b.data, b.len, 0, &e, &el) == 1);
  CHECK(hl_term_get_pid(e, el, &back) == el && back == pid);
  CHECK(hl_term_array_elem(b.data, b.len, 1, &e, &el) == 1);
  CHECK(hl_term_get_int(e, el, &i) == el && i == 5);
  CHECK(hl_term_array_elem(b.data, b.len, 2, &e, &el) == 0);
  CHECK(hl_term_array_elem(b.data, b.len, 0, NULL, &el) == 0);
  CHECK(contains(hl_errmsg(), "hl_term_array_elem: elem is NULL"));

  /* [5, [], "x"]: a list, not an array */
  hl_buf_clear(&b);
  hl_term_list(&b);
  hl_term_int(&b, 5);
  hl_term_list(&b);
  hl_term_list_end(&b);
  hl_term_string(&b, "x", 1);
  hl_term_list_end(&b);
  CHECK(hl_term_check(&b) == HL_OK);
  CHECK(hl_term_type(b.data, b.len) == HL_T_LIST);
  CHECK(hl_term_get_array(b.data, b.len, &n) == 0);
  CHECK(hl_term_get_list(b.data, b.len, &n) == b.len && n == 3);
  CHECK(hl_term_list_elem(b.data, b.len, 0, &e, &el) == 1);
  CHECK(hl_term_get_int(e, el, &i) == el && i == 5);
  CHECK(hl_term_list_elem(b.data, b.len, 1, &e, &el) == 1);
  CHECK(hl_term_type(e, el) == HL_T_LIST && hl_term_get_list(e, el, &n) == 2 && n == 0);
  CHECK(hl_term_list_elem(b.data, b.len, 3, &e, &el) == 0);
  CHECK(hl_term_array_elem(b.data, b.len, 0, &e, &el) == 0);
  CHECK(hl_term_check(&b) == HL_OK);
  b.len--;                                 /* no end mark */
  CHECK(hl_term_check(&b) == HL_EFORMAT);
  CHECK(hl_term_get_list(b.data, b.len, &n) == 0);
  hl_buf_free(&b);
  hl_buf_free(&s);
}

/* ---- exit signals, links, monitors, process info ---- */

static void write_module(const char *dir) {
  char path[300];
  FILE *f;
  snprintf(path, sizeof path, "%s/c_capi.lua", dir);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs("local hl = require('heirloom')\n"
        "local M = {}\n"
        "function M.wait() hl.receive() end\n"
        "function M.hello(to) hl.send(to, {'hello', hl.self()}) hl.receive() end\n"
        "function M.pong(n)\n"
        "  for _ = 1, n do local m = hl.receive() hl.send(m[1], m[2]) end\n"
        "end\n"
        "function M.ping(to, n)\n"
        "  local pong = hl.spawn('c_capi', 'pong', n)\n"
        "  for i = 1, n do hl.send(pong, {hl.self(), i}) assert(hl.receive() == i) end\n"
        "  hl.send(to, 'done')\n"
        "end\n"
        "return M\n", f);
  fclose(f);
}

/* Whether m is {tag, <id>, pid, reason...}: EXIT is {"EXIT", pid, reason},
** DOWN {"DOWN", ref, pid, reason}. */
static int is_signal(const hl_buf *m, const char *tag, uint64_t ref, hl_pid pid,
                     const char *reason) {
  const void *e;
  size_t el;
  uint32_t n = 0, at = 1;
  hl_buf s;
  hl_pid p = 0;
  uint64_t r = 0;
  int ok;
  hl_buf_init(&s);
  ok = hl_term_get_array(m->data, m->len, &n) > 0 && n == (strcmp(tag, "DOWN") == 0 ? 4u : 3u) &&
       hl_term_array_elem(m->data, m->len, 0, &e, &el) && hl_term_get_string(e, el, &s) &&
       s.len == strlen(tag) && memcmp(s.data, tag, s.len) == 0;
  if (ok && n == 4)
    ok = hl_term_array_elem(m->data, m->len, at++, &e, &el) && hl_term_get_ref(e, el, &r) &&
         r == ref;
  ok = ok && hl_term_array_elem(m->data, m->len, at++, &e, &el) && hl_term_get_pid(e, el, &p) &&
       p == pid;
  hl_buf_clear(&s);
  ok = ok && hl_term_array_elem(m->data, m->len, at, &e, &el) && hl_term_get_string(e, el, &s) &&
       s.len == strlen(reason) && memcmp(s.data, reason, s.len) == 0;
  hl_buf_free(&s);
  return ok;
}

static hl_status next_message(hl_node *node, int timeout_ms, hl_buf *in) {
  hl_buf_clear(in);
  return hl_receive(node, timeout_ms, in);
}

static void string_term(hl_buf *b, const char *s) {
  hl_buf_clear(b);
  hl_term_string(b, s, strlen(s));
}

static void quiet(void *ud, const char *report) {
  (void)ud;
  (void)report;
}

static void test_exit_link_monitor(void) {
  hl_config cfg = config(1);
  hl_node *node;
  char dir[] = "/tmp/heirloom-test-XXXXXX", path[300];
  hl_buf in, b;
  hl_pid self, p, q;
  uint64_t ref = 0, ref2 = 0;
  hl_proc_info info;
  int got_exit = 0, got_down = 0;
  CHECK(mkdtemp(dir) != NULL);
  write_module(dir);
  snprintf(path, sizeof path, "%s/?.lua", dir);
  hl_buf_init(&in);
  hl_buf_init(&b);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_node_set_path(node, path, NULL) == HL_OK);
  hl_node_set_logger(node, quiet, NULL);   /* the crash reports of the kills */

  /* links and monitors are for a thread that can receive */
  CHECK(hl_link(node, 1) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_link: the calling thread is not attached"));
  CHECK(hl_monitor(node, 1, &ref) == HL_EBADARG);
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_monitor(node, 1, NULL) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_monitor: ref is NULL"));

  /* a pid term as an argument, and one that comes back */
  hl_term_array(&b, 1);
  hl_term_pid(&b, self);
  CHECK(hl_spawn(node, "c_capi", "hello", b.data, b.len, &p) == HL_OK);
  CHECK(next_message(node, 5000, &in) == HL_OK);
  {
    const void *e;
    size_t el;
    hl_pid back = 0;
    CHECK(hl_term_array_elem(in.data, in.len, 1, &e, &el) && hl_term_get_pid(e, el, &back));
    CHECK(back == p);
  }
  CHECK(hl_process_alive(node, p));
  CHECK(hl_process_info(node, p, &info) == HL_OK);
  CHECK(info.host == 0 && info.registered_name[0] == '\0' && info.links == 0);
  CHECK(info.status == HL_PROC_WAITING || info.status == HL_PROC_RUNNABLE ||
        info.status == HL_PROC_RUNNING);

  /* killed: the link's EXIT and the monitor's DOWN come to the host */
  CHECK(hl_link(node, p) == HL_OK);
  CHECK(hl_monitor(node, p, &ref) == HL_OK);
  CHECK(hl_process_info(node, self, &info) == HL_OK);
  CHECK(info.host == 1 && info.trap_exit == 1 && info.links == 1 && info.monitors == 1);
  CHECK(info.status == HL_PROC_RUNNING);
  string_term(&b, "kill");
  CHECK(hl_exit(node, p, b.data, b.len) == HL_OK);
  for (int k = 0; k < 2; k++) {
    CHECK(next_message(node, 5000, &in) == HL_OK);
    if (is_signal(&in, "EXIT", 0, p, "killed")) got_exit++;
    if (is_signal(&in, "DOWN", ref, p, "killed")) got_down++;
  }
  CHECK(got_exit == 1 && got_down == 1);
  CHECK(!hl_process_alive(node, p));
  CHECK(hl_process_info(node, p, &info) == HL_ENOTFOUND);
  {
    char want[80], text[HL_PID_TEXT_SIZE];
    hl_pid_format(p, text, sizeof text);
    snprintf(want, sizeof want, "hl_process_info: pid is not alive: %s", text);
    CHECK(strcmp(hl_errmsg(), want) == 0);
  }

  /* a dead pid: EXIT and DOWN with "noproc" at once */
  CHECK(hl_link(node, p) == HL_OK);
  CHECK(next_message(node, 5000, &in) == HL_OK && is_signal(&in, "EXIT", 0, p, "noproc"));
  CHECK(hl_monitor(node, p, &ref) == HL_OK);
  CHECK(next_message(node, 5000, &in) == HL_OK && is_signal(&in, "DOWN", ref, p, "noproc"));
  CHECK(hl_exit(node, p, b.data, b.len) == HL_OK);   /* nothing to do */

  /* "normal" does not end a process that does not trap; another reason does */
  CHECK(hl_spawn(node, "c_capi", "wait", NULL, 0, &q) == HL_OK);
  CHECK(hl_monitor(node, q, &ref) == HL_OK);
  CHECK(hl_monitor(node, q, &ref2) == HL_OK);
  CHECK(ref != ref2);
  CHECK(hl_demonitor(node, ref) == HL_OK);
  CHECK(hl_link(node, q) == HL_OK);
  CHECK(hl_unlink(node, q) == HL_OK);
  string_term(&b, "normal");
  CHECK(hl_exit(node, q, b.data, b.len) == HL_OK);
  CHECK(next_message(node, 100, &in) == HL_ENOTFOUND);
  CHECK(hl_process_alive(node, q));
  string_term(&b, "bye");
  CHECK(hl_exit(node, q, b.data, b.len) == HL_OK);
  CHECK(next_message(node, 5000, &in) == HL_OK && is_signal(&in, "DOWN", ref2, q, "bye"));
  CHECK(next_message(node, 0, &in) == HL_ENOTFOUND);   /* no EXIT, no second DOWN */

  /* the host traps: an exit signal to it is a message */
  CHECK(hl_exit(node, self, b.data, b.len) == HL_OK);
  CHECK(next_message(node, 5000, &in) == HL_OK && is_signal(&in, "EXIT", 0, self, "bye"));
  CHECK(hl_exit(node, self, NULL, 0) == HL_EBADARG);
  CHECK(contains(hl_errmsg(), "hl_exit: reason is NULL"));

  /* what a host process looks like */
  CHECK(hl_register(node, "the_host", self) == HL_OK);
  string_term(&b, "x");
  CHECK(hl_send(node, self, b.data, b.len) == HL_OK);
  CHECK(hl_send(node, self, b.data, b.len) == HL_OK);
  CHECK(hl_process_info(node, self, &info) == HL_OK);
  CHECK(info.message_queue_len == 2 && strcmp(info.registered_name, "the_host") == 0);
  CHECK(hl_process_info(node, self, NULL) == HL_EBADARG);
  CHECK(hl_process_alive(NULL, self) == 0);

  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&in);
  hl_buf_free(&b);
  snprintf(path, sizeof path, "%s/c_capi.lua", dir);
  remove(path);
  remove(dir);
}

/* ---- a config that can grow ---- */

/* Atoms: built, typed, read back, refused when no atom can have the name. */
static void test_atoms(void) {
  hl_buf b;
  const char *name = NULL;
  size_t namelen = 0;
  char longname[300];
  hl_buf_init(&b);
  hl_term_atom(&b, "ok", 2);
  CHECK(hl_term_check(&b) == HL_OK);
  CHECK(hl_term_type(b.data, b.len) == HL_T_ATOM);
  CHECK(hl_term_get_atom(b.data, b.len, &name, &namelen) == b.len);
  CHECK(namelen == 2 && memcmp(name, "ok", 2) == 0);
  CHECK(hl_term_get_atom(b.data, b.len - 1, &name, &namelen) == 0);
  CHECK(hl_term_get_atom(b.data, b.len, NULL, &namelen) == 0);
  CHECK(contains(hl_errmsg(), "hl_term_get_atom: name is NULL"));
  hl_buf_clear(&b);
  hl_term_string(&b, "ok", 2);
  CHECK(hl_term_get_atom(b.data, b.len, &name, &namelen) == 0);   /* a string is no atom */

  hl_buf_clear(&b);
  hl_term_atom(&b, "a\0b", 3);
  CHECK(contains(hl_errmsg(), "hl_term_atom: name must be at most 255 bytes, none of them zero"));
  CHECK(b.len == 0 && hl_term_check(&b) == HL_EFORMAT);
  memset(longname, 'x', sizeof longname);
  hl_term_atom(&b, longname, 256);
  CHECK(b.len == 0);
  hl_term_atom(&b, longname, 255);
  CHECK(hl_term_check(&b) == HL_OK);

  /* an array holding an atom is a valid term for every way in */
  hl_buf_clear(&b);
  hl_term_array(&b, 2);
  hl_term_atom(&b, "", 0);
  hl_term_int(&b, 1);
  CHECK(hl_term_check(&b) == HL_OK);
  hl_buf_free(&b);
}

static void test_config_size(void) {
  hl_config cfg;
  hl_node *node = NULL;
  memset(&cfg, 0xA5, sizeof cfg);
  hl_config_init(&cfg);
  CHECK(cfg.size == sizeof cfg);
  CHECK(cfg.schedulers == hl_default_schedulers());
  CHECK(cfg.data_dir == NULL && cfg.memory_limit == 0 && cfg.seed == 0 && cfg.on_load == NULL);
  hl_config_init(NULL);
  CHECK(contains(hl_errmsg(), "hl_config_init: cfg is NULL"));

  cfg.schedulers = 0;
  cfg.size = 0;                          /* a host that never set it */
  CHECK(hl_node_start(&cfg, &node) == HL_EBADARG && node == NULL);
  CHECK(contains(hl_errmsg(), "hl_node_start: cfg->size is 0"));
  CHECK(contains(hl_errmsg(), "hl_config_init"));
  cfg.size = sizeof cfg + 8;             /* from a newer header than this library */
  CHECK(hl_node_start(&cfg, &node) == HL_EBADARG && node == NULL);
  cfg.size = (size_t)-1;
  CHECK(hl_node_start(&cfg, &node) == HL_EBADARG && node == NULL);
  cfg.size = sizeof cfg;
  CHECK(hl_node_start(&cfg, &node) == HL_OK && node != NULL);
  hl_node_stop(node);
  CHECK(hl_node_start(NULL, &node) == HL_OK && node != NULL);
  hl_node_stop(node);
}

/* ---- hl_node_step on several threads ---- */

typedef struct stepper {
  hl_node *node;
  pthread_mutex_t lock;
  int stop;
  size_t steps;
} stepper;

static void *step_until_told(void *arg) {
  stepper *st = arg;
  for (;;) {
    int stop;
    pthread_mutex_lock(&st->lock);
    stop = st->stop;
    pthread_mutex_unlock(&st->lock);
    if (stop) break;
    if (hl_node_step(st->node)) st->steps++;
    else sched_yield();
  }
  return NULL;
}

/* A host-driven node stepped by two threads at once: a thread of the
** host's runs hl_node_step while the attached thread's hl_receive runs
** the node too, through pairs of processes that ping-pong (each receive
** a step of its own). Every process runs to its end (and the sanitizers see no
** race); only the order is no longer the same from run to run. */
static void test_steps_on_two_threads(void) {
  enum { PROCS = 4, ROUNDS = 200 };
  hl_config cfg = config(0);
  char dir[] = "/tmp/heirloom-test-XXXXXX", path[300];
  stepper st = {.lock = PTHREAD_MUTEX_INITIALIZER};
  pthread_t th;
  hl_buf args, in;
  hl_pid self, pid;
  int done = 0;
  CHECK(mkdtemp(dir) != NULL);
  write_module(dir);
  snprintf(path, sizeof path, "%s/?.lua", dir);
  hl_buf_init(&args);
  hl_buf_init(&in);
  CHECK(hl_node_start(&cfg, &st.node) == HL_OK);
  CHECK(hl_node_set_path(st.node, path, NULL) == HL_OK);
  CHECK(hl_attach(st.node, &self) == HL_OK);
  hl_term_array(&args, 2);
  hl_term_pid(&args, self);
  hl_term_int(&args, ROUNDS);
  pthread_create(&th, NULL, step_until_told, &st);
  for (int i = 0; i < PROCS; i++)
    CHECK(hl_spawn(st.node, "c_capi", "ping", args.data, args.len, &pid) == HL_OK);
  check_sleep_ms(2);   /* the other thread's steps under way, then this one's too */
  for (int i = 0; i < PROCS; i++) {
    hl_buf_clear(&in);
    /* on the virtual clock: with the other thread's step under way, the
    ** node is neither idle nor free to jump to this deadline */
    if (hl_receive(st.node, 5000, &in) == HL_OK && hl_term_type(in.data, in.len) == HL_T_STRING)
      done++;
  }
  pthread_mutex_lock(&st.lock);
  st.stop = 1;
  pthread_mutex_unlock(&st.lock);
  pthread_join(th, NULL);
  CHECK(done == PROCS);
  hl_detach(st.node);
  hl_node_stop(st.node);
  hl_buf_free(&args);
  hl_buf_free(&in);
  snprintf(path, sizeof path, "%s/c_capi.lua", dir);
  remove(path);
  remove(dir);
}

int main(void) {
  test_stop_wakes_receive(-1);
  test_stop_wakes_receive(20000);
  test_receive_after_stop();
  test_stop_wakes_lua_receive(-1);
  test_stop_wakes_lua_receive(20000);
  test_null_arguments();
  test_messages_name_it();
  test_terms();
  test_atoms();
  test_config_size();
  test_exit_link_monitor();
  test_steps_on_two_threads();
  return check_summary("capi");
}
