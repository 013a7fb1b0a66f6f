/*
** lsupervisor.c — the supervisor's decision core (supervisor.c) for Lua:
** hl._supervisor_core, used by lua/heirloom/supervisor.lua only.
**
** new(spec, fname) validates a whole supervisor spec and returns a core
** userdata; every refusal is an error naming the function and the field
** path ("heirloom.supervisor.start_link: children[2].restart: ...") and
** no position (supervisor.lua raises it again where the user called). The
** core's methods answer the strategy questions with child keys (integers)
** and lists of keys. report(head [, reason]) writes a supervisor report
** through the node's logger.
*/
#include <lauxlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbind.h"
#include "lhandle.h"
#include "logger.h"
#include "lsupervisor.h"
#include "lterm.h"
#include "proc.h"
#include "scheduler.h"
#include "supervisor.h"
#include "term.h"

#define CORE_META "heirloom.supervisor_core"

static const char *const strategies[] = {"one_for_one", "one_for_all", "rest_for_one",
                                         "simple_one_for_one", NULL};
static const char *const restarts[] = {"permanent", "transient", "temporary", NULL};
static const char *const types[] = {"worker", "supervisor", NULL};

/* ---- errors ---- */

/* Raises the message without a position: supervisor.lua re-raises it at
** the level of the user's call. */
static int raise_plain(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

/* Raises "heirloom.supervisor.<fname>: <path>: <message>". */
static int spec_error(lua_State *L, const char *fname, const char *path, const char *fmt, ...) {
  va_list ap;
  luaL_Buffer lb;
  luaL_buffinit(L, &lb);
  lua_pushfstring(L, "heirloom.supervisor.%s: %s: ", fname, path);
  luaL_addvalue(&lb);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  luaL_addvalue(&lb);
  luaL_pushresult(&lb);
  return lua_error(L);
}

/* A short rendering of the value at idx for an error message. */
static const char *shown(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING) return lua_pushfstring(L, "\"%s\"", lua_tostring(L, idx));
  if (lua_type(L, idx) == LUA_TNUMBER || lua_type(L, idx) == LUA_TBOOLEAN)
    return luaL_tolstring(L, idx, NULL);
  return luaL_typename(L, idx);
}

/* The option index of the string at idx among names; raises otherwise. */
static int one_of(lua_State *L, int idx, const char *const names[], const char *fname,
                  const char *path, const char *expected) {
  if (lua_type(L, idx) == LUA_TSTRING)
    for (int i = 0; names[i] != NULL; i++)
      if (strcmp(lua_tostring(L, idx), names[i]) == 0) return i;
  return spec_error(L, fname, path, "expected %s, got %s", expected, shown(L, idx));
}

/* Raises on a key of the table at idx that is not among known. */
static void known_fields(lua_State *L, int idx, const char *const known[], const char *fname,
                         const char *path) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      for (int i = 0; known[i] != NULL && !ok; i++) ok = strcmp(known[i], lua_tostring(L, -2)) == 0;
    if (!ok) spec_error(L, fname, path, "unknown field %s", shown(L, -2));
    lua_pop(L, 1);
  }
}

/* The length n of the table at idx if its keys are exactly 1..n; -1 if not. */
static lua_Integer sequence_length(lua_State *L, int idx) {
  lua_Integer n, count = 0;
  idx = lua_absindex(L, idx);
  n = (lua_Integer)lua_rawlen(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
      lua_pop(L, 1);
      return -1;
    }
    count++;
  }
  return count == n ? n : -1;
}

/* ---- child specs ---- */

#define PATH_MAX_LEN 96

/* out = path followed by suffix (a field path for error messages). */
static const char *subpath(char out[PATH_MAX_LEN], const char *path, const char *suffix) {
  size_t a = strlen(path), b = strlen(suffix);
  if (a > PATH_MAX_LEN - 1) a = PATH_MAX_LEN - 1;
  if (b > PATH_MAX_LEN - 1 - a) b = PATH_MAX_LEN - 1 - a;
  memmove(out, path, a);
  memcpy(out + a, suffix, b);
  out[a + b] = '\0';
  return out;
}

