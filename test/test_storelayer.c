/*
** test_storelayer.c — the store layer on its own: linked from the base
** (buf, err, term) and the store's files alone, with no table, node or
** Lua, it writes durable records as bytes, reads them back through the
** functions a start passes in, keeps a table's batches in ticket order,
** counts at an orderly stop and drops, fails the writes its fault hook
** chooses (undoing them and the later ones) and writes nothing once
** crashed. It does not link if a store file calls up into the tables or
** the node.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "srepair.h"
#include "store.h"
#include "term.h"

static char root[64], dir[256];

static const unsigned char *term_int(buf *b, int64_t v) {
  buf_reset(b);
  term_put_int(b, v);
  return b->p;
}

static void meta_of(buf *out, const char *name, int sync) {
  smeta m;
  memset(&m, 0, sizeof m);
  m.name = (char *)name;
  m.type = HL_BAG;
  m.access = HL_PUBLIC;
  m.named = 1;
  m.keyindex = 1;
  m.sync = sync;
  store_meta_encode(&m, out);
}

/* One change of table d: key k's objects now are val (NULL: none left). */
static hl_status change(stab *d, int64_t k, const unsigned char *val, size_t vlen) {
  sbatch b;
  buf key;
  hl_err e;
  err_clear(&e);
  buf_init(&key);
  term_int(&key, k);
  sbatch_begin(&b, d);
  if (val != NULL) sbatch_put(&b, key.p, key.n, val, vlen);
  else sbatch_delete(&b, key.p, key.n);
  sbatch_seal(&b);
  buf_free(&key);
  return sbatch_write(&b, &e);
}

/* What a start sees. */
typedef struct seen {
  store *s;
  int tables;
  uint64_t sid;
  smeta meta;
  size_t records, objects;
  buf values;
} seen;

static hl_status see_record(void *ud, const unsigned char *val, size_t len, hl_err *e) {
  seen *v = ud;
  (void)e;
  v->records++;
  v->objects += store_value_objects(val, len);
  buf_put(&v->values, val, len);
  return HL_OK;
}

static hl_status see_table(void *ud, uint64_t sid, const unsigned char *meta, size_t len,
                           hl_err *e) {
  seen *v = ud;
  v->tables++;
  v->sid = sid;
  if (!store_meta_decode(meta, len, &v->meta)) return err_set(e, HL_ESTORE, "bad meta");
  CHECK(store_count_records(v->s, sid) == 3);
  return store_each_record(v->s, sid, see_record, v, e);
}

static store *reopen(seen *v) {
  hl_err e;
  store *s;
  err_clear(&e);
  memset(v, 0, sizeof *v);
  buf_init(&v->values);
  s = store_new(dir, HL_SYNC_NONE, &e);
  CHECK(s != NULL);
  if (s == NULL) return NULL;
  v->s = s;
  CHECK(store_load(s, see_table, v, &e) == HL_OK);
  return s;
}

static void seen_free(seen *v) {
  free(v->meta.name);
  buf_free(&v->values);
}

/* A batch sealed later waits for the one sealed before it. */
typedef struct later {
  stab *d;
  hl_status rc;
} later;

static void *write_later(void *arg) {
  later *l = arg;
  buf v;
  buf_init(&v);
  term_put_string(&v, "second", 6);
  l->rc = change(l->d, 7, v.p, v.n);
  buf_free(&v);
  return NULL;
}

