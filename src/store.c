/*
** store.c — a node's LevelDB store: opening and closing it, the periodic
** flusher, the writes of durable tables, and hl.store's records. Loading
** the tables back at start is in sload.c; the key layout is in store.h.
**
** A store is opened with LevelDB's checks on (paranoid_checks, and every
** read verifies its block's checksum), never made over a directory that
** holds one (sdir.h), and refused when damaged, naming the damaged file:
** durable data is never lost in silence. `heirloom repair` (srepair.c)
** is the one way past damage.
*/
#include <dlfcn.h>
#include <leveldb/c.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "etab.h"
#include "etab_impl.h"
#include "sdir.h"
#include "store_impl.h"
#include "term.h"

/* ---- keys ---- */

void store_put_u64(buf *b, uint64_t v) {
  unsigned char *p = buf_grab(b, 8);
  if (p == NULL) return;
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

uint64_t store_get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

void store_table_key(buf *b, char kind, uint64_t sid) {
  buf_reset(b);
  buf_putc(b, (unsigned char)kind);
  store_put_u64(b, sid);
}

/* LevelDB's message, for e, then freed. */
hl_status store_fail(hl_err *e, const char *what, char *lerr) {
  err_set(e, HL_ESTORE, "%s: %s", what, lerr != NULL ? lerr : "failed");
  if (lerr != NULL) leveldb_free(lerr);
  return HL_ESTORE;
}

hl_status store_damaged(store *s, char *lerr, hl_err *e) {
  char where[300];
  const char *msg = lerr != NULL ? lerr : "failed";
  hl_err scan;
  err_clear(&scan);
  if (s->temp)
    err_set(e, HL_ESTORE, "reading the store: %s", msg);
  else if (sdir_find_damage(s->dir, "mlt", where, sizeof where, &scan))
    err_set(e, HL_ESTORE, "data_dir '%s' is damaged: %s (LevelDB: %s); run `heirloom repair %s`",
            s->dir, where, msg, s->dir);
  else
    err_set(e, HL_ESTORE, "data_dir '%s' is damaged (LevelDB: %s); run `heirloom repair %s`",
            s->dir, msg, s->dir);
  leveldb_free(lerr);
  return HL_ESTORE;
}

/* ---- the periodic flusher ----
** A write to a table with sync = N ms is not synced itself; it marks the
** store dirty, and a thread syncs the log at most N ms later by writing a
** marker with sync on (the log is one file, so that makes every write
** before it durable too). */

static void flush_now(store *s) {
  char *lerr = NULL;
  static const char marker[] = "Y";
  atomic_store(&s->dirty, 0);
  leveldb_put(s->db, s->wsync, marker, 1, "", 0, &lerr);
  if (lerr != NULL) leveldb_free(lerr);   /* the next write will report it */
}

static void *flusher(void *arg) {
  store *s = arg;
  pthread_mutex_lock(&s->flock);
  while (!s->fstop) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += s->period / 1000;
    until.tv_nsec += (long)(s->period % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->fcond, &s->flock, &until);
    if (atomic_load(&s->dirty)) {
      pthread_mutex_unlock(&s->flock);
      flush_now(s);
      pthread_mutex_lock(&s->flock);
    }
  }
  pthread_mutex_unlock(&s->flock);
  return NULL;
}

/* A table syncs every `ms`: the flusher runs at the shortest such period. */
void store_want_period(store *s, int ms) {
  pthread_mutex_lock(&s->flock);
  if (!s->frunning) {
    s->period = ms;
    s->frunning = pthread_create(&s->fthread, NULL, flusher, s) == 0;
  } else if (ms < s->period) {
    s->period = ms;
    pthread_cond_signal(&s->fcond);
  }
  pthread_mutex_unlock(&s->flock);
}

/* ---- open and close ---- */

