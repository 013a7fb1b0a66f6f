/*
** scheduler.c — run queue, scheduler threads, slices, and timers (see scheduler.h).
**
** A slice runs a process's body (p->body: the runtime knows no Lua; the
** Lua body is lbody.c) until it returns, fails, waits in receive, or is
** ended, so a runaway loop cannot starve the others: on a worker thread
** by the ticker (preempt.h), which asks the body to yield once the slice
** has run a tick; on a deterministic node by the body's hook, which counts
** a budget of SLICE_TICKS ticks down. The same hook ends a process whose
** exit is pending, wherever it is.
**
** What the hook cannot reach — a long C call, a finalizer (Lua runs those
** with hooks off) — a watchdog thread bounds: a worker stuck in one slice
** for STUCK_MS is replaced, so the node keeps its number of working
** threads, and a stuck process that was told to exit is taken over (its
** exit carried out for the node while the thread keeps its state). The
** stuck thread, if it ever comes back, closes that state and retires.
*/
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graveyard.h"
#include "heirloom.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "trace.h"

#define SLICE_TICKS 20
/* A virtual clock's time for a slice, in µs: one that used up its budget,
** and any other (a message handled, say). */
#define FULL_SLICE_US 1000
#define SLICE_US 10
#define SPIN_ROUNDS 200       /* sched_yield calls before a worker sleeps */

#define WATCH_EVERY_MS 50     /* the watchdog's round */
#define STUCK_MS 200          /* one slice this long: the worker is replaced */
#define EXIT_GRACE_MS 100     /* told to exit this long ago and stuck: taken over */
#define MAX_STUCK 64          /* stuck workers replaced at one time, at most */

int64_t sched_now(void) {
  return simclock_real();
}

int64_t sched_clock(sched *s) {
  return simclock_now(&s->clock);
}

int64_t sched_elapsed(sched *s) {
  return simclock_elapsed(&s->clock);
}

