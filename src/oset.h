/*
** oset.h — ordered storage for ordered_set tables: a skip list ordered by
** the keys' encoded bytes (term order). Each node holds its object inline,
** so a search touches one allocation per step.
**
** One reader-writer lock per table: readers run side by side, writers one
** at a time (the default lock design of ETS's ordered_set). The caller
** locks; functions below assume the lock is held.
*/
#ifndef HL_OSET_H
#define HL_OSET_H

#include <pthread.h>
#include <stdatomic.h>

#include "eobj.h"

#define OSET_MAX_LEVEL 20

typedef struct onode onode;

typedef struct oset {
  pthread_rwlock_t lock;
  onode *head;                 /* sentinel, OSET_MAX_LEVEL links */
  int level;                   /* highest level in use */
  atomic_size_t count;
} oset;

int oset_init(oset *o);                 /* 0 on out of memory */
void oset_destroy(oset *o);             /* frees every object */
void oset_clear(oset *o);               /* write lock held */

void oset_lock(oset *o, int write);
void oset_unlock(oset *o);

/* Objects of an ordered_set are allocated inside their node. */
eobj *oset_new_obj(size_t datalen);
void oset_free_obj(eobj *obj);

eobj *oset_find(oset *o, const unsigned char *key, size_t klen);
/* Links obj; no object with its key may be present. */
void oset_insert(oset *o, eobj *obj);
/* Unlinks the object with this key and returns it (NULL if none). */
eobj *oset_remove(oset *o, const unsigned char *key, size_t klen);

/* The first object with a key greater than key (the first of all when key
** is NULL), and the last with a key less than key (the last of all). The
** key need not be present. */
eobj *oset_after(oset *o, const unsigned char *key, size_t klen);
eobj *oset_before(oset *o, const unsigned char *key, size_t klen);
eobj *oset_next(const eobj *obj);
eobj *oset_prev(const eobj *obj);

#endif
