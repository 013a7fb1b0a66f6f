/*
** tcache.c — small blocks from a cache per thread (see tcache.h).
**
** A block is a 16-byte header (its home cache and size class) and the
** caller's bytes; while free, its first bytes link it into a list. The
** return list is a stack that any thread pushes onto and only the home
** thread empties, all at once (so no ABA problem); when the home thread
** ends it is closed for good (TCACHE_CLOSED) and later returns are freed
** at once. A cache counts the blocks it made that are still allocated
** through malloc, plus one for its thread: the last to go frees it.
*/
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "tcache.h"

#define NCLASSES 4
static const size_t class_bytes[NCLASSES] = {64, 128, 256, 512};   /* header included */

typedef struct tcache tcache;

typedef struct header {
  tcache *home;       /* NULL: a large block, from malloc alone */
  size_t cls;
} header;

typedef struct freeblock {
  header h;
  struct freeblock *next;
} freeblock;

struct tcache {
  _Atomic(freeblock *) returned;   /* freed by other threads; TCACHE_CLOSED: gone */
  atomic_size_t refs;              /* blocks malloc'd and not freed, + 1 for the thread */
  freeblock *own[NCLASSES];        /* the thread's: free blocks by class */
  size_t nown[NCLASSES];
};

static freeblock closed_mark;
#define TCACHE_CLOSED (&closed_mark)

static _Thread_local tcache *mine;
static pthread_key_t thread_end;   /* its destructor lets the thread's cache go */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void release(tcache *c) {
  /* acq_rel: every use of c by the others happens before the free */
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) free(c);
}

/* Gives one block back to malloc. */
static void drop_block(freeblock *b) {
  tcache *home = b->h.home;
  free(b);
  release(home);
}

/* A thread ends: its free blocks go, returns are closed. */
static void cache_end(void *arg) {
  tcache *c = arg;
  freeblock *b;
  mine = NULL;
  for (int i = 0; i < NCLASSES; i++)
    while ((b = c->own[i]) != NULL) {
      c->own[i] = b->next;
      drop_block(b);
    }
  /* acquire: the returned blocks' links */
  b = atomic_exchange_explicit(&c->returned, TCACHE_CLOSED, memory_order_acquire);
  while (b != NULL) {
    freeblock *next = b->next;
    drop_block(b);
    b = next;
  }
  release(c);
}

static void make_key(void) {
  pthread_key_create(&thread_end, cache_end);
}

/* The calling thread's cache, made at its first block; NULL when memory
** runs out. */
static tcache *my_cache(void) {
  tcache *c = mine;
  if (c != NULL) return c;
  pthread_once(&key_once, make_key);
  c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  atomic_init(&c->returned, NULL);
  atomic_init(&c->refs, 1);
  if (pthread_setspecific(thread_end, c) != 0) {
    free(c);
    return NULL;
  }
  mine = c;
  return c;
}

static int class_of(size_t size) {
  for (int i = 0; i < NCLASSES; i++)
    if (size + sizeof(header) <= class_bytes[i]) return i;
  return -1;
}

/* Keeps b on c's own list, or gives it back to malloc beyond the limit. */
static void keep(tcache *c, freeblock *b) {
  size_t cls = b->h.cls;
  if (c->nown[cls] >= TCACHE_KEEP_BYTES / class_bytes[cls]) {
    drop_block(b);
    return;
  }
  b->next = c->own[cls];
  c->own[cls] = b;
  c->nown[cls]++;
}

/* Takes back the blocks other threads have returned. */
static void take_returned(tcache *c) {
  freeblock *b;
  if (atomic_load_explicit(&c->returned, memory_order_relaxed) == NULL) return;
  /* acquire: pairs with the returns' release, for the links */
  b = atomic_exchange_explicit(&c->returned, NULL, memory_order_acquire);
  while (b != NULL) {
    freeblock *next = b->next;
    keep(c, b);
    b = next;
  }
}

void *tcache_alloc(size_t size) {
  int cls = class_of(size);
  tcache *c = cls >= 0 ? my_cache() : NULL;
  freeblock *b;
  if (c == NULL) {                   /* large, or no cache */
    header *h = malloc(sizeof *h + size);
    if (h == NULL) return NULL;
    h->home = NULL;
    return h + 1;
  }
  if (c->own[cls] == NULL) take_returned(c);
  b = c->own[cls];
  if (b != NULL) {
    c->own[cls] = b->next;
    c->nown[cls]--;
    return &b->h + 1;
  }
  b = malloc(class_bytes[cls]);
  if (b == NULL) return NULL;
  atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);   /* c is alive: its thread holds it */
  b->h.home = c;
  b->h.cls = (size_t)cls;
  return &b->h + 1;
}

void tcache_free(void *block) {
  header *h;
  tcache *home;
  freeblock *b, *top;
  if (block == NULL) return;
  h = (header *)block - 1;
  home = h->home;
  if (home == NULL) {
    free(h);
    return;
  }
  b = (freeblock *)h;
  if (home == mine) {
    keep(home, b);
    return;
  }
  top = atomic_load_explicit(&home->returned, memory_order_relaxed);
  do {
    if (top == TCACHE_CLOSED) {      /* its thread has ended */
      drop_block(b);
      return;
    }
    b->next = top;
    /* release: the link, for the home thread's acquire */
  } while (!atomic_compare_exchange_weak_explicit(&home->returned, &top, b, memory_order_release,
                                                  memory_order_relaxed));
}
