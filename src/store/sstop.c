/*
** sstop.c — the stop record: what a store held when its node last stopped
** in order (store_impl.h). A repair compares what it recovered with it,
** so that its report can say "4000 objects at the last stop, 3999 now".
**
** The counts are taken as each durable table closes at stop, under all of
** its locks, after which nothing can change it: the table layer hands
** them over (stab_closed). The record is written once every batch of
** every table is in the store, and only when no write failed (a failed
** write leaves the store behind memory). Then the memtable goes to a
** table file, so that a store stopped in order keeps nothing in its log.
*/
#include <leveldb/c.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"
#include "term.h"

#define STOP_VERSION 1
static const char stop_key[] = "Z";

/* ---- counting at stop ---- */

static int closed_has(const buf *closed, uint64_t sid) {
  size_t at = 0;
  while (at < closed->n) {
    uint32_t namelen;
    if (store_get_u64(closed->p + at) == sid) return 1;
    memcpy(&namelen, closed->p + at + 16, 4);
    at += 20 + namelen;
  }
  return 0;
}

void stab_closed(stab *d, const char *name, size_t objects) {
  store *s = d->s;
  uint32_t namelen = (uint32_t)strlen(name);
  pthread_mutex_lock(&s->lock);
  if (!closed_has(&s->closed, d->sid)) {   /* the first close counts */
    store_put_u64(&s->closed, d->sid);
    store_put_u64(&s->closed, objects);
    buf_put(&s->closed, &namelen, 4);
    buf_put(&s->closed, name, namelen);
  }
  pthread_mutex_unlock(&s->lock);
}

static uint64_t count_records(store *s) {
  leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
  uint64_t n = 0;
  for (leveldb_iter_seek(it, "S", 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
    size_t klen;
    const char *key = leveldb_iter_key(it, &klen);
    if (klen == 0 || key[0] != 'S') break;
    n++;
  }
  leveldb_iter_destroy(it);
  return n;
}

static void encode(store *s, buf *v) {
  size_t at = 0, count = 0;
  for (at = 0; at < s->closed.n; count++) {
    uint32_t namelen;
    memcpy(&namelen, s->closed.p + at + 16, 4);
    at += 20 + namelen;
  }
  term_put_array(v, 4);
  term_put_int(v, STOP_VERSION);
  term_put_int(v, (int64_t)time(NULL));
  term_put_array(v, (uint32_t)count);
  for (at = 0; at < s->closed.n;) {
    uint32_t namelen;
    memcpy(&namelen, s->closed.p + at + 16, 4);
    term_put_array(v, 3);
    term_put_int(v, (int64_t)store_get_u64(s->closed.p + at));
    term_put_string(v, s->closed.p + at + 20, namelen);
    term_put_int(v, (int64_t)store_get_u64(s->closed.p + at + 8));
    at += 20 + namelen;
  }
  term_put_int(v, (int64_t)count_records(s));
}

void sstop_write(store *s) {
  buf v;
  char *lerr = NULL;
  if (s->temp) return;
  buf_init(&v);
  pthread_mutex_lock(&s->lock);
  if (!atomic_load(&s->failed) && buf_ok(&s->closed)) encode(s, &v);
  pthread_mutex_unlock(&s->lock);
  if (v.n > 0 && buf_ok(&v)) {
    leveldb_put(s->db, s->wsync, stop_key, 1, (const char *)v.p, v.n, &lerr);
    leveldb_free(lerr);   /* no record: a repair says "unknown" */
  }
  buf_free(&v);
  /* A range no key is in: LevelDB only writes its memtable to a table
  ** file, and a new log starts empty. */
  leveldb_compact_range(s->db, "", 0, "", 0);
}

hl_status sstop_forget(store *s, hl_err *e) {
  char *lerr = NULL;
  leveldb_delete(s->db, s->wnosync, stop_key, 1, &lerr);
  if (lerr != NULL) return store_fail(e, "the durable store failed", lerr);
  return HL_OK;
}

/* ---- reading it back (a repair) ---- */

void sstop_free(sstop *z) {
  for (size_t i = 0; i < z->ntables; i++) free(z->tables[i].name);
  free(z->tables);
  memset(z, 0, sizeof *z);
}

static int get_int(const unsigned char *p, size_t len, int64_t *v) {
  term_num num;
  if (term_get_num(p, len, &num) != len || !num.isint) return 0;
  *v = num.i;
  return 1;
}

static int elem_int(const unsigned char *p, size_t len, uint32_t i, int64_t *v) {
  const unsigned char *el;
  size_t elen;
  return term_array_elem(p, len, i, &el, &elen) && get_int(el, elen, v);
}

static int decode_table(const unsigned char *p, size_t len, sstop_table *t) {
  const unsigned char *el;
  size_t elen;
  int64_t sid, objects;
  buf name;
  if (!elem_int(p, len, 0, &sid) || !elem_int(p, len, 2, &objects) || sid < 0 || objects < 0 ||
      !term_array_elem(p, len, 1, &el, &elen))
    return 0;
  buf_init(&name);
  if (term_get_string(el, elen, &name) != elen) {
    buf_free(&name);
    return 0;
  }
  buf_putc(&name, 0);
  if (!buf_ok(&name)) {
    buf_free(&name);
    return 0;
  }
  t->sid = (uint64_t)sid;
  t->objects = (uint64_t)objects;
  t->name = (char *)name.p;
  return 1;
}

static int decode(const unsigned char *p, size_t len, sstop *z) {
  const unsigned char *list;
  size_t llen;
  int64_t version, when, records;
  int tag;
  uint32_t count;
  if (!term_valid(p, len) || !elem_int(p, len, 0, &version) || version != STOP_VERSION ||
      !elem_int(p, len, 1, &when) || !elem_int(p, len, 3, &records) || records < 0 ||
      !term_array_elem(p, len, 2, &list, &llen) ||
      !term_get_header(list, llen, &tag, &count) || tag != TERM_ARRAY)
    return 0;
  z->time = when;
  z->records = (uint64_t)records;
  z->tables = calloc(count + 1, sizeof *z->tables);
  if (z->tables == NULL) return 0;
  for (uint32_t i = 0; i < count; i++) {
    const unsigned char *el;
    size_t elen;
    if (!term_array_elem(list, llen, i, &el, &elen) || !decode_table(el, elen, &z->tables[i]))
      return 0;
    z->ntables++;
  }
  return 1;
}

hl_status sstop_read(leveldb_t *db, leveldb_readoptions_t *ro, sstop *z, hl_err *e) {
  char *lerr = NULL, *v;
  size_t vlen;
  memset(z, 0, sizeof *z);
  v = leveldb_get(db, ro, stop_key, 1, &vlen, &lerr);
  if (lerr != NULL) return store_fail(e, "reading the stop record", lerr);
  if (v == NULL) return HL_OK;
  if (decode((const unsigned char *)v, vlen, z)) z->found = 1;
  else sstop_free(z);   /* unreadable: as if there were none */
  leveldb_free(v);
  return HL_OK;
}
