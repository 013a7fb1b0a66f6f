/*
** sload.c — a store's records of durable tables: their metadata record
** encoded from and decoded to plain values, and a store read back at
** start. The table layer (edurable.c) turns what is read into tables; it
** is handed each table's metadata and records through the functions it
** passes in, and nothing here knows a table.
**
** A start refuses what it cannot read: a metadata record that does not
** decode, and damage LevelDB reports on the way, name what is wrong.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"
#include "term.h"

#define META_VERSION 1
#define META_FIELDS 10

/* ---- metadata (store.h) ---- */

void store_meta_encode(const smeta *m, buf *out) {
  buf_reset(out);
  term_put_array(out, META_FIELDS);
  term_put_int(out, META_VERSION);
  if (m->name != NULL) term_put_string(out, m->name, strlen(m->name));
  else out->oom = 1;
  term_put_int(out, (int64_t)m->type);
  term_put_int(out, (int64_t)m->access);
  term_put_bool(out, m->named);
  if (m->keyfield != NULL) buf_put(out, m->keyfield, m->keyfieldlen);
  else term_put_int(out, m->keyindex);
  term_put_bool(out, m->custody);
  if (m->sync != HL_SYNC_DEFAULT) term_put_int(out, m->sync);
  else term_put_nil(out);
  if (m->heir != NULL) {
    buf_put(out, m->heir, m->heirlen);
    if (m->heir_data != NULL) buf_put(out, m->heir_data, m->heir_datalen);
    else term_put_nil(out);
  } else {
    term_put_nil(out);
    term_put_nil(out);
  }
}

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

int store_meta_decode(const unsigned char *p, size_t len, smeta *m) {
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
  m->type = (hl_table_type)v;
  if (!elem_int(p, len, 3, HL_PUBLIC, HL_PRIVATE, &v)) return 0;
  m->access = (hl_access)v;
  if (!elem_bool(p, len, 4, &m->named) || !elem_bool(p, len, 6, &m->custody)) return 0;
  if (!term_array_elem(p, len, 5, &el, &elen)) return 0;
  if (el[0] == TERM_STRING) {
    m->keyfield = el;
    m->keyfieldlen = elen;
  } else if (elem_int(p, len, 5, 1, TERM_MAX_COUNT, &v)) {
    m->keyindex = (uint32_t)v;
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
    m->heir = el;
    m->heirlen = elen;
    if (!term_array_elem(p, len, 9, &el, &elen)) return 0;
    if (el[0] != TERM_NIL) {
      m->heir_data = el;
      m->heir_datalen = elen;
    }
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

/* ---- a table's records ---- */

size_t store_count_records(store *s, uint64_t sid) {
  buf prefix;
  leveldb_iterator_t *it;
  size_t n = 0, klen;
  buf_init(&prefix);
  store_table_key(&prefix, 'D', sid);
  it = store_seek_prefix(s, &prefix);
  for (; store_prefix_key(it, &prefix, &klen) != NULL; leveldb_iter_next(it)) n++;
  leveldb_iter_destroy(it);
  buf_free(&prefix);
  return n;
}

hl_status store_each_record(store *s, uint64_t sid, store_record_fn fn, void *ud,
                            hl_err *e) {
  buf prefix;
  leveldb_iterator_t *it;
  char *lerr = NULL;
  buf_init(&prefix);
  store_table_key(&prefix, 'D', sid);
  it = store_seek_prefix(s, &prefix);
  for (size_t klen; store_prefix_key(it, &prefix, &klen) != NULL; leveldb_iter_next(it)) {
    size_t vlen;
    const char *val = leveldb_iter_value(it, &vlen);
    if (fn(ud, (const unsigned char *)val, vlen, e) != HL_OK) break;
  }
  leveldb_iter_get_error(it, &lerr);
  leveldb_iter_destroy(it);
  if (lerr != NULL && e->code == HL_OK) store_damaged(s, lerr, e);
  else leveldb_free(lerr);
  buf_free(&prefix);
  return e->code;
}

/* ---- a start ---- */

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

static hl_status each_table(store *s, store_table_fn fn, void *ud, hl_err *e) {
  leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
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
  iter_done(s, it, e);
  if (e->code == HL_OK && !buf_ok(&metas)) err_set(e, HL_ENOMEM, "out of memory");
  while (e->code == HL_OK && at < metas.n) {
    uint64_t sid = store_get_u64(metas.p + at), len = store_get_u64(metas.p + at + 8);
    if (sid >= s->next_sid) s->next_sid = sid + 1;
    fn(ud, sid, metas.p + at + 16, (size_t)len, e);
    at += 16 + (size_t)len;
  }
  buf_free(&metas);
  return e->code;
}

hl_status store_load(store *s, store_table_fn fn, void *ud, hl_err *e) {
  if (finish_drops(s, e) == HL_OK && read_next_sid(s, e) == HL_OK &&
      each_table(s, fn, ud, e) == HL_OK && sstop_forget(s, e) == HL_OK)
    s->loaded = 1;   /* from now on the store may differ from the stop record */
  return e->code;
}
