/*
** node.c — the node: its start and stop, and its process identities.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edurable.h"
#include "etab.h"
#include "node.h"
#include "proc.h"
#include "scheduler.h"
#include "term.h"
#include "trace.h"

/* The registry's hold and release (treg.h): a table keeps its node. */
static void hold(void *host) {
  node_ref(host);
}

static void release(void *host) {
  node_unref(host);
}

/* Without a seed, injected faults still draw the same each run. */
#define DEFAULT_FAULT_SEED 0x2545F4914F6CDD1Dull

node *node_new(const hl_config *cfg) {
  node *n = calloc(1, sizeof *n);
  if (n == NULL) return NULL;
  atomic_init(&n->refs, 1);
  atomic_init(&n->next_ref, 1);
  atomic_init(&n->exits_under_way, 0);
  pthread_mutex_init(&n->lock, NULL);
  pthread_cond_init(&n->exits_done, NULL);
  logger_init(&n->log);
  treg_init(&n->tables, &n->log, n, hold, release);
  if (cfg != NULL) n->cfg = *cfg;
  n->cfg.data_dir = NULL;   /* the store keeps its own copy (edur_open) */
  n->cfg.dist_name = n->cfg.dist_cookie = NULL;   /* the caller's, read at start only */
  fault_init(&n->tables.store_faults, n->cfg.seed != 0 ? (uint64_t)n->cfg.seed : DEFAULT_FAULT_SEED);
  if (!ptab_init(&n->procs)) goto fail;
  if (n->cfg.trace && (n->trace = trace_new()) == NULL) goto fail;
  n->procs.trace = n->trace;
  n->sched = sched_new(n, n->cfg.schedulers);
  if (n->sched == NULL) goto fail;
  n->host_pid = node_new_host(n);
  if (n->host_pid == 0) {
    sched_halt(n->sched, sched_now(), NULL, 0);   /* nothing has run yet */
    sched_free(n->sched);
    goto fail;
  }
  return n;
fail:
  trace_free(n->trace);
  ptab_destroy(&n->procs);
  treg_destroy(&n->tables);
  logger_destroy(&n->log);
  pthread_cond_destroy(&n->exits_done);
  pthread_mutex_destroy(&n->lock);
  free(n);
  return NULL;
}

uint64_t node_new_host(node *n) {
  proc *p = proc_new(n, 1);
  uint64_t pid;
  if (p == NULL) return 0;
  pid = ptab_add(&n->procs, p);
  proc_unref(p);   /* the table holds it */
  return pid;
}

uint64_t node_new_ref(node *n) {
  return atomic_fetch_add(&n->next_ref, 1);
}

/* Called under the process's lock: takes no lock of its own, so that the
** node's lock is never taken inside a process's. */
void node_exit_begin(node *n) {
  atomic_fetch_add(&n->exits_under_way, 1);
}

void node_exit_end(node *n) {
  pthread_mutex_lock(&n->lock);
  if (atomic_fetch_sub(&n->exits_under_way, 1) == 1) pthread_cond_broadcast(&n->exits_done);
  pthread_mutex_unlock(&n->lock);
}

/* Every process is DYING by now, so no exit begins after this. */
static void wait_exits(node *n) {
  pthread_mutex_lock(&n->lock);
  while (atomic_load(&n->exits_under_way) > 0) pthread_cond_wait(&n->exits_done, &n->lock);
  pthread_mutex_unlock(&n->lock);
}

void node_ref(node *n) {
  atomic_fetch_add(&n->refs, 1);
}

void node_unref(node *n) {
  if (atomic_fetch_sub(&n->refs, 1) != 1) return;
  treg_destroy(&n->tables);
  ptab_destroy(&n->procs);
  trace_free(n->trace);
  if (n->body != NULL) n->body->free(n);
  logger_destroy(&n->log);
  pthread_cond_destroy(&n->exits_done);
  pthread_mutex_destroy(&n->lock);
  free(n->lua_path);
  free(n->lua_cpath);
  free(n);
}

/* Ends every process, hosts included, with reason "shutdown": first every
** one is told (a running one unwinds at its next hook tick, wherever it
** is), then, with no scheduler thread left, the rest exit here. */
static void stop_processes(node *n, int finish) {
  static const unsigned char shutdown[] = {TERM_STRING, 's', 'h', 'u', 't', 'd', 'o', 'w', 'n', 0, 0};
  uint64_t *pids;
  size_t count = ptab_pids(&n->procs, &pids);
  for (size_t i = 0; i < count; i++) {
    proc *p = ptab_get(&n->procs, pids[i]);
    int own = 0;
    if (p == NULL) continue;
    pthread_mutex_lock(&p->lock);
    if (p->state < PROC_DYING && !atomic_load(&p->exiting)) {
      buf_reset(&p->reason);
      buf_put(&p->reason, shutdown, sizeof shutdown);
      atomic_store(&p->exiting, 1);
    }
    if (p->host) pthread_cond_broadcast(&p->wake);   /* a waiting host thread sees it */
    if (finish && p->state < PROC_DYING) {
      p->state = PROC_DYING;
      own = 1;
    }
    pthread_mutex_unlock(&p->lock);
    if (own) proc_finish_exit(p);
    proc_unref(p);
  }
  free(pids);
}

/* How long stop waits for slices to end, then for the states of exited
** processes to close (their finalizers run then). What is still running
** after that is abandoned: stop's bound is the sum. */
#define STOP_SLICES_MS 1000
#define STOP_CLOSING_MS 1000
#define REPORT_PIDS 8

