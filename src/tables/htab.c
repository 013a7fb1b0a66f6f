/*
** htab.c — striped, ordered-chain hash storage (see htab.h).
*/
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "term.h"

#define HTAB_MIN_BITS HTAB_STRIPE_BITS

int htab_init(htab *h) {
  h->bits = HTAB_MIN_BITS;
  h->buckets = calloc((size_t)1 << h->bits, sizeof(eobj *));
  if (h->buckets == NULL) return 0;
  for (unsigned i = 0; i < HTAB_STRIPES; i++)
    pthread_rwlock_init(&h->stripes[i].lock, NULL);
  atomic_init(&h->count, 0);
  return 1;
}

static void free_chains(htab *h) {
  size_t n = (size_t)1 << h->bits;
  for (size_t i = 0; i < n; i++) {
    eobj *o = h->buckets[i];
    while (o != NULL) {
      eobj *next = o->next;
      free(o);
      o = next;
    }
    h->buckets[i] = NULL;
  }
  atomic_store(&h->count, 0);
}

void htab_clear(htab *h) {
  free_chains(h);
}

void htab_destroy(htab *h) {
  free_chains(h);
  free(h->buckets);
  h->buckets = NULL;
  for (unsigned i = 0; i < HTAB_STRIPES; i++)
    pthread_rwlock_destroy(&h->stripes[i].lock);
}

void htab_lock(htab *h, unsigned stripe, int write) {
  if (write) pthread_rwlock_wrlock(&h->stripes[stripe].lock);
  else pthread_rwlock_rdlock(&h->stripes[stripe].lock);
}

void htab_unlock(htab *h, unsigned stripe) {
  pthread_rwlock_unlock(&h->stripes[stripe].lock);
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

static size_t bucket_of(const htab *h, uint64_t hash) {
  return (size_t)(hash >> (64 - h->bits));
}

static int before(const eobj *o, uint64_t hash, const unsigned char *key, size_t klen) {
  return htab_order(o->hash, eobj_key(o), o->klen, hash, key, klen) < 0;
}

eobj **htab_find(htab *h, uint64_t hash, const unsigned char *key, size_t klen) {
  eobj **link = &h->buckets[bucket_of(h, hash)];
  while (*link != NULL && before(*link, hash, key, klen)) link = &(*link)->next;
  return link;
}

void htab_link(htab *h, eobj **link, eobj *o) {
  o->next = *link;
  *link = o;
  atomic_fetch_add(&h->count, 1);
}

eobj *htab_unlink(htab *h, eobj **link) {
  eobj *o = *link;
  *link = o->next;
  o->next = NULL;
  atomic_fetch_sub(&h->count, 1);
  return o;
}

/* Each old chain splits into a prefix (next top bit 0) and a suffix. */
static void grow(htab *h) {
  size_t n = (size_t)1 << h->bits;
  eobj **nb = calloc(n * 2, sizeof(eobj *));
  if (nb == NULL) return;   /* stay at this size: slower, still correct */
  for (size_t i = 0; i < n; i++) {
    eobj **tail = &nb[2 * i];
    eobj *o = h->buckets[i];
    while (o != NULL && ((o->hash >> (63 - h->bits)) & 1) == 0) {
      tail = &o->next;
      o = o->next;
    }
    *tail = NULL;
    nb[2 * i] = (tail == &nb[2 * i]) ? NULL : h->buckets[i];
    nb[2 * i + 1] = o;
  }
  free(h->buckets);
  h->buckets = nb;
  h->bits++;
}

/* Load factor 1: every chain step is a cache miss at scale. */
void htab_maybe_grow(htab *h) {
  if (atomic_load(&h->count) <= ((size_t)1 << h->bits) || h->bits >= 40) return;
  htab_lock_all(h, 1);
  if (atomic_load(&h->count) > ((size_t)1 << h->bits)) grow(h);
  htab_unlock_all(h);
}

static size_t stripe_first_bucket(const htab *h, unsigned stripe) {
  return (size_t)stripe << (h->bits - HTAB_STRIPE_BITS);
}

static size_t stripe_end_bucket(const htab *h, unsigned stripe) {
  return (size_t)(stripe + 1) << (h->bits - HTAB_STRIPE_BITS);
}

static eobj *first_from(const htab *h, size_t b, size_t end) {
  for (; b < end; b++)
    if (h->buckets[b] != NULL) return h->buckets[b];
  return NULL;
}

eobj *htab_seek(htab *h, unsigned stripe, uint64_t hash,
                const unsigned char *key, size_t klen) {
  size_t end = stripe_end_bucket(h, stripe);
  size_t b;
  eobj *o;
  if (key == NULL) return first_from(h, stripe_first_bucket(h, stripe), end);
  b = bucket_of(h, hash);
  for (o = h->buckets[b]; o != NULL; o = o->next)
    if (htab_order(o->hash, eobj_key(o), o->klen, hash, key, klen) > 0) return o;
  return first_from(h, b + 1, end);
}

eobj *htab_seek_before(htab *h, unsigned stripe, uint64_t hash,
                       const unsigned char *key, size_t klen) {
  size_t first = stripe_first_bucket(h, stripe);
  size_t b = key == NULL ? stripe_end_bucket(h, stripe) : bucket_of(h, hash) + 1;
  while (b-- > first) {
    eobj *last = NULL;
    for (eobj *o = h->buckets[b]; o != NULL; o = o->next) {
      if (key != NULL && !before(o, hash, key, klen)) break;
      last = o;
    }
    if (last != NULL) return last;
  }
  return NULL;
}

eobj *htab_next(htab *h, unsigned stripe, const eobj *o) {
  if (o->next != NULL) return o->next;
  return first_from(h, bucket_of(h, o->hash) + 1, stripe_end_bucket(h, stripe));
}

void htab_rewrite(htab *h, unsigned stripe, htab_rewrite_fn fn, void *ud) {
  size_t end = stripe_end_bucket(h, stripe);
  for (size_t b = stripe_first_bucket(h, stripe); b < end; b++) {
    eobj **link = &h->buckets[b];
    while (*link != NULL) {
      eobj *o = *link, *next = o->next;
      eobj *r = fn(o, ud);
      if (r == NULL) {
        *link = next;
        atomic_fetch_sub(&h->count, 1);
        continue;
      }
      if (r != o) {
        r->next = next;
        *link = r;
      }
      link = &r->next;
    }
  }
}
