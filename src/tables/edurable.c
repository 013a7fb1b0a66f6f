/*
** edurable.c — durable tables (edurable.h): each change's batch built
** from memory under the change's locks, a table's metadata and removal,
** and a node's store opened at start with its tables loaded back.
**
** What it promises: the state a batch records for a key is read while
** that key's write lock is held, after memory changed, and the batch's
** ticket is taken under the same lock; the write follows once the locks
** are released (store.h). A change whose write fails is undone: under
** every lock of the table its keys, and those of the changes ticketed
** after it, are put back as the store holds them, so that memory never
** shows what a restart would not load. A change that cannot be recorded
** (out of memory) still stands in memory, says so in its error, and
** marks the store as lagging, so that no stop record claims otherwise.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edurable.h"
#include "etab_impl.h"
#include "fault.h"
#include "term.h"

#define LOAD_CHUNK 1024        /* objects per insert while loading */
#define LOAD_REPORT 65536      /* keys between two on_load calls */

/* ---- a change ---- */

void edur_begin(edur_txn *x, etab *t) {
  x->t = t;
  x->nkeys = 0;
  buf_init(&x->keys);
  sbatch_begin(&x->b, t->disk);
}

void edur_touch(edur_txn *x, const unsigned char *key, size_t klen, uint64_t hash) {
  unsigned char *p = buf_grab(&x->keys, 12);
  if (p == NULL) return;
  memcpy(p, &hash, 8);
  p[8] = (unsigned char)(klen >> 24);
  p[9] = (unsigned char)(klen >> 16);
  p[10] = (unsigned char)(klen >> 8);
  p[11] = (unsigned char)klen;
  buf_put(&x->keys, key, klen);
  x->nkeys++;
}

static eobj *touch_one(eobj *o, void *ud) {
  edur_touch(ud, eobj_key(o), o->klen, o->hash);
  return o;
}

void edur_touch_all(edur_txn *x) {
  etab *t = x->t;
  if (etab_is_ordered(t)) ocat_rewrite(&t->store.o, touch_one, x);
  else
    for (unsigned s = 0; s < HTAB_STRIPES; s++) htab_rewrite(&t->store.h, s, touch_one, x);
}

/* The record of one key as it is in memory now, into the batch: its
** objects, or a delete when none is left. A lone object goes to the store
** as it lies in memory; only a bag's group is gathered into v first. */
static void put_key_state(edur_txn *x, buf *v, const unsigned char *key, size_t klen,
                          uint64_t hash) {
  etab *t = x->t;
  size_t at, first;
  eobj *o = etab_find(t, hash, key, klen, &at);
  first = at;
  if (o == NULL) {
    sbatch_delete(&x->b, key, klen);
  } else if (etab_same_key_next(t, o, &at) == NULL) {
    sbatch_put(&x->b, key, klen, o->data, o->len);
  } else {                               /* a bag's group, in order */
    buf_reset(v);
    for (at = first; o != NULL; o = etab_same_key_next(t, o, &at)) buf_put(v, o->data, o->len);
    if (buf_ok(v)) sbatch_put(&x->b, key, klen, v->p, v->n);
    else sbatch_lost(&x->b);
  }
}

void edur_seal(edur_txn *x) {
  buf v;
  size_t at = 0;
  if (x->nkeys == 0) return;
  if (!buf_ok(&x->keys)) {   /* no ticket: there is nothing to write */
    sbatch_lost(&x->b);
    return;
  }
  buf_init(&v);
  while (at < x->keys.n) {
    const unsigned char *p = x->keys.p + at;
    uint64_t hash;
    size_t klen = (size_t)p[8] << 24 | (size_t)p[9] << 16 | (size_t)p[10] << 8 | p[11];
    memcpy(&hash, p, 8);
    put_key_state(x, &v, p + 12, klen, hash);
    at += 12 + klen;
  }
  buf_free(&v);
  sbatch_seal(&x->b);
}

void edur_seal_key(edur_txn *x, etab *t, const unsigned char *key, size_t klen,
                   uint64_t hash) {
  buf v;
  edur_begin(x, t);
  buf_init(&v);
  put_key_state(x, &v, key, klen, hash);
  buf_free(&v);
  sbatch_seal(&x->b);
}

/* ---- undoing a failed write ---- */

static int skip_key(void *ud, const unsigned char *key, size_t klen) {
  (void)ud;
  (void)key;
  (void)klen;
  return 1;
}

