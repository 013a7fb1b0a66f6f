/*
** escan.c — walking a table in its order: first/next/last/prev, the scans
** behind foldl, tab2list, match and select (with limits and
** continuations), and the deleting and replacing scans.
**
** A position is a key, never a pointer, so a walk can let go of its locks
** between steps and resume where it was even when that key was deleted
** meanwhile. Hash tables are walked stripe by stripe in (hash, key) order,
** which no resize changes: an object present for the whole walk is seen
** exactly once.
*/
#include <string.h>

#include "etab_impl.h"
#include "mspec.h"
#include "edurable.h"
#include "term.h"

#define OSET_CHUNK 1024   /* objects visited per hold of an ordered_set's lock */

/* ---- first / next / last / prev ---- */

static eobj *htab_step(htab *h, const keyref *k, int dir, int *stripe) {
  int s = k->p != NULL ? (int)htab_stripe_of(k->hash) : (dir > 0 ? 0 : (int)HTAB_STRIPES - 1);
  const unsigned char *key = k->p;
  for (; s >= 0 && s < (int)HTAB_STRIPES; s += dir) {
    eobj *o;
    size_t at;
    htab_lock(h, (unsigned)s, 0);
    o = dir > 0 ? htab_seek(h, (unsigned)s, k->hash, key, k->len, &at)
                : htab_seek_before(h, (unsigned)s, k->hash, key, k->len, &at);
    if (o != NULL) {
      *stripe = s;      /* returned locked */
      return o;
    }
    htab_unlock(h, (unsigned)s);
    key = NULL;
  }
  return NULL;
}

hl_status etab_step(etab *t, uint64_t caller, tslice key, int dir, buf *out,
                    int *found, hl_err *e) {
  keyref k = {NULL, 0, 0, NULL, 0};
  ochold hold;
  eobj *o;
  int stripe = 0;
  *found = 0;
  if (etab_check_read(t, caller, e) != HL_OK) return e->code;
  if (key.p != NULL && etab_prep_key(t, key, &k, e) != HL_OK) return e->code;
  if (etab_is_ordered(t)) {
    o = ocat_step(&t->store.o, k.p, k.len, dir, &hold);
  } else {
    o = htab_step(&t->store.h, &k, dir, &stripe);
  }
  if (etab_check_open(t, e) == HL_OK && o != NULL) {
    buf_put(out, eobj_key(o), o->klen);
    *found = 1;
  }
  if (etab_is_ordered(t)) ocat_release(&t->store.o, &hold);
  else if (o != NULL) htab_unlock(&t->store.h, (unsigned)stripe);
  if (e->code == HL_OK && !buf_ok(out)) err_set(e, HL_ENOMEM, "out of memory");
  return e->code;
}

/* ---- scans ---- */

typedef struct scan {
  etab *t;
  uint64_t caller;
  const mspec *ms;
  size_t limit;
  buf *out;
  size_t count;
  buf *last;      /* key of the last group emitted, once kept */
  const eobj *lastobj;   /* that group's last object, until kept */
  int full;       /* the limit was reached */
  int oom;
  int bag;        /* keys may have more than one object */
} scan;

static void emit_one(scan *sc, const eobj *o) {
  if (sc->ms == NULL) {
    buf_put(sc->out, o->data, o->len);
    sc->count++;
    return;
  }
  switch (mspec_run(sc->ms, o->data, o->len, sc->caller, sc->out)) {
    case 1: sc->count++; break;
    case -1: sc->oom = 1; break;
    default: break;
  }
}

/* Emits the objects of one key, starting at its first (in slot *at of a
** hash table, then moved to the last's). */
static void emit_group(scan *sc, const eobj *o, size_t *at) {
  emit_one(sc, o);
  if (sc->bag)
    for (const eobj *next; (next = etab_same_key_next(sc->t, o, at)) != NULL; o = next)
      emit_one(sc, next);
  sc->lastobj = o;
  if (!buf_ok(sc->out)) sc->oom = 1;
  if (sc->limit > 0 && sc->count >= sc->limit) sc->full = 1;
}

/* Copies the last group's key into sc->last: before the locks that keep
** its object alive are let go (not on every group, which costs a copy per
** object of a scan). */
static void keep_last(scan *sc) {
  if (sc->lastobj == NULL) return;
  buf_reset(sc->last);
  buf_put(sc->last, eobj_key(sc->lastobj), sc->lastobj->klen);
  if (!buf_ok(sc->last)) sc->oom = 1;
  sc->lastobj = NULL;
}

static int scan_stop(const scan *sc) {
  return sc->full || sc->oom;
}

