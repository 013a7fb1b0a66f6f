/*
** store.h — a node's LevelDB store: durable tables and the key-value
** records of hl.store (docs/durability.md).
**
** Key layout (every number big-endian, so LevelDB's bytewise order groups
** the records of a table together and sorts them as the table does):
**   "N"                        the next durable-table id (an int term)
**   "M" sid                    a table's metadata (a map term)
**   "D" sid key                a key's objects: the object term (set,
**                              ordered_set), or the terms of every object
**                              under the key one after another (bags)
**   "X" sid                    a dropped table whose data is still being
**                              deleted (finished at the next open)
**   "S" ns key                 hl.store: ns and key as terms, value a term
**   "Y"                        the marker a periodic flush syncs
** sid is a table's store id: 8 bytes, stable across restarts (the
** in-memory table id is not).
**
** A write to a durable table records the state each touched key is left
** in, read from memory while the key's write lock is still held, as one
** LevelDB write batch, and takes a ticket there (an atomic counter of the
** table). After the locks are released, batches are written in ticket
** order: two changes of one key were ticketed in the order memory applied
** them, so the store sees them in that order too. No LevelDB call is made
** under a table lock (a sync = "always" write does not block readers
** while it syncs, and a change under all 64 stripe locks takes no 65th).
*/
#ifndef HL_STORE_H
#define HL_STORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef struct store store;
typedef struct etab etab;
typedef struct hl_node node;

/* A durable table's link to the store (etab.disk). */
typedef struct stab {
  store *s;
  uint64_t sid;
  int sync;          /* HL_SYNC_NONE, HL_SYNC_ALWAYS, or a period in ms */
  int explicit_sync; /* 0: the node's default, looked up again at each start */
  atomic_uint_fast64_t next_ticket;   /* taken under the table's locks */
  pthread_mutex_t qlock;              /* guards serving */
  pthread_cond_t qcond;
  uint64_t serving;                   /* the ticket whose batch goes next */
} stab;

/* Opens (creating if missing) the store at cfg's data_dir, loads every
** durable table into custody, and sets n->store. */
hl_status store_open(node *n, const hl_config *cfg, hl_err *e);
/* At node stop, after every table was closed. */
void store_close(node *n);
/* n's store for hl.store: the data_dir's, or a private temporary one made
** on first use and removed at stop. NULL with e set on failure. */
store *store_of(node *n, hl_err *e);
/* The data directory, or NULL when the node has none. */
const char *store_dir(node *n);
/* The store's directory, temporary or not (NULL when none is open). */
const char *store_path(node *n);

/* Makes t durable: a new store id and its metadata record. */
hl_status store_attach(etab *t, int sync, hl_err *e);
/* Rewrites t's metadata (after a rename or setopts). */
hl_status store_meta(etab *t, hl_err *e);
/* Removes t's records (drop, or its owner's exit without heir). */
void store_drop(etab *t);
/* t's owner exited with no heir and no custody: the table is gone, and so
** are its records, unless the node is stopping (then every process exits,
** and the tables must come back at the next start). */
void store_owner_gone(etab *t);
/* A new link of t to s (zeroed tickets). NULL on out of memory. */
stab *store_link_new(store *s, uint64_t sid, int sync);
/* t closed with `objects` in it (etab_close): at an orderly stop, the
** count the stop record keeps (store_impl.h). */
void store_closed(etab *t, size_t objects);
/* Frees t's link (the table is being freed). */
void store_detach(etab *t);
/* Checks a sync value: none (0), always (-1) or 1..3600000 ms. */
int store_sync_ok(int sync);

/* A write batch in the making: the keys an operation touches. */
typedef struct stxn {
  etab *t;
  buf keys;          /* (hash u64, len u32, bytes) one after another */
  size_t nkeys;
  void *wb;          /* the sealed batch (leveldb_writebatch_t) */
  uint64_t ticket;
  int sealed;        /* 1: holds a ticket: stxn_write must take its turn */
  hl_err err;        /* a failure while sealing */
} stxn;

/* Under the keys' write locks: */
void stxn_begin(stxn *x, etab *t);
void stxn_touch(stxn *x, const unsigned char *key, size_t klen, uint64_t hash);
void stxn_touch_all(stxn *x);              /* every object's key (every lock held) */
void stxn_seal(stxn *x);                   /* the touched keys' state now, a ticket */
void stxn_seal_key(stxn *x, etab *t, const unsigned char *key, size_t klen,
                   uint64_t hash);         /* begin, touch and seal one key */
/* With no table lock held: writes the batch in its turn, frees x. e gets
** a failure (unless it already holds one). */
hl_status stxn_write(stxn *x, hl_err *e);
/* Waits until every ticket taken so far is written (t is closed). */
void store_quiesce(etab *t);

/* hl.store: values under (ns, key), each a term. get appends to out;
** HL_ENOTFOUND when missing. list appends (key, value) term pairs in key
** order and gives their number. */
hl_status store_kv_put(store *s, const char *ns, size_t nslen, const unsigned char *key,
                       size_t klen, const unsigned char *val, size_t vlen, hl_err *e);
hl_status store_kv_get(store *s, const char *ns, size_t nslen, const unsigned char *key,
                       size_t klen, buf *out, hl_err *e);
hl_status store_kv_delete(store *s, const char *ns, size_t nslen, const unsigned char *key,
                          size_t klen, hl_err *e);
hl_status store_kv_list(store *s, const char *ns, size_t nslen, buf *out, size_t *count,
                        hl_err *e);

#endif
