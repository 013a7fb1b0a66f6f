/*
** htab.h — hash storage for set, bag and duplicate_bag tables.
**
** The table is 64 stripes, the stripe being the top 6 bits of the hash.
** Each stripe has its own reader-writer lock and its own storage, sized
** and grown on its own under its own write lock: growing one stripe never
** stops the others.
**
** A stripe's storage is an open-addressing array of slots {hash, object},
** kept sorted by (hash, key bytes) from end to end. A key's home slot is
** the next bits of its hash below the stripe's, so homes rise with the
** hash; an object sits at its home or after it, with every slot between
** taken (linear probing, ordered as in Robin Hood hashing), and the array
** ends in an overflow tail instead of wrapping around. So the whole table
** is in one stable order that no resize changes, a search reads slot
** hashes from the home on and follows an object pointer only when the
** hash matches, and objects with the same key are adjacent, in insertion
** order.
**
** A position is a slot index within the stripe of the object's hash; it
** stays valid until the stripe next changes. The caller locks; functions
** below assume the right lock is held (a write lock for any change).
*/
#ifndef HL_HTAB_H
#define HL_HTAB_H

#include <pthread.h>
#include <stdatomic.h>

#include "eheap.h"
#include "eobj.h"
#include "fault.h"
#include "rwlock.h"

#define HTAB_STRIPE_BITS 6
#define HTAB_STRIPES (1u << HTAB_STRIPE_BITS)

typedef struct hslot {
  uint64_t hash;      /* the object's, read before the object is */
  eobj *obj;          /* NULL: empty */
} hslot;

/* One stripe's storage. Every search reads the array's fields and only a
** growth writes them; the count, which every insert and delete writes,
** has a line of its own, so that a write on one thread does not take the
** array's line from another thread's cache (two threads inserting: 9 %
** less time an insert, bench/README.md, the twelfth run). */
typedef struct hpart {
  hslot *slots;
  size_t size;        /* slots: 1 << bits homes, then the overflow tail */
  unsigned bits;      /* 0 while no array is allocated */
  _Alignas(64) atomic_size_t count;   /* objects; written under the stripe's
                                         write lock, read without it by
                                         htab_count */
} hpart;

/* Aligned to a cache line, and so a whole number of them: stripes never
** share a line (whatever holds an htab must be allocated with its
** alignment). Three lines: the lock (it fills one with glibc; readers
** only read it while it is biased, rwlock.h), the array's fields, the
** count. */
typedef struct htab_stripe {
  _Alignas(64) rwlock lock;
  hpart p;
} htab_stripe;

/* No counter is shared by every writer: each stripe counts its own
** objects, in a cache line that only its writers write, so that two
** threads inserting into different stripes never wait on one line. */
typedef struct htab {
  htab_stripe stripes[HTAB_STRIPES];
  atomic_size_t bytes;        /* the slot arrays' (changes only on growth) */
  eheap *objs;                /* where the objects' memory comes from */
  fault_rate *fail_growth;    /* tests: a failing draw fails a growth as
                                 if out of memory; NULL: never */
} htab;

/* The objects stored are objs's, which clear and destroy free them into. */
int htab_init(htab *h, eheap *objs);                  /* 1: cannot fail */
void htab_destroy(htab *h);                           /* frees every object */
void htab_clear(htab *h);                             /* every stripe write-locked */
/* Objects in every stripe; needs no lock, and is exact whenever no write
** is under way. */
size_t htab_count(htab *h);

static inline unsigned htab_stripe_of(uint64_t hash) {
  return (unsigned)(hash >> (64 - HTAB_STRIPE_BITS));
}
void htab_lock(htab *h, unsigned stripe, int write);
void htab_unlock(htab *h, unsigned stripe);
void htab_lock_all(htab *h, int write);
void htab_unlock_all(htab *h);

/* The first object with this key, or NULL; *at is its slot, or where the
** first would go (the first slot holding a greater (hash, key), or empty). */
eobj *htab_find(htab *h, uint64_t hash, const unsigned char *key, size_t klen,
                size_t *at);
/* The object in slot at of the stripe of hash, when it has that hash. */
eobj *htab_at(htab *h, uint64_t hash, size_t at);

/* Makes room in a stripe for n more htab_link calls that will not
** allocate, growing it if need be (which moves its objects: positions
** found before are stale). 0 when there is no memory for the room it
** needs; nothing changed then. */
int htab_reserve(htab *h, unsigned stripe, size_t n);
/* Inserts o at slot at, which must follow every object ordered at or
** before o: where htab_find says the first of its key would go, or right
** after the last of its key. Needs room reserved. */
void htab_link(htab *h, size_t at, eobj *o);
/* Puts o (the same key) in the place of the object at slot at. */
void htab_replace(htab *h, size_t at, eobj *o);
/* Removes the object at slot at and returns it; the next one of its key,
** if any, is in slot at after. */
eobj *htab_unlink(htab *h, uint64_t hash, size_t at);

/* Ordered traversal within one stripe (its lock held). seek: the first
** object after (hash, key), or the stripe's first when key is NULL;
** seek_before: the last object before (hash, key), or the stripe's last;
** next: the object after slot *at. Each sets *at to the object's slot. */
eobj *htab_seek(htab *h, unsigned stripe, uint64_t hash,
                const unsigned char *key, size_t klen, size_t *at);
eobj *htab_seek_before(htab *h, unsigned stripe, uint64_t hash,
                       const unsigned char *key, size_t klen, size_t *at);
eobj *htab_next(htab *h, unsigned stripe, size_t *at);

/* Visits every object of a stripe (write lock held). fn returns the object
** to keep in its place: o itself, a replacement with the same key, or NULL
** to remove it (fn then owns o). */
typedef eobj *(*htab_rewrite_fn)(eobj *o, void *ud);
void htab_rewrite(htab *h, unsigned stripe, htab_rewrite_fn fn, void *ud);

/* (hash, key) order: <0, 0, >0. */
int htab_order(uint64_t ha, const unsigned char *ka, size_t kalen,
               uint64_t hb, const unsigned char *kb, size_t kblen);

#endif
