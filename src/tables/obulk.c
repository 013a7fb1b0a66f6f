/*
** obulk.c — work on a whole B+tree of an ordered_set (oset.h): a rewrite
** of every object, a split at the middle leaf and a join of two trees for
** the contention-adapting layer (ocat.c), and the invariant check of the
** tests. Each moves whole leaves and builds the inner levels anew over
** them, never one insert per object.
*/
#include <stdlib.h>
#include <string.h>

#include "oset_impl.h"

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
    else if (lf->hd.n + next->hd.n <= LEAF_MAX) oset_leaf_merge(NULL, lf, next);
    else oset_leaf_shift_left(lf, next, LEAF_MAX / 2 - lf->hd.n);
  }
  if (lf->hd.n < LEAF_MIN && lf->prev != NULL) {   /* the last one */
    oleaf *prev = lf->prev;
    if (prev->hd.n + lf->hd.n <= LEAF_MAX) oset_leaf_merge(NULL, prev, lf);
    else oset_leaf_shift_right(prev, lf, LEAF_MIN - lf->hd.n);
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
  oleaf *first = oset_leftmost(o);
  collect_inner(o->root, o->height, &spare);
  build_over(o, first, &spare);
  free_inner_list(spare);
  oset_recount_nodes(o);
}

void oset_rewrite(oset *o, oset_rewrite_fn fn, void *ud) {
  int changed = 0;
  if (o->root == NULL) return;
  for (oleaf *lf = oset_leftmost(o); lf != NULL; lf = lf->next)
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
    oinner *in = oset_new_inner(NULL);
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

/* The node bytes of a tree whose nodes were got and freed uncounted. */
void oset_recount_nodes(oset *o) {
  size_t bytes = 0;
  if (o->root != NULL)
    bytes = count_leaves(oset_leftmost(o)) * sizeof(oleaf) +
            count_inner(o->root, o->height) * sizeof(oinner);
  atomic_store_explicit(&o->node_bytes, bytes, memory_order_relaxed);
}

/* The leaf a split starts the right tree with: the middle one. */
static oleaf *middle_leaf(const oset *o) {
  oleaf *mid;
  size_t nleaves;
  if (o->height < 1) return NULL;
  mid = oset_leftmost(o);
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
  first = oset_leftmost(o);
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
  oset_recount_nodes(o);
  oset_recount_nodes(right);
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
    first = oset_leftmost(left);
    last = oset_rightmost(left);
    rfirst = oset_leftmost(right);
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
  oset_recount_nodes(left);
  oset_recount_nodes(right);
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
             in->pre[i - 1] != oset_prefix(eobj_key(cfirst), cfirst->klen))
      ck->ok = 0;         /* a separator is exactly the smallest key right of it */
  }
}

int oset_check(const oset *o) {
  checker ck = {NULL, NULL, 0, 1};
  const eobj *first;
  size_t bytes;
  if (o->root == NULL)
    return o->height == 0 && atomic_load(&o->count) == 0 && oset_node_bytes(o) == 0;
  if (o->height < 0 || o->height > MAX_HEIGHT) return 0;
  check_node(&ck, o->root, o->height, 1, &first);
  if (!ck.ok) return 0;
  bytes = count_leaves(oset_leftmost(o)) * sizeof(oleaf) +
          count_inner(o->root, o->height) * sizeof(oinner);
  return ck.prev->next == NULL && ck.count == atomic_load(&o->count) &&
         oset_node_bytes(o) == bytes;
}

