/*
** capi_proc.c — the C API's processes (include/heirloom.h): host threads
** that attach as processes, messages, names, exit signals, links and
** monitors, and what a host may learn about a process. Everything is the
** process layer's (proc.h, ptab.h); this file checks what the host passes
** and says who the caller is: the thread's attached process, or else the
** node's host process.
*/
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "capi.h"
#include "heirloom.h"
#include "node.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "term.h"

#define B(b) ((buf *)(b))

static_assert(HL_PROC_RUNNABLE == PROC_RUNNABLE && HL_PROC_RUNNING == PROC_RUNNING &&
                  HL_PROC_WAITING == PROC_WAITING && HL_PROC_EXITING == PROC_DYING,
              "hl_proc_info.status is the process's state");

/* The calling thread's process, once it attached. */
static _Thread_local struct {
  node *node;
  proc *me;
} attached;

/* capi.h */
uint64_t capi_caller(hl_node *n) {
  return attached.node == n && attached.me != NULL ? attached.me->pid : n->host_pid;
}

/* "fn: what why: <0.ID.SERIAL>" with code. */
static hl_status fail_pid(hl_status code, const char *fn, const char *what, uint64_t pid,
                          const char *why) {
  char text[HL_PID_TEXT_SIZE];
  hl_err e;
  term_pid_text(pid, text, sizeof text);
  err_set(&e, code, "%s: %s %s: %s", fn, what, why, text);
  return err_publish(&e);
}

/* The calling thread's own process on node, for what only a thread that
** can receive may ask for (the DOWN and EXIT messages come to it). */
static proc *attached_to(node *n) {
  return n != NULL && attached.node == n ? attached.me : NULL;
}

hl_status hl_attach(hl_node *node, hl_pid *self) {
  uint64_t pid;
  int stopped;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_attach", "node is NULL");
  if (self == NULL) return capi_fail(HL_EBADARG, "hl_attach", "self is NULL");
  if (attached.me != NULL) return capi_fail(HL_EEXIST, "hl_attach", "this thread is attached already");
  pthread_mutex_lock(&node->lock);
  stopped = node->stopped;
  pthread_mutex_unlock(&node->lock);
  if (stopped) return capi_fail(HL_ECLOSED, "hl_attach", "the node is stopping");
  pid = node_new_host(node);
  if (pid == 0) return capi_fail(HL_ENOMEM, "hl_attach", "out of memory");
  attached.node = node;
  attached.me = ptab_get(&node->procs, pid);
  *self = pid;
  return HL_OK;
}

void hl_detach(hl_node *node) {
  if (node == NULL || attached.me == NULL || attached.node != node) return;
  proc_end_host(attached.me);
  proc_unref(attached.me);
  attached.me = NULL;
  attached.node = NULL;
}

hl_status hl_send(hl_node *node, hl_pid to, const void *msg, size_t len) {
  proc *p;
  hl_err e;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_send", "node is NULL");
  err_clear(&e);
  if (!capi_check_term("msg", msg, len, &e)) return capi_done("hl_send", &e);
  p = ptab_get(&node->procs, to);
  if (p == NULL) return HL_OK;     /* dropped, as in Erlang */
  /* the sender is the calling thread's process, or the node's host process */
  proc_deliver_from(p, capi_caller(node), msg, len);
  proc_unref(p);
  return HL_OK;
}

hl_status hl_send_name(hl_node *node, const char *name, const void *msg, size_t len) {
  uint64_t pid;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_send_name", "node is NULL");
  if (name == NULL) return capi_fail(HL_EBADARG, "hl_send_name", "name is NULL");
  pid = ptab_whereis(&node->procs, name);
  if (pid == 0) {
    hl_err e;
    err_set(&e, HL_ENOTFOUND, "hl_send_name: no process registered as '%.100s'", name);
    return err_publish(&e);
  }
  return hl_send(node, pid, msg, len);
}

/* The receive itself, between proc_host_enter and proc_host_leave. */
static hl_status receive(node *node, proc *p, int timeout_ms, hl_buf *out) {
  msg *m;
  p->deadline = timeout_ms < 0 ? -1 : sched_clock(node->sched) + timeout_ms;
  proc_mail_rewind(p);
  while ((m = proc_mail_next(p)) == NULL) {
    int waited;
    if (p->deadline >= 0 && sched_clock(node->sched) >= p->deadline)
      return capi_fail(HL_ENOTFOUND, "hl_receive", "no message before the timeout");
    waited = proc_host_wait(p);
    if (waited == -3) return capi_fail(HL_ECLOSED, "hl_receive", "the node stopped");
    if (waited == -2) return capi_fail(HL_EINTR, "hl_receive", "interrupted (hl_interrupt)");
    if (waited != 0)
      return capi_fail(HL_ECLOSED, "hl_receive", "the node is idle and no message can arrive");
  }
  buf_put(B(out), m->data, m->len);
  proc_mail_take(p, m);
  if (!buf_ok(B(out))) return capi_fail(HL_ENOMEM, "hl_receive", "out of memory (the message is lost)");
  return HL_OK;
}

