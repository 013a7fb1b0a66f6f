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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* The way down to a leaf: the inner nodes from the root, and which child
** was taken in each. */
typedef struct opath {
  oinner *node[MAX_HEIGHT];
  int idx[MAX_HEIGHT];
} opath;

/* ---- keys ---- */

/* The first 8 key bytes, big-endian, zero-padded. A smaller prefix means
** a smaller key (term order is memcmp, then length), so only equal
** prefixes need the keys themselves. */
static uint64_t prefix_of(const unsigned char *key, size_t klen) {
  uint64_t p = 0;
  if (klen >= 8)   /* written out, compilers make this one load */
    return (uint64_t)key[0] << 56 | (uint64_t)key[1] << 48 | (uint64_t)key[2] << 40 |
           (uint64_t)key[3] << 32 | (uint64_t)key[4] << 24 | (uint64_t)key[5] << 16 |
           (uint64_t)key[6] << 8 | key[7];
  for (size_t i = 0; i < 8; i++) p = p << 8 | (i < klen ? key[i] : 0);
  return p;
}

static okey make_key(const unsigned char *key, size_t klen) {
  okey k = {prefix_of(key, klen), key, klen};
  return k;
}

/* k against an object's key: <0, 0, >0. */
static int compare_obj(const okey *k, const eobj *obj) {
  return term_compare(k->p, k->len, eobj_key(obj), obj->klen);
}

/* ---- nodes ---- */

static oleaf *as_leaf(onode *n) {
  return (oleaf *)n;
}

static oinner *as_inner(onode *n) {
  return (oinner *)n;
}

static oleaf *new_leaf(void) {
  oleaf *lf = malloc(sizeof *lf);
  if (lf == NULL) return NULL;
  lf->hd.n = 0;
  lf->prev = lf->next = NULL;
  return lf;
}

static oinner *new_inner(void) {
  oinner *in = malloc(sizeof *in);
  if (in != NULL) in->hd.n = 0;
  return in;
}

