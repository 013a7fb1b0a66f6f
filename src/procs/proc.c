/*
** proc.c — processes: mailboxes, exit signals, links, monitors, and the
** exit protocol (see proc.h for the life cycle).
**
** No function here holds two processes' locks at once: each end of a link
** or monitor is updated under its own lock, and a process that has begun
** to die refuses new links and monitors, so none is ever missed.
*/
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alias.h"
#include "logger.h"
#include "owner.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "term.h"
#include "trace.h"

proc *proc_new(node *n, int host) {
  /* aligned: the mailbox keeps what senders write on a cache line of its own */
  proc *p = aligned_alloc(_Alignof(proc), sizeof *p);
  if (p == NULL) return NULL;
  memset(p, 0, sizeof *p);
  atomic_init(&p->refs, 1);
  atomic_init(&p->exiting, 0);
  atomic_init(&p->interrupted, 0);
  atomic_init(&p->host_receiving, 0);
  atomic_init(&p->abandoned, 0);
  atomic_init(&p->host_sleeping, 0);
  p->node = n;
  p->host = host;
  atomic_init(&p->state, host ? PROC_RUNNING : PROC_RUNNABLE);
  mailbox_init(&p->mail);
  p->deadline = -1;
  p->counted = 1;                      /* until a worker runs it (a spawn's load) */
  buf_init(&p->reason);
  pthread_mutex_init(&p->lock, NULL);
  {
    pthread_condattr_t attr;           /* deadlines are sched_now() times */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
  }
  return p;
}

void proc_ref(proc *p) {
  atomic_fetch_add(&p->refs, 1);
}

void proc_unref(proc *p) {
  if (atomic_fetch_sub(&p->refs, 1) != 1) return;
  if (p->L != NULL) p->body->release(p->L);
  mailbox_free(&p->mail);
  free(p->links);
  free(p->watchers);
  free(p->watching);
  free(p->aliases);
  free(p->initial_call);
  buf_free(&p->reason);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->wake);
  free(p);
}

/* ---- mail ----
** A message travels without the receiver's lock: the sender copies it
** into a buffer of its own, pushes it onto the receiver's inbox, and
** wakes the receiver only if it sleeps. The receiver publishes that it
** sleeps (WAITING, or host_sleeping) and then looks at its inbox once
** more; the sender pushes and then reads whether it sleeps. Both steps
** are sequentially consistent, so at least one of the two sees the
** other: a message is never left in the inbox of a process that sleeps.
** The compare-and-swap WAITING -> RUNNABLE makes sure that only one
** sender (or the receiver itself, or a timer) queues it. */

/* After a push: wakes p if it sleeps. No lock held. */
static void wake(proc *p) {
  if (p->host) {
    /* seq_cst: read after the push (see above) */
    if (atomic_load_explicit(&p->host_sleeping, memory_order_seq_cst)) {
      pthread_mutex_lock(&p->lock);   /* it waits with the lock released */
      pthread_cond_broadcast(&p->wake);
      pthread_mutex_unlock(&p->lock);
    }
  } else {
    int waiting = PROC_WAITING;
    /* seq_cst: read after the push; the swap: one waker only */
    if (atomic_load_explicit(&p->state, memory_order_seq_cst) == PROC_WAITING &&
        atomic_compare_exchange_strong_explicit(&p->state, &waiting, PROC_RUNNABLE,
                                                memory_order_seq_cst, memory_order_relaxed))
      sched_enqueue(p->node->sched, p);
  }
}

/* Pushes m onto p's inbox, unless p is dying (then m is freed); 1 if it
** did. The one who pushed calls wake(p) after, with no lock held. */
static int push(proc *p, msg *m) {
  uint64_t hash = 0, from = m->from;
  /* relaxed: a push that races with the exit is freed by it (proc_finish_exit
  ** closes the mailbox) or, at the latest, with p */
  if (atomic_load_explicit(&p->state, memory_order_relaxed) >= PROC_DYING) {
    msg_free(m);
    return 0;
  }
  /* before the push: once pushed, m is the receiver's to read and free */
  if (p->node->trace != NULL) hash = trace_bytes_hash(m->data, m->len);
  if (!mailbox_push(&p->mail, m)) return 0;
  if (p->node->trace != NULL) trace_event(p->node->trace, TRACE_DELIVER, from, p->pid, hash, NULL);
  return 1;
}

