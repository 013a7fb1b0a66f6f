/*
** store.h — a LevelDB store: the records of durable tables, handed to it
** as bytes, and the key-value records of hl.store (docs/durability.md).
**
** The store layer sees bytes, not tables: it never reads a table's
** memory, and knows nothing of nodes or processes. The durable tables
** (edurable.h) tell it what to write — a key's objects as term bytes, or
** its removal — and get back what it holds through functions they pass
** in when a store is loaded.
**
** Key layout (every number big-endian, so LevelDB's bytewise order groups
** the records of a table together and sorts them as the table does):
**   "N"                        the next durable-table id (an int term)
**   "M" sid                    a table's metadata (store_meta_encode)
**   "D" sid key                a key's objects: the object term (set,
**                              ordered_set), or the terms of every object
**                              under the key one after another (bags)
**   "X" sid                    a dropped table whose data is still being
**                              deleted (finished at the next open)
**   "S" ns key                 hl.store: ns and key as terms, value a term
**   "Y"                        the marker a periodic flush syncs
**   "Z"                        the stop record (store_impl.h)
** sid is a table's store id: 8 bytes, stable across restarts (the
** in-memory table id is not).
**
** What it promises a durable table: each change is one write batch,
** built while the change's key locks are held and given a ticket there
** (an atomic counter of the table's link). Batches are written with no
** lock of the table held, in ticket order: two changes of one key were
** ticketed in the order memory applied them, so the store sees them in
** that order too, and a crash keeps a prefix of them. No LevelDB call
** is made while a batch is built, only when it is written.
**
** A batch that fails to be written (LevelDB's error, an injected fault,
** a crashed node) holds its turn while the table above undoes it: with
** every lock of the table held, sbatch_undo gives it the keys of the
** failed batch and of every batch ticketed after it, to be put back as
** the store holds them, and those later batches are not written either.
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

/* ---- a store ---- */

/* Opens (creating if missing) the store in dir, a node's data_dir; sync
** is the default of its durable tables. Damage refuses it, naming the
** damaged file. NULL with e set on failure. */
store *store_new(const char *dir, int sync, hl_err *e);
/* A store in a private temporary directory (hl.store with no data_dir),
** removed by store_free. */
store *store_new_temp(hl_err *e);
/* Closes s: an orderly stop syncs and writes the stop record first. */
void store_free(store *s);
int store_is_temp(const store *s);
const char *store_dirname(const store *s);
/* Checks a sync value: none (0), always (-1) or 1..3600000 ms. */
int store_sync_ok(int sync);

/* Fault injection for tests: fn is asked before each durable table's
** batch goes to LevelDB, and a nonzero answer fails the write ("injected
** fault") as an error of LevelDB's would. NULL: none. Set before the
** first write; the store calls nothing above it otherwise. */
typedef int (*store_fault_fn)(void *ud);
void store_set_fault(store *s, store_fault_fn fn, void *ud);
/* The node crashed (hl.crash): from now on every write fails ("the node
** has crashed") and store_free closes LevelDB as it stands, with no sync,
** stop record or compaction: the store is left as a kill -9 of the OS
** process would leave it. */
void store_crash(store *s);

/* ---- loading ---- */

/* For each durable table: its store id and metadata record. */
typedef hl_status (*store_table_fn)(void *ud, uint64_t sid, const unsigned char *meta,
                                    size_t len, hl_err *e);
/* For each key of a table, in key order: its record's value. */
typedef hl_status (*store_record_fn)(void *ud, const unsigned char *val, size_t len,
                                     hl_err *e);

/* Reads a store back at start: finishes the drops an earlier run left
** half done, then gives each table to fn in store-id order. Once every
** table was loaded, the stop record goes (the store may now change). A
** failure of fn stops it; damage read on the way sets e. */
hl_status store_load(store *s, store_table_fn fn, void *ud, hl_err *e);
/* Gives each record of table sid to fn, stopping at fn's failure. */
hl_status store_each_record(store *s, uint64_t sid, store_record_fn fn, void *ud,
                            hl_err *e);
/* The number of records (keys) of table sid. */
size_t store_count_records(store *s, uint64_t sid);

/* ---- a table's metadata record ----
** {version, name, type, access, named, keypos, custody, sync, heir,
**  heir_data}: keypos an index or the field's string; sync nil for the
** node's default; heir a registered name or nil. */
typedef struct smeta {
  char *name;                     /* decoded: allocated, the caller frees */
  hl_table_type type;
  hl_access access;
  int named, custody;
  uint32_t keyindex;              /* the key's position; 0 when keyfield */
  const unsigned char *keyfield;  /* the key's field (a string term), or NULL */
  size_t keyfieldlen;
  int sync;                       /* HL_SYNC_DEFAULT: the node's (nil) */
  const unsigned char *heir;      /* a name (a string term), or NULL */
  size_t heirlen;
  const unsigned char *heir_data; /* any term, or NULL (nil) */
  size_t heir_datalen;
} smeta;

/* m->name NULL: out->oom is set. */
void store_meta_encode(const smeta *m, buf *out);
/* 1 when a start would load the record (m's pointers then point into p,
** but m->name is allocated); 0 when it would refuse it. */
int store_meta_decode(const unsigned char *p, size_t len, smeta *m);
/* The objects in one "D" record's value (a bag's are several); 0 when it
** does not decode. */
size_t store_value_objects(const unsigned char *p, size_t len);

