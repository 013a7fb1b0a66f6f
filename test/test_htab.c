/*
** test_htab.c — the hash tables' storage (src/tables/htab.c) driven
** directly, with hashes made up by the test: colliding hashes, runs that
** pile up at a stripe's end, bag duplicates, deletes in the middle of runs
** and stripes grown many times, some growths made to fail. After every
** step a full walk must give exactly the model's objects in (hash, key,
** insertion) order, and each stripe's array must keep its invariants. Then
** seeks from keys not in the table, across growths; then two threads
** inserting while a third walks (meant to run under ThreadSanitizer too).
*/
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "htab.h"
#include "term.h"

/* The objects' memory, as a table's (eheap.h): one heap for every store here. */
static eheap objs;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void) {
  return check_random(&rng_state);
}

static uint64_t make_hash(unsigned stripe, uint64_t low) {
  return (uint64_t)stripe << (64 - HTAB_STRIPE_BITS) | (low & (~0ull >> HTAB_STRIPE_BITS));
}

/* An object [key, tag] whose key's hash is the given one. */
static eobj *make_obj(uint64_t hash, int64_t key, int64_t tag) {
  buf b;
  size_t koff, klen;
  eobj *o;
  buf_init(&b);
  term_put_array(&b, 2);
  koff = b.n;
  term_put_int(&b, key);
  klen = b.n - koff;
  term_put_int(&b, tag);
  o = eheap_alloc(&objs, b.n);
  o->klen = (uint32_t)klen;
  o->hash = hash;
  o->len = (uint32_t)b.n;
  o->koff = (uint32_t)koff;
  memcpy(o->data, b.p, b.n);
  buf_free(&b);
  return o;
}

/* ---- the model: every object, sorted by (hash, key, insertion) ---- */

typedef struct mobj {
  uint64_t hash;
  int64_t key;
  eobj *o;
} mobj;

static mobj *model;
static size_t nmodel, capmodel;

static int mcmp(uint64_t ha, int64_t ka, uint64_t hb, int64_t kb) {
  if (ha != hb) return ha < hb ? -1 : 1;
  return ka < kb ? -1 : ka > kb;
}