/* Before LevelDB sees dir: a store is made only where none is, a damaged
** one is refused, and the directory is locked (sdir.h). *fresh: a new
** store is to be made. */
static hl_status check_dir(store *s, int *fresh, int *marked, hl_err *e) {
  sdir_info info;
  char where[300];
  if (sdir_inspect(s->dir, &info, e) != HL_OK || sdir_refuse(s->dir, &info, e) != HL_OK)
    return e->code;
  if (info.state == SDIR_NEW && sdir_make(s->dir, e) != HL_OK) return e->code;
  if ((s->lockfd = sdir_lock(s->dir, "another node", e)) < 0) return e->code;
  /* again under the lock: a repair may have run meanwhile */
  if (sdir_inspect(s->dir, &info, e) != HL_OK || sdir_refuse(s->dir, &info, e) != HL_OK)
    return e->code;
  *fresh = info.state == SDIR_NEW;
  *marked = info.marked;
  /* LevelDB reads a zeroed record header in its log or MANIFEST as the
  ** end of a block and goes on after it without a word: checked first. */
  if (!*fresh && sdir_find_damage(s->dir, "ml", where, sizeof where, e))
    return err_set(e, HL_ESTORE, "data_dir '%s' is damaged: %s; run `heirloom repair %s`",
                   s->dir, where, s->dir);
  return e->code;
}

static void open_failed(store *s, char *lerr, hl_err *e) {
  const char *msg = lerr != NULL ? lerr : "unknown error";
  if (strstr(msg, "IO error: lock ") != NULL) {
    err_set(e, HL_ESTORE, "data_dir '%s' is in use by another node (%s)", s->dir, msg);
    leveldb_free(lerr);
  } else if (strncmp(msg, "Corruption", 10) == 0 && !s->temp) {
    store_damaged(s, lerr, e);
  } else {
    err_set(e, HL_ESTORE, "data_dir '%s' cannot be opened: %s", s->dir, msg);
    leveldb_free(lerr);
  }
}

/* LevelDB runs its compactions on a thread of its own that lives until
** the OS process ends. When heirloom is a module Lua loaded, lua_close
** unloads it, and LevelDB with it, under that thread: the module stays
** loaded instead (nothing is loaded anew; an executable is left as is). */
static void pin_library(void) {
  Dl_info info;
  if (dladdr((void *)pin_library, &info) != 0 && info.dli_fname != NULL)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void store_discard(store *s) {
  if (s->opts != NULL) leveldb_options_destroy(s->opts);
  sdir_unlock(s->lockfd);
  buf_free(&s->closed);
  free(s->dir);
  free(s);
}

store *store_new(const char *dir, int temp, int sync, hl_err *e) {
  store *s = calloc(1, sizeof *s);
  char *lerr = NULL;
  int fresh = 1, marked = 1;
  if (s == NULL || (s->dir = strdup(dir)) == NULL) {
    free(s);
    err_set(e, HL_ENOMEM, "out of memory");
    return NULL;
  }
  s->lockfd = -1;
  buf_init(&s->closed);
  s->temp = temp;
  s->sync = sync;
  if (!temp && check_dir(s, &fresh, &marked, e) != HL_OK) {
    store_discard(s);
    return NULL;
  }
  pthread_once(&pin_once, pin_library);
  s->opts = leveldb_options_create();
  leveldb_options_set_create_if_missing(s->opts, fresh);
  leveldb_options_set_error_if_exists(s->opts, fresh);
  leveldb_options_set_paranoid_checks(s->opts, 1);
  s->db = leveldb_open(s->opts, dir, &lerr);
  if (s->db == NULL) {
    open_failed(s, lerr, e);
    store_discard(s);
    return NULL;
  }
  if (!temp && !marked && sdir_mark(s->lockfd, dir, e) != HL_OK) {
    leveldb_close(s->db);
    store_discard(s);
    return NULL;
  }
  s->wnosync = leveldb_writeoptions_create();
  s->wsync = leveldb_writeoptions_create();
  leveldb_writeoptions_set_sync(s->wsync, 1);
  s->ropts = leveldb_readoptions_create();
  /* Every read checks its block's checksum: loading a table reads it all,
  ** and damage must stop the start rather than load what it garbled. */
  leveldb_readoptions_set_verify_checksums(s->ropts, 1);
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->flock, NULL);
  pthread_cond_init(&s->fcond, NULL);
  atomic_init(&s->dirty, 0);
  atomic_init(&s->failed, 0);
  s->next_sid = 1;
  return s;
}

