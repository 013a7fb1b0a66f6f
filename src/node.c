/*
** node.c — the node: its registry of tables and its process identities.
** The registry is touched when tables are created, found by name, renamed
** or dropped; never on an object operation.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etab.h"
#include "node.h"

node *node_new(const hl_config *cfg) {
  node *n = calloc(1, sizeof *n);
  if (n == NULL) return NULL;
  atomic_init(&n->refs, 1);
  pthread_mutex_init(&n->lock, NULL);
  n->next_table_id = 1;
  n->next_pid = 1;
  if (cfg != NULL) n->cfg = *cfg;
  n->cfg.data_dir = NULL;   /* durable storage is not opened yet */
  n->host_pid = n->next_pid++;
  return n;
}

void node_ref(node *n) {
  atomic_fetch_add(&n->refs, 1);
}

void node_unref(node *n) {
  if (atomic_fetch_sub(&n->refs, 1) != 1) return;
  free(n->tables);
  pthread_mutex_destroy(&n->lock);
  free(n);
}

void node_stop(node *n) {
  etab **list;
  size_t count;
  pthread_mutex_lock(&n->lock);
  n->stopped = 1;
  list = n->tables;
  count = n->ntables;
  n->tables = NULL;
  n->ntables = n->captables = 0;
  pthread_mutex_unlock(&n->lock);
  for (size_t i = 0; i < count; i++) {
    etab_close(list[i]);
    etab_unref(list[i]);
  }
  free(list);
  node_unref(n);
}

uint64_t node_new_table_id(node *n) {
  uint64_t id;
  pthread_mutex_lock(&n->lock);
  id = n->next_table_id++;
  pthread_mutex_unlock(&n->lock);
  return id;
}

/* A named table holding this name, or NULL. Lock held. */
static etab *named(node *n, const char *name) {
  for (size_t i = 0; i < n->ntables; i++)
    if (n->tables[i]->named && strcmp(n->tables[i]->name, name) == 0) return n->tables[i];
  return NULL;
}

hl_status node_add_table(node *n, etab *t, hl_err *e) {
  hl_status st = HL_OK;
  pthread_mutex_lock(&n->lock);
  if (n->stopped) st = err_set(e, HL_ECLOSED, "the node has stopped");
  else if (t->named && named(n, t->name) != NULL)
    st = err_set(e, HL_EEXIST, "a table named '%s' already exists", t->name);
  else if (n->ntables == n->captables) {
    size_t cap = n->captables ? n->captables * 2 : 16;
    etab **grown = realloc(n->tables, cap * sizeof *grown);
    if (grown == NULL) st = err_set(e, HL_ENOMEM, "out of memory");
    else {
      n->tables = grown;
      n->captables = cap;
    }
  }
  if (st == HL_OK) {
    /* ids only grow, so appending keeps the list sorted by id */
    n->tables[n->ntables++] = t;
    etab_ref(t);
  }
  pthread_mutex_unlock(&n->lock);
  return st;
}

static size_t index_of(node *n, uint64_t id, int *found) {
  size_t lo = 0, hi = n->ntables;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (n->tables[mid]->id < id) lo = mid + 1;
    else hi = mid;
  }
  *found = lo < n->ntables && n->tables[lo]->id == id;
  return lo;
}

void node_remove_table(node *n, etab *t) {
  int found;
  size_t i;
  pthread_mutex_lock(&n->lock);
  i = index_of(n, t->id, &found);
  if (found) {
    memmove(&n->tables[i], &n->tables[i + 1], (n->ntables - i - 1) * sizeof *n->tables);
    n->ntables--;
  }
  pthread_mutex_unlock(&n->lock);
  if (found) etab_unref(t);
}

etab *node_table_by_id(node *n, uint64_t id) {
  int found;
  etab *t = NULL;
  size_t i;
  pthread_mutex_lock(&n->lock);
  i = index_of(n, id, &found);
  if (found) {
    t = n->tables[i];
    etab_ref(t);
  }
  pthread_mutex_unlock(&n->lock);
  return t;
}

etab *node_table_by_name(node *n, const char *name) {
  etab *t;
  pthread_mutex_lock(&n->lock);
  t = named(n, name);
  if (t != NULL) etab_ref(t);
  pthread_mutex_unlock(&n->lock);
  return t;
}

size_t node_tables(node *n, etab ***out) {
  size_t count;
  pthread_mutex_lock(&n->lock);
  count = n->ntables;
  *out = malloc((count ? count : 1) * sizeof **out);
  if (*out == NULL) count = 0;
  for (size_t i = 0; i < count; i++) {
    (*out)[i] = n->tables[i];
    etab_ref(n->tables[i]);
  }
  pthread_mutex_unlock(&n->lock);
  return count;
}

void node_tables_free(etab **list, size_t count) {
  for (size_t i = 0; i < count; i++) etab_unref(list[i]);
  free(list);
}

hl_status node_rename_table(node *n, etab *t, const char *name, hl_err *e) {
  char *copy = strdup(name);
  char *old = NULL;
  hl_status st = HL_OK;
  if (copy == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  pthread_mutex_lock(&n->lock);
  if (t->named && named(n, name) != NULL && named(n, name) != t)
    st = err_set(e, HL_EEXIST, "a table named '%s' already exists", name);
  else {
    pthread_mutex_lock(&t->meta);
    old = t->name;
    t->name = copy;
    copy = NULL;
    pthread_mutex_unlock(&t->meta);
  }
  pthread_mutex_unlock(&n->lock);
  free(copy);
  free(old);
  return st;
}

int node_pid_alive(node *n, uint64_t pid) {
  int alive;
  pthread_mutex_lock(&n->lock);
  alive = !n->stopped && pid == n->host_pid;
  pthread_mutex_unlock(&n->lock);
  return alive;
}

void node_pid_text(uint64_t pid, char *out, size_t size) {
  snprintf(out, size, "<0.%" PRIu32 ".%" PRIu32 ">", (uint32_t)pid, (uint32_t)(pid >> 32));
}
