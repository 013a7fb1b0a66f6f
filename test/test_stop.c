/*
** test_stop.c — hl_node_stop finishes in bounded time whatever the
** processes do: one stuck in a finalizer (Lua runs those with hooks off,
** so nothing can interrupt it) is left to its thread, as is a state whose
** finalizer runs when the node closes it, and the host's logger is told.
** The finalizers here end after a few seconds: the test then waits for
** the abandoned threads to come back, so that the sanitizers see them
** touch only what the node left them.
**
** A thread that detaches while the node stops has its exit finished
** before the stop frees the scheduler and the node: the test holds the
** exit midway (proc_exit_test_hook) and sees the stop wait for it.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "heirloom.h"
#include "proc.h"

#define STUCK_SECONDS 3

typedef struct reports {
  pthread_mutex_t lock;
  char stop[600];          /* the stop's report, if any */
} reports;

static void on_report(void *ud, const char *text) {
  reports *r = ud;
  pthread_mutex_lock(&r->lock);
  if (strstr(text, " heirloom.stop:") != NULL) snprintf(r->stop, sizeof r->stop, "%s", text);
  pthread_mutex_unlock(&r->lock);
}

/* stuck.gc(s): a finalizer that runs s seconds, in the process's slice.
** stuck.at_close(to, s): one that runs when the node closes the state of
** the process, which tells `to` and returns. */
static void write_module(const char *dir) {
  char path[300];
  FILE *f;
  snprintf(path, sizeof path, "%s/stuck.lua", dir);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs("local hl = require('heirloom')\n"
        "local M = {}\n"
        "local function spin(s) local t = os.time() + s while os.time() < t do end end\n"
        "function M.gc(s)\n"
        "  setmetatable({}, { __gc = function() spin(s) end })\n"
        "  collectgarbage()\n"
        "end\n"
        "function M.at_close(to, s)\n"
        "  setmetatable({}, { __gc = function() spin(s) end })\n"
        "  hl.send(to, 1)\n"
        "end\n"
        "return M\n", f);
  fclose(f);
}

static void test_stop_abandons(int schedulers) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = schedulers};
  char dir[] = "/tmp/heirloom-test-XXXXXX", path[300];
  reports r = {PTHREAD_MUTEX_INITIALIZER, ""};
  hl_buf args, in;
  hl_pid self, stuck = 0, closing = 0;
  char want[64];
  CHECK(mkdtemp(dir) != NULL);
  write_module(dir);
  snprintf(path, sizeof path, "%s/?.lua", dir);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_node_set_path(node, path, NULL) == HL_OK);
  hl_node_set_logger(node, on_report, &r);
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_register(node, "c_host", self) == HL_OK);
  hl_buf_init(&args);
  hl_buf_init(&in);

  /* a state that runs its finalizer for seconds when it is closed */
  hl_term_array(&args, 2);
  hl_term_string(&args, "c_host", 6);
  hl_term_int(&args, STUCK_SECONDS);
  CHECK(hl_spawn(node, "stuck", "at_close", args.data, args.len, &closing) == HL_OK);
  CHECK(hl_receive(node, 5000, &in) == HL_OK);
  /* a process stuck in a finalizer in its slice */
  hl_buf_clear(&args);
  hl_term_array(&args, 1);
  hl_term_int(&args, STUCK_SECONDS);
  CHECK(hl_spawn(node, "stuck", "gc", args.data, args.len, &stuck) == HL_OK);
  check_sleep_ms(300);

  hl_detach(node);
  hl_node_stop(node);    /* a report of what it abandoned: it did not wait */
  snprintf(want, sizeof want, "(<0.%u.%u>)", (unsigned)(uint32_t)stuck,
           (unsigned)(uint32_t)(stuck >> 32));
  pthread_mutex_lock(&r.lock);
  /* one log line: time, level, then the report */
  CHECK(strstr(r.stop, "Z warning heirloom.stop: abandoned 1 process state ") != NULL);
  CHECK(strstr(r.stop, want) != NULL);
  CHECK(strstr(r.stop, "and 1 closing state") != NULL);
  if (strstr(r.stop, want) == NULL) fprintf(stderr, "report: %s\n", r.stop);
  pthread_mutex_unlock(&r.lock);

  /* the abandoned threads come back and leave */
  check_sleep_ms(STUCK_SECONDS * 1000 + 500);
  hl_buf_free(&args);
  hl_buf_free(&in);
  snprintf(path, sizeof path, "%s/stuck.lua", dir);
  remove(path);
  remove(dir);
  (void)closing;
}

/* ---- a detach while the node stops ---- */

static struct {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int held;          /* an exit waits in hold_exit */
  int let_go;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void hold_exit(proc *p) {
  (void)p;
  pthread_mutex_lock(&gate.lock);
  gate.held = 1;
  pthread_cond_broadcast(&gate.changed);
  while (!gate.let_go) pthread_cond_wait(&gate.changed, &gate.lock);
  pthread_mutex_unlock(&gate.lock);
}

typedef struct stopping {
  hl_node *node;
  atomic_int done;
} stopping;

typedef struct detaching {
  hl_node *node;
  hl_status attached;    /* checked by the main thread: CHECK is not for threads */
} detaching;

static void *detach_thread(void *ud) {
  detaching *d = ud;
  hl_pid self;
  d->attached = hl_attach(d->node, &self);
  hl_detach(d->node);    /* held in hold_exit until the test lets it go */
  return NULL;
}

static void *stop_thread(void *ud) {
  stopping *s = ud;
  hl_node_stop(s->node);
  atomic_store(&s->done, 1);
  return NULL;
}

static void test_detach_while_stopping(int schedulers) {
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = schedulers};
  stopping s;
  detaching d;
  pthread_t detacher, stopper;
  CHECK(hl_node_start(&cfg, &s.node) == HL_OK);
  d.node = s.node;
  d.attached = HL_EBADARG;
  atomic_init(&s.done, 0);
  gate.held = gate.let_go = 0;
  atomic_store(&proc_exit_test_hook, hold_exit);
  CHECK(pthread_create(&detacher, NULL, detach_thread, &d) == 0);
  pthread_mutex_lock(&gate.lock);
  while (!gate.held) pthread_cond_wait(&gate.changed, &gate.lock);
  pthread_mutex_unlock(&gate.lock);
  atomic_store(&proc_exit_test_hook, NULL);
  CHECK(d.attached == HL_OK);   /* written before the exit reached hold_exit */

  /* the exit has begun and is held: the stop must wait for it */
  CHECK(pthread_create(&stopper, NULL, stop_thread, &s) == 0);
  check_sleep_ms(300);
  CHECK(atomic_load(&s.done) == 0);
  pthread_mutex_lock(&gate.lock);
  gate.let_go = 1;
  pthread_cond_broadcast(&gate.changed);
  pthread_mutex_unlock(&gate.lock);
  pthread_join(detacher, NULL);
  pthread_join(stopper, NULL);
  CHECK(atomic_load(&s.done) == 1);
}

int main(void) {
  test_detach_while_stopping(1);
  test_detach_while_stopping(0);
  test_stop_abandons(1);
  return check_summary("stop");
}
