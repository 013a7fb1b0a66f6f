/*
** test_ocat.c — the contention-adapting ordered_set store (src/tables/ocat.c)
** driven directly. Splits and joins are forced one by one, and after each
** the whole walk both ways must give exactly the model's keys in order,
** and next/prev from every key of the universe (present or not, so across
** every base boundary, empty bases included) must match the model. Then
** two writer threads change the table while it adapts on its own and a
** third forces splits and joins, and a walker checks that every step goes
** forward and that keys no writer touches are each seen once per walk.
** Last, an ordered_set table with many bases through the table layer:
** first/next/last/prev walks, chunked scans, a list insert and
** delete_all. Meant to run under AddressSanitizer and ThreadSanitizer.
*/
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "etab.h"
#include "heirloom.h"
#include "node.h"
#include "ocat.h"
#include "term.h"

/* The objects' memory, as a table's (eheap.h): one heap for every store here. */
static eheap objs;

/* ---- the model: integer keys 0..NKEYS-1 (term order is number order) ---- */

#define NKEYS 6000

static unsigned char keybytes[NKEYS][16];
static size_t keylen[NKEYS];
static eobj *model[NKEYS];

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void) {
  return check_random(&rng_state);
}

static void make_keys(void) {
  buf b;
  buf_init(&b);
  for (int i = 0; i < NKEYS; i++) {
    buf_reset(&b);
    term_put_int(&b, i);
    memcpy(keybytes[i], b.p, b.n);
    keylen[i] = b.n;
  }
  buf_free(&b);
}

static eobj *make_obj(int k) {
  buf b;
  size_t koff;
  eobj *o;
  buf_init(&b);
  term_put_array(&b, 2);
  koff = b.n;
  buf_put(&b, keybytes[k], keylen[k]);
  term_put_int(&b, k);
  o = eheap_alloc(&objs, b.n);
  o->hash = 0;
  o->len = (uint32_t)b.n;
  o->koff = (uint32_t)koff;
  o->klen = (uint32_t)keylen[k];
  memcpy(o->data, b.p, b.n);
  buf_free(&b);
  return o;
}

/* The key number of an object. */
static int key_of(const eobj *o) {
  term_num v = {1, -1, 0};
  term_get_num(eobj_key(o), o->klen, &v);
  return (int)v.i;
}

static void put(ocat *c, int k) {
  ocbase *b = ocat_lock_key(c, keybytes[k], keylen[k], 1);
  if (ocat_find(c, keybytes[k], keylen[k]) == NULL) {
    eobj *o = make_obj(k);
    if (ocat_insert(c, o)) model[k] = o;
    else eheap_free(&objs, o);
  }
  ocat_unlock_key(c, b, 1);
}

static void drop(ocat *c, int k) {
  ocbase *b = ocat_lock_key(c, keybytes[k], keylen[k], 1);
  eobj *o = ocat_remove(c, keybytes[k], keylen[k]);
  ocat_unlock_key(c, b, 1);
  if (o != NULL) eheap_free(&objs, o);
  model[k] = NULL;
}

/* ---- checks against the model ---- */

static size_t model_count(void) {
  size_t n = 0;
  for (int i = 0; i < NKEYS; i++) n += model[i] != NULL;
  return n;
}

/* The whole walk, with every base locked, both ways. */
static int walks_match(ocat *c) {
  occursor cur;
  int ok = 1, k = -1;
  ocat_lock_all(c, 0);
  for (eobj *o = ocat_seek_after(c, NULL, 0, &cur); o != NULL; o = ocat_cursor_next(&cur)) {
    while (++k < NKEYS && model[k] == NULL) {}
    if (k >= NKEYS || o != model[k]) ok = 0;
  }
  while (++k < NKEYS)
    if (model[k] != NULL) ok = 0;
  k = NKEYS;
  for (eobj *o = ocat_seek_before(c, NULL, 0, &cur); o != NULL; o = ocat_cursor_prev(&cur)) {
    while (--k >= 0 && model[k] == NULL) {}
    if (k < 0 || o != model[k]) ok = 0;
  }
  while (--k >= 0)
    if (model[k] != NULL) ok = 0;
  ocat_unlock_all(c);
  return ok;
}

