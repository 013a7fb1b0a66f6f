/*
** sload.c — a table's metadata record, and opening a node's store: the
** durable tables are read back into memory and left in the node's
** custody (owner 0), to be claimed by name.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etab.h"
#include "store_impl.h"
#include "term.h"

#define META_VERSION 1
#define META_FIELDS 10
#define LOAD_CHUNK 1024        /* objects per insert while loading */
#define LOAD_REPORT 65536      /* keys between two on_load calls */

/* ---- metadata ----
** {version, name, type, access, named, keypos, custody, sync, heir,
**  heir_data}: keypos an index or the field's string; sync nil for the
** node's default; heir a registered name or nil (a pid does not outlive
** the node). */

void store_encode_meta(etab *t, buf *out) {
  buf name, heir, data;
  buf_init(&name);
  buf_init(&heir);
  buf_init(&data);
  etab_meta(t, &name, &heir, &data);
  buf_reset(out);
  term_put_array(out, META_FIELDS);
  term_put_int(out, META_VERSION);
  if (buf_ok(&name)) term_put_string(out, name.p, strlen((const char *)name.p));
  term_put_int(out, (int64_t)t->type);
  term_put_int(out, (int64_t)t->access);
  term_put_bool(out, t->named);
  if (t->keypos.field != NULL) buf_put(out, t->keypos.field, t->keypos.fieldlen);
  else term_put_int(out, t->keypos.index);
  term_put_bool(out, t->custody);
  if (t->disk->explicit_sync) term_put_int(out, t->disk->sync);
  else term_put_nil(out);
  if (heir.n > 0 && heir.p[0] == TERM_STRING) {
    buf_put(out, heir.p, heir.n);
    if (data.n > 0) buf_put(out, data.p, data.n);
    else term_put_nil(out);
  } else {
    term_put_nil(out);
    term_put_nil(out);
  }
  if (!buf_ok(&name) || !buf_ok(&heir) || !buf_ok(&data)) out->oom = 1;
  buf_free(&name);
  buf_free(&heir);
  buf_free(&data);
}

typedef struct meta {
  char *name;
  etab_opts opts;
  int sync;                    /* HL_SYNC_DEFAULT when not given */
  tslice heir, heir_data;
} meta;

static int elem_int(const unsigned char *p, size_t len, uint32_t i, int64_t lo, int64_t hi,
                    int64_t *v) {
  const unsigned char *el;
  size_t elen;
  term_num num;
  if (!term_array_elem(p, len, i, &el, &elen) || !term_get_num(el, elen, &num) || !num.isint ||
      num.i < lo || num.i > hi)
    return 0;
  *v = num.i;
  return 1;
}

static int elem_bool(const unsigned char *p, size_t len, uint32_t i, int *v) {
  const unsigned char *el;
  size_t elen;
  if (!term_array_elem(p, len, i, &el, &elen) || elen != 1 ||
      (el[0] != TERM_TRUE && el[0] != TERM_FALSE))
    return 0;
  *v = el[0] == TERM_TRUE;
  return 1;
}

