/*
** ptab.h — the node's process table: pids, registered names, and the
** waiters of await_name.
**
** A pid is (serial << 32) | index. A slot's serial grows each time the slot
** is reused, so a stale pid never reaches a newer process: lookups compare
** the whole pid.
*/
#ifndef HL_PTAB_H
#define HL_PTAB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "alias.h"

typedef struct proc proc;
typedef struct trace trace;

typedef struct pslot {
  uint32_t serial;
  uint32_t next_free;     /* free list, when p is NULL */
  proc *p;
} pslot;

typedef struct pname {
  char *name;
  uint64_t pid;           /* 0: nobody yet, only watchers */
  uint64_t *watchers;     /* processes in await_name */
  size_t nwatchers;
} pname;

typedef struct ptab {
  pthread_mutex_t lock;
  pslot *slots;
  uint32_t nslots, capslots;
  uint32_t free_head;     /* 0: none (slot 0 is never used) */
  size_t live;
  pname *names;
  size_t nnames, capnames;
  alias_map aliases;      /* routes of process aliases, own lock */
  trace *trace;           /* the node's (spawns and names go in), or NULL */
} ptab;

int ptab_init(ptab *t);
void ptab_destroy(ptab *t);

/* Gives p a pid (also stored in p->pid); 0 when out of memory. */
uint64_t ptab_add(ptab *t, proc *p);
void ptab_remove(ptab *t, uint64_t pid);
/* The live process with this pid, referenced (proc_unref), or NULL. */
proc *ptab_get(ptab *t, uint64_t pid);
/* Every live pid; *out is malloc'd. */
size_t ptab_pids(ptab *t, uint64_t **out);

/* Names. register fails (0) if the name is taken or the pid already has a
** name; *why says which. On success the processes waiting for the name
** are handed over in *watchers (malloc'd, *nwatchers of them): the caller
** tells them. */
int ptab_register(ptab *t, const char *name, uint64_t pid, const char **why,
                  uint64_t **watchers, size_t *nwatchers);
int ptab_unregister(ptab *t, const char *name);
void ptab_unregister_pid(ptab *t, uint64_t pid);
uint64_t ptab_whereis(ptab *t, const char *name);   /* 0: nobody */
/* The name of pid into out (at most n bytes); 0 when it has none. */
int ptab_name_of(ptab *t, uint64_t pid, char *out, size_t n);
/* await_name: the pid holding name, or 0 after adding watcher to the
** processes to tell when someone registers it. */
uint64_t ptab_watch_name(ptab *t, const char *name, uint64_t watcher);
void ptab_unwatch_name(ptab *t, const char *name, uint64_t watcher);

#endif
