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

/* The classes, band by band: 8 bytes apart up to 128, then 16 apart up
** to 256, 32 up to 512, 64 up to 1,024 and 128 up to PHEAP_SMALL, 8
** classes a band after the first's 16. Every step is a power of two, so
** a class is a shift away: these run on every allocation a process makes.
**
** The smallest class that holds n bytes (0 < n <= PHEAP_SMALL). */
static inline size_t class_of(size_t n) {
  if (n <= 128) return (n - 1) >> 3;
  if (n <= 256) return 16 + ((n - 129) >> 4);
  if (n <= 512) return 24 + ((n - 257) >> 5);
  if (n <= 1024) return 32 + ((n - 513) >> 6);
  return 40 + ((n - 1025) >> 7);
}

static inline size_t class_size(size_t c) {
  if (c < 16) return (c + 1) << 3;
  if (c < 24) return 128 + ((c - 15) << 4);
  if (c < 32) return 256 + ((c - 23) << 5);
  if (c < 40) return 512 + ((c - 31) << 6);
  return 1024 + ((c - 39) << 7);
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

static inline void *small_alloc(pheap *h, size_t n) {
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

static inline void small_free(pheap *h, void *p, size_t n) {
  block *b = p;
  size_t c = class_of(n);
  b->next = h->free[c];
  h->free[c] = b;
}

static inline void *block_alloc(pheap *h, size_t n) {
  return n > PHEAP_SMALL ? malloc(n) : small_alloc(h, n);
}

static inline void block_free(pheap *h, void *p, size_t n) {
  if (n > PHEAP_SMALL) free(p);
  else small_free(h, p, n);
}

/* A block of osize bytes to hold nsize instead (both nonzero). Kept out
** of line: inlined, its registers would be saved on every call. */
__attribute__((noinline)) static void *resize(pheap *h, void *ptr, size_t osize, size_t nsize) {
  void *q;
  if (osize > PHEAP_SMALL && nsize > PHEAP_SMALL) return realloc(ptr, nsize);
  if (osize <= PHEAP_SMALL && nsize <= PHEAP_SMALL && class_of(osize) == class_of(nsize))
    return ptr;                               /* the block already fits */
  if ((q = block_alloc(h, nsize)) == NULL) return NULL;
  memcpy(q, ptr, osize < nsize ? osize : nsize);
  block_free(h, ptr, osize);
  return q;
}

/* A new block and a freed one, most of Lua's calls, go straight to their
** lists; only a true resize takes the long way. */
void *pheap_realloc(pheap *h, void *ptr, size_t osize, size_t nsize) {
  if (ptr == NULL) return nsize == 0 ? NULL : block_alloc(h, nsize);
  if (nsize == 0) {
    block_free(h, ptr, osize);
    return NULL;
  }
  return resize(h, ptr, osize, nsize);
}

size_t pheap_footprint(const pheap *h) {
  return h->footprint;
}