void store_free(store *s) {
  if (s == NULL) return;
  pthread_mutex_lock(&s->flock);
  s->fstop = 1;
  pthread_cond_signal(&s->fcond);
  pthread_mutex_unlock(&s->flock);
  if (s->frunning) pthread_join(s->fthread, NULL);
  if (s->loaded || s->temp) {   /* a start that failed writes nothing */
    flush_now(s);   /* an orderly stop syncs, whatever the tables' modes */
    sstop_write(s);
  }
  leveldb_close(s->db);
  if (s->temp) {
    char *lerr = NULL;
    leveldb_destroy_db(s->opts, s->dir, &lerr);
    leveldb_free(lerr);
    rmdir(s->dir);
  }
  leveldb_options_destroy(s->opts);
  leveldb_writeoptions_destroy(s->wnosync);
  leveldb_writeoptions_destroy(s->wsync);
  leveldb_readoptions_destroy(s->ropts);
  pthread_mutex_destroy(&s->lock);
  pthread_mutex_destroy(&s->flock);
  pthread_cond_destroy(&s->fcond);
  sdir_unlock(s->lockfd);   /* after LevelDB let its own lock go */
  buf_free(&s->closed);
  free(s->dir);
  free(s);
}

void store_close(node *n) {
  store *s;
  pthread_mutex_lock(&n->lock);
  s = n->store;
  n->store = NULL;
  pthread_mutex_unlock(&n->lock);
  store_free(s);
}

store *store_of(node *n, hl_err *e) {
  store *s;
  pthread_mutex_lock(&n->lock);
  if (n->store == NULL && !n->stopped) {
    /* No data_dir: a directory of this node's own, gone at stop, so that
    ** no two nodes ever share hl.store's records by accident. */
    char dir[] = "/tmp/heirloom-store-XXXXXX";
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    if (tmp != NULL && tmp[0] != '\0' &&
        (size_t)snprintf(path, sizeof path, "%s/heirloom-store-XXXXXX", tmp) < sizeof path) {
      if (mkdtemp(path) != NULL) n->store = store_new(path, 1, HL_SYNC_NONE, e);
      else err_set(e, HL_ESTORE, "cannot make a temporary directory in '%s'", tmp);
    } else if (mkdtemp(dir) != NULL) {
      n->store = store_new(dir, 1, HL_SYNC_NONE, e);
    } else {
      err_set(e, HL_ESTORE, "cannot make a temporary directory in /tmp");
    }
  } else if (n->store == NULL) {
    err_set(e, HL_ECLOSED, "the node has stopped");
  }
  s = n->store;
  pthread_mutex_unlock(&n->lock);
  return s;
}

/* n's store, read under the node's lock (hl.store may be making one). */
static store *node_store(node *n) {
  store *s;
  pthread_mutex_lock(&n->lock);
  s = n->store;
  pthread_mutex_unlock(&n->lock);
  return s;
}

const char *store_dir(node *n) {
  store *s = node_store(n);
  return s != NULL && !s->temp ? s->dir : NULL;
}

const char *store_path(node *n) {
  store *s = node_store(n);
  return s != NULL ? s->dir : NULL;
}

int store_sync_ok(int sync) {
  return sync == HL_SYNC_NONE || sync == HL_SYNC_ALWAYS || (sync > 0 && sync <= 3600000);
}

/* ---- writing ---- */

/* Writes a batch with t's sync mode. */
hl_status store_write(store *s, int sync, leveldb_writebatch_t *wb, hl_err *e) {
  char *lerr = NULL;
  leveldb_write(s->db, sync == HL_SYNC_ALWAYS ? s->wsync : s->wnosync, wb, &lerr);
  if (lerr != NULL) {
    atomic_store(&s->failed, 1);
    return store_fail(e, "the durable store failed (the change stands in memory)", lerr);
  }
  if (sync > 0) atomic_store(&s->dirty, 1);
  return HL_OK;
}

