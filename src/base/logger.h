/*
** logger.h — where the node's log goes: reports (crash, supervisor,
** progress), the application's own lines (hl.log) and the node's notices.
** Each event has a level, the process it is about (0: none) and a text;
** the logger drops events below its level, writes the others as one line
** each (plain text, or JSON for log collectors) with the wall clock's UTC
** time, and
** sends that line to stderr (the default), nowhere, a capture buffer the
** host reads back (specs use it) or the host's function.
**
** Every function may be called from any thread. None calls back into the
** engine while it holds the logger's lock.
*/
#ifndef HL_LOGGER_H
#define HL_LOGGER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Destinations. */
enum { LOG_STDERR, LOG_SILENT, LOG_CAPTURE, LOG_CALLBACK };

/* Levels, least severe first; LOGLEVEL_NONE as a level drops everything. */
enum { LOGLEVEL_DEBUG, LOGLEVEL_INFO, LOGLEVEL_NOTICE, LOGLEVEL_WARNING, LOGLEVEL_ERROR,
       LOGLEVEL_NONE };

/* Line formats. */
enum { LOGFORMAT_TEXT, LOGFORMAT_JSON };

typedef void (*logger_fn)(void *ud, const char *line);

typedef struct logger {
  pthread_mutex_t lock;
  int mode;
  atomic_int level;         /* read without the lock: the filter is the hot part */
  atomic_int format;
  atomic_int verbose;       /* reasons in full: tracebacks, module search paths */
  logger_fn fn;             /* LOG_CALLBACK: the host's function */
  void *ud;
  char **captured;          /* oldest first */
  size_t ncaptured, capcaptured;
} logger;

void logger_init(logger *lg);
void logger_destroy(logger *lg);
void logger_set_mode(logger *lg, int mode);
/* Sends every line to fn (LOG_CALLBACK); fn NULL: back to stderr. */
void logger_set_callback(logger *lg, logger_fn fn, void *ud);
void logger_set_level(logger *lg, int level);
int logger_level(logger *lg);
void logger_set_format(logger *lg, int format);
int logger_format(logger *lg);
void logger_set_verbose(logger *lg, int verbose);
int logger_verbose(logger *lg);

/* Level names ("debug" ... "error", "none") and back (-1: unknown). */
const char *logger_level_name(int level);
int logger_level_of(const char *name);

/* Whether an event of this level would be written anywhere. */
int logger_wants(logger *lg, int level);

/* One event (text copied). */
void logger_log(logger *lg, int level, uint64_t pid, const char *text);

/* The note that replaces a Lua module search list in a message, and how
** much of s (len bytes) comes before that list: len when it has none.
** Reports cut the list unless the log is verbose; so does hl.log.brief. */
extern const char logger_search_note[];
size_t logger_before_search_list(const char *s, size_t len);
/* One event: head followed by a term, formatted as reports format
** reasons (one line; in full only when verbose). */
void logger_log_term(logger *lg, int level, uint64_t pid, const char *head,
                     const unsigned char *term, size_t len);
/* The crash report of process pid, registered as name (NULL: none), that
** exited with an abnormal reason (level error). */
void logger_crash(logger *lg, uint64_t pid, const char *name, const unsigned char *reason,
                  size_t len);
/* Hands over the captured lines (malloc'd strings) and forgets them. */
size_t logger_take(logger *lg, char ***out);

#endif
