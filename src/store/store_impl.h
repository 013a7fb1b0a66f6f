/*
** store_impl.h — what the files of the store layer share (store.c,
** sload.c, sstop.c, srepair.c); not for the rest of the engine.
*/
#ifndef HL_STORE_IMPL_H
#define HL_STORE_IMPL_H

#include <leveldb/c.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store.h"

struct store {
  leveldb_t *db;
  leveldb_options_t *opts;
  leveldb_writeoptions_t *wnosync, *wsync;
  leveldb_readoptions_t *ropts;
  char *dir;
  int temp;                   /* a private directory, removed at close */
  int sync;                   /* the node's default for durable tables */
  int lockfd;                 /* the lock on HEIRLOOM (sdir.h), or -1 */
  int loaded;                 /* a start loaded it whole: its stop writes */
  pthread_mutex_t lock;       /* guards next_sid and closed */
  uint64_t next_sid;
  buf closed;                 /* the tables closed at stop (sstop.c) */
  atomic_int failed;          /* a write failed: the store may lag memory */
  atomic_int crashed;         /* store_crash: nothing more is written */
  store_fault_fn fault;       /* store_set_fault */
  void *fault_ud;
  /* the periodic flusher */
  pthread_mutex_t flock;
  pthread_cond_t fcond;
  pthread_t fthread;
  int frunning, fstop, period;
  atomic_int dirty;           /* written since the last sync */
};

void store_want_period(store *s, int ms);

void store_put_u64(buf *b, uint64_t v);
uint64_t store_get_u64(const unsigned char *p);
/* b = kind, sid */
void store_table_key(buf *b, char kind, uint64_t sid);
hl_status store_fail(hl_err *e, const char *what, char *lerr);
/* A read of the store failed with LevelDB's lerr (freed): e names the
** damaged file when one is found, and says how to repair. */
hl_status store_damaged(store *s, char *lerr, hl_err *e);
hl_status store_write(store *s, int sync, leveldb_writebatch_t *wb, hl_err *e);
/* HL_ESTORE (in e) once the node has crashed: nothing may be written. */
hl_status store_refuse_crashed(store *s, hl_err *e);
/* An iterator on the first record whose key starts with prefix. */
leveldb_iterator_t *store_seek_prefix(store *s, const buf *prefix);
/* The key it stands on (its length in *klen), or NULL once it has passed
** the records under prefix. */
const char *store_prefix_key(leveldb_iterator_t *it, const buf *prefix, size_t *klen);
hl_status store_delete_prefix(store *s, const buf *prefix, size_t chunk, int sync,
                              leveldb_writebatch_t *first, hl_err *e);
hl_status store_drop_sid(store *s, uint64_t sid, int sync, hl_err *e);

/* The stop record (sstop.c): key "Z", value {1, time, {{sid, name,
** objects}...}, hl.store records}. Written at an orderly stop, deleted
** when the next start has loaded the tables: present, it says what the
** store held when it was last stopped in order and nothing was written
** since. */
typedef struct sstop_table {
  uint64_t sid;
  char *name;
  uint64_t objects;
} sstop_table;

typedef struct sstop {
  int found;
  int64_t time;              /* of the stop, in seconds since 1970 */
  sstop_table *tables;
  size_t ntables;
  uint64_t records;          /* hl.store's records */
} sstop;

/* At store_free: the record, and the memtable written to a table file. */
void sstop_write(store *s);
/* After a start loaded every table: the record goes. */
hl_status sstop_forget(store *s, hl_err *e);
/* Reads the record (z->found = 0 when there is none). */
hl_status sstop_read(leveldb_t *db, leveldb_readoptions_t *ro, sstop *z, hl_err *e);
void sstop_free(sstop *z);

#endif