/* The record of one key as it is in memory now, into the batch: its
** objects, or a delete when none is left. */
static void put_key_state(etab *t, leveldb_writebatch_t *wb, buf *k, buf *v,
                          const unsigned char *key, size_t klen, uint64_t hash) {
  eobj **link;
  eobj *o = etab_find(t, hash, key, klen, &link);
  store_table_key(k, 'D', t->disk->sid);
  buf_put(k, key, klen);
  if (!buf_ok(k)) return;
  if (o == NULL) {
    leveldb_writebatch_delete(wb, (const char *)k->p, k->n);
  } else if (etab_same_key_next(t, o) == NULL) {
    leveldb_writebatch_put(wb, (const char *)k->p, k->n, (const char *)o->data, o->len);
  } else {                               /* a bag's group, in order */
    buf_reset(v);
    for (; o != NULL; o = etab_same_key_next(t, o)) buf_put(v, o->data, o->len);
    if (buf_ok(v)) leveldb_writebatch_put(wb, (const char *)k->p, k->n, (const char *)v->p, v->n);
  }
}

void stxn_begin(stxn *x, etab *t) {
  x->t = t;
  x->nkeys = 0;
  x->wb = NULL;
  x->sealed = 0;
  err_clear(&x->err);
  buf_init(&x->keys);
}

void stxn_touch(stxn *x, const unsigned char *key, size_t klen, uint64_t hash) {
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
  stxn_touch(ud, eobj_key(o), o->klen, o->hash);
  return o;
}

void stxn_touch_all(stxn *x) {
  etab *t = x->t;
  if (etab_is_ordered(t)) oset_rewrite(&t->store.o, touch_one, x);
  else
    for (unsigned s = 0; s < HTAB_STRIPES; s++) htab_rewrite(&t->store.h, s, touch_one, x);
}

/* Takes the next ticket: the batch is written after every earlier one. */
static void take_ticket(stxn *x) {
  x->ticket = atomic_fetch_add(&x->t->disk->next_ticket, 1);
  x->sealed = 1;
}

void stxn_seal(stxn *x) {
  buf k, v;
  size_t at = 0;
  if (x->nkeys == 0) return;
  if (!buf_ok(&x->keys)) {
    err_set(&x->err, HL_ENOMEM, "out of memory (the change stands in memory, not stored)");
    return;
  }
  x->wb = leveldb_writebatch_create();
  buf_init(&k);
  buf_init(&v);
  while (at < x->keys.n) {
    const unsigned char *p = x->keys.p + at;
    uint64_t hash;
    size_t klen = (size_t)p[8] << 24 | (size_t)p[9] << 16 | (size_t)p[10] << 8 | p[11];
    memcpy(&hash, p, 8);
    put_key_state(x->t, x->wb, &k, &v, p + 12, klen, hash);
    at += 12 + klen;
  }
  if (!buf_ok(&k) || !buf_ok(&v))
    err_set(&x->err, HL_ENOMEM, "out of memory (the change stands in memory, not stored)");
  buf_free(&k);
  buf_free(&v);
  take_ticket(x);   /* even failed: its turn must pass */
}

void stxn_seal_key(stxn *x, etab *t, const unsigned char *key, size_t klen, uint64_t hash) {
  buf k, v;
  unsigned char small[256];
  stxn_begin(x, t);
  buf_init(&k);
  buf_init(&v);
  if (klen + 9 <= sizeof small) {        /* no allocation for the usual key */
    k.p = small;
    k.cap = sizeof small;
  }
  x->wb = leveldb_writebatch_create();
  put_key_state(t, x->wb, &k, &v, key, klen, hash);
  if (!buf_ok(&k) || !buf_ok(&v))
    err_set(&x->err, HL_ENOMEM, "out of memory (the change stands in memory, not stored)");
  if (k.p != small) buf_free(&k);
  buf_free(&v);
  take_ticket(x);
}

