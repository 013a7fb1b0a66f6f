/*
** ptab.c — the process table and the registry of names (see ptab.h).
*/
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "ptab.h"
#include "trace.h"

#define SLOT_OF(pid) ((uint32_t)(pid))
#define SERIAL_OF(pid) ((uint32_t)((pid) >> 32))

int ptab_init(ptab *t) {
  memset(t, 0, sizeof *t);
  pthread_mutex_init(&t->lock, NULL);
  t->nslots = 1;   /* slot 0 is never a pid */
  t->capslots = 64;
  t->slots = calloc(t->capslots, sizeof *t->slots);
  alias_map_init(&t->aliases);
  return t->slots != NULL;
}

void ptab_destroy(ptab *t) {
  for (size_t i = 0; i < t->nnames; i++) {
    free(t->names[i].name);
    free(t->names[i].watchers);
  }
  free(t->names);
  free(t->slots);
  alias_map_destroy(&t->aliases);
  pthread_mutex_destroy(&t->lock);
}

static uint32_t take_slot(ptab *t) {
  uint32_t i;
  if (t->free_head != 0) {
    i = t->free_head;
    t->free_head = t->slots[i].next_free;
    return i;
  }
  if (t->nslots == t->capslots) {
    pslot *grown;
    if (t->capslots >= 0x7fffffffu) return 0;
    grown = realloc(t->slots, 2 * t->capslots * sizeof *grown);
    if (grown == NULL) return 0;
    memset(grown + t->capslots, 0, t->capslots * sizeof *grown);
    t->slots = grown;
    t->capslots *= 2;
  }
  return t->nslots++;
}

uint64_t ptab_add(ptab *t, proc *p) {
  uint32_t i;
  uint64_t pid = 0;
  pthread_mutex_lock(&t->lock);
  i = take_slot(t);
  if (i != 0) {
    pslot *s = &t->slots[i];
    s->serial++;
    s->p = p;
    pid = ((uint64_t)s->serial << 32) | i;
    p->pid = pid;
    proc_ref(p);
    t->live++;
    if (t->trace != NULL) trace_event(t->trace, TRACE_SPAWN, pid, 0, 0, NULL);
  }
  pthread_mutex_unlock(&t->lock);
  return pid;
}

void ptab_remove(ptab *t, uint64_t pid) {
  uint32_t i = SLOT_OF(pid);
  proc *p = NULL;
  pthread_mutex_lock(&t->lock);
  if (i > 0 && i < t->nslots && t->slots[i].p != NULL && t->slots[i].serial == SERIAL_OF(pid)) {
    p = t->slots[i].p;
    t->slots[i].p = NULL;
    t->slots[i].next_free = t->free_head;
    t->free_head = i;
    t->live--;
  }
  pthread_mutex_unlock(&t->lock);
  if (p != NULL) proc_unref(p);
}

proc *ptab_get(ptab *t, uint64_t pid) {
  uint32_t i = SLOT_OF(pid);
  proc *p = NULL;
  pthread_mutex_lock(&t->lock);
  if (i > 0 && i < t->nslots && t->slots[i].p != NULL && t->slots[i].serial == SERIAL_OF(pid)) {
    p = t->slots[i].p;
    proc_ref(p);
  }
  pthread_mutex_unlock(&t->lock);
  return p;
}

size_t ptab_pids(ptab *t, uint64_t **out) {
  size_t n = 0;
  pthread_mutex_lock(&t->lock);
  *out = malloc((t->live ? t->live : 1) * sizeof **out);
  for (uint32_t i = 1; *out != NULL && i < t->nslots; i++)
    if (t->slots[i].p != NULL) (*out)[n++] = t->slots[i].p->pid;
  pthread_mutex_unlock(&t->lock);
  return n;
}

/* ---- names ---- */

static pname *find_name(ptab *t, const char *name) {
  for (size_t i = 0; i < t->nnames; i++)
    if (strcmp(t->names[i].name, name) == 0) return &t->names[i];
  return NULL;
}

static pname *find_pid(ptab *t, uint64_t pid) {
  for (size_t i = 0; i < t->nnames; i++)
    if (t->names[i].pid == pid) return &t->names[i];
  return NULL;
}

