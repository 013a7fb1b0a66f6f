/*
** spool.c — a pool of pristine Lua states for new processes.
**
** Opening a state's libraries costs more than everything else spawn does,
** so a thread of the pool's own prepares states ahead, while the node has
** a core to spare, and spawn only takes one. When spawns come faster than
** the thread can follow, spawn makes its state itself: the pool is a
** cache, never a wait.
**
** The same thread closes the states of processes that have exited:
** closing a state (its finalizers, then hundreds of frees) comes after
** the exit's signals and messages are out, so nobody waits for it, and
** the memory goes back to the thread that allocated most of it.
**
** When it has nothing else to do, the thread does the pool's other work
** (spool_new's `work`: preparing ready states, lready.c), one piece at a
** time, until there is none left or a state is wanted or retired again;
** a poke may ask it to wait for a pause first (spool_poke).
**
** A finalizer may loop for ever, and Lua runs finalizers with hooks off,
** so nothing can stop it. The thread closing such a state (or stuck in a
** piece of work) is replaced (spool_watch) and left to it: it exits if it
** ever comes back, and the pool is then never freed, so what it touches
** stays valid.
*/
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "graveyard.h"
#include "lbody.h"
#include "scheduler.h"
#include "spool.h"

#define STUCK_MS 200         /* one close this long: the closer is replaced */
#define MAX_REPLACED 64      /* stuck closers replaced at one time, at most */
#define ROUND_MS 50          /* spool_free looks at a stuck closer this often */

typedef struct pristine {
  lua_State *L;
  palloc *alloc;     /* the state's allocator data until it is taken */
} pristine;

struct spool {
  pthread_mutex_t lock;
  pthread_cond_t low;       /* the filler waits here while it has nothing to do */
  pthread_cond_t idle;      /* spool_free waits here for the filler to finish */
  pristine *states;
  int count, size, stop;
  int poked;                /* there may be work for `work` */
  int64_t work_at;          /* not before then (ms, sched_now) */
  spool_work work;          /* NULL: none */
  void *work_data;
  lua_State **retired;      /* states to close, any number, with their */
  proc **owners;            /* processes, referenced until the state is closed */
  size_t nretired, capretired;
  spool_make make;
  pthread_t filler;
  unsigned gen;             /* the current filler's generation */
  int64_t closing_since;    /* when the current filler began a close or a piece of
                               work; 0: none */
  int nstuck;               /* replaced fillers not back from their close */
  int left;                 /* the current filler has left (after stop) */
};

typedef struct filler_arg {
  spool *s;
  unsigned gen;
} filler_arg;

static int make_one(spool *s, pristine *out) {
  out->alloc = calloc(1, sizeof *out->alloc);
  if (out->alloc == NULL) return 0;
  if (!lbody_new_heap(out->alloc)) {
    free(out->alloc);
    return 0;
  }
  out->L = s->make(out->alloc);
  if (out->L == NULL) {
    lbody_free_heap(out->alloc);
    free(out->alloc);
    return 0;
  }
  return 1;
}

/* The filler is back from work done without the lock, which it takes
** again. 0 when it was replaced meanwhile (spool_watch): it must leave
** without touching more. */
static int back_from_work(spool *s, unsigned gen) {
  pthread_mutex_lock(&s->lock);
  if (s->gen != gen) {
    s->nstuck--;
    pthread_cond_broadcast(&s->idle);
    return 0;
  }
  s->closing_since = 0;
  return 1;
}

/* Closes one retired state; lock held on entry and exit. 0 when this
** filler was replaced meanwhile: it must leave without touching more. */
static int close_one(spool *s, unsigned gen) {
  lua_State *L = s->retired[--s->nretired];
  proc *owner = s->owners[s->nretired];
  s->closing_since = sched_now();
  pthread_mutex_unlock(&s->lock);
  lbody_close(L);
  if (owner != NULL) proc_unref(owner);
  return back_from_work(s, gen);
}