/* next and prev from every key, present or not, and from the ends. */
static int steps_match(ocat *c) {
  eobj **after = malloc((NKEYS + 1) * sizeof *after), *last = NULL;
  int ok = 1;
  ochold h;
  for (int i = NKEYS; i-- > 0;) {
    after[i] = last;
    if (model[i] != NULL) last = model[i];
  }
  after[NKEYS] = last;       /* the first of all */
  last = NULL;
  for (int i = 0; i < NKEYS; i++) {
    eobj *o = ocat_step(c, keybytes[i], keylen[i], 1, &h);
    if (o != after[i]) ok = 0;
    ocat_release(c, &h);
    o = ocat_step(c, keybytes[i], keylen[i], -1, &h);
    if (o != last) ok = 0;
    ocat_release(c, &h);
    if (model[i] != NULL) last = model[i];
  }
  if (ocat_step(c, NULL, 0, 1, &h) != after[NKEYS]) ok = 0;
  ocat_release(c, &h);
  if (ocat_step(c, NULL, 0, -1, &h) != last) ok = 0;
  ocat_release(c, &h);
  free(after);
  return ok;
}

static int all_match(ocat *c) {
  return ocat_check(c) && ocat_count(c) == model_count() && walks_match(c) && steps_match(c);
}

/* ---- forced splits and joins ---- */

static void test_adapt(void) {
  ocat c;
  int splits = 0, joins = 0, ok = 1;
  memset(model, 0, sizeof model);
  CHECK(ocat_init(&c, &objs));
  CHECK(all_match(&c));
  for (int i = 0; i < NKEYS; i += 2) put(&c, i);    /* the even keys */
  CHECK(all_match(&c));
  for (int round = 0; round < 40; round++) {        /* split where a random key lies */
    int k = (int)(rnd() % NKEYS);
    if (ocat_force_split(&c, keybytes[k], keylen[k])) splits++;
    if (!all_match(&c)) ok = 0;
  }
  CHECK(ok);
  CHECK(splits >= 20);
  CHECK(ocat_bases(&c) == 1 + splits);
  /* Empty whole bases in the middle, and change the rest. */
  for (int i = NKEYS / 3; i < 2 * NKEYS / 3; i++) drop(&c, i);
  CHECK(all_match(&c));
  for (int i = 1; i < NKEYS; i += 6) put(&c, i);
  CHECK(all_match(&c));
  ok = 1;
  while (ocat_bases(&c) > 1) {                      /* join them all back */
    int k = (int)(rnd() % NKEYS), before = ocat_bases(&c);
    if (ocat_force_join(&c, keybytes[k], keylen[k])) {
      joins++;
      if (ocat_bases(&c) != before - 1 || !all_match(&c)) ok = 0;
    } else if (ocat_force_join(&c, keybytes[0], keylen[0])) {
      joins++;
    }
  }
  CHECK(ok);
  CHECK(joins == splits);
  CHECK(all_match(&c));
  /* Cleared with many bases, then used again. */
  for (int round = 0; round < 10; round++) {
    int k = (int)(rnd() % NKEYS);
    ocat_force_split(&c, keybytes[k], keylen[k]);
  }
  ocat_lock_all(&c, 1);
  ocat_clear(&c);
  ocat_unlock_all(&c);
  memset(model, 0, sizeof model);
  CHECK(all_match(&c));
  for (int i = 0; i < NKEYS; i += 3) put(&c, i);
  CHECK(all_match(&c));
  ocat_destroy(&c);
}

/* ---- threads ---- */

#define STABLE 50           /* keys k % STABLE == 0: no writer touches them */
#define WRITER_OPS 30000
#define WALKS 30

typedef struct shared {
  ocat c;
  atomic_int writers_left;
  atomic_int walk_errors;
  atomic_int walks;
} shared;

typedef struct writer {
  shared *s;
  int id;                   /* owns the keys k % 2 == id, but the stable ones */
  uint64_t rng;
  unsigned char present[NKEYS];
} writer;

static void *writer_main(void *arg) {
  writer *w = arg;
  for (int i = 0; i < WRITER_OPS; i++) {
    int k, hot = i % 4 != 0;   /* mostly a narrow range: contention */
    k = (int)(check_random(&w->rng) % (hot ? NKEYS / 8 : NKEYS));
    k = (k & ~1) | w->id;
    if (k >= NKEYS || k % STABLE == 0) continue;
    ocbase *b = ocat_lock_key(&w->s->c, keybytes[k], keylen[k], 1);
    eobj *o = ocat_find(&w->s->c, keybytes[k], keylen[k]);
    if (o == NULL) {
      o = make_obj(k);
      if (ocat_insert(&w->s->c, o)) w->present[k] = 1;
      else eheap_free(&objs, o);
      o = NULL;
    } else {
      o = ocat_remove(&w->s->c, keybytes[k], keylen[k]);
      w->present[k] = 0;
    }
    ocat_unlock_key(&w->s->c, b, 1);
    if (o != NULL) eheap_free(&objs, o);
  }
  atomic_fetch_sub(&w->s->writers_left, 1);
  return NULL;
}