hl_status stxn_write(stxn *x, hl_err *e) {
  stab *d = x->t->disk;
  if (x->sealed) {
    pthread_mutex_lock(&d->qlock);
    while (d->serving != x->ticket) pthread_cond_wait(&d->qcond, &d->qlock);
    pthread_mutex_unlock(&d->qlock);
    if (x->err.code == HL_OK) store_write(d->s, d->sync, x->wb, &x->err);
    else atomic_store(&d->s->failed, 1);   /* memory changed, the store did not */
    pthread_mutex_lock(&d->qlock);
    d->serving++;
    pthread_cond_broadcast(&d->qcond);
    pthread_mutex_unlock(&d->qlock);
  }
  if (x->wb != NULL) leveldb_writebatch_destroy(x->wb);
  buf_free(&x->keys);
  if (x->err.code != HL_OK && e->code == HL_OK) *e = x->err;
  return e->code;
}

void store_quiesce(etab *t) {
  stab *d = t->disk;
  if (d == NULL) return;
  pthread_mutex_lock(&d->qlock);
  while (d->serving != atomic_load(&d->next_ticket)) pthread_cond_wait(&d->qcond, &d->qlock);
  pthread_mutex_unlock(&d->qlock);
}

stab *store_link_new(store *s, uint64_t sid, int sync) {
  stab *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->s = s;
  d->sid = sid;
  d->sync = sync;
  atomic_init(&d->next_ticket, 0);
  pthread_mutex_init(&d->qlock, NULL);
  pthread_cond_init(&d->qcond, NULL);
  return d;
}

leveldb_iterator_t *store_seek_prefix(store *s, const buf *prefix) {
  leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
  leveldb_iter_seek(it, (const char *)prefix->p, prefix->n);
  return it;
}

const char *store_prefix_key(leveldb_iterator_t *it, const buf *prefix, size_t *klen) {
  const char *key;
  if (!leveldb_iter_valid(it)) return NULL;
  key = leveldb_iter_key(it, klen);
  if (*klen < prefix->n || memcmp(key, prefix->p, prefix->n) != 0) return NULL;
  return key;
}

/* Deletes every record whose key starts with prefix, in batches of at most
** `chunk` (0: one batch), each written with sync. */
hl_status store_delete_prefix(store *s, const buf *prefix, size_t chunk, int sync,
                              leveldb_writebatch_t *first, hl_err *e) {
  leveldb_iterator_t *it = store_seek_prefix(s, prefix);
  leveldb_writebatch_t *wb = first != NULL ? first : leveldb_writebatch_create();
  const char *key;
  size_t n = 0, klen;
  for (; (key = store_prefix_key(it, prefix, &klen)) != NULL; leveldb_iter_next(it)) {
    leveldb_writebatch_delete(wb, key, klen);
    if (chunk > 0 && ++n == chunk) {
      if (store_write(s, sync, wb, e) != HL_OK) break;
      leveldb_writebatch_clear(wb);
      n = 0;
    }
  }
  leveldb_iter_destroy(it);
  if (e->code == HL_OK) store_write(s, sync, wb, e);
  if (wb != first) leveldb_writebatch_destroy(wb);
  return e->code;
}

/* ---- tables ---- */

hl_status store_attach(etab *t, int sync, hl_err *e) {
  store *s = node_store(t->node);
  stab *d;
  leveldb_writebatch_t *wb;
  buf k, v;
  if (s == NULL || s->temp)
    return err_set(e, HL_EBADARG, "durable tables need a node started with data_dir");
  if (sync != HL_SYNC_DEFAULT && !store_sync_ok(sync))
    return err_set(e, HL_EBADARG, "sync must be \"none\", \"always\" or 1 to 3600000 ms");
  if ((d = store_link_new(s, 0, sync != HL_SYNC_DEFAULT ? sync : s->sync)) == NULL)
    return err_set(e, HL_ENOMEM, "out of memory");
  d->explicit_sync = sync != HL_SYNC_DEFAULT;
  pthread_mutex_lock(&s->lock);
  d->sid = s->next_sid++;
  buf_init(&k);
  buf_init(&v);
  wb = leveldb_writebatch_create();
  buf_putc(&k, 'N');
  term_put_int(&v, (int64_t)s->next_sid);
  if (buf_ok(&k) && buf_ok(&v))
    leveldb_writebatch_put(wb, (const char *)k.p, k.n, (const char *)v.p, v.n);
  t->disk = d;
  store_encode_meta(t, &v);
  store_table_key(&k, 'M', d->sid);
  if (!buf_ok(&k) || !buf_ok(&v)) err_set(e, HL_ENOMEM, "out of memory");
  else {
    leveldb_writebatch_put(wb, (const char *)k.p, k.n, (const char *)v.p, v.n);
    store_write(s, d->sync, wb, e);
  }
  pthread_mutex_unlock(&s->lock);
  leveldb_writebatch_destroy(wb);
  buf_free(&k);
  buf_free(&v);
  if (e->code != HL_OK) {
    store_detach(t);
    return e->code;
  }
  t->durable = 1;
  if (d->sync > 0) store_want_period(s, d->sync);
  return HL_OK;
}

