/*
** trace.c — the trace of a deterministic node (see trace.h).
**
** Events may be recorded from any thread (a C host thread sends too), so
** the trace has a lock of its own, taken last: nothing is called while it
** is held. The hash covers the events' fields, never a time on the real
** clock, so it depends on what happened and in which order only.
*/
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term.h"
#include "trace.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define NAME_KEPT 40       /* bytes of a name kept for the text */

typedef struct tevent {
  int kind;
  uint64_t a, b, c;
  int64_t at;              /* the virtual clock then, for the text */
  char name[NAME_KEPT];
} tevent;

struct trace {
  pthread_mutex_t lock;
  uint64_t hash, count;
  int64_t now;             /* the last TRACE_CLOCK's time */
  tevent ring[TRACE_RING];
};

trace *trace_new(void) {
  trace *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  pthread_mutex_init(&t->lock, NULL);
  t->hash = FNV_OFFSET;
  return t;
}

void trace_free(trace *t) {
  if (t == NULL) return;
  pthread_mutex_destroy(&t->lock);
  free(t);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= FNV_PRIME;
  }
  return h;
}

uint64_t trace_bytes_hash(const void *p, size_t n) {
  return fnv(FNV_OFFSET, p, n);
}

/* A number in 8 bytes, least significant first: the same on every host. */
static uint64_t fnv_u64(uint64_t h, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
  return fnv(h, b, sizeof b);
}

void trace_event(trace *t, int kind, uint64_t a, uint64_t b, uint64_t c, const char *name) {
  tevent *e;
  pthread_mutex_lock(&t->lock);
  t->hash = fnv_u64(t->hash, (uint64_t)kind);
  t->hash = fnv_u64(t->hash, a);
  t->hash = fnv_u64(t->hash, b);
  t->hash = fnv_u64(t->hash, c);
  if (name != NULL) t->hash = fnv(t->hash, name, strlen(name) + 1);
  if (kind == TRACE_CLOCK) t->now = (int64_t)a;
  e = &t->ring[t->count % TRACE_RING];
  t->count++;
  e->kind = kind;
  e->a = a;
  e->b = b;
  e->c = c;
  e->at = t->now;
  e->name[0] = '\0';
  if (name != NULL) snprintf(e->name, sizeof e->name, "%s", name);
  pthread_mutex_unlock(&t->lock);
}

uint64_t trace_hash(trace *t, uint64_t *count) {
  uint64_t h;
  pthread_mutex_lock(&t->lock);
  h = t->hash;
  if (count != NULL) *count = t->count;
  pthread_mutex_unlock(&t->lock);
  return h;
}

static const char *exit_class(uint64_t c) {
  static const char *const names[] = {"normal", "shutdown", "killed", "other"};
  return c <= TRACE_OTHER ? names[c] : "?";
}

/* "<0.5.0>", or "node" for 0 (the node's own messages). */
static void pid_text(uint64_t pid, char *out, size_t size) {
  if (pid == 0) snprintf(out, size, "node");
  else term_pid_text(pid, out, size);
}

static void event_text(const tevent *e, uint64_t index, char *out, size_t size) {
  char a[32], b[32];
  int at = snprintf(out, size, "%" PRIu64 " @%" PRId64 " ", index, e->at);
  char *rest = out + at;
  size_t left = size - (size_t)at;
  pid_text(e->a, a, sizeof a);
  pid_text(e->b, b, sizeof b);
  switch (e->kind) {
    case TRACE_SLICE: snprintf(rest, left, "slice %s", a); break;
    case TRACE_DELIVER:
      snprintf(rest, left, "deliver %s -> %s #%016" PRIx64, a, b, e->c);
      break;
    case TRACE_SPAWN: snprintf(rest, left, "spawn %s", a); break;
    case TRACE_EXIT: snprintf(rest, left, "exit %s %s", a, exit_class(e->c)); break;
    case TRACE_SIGNAL:
      snprintf(rest, left, "signal %s -> %s #%016" PRIx64, a, b, e->c);
      break;
    case TRACE_TIMER: snprintf(rest, left, "timer %" PRIu64 " for %s", e->a, b); break;
    case TRACE_TRANSFER:
      snprintf(rest, left, "transfer table %" PRIu64 " %s -> %s", e->c, a, b);
      break;
    case TRACE_NAME:
      if (e->a == 0) snprintf(rest, left, "unregister '%s'", e->name);
      else snprintf(rest, left, "register '%s' %s", e->name, a);
      break;
    case TRACE_CLOCK: snprintf(rest, left, "clock %" PRIu64, e->a); break;
    default: snprintf(rest, left, "?"); break;
  }
}

size_t trace_last(trace *t, size_t n, buf *out) {
  uint64_t first;
  pthread_mutex_lock(&t->lock);
  if (n > TRACE_RING) n = TRACE_RING;
  if (n > t->count) n = (size_t)t->count;
  first = t->count - n;
  for (size_t k = 0; k < n; k++) {
    char line[160];
    event_text(&t->ring[(first + k) % TRACE_RING], first + k + 1, line, sizeof line);
    buf_put(out, line, strlen(line));
    buf_put(out, "\n", 1);
  }
  pthread_mutex_unlock(&t->lock);
  return n;
}
