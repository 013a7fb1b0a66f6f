/*
** eheap.h — the memory of one table's objects.
**
** An object of up to EHEAP_SMALL bytes (its eobj header included) is cut
** from a slab the table owns, each slab holding one size class (8-byte
** steps to 256 bytes, then 64-byte ones); a larger one comes from
** malloc. The table's other blocks (an ordered_set's tree nodes) come
** from the same slabs, behind an 8-byte header. A slab goes back when its
** last slot is freed, and whatever is left when the heap is destroyed.
** So a table's objects lie together and carry no malloc header, and a
** table emptied of a million objects hands back a few hundred big blocks,
** not a million small ones that glibc keeps aside and must merge at some
** later, unrelated allocation.
**
** The biggest slabs a heap lets go are kept, up to EHEAP_SPARES_MAX bytes,
** as spares for any heap of the node: a table dropped and another filled
** (or one emptied and filled again) reuses memory that is already mapped,
** instead of faulting in fresh pages, which costs more than the objects'
** own work. So a node may hold that much beyond what its tables hold, as
** Erlang's allocators keep carriers; all of it goes when the node does.
**
** Any thread may allocate and free. A thread works in one of EHEAP_SHARDS
** shards of every heap (chosen once per thread), each with its own lock,
** so that two writers seldom share one; an object goes back to the shard
** that cut it. Since a shard's lock is nearly always free, it is a
** spinlock (spin.h): one exchange to take, a store to let go. While a
** shard's lock is held, the heap calls malloc and takes the spares' lock,
** and nothing else; nothing of the engine runs under either.
*/
#ifndef HL_EHEAP_H
#define HL_EHEAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "eobj.h"

#define EHEAP_SMALL 2048    /* larger objects and blocks come from malloc */
#define EHEAP_SHARDS 4
/* The biggest slab, and every spare's size: a slot's offset in it, in
** 8-byte units, fits an eobj's 32-bit home. */
#define EHEAP_SLAB_MAX 65536
#define EHEAP_SPARES_MAX ((size_t)64 << 20)

/* Free slabs of the biggest size, shared by the heaps of one node. */
typedef struct eheap_spares {
  pthread_mutex_t lock;
  void *top;          /* a stack, linked through the slabs' first bytes */
  size_t count;
} eheap_spares;

void eheap_spares_init(eheap_spares *s);
void eheap_spares_destroy(eheap_spares *s);   /* every heap using it is gone */
size_t eheap_spares_bytes(eheap_spares *s);

typedef struct eshard eshard;

typedef struct eheap {
  _Atomic(eshard *) shard[EHEAP_SHARDS];   /* made at the first allocation */
  atomic_size_t bytes;                     /* held from malloc */
  eheap_spares *spares;                    /* NULL: none kept */
} eheap;

/* spares may be NULL; it must outlive the heap. */
void eheap_init(eheap *h, eheap_spares *spares);
/* Frees every slab and large object: every object still allocated goes. */
void eheap_destroy(eheap *h);

/* An object with room for datalen bytes of data, its eobj_home set;
** NULL when memory runs out. */
eobj *eheap_alloc(eheap *h, size_t datalen);
void eheap_free(eheap *h, eobj *o);

/* A block of size bytes, aligned to 8; NULL when memory runs out. */
void *eheap_alloc_block(eheap *h, size_t size);
void eheap_free_block(eheap *h, void *block);

/* The bytes the heap holds from malloc: slabs (used or not) and large
** objects, headers included. */
size_t eheap_bytes(const eheap *h);

#endif