static void read_start(lua_State *L, int idx, const char *fname, const char *path, buf *out) {
  char msg[300], sub[PATH_MAX_LEN];
  lua_Integer n;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE)
    spec_error(L, fname, path, "expected a table {module, fname, args...}, got %s", shown(L, idx));
  if ((n = sequence_length(L, idx)) < 2)
    spec_error(L, fname, path, "expected an array {module, fname, args...}%s",
               n < 0 ? " without holes or other keys" : " of at least 2 elements");
  for (int i = 1; i <= 2; i++) {
    lua_rawgeti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
      spec_error(L, fname, subpath(sub, path, i == 1 ? "[1]" : "[2]"),
                 "expected a %s name (a non-empty string), got %s",
                 i == 1 ? "module" : "function", shown(L, -1));
    lua_pop(L, 1);
  }
  if (!lterm_encode(L, idx, out, path, msg, sizeof msg))
    raise_plain(L, "heirloom.supervisor.%s: %s", fname, msg);
}

static int64_t read_shutdown(lua_State *L, int idx, const char *fname, const char *path,
                             int type) {
  int isint;
  lua_Integer ms;
  if (lua_isnil(L, idx)) return type == SUP_SUPERVISOR ? SUP_INFINITY : 5000;
  if (lua_type(L, idx) == LUA_TSTRING && strcmp(lua_tostring(L, idx), "brutal_kill") == 0)
    return SUP_BRUTAL_KILL;
  if (lua_type(L, idx) == LUA_TSTRING && strcmp(lua_tostring(L, idx), "infinity") == 0)
    return SUP_INFINITY;
  ms = lua_tointegerx(L, idx, &isint);
  if (lua_type(L, idx) != LUA_TNUMBER || !isint || ms < 0)
    spec_error(L, fname, path, "expected \"brutal_kill\", \"infinity\" or a non-negative "
               "integer of milliseconds, got %s", shown(L, idx));
  return ms;
}

/* Reads the child spec at idx into cs. cs->id stays anchored by the spec
** table; the start term by a buffer userdata left on the stack top. */
static void read_child(lua_State *L, int idx, const char *fname, const char *path,
                       sup_childspec *cs) {
  static const char *const known[] = {"id", "start", "restart", "shutdown", "type", NULL};
  char sub[PATH_MAX_LEN];
  buf *start;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE)
    spec_error(L, fname, path, "expected a child spec (a table), got %s", shown(L, idx));
  known_fields(L, idx, known, fname, path);
  memset(cs, 0, sizeof *cs);
  lua_getfield(L, idx, "id");
  if (lua_isnil(L, -1))
    spec_error(L, fname, subpath(sub, path, ".id"), "missing (a non-empty string)");
  if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
    spec_error(L, fname, subpath(sub, path, ".id"), "expected a non-empty string, got %s",
               shown(L, -1));
  cs->id = lua_tostring(L, -1);         /* anchored by the spec table */
  lua_pop(L, 1);
  lua_getfield(L, idx, "restart");
  cs->restart = lua_isnil(L, -1) ? SUP_PERMANENT
              : one_of(L, -1, restarts, fname, subpath(sub, path, ".restart"),
                       "\"permanent\", \"transient\" or \"temporary\"");
  lua_getfield(L, idx, "type");
  cs->type = lua_isnil(L, -1) ? SUP_WORKER
           : one_of(L, -1, types, fname, subpath(sub, path, ".type"),
                    "\"worker\" or \"supervisor\"");
  lua_getfield(L, idx, "shutdown");
  cs->shutdown = read_shutdown(L, -1, fname, subpath(sub, path, ".shutdown"), cs->type);
  lua_pop(L, 3);
  if (lua_getfield(L, idx, "start") == LUA_TNIL)
    spec_error(L, fname, subpath(sub, path, ".start"), "missing ({module, fname, args...})");
  start = lbind_newbuf(L);
  read_start(L, -2, fname, subpath(sub, path, ".start"), start);
  lua_remove(L, -2);                    /* the start table; the buffer stays */
  cs->start = start->p;
  cs->startlen = start->n;
}

/* ---- the spec ---- */

static sup *check_core(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, CORE_META);
}

static int core_gc(lua_State *L) {
  sup_free(check_core(L, 1));
  return 0;
}

static const char *fname_arg(lua_State *L, int idx) {
  return luaL_optstring(L, idx, "start_link");
}

