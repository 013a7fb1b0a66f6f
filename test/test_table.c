/*
** test_table.c — the table layer through the public C API: every type's
** insert semantics, lookups, counters, iteration, byte-string helpers,
** error codes with their messages, and access modes checked against the
** calling process (through the internal API, which takes the caller).
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "etab.h"
#include "heirloom.h"
#include "node.h"
#include "term.h"
#include "testutil.h"

static hl_buf b, out;

static void obj(int64_t k, int64_t v) {
  hl_buf_clear(&b);
  hl_term_array(&b, 2);
  hl_term_int(&b, k);
  hl_term_int(&b, v);
}

static hl_table *new_table(hl_node *n, const char *name, hl_table_type type) {
  hl_table_opts o = {type, HL_PUBLIC, 1, 1};
  hl_table *t = NULL;
  CHECK(hl_table_new(n, name, &o, &t) == HL_OK);
  return t;
}

static void test_types(hl_node *n) {
  hl_table *set = new_table(n, "set", HL_SET);
  hl_table *bag = new_table(n, "bag", HL_BAG);
  hl_table *dbag = new_table(n, "dbag", HL_DUPLICATE_BAG);
  hl_table *oset = new_table(n, "oset", HL_ORDERED_SET);
  hl_table *all[] = {set, bag, dbag, oset};
  for (int i = 0; i < 4; i++) {
    obj(1, 10);
    CHECK(hl_table_insert(all[i], b.data, b.len) == HL_OK);
    CHECK(hl_table_insert(all[i], b.data, b.len) == HL_OK);
    obj(1, 20);
    CHECK(hl_table_insert(all[i], b.data, b.len) == HL_OK);
  }
  CHECK(lookup_count(set, 1) == 1);    /* replaced */
  CHECK(lookup_count(oset, 1) == 1);
  CHECK(lookup_count(bag, 1) == 2);    /* {1,10} once, {1,20} */
  CHECK(lookup_count(dbag, 1) == 3);   /* duplicates kept */
  obj(1, 30);
  CHECK(hl_table_insert_new(set, b.data, b.len) == HL_EEXIST);
  CHECK(lookup_count(set, 1) == 1);
  obj(2, 30);
  CHECK(hl_table_insert_new(set, b.data, b.len) == HL_OK);
  CHECK(hl_table_size(set) == 2);
  int_term(&b, 1);
  CHECK(hl_table_delete(dbag, b.data, b.len) == HL_OK);
  CHECK(lookup_count(dbag, 1) == 0);
  for (int i = 0; i < 4; i++) {
    CHECK(hl_table_drop(all[i]) == HL_OK);
    hl_table_release(all[i]);
  }
}

static void test_counters(hl_node *n) {
  hl_table *t = new_table(n, "counters", HL_SET);
  hl_table *bag = new_table(n, "counterbag", HL_BAG);
  int64_t r = 0;
  obj(7, 40);
  hl_table_insert(t, b.data, b.len);
  int_term(&b, 7);
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, 2, &r) == HL_OK && r == 42);
  CHECK(hl_table_update_counter(t, b.data, b.len, 1, 1, &r) == HL_EBADARG);
  CHECK(has_msg("is the key"));
  CHECK(hl_table_update_counter(t, b.data, b.len, 3, 1, &r) == HL_EBADARG);
  CHECK(has_msg("past the end"));
  int_term(&b, 8);
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, 1, &r) == HL_ENOTFOUND);
  CHECK(has_msg("hl_table_update_counter: key not found"));
  /* across 2^53, where a counter's encoding grows from 9 bytes to 11 and
  ** back: read the short way below it, the general way above it */
  obj(8, ((int64_t)1 << 53) - 2);
  hl_table_insert(t, b.data, b.len);
  int_term(&b, 8);
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, 1, &r) == HL_OK &&
        r == ((int64_t)1 << 53) - 1);
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, 2, &r) == HL_OK &&
        r == ((int64_t)1 << 53) + 1);
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, -3, &r) == HL_OK &&
        r == ((int64_t)1 << 53) - 2);
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, 0, &r) == HL_OK &&
        r == ((int64_t)1 << 53) - 2);
  obj(7, 0);
  hl_table_insert(bag, b.data, b.len);
  int_term(&b, 7);
  CHECK(hl_table_update_counter(bag, b.data, b.len, 2, 1, &r) == HL_ETYPE);
  CHECK(has_msg("not a bag"));
  /* a string element is not a counter */
  hl_buf_clear(&b);
  hl_term_array(&b, 2);
  hl_term_int(&b, 9);
  hl_term_string(&b, "x", 1);
  hl_table_insert(t, b.data, b.len);
  int_term(&b, 9);
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, 1, &r) == HL_EBADARG);
  CHECK(has_msg("not an integer"));
  CHECK(lookup_count(t, 9) == 1);
  hl_table_drop(t);
  hl_table_drop(bag);
  hl_table_release(t);
  hl_table_release(bag);
}