int proc_deliver_from(proc *p, uint64_t from, const unsigned char *term, size_t len) {
  msg *m = msg_new(from, term, len);
  if (m == NULL || !push(p, m)) return 0;
  wake(p);
  return 1;
}

int proc_deliver(proc *p, const unsigned char *term, size_t len) {
  return proc_deliver_from(p, 0, term, len);
}

int proc_deliver_alias(proc *p, uint64_t ref, uint64_t from, const unsigned char *term,
                       size_t len) {
  msg *m = msg_new(from, term, len);
  int ok = 0;
  if (m == NULL) return 0;
  pthread_mutex_lock(&p->lock);
  if (alias_active_locked(p, ref)) ok = push(p, m);
  else msg_free(m);
  pthread_mutex_unlock(&p->lock);
  if (ok) wake(p);
  return ok;
}

msg *proc_mail_next(proc *p) {
  return mailbox_next(&p->mail);
}

int proc_has_unscanned(proc *p) {
  return mailbox_has_unscanned(&p->mail);
}

size_t proc_mail_count(proc *p) {
  return mailbox_count(&p->mail);
}

long proc_mail_peek(proc *p, proc *self, msg **out, size_t n) {
  long copied = 0;
  size_t found;
  int state;
  pthread_mutex_lock(&p->lock);
  state = p->state;
  /* the queue is the owner's: another thread reads it only while the
  ** owner is suspended, which it stays while this lock is held (the
  ** scheduler marks it running under the lock before it resumes it, and
  ** an exit frees the mailbox under the lock) */
  if (p != self && (p->host || (state != PROC_WAITING && state != PROC_RUNNABLE))) {
    pthread_mutex_unlock(&p->lock);
    return -1;
  }
  found = mailbox_peek(&p->mail, out, n);
  for (size_t i = 0; i < found; i++) {
    msg *m = out[i];
    out[i] = msg_new(m->from, m->data, m->len);
    if (out[i] == NULL) break;
    copied++;
  }
  pthread_mutex_unlock(&p->lock);
  return copied;
}

void proc_mail_take(proc *p, msg *m) {
  mailbox_take(&p->mail, m);
  proc_count(&p->received);
}

void proc_mail_rewind(proc *p) {
  mailbox_rewind(&p->mail);
}

msg *proc_mail_after(proc *p, uint64_t seq) {
  return mailbox_after(&p->mail, seq);
}

int proc_mail_take_seq(proc *p, uint64_t seq) {
  if (!mailbox_take_seq(&p->mail, seq)) return 0;
  proc_count(&p->received);
  return 1;
}

/* A host thread watches its mailbox a little before it sleeps: a wakeup
** through the kernel costs more than a reply usually takes. */
static void host_spin(proc *p) {
  for (int i = 0; i < 200; i++) {
    if (mailbox_has_new(&p->mail)) return;
    sched_yield();
  }
}

/* Sleeps on p's condition variable until `at` (a real clock's time; -1: no
** limit), an arrival or an interrupt (lock held). */
static void host_sleep_locked(proc *p, int64_t at) {
  /* both are set under this lock by whoever then wakes the waiters */
  if (atomic_load(&p->interrupted) || atomic_load(&p->exiting)) return;
  /* seq_cst: published before the inbox is read again (see wake); a
  ** sender that reads it takes the lock, which this thread holds until
  ** it waits */
  atomic_store_explicit(&p->host_sleeping, 1, memory_order_seq_cst);
  if (!mailbox_has_new(&p->mail)) {
    if (at < 0) {
      pthread_cond_wait(&p->wake, &p->lock);
    } else {
      struct timespec ts = {at / 1000, (at % 1000) * 1000000};
      pthread_cond_timedwait(&p->wake, &p->lock, &ts);
    }
  }
  atomic_store_explicit(&p->host_sleeping, 0, memory_order_relaxed);
}