/* splitmix64: small, and every seed (0 too) gives a good stream. */
static uint64_t draw(sched *s) {
  uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* ---- the run queue ---- */

static int push(sched *s, proc *p) {
  if (s->qcount == s->qcap) {
    size_t cap = s->qcap ? s->qcap * 2 : 64;
    proc **q = malloc(cap * sizeof *q);
    if (q == NULL) return 0;
    for (size_t i = 0; i < s->qcount; i++) q[i] = s->queue[(s->qhead + i) % s->qcap];
    free(s->queue);
    s->queue = q;
    s->qcap = cap;
    s->qhead = 0;
  }
  s->queue[(s->qhead + s->qcount++) % s->qcap] = p;
  atomic_store_explicit(&s->queued, s->qcount, memory_order_relaxed);
  return 1;
}

static proc *pop(sched *s) {
  proc *p;
  if (s->qcount == 0) return NULL;
  if (s->random && s->qcount > 1) {
    /* a random one changes places with the head: the order of the rest
    ** matters no more than the draw */
    size_t i = (s->qhead + draw(s) % s->qcount) % s->qcap;
    p = s->queue[i];
    s->queue[i] = s->queue[s->qhead];
    s->queue[s->qhead] = p;
  }
  p = s->queue[s->qhead];
  s->qhead = (s->qhead + 1) % s->qcap;
  s->qcount--;
  atomic_store_explicit(&s->queued, s->qcount, memory_order_relaxed);
  return p;
}

/* A worker thread. Its slot holds the next process: one made runnable by
** the process running on this worker (a message to a process that waits,
** as in a request and its reply) runs next on this same thread, where its
** data is warm, instead of waking another thread to take it from the
** shared queue. Only this thread fills the slot; the watchdog empties the
** slot of a stuck worker, so the slot is swapped atomically. */
struct worker {
  sched *s;
  pthread_t thread;
  _Atomic(proc *) next;
  int streak;            /* slices run from the slot in a row; this thread only */
  preempt_slot *slot;    /* the ticker's view of this thread; NULL: none */
  atomic_int stuck;      /* replaced by the watchdog: fills no slot */
  /* under s->lock */
  proc *current;         /* the process in its slice (the worker holds a ref) */
  uint64_t slices;       /* counts slices, so the watchdog tells them apart */
  uint64_t seen_slices;  /* the watchdog's last look: which slice */
  int64_t seen_since;    /* ...and since when it has seen that slice */
  int64_t exit_seen;     /* since when it has seen current exiting; -1: not */
  int closing;           /* closes a state itself (sched_close_here) */
  int done;              /* the thread has left its loop */
  int abandoned;         /* left running by sched_halt */
  struct worker *link;
};

static _Thread_local worker *this_worker;

/* After this many slices from the slot in a row, the shared queue goes
** first: two processes that answer each other cannot keep a worker to
** themselves. */
#define NEXT_STREAK 16

/* Queues p; to this worker's slot when use_slot and this thread is one
** of s's workers. */
static void queue_process(sched *s, proc *p, int use_slot) {
  worker *w = this_worker;
  proc_ref(p);
  if (use_slot && w != NULL && w->s == s && !atomic_load_explicit(&w->stuck, memory_order_relaxed)) {
    proc *displaced = atomic_exchange(&w->next, p);
    if (displaced == NULL) return;
    p = displaced;       /* the one it replaces waits in the shared queue */
  }
  pthread_mutex_lock(&s->lock);
  if (s->stopping || !push(s, p)) {
    pthread_mutex_unlock(&s->lock);
    proc_unref(p);
    return;
  }
  pthread_cond_signal(&s->work);
  pthread_mutex_unlock(&s->lock);
}

void sched_enqueue(sched *s, proc *p) {
  queue_process(s, p, 1);
}

/* ---- timers: a binary min-heap on (at, seq) ---- */

static int earlier(const stimer *a, const stimer *b) {
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_swap(sched *s, size_t i, size_t j) {
  stimer t = s->timers[i];
  s->timers[i] = s->timers[j];
  s->timers[j] = t;
}

static void sift_up(sched *s, size_t i) {
  while (i > 0 && earlier(&s->timers[i], &s->timers[(i - 1) / 2])) {
    heap_swap(s, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void sift_down(sched *s, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->ntimers && earlier(&s->timers[l], &s->timers[m])) m = l;
    if (r < s->ntimers && earlier(&s->timers[r], &s->timers[m])) m = r;
    if (m == i) return;
    heap_swap(s, i, m);
    i = m;
  }
}

static stimer heap_take(sched *s, size_t i) {
  stimer t = s->timers[i];
  s->timers[i] = s->timers[--s->ntimers];
  if (i < s->ntimers) {
    sift_down(s, i);
    sift_up(s, i);
  }
  return t;
}

static uint64_t add_timer(sched *s, stimer t) {
  uint64_t ref = 0;
  pthread_mutex_lock(&s->lock);
  if (s->ntimers == s->captimers) {
    size_t cap = s->captimers ? s->captimers * 2 : 16;
    stimer *grown = realloc(s->timers, cap * sizeof *grown);
    if (grown != NULL) {
      s->timers = grown;
      s->captimers = cap;
    }
  }
  if (s->ntimers < s->captimers) {
    t.seq = ref = ++s->next_timer;
    s->timers[s->ntimers++] = t;
    sift_up(s, s->ntimers - 1);
    pthread_cond_broadcast(&s->work);
  } else {
    buf_free(&t.msg);
    free(t.name);
  }
  pthread_mutex_unlock(&s->lock);
  return ref;
}

uint64_t sched_wake_at(sched *s, uint64_t pid, uint64_t gen, int64_t at) {
  stimer t;
  memset(&t, 0, sizeof t);
  t.at = at;
  t.pid = pid;
  t.gen = gen;
  buf_init(&t.msg);
  return add_timer(s, t);
}

uint64_t sched_send_after(sched *s, int64_t at, uint64_t pid, const char *name, uint64_t from,
                          const unsigned char *term, size_t len) {
  stimer t;
  memset(&t, 0, sizeof t);
  t.at = at;
  t.pid = pid;
  t.from = from;
  t.is_message = 1;
  buf_init(&t.msg);
  buf_put(&t.msg, term, len);
  if (name != NULL) t.name = strdup(name);
  if (!buf_ok(&t.msg) || (name != NULL && t.name == NULL)) {
    buf_free(&t.msg);
    free(t.name);
    return 0;
  }
  return add_timer(s, t);
}

int64_t sched_cancel(sched *s, uint64_t ref) {
  int64_t left = -1;
  pthread_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->ntimers; i++)
    if (s->timers[i].seq == ref && s->timers[i].is_message) {
      stimer t = heap_take(s, i);
      left = t.at - sched_clock(s);
      if (left < 0) left = 0;
      buf_free(&t.msg);
      free(t.name);
      break;
    }
  pthread_mutex_unlock(&s->lock);
  return left;
}

int64_t sched_next_timer(sched *s) {
  int64_t at;
  pthread_mutex_lock(&s->lock);
  at = s->ntimers > 0 ? s->timers[0].at : -1;
  pthread_mutex_unlock(&s->lock);
  return at;
}

static void fire(sched *s, stimer *t) {
  node *n = s->node;
  uint64_t pid = t->pid;
  proc *p;
  if (t->name != NULL) pid = ptab_whereis(&n->procs, t->name);
  if (n->trace != NULL) trace_event(n->trace, TRACE_TIMER, t->seq, pid, 0, NULL);
  p = pid != 0 ? ptab_get(&n->procs, pid) : NULL;
  if (p != NULL) {
    if (t->is_message) {
      proc_deliver_from(p, t->from, t->msg.p, t->msg.n);
    } else {
      int enqueue = 0, waiting = PROC_WAITING;
      pthread_mutex_lock(&p->lock);
      /* a sender may wake it at the same time, without the lock: the
      ** swap decides which of the two queues it */
      if (p->timer_gen == t->gen)
        enqueue = atomic_compare_exchange_strong(&p->state, &waiting, PROC_RUNNABLE);
      pthread_mutex_unlock(&p->lock);
      if (enqueue) sched_enqueue(s, p);
    }
    proc_unref(p);
  }
  buf_free(&t->msg);
  free(t->name);
}

/* Takes a due timer, if any; lock held. */
/* The clock is read only when there is a timer: most slices have none. */
static int take_due(sched *s, stimer *out) {
  if (s->ntimers == 0 || s->timers[0].at > sched_clock(s)) return 0;
  *out = heap_take(s, 0);
  return 1;
}

/* ---- slices ---- */

/* Work takes virtual time too: otherwise processes that compute, pass
** messages to each other for ever, or spin until hl.now() says stop would
** keep the clock, and a host waiting beside them, where they are. Two
** host threads may drive one node: the count is atomic. */
static void spend(sched *s, int us) {
  int total = atomic_fetch_add(&s->spent_us, us) + us;
  if (total >= 1000 && atomic_compare_exchange_strong(&s->spent_us, &total, total % 1000))
    sched_move_clock(s, sched_clock(s) + total / 1000);
}

/* After a yield: wait for mail, or go back in the queue. */
static void after_yield(sched *s, proc *p) {
  uint64_t gen = 0;
  int64_t deadline = -1;
  int requeue = 1;
  pthread_mutex_lock(&p->lock);
  if (atomic_load(&p->abandoned)) {     /* its exit is done: only the state is left */
    pthread_mutex_unlock(&p->lock);
    proc_release_abandoned(p);
    return;
  }
  if (atomic_load(&p->exiting)) {
    p->state = PROC_DYING;
    pthread_mutex_unlock(&p->lock);
    proc_finish_exit(p);
    return;
  }
  if (p->wants_mail && !proc_has_unscanned(p) &&
      (p->deadline < 0 || sched_clock(s) < p->deadline)) {
    int waiting = PROC_WAITING;
    gen = ++p->timer_gen;
    deadline = p->deadline;
    /* Senders push without the lock: say WAITING first, then look at the
    ** inbox again (both seq_cst; proc.c explains the pairing). Mail that
    ** came in between: whoever swaps WAITING -> RUNNABLE first queues it,
    ** this thread or a sender. */
    atomic_store_explicit(&p->state, PROC_WAITING, memory_order_seq_cst);
    requeue = proc_has_unscanned(p) &&
              atomic_compare_exchange_strong_explicit(&p->state, &waiting, PROC_RUNNABLE,
                                                      memory_order_seq_cst, memory_order_relaxed);
    if (requeue) deadline = -1;
  } else {
    p->state = PROC_RUNNABLE;
  }
  pthread_mutex_unlock(&p->lock);
  /* a process that used up its slice goes to the back of the shared
  ** queue: the slot is for the processes a slice wakes, not for itself */
  if (requeue) queue_process(s, p, 0);
  else if (deadline >= 0) sched_wake_at(s, p->pid, gen, deadline);
}

/* The body returned or failed. A signal that arrived meanwhile decides the
** reason; a process taken over while it ran leaves only its state. */
static void slice_ended(proc *p, int status) {
  buf why;
  buf_init(&why);
  if (!atomic_load(&p->exiting)) p->body->reason(p, status, &why);
  pthread_mutex_lock(&p->lock);
  if (atomic_load(&p->abandoned)) {
    pthread_mutex_unlock(&p->lock);
    buf_free(&why);
    proc_release_abandoned(p);
    return;
  }
  if (!atomic_load(&p->exiting)) {
    buf t = p->reason;
    p->reason = why;
    why = t;
  }
  p->state = PROC_DYING;
  pthread_mutex_unlock(&p->lock);
  buf_free(&why);
  proc_finish_exit(p);
}

void sched_run_slice(sched *s, proc *p) {
  int status, nargs;
  preempt_slot *slot;
  pthread_mutex_lock(&p->lock);
  if (p->state != PROC_RUNNABLE) {
    pthread_mutex_unlock(&p->lock);
    return;
  }
  if (atomic_load(&p->exiting)) {        /* told to exit while it waited its turn */
    p->state = PROC_DYING;
    pthread_mutex_unlock(&p->lock);
    proc_finish_exit(p);
    return;
  }
  p->state = PROC_RUNNING;
  p->wants_mail = 0;
  pthread_mutex_unlock(&p->lock);
  if (s->node->trace != NULL) trace_event(s->node->trace, TRACE_SLICE, p->pid, 0, 0, NULL);
  /* On a worker the ticker ends a long slice; on a host's thread (a
  ** deterministic node) the hook counts it, the same in every run. */
  slot = this_worker != NULL && this_worker->s == s ? this_worker->slot : NULL;
  p->counted = slot == NULL;
  p->budget = SLICE_TICKS;
  if (s->random) {      /* it also draws where slices end: 1 to 2 x SLICE_TICKS */
    pthread_mutex_lock(&s->lock);
    p->budget = 1 + (int)(draw(s) % (2 * SLICE_TICKS));
    pthread_mutex_unlock(&s->lock);
  }
  nargs = p->nargs;
  p->nargs = 0;
  proc_count(&p->slices);
  if (slot != NULL) preempt_begin(&s->preempt, slot, p);
  status = p->body->slice(p, nargs);
  if (slot != NULL) preempt_end(slot);
  if (s->clock.is_virtual) spend(s, p->budget <= 0 ? FULL_SLICE_US : SLICE_US);
  if (status == PBODY_YIELDED) {
    after_yield(s, p);
    return;
  }
  slice_ended(p, status);
}

/* ---- threads ---- */

/* Before a worker sleeps it watches the queue a little while: waking a
** sleeping thread costs far more than the work a message usually brings
** (Erlang's schedulers spin for the same reason). Lock held on entry and
** exit. */
static void spin(sched *s) {
  pthread_mutex_unlock(&s->lock);
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (atomic_load_explicit(&s->queued, memory_order_relaxed) > 0) break;
    sched_yield();
  }
  pthread_mutex_lock(&s->lock);
}

/* The process to run next, lock held: the worker's slot first, unless it
** has had its turn NEXT_STREAK times in a row while others wait. */
static proc *next_process(sched *s, worker *w) {
  proc *p = atomic_exchange(&w->next, NULL);
  if (p != NULL && (s->qcount == 0 || w->streak < NEXT_STREAK)) {
    w->streak++;
    return p;
  }
  if (p != NULL && !push(s, p)) proc_unref(p);   /* its turn is over: to the back */
  w->streak = 0;
  return pop(s);
}

/* A worker the watchdog replaced is back from its slice (lock held): it
** works on if the node is short of workers, otherwise it retires (0). */
static int stays(sched *s, worker *w) {
  s->nstuck--;
  if (s->active >= s->nthreads) return 0;
  atomic_store(&w->stuck, 0);
  s->active++;
  return 1;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  sched *s = w->s;
  int spun = 0;
  this_worker = w;
  if (s->has_preempt) w->slot = preempt_join(&s->preempt);
  pthread_mutex_lock(&s->lock);
  while (!s->stopping) {
    stimer t;
    proc *p;
    if (take_due(s, &t)) {
      pthread_mutex_unlock(&s->lock);
      fire(s, &t);
      pthread_mutex_lock(&s->lock);
      continue;
    }
    p = next_process(s, w);
    if (p == NULL && !spun) {
      spin(s);           /* then look at everything again, stopping first */
      spun = 1;
      continue;
    }
    spun = 0;
    if (p == NULL) {
      if (s->ntimers > 0) {
        int64_t at = s->timers[0].at;
        struct timespec ts = {at / 1000, (at % 1000) * 1000000};
        pthread_cond_timedwait(&s->work, &s->lock, &ts);
      } else {
        pthread_cond_wait(&s->work, &s->lock);
      }
      continue;
    }
    s->running++;
    w->current = p;
    w->slices++;
    pthread_mutex_unlock(&s->lock);
    sched_run_slice(s, p);
    pthread_mutex_lock(&s->lock);
    s->running--;
    w->current = NULL;
    proc_unref(p);       /* its state is closed or queued: this only frees */
    if (atomic_load(&w->stuck) && !w->abandoned && !stays(s, w)) break;
  }
  {
    /* a process left in the slot goes where the others will find it */
    proc *left = atomic_exchange(&w->next, NULL);
    if (left != NULL && !push(s, left)) proc_unref(left);
    else if (left != NULL) pthread_cond_signal(&s->work);
  }
  w->done = 1;
  s->live--;
  pthread_cond_broadcast(&s->left);
  this_worker = NULL;
  pthread_mutex_unlock(&s->lock);
  if (w->slot != NULL) preempt_leave(&s->preempt, w->slot);
  return NULL;
}

/* Starts a worker thread; lock held, or no thread running yet. */
static int start_worker(sched *s) {
  worker *w = calloc(1, sizeof *w);
  if (w == NULL) return 0;
  w->s = s;
  atomic_init(&w->next, NULL);
  atomic_init(&w->stuck, 0);
  w->exit_seen = -1;
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
    free(w);
    return 0;
  }
  w->link = s->workers;
  s->workers = w;
  s->live++;
  s->active++;
  return 1;
}

