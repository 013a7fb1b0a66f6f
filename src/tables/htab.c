/*
** htab.c — striped, ordered open-addressing hash storage (see htab.h).
**
** Invariants of a stripe's array, kept by every change: the objects are
** sorted by (hash, key bytes); each is at its home slot or after it; every
** slot from an object's home to the object is taken. Hence an object found
** before slot home(H) has a smaller hash than H, an empty slot ends every
** search, and the tail only ever holds a run that started before it: its
** taken slots come first, its empty ones last.
*/
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "term.h"

static_assert(offsetof(htab_stripe, p.count) / 64 != offsetof(htab_stripe, p.bits) / 64,
              "a stripe's count is on a line apart from its array's fields (htab.h)");

#define HTAB_MIN_BITS 3      /* 8 homes: a stripe's first array */
#define HTAB_MAX_BITS 40     /* of the 58 hash bits below the stripe's */

/* Load factor 3/4 of the homes. Looking a key up then reads about
** (1 + 1/(1-a))/2 = 2.5 slots at worst, four to a cache line: mostly one
** line, and the one object that matches. An insert shifts the run after
** its place to the next empty slot, about (1 + 1/(1-a)^2)/2 = 8.5 slots
** at worst. 7/8 would save a sixth of the slot memory for 4.5 slots read
** and 32 shifted. Between growths a stripe is 3/8 to 3/4 full: 21 to 43
** bytes of slots per object. */
static size_t max_load(unsigned bits) {
  size_t homes = bits == 0 ? 0 : (size_t)1 << bits;
  return homes - homes / 4;
}

/* Room past the last home for the run that reaches it: a few dozen slots
** at this load with any hash that spreads keys; more only when many
** objects share a hash (a bag's key), and then the stripe makes more. */
static size_t tail_for(unsigned bits) {
  return ((size_t)1 << bits) / 32 + 16;
}

static size_t home_of(unsigned bits, uint64_t hash) {
  return (size_t)((hash << HTAB_STRIPE_BITS) >> (64 - bits));
}

static hpart *part_of(htab *h, uint64_t hash) {
  return &h->stripes[htab_stripe_of(hash)].p;
}

int htab_init(htab *h, eheap *objs) {
  for (unsigned i = 0; i < HTAB_STRIPES; i++) {
    rwlock_init(&h->stripes[i].lock);
    h->stripes[i].p.slots = NULL;
    h->stripes[i].p.size = 0;
    h->stripes[i].p.bits = 0;
    atomic_init(&h->stripes[i].p.count, 0);
  }
  atomic_init(&h->bytes, 0);
  h->objs = objs;
  h->fail_growth = NULL;
  return 1;
}

/* A scan reads the slots in order but their objects anywhere in memory:
** asking for the object a few slots ahead lets its miss overlap the work
** on this one. Every slot passed asks for the one SCAN_AHEAD after it, so
** each object is asked for once, however the full slots lie. Freeing
** every object is such a pass too. */
#define SCAN_AHEAD 8

/* The object of slot i, or NULL (empty, or past the end). */
static const eobj *obj_at(const hpart *p, size_t i) {
  return i < p->size ? p->slots[i].obj : NULL;
}

/* Frees every object and every array: the table as new. */
static void free_all(htab *h) {
  for (unsigned i = 0; i < HTAB_STRIPES; i++) {
    hpart *p = &h->stripes[i].p;
    for (size_t j = 0; j < p->size; j++) {
      const eobj *ahead = obj_at(p, j + SCAN_AHEAD);
      if (ahead != NULL) __builtin_prefetch(ahead, 1);   /* its free writes to it */
      eheap_free(h->objs, p->slots[j].obj);
    }
    free(p->slots);
    p->slots = NULL;
    p->size = 0;
    p->bits = 0;
    atomic_store_explicit(&p->count, 0, memory_order_relaxed);   /* htab_count reads it */
  }
  atomic_store(&h->bytes, 0);
}

/* The stripe's count: read or written by its lock's holder, relaxed (the
** lock orders it); htab_count's lock-free sum reads it relaxed too. */
static size_t part_count(const hpart *p) {
  return atomic_load_explicit(&p->count, memory_order_relaxed);
}

static void part_count_add(hpart *p, size_t delta) {
  atomic_store_explicit(&p->count, part_count(p) + delta, memory_order_relaxed);
}

size_t htab_count(htab *h) {
  size_t n = 0;
  for (unsigned i = 0; i < HTAB_STRIPES; i++) n += part_count(&h->stripes[i].p);
  return n;
}

void htab_clear(htab *h) {
  free_all(h);
}

void htab_destroy(htab *h) {
  free_all(h);
  for (unsigned i = 0; i < HTAB_STRIPES; i++)
    rwlock_destroy(&h->stripes[i].lock);
}