/* Reads a metadata record; m->name is allocated. 0 when malformed. */
static int decode_meta(const unsigned char *p, size_t len, meta *m) {
  const unsigned char *el;
  size_t elen;
  int tag;
  uint32_t count;
  int64_t v;
  buf name;
  memset(m, 0, sizeof *m);
  if (!term_valid(p, len) || !term_get_header(p, len, &tag, &count) || tag != TERM_ARRAY ||
      count != META_FIELDS || !elem_int(p, len, 0, META_VERSION, META_VERSION, &v))
    return 0;
  if (!elem_int(p, len, 2, HL_SET, HL_DUPLICATE_BAG, &v)) return 0;
  m->opts.type = (hl_table_type)v;
  if (!elem_int(p, len, 3, HL_PUBLIC, HL_PRIVATE, &v)) return 0;
  m->opts.access = (hl_access)v;
  if (!elem_bool(p, len, 4, &m->opts.named) || !elem_bool(p, len, 6, &m->opts.custody))
    return 0;
  if (!term_array_elem(p, len, 5, &el, &elen)) return 0;
  if (el[0] == TERM_STRING) {
    m->opts.keypos.field = el;
    m->opts.keypos.fieldlen = elen;
  } else if (elem_int(p, len, 5, 1, TERM_MAX_COUNT, &v)) {
    m->opts.keypos.index = (uint32_t)v;
  } else {
    return 0;
  }
  m->sync = HL_SYNC_DEFAULT;
  if (!term_array_elem(p, len, 7, &el, &elen)) return 0;
  if (el[0] != TERM_NIL) {
    if (!elem_int(p, len, 7, HL_SYNC_ALWAYS, 3600000, &v)) return 0;
    m->sync = (int)v;
  }
  if (!term_array_elem(p, len, 8, &el, &elen)) return 0;
  if (el[0] == TERM_STRING) {
    m->heir = (tslice){el, elen};
    if (!term_array_elem(p, len, 9, &el, &elen)) return 0;
    if (el[0] != TERM_NIL) m->heir_data = (tslice){el, elen};
  }
  buf_init(&name);
  if (!term_array_elem(p, len, 1, &el, &elen) || !term_get_string(el, elen, &name) ||
      name.n == 0 || memchr(name.p, 0, name.n) != NULL) {
    buf_free(&name);
    return 0;
  }
  buf_putc(&name, 0);
  if (!buf_ok(&name)) {
    buf_free(&name);
    return 0;
  }
  m->name = (char *)name.p;
  return 1;
}

size_t store_value_objects(const unsigned char *p, size_t len) {
  size_t at = 0, n = 0;
  while (at < len) {
    size_t k = term_skip(p + at, len - at);
    if (k == 0) return 0;
    at += k;
    n++;
  }
  return n;
}

int store_meta_name(const unsigned char *p, size_t len, char **name) {
  meta m;
  if (!decode_meta(p, len, &m)) return 0;
  *name = m.name;
  return 1;
}

/* ---- loading ---- */

typedef struct loader {
  node *n;
  store *s;
  const hl_config *cfg;
  buf chunk;             /* objects waiting to be inserted */
  tslice *objs;
  size_t nobjs;
} loader;

static hl_status flush_chunk(loader *ld, etab *t, hl_err *e) {
  size_t at = 0;
  int inserted;
  for (size_t i = 0; i < ld->nobjs; i++) {
    size_t len = term_size_trusted(ld->chunk.p + at, ld->chunk.n - at);
    ld->objs[i] = (tslice){ld->chunk.p + at, len};
    at += len;
  }
  if (ld->nobjs > 0) etab_insert(t, 0, ld->objs, ld->nobjs, 0, &inserted, e);
  ld->nobjs = 0;
  buf_reset(&ld->chunk);
  return e->code;
}

/* Counts the records under prefix (for on_load's total). */
static size_t count_keys(store *s, const buf *prefix) {
  leveldb_iterator_t *it = store_seek_prefix(s, prefix);
  size_t n = 0, klen;
  for (; store_prefix_key(it, prefix, &klen) != NULL; leveldb_iter_next(it)) n++;
  leveldb_iter_destroy(it);
  return n;
}

static hl_status progress(loader *ld, const char *name, size_t loaded, size_t total,
                          hl_err *e) {
  if (ld->cfg->on_load != NULL &&
      ld->cfg->on_load(ld->cfg->on_load_ud, name, loaded, total) != 0)
    return err_set(e, HL_EBADARG, "loading stopped by on_load at table '%s'", name);
  return HL_OK;
}

