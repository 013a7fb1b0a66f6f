/*
** test_eheap.c — a table's object heap (eheap.c): objects and blocks of
** every size, small and large, each filled with a pattern of its own and
** checked before it is freed, so that two live objects that overlap or a
** misaligned one is seen; slabs that go back when emptied; spare slabs
** that one heap lets go and another takes, never more than the bound; and
** two threads, each freeing what the other allocated.
*/
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eheap.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define SLOTS 2000
#define ROUNDS 200000

typedef struct slot {
  eobj *o;                /* an object, or NULL: */
  unsigned char *block;   /* a block (in the random test) */
  size_t len;
  unsigned char tag;
} slot;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void) {
  return check_random(&rng);
}

/* Mostly small objects, as tables hold; now and then a large one. */
static size_t some_len(void) {
  uint64_t r = next();
  if (r % 32 == 0) return EHEAP_SMALL + (size_t)(r >> 8) % 4096;
  if (r % 4 == 0) return (size_t)(r >> 8) % (EHEAP_SMALL - sizeof(eobj) + 1);
  return (size_t)(r >> 8) % 200;   /* most objects are small */
}

static unsigned char *bytes_of(const slot *s) {
  return s->o != NULL ? s->o->data : s->block;
}

static void fill(slot *s, size_t len, unsigned char tag) {
  s->len = len;
  s->tag = tag;
  if (s->o != NULL) s->o->len = (uint32_t)len;
  for (size_t i = 0; i < len; i++) bytes_of(s)[i] = (unsigned char)(tag + i);
}

static int intact(const slot *s) {
  if (s->o != NULL && s->o->len != s->len) return 0;
  for (size_t i = 0; i < s->len; i++)
    if (bytes_of(s)[i] != (unsigned char)(s->tag + i)) return 0;
  return 1;
}

static void test_random_sizes(void) {
  static slot slots[SLOTS];
  eheap h;
  int aligned = 1, whole = 1, got = 1;
  eheap_init(&h, NULL);
  CHECK(eheap_bytes(&h) == 0);
  for (int round = 0; round < ROUNDS; round++) {
    slot *s = &slots[next() % SLOTS];
    if (s->o != NULL || s->block != NULL) {
      whole &= intact(s);
      if (s->o != NULL) eheap_free(&h, s->o);
      else eheap_free_block(&h, s->block);
      s->o = NULL;
      s->block = NULL;
    } else {
      size_t len = some_len();
      if (next() % 4 == 0) {   /* a block: a tree node, say */
        s->block = eheap_alloc_block(&h, len + sizeof(eobj));
        got &= s->block != NULL;
        aligned &= (uintptr_t)s->block % 8 == 0;
        len += sizeof(eobj);
      } else {
        s->o = eheap_alloc(&h, len);
        got &= s->o != NULL;
        aligned &= (uintptr_t)s->o % 8 == 0;
      }
      if (s->o != NULL || s->block != NULL) fill(s, len, (unsigned char)round);
    }
  }
  CHECK(got);
  CHECK(aligned);
  CHECK(whole);
  for (int i = 0; i < SLOTS; i++) {
    if (slots[i].o != NULL || slots[i].block != NULL) CHECK(intact(&slots[i]));
    if (slots[i].o != NULL) eheap_free(&h, slots[i].o);
    if (slots[i].block != NULL) eheap_free_block(&h, slots[i].block);
    slots[i].o = NULL;
    slots[i].block = NULL;
  }
  /* Everything freed: at most one slab of each class is kept per shard
  ** (none bigger than the biggest, and fewer than 64 classes), and no
  ** large object. */
  CHECK(eheap_bytes(&h) <= 64 * (size_t)EHEAP_SLAB_MAX);
  eheap_destroy(&h);
  CHECK(eheap_bytes(&h) == 0);
}

