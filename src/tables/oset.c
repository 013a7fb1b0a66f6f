/*
** oset.c — the B+tree behind ordered_set (see oset.h).
**
** Leaves hold the objects in key order, inner nodes route searches. What
** every change below keeps true:
** - every leaf lies `height` inner levels below the root;
** - a node other than the root is at least a quarter full (LEAF_MIN
**   entries, INNER_MIN children); a root leaf holds an entry, a root inner
**   node two children; an empty tree has no root;
** - separator i of an inner node is exactly the smallest key under child
**   i+1 (its prefix and a pointer to that object): keys under child i are
**   below it, keys under child i+1 at or above it. So a separator always
**   points at a linked object, namely the first of some leaf, and the
**   removal of that object puts its successor in its place first.
**
** Nodes have room for one entry more than their capacity, so an insert
** puts the entry in first and splits the node after. A node splits in
** halves, except when keys arrive in ascending order (the usual case of
** counters, ids and times): then it keeps three quarters, so such tables
** fill their nodes to three quarters rather than one half. A quarter as
** the least fill makes room for that, and spares deletes much merging.
*/
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oset_impl.h"

static_assert(offsetof(oset, count) / 64 != offsetof(oset, objs) / 64,
              "what inserts write is on a line apart from what searches read (oset.h)");

/* The way down to a leaf: the inner nodes from the root, and which child
** was taken in each. */
typedef struct opath {
  oinner *node[MAX_HEIGHT];
  int idx[MAX_HEIGHT];
} opath;

/* ---- nodes ---- */

static void count_nodes(oset *o, size_t add, size_t sub) {
  atomic_store_explicit(&o->node_bytes,
                        atomic_load_explicit(&o->node_bytes, memory_order_relaxed) + add - sub,
                        memory_order_relaxed);
}

size_t oset_node_bytes(const oset *o) {
  return atomic_load_explicit(&o->node_bytes, memory_order_relaxed);
}

static oleaf *new_leaf(oset *o) {
  oleaf *lf = eheap_alloc_block(o->objs, sizeof *lf);
  if (lf == NULL) return NULL;
  lf->hd.n = 0;
  lf->prev = lf->next = NULL;
  count_nodes(o, sizeof *lf, 0);
  return lf;
}

oinner *oset_inner_uncounted(const oset *o) {
  oinner *in = eheap_alloc_block(o->objs, sizeof *in);
  if (in != NULL) in->hd.n = 0;
  return in;
}

void oset_free_uncounted(const oset *o, onode *n) {
  eheap_free_block(o->objs, n);
}

oinner *oset_new_inner(oset *o) {
  oinner *in = oset_inner_uncounted(o);
  if (in != NULL) count_nodes(o, sizeof *in, 0);
  return in;
}

void oset_free_node(oset *o, onode *n, int leaf) {
  count_nodes(o, 0, leaf ? sizeof(oleaf) : sizeof(oinner));
  oset_free_uncounted(o, n);
}

/* Where k's prefix falls among a node's n sorted prefixes: those before
** *lo are smaller, those from *hi on greater; between are equal ones, which
** only the keys themselves can order. Each halving step picks its half
** with a conditional move, not a jump mispredicted every other time. */
static inline void prefix_range(const uint64_t *pre, int n, uint64_t kpre, int *lo, int *hi) {
  const uint64_t *base = pre;
  unsigned len = (unsigned)n;
  int at, end;
  if (len > 0) {
    while (len > 1) {
      unsigned half = len / 2;
      base = base[half] < kpre ? base + half : base;
      len -= half;
    }
    base += *base < kpre;
  }
  at = end = (int)(base - pre);
  while (end < n && pre[end] == kpre) end++;   /* mostly none or one */
  *lo = at;
  *hi = end;
}