static void test_tables(void) {
  hl_err e;
  buf meta, v, obj, key, report;
  seen sn;
  store *s;
  stab *d;
  sbatch first;
  later l;
  pthread_t th;
  struct timespec pause = {0, 20 * 1000000L};
  err_clear(&e);
  buf_init(&meta);
  buf_init(&v);
  buf_init(&obj);
  buf_init(&key);
  buf_init(&report);
  s = reopen(&sn);   /* a fresh store: nothing to load */
  CHECK(sn.tables == 0);
  CHECK(!store_is_temp(s));
  CHECK(strcmp(store_dirname(s), dir) == 0);
  meta_of(&meta, "accounts", HL_SYNC_DEFAULT);
  d = stab_create(s, HL_SYNC_DEFAULT, meta.p, meta.n, &e);
  CHECK(d != NULL && e.code == HL_OK);
  /* key 1: a bag's two objects; key 2: one, then deleted; key 3: one */
  term_put_string(&v, "a", 1);
  term_put_string(&v, "b", 1);
  CHECK(change(d, 1, v.p, v.n) == HL_OK);
  CHECK(change(d, 2, term_int(&obj, 20), obj.n) == HL_OK);
  CHECK(change(d, 2, NULL, 0) == HL_OK);
  CHECK(change(d, 3, term_int(&obj, 30), obj.n) == HL_OK);
  /* tickets: the batch sealed first is written first, whoever writes */
  term_int(&key, 7);
  buf_reset(&obj);
  term_put_string(&obj, "first", 5);
  sbatch_begin(&first, d);
  sbatch_put(&first, key.p, key.n, obj.p, obj.n);
  sbatch_seal(&first);
  l.d = d;
  l.rc = HL_ESTORE;
  CHECK(pthread_create(&th, NULL, write_later, &l) == 0);
  nanosleep(&pause, NULL);
  CHECK(sbatch_write(&first, &e) == HL_OK);
  pthread_join(th, NULL);
  CHECK(l.rc == HL_OK);
  stab_quiesce(d);
  /* an orderly stop counts the table as it closes */
  stab_closed(d, "accounts", 4);
  stab_free(d);
  store_free(s);
  seen_free(&sn);
  CHECK(store_repair(dir, &report, &e) == HL_OK);
  CHECK(memmem(report.p, report.n, "accounts: 4 objects at the last orderly stop, 4 now",
               51) != NULL);

  s = reopen(&sn);
  CHECK(sn.tables == 1 && sn.sid == 1);
  CHECK(sn.meta.name != NULL && strcmp(sn.meta.name, "accounts") == 0);
  CHECK(sn.meta.type == HL_BAG && sn.meta.named && sn.meta.keyindex == 1);
  CHECK(sn.meta.sync == HL_SYNC_DEFAULT);
  CHECK(sn.records == 3);
  CHECK(sn.objects == 4);   /* a, b, 30, "second" */
  buf_reset(&v);
  term_put_string(&v, "a", 1);
  term_put_string(&v, "b", 1);
  term_put_int(&v, 30);
  term_put_string(&v, "second", 6);
  CHECK(sn.values.n == v.n && memcmp(sn.values.p, v.p, v.n) == 0);
  /* the metadata is rewritten; then the table is dropped */
  d = stab_new(s, sn.sid, 250);
  CHECK(d != NULL && d->explicit_sync && d->sync == 250);
  meta_of(&meta, "renamed", 250);
  CHECK(stab_put_meta(d, meta.p, meta.n, &e) == HL_OK);
  stab_free(d);
  store_free(s);
  seen_free(&sn);
  s = reopen(&sn);
  CHECK(sn.tables == 1 && strcmp(sn.meta.name, "renamed") == 0 && sn.meta.sync == 250);
  d = stab_new(s, sn.sid, sn.meta.sync);
  CHECK(stab_drop(d, &e) == HL_OK);
  stab_free(d);
  store_free(s);
  seen_free(&sn);
  s = reopen(&sn);
  CHECK(sn.tables == 0);
  store_free(s);
  seen_free(&sn);
  buf_free(&meta);
  buf_free(&v);
  buf_free(&obj);
  buf_free(&key);
  buf_free(&report);
}

static void test_meta_refused(void) {
  buf b;
  smeta m;
  buf_init(&b);
  term_put_array(&b, 10);
  term_put_int(&b, 1);
  CHECK(!store_meta_decode(b.p, b.n, &m));   /* cut short */
  meta_of(&b, "", HL_SYNC_DEFAULT);
  CHECK(!store_meta_decode(b.p, b.n, &m));   /* no name */
  meta_of(&b, "t", 12);
  CHECK(store_meta_decode(b.p, b.n, &m) && m.sync == 12 && m.heir == NULL);
  free(m.name);
  buf_free(&b);
  CHECK(store_value_objects((const unsigned char *)"\xff", 1) == 0);
}

static void test_kv(void) {
  hl_err e;
  buf k, v, out;
  size_t count;
  store *s;
  err_clear(&e);
  buf_init(&k);
  buf_init(&v);
  buf_init(&out);
  s = store_new_temp(&e);
  CHECK(s != NULL && store_is_temp(s));
  if (s == NULL) return;
  term_put_string(&k, "key", 3);
  term_put_int(&v, 42);
  CHECK(store_kv_put(s, "ns", 2, k.p, k.n, v.p, v.n, &e) == HL_OK);
  CHECK(store_kv_get(s, "ns", 2, k.p, k.n, &out, &e) == HL_OK);
  CHECK(out.n == v.n && memcmp(out.p, v.p, v.n) == 0);
  buf_reset(&out);
  CHECK(store_kv_list(s, "ns", 2, &out, &count, &e) == HL_OK && count == 1);
  CHECK(store_kv_delete(s, "ns", 2, k.p, k.n, &e) == HL_OK);
  CHECK(store_kv_get(s, "ns", 2, k.p, k.n, &out, &e) == HL_ENOTFOUND);
  store_free(s);
  buf_free(&k);
  buf_free(&v);
  buf_free(&out);
}

/* ---- failures: the fault hook, sbatch_undo, a crash ---- */

static int fail_all;

static int fault_hook(void *ud) {
  (void)ud;
  return fail_all;
}

/* The keys sbatch_undo hands back, as ints. */
typedef struct undone_keys {
  int64_t keys[8];
  int n;
} undone_keys;