static int64_t read_period(lua_State *L, int spec, const char *fname) {
  int has_s = lua_getfield(L, spec, "period") != LUA_TNIL;
  int has_ms = lua_getfield(L, spec, "period_ms") != LUA_TNIL;
  int64_t ms = 5000;
  if (has_s && has_ms)
    spec_error(L, fname, "period", "give period (seconds) or period_ms, not both");
  if (has_ms) {
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (lua_type(L, -1) != LUA_TNUMBER || !isint || v < 1 || v > ((lua_Integer)1 << 50))
      spec_error(L, fname, "period_ms", "expected a positive integer of milliseconds, got %s",
                 shown(L, -1));
    ms = v;
  } else if (has_s) {
    double v = lua_tonumber(L, -2);
    if (lua_type(L, -2) != LUA_TNUMBER || !(v > 0) || v > 1e12)
      spec_error(L, fname, "period", "expected a positive number of seconds, got %s",
                 shown(L, -2));
    ms = (int64_t)llround(v * 1000);
    if (ms < 1)
      spec_error(L, fname, "period", "%s seconds is less than the clock's 1 ms", shown(L, -2));
  }
  lua_pop(L, 2);
  return ms;
}

static void read_children(lua_State *L, int spec, sup *s, const char *fname) {
  lua_Integer n = 0;
  int list;
  lua_getfield(L, spec, "children");
  list = lua_gettop(L);
  if (!lua_isnil(L, list) && (lua_type(L, list) != LUA_TTABLE || (n = sequence_length(L, list)) < 0))
    spec_error(L, fname, "children", "expected an array of child specs, got %s",
               lua_type(L, list) == LUA_TTABLE ? "a table with other keys" : shown(L, list));
  if (s->strategy == SUP_SIMPLE_ONE_FOR_ONE && n != 1)
    spec_error(L, fname, "children", "a simple_one_for_one supervisor has exactly one child "
               "spec (the template), got %I", n);
  for (lua_Integer i = 1; i <= n; i++) {
    sup_childspec cs;
    uint64_t key;
    int rc;
    char path[PATH_MAX_LEN], sub[PATH_MAX_LEN];
    snprintf(path, sizeof path, "children[%lld]", (long long)i);
    lua_rawgeti(L, list, i);
    read_child(L, -1, fname, path, &cs);
    rc = s->strategy == SUP_SIMPLE_ONE_FOR_ONE ? sup_set_template(s, &cs) : sup_add(s, &cs, &key);
    if (rc == SUP_EDUPLICATE)          /* keys were given 1, 2, ... in spec order */
      spec_error(L, fname, subpath(sub, path, ".id"), "duplicate id \"%s\" (children[%I] has it)",
                 cs.id, (lua_Integer)key);
    if (rc != SUP_OK) raise_plain(L, "heirloom.supervisor.%s: out of memory", fname);
    lua_pop(L, 2);                     /* the child spec, its start buffer */
  }
  lua_pop(L, 1);
}

/* new(spec [, fname]): a validated core. */
static int l_new(lua_State *L) {
  static const char *const known[] = {"name", "strategy", "intensity", "period", "period_ms",
                                      "children", NULL};
  const char *fname = fname_arg(L, 2);
  int strategy = SUP_ONE_FOR_ONE, isint;
  lua_Integer intensity = 1;
  int64_t period;
  sup *s;
  if (lua_type(L, 1) != LUA_TTABLE)
    return raise_plain(L, "heirloom.supervisor.%s: spec must be a table (got %s)", fname,
                 luaL_typename(L, 1));
  known_fields(L, 1, known, fname, "spec");
  if (lua_getfield(L, 1, "name") != LUA_TNIL &&
      (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0))
    spec_error(L, fname, "name", "expected a non-empty string, got %s", shown(L, -1));
  if (lua_getfield(L, 1, "strategy") != LUA_TNIL)
    strategy = one_of(L, -1, strategies, fname, "strategy",
                      "\"one_for_one\", \"one_for_all\", \"rest_for_one\" or "
                      "\"simple_one_for_one\"");
  if (lua_getfield(L, 1, "intensity") != LUA_TNIL) {
    intensity = lua_tointegerx(L, -1, &isint);
    if (lua_type(L, -1) != LUA_TNUMBER || !isint || intensity < 0 || intensity > 1000000)
      spec_error(L, fname, "intensity", "expected an integer from 0 to 1000000, got %s",
                 shown(L, -1));
  }
  lua_pop(L, 3);
  period = read_period(L, 1, fname);
  s = lua_newuserdatauv(L, sizeof *s, 0);
  sup_init(s, strategy, (int)intensity, period);
  luaL_setmetatable(L, CORE_META);
  read_children(L, 1, s, fname);
  return 1;
}