/* A counter in place is found from the key's end when it lies after the
** key: counters before the key, right after it, after elements of every
** size, and past the end, with the key at position 2. */
static void test_counters_around_key(hl_node *n) {
  hl_table_opts o = {HL_SET, HL_PUBLIC, 1, 2};
  hl_table *t = NULL;
  int64_t r = 0, got;
  CHECK(hl_table_new(n, "keyed2", &o, &t) == HL_OK);
  if (t == NULL) return;
  hl_buf_clear(&b);
  hl_term_array(&b, 6);
  hl_term_int(&b, 10);                    /* 1: before the key */
  hl_term_string(&b, "key", 3);           /* 2: the key */
  hl_term_int(&b, 20);                    /* 3: right after it */
  hl_term_array(&b, 2);                   /* 4: an array of two */
  hl_term_string(&b, "inner", 5);
  hl_term_int(&b, 1);
  hl_term_int(&b, ((int64_t)1 << 60));    /* 5: past 2^53, 11 bytes */
  hl_term_int(&b, 50);                    /* 6: the last */
  CHECK(hl_table_insert(t, b.data, b.len) == HL_OK);
  hl_buf_clear(&b);
  hl_term_string(&b, "key", 3);
  CHECK(hl_table_update_counter(t, b.data, b.len, 1, 1, &r) == HL_OK && r == 11);
  CHECK(hl_table_update_counter(t, b.data, b.len, 3, 2, &r) == HL_OK && r == 22);
  CHECK(hl_table_update_counter(t, b.data, b.len, 6, 5, &r) == HL_OK && r == 55);
  CHECK(hl_table_update_counter(t, b.data, b.len, 5, 1, &r) == HL_OK &&
        r == ((int64_t)1 << 60) + 1);
  CHECK(hl_table_update_counter(t, b.data, b.len, 4, 1, &r) == HL_EBADARG);
  CHECK(has_msg("not an integer"));
  CHECK(hl_table_update_counter(t, b.data, b.len, 2, 1, &r) == HL_EBADARG);
  CHECK(has_msg("is the key"));
  CHECK(hl_table_update_counter(t, b.data, b.len, 7, 1, &r) == HL_EBADARG);
  CHECK(has_msg("past the end"));
  /* what was counted is what a lookup reads back, the rest untouched */
  {
    static const int64_t want[] = {11, 0, 22, 0, ((int64_t)1 << 60) + 1, 55};
    size_t count = 0;
    const void *e;
    size_t elen;
    hl_buf_clear(&out);
    CHECK(hl_table_lookup(t, b.data, b.len, &out, &count) == HL_OK && count == 1);
    for (uint32_t i = 0; i < 6; i++) {
      got = 0;
      if (want[i] == 0) continue;   /* the key and the inner array */
      CHECK(hl_term_array_elem(out.data, out.len, i, &e, &elen) &&
            hl_term_get_int(e, elen, &got) && got == want[i]);
    }
    CHECK(hl_term_array_elem(out.data, out.len, 3, &e, &elen) &&
          hl_term_array_elem(e, elen, 1, &e, &elen) && hl_term_get_int(e, elen, &got) &&
          got == 1);
  }
  hl_table_drop(t);
  hl_table_release(t);
}