typedef struct undo {
  etab *t;
  buf v;
  hl_err e;
} undo;

/* One key back to the store's record (an sbatch_key_fn): its objects in
** memory go, the stored ones come back in their order. */
static int restore_key(void *ud, const unsigned char *key, size_t klen) {
  undo *u = ud;
  etab *t = u->t;
  keyref k = {key, klen, etab_key_hash(t, key, klen), NULL, 0};
  size_t slot;
  eobj *o;
  size_t at = 0;
  int found;
  hl_err e;
  err_clear(&e);
  buf_reset(&u->v);
  if (stab_get(t->disk, key, klen, &u->v, &found, &e) != HL_OK) {
    if (u->e.code == HL_OK) u->e = e;
    return 0;
  }
  for (o = etab_find(t, k.hash, key, klen, &slot); o != NULL; o = etab_key_at(t, &k, slot))
    etab_unlink_free(t, slot, o);   /* the next of the key moves into slot */
  while (found && at < u->v.n) {
    size_t len = term_skip(u->v.p + at, u->v.n - at), koff, olen;
    if (len == 0 || etab_object_key(t, (tslice){u->v.p + at, len}, &koff, &olen, &e) != HL_OK)
      return 0;
    if ((o = etab_obj_new(t, u->v.p + at, len, koff, olen,
                          etab_key_hash(t, u->v.p + at + koff, olen))) == NULL)
      return 0;
    if (!etab_add(t, o)) {   /* last among the objects of its key */
      etab_obj_free(t, o);
      return 0;
    }
    at += len;
  }
  return 1;
}

/* In the failed batch's turn: under every lock of the table, its keys and
** those of the batches ticketed after it go back as the store holds
** them (a closed table has nothing to put back). */
static void undo_write(edur_txn *x) {
  undo u;
  etab *t = x->t;
  u.t = t;
  buf_init(&u.v);
  err_clear(&u.e);
  etab_lock_all(t);
  sbatch_undo(&x->b, atomic_load(&t->dropped) ? skip_key : restore_key, &u);
  etab_unlock_all(t);
  buf_free(&u.v);
}

hl_status edur_write(edur_txn *x, hl_err *e) {
  if (sbatch_turn(&x->b) && sbatch_commit(&x->b) != HL_OK) undo_write(x);
  sbatch_pass(&x->b, e);
  buf_free(&x->keys);
  return e->code;
}

/* ---- a table's link ---- */

/* r's store, read under the registry's lock (hl.store may be making one). */
static store *current_store(treg *r) {
  store *s;
  pthread_mutex_lock(&r->lock);
  s = r->store;
  pthread_mutex_unlock(&r->lock);
  return s;
}

/* t's metadata record; sync is HL_SYNC_DEFAULT when t follows the node's.
** A pid heir is not kept: a pid does not outlive the node. */
static void encode_meta(etab *t, int sync, buf *out) {
  buf name, heir, data;
  smeta m;
  buf_init(&name);
  buf_init(&heir);
  buf_init(&data);
  etab_meta(t, &name, &heir, &data);
  memset(&m, 0, sizeof m);
  m.name = buf_ok(&name) ? (char *)name.p : NULL;
  m.type = t->type;
  m.access = t->access;
  m.named = t->named;
  m.custody = t->custody;
  m.keyindex = t->keypos.index;
  m.keyfield = t->keypos.field;
  m.keyfieldlen = t->keypos.fieldlen;
  m.sync = sync;
  if (heir.n > 0 && heir.p[0] == TERM_STRING) {
    m.heir = heir.p;
    m.heirlen = heir.n;
    if (data.n > 0) {
      m.heir_data = data.p;
      m.heir_datalen = data.n;
    }
  }
  store_meta_encode(&m, out);
  if (!buf_ok(&name) || !buf_ok(&heir) || !buf_ok(&data)) out->oom = 1;
  buf_free(&name);
  buf_free(&heir);
  buf_free(&data);
}

hl_status edur_attach(etab *t, int sync, hl_err *e) {
  store *s = current_store(t->reg);
  buf meta;
  if (s == NULL || store_is_temp(s))
    return err_set(e, HL_EBADARG, "durable tables need a node started with data_dir");
  if (sync != HL_SYNC_DEFAULT && !store_sync_ok(sync))
    return err_set(e, HL_EBADARG, "sync must be \"none\", \"always\" or 1 to 3600000 ms");
  buf_init(&meta);
  encode_meta(t, sync, &meta);
  if (!buf_ok(&meta)) err_set(e, HL_ENOMEM, "out of memory");
  else t->disk = stab_create(s, sync, meta.p, meta.n, e);
  buf_free(&meta);
  if (e->code != HL_OK) return e->code;
  t->durable = 1;
  return HL_OK;
}

