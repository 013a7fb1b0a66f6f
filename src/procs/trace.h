/*
** trace.h — a deterministic node's record of what happened (trace.c):
** every event that decides what a run does — a slice begun, a message
** delivered, a process spawned or exited, an exit signal, a timer fired,
** a table handed over, a name registered or dropped, the virtual clock
** moved. Two runs of one program under one seed are the same run when
** their traces hash the same.
**
** The trace keeps a running 64-bit FNV-1a hash over every event and the
** text of the last TRACE_RING events, for a person to read. A node without
** a trace has a NULL one: each call site tests the pointer, nothing more.
*/
#ifndef HL_TRACE_H
#define HL_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct trace trace;

enum {
  TRACE_SLICE,     /* a: the pid */
  TRACE_DELIVER,   /* a: from (0: the node), b: to, c: hash of the term */
  TRACE_SPAWN,     /* a: the pid */
  TRACE_EXIT,      /* a: the pid, c: TRACE_NORMAL... */
  TRACE_SIGNAL,    /* an exit signal: a: from, b: to, c: hash of the reason */
  TRACE_TIMER,     /* a timer fired: a: its ref, b: the pid it was for */
  TRACE_TRANSFER,  /* a table handed over: a: from, b: to, c: the table id */
  TRACE_NAME,      /* a: the pid (0: the name was dropped), text: the name */
  TRACE_CLOCK      /* the virtual clock moved: a: its new time (ms since start) */
};

/* How a process ended, for TRACE_EXIT. */
enum { TRACE_NORMAL, TRACE_SHUTDOWN, TRACE_KILLED, TRACE_OTHER };

#define TRACE_RING 4096

trace *trace_new(void);
void trace_free(trace *t);

/* Records one event; name may be NULL (only TRACE_NAME has one). */
void trace_event(trace *t, int kind, uint64_t a, uint64_t b, uint64_t c, const char *name);

/* FNV-1a over bytes, for the hash of a term. */
uint64_t trace_bytes_hash(const void *p, size_t n);

/* The hash of every event so far, and how many there were. */
uint64_t trace_hash(trace *t, uint64_t *count);

/* Appends the text of the last n events (at most TRACE_RING), oldest
** first, one line each ending in '\n'; returns how many. */
size_t trace_last(trace *t, size_t n, buf *out);

#endif
