/*
** store.c — a LevelDB store: opening and closing it, the periodic
** flusher, the helpers of the store layer, and hl.store's records. The
** durable tables' links and write batches are in stab.c, reading a store
** back at start in sload.c; the key layout is in store.h.
**
** A store is opened with LevelDB's checks on (paranoid_checks, and every
** read verifies its block's checksum), never made over a directory that
** holds one (sdir.h), and refused when damaged, naming the damaged file:
** durable data is never lost in silence. `heirloom repair` (srepair.c)
** is the one way past damage. It sees bytes only: no table, node or
** process is known here.
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
  if (atomic_load(&s->crashed)) return;   /* a killed process syncs nothing */
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

static store *store_make(const char *dir, int temp, int sync, hl_err *e) {
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
  atomic_init(&s->crashed, 0);
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
  /* a start that failed writes nothing, and neither does a crash */
  if ((s->loaded || s->temp) && !atomic_load(&s->crashed)) {
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

store *store_new(const char *dir, int sync, hl_err *e) {
  return store_make(dir, 0, sync, e);
}

/* No data_dir: a directory of the node's own, gone at stop, so that no
** two nodes ever share hl.store's records by accident. */
store *store_new_temp(hl_err *e) {
  char dir[] = "/tmp/heirloom-store-XXXXXX";
  const char *tmp = getenv("TMPDIR");
  char path[4096];
  if (tmp != NULL && tmp[0] != '\0' &&
      (size_t)snprintf(path, sizeof path, "%s/heirloom-store-XXXXXX", tmp) < sizeof path) {
    if (mkdtemp(path) != NULL) return store_make(path, 1, HL_SYNC_NONE, e);
    err_set(e, HL_ESTORE, "cannot make a temporary directory in '%s'", tmp);
    return NULL;
  }
  if (mkdtemp(dir) != NULL) return store_make(dir, 1, HL_SYNC_NONE, e);
  err_set(e, HL_ESTORE, "cannot make a temporary directory in /tmp");
  return NULL;
}

int store_is_temp(const store *s) {
  return s->temp;
}

const char *store_dirname(const store *s) {
  return s->dir;
}

int store_sync_ok(int sync) {
  return sync == HL_SYNC_NONE || sync == HL_SYNC_ALWAYS || (sync > 0 && sync <= 3600000);
}

void store_set_fault(store *s, store_fault_fn fn, void *ud) {
  s->fault = fn;
  s->fault_ud = ud;
}

void store_crash(store *s) {
  atomic_store(&s->crashed, 1);
}

hl_status store_refuse_crashed(store *s, hl_err *e) {
  if (atomic_load(&s->crashed))
    return err_set(e, HL_ESTORE, "the durable store failed to write: the node has crashed");
  return HL_OK;
}

/* ---- writing ---- */

/* Writes a batch with a table's sync mode. */
hl_status store_write(store *s, int sync, leveldb_writebatch_t *wb, hl_err *e) {
  char *lerr = NULL;
  if (store_refuse_crashed(s, e) != HL_OK) return e->code;
  leveldb_write(s->db, sync == HL_SYNC_ALWAYS ? s->wsync : s->wnosync, wb, &lerr);
  if (lerr != NULL) {
    atomic_store(&s->failed, 1);
    return store_fail(e, "the durable store failed to write", lerr);
  }
  if (sync > 0) atomic_store(&s->dirty, 1);
  return HL_OK;
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
  if (store_refuse_crashed(s, e) != HL_OK) return e->code;
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
  if (store_refuse_crashed(s, e) != HL_OK) return e->code;
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
