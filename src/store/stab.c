/*
** stab.c — a durable table's link to its store (store.h): its store id,
** sync mode and tickets, the write batch of each of its changes, its
** metadata record, and its removal.
**
** What it is handed is bytes — a key with the term bytes of its objects,
** or a metadata record already encoded — and it never reads a table.
** What it promises: a sealed batch is written only after every batch of
** an earlier ticket of the same table, and with none of the table's
** locks held (sbatch_write runs after they are released), so the store
** sees the changes of one key in the order memory applied them. A batch
** that fails holds its turn while the table undoes it and every batch
** ticketed after it (sbatch_undo), so that none of them reaches the store
** and memory is put back as the store is.
*/
#include <leveldb/c.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"
#include "term.h"

/* ---- the link ---- */

static stab *link_new(store *s, uint64_t sid, int sync) {
  stab *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->s = s;
  d->sid = sid;
  d->explicit_sync = sync != HL_SYNC_DEFAULT;
  d->sync = d->explicit_sync ? sync : s->sync;
  atomic_init(&d->next_ticket, 0);
  pthread_mutex_init(&d->qlock, NULL);
  pthread_cond_init(&d->qcond, NULL);
  return d;
}

stab *stab_new(store *s, uint64_t sid, int sync) {
  stab *d = link_new(s, sid, sync);
  if (d != NULL && d->sync > 0) store_want_period(s, d->sync);
  return d;
}

stab *stab_create(store *s, int sync, const unsigned char *meta, size_t len, hl_err *e) {
  stab *d = link_new(s, 0, sync);
  leveldb_writebatch_t *wb;
  buf k, v;
  if (d == NULL) {
    err_set(e, HL_ENOMEM, "out of memory");
    return NULL;
  }
  pthread_mutex_lock(&s->lock);
  d->sid = s->next_sid++;
  buf_init(&k);
  buf_init(&v);
  wb = leveldb_writebatch_create();
  buf_putc(&k, 'N');
  term_put_int(&v, (int64_t)s->next_sid);
  if (buf_ok(&k) && buf_ok(&v))
    leveldb_writebatch_put(wb, (const char *)k.p, k.n, (const char *)v.p, v.n);
  store_table_key(&k, 'M', d->sid);
  if (!buf_ok(&k) || !buf_ok(&v)) err_set(e, HL_ENOMEM, "out of memory");
  else {
    leveldb_writebatch_put(wb, (const char *)k.p, k.n, (const char *)meta, len);
    store_write(s, d->sync, wb, e);
  }
  pthread_mutex_unlock(&s->lock);
  leveldb_writebatch_destroy(wb);
  buf_free(&k);
  buf_free(&v);
  if (e->code != HL_OK) {
    stab_free(d);
    return NULL;
  }
  if (d->sync > 0) store_want_period(s, d->sync);
  return d;
}

hl_status stab_put_meta(stab *d, const unsigned char *meta, size_t len, hl_err *e) {
  buf k;
  char *lerr = NULL;
  if (store_refuse_crashed(d->s, e) != HL_OK) return e->code;
  buf_init(&k);
  store_table_key(&k, 'M', d->sid);
  if (!buf_ok(&k)) err_set(e, HL_ENOMEM, "out of memory");
  else {
    leveldb_put(d->s->db, d->sync == HL_SYNC_ALWAYS ? d->s->wsync : d->s->wnosync,
                (const char *)k.p, k.n, (const char *)meta, len, &lerr);
    if (lerr != NULL) store_fail(e, "the durable store failed", lerr);
    else if (d->sync > 0) atomic_store(&d->s->dirty, 1);
  }
  buf_free(&k);
  return e->code;
}

hl_status stab_get(stab *d, const unsigned char *key, size_t klen, buf *out, int *found,
                   hl_err *e) {
  buf k;
  char *lerr = NULL, *val;
  size_t vlen;
  *found = 0;
  buf_init(&k);
  store_table_key(&k, 'D', d->sid);
  buf_put(&k, key, klen);
  if (!buf_ok(&k)) return err_set(e, HL_ENOMEM, "out of memory");
  val = leveldb_get(d->s->db, d->s->ropts, (const char *)k.p, k.n, &vlen, &lerr);
  buf_free(&k);
  if (lerr != NULL) return store_fail(e, "reading the store", lerr);
  if (val == NULL) return HL_OK;
  *found = 1;
  buf_put(out, val, vlen);
  leveldb_free(val);
  if (!buf_ok(out)) return err_set(e, HL_ENOMEM, "out of memory");
  return HL_OK;
}

