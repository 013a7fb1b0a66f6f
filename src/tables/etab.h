/*
** etab.h — a table with ETS semantics: the four types, access modes, keys
** at a position or a map field, every object operation, and the owner and
** heir records. Objects are encoded terms (term.h), stored in C memory that
** belongs to the node, never to a process.
**
** Every operation takes `caller`, the pid of the calling process, and is
** checked against the access mode. On error nothing is changed and e says
** what was wrong, naming the argument.
*/
#ifndef HL_ETAB_H
#define HL_ETAB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "eobj.h"
#include "err.h"
#include "htab.h"
#include "ocat.h"
#include "treg.h"

typedef struct mspec mspec;

/* A term given by address and size. */
typedef struct tslice {
  const unsigned char *p;
  size_t len;
} tslice;

typedef struct etab_opts {
  hl_table_type type;
  hl_access access;
  int named;
  ekeypos keypos;             /* index, or field (copied) */
  tslice heir;                /* pid or name term, or {NULL,0}: none */
  tslice heir_data;           /* any term, or {NULL,0} */
  int custody;
  int durable;
  int sync;                   /* durable: HL_SYNC_*, a period in ms, or HL_SYNC_DEFAULT */
} etab_opts;

/* The bytes a table's objects hold are counted in ETAB_TALLIES cache
** lines, each thread adding to one of them (etab_count_bytes), so that
** writers on different threads never write a shared line (nor the line of
** the fields every operation reads); etab_memory sums them. */
#define ETAB_TALLIES 8

typedef struct etab_tally {
  _Alignas(64) atomic_size_t bytes;   /* modulo 2^N: one may go "negative" */
} etab_tally;

struct etab {
  atomic_int refs;
  atomic_int dropped;
  uint64_t id;
  treg *reg;                  /* the node's registry of tables */
  hl_table_type type;
  hl_access access;
  int named;
  ekeypos keypos;
  atomic_uint_fast64_t owner;
  pthread_mutex_t meta;       /* guards name, heir, heir_data */
  char *name;
  buf heir, heir_data;
  int custody, durable;
  struct stab *disk;          /* durable tables: their store (store.h); else NULL */
  union {
    htab h;
    ocat o;
  } store;
  eheap objs;                 /* the objects' memory */
  etab_tally tally[ETAB_TALLIES];
};

etab *etab_new(treg *r, const char *name, const etab_opts *opts,
               uint64_t owner, hl_err *e);
void etab_ref(etab *t);
void etab_unref(etab *t);

/* Deletes every object; the table is closed for every handle. */
hl_status etab_drop(etab *t, uint64_t caller, hl_err *e);
void etab_close(etab *t);    /* the same, at node stop: no access check */
int etab_is_ordered(const etab *t);
int etab_is_bag(const etab *t);
/* The key's 1-based place in array objects; 0 when objects are maps. */
uint32_t etab_key_index(const etab *t);

/* Object operations. Lists of results are appended to `out` as terms, one
** after another, their number in *count. */
hl_status etab_insert(etab *t, uint64_t caller, const tslice *objs, size_t n,
                      int only_new, int *inserted, hl_err *e);
hl_status etab_lookup(etab *t, uint64_t caller, tslice key, buf *out,
                      size_t *count, hl_err *e);
hl_status etab_lookup_element(etab *t, uint64_t caller, tslice key,
                              const ekeypos *pos, buf *out, size_t *count,
                              hl_err *e);
hl_status etab_member(etab *t, uint64_t caller, tslice key, int *found, hl_err *e);
hl_status etab_take(etab *t, uint64_t caller, tslice key, buf *out,
                    size_t *count, hl_err *e);
hl_status etab_delete(etab *t, uint64_t caller, tslice key, hl_err *e);
hl_status etab_delete_object(etab *t, uint64_t caller, tslice obj, hl_err *e);
hl_status etab_delete_all(etab *t, uint64_t caller, hl_err *e);

