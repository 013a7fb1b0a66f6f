/*
** logger.c — the node's log (see logger.h): the level filter, one line
** per event in text or JSON, reasons formatted as Lua-like text, and the
** destinations.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "logger.h"
#include "term.h"

#define CAPTURE_MAX 1000

static const char *const level_names[] = {"debug", "info", "notice", "warning", "error", "none"};

void logger_init(logger *lg) {
  memset(lg, 0, sizeof *lg);
  pthread_mutex_init(&lg->lock, NULL);
  atomic_init(&lg->level, LOGLEVEL_INFO);
  atomic_init(&lg->format, LOGFORMAT_TEXT);
  atomic_init(&lg->verbose, 0);
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

void logger_set_callback(logger *lg, logger_fn fn, void *ud) {
  pthread_mutex_lock(&lg->lock);
  lg->mode = fn != NULL ? LOG_CALLBACK : LOG_STDERR;
  lg->fn = fn;
  lg->ud = ud;
  pthread_mutex_unlock(&lg->lock);
}

void logger_set_level(logger *lg, int level) { atomic_store(&lg->level, level); }
int logger_level(logger *lg) { return atomic_load(&lg->level); }
void logger_set_format(logger *lg, int format) { atomic_store(&lg->format, format); }
int logger_format(logger *lg) { return atomic_load(&lg->format); }
void logger_set_verbose(logger *lg, int verbose) { atomic_store(&lg->verbose, verbose != 0); }
int logger_verbose(logger *lg) { return atomic_load(&lg->verbose); }

const char *logger_level_name(int level) {
  return level >= LOGLEVEL_DEBUG && level <= LOGLEVEL_NONE ? level_names[level] : "?";
}

int logger_level_of(const char *name) {
  for (int i = LOGLEVEL_DEBUG; i <= LOGLEVEL_NONE; i++)
    if (strcmp(name, level_names[i]) == 0) return i;
  return -1;
}

int logger_wants(logger *lg, int level) {
  int mode;
  if (level < atomic_load(&lg->level)) return 0;
  pthread_mutex_lock(&lg->lock);
  mode = lg->mode;
  pthread_mutex_unlock(&lg->lock);
  return mode != LOG_SILENT;
}

/* ---- where lines go ---- */