int sched_close_here(void (*close)(void *state), void *state) {
  worker *w = this_worker;
  if (w == NULL) return 0;
  pthread_mutex_lock(&w->s->lock);
  w->closing = 1;
  pthread_mutex_unlock(&w->s->lock);
  close(state);
  pthread_mutex_lock(&w->s->lock);     /* never freed if this thread was left */
  w->closing = 0;
  pthread_mutex_unlock(&w->s->lock);
  return 1;
}

/* ---- the watchdog ---- */

/* Moves a stuck worker's slot to the shared queue: the process there
** would wait for the stuck slice. Lock held. */
static void unslot(sched *s, worker *w) {
  proc *p = atomic_exchange(&w->next, NULL);
  if (p == NULL) return;
  if (push(s, p)) pthread_cond_signal(&s->work);
  else proc_unref(p);
}

/* One round over the workers, lock held: replaces those stuck in one slice
** since STUCK_MS, and puts into take the processes (referenced) that are
** stuck there although told to exit EXIT_GRACE_MS ago. */
static size_t watch_workers(sched *s, int64_t now, proc **take, size_t max) {
  size_t n = 0;
  for (worker *w = s->workers; w != NULL; w = w->link) {
    proc *p = w->current;
    if (w->done || w->abandoned) continue;
    if (p == NULL || w->slices != w->seen_slices) {
      w->seen_slices = w->slices;
      w->seen_since = now;
      w->exit_seen = -1;
      continue;
    }
    if (!atomic_load(&w->stuck) && now - w->seen_since >= STUCK_MS) {
      atomic_store(&w->stuck, 1);
      s->active--;
      if (++s->nstuck <= MAX_STUCK) start_worker(s);
    }
    if (!atomic_load(&w->stuck)) continue;
    unslot(s, w);
    if (!atomic_load(&p->exiting) || atomic_load(&p->abandoned)) continue;
    if (w->exit_seen < 0) w->exit_seen = now;
    else if (now - w->exit_seen >= EXIT_GRACE_MS && n < max) {
      proc_ref(p);
      take[n++] = p;
    }
  }
  return n;
}

