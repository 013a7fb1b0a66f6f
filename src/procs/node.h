/*
** node.h — one engine instance: its tables (their registry, treg.h), its
** processes' identities and its scheduler. The node is reference-counted
** so that a table handle outliving hl_node_stop stays safe to use (it
** reports the table closed): each table holds it through its registry.
*/
#ifndef HL_NODE_H
#define HL_NODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "heirloom.h"
#include "logger.h"
#include "ptab.h"
#include "treg.h"

typedef struct sched sched;
struct pbody_ops;
typedef struct trace trace;

struct hl_node {
  atomic_int refs;
  pthread_mutex_t lock;        /* guards stopped and body */
  treg tables;
  uint64_t host_pid;           /* the host process of the C API and heirloom.start */
  int stopped;
  /* exits begun by proc_exit_now (a host thread's detach) and not yet
  ** finished: the stop waits for them before it frees what they touch */
  atomic_int exits_under_way;  /* falls to 0 under lock */
  pthread_cond_t exits_done;
  hl_config cfg;
  ptab procs;
  sched *sched;
  atomic_uint_fast64_t next_ref;
  logger log;
  /* the process body's part (proc.h, pbody_ops), which it registers
  ** when it first needs it (lbody_node); under lock, both NULL until then */
  const struct pbody_ops *body;
  void *body_data;             /* the body's own, freed by body->free */
  char *lua_path, *lua_cpath;  /* for processes spawned from C; NULL: defaults */
  trace *trace;                /* the run's trace (cfg.trace), or NULL: trace.h */
  /* the node's part in an Erlang cluster (src/dist/dist.h), under lock;
  ** NULL unless it was started distributed */
  struct dist *dist;
  /* Told of the exit of a process marked by proc_mark_remote, with its pid
  ** and exit reason, after its local links and monitors: the layer above
  ** (src/dist) installs it before it marks any process, and it must not
  ** call back into the process's exit. NULL: none. */
  void (*remote_exit)(struct hl_node *n, uint64_t pid, const unsigned char *reason, size_t len);
};

typedef struct hl_node node;

node *node_new(const hl_config *cfg);
void node_ref(node *n);
void node_unref(node *n);
/* Ends every process and drops every table, within a bounded time (about
** two seconds at most): a thread stuck where nothing can interrupt it (a
** C call, a finalizer) is left running and what it can reach is leaked.
** Returns 1 if it had to abandon something, said in report (and through
** the logger); 0 and an empty report otherwise. report may be NULL. */
int node_stop(node *n, char *report, size_t size);
/* node_stop as a kill -9 of the OS process would end the node, as far as
** its data is concerned: from the first moment nothing more reaches the
** store, and it is closed with no sync and no stop record. */
int node_crash(node *n, char *report, size_t size);
/* For the scheduler's watchdog (now: sched_now()). */
void node_watch(node *n, int64_t now);

/* 1 while pid names a live process. */
int node_pid_alive(node *n, uint64_t pid);
/* A new host process (the calling thread's): its pid, or 0. */
uint64_t node_new_host(node *n);
/* Tells the processes waiting in await_name that name is now pid's
** (a {"heirloom.name", name, pid} message each); frees the list. */
void node_notify_name(node *n, const char *name, uint64_t pid, uint64_t *watchers,
                      size_t nwatchers);
/* Around a host process's exit, which its own thread finishes
** (proc_exit_now): begun once the process is DYING, which the
** stop's own pass over the processes then sees, and ended after its last
** touch of the node. node_stop waits for those under way before it frees
** the scheduler, and lets the node go only after. */
void node_exit_begin(node *n);
void node_exit_end(node *n);
/* A fresh reference (monitors, timers). */
uint64_t node_new_ref(node *n);

#endif