/* "heirloom.stop: abandoned ..." into out; 0 if nothing was abandoned. */
static int stop_report(char *out, size_t size, const uint64_t *pids, size_t npids,
                       size_t closing) {
  size_t at = 0;
  if (npids == 0 && closing == 0) return 0;
  at += (size_t)snprintf(out, size, "heirloom.stop: abandoned");
  if (npids > 0) {
    at += (size_t)snprintf(out + at, at < size ? size - at : 0, " %zu process state%s (", npids,
                           npids == 1 ? "" : "s");
    for (size_t i = 0; i < npids && i < REPORT_PIDS; i++) {
      char pid[32];
      term_pid_text(pids[i], pid, sizeof pid);
      at += (size_t)snprintf(out + at, at < size ? size - at : 0, "%s%s", i ? ", " : "", pid);
    }
    at += (size_t)snprintf(out + at, at < size ? size - at : 0, "%s) still running a C call "
                           "or a finalizer", npids > REPORT_PIDS ? ", ..." : "");
  }
  if (closing > 0)
    at += (size_t)snprintf(out + at, at < size ? size - at : 0, "%s %zu closing state%s whose "
                           "finalizers did not return", npids > 0 ? " and" : "", closing,
                           closing == 1 ? "" : "s");
  snprintf(out + at, at < size ? size - at : 0, "; %s left running and %s memory is leaked",
           npids + closing == 1 ? "its thread is" : "their threads are",
           npids + closing == 1 ? "its" : "their");
  return 1;
}

/* Waits until no host thread is inside a receive (proc_host_enter) that
** could still read the scheduler, waking each again in case it went to
** sleep between its check and the stop's; the number still inside at
** deadline (one running a stuck slice of a host-driven node). */
static size_t wait_host_receives(node *n, int64_t deadline) {
  uint64_t *pids;
  size_t count = ptab_pids(&n->procs, &pids), left = 0;
  for (size_t i = 0; i < count; i++) {
    proc *p = ptab_get(&n->procs, pids[i]);
    if (p == NULL) continue;
    while (p->host && atomic_load(&p->host_receiving) && sched_now() < deadline) {
      struct timespec pause = {0, 1000000};
      pthread_mutex_lock(&p->lock);
      pthread_cond_broadcast(&p->wake);
      pthread_mutex_unlock(&p->lock);
      nanosleep(&pause, NULL);
    }
    if (p->host && atomic_load(&p->host_receiving)) left++;
    proc_unref(p);
  }
  free(pids);
  return left;
}

int node_stop(node *n, char *report, size_t size) {
  const pbody_ops *body;
  etab **list;
  size_t count, npids, closing, receiving;
  uint64_t pids[REPORT_PIDS];
  char text[512];
  int abandoned;
  pthread_mutex_lock(&n->lock);
  n->stopped = 1;
  pthread_mutex_unlock(&n->lock);
  treg_stop(&n->tables);
  stop_processes(n, 0);
  receiving = wait_host_receives(n, sched_now() + STOP_SLICES_MS);
  /* no slice runs from here on, but one left to a stuck thread */
  npids = sched_halt(n->sched, sched_now() + STOP_SLICES_MS, pids, REPORT_PIDS);
  stop_processes(n, 1);
  wait_exits(n);
  if (!n->sched->abandoned && receiving == 0) {
    sched_free(n->sched);
    n->sched = NULL;
  }   /* otherwise kept (stopping): a stuck thread may come back to it */
  pthread_mutex_lock(&n->lock);
  body = n->body;
  pthread_mutex_unlock(&n->lock);
  closing = body != NULL ? body->stop(n, sched_now() + STOP_CLOSING_MS) : 0;
  abandoned = stop_report(text, sizeof text, pids, npids, closing);
  if (abandoned) logger_log(&n->log, LOGLEVEL_WARNING, 0, text);
  if (report != NULL && size > 0) snprintf(report, size, "%s", abandoned ? text : "");
  count = treg_take_all(&n->tables, &list);
  for (size_t i = 0; i < count; i++) {
    etab_close(list[i]);
    etab_unref(list[i]);
  }
  free(list);
  edur_close(&n->tables);    /* durable tables keep their records */
  node_unref(n);
  return abandoned;
}

int node_crash(node *n, char *report, size_t size) {
  edur_crash(&n->tables);   /* first: what runs on until the processes are gone writes nothing */
  return node_stop(n, report, size);
}

void node_watch(node *n, int64_t now) {
  const pbody_ops *body;
  pthread_mutex_lock(&n->lock);
  body = n->body;
  pthread_mutex_unlock(&n->lock);
  if (body != NULL) body->watch(n, now);
}

int node_pid_alive(node *n, uint64_t pid) {
  proc *p = ptab_get(&n->procs, pid);
  int alive;
  if (p == NULL) return 0;
  pthread_mutex_lock(&p->lock);
  alive = p->state < PROC_DYING;
  pthread_mutex_unlock(&p->lock);
  proc_unref(p);
  return alive;
}


void node_notify_name(node *n, const char *name, uint64_t pid, uint64_t *watchers,
                       size_t nwatchers) {
  buf m;
  buf_init(&m);                        /* {"heirloom.name", name, pid} */
  term_put_array(&m, 3);
  term_put_string(&m, "heirloom.name", 13);
  term_put_string(&m, name, strlen(name));
  term_put_id(&m, TERM_PID, pid);
  for (size_t i = 0; i < nwatchers; i++) {
    proc *w = ptab_get(&n->procs, watchers[i]);
    if (w == NULL) continue;
    if (buf_ok(&m)) proc_deliver(w, m.p, m.n);
    proc_unref(w);
  }
  buf_free(&m);
  free(watchers);
}