static void *watchdog_main(void *arg) {
  sched *s = arg;
  pthread_mutex_lock(&s->lock);
  while (!s->stopping) {
    int64_t at = sched_now() + WATCH_EVERY_MS;
    struct timespec ts = {at / 1000, (at % 1000) * 1000000};
    proc *take[16];
    size_t n;
    pthread_cond_timedwait(&s->watch, &s->lock, &ts);
    if (s->stopping) break;
    n = watch_workers(s, sched_now(), take, sizeof take / sizeof *take);
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < n; i++) {
      proc_take_over(take[i]);
      proc_unref(take[i]);
    }
    node_watch(s->node, sched_now());
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

sched *sched_new(node *n, int nthreads) {
  sched *s = calloc(1, sizeof *s);
  pthread_condattr_t attr;
  if (s == NULL) return NULL;
  s->node = n;
  s->nthreads = nthreads;
  simclock_init(&s->clock, nthreads == 0 && n->cfg.clock != HL_CLOCK_REAL);
  s->random = nthreads == 0 && n->cfg.schedule == HL_SCHEDULE_RANDOM;
  s->rng = (uint64_t)n->cfg.seed;
  atomic_init(&s->spent_us, 0);
  pthread_mutex_init(&s->lock, NULL);
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);   /* timers use sched_now */
  pthread_cond_init(&s->work, &attr);
  pthread_cond_init(&s->left, &attr);
  pthread_cond_init(&s->watch, &attr);
  pthread_condattr_destroy(&attr);
  s->has_preempt = PREEMPT_BY_SIGNAL && nthreads > 0 && preempt_start(&s->preempt);
  pthread_mutex_lock(&s->lock);
  for (int i = 0; i < nthreads; i++) start_worker(s);
  s->has_watchdog = pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0;
  pthread_mutex_unlock(&s->lock);
  if (s->live == 0 && nthreads > 0) s->nthreads = 0;   /* no thread: the host drives it */
  return s;
}

