/*
** lsim.c — the node's clock and trace from Lua: hl.now (and its other
** name, hl.monotime), hl.advance, hl.trace_hash, hl.trace. A
** deterministic node's clock is virtual unless it was started with
** clock = "real" (scheduler.h); its trace is kept when it was started
** with trace = true (trace.h).
*/
#include <inttypes.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lbind.h"
#include "lsim.h"
#include "scheduler.h"
#include "trace.h"

/* Milliseconds on the node's clock since it started: the clock of timers
** and receive timeouts, for deadlines. */
static int l_now(lua_State *L) {
  lbind *b = lbind_running(L, "now");
  lua_pushinteger(L, (lua_Integer)sched_elapsed(b->node->sched));
  return 1;
}

static int l_monotime(lua_State *L) {
  lbind *b = lbind_running(L, "monotime");
  lua_pushinteger(L, (lua_Integer)sched_elapsed(b->node->sched));
  return 1;
}

/* advance(ms): the host moves a virtual clock forward; the timers that
** come due fire (their processes run on the next hl.run or wait). */
static int l_advance(lua_State *L) {
  lbind *b = lbind_running(L, "advance");
  lua_Integer ms;
  int isint;
  if (b->process)
    return luaL_error(L, "heirloom.advance: only the host moves the clock, not a process");
  ms = lua_tointegerx(L, 1, &isint);
  if (!isint || ms < 0)
    return luaL_error(L, "heirloom.advance: argument 1 (ms) must be a non-negative integer "
                         "(got %s)", lua_isnoneornil(L, 1) ? "nil" : luaL_tolstring(L, 1, NULL));
  if (!sched_advance(b->node->sched, (int64_t)ms))
    return luaL_error(L, "heirloom.advance: the node runs on the real clock; only a "
                         "deterministic node's virtual clock can be moved "
                         "(hl.start{ schedulers = 0 } without clock = \"real\")");
  return 0;
}

static trace *trace_of(lua_State *L, const char *fname) {
  lbind *b = lbind_running(L, fname);
  if (b->node->trace == NULL)
    luaL_error(L, "heirloom.%s: the node keeps no trace (start it with trace = true)", fname);
  return b->node->trace;
}

/* The trace's hash, 16 hex digits, and how many events it covers. */
static int l_trace_hash(lua_State *L) {
  uint64_t count, h = trace_hash(trace_of(L, "trace_hash"), &count);
  char hex[17];
  snprintf(hex, sizeof hex, "%016" PRIx64, h);
  lua_pushstring(L, hex);
  lua_pushinteger(L, (lua_Integer)count);
  return 2;
}

/* trace([n]): the last n events (all that are kept, TRACE_RING, by
** default) as lines of text, oldest first. */
static int l_trace(lua_State *L) {
  trace *t = trace_of(L, "trace");
  lua_Integer n = TRACE_RING;
  size_t count, at = 0;
  buf *text;
  if (!lua_isnoneornil(L, 1)) {
    int isint;
    n = lua_tointegerx(L, 1, &isint);
    if (!isint || n < 0)
      return luaL_error(L, "heirloom.trace: argument 1 (n) must be a non-negative integer");
  }
  /* into a buffer Lua owns: the table built below may raise a memory error */
  text = lbind_newbuf(L);
  count = trace_last(t, (size_t)n, text);
  if (!buf_ok(text)) return luaL_error(L, "heirloom.trace: out of memory");
  lua_createtable(L, (int)count, 0);
  for (size_t i = 0; i < count; i++) {
    const char *line = (const char *)text->p + at;
    size_t len = (size_t)((const unsigned char *)memchr(line, '\n', text->n - at) -
                          (const unsigned char *)line);
    lua_pushlstring(L, line, len);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
    at += len + 1;
  }
  return 1;
}

/* Found on first use, as every field of the module (lheirloom.c). */
const luaL_Reg lsim_functions[] = {
  {"now", l_now},
  {"monotime", l_monotime},
  {"advance", l_advance},
  {"trace_hash", l_trace_hash},
  {"trace", l_trace},
  {NULL, NULL}
};

