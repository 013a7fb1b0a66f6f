/*
** pheap.c — a process's own heap (pheap.h).
**
** A small block comes from its size class's free list, or else from the
** current chunk's unused end (the bump pointer); a chunk too full for a
** block gives its rest to the free list of the largest class that fits
** it, and the next chunk is twice as large, up to CHUNK_MAX. The heap's
** own record sits at the start of its first chunk, so a new heap is one
** malloc.
**
** Classes are GRAIN bytes apart up to 128 bytes, where most of Lua's
** blocks are, and further apart above (BANDS), where a block wastes less
** than an eighth of its size: 48 free lists cover every block up to
** PHEAP_SMALL, and the heap's record stays small. The blocks of a fresh
** state that are larger than most (the global state, the string table,
** the stacks) come from the chunk too: no malloc header each, and a new
** process's memory is its first chunk.
*/
#include <stdlib.h>
#include <string.h>

#include "pheap.h"

#define GRAIN 8                               /* every block is aligned to it */
#define CLASSES 48
/* A pristine state (lstate.c) reaches 8.7 KiB of its heap, this record
** included; a process waiting in receive in a small module, 10.9 KiB
** (9.4 KiB in use, the rest what loading the module left before its
** first collection). The first chunk holds that: whatever it has beyond
** only adds to every idle process's resident memory (malloc's next
** block touches the page its end shares), and a process that needs more
** touches the pages of its next chunk one by one as the bump pointer
** reaches them. */
#define CHUNK_FIRST (11 * 1024)
#define CHUNK_MAX (64 * 1024)

typedef struct chunk {
  struct chunk *next;
  size_t size;
} chunk;

typedef struct block {                        /* a free small block */
  struct block *next;
} block;

struct pheap {
  block *free[CLASSES];                       /* class i: blocks of class_size(i) bytes */
  char *bump, *end;                           /* the current chunk's unused end */
  chunk *chunks;
  size_t next_size;
  size_t footprint;
};

/* n rounded up to whole grains: what follows a record stays aligned. */
#define ROUND(n) (((n) + GRAIN - 1) / GRAIN * GRAIN)

/* The classes, band by band: up to `limit` bytes, `step` bytes apart. */
static const struct band {
  size_t limit, step, first;                  /* first: the band's first class */
} BANDS[] = {
  {128, GRAIN, 0},
  {256, 16, 16},
  {512, 32, 24},
  {1024, 64, 32},
  {PHEAP_SMALL, 128, 40},
};
#define NBANDS (sizeof BANDS / sizeof BANDS[0])

/* The smallest class that holds n bytes (0 < n <= PHEAP_SMALL). */
static size_t class_of(size_t n) {
  size_t base = 0, b = 0;
  while (n > BANDS[b].limit) base = BANDS[b++].limit;
  return BANDS[b].first + (n - base + BANDS[b].step - 1) / BANDS[b].step - 1;
}

static size_t class_size(size_t c) {
  size_t base = 0, b = 0;
  while (b + 1 < NBANDS && c >= BANDS[b + 1].first) base = BANDS[b++].limit;
  return base + (c - BANDS[b].first + 1) * BANDS[b].step;
}

static void give_rest(pheap *h) {
  size_t rest = (size_t)(h->end - h->bump);
  if (rest >= GRAIN) {
    block *b = (block *)(void *)h->bump;
    size_t c = class_of(rest < PHEAP_SMALL ? rest : PHEAP_SMALL);
    if (class_size(c) > rest) c--;            /* the largest class that fits */
    b->next = h->free[c];
    h->free[c] = b;
  }
  h->bump = h->end;
}

static int add_chunk(pheap *h) {
  size_t size = h->next_size;
  chunk *c = malloc(size);
  if (c == NULL) return 0;
  c->size = size;
  c->next = h->chunks;
  h->chunks = c;
  h->footprint += size;
  give_rest(h);
  h->bump = (char *)c + ROUND(sizeof *c);
  h->end = (char *)c + size;
  if (h->next_size < CHUNK_MAX) h->next_size *= 2;
  return 1;
}

pheap *pheap_new(void) {
  chunk *c = malloc(CHUNK_FIRST);
  pheap *h;
  if (c == NULL) return NULL;
  c->size = CHUNK_FIRST;
  c->next = NULL;
  h = (pheap *)(void *)((char *)c + ROUND(sizeof *c));
  memset(h, 0, sizeof *h);
  h->chunks = c;
  h->footprint = CHUNK_FIRST;
  h->next_size = CHUNK_FIRST * 2;
  h->bump = (char *)h + ROUND(sizeof *h);
  h->end = (char *)c + CHUNK_FIRST;
  return h;
}

void pheap_destroy(pheap *h) {
  chunk *c;
  if (h == NULL) return;
  c = h->chunks;                              /* the first chunk, holding h, is last */
  while (c != NULL) {
    chunk *next = c->next;
    free(c);
    c = next;
  }
}

static void *small_alloc(pheap *h, size_t n) {
  size_t c = class_of(n);
  size_t size = class_size(c);
  block *b = h->free[c];
  char *p;
  if (b != NULL) {
    h->free[c] = b->next;
    return b;
  }
  if ((size_t)(h->end - h->bump) < size && !add_chunk(h)) return NULL;
  p = h->bump;
  h->bump += size;
  return p;
}

static void small_free(pheap *h, void *p, size_t n) {
  block *b = p;
  size_t c = class_of(n);
  b->next = h->free[c];
  h->free[c] = b;
}

void *pheap_realloc(pheap *h, void *ptr, size_t osize, size_t nsize) {
  void *q;
  if (ptr == NULL) osize = 0;
  if (nsize == 0) {
    if (osize > PHEAP_SMALL) free(ptr);
    else if (ptr != NULL) small_free(h, ptr, osize);
    return NULL;
  }
  if (osize > PHEAP_SMALL && nsize > PHEAP_SMALL) return realloc(ptr, nsize);
  if (osize > 0 && osize <= PHEAP_SMALL && nsize <= PHEAP_SMALL &&
      class_of(osize) == class_of(nsize))
    return ptr;                               /* the block already fits */
  q = nsize > PHEAP_SMALL ? malloc(nsize) : small_alloc(h, nsize);
  if (q == NULL) return NULL;
  if (ptr != NULL) {
    memcpy(q, ptr, osize < nsize ? osize : nsize);
    pheap_realloc(h, ptr, osize, 0);
  }
  return q;
}

size_t pheap_footprint(const pheap *h) {
  return h->footprint;
}
