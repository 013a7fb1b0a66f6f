/*
** test_pheap.c — a process's own heap (pheap.c) driven the way lua_Alloc
** drives it: random allocations, growths, shrinks and frees of small and
** large blocks, each block filled with a pattern of its own and checked
** before it changes, so that two live blocks that overlap, a block that
** loses its contents in a move, or a misaligned block is seen.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pheap.h"

#define SLOTS 512
#define ROUNDS 200000

typedef struct slot {
  unsigned char *p;
  size_t size;
  unsigned char tag;
} slot;

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void) {
  return check_random(&rng);
}

/* Mostly small blocks, as Lua's are; now and then a large one. */
static size_t some_size(void) {
  uint64_t r = next();
  if (r % 16 == 0) return PHEAP_SMALL + 1 + (size_t)(r >> 8) % 4096;
  return 1 + (size_t)(r >> 8) % PHEAP_SMALL;
}

static int intact(const slot *s) {
  for (size_t i = 0; i < s->size; i++)
    if (s->p[i] != (unsigned char)(s->tag + i)) return 0;
  return 1;
}

static void fill(slot *s) {
  for (size_t i = 0; i < s->size; i++) s->p[i] = (unsigned char)(s->tag + i);
}

static void test_random_use(void) {
  static slot slots[SLOTS];
  pheap *h = pheap_new();
  int broken = 0, misaligned = 0, failed = 0;
  CHECK(h != NULL);
  for (int round = 0; round < ROUNDS; round++) {
    slot *s = &slots[next() % SLOTS];
    size_t size = some_size();
    if (s->p != NULL && !intact(s)) broken++;
    if (s->p == NULL) {                 /* a new block */
      s->p = pheap_realloc(h, NULL, 7 /* a type tag, as Lua passes */, size);
      s->size = size;
    } else if (next() % 3 == 0) {       /* freed */
      if (pheap_realloc(h, s->p, s->size, 0) != NULL) failed++;
      s->p = NULL;
      continue;
    } else {                            /* grown or shrunk: the common part stays */
      unsigned char *q = pheap_realloc(h, s->p, s->size, size);
      if (q == NULL) failed++;
      else {
        s->p = q;
        s->size = s->size < size ? s->size : size;
        if (!intact(s)) broken++;
        s->size = size;
      }
    }
    if (s->p == NULL) {
      failed++;
      continue;
    }
    if ((uintptr_t)s->p % 8 != 0) misaligned++;
    s->tag = (unsigned char)next();
    fill(s);
  }
  for (int i = 0; i < SLOTS; i++) {
    if (slots[i].p != NULL && !intact(&slots[i])) broken++;
    /* large blocks are freed one by one; small ones go with the heap */
    if (slots[i].size > PHEAP_SMALL) pheap_realloc(h, slots[i].p, slots[i].size, 0);
  }
  CHECK(broken == 0);
  CHECK(misaligned == 0);
  CHECK(failed == 0);
  CHECK(pheap_footprint(h) > 0);
  pheap_destroy(h);
}

/* A freed small block is used again for the same size: a process that
** allocates and frees in a loop does not grow. */
static void test_reuse(void) {
  pheap *h = pheap_new();
  void *a = pheap_realloc(h, NULL, 0, 40);
  size_t before;
  CHECK(a != NULL);
  pheap_realloc(h, a, 40, 0);
  CHECK(pheap_realloc(h, NULL, 0, 33) == a);   /* 33 and 40 share a class */
  before = pheap_footprint(h);
  for (int i = 0; i < 100000; i++) {
    void *p = pheap_realloc(h, NULL, 0, 100);
    pheap_realloc(h, p, 100, 0);
  }
  CHECK(pheap_footprint(h) == before);
  /* a block that still fits its class is not moved */
  CHECK(pheap_realloc(h, a, 33, 39) == a);
  pheap_destroy(h);
}

/* Every small size gets a block that holds it whole, apart from its
** neighbours, and a freed block serves the next request of its size: the
** size classes are spaced unevenly, so each size is tried. */
static void test_every_size(void) {
  pheap *h = pheap_new();
  int overlap = 0, not_reused = 0, failed = 0;
  for (size_t n = 1; n <= PHEAP_SMALL; n++) {
    unsigned char *a = pheap_realloc(h, NULL, 0, n), *b = pheap_realloc(h, NULL, 0, n), *c;
    if (a == NULL || b == NULL) {
      failed++;
      break;
    }
    memset(a, 0xAA, n);
    memset(b, 0x55, n);
    for (size_t i = 0; i < n; i++) overlap += a[i] != 0xAA;
    pheap_realloc(h, a, n, 0);
    c = pheap_realloc(h, NULL, 0, n);
    not_reused += c != a;
    pheap_realloc(h, c, n, 0);
    pheap_realloc(h, b, n, 0);
  }
  CHECK(failed == 0);
  CHECK(overlap == 0);
  CHECK(not_reused == 0);
  pheap_destroy(h);
}

/* Many heaps at once, each destroyed with its blocks still allocated. */
static void test_destroy_whole(void) {
  pheap *heaps[64];
  int failed = 0;
  for (int i = 0; i < 64; i++) {
    heaps[i] = pheap_new();
    if (heaps[i] == NULL) {
      CHECK(heaps[i] != NULL);
      return;
    }
    for (int j = 0; j < 2000; j++)
      if (pheap_realloc(heaps[i], NULL, 0, 1 + (size_t)j % 200) == NULL) failed++;
  }
  CHECK(failed == 0);
  for (int i = 0; i < 64; i++) pheap_destroy(heaps[i]);
  pheap_destroy(NULL);
}

int main(void) {
  test_random_use();
  test_reuse();
  test_every_size();
  test_destroy_whole();
  return check_summary("pheap");
}
