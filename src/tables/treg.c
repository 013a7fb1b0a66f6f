/*
** treg.c — the registry of a node's tables (treg.h). It is touched when
** tables are created, found by name, renamed or dropped; never on an
** object operation.
*/
#include <stdlib.h>
#include <string.h>

#include "etab.h"
#include "treg.h"

void treg_init(treg *r, logger *log, void *host, void (*hold)(void *), void (*release)(void *)) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->lock, NULL);
  r->next_id = 1;
  r->log = log;
  r->host = host;
  eheap_spares_init(&r->spares);
  r->hold = hold;
  r->release = release;
}

void treg_destroy(treg *r) {
  eheap_spares_destroy(&r->spares);
  free(r->tables);
  pthread_mutex_destroy(&r->lock);
}

uint64_t treg_new_id(treg *r) {
  uint64_t id;
  pthread_mutex_lock(&r->lock);
  id = r->next_id++;
  pthread_mutex_unlock(&r->lock);
  return id;
}

/* A named table holding this name, or NULL. Lock held. */
static etab *named(treg *r, const char *name) {
  for (size_t i = 0; i < r->ntables; i++)
    if (r->tables[i]->named && strcmp(r->tables[i]->name, name) == 0) return r->tables[i];
  return NULL;
}

hl_status treg_add(treg *r, etab *t, hl_err *e) {
  hl_status st = HL_OK;
  pthread_mutex_lock(&r->lock);
  if (r->stopped) st = err_set(e, HL_ECLOSED, "the node has stopped");
  else if (t->named && named(r, t->name) != NULL)
    st = err_set(e, HL_EEXIST, "a table named '%s' already exists", t->name);
  else if (r->ntables == r->captables) {
    size_t cap = r->captables ? r->captables * 2 : 16;
    etab **grown = realloc(r->tables, cap * sizeof *grown);
    if (grown == NULL) st = err_set(e, HL_ENOMEM, "out of memory");
    else {
      r->tables = grown;
      r->captables = cap;
    }
  }
  if (st == HL_OK) {
    /* ids only grow, so appending keeps the list sorted by id */
    r->tables[r->ntables++] = t;
    etab_ref(t);
  }
  pthread_mutex_unlock(&r->lock);
  return st;
}

static size_t index_of(treg *r, uint64_t id, int *found) {
  size_t lo = 0, hi = r->ntables;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r->tables[mid]->id < id) lo = mid + 1;
    else hi = mid;
  }
  *found = lo < r->ntables && r->tables[lo]->id == id;
  return lo;
}

void treg_remove(treg *r, etab *t) {
  int found;
  size_t i;
  pthread_mutex_lock(&r->lock);
  i = index_of(r, t->id, &found);
  if (found) {
    memmove(&r->tables[i], &r->tables[i + 1], (r->ntables - i - 1) * sizeof *r->tables);
    r->ntables--;
  }
  pthread_mutex_unlock(&r->lock);
  if (found) etab_unref(t);
}

etab *treg_by_id(treg *r, uint64_t id) {
  int found;
  etab *t = NULL;
  size_t i;
  pthread_mutex_lock(&r->lock);
  i = index_of(r, id, &found);
  if (found) {
    t = r->tables[i];
    etab_ref(t);
  }
  pthread_mutex_unlock(&r->lock);
  return t;
}

etab *treg_by_name(treg *r, const char *name) {
  etab *t;
  pthread_mutex_lock(&r->lock);
  t = named(r, name);
  if (t != NULL) etab_ref(t);
  pthread_mutex_unlock(&r->lock);
  return t;
}

size_t treg_list(treg *r, etab ***out) {
  size_t count;
  pthread_mutex_lock(&r->lock);
  count = r->ntables;
  *out = malloc((count ? count : 1) * sizeof **out);
  if (*out == NULL) count = 0;
  for (size_t i = 0; i < count; i++) {
    (*out)[i] = r->tables[i];
    etab_ref(r->tables[i]);
  }
  pthread_mutex_unlock(&r->lock);
  return count;
}

void treg_list_free(etab **list, size_t count) {
  for (size_t i = 0; i < count; i++) etab_unref(list[i]);
  free(list);
}

hl_status treg_rename(treg *r, etab *t, const char *name, hl_err *e) {
  char *copy = strdup(name);
  char *old = NULL;
  hl_status st = HL_OK;
  if (copy == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  pthread_mutex_lock(&r->lock);
  if (t->named && named(r, name) != NULL && named(r, name) != t)
    st = err_set(e, HL_EEXIST, "a table named '%s' already exists", name);
  else {
    pthread_mutex_lock(&t->meta);
    old = t->name;
    t->name = copy;
    copy = NULL;
    pthread_mutex_unlock(&t->meta);
  }
  pthread_mutex_unlock(&r->lock);
  free(copy);
  free(old);
  return st;
}

void treg_stop(treg *r) {
  pthread_mutex_lock(&r->lock);
  r->stopped = 1;
  pthread_mutex_unlock(&r->lock);
}

int treg_stopped(treg *r) {
  int stopped;
  pthread_mutex_lock(&r->lock);
  stopped = r->stopped;
  pthread_mutex_unlock(&r->lock);
  return stopped;
}

size_t treg_take_all(treg *r, etab ***out) {
  size_t count;
  pthread_mutex_lock(&r->lock);
  *out = r->tables;
  count = r->ntables;
  r->tables = NULL;
  r->ntables = r->captables = 0;
  pthread_mutex_unlock(&r->lock);
  return count;
}
