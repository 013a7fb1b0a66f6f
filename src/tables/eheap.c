/*
** eheap.c — the memory of one table's objects (see eheap.h).
**
** A slab is a header and slots of one size. Its free slots are a list
** threaded through them, and slots never used yet lie past `fresh`; a
** slab with a free slot is on its shard's list for its class, a full one
** only on the shard's list of every slab. An object finds its slab from
** eobj.home, its offset in the slab in 8-byte units (0: a large object,
** which has a `large` header in front instead). A shard's first slab of a
** class is small (1 KiB, or two slots) and each next one twice as big, up
** to EHEAP_SLAB_MAX, so a table of a few objects holds a few KiB. Slabs of
** EHEAP_SLAB_MAX bytes go to the spares when let go, and come from them
** first.
**
** Under AddressSanitizer every slot not handed out, and the bytes of a
** slot past what was asked for, are poisoned, so that a use after free or
** an overrun of an object is reported as it would be with malloc.
*/
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "eheap.h"
#include "spin.h"

#if defined(__SANITIZE_ADDRESS__)
#define EHEAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EHEAP_ASAN 1
#endif
#endif
#ifdef EHEAP_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define GRAIN 8                      /* bytes between two small size classes */
#define SMALLEST 32                  /* an eobj and a few bytes */
#define FINE_MAX 256                 /* then 64 bytes between two classes */
#define COARSE_GRAIN 64
#define FINE_CLASSES ((FINE_MAX - SMALLEST) / GRAIN + 1)
#define NCLASSES (FINE_CLASSES + (EHEAP_SMALL - FINE_MAX) / COARSE_GRAIN)
#define SLAB_MIN 1024
#define SLAB_FIRST_SLOTS 2           /* at least, in a shard's first slab of a class */
#define SPARES_MAX (EHEAP_SPARES_MAX / EHEAP_SLAB_MAX)

typedef struct slab slab;

struct slab {
  slab *prev, *next;           /* the shard's slabs of this class with room */
  slab *all_prev, *all_next;   /* every slab of the shard */
  eshard *shard;
  void *free;                  /* freed slots, linked through their first bytes */
  uint32_t size;               /* bytes, this header included */
  uint32_t slot;               /* bytes per object */
  uint32_t used;               /* objects allocated */
  uint32_t fresh;              /* offset of the first slot never used */
  int cls;
};

typedef struct large {
  struct large *prev, *next;   /* the shard's large objects */
  eshard *shard;
  size_t size;                 /* bytes, this header included */
} large;

struct eshard {
  spinlock lock;                 /* nearly always free: one thread mostly uses it */
  slab *room[NCLASSES];        /* slabs with a free slot, by class */
  uint32_t next_size[NCLASSES];
  slab *all;
  large *big;
};

#define SLOTS_AT ((sizeof(slab) + GRAIN - 1) / GRAIN * GRAIN)

static_assert(sizeof(large) % GRAIN == 0, "a large slot is aligned");
static_assert((EHEAP_SMALL - FINE_MAX) % COARSE_GRAIN == 0, "the last class is EHEAP_SMALL");

