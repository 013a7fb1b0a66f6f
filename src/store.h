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
** in, read from memory while the key's write lock is still held: the
** store sees a key's changes in the order memory did, and one operation is
** one LevelDB write batch.
*/
#ifndef HL_STORE_H
#define HL_STORE_H

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
/* Frees t's link (the table is being freed). */
void store_detach(etab *t);
/* Checks a sync value: none (0), always (-1) or 1..3600000 ms. */
int store_sync_ok(int sync);

/* A write batch in the making: the keys an operation touches. */
typedef struct stxn {
  etab *t;
  buf keys;          /* (hash u64, len u32, bytes) one after another */
  size_t nkeys;
} stxn;

void stxn_begin(stxn *x, etab *t);
void stxn_touch(stxn *x, const unsigned char *key, size_t klen, uint64_t hash);
/* Writes the touched keys' present state as one batch (the keys' write
** locks still held); frees x. */
hl_status stxn_commit(stxn *x, hl_err *e);
/* The same for one key. */
hl_status store_key(etab *t, const unsigned char *key, size_t klen, uint64_t hash,
                    hl_err *e);
/* Deletes every object record of t (delete_all_objects, every lock held). */
hl_status store_clear(etab *t, hl_err *e);

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