/* One piece of the other work; lock held on entry and exit. 0 when this
** filler was replaced meanwhile, as close_one. */
static int work_one(spool *s, unsigned gen) {
  int more;
  s->poked = 0;
  s->closing_since = sched_now();
  pthread_mutex_unlock(&s->lock);
  more = s->work(s->work_data);
  if (!back_from_work(s, gen)) return 0;
  if (more) s->poked = 1;
  return 1;
}

static void *fill(void *arg) {
  filler_arg a = *(filler_arg *)arg;
  spool *s = a.s;
  free(arg);
  pthread_mutex_lock(&s->lock);
  for (;;) {
    pristine one;
    while (s->count >= s->size && s->nretired == 0 && !s->stop && !s->poked)
      pthread_cond_wait(&s->low, &s->lock);
    if (s->nretired > 0) {
      if (!close_one(s, a.gen)) {
        pthread_mutex_unlock(&s->lock);
        return NULL;
      }
      continue;
    }
    if (s->stop) break;
    if (s->count >= s->size) {      /* poked: a pool with work */
      int64_t at = s->work_at;
      if (sched_now() < at) {
        struct timespec ts = {at / 1000, (at % 1000) * 1000000};
        pthread_cond_timedwait(&s->low, &s->lock, &ts);
        continue;
      }
      if (!work_one(s, a.gen)) {
        pthread_mutex_unlock(&s->lock);
        return NULL;
      }
      continue;
    }
    pthread_mutex_unlock(&s->lock);
    if (!make_one(s, &one)) {     /* out of memory: let spawn report it */
      pthread_mutex_lock(&s->lock);
      if (!s->stop) pthread_cond_wait(&s->low, &s->lock);
      continue;
    }
    pthread_mutex_lock(&s->lock);
    s->states[s->count++] = one;
  }
  s->left = 1;
  pthread_cond_broadcast(&s->idle);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* Starts a filler of the current generation; lock held, or none running. */
static int start_filler(spool *s) {
  filler_arg *a = malloc(sizeof *a);
  pthread_t t;
  if (a == NULL) return 0;
  *a = (filler_arg){s, s->gen};
  if (pthread_create(&t, NULL, fill, a) != 0) {
    free(a);
    return 0;
  }
  s->filler = t;
  return 1;
}

/* A condition whose timed waits are on sched_now's clock (the filler's
** and spool_free's deadlines are both read from it). */
static void init_monotonic(pthread_cond_t *c) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(c, &attr);
  pthread_condattr_destroy(&attr);
}

spool *spool_new(spool_make make, int size, spool_work work, void *data) {
  spool *s = calloc(1, sizeof *s);
  int started;
  if (s == NULL) return NULL;
  s->states = calloc((size_t)size, sizeof *s->states);
  s->size = size;
  s->make = make;
  s->work = work;
  s->work_data = data;
  pthread_mutex_init(&s->lock, NULL);
  init_monotonic(&s->low);
  init_monotonic(&s->idle);
  pthread_mutex_lock(&s->lock);
  started = s->states != NULL && start_filler(s);
  pthread_mutex_unlock(&s->lock);
  if (!started) {
    pthread_cond_destroy(&s->low);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s->states);
    free(s);
    return NULL;
  }
  return s;
}

lua_State *spool_take(spool *s, palloc *to) {
  pristine one;
  pthread_mutex_lock(&s->lock);
  if (s->count == 0) {
    pthread_cond_signal(&s->low);
    pthread_mutex_unlock(&s->lock);
    return NULL;
  }
  one = s->states[--s->count];
  if (s->count <= s->size / 2) pthread_cond_signal(&s->low);
  pthread_mutex_unlock(&s->lock);
  atomic_store(&to->used, atomic_load(&one.alloc->used));
  to->heap = one.alloc->heap;
  lua_setallocf(one.L, lbody_alloc, to);
  free(one.alloc);
  return one.L;
}

void spool_poke(spool *s, int delay) {
  int64_t at;
  if (s->work == NULL) return;
  at = sched_now() + delay;
  pthread_mutex_lock(&s->lock);
  if (!s->poked || at > s->work_at) s->work_at = at;
  if (!s->poked) {
    s->poked = 1;
    pthread_cond_signal(&s->low);
  }
  pthread_mutex_unlock(&s->lock);
}

