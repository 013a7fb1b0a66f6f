/*
** oset.h — ordered storage for ordered_set tables: a B+tree ordered by the
** keys' encoded bytes (term order). Leaves hold, for each object, the
** first 8 key bytes as a number beside the object pointer, so a search
** compares numbers inside a few cache lines per level and reads a key
** itself only when two prefixes are equal. Leaves are linked both ways
** for walks.
**
** Objects are plain allocations; the tree points at them. An object stays
** where it is while linked, so a pointer found under the lock stays good
** while the lock is held.
**
** One reader-writer lock per tree: readers run side by side, writers one
** at a time. A table is one tree or several (ocat.h: each base of its
** contention-adapting layer is a tree), which takes, tries and releases
** the tree's `lock` itself; functions below assume it is held. The code is in oset.c and, for whole-tree work,
** obulk.c.
*/
#ifndef HL_OSET_H
#define HL_OSET_H

#include <pthread.h>
#include <stdatomic.h>

#include "eheap.h"
#include "eobj.h"
#include "rwlock.h"

typedef struct onode onode;     /* a node of either kind */
typedef struct oleaf oleaf;

typedef struct oset {
  rwlock lock;                  /* its own cache line (rwlock.h) */
  /* Read by every search, written seldom (root and height only when the
  ** root splits or goes): a line that writers on other threads leave in
  ** this thread's cache. */
  onode *root;                  /* NULL when empty */
  int height;                   /* inner levels above the leaves */
  uint64_t id;                  /* no other tree's, ever: oset_step_* */
  atomic_int shares;            /* trees its table is cut into (ocat.h sets
                                   it; 1 alone): descend's fetch-ahead */
  eheap *objs;                  /* where the objects' memory comes from */
  /* Written by every insert and delete, on a line of their own. */
  _Alignas(64) atomic_size_t count;
  atomic_size_t node_bytes;     /* the nodes' (objects are the table's to
                                   count); written under the write lock */
  oleaf *hint;                  /* oset_find_to_insert's answer: where */
  int hint_at;                  /* its key goes (NULL once anything changes) */
  uint64_t changes;             /* moves of entries so far (write lock) */
} oset;

/* The first 8 key bytes, big-endian, zero-padded. A smaller prefix means
** a smaller key (term order is memcmp, then length), so only equal
** prefixes need the keys themselves. */
static inline uint64_t oset_prefix(const unsigned char *key, size_t klen) {
  uint64_t p = 0;
  if (klen >= 8)   /* written out, compilers make this one load */
    return (uint64_t)key[0] << 56 | (uint64_t)key[1] << 48 | (uint64_t)key[2] << 40 |
           (uint64_t)key[3] << 32 | (uint64_t)key[4] << 24 | (uint64_t)key[5] << 16 |
           (uint64_t)key[6] << 8 | key[7];
  for (size_t i = 0; i < 8; i++) p = p << 8 | (i < klen ? key[i] : 0);
  return p;
}

/* The objects stored are objs's, which clear and destroy free them into. */
int oset_init(oset *o, eheap *objs);    /* 1; 0 on failure */
void oset_destroy(oset *o);             /* frees every object */
void oset_clear(oset *o);               /* write lock held; frees every object */

eobj *oset_find(oset *o, const unsigned char *key, size_t klen);
/* As oset_find, under the write lock: when the key is absent it also
** remembers where it would go, so that an oset_insert that follows with no
** change between need not search again (it checks the place first, so an
** insert of another key is still right, only not quicker). */
eobj *oset_find_to_insert(oset *o, const unsigned char *key, size_t klen);
/* Links obj; no object with its key may be present. Returns 0, changing
** nothing, when memory for a new node cannot be had. */
int oset_insert(oset *o, eobj *obj);
/* Puts obj in the place of the object with the same key and returns that
** one (NULL, changing nothing, if there is none). Never allocates. */
eobj *oset_replace(oset *o, eobj *obj);
/* Unlinks the object with this key and returns it (NULL if none). Never
** allocates. */
eobj *oset_remove(oset *o, const unsigned char *key, size_t klen);

/* The first object with a key greater than key (the first of all when key
** is NULL), and the last with a key less than key (the last of all). The
** key need not be present. */
eobj *oset_after(oset *o, const unsigned char *key, size_t klen);
eobj *oset_before(oset *o, const unsigned char *key, size_t klen);

/* A position for walking. It is good while the lock is held and the tree
** is not changed; to go on after either, seek again from the last key. */
typedef struct ocursor {
  oleaf *leaf;      /* NULL: past either end */
  int i;
} ocursor;

/* oset_after and oset_before for walks: when the calling thread's last
** step, in this tree and with no change since, stopped at key, the answer
** is the entry beside that place, found without a search. */
eobj *oset_step_after(oset *o, const unsigned char *key, size_t klen);
eobj *oset_step_before(oset *o, const unsigned char *key, size_t klen);
/* Like oset_after and oset_before, also leaving c at the object found. */
eobj *oset_seek_after(oset *o, const unsigned char *key, size_t klen, ocursor *c);
eobj *oset_seek_before(oset *o, const unsigned char *key, size_t klen, ocursor *c);
eobj *oset_cursor_obj(const ocursor *c);    /* NULL past either end */
eobj *oset_cursor_next(ocursor *c);         /* moves, then the object there */
eobj *oset_cursor_prev(ocursor *c);

/* Visits every object in key order (write lock held). fn returns what to
** keep in its place: obj itself, a replacement with the very same key, or
** NULL to remove it (fn then owns obj). fn must not touch the tree. Never
** allocates. */
typedef eobj *(*oset_rewrite_fn)(eobj *obj, void *ud);
void oset_rewrite(oset *o, oset_rewrite_fn fn, void *ud);

/* For the contention-adapting layer (ocat.h). oset_middle: the object a
** split would start the right tree with, the first under the root's
** middle child (NULL when o has one leaf, and cannot split). oset_split
** moves the root's children from that one on to right (empty), in time
** that grows with the leaves moved, one cache line each, and rebuilds
** nothing; oset_join moves all of right, whose keys all lie after left's,
** to the end of left, putting the two roots together when their heights
** and fill allow (else rebuilding the inner levels). Both return 0,
** changing nothing, when memory for inner nodes cannot be had. Neither
** touches a lock. */
const eobj *oset_middle(const oset *o);
int oset_split(oset *o, oset *right);
int oset_join(oset *left, oset *right);

/* The bytes of the tree's nodes; needs no lock. */
size_t oset_node_bytes(const oset *o);

/* 1 when the tree keeps its invariants (order, fill, separators, links,
** count, node bytes); for the tests. */
int oset_check(const oset *o);

#endif
