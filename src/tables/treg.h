/*
** treg.h — the registry of a node's tables: by id and by name, the
** durable store they write to, the logger their troubles go to, and
** whether the node has stopped. It is the tables' whole view of the node
** above them.
**
** The registry is embedded in what owns it (the node), which hands it two
** functions, hold and release: a table holds its registry's owner for as
** long as the table lives, so a handle outliving the node's stop stays
** safe to use (it reports the table closed). `host` is that owner, given
** back to the layer above (the ownership rule needs the node's processes).
*/
#ifndef HL_TREG_H
#define HL_TREG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "eheap.h"
#include "err.h"
#include "fault.h"
#include "logger.h"

typedef struct etab etab;
typedef struct store store;

typedef struct treg {
  pthread_mutex_t lock;        /* guards tables, next_id, stopped, store */
  etab **tables;               /* live tables, ascending id */
  size_t ntables, captables;
  uint64_t next_id;
  int stopped;
  store *store;                /* LevelDB (store.h); NULL until opened */
  fault_rate store_faults;     /* injected write failures (hl.fault), seeded */
  logger *log;
  eheap_spares spares;         /* the tables' spare slabs (eheap.h) */
  void *host;
  void (*hold)(void *host);
  void (*release)(void *host);
} treg;

void treg_init(treg *r, logger *log, void *host, void (*hold)(void *), void (*release)(void *));
void treg_destroy(treg *r);

uint64_t treg_new_id(treg *r);
/* Registers a new table; refuses a name already held by a named table,
** and any table once the registry is stopped. */
hl_status treg_add(treg *r, etab *t, hl_err *e);
void treg_remove(treg *r, etab *t);
/* Each returns a table with a reference the caller must drop, or NULL. */
etab *treg_by_id(treg *r, uint64_t id);
etab *treg_by_name(treg *r, const char *name);
/* A snapshot of every live table, each referenced; free with treg_list_free. */
size_t treg_list(treg *r, etab ***out);
void treg_list_free(etab **list, size_t count);
hl_status treg_rename(treg *r, etab *t, const char *name, hl_err *e);

/* Refuses new tables from now on. */
void treg_stop(treg *r);
int treg_stopped(treg *r);
/* Empties the registry: its tables, each still referenced, go to *out. */
size_t treg_take_all(treg *r, etab ***out);

#endif
