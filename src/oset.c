/*
** oset.c — the skip list behind ordered_set (see oset.h).
**
** A node is one allocation: its forward links, then the node header, then
** the object. Level i's link of node n is links(n)[i].
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oset.h"
#include "term.h"

struct onode {
  onode *prev;          /* level-0 back link; NULL for the first node */
  uint32_t level;       /* number of forward links */
  uint32_t unused;
};

static onode **links(onode *n) {
  return (onode **)n - n->level;
}

static eobj *obj_of(onode *n) {
  return n == NULL ? NULL : (eobj *)(n + 1);
}

static onode *node_of(const eobj *obj) {
  return (onode *)obj - 1;
}

static onode *new_node(uint32_t level, size_t datalen) {
  size_t size = level * sizeof(onode *) + sizeof(onode) + sizeof(eobj) + datalen;
  char *base = malloc(size);
  onode *n;
  if (base == NULL) return NULL;
  n = (onode *)(base + level * sizeof(onode *));
  n->prev = NULL;
  n->level = level;
  n->unused = 0;
  memset(base, 0, level * sizeof(onode *));
  return n;
}

static void free_node(onode *n) {
  free((char *)n - n->level * sizeof(onode *));
}

/* Levels with probability 1/4 each: about log4(n) levels. The generator is
** per thread so that allocation needs no lock. */
static uint32_t random_level(void) {
  static _Thread_local uint64_t state;
  uint32_t level = 1;
  if (state == 0) state = (uint64_t)(uintptr_t)&state * 0x9e3779b97f4a7c15ull | 1;
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  for (uint64_t bits = state; (bits & 3) == 0 && level < OSET_MAX_LEVEL; bits >>= 2)
    level++;
  return level;
}

int oset_init(oset *o) {
  o->head = new_node(OSET_MAX_LEVEL, 0);
  if (o->head == NULL) return 0;
  o->level = 1;
  atomic_init(&o->count, 0);
  pthread_rwlock_init(&o->lock, NULL);
  return 1;
}

void oset_clear(oset *o) {
  onode *n = links(o->head)[0];
  while (n != NULL) {
    onode *next = links(n)[0];
    free_node(n);
    n = next;
  }
  memset(links(o->head), 0, OSET_MAX_LEVEL * sizeof(onode *));
  o->level = 1;
  atomic_store(&o->count, 0);
}

void oset_destroy(oset *o) {
  oset_clear(o);
  free_node(o->head);
  o->head = NULL;
  pthread_rwlock_destroy(&o->lock);
}

void oset_lock(oset *o, int write) {
  if (write) pthread_rwlock_wrlock(&o->lock);
  else pthread_rwlock_rdlock(&o->lock);
}

void oset_unlock(oset *o) {
  pthread_rwlock_unlock(&o->lock);
}

eobj *oset_new_obj(size_t datalen) {
  return obj_of(new_node(random_level(), datalen));
}

void oset_free_obj(eobj *obj) {
  if (obj != NULL) free_node(node_of(obj));
}

static int cmp_key(onode *n, const unsigned char *key, size_t klen) {
  eobj *obj = obj_of(n);
  return term_compare(eobj_key(obj), obj->klen, key, klen);
}

/* The last node whose key is less than key, at every level (into path when
** not NULL); returns the level-0 one (the head when there is none). */
static onode *descend(oset *o, const unsigned char *key, size_t klen, onode **path) {
  onode *n = o->head;
  for (int i = o->level - 1; i >= 0; i--) {
    onode *next;
    while ((next = links(n)[i]) != NULL && cmp_key(next, key, klen) < 0) n = next;
    if (path != NULL) path[i] = n;
  }
  return n;
}

eobj *oset_find(oset *o, const unsigned char *key, size_t klen) {
  onode *next = links(descend(o, key, klen, NULL))[0];
  return next != NULL && cmp_key(next, key, klen) == 0 ? obj_of(next) : NULL;
}

void oset_insert(oset *o, eobj *obj) {
  onode *path[OSET_MAX_LEVEL];
  onode *n = node_of(obj);
  onode *next;
  descend(o, eobj_key(obj), obj->klen, path);
  while (o->level < (int)n->level) path[o->level++] = o->head;
  for (uint32_t i = 0; i < n->level; i++) {
    links(n)[i] = links(path[i])[i];
    links(path[i])[i] = n;
  }
  n->prev = path[0] == o->head ? NULL : path[0];
  next = links(n)[0];
  if (next != NULL) next->prev = n;
  atomic_fetch_add(&o->count, 1);
}

eobj *oset_remove(oset *o, const unsigned char *key, size_t klen) {
  onode *path[OSET_MAX_LEVEL];
  onode *n = links(descend(o, key, klen, path))[0];
  onode *next;
  if (n == NULL || cmp_key(n, key, klen) != 0) return NULL;
  for (uint32_t i = 0; i < n->level; i++)
    if (links(path[i])[i] == n) links(path[i])[i] = links(n)[i];
  next = links(n)[0];
  if (next != NULL) next->prev = n->prev;
  while (o->level > 1 && links(o->head)[o->level - 1] == NULL) o->level--;
  atomic_fetch_sub(&o->count, 1);
  return obj_of(n);
}

eobj *oset_after(oset *o, const unsigned char *key, size_t klen) {
  onode *n;
  if (key == NULL) return obj_of(links(o->head)[0]);
  n = links(descend(o, key, klen, NULL))[0];
  if (n != NULL && cmp_key(n, key, klen) == 0) n = links(n)[0];
  return obj_of(n);
}

eobj *oset_before(oset *o, const unsigned char *key, size_t klen) {
  onode *n;
  if (key == NULL) {
    n = o->head;
    for (int i = o->level - 1; i >= 0; i--)
      while (links(n)[i] != NULL) n = links(n)[i];
  } else {
    n = descend(o, key, klen, NULL);
  }
  return n == o->head ? NULL : obj_of(n);
}

eobj *oset_next(const eobj *obj) {
  return obj_of(links(node_of(obj))[0]);
}

eobj *oset_prev(const eobj *obj) {
  return obj_of(node_of(obj)->prev);
}