static void test_bytes(hl_node *n) {
  hl_table *t = new_table(n, "bytes", HL_SET);
  hl_buf v;
  int64_t r;
  hl_buf_init(&v);
  CHECK(hl_table_put(t, "k\0ey", 4, "va\0lue", 6) == HL_OK);
  CHECK(hl_table_get(t, "k\0ey", 4, &v) == HL_OK);
  CHECK(v.len == 6 && memcmp(v.data, "va\0lue", 6) == 0);
  CHECK(hl_table_get(t, "nope", 4, &v) == HL_ENOTFOUND);
  CHECK(hl_table_incr(t, "hits", 4, 5, &r) == HL_OK && r == 5);
  CHECK(hl_table_incr(t, "hits", 4, -2, &r) == HL_OK && r == 3);
  CHECK(hl_table_del(t, "k\0ey", 4) == HL_OK);
  hl_buf_clear(&v);
  CHECK(hl_table_get(t, "k\0ey", 4, &v) == HL_ENOTFOUND);
  hl_buf_free(&v);
  hl_table_drop(t);
  hl_table_release(t);
}

static void test_iteration(hl_node *n) {
  hl_table *oset = new_table(n, "ordered", HL_ORDERED_SET);
  hl_table *set = new_table(n, "hashed", HL_SET);
  hl_buf k, next;
  int64_t v, prev = -1;
  int visits = 0, seen[100] = {0}, ordered = 1;
  hl_buf_init(&k);
  hl_buf_init(&next);
  for (int i = 99; i >= 0; i--) {
    obj(i, i);
    hl_table_insert(oset, b.data, b.len);
    hl_table_insert(set, b.data, b.len);
  }
  CHECK(hl_table_next(oset, NULL, 0, &k) == HL_OK);
  while (1) {
    CHECK(hl_term_get_int(k.data, k.len, &v) > 0);
    if (v <= prev) ordered = 0;
    prev = v;
    if (v == 50) {       /* next works from a deleted key */
      CHECK(hl_table_delete(oset, k.data, k.len) == HL_OK);
    }
    hl_buf_clear(&next);
    if (hl_table_next(oset, k.data, k.len, &next) != HL_OK) break;
    hl_buf_clear(&k);
    hl_buf_append(&k, next.data, next.len);
    visits++;
  }
  CHECK(ordered && prev == 99 && visits == 99);
  hl_buf_clear(&k);
  CHECK(hl_table_next(set, NULL, 0, &k) == HL_OK);
  visits = 0;
  do {
    CHECK(hl_term_get_int(k.data, k.len, &v) > 0 && v >= 0 && v < 100);
    if (v >= 0 && v < 100) seen[v]++;
    visits++;
    hl_buf_clear(&next);
    if (hl_table_next(set, k.data, k.len, &next) != HL_OK) break;
    hl_buf_clear(&k);
    hl_buf_append(&k, next.data, next.len);
  } while (visits < 1000);
  CHECK(visits == 100);
  for (int i = 0; i < 100; i++) CHECK(seen[i] == 1);
  hl_buf_free(&k);
  hl_buf_free(&next);
  hl_table_drop(oset);
  hl_table_drop(set);
  hl_table_release(oset);
  hl_table_release(set);
}

/* s = the spec [{{'$1', '$2'}, [{'>', '$1', lo}], ['$1']}]: the keys above lo. */
static void keys_above(hl_buf *s, int64_t lo) {
  hl_buf_clear(s);
  hl_term_array(s, 1);
  hl_term_array(s, 3);
  hl_term_array(s, 2);
  hl_term_string(s, "$1", 2);
  hl_term_string(s, "$2", 2);
  hl_term_array(s, 1);
  hl_term_array(s, 3);
  hl_term_string(s, ">", 1);
  hl_term_string(s, "$1", 2);
  hl_term_int(s, lo);
  hl_term_array(s, 1);
  hl_term_string(s, "$1", 2);
}