/* Splits and joins at random places while the writers run. */
static void *adapter_main(void *arg) {
  shared *s = arg;
  uint64_t rng = 77;
  while (atomic_load(&s->writers_left) > 0) {
    int k;
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    k = (int)((rng >> 33) % NKEYS);
    if ((rng >> 20) & 1) ocat_force_split(&s->c, keybytes[k], keylen[k]);
    else ocat_force_join(&s->c, keybytes[k], keylen[k]);
  }
  return NULL;
}

/* Walks by steps, one way then the other: each step must move on, and
** each stable key must be seen once. */
static void *walker_main(void *arg) {
  shared *s = arg;
  for (int walk = 0; walk < WALKS; walk++) {
    int dir = walk % 2 ? -1 : 1, prev = dir > 0 ? -1 : NKEYS, seen = 0, bad = 0;
    unsigned char key[16];
    size_t klen = 0;
    for (;;) {
      ochold h;
      eobj *o = ocat_step(&s->c, klen ? key : NULL, klen, dir, &h);
      int k;
      if (o == NULL) {
        ocat_release(&s->c, &h);
        break;
      }
      k = key_of(o);
      klen = o->klen;
      memcpy(key, eobj_key(o), klen);
      ocat_release(&s->c, &h);
      if (dir > 0 ? k <= prev : k >= prev) bad = 1;
      if (k % STABLE == 0) seen++;
      prev = k;
    }
    if (bad || seen != (NKEYS + STABLE - 1) / STABLE) atomic_fetch_add(&s->walk_errors, 1);
    atomic_fetch_add(&s->walks, 1);
  }
  return NULL;
}

static void test_threads(void) {
  static shared s;
  static writer w[2];
  pthread_t tw[2], ta, tk;
  int ok;
  memset(model, 0, sizeof model);
  CHECK(ocat_init(&s.c, &objs));
  for (int k = 0; k < NKEYS; k += STABLE) put(&s.c, k);
  atomic_init(&s.writers_left, 2);
  atomic_init(&s.walk_errors, 0);
  atomic_init(&s.walks, 0);
  for (int i = 0; i < 2; i++) {
    w[i].s = &s;
    w[i].id = i;
    w[i].rng = 0x1234567ull + (uint64_t)i * 0x9E3779B97F4A7C15ull;
    memset(w[i].present, 0, sizeof w[i].present);
    pthread_create(&tw[i], NULL, writer_main, &w[i]);
  }
  pthread_create(&ta, NULL, adapter_main, &s);
  pthread_create(&tk, NULL, walker_main, &s);
  for (int i = 0; i < 2; i++) pthread_join(tw[i], NULL);
  pthread_join(ta, NULL);
  pthread_join(tk, NULL);
  CHECK(atomic_load(&s.walks) == WALKS);
  CHECK(atomic_load(&s.walk_errors) == 0);
  /* What is left is exactly what the writers left. */
  for (int k = 0; k < NKEYS; k++) {
    if (k % STABLE != 0) model[k] = NULL;
    if (w[0].present[k] || w[1].present[k]) model[k] = ocat_find(&s.c, keybytes[k], keylen[k]);
  }
  ok = 1;
  for (int k = 0; k < NKEYS; k++)
    if ((model[k] != NULL) != (k % STABLE == 0 || w[0].present[k] || w[1].present[k])) ok = 0;
  CHECK(ok);
  CHECK(ocat_check(&s.c));
  CHECK(walks_match(&s.c));
  CHECK(ocat_count(&s.c) == model_count());
  ocat_destroy(&s.c);
}

/* ---- through the table layer ---- */

static tslice key_slice(int k) {
  return (tslice){keybytes[k], keylen[k]};
}

static void insert_pair(etab *t, uint64_t owner, int k) {
  hl_err e = {HL_OK, ""};
  buf b;
  int inserted;
  tslice s;
  buf_init(&b);
  term_put_array(&b, 2);
  term_put_int(&b, k);
  term_put_int(&b, k);
  s = (tslice){b.p, b.n};
  etab_insert(t, owner, &s, 1, 0, &inserted, &e);
  buf_free(&b);
}

/* The key etab_step gives from k (k < 0: from no key), as a number; -1
** at the end. */
static int step_from(etab *t, uint64_t owner, int k, int dir) {
  hl_err e = {HL_OK, ""};
  buf out;
  int found;
  term_num v = {1, -1, 0};
  buf_init(&out);
  etab_step(t, owner, k < 0 ? (tslice){NULL, 0} : key_slice(k), dir, &out, &found, &e);
  if (e.code == HL_OK && found) term_get_num(out.p, out.n, &v);
  buf_free(&out);
  return found ? (int)v.i : -1;
}