/* ---- children ---- */

static void push_pid_or_nil(lua_State *L, uint64_t pid) {
  if (pid == 0) lua_pushnil(L);
  else lhandle_push(L, TERM_PID, pid);
}

static uint64_t pid_of(lua_State *L, int idx) {
  int tag;
  uint64_t id;
  return lhandle_get(L, idx, &tag, &id) && tag == TERM_PID ? id : 0;
}

/* core:add(spec, fname): the new child's key; or nil, "already_present"
** or nil, "already_started", pid when the id is taken. */
static int l_add(lua_State *L) {
  sup *s = check_core(L, 1);
  const char *fname = luaL_checkstring(L, 3);
  sup_childspec cs;
  uint64_t key;
  int rc;
  read_child(L, 2, fname, "spec", &cs);
  rc = sup_add(s, &cs, &key);
  if (rc == SUP_EDUPLICATE) {
    uint64_t pid = sup_get(s, key)->pid;
    lua_pushnil(L);
    lua_pushstring(L, pid != 0 ? "already_started" : "already_present");
    push_pid_or_nil(L, pid);
    return 3;
  }
  if (rc != SUP_OK) return raise_plain(L, "heirloom.supervisor.%s: out of memory", fname);
  lua_pushinteger(L, (lua_Integer)key);
  return 1;
}

/* core:add_dynamic(args, fname): a simple_one_for_one child whose start is
** the template's followed by args (an array, or nil). */
static int l_add_dynamic(lua_State *L) {
  sup *s = check_core(L, 1);
  const char *fname = luaL_checkstring(L, 3);
  lua_Integer n = 0, base;
  char msg[300];
  buf *start;
  uint64_t key;
  if (!s->has_tmpl)
    return raise_plain(L, "heirloom.supervisor.%s: not a simple_one_for_one supervisor", fname);
  if (!lua_isnil(L, 2) && (lua_type(L, 2) != LUA_TTABLE || (n = sequence_length(L, 2)) < 0))
    return raise_plain(L, "heirloom.supervisor.%s: args must be an array of extra start "
                    "arguments for a simple_one_for_one supervisor (got %s)",
                 fname, lua_type(L, 2) == LUA_TTABLE ? "a table with other keys"
                                                     : luaL_typename(L, 2));
  if (lterm_decode(L, s->tmpl.start, s->tmpl.startlen) == 0)
    return raise_plain(L, "heirloom.supervisor.%s: the template's start does not decode", fname);
  base = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    lua_rawseti(L, -2, base + i);
  }
  start = lbind_newbuf(L);
  if (!lterm_encode(L, -2, start, "args", msg, sizeof msg))
    return raise_plain(L, "heirloom.supervisor.%s: %s", fname, msg);
  if (sup_add_dynamic(s, start->p, start->n, &key) != SUP_OK)
    return raise_plain(L, "heirloom.supervisor.%s: out of memory", fname);
  lua_pushinteger(L, (lua_Integer)key);
  return 1;
}

static uint64_t key_arg(lua_State *L, int idx) {
  return (uint64_t)luaL_checkinteger(L, idx);
}

/* Sets id, pid, type and restart of c in the table on top. */
static void set_child_fields(lua_State *L, const sup_child *c) {
  if (c->id != NULL) {
    lua_pushstring(L, c->id);
    lua_setfield(L, -2, "id");
  }
  push_pid_or_nil(L, c->pid);
  lua_setfield(L, -2, "pid");
  lua_pushstring(L, types[c->type]);
  lua_setfield(L, -2, "type");
  lua_pushstring(L, restarts[c->restart]);
  lua_setfield(L, -2, "restart");
}