int proc_host_wait(proc *p) {
  sched *s = p->node->sched;
  if (s->nthreads > 0) host_spin(p);
  for (;;) {
    int64_t now = sched_clock(s), wake;
    int mail;
    pthread_mutex_lock(&p->lock);
    mail = proc_has_unscanned(p);
    if (!mail && (p->deadline < 0 || now < p->deadline) && s->nthreads > 0) {
      host_sleep_locked(p, p->deadline);   /* with threads the clock is real */
      mail = proc_has_unscanned(p);
      now = sched_clock(s);
    }
    pthread_mutex_unlock(&p->lock);
    if (mail) return 0;
    if (atomic_load(&p->exiting)) return -3;
    if (atomic_load(&p->interrupted)) return -2;
    if ((p->deadline >= 0 && now >= p->deadline) || s->nthreads > 0) return 0;
    /* deterministic: run the node while waiting */
    if (sched_step(s)) continue;
    if (sched_stepping_elsewhere(s)) {   /* nothing is idle, and no clock jumps, yet */
      sched_yield();
      continue;
    }
    wake = sched_next_timer(s);
    if (p->deadline >= 0 && (wake < 0 || p->deadline < wake)) wake = p->deadline;
    if (wake < 0) return -1;
    /* nothing can run before wake: a virtual clock jumps there at once */
    if (wake > now && !sched_move_clock(s, wake)) {
      pthread_mutex_lock(&p->lock);   /* a host thread's send or an interrupt ends it early */
      if (!proc_has_unscanned(p)) host_sleep_locked(p, wake);
      pthread_mutex_unlock(&p->lock);
    }
  }
}

/* seq_cst on both sides: either the receive sees `exiting` that the stop
** set, or the stop sees the receive under way and waits for it. */
int proc_host_enter(proc *p) {
  atomic_store(&p->host_receiving, 1);
  if (!atomic_load(&p->exiting)) return 1;
  atomic_store(&p->host_receiving, 0);
  return 0;
}

void proc_host_leave(proc *p) {
  atomic_store(&p->host_receiving, 0);
}

void proc_interrupt(proc *p, int on) {
  pthread_mutex_lock(&p->lock);
  atomic_store(&p->interrupted, on);
  if (on) pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
}

/* ---- exit signals ---- */

static int is_string(const unsigned char *term, size_t len, const char *s) {
  size_t n = strlen(s);
  return len == n + 3 && term[0] == TERM_STRING && memcmp(term + 1, s, n) == 0 &&
         term[n + 1] == 0 && term[n + 2] == 0;
}

/* {"EXIT", from, reason}: from is a term (the sender's pid) */
static void exit_message(buf *b, const unsigned char *from, size_t from_len,
                         const unsigned char *reason, size_t len) {
  term_put_array(b, 3);
  term_put_string(b, "EXIT", 4);
  buf_put(b, from, from_len);
  buf_put(b, reason, len);
}

/* from: the local sender's pid, or 0 for one of another node, from_term
** naming it either way. */
static void signal_exit(node *n, uint64_t to, uint64_t from, const unsigned char *from_term,
                        size_t from_len, const unsigned char *reason, size_t len, int kind) {
  proc *p = ptab_get(&n->procs, to);
  int kill, own = 0;
  buf b;
  if (p == NULL) return;
  if (n->trace != NULL)
    trace_event(n->trace, TRACE_SIGNAL, from, to, trace_bytes_hash(reason, len), NULL);
  kill = kind == SIG_EXIT_CALL && is_string(reason, len, "kill");
  buf_init(&b);
  if (kill) term_put_string(&b, "killed", 6);
  else buf_put(&b, reason, len);
  pthread_mutex_lock(&p->lock);
  if (p->state >= PROC_DYING || !buf_ok(&b)) {
    pthread_mutex_unlock(&p->lock);
  } else if (p->host || (p->trap_exit && !kill)) {
    /* host processes always trap: their state belongs to the host program */
    buf m;
    pthread_mutex_unlock(&p->lock);
    buf_init(&m);
    exit_message(&m, from_term, from_len, b.p, b.n);
    if (buf_ok(&m)) proc_deliver(p, m.p, m.n);
    buf_free(&m);
  } else if (!kill && is_string(reason, len, "normal") && !(kind == SIG_EXIT_CALL && from == to)) {
    pthread_mutex_unlock(&p->lock);   /* a normal exit of a link is no reason to die */
  } else {
    buf_reset(&p->reason);
    buf_put(&p->reason, b.p, b.n);
    atomic_store(&p->exiting, 1);
    if (p->state == PROC_WAITING || p->state == PROC_RUNNABLE) {
      p->state = PROC_DYING;   /* not running: this thread carries the exit out */
      own = 1;
    }
    pthread_mutex_unlock(&p->lock);
    if (own) proc_finish_exit(p);
  }
  buf_free(&b);
  proc_unref(p);
}