hl_status hl_receive(hl_node *node, int timeout_ms, hl_buf *out) {
  proc *p = attached_to(node);
  hl_status st;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_receive", "node is NULL");
  if (out == NULL) return capi_fail(HL_EBADARG, "hl_receive", "out is NULL");
  if (p == NULL) return capi_fail(HL_EBADARG, "hl_receive", "the calling thread is not attached (hl_attach)");
  /* after the node's stop, p is all that is left to this thread */
  if (!proc_host_enter(p)) return capi_fail(HL_ECLOSED, "hl_receive", "the node stopped");
  st = receive(node, p, timeout_ms, out);
  proc_host_leave(p);
  return st;
}

hl_status hl_interrupt(hl_node *node, hl_pid pid, int on) {
  proc *p;
  int host;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_interrupt", "node is NULL");
  p = ptab_get(&node->procs, pid);
  host = p != NULL && p->host;
  if (host) proc_interrupt(p, on != 0);
  if (p != NULL) proc_unref(p);
  return host ? HL_OK : fail_pid(HL_EBADARG, "hl_interrupt", "pid", pid, "is not a live host process");
}

hl_status hl_register(hl_node *node, const char *name, hl_pid pid) {
  const char *why;
  uint64_t *watchers;
  size_t nwatchers;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_register", "node is NULL");
  if (name == NULL || name[0] == '\0')
    return capi_fail(HL_EBADARG, "hl_register", "name must be a non-empty string");
  if (!node_pid_alive(node, pid)) return fail_pid(HL_EBADARG, "hl_register", "pid", pid, "is not alive");
  if (!ptab_register(&node->procs, name, pid, &why, &watchers, &nwatchers)) {
    hl_err e;
    err_set(&e, HL_EEXIST, "hl_register: '%.100s': %s", name, why);
    return err_publish(&e);
  }
  node_notify_name(node, name, pid, watchers, nwatchers);
  return HL_OK;
}

hl_pid hl_whereis(hl_node *node, const char *name) {
  return node != NULL && name != NULL ? ptab_whereis(&node->procs, name) : 0;
}

/* ---- exit signals, links, monitors ---- */

hl_status hl_exit(hl_node *node, hl_pid pid, const void *reason, size_t len) {
  hl_err e;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_exit", "node is NULL");
  err_clear(&e);
  if (!capi_check_term("reason", reason, len, &e)) return capi_done("hl_exit", &e);
  /* a dead pid: nothing to do, as in Erlang */
  proc_signal_exit(node, pid, capi_caller(node), reason, len, SIG_EXIT_CALL);
  return HL_OK;
}

/* The attached caller of fn, or the error that it is not. */
static proc *linker(const char *fn, node *n, hl_status *st) {
  proc *me = attached_to(n);
  *st = HL_OK;
  if (n == NULL) *st = capi_fail(HL_EBADARG, fn, "node is NULL");
  else if (me == NULL)
    *st = capi_fail(HL_EBADARG, fn, "the calling thread is not attached (hl_attach): "
                                    "it could not receive the EXIT or DOWN message");
  return me;
}

hl_status hl_link(hl_node *node, hl_pid pid) {
  hl_status st;
  proc *me = linker("hl_link", node, &st);
  if (me != NULL) proc_link(me, pid);
  return st;
}

hl_status hl_unlink(hl_node *node, hl_pid pid) {
  hl_status st;
  proc *me = linker("hl_unlink", node, &st);
  if (me != NULL) proc_unlink(me, pid);
  return st;
}

hl_status hl_monitor(hl_node *node, hl_pid pid, uint64_t *ref) {
  hl_status st;
  proc *me = linker("hl_monitor", node, &st);
  if (me == NULL) return st;
  if (ref == NULL) return capi_fail(HL_EBADARG, "hl_monitor", "ref is NULL");
  *ref = proc_monitor(me, pid);
  return HL_OK;
}

hl_status hl_demonitor(hl_node *node, uint64_t ref) {
  hl_status st;
  proc *me = linker("hl_demonitor", node, &st);
  if (me != NULL) proc_demonitor(me, ref);
  return st;
}

/* ---- what a host may learn ---- */

int hl_process_alive(hl_node *node, hl_pid pid) {
  return node != NULL && node_pid_alive(node, pid);
}

hl_status hl_process_info(hl_node *node, hl_pid pid, hl_proc_info *out) {
  proc *p;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_process_info", "node is NULL");
  if (out == NULL) return capi_fail(HL_EBADARG, "hl_process_info", "out is NULL");
  memset(out, 0, sizeof *out);
  p = ptab_get(&node->procs, pid);
  if (p != NULL) {
    pthread_mutex_lock(&p->lock);
    out->status = p->state;
    out->message_queue_len = proc_mail_count(p);
    out->memory = atomic_load(&p->alloc.used);
    out->trap_exit = p->trap_exit || p->host;   /* hosts always trap */
    out->host = p->host;
    out->links = p->nlinks;
    out->monitors = p->nwatching;
    pthread_mutex_unlock(&p->lock);
    proc_unref(p);
  }
  if (p == NULL || out->status >= HL_PROC_EXITING) {
    memset(out, 0, sizeof *out);
    return fail_pid(HL_ENOTFOUND, "hl_process_info", "pid", pid, "is not alive");
  }
  ptab_name_of(&node->procs, pid, out->registered_name, sizeof out->registered_name);
  return HL_OK;
}
