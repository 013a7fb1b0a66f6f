/*
** store_impl.h — what store.c and sload.c share; not for the rest of the
** engine.
*/
#ifndef HL_STORE_IMPL_H
#define HL_STORE_IMPL_H

#include <leveldb/c.h>
#include <pthread.h>
#include <stdatomic.h>

#include "node.h"
#include "store.h"

struct store {
  leveldb_t *db;
  leveldb_options_t *opts;
  leveldb_writeoptions_t *wnosync, *wsync;
  leveldb_readoptions_t *ropts;
  char *dir;
  int temp;                   /* a private directory, removed at close */
  int sync;                   /* the node's default for durable tables */
  pthread_mutex_t lock;       /* guards next_sid */
  uint64_t next_sid;
  /* the periodic flusher */
  pthread_mutex_t flock;
  pthread_cond_t fcond;
  pthread_t fthread;
  int frunning, fstop, period;
  atomic_int dirty;           /* written since the last sync */
};

store *store_new(const char *dir, int temp, int sync, hl_err *e);
void store_free(store *s);
void store_want_period(store *s, int ms);

void store_put_u64(buf *b, uint64_t v);
uint64_t store_get_u64(const unsigned char *p);
/* b = kind, sid */
void store_table_key(buf *b, char kind, uint64_t sid);
hl_status store_fail(hl_err *e, const char *what, char *lerr);
hl_status store_write(store *s, int sync, leveldb_writebatch_t *wb, hl_err *e);
/* An iterator on the first record whose key starts with prefix. */
leveldb_iterator_t *store_seek_prefix(store *s, const buf *prefix);
/* The key it stands on (its length in *klen), or NULL once it has passed
** the records under prefix. */
const char *store_prefix_key(leveldb_iterator_t *it, const buf *prefix, size_t *klen);
hl_status store_delete_prefix(store *s, const buf *prefix, size_t chunk, int sync,
                              leveldb_writebatch_t *first, hl_err *e);
hl_status store_drop_sid(store *s, uint64_t sid, int sync, hl_err *e);

/* A table's metadata record (sload.c). */
void store_encode_meta(etab *t, buf *out);

#endif