void proc_signal_exit(node *n, uint64_t to, uint64_t from, const unsigned char *reason,
                      size_t len, int kind) {
  unsigned char pid[16];
  buf f;
  buf_init(&f);
  term_put_id(&f, TERM_PID, from);
  if (buf_ok(&f) && f.n <= sizeof pid) {
    memcpy(pid, f.p, f.n);
    signal_exit(n, to, from, pid, f.n, reason, len, kind);
  }
  buf_free(&f);
}

void proc_signal_exit_remote(node *n, uint64_t to, const unsigned char *from_term,
                             size_t from_len, const unsigned char *reason, size_t len, int kind) {
  signal_exit(n, to, 0, from_term, from_len, reason, len, kind);
}

int proc_mark_remote(proc *p) {
  int ok;
  pthread_mutex_lock(&p->lock);
  ok = p->state < PROC_DYING && !atomic_load(&p->exiting);
  if (ok) p->remote = 1;
  pthread_mutex_unlock(&p->lock);
  return ok;
}

void (*_Atomic proc_exit_test_hook)(proc *p);   /* static storage: NULL */

/* A host's exit is counted while it runs (node_exit_begin), so that the
** node's stop waits for it; it runs no finalizer, so the wait is short. */
void proc_exit_now(proc *p, const unsigned char *reason, size_t len) {
  void (*hook)(proc *);
  int own = 0, counted = 0;
  pthread_mutex_lock(&p->lock);
  /* a host "runs" on its own thread, so it can be ended from there */
  if (p->state < PROC_DYING && (p->host || p->state != PROC_RUNNING)) {
    buf_reset(&p->reason);
    buf_put(&p->reason, reason, len);
    p->state = PROC_DYING;
    own = 1;
    counted = p->host;
    if (counted) node_exit_begin(p->node);   /* under p's lock: before the stop's pass sees DYING */
  }
  pthread_mutex_unlock(&p->lock);
  if (!own) return;
  if ((hook = atomic_load(&proc_exit_test_hook)) != NULL) hook(p);
  proc_finish_exit(p);
  if (counted) node_exit_end(p->node);
}

void proc_end_host(proc *p) {
  static const unsigned char normal[] = {TERM_STRING, 'n', 'o', 'r', 'm', 'a', 'l', 0, 0};
  proc_exit_now(p, normal, sizeof normal);
}

void proc_kill(proc *p) {
  static const unsigned char kill[] = {TERM_STRING, 'k', 'i', 'l', 'l', 0, 0};
  proc_signal_exit(p->node, p->pid, p->pid, kill, sizeof kill, SIG_EXIT_CALL);
}

/* ---- links and monitors ---- */

static int add_pid(uint64_t **list, size_t *n, size_t *cap, uint64_t pid) {
  for (size_t i = 0; i < *n; i++)
    if ((*list)[i] == pid) return 1;
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 4;
    uint64_t *grown = realloc(*list, c * sizeof *grown);
    if (grown == NULL) return 0;
    *list = grown;
    *cap = c;
  }
  (*list)[(*n)++] = pid;
  return 1;
}

static void remove_pid(uint64_t *list, size_t *n, uint64_t pid) {
  for (size_t i = 0; i < *n; i++)
    if (list[i] == pid) {
      list[i] = list[--*n];
      return;
    }
}