/* Reads a table's records ("D" sid ...) into t. */
static hl_status load_objects(loader *ld, etab *t, uint64_t sid, hl_err *e) {
  buf prefix;
  leveldb_iterator_t *it;
  size_t loaded = 0, total = 0;
  char *lerr = NULL;
  buf_init(&prefix);
  store_table_key(&prefix, 'D', sid);
  if (ld->cfg->on_load != NULL) {
    total = count_keys(ld->s, &prefix);
    if (progress(ld, t->name, 0, total, e) != HL_OK) goto done;
  }
  it = store_seek_prefix(ld->s, &prefix);
  for (size_t klen; store_prefix_key(it, &prefix, &klen) != NULL; leveldb_iter_next(it)) {
    size_t vlen, at = 0;
    const unsigned char *val = (const unsigned char *)leveldb_iter_value(it, &vlen);
    while (at < vlen) {   /* one object, or a bag's group */
      size_t len = term_skip(val + at, vlen - at);
      if (len == 0) {
        err_set(e, HL_ESTORE, "table '%s': a stored object is corrupt", t->name);
        break;
      }
      buf_put(&ld->chunk, val + at, len);
      at += len;
      if (++ld->nobjs == LOAD_CHUNK && flush_chunk(ld, t, e) != HL_OK) break;
    }
    if (e->code != HL_OK) break;
    if (++loaded % LOAD_REPORT == 0 && progress(ld, t->name, loaded, total, e) != HL_OK) break;
  }
  leveldb_iter_get_error(it, &lerr);
  leveldb_iter_destroy(it);
  if (lerr != NULL && e->code == HL_OK) store_damaged(ld->s, lerr, e);
  else leveldb_free(lerr);
  if (e->code == HL_OK) flush_chunk(ld, t, e);
  if (e->code == HL_OK && !buf_ok(&ld->chunk)) err_set(e, HL_ENOMEM, "out of memory");
  if (e->code == HL_OK && ld->cfg->on_load != NULL) progress(ld, t->name, loaded, total, e);
done:
  buf_free(&prefix);
  return e->code;
}

/* One table from its metadata record, in custody, with its objects. */
static hl_status load_table(loader *ld, uint64_t sid, const unsigned char *p, size_t len,
                            hl_err *e) {
  meta m;
  etab *t;
  stab *d = NULL;   /* set before use; -O1 cannot tell */
  if (!decode_meta(p, len, &m))
    return err_set(e, HL_ESTORE, "the metadata of stored table %llu is corrupt",
                   (unsigned long long)sid);
  t = etab_new(ld->n, m.name, &m.opts, 0, e);   /* owner 0: in custody */
  if (t == NULL) {
    free(m.name);
    return e->code;
  }
  if (m.heir.p != NULL) etab_set_heir(t, 0, m.heir, m.heir_data, e);
  if (e->code == HL_OK) load_objects(ld, t, sid, e);
  if (e->code == HL_OK &&
      (d = store_link_new(ld->s, sid, m.sync != HL_SYNC_DEFAULT ? m.sync : ld->s->sync)) == NULL)
    err_set(e, HL_ENOMEM, "out of memory");
  if (e->code == HL_OK) {
    d->explicit_sync = m.sync != HL_SYNC_DEFAULT;
    t->disk = d;   /* from now on its changes are written */
    t->durable = 1;
    if (d->sync > 0) store_want_period(ld->s, d->sync);
  }
  if (e->code != HL_OK) {
    etab_close(t);
    node_remove_table(ld->n, t);
  }
  etab_unref(t);
  free(m.name);
  return e->code;
}

/* Ends an iteration: e gets the damage it met, if any. */
static hl_status iter_done(store *s, leveldb_iterator_t *it, hl_err *e) {
  char *lerr = NULL;
  leveldb_iter_get_error(it, &lerr);
  leveldb_iter_destroy(it);
  if (lerr != NULL && e->code == HL_OK) return store_damaged(s, lerr, e);
  leveldb_free(lerr);
  return e->code;
}