hl_status store_meta(etab *t, hl_err *e) {
  buf k, v;
  char *lerr = NULL;
  stab *d = t->disk;
  if (d == NULL) return HL_OK;
  buf_init(&k);
  buf_init(&v);
  store_encode_meta(t, &v);
  store_table_key(&k, 'M', d->sid);
  if (!buf_ok(&k) || !buf_ok(&v)) err_set(e, HL_ENOMEM, "out of memory");
  else {
    leveldb_put(d->s->db, d->sync == HL_SYNC_ALWAYS ? d->s->wsync : d->s->wnosync,
                (const char *)k.p, k.n, (const char *)v.p, v.n, &lerr);
    if (lerr != NULL) store_fail(e, "the durable store failed", lerr);
    else if (d->sync > 0) atomic_store(&d->s->dirty, 1);
  }
  buf_free(&k);
  buf_free(&v);
  return e->code;
}

/* A dropped table's records go in three steps, each one safe to stop
** after: its metadata goes with a marker "X" in one batch (it is gone for
** any later open), then its objects in chunks, then the marker. An open
** that finds a marker finishes the job (store_finish_drops). */
hl_status store_drop_sid(store *s, uint64_t sid, int sync, hl_err *e) {
  leveldb_writebatch_t *wb = leveldb_writebatch_create();
  buf k;
  buf_init(&k);
  store_table_key(&k, 'M', sid);
  leveldb_writebatch_delete(wb, (const char *)k.p, k.n);
  store_table_key(&k, 'X', sid);
  leveldb_writebatch_put(wb, (const char *)k.p, k.n, "", 0);
  if (buf_ok(&k) && store_write(s, sync, wb, e) == HL_OK) {
    store_table_key(&k, 'D', sid);
    if (store_delete_prefix(s, &k, 10000, sync, NULL, e) == HL_OK) {
      leveldb_writebatch_clear(wb);
      store_table_key(&k, 'X', sid);
      leveldb_writebatch_delete(wb, (const char *)k.p, k.n);
      store_write(s, sync, wb, e);
    }
  }
  leveldb_writebatch_destroy(wb);
  buf_free(&k);
  return e->code;
}

void store_drop(etab *t) {
  hl_err e;
  stab *d = t->disk;
  if (d == NULL) return;
  store_quiesce(t);   /* no write of the table may land after its removal */
  err_clear(&e);
  if (store_drop_sid(d->s, d->sid, d->sync, &e) != HL_OK) {
    char text[sizeof e.msg + 64];
    snprintf(text, sizeof text, "dropping durable table %llu: %s",
             (unsigned long long)t->id, e.msg);
    logger_report(&t->node->log, text);
  }
}

void store_owner_gone(etab *t) {
  int stopping;
  if (t->disk == NULL) return;
  pthread_mutex_lock(&t->node->lock);
  stopping = t->node->stopped;
  pthread_mutex_unlock(&t->node->lock);
  if (!stopping) store_drop(t);
}

void store_detach(etab *t) {
  stab *d = t->disk;
  if (d == NULL) return;
  pthread_mutex_destroy(&d->qlock);
  pthread_cond_destroy(&d->qcond);
  free(d);
  t->disk = NULL;
}

/* ---- hl.store ---- */