static int add_mon(pmon **list, size_t *n, size_t *cap, pmon m) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 4;
    pmon *grown = realloc(*list, c * sizeof *grown);
    if (grown == NULL) return 0;
    *list = grown;
    *cap = c;
  }
  (*list)[(*n)++] = m;
  return 1;
}

/* Removes the monitor with this ref; its other end into *other. */
static int remove_mon(pmon *list, size_t *n, uint64_t ref, uint64_t *other) {
  for (size_t i = 0; i < *n; i++)
    if (list[i].ref == ref) {
      if (other != NULL) *other = list[i].pid;
      list[i] = list[--*n];
      return 1;
    }
  return 0;
}

/* The term "noproc": the reason given for a process that is not there. */
static const unsigned char NOPROC[] = {TERM_STRING, 'n', 'o', 'p', 'r', 'o', 'c', 0, 0};
#define NOPROC_LEN sizeof NOPROC

/* Adds self to other's links; 0 if other is gone or going. */
static int link_other(node *n, uint64_t other, uint64_t self) {
  proc *o = ptab_get(&n->procs, other);
  int ok = 0;
  if (o == NULL) return 0;
  pthread_mutex_lock(&o->lock);
  if (o->state < PROC_DYING) ok = add_pid(&o->links, &o->nlinks, &o->caplinks, self);
  pthread_mutex_unlock(&o->lock);
  proc_unref(o);
  return ok;
}

void proc_link(proc *self, uint64_t other) {
  int ok, dying;
  if (other == self->pid) return;
  pthread_mutex_lock(&self->lock);
  /* taken over meanwhile (proc_take_over): its links are already told */
  dying = self->state >= PROC_DYING;
  ok = !dying && add_pid(&self->links, &self->nlinks, &self->caplinks, other);
  pthread_mutex_unlock(&self->lock);
  if (dying) return;
  if (ok && link_other(self->node, other, self->pid)) return;
  pthread_mutex_lock(&self->lock);
  remove_pid(self->links, &self->nlinks, other);
  pthread_mutex_unlock(&self->lock);
  proc_signal_exit(self->node, self->pid, other, NOPROC, NOPROC_LEN, SIG_LINK);
}

static void unlink_one(node *n, uint64_t pid, uint64_t gone) {
  proc *p = ptab_get(&n->procs, pid);
  if (p == NULL) return;
  pthread_mutex_lock(&p->lock);
  remove_pid(p->links, &p->nlinks, gone);
  pthread_mutex_unlock(&p->lock);
  proc_unref(p);
}

void proc_unlink(proc *self, uint64_t other) {
  pthread_mutex_lock(&self->lock);
  remove_pid(self->links, &self->nlinks, other);
  pthread_mutex_unlock(&self->lock);
  unlink_one(self->node, other, self->pid);
}

/* {"DOWN", ref, pid, reason} */
static void down_message(buf *b, uint64_t ref, uint64_t pid, const unsigned char *reason,
                         size_t len) {
  term_put_array(b, 4);
  term_put_string(b, "DOWN", 4);
  term_put_id(b, TERM_REF, ref);
  term_put_id(b, TERM_PID, pid);
  buf_put(b, reason, len);
}

/* Our end is recorded first: a target that dies meanwhile delivers its
** DOWN only while it finds the monitor there (see proc_finish_exit). */
uint64_t proc_monitor(proc *self, uint64_t target) {
  node *n = self->node;
  uint64_t ref = node_new_ref(n);
  proc *t = ptab_get(&n->procs, target);
  int alive = 0;
  if (t != NULL) {
    pthread_mutex_lock(&self->lock);
    alive = self->state < PROC_DYING &&
            add_mon(&self->watching, &self->nwatching, &self->capwatching, (pmon){ref, target});
    pthread_mutex_unlock(&self->lock);
  }
  if (alive) {
    pthread_mutex_lock(&t->lock);
    alive = t->state < PROC_DYING &&
            add_mon(&t->watchers, &t->nwatchers, &t->capwatchers, (pmon){ref, self->pid});
    pthread_mutex_unlock(&t->lock);
    if (!alive) {
      pthread_mutex_lock(&self->lock);
      remove_mon(self->watching, &self->nwatching, ref, NULL);
      pthread_mutex_unlock(&self->lock);
    }
  }
  if (t != NULL) proc_unref(t);
  if (!alive) {
    buf b;
    buf_init(&b);
    down_message(&b, ref, target, NOPROC, NOPROC_LEN);
    if (buf_ok(&b)) proc_deliver(self, b.p, b.n);
    buf_free(&b);
  }
  return ref;
}

