/*
** logger.h — where crash reports and other reports go: stderr (the
** default), nowhere, or a capture buffer the host reads back (specs use it
** to assert what was reported).
*/
#ifndef HL_LOGGER_H
#define HL_LOGGER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum { LOG_STDERR, LOG_SILENT, LOG_CAPTURE, LOG_CALLBACK };

typedef void (*logger_fn)(void *ud, const char *report);

typedef struct logger {
  pthread_mutex_t lock;
  int mode;
  logger_fn fn;             /* LOG_CALLBACK: the host's function */
  void *ud;
  char **captured;          /* oldest first */
  size_t ncaptured, capcaptured;
} logger;

void logger_init(logger *lg);
void logger_destroy(logger *lg);
void logger_set_mode(logger *lg, int mode);
/* Sends every report to fn (LOG_CALLBACK); fn NULL: back to stderr. */
void logger_set_callback(logger *lg, logger_fn fn, void *ud);
/* A report line (copied). */
void logger_report(logger *lg, const char *text);
/* A report line: head followed by the term formatted as crash reports
** format reasons (supervisor reports). */
void logger_report_term(logger *lg, const char *head, const unsigned char *term, size_t len);
/* The crash report of process pid, registered as name (NULL: none), that
** exited with an abnormal reason. */
void logger_crash(logger *lg, uint64_t pid, const char *name, const unsigned char *reason,
                  size_t len);
/* Hands over the captured reports (malloc'd strings) and forgets them. */
size_t logger_take(logger *lg, char ***out);

#endif