/* ---- a durable table's link ---- */

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
  struct sbatch *waiting;             /* batches waiting for their turn (qlock) */
  int undoing;                        /* a failure waits for them to arrive (qlock) */
  uint64_t undo_until;                /* tickets below it were undone (qlock) */
  char undo_why[200];                 /* why (qlock) */
} stab;

/* A loaded table's link (sync may be HL_SYNC_DEFAULT). NULL on out of
** memory. */
stab *stab_new(store *s, uint64_t sid, int sync);
/* A new table: a new store id, and its metadata record written with the
** table counter in one batch. NULL with e set on failure. */
stab *stab_create(store *s, int sync, const unsigned char *meta, size_t len, hl_err *e);
/* Rewrites the metadata record (after a rename or setopts). */
hl_status stab_put_meta(stab *d, const unsigned char *meta, size_t len, hl_err *e);
/* The record of key as the store holds it: *found, and its value (the
** object, or a bag's objects one after another) appended to out. */
hl_status stab_get(stab *d, const unsigned char *key, size_t klen, buf *out, int *found,
                   hl_err *e);
/* Waits until every ticket taken so far is written. */
void stab_quiesce(stab *d);
/* Removes the table's records, once its writes under way are in. */
hl_status stab_drop(stab *d, hl_err *e);
/* At an orderly stop, the table closed holding `objects`: the count the
** stop record keeps (the first close of a table counts). */
void stab_closed(stab *d, const char *name, size_t objects);
void stab_free(stab *d);

/* ---- a change's write batch ----
** Built under the change's key locks: sbatch_begin, then sbatch_put or
** sbatch_delete for each key it touched, then sbatch_seal, which takes
** the ticket. After the locks are released, sbatch_write writes it in
** its turn. A sealed batch must be written (even a failed one: its turn
** must pass): sbatch_write, or sbatch_turn, sbatch_commit (and
** sbatch_undo if it failed), then sbatch_pass. */
typedef struct sbatch {
  stab *d;
  void *wb;                   /* leveldb_writebatch_t, made on first use */
  unsigned char key[256];     /* the record's key, when it fits */
  buf bigkey;                 /* when it does not */
  uint64_t ticket;
  int sealed;                 /* holds a ticket: sbatch_write must take its turn */
  hl_err err;                 /* a failure while building or writing */
  int undone;                 /* failed, and memory was put back as the store is */
  struct sbatch *prev, *next; /* in d->waiting */
} sbatch;

void sbatch_begin(sbatch *b, stab *d);
/* The key's objects now are val (the object, or a bag's objects one
** after another). */
void sbatch_put(sbatch *b, const unsigned char *key, size_t klen, const unsigned char *val,
                size_t vlen);
/* The key has no object left. */
void sbatch_delete(sbatch *b, const unsigned char *key, size_t klen);
/* The change stands in memory but cannot be stored (out of memory). */
void sbatch_lost(sbatch *b);
void sbatch_seal(sbatch *b);
/* With no table lock held: writes the batch in its turn (if sealed) and
** frees it. e gets a failure (unless it already holds one). A failure is
** not undone: the store is marked as lagging memory. */
hl_status sbatch_write(sbatch *b, hl_err *e);

/* The same in steps, for a caller that undoes a failure. With no table
** lock held, sbatch_turn waits for the batch's turn: 1 when it is to be
** written now, 0 when there is nothing to write (not sealed, or undone
** with a failure before it: b->err says so). */
int sbatch_turn(sbatch *b);
/* In its turn: writes the batch; a failure is in b->err. */
hl_status sbatch_commit(sbatch *b);
/* In the turn of a batch whose commit failed, with every lock of its
** table held (so that no ticket can be taken): fn gets each key of b and
** of every batch ticketed after it (waiting for those not at their turn
** yet), to put it back as the store holds it (stab_get) and answer 1, or
** 0 when it could not. Those later batches then fail without being
** written, saying why. */
typedef int (*sbatch_key_fn)(void *ud, const unsigned char *key, size_t klen);
void sbatch_undo(sbatch *b, sbatch_key_fn fn, void *ud);
/* Lets the next ticket go and frees b; e gets its failure (unless it
** already holds one). A failure not undone marks the store as lagging. */
hl_status sbatch_pass(sbatch *b, hl_err *e);

/* ---- hl.store ----
** Values under (ns, key), each a term. get appends to out; HL_ENOTFOUND
** when missing. list appends (key, value) term pairs in key order and
** gives their number. */
hl_status store_kv_put(store *s, const char *ns, size_t nslen, const unsigned char *key,
                       size_t klen, const unsigned char *val, size_t vlen, hl_err *e);
hl_status store_kv_get(store *s, const char *ns, size_t nslen, const unsigned char *key,
                       size_t klen, buf *out, hl_err *e);
hl_status store_kv_delete(store *s, const char *ns, size_t nslen, const unsigned char *key,
                          size_t klen, hl_err *e);
hl_status store_kv_list(store *s, const char *ns, size_t nslen, buf *out, size_t *count,
                        hl_err *e);

#endif