static void scan_htab_forward(scan *sc, const keyref *from) {
  htab *h = &sc->t->store.h;
  unsigned s = from->p != NULL ? htab_stripe_of(from->hash) : 0;
  const unsigned char *key = from->p;
  for (; s < HTAB_STRIPES && !scan_stop(sc); s++, key = NULL) {
    size_t at;
    htab_lock(h, s, 0);
    for (eobj *o = htab_seek(h, s, from->hash, key, from->len, &at); o != NULL && !scan_stop(sc);) {
      emit_group(sc, o, &at);
      o = htab_next(h, s, &at);
    }
    keep_last(sc);
    htab_unlock(h, s);
  }
}

static void scan_htab_backward(scan *sc, const keyref *from) {
  htab *h = &sc->t->store.h;
  int s = from->p != NULL ? (int)htab_stripe_of(from->hash) : (int)HTAB_STRIPES - 1;
  const unsigned char *key = from->p;
  uint64_t hash = from->hash;
  size_t klen = from->len;
  for (; s >= 0 && !scan_stop(sc); s--, key = NULL) {
    htab_lock(h, (unsigned)s, 0);
    for (;;) {
      size_t at;
      eobj *o = htab_seek_before(h, (unsigned)s, hash, key, klen, &at);
      if (o == NULL || scan_stop(sc)) break;
      o = etab_find(sc->t, o->hash, eobj_key(o), o->klen, &at);   /* group start */
      hash = o->hash;
      emit_group(sc, o, &at);
      keep_last(sc);
      key = sc->last->p;
      klen = sc->last->n;
    }
    htab_unlock(h, (unsigned)s);
  }
}

static void scan_oset(scan *sc, const keyref *from, int dir) {
  ocat *os = &sc->t->store.o;
  const unsigned char *key = from->p;
  size_t klen = from->len;
  while (!scan_stop(sc)) {
    occursor c;
    eobj *o;
    int n = 0;
    ocat_lock_all(os, 0);
    o = dir > 0 ? ocat_seek_after(os, key, klen, &c) : ocat_seek_before(os, key, klen, &c);
    for (; o != NULL && n < OSET_CHUNK && !scan_stop(sc); n++) {
      size_t unused = 0;
      emit_group(sc, o, &unused);
      o = dir > 0 ? ocat_cursor_next(&c) : ocat_cursor_prev(&c);
    }
    keep_last(sc);
    ocat_unlock_all(os);
    if (o == NULL) break;
    key = sc->last->p;      /* let writers in, then go on from here */
    klen = sc->last->n;
  }
}

/* select on a spec whose clauses all name one key: look only at that key. */
static int bound_key(const etab *t, const mspec *ms, keyref *k) {
  const unsigned char *key;
  size_t klen;
  if (ms == NULL ||
      !mspec_bound_key(ms, t->keypos.index, t->keypos.field, t->keypos.fieldlen, &key, &klen) ||
      klen == 0 || key[0] == TERM_NIL || term_is_nan(key, klen))
    return 0;
  k->p = key;
  k->len = klen;
  k->hash = etab_key_hash(t, key, klen);
  return 1;
}

static void scan_key(scan *sc, keyref *k) {
  size_t at;
  eobj *o;
  etab_lock_key(sc->t, k, 0);
  o = etab_find(sc->t, k->hash, k->p, k->len, &at);
  if (o != NULL) emit_group(sc, o, &at);
  keep_last(sc);
  etab_unlock_key(sc->t, k);
  sc->full = 0;
}

hl_status etab_scan(etab *t, uint64_t caller, tslice from, int dir,
                    const mspec *ms, size_t limit, buf *out, size_t *count,
                    buf *next_from, int *done, hl_err *e) {
  scan sc = {t, caller, ms, limit, out, 0, next_from, NULL, 0, 0, etab_is_bag(t)};
  keyref k = {NULL, 0, 0, NULL, 0};
  *count = 0;
  *done = 1;
  if (etab_check_read(t, caller, e) != HL_OK) return e->code;
  if (from.p != NULL && etab_prep_key(t, from, &k, e) != HL_OK) return e->code;
  if (from.p == NULL && bound_key(t, ms, &k)) scan_key(&sc, &k);
  else if (etab_is_ordered(t)) scan_oset(&sc, &k, dir);
  else if (dir > 0) scan_htab_forward(&sc, &k);
  else scan_htab_backward(&sc, &k);
  *count = sc.count;
  *done = !sc.full;
  if (etab_check_open(t, e) != HL_OK) return e->code;
  if (sc.oom) return err_set(e, HL_ENOMEM, "out of memory");
  return HL_OK;
}

/* ---- deleting and replacing scans ---- */

typedef struct rewrite {
  etab *t;
  uint64_t caller;
  const mspec *ms;
  int replace;          /* select_replace; else select_delete */
  buf result;
  size_t count;
  int oom;
  edur_txn *tx;         /* durable tables: the keys changed */
} rewrite;