void htab_lock(htab *h, unsigned stripe, int write) {
  if (write) rwlock_wrlock(&h->stripes[stripe].lock);
  else rwlock_rdlock(&h->stripes[stripe].lock);
}

void htab_unlock(htab *h, unsigned stripe) {
  rwlock_unlock(&h->stripes[stripe].lock);
}

void htab_lock_all(htab *h, int write) {
  for (unsigned i = 0; i < HTAB_STRIPES; i++) htab_lock(h, i, write);
}

void htab_unlock_all(htab *h) {
  for (unsigned i = HTAB_STRIPES; i-- > 0;) htab_unlock(h, i);
}

int htab_order(uint64_t ha, const unsigned char *ka, size_t kalen,
               uint64_t hb, const unsigned char *kb, size_t kblen) {
  if (ha != hb) return ha < hb ? -1 : 1;
  return term_compare(ka, kalen, kb, kblen);
}

/* The slot's object against (hash, key): <0, 0, >0. */
static int slot_order(const hslot *s, uint64_t hash, const unsigned char *key, size_t klen) {
  if (s->hash != hash) return s->hash < hash ? -1 : 1;
  return term_compare(eobj_key(s->obj), s->obj->klen, key, klen);
}

/* ---- growing ---- */

/* Places p's objects, in order, over 1 << bits homes: each at its home or
** right after the one before, into the n slots of `to` (those that fit).
** Returns the end. */
static size_t lay_out(const hpart *p, unsigned bits, hslot *to, size_t n) {
  size_t end = 0;
  for (size_t i = 0; i < p->size; i++) {
    size_t at;
    if (p->slots[i].obj == NULL) continue;
    at = home_of(bits, p->slots[i].hash);
    if (at < end) at = end;
    if (at < n) to[at] = p->slots[i];
    end = at + 1;
  }
  return end;
}

/* A new array of 1 << bits homes with at least `room` empty slots at its
** end. 0 when there is no memory: p is then as it was. */
static int resize(htab *h, hpart *p, unsigned bits, size_t room) {
  size_t size = ((size_t)1 << bits) + (room > tail_for(bits) ? room : tail_for(bits)), end;
  hslot *slots;
  if (h->fail_growth != NULL && fault_draw(h->fail_growth)) return 0;
  slots = calloc(size, sizeof *slots);
  if (slots == NULL) return 0;
  end = lay_out(p, bits, slots, size);
  if (end + room > size) {   /* a run past the tail (many objects of one hash): fit it */
    free(slots);
    size = end + room;
    slots = calloc(size, sizeof *slots);
    if (slots == NULL) return 0;
    lay_out(p, bits, slots, size);
  }
  atomic_fetch_add(&h->bytes, size * sizeof *slots);
  atomic_fetch_sub(&h->bytes, p->size * sizeof *slots);
  free(p->slots);
  p->slots = slots;
  p->size = size;
  p->bits = bits;
  return 1;
}

/* n links can each shift a run into an empty slot at the end. */
static int has_room(const hpart *p, size_t n) {
  if (n > p->size) return 0;
  for (size_t i = p->size - n; i < p->size; i++)
    if (p->slots[i].obj != NULL) return 0;
  return 1;
}

int htab_reserve(htab *h, unsigned stripe, size_t n) {
  hpart *p = &h->stripes[stripe].p;
  if (part_count(p) + n > max_load(p->bits) && p->bits < HTAB_MAX_BITS) {
    unsigned bits = p->bits < HTAB_MIN_BITS ? HTAB_MIN_BITS : p->bits + 1;
    while (part_count(p) + n > max_load(bits) && bits < HTAB_MAX_BITS) bits++;
    resize(h, p, bits, n);   /* failing, the stripe stays as it is: slower, still right */
  }
  if (has_room(p, n)) return 1;
  return resize(h, p, p->bits < HTAB_MIN_BITS ? HTAB_MIN_BITS : p->bits, n);
}

/* ---- finding and changing ---- */

eobj *htab_find(htab *h, uint64_t hash, const unsigned char *key, size_t klen,
                size_t *at) {
  const hpart *p = part_of(h, hash);
  size_t i = p->size == 0 ? 0 : home_of(p->bits, hash);
  for (; i < p->size; i++) {
    const hslot *s = &p->slots[i];
    if (s->obj == NULL || s->hash > hash) break;
    if (s->hash < hash) continue;
    if (eobj_has_key(s->obj, hash, key, klen)) {
      *at = i;
      return s->obj;
    }
    if (term_compare(eobj_key(s->obj), s->obj->klen, key, klen) >= 0) break;
  }
  *at = i;
  return NULL;
}