void stab_quiesce(stab *d) {
  pthread_mutex_lock(&d->qlock);
  while (d->serving != atomic_load(&d->next_ticket)) pthread_cond_wait(&d->qcond, &d->qlock);
  pthread_mutex_unlock(&d->qlock);
}

hl_status stab_drop(stab *d, hl_err *e) {
  stab_quiesce(d);   /* no write of the table may land after its removal */
  return store_drop_sid(d->s, d->sid, d->sync, e);
}

void stab_free(stab *d) {
  pthread_mutex_destroy(&d->qlock);
  pthread_cond_destroy(&d->qcond);
  free(d);
}

/* ---- a change's batch ---- */

void sbatch_begin(sbatch *b, stab *d) {
  b->d = d;
  b->wb = NULL;
  buf_init(&b->bigkey);
  b->sealed = 0;
  b->undone = 0;
  b->prev = b->next = NULL;
  err_clear(&b->err);
}

static leveldb_writebatch_t *batch_of(sbatch *b) {
  if (b->wb == NULL) b->wb = leveldb_writebatch_create();
  return b->wb;
}

/* "D" sid key: in b->key when it fits (no allocation for the usual
** key); NULL when out of memory. */
static const char *record_key(sbatch *b, const unsigned char *key, size_t klen) {
  unsigned char *p = b->key;
  uint64_t sid = b->d->sid;
  if (klen + 9 > sizeof b->key) {
    buf_reset(&b->bigkey);
    if ((p = buf_grab(&b->bigkey, klen + 9)) == NULL) return NULL;
  }
  p[0] = 'D';
  for (int i = 8; i >= 1; i--, sid >>= 8) p[i] = (unsigned char)sid;
  memcpy(p + 9, key, klen);
  return (const char *)p;
}

void sbatch_put(sbatch *b, const unsigned char *key, size_t klen, const unsigned char *val,
                size_t vlen) {
  const char *k = record_key(b, key, klen);
  if (k == NULL) sbatch_lost(b);
  else leveldb_writebatch_put(batch_of(b), k, klen + 9, (const char *)val, vlen);
}

void sbatch_delete(sbatch *b, const unsigned char *key, size_t klen) {
  const char *k = record_key(b, key, klen);
  if (k == NULL) sbatch_lost(b);
  else leveldb_writebatch_delete(batch_of(b), k, klen + 9);
}

void sbatch_lost(sbatch *b) {
  err_set(&b->err, HL_ENOMEM, "out of memory (the change stands in memory, not stored)");
}

/* Takes the next ticket: the batch is written after every earlier one. */
void sbatch_seal(sbatch *b) {
  batch_of(b);
  b->ticket = atomic_fetch_add(&b->d->next_ticket, 1);
  b->sealed = 1;   /* even failed: its turn must pass */
}

/* ---- writing it in its turn ---- */

static void wait_listed(stab *d, sbatch *b) {
  b->prev = NULL;
  b->next = d->waiting;
  if (d->waiting != NULL) d->waiting->prev = b;
  d->waiting = b;
  if (d->undoing) pthread_cond_broadcast(&d->qcond);   /* it waits for b's keys */
}

static void unlist(stab *d, sbatch *b) {
  if (b->prev != NULL) b->prev->next = b->next;
  else d->waiting = b->next;
  if (b->next != NULL) b->next->prev = b->prev;
}

int sbatch_turn(sbatch *b) {
  stab *d = b->d;
  if (!b->sealed) return 0;
  pthread_mutex_lock(&d->qlock);
  if (d->serving != b->ticket) {   /* listed while it waits: a failure may undo it */
    wait_listed(d, b);
    while (d->serving != b->ticket) pthread_cond_wait(&d->qcond, &d->qlock);
    unlist(d, b);
  }
  if (b->ticket < d->undo_until && b->err.code == HL_OK) {
    err_set(&b->err, HL_ESTORE, "the durable store failed to write: an earlier write to the "
            "table failed (%s); the change was not made", d->undo_why);
    b->undone = 1;
  }
  pthread_mutex_unlock(&d->qlock);
  return b->err.code == HL_OK;
}