/* What becomes of o: itself, NULL (deleted, and freed), or a replacement. */
static eobj *rewrite_one(eobj *o, void *ud) {
  rewrite *rw = ud;
  size_t koff, klen;
  hl_err ignored = {HL_OK, ""};
  eobj *r;
  buf_reset(&rw->result);
  if (rw->oom) return o;
  switch (mspec_run(rw->ms, o->data, o->len, rw->caller, &rw->result)) {
    case -1: rw->oom = 1; return o;
    case 0: return o;
    default: break;
  }
  if (!rw->replace) {
    if (rw->result.n != 1 || rw->result.p[0] != TERM_TRUE) return o;
    if (rw->tx != NULL) edur_touch(rw->tx, eobj_key(o), o->klen, o->hash);
    etab_count_bytes(rw->t, 0, sizeof(eobj) + o->len);
    etab_obj_free(rw->t, o);
    rw->count++;
    return NULL;
  }
  /* A replacement must be an object with the very same key. */
  if (etab_object_key(rw->t, (tslice){rw->result.p, rw->result.n}, &koff, &klen, &ignored) != HL_OK ||
      klen != o->klen || memcmp(rw->result.p + koff, eobj_key(o), klen) != 0)
    return o;
  rw->count++;
  if (rw->result.n == o->len && memcmp(rw->result.p, o->data, o->len) == 0) return o;
  r = etab_obj_new(rw->t, rw->result.p, rw->result.n, koff, klen, o->hash);   /* o's key */
  if (r == NULL) {
    rw->oom = 1;
    rw->count--;
    return o;
  }
  if (rw->tx != NULL) edur_touch(rw->tx, eobj_key(o), o->klen, o->hash);
  etab_count_bytes(rw->t, sizeof(eobj) + r->len, sizeof(eobj) + o->len);
  etab_obj_free(rw->t, o);
  return r;
}

/* One pass in key order; the tree mends itself after, without allocating. */
static void rewrite_oset(rewrite *rw) {
  ocat_rewrite(&rw->t->store.o, rewrite_one, rw);
}

static hl_status rewrite_table(etab *t, uint64_t caller, const mspec *ms,
                               int replace, size_t *count, hl_err *e) {
  rewrite rw = {t, caller, ms, replace, {0}, 0, 0, NULL};
  edur_txn tx;
  /* A durable hash table is rewritten under every stripe at once, so that
  ** the whole change is one batch in the store, ticketed in order with any
  ** other write to the same keys (store.h). */
  int all = t->disk != NULL && !etab_is_ordered(t);
  *count = 0;
  if (etab_check_write(t, caller, e) != HL_OK) return e->code;
  /* A bag is refused, as in ETS: a replacement could duplicate an object
  ** of the same key. A duplicate_bag may hold duplicates. */
  if (replace && t->type == HL_BAG)
    return err_set(e, HL_ETYPE, "select_replace needs a set, ordered_set or duplicate_bag, "
                   "not a bag");
  buf_init(&rw.result);
  if (t->disk != NULL) {
    edur_begin(&tx, t);
    rw.tx = &tx;
  }
  if (etab_is_ordered(t)) {
    ocat_lock_all(&t->store.o, 1);
    if (etab_check_open(t, e) == HL_OK) rewrite_oset(&rw);
    if (rw.tx != NULL) edur_seal(rw.tx);
    ocat_unlock_all(&t->store.o);
  } else {
    if (all) htab_lock_all(&t->store.h, 1);
    for (unsigned s = 0; s < HTAB_STRIPES && e->code == HL_OK; s++) {
      if (!all) htab_lock(&t->store.h, s, 1);
      if (etab_check_open(t, e) == HL_OK) htab_rewrite(&t->store.h, s, rewrite_one, &rw);
      if (!all) htab_unlock(&t->store.h, s);
    }
    if (rw.tx != NULL) edur_seal(rw.tx);
    if (all) htab_unlock_all(&t->store.h);
  }
  if (rw.tx != NULL) edur_write(rw.tx, e);
  buf_free(&rw.result);
  *count = rw.count;
  if (e->code == HL_OK && rw.oom) err_set(e, HL_ENOMEM, "out of memory");
  return e->code;
}

hl_status etab_select_delete(etab *t, uint64_t caller, const mspec *ms,
                             size_t *count, hl_err *e) {
  return rewrite_table(t, caller, ms, 0, count, e);
}

hl_status etab_select_replace(etab *t, uint64_t caller, const mspec *ms,
                              size_t *count, hl_err *e) {
  return rewrite_table(t, caller, ms, 1, count, e);
}
