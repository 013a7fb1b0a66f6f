/*
** test_oset.c — the ordered_set B+tree (src/tables/oset.c) driven directly and
** compared with a plain model: a sorted array of encoded keys and, for
** each, the object the tree should hold under it (or NULL). Random inserts
** and removes, finds, seeks from present and absent keys, walks both ways,
** rewrites, clear and destroy; oset_check() checks the tree's own
** invariants all along. Meant to run under AddressSanitizer.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "oset.h"
#include "term.h"

/* The objects' memory, as a table's (eheap.h): one heap for every store here. */
static eheap objs;

/* ---- the model ---- */

typedef struct kbytes {
  unsigned char *p;
  size_t len;
} kbytes;

static kbytes *keys;        /* the key universe, in term order */
static size_t nkeys;
static eobj **model;        /* model[i]: the object under keys[i], or NULL */
static size_t present;
static eobj **after_of, **before_of;   /* see index_model() */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void) {
  return check_random(&rng_state);
}

static size_t rnd_below(size_t n) {
  return (size_t)(rnd() % n);
}

static size_t cap_keys;

static void add_key(buf *b) {
  if (nkeys == cap_keys) {
    cap_keys = cap_keys ? cap_keys * 2 : 1024;
    keys = realloc(keys, cap_keys * sizeof *keys);
  }
  keys[nkeys].p = malloc(b->n);
  memcpy(keys[nkeys].p, b->p, b->n);
  keys[nkeys].len = b->n;
  nkeys++;
  buf_reset(b);
}

static int cmp_kbytes(const void *a, const void *b) {
  const kbytes *x = a, *y = b;
  return term_compare(x->p, x->len, y->p, y->len);
}

/* Keys of many shapes: small and huge integers (9 and 11 bytes), floats,
** short terms (prefixes padded with zeros), strings sharing long prefixes
** (equal prefixes, so full comparisons), arrays. `ints` integers more. */
static void make_universe(size_t ints) {
  buf b;
  char s[64];
  size_t kept = 0;
  buf_init(&b);
  nkeys = 0;
  for (size_t i = 0; i < ints; i++) {
    term_put_int(&b, (int64_t)i - (int64_t)(ints / 4));
    add_key(&b);
  }
  for (int i = 0; i < 300; i++) {
    term_put_int(&b, (int64_t)(rnd() >> 1) * (i % 2 ? 1 : -1));   /* mostly >= 2^53 */
    add_key(&b);
    term_put_float(&b, (double)(int64_t)rnd() / 1e6);
    add_key(&b);
  }
  for (int i = 0; i < 2000; i++) {
    int n = snprintf(s, sizeof s, "user:%08d", i * 7);
    term_put_string(&b, s, (size_t)n);
    add_key(&b);
  }
  for (int i = 0; i < 300; i++) {     /* up to 3 bytes: shorter than a prefix */
    unsigned char t[3] = {(unsigned char)(i % 3), (unsigned char)(i / 3 % 10), (unsigned char)i};
    term_put_string(&b, t, (size_t)(i % 4));
    add_key(&b);
  }
  for (int i = 0; i < 500; i++) {
    term_put_array(&b, 2);
    term_put_string(&b, "same prefix", 11);
    term_put_int(&b, i);
    add_key(&b);
  }
  term_put_nil(&b);
  add_key(&b);
  term_put_bool(&b, 1);
  add_key(&b);
  buf_free(&b);
  qsort(keys, nkeys, sizeof *keys, cmp_kbytes);
  for (size_t i = 0; i < nkeys; i++) {   /* drop duplicates */
    if (kept > 0 && cmp_kbytes(&keys[kept - 1], &keys[i]) == 0) free(keys[i].p);
    else keys[kept++] = keys[i];
  }
  nkeys = kept;
  model = calloc(nkeys, sizeof *model);
  present = 0;
}

static void free_universe(void) {
  for (size_t i = 0; i < nkeys; i++) free(keys[i].p);
  free(keys);
  free(model);
  free(after_of);
  free(before_of);
  keys = NULL;
  model = NULL;
  after_of = before_of = NULL;
  nkeys = cap_keys = 0;
}