static void push_child(lua_State *L, const sup_child *c) {
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, (lua_Integer)c->key);
  lua_setfield(L, -2, "key");
  set_child_fields(L, c);
  if (c->shutdown == SUP_BRUTAL_KILL) lua_pushliteral(L, "brutal_kill");
  else if (c->shutdown == SUP_INFINITY) lua_pushliteral(L, "infinity");
  else lua_pushinteger(L, (lua_Integer)c->shutdown);
  lua_setfield(L, -2, "shutdown");
  if (lterm_decode(L, c->start, c->startlen) == 0) lua_pushnil(L);
  lua_setfield(L, -2, "start");
}

/* core:child(key): {key, id, pid, restart, type, shutdown, start}, or nil. */
static int l_child(lua_State *L) {
  sup_child *c = sup_get(check_core(L, 1), key_arg(L, 2));
  if (c == NULL) lua_pushnil(L);
  else push_child(L, c);
  return 1;
}

/* core:find(id_or_pid): the key, or nil. */
static int l_find(lua_State *L) {
  sup *s = check_core(L, 1);
  sup_child *c;
  if (lua_type(L, 2) == LUA_TSTRING) c = sup_find_id(s, lua_tostring(L, 2));
  else c = sup_find_pid(s, pid_of(L, 2));
  if (c == NULL) lua_pushnil(L);
  else lua_pushinteger(L, (lua_Integer)c->key);
  return 1;
}

static int l_set_pid(lua_State *L) {
  sup_set_pid(check_core(L, 1), key_arg(L, 2), pid_of(L, 3));
  return 0;
}

static int l_remove(lua_State *L) {
  lua_pushboolean(L, sup_remove(check_core(L, 1), key_arg(L, 2)) == SUP_OK);
  return 1;
}

static int l_stopped(lua_State *L) {
  lua_pushboolean(L, sup_stopped(check_core(L, 1), key_arg(L, 2)));
  return 1;
}

/* ---- decisions ---- */