eobj *htab_at(htab *h, uint64_t hash, size_t at) {
  const hpart *p = part_of(h, hash);
  if (at >= p->size || p->slots[at].hash != hash) return NULL;
  return p->slots[at].obj;
}

void htab_link(htab *h, size_t at, eobj *o) {
  hpart *p = part_of(h, o->hash);
  size_t empty = at;
  while (p->slots[empty].obj != NULL) empty++;   /* the reserved room ends it */
  memmove(&p->slots[at + 1], &p->slots[at], (empty - at) * sizeof *p->slots);
  p->slots[at] = (hslot){o->hash, o};
  part_count_add(p, 1);
}

void htab_replace(htab *h, size_t at, eobj *o) {
  part_of(h, o->hash)->slots[at].obj = o;
}

/* Backward shift: the run after slot at moves down one, up to an empty
** slot or an object already at its home. */
static eobj *remove_at(hpart *p, size_t at) {
  eobj *o = p->slots[at].obj;
  size_t end = at + 1;
  while (end < p->size && p->slots[end].obj != NULL &&
         home_of(p->bits, p->slots[end].hash) < end)
    end++;
  memmove(&p->slots[at], &p->slots[at + 1], (end - at - 1) * sizeof *p->slots);
  p->slots[end - 1] = (hslot){0, NULL};
  part_count_add(p, (size_t)-1);
  return o;
}

eobj *htab_unlink(htab *h, uint64_t hash, size_t at) {
  return remove_at(part_of(h, hash), at);
}

/* ---- traversal ---- */

/* The object a walk's next step will want: the first after slot i
** (dir 1) or before it (-1), looked for among the BESIDE slots next to
** it, where it mostly is. NULL if none is there. */
#define BESIDE 4

static const eobj *obj_beside(const hpart *p, size_t i, int dir) {
  for (size_t k = 1; k <= BESIDE; k++) {
    const eobj *o;
    if (dir < 0 && k > i) break;
    o = obj_at(p, dir > 0 ? i + k : i - k);
    if (o != NULL) return o;
  }
  return NULL;
}

eobj *htab_seek(htab *h, unsigned stripe, uint64_t hash,
                const unsigned char *key, size_t klen, size_t *at) {
  const hpart *p = &h->stripes[stripe].p;
  size_t i = key == NULL || p->size == 0 ? 0 : home_of(p->bits, hash);
  for (; i < p->size; i++) {
    const hslot *s = &p->slots[i];
    if (s->obj != NULL && (key == NULL || slot_order(s, hash, key, klen) > 0)) {
      const eobj *next = obj_beside(p, i, 1);   /* a walk's next step: its miss starts now */
      if (next != NULL) __builtin_prefetch(next);
      *at = i;
      return s->obj;
    }
  }
  return NULL;
}

eobj *htab_seek_before(htab *h, unsigned stripe, uint64_t hash,
                       const unsigned char *key, size_t klen, size_t *at) {
  const hpart *p = &h->stripes[stripe].p;
  size_t i = p->size;
  if (key != NULL && p->size > 0) {   /* what is before home(hash) is before the key */
    i = home_of(p->bits, hash);
    while (i < p->size && p->slots[i].obj != NULL && slot_order(&p->slots[i], hash, key, klen) < 0)
      i++;
  }
  while (i-- > 0)
    if (p->slots[i].obj != NULL) {
      const eobj *prev = obj_beside(p, i, -1);
      if (prev != NULL) __builtin_prefetch(prev);
      *at = i;
      return p->slots[i].obj;
    }
  return NULL;
}

eobj *htab_next(htab *h, unsigned stripe, size_t *at) {
  const hpart *p = &h->stripes[stripe].p;
  for (size_t i = *at + 1; i < p->size; i++) {
    const eobj *ahead = obj_at(p, i + SCAN_AHEAD);
    if (ahead != NULL) __builtin_prefetch(ahead);
    if (p->slots[i].obj != NULL) {
      *at = i;
      return p->slots[i].obj;
    }
  }
  return NULL;
}

void htab_rewrite(htab *h, unsigned stripe, htab_rewrite_fn fn, void *ud) {
  hpart *p = &h->stripes[stripe].p;
  size_t i = 0;
  while (i < p->size) {
    const eobj *ahead = obj_at(p, i + SCAN_AHEAD);
    eobj *r;
    if (ahead != NULL) __builtin_prefetch(ahead);
    if (p->slots[i].obj == NULL) {
      i++;
      continue;
    }
    r = fn(p->slots[i].obj, ud);
    if (r == NULL) {
      remove_at(p, i);   /* slot i now holds the next, not yet seen, or nothing */
      continue;
    }
    p->slots[i++].obj = r;
  }
}