/* 1 when o holds exactly the count int terms want[0..n). */
static int ints_are(const hl_buf *o, size_t count, const int64_t *want, size_t n) {
  size_t at = 0;
  if (count != n) return 0;
  for (size_t i = 0; i < n; i++) {
    int64_t v;
    size_t size = hl_term_get_int(o->data + at, o->len - at, &v);
    if (size == 0 || v != want[i]) return 0;
    at += size;
  }
  return at == o->len;
}

/* select and select_reverse; the expected results are ETS's (OTP 25). */
static void test_select(hl_node *n) {
  hl_table *oset = new_table(n, "sel_o", HL_ORDERED_SET), *set = new_table(n, "sel_s", HL_SET);
  static const int64_t up[] = {2, 3, 4, 5, 6, 7}, down[] = {7, 6, 5, 4, 3, 2};
  hl_buf spec, fwd;
  size_t count = 99, fcount = 99;
  hl_buf_init(&spec);
  hl_buf_init(&fwd);
  for (int i = 7; i >= 1; i--) {
    obj(i, i * 10);
    CHECK(hl_table_insert(oset, b.data, b.len) == HL_OK);
    CHECK(hl_table_insert(set, b.data, b.len) == HL_OK);
  }
  keys_above(&spec, 1);
  hl_buf_clear(&out);
  CHECK(hl_table_select(oset, spec.data, spec.len, &out, &count) == HL_OK);
  CHECK(ints_are(&out, count, up, 6));
  hl_buf_clear(&out);
  CHECK(hl_table_select_reverse(oset, spec.data, spec.len, &out, &count) == HL_OK);
  CHECK(ints_are(&out, count, down, 6));
  /* in a hash table select_reverse is select */
  CHECK(hl_table_select(set, spec.data, spec.len, &fwd, &fcount) == HL_OK);
  hl_buf_clear(&out);
  CHECK(hl_table_select_reverse(set, spec.data, spec.len, &out, &count) == HL_OK);
  CHECK(count == 6 && fcount == 6 && out.len == fwd.len && memcmp(out.data, fwd.data, fwd.len) == 0);
  /* nothing matches: no results, out untouched */
  keys_above(&spec, 50);
  hl_buf_clear(&out);
  hl_buf_append(&out, "x", 1);
  CHECK(hl_table_select_reverse(oset, spec.data, spec.len, &out, &count) == HL_OK);
  CHECK(count == 0 && out.len == 1);
  /* a bad spec: the compiler's message; not a term at all: HL_EFORMAT */
  hl_buf_clear(&spec);
  hl_term_array(&spec, 1);
  hl_term_int(&spec, 5);
  CHECK(hl_table_select_reverse(oset, spec.data, spec.len, &out, &count) == HL_EBADARG);
  CHECK(has_msg("hl_table_select_reverse: match spec: clause 1: a clause must be an array"));
  CHECK(hl_table_select(oset, "\x60", 1, &out, &count) == HL_EFORMAT);
  CHECK(has_msg("hl_table_select: spec is not a well-formed term"));
  CHECK(count == 0 && out.len == 1);
  hl_buf_free(&spec);
  hl_buf_free(&fwd);
  hl_table_drop(oset);
  hl_table_drop(set);
  hl_table_release(oset);
  hl_table_release(set);
}