static void test_table_layer(void) {
  hl_node *n;
  etab_opts o;
  hl_err e = {HL_OK, ""};
  etab *t;
  int ok = 1, k;
  memset(&o, 0, sizeof o);
  o.type = HL_ORDERED_SET;
  o.access = HL_PUBLIC;
  o.keypos.index = 1;
  CHECK(hl_node_start(NULL, &n) == HL_OK);
  t = etab_new(&n->tables, "ocat", &o, n->host_pid, &e);
  CHECK(t != NULL);
  for (k = 0; k < NKEYS; k += 2) insert_pair(t, n->host_pid, k);
  for (int round = 0; round < 30; round++) {
    k = (int)(rnd() % NKEYS);
    ocat_force_split(&t->store.o, keybytes[k], keylen[k]);
  }
  CHECK(ocat_bases(&t->store.o) > 10);
  CHECK(etab_size(t) == NKEYS / 2);
  /* next and prev from every key, present or not */
  for (k = 0; k < NKEYS; k++) {
    int next = k % 2 ? k + 1 : k + 2, prev = k % 2 ? k - 1 : k - 2;
    if (step_from(t, n->host_pid, k, 1) != (next < NKEYS ? next : -1)) ok = 0;
    if (step_from(t, n->host_pid, k, -1) != (prev >= 0 ? prev : -1)) ok = 0;
  }
  CHECK(ok);
  CHECK(step_from(t, n->host_pid, -1, 1) == 0);
  CHECK(step_from(t, n->host_pid, -1, -1) == NKEYS - 2);
  /* a scan in chunks of 7, both ways, sees every object once, in order */
  for (int dir = 1; dir >= -1; dir -= 2) {
    buf out, from;
    size_t count, total = 0;
    int done = 0;
    buf_init(&out);
    buf_init(&from);
    while (!done && e.code == HL_OK) {
      tslice f = from.n ? (tslice){from.p, from.n} : (tslice){NULL, 0};
      buf next;
      buf_init(&next);
      buf_reset(&out);
      etab_scan(t, n->host_pid, f, dir, NULL, 7, &out, &count, &next, &done, &e);
      for (size_t at = 0, i = 0; i < count; i++) {
        uint32_t len;
        size_t h = term_get_header(out.p + at, out.n - at, &(int){0}, &len);
        term_num v = {1, -1, 0};
        term_get_num(out.p + at + h, out.n - at - h, &v);
        if (v.i != (dir > 0 ? (int64_t)(2 * total) : (int64_t)(NKEYS - 2 - 2 * total))) ok = 0;
        at += term_size_trusted(out.p + at, out.n - at);
        total++;
      }
      buf_reset(&from);
      buf_put(&from, next.p, next.n);
      buf_free(&next);
    }
    CHECK(e.code == HL_OK && ok && total == NKEYS / 2);
    buf_free(&out);
    buf_free(&from);
  }
  /* a list insert across every base, then delete_all */
  {
    buf objs[8];
    tslice s[8];
    int inserted;
    for (int i = 0; i < 8; i++) {
      buf_init(&objs[i]);
      term_put_array(&objs[i], 2);
      term_put_int(&objs[i], 1 + i * (NKEYS / 8));
      term_put_int(&objs[i], 0);
      s[i] = (tslice){objs[i].p, objs[i].n};
    }
    etab_insert(t, n->host_pid, s, 8, 0, &inserted, &e);
    CHECK(e.code == HL_OK && inserted);
    CHECK(etab_size(t) == NKEYS / 2 + 8);
    CHECK(step_from(t, n->host_pid, 0, 1) == 1);
    for (int i = 0; i < 8; i++) buf_free(&objs[i]);
  }
  CHECK(ocat_check(&t->store.o));
  etab_delete_all(t, n->host_pid, &e);
  CHECK(e.code == HL_OK && etab_size(t) == 0);
  CHECK(step_from(t, n->host_pid, -1, 1) == -1 && step_from(t, n->host_pid, NKEYS / 2, -1) == -1);
  insert_pair(t, n->host_pid, 5);
  CHECK(step_from(t, n->host_pid, -1, -1) == 5 && etab_size(t) == 1);
  etab_drop(t, n->host_pid, &e);
  CHECK(e.code == HL_OK);
  etab_unref(t);
  hl_node_stop(n);
}

int main(void) {
  eheap_init(&objs, NULL);
  make_keys();
  test_adapt();
  test_threads();
  test_table_layer();
  eheap_destroy(&objs);
  return check_summary("ocat");
}