static pname *add_name(ptab *t, const char *name) {
  pname *n;
  if (t->nnames == t->capnames) {
    size_t cap = t->capnames ? 2 * t->capnames : 16;
    pname *grown = realloc(t->names, cap * sizeof *grown);
    if (grown == NULL) return NULL;
    t->names = grown;
    t->capnames = cap;
  }
  n = &t->names[t->nnames];
  memset(n, 0, sizeof *n);
  n->name = strdup(name);
  if (n->name == NULL) return NULL;
  t->nnames++;
  return n;
}

/* Drops an entry that has neither a holder nor watchers. */
static void compact(ptab *t, pname *n) {
  if (n->pid != 0 || n->nwatchers != 0) return;
  free(n->name);
  free(n->watchers);
  *n = t->names[--t->nnames];
}

int ptab_register(ptab *t, const char *name, uint64_t pid, const char **why,
                  uint64_t **watchers, size_t *nwatchers) {
  pname *n;
  int ok = 0;
  *watchers = NULL;
  *nwatchers = 0;
  pthread_mutex_lock(&t->lock);
  n = find_name(t, name);
  if (n != NULL && n->pid != 0) *why = "the name is already registered";
  else if (find_pid(t, pid) != NULL) *why = "the process already has a name";
  else if (n == NULL && (n = add_name(t, name)) == NULL) *why = "out of memory";
  else {
    n->pid = pid;
    if (t->trace != NULL) trace_event(t->trace, TRACE_NAME, pid, 0, 0, name);
    *watchers = n->watchers;
    *nwatchers = n->nwatchers;
    n->watchers = NULL;
    n->nwatchers = 0;
    ok = 1;
  }
  pthread_mutex_unlock(&t->lock);
  return ok;
}

int ptab_unregister(ptab *t, const char *name) {
  pname *n;
  int ok = 0;
  pthread_mutex_lock(&t->lock);
  n = find_name(t, name);
  if (n != NULL && n->pid != 0) {
    if (t->trace != NULL) trace_event(t->trace, TRACE_NAME, 0, 0, 0, name);
    n->pid = 0;
    compact(t, n);
    ok = 1;
  }
  pthread_mutex_unlock(&t->lock);
  return ok;
}

void ptab_unregister_pid(ptab *t, uint64_t pid) {
  pname *n;
  pthread_mutex_lock(&t->lock);
  n = find_pid(t, pid);
  if (n != NULL) {
    if (t->trace != NULL) trace_event(t->trace, TRACE_NAME, 0, 0, 0, n->name);
    n->pid = 0;
    compact(t, n);
  }
  pthread_mutex_unlock(&t->lock);
}

uint64_t ptab_whereis(ptab *t, const char *name) {
  pname *n;
  uint64_t pid;
  pthread_mutex_lock(&t->lock);
  n = find_name(t, name);
  pid = n != NULL ? n->pid : 0;
  pthread_mutex_unlock(&t->lock);
  return pid;
}

int ptab_name_of(ptab *t, uint64_t pid, char *out, size_t size) {
  pname *n;
  int found = 0;
  pthread_mutex_lock(&t->lock);
  n = find_pid(t, pid);
  if (n != NULL && size > 0) {
    strncpy(out, n->name, size - 1);
    out[size - 1] = '\0';
    found = 1;
  }
  pthread_mutex_unlock(&t->lock);
  return found;
}

uint64_t ptab_watch_name(ptab *t, const char *name, uint64_t watcher) {
  pname *n;
  uint64_t pid = 0;
  pthread_mutex_lock(&t->lock);
  n = find_name(t, name);
  if (n != NULL && n->pid != 0) pid = n->pid;
  else if (n != NULL || (n = add_name(t, name)) != NULL) {
    uint64_t *grown = realloc(n->watchers, (n->nwatchers + 1) * sizeof *grown);
    if (grown != NULL) {
      grown[n->nwatchers++] = watcher;
      n->watchers = grown;
    }
  }
  pthread_mutex_unlock(&t->lock);
  return pid;
}

void ptab_unwatch_name(ptab *t, const char *name, uint64_t watcher) {
  pname *n;
  pthread_mutex_lock(&t->lock);
  n = find_name(t, name);
  if (n != NULL) {
    for (size_t i = 0; i < n->nwatchers; i++)
      if (n->watchers[i] == watcher) {
        n->watchers[i] = n->watchers[--n->nwatchers];
        break;
      }
    compact(t, n);
  }
  pthread_mutex_unlock(&t->lock);
}
