/*
** htab.h — hash storage for set, bag and duplicate_bag tables.
**
** Buckets are chains kept sorted by (hash, key bytes), and a key's bucket
** is the top bits of its hash, so the whole table is in one stable order
** that survives resizing (a bucket splits in two, in order). Objects with
** the same key are adjacent, in insertion order.
**
** Locking is striped: 64 reader-writer locks, the stripe being the top 6
** bits of the hash. A stripe covers a contiguous run of buckets at every
** size, so one stripe lock guards all of a key's chain. Growing takes every
** stripe. The caller locks; functions below assume the right lock is held.
*/
#ifndef HL_HTAB_H
#define HL_HTAB_H

#include <pthread.h>
#include <stdatomic.h>

#include "eobj.h"

#define HTAB_STRIPE_BITS 6
#define HTAB_STRIPES (1u << HTAB_STRIPE_BITS)

typedef struct htab_stripe {
  pthread_rwlock_t lock;
  char pad[64 - sizeof(pthread_rwlock_t) % 64];
} htab_stripe;

typedef struct htab {
  htab_stripe stripes[HTAB_STRIPES];
  eobj **buckets;
  atomic_uint bits;           /* 1 << bits buckets; never below the stripes;
                                 atomic for the unlocked check before growing */
  atomic_size_t count;        /* objects */
} htab;

int htab_init(htab *h);                               /* 0 on out of memory */
void htab_destroy(htab *h);                           /* frees every object */
void htab_clear(htab *h);                             /* every stripe write-locked */

static inline unsigned htab_stripe_of(uint64_t hash) {
  return (unsigned)(hash >> (64 - HTAB_STRIPE_BITS));
}
void htab_lock(htab *h, unsigned stripe, int write);
void htab_unlock(htab *h, unsigned stripe);
void htab_lock_all(htab *h, int write);
void htab_unlock_all(htab *h);

/* The link where the objects with this key start, or where the first would
** go: *link is NULL or an object with a greater (hash, key). */
eobj **htab_find(htab *h, uint64_t hash, const unsigned char *key, size_t klen);
void htab_link(htab *h, eobj **link, eobj *o);        /* inserts o at link */
eobj *htab_unlink(htab *h, eobj **link);              /* removes *link */

/* Doubles the buckets when there are more objects than buckets; takes
** every stripe, so call it with no lock held. */
void htab_maybe_grow(htab *h);

/* Ordered traversal within one stripe (its lock held). seek: the first
** object after (hash, key), or the stripe's first when key is NULL;
** seek_before: the last object before (hash, key), or the stripe's last. */
eobj *htab_seek(htab *h, unsigned stripe, uint64_t hash,
                const unsigned char *key, size_t klen);
eobj *htab_seek_before(htab *h, unsigned stripe, uint64_t hash,
                       const unsigned char *key, size_t klen);
eobj *htab_next(htab *h, unsigned stripe, const eobj *o);

/* Visits every object of a stripe (write lock held). fn returns the object
** to keep in its place: o itself, a replacement with the same key, or NULL
** to remove it (fn then owns o). */
typedef eobj *(*htab_rewrite_fn)(eobj *o, void *ud);
void htab_rewrite(htab *h, unsigned stripe, htab_rewrite_fn fn, void *ud);

/* (hash, key) order: <0, 0, >0. */
int htab_order(uint64_t ha, const unsigned char *ka, size_t kalen,
               uint64_t hb, const unsigned char *kb, size_t kblen);

#endif