void proc_demonitor(proc *self, uint64_t ref) {
  uint64_t target;
  int found;
  proc *t;
  pthread_mutex_lock(&self->lock);
  found = remove_mon(self->watching, &self->nwatching, ref, &target);
  pthread_mutex_unlock(&self->lock);
  if (!found || (t = ptab_get(&self->node->procs, target)) == NULL) return;
  pthread_mutex_lock(&t->lock);
  remove_mon(t->watchers, &t->nwatchers, ref, NULL);
  pthread_mutex_unlock(&t->lock);
  proc_unref(t);
}


/* The crash report names the process's registered name, read before the
** exit frees it. */
static void crash_report(node *n, proc *p) {
  char name[64];
  int named = ptab_name_of(&n->procs, p->pid, name, sizeof name);
  logger_crash(&n->log, p->pid, named ? name : NULL, p->reason.p, p->reason.n);
}
/* ---- the exit ---- */

/* How p ended, in the trace's words. */
static int exit_class(const buf *reason) {
  if (is_string(reason->p, reason->n, "normal")) return TRACE_NORMAL;
  if (is_string(reason->p, reason->n, "shutdown")) return TRACE_SHUTDOWN;
  if (is_string(reason->p, reason->n, "killed")) return TRACE_KILLED;
  return TRACE_OTHER;
}

static int abnormal(const buf *reason) {
  return !is_string(reason->p, reason->n, "normal") &&
         !is_string(reason->p, reason->n, "shutdown");
}

void proc_finish_exit(proc *p) {
  node *n = p->node;
  uint64_t *links, *aliases;
  pmon *watchers, *watching;
  size_t nlinks, nwatchers, nwatching, naliases;
  void *L = NULL;
  int remote;
  buf b;
  atomic_store(&p->exiting, 1);     /* whatever ended it: it can act no more */
  pthread_mutex_lock(&p->lock);
  remote = p->remote;
  aliases = p->aliases;
  naliases = p->naliases;
  p->aliases = NULL;
  p->naliases = p->capaliases = 0;
  links = p->links;
  nlinks = p->nlinks;
  watchers = p->watchers;
  nwatchers = p->nwatchers;
  watching = p->watching;
  nwatching = p->nwatching;
  p->links = NULL;
  p->nlinks = p->caplinks = 0;
  p->watchers = p->watching = NULL;
  p->nwatchers = p->capwatchers = p->nwatching = p->capwatching = 0;
  pthread_mutex_unlock(&p->lock);
  alias_forget(n, aliases, naliases);
  if (n->trace != NULL)
    trace_event(n->trace, TRACE_EXIT, p->pid, 0, (uint64_t)exit_class(&p->reason), NULL);
  if (abnormal(&p->reason)) crash_report(n, p);
  ptab_unregister_pid(&n->procs, p->pid);
  owner_process_exit(n, p->pid);           /* tables go to heirs first */
  for (size_t i = 0; i < nlinks; i++) {
    unlink_one(n, links[i], p->pid);
    proc_signal_exit(n, links[i], p->pid, p->reason.p, p->reason.n, SIG_LINK);
  }
  if (remote && n->remote_exit != NULL) n->remote_exit(n, p->pid, p->reason.p, p->reason.n);
  buf_init(&b);
  for (size_t i = 0; i < nwatchers; i++) {
    proc *w = ptab_get(&n->procs, watchers[i].pid);
    msg *m;
    int pushed = 0;
    if (w == NULL) continue;
    buf_reset(&b);
    down_message(&b, watchers[i].ref, p->pid, p->reason.p, p->reason.n);
    m = buf_ok(&b) ? msg_new(0, b.p, b.n) : NULL;
    /* The monitor fires (gone at both ends) and its DOWN is queued in one
    ** step, so a demonitor either prevents the DOWN or finds it queued. */
    pthread_mutex_lock(&w->lock);
    if (!remove_mon(w->watching, &w->nwatching, watchers[i].ref, NULL)) {
      if (m != NULL) msg_free(m);
    } else if (m != NULL) {
      pushed = push(w, m);
    }
    pthread_mutex_unlock(&w->lock);
    if (pushed) wake(w);
    proc_unref(w);
  }
  buf_free(&b);
  for (size_t i = 0; i < nwatching; i++) {
    proc *t = ptab_get(&n->procs, watching[i].pid);
    if (t == NULL) continue;
    pthread_mutex_lock(&t->lock);
    remove_mon(t->watchers, &t->nwatchers, watching[i].ref, NULL);
    pthread_mutex_unlock(&t->lock);
    proc_unref(t);
  }
  free(links);
  free(watchers);
  free(watching);
  /* a taken-over process's state and mailbox are still in use by the
  ** thread that runs it: that thread lets go of them (release_abandoned),
  ** and only its inbox, which the thread may not have looked at, is
  ** emptied and closed here. A pushing sender may have read the state
  ** before DYING: the closed mailbox frees what it brings. */
  pthread_mutex_lock(&p->lock);
  if (!p->host && !atomic_load(&p->abandoned)) {
    L = p->L;
    p->L = p->co = NULL;       /* before another thread closes it */
    mailbox_free(&p->mail);
  } else if (!p->host) {
    mailbox_close(&p->mail);
  }
  p->state = PROC_EXITED;
  pthread_mutex_unlock(&p->lock);
  ptab_remove(&n->procs, p->pid);
  /* Last, and nothing of the node touched after: the state's finalizers
  ** may run here (the body's close), and a thread stuck in one is left
  ** to it when the node stops. */
  if (L != NULL) p->body->close(n, L);
}