static void test_errors(hl_node *n) {
  hl_table *t = new_table(n, "errors", HL_SET), *again = NULL, *found = NULL;
  hl_table_opts o = {HL_SET, HL_PUBLIC, 1, 3};
  hl_table *wide;
  unsigned char garbage[] = {0x60, 0x05, 0x20};
  CHECK(hl_table_new(n, "errors", NULL, &again) == HL_OK);   /* unnamed: no clash */
  hl_table_release(again);
  CHECK(hl_table_new(n, "errors", &o, &again) == HL_EEXIST);
  CHECK(has_msg("already exists"));
  CHECK(hl_table_open(n, "errors", &found) == HL_OK && found == t);
  hl_table_release(found);
  CHECK(hl_table_open(n, "missing", &found) == HL_ENOTFOUND);
  CHECK(hl_table_insert(t, garbage, sizeof garbage) == HL_EFORMAT);
  CHECK(has_msg("hl_table_insert: obj is not a well-formed term"));
  o.named = 0;
  CHECK(hl_table_new(n, "wide", &o, &wide) == HL_OK);
  obj(1, 2);
  CHECK(hl_table_insert(wide, b.data, b.len) == HL_EBADARG);
  CHECK(has_msg("object has 2 elements but keypos is 3"));
  CHECK(hl_table_size(wide) == 0);
  hl_buf_clear(&b);
  hl_term_nil(&b);
  CHECK(hl_table_lookup(t, b.data, b.len, &out, &(size_t){0}) == HL_EBADARG);
  CHECK(has_msg("key must not be nil"));
  CHECK(hl_table_drop(t) == HL_OK);
  obj(1, 2);
  CHECK(hl_table_insert(t, b.data, b.len) == HL_ECLOSED);
  CHECK(has_msg("dropped"));
  CHECK(hl_table_open(n, "errors", &found) == HL_ENOTFOUND);
  hl_table_release(t);
  hl_table_drop(wide);
  hl_table_release(wide);
}

/* A map with a nil or a NaN key encodes, but no Lua table can hold it:
** before, the C API stored it and every tab2list, select, foldl and
** lookup of the table then raised "a stored object does not decode". Such
** a term is refused on the way in with HL_EBADARG, naming the argument;
** bytes that are no term at all stay HL_EFORMAT. */
static void bad_key_object(int nan_key) {
  hl_buf_clear(&b);
  hl_term_array(&b, 2);
  hl_term_int(&b, 1);
  hl_term_array(&b, 1);             /* deep inside: {1, {{[key] = true}}} */
  hl_term_map(&b, 1);
  if (nan_key) hl_term_float(&b, NAN);
  else hl_term_nil(&b);
  hl_term_bool(&b, 1);
}

static void test_unreadable_terms(hl_node *n) {
  hl_table *t = new_table(n, "unreadable", HL_SET);
  hl_buf key;
  int64_t r;
  hl_buf_init(&key);
  for (int nan_key = 0; nan_key <= 1; nan_key++) {
    const char *why = nan_key ? "NaN" : "nil";
    bad_key_object(nan_key);
    CHECK(hl_term_check(&b) == HL_EBADARG);
    CHECK(has_msg(why));
    CHECK(hl_table_insert(t, b.data, b.len) == HL_EBADARG);
    CHECK(has_msg("hl_table_insert: obj ") && has_msg(why));
    CHECK(hl_table_insert_new(t, b.data, b.len) == HL_EBADARG);
    CHECK(has_msg("hl_table_insert_new: obj ") && has_msg(why));
    CHECK(hl_table_size(t) == 0);
    /* the same term as a key */
    CHECK(hl_table_lookup(t, b.data, b.len, &out, &(size_t){0}) == HL_EBADARG);
    CHECK(has_msg("hl_table_lookup: key ") && has_msg(why));
    CHECK(hl_table_delete(t, b.data, b.len) == HL_EBADARG);
    CHECK(has_msg("hl_table_delete: key "));
    CHECK(hl_table_update_counter(t, b.data, b.len, 2, 1, &r) == HL_EBADARG);
    CHECK(has_msg("hl_table_update_counter: key "));
    CHECK(hl_table_next(t, b.data, b.len, &out) == HL_EBADARG);
    CHECK(has_msg("hl_table_next: key "));
  }
  /* a nil or NaN value, or a nil element, is fine: only keys cannot be */
  hl_buf_clear(&b);
  hl_term_array(&b, 3);
  hl_term_int(&b, 1);
  hl_term_nil(&b);
  hl_term_map(&b, 1);
  hl_term_string(&b, "x", 1);
  hl_term_float(&b, NAN);
  CHECK(hl_term_check(&b) == HL_OK);
  CHECK(hl_table_insert(t, b.data, b.len) == HL_OK);
  CHECK(hl_table_size(t) == 1);
  /* malformed bytes are still a format error */
  hl_buf_clear(&key);
  hl_term_map(&key, 2);
  CHECK(hl_table_insert(t, key.data, key.len) == HL_EFORMAT);
  CHECK(has_msg("hl_table_insert: obj is not a well-formed term"));
  hl_buf_free(&key);
  hl_table_drop(t);
  hl_table_release(t);
}

