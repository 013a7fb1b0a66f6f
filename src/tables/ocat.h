/*
** ocat.h — the store of an ordered_set: a contention-adapting tree. The key
** range is cut into bases, each a B+tree (oset.h) under its own
** reader-writer lock, so that writers of different key ranges never share
** a lock. A base that writers keep finding locked splits in two at its
** middle key; neighbours that writers leave alone join again.
**
** What it promises:
** - a single-key operation locks the one base that holds the key, and
**   finding that base writes no shared memory: the route from key to base
**   is an immutable array, published by an atomic pointer;
** - whole-table operations lock every base in key order, and while all are
**   held no base splits or joins, so they see one consistent table;
** - walks across bases keep key order, and next/prev from any key (present
**   or not) give what the table held at one instant;
** - ocat_count is exact whenever no write is under way.
**
** The caller locks (ocat_lock_key / ocat_lock_all) and the functions that
** take a key assume that key's base is held (or all are).
*/
#ifndef HL_OCAT_H
#define HL_OCAT_H

#include <pthread.h>
#include <stdatomic.h>

#include "eobj.h"
#include "oset.h"

typedef struct ocbase ocbase;
typedef struct ocroute ocroute;

typedef struct ocat {
  _Atomic(ocroute *) route;     /* the current route */
  atomic_uint seq;              /* odd while a split or join moves objects */
  pthread_mutex_t adapt;        /* one split or join at a time */
  ocroute *old_routes;          /* retired routes, under adapt */
  ocbase *all_bases;            /* every base made (under adapt), freed at destroy */
  int changes;                  /* splits and joins so far */
  eheap *objs;                  /* where the objects' memory comes from */
} ocat;

/* The objects stored are objs's, which clear and destroy free them into. */
int ocat_init(ocat *c, eheap *objs);    /* 1; 0 on failure */
void ocat_destroy(ocat *c);             /* frees every object */
void ocat_clear(ocat *c);               /* all write-locked; frees every object */

/* Locks the base holding key and returns it, to give to ocat_unlock_key.
** A write unlock is where a base may split or join. */
ocbase *ocat_lock_key(ocat *c, const unsigned char *key, size_t klen, int write);
void ocat_unlock_key(ocat *c, ocbase *b, int write);
void ocat_lock_all(ocat *c, int write);   /* every base, in key order */
void ocat_unlock_all(ocat *c);

eobj *ocat_find(ocat *c, const unsigned char *key, size_t klen);
int ocat_insert(ocat *c, eobj *obj);      /* as oset_insert */
eobj *ocat_replace(ocat *c, eobj *obj);   /* as oset_replace */
eobj *ocat_remove(ocat *c, const unsigned char *key, size_t klen);
size_t ocat_count(ocat *c);               /* needs no lock */
/* The bytes of the store itself (nodes, bases, the current route; the
** objects are the table's to count); needs no lock. */
size_t ocat_memory(ocat *c);

/* One step of a walk, taking its own locks: the first object after key
** (dir > 0) or before it (dir < 0); key NULL: the first or the last. The
** object stays valid until ocat_release. */
typedef struct ochold {
  ocroute *route;
  int from, to;                 /* the bases held: from..to of route */
  int all;
} ochold;

eobj *ocat_step(ocat *c, const unsigned char *key, size_t klen, int dir, ochold *h);
void ocat_release(ocat *c, ochold *h);

/* A position for walking across bases, with every base locked; like
** ocursor, good while the locks are held and nothing changes. */
typedef struct occursor {
  const ocroute *route;
  int base;
  ocursor c;
} occursor;

eobj *ocat_seek_after(ocat *c, const unsigned char *key, size_t klen, occursor *cur);
eobj *ocat_seek_before(ocat *c, const unsigned char *key, size_t klen, occursor *cur);
eobj *ocat_cursor_next(occursor *cur);
eobj *ocat_cursor_prev(occursor *cur);

/* oset_rewrite over every base in key order (all write-locked). */
void ocat_rewrite(ocat *c, oset_rewrite_fn fn, void *ud);

/* For the tests: split the base holding key at its middle, or join it
** with the base after it, as contention would (1 if done); the number of
** bases; 1 when every base keeps its invariants and lies in its range. */
int ocat_force_split(ocat *c, const unsigned char *key, size_t klen);
int ocat_force_join(ocat *c, const unsigned char *key, size_t klen);
int ocat_bases(ocat *c);
int ocat_check(ocat *c);

#endif