/* Room for one more retired state; lock held. */
static int retired_room(spool *s) {
  if (s->nretired == s->capretired) {
    size_t cap = s->capretired ? s->capretired * 2 : 64;
    lua_State **grown = realloc(s->retired, cap * sizeof *grown);
    proc **owners;
    if (grown == NULL) return 0;
    s->retired = grown;
    owners = realloc(s->owners, cap * sizeof *owners);
    if (owners == NULL) return 0;
    s->owners = owners;
    s->capretired = cap;
  }
  return 1;
}

void spool_retire(spool *s, lua_State *L) {
  /* The state's threads still know their process (the scheduler's hook
  ** and lcoro.c read it while finalizers run): it must outlive the close. */
  proc *owner = *(proc **)lua_getextraspace(L);
  int queued;
  lbody_unbind(L);               /* a retired state's process may be gone */
  if (owner != NULL) proc_ref(owner);
  pthread_mutex_lock(&s->lock);
  /* never closed here: its finalizers could hold the caller for ever */
  queued = retired_room(s);
  if (queued) {
    s->owners[s->nretired] = owner;
    s->retired[s->nretired++] = L;
    pthread_cond_signal(&s->low);
  }
  pthread_mutex_unlock(&s->lock);
  if (!queued) {                 /* out of memory: no other way */
    lbody_close(L);
    if (owner != NULL) proc_unref(owner);
  }
}

/* Lock held. A filler stuck in one close is left to it; a new one goes
** on with the others. */
static void replace_stuck(spool *s, int64_t now) {
  pthread_t stuck = s->filler;
  if (s->closing_since == 0 || now - s->closing_since < STUCK_MS || s->nstuck >= MAX_REPLACED)
    return;
  s->gen++;
  if (!start_filler(s)) {
    s->gen--;
    return;
  }
  pthread_detach(stuck);
  graveyard_keep(NULL);          /* the code stays loaded while it may run */
  s->nstuck++;
  s->closing_since = 0;
}

size_t spool_waiting(spool *s) {
  size_t n;
  pthread_mutex_lock(&s->lock);
  n = s->nretired;
  pthread_mutex_unlock(&s->lock);
  return n;
}

void spool_watch(spool *s, int64_t now) {
  pthread_mutex_lock(&s->lock);
  if (!s->stop) replace_stuck(s, now);
  pthread_mutex_unlock(&s->lock);
}

size_t spool_free(spool *s, int64_t deadline) {
  size_t left;
  int joinable;
  if (s == NULL) return 0;
  pthread_mutex_lock(&s->lock);
  s->stop = 1;
  pthread_cond_broadcast(&s->low);
  for (;;) {
    int64_t now = sched_now(), at = now + ROUND_MS;
    struct timespec ts;
    if (s->left || now >= deadline) break;
    replace_stuck(s, now);
    if (at > deadline) at = deadline;
    ts = (struct timespec){at / 1000, (at % 1000) * 1000000};
    pthread_cond_timedwait(&s->idle, &s->lock, &ts);
  }
  /* pristine states have run no code of anyone's: closing them is quick */
  for (int i = 0; i < s->count; i++) {
    lbody_close(s->states[i].L);
    free(s->states[i].alloc);
  }
  s->count = 0;
  if (!s->left) {                /* the current filler is stuck in a close */
    s->gen++;
    s->nstuck++;
    pthread_detach(s->filler);
  }
  /* what is still retired was given after the filler left, or is left
  ** with a stuck one: not closed here, where it could hold stop for ever */
  left = s->nretired + (size_t)s->nstuck;
  joinable = s->left;
  pthread_mutex_unlock(&s->lock);
  if (joinable) pthread_join(s->filler, NULL);   /* it has left its loop */
  if (left > 0) {              /* a stuck filler may come back to it */
    graveyard_keep(s);
    return left;
  }
  pthread_cond_destroy(&s->low);
  pthread_cond_destroy(&s->idle);
  pthread_mutex_destroy(&s->lock);
  free(s->retired);
  free(s->owners);
  free(s->states);
  free(s);
  return 0;
}
