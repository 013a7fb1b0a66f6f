/*
** supervisor.c — the decision core of a supervisor (see supervisor.h).
** Children live in one array in start order; lookups are linear, which is
** what a supervisor's few static children want. A simple_one_for_one
** supervisor with very many children pays O(n) per exit.
*/
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"
#include "term.h"

void sup_init(sup *s, int strategy, int intensity, int64_t period_ms) {
  memset(s, 0, sizeof *s);
  s->strategy = strategy;
  s->intensity = intensity;
  s->period_ms = period_ms;
}

static void free_child(sup_child *c) {
  free(c->id);
  free(c->start);
  c->id = NULL;
  c->start = NULL;
}

void sup_free(sup *s) {
  for (size_t i = 0; i < s->nchildren; i++) free_child(&s->children[i]);
  free(s->children);
  if (s->has_tmpl) free_child(&s->tmpl);
  free(s->restarts);
  memset(s, 0, sizeof *s);
}

/* ---- children ---- */

static int copy_child(sup_child *c, const sup_childspec *cs) {
  memset(c, 0, sizeof *c);
  if (cs->id != NULL && (c->id = strdup(cs->id)) == NULL) return 0;
  c->start = malloc(cs->startlen > 0 ? cs->startlen : 1);
  if (c->start == NULL) {
    free(c->id);
    c->id = NULL;
    return 0;
  }
  memcpy(c->start, cs->start, cs->startlen);
  c->startlen = cs->startlen;
  c->restart = cs->restart;
  c->type = cs->type;
  c->shutdown = cs->shutdown;
  return 1;
}

static int append(sup *s, sup_child *c, uint64_t *key) {
  if (s->nchildren == s->capchildren) {
    size_t cap = s->capchildren ? s->capchildren * 2 : 8;
    sup_child *grown = realloc(s->children, cap * sizeof *grown);
    if (grown == NULL) return SUP_ENOMEM;
    s->children = grown;
    s->capchildren = cap;
  }
  c->key = ++s->lastkey;
  s->children[s->nchildren++] = *c;
  if (key != NULL) *key = c->key;
  return SUP_OK;
}

int sup_add(sup *s, const sup_childspec *cs, uint64_t *key) {
  sup_child c;
  sup_child *held = cs->id != NULL ? sup_find_id(s, cs->id) : NULL;
  int rc;
  if (held != NULL) {
    if (key != NULL) *key = held->key;
    return SUP_EDUPLICATE;
  }
  if (!copy_child(&c, cs)) return SUP_ENOMEM;
  if ((rc = append(s, &c, key)) != SUP_OK) free_child(&c);
  return rc;
}

int sup_set_template(sup *s, const sup_childspec *cs) {
  sup_child c;
  if (!copy_child(&c, cs)) return SUP_ENOMEM;
  if (s->has_tmpl) free_child(&s->tmpl);
  s->tmpl = c;
  s->has_tmpl = 1;
  return SUP_OK;
}

int sup_add_dynamic(sup *s, const unsigned char *start, size_t startlen, uint64_t *key) {
  sup_childspec cs;
  sup_child c;
  int rc;
  if (!s->has_tmpl) return SUP_ENOTFOUND;
  cs.id = NULL;
  cs.start = start;
  cs.startlen = startlen;
  cs.restart = s->tmpl.restart;
  cs.type = s->tmpl.type;
  cs.shutdown = s->tmpl.shutdown;
  if (!copy_child(&c, &cs)) return SUP_ENOMEM;
  if ((rc = append(s, &c, key)) != SUP_OK) free_child(&c);
  return rc;
}

static size_t index_of(const sup *s, uint64_t key) {
  for (size_t i = 0; i < s->nchildren; i++)
    if (s->children[i].key == key) return i;
  return (size_t)-1;
}

sup_child *sup_get(sup *s, uint64_t key) {
  size_t i = index_of(s, key);
  return i == (size_t)-1 ? NULL : &s->children[i];
}

sup_child *sup_find_id(sup *s, const char *id) {
  for (size_t i = 0; i < s->nchildren; i++)
    if (s->children[i].id != NULL && strcmp(s->children[i].id, id) == 0) return &s->children[i];
  return NULL;
}

sup_child *sup_find_pid(sup *s, uint64_t pid) {
  if (pid == 0) return NULL;
  for (size_t i = 0; i < s->nchildren; i++)
    if (s->children[i].pid == pid) return &s->children[i];
  return NULL;
}

int sup_remove(sup *s, uint64_t key) {
  size_t i = index_of(s, key);
  if (i == (size_t)-1) return SUP_ENOTFOUND;
  free_child(&s->children[i]);
  memmove(&s->children[i], &s->children[i + 1], (s->nchildren - i - 1) * sizeof *s->children);
  s->nchildren--;
  return SUP_OK;
}

void sup_set_pid(sup *s, uint64_t key, uint64_t pid) {
  sup_child *c = sup_get(s, key);
  if (c != NULL) c->pid = pid;
}

/* ---- decisions ---- */

static int is_string(const unsigned char *p, size_t len, const char *s) {
  size_t n = strlen(s);
  return len == n + 3 && p[0] == TERM_STRING && memcmp(p + 1, s, n) == 0 && p[n + 1] == 0 &&
         p[n + 2] == 0;
}

