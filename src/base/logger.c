/*
** logger.c — reports: formatting a crash report and sending it where the
** node's logger mode says.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logger.h"
#include "term.h"

#define CAPTURE_MAX 1000

void logger_init(logger *lg) {
  memset(lg, 0, sizeof *lg);
  pthread_mutex_init(&lg->lock, NULL);
}

void logger_destroy(logger *lg) {
  for (size_t i = 0; i < lg->ncaptured; i++) free(lg->captured[i]);
  free(lg->captured);
  pthread_mutex_destroy(&lg->lock);
}

void logger_set_mode(logger *lg, int mode) {
  pthread_mutex_lock(&lg->lock);
  lg->mode = mode;
  pthread_mutex_unlock(&lg->lock);
}

static void capture(logger *lg, const char *text) {
  char *copy = strdup(text);
  if (copy == NULL) return;
  if (lg->ncaptured == CAPTURE_MAX) {          /* keep the newest */
    free(lg->captured[0]);
    memmove(lg->captured, lg->captured + 1, (CAPTURE_MAX - 1) * sizeof *lg->captured);
    lg->ncaptured--;
  }
  if (lg->ncaptured == lg->capcaptured) {
    size_t cap = lg->capcaptured ? lg->capcaptured * 2 : 16;
    char **grown = realloc(lg->captured, cap * sizeof *grown);
    if (grown == NULL) {
      free(copy);
      return;
    }
    lg->captured = grown;
    lg->capcaptured = cap;
  }
  lg->captured[lg->ncaptured++] = copy;
}

void logger_set_callback(logger *lg, logger_fn fn, void *ud) {
  pthread_mutex_lock(&lg->lock);
  lg->mode = fn != NULL ? LOG_CALLBACK : LOG_STDERR;
  lg->fn = fn;
  lg->ud = ud;
  pthread_mutex_unlock(&lg->lock);
}

void logger_report(logger *lg, const char *text) {
  logger_fn fn = NULL;
  void *ud = NULL;
  pthread_mutex_lock(&lg->lock);
  if (lg->mode == LOG_STDERR) fprintf(stderr, "%s\n", text);
  else if (lg->mode == LOG_CAPTURE) capture(lg, text);
  else if (lg->mode == LOG_CALLBACK) {
    fn = lg->fn;
    ud = lg->ud;
  }
  pthread_mutex_unlock(&lg->lock);
  /* Outside the lock, so the host's function may call heirloom, even
  ** code that reports. */
  if (fn != NULL) fn(ud, text);
}

size_t logger_take(logger *lg, char ***out) {
  size_t n;
  pthread_mutex_lock(&lg->lock);
  *out = lg->captured;
  n = lg->ncaptured;
  lg->captured = NULL;
  lg->ncaptured = lg->capcaptured = 0;
  pthread_mutex_unlock(&lg->lock);
  return n;
}

/* A term as text, Lua-like: "s", 1, 2.5, true, {a, b}, {k = v}. */
static size_t format(const unsigned char *p, size_t len, buf *out, int depth) {
  term_num num;
  int tag;
  uint32_t count;
  uint64_t id;
  size_t n, at;
  char tmp[48];
  if (len == 0) return 0;
  switch (p[0]) {
    case TERM_NIL: buf_put(out, "nil", 3); return 1;
    case TERM_FALSE: buf_put(out, "false", 5); return 1;
    case TERM_TRUE: buf_put(out, "true", 4); return 1;
    case TERM_NUMBER:
      if ((n = term_get_num(p, len, &num)) == 0) return 0;
      if (num.isint) snprintf(tmp, sizeof tmp, "%" PRId64, num.i);
      else snprintf(tmp, sizeof tmp, "%.17g", num.d);
      buf_put(out, tmp, strlen(tmp));
      return n;
    case TERM_STRING:
      buf_putc(out, '"');
      n = term_get_string(p, len, out);
      buf_putc(out, '"');
      return n;
    case TERM_REF: case TERM_TABLE: case TERM_PID:
      if ((n = term_get_id(p, len, &tag, &id)) == 0) return 0;
      if (tag == TERM_PID) term_pid_text(id, tmp, sizeof tmp);
      else snprintf(tmp, sizeof tmp, "#%s<%" PRIu64 ">", tag == TERM_REF ? "Ref" : "Tab", id);
      buf_put(out, tmp, strlen(tmp));
      return n;
    default:
      if ((at = term_get_header(p, len, &tag, &count)) == 0 || depth > 8) return 0;
      buf_putc(out, '{');
      if (tag == TERM_ARRAY) {
        for (uint32_t i = 0; i < count; i++) {
          if (i > 0) buf_put(out, ", ", 2);
          if ((n = format(p + at, len - at, out, depth + 1)) == 0) return 0;
          at += n;
        }
      } else {
        size_t vat = at;
        for (uint32_t i = 0; i < count; i++) {
          if ((n = term_skip(p + vat, len - vat)) == 0) return 0;
          vat += n;
        }
        for (uint32_t i = 0; i < count; i++) {
          if (i > 0) buf_put(out, ", ", 2);
          if ((n = format(p + at, len - at, out, depth + 1)) == 0) return 0;
          at += n;
          buf_put(out, " = ", 3);
          if ((n = format(p + vat, len - vat, out, depth + 1)) == 0) return 0;
          vat += n;
        }
        at = vat;
      }
      buf_putc(out, '}');
      return at;
  }
}

/* Whether a report would go anywhere: a silent node formats none. */
static int wanted(logger *lg) {
  int mode;
  pthread_mutex_lock(&lg->lock);
  mode = lg->mode;
  pthread_mutex_unlock(&lg->lock);
  return mode != LOG_SILENT;
}

void logger_crash(logger *lg, uint64_t pid, const char *name, const unsigned char *reason,
                  size_t len) {
  buf b;
  char head[160], pidtext[40];
  if (!wanted(lg)) return;
  term_pid_text(pid, pidtext, sizeof pidtext);
  snprintf(head, sizeof head, "=CRASH REPORT==== process %s (registered name %s) exited: ",
           pidtext, name != NULL ? name : "-");
  buf_init(&b);
  buf_put(&b, head, strlen(head));
  if (format(reason, len, &b, 0) == 0) buf_put(&b, "<malformed reason>", 18);
  buf_putc(&b, '\0');
  if (buf_ok(&b)) logger_report(lg, (const char *)b.p);
  buf_free(&b);
}

void logger_report_term(logger *lg, const char *head, const unsigned char *term, size_t len) {
  buf b;
  if (!wanted(lg)) return;
  buf_init(&b);
  buf_put(&b, head, strlen(head));
  if (format(term, len, &b, 0) == 0) buf_put(&b, "<malformed term>", 16);
  buf_putc(&b, '\0');
  if (buf_ok(&b)) logger_report(lg, (const char *)b.p);
  buf_free(&b);
}