/* Many objects of one size, freed: the slabs go back but one. */
static void test_slabs_go_back(void) {
  enum { N = 50000 };
  static eobj *objs[N];
  eheap h;
  size_t full;
  eheap_init(&h, NULL);
  for (int i = 0; i < N; i++) objs[i] = eheap_alloc(&h, 24);
  full = eheap_bytes(&h);
  CHECK(full >= (size_t)N * (sizeof(eobj) + 24));
  CHECK(full <= (size_t)N * (sizeof(eobj) + 24) * 5 / 4 + EHEAP_SLAB_MAX);   /* no malloc header each */
  for (int i = 0; i < N; i += 2) eheap_free(&h, objs[i]);
  for (int i = 1; i < N; i += 2) eheap_free(&h, objs[i]);
  CHECK(eheap_bytes(&h) <= EHEAP_SLAB_MAX);
  /* A large object counts its bytes, and gives them back. */
  objs[0] = eheap_alloc(&h, 100000);
  CHECK(objs[0] != NULL && objs[0]->home == 0);
  CHECK(eheap_bytes(&h) >= 100000);
  eheap_free(&h, objs[0]);
  CHECK(eheap_bytes(&h) <= EHEAP_SLAB_MAX);
  full = eheap_bytes(&h);             /* freeing nothing, as free(NULL) */
  eheap_free(&h, NULL);
  eheap_free_block(&h, NULL);
  CHECK(eheap_bytes(&h) == full);
  eheap_destroy(&h);
}

/* One heap's big slabs are the next one's, up to EHEAP_SPARES_MAX. */
static void test_spares(void) {
  enum { N = 200000 };
  static eobj *objs[N];
  eheap_spares spares;
  eheap a, b;
  size_t made, kept;
  eheap_spares_init(&spares);
  eheap_init(&a, &spares);
  for (int i = 0; i < N; i++) objs[i] = eheap_alloc(&a, 100);
  made = eheap_bytes(&a);
  eheap_destroy(&a);
  kept = eheap_spares_bytes(&spares);
  CHECK(kept > made / 2 && kept <= made);
  eheap_init(&b, &spares);
  for (int i = 0; i < N; i++) objs[i] = eheap_alloc(&b, 100);
  CHECK(eheap_spares_bytes(&spares) < kept / 4);   /* taken back, not malloc'd anew */
  for (int i = 0; i < N; i++) eheap_free(&b, objs[i]);
  CHECK(eheap_spares_bytes(&spares) > made / 2);
  eheap_destroy(&b);
  /* Past the bound, slabs go back to malloc. */
  {
    size_t n = EHEAP_SPARES_MAX / 200 * 2;
    eobj **many = malloc(n * sizeof *many);
    int all = many != NULL;
    eheap_init(&a, &spares);
    for (size_t i = 0; all && i < n; i++) all = (many[i] = eheap_alloc(&a, 200 - sizeof(eobj))) != NULL;
    CHECK(all);
    CHECK(eheap_bytes(&a) > EHEAP_SPARES_MAX);
    eheap_destroy(&a);
    CHECK(eheap_spares_bytes(&spares) == EHEAP_SPARES_MAX);
    free(many);
  }
  eheap_spares_destroy(&spares);
}

/* Two threads, each allocating objects and freeing the other's. */
enum { PASS = 20000, BATCH = 64 };

typedef struct side {
  eheap *h;
  slot out[BATCH];                 /* made here, for the other to free */
  pthread_mutex_t lock;
  pthread_cond_t ready;
  int full;
  struct side *other;
  int ok;
} side;