/* Finishes the drops an earlier run left half done. */
static hl_status finish_drops(store *s, hl_err *e) {
  leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
  buf sids;
  size_t n = 0;
  buf_init(&sids);
  for (leveldb_iter_seek(it, "X", 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
    size_t klen;
    const char *key = leveldb_iter_key(it, &klen);
    if (klen != 9 || key[0] != 'X') break;
    buf_put(&sids, key + 1, 8);
    n++;
  }
  iter_done(s, it, e);
  for (size_t i = 0; i < n && e->code == HL_OK; i++)
    store_drop_sid(s, store_get_u64(sids.p + 8 * i), HL_SYNC_NONE, e);
  buf_free(&sids);
  return e->code;
}

static hl_status read_next_sid(store *s, hl_err *e) {
  char *lerr = NULL;
  size_t vlen;
  char *v = leveldb_get(s->db, s->ropts, "N", 1, &vlen, &lerr);
  term_num num;
  if (lerr != NULL) return store_damaged(s, lerr, e);
  if (v == NULL) return HL_OK;
  if (term_get_num((const unsigned char *)v, vlen, &num) != vlen || !num.isint || num.i < 1)
    err_set(e, HL_ESTORE, "the store's table counter is corrupt");
  else
    s->next_sid = (uint64_t)num.i;
  leveldb_free(v);
  return e->code;
}

static hl_status load_tables(loader *ld, hl_err *e) {
  leveldb_iterator_t *it = leveldb_create_iterator(ld->s->db, ld->s->ropts);
  buf metas;     /* (sid, length, record) copied: loading writes nothing, but
                    an iterator is best kept short-lived */
  size_t at = 0;
  buf_init(&metas);
  for (leveldb_iter_seek(it, "M", 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
    size_t klen, vlen;
    const char *key = leveldb_iter_key(it, &klen);
    const char *val = leveldb_iter_value(it, &vlen);
    uint64_t len = vlen;
    if (klen == 0 || key[0] != 'M') break;
    if (klen != 9) continue;
    buf_put(&metas, key + 1, 8);
    store_put_u64(&metas, len);
    buf_put(&metas, val, vlen);
  }
  iter_done(ld->s, it, e);
  if (e->code == HL_OK && !buf_ok(&metas)) err_set(e, HL_ENOMEM, "out of memory");
  while (e->code == HL_OK && at < metas.n) {
    uint64_t sid = store_get_u64(metas.p + at), len = store_get_u64(metas.p + at + 8);
    if (sid >= ld->s->next_sid) ld->s->next_sid = sid + 1;
    load_table(ld, sid, metas.p + at + 16, (size_t)len, e);
    at += 16 + (size_t)len;
  }
  buf_free(&metas);
  return e->code;
}

hl_status store_open(node *n, const hl_config *cfg, hl_err *e) {
  loader ld;
  store *s;
  if (!store_sync_ok(cfg->sync))
    return err_set(e, HL_EBADARG, "sync must be \"none\", \"always\" or 1 to 3600000 ms");
  s = store_new(cfg->data_dir, 0, cfg->sync, e);
  if (s == NULL) return e->code;
  pthread_mutex_lock(&n->lock);
  n->store = s;
  pthread_mutex_unlock(&n->lock);
  memset(&ld, 0, sizeof ld);
  ld.n = n;
  ld.s = s;
  ld.cfg = cfg;
  buf_init(&ld.chunk);
  ld.objs = malloc(LOAD_CHUNK * sizeof *ld.objs);
  if (ld.objs == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  if (finish_drops(s, e) == HL_OK && read_next_sid(s, e) == HL_OK &&
      load_tables(&ld, e) == HL_OK && sstop_forget(s, e) == HL_OK)
    s->loaded = 1;   /* from now on the store may differ from the stop record */
  free(ld.objs);
  buf_free(&ld.chunk);
  return e->code;
}