/* The child to follow for k: the number of separators <= k. */
static int inner_pick(const oinner *in, const okey *k) {
  int lo, hi;
  prefix_range(in->pre, in->hd.n - 1, k->pre, &lo, &hi);
  while (lo < hi) {               /* equal prefixes: compare the keys */
    int mid = (lo + hi) / 2;
    if (compare_obj(k, in->sep[mid]) >= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* The first entry >= k; *found tells whether it equals k. */
static int leaf_lower(const oleaf *lf, const okey *k, int *found) {
  int lo, hi;
  *found = 0;
  prefix_range(lf->pre, lf->hd.n, k->pre, &lo, &hi);
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    int c = compare_obj(k, lf->obj[mid]);
    if (c > 0) lo = mid + 1;
    else {
      hi = mid;
      if (c == 0) *found = 1;
    }
  }
  return lo;
}

/* Trees whose table's nodes take more bytes than this (about a core's
** first-level data cache) fetch ahead as they search. A table cut into n
** trees (ocat.h) counts each n times: the trees are of a size, each cut at
** its middle, and what decides whether a node is cached is the whole
** table's size. Past the first level a search's halving steps wait on one
** another's loads, second-level hits too: fetching a node's lines at once
** costs instructions but overlaps those waits. */
#define FETCH_AHEAD_ABOVE (64 * 1024)

/* Asks for the first `bytes` of a node, all its lines at once. A search
** reads several lines of a node one after another, and below the top
** levels of a big tree a node is mostly not in the cache: one miss each
** would come in turn. A leaf is asked for whole, as an insert shifts its
** entries too. */
static void fetch_ahead(const onode *n, size_t bytes) {
  for (size_t at = 0; at < bytes; at += 64) __builtin_prefetch((const char *)n + at);
}

/* The leaf where k belongs; path (if not NULL) records the way. */
static oleaf *descend(const oset *o, const okey *k, opath *path) {
  onode *n = o->root;
  size_t shares = (size_t)atomic_load_explicit(&o->shares, memory_order_relaxed);
  int ahead = oset_node_bytes(o) * shares > FETCH_AHEAD_ABOVE;
  for (int h = 0; h < o->height; h++) {
    oinner *in = as_inner(n);
    int c = inner_pick(in, k);
    if (path != NULL) {
      path->node[h] = in;
      path->idx[h] = c;
    }
    n = in->child[c];
    if (ahead) fetch_ahead(n, h + 1 < o->height ? offsetof(oinner, sep) : sizeof(oleaf));
  }
  return as_leaf(n);
}

/* The first and last leaves (the tree is not empty). */
oleaf *oset_leftmost(const oset *o) {
  onode *n = o->root;
  for (int h = 0; h < o->height; h++) n = as_inner(n)->child[0];
  return as_leaf(n);
}

oleaf *oset_rightmost(const oset *o) {
  onode *n = o->root;
  for (int h = 0; h < o->height; h++) n = as_inner(n)->child[as_inner(n)->hd.n - 1];
  return as_leaf(n);
}

/* ---- moving entries ---- */

static void leaf_put(oleaf *lf, int i, uint64_t pre, eobj *obj) {
  int after = lf->hd.n - i;
  memmove(&lf->pre[i + 1], &lf->pre[i], after * sizeof lf->pre[0]);
  memmove(&lf->obj[i + 1], &lf->obj[i], after * sizeof lf->obj[0]);
  lf->pre[i] = pre;
  lf->obj[i] = obj;
  lf->hd.n++;
}

static void leaf_cut(oleaf *lf, int i) {
  int after = lf->hd.n - i - 1;
  memmove(&lf->pre[i], &lf->pre[i + 1], after * sizeof lf->pre[0]);
  memmove(&lf->obj[i], &lf->obj[i + 1], after * sizeof lf->obj[0]);
  lf->hd.n--;
}

/* Moves the first k entries of right to the end of left, its neighbour. */
void oset_leaf_shift_left(oleaf *left, oleaf *right, int k) {
  int rest = right->hd.n - k;
  memcpy(&left->pre[left->hd.n], right->pre, k * sizeof right->pre[0]);
  memcpy(&left->obj[left->hd.n], right->obj, k * sizeof right->obj[0]);
  memmove(right->pre, &right->pre[k], rest * sizeof right->pre[0]);
  memmove(right->obj, &right->obj[k], rest * sizeof right->obj[0]);
  left->hd.n += k;
  right->hd.n = rest;
}

/* Moves the last k entries of left to the front of right. */
void oset_leaf_shift_right(oleaf *left, oleaf *right, int k) {
  int from = left->hd.n - k;
  memmove(&right->pre[k], right->pre, right->hd.n * sizeof right->pre[0]);
  memmove(&right->obj[k], right->obj, right->hd.n * sizeof right->obj[0]);
  memcpy(right->pre, &left->pre[from], k * sizeof left->pre[0]);
  memcpy(right->obj, &left->obj[from], k * sizeof left->obj[0]);
  left->hd.n = from;
  right->hd.n += k;
}

/* Moves all of right into left, unchains right and frees it. */
void oset_leaf_merge(oset *o, oleaf *left, oleaf *right) {
  oset_leaf_shift_left(left, right, right->hd.n);
  left->next = right->next;
  if (right->next != NULL) right->next->prev = left;
  oset_free_node(o, &right->hd, 1);
}

/* Puts separator (pre, sep) at i and child at i + 1. */
static void inner_put(oinner *in, int i, uint64_t pre, eobj *sep, onode *child) {
  int after = in->hd.n - 1 - i;
  memmove(&in->pre[i + 1], &in->pre[i], after * sizeof in->pre[0]);
  memmove(&in->sep[i + 1], &in->sep[i], after * sizeof in->sep[0]);
  memmove(&in->child[i + 2], &in->child[i + 1], after * sizeof in->child[0]);
  in->pre[i] = pre;
  in->sep[i] = sep;
  in->child[i + 1] = child;
  in->hd.n++;
}

/* Removes separator i and child i + 1. */
static void inner_cut(oinner *in, int i) {
  int after = in->hd.n - 2 - i;
  memmove(&in->pre[i], &in->pre[i + 1], after * sizeof in->pre[0]);
  memmove(&in->sep[i], &in->sep[i + 1], after * sizeof in->sep[0]);
  memmove(&in->child[i + 1], &in->child[i + 2], after * sizeof in->child[0]);
  in->hd.n--;
}

/* ---- set up and tear down ---- */

int oset_init(oset *o, eheap *objs) {
  static atomic_uint_fast64_t next_id = 1;
  o->root = NULL;
  o->height = 0;
  o->hint = NULL;
  o->id = atomic_fetch_add(&next_id, 1);
  o->changes = 0;
  atomic_init(&o->count, 0);
  atomic_init(&o->node_bytes, 0);
  atomic_init(&o->shares, 1);
  o->objs = objs;
  return rwlock_init(&o->lock) == 0;
}

/* Leaves go left to right, so the next leaf is still there when a leaf's
** objects ask for the ones ahead of them, whose free writes to them. */
static void free_subtree(const oset *o, onode *n, int height) {
  if (height == 0) {
    oleaf *lf = as_leaf(n);
    for (int i = 0; i < lf->hd.n; i++) {
      const eobj *ahead = oset_obj_ahead(lf, i, 1);
      if (ahead != NULL) __builtin_prefetch(ahead, 1);
      eheap_free(o->objs, lf->obj[i]);
    }
  } else {
    for (int i = 0; i < n->n; i++) free_subtree(o, as_inner(n)->child[i], height - 1);
  }
  oset_free_uncounted(o, n);
}

void oset_clear(oset *o) {
  if (o->root != NULL) free_subtree(o, o->root, o->height);
  o->root = NULL;
  oset_changed(o);
  o->height = 0;
  atomic_store(&o->count, 0);
  atomic_store(&o->node_bytes, 0);
}

void oset_destroy(oset *o) {
  oset_clear(o);
  rwlock_destroy(&o->lock);
}

/* ---- find ---- */

eobj *oset_find(oset *o, const unsigned char *key, size_t klen) {
  okey k;
  oleaf *lf;
  int i, found;
  if (o->root == NULL) return NULL;
  k = make_key(key, klen);
  lf = descend(o, &k, NULL);
  i = leaf_lower(lf, &k, &found);
  return found ? lf->obj[i] : NULL;
}

eobj *oset_find_to_insert(oset *o, const unsigned char *key, size_t klen) {
  okey k;
  oleaf *lf;
  int i, found;
  o->hint = NULL;
  if (o->root == NULL) return NULL;
  k = make_key(key, klen);
  lf = descend(o, &k, NULL);
  i = leaf_lower(lf, &k, &found);
  if (found) return lf->obj[i];
  o->hint = lf;
  o->hint_at = i;
  return NULL;
}

/* ---- insert ---- */

/* k against entry i of a leaf: <0, 0, >0. */
static int compare_entry(const oleaf *lf, int i, const okey *k) {
  if (k->pre != lf->pre[i]) return k->pre < lf->pre[i] ? -1 : 1;
  return compare_obj(k, lf->obj[i]);
}

/* Whether k goes at entry i of lf: between the entries around it, and in
** this leaf at all (first only in the first leaf, as separators send a
** key at or past a leaf's first key there; last only below the next
** leaf's first key). */
static int belongs_at(const oleaf *lf, int i, const okey *k) {
  if (i > 0 ? compare_entry(lf, i - 1, k) <= 0 : lf->prev != NULL) return 0;
  if (i < lf->hd.n) return compare_entry(lf, i, k) < 0;
  return lf->next == NULL || compare_entry(lf->next, 0, k) < 0;
}

/* The insert that follows oset_find_to_insert: no search, when the leaf
** has room (else the way down is needed for the split). 1 if done. */
static int insert_at_hint(oset *o, const okey *k, eobj *obj) {
  oleaf *lf = o->hint;
  int i = o->hint_at;
  if (lf == NULL || lf->hd.n >= LEAF_MAX || !belongs_at(lf, i, k)) return 0;
  leaf_put(lf, i, k->pre, obj);
  return 1;
}

/* The new nodes an insert will split into, got before anything changes so
** that running out of memory leaves the tree as it was. */
typedef struct spares {
  oleaf *leaf;
  oinner *inner[MAX_HEIGHT + 1];
  int ninner;
} spares;

static void free_spares(oset *o, spares *sp) {
  if (sp->leaf != NULL) oset_free_node(o, &sp->leaf->hd, 1);
  for (int i = 0; i < sp->ninner; i++) oset_free_node(o, &sp->inner[i]->hd, 0);
}

/* A full leaf splits, and so does each full inner node above it in a row;
** when that row reaches the root, a new root is needed too. */
static int get_spares(oset *o, const oleaf *lf, const opath *path, spares *sp) {
  int need = 0, h = o->height - 1;
  sp->leaf = NULL;
  sp->ninner = 0;
  if (lf->hd.n < LEAF_MAX) return 1;
  for (; h >= 0 && path->node[h]->hd.n == INNER_MAX; h--) need++;
  if (h < 0) need++;              /* the root splits too */
  if ((sp->leaf = new_leaf(o)) == NULL) return 0;
  for (; sp->ninner < need; sp->ninner++) {
    if ((sp->inner[sp->ninner] = oset_new_inner(o)) == NULL) {
      free_spares(o, sp);
      return 0;
    }
  }
  return 1;
}

/* Splits an overfull inner node: the upper `moved` children go to right,
** and the separator between the parts is returned (it moves up). */
static void inner_split(oinner *in, oinner *right, int moved, uint64_t *pre, eobj **sep) {
  int keep = in->hd.n - moved;
  *pre = in->pre[keep - 1];
  *sep = in->sep[keep - 1];
  memcpy(right->pre, &in->pre[keep], (moved - 1) * sizeof in->pre[0]);
  memcpy(right->sep, &in->sep[keep], (moved - 1) * sizeof in->sep[0]);
  memcpy(right->child, &in->child[keep], moved * sizeof in->child[0]);
  right->hd.n = moved;
  in->hd.n = keep;
}

/* lf holds one entry too many: split it, then every node above that
** overflows in turn. When appending (to the last leaf, after its last
** key) every node split is the last of its level and only the last child
** grows, so the right parts start at the least fill and the left ones
** stay three quarters full. */
static void split_up(oset *o, oleaf *lf, const opath *path, spares *sp, int appending) {
  oleaf *right = sp->leaf;
  onode *child = &right->hd;
  uint64_t pre;
  eobj *sep;
  int next = 0;
  oset_leaf_shift_right(lf, right, appending ? LEAF_MIN : lf->hd.n - lf->hd.n / 2);
  right->prev = lf;
  right->next = lf->next;
  if (lf->next != NULL) lf->next->prev = right;
  lf->next = right;
  pre = right->pre[0];
  sep = right->obj[0];
  for (int h = o->height - 1; h >= 0; h--) {
    oinner *in = path->node[h], *r;
    inner_put(in, path->idx[h], pre, sep, child);
    if (in->hd.n <= INNER_MAX) return;
    r = sp->inner[next++];
    inner_split(in, r, appending ? INNER_MIN : in->hd.n - in->hd.n / 2, &pre, &sep);
    child = &r->hd;
  }
  {
    oinner *root = sp->inner[next];
    root->hd.n = 2;
    root->child[0] = o->root;
    root->child[1] = child;
    root->pre[0] = pre;
    root->sep[0] = sep;
    o->root = &root->hd;
    o->height++;
  }
}

int oset_insert(oset *o, eobj *obj) {
  okey k = make_key(eobj_key(obj), obj->klen);
  opath path;
  spares sp;
  oleaf *lf;
  int i, found;
  if (insert_at_hint(o, &k, obj)) {
    oset_changed(o);
    atomic_fetch_add(&o->count, 1);
    return 1;
  }
  oset_changed(o);
  if (o->root == NULL) {
    if ((lf = new_leaf(o)) == NULL) return 0;
    o->root = &lf->hd;
  }
  lf = descend(o, &k, &path);
  if (!get_spares(o, lf, &path, &sp)) return 0;
  /* An entry lands first in a leaf only in the first leaf: elsewhere the
  ** leaf's first key is the separator k was found >= to, so no separator
  ** changes here. */
  i = leaf_lower(lf, &k, &found);
  leaf_put(lf, i, k.pre, obj);
  if (lf->hd.n > LEAF_MAX) split_up(o, lf, &path, &sp, lf->next == NULL && i == LEAF_MAX);
  atomic_fetch_add(&o->count, 1);
  return 1;
}

/* ---- remove ---- */

/* lf lost its first entry: the separator naming it, in the lowest node
** where the path turned right of a separator, must name the new first.
** A leaf other than the root had LEAF_MIN >= 2 entries, so one is left. */
static void renew_separator(const oset *o, const opath *path, const oleaf *lf) {
  for (int h = o->height - 1; h >= 0; h--) {
    int c = path->idx[h];
    if (c > 0) {
      path->node[h]->pre[c - 1] = lf->pre[0];
      path->node[h]->sep[c - 1] = lf->obj[0];
      return;
    }
  }
}

/* Child c of p, a leaf, is short of LEAF_MIN: borrow an entry from a
** neighbour or merge with it. Returns 1 when p lost a child. */
static int fix_leaf(oset *o, oinner *p, int c) {
  int j = c > 0 ? c - 1 : c;      /* the pair is children j and j + 1 */
  oleaf *left = as_leaf(p->child[j]), *right = as_leaf(p->child[j + 1]);
  if (left->hd.n + right->hd.n <= LEAF_MAX) {
    oset_leaf_merge(o, left, right);
    inner_cut(p, j);
    return 1;
  }
  if (j == c) oset_leaf_shift_left(left, right, 1);
  else oset_leaf_shift_right(left, right, 1);
  p->pre[j] = right->pre[0];
  p->sep[j] = right->obj[0];
  return 0;
}

/* Child c of p, an inner node, is short of INNER_MIN: borrow a child from
** a neighbour (rotating the separators through p) or merge with it.
** Returns 1 when p lost a child. */
static int fix_inner(oset *o, oinner *p, int c) {
  int j = c > 0 ? c - 1 : c;
  oinner *left = as_inner(p->child[j]), *right = as_inner(p->child[j + 1]);
  int ln = left->hd.n, rn = right->hd.n;
  if (ln + rn <= INNER_MAX) {
    left->pre[ln - 1] = p->pre[j];
    left->sep[ln - 1] = p->sep[j];
    memcpy(&left->pre[ln], right->pre, (rn - 1) * sizeof right->pre[0]);
    memcpy(&left->sep[ln], right->sep, (rn - 1) * sizeof right->sep[0]);
    memcpy(&left->child[ln], right->child, rn * sizeof right->child[0]);
    left->hd.n = ln + rn;
    oset_free_node(o, &right->hd, 0);
    inner_cut(p, j);
    return 1;
  }
  if (j == c) {           /* right's first child moves to left's end */
    left->pre[ln - 1] = p->pre[j];
    left->sep[ln - 1] = p->sep[j];
    left->child[ln] = right->child[0];
    p->pre[j] = right->pre[0];
    p->sep[j] = right->sep[0];
    memmove(right->pre, &right->pre[1], (rn - 2) * sizeof right->pre[0]);
    memmove(right->sep, &right->sep[1], (rn - 2) * sizeof right->sep[0]);
    memmove(right->child, &right->child[1], (rn - 1) * sizeof right->child[0]);
  } else {                /* left's last child moves to right's front */
    memmove(&right->pre[1], right->pre, (rn - 1) * sizeof right->pre[0]);
    memmove(&right->sep[1], right->sep, (rn - 1) * sizeof right->sep[0]);
    memmove(&right->child[1], right->child, rn * sizeof right->child[0]);
    right->pre[0] = p->pre[j];
    right->sep[0] = p->sep[j];
    right->child[0] = left->child[ln - 1];
    p->pre[j] = left->pre[ln - 2];
    p->sep[j] = left->sep[ln - 2];
  }
  left->hd.n += j == c ? 1 : -1;
  right->hd.n += j == c ? -1 : 1;
  return 0;
}

/* A root left with one child gives way to it; an empty root leaf goes. */
static void shrink_root(oset *o) {
  while (o->height > 0 && o->root->n == 1) {
    onode *old = o->root;
    o->root = as_inner(old)->child[0];
    o->height--;
    oset_free_node(o, old, 0);
  }
  if (o->height == 0 && o->root->n == 0) {
    oset_free_node(o, o->root, 1);
    o->root = NULL;
  }
}

eobj *oset_remove(oset *o, const unsigned char *key, size_t klen) {
  okey k;
  opath path;
  oleaf *lf;
  eobj *obj;
  int i, found, h;
  oset_changed(o);
  if (o->root == NULL) return NULL;
  k = make_key(key, klen);
  lf = descend(o, &k, &path);
  i = leaf_lower(lf, &k, &found);
  if (!found) return NULL;
  obj = lf->obj[i];
  leaf_cut(lf, i);
  if (i == 0) renew_separator(o, &path, lf);
  h = o->height - 1;
  if (h >= 0 && lf->hd.n < LEAF_MIN && fix_leaf(o, path.node[h], path.idx[h])) {
    for (; h > 0 && path.node[h]->hd.n < INNER_MIN; h--)
      if (!fix_inner(o, path.node[h - 1], path.idx[h - 1])) break;
  }
  shrink_root(o);
  atomic_fetch_sub(&o->count, 1);
  return obj;
}

/* ---- walking ---- */

eobj *oset_cursor_obj(const ocursor *c) {
  return c->leaf == NULL ? NULL : c->leaf->obj[c->i];
}

/* The object c is at, after a move in direction dir; asks for the one
** OSET_AHEAD further on. */
static eobj *arrived(const ocursor *c, int dir) {
  const eobj *ahead;
  if (c->leaf == NULL) return NULL;
  ahead = oset_obj_ahead(c->leaf, c->i, dir);
  if (ahead != NULL) __builtin_prefetch(ahead);
  return c->leaf->obj[c->i];
}

eobj *oset_cursor_next(ocursor *c) {
  if (c->leaf == NULL) return NULL;
  if (++c->i == c->leaf->hd.n) {
    c->leaf = c->leaf->next;
    c->i = 0;
  }
  return arrived(c, 1);
}

eobj *oset_cursor_prev(ocursor *c) {
  if (c->leaf == NULL) return NULL;
  if (c->i-- == 0) {
    c->leaf = c->leaf->prev;
    c->i = c->leaf == NULL ? 0 : c->leaf->hd.n - 1;
  }
  return arrived(c, -1);
}

eobj *oset_seek_after(oset *o, const unsigned char *key, size_t klen, ocursor *c) {
  okey k;
  oleaf *lf;
  int i, found;
  c->leaf = NULL;
  c->i = 0;
  if (o->root == NULL) return NULL;
  if (key == NULL) {
    c->leaf = oset_leftmost(o);
    return oset_cursor_obj(c);
  }
  k = make_key(key, klen);
  lf = descend(o, &k, NULL);
  i = leaf_lower(lf, &k, &found) + found;
  if (i < lf->hd.n) {
    c->leaf = lf;
    c->i = i;
  } else {                        /* the leaf's keys all lie before */
    c->leaf = lf->next;
  }
  return oset_cursor_obj(c);
}

eobj *oset_seek_before(oset *o, const unsigned char *key, size_t klen, ocursor *c) {
  okey k;
  oleaf *lf;
  int i, found;
  c->leaf = NULL;
  c->i = 0;
  if (o->root == NULL) return NULL;
  if (key == NULL) {
    lf = oset_rightmost(o);
    i = lf->hd.n;
  } else {
    k = make_key(key, klen);
    lf = descend(o, &k, NULL);
    i = leaf_lower(lf, &k, &found);
  }
  if (i > 0) {
    c->leaf = lf;
    c->i = i - 1;
  } else if (lf->prev != NULL) {  /* the leaf's keys all lie after */
    c->leaf = lf->prev;
    c->i = lf->prev->hd.n - 1;
  }
  return oset_cursor_obj(c);
}

/* Where the calling thread's last step ended: a walk of first/next calls
** each start from there instead of searching from the root (ETS keeps a
** stack of the last walk for the same reason). */
static _Thread_local struct {
  uint64_t tree, changes;   /* the tree's id and its changes then */
  ocursor at;
} last_step;

/* 1, with c at it, when the last step ended at key in o, unchanged since. */
static int at_last_step(const oset *o, const unsigned char *key, size_t klen, ocursor *c) {
  const eobj *at;
  if (key == NULL || last_step.tree != o->id || last_step.changes != o->changes) return 0;
  if ((at = oset_cursor_obj(&last_step.at)) == NULL || at->klen != klen ||
      memcmp(eobj_key(at), key, klen) != 0)
    return 0;
  *c = last_step.at;
  return 1;
}

static void remember_step(const oset *o, const ocursor *c) {
  last_step.tree = o->id;
  last_step.changes = o->changes;
  last_step.at = *c;
}

eobj *oset_step_after(oset *o, const unsigned char *key, size_t klen) {
  ocursor c;
  eobj *obj = at_last_step(o, key, klen, &c) ? oset_cursor_next(&c)
                                               : oset_seek_after(o, key, klen, &c);
  remember_step(o, &c);
  return obj;
}

eobj *oset_step_before(oset *o, const unsigned char *key, size_t klen) {
  ocursor c;
  eobj *obj = at_last_step(o, key, klen, &c) ? oset_cursor_prev(&c)
                                               : oset_seek_before(o, key, klen, &c);
  remember_step(o, &c);
  return obj;
}

eobj *oset_after(oset *o, const unsigned char *key, size_t klen) {
  ocursor c;
  return oset_seek_after(o, key, klen, &c);
}

eobj *oset_before(oset *o, const unsigned char *key, size_t klen) {
  ocursor c;
  return oset_seek_before(o, key, klen, &c);
}

eobj *oset_replace(oset *o, eobj *obj) {
  okey k;
  opath path;
  oleaf *lf;
  eobj *old;
  int i, found;
  if (o->root == NULL) return NULL;
  k = make_key(eobj_key(obj), obj->klen);
  lf = descend(o, &k, &path);
  i = leaf_lower(lf, &k, &found);
  if (!found) return NULL;
  old = lf->obj[i];
  lf->obj[i] = obj;                 /* same key, same prefix */
  if (i == 0) renew_separator(o, &path, lf);
  return old;
}