hl_status edur_meta(etab *t, hl_err *e) {
  stab *d = t->disk;
  buf meta;
  if (d == NULL) return HL_OK;
  buf_init(&meta);
  encode_meta(t, d->explicit_sync ? d->sync : HL_SYNC_DEFAULT, &meta);
  if (!buf_ok(&meta)) err_set(e, HL_ENOMEM, "out of memory");
  else stab_put_meta(d, meta.p, meta.n, e);
  buf_free(&meta);
  return e->code;
}

void edur_drop(etab *t) {
  hl_err e;
  if (t->disk == NULL) return;
  err_clear(&e);
  if (stab_drop(t->disk, &e) != HL_OK) {
    char text[sizeof e.msg + 64];
    snprintf(text, sizeof text, "dropping durable table %llu: %s",
             (unsigned long long)t->id, e.msg);
    logger_log(t->reg->log, LOGLEVEL_ERROR, 0, text);
  }
}

void edur_owner_gone(etab *t) {
  if (t->disk != NULL && !treg_stopped(t->reg)) edur_drop(t);
}

void edur_quiesce(etab *t) {
  if (t->disk != NULL) stab_quiesce(t->disk);
}

void edur_closed(etab *t, size_t objects) {
  buf name;
  if (t->disk == NULL || !treg_stopped(t->reg)) return;
  buf_init(&name);
  etab_meta(t, &name, NULL, NULL);
  stab_closed(t->disk, buf_ok(&name) ? (const char *)name.p : "", objects);
  buf_free(&name);
}

void edur_detach(etab *t) {
  if (t->disk == NULL) return;
  stab_free(t->disk);
  t->disk = NULL;
}

/* ---- a node's store ---- */

void edur_crash(treg *r) {
  store *s = current_store(r);
  if (s != NULL) store_crash(s);
}

void edur_close(treg *r) {
  store *s;
  pthread_mutex_lock(&r->lock);
  s = r->store;
  r->store = NULL;
  pthread_mutex_unlock(&r->lock);
  store_free(s);
}

store *edur_store(treg *r, hl_err *e) {
  store *s;
  pthread_mutex_lock(&r->lock);
  if (r->store == NULL && !r->stopped) r->store = store_new_temp(e);
  else if (r->store == NULL) err_set(e, HL_ECLOSED, "the node has stopped");
  s = r->store;
  pthread_mutex_unlock(&r->lock);
  return s;
}

const char *edur_dir(treg *r) {
  store *s = current_store(r);
  return s != NULL && !store_is_temp(s) ? store_dirname(s) : NULL;
}

const char *edur_path(treg *r) {
  store *s = current_store(r);
  return s != NULL ? store_dirname(s) : NULL;
}

/* ---- loading at start ---- */

typedef struct loader {
  treg *r;
  store *s;
  const hl_config *cfg;
  etab *t;               /* the table being loaded */
  size_t loaded, total;  /* its keys, for on_load */
  buf chunk;             /* objects waiting to be inserted */
  tslice *objs;
  size_t nobjs;
} loader;

static hl_status flush_chunk(loader *ld, hl_err *e) {
  size_t at = 0;
  int inserted;
  for (size_t i = 0; i < ld->nobjs; i++) {
    size_t len = term_size_trusted(ld->chunk.p + at, ld->chunk.n - at);
    ld->objs[i] = (tslice){ld->chunk.p + at, len};
    at += len;
  }
  if (ld->nobjs > 0) etab_insert(ld->t, 0, ld->objs, ld->nobjs, 0, &inserted, e);
  ld->nobjs = 0;
  buf_reset(&ld->chunk);
  return e->code;
}

static hl_status progress(loader *ld, hl_err *e) {
  if (ld->cfg->on_load != NULL &&
      ld->cfg->on_load(ld->cfg->on_load_ud, ld->t->name, ld->loaded, ld->total) != 0)
    return err_set(e, HL_EBADARG, "loading stopped by on_load at table '%s'", ld->t->name);
  return HL_OK;
}