/* Where k's prefix falls among a node's n sorted prefixes: those before
** *lo are smaller, those from *hi on greater; between are equal ones, which
** only the keys themselves can order. Each halving step picks its half
** with a conditional move, not a jump mispredicted every other time. */
static void prefix_range(const uint64_t *pre, int n, uint64_t kpre, int *lo, int *hi) {
  const uint64_t *base = pre;
  unsigned len = (unsigned)n;
  if (len > 0) {
    while (len > 1) {
      unsigned half = len / 2;
      base = base[half] < kpre ? base + half : base;
      len -= half;
    }
    base += *base < kpre;
  }
  *lo = *hi = (int)(base - pre);
  while (*hi < n && pre[*hi] == kpre) ++*hi;   /* mostly none or one */
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

/* The leaf where k belongs; path (if not NULL) records the way. */
static oleaf *descend(const oset *o, const okey *k, opath *path) {
  onode *n = o->root;
  for (int h = 0; h < o->height; h++) {
    oinner *in = as_inner(n);
    int c = inner_pick(in, k);
    if (path != NULL) {
      path->node[h] = in;
      path->idx[h] = c;
    }
    n = in->child[c];
  }
  return as_leaf(n);
}

/* The first and last leaves (the tree is not empty). */
static oleaf *leftmost(const oset *o) {
  onode *n = o->root;
  for (int h = 0; h < o->height; h++) n = as_inner(n)->child[0];
  return as_leaf(n);
}

static oleaf *rightmost(const oset *o) {
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
static void leaf_shift_left(oleaf *left, oleaf *right, int k) {
  int rest = right->hd.n - k;
  memcpy(&left->pre[left->hd.n], right->pre, k * sizeof right->pre[0]);
  memcpy(&left->obj[left->hd.n], right->obj, k * sizeof right->obj[0]);
  memmove(right->pre, &right->pre[k], rest * sizeof right->pre[0]);
  memmove(right->obj, &right->obj[k], rest * sizeof right->obj[0]);
  left->hd.n += k;
  right->hd.n = rest;
}

/* Moves the last k entries of left to the front of right. */
static void leaf_shift_right(oleaf *left, oleaf *right, int k) {
  int from = left->hd.n - k;
  memmove(&right->pre[k], right->pre, right->hd.n * sizeof right->pre[0]);
  memmove(&right->obj[k], right->obj, right->hd.n * sizeof right->obj[0]);
  memcpy(right->pre, &left->pre[from], k * sizeof left->pre[0]);
  memcpy(right->obj, &left->obj[from], k * sizeof left->obj[0]);
  left->hd.n = from;
  right->hd.n += k;
}

/* Moves all of right into left, unchains right and frees it. */
static void leaf_merge(oleaf *left, oleaf *right) {
  leaf_shift_left(left, right, right->hd.n);
  left->next = right->next;
  if (right->next != NULL) right->next->prev = left;
  free(right);
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

int oset_init(oset *o) {
  o->root = NULL;
  o->height = 0;
  atomic_init(&o->count, 0);
  return pthread_rwlock_init(&o->lock, NULL) == 0;
}

static void free_subtree(onode *n, int height) {
  if (height == 0) {
    oleaf *lf = as_leaf(n);
    for (int i = 0; i < lf->hd.n; i++) oset_free_obj(lf->obj[i]);
  } else {
    for (int i = 0; i < n->n; i++) free_subtree(as_inner(n)->child[i], height - 1);
  }
  free(n);
}

void oset_clear(oset *o) {
  if (o->root != NULL) free_subtree(o->root, o->height);
  o->root = NULL;
  o->height = 0;
  atomic_store(&o->count, 0);
}

void oset_destroy(oset *o) {
  oset_clear(o);
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
  return malloc(sizeof(eobj) + datalen);
}

void oset_free_obj(eobj *obj) {
  free(obj);
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

/* ---- insert ---- */

/* The new nodes an insert will split into, got before anything changes so
** that running out of memory leaves the tree as it was. */
typedef struct spares {
  oleaf *leaf;
  oinner *inner[MAX_HEIGHT + 1];
  int ninner;
} spares;

static void free_spares(spares *sp) {
  free(sp->leaf);
  for (int i = 0; i < sp->ninner; i++) free(sp->inner[i]);
}

/* A full leaf splits, and so does each full inner node above it in a row;
** when that row reaches the root, a new root is needed too. */
static int get_spares(const oset *o, const oleaf *lf, const opath *path, spares *sp) {
  int need = 0, h = o->height - 1;
  sp->leaf = NULL;
  sp->ninner = 0;
  if (lf->hd.n < LEAF_MAX) return 1;
  for (; h >= 0 && path->node[h]->hd.n == INNER_MAX; h--) need++;
  if (h < 0) need++;              /* the root splits too */
  if ((sp->leaf = new_leaf()) == NULL) return 0;
  for (; sp->ninner < need; sp->ninner++) {
    if ((sp->inner[sp->ninner] = new_inner()) == NULL) {
      free_spares(sp);
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
  leaf_shift_right(lf, right, appending ? LEAF_MIN : lf->hd.n - lf->hd.n / 2);
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
  if (o->root == NULL) {
    if ((lf = new_leaf()) == NULL) return 0;
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
static int fix_leaf(oinner *p, int c) {
  int j = c > 0 ? c - 1 : c;      /* the pair is children j and j + 1 */
  oleaf *left = as_leaf(p->child[j]), *right = as_leaf(p->child[j + 1]);
  if (left->hd.n + right->hd.n <= LEAF_MAX) {
    leaf_merge(left, right);
    inner_cut(p, j);
    return 1;
  }
  if (j == c) leaf_shift_left(left, right, 1);
  else leaf_shift_right(left, right, 1);
  p->pre[j] = right->pre[0];
  p->sep[j] = right->obj[0];
  return 0;
}

/* Child c of p, an inner node, is short of INNER_MIN: borrow a child from
** a neighbour (rotating the separators through p) or merge with it.
** Returns 1 when p lost a child. */
static int fix_inner(oinner *p, int c) {
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
    free(right);
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
    free(old);
  }
  if (o->height == 0 && o->root->n == 0) {
    free(o->root);
    o->root = NULL;
  }
}

eobj *oset_remove(oset *o, const unsigned char *key, size_t klen) {
  okey k;
  opath path;
  oleaf *lf;
  eobj *obj;
  int i, found, h;
  if (o->root == NULL) return NULL;
  k = make_key(key, klen);
  lf = descend(o, &k, &path);
  i = leaf_lower(lf, &k, &found);
  if (!found) return NULL;
  obj = lf->obj[i];
  leaf_cut(lf, i);
  if (i == 0) renew_separator(o, &path, lf);
  h = o->height - 1;
  if (h >= 0 && lf->hd.n < LEAF_MIN && fix_leaf(path.node[h], path.idx[h])) {
    for (; h > 0 && path.node[h]->hd.n < INNER_MIN; h--)
      if (!fix_inner(path.node[h - 1], path.idx[h - 1])) break;
  }
  shrink_root(o);
  atomic_fetch_sub(&o->count, 1);
  return obj;
}

/* ---- walking ---- */

eobj *oset_cursor_obj(const ocursor *c) {
  return c->leaf == NULL ? NULL : c->leaf->obj[c->i];
}

eobj *oset_cursor_next(ocursor *c) {
  if (c->leaf == NULL) return NULL;
  if (++c->i == c->leaf->hd.n) {
    c->leaf = c->leaf->next;
    c->i = 0;
  }
  return oset_cursor_obj(c);
}

eobj *oset_cursor_prev(ocursor *c) {
  if (c->leaf == NULL) return NULL;
  if (c->i-- == 0) {
    c->leaf = c->leaf->prev;
    c->i = c->leaf == NULL ? 0 : c->leaf->hd.n - 1;
  }
  return oset_cursor_obj(c);
}

eobj *oset_seek_after(oset *o, const unsigned char *key, size_t klen, ocursor *c) {
  okey k;
  oleaf *lf;
  int i, found;
  c->leaf = NULL;
  c->i = 0;
  if (o->root == NULL) return NULL;
  if (key == NULL) {
    c->leaf = leftmost(o);
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
    lf = rightmost(o);
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

eobj *oset_after(oset *o, const unsigned char *key, size_t klen) {
  ocursor c;
  return oset_seek_after(o, key, klen, &c);
}

eobj *oset_before(oset *o, const unsigned char *key, size_t klen) {
  ocursor c;
  return oset_seek_before(o, key, klen, &c);
}

/* ---- rewrite ----
** fn may free objects that separators point at, so the walk touches only
** the leaves; afterwards the leaves are evened out and the inner levels
** built anew over them, reusing the old inner nodes, never reading the old
** separators. */

/* Runs fn over one leaf, closing up removed entries; 1 if any changed. */
static int rewrite_leaf(oset *o, oleaf *lf, oset_rewrite_fn fn, void *ud) {
  int kept = 0, changed = 0;
  for (int i = 0; i < lf->hd.n; i++) {
    eobj *obj = lf->obj[i], *r = fn(obj, ud);
    if (r != obj) changed = 1;
    if (r == NULL) {
      atomic_fetch_sub(&o->count, 1);
      continue;
    }
    lf->pre[kept] = lf->pre[i];   /* the same key: the same prefix */
    lf->obj[kept++] = r;
  }
  lf->hd.n = kept;
  return changed;
}

/* Pushes the inner nodes of a subtree on a list chained through child[0],
** children first, so each node is read before it is chained. */
static void collect_inner(onode *n, int height, oinner **list) {
  oinner *in = as_inner(n);
  if (height == 0) return;
  for (int i = 0; i < in->hd.n; i++) collect_inner(in->child[i], height - 1, list);
  in->child[0] = (onode *)*list;
  *list = in;
}

/* Brings every leaf up to half full (but a lone one, and the last, which
** gets at least LEAF_MIN) by merging with or borrowing from the next;
** returns the first leaf, NULL if none is left. Borrowing leaves the next
** more than half full, as the two did not fit in one. */
static oleaf *even_leaves(oleaf *first) {
  oleaf *lf = first;
  while (lf->next != NULL) {
    oleaf *next = lf->next;
    if (lf->hd.n >= LEAF_MAX / 2) lf = next;
    else if (lf->hd.n + next->hd.n <= LEAF_MAX) leaf_merge(lf, next);
    else leaf_shift_left(lf, next, LEAF_MAX / 2 - lf->hd.n);
  }
  if (lf->hd.n < LEAF_MIN && lf->prev != NULL) {   /* the last one */
    oleaf *prev = lf->prev;
    if (prev->hd.n + lf->hd.n <= LEAF_MAX) leaf_merge(prev, lf);
    else leaf_shift_right(prev, lf, LEAF_MIN - lf->hd.n);
  } else if (lf->hd.n == 0) {                      /* the only one */
    free(lf);
    return NULL;
  }
  return first;
}

/* Builds the levels bottom-up in one recursive pass: level h has
** total[h] = ceil(total[h-1] / INNER_MAX) nodes and shares the nodes below
** out evenly, so each gets at least half of INNER_MAX. Level by level no more
** nodes are needed than the old tree had, whose nodes held at most
** INNER_MAX children over at least as many leaves. */
typedef struct builder {
  oleaf *leaf;                       /* the next leaf to place */
  size_t total[MAX_HEIGHT + 1];      /* nodes per level, leaves at 0 */
  size_t made[MAX_HEIGHT + 1];
  oinner *spare;                     /* the old inner nodes */
} builder;

/* The next node of level h, and the smallest key under it. */
static onode *build(builder *b, int h, uint64_t *pre, eobj **min) {
  oinner *in;
  size_t kids;
  if (h == 0) {
    oleaf *lf = b->leaf;
    b->leaf = lf->next;
    *pre = lf->pre[0];
    *min = lf->obj[0];
    return &lf->hd;
  }
  in = b->spare;
  b->spare = as_inner(in->child[0]);
  kids = b->total[h - 1] / b->total[h] + (b->made[h] < b->total[h - 1] % b->total[h]);
  b->made[h]++;
  for (size_t i = 0; i < kids; i++) {
    uint64_t cpre;
    eobj *cmin;
    in->child[i] = build(b, h - 1, &cpre, &cmin);
    if (i == 0) {
      *pre = cpre;
      *min = cmin;
    } else {
      in->pre[i - 1] = cpre;
      in->sep[i - 1] = cmin;
    }
  }
  in->hd.n = (int)kids;
  return &in->hd;
}

/* Makes o the tree over the chain of leaves from first (whose prev is
** NULL), taking inner nodes from *spare, which must hold enough. */
static void build_over(oset *o, oleaf *first, oinner **spare) {
  builder b;
  uint64_t pre;
  eobj *min;
  int h = 0;
  b.spare = *spare;
  o->root = NULL;
  o->height = 0;
  if ((first = even_leaves(first)) != NULL) {
    b.leaf = first;
    b.total[0] = 0;
    for (oleaf *lf = first; lf != NULL; lf = lf->next) b.total[0]++;
    for (; b.total[h] > 1; h++) {
      b.total[h + 1] = (b.total[h] + INNER_MAX - 1) / INNER_MAX;
      b.made[h + 1] = 0;
    }
    o->root = build(&b, h, &pre, &min);
    o->height = h;
  }
  *spare = b.spare;
}

static void free_inner_list(oinner *list) {
  while (list != NULL) {
    oinner *next = as_inner(list->child[0]);
    free(list);
    list = next;
  }
}

static void rebuild(oset *o) {
  oinner *spare = NULL;
  oleaf *first = leftmost(o);
  collect_inner(o->root, o->height, &spare);
  build_over(o, first, &spare);
  free_inner_list(spare);
}

void oset_rewrite(oset *o, oset_rewrite_fn fn, void *ud) {
  int changed = 0;
  if (o->root == NULL) return;
  for (oleaf *lf = leftmost(o); lf != NULL; lf = lf->next)
    changed |= rewrite_leaf(o, lf, fn, ud);
  if (changed) rebuild(o);
}

/* ---- split and join ----
** Whole leaves move from tree to tree and the inner levels are built anew
** over them, as a rewrite does: the cost is one pass over the leaves, not
** one insert per object. The inner nodes are all got first, so that
** running out of memory changes nothing. */

static size_t count_inner(const onode *n, int height) {
  size_t k = 1;
  if (height == 0) return 0;
  for (int i = 0; i < n->n; i++) k += count_inner(as_inner((onode *)n)->child[i], height - 1);
  return k;
}

/* The inner nodes a tree over at most nleaves leaves is built with. */
static size_t inner_needed(size_t nleaves) {
  size_t k = 0;
  while (nleaves > 1) {
    nleaves = (nleaves + INNER_MAX - 1) / INNER_MAX;
    k += nleaves;
  }
  return k;
}

/* Chains `more` fresh inner nodes onto *list; 0 (freeing them) if memory
** runs out. */
static int add_spares(oinner **list, size_t more) {
  oinner *got = NULL;
  for (size_t i = 0; i < more; i++) {
    oinner *in = new_inner();
    if (in == NULL) {
      free_inner_list(got);
      return 0;
    }
    in->child[0] = (onode *)got;
    got = in;
  }
  while (got != NULL) {
    oinner *next = as_inner(got->child[0]);
    got->child[0] = (onode *)*list;
    *list = got;
    got = next;
  }
  return 1;
}

static size_t count_leaves(const oleaf *lf) {
  size_t k = 0;
  for (; lf != NULL; lf = lf->next) k++;
  return k;
}

static size_t count_entries(const oleaf *lf) {
  size_t k = 0;
  for (; lf != NULL; lf = lf->next) k += (size_t)lf->hd.n;
  return k;
}

/* The leaf a split starts the right tree with: the middle one. */
static oleaf *middle_leaf(const oset *o) {
  oleaf *mid;
  size_t nleaves;
  if (o->height < 1) return NULL;
  mid = leftmost(o);
  nleaves = count_leaves(mid);
  for (size_t i = 0; i < nleaves / 2; i++) mid = mid->next;
  return mid;
}

const eobj *oset_middle(const oset *o) {
  oleaf *mid = middle_leaf(o);
  return mid == NULL ? NULL : mid->obj[0];
}

int oset_split(oset *o, oset *right) {
  oinner *spare = NULL;
  oleaf *first, *mid = middle_leaf(o);
  size_t nleft, have, need, moved;
  if (mid == NULL || right->root != NULL) return 0;
  first = leftmost(o);
  nleft = count_leaves(first) - count_leaves(mid);
  have = count_inner(o->root, o->height);
  need = inner_needed(nleft) + inner_needed(count_leaves(mid));
  if (need > have && !add_spares(&spare, need - have)) return 0;
  collect_inner(o->root, o->height, &spare);
  mid->prev->next = NULL;
  mid->prev = NULL;
  moved = count_entries(mid);
  build_over(o, first, &spare);
  build_over(right, mid, &spare);
  free_inner_list(spare);
  atomic_fetch_sub(&o->count, moved);
  atomic_store(&right->count, moved);
  return 1;
}

int oset_join(oset *left, oset *right) {
  oinner *spare = NULL;
  oleaf *first, *last, *rfirst;
  size_t have, need, moved = atomic_load(&right->count);
  if (right->root == NULL) return 1;
  if (left->root == NULL) {
    left->root = right->root;
    left->height = right->height;
  } else {
    first = leftmost(left);
    last = rightmost(left);
    rfirst = leftmost(right);
    have = count_inner(left->root, left->height) + count_inner(right->root, right->height);
    need = inner_needed(count_leaves(first) + count_leaves(rfirst));
    if (need > have && !add_spares(&spare, need - have)) return 0;
    collect_inner(left->root, left->height, &spare);
    collect_inner(right->root, right->height, &spare);
    last->next = rfirst;
    rfirst->prev = last;
    build_over(left, first, &spare);
    free_inner_list(spare);
  }
  right->root = NULL;
  right->height = 0;
  atomic_store(&right->count, 0);
  atomic_fetch_add(&left->count, moved);
  return 1;
}

/* ---- checking, for the tests ---- */

typedef struct checker {
  const oleaf *prev;      /* the last leaf seen */
  const eobj *last;       /* the last object seen */
  size_t count;
  int ok;
} checker;

/* Checks a subtree and gives its smallest object. Leaves come in key
** order, so each object need only lie after the one seen before it. */
static void check_node(checker *ck, const onode *n, int height, int isroot,
                       const eobj **first) {
  *first = NULL;
  if (height == 0) {
    const oleaf *lf = (const oleaf *)n;
    if (lf->hd.n < (isroot ? 1 : LEAF_MIN) || lf->hd.n > LEAF_MAX || lf->prev != ck->prev ||
        (ck->prev != NULL && ck->prev->next != lf))
      ck->ok = 0;
    for (int i = 0; i < lf->hd.n; i++) {
      okey k = make_key(eobj_key(lf->obj[i]), lf->obj[i]->klen);
      if (k.pre != lf->pre[i] || (ck->last != NULL && compare_obj(&k, ck->last) <= 0)) ck->ok = 0;
      ck->last = lf->obj[i];
    }
    ck->prev = lf;
    ck->count += (size_t)lf->hd.n;
    if (lf->hd.n > 0) *first = lf->obj[0];
    return;
  }
  if (n->n < (isroot ? 2 : INNER_MIN) || n->n > INNER_MAX) {
    ck->ok = 0;
    return;
  }
  for (int i = 0; i < n->n; i++) {
    const oinner *in = (const oinner *)n;
    const eobj *cfirst;
    check_node(ck, in->child[i], height - 1, 0, &cfirst);
    if (i == 0) *first = cfirst;
    else if (cfirst == NULL || in->sep[i - 1] != cfirst ||
             in->pre[i - 1] != prefix_of(eobj_key(cfirst), cfirst->klen))
      ck->ok = 0;         /* a separator is exactly the smallest key right of it */
  }
}

int oset_check(const oset *o) {
  checker ck = {NULL, NULL, 0, 1};
  const eobj *first;
  if (o->root == NULL) return o->height == 0 && atomic_load(&o->count) == 0;
  if (o->height < 0 || o->height > MAX_HEIGHT) return 0;
  check_node(&ck, o->root, o->height, 1, &first);
  return ck.ok && ck.prev->next == NULL && ck.count == atomic_load(&o->count);
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