/* A dropped table's big slabs wait among the node's spares, and the next
** table to grow, of either kind, takes them (eheap.h). */
static void test_spares(hl_node *n) {
  enum { N = 100000 };
  eheap_spares *spares = &n->tables.spares;
  hl_table *set = new_table(n, "spares_set", HL_SET), *oset;
  size_t kept;
  for (int64_t k = 1; k <= N; k++) {
    obj(k, k);
    hl_table_insert(set, b.data, b.len);
  }
  CHECK(hl_table_size(set) == N);
  CHECK(hl_table_drop(set) == HL_OK);
  hl_table_release(set);
  kept = eheap_spares_bytes(spares);
  CHECK(kept >= (size_t)N * 40 / 2);   /* most of the objects' slabs */
  oset = new_table(n, "spares_oset", HL_ORDERED_SET);
  for (int64_t k = 1; k <= N; k++) {
    obj(k, -k);
    hl_table_insert(oset, b.data, b.len);
  }
  CHECK(hl_table_size(oset) == N);
  CHECK(eheap_spares_bytes(spares) < kept / 4);
  CHECK(lookup_count(oset, 1) == 1 && lookup_count(oset, N) == 1 && lookup_count(oset, N + 1) == 0);
  CHECK(hl_table_drop(oset) == HL_OK);
  hl_table_release(oset);
  CHECK(eheap_spares_bytes(spares) >= kept / 2);
}

/* Inserts the term in b into t (as its owner); 1 on success. */
static int put(etab *t, uint64_t owner, int only_new) {
  hl_err e = {HL_OK, ""};
  tslice s = {b.data, b.len};
  int inserted = 0;
  return etab_insert(t, owner, &s, 1, only_new, &inserted, &e) == HL_OK && inserted;
}

/* 1 when the object under key k (an integer) is exactly the term in b. */
static int holds_b(etab *t, uint64_t owner, int64_t k) {
  hl_err e = {HL_OK, ""};
  hl_buf key;
  size_t count = 0;
  int ok;
  hl_buf_init(&key);
  int_term(&key, k);
  hl_buf_clear(&out);
  ok = etab_lookup(t, owner, (tslice){key.data, key.len}, (buf *)&out, &count, &e) == HL_OK &&
       count == 1 && out.len == b.len && memcmp(out.data, b.data, b.len) == 0;
  hl_buf_free(&key);
  return ok;
}

/* {x, k, s}: the key at position 2, after x, then the string s. */
static void obj3(int64_t x, int64_t k, const char *str) {
  hl_buf_clear(&b);
  hl_term_array(&b, 3);
  hl_term_int(&b, x);
  hl_term_int(&b, k);
  hl_term_string(&b, str, strlen(str));
}