/* 1 while w is in a slice that will not end by itself soon: its process
** was taken over. Lock held. */
static int hopeless(const worker *w) {
  return !w->done && w->current != NULL && atomic_load(&w->current->abandoned);
}

/* Lock held: 1 while a worker may still end its slice by itself. */
static int some_may_end(sched *s) {
  for (worker *w = s->workers; w != NULL; w = w->link)
    if (!w->done && !hopeless(w)) return 1;
  return 0;
}

size_t sched_halt(sched *s, int64_t deadline, uint64_t *pids, size_t max) {
  size_t abandoned = 0;
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  pthread_cond_broadcast(&s->work);
  pthread_cond_signal(&s->watch);
  pthread_mutex_unlock(&s->lock);
  if (s->has_watchdog) pthread_join(s->watchdog, NULL);   /* it runs no Lua */
  s->has_watchdog = 0;
  pthread_mutex_lock(&s->lock);
  while (some_may_end(s) && sched_now() < deadline) {
    int64_t at = sched_now() + WATCH_EVERY_MS;
    struct timespec ts;
    if (at > deadline) at = deadline;
    ts = (struct timespec){at / 1000, (at % 1000) * 1000000};
    pthread_cond_timedwait(&s->left, &s->lock, &ts);
  }
  /* Those still in a slice: a process that can be taken over (or was) is
  ** left to its thread; any other is past its Lua and ends soon. */
  for (worker *w = s->workers; w != NULL; w = w->link) {
    proc *p = w->current;
    int gone;
    if (w->done || p == NULL) continue;
    proc_ref(p);
    pthread_mutex_unlock(&s->lock);
    gone = proc_take_over(p) || atomic_load(&p->abandoned);
    pthread_mutex_lock(&s->lock);
    gone = gone || w->closing;    /* its process is gone: only a state is left */
    if (gone && !w->done && w->current == p) {
      w->abandoned = 1;
      pthread_detach(w->thread);
      if (abandoned < max) pids[abandoned] = p->pid;
      abandoned++;
    }
    proc_unref(p);
  }
  s->abandoned = abandoned > 0;
  s->nthreads = 0;
  pthread_mutex_unlock(&s->lock);
  if (abandoned > 0) graveyard_keep(s);
  for (worker *w = s->workers; w != NULL; w = w->link)
    if (!w->abandoned) pthread_join(w->thread, NULL);
  if (s->has_preempt) preempt_stop(&s->preempt);   /* slots stay: see sched_free */
  return abandoned;
}