hl_status sbatch_commit(sbatch *b) {
  store *s = b->d->s;
  if (store_refuse_crashed(s, &b->err) != HL_OK) return b->err.code;
  if (s->fault != NULL && s->fault(s->fault_ud))
    return err_set(&b->err, HL_ESTORE, "the durable store failed to write: injected fault");
  return store_write(s, b->d->sync, b->wb, &b->err);
}

typedef struct undo_keys {
  sbatch_key_fn fn;
  void *ud;
  int ok;
} undo_keys;

static void undo_put(void *ud, const char *k, size_t klen, const char *v, size_t vlen) {
  undo_keys *u = ud;
  (void)v;
  (void)vlen;
  if (klen >= 9 && !u->fn(u->ud, (const unsigned char *)k + 9, klen - 9)) u->ok = 0;
}

static void undo_delete(void *ud, const char *k, size_t klen) {
  undo_put(ud, k, klen, NULL, 0);
}

static size_t listed_before(stab *d, uint64_t upto) {
  size_t n = 0;
  for (sbatch *w = d->waiting; w != NULL; w = w->next) n += w->ticket < upto;
  return n;
}

static void copy_why(char *out, size_t size, const char *msg) {
  static const char prefix[] = "the durable store failed to write: ";
  size_t n;
  if (strncmp(msg, prefix, sizeof prefix - 1) == 0) msg += sizeof prefix - 1;
  n = strlen(msg);
  if (n >= size) n = size - 1;
  memcpy(out, msg, n);
  out[n] = '\0';
}

void sbatch_undo(sbatch *b, sbatch_key_fn fn, void *ud) {
  stab *d = b->d;
  /* every lock of the table is held: no ticket can be taken now, and the
  ** later ones are on their way to their turn, where they get listed */
  uint64_t upto = atomic_load(&d->next_ticket);
  undo_keys u = {fn, ud, 1};
  pthread_mutex_lock(&d->qlock);
  d->undoing = 1;
  while (listed_before(d, upto) < upto - b->ticket - 1) pthread_cond_wait(&d->qcond, &d->qlock);
  d->undoing = 0;
  leveldb_writebatch_iterate(b->wb, &u, undo_put, undo_delete);
  for (sbatch *w = d->waiting; w != NULL; w = w->next)
    if (w->ticket < upto && w->wb != NULL)
      leveldb_writebatch_iterate(w->wb, &u, undo_put, undo_delete);
  copy_why(d->undo_why, sizeof d->undo_why, b->err.msg);
  d->undo_until = upto;
  pthread_mutex_unlock(&d->qlock);
  b->undone = u.ok;
  if (u.ok) {
    size_t n = strlen(b->err.msg);
    snprintf(b->err.msg + n, sizeof b->err.msg - n, "; the change was not made");
  } else {
    size_t n = strlen(b->err.msg);
    snprintf(b->err.msg + n, sizeof b->err.msg - n, "; undoing the change in memory failed "
             "too: memory may differ from the store until the node restarts");
  }
}

hl_status sbatch_pass(sbatch *b, hl_err *e) {
  stab *d = b->d;
  if (b->sealed) {
    pthread_mutex_lock(&d->qlock);
    d->serving++;
    pthread_cond_broadcast(&d->qcond);
    pthread_mutex_unlock(&d->qlock);
  }
  /* memory changed and the store did not: no stop record may say otherwise */
  if (b->err.code != HL_OK && !b->undone) atomic_store(&d->s->failed, 1);
  if (b->wb != NULL) leveldb_writebatch_destroy(b->wb);
  buf_free(&b->bigkey);
  if (b->err.code != HL_OK && e->code == HL_OK) *e = b->err;
  return e->code;
}

hl_status sbatch_write(sbatch *b, hl_err *e) {
  if (sbatch_turn(b)) sbatch_commit(b);
  return sbatch_pass(b, e);
}
