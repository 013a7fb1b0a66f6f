/*
** scheduler.c — run queue, scheduler threads, slices, and timers (see scheduler.h).
**
** A slice resumes a process's coroutine until it returns, fails, waits in
** receive, or uses up its budget: a count hook ticks every HOOK_EVERY VM
** instructions and yields after SLICE_TICKS ticks, so a runaway loop
** cannot starve the others. The same hook ends a process whose exit is
** pending, raising on every instruction until its stack has unwound:
** neither pcall nor a C function such as table.sort can hold it back.
*/
#include <errno.h>
#include <sched.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lterm.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "term.h"

#define HOOK_EVERY 1000
#define SLICE_TICKS 20
#define SPIN_ROUNDS 200       /* sched_yield calls before a worker sleeps */

int64_t sched_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
  p = s->queue[s->qhead];
  s->qhead = (s->qhead + 1) % s->qcap;
  s->qcount--;
  atomic_store_explicit(&s->queued, s->qcount, memory_order_relaxed);
  return p;
}

/* A worker thread's own slot for the next process. A process made
** runnable by the one running on this worker (a message to a process
** that waits, as in a request and its reply) runs next on this same
** thread, where its data is warm, instead of waking another thread to
** take it from the shared queue. Only this thread touches the slot. */
typedef struct worker_slot {
  sched *s;
  proc *next;
  int streak;            /* slices run from the slot in a row */
} worker_slot;

static _Thread_local worker_slot *this_worker;

/* After this many slices from the slot in a row, the shared queue goes
** first: two processes that answer each other cannot keep a worker to
** themselves. */
#define NEXT_STREAK 16