int sup_reason_class(const unsigned char *reason, size_t len) {
  const unsigned char *first;
  size_t flen;
  if (len == 0) return SUP_EXIT_ABNORMAL;
  if (is_string(reason, len, "normal")) return SUP_EXIT_NORMAL;
  if (is_string(reason, len, "shutdown")) return SUP_EXIT_SHUTDOWN;
  if (reason[0] == TERM_ARRAY && term_array_elem(reason, len, 0, &first, &flen) &&
      is_string(first, flen, "shutdown"))
    return SUP_EXIT_SHUTDOWN;
  return SUP_EXIT_ABNORMAL;
}

int sup_record_restart(sup *s, int64_t now_ms) {
  size_t keep = 0;
  /* forget the restarts that left the window: older than period_ms */
  while (keep < s->nrestarts && now_ms - s->restarts[keep] >= s->period_ms) keep++;
  if (keep > 0) {
    memmove(s->restarts, s->restarts + keep, (s->nrestarts - keep) * sizeof *s->restarts);
    s->nrestarts -= keep;
  }
  if (s->nrestarts == s->caprestarts) {
    size_t cap = s->caprestarts ? s->caprestarts * 2 : 4;
    int64_t *grown = realloc(s->restarts, cap * sizeof *grown);
    if (grown == NULL) return 0;     /* no room to count: giving up is the safe side */
    s->restarts = grown;
    s->caprestarts = cap;
  }
  s->restarts[s->nrestarts++] = now_ms;
  if (s->nrestarts <= (size_t)s->intensity) return 1;
  /* over the limit; keeping more than intensity + 1 times would not change
  ** any later answer, so the window's memory stays bounded */
  if (s->nrestarts > (size_t)s->intensity + 1) {
    memmove(s->restarts, s->restarts + 1, (s->nrestarts - 1) * sizeof *s->restarts);
    s->nrestarts--;
  }
  return 0;
}

static int wants_restart(const sup_child *c, int reason_class) {
  if (c->restart == SUP_PERMANENT) return 1;
  if (c->restart == SUP_TRANSIENT) return reason_class == SUP_EXIT_ABNORMAL;
  return 0;
}

int sup_child_exit(sup *s, uint64_t pid, int reason_class, int64_t now_ms, uint64_t *key,
                   int *report, sup_plan *plan) {
  sup_child *c = sup_find_pid(s, pid);
  memset(plan, 0, sizeof *plan);
  *report = 0;
  *key = 0;
  if (c == NULL) return SUP_UNKNOWN;
  *key = c->key;
  c->pid = 0;
  *report = c->restart == SUP_PERMANENT || reason_class == SUP_EXIT_ABNORMAL;
  if (!wants_restart(c, reason_class)) {
    if (c->restart == SUP_TEMPORARY || c->id == NULL) {
      sup_remove(s, *key);
      return SUP_REMOVED;
    }
    return SUP_KEEP;
  }
  if (!sup_record_restart(s, now_ms)) return SUP_GIVE_UP;
  return sup_plan_restart(s, *key, plan) == SUP_OK ? SUP_RESTART : -1;
}

int sup_plan_restart(sup *s, uint64_t key, sup_plan *plan) {
  size_t at = index_of(s, key), from, n = s->nchildren;
  memset(plan, 0, sizeof *plan);
  if (at == (size_t)-1) return SUP_ENOTFOUND;
  if (s->strategy == SUP_ONE_FOR_ALL) from = 0;
  else if (s->strategy == SUP_REST_FOR_ONE) from = at;
  else from = n;                        /* one_for_one, simple_one_for_one: only `key` */
  if (from < n) {
    plan->stop = malloc((n - from) * sizeof *plan->stop);
    plan->start = malloc((n - from) * sizeof *plan->start);
    if (plan->stop == NULL || plan->start == NULL) {
      sup_plan_free(plan);
      return SUP_ENOMEM;
    }
    for (size_t i = n; i-- > from;)
      if (s->children[i].pid != 0 && s->children[i].key != key)
        plan->stop[plan->nstop++] = s->children[i].key;
    for (size_t i = from; i < n; i++)
      if (s->children[i].restart != SUP_TEMPORARY || s->children[i].key == key)
        plan->start[plan->nstart++] = s->children[i].key;
  } else {
    if ((plan->start = malloc(sizeof *plan->start)) == NULL) return SUP_ENOMEM;
    plan->start[plan->nstart++] = key;
  }
  return SUP_OK;
}

void sup_plan_free(sup_plan *plan) {
  free(plan->stop);
  free(plan->start);
  memset(plan, 0, sizeof *plan);
}

int sup_stopped(sup *s, uint64_t key) {
  sup_child *c = sup_get(s, key);
  if (c == NULL) return 0;
  c->pid = 0;
  if (c->restart == SUP_TEMPORARY || c->id == NULL) {
    sup_remove(s, key);
    return 1;
  }
  return 0;
}

size_t sup_shutdown_order(const sup *s, uint64_t **keys) {
  size_t n = 0;
  *keys = NULL;
  for (size_t i = 0; i < s->nchildren; i++) n += s->children[i].pid != 0;
  if (n == 0) return 0;
  if ((*keys = malloc(n * sizeof **keys)) == NULL) return (size_t)-1;
  n = 0;
  for (size_t i = s->nchildren; i-- > 0;)
    if (s->children[i].pid != 0) (*keys)[n++] = s->children[i].key;
  return n;
}

void sup_count(const sup *s, sup_counts *c) {
  memset(c, 0, sizeof *c);
  c->specs = s->nchildren;
  for (size_t i = 0; i < s->nchildren; i++) {
    c->active += s->children[i].pid != 0;
    if (s->children[i].type == SUP_SUPERVISOR) c->supervisors++;
    else c->workers++;
  }
}
