/*
** lscratch.c — lending the binding's encode and decode buffers to one
** call at a time (see lscratch.h for why and how an abandoned set is
** told).
*/
#include <stdlib.h>

#include "lscratch.h"

/* A set returned holding more than this frees it: one big result should
** not stay in memory for the state's lifetime. */
#define KEEP_BYTES (1u << 20)

void lscratch_init(lscratch_pool *pool) {
  pool->sets = NULL;
  pool->n = pool->cap = 0;
}

void lscratch_free(lscratch_pool *pool) {
  for (size_t i = 0; i < pool->n; i++) {
    buf_free(&pool->sets[i]->in);
    buf_free(&pool->sets[i]->out);
    free(pool->sets[i]);
  }
  free(pool->sets);
  lscratch_init(pool);
}

/* A lent set whose borrower has provably returned or been unwound. */
static int abandoned(const lscratch *s, uintptr_t here, pthread_t self) {
  return !pthread_equal(s->thread, self) || here >= s->frame;
}

static lscratch *new_set(lscratch_pool *pool) {
  lscratch *s;
  if (pool->n == pool->cap) {
    size_t cap = pool->cap ? pool->cap * 2 : 4;
    lscratch **sets = realloc(pool->sets, cap * sizeof *sets);
    if (sets == NULL) return NULL;
    pool->sets = sets;
    pool->cap = cap;
  }
  if ((s = malloc(sizeof *s)) == NULL) return NULL;
  buf_init(&s->in);
  buf_init(&s->out);
  s->lent = 0;
  pool->sets[pool->n++] = s;
  return s;
}

/* Never inlined: its own frame stands for the borrower's, right above it. */
__attribute__((noinline)) lscratch *lscratch_borrow(lscratch_pool *pool) {
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  pthread_t self = pthread_self();
  lscratch *s = NULL;
  for (size_t i = 0; i < pool->n && s == NULL; i++)
    if (!pool->sets[i]->lent || abandoned(pool->sets[i], here, self)) s = pool->sets[i];
  if (s == NULL && (s = new_set(pool)) == NULL) return NULL;
  buf_reset(&s->in);
  buf_reset(&s->out);
  s->lent = 1;
  s->frame = here;
  s->thread = self;
  return s;
}

static void trim(buf *b) {
  if (b->cap > KEEP_BYTES) buf_free(b);
}

void lscratch_return(lscratch *s) {
  if (s == NULL) return;
  trim(&s->in);
  trim(&s->out);
  s->lent = 0;
}