/* One record of the table being loaded (a store_record_fn): one object,
** or a bag's group. */
static hl_status load_record(void *ud, const unsigned char *val, size_t vlen, hl_err *e) {
  loader *ld = ud;
  size_t at = 0;
  while (at < vlen) {
    size_t len = term_skip(val + at, vlen - at);
    if (len == 0)
      return err_set(e, HL_ESTORE, "table '%s': a stored object is corrupt", ld->t->name);
    buf_put(&ld->chunk, val + at, len);
    at += len;
    if (++ld->nobjs == LOAD_CHUNK && flush_chunk(ld, e) != HL_OK) return e->code;
  }
  if (++ld->loaded % LOAD_REPORT == 0) progress(ld, e);
  return e->code;
}

/* Reads a table's records into ld->t. */
static hl_status load_objects(loader *ld, uint64_t sid, hl_err *e) {
  ld->loaded = ld->total = 0;
  if (ld->cfg->on_load != NULL) {
    ld->total = store_count_records(ld->s, sid);
    if (progress(ld, e) != HL_OK) return e->code;
  }
  store_each_record(ld->s, sid, load_record, ld, e);
  if (e->code == HL_OK) flush_chunk(ld, e);
  if (e->code == HL_OK && !buf_ok(&ld->chunk)) err_set(e, HL_ENOMEM, "out of memory");
  if (e->code == HL_OK && ld->cfg->on_load != NULL) progress(ld, e);
  return e->code;
}

/* One table from its metadata record (a store_table_fn), in custody, with
** its objects. */
static hl_status load_table(void *ud, uint64_t sid, const unsigned char *p, size_t len,
                            hl_err *e) {
  loader *ld = ud;
  smeta m;
  etab_opts opts;
  etab *t;
  stab *d = NULL;   /* set before use; -O1 cannot tell */
  if (!store_meta_decode(p, len, &m))
    return err_set(e, HL_ESTORE, "the metadata of stored table %llu is corrupt",
                   (unsigned long long)sid);
  memset(&opts, 0, sizeof opts);
  opts.type = m.type;
  opts.access = m.access;
  opts.named = m.named;
  opts.custody = m.custody;
  opts.keypos.index = m.keyindex;
  opts.keypos.field = m.keyfield;
  opts.keypos.fieldlen = m.keyfieldlen;
  t = etab_new(ld->r, m.name, &opts, 0, e);   /* owner 0: in custody */
  if (t == NULL) {
    free(m.name);
    return e->code;
  }
  ld->t = t;
  /* only a name is kept (encode_meta) */
  if (m.heir != NULL && (m.heirlen == 0 || m.heir[0] != TERM_STRING))
    err_set(e, HL_ESTORE, "the metadata of stored table %llu is corrupt", (unsigned long long)sid);
  else if (m.heir != NULL)
    etab_put_heir(t, (tslice){m.heir, m.heirlen}, (tslice){m.heir_data, m.heir_datalen}, e);
  if (e->code == HL_OK) load_objects(ld, sid, e);
  if (e->code == HL_OK && (d = stab_new(ld->s, sid, m.sync)) == NULL)
    err_set(e, HL_ENOMEM, "out of memory");
  if (e->code == HL_OK) {
    t->disk = d;   /* from now on its changes are written */
    t->durable = 1;
  }
  if (e->code != HL_OK) {
    etab_close(t);
    treg_remove(ld->r, t);
  }
  etab_unref(t);
  free(m.name);
  return e->code;
}

/* The store's fault hook (store_set_fault): the registry's seeded draw. */
static int draw_store_fault(void *ud) {
  return fault_draw(ud);
}

hl_status edur_open(treg *r, const hl_config *cfg, hl_err *e) {
  loader ld;
  store *s;
  if (!store_sync_ok(cfg->sync))
    return err_set(e, HL_EBADARG, "sync must be \"none\", \"always\" or 1 to 3600000 ms");
  s = store_new(cfg->data_dir, cfg->sync, e);
  if (s == NULL) return e->code;
  store_set_fault(s, draw_store_fault, &r->store_faults);
  pthread_mutex_lock(&r->lock);
  r->store = s;
  pthread_mutex_unlock(&r->lock);
  memset(&ld, 0, sizeof ld);
  ld.r = r;
  ld.s = s;
  ld.cfg = cfg;
  buf_init(&ld.chunk);
  ld.objs = malloc(LOAD_CHUNK * sizeof *ld.objs);
  if (ld.objs == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  store_load(s, load_table, &ld, e);
  free(ld.objs);
  buf_free(&ld.chunk);
  return e->code;
}