static void capture(logger *lg, const char *line) {
  char *copy = strdup(line);
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

static void emit(logger *lg, const char *line) {
  logger_fn fn = NULL;
  void *ud = NULL;
  pthread_mutex_lock(&lg->lock);
  if (lg->mode == LOG_STDERR) fprintf(stderr, "%s\n", line);
  else if (lg->mode == LOG_CAPTURE) capture(lg, line);
  else if (lg->mode == LOG_CALLBACK) {
    fn = lg->fn;
    ud = lg->ud;
  }
  pthread_mutex_unlock(&lg->lock);
  /* Outside the lock, so the host's function may call heirloom, even
  ** code that logs. */
  if (fn != NULL) fn(ud, line);
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

/* ---- lines ---- */

/* "2026-12-05T17:45:01.123Z": UTC, to the millisecond. */
static void put_time(buf *out) {
  struct timespec ts;
  struct tm tm;
  char text[48];
  size_t n;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  n = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(text + n, sizeof text - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
  buf_put(out, text, strlen(text));
}

/* A string in double quotes with JSON's escapes. */
static void put_json_string(buf *out, const char *s) {
  buf_putc(out, '"');
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    char esc[8];
    if (c == '"' || c == '\\') {
      buf_putc(out, '\\');
      buf_putc(out, (char)c);
    } else if (c == '\n') {
      buf_put(out, "\\n", 2);
    } else if (c == '\t') {
      buf_put(out, "\\t", 2);
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      buf_put(out, esc, 6);
    } else {
      buf_putc(out, (char)c);
    }
  }
  buf_putc(out, '"');
}

/* Text with its line breaks written as \n: one event, one line. */
static void put_one_line(buf *out, const char *s) {
  for (; *s != '\0'; s++) {
    if (*s == '\n') buf_put(out, "\\n", 2);
    else buf_putc(out, *s);
  }
}

static void log_line(logger *lg, int level, uint64_t pid, const char *text) {
  buf line;
  char pidtext[40];
  buf_init(&line);
  if (pid != 0) term_pid_text(pid, pidtext, sizeof pidtext);
  if (atomic_load(&lg->format) == LOGFORMAT_JSON) {
    buf_put(&line, "{\"time\":\"", 9);
    put_time(&line);
    buf_put(&line, "\",\"level\":\"", 11);
    buf_put(&line, level_names[level], strlen(level_names[level]));
    buf_putc(&line, '"');
    if (pid != 0) {
      buf_put(&line, ",\"pid\":\"", 8);
      buf_put(&line, pidtext, strlen(pidtext));
      buf_putc(&line, '"');
    }
    buf_put(&line, ",\"msg\":", 7);
    put_json_string(&line, text);
    buf_putc(&line, '}');
  } else {
    put_time(&line);
    buf_putc(&line, ' ');
    buf_put(&line, level_names[level], strlen(level_names[level]));
    buf_putc(&line, ' ');
    if (pid != 0) {
      buf_put(&line, pidtext, strlen(pidtext));
      buf_putc(&line, ' ');
    }
    if (atomic_load(&lg->verbose)) buf_put(&line, text, strlen(text));
    else put_one_line(&line, text);
  }
  buf_putc(&line, '\0');
  if (buf_ok(&line)) emit(lg, (const char *)line.p);
  buf_free(&line);
}

void logger_log(logger *lg, int level, uint64_t pid, const char *text) {
  if (level < LOGLEVEL_DEBUG || level >= LOGLEVEL_NONE || !logger_wants(lg, level)) return;
  log_line(lg, level, pid, text);
}

/* ---- terms as text ---- */

/* Where a Lua module search list starts in a message ("module 'x' not
** found:\n\tno field package.preload['x']\n\tno file ..."): the list is
** long, and only --verbose needs it. */
static const char *search_list(const char *s, size_t len) {
  static const char mark[] = ":\n\tno field package.preload[";
  const char *at = memmem(s, len, mark, sizeof mark - 1);
  return at;
}

const char logger_search_note[] =
    " (searched package.path and package.cpath; --verbose lists the files)";

size_t logger_before_search_list(const char *s, size_t len) {
  const char *cut = search_list(s, len);
  return cut != NULL ? (size_t)(cut - s) : len;
}

/* A string as the shell shows one: in quotes, with Lua's escapes, on one
** line; raw (line breaks and all) when verbose. */
static void put_string(buf *out, const char *s, size_t len, int verbose) {
  const char *cut = verbose ? NULL : search_list(s, len);
  size_t n = cut != NULL ? (size_t)(cut - s) : len;
  buf_putc(out, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (verbose || (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)) {
      buf_putc(out, (char)c);
    } else if (c == '\n') {
      buf_put(out, "\\n", 2);
    } else if (c == '"' || c == '\\') {
      buf_putc(out, '\\');
      buf_putc(out, (char)c);
    } else {
      snprintf(esc, sizeof esc, "\\%d", c);
      buf_put(out, esc, strlen(esc));
    }
  }
  if (cut != NULL) buf_put(out, logger_search_note, strlen(logger_search_note));
  buf_putc(out, '"');
}

/* A map key as the shell shows one: an identifier bare, else [key]. */
static int is_identifier(const char *s, size_t len) {
  if (len == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return 0;
  }
  return 1;
}

static size_t format(const unsigned char *p, size_t len, buf *out, int depth, int verbose);

/* A map entry's key; 0 if malformed. *skip: the entry is a traceback,
** which only verbose reports show. */
static size_t format_key(const unsigned char *p, size_t len, buf *out, int depth, int verbose,
                         int *skip) {
  buf name;
  size_t n;
  *skip = 0;
  if (len > 0 && p[0] == TERM_STRING) {
    buf_init(&name);
    n = term_get_string(p, len, &name);
    if (n != 0 && buf_ok(&name) && is_identifier((const char *)name.p, name.n)) {
      *skip = !verbose && name.n == 9 && memcmp(name.p, "traceback", 9) == 0;
      if (!*skip) buf_put(out, name.p, name.n);
      buf_free(&name);
      return n;
    }
    buf_free(&name);
  }
  buf_putc(out, '[');
  n = format(p, len, out, depth + 1, verbose);
  buf_putc(out, ']');
  return n;
}

static size_t format_map(const unsigned char *p, size_t len, size_t at, uint32_t count, buf *out,
                         int depth, int verbose) {
  size_t n, vat = at;
  int first = 1;
  for (uint32_t i = 0; i < count; i++) {
    if ((n = term_skip(p + vat, len - vat)) == 0) return 0;
    vat += n;
  }
  for (uint32_t i = 0; i < count; i++) {
    size_t mark = out->n;
    int skip;
    if (!first) buf_put(out, ", ", 2);
    if ((n = format_key(p + at, len - at, out, depth, verbose, &skip)) == 0) return 0;
    at += n;
    if (skip) {
      out->n = mark;                      /* the entry leaves no trace */
      if ((n = term_skip(p + vat, len - vat)) == 0) return 0;
      vat += n;
      continue;
    }
    first = 0;
    buf_put(out, " = ", 3);
    if ((n = format(p + vat, len - vat, out, depth + 1, verbose)) == 0) return 0;
    vat += n;
  }
  return vat;
}

static size_t format(const unsigned char *p, size_t len, buf *out, int depth, int verbose);

/* A list's elements, in brackets; the list's size or 0. */
static size_t format_list(const unsigned char *p, size_t len, buf *out, int depth,
                          int verbose) {
  size_t at = 1, n;
  if (depth > 8) return 0;
  buf_putc(out, '[');
  while (at < len && p[at] != TERM_LIST_END) {
    if (at > 1) buf_put(out, ", ", 2);
    if ((n = format(p + at, len - at, out, depth + 1, verbose)) == 0) return 0;
    at += n;
  }
  if (at >= len) return 0;
  buf_putc(out, ']');
  return at + 1;
}

/* An atom by its name; another node's pid or ref as Lua prints them. */
static size_t format_named(const unsigned char *p, size_t len, buf *out) {
  char text[TERM_NAMED_TEXT_MAX];
  const unsigned char *name;
  size_t n, namelen;
  term_xpid xp;
  term_xref xr;
  if (p[0] == TERM_ATOM) {
    if ((n = term_get_atom(p, len, &name, &namelen)) != 0) buf_put(out, name, namelen);
    return n;
  }
  if (p[0] == TERM_XPID) {
    if ((n = term_get_xpid(p, len, &xp)) != 0) term_xpid_text(&xp, text, sizeof text);
  } else if ((n = term_get_xref(p, len, &xr)) != 0) {
    term_xref_text(&xr, text, sizeof text);
  }
  if (n != 0) buf_put(out, text, strlen(text));
  return n;
}

/* A term as text, as the shell shows values: "s", 1, 2.5, true, {a, b},
** {k = v}, [1, 2]. */
static size_t format(const unsigned char *p, size_t len, buf *out, int depth, int verbose) {
  term_num num;
  int tag;
  uint32_t count;
  uint64_t id;
  size_t n, at;
  char tmp[48];
  buf s;
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
      buf_init(&s);
      n = term_get_string(p, len, &s);
      if (n != 0 && buf_ok(&s)) put_string(out, (const char *)s.p, s.n, verbose);
      buf_free(&s);
      return n;
    case TERM_REF: case TERM_TABLE: case TERM_PID:
      if ((n = term_get_id(p, len, &tag, &id)) == 0) return 0;
      if (tag == TERM_PID) term_pid_text(id, tmp, sizeof tmp);
      else snprintf(tmp, sizeof tmp, "#%s<%" PRIu64 ">", tag == TERM_REF ? "Ref" : "Tab", id);
      buf_put(out, tmp, strlen(tmp));
      return n;
    case TERM_LIST:
      return format_list(p, len, out, depth, verbose);
    case TERM_ATOM: case TERM_XPID: case TERM_XREF:
      return format_named(p, len, out);
    default:
      if ((at = term_get_header(p, len, &tag, &count)) == 0 || depth > 8) return 0;
      buf_putc(out, '{');
      if (tag == TERM_ARRAY) {
        for (uint32_t i = 0; i < count; i++) {
          if (i > 0) buf_put(out, ", ", 2);
          if ((n = format(p + at, len - at, out, depth + 1, verbose)) == 0) return 0;
          at += n;
        }
      } else if ((at = format_map(p, len, at, count, out, depth, verbose)) == 0) {
        return 0;
      }
      buf_putc(out, '}');
      return at;
  }
}

void logger_log_term(logger *lg, int level, uint64_t pid, const char *head,
                     const unsigned char *term, size_t len) {
  buf b;
  if (level < LOGLEVEL_DEBUG || level >= LOGLEVEL_NONE || !logger_wants(lg, level)) return;
  buf_init(&b);
  buf_put(&b, head, strlen(head));
  if (format(term, len, &b, 0, atomic_load(&lg->verbose)) == 0)
    buf_put(&b, "<malformed term>", 16);
  buf_putc(&b, '\0');
  if (buf_ok(&b)) log_line(lg, level, pid, (const char *)b.p);
  buf_free(&b);
}

void logger_crash(logger *lg, uint64_t pid, const char *name, const unsigned char *reason,
                  size_t len) {
  char head[160], pidtext[40];
  term_pid_text(pid, pidtext, sizeof pidtext);
  snprintf(head, sizeof head, "=CRASH REPORT==== process %s (registered name %s) exited: ",
           pidtext, name != NULL ? name : "-");
  logger_log_term(lg, LOGLEVEL_ERROR, pid, head, reason, len);
}
