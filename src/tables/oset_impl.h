/*
** oset_impl.h — the B+tree's nodes and the helpers its two files share:
** oset.c (searches and single changes) and obulk.c (whole-tree work:
** rewrite, split, join, check). Not for the rest of the engine.
*/
#ifndef HL_OSET_IMPL_H
#define HL_OSET_IMPL_H

#include <stdint.h>

#include "oset.h"
#include "term.h"

/* 64 entries: a million keys need 3 inner levels, the top two of which
** stay cached, and a search reads a few lines of a node's 8 lines of
** prefixes. The tests may build with another fanout, at least 8. */
#ifndef OSET_FANOUT
#define OSET_FANOUT 64
#endif
#define LEAF_MAX OSET_FANOUT
#define LEAF_MIN (LEAF_MAX / 4)
#define INNER_MAX OSET_FANOUT     /* children */
#define INNER_MIN (INNER_MAX / 4)
#define MAX_HEIGHT 64             /* with at least 2 children per node */

struct onode {
  int n;                          /* leaf: entries; inner: children */
};

struct oleaf {
  onode hd;
  oleaf *prev, *next;
  uint64_t pre[LEAF_MAX + 1];     /* key prefixes, beside... */
  eobj *obj[LEAF_MAX + 1];        /* ...their objects */
};

typedef struct oinner {
  onode hd;
  uint64_t pre[INNER_MAX];        /* separators: hd.n - 1 in use */
  eobj *sep[INNER_MAX];
  onode *child[INNER_MAX + 1];
} oinner;

/* A key being searched for, with its prefix. */
typedef struct okey {
  uint64_t pre;
  const unsigned char *p;
  size_t len;
} okey;

/* ---- keys ---- */

static inline okey make_key(const unsigned char *key, size_t klen) {
  okey k = {oset_prefix(key, klen), key, klen};
  return k;
}

/* k against an object's key: <0, 0, >0. */
static inline int compare_obj(const okey *k, const eobj *obj) {
  return term_compare(k->p, k->len, eobj_key(obj), obj->klen);
}

static inline oleaf *as_leaf(onode *n) {
  return (oleaf *)n;
}

static inline oinner *as_inner(onode *n) {
  return (oinner *)n;
}

/* A walk reads the leaves in order but their objects anywhere in memory:
** asking for the object OSET_AHEAD entries ahead (dir 1) or behind (-1)
** of entry i of lf lets its miss overlap the work on this one, and for a
** walk of first/next calls the calls between. NULL when there is none.
** Callers prefetch what this returns themselves: GCC drops a call to a
** void function that does nothing but prefetch, as if it had no effect. */
#define OSET_AHEAD 8

static inline const eobj *oset_obj_ahead(const oleaf *lf, int i, int dir) {
  int j = i + dir * OSET_AHEAD;
  if (j >= lf->hd.n) {
    j -= lf->hd.n;
    lf = lf->next;
    if (lf == NULL || j >= lf->hd.n) return NULL;
  } else if (j < 0) {
    lf = lf->prev;
    if (lf == NULL || (j += lf->hd.n) < 0) return NULL;
  }
  return lf->obj[j];
}

/* Every change that moves entries says so: a walk's place in the tree
** (oset_step_*) and an insert's (oset_find_to_insert) are then stale. */
static inline void oset_changed(oset *o) {
  o->hint = NULL;
  o->changes++;
}

/* Nodes come from the table's heap (o->objs), as its objects do. These
** two count them in o's node_bytes; obulk.c, which counts a tree whole
** when it is done, gets and frees its inner nodes uncounted. */
oinner *oset_new_inner(oset *o);
void oset_free_node(oset *o, onode *n, int leaf);
oinner *oset_inner_uncounted(const oset *o);
void oset_free_uncounted(const oset *o, onode *n);
void oset_recount_nodes(oset *o);
oleaf *oset_leftmost(const oset *o);      /* the tree is not empty */
oleaf *oset_rightmost(const oset *o);
void oset_leaf_shift_left(oleaf *left, oleaf *right, int k);
void oset_leaf_shift_right(oleaf *left, oleaf *right, int k);
void oset_leaf_merge(oset *o, oleaf *left, oleaf *right);

#endif