static void kv_key(buf *k, const char *ns, size_t nslen, const unsigned char *key,
                   size_t klen) {
  buf_reset(k);
  buf_putc(k, 'S');
  term_put_string(k, ns, nslen);
  if (key != NULL) buf_put(k, key, klen);
}

hl_status store_kv_put(store *s, const char *ns, size_t nslen, const unsigned char *key,
                       size_t klen, const unsigned char *val, size_t vlen, hl_err *e) {
  buf k;
  char *lerr = NULL;
  buf_init(&k);
  kv_key(&k, ns, nslen, key, klen);
  if (!buf_ok(&k)) return err_set(e, HL_ENOMEM, "out of memory");
  leveldb_put(s->db, s->sync == HL_SYNC_ALWAYS ? s->wsync : s->wnosync, (const char *)k.p,
              k.n, (const char *)val, vlen, &lerr);
  buf_free(&k);
  if (lerr != NULL) return store_fail(e, "the store failed", lerr);
  return HL_OK;
}

hl_status store_kv_get(store *s, const char *ns, size_t nslen, const unsigned char *key,
                       size_t klen, buf *out, hl_err *e) {
  buf k;
  char *lerr = NULL, *val;
  size_t vlen;
  buf_init(&k);
  kv_key(&k, ns, nslen, key, klen);
  if (!buf_ok(&k)) return err_set(e, HL_ENOMEM, "out of memory");
  val = leveldb_get(s->db, s->ropts, (const char *)k.p, k.n, &vlen, &lerr);
  buf_free(&k);
  if (lerr != NULL) return store_fail(e, "the store failed", lerr);
  if (val == NULL) return err_set(e, HL_ENOTFOUND, "no such key");
  if (!term_valid((const unsigned char *)val, vlen))
    err_set(e, HL_ESTORE, "the stored value is corrupt");
  else
    buf_put(out, val, vlen);
  leveldb_free(val);
  if (e->code == HL_OK && !buf_ok(out)) err_set(e, HL_ENOMEM, "out of memory");
  return e->code;
}

hl_status store_kv_delete(store *s, const char *ns, size_t nslen, const unsigned char *key,
                          size_t klen, hl_err *e) {
  buf k;
  char *lerr = NULL;
  buf_init(&k);
  kv_key(&k, ns, nslen, key, klen);
  if (!buf_ok(&k)) return err_set(e, HL_ENOMEM, "out of memory");
  leveldb_delete(s->db, s->sync == HL_SYNC_ALWAYS ? s->wsync : s->wnosync, (const char *)k.p,
                 k.n, &lerr);
  buf_free(&k);
  if (lerr != NULL) return store_fail(e, "the store failed", lerr);
  return HL_OK;
}

hl_status store_kv_list(store *s, const char *ns, size_t nslen, buf *out, size_t *count,
                        hl_err *e) {
  buf prefix;
  leveldb_iterator_t *it;
  const char *k;
  size_t klen;
  char *lerr = NULL;
  *count = 0;
  buf_init(&prefix);
  kv_key(&prefix, ns, nslen, NULL, 0);
  if (!buf_ok(&prefix)) return err_set(e, HL_ENOMEM, "out of memory");
  it = store_seek_prefix(s, &prefix);
  for (; (k = store_prefix_key(it, &prefix, &klen)) != NULL; leveldb_iter_next(it)) {
    size_t vlen;
    const unsigned char *key = (const unsigned char *)k;
    const unsigned char *val = (const unsigned char *)leveldb_iter_value(it, &vlen);
    if (!term_valid(key + prefix.n, klen - prefix.n) || !term_valid(val, vlen)) {
      err_set(e, HL_ESTORE, "a stored record is corrupt");
      break;
    }
    buf_put(out, key + prefix.n, klen - prefix.n);
    buf_put(out, val, vlen);
    (*count)++;
  }
  leveldb_iter_get_error(it, &lerr);
  leveldb_iter_destroy(it);
  buf_free(&prefix);
  if (lerr != NULL && e->code == HL_OK) return store_fail(e, "the store failed", lerr);
  leveldb_free(lerr);
  if (e->code == HL_OK && !buf_ok(out)) err_set(e, HL_ENOMEM, "out of memory");
  return e->code;
}
