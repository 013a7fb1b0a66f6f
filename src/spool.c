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
*/
#include <pthread.h>
#include <stdlib.h>

#include "spool.h"

typedef struct pristine {
  lua_State *L;
  palloc *alloc;     /* the state's allocator data until it is taken */
} pristine;

#define RETIRE_MAX 256    /* beyond this, exits close their states themselves */

struct spool {
  pthread_mutex_t lock;
  pthread_cond_t low;       /* the filler waits here while it has nothing to do */
  pristine *states;
  int count, size, stop;
  lua_State *retired[RETIRE_MAX];
  int nretired;
  spool_make make;
  pthread_t filler;
};

static int make_one(spool *s, pristine *out) {
  out->alloc = calloc(1, sizeof *out->alloc);
  if (out->alloc == NULL) return 0;
  out->L = s->make(out->alloc);
  if (out->L == NULL) {
    free(out->alloc);
    return 0;
  }
  return 1;
}

/* Closes the retired states; lock held on entry and exit. */
static void close_retired(spool *s) {
  while (s->nretired > 0) {
    lua_State *L = s->retired[--s->nretired];
    pthread_mutex_unlock(&s->lock);
    lua_close(L);
    pthread_mutex_lock(&s->lock);
  }
}

static void *fill(void *arg) {
  spool *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    pristine one;
    while (s->count >= s->size && s->nretired == 0 && !s->stop)
      pthread_cond_wait(&s->low, &s->lock);
    if (s->stop) break;
    close_retired(s);
    if (s->count >= s->size) continue;
    pthread_mutex_unlock(&s->lock);
    if (!make_one(s, &one)) {     /* out of memory: let spawn report it */
      pthread_mutex_lock(&s->lock);
      if (!s->stop) pthread_cond_wait(&s->low, &s->lock);
      continue;
    }
    pthread_mutex_lock(&s->lock);
    s->states[s->count++] = one;
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

spool *spool_new(spool_make make, int size) {
  spool *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->states = calloc((size_t)size, sizeof *s->states);
  s->size = size;
  s->make = make;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->low, NULL);
  if (s->states == NULL || pthread_create(&s->filler, NULL, fill, s) != 0) {
    pthread_cond_destroy(&s->low);
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
  lua_setallocf(one.L, proc_alloc, to);
  free(one.alloc);
  return one.L;
}

/* Frees without counting: a retired state's process may be gone. */
static void *plain_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

void spool_retire(spool *s, lua_State *L) {
  int inline_close;
  lua_setallocf(L, plain_alloc, NULL);
  *(void **)lua_getextraspace(L) = NULL;
  pthread_mutex_lock(&s->lock);
  inline_close = s->stop || s->nretired == RETIRE_MAX;
  if (!inline_close) {
    s->retired[s->nretired++] = L;
    pthread_cond_signal(&s->low);
  }
  pthread_mutex_unlock(&s->lock);
  if (inline_close) lua_close(L);
}

void spool_free(spool *s) {
  if (s == NULL) return;
  pthread_mutex_lock(&s->lock);
  s->stop = 1;
  pthread_cond_signal(&s->low);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->filler, NULL);
  pthread_mutex_lock(&s->lock);
  close_retired(s);
  pthread_mutex_unlock(&s->lock);
  for (int i = 0; i < s->count; i++) {
    lua_close(s->states[i].L);
    free(s->states[i].alloc);
  }
  pthread_cond_destroy(&s->low);
  pthread_mutex_destroy(&s->lock);
  free(s->states);
  free(s);
}