/* An object whose term is the array {key, tag}, so the key is inside it. */
static eobj *make_obj(size_t k, int64_t tag) {
  buf b;
  size_t koff;
  eobj *o;
  buf_init(&b);
  term_put_array(&b, 2);
  koff = b.n;
  buf_put(&b, keys[k].p, keys[k].len);
  term_put_int(&b, tag);
  o = eheap_alloc(&objs, b.n);
  o->hash = 0;
  o->len = (uint32_t)b.n;
  o->koff = (uint32_t)koff;
  o->klen = (uint32_t)keys[k].len;
  memcpy(o->data, b.p, b.n);
  buf_free(&b);
  return o;
}

/* The universe index of an object's key. */
static size_t index_of(const eobj *o) {
  size_t lo = 0, hi = nkeys;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (term_compare(keys[mid].p, keys[mid].len, eobj_key(o), o->klen) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* For the probes: the object after and before each key, computed once per
** comparison rather than by a scan per probe. */
static void index_model(void) {
  eobj *last = NULL;
  free(after_of);
  free(before_of);
  after_of = malloc(nkeys * sizeof *after_of);
  before_of = malloc(nkeys * sizeof *before_of);
  for (size_t i = 0; i < nkeys; i++) {
    before_of[i] = last;
    if (model[i] != NULL) last = model[i];
  }
  last = NULL;
  for (size_t i = nkeys; i-- > 0;) {
    after_of[i] = last;
    if (model[i] != NULL) last = model[i];
  }
}

static eobj *model_after(size_t k) {
  return after_of[k];
}

static eobj *model_before(size_t k) {
  return before_of[k];
}

/* ---- operations on both ---- */

static int do_insert(oset *o, size_t k, int64_t tag) {
  eobj *obj;
  if (model[k] != NULL) return 1;
  obj = make_obj(k, tag);
  if (!oset_insert(o, obj)) {
    eheap_free(&objs, obj);
    return 0;
  }
  model[k] = obj;
  present++;
  return 1;
}

static int do_remove(oset *o, size_t k) {
  eobj *obj = oset_remove(o, keys[k].p, keys[k].len);
  int ok = obj == model[k];
  if (obj != NULL) {
    eheap_free(&objs, obj);
    model[k] = NULL;
    present--;
  }
  return ok;
}

/* ---- whole comparisons ---- */

static int walk_forward(oset *o) {
  ocursor c;
  eobj *obj = oset_seek_after(o, NULL, 0, &c);
  for (size_t i = 0; i < nkeys; i++) {
    if (model[i] == NULL) continue;
    if (obj != model[i] || oset_cursor_obj(&c) != obj) return 0;
    obj = oset_cursor_next(&c);
  }
  return obj == NULL && oset_cursor_next(&c) == NULL;
}

static int walk_backward(oset *o) {
  ocursor c;
  eobj *obj = oset_seek_before(o, NULL, 0, &c);
  for (size_t i = nkeys; i-- > 0;) {
    if (model[i] == NULL) continue;
    if (obj != model[i]) return 0;
    obj = oset_cursor_prev(&c);
  }
  return obj == NULL && oset_cursor_prev(&c) == NULL;
}

/* Finds and seeks from every `step`-th key, present or not; from a seek,
** a few steps of the cursor each way (a cursor past either end stays
** there). */
static int probe(oset *o, size_t step, size_t start) {
  for (size_t k = start; k < nkeys; k += step) {
    ocursor c;
    eobj *after = model_after(k), *before = model_before(k);
    if (oset_find(o, keys[k].p, keys[k].len) != model[k]) return 0;
    if (oset_after(o, keys[k].p, keys[k].len) != after) return 0;
    if (oset_before(o, keys[k].p, keys[k].len) != before) return 0;
    if (oset_seek_after(o, keys[k].p, keys[k].len, &c) != after) return 0;
    if (after != NULL) {
      size_t a = index_of(after);
      eobj *next = model_after(a);
      if (oset_cursor_next(&c) != next) return 0;
      if (next == NULL) continue;             /* past the end: stays there */
      if (oset_cursor_prev(&c) != after) return 0;
      if (oset_cursor_prev(&c) != model_before(a)) return 0;
    }
    if (oset_seek_before(o, keys[k].p, keys[k].len, &c) != before) return 0;
    if (before != NULL) {
      size_t b = index_of(before);
      eobj *prev = model_before(b);
      if (oset_cursor_prev(&c) != prev) return 0;
      if (prev != NULL && oset_cursor_next(&c) != before) return 0;
    }
  }
  return 1;
}

static void compare_all(oset *o, size_t step) {
  CHECK(oset_check(o));
  CHECK(atomic_load(&o->count) == present);
  CHECK(walk_forward(o));
  CHECK(walk_backward(o));
  index_model();
  CHECK(probe(o, step, rnd_below(step)));
}

static void empty_model(oset *o) {
  for (size_t k = 0; k < nkeys; k++) {
    if (model[k] == NULL) continue;
    eheap_free(&objs, oset_remove(o, keys[k].p, keys[k].len));
    model[k] = NULL;
  }
  present = 0;
}

/* ---- tests ---- */

static void test_empty(void) {
  oset o;
  ocursor c;
  make_universe(10);
  CHECK(oset_init(&o, &objs));
  CHECK(oset_check(&o));
  CHECK(oset_find(&o, keys[0].p, keys[0].len) == NULL);
  CHECK(oset_remove(&o, keys[0].p, keys[0].len) == NULL);
  CHECK(oset_after(&o, NULL, 0) == NULL && oset_before(&o, NULL, 0) == NULL);
  CHECK(oset_seek_after(&o, keys[1].p, keys[1].len, &c) == NULL && oset_cursor_obj(&c) == NULL);
  CHECK(oset_cursor_next(&c) == NULL && oset_cursor_prev(&c) == NULL);
  CHECK(do_insert(&o, 5, 0));
  compare_all(&o, 1);
  CHECK(do_remove(&o, 5));
  CHECK(o.root == NULL);      /* the last remove frees the last leaf */
  compare_all(&o, 1);
  oset_destroy(&o);
  free_universe();
}

/* Random inserts and removes: the tree grows and shrinks through several
** heights, with comparisons along the way. */
static void test_random(size_t ints, size_t ops, int checks) {
  oset o;
  int inserts_ok = 1, removes_ok = 1, finds_ok = 1;
  make_universe(ints);
  CHECK(oset_init(&o, &objs));
  for (size_t n = 0; n < ops; n++) {
    /* insert-heavy in the first half, remove-heavy in the second */
    int insert_bias = n < ops / 2 ? 70 : 30;
    size_t k = rnd_below(nkeys);
    if ((int)rnd_below(100) < insert_bias) inserts_ok &= do_insert(&o, k, (int64_t)n);
    else removes_ok &= do_remove(&o, k);
    k = rnd_below(nkeys);
    finds_ok &= oset_find(&o, keys[k].p, keys[k].len) == model[k];
    if (n % (ops / (size_t)checks) == 0) compare_all(&o, 97);
  }
  CHECK(inserts_ok);
  CHECK(removes_ok);
  CHECK(finds_ok);
  compare_all(&o, 13);
  empty_model(&o);
  compare_all(&o, 13);
  oset_destroy(&o);
  free_universe();
}

/* Sorted runs: every insert at one end, every remove at one end. */
static void test_sequential(size_t ints) {
  oset o;
  int ok = 1;
  make_universe(ints);
  CHECK(oset_init(&o, &objs));
  for (size_t k = 0; k < nkeys; k++) ok &= do_insert(&o, k, 1);
  compare_all(&o, 101);
  for (size_t k = 0; k < nkeys; k += 2) ok &= do_remove(&o, k);
  compare_all(&o, 101);
  for (size_t k = nkeys; k-- > 0;) ok &= do_remove(&o, k);
  compare_all(&o, 1);
  for (size_t k = nkeys; k-- > 0;) ok &= do_insert(&o, k, 2);
  compare_all(&o, 101);
  for (size_t k = nkeys / 3; k < nkeys; k++) ok &= do_remove(&o, k);   /* from the middle on */
  compare_all(&o, 101);
  for (size_t k = 0; k < nkeys; k++) ok &= do_remove(&o, k);
  CHECK(ok);
  compare_all(&o, 1);
  oset_destroy(&o);
  free_universe();
}

/* Inserts every absent key, in random order. */
static int fill_shuffled(oset *o) {
  size_t *order = malloc(nkeys * sizeof *order);
  int ok = 1;
  for (size_t k = 0; k < nkeys; k++) order[k] = k;
  for (size_t k = nkeys - 1; k > 0; k--) {
    size_t j = rnd_below(k + 1), t = order[k];
    order[k] = order[j];
    order[j] = t;
  }
  for (size_t k = 0; k < nkeys; k++) ok &= do_insert(o, order[k], 4);
  free(order);
  return ok;
}

/* Built in random order (nodes between a quarter and all full), then
** emptied by runs of neighbouring keys: whole nodes empty out, and their
** neighbours lend or merge at every level. */
static void test_ranges(size_t ints) {
  oset o;
  int ok = 1;
  make_universe(ints);
  CHECK(oset_init(&o, &objs));
  CHECK(fill_shuffled(&o));
  compare_all(&o, 101);
  for (int run = 0; run < 40; run++) {
    size_t from = rnd_below(nkeys), len = rnd_below(nkeys / 20);
    if (run % 2)
      for (size_t k = from; k < from + len && k < nkeys; k++) ok &= do_remove(&o, k);
    else
      for (size_t k = from + len; k-- > from;) if (k < nkeys) ok &= do_remove(&o, k);
    if (run % 8 == 0) compare_all(&o, 307);
  }
  CHECK(ok);
  compare_all(&o, 101);
  empty_model(&o);
  oset_destroy(&o);
  free_universe();
}

/* ---- find, then insert ---- */

/* oset_find_to_insert, then mostly the insert of that key, sometimes of
** another key (near it, or anywhere) or after a remove: the remembered
** place may be used only where the key really goes. */
static void test_find_to_insert(size_t ints, size_t ops) {
  oset o;
  int ok = 1;
  make_universe(ints);
  CHECK(oset_init(&o, &objs));
  for (size_t op = 0; op < ops; op++) {
    size_t k = rnd_below(nkeys), j;
    if (oset_find_to_insert(&o, keys[k].p, keys[k].len) != model[k]) ok = 0;
    switch (rnd_below(8)) {
    case 0:                     /* a neighbour instead */
      j = k + rnd_below(3);
      if (j > 0) j--;
      if (j < nkeys) ok &= do_insert(&o, j, 8);
      break;
    case 1:                     /* any key instead */
      ok &= do_insert(&o, rnd_below(nkeys), 8);
      break;
    case 2:                     /* a change between */
      ok &= do_remove(&o, rnd_below(nkeys));
      ok &= do_insert(&o, k, 8);
      break;
    case 3:
      ok &= do_remove(&o, k);
      break;
    default:
      ok &= do_insert(&o, k, 8);
    }
    if (op % (ops / 8) == 0) compare_all(&o, 97);
  }
  CHECK(ok);
  compare_all(&o, 13);
  empty_model(&o);
  oset_destroy(&o);
  free_universe();
}

/* ---- split and join (for the contention-adapting layer) ---- */

/* Walks left, then right: together they must give the model's objects in
** order, right's starting at `mid`. */
static int halves_match(oset *left, oset *right, const eobj *mid) {
  ocursor c;
  eobj *obj = oset_seek_after(left, NULL, 0, &c);
  int in_right = 0;
  for (size_t i = 0; i < nkeys; i++) {
    if (model[i] == NULL) continue;
    if (model[i] == mid) {
      if (obj != NULL) return 0;
      obj = oset_seek_after(right, NULL, 0, &c);
      in_right = 1;
    }
    if (obj != model[i] || oset_find(in_right ? right : left, keys[i].p, keys[i].len) != obj)
      return 0;
    obj = oset_cursor_next(&c);
  }
  return in_right && obj == NULL;
}

/* Splits o into o and right, as ocat does; 1 when the halves are sound. */
static int split_checked(oset *o, oset *right, size_t *mid_index) {
  const eobj *mid = oset_middle(o);
  size_t before = atomic_load(&o->count);
  if (mid == NULL || !oset_split(o, right)) return 0;
  *mid_index = index_of(mid);
  return oset_check(o) && oset_check(right) && oset_after(right, NULL, 0) == mid &&
         atomic_load(&o->count) + atomic_load(&right->count) == before &&
         atomic_load(&o->count) > 0 && halves_match(o, right, mid);
}

/* Random trees split at the root and joined back, through the ways a join
** can go: two leaf roots merged or put under a new root, two inner roots
** merged or put under a new root, trees of unlike heights rebuilt; in
** between, each half keeps changing on its own. Keys are the first `span`
** of the universe. */
static void test_split_join(size_t ints, size_t span, int sequential) {
  oset o, r;
  size_t mid = 0, halves_ok = 1;
  int ok = 1;
  make_universe(ints);
  if (span > nkeys) span = nkeys;
  CHECK(oset_init(&o, &objs) && oset_init(&r, &objs));
  if (sequential)
    for (size_t k = 0; k < span; k += 2) ok &= do_insert(&o, k, 6);
  else
    for (size_t k = 0; k < span / 2; k++) ok &= do_insert(&o, rnd_below(span), 6);
  CHECK(ok);
  for (int round = 0; round < 6; round++) {
    if (oset_middle(&o) == NULL) break;
    CHECK(split_checked(&o, &r, &mid));
    /* each half grows and shrinks within its own range */
    for (size_t i = 0; i < span / 4; i++) {
      size_t k = rnd_below(span);
      oset *t = k < mid ? &o : &r;
      if (rnd_below(3) == 0) ok &= do_remove(t, k);
      else ok &= do_insert(t, k, 7);
    }
    if (round == 3)                 /* the right half nearly emptied */
      for (size_t k = mid + 1; k < span; k++) ok &= do_remove(&r, k);
    halves_ok &= oset_check(&o) && oset_check(&r);
    CHECK(oset_join(&o, &r));
    CHECK(r.root == NULL && atomic_load(&r.count) == 0 && oset_node_bytes(&r) == 0);
    compare_all(&o, 7);
  }
  CHECK(ok && halves_ok);
  empty_model(&o);
  oset_destroy(&o);
  oset_destroy(&r);
  free_universe();
}

/* ---- rewrite ---- */

typedef struct rewrite_plan {
  int remove_pct, replace_pct;
  size_t tail;          /* from this key on, remove all but every 16th */
  size_t visits;
  int in_order;
  size_t last;
} rewrite_plan;

static eobj *rewrite_one(eobj *obj, void *ud) {
  rewrite_plan *p = ud;
  size_t k = index_of(obj);
  int roll = (int)rnd_below(100);
  if (p->visits > 0 && k <= p->last) p->in_order = 0;
  if (model[k] != obj) p->in_order = 0;
  p->visits++;
  p->last = k;
  if (roll < p->remove_pct || (k >= p->tail && k % 16 != 0)) {
    eheap_free(&objs, obj);
    model[k] = NULL;
    present--;
    return NULL;
  }
  if (roll < p->remove_pct + p->replace_pct) {
    eobj *r = make_obj(k, -1);
    eheap_free(&objs, obj);
    model[k] = r;
    return r;
  }
  return obj;
}

static void rewrite_case(oset *o, int remove_pct, int replace_pct, size_t tail) {
  rewrite_plan p = {remove_pct, replace_pct, tail, 0, 1, 0};
  size_t before = present;
  oset_rewrite(o, rewrite_one, &p);
  CHECK(p.visits == before && p.in_order);
  compare_all(o, 53);
}

static void fill(oset *o, int pct) {
  for (size_t k = 0; k < nkeys; k++)
    if ((int)rnd_below(100) < pct) do_insert(o, k, 3);
}

static void test_rewrite(size_t ints) {
  static const int cases[][2] = {
    {0, 0}, {0, 100}, {0, 20}, {10, 10}, {50, 0}, {90, 5}, {99, 0}, {100, 0}
  };
  oset o;
  make_universe(ints);
  CHECK(oset_init(&o, &objs));
  rewrite_case(&o, 50, 50, nkeys);       /* on an empty tree */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fill(&o, 80);
    rewrite_case(&o, cases[i][0], cases[i][1], nkeys);
    for (int j = 0; j < 2000; j++) do_remove(&o, rnd_below(nkeys));   /* still a good tree */
    compare_all(&o, 211);
  }
  /* all but one, at either end */
  fill(&o, 100);
  for (size_t k = 1; k < nkeys; k++) do_remove(&o, k);
  rewrite_case(&o, 0, 100, nkeys);
  fill(&o, 100);
  {
    eheap_free(&objs, oset_remove(&o, keys[nkeys - 1].p, keys[nkeys - 1].len));
    model[nkeys - 1] = NULL;
    present--;
  }
  rewrite_case(&o, 99, 0, nkeys);
  empty_model(&o);
  oset_destroy(&o);
  free_universe();
}

/* Rewrites that leave a sparse tail: the last leaf merges with or borrows
** from the one before, whatever that holds. */
static void test_rewrite_tail(size_t ints) {
  oset o;
  make_universe(ints);
  CHECK(oset_init(&o, &objs));
  for (int i = 0; i < 300; i++) {     /* enough to meet both cases */
    fill_shuffled(&o);
    rewrite_case(&o, 0, 0, nkeys - 1 - rnd_below(150));
  }
  empty_model(&o);
  oset_destroy(&o);
  free_universe();
}

/* ---- clear and destroy ---- */

static void test_clear(size_t ints) {
  oset o;
  make_universe(ints);
  CHECK(oset_init(&o, &objs));
  fill(&o, 70);
  oset_clear(&o);                 /* frees every object */
  memset(model, 0, nkeys * sizeof *model);
  present = 0;
  compare_all(&o, 1);
  fill(&o, 30);
  compare_all(&o, 37);
  oset_destroy(&o);               /* frees the rest: ASan would see a leak */
  free_universe();
}

/* Walks by oset_step_after and oset_step_before, one step at a time as
** first/next calls make them, with inserts and removes between steps
** (each makes the place the last step remembers stale, and may free its
** leaf: ASan would see a stale place used) and steps in another tree with
** the same keys: every step gives what the model says. */
static void test_steps(size_t ints, size_t steps) {
  oset o, other;
  eobj *at;
  int ok = 1, other_ok = 1;
  make_universe(ints);
  CHECK(oset_init(&o, &objs) && oset_init(&other, &objs));
  fill(&o, 60);
  for (size_t k = 0; k < nkeys; k++)
    if (!oset_insert(&other, make_obj(k, -1))) other_ok = 0;
  index_model();
  at = oset_step_after(&o, NULL, 0);
  for (size_t n = 0; n < steps; n++) {
    size_t k, r = rnd_below(16);
    if (at == NULL) {   /* off the end: start again, from the first or the last */
      eobj *first = model[0] != NULL ? model[0] : model_after(0);
      eobj *last = model[nkeys - 1] != NULL ? model[nkeys - 1] : model_before(nkeys - 1);
      at = r < 8 ? oset_step_after(&o, NULL, 0) : oset_step_before(&o, NULL, 0);
      ok &= at == (r < 8 ? first : last);
      continue;
    }
    k = index_of(at);
    if (r < 2) {          /* a change between two steps, maybe of the key itself */
      size_t c = r == 0 ? k : rnd_below(nkeys);
      if (model[c] != NULL) ok &= do_remove(&o, c);
      else ok &= do_insert(&o, c, (int64_t)n);
      index_model();
    } else if (r < 4) {   /* a step in the other tree, from the same key */
      eobj *next = oset_step_after(&other, keys[k].p, keys[k].len);
      other_ok &= k + 1 < nkeys ? next != NULL && index_of(next) == k + 1 && next != model[k + 1]
                                : next == NULL;
    }
    if (r == 5) {         /* a step back, then on from there */
      at = oset_step_before(&o, keys[k].p, keys[k].len);
      ok &= at == model_before(k);
      continue;
    }
    at = oset_step_after(&o, keys[k].p, keys[k].len);
    ok &= at == model_after(k);
  }
  CHECK(ok);
  CHECK(other_ok);
  CHECK(oset_check(&o) && oset_check(&other));
  oset_destroy(&o);
  oset_destroy(&other);
  memset(model, 0, nkeys * sizeof *model);
  present = 0;
  free_universe();
}

int main(void) {
  eheap_init(&objs, NULL);
  test_empty();
  test_random(6000, 60000, 12);
  test_random(200000, 400000, 4);
  test_sequential(150000);
  test_ranges(150000);
  test_rewrite(40000);
  test_rewrite_tail(0);
  test_clear(20000);
  test_find_to_insert(6000, 60000);
  test_steps(3000, 40000);
  test_split_join(0, 200, 0);
  test_split_join(0, 300, 1);
  test_split_join(6000, 6000, 0);
  test_split_join(60000, 60000, 0);
  test_split_join(100000, 100000, 1);
  eheap_destroy(&objs);
  return check_summary("oset");
}