void sched_free(sched *s) {
  for (proc *p; (p = pop(s)) != NULL;) proc_unref(p);
  while (s->ntimers > 0) {
    stimer t = heap_take(s, 0);
    buf_free(&t.msg);
    free(t.name);
  }
  while (s->workers != NULL) {
    worker *w = s->workers;
    s->workers = w->link;
    free(w);
  }
  if (s->has_preempt) preempt_free(&s->preempt);
  free(s->timers);
  free(s->queue);
  pthread_cond_destroy(&s->work);
  pthread_cond_destroy(&s->left);
  pthread_cond_destroy(&s->watch);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

/* Steps under way on this thread (a report's callback made in a step may
** step the node again). */
static _Thread_local int steps_here;

/* A step ends: one fewer under way (running counts the steps of every
** thread that drives a host-driven node, as it counts workers' slices). */
static void step_done(sched *s) {
  pthread_mutex_lock(&s->lock);
  s->running--;
  pthread_mutex_unlock(&s->lock);
  steps_here--;
}

int sched_step(sched *s) {
  stimer t;
  proc *p;
  pthread_mutex_lock(&s->lock);
  if (take_due(s, &t)) {
    s->running++;       /* until its process is queued */
    steps_here++;
    pthread_mutex_unlock(&s->lock);
    fire(s, &t);
    step_done(s);
    return 1;
  }
  p = pop(s);
  if (p != NULL) {
    s->running++;
    steps_here++;
  }
  pthread_mutex_unlock(&s->lock);
  if (p == NULL) return 0;
  sched_run_slice(s, p);
  step_done(s);
  proc_unref(p);
  return 1;
}

int sched_stepping_elsewhere(sched *s) {
  size_t running, queued;
  pthread_mutex_lock(&s->lock);
  running = s->running;
  queued = s->qcount;
  pthread_mutex_unlock(&s->lock);
  /* queued: a step that ended since this thread's found the queue empty
  ** left work behind; the node is not idle, and its clock must not jump */
  return running > (size_t)steps_here || queued > 0;
}

int sched_move_clock(sched *s, int64_t t) {
  if (!simclock_move_to(&s->clock, t)) return 0;
  if (s->node->trace != NULL)
    trace_event(s->node->trace, TRACE_CLOCK, (uint64_t)sched_elapsed(s), 0, 0, NULL);
  return 1;
}

int sched_advance(sched *s, int64_t ms) {
  stimer t;
  if (!s->clock.is_virtual) return 0;
  sched_move_clock(s, sched_clock(s) + ms);
  for (;;) {
    pthread_mutex_lock(&s->lock);
    if (!take_due(s, &t)) break;
    pthread_mutex_unlock(&s->lock);
    fire(s, &t);
  }
  pthread_mutex_unlock(&s->lock);
  return 1;
}