static void push_keys(lua_State *L, const uint64_t *keys, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)keys[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int push_plan(lua_State *L, sup_plan *plan) {
  push_keys(L, plan->stop, plan->nstop);
  push_keys(L, plan->start, plan->nstart);
  sup_plan_free(plan);
  return 2;
}

/* The class of the reason at idx (sup_reason_class). */
static int reason_class(lua_State *L, int idx) {
  buf b;
  char msg[8];
  int cls = SUP_EXIT_ABNORMAL;
  buf_init(&b);
  if (lterm_encode(L, idx, &b, "", msg, sizeof msg) && buf_ok(&b))
    cls = sup_reason_class(b.p, b.n);
  buf_free(&b);
  return cls;
}

/* core:exit(pid, reason, now_ms): action, key, report, stop keys, start
** keys. action: "unknown", "keep", "removed", "restart" or "give_up". */
static int l_exit(lua_State *L) {
  static const char *const actions[] = {"unknown", "keep", "removed", "restart", "give_up"};
  sup *s = check_core(L, 1);
  uint64_t key;
  int report;
  sup_plan plan;
  int action = sup_child_exit(s, pid_of(L, 2), reason_class(L, 3), luaL_checkinteger(L, 4),
                              &key, &report, &plan);
  if (action < 0) return raise_plain(L, "heirloom.supervisor: out of memory");
  lua_pushstring(L, actions[action]);
  lua_pushinteger(L, (lua_Integer)key);
  lua_pushboolean(L, report);
  return 3 + push_plan(L, &plan);
}

/* core:plan(key): stop keys, start keys. */
static int l_plan(lua_State *L) {
  sup_plan plan;
  int rc = sup_plan_restart(check_core(L, 1), key_arg(L, 2), &plan);
  if (rc == SUP_ENOMEM) return raise_plain(L, "heirloom.supervisor: out of memory");
  return push_plan(L, &plan);
}

static int l_record_restart(lua_State *L) {
  lua_pushboolean(L, sup_record_restart(check_core(L, 1), luaL_checkinteger(L, 2)));
  return 1;
}

static int l_shutdown_order(lua_State *L) {
  uint64_t *keys;
  size_t n = sup_shutdown_order(check_core(L, 1), &keys);
  if (n == (size_t)-1) return raise_plain(L, "heirloom.supervisor: out of memory");
  push_keys(L, keys, n);
  free(keys);
  return 1;
}

/* core:keys(): every child's key, in start order. */
static int l_keys(lua_State *L) {
  sup *s = check_core(L, 1);
  lua_createtable(L, (int)s->nchildren, 0);
  for (size_t i = 0; i < s->nchildren; i++) {
    lua_pushinteger(L, (lua_Integer)s->children[i].key);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* core:which(): {id, pid, type, restart} per child, in start order. */
static int l_which(lua_State *L) {
  sup *s = check_core(L, 1);
  lua_createtable(L, (int)s->nchildren, 0);
  for (size_t i = 0; i < s->nchildren; i++) {
    lua_createtable(L, 0, 4);
    set_child_fields(L, &s->children[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_count(lua_State *L) {
  sup_counts c;
  sup_count(check_core(L, 1), &c);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)c.specs);
  lua_setfield(L, -2, "specs");
  lua_pushinteger(L, (lua_Integer)c.active);
  lua_setfield(L, -2, "active");
  lua_pushinteger(L, (lua_Integer)c.supervisors);
  lua_setfield(L, -2, "supervisors");
  lua_pushinteger(L, (lua_Integer)c.workers);
  lua_setfield(L, -2, "workers");
  return 1;
}

/* core:info(): strategy, intensity, period_ms. */
static int l_info(lua_State *L) {
  sup *s = check_core(L, 1);
  lua_pushstring(L, strategies[s->strategy]);
  lua_pushinteger(L, s->intensity);
  lua_pushinteger(L, (lua_Integer)s->period_ms);
  return 3;
}

/* ---- reports, time ---- */

/* report(level, head [, reason]): one event of the node's log, from the
** calling supervisor, the reason formatted as a crash report formats it. */
static int l_report(lua_State *L) {
  lbind *b = lbind_running(L, "supervisor");
  int level = logger_level_of(luaL_checkstring(L, 1));
  const char *head = luaL_checkstring(L, 2);
  uint64_t pid = b->me != NULL ? b->me->pid : 0;
  char msg[8];
  lscratch *s;
  if (level < 0) return luaL_argerror(L, 1, "a log level");
  if (lua_isnoneornil(L, 3)) {
    logger_log(&b->node->log, level, pid, head);
    return 0;
  }
  s = lbind_borrow(L, b, "supervisor");
  if (!lterm_encode(L, 3, &s->in, "", msg, sizeof msg)) {
    buf_reset(&s->in);
    term_put_string(&s->in, "<a reason that is not a term>", 29);
  }
  logger_log_term(&b->node->log, level, pid, head, s->in.p, s->in.n);
  lscratch_return(s);
  return 0;
}

/* check_term(v, root): nil if v can be sent in a message, else why not
** ("<root>.start[3]: cannot encode a function"). */
static int l_check_term(lua_State *L) {
  char msg[300];
  buf b;
  int ok;
  luaL_checkany(L, 1);
  buf_init(&b);
  ok = lterm_encode(L, 1, &b, luaL_checkstring(L, 2), msg, sizeof msg);
  buf_free(&b);
  if (ok) lua_pushnil(L);
  else lua_pushstring(L, msg);
  return 1;
}

/* The node's clock (virtual in deterministic mode), for intensity windows. */
static int l_now(lua_State *L) {
  lbind *b = lbind_running(L, "supervisor");
  lua_pushinteger(L, (lua_Integer)sched_elapsed(b->node->sched));
  return 1;
}

static const luaL_Reg methods[] = {
  {"add", l_add},
  {"add_dynamic", l_add_dynamic},
  {"child", l_child},
  {"find", l_find},
  {"set_pid", l_set_pid},
  {"remove", l_remove},
  {"stopped", l_stopped},
  {"exit", l_exit},
  {"plan", l_plan},
  {"record_restart", l_record_restart},
  {"shutdown_order", l_shutdown_order},
  {"keys", l_keys},
  {"which", l_which},
  {"count", l_count},
  {"info", l_info},
  {NULL, NULL}
};

static const luaL_Reg functions[] = {
  {"new", l_new},
  {"report", l_report},
  {"check_term", l_check_term},
  {"now", l_now},
  {NULL, NULL}
};

void lsupervisor_open(lua_State *L) {
  if (luaL_newmetatable(L, CORE_META)) {
    lua_pushcfunction(L, core_gc);
    lua_setfield(L, -2, "__gc");
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, functions);
}