/* An insert over an object of the same size is written where the old one
** lies; any other replaces it. Either way the table holds the new object,
** finds it by its key, and counts its bytes honestly. */
static void test_replace(hl_node *n) {
  static const hl_table_type types[] = {HL_SET, HL_ORDERED_SET};
  uint64_t owner = n->host_pid;
  for (int i = 0; i < 2; i++) {
    etab_opts o;
    hl_err e = {HL_OK, ""};
    etab *t;
    size_t small, big;
    memset(&o, 0, sizeof o);
    o.type = types[i];
    o.keypos.index = 2;
    t = etab_new(&n->tables, "replace", &o, owner, &e);
    CHECK(t != NULL);
    obj3(1, 7, "ab");
    CHECK(put(t, owner, 0) && holds_b(t, owner, 7));
    small = etab_memory(t);
    obj3(2, 7, "cd");                                  /* the same size */
    CHECK(put(t, owner, 0) && holds_b(t, owner, 7) && etab_memory(t) == small);
    obj3(3, 7, "a longer value than before");         /* larger */
    CHECK(put(t, owner, 0) && holds_b(t, owner, 7));
    big = etab_memory(t);
    CHECK(big > small);
    /* the same size, but the key 2 bytes further on: an integer past 2^53
    ** takes 11 bytes, and the string 2 fewer */
    obj3(1, 7, "ab");
    CHECK(put(t, owner, 0) && etab_memory(t) == small);
    obj3(((int64_t)1 << 60) + 1, 7, "");
    CHECK(put(t, owner, 0) && holds_b(t, owner, 7) && etab_memory(t) == small);
    obj3(5, 7, "xy");                                  /* insert_new keeps the old */
    CHECK(!put(t, owner, 1));
    obj3(((int64_t)1 << 60) + 1, 7, "");
    CHECK(holds_b(t, owner, 7));
    obj3(5, 8, "xy");
    CHECK(put(t, owner, 1) && holds_b(t, owner, 8) && etab_size(t) == 2);
    CHECK(etab_drop(t, owner, &e) == HL_OK);
    etab_unref(t);
  }
}

static void test_access(hl_node *n) {
  static const hl_access modes[] = {HL_PUBLIC, HL_PROTECTED, HL_PRIVATE};
  uint64_t owner = n->host_pid, other = owner + 1000;
  for (int i = 0; i < 3; i++) {
    etab_opts o;
    hl_err e = {HL_OK, ""};
    etab *t;
    tslice s;
    size_t count;
    int inserted;
    memset(&o, 0, sizeof o);
    o.type = HL_SET;
    o.access = modes[i];
    o.keypos.index = 1;
    t = etab_new(&n->tables, "access", &o, owner, &e);
    CHECK(t != NULL);
    obj(1, 1);
    s = (tslice){b.data, b.len};
    etab_insert(t, other, &s, 1, 0, &inserted, &e);
    CHECK((e.code == HL_OK) == (modes[i] == HL_PUBLIC));
    if (modes[i] != HL_PUBLIC) CHECK(strstr(e.msg, "only its owner may write") != NULL);
    err_clear(&e);
    etab_insert(t, owner, &s, 1, 0, &inserted, &e);
    CHECK(e.code == HL_OK);
    int_term(&b, 1);
    hl_buf_clear(&out);
    etab_lookup(t, other, (tslice){b.data, b.len}, (buf *)&out, &count, &e);
    CHECK((e.code == HL_OK) == (modes[i] != HL_PRIVATE));
    err_clear(&e);
    etab_drop(t, other, &e);
    CHECK((e.code == HL_OK) == (modes[i] == HL_PUBLIC));
    err_clear(&e);
    if (modes[i] != HL_PUBLIC) CHECK(etab_drop(t, owner, &e) == HL_OK);
    etab_unref(t);
  }
}

int main(void) {
  hl_node *n;
  hl_buf_init(&b);
  hl_buf_init(&out);
  CHECK(hl_node_start(NULL, &n) == HL_OK);
  test_types(n);
  test_counters(n);
  test_counters_around_key(n);
  test_bytes(n);
  test_iteration(n);
  test_select(n);
  test_errors(n);
  test_unreadable_terms(n);
  test_access(n);
  test_replace(n);
  test_spares(n);
  hl_node_stop(n);
  hl_buf_free(&b);
  hl_buf_free(&out);
  return check_summary("table");
}