/* update_counter: one operation on one element. */
typedef struct etab_incr {
  ekeypos pos;
  int64_t incr;
  int has_threshold;
  int64_t threshold, setvalue;
} etab_incr;

/* Applies ops in order to the object under key (inserting deflt first when
** the key is missing and deflt.p is not NULL); results[i] is the new value
** of op i. No ops (ETS's []) changes nothing but that insert. */
hl_status etab_update_counter(etab *t, uint64_t caller, tslice key,
                              const etab_incr *ops, size_t nops, tslice deflt,
                              int64_t *results, hl_err *e);

typedef struct etab_change {
  ekeypos pos;
  tslice value;
} etab_change;

hl_status etab_update_element(etab *t, uint64_t caller, tslice key,
                              const etab_change *changes, size_t n,
                              tslice deflt, int *updated, hl_err *e);

/* Traversal. dir > 0: the key after `key` (the first when key.p is NULL);
** dir < 0: the key before it (the last). The key is appended to out;
** *found is 0 at the end. key need not be present. */
hl_status etab_step(etab *t, uint64_t caller, tslice key, int dir, buf *out,
                    int *found, hl_err *e);

/* Scans in table order from after `from` (from.p NULL: the start), in
** direction dir, appending for each object the result of ms (or the object
** itself when ms is NULL; objects where ms matches nothing are skipped).
** Stops after `limit` results (0: no limit), always at the end of a key's
** objects; *next_from receives the last key scanned and *done says whether
** the table's end was reached. */
hl_status etab_scan(etab *t, uint64_t caller, tslice from, int dir,
                    const mspec *ms, size_t limit, buf *out, size_t *count,
                    buf *next_from, int *done, hl_err *e);

/* Deletes every object for which ms returns true; *count: how many. */
hl_status etab_select_delete(etab *t, uint64_t caller, const mspec *ms,
                             size_t *count, hl_err *e);
/* Replaces every object by ms's result when that is an object with the
** same key (not in a bag); *count: how many were replaced. */
hl_status etab_select_replace(etab *t, uint64_t caller, const mspec *ms,
                              size_t *count, hl_err *e);

/* Metadata. */
size_t etab_size(etab *t);
/* Bytes held: the objects, and a hash table's slot arrays. */
size_t etab_memory(etab *t);
/* Counts bytes that objects came to hold (add) or gave up (sub); called
** with the object's lock held. */
void etab_count_bytes(etab *t, size_t add, size_t sub);
uint64_t etab_owner(etab *t);
/* Copies of the name, heir and heir data under the meta lock. */
void etab_meta(etab *t, buf *name, buf *heir, buf *heir_data);

/* The table side of ownership; the rule itself (who may own, who inherits,
** when) is owner.c's, which alone calls these. */
/* HL_OK while the table is open (not dropped, node not stopped). */
hl_status etab_check_open(etab *t, hl_err *e);
hl_status etab_check_owner(etab *t, uint64_t caller, const char *what, hl_err *e);
void etab_set_owner(etab *t, uint64_t pid);
/* Sets the owner to pid if it is `expected`, and says whether it did;
** *found: the owner found. */
int etab_set_owner_if(etab *t, uint64_t expected, uint64_t pid, uint64_t *found);
/* Stores heir and heir data as given (heir {NULL,0}: none) and writes the
** durable table's metadata. */
hl_status etab_put_heir(etab *t, tslice heir, tslice heir_data, hl_err *e);
void etab_clear_heir(etab *t);
/* The live tables pid owns, each referenced; free with treg_list_free. */
size_t etab_owned_by(treg *r, uint64_t pid, etab ***out);
/* Closes and unregisters a table its owner left to nobody. */
void etab_drop_orphan(etab *t);
hl_status etab_rename(etab *t, uint64_t caller, const char *name, hl_err *e);
const char *etab_type_name(hl_table_type type);
const char *etab_access_name(hl_access access);

#endif