int proc_take_over(proc *p) {
  static const unsigned char killed[] = {TERM_STRING, 'k', 'i', 'l', 'l', 'e', 'd', 0, 0};
  pthread_mutex_lock(&p->lock);
  if (p->host || p->state != PROC_RUNNING) {
    pthread_mutex_unlock(&p->lock);
    return 0;
  }
  if (!atomic_load(&p->exiting)) {   /* callers take over exiting processes; to be sure */
    buf_reset(&p->reason);
    buf_put(&p->reason, killed, sizeof killed);
    atomic_store(&p->exiting, 1);
  }
  atomic_store(&p->abandoned, 1);
  p->state = PROC_DYING;
  pthread_mutex_unlock(&p->lock);
  proc_finish_exit(p);
  return 1;
}

void proc_release_abandoned(proc *p) {
  void *L;
  pthread_mutex_lock(&p->lock);
  L = p->L;
  p->L = p->co = NULL;
  mailbox_free(&p->mail);
  pthread_mutex_unlock(&p->lock);
  /* Here, not through the node's pool: the node may have stopped, and this
  ** thread has been replaced already, so a finalizer that loops again
  ** holds up nobody. */
  if (L != NULL) p->body->release(L);
}

/* ---- the memory limit ---- */

void proc_check_limit(proc *p) {
  static const unsigned char limit[] = {TERM_STRING, 'm', 'e', 'm', 'o', 'r', 'y', '_',
                                        'l', 'i', 'm', 'i', 't', 0, 0};
  if (!p->alloc.exceeded || atomic_load(&p->exiting)) return;
  pthread_mutex_lock(&p->lock);
  if (!atomic_load(&p->exiting)) {
    buf_reset(&p->reason);
    buf_put(&p->reason, limit, sizeof limit);
    atomic_store(&p->exiting, 1);
  }
  pthread_mutex_unlock(&p->lock);
}

/* No lock: every exit sets `exiting` first (proc_finish_exit too). */
int proc_alive(proc *p) {
  return p->host || !atomic_load(&p->exiting);
}