static void poison(void *p, size_t n) {
#ifdef EHEAP_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

static void unpoison(void *p, size_t n) {
#ifdef EHEAP_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

static uint32_t slot_bytes(int cls) {
  if (cls < FINE_CLASSES) return (uint32_t)(SMALLEST + cls * GRAIN);
  return (uint32_t)(FINE_MAX + (cls - FINE_CLASSES + 1) * COARSE_GRAIN);
}

/* ---- spare slabs ---- */

void eheap_spares_init(eheap_spares *s) {
  pthread_mutex_init(&s->lock, NULL);
  s->top = NULL;
  s->count = 0;
}

void eheap_spares_destroy(eheap_spares *s) {
  while (s->top != NULL) {
    void *next = *(void **)s->top;
    unpoison(s->top, EHEAP_SLAB_MAX);
    free(s->top);
    s->top = next;
  }
  s->count = 0;
  pthread_mutex_destroy(&s->lock);
}

size_t eheap_spares_bytes(eheap_spares *s) {
  size_t n;
  pthread_mutex_lock(&s->lock);
  n = s->count;
  pthread_mutex_unlock(&s->lock);
  return n * EHEAP_SLAB_MAX;
}

static void *slab_malloc(eheap *h, size_t size) {
  eheap_spares *s = h->spares;
  void *p = NULL;
  if (s != NULL && size == EHEAP_SLAB_MAX) {
    pthread_mutex_lock(&s->lock);
    if ((p = s->top) != NULL) {
      s->top = *(void **)p;
      s->count--;
    }
    pthread_mutex_unlock(&s->lock);
    if (p != NULL) unpoison(p, size);
  }
  return p != NULL ? p : malloc(size);
}

/* A slab of h's goes: to the spares, or back to malloc. */
static void slab_release(eheap *h, slab *gone) {
  eheap_spares *s = h->spares;
  size_t size = gone->size;
  void *p = gone;
  atomic_fetch_sub_explicit(&h->bytes, size, memory_order_relaxed);
  unpoison(p, size);
  if (s != NULL && size == EHEAP_SLAB_MAX) {
    pthread_mutex_lock(&s->lock);
    if (s->count < SPARES_MAX) {
      *(void **)p = s->top;
      poison((char *)p + sizeof(void *), size - sizeof(void *));   /* its old objects' */
      s->top = p;
      s->count++;
      p = NULL;
    }
    pthread_mutex_unlock(&s->lock);
  }
  free(p);
}

/* ---- heaps ---- */

void eheap_init(eheap *h, eheap_spares *spares) {
  for (int i = 0; i < EHEAP_SHARDS; i++) atomic_init(&h->shard[i], NULL);
  atomic_init(&h->bytes, 0);
  h->spares = spares;
}

static void shard_free(eheap *h, eshard *sh) {
  for (slab *s = sh->all; s != NULL;) {
    slab *next = s->all_next;
    slab_release(h, s);
    s = next;
  }
  for (large *l = sh->big; l != NULL;) {
    large *next = l->next;
    free(l);
    l = next;
  }
  free(sh);
}

void eheap_destroy(eheap *h) {
  for (int i = 0; i < EHEAP_SHARDS; i++) {
    eshard *sh = atomic_load_explicit(&h->shard[i], memory_order_acquire);
    if (sh != NULL) shard_free(h, sh);
    atomic_store_explicit(&h->shard[i], NULL, memory_order_relaxed);
  }
  atomic_store(&h->bytes, 0);
}

size_t eheap_bytes(const eheap *h) {
  return atomic_load_explicit(&h->bytes, memory_order_relaxed);
}

/* ---- shards ---- */

static atomic_uint shard_turn;
static _Thread_local unsigned my_shard = EHEAP_SHARDS;

/* The calling thread's shard of h, made when first needed; NULL when
** memory runs out. */
static eshard *shard_of(eheap *h) {
  eshard *sh, *none = NULL;
  if (my_shard == EHEAP_SHARDS) my_shard = atomic_fetch_add(&shard_turn, 1) % EHEAP_SHARDS;
  sh = atomic_load_explicit(&h->shard[my_shard], memory_order_acquire);
  if (sh != NULL) return sh;
  if ((sh = calloc(1, sizeof *sh)) == NULL) return NULL;
  spin_init(&sh->lock);
  for (int c = 0; c < NCLASSES; c++) {
    uint32_t size = (uint32_t)SLOTS_AT + SLAB_FIRST_SLOTS * slot_bytes(c);
    sh->next_size[c] = size < SLAB_MIN ? SLAB_MIN : size;
  }
  /* release: the shard's fields, for the others' acquire */
  if (atomic_compare_exchange_strong_explicit(&h->shard[my_shard], &none, sh,
                                              memory_order_acq_rel, memory_order_acquire))
    return sh;
  shard_free(h, sh);   /* another thread made it first: sh has nothing */
  return none;
}

/* ---- slabs (the shard's lock held) ---- */

static void room_push(eshard *sh, slab *s) {
  s->prev = NULL;
  s->next = sh->room[s->cls];
  if (s->next != NULL) s->next->prev = s;
  sh->room[s->cls] = s;
}

static void room_remove(eshard *sh, slab *s) {
  if (s->prev != NULL) s->prev->next = s->next;
  else sh->room[s->cls] = s->next;
  if (s->next != NULL) s->next->prev = s->prev;
}

static int has_room(const slab *s) {
  return s->free != NULL || s->fresh + s->slot <= s->size;
}

static slab *slab_new(eheap *h, eshard *sh, int cls) {
  uint32_t size = sh->next_size[cls];
  slab *s = slab_malloc(h, size);
  if (s == NULL) return NULL;
  s->shard = sh;
  s->free = NULL;
  s->size = size;
  s->slot = slot_bytes(cls);
  s->used = 0;
  s->fresh = (uint32_t)SLOTS_AT;
  s->cls = cls;
  poison((char *)s + SLOTS_AT, size - SLOTS_AT);
  s->all_prev = NULL;
  s->all_next = sh->all;
  if (sh->all != NULL) sh->all->all_prev = s;
  sh->all = s;
  room_push(sh, s);
  sh->next_size[cls] = size < EHEAP_SLAB_MAX / 2 ? size * 2 : EHEAP_SLAB_MAX;
  atomic_fetch_add_explicit(&h->bytes, size, memory_order_relaxed);
  return s;
}

static void slab_unlink(eshard *sh, slab *s) {
  room_remove(sh, s);
  if (s->all_prev != NULL) s->all_prev->all_next = s->all_next;
  else sh->all = s->all_next;
  if (s->all_next != NULL) s->all_next->all_prev = s->all_prev;
}

static void *slab_take(eshard *sh, slab *s, size_t bytes) {
  char *p;
  if (s->free != NULL) {
    p = s->free;
    unpoison(p, sizeof(void *));
    s->free = *(void **)p;
    poison(p, s->slot);
  } else {
    p = (char *)s + s->fresh;
    s->fresh += s->slot;
  }
  s->used++;
  if (!has_room(s)) room_remove(sh, s);
  unpoison(p, bytes);
  return p;
}

/* ---- slots ---- */

static int class_of(size_t bytes) {
  if (bytes <= SMALLEST) return 0;
  if (bytes <= FINE_MAX) return (int)((bytes - SMALLEST + GRAIN - 1) / GRAIN);
  return FINE_CLASSES + (int)((bytes - FINE_MAX - 1) / COARSE_GRAIN);
}

/* A large slot: malloc'd alone, behind a header that keeps it on its
** shard's list. */
static void *large_alloc(eheap *h, size_t bytes) {
  eshard *sh = shard_of(h);
  large *l;
  if (sh == NULL || bytes > SIZE_MAX - sizeof *l) return NULL;
  if ((l = malloc(sizeof *l + bytes)) == NULL) return NULL;
  l->shard = sh;
  l->size = sizeof *l + bytes;
  spin_lock(&sh->lock);
  l->prev = NULL;
  l->next = sh->big;
  if (sh->big != NULL) sh->big->prev = l;
  sh->big = l;
  spin_unlock(&sh->lock);
  atomic_fetch_add_explicit(&h->bytes, l->size, memory_order_relaxed);
  return l + 1;
}

static void large_free(eheap *h, void *p) {
  large *l = (large *)p - 1;
  eshard *sh = l->shard;
  spin_lock(&sh->lock);
  if (l->prev != NULL) l->prev->next = l->next;
  else sh->big = l->next;
  if (l->next != NULL) l->next->prev = l->prev;
  spin_unlock(&sh->lock);
  atomic_fetch_sub_explicit(&h->bytes, l->size, memory_order_relaxed);
  free(l);
}

/* A slot of at least `bytes`, and in *home where it lies (0: large). */
static void *slot_alloc(eheap *h, size_t bytes, uint32_t *home) {
  int cls;
  eshard *sh;
  slab *s;
  void *p = NULL;
  if (bytes > EHEAP_SMALL) {
    *home = 0;
    return large_alloc(h, bytes);
  }
  cls = class_of(bytes);
  if ((sh = shard_of(h)) == NULL) return NULL;
  spin_lock(&sh->lock);
  s = sh->room[cls];
  if (s == NULL) s = slab_new(h, sh, cls);
  if (s != NULL) {
    p = slab_take(sh, s, bytes);
    *home = (uint32_t)((size_t)((char *)p - (char *)s) / GRAIN);
  }
  spin_unlock(&sh->lock);
  return p;
}

/* The slot goes back on its slab's list; a slab left empty goes back
** (to the spares, or to malloc) unless it is its class's only one with
** room (so that one object made and freed over and over does not make a
** slab each time). */
static void slot_free(eheap *h, void *p, uint32_t home) {
  slab *s, *gone = NULL;
  eshard *sh;
  if (home == 0) {
    large_free(h, p);
    return;
  }
  s = (slab *)((char *)p - (size_t)home * GRAIN);
  sh = s->shard;
  spin_lock(&sh->lock);
  if (!has_room(s)) room_push(sh, s);
  unpoison(p, sizeof(void *));
  *(void **)p = s->free;
  s->free = p;
  poison(p, s->slot);
  if (--s->used == 0 && (s->prev != NULL || s->next != NULL)) {
    slab_unlink(sh, s);
    gone = s;
  }
  spin_unlock(&sh->lock);
  if (gone != NULL) slab_release(h, gone);
}

/* ---- objects and blocks ---- */

/* A block's header: where its slot lies. */
typedef struct bhead {
  uint32_t home;
  uint32_t unused;
} bhead;

eobj *eheap_alloc(eheap *h, size_t datalen) {
  uint32_t home;
  eobj *o;
  if (datalen > SIZE_MAX - sizeof(eobj)) return NULL;
  if ((o = slot_alloc(h, sizeof(eobj) + datalen, &home)) == NULL) return NULL;
  o->home = home;
  return o;
}

void eheap_free(eheap *h, eobj *o) {
  if (o != NULL) slot_free(h, o, o->home);
}

void *eheap_alloc_block(eheap *h, size_t size) {
  uint32_t home;
  bhead *b;
  if (size > SIZE_MAX - sizeof(bhead)) return NULL;
  if ((b = slot_alloc(h, sizeof(bhead) + size, &home)) == NULL) return NULL;
  b->home = home;
  return b + 1;
}

void eheap_free_block(eheap *h, void *block) {
  bhead *b;
  if (block == NULL) return;
  b = (bhead *)block - 1;
  slot_free(h, b, b->home);
}
