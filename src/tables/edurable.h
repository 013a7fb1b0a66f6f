/*
** edurable.h — durable tables: what a table's changes write to its
** node's store, and the store opened at start with the durable tables
** read back into the node's custody (docs/durability.md).
**
** This is the table side of the store. It reads a table's memory while
** the change's key locks are held and hands the store (store.h) plain
** bytes: each touched key with its objects' terms, or its removal, in one
** batch that takes its ticket there; the batch is written after the locks
** are released, in ticket order. The store never reads a table: every
** call goes from here down, and the store calls back only through the
** functions edur_open passes it to load the tables.
*/
#ifndef HL_EDURABLE_H
#define HL_EDURABLE_H

#include "buf.h"
#include "err.h"
#include "etab.h"
#include "store.h"

/* ---- a node's store ---- */

/* Opens the store at cfg's data_dir, loads every durable table into
** custody (owner 0), and sets n->store. */
hl_status edur_open(treg *r, const hl_config *cfg, hl_err *e);
/* At node stop, after every table was closed. */
void edur_close(treg *r);
/* The node crashes (node_crash): nothing more reaches the store, and
** edur_close leaves it as a kill -9 of the OS process would. */
void edur_crash(treg *r);
/* n's store for hl.store: the data_dir's, or a private temporary one made
** on first use and removed at stop. NULL with e set on failure. */
store *edur_store(treg *r, hl_err *e);
/* The data directory, or NULL when the node has none. */
const char *edur_dir(treg *r);
/* The store's directory, temporary or not (NULL when none is open). */
const char *edur_path(treg *r);

/* ---- a table's link to it ---- */

/* Makes t durable: a new store id and its metadata record. */
hl_status edur_attach(etab *t, int sync, hl_err *e);
/* Rewrites t's metadata (after a rename or setopts). */
hl_status edur_meta(etab *t, hl_err *e);
/* Removes t's records (drop, or its owner's exit without heir); a failure
** is logged. */
void edur_drop(etab *t);
/* t's owner exited with no heir and no custody: the table is gone, and so
** are its records, unless the node is stopping (then every process exits,
** and the tables must come back at the next start). */
void edur_owner_gone(etab *t);
/* Waits until every change of t ticketed so far is written. */
void edur_quiesce(etab *t);
/* t closed with `objects` in it (etab_close): at an orderly stop, the
** count the store's stop record keeps. */
void edur_closed(etab *t, size_t objects);
/* Frees t's link (the table is being freed). */
void edur_detach(etab *t);

/* ---- a change ---- */

/* The keys a change touches, and the batch their state goes into. */
typedef struct edur_txn {
  etab *t;
  buf keys;          /* (hash u64, len u32, bytes) one after another */
  size_t nkeys;
  sbatch b;
} edur_txn;

/* Under the keys' write locks: */
void edur_begin(edur_txn *x, etab *t);
void edur_touch(edur_txn *x, const unsigned char *key, size_t klen, uint64_t hash);
void edur_touch_all(edur_txn *x);          /* every object's key (every lock held) */
void edur_seal(edur_txn *x);               /* the touched keys' state now, a ticket */
void edur_seal_key(edur_txn *x, etab *t, const unsigned char *key, size_t klen,
                   uint64_t hash);         /* begin, touch and seal one key */
/* With no table lock held: writes the batch in its turn, frees x. e gets
** a failure (unless it already holds one). */
hl_status edur_write(edur_txn *x, hl_err *e);

#endif
