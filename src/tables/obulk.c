/*
** obulk.c — work on a whole B+tree of an ordered_set (oset.h): a rewrite
** of every object, a split at the root and a join of two trees for the
** contention-adapting layer (ocat.c), and the invariant check of the
** tests. None inserts object by object: a split moves whole subtrees, a
** join puts two roots together when it can, and otherwise (and after a
** rewrite) whole leaves move and the inner levels are built anew.
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
    const eobj *ahead = oset_obj_ahead(lf, i, 1);
    eobj *obj = lf->obj[i], *r;
    if (ahead != NULL) __builtin_prefetch(ahead);
    r = fn(obj, ud);
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
static oleaf *even_leaves(oset *o, oleaf *first) {
  oleaf *lf = first;
  while (lf->next != NULL) {
    oleaf *next = lf->next;
    if (lf->hd.n >= LEAF_MAX / 2) lf = next;
    else if (lf->hd.n + next->hd.n <= LEAF_MAX) oset_leaf_merge(o, lf, next);
    else oset_leaf_shift_left(lf, next, LEAF_MAX / 2 - lf->hd.n);
  }
  if (lf->hd.n < LEAF_MIN && lf->prev != NULL) {   /* the last one */
    oleaf *prev = lf->prev;
    if (prev->hd.n + lf->hd.n <= LEAF_MAX) oset_leaf_merge(o, prev, lf);
    else oset_leaf_shift_right(prev, lf, LEAF_MIN - lf->hd.n);
  } else if (lf->hd.n == 0) {                      /* the only one */
    oset_free_uncounted(o, &lf->hd);
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
  if ((first = even_leaves(o, first)) != NULL) {
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

static void free_inner_list(const oset *o, oinner *list) {
  while (list != NULL) {
    oinner *next = as_inner(list->child[0]);
    oset_free_uncounted(o, &list->hd);
    list = next;
  }
}

static void rebuild(oset *o) {
  oinner *spare = NULL;
  oleaf *first = oset_leftmost(o);
  collect_inner(o->root, o->height, &spare);
  build_over(o, first, &spare);
  free_inner_list(o, spare);
  oset_recount_nodes(o);
}

void oset_rewrite(oset *o, oset_rewrite_fn fn, void *ud) {
  int changed = 0;
  oset_changed(o);
  if (o->root == NULL) return;
  for (oleaf *lf = oset_leftmost(o); lf != NULL; lf = lf->next)
    changed |= rewrite_leaf(o, lf, fn, ud);
  if (changed) rebuild(o);
}

/* ---- counting, and a join by rebuilding ----
** A join whose roots cannot simply be put together moves whole leaves and
** builds the inner levels anew over them, as a rewrite does: one pass
** over the leaves. The inner nodes are all got first, so that running out
** of memory changes nothing. */

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
static int add_spares(const oset *o, oinner **list, size_t more) {
  oinner *got = NULL;
  for (size_t i = 0; i < more; i++) {
    oinner *in = oset_inner_uncounted(o);
    if (in == NULL) {
      free_inner_list(o, got);
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

/* The node bytes of a tree whose nodes were got and freed uncounted. */
void oset_recount_nodes(oset *o) {
  size_t bytes = 0;
  if (o->root != NULL)
    bytes = count_leaves(oset_leftmost(o)) * sizeof(oleaf) +
            count_inner(o->root, o->height) * sizeof(oinner);
  atomic_store_explicit(&o->node_bytes, bytes, memory_order_relaxed);
}

/* ---- split at the root ----
** A split cuts the root between its middle children: the left tree keeps
** the lower children, the right one gets the upper ones (under a new root,
** or the lone child itself as its root). Every node below stays as it is,
** so only the leaf chain is cut and what moved is counted: the right
** part's leaves, one line each, and its inner nodes. Nothing is rebuilt,
** so a base splits in a small fraction of the time of a rebuild. */

static oleaf *leftmost_under(onode *n, int height) {
  for (; height > 0; height--) n = as_inner(n)->child[0];
  return as_leaf(n);
}

const eobj *oset_middle(const oset *o) {
  const oinner *root = (const oinner *)o->root;
  if (o->height < 1) return NULL;
  return root->sep[root->hd.n / 2 - 1];
}

int oset_split(oset *o, oset *right) {
  oinner *root, *rroot = NULL;
  oleaf *first;
  size_t moved = 0, leaves = 0, rbytes, bytes;
  int k, m;
  if (o->height < 1 || right->root != NULL) return 0;
  oset_changed(o);
  oset_changed(right);
  root = as_inner(o->root);
  k = root->hd.n;
  m = k / 2;
  if (k - m >= 2 && (rroot = oset_inner_uncounted(o)) == NULL) return 0;
  first = leftmost_under(root->child[m], o->height - 1);
  first->prev->next = NULL;
  first->prev = NULL;
  if (rroot != NULL) {
    memcpy(rroot->pre, &root->pre[m], (size_t)(k - m - 1) * sizeof root->pre[0]);
    memcpy(rroot->sep, &root->sep[m], (size_t)(k - m - 1) * sizeof root->sep[0]);
    memcpy(rroot->child, &root->child[m], (size_t)(k - m) * sizeof root->child[0]);
    rroot->hd.n = k - m;
    right->root = &rroot->hd;
    right->height = o->height;
  } else {
    right->root = root->child[m];
    right->height = o->height - 1;
  }
  root->hd.n = m;
  bytes = oset_node_bytes(o) + (rroot != NULL ? sizeof(oinner) : 0);
  if (m == 1) {                   /* a root of one child gives way to it */
    o->root = root->child[0];
    o->height--;
    oset_free_uncounted(o, &root->hd);
    bytes -= sizeof(oinner);
  }
  for (oleaf *lf = first; lf != NULL; lf = lf->next, leaves++) moved += (size_t)lf->hd.n;
  rbytes = leaves * sizeof(oleaf) + count_inner(right->root, right->height) * sizeof(oinner);
  atomic_fetch_sub(&o->count, moved);
  atomic_store(&right->count, moved);
  atomic_store_explicit(&o->node_bytes, bytes - rbytes, memory_order_relaxed);
  atomic_store_explicit(&right->node_bytes, rbytes, memory_order_relaxed);
  return 1;
}

/* ---- join ---- */

/* Joins two trees of the same height by their roots: the two roots become
** one when their entries fit, else both go under a new root when each is
** full enough to be an inner node. 1 when done; 0, changing nothing, when
** the trees do not lend themselves (a rebuild must do); -1 when memory
** for a new root cannot be had. */
static int join_roots(oset *left, oset *right) {
  int h = left->height, ln = left->root->n, rn = right->root->n;
  int fits = ln + rn <= (h == 0 ? LEAF_MAX : INNER_MAX);
  int min = h == 0 ? LEAF_MIN : INNER_MIN;
  oleaf *last, *rfirst;
  oinner *top = NULL;
  size_t bytes = oset_node_bytes(left) + oset_node_bytes(right);
  if (h != right->height || (!fits && (ln < min || rn < min))) return 0;
  if (!fits && (top = oset_inner_uncounted(left)) == NULL) return -1;
  last = oset_rightmost(left);
  rfirst = oset_leftmost(right);
  if (top != NULL) {
    top->hd.n = 2;
    top->child[0] = left->root;
    top->child[1] = right->root;
    top->pre[0] = rfirst->pre[0];
    top->sep[0] = rfirst->obj[0];
    left->root = &top->hd;
    left->height++;
    bytes += sizeof(oinner);
    last->next = rfirst;
    rfirst->prev = last;
  } else if (h == 0) {
    oset_leaf_merge(left, last, rfirst);   /* counted, and then set whole below */
    bytes -= sizeof(oleaf);
  } else {
    oinner *l = as_inner(left->root), *r = as_inner(right->root);
    l->pre[ln - 1] = rfirst->pre[0];
    l->sep[ln - 1] = rfirst->obj[0];
    memcpy(&l->pre[ln], r->pre, (size_t)(rn - 1) * sizeof r->pre[0]);
    memcpy(&l->sep[ln], r->sep, (size_t)(rn - 1) * sizeof r->sep[0]);
    memcpy(&l->child[ln], r->child, (size_t)rn * sizeof r->child[0]);
    l->hd.n = ln + rn;
    oset_free_uncounted(left, &r->hd);
    bytes -= sizeof(oinner);
    last->next = rfirst;
    rfirst->prev = last;
  }
  atomic_store_explicit(&left->node_bytes, bytes, memory_order_relaxed);
  return 1;
}

int oset_join(oset *left, oset *right) {
  oinner *spare = NULL;
  oleaf *first, *last, *rfirst;
  size_t have, need, moved = atomic_load(&right->count);
  int fast;
  oset_changed(left);
  oset_changed(right);
  if (right->root == NULL) return 1;
  if (left->root == NULL) {
    left->root = right->root;
    left->height = right->height;
    atomic_store_explicit(&left->node_bytes, oset_node_bytes(right), memory_order_relaxed);
  } else if ((fast = join_roots(left, right)) < 0) {
    return 0;
  } else if (fast == 0) {
    first = oset_leftmost(left);
    last = oset_rightmost(left);
    rfirst = oset_leftmost(right);
    have = count_inner(left->root, left->height) + count_inner(right->root, right->height);
    need = inner_needed(count_leaves(first) + count_leaves(rfirst));
    if (need > have && !add_spares(left, &spare, need - have)) return 0;
    collect_inner(left->root, left->height, &spare);
    collect_inner(right->root, right->height, &spare);
    last->next = rfirst;
    rfirst->prev = last;
    build_over(left, first, &spare);
    free_inner_list(left, spare);
    oset_recount_nodes(left);
  }
  right->root = NULL;
  right->height = 0;
  atomic_store(&right->count, 0);
  atomic_fetch_add(&left->count, moved);
  atomic_store_explicit(&right->node_bytes, 0, memory_order_relaxed);
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