static void *trade(void *arg) {
  side *me = arg;
  me->ok = 1;
  for (int pass = 0; pass < PASS / BATCH; pass++) {
    slot mine[BATCH];
    for (int i = 0; i < BATCH; i++) {
      size_t len = (size_t)(pass * 7 + i * 13) % 300;
      mine[i].o = eheap_alloc(me->h, len);
      if (mine[i].o == NULL) {
        me->ok = 0;
        return NULL;
      }
      fill(&mine[i], len, (unsigned char)(pass + i));
    }
    pthread_mutex_lock(&me->lock);   /* hand the batch over */
    while (me->full) pthread_cond_wait(&me->ready, &me->lock);
    memcpy(me->out, mine, sizeof mine);
    me->full = 1;
    pthread_cond_broadcast(&me->ready);
    pthread_mutex_unlock(&me->lock);
    pthread_mutex_lock(&me->other->lock);   /* free the other's */
    while (!me->other->full) pthread_cond_wait(&me->other->ready, &me->other->lock);
    for (int i = 0; i < BATCH; i++) {
      if (!intact(&me->other->out[i])) me->ok = 0;
      eheap_free(me->h, me->other->out[i].o);
    }
    me->other->full = 0;
    pthread_cond_broadcast(&me->other->ready);
    pthread_mutex_unlock(&me->other->lock);
  }
  return NULL;
}

static void test_threads(void) {
  eheap_spares spares;
  eheap h;
  side a, b;
  pthread_t ta, tb;
  eheap_spares_init(&spares);
  eheap_init(&h, &spares);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  a.h = b.h = &h;
  a.other = &b;
  b.other = &a;
  pthread_mutex_init(&a.lock, NULL);
  pthread_mutex_init(&b.lock, NULL);
  pthread_cond_init(&a.ready, NULL);
  pthread_cond_init(&b.ready, NULL);
  CHECK(pthread_create(&ta, NULL, trade, &a) == 0);
  CHECK(pthread_create(&tb, NULL, trade, &b) == 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  CHECK(a.ok);
  CHECK(b.ok);
  CHECK(!a.full && !b.full);
  eheap_destroy(&h);
  eheap_spares_destroy(&spares);
  pthread_mutex_destroy(&a.lock);
  pthread_mutex_destroy(&b.lock);
  pthread_cond_destroy(&a.ready);
  pthread_cond_destroy(&b.ready);
}

#ifdef TEST_ASAN
/* Under AddressSanitizer (make check-asan), a freed object's slot and the
** bytes of a slot past what was asked for are poisoned. */
static void test_poisoned(void) {
  eheap h;
  eobj *a, *b;
  unsigned char *block;
  eheap_init(&h, NULL);
  a = eheap_alloc(&h, 20);            /* 44 bytes in a 48-byte slot */
  b = eheap_alloc(&h, 20);
  block = eheap_alloc_block(&h, 1000);
  CHECK(a != NULL && b != NULL && block != NULL);
  CHECK(!__asan_address_is_poisoned(a) && !__asan_address_is_poisoned(&a->data[19]));
  CHECK(__asan_address_is_poisoned(&a->data[20]));
  CHECK(!__asan_address_is_poisoned(&block[999]) && __asan_address_is_poisoned(&block[1000]));
  eheap_free(&h, b);
  CHECK(__asan_address_is_poisoned(b) && __asan_address_is_poisoned((char *)b + 40));
  eheap_free_block(&h, block);
  CHECK(__asan_address_is_poisoned(block));
  b = eheap_alloc(&h, 20);            /* the slot again, usable again */
  CHECK(b != NULL && !__asan_address_is_poisoned(&b->data[19]));
  eheap_free(&h, a);
  eheap_free(&h, b);
  eheap_destroy(&h);
}

/* An object of a heap gone, whose slab waits among the spares, is
** poisoned too. */
static void test_poisoned_spares(void) {
  enum { N = 3000 };                  /* past the small slabs: some of 64 KiB */
  static eobj *objs[N];
  eheap_spares spares;
  eheap h;
  eheap_spares_init(&spares);
  eheap_init(&h, &spares);
  for (int i = 0; i < N; i++) objs[i] = eheap_alloc(&h, 100);
  eheap_destroy(&h);
  CHECK(eheap_spares_bytes(&spares) > 0);
  CHECK(__asan_address_is_poisoned(objs[N - 1]));
  eheap_spares_destroy(&spares);
}
#endif

int main(void) {
  test_random_sizes();
  test_slabs_go_back();
  test_spares();
  test_threads();
#ifdef TEST_ASAN
  test_poisoned();
  test_poisoned_spares();
#endif
  return check_summary("eheap");
}