static int note_key(void *ud, const unsigned char *key, size_t klen) {
  undone_keys *u = ud;
  term_num num;
  if (term_get_num(key, klen, &num) == klen && num.isint && u->n < 8) u->keys[u->n++] = num.i;
  return 1;
}

typedef struct waiter {
  stab *d;
  sbatch b;
  int turn;
  hl_err e;
} waiter;

static void *wait_turn(void *arg) {
  waiter *w = arg;
  w->turn = sbatch_turn(&w->b);
  if (w->turn) sbatch_commit(&w->b);
  sbatch_pass(&w->b, &w->e);
  return NULL;
}

static int stored(stab *d, int64_t k) {
  buf key, v;
  int found = 0;
  hl_err e;
  err_clear(&e);
  buf_init(&key);
  buf_init(&v);
  term_int(&key, k);
  CHECK(stab_get(d, key.p, key.n, &v, &found, &e) == HL_OK);
  buf_free(&key);
  buf_free(&v);
  return found;
}

static void test_failures(void) {
  hl_err e;
  buf meta, obj, key;
  store *s;
  stab *d;
  sbatch first;
  waiter w;
  undone_keys u = {{0}, 0};
  pthread_t th;
  struct timespec pause = {0, 20 * 1000000L};
  seen sn;
  err_clear(&e);
  buf_init(&meta);
  buf_init(&obj);
  buf_init(&key);
  snprintf(dir, sizeof dir, "%s/faults", root);
  s = reopen(&sn);
  store_set_fault(s, fault_hook, NULL);
  meta_of(&meta, "t", HL_SYNC_DEFAULT);
  d = stab_create(s, HL_SYNC_DEFAULT, meta.p, meta.n, &e);
  CHECK(d != NULL);
  CHECK(change(d, 1, term_int(&obj, 10), obj.n) == HL_OK && stored(d, 1));
  fail_all = 1;   /* the hook fails it: nothing reaches LevelDB */
  CHECK(change(d, 2, term_int(&obj, 20), obj.n) == HL_ESTORE && !stored(d, 2));
  /* a failed batch in its turn: the undo hands back its keys and those of
  ** the batch ticketed after it, which then fails unwritten */
  sbatch_begin(&first, d);
  term_int(&key, 3);
  sbatch_put(&first, key.p, key.n, term_int(&obj, 30), obj.n);
  sbatch_seal(&first);
  w.d = d;
  err_clear(&w.e);
  sbatch_begin(&w.b, d);
  term_int(&key, 4);
  sbatch_put(&w.b, key.p, key.n, term_int(&obj, 40), obj.n);
  sbatch_seal(&w.b);
  CHECK(pthread_create(&th, NULL, wait_turn, &w) == 0);
  nanosleep(&pause, NULL);
  CHECK(sbatch_turn(&first) == 1);
  CHECK(sbatch_commit(&first) == HL_ESTORE);
  sbatch_undo(&first, note_key, &u);
  CHECK(u.n == 2 && u.keys[0] == 3 && u.keys[1] == 4);
  CHECK(strstr(first.err.msg, "injected fault; the change was not made") != NULL);
  CHECK(sbatch_pass(&first, &e) == HL_ESTORE);
  pthread_join(th, NULL);
  CHECK(!w.turn && w.e.code == HL_ESTORE);
  CHECK(strstr(w.e.msg, "an earlier write to the table failed (injected fault)") != NULL);
  CHECK(!stored(d, 3) && !stored(d, 4));
  fail_all = 0;   /* later tickets write again */
  CHECK(change(d, 5, term_int(&obj, 50), obj.n) == HL_OK && stored(d, 5));
  /* a crash: nothing more is written, and no stop record */
  store_crash(s);
  err_clear(&e);
  CHECK(change(d, 6, term_int(&obj, 60), obj.n) == HL_ESTORE && !stored(d, 6));
  CHECK(store_kv_put(s, "ns", 2, key.p, key.n, obj.p, obj.n, &e) == HL_ESTORE);
  CHECK(strstr(e.msg, "the node has crashed") != NULL);
  stab_closed(d, "t", 2);
  stab_free(d);
  store_free(s);
  seen_free(&sn);
  {
    buf report;
    buf_init(&report);
    err_clear(&e);
    CHECK(store_repair(dir, &report, &e) == HL_OK);
    CHECK(memmem(report.p, report.n, "last orderly stop", 17) == NULL);
    buf_free(&report);
  }
  buf_free(&meta);
  buf_free(&obj);
  buf_free(&key);
}

int main(void) {
  char tmpl[] = "/tmp/heirloom-test-slayer-XXXXXX";
  CHECK(mkdtemp(tmpl) != NULL);
  snprintf(root, sizeof root, "%s", tmpl);
  snprintf(dir, sizeof dir, "%s/data", tmpl);
  test_tables();
  test_meta_refused();
  test_kv();
  test_failures();
  {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    CHECK(system(cmd) == 0);
  }
  return check_summary("storelayer");
}
