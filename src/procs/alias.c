/*
** alias.c — process aliases (see alias.h).
**
** Lock order: a process's lock may be taken while nothing else is held,
** and the map's lock likewise; neither is ever held while taking the
** other. A route in the map may therefore be stale for a moment (the alias
** was just dropped); the send then finds the alias missing from the
** owner's list and drops the message, which is the point.
*/
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "node.h"
#include "proc.h"
#include "ptab.h"

/* ---- the map: ref -> owner ---- */

int alias_map_init(alias_map *m) {
  memset(m, 0, sizeof *m);
  pthread_mutex_init(&m->lock, NULL);
  return 1;
}

void alias_map_destroy(alias_map *m) {
  free(m->refs);
  free(m->pids);
  pthread_mutex_destroy(&m->lock);
}

static size_t slot_of(const alias_map *m, uint64_t ref) {
  return (size_t)((ref * 0x9e3779b97f4a7c15u) >> 17) & (m->cap - 1);
}

/* The slot holding ref, or the free slot where it would go. */
static size_t find(const alias_map *m, uint64_t ref) {
  size_t i = slot_of(m, ref);
  while (m->refs[i] != 0 && m->refs[i] != ref) i = (i + 1) & (m->cap - 1);
  return i;
}

static int grow(alias_map *m) {
  size_t cap = m->cap ? 2 * m->cap : 64, oldcap = m->cap;
  uint64_t *refs = calloc(cap, sizeof *refs), *pids = calloc(cap, sizeof *pids);
  uint64_t *oldrefs = m->refs, *oldpids = m->pids;
  if (refs == NULL || pids == NULL) {
    free(refs);
    free(pids);
    return 0;
  }
  m->refs = refs;
  m->pids = pids;
  m->cap = cap;
  for (size_t i = 0; i < oldcap; i++)
    if (oldrefs[i] != 0) {
      size_t j = find(m, oldrefs[i]);
      m->refs[j] = oldrefs[i];
      m->pids[j] = oldpids[i];
    }
  free(oldrefs);
  free(oldpids);
  return 1;
}

static int map_put(alias_map *m, uint64_t ref, uint64_t pid) {
  size_t i;
  int ok = 1;
  pthread_mutex_lock(&m->lock);
  if (2 * (m->count + 1) > m->cap) ok = grow(m);   /* at most half full */
  if (ok) {
    i = find(m, ref);
    m->refs[i] = ref;
    m->pids[i] = pid;
    m->count++;
  }
  pthread_mutex_unlock(&m->lock);
  return ok;
}

/* Deletion by moving back the entries of the probe run that follows, so
** that no tombstone is needed. */
static void map_del_locked(alias_map *m, uint64_t ref) {
  size_t i, j;
  if (m->cap == 0) return;
  i = find(m, ref);
  if (m->refs[i] == 0) return;
  m->count--;
  for (j = (i + 1) & (m->cap - 1); m->refs[j] != 0; j = (j + 1) & (m->cap - 1)) {
    size_t home = slot_of(m, m->refs[j]);
    /* the entry at j may fill the hole at i unless its home lies in (i, j] */
    if (i <= j ? (home > i && home <= j) : (home > i || home <= j)) continue;
    m->refs[i] = m->refs[j];
    m->pids[i] = m->pids[j];
    i = j;
  }
  m->refs[i] = 0;
}

static uint64_t map_get(alias_map *m, uint64_t ref) {
  uint64_t pid = 0;
  pthread_mutex_lock(&m->lock);
  if (m->cap != 0) pid = m->pids[find(m, ref)];
  pthread_mutex_unlock(&m->lock);
  return pid;
}

/* ---- a process's aliases ---- */

int alias_active_locked(const proc *p, uint64_t ref) {
  for (size_t i = 0; i < p->naliases; i++)
    if (p->aliases[i] == ref) return 1;
  return 0;
}

uint64_t alias_make(proc *p) {
  node *n = p->node;
  uint64_t ref = node_new_ref(n);
  int ok = 0;
  if (!map_put(&n->procs.aliases, ref, p->pid)) return 0;
  pthread_mutex_lock(&p->lock);
  if (p->state < PROC_DYING) {
    if (p->naliases == p->capaliases) {
      size_t cap = p->capaliases ? 2 * p->capaliases : 4;
      uint64_t *grown = realloc(p->aliases, cap * sizeof *grown);
      if (grown != NULL) {
        p->aliases = grown;
        p->capaliases = cap;
      }
    }
    if (p->naliases < p->capaliases) {
      p->aliases[p->naliases++] = ref;
      ok = 1;
    }
  }
  pthread_mutex_unlock(&p->lock);
  if (!ok) {
    pthread_mutex_lock(&n->procs.aliases.lock);
    map_del_locked(&n->procs.aliases, ref);
    pthread_mutex_unlock(&n->procs.aliases.lock);
    return 0;
  }
  return ref;
}

int alias_drop(proc *p, uint64_t ref) {
  int found = 0;
  pthread_mutex_lock(&p->lock);
  for (size_t i = 0; i < p->naliases; i++)
    if (p->aliases[i] == ref) {
      p->aliases[i] = p->aliases[--p->naliases];
      found = 1;
      break;
    }
  pthread_mutex_unlock(&p->lock);
  if (found) {
    alias_map *m = &p->node->procs.aliases;
    pthread_mutex_lock(&m->lock);
    map_del_locked(m, ref);
    pthread_mutex_unlock(&m->lock);
  }
  return found;
}

int alias_send_owned(node *n, uint64_t ref, uint64_t owner, uint64_t from,
                     const unsigned char *term, size_t len) {
  proc *p;
  int ok;
  if (owner == 0 || (p = ptab_get(&n->procs, owner)) == NULL) return 0;
  ok = proc_deliver_alias(p, ref, from, term, len);   /* checks ref is p's */
  proc_unref(p);
  return ok;
}

int alias_send(node *n, uint64_t ref, uint64_t from, const unsigned char *term, size_t len) {
  return alias_send_owned(n, ref, map_get(&n->procs.aliases, ref), from, term, len);
}

void alias_forget(node *n, uint64_t *refs, size_t count) {
  alias_map *m = &n->procs.aliases;
  if (count > 0) {
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < count; i++) map_del_locked(m, refs[i]);
    pthread_mutex_unlock(&m->lock);
  }
  free(refs);
}