/* Queues p; to this worker's slot when use_slot and this thread is one
** of s's workers. */
static void queue_process(sched *s, proc *p, int use_slot) {
  worker_slot *w = this_worker;
  proc_ref(p);
  if (use_slot && w != NULL && w->s == s) {
    proc *displaced = w->next;
    w->next = p;
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
      left = t.at - sched_now();
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
  p = pid != 0 ? ptab_get(&n->procs, pid) : NULL;
  if (p != NULL) {
    if (t->is_message) {
      proc_deliver_from(p, t->from, t->msg.p, t->msg.n);
    } else {
      int enqueue = 0;
      pthread_mutex_lock(&p->lock);
      if (p->state == PROC_WAITING && p->timer_gen == t->gen) {
        p->state = PROC_RUNNABLE;
        enqueue = 1;
      }
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
  if (s->ntimers == 0 || s->timers[0].at > sched_now()) return 0;
  *out = heap_take(s, 0);
  return 1;
}

/* ---- slices ---- */

/* Only the process's own coroutine yields to the scheduler: a coroutine
** the process made itself is resumed by the process's code, and a yield
** there would go back to that code, not to the scheduler. */
static void hook(lua_State *L, lua_Debug *ar) {
  proc *p = *(proc **)lua_getextraspace(L);
  (void)ar;
  if (atomic_load(&p->exiting)) {
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);   /* raise on every instruction now */
    lua_pushliteral(L, "heirloom: the process is exiting");
    lua_error(L);
  }
  if (--p->budget <= 0 && L == p->co && lua_isyieldable(L)) lua_yield(L, 0);
}

void sched_exit_now(lua_State *L) {
  lua_sethook(L, hook, LUA_MASKCOUNT, 1);
}

/* The exit reason of a body that failed: {error = message, traceback = ...}. */
static void error_reason(proc *p, int status) {
  lua_State *co = p->co;
  char msg[256];
  buf_reset(&p->reason);
  if (p->alloc.exceeded) {
    term_put_string(&p->reason, "memory_limit", 12);
    return;
  }
  if (status == LUA_ERRMEM) {
    term_put_string(&p->reason, "out_of_memory", 13);
    return;
  }
  luaL_traceback(co, co, NULL, 0);
  term_put_map(&p->reason, 2);      /* keys in order: "error" < "traceback" */
  term_put_string(&p->reason, "error", 5);
  term_put_string(&p->reason, "traceback", 9);
  if (!lterm_encode(co, -2, &p->reason, "error", msg, sizeof msg))
    term_put_string(&p->reason, msg, strlen(msg));
  {
    size_t len;
    const char *tb = lua_tolstring(co, -1, &len);
    term_put_string(&p->reason, tb != NULL ? tb : "", tb != NULL ? len : 0);
  }
}

/* After a yield: wait for mail, or go back in the queue. */
static void after_yield(sched *s, proc *p) {
  uint64_t gen = 0;
  int64_t deadline = -1;
  int requeue = 1;
  pthread_mutex_lock(&p->lock);
  if (atomic_load(&p->exiting)) {
    p->state = PROC_DYING;
    pthread_mutex_unlock(&p->lock);
    proc_finish_exit(p);
    return;
  }
  if (p->wants_mail && !proc_has_unscanned(p) && (p->deadline < 0 || sched_now() < p->deadline)) {
    requeue = 0;
    p->state = PROC_WAITING;
    gen = ++p->timer_gen;
    deadline = p->deadline;
  } else {
    p->state = PROC_RUNNABLE;
  }
  pthread_mutex_unlock(&p->lock);
  /* a process that used up its slice goes to the back of the shared
  ** queue: the slot is for the processes a slice wakes, not for itself */
  if (requeue) queue_process(s, p, 0);
  else if (deadline >= 0) sched_wake_at(s, p->pid, gen, deadline);
}

void sched_run_slice(sched *s, proc *p) {
  int status, nres, nargs;
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
  p->budget = SLICE_TICKS;
  nargs = p->nargs;
  p->nargs = 0;
  status = lua_resume(p->co, NULL, nargs, &nres);
  if (status == LUA_YIELD) {
    lua_pop(p->co, nres);
    after_yield(s, p);
    return;
  }
  pthread_mutex_lock(&p->lock);
  if (!atomic_load(&p->exiting)) {
    if (status == LUA_OK) {
      buf_reset(&p->reason);
      term_put_string(&p->reason, "normal", 6);
    } else {
      error_reason(p, status);
    }
  }
  p->state = PROC_DYING;
  pthread_mutex_unlock(&p->lock);
  proc_finish_exit(p);
}

void sched_prepare(lua_State *co) {
  lua_sethook(co, hook, LUA_MASKCOUNT, HOOK_EVERY);
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
static proc *next_process(sched *s, worker_slot *w) {
  proc *p = w->next;
  if (p != NULL && (s->qcount == 0 || w->streak < NEXT_STREAK)) {
    w->next = NULL;
    w->streak++;
    return p;
  }
  if (p != NULL) {                   /* its turn is over: to the back */
    w->next = NULL;
    if (!push(s, p)) proc_unref(p);
  }
  w->streak = 0;
  return pop(s);
}

static void *worker(void *arg) {
  sched *s = arg;
  worker_slot w = {s, NULL, 0};
  int spun = 0;
  this_worker = &w;
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
    p = next_process(s, &w);
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
    pthread_mutex_unlock(&s->lock);
    sched_run_slice(s, p);
    proc_unref(p);
    pthread_mutex_lock(&s->lock);
    s->running--;
  }
  /* a process left in the slot goes where sched_free will find it */
  if (w.next != NULL && !push(s, w.next)) proc_unref(w.next);
  this_worker = NULL;
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

sched *sched_new(node *n, int nthreads) {
  sched *s = calloc(1, sizeof *s);
  pthread_condattr_t attr;
  if (s == NULL) return NULL;
  s->node = n;
  pthread_mutex_init(&s->lock, NULL);
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);   /* timers use sched_now */
  pthread_cond_init(&s->work, &attr);
  pthread_condattr_destroy(&attr);
  s->threads = calloc(nthreads > 0 ? (size_t)nthreads : 1, sizeof *s->threads);
  if (s->threads == NULL) {
    free(s);
    return NULL;
  }
  for (int i = 0; i < nthreads; i++)
    if (pthread_create(&s->threads[i], NULL, worker, s) == 0) s->nthreads++;
  return s;
}

void sched_halt(sched *s) {
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  pthread_cond_broadcast(&s->work);
  pthread_mutex_unlock(&s->lock);
  for (int i = 0; i < s->nthreads; i++) pthread_join(s->threads[i], NULL);
  s->nthreads = 0;
}

void sched_free(sched *s) {
  for (proc *p; (p = pop(s)) != NULL;) proc_unref(p);
  while (s->ntimers > 0) {
    stimer t = heap_take(s, 0);
    buf_free(&t.msg);
    free(t.name);
  }
  free(s->timers);
  free(s->queue);
  free(s->threads);
  pthread_cond_destroy(&s->work);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

int sched_step(sched *s) {
  stimer t;
  proc *p;
  pthread_mutex_lock(&s->lock);
  if (take_due(s, &t)) {
    pthread_mutex_unlock(&s->lock);
    fire(s, &t);
    return 1;
  }
  p = pop(s);
  pthread_mutex_unlock(&s->lock);
  if (p == NULL) return 0;
  sched_run_slice(s, p);
  proc_unref(p);
  return 1;
}