/* The first index whose (hash, key) is above (upper) or at least (lower). */
static size_t bound(uint64_t hash, int64_t key, int upper) {
  size_t lo = 0, hi = nmodel;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = mcmp(model[mid].hash, model[mid].key, hash, key);
    if (c < 0 || (upper && c == 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static void model_add(uint64_t hash, int64_t key, eobj *o) {
  size_t at = bound(hash, key, 1);
  if (nmodel == capmodel) {
    capmodel = capmodel ? capmodel * 2 : 1024;
    model = realloc(model, capmodel * sizeof *model);
  }
  memmove(&model[at + 1], &model[at], (nmodel - at) * sizeof *model);
  model[at] = (mobj){hash, key, o};
  nmodel++;
}

static void model_remove(size_t at) {
  memmove(&model[at], &model[at + 1], (nmodel - at - 1) * sizeof *model);
  nmodel--;
}

/* ---- the table under test ---- */

static size_t home_of(unsigned bits, uint64_t hash) {
  return (size_t)((hash << HTAB_STRIPE_BITS) >> (64 - bits));
}

/* Each stripe: sorted, every object at or after its home with no gap
** between, its count right, and only its own hashes; the slot bytes
** counted are the arrays'. */
static int stripes_sound(htab *h) {
  size_t total = 0, bytes = 0;
  for (unsigned s = 0; s < HTAB_STRIPES; s++) {
    const hpart *p = &h->stripes[s].p;
    size_t count = 0;
    const hslot *prev = NULL;
    for (size_t i = 0; i < p->size; i++) {
      const hslot *sl = &p->slots[i];
      size_t home;
      if (sl->obj == NULL) continue;
      count++;
      home = home_of(p->bits, sl->hash);
      if (sl->hash != sl->obj->hash || htab_stripe_of(sl->hash) != s || home > i) return 0;
      for (size_t j = home; j < i; j++)
        if (p->slots[j].obj == NULL) return 0;
      if (prev != NULL && htab_order(prev->hash, eobj_key(prev->obj), prev->obj->klen, sl->hash,
                                     eobj_key(sl->obj), sl->obj->klen) > 0)
        return 0;
      prev = sl;
    }
    if (count != atomic_load(&p->count)) return 0;
    total += count;
    bytes += p->size * sizeof(hslot);
  }
  return total == htab_count(h) && bytes == atomic_load(&h->bytes);
}

/* A full walk over every stripe gives exactly the model, in its order. */
static int walk_is_model(htab *h) {
  size_t i = 0;
  for (unsigned s = 0; s < HTAB_STRIPES; s++) {
    size_t at;
    for (eobj *o = htab_seek(h, s, 0, NULL, 0, &at); o != NULL; o = htab_next(h, s, &at)) {
      if (i >= nmodel || model[i].o != o) return 0;
      i++;
    }
  }
  return i == nmodel && htab_count(h) == nmodel;
}

static void key_bytes(int64_t key, buf *b) {
  buf_reset(b);
  term_put_int(b, key);
}

/* Inserts after the objects of its key, as a bag does. 0: no room. */
static int insert(htab *h, uint64_t hash, int64_t key, int64_t tag) {
  buf k;
  size_t at;
  eobj *o;
  if (!htab_reserve(h, htab_stripe_of(hash), 1)) return 0;
  buf_init(&k);
  key_bytes(key, &k);
  if (htab_find(h, hash, k.p, k.n, &at) != NULL) {   /* after the last of its key */
    while (htab_at(h, hash, at + 1) != NULL &&
           eobj_has_key(htab_at(h, hash, at + 1), hash, k.p, k.n))
      at++;
    at++;
  }
  o = make_obj(hash, key, tag);
  htab_link(h, at, o);
  model_add(hash, key, o);
  buf_free(&k);
  return 1;
}

/* Removes the model's object i through its slot. */
static int remove_one(htab *h, size_t i) {
  mobj m = model[i];
  buf k;
  size_t at;
  int ok = 1;
  buf_init(&k);
  key_bytes(m.key, &k);
  ok = htab_find(h, m.hash, k.p, k.n, &at) != NULL;
  while (ok && htab_at(h, m.hash, at) != m.o) {
    ok = htab_at(h, m.hash, at) != NULL;
    at++;
  }
  if (ok) {
    ok = htab_unlink(h, m.hash, at) == m.o;
    /* the next object of the key, if any, moved into its slot */
    if (i + 1 < nmodel && model[i + 1].hash == m.hash && model[i + 1].key == m.key)
      ok = ok && htab_at(h, m.hash, at) == model[i + 1].o;
    eheap_free(&objs, m.o);
    model_remove(i);
  }
  buf_free(&k);
  return ok;
}

/* seek and seek_before from (hash, key), on to the next stripes as a walk
** does, against the model. */
static int seeks_agree(htab *h, uint64_t hash, int64_t key) {
  buf k;
  size_t after = bound(hash, key, 1), before = bound(hash, key, 0), at;
  eobj *o = NULL;
  int ok;
  buf_init(&k);
  key_bytes(key, &k);
  for (int s = (int)htab_stripe_of(hash); s < (int)HTAB_STRIPES && o == NULL; s++)
    o = htab_seek(h, (unsigned)s, hash, s == (int)htab_stripe_of(hash) ? k.p : NULL, k.n, &at);
  ok = o == (after < nmodel ? model[after].o : NULL);
  o = NULL;
  for (int s = (int)htab_stripe_of(hash); s >= 0 && o == NULL; s--)
    o = htab_seek_before(h, (unsigned)s, hash, s == (int)htab_stripe_of(hash) ? k.p : NULL,
                         k.n, &at);
  ok = ok && o == (before > 0 ? model[before - 1].o : NULL);
  o = htab_find(h, hash, k.p, k.n, &at);
  ok = ok && o == (before < after ? model[before].o : NULL);
  buf_free(&k);
  return ok;
}

static void empty_model(void) {
  nmodel = 0;
}

/* ---- random steps ---- */

static const unsigned test_stripes[] = {0, 1, 2, 63};

static uint64_t random_hash(void) {
  unsigned s = test_stripes[rnd() % 4];
  switch (rnd() % 4) {
    case 0: return make_hash(s, 0x123456789ull * (rnd() % 16));      /* shared by many keys */
    case 1: return make_hash(s, ~0ull - rnd() % 64);                  /* piles up at the end */
    default: return make_hash(s, rnd());
  }
}

static void test_random_steps(void) {
  htab h;
  fault_rate fail;
  int walks_ok = 1, sound = 1, removes_ok = 1, seeks_ok = 1;
  size_t refused = 0, max_bits = 0;
  htab_init(&h, &objs);
  fault_init(&fail, 42);
  h.fail_growth = &fail;
  for (int step = 0; step < 12000; step++) {
    uint64_t r = rnd() % 100;
    if (step == 6000) fault_set(&fail, 0.2);   /* growths fail from now on, some */
    if (r < 55 || nmodel == 0) {
      if (!insert(&h, random_hash(), (int64_t)(rnd() % 3000), step)) refused++;
    } else if (r < 70) {                        /* a duplicate of a key there */
      mobj m = model[rnd() % nmodel];
      if (!insert(&h, m.hash, m.key, step)) refused++;
    } else if (r < 95) {
      removes_ok &= remove_one(&h, rnd() % nmodel);
    } else if (r < 97) {                        /* from a key there */
      mobj m = model[rnd() % nmodel];
      seeks_ok &= seeks_agree(&h, m.hash, m.key);
    } else {                                    /* from one most likely not */
      uint64_t hash = rnd() % 2 ? random_hash() : model[rnd() % nmodel].hash;
      seeks_ok &= seeks_agree(&h, hash, (int64_t)(rnd() % 3000));
    }
    walks_ok &= walk_is_model(&h);
    if (step % 16 == 0) sound &= stripes_sound(&h);
    for (unsigned i = 0; i < 4; i++)
      if (h.stripes[test_stripes[i]].p.bits > max_bits) max_bits = h.stripes[test_stripes[i]].p.bits;
  }
  CHECK(walks_ok);
  CHECK(sound && stripes_sound(&h));
  CHECK(removes_ok);
  CHECK(seeks_ok);
  CHECK(max_bits >= 8);          /* several growths from the first 8 homes */
  CHECK(nmodel > 1000);
  (void)refused;                 /* may be 0: a refusal needs a full tail */
  htab_destroy(&h);              /* frees the objects */
  empty_model();
}

/* ---- a stripe whose growth fails stays as it is and right ---- */

static void test_failed_growth(void) {
  htab h;
  fault_rate fail;
  size_t size, n = 0;
  int ok = 1;
  htab_init(&h, &objs);
  fault_init(&fail, 7);
  h.fail_growth = &fail;
  fault_set(&fail, 1.0);
  CHECK(!htab_reserve(&h, 5, 1));                /* not even a first array */
  CHECK(h.stripes[5].p.size == 0 && walk_is_model(&h));
  fault_set(&fail, 0.0);
  while (n < 6) n += insert(&h, make_hash(5, rnd()), (int64_t)n, 0);
  size = h.stripes[5].p.size;
  fault_set(&fail, 1.0);
  /* Past 3/4 growth fails: the stripe keeps its array and takes objects
  ** while it has room at its end, then refuses, changing nothing. */
  while (insert(&h, make_hash(5, rnd()), (int64_t)n, 0)) {
    n++;
    ok &= walk_is_model(&h) && stripes_sound(&h);
  }
  CHECK(ok);
  CHECK(h.stripes[5].p.size == size);
  CHECK(n > 6 && n <= size);
  CHECK(walk_is_model(&h) && stripes_sound(&h));
  for (int i = 0; i < 50; i++) ok &= seeks_agree(&h, make_hash(5, rnd()), (int64_t)(rnd() % 50));
  CHECK(ok);
  fault_set(&fail, 0.0);                         /* memory again: it grows */
  for (int i = 0; i < 200; i++) ok &= insert(&h, make_hash(5, rnd()), (int64_t)(n + i), 0);
  CHECK(ok);
  CHECK(h.stripes[5].p.size > size && walk_is_model(&h) && stripes_sound(&h));
  /* One hash for 300 objects (a bag's key): the run outgrows the tail. */
  for (int i = 0; i < 300; i++) ok &= insert(&h, make_hash(5, ~0ull), 7, i);
  CHECK(ok && walk_is_model(&h) && stripes_sound(&h));
  htab_destroy(&h);
  empty_model();
}

/* ---- seeks from absent keys land on their successor across growths ---- */

static void test_seek_across_growth(void) {
  htab h;
  int ok = 1;
  uint64_t probe = make_hash(9, 1ull << 56);   /* mid-stripe, never inserted */
  htab_init(&h, &objs);
  for (int i = 0; i < 20; i++) insert(&h, make_hash(9, rnd()), i, 0);
  ok &= seeks_agree(&h, probe, 5);
  /* grow stripe 9 many times over, with objects all elsewhere in it */
  for (int i = 0; i < 4000; i++) {
    uint64_t hash = make_hash(9, rnd());
    if (hash == probe) continue;
    insert(&h, hash, 100 + i, 0);
    if (i % 97 == 0) ok &= seeks_agree(&h, probe, 5);
  }
  ok &= seeks_agree(&h, probe, 5);
  CHECK(ok);
  CHECK(h.stripes[9].p.bits >= 12);
  htab_destroy(&h);
  empty_model();
}

/* ---- two writers and a walker ---- */

#define THREAD_KEYS 20000

typedef struct writer {
  htab *h;
  int64_t first;
  int ok;
} writer;

static atomic_int writers_done;

static void *write_keys(void *ud) {
  writer *w = ud;
  buf k;
  buf_init(&k);
  w->ok = 1;
  for (int64_t i = 0; i < THREAD_KEYS; i++) {
    int64_t key = w->first + 2 * i;      /* the two writers' keys never meet */
    uint64_t hash;
    unsigned s;
    size_t at;
    eobj *o;
    key_bytes(key, &k);
    hash = eobj_hash(k.p, k.n);
    s = htab_stripe_of(hash);
    o = make_obj(hash, key, 0);
    htab_lock(w->h, s, 1);
    if (!htab_reserve(w->h, s, 1) || htab_find(w->h, hash, k.p, k.n, &at) != NULL) {
      w->ok = 0;
      eheap_free(&objs, o);
    } else {
      htab_link(w->h, at, o);
    }
    htab_unlock(w->h, s);
  }
  buf_free(&k);
  atomic_fetch_add(&writers_done, 1);
  return NULL;
}

typedef struct walker {
  htab *h;
  int walks;
  int ok;
} walker;

/* Walks stripe by stripe, under each one's read lock, while they grow. */
static void *walk_all(void *ud) {
  walker *w = ud;
  w->ok = 1;
  while (atomic_load(&writers_done) < 2 || w->walks == 0) {
    for (unsigned s = 0; s < HTAB_STRIPES; s++) {
      size_t at;
      const eobj *prev = NULL;
      htab_lock(w->h, s, 0);
      for (eobj *o = htab_seek(w->h, s, 0, NULL, 0, &at); o != NULL; o = htab_next(w->h, s, &at)) {
        if (prev != NULL && htab_order(prev->hash, eobj_key(prev), prev->klen, o->hash,
                                       eobj_key(o), o->klen) >= 0)
          w->ok = 0;
        prev = o;
      }
      htab_unlock(w->h, s);
    }
    w->walks++;
  }
  return NULL;
}

static void test_threads(void) {
  htab h;
  pthread_t t[3];
  writer w[2];
  walker wk = {&h, 0, 1};
  buf k;
  int found = 1;
  htab_init(&h, &objs);
  atomic_store(&writers_done, 0);
  for (int i = 0; i < 2; i++) {
    w[i] = (writer){&h, i, 1};
    pthread_create(&t[i], NULL, write_keys, &w[i]);
  }
  pthread_create(&t[2], NULL, walk_all, &wk);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  CHECK(w[0].ok && w[1].ok);
  CHECK(wk.ok && wk.walks > 0);
  CHECK(htab_count(&h) == 2 * THREAD_KEYS);
  buf_init(&k);
  for (int64_t key = 0; key < 2 * THREAD_KEYS; key++) {
    size_t at;
    key_bytes(key, &k);
    found &= htab_find(&h, eobj_hash(k.p, k.n), k.p, k.n, &at) != NULL;
  }
  buf_free(&k);
  CHECK(found);
  CHECK(stripes_sound(&h));
  htab_clear(&h);
  CHECK(htab_count(&h) == 0 && atomic_load(&h.bytes) == 0);
  htab_destroy(&h);
}

/* htab_count needs no lock: it may run while another thread empties the
** table (a drop beside info("size")); under TSan, a plain write of a
** stripe's count there is a race. */
static atomic_int counting;

static void *count_all(void *ud) {
  size_t most = 0;
  while (atomic_load(&counting)) {
    size_t n = htab_count(ud);
    if (n > most) most = n;
  }
  return (void *)(uintptr_t)(most <= 2 * THREAD_KEYS);
}

static void test_count_beside_clear(void) {
  htab h;
  pthread_t t;
  writer w = {&h, 0, 1};
  void *sane;
  htab_init(&h, &objs);
  atomic_store(&counting, 1);
  pthread_create(&t, NULL, count_all, &h);
  for (int round = 0; round < 3; round++) {
    write_keys(&w);
    htab_lock_all(&h, 1);
    htab_clear(&h);
    htab_unlock_all(&h);
  }
  atomic_store(&counting, 0);
  pthread_join(t, &sane);
  CHECK(w.ok && sane != NULL && htab_count(&h) == 0);
  htab_destroy(&h);
}

int main(void) {
  eheap_init(&objs, NULL);
  test_random_steps();
  test_failed_growth();
  test_seek_across_growth();
  test_threads();
  test_count_beside_clear();
  free(model);
  eheap_destroy(&objs);
  return check_summary("htab");
}
