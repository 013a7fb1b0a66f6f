/*
** llog.c — hl.log: hl.log.info("user %s logged in", name) writes one
** event to the node's log (logger.h) at that level, with the calling
** process's pid and the time. A line below the log's level costs a
** comparison: nothing is formatted. A value other than a string (a table
** of facts) is written as reports write reasons.
**
** hl.log.level(), hl.log.format() and hl.log.verbose() read the log's
** settings and, given a value, change them for the whole node;
** hl.log.brief(text) shortens a message as the log would.
*/
#include <lauxlib.h>
#include <string.h>

#include "lbind.h"
#include "llog.h"
#include "logger.h"
#include "lterm.h"
#include "node.h"

static logger *log_of(lua_State *L, const char *fname, uint64_t *pid) {
  lbind *b = lbind_running(L, fname);
  *pid = b->self;
  return &b->node->log;
}

/* Replaces the arguments with string.format(...) of them. */
static void format_message(lua_State *L) {
  lua_getglobal(L, "string");
  lua_getfield(L, -1, "format");
  lua_remove(L, -2);
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
}

static int log_at(lua_State *L, int level, const char *fname) {
  uint64_t pid;
  logger *lg = log_of(L, fname, &pid);
  int n = lua_gettop(L);
  char msg[300];
  if (n == 0) return luaL_error(L, "heirloom.%s: missing argument 'message'", fname);
  if (lua_type(L, 1) != LUA_TSTRING && n > 1)
    return luaL_error(L, "heirloom.%s: argument 1 must be a format string when more arguments "
                         "follow (got %s)", fname, luaL_typename(L, 1));
  if (!logger_wants(lg, level)) return 0;
  if (lua_type(L, 1) == LUA_TSTRING) {
    if (n > 1) format_message(L);
    logger_log(lg, level, pid, lua_tostring(L, 1));
  } else {
    buf term;
    buf_init(&term);
    if (!lterm_encode(L, 1, &term, "message", msg, sizeof msg)) {
      buf_free(&term);
      return luaL_error(L, "heirloom.%s: %s", fname, msg);
    }
    if (buf_ok(&term)) logger_log_term(lg, level, pid, "", term.p, term.n);
    buf_free(&term);
  }
  return 0;
}

static int l_debug(lua_State *L) { return log_at(L, LOGLEVEL_DEBUG, "log.debug"); }
static int l_info(lua_State *L) { return log_at(L, LOGLEVEL_INFO, "log.info"); }
static int l_notice(lua_State *L) { return log_at(L, LOGLEVEL_NOTICE, "log.notice"); }
static int l_warning(lua_State *L) { return log_at(L, LOGLEVEL_WARNING, "log.warning"); }
static int l_error(lua_State *L) { return log_at(L, LOGLEVEL_ERROR, "log.error"); }

/* level([new]): the level the log writes from ("debug" ... "error", or
** "none"); with new, sets it and returns the old one. */
static int l_level(lua_State *L) {
  uint64_t pid;
  logger *lg = log_of(L, "log.level", &pid);
  int old = logger_level(lg);
  if (!lua_isnoneornil(L, 1)) {
    int level = lua_type(L, 1) == LUA_TSTRING ? logger_level_of(lua_tostring(L, 1)) : -1;
    if (level < 0)
      return luaL_error(L, "heirloom.log.level: argument 1 must be \"debug\", \"info\", "
                           "\"notice\", \"warning\", \"error\" or \"none\" (got %s)",
                        luaL_tolstring(L, 1, NULL));
    logger_set_level(lg, level);
  }
  lua_pushstring(L, logger_level_name(old));
  return 1;
}

/* format([new]): "text" (one line per event) or "json" (one object per
** line); with new, sets it and returns the old one. */
static int l_format(lua_State *L) {
  static const char *const names[] = {"text", "json"};
  uint64_t pid;
  logger *lg = log_of(L, "log.format", &pid);
  int old = logger_format(lg);
  if (!lua_isnoneornil(L, 1)) {
    const char *s = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : "";
    if (strcmp(s, "text") == 0) logger_set_format(lg, LOGFORMAT_TEXT);
    else if (strcmp(s, "json") == 0) logger_set_format(lg, LOGFORMAT_JSON);
    else
      return luaL_error(L, "heirloom.log.format: argument 1 must be \"text\" or \"json\" (got %s)",
                        luaL_tolstring(L, 1, NULL));
  }
  lua_pushstring(L, names[old]);
  return 1;
}

/* verbose([on]): whether reasons are written in full (tracebacks, where a
** module was searched for); with on, sets it and returns the old value. */
static int l_verbose(lua_State *L) {
  uint64_t pid;
  logger *lg = log_of(L, "log.verbose", &pid);
  int old = logger_verbose(lg);
  if (!lua_isnoneornil(L, 1)) {
    if (!lua_isboolean(L, 1))
      return luaL_error(L, "heirloom.log.verbose: argument 1 must be a boolean (got %s)",
                        luaL_typename(L, 1));
    logger_set_verbose(lg, lua_toboolean(L, 1));
  }
  lua_pushboolean(L, old);
  return 1;
}

/* brief(text): text as the log writes a reason: a module search list
** cut, with a note, unless the log is verbose (the command's own messages
** follow the same rule through this). */
static int l_brief(lua_State *L) {
  uint64_t pid;
  logger *lg = log_of(L, "log.brief", &pid);
  size_t len, keep;
  const char *s;
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "heirloom.log.brief: argument 1 must be a string (got %s)",
                      luaL_typename(L, 1));
  s = lua_tolstring(L, 1, &len);
  keep = logger_verbose(lg) ? len : logger_before_search_list(s, len);
  if (keep == len) {
    lua_settop(L, 1);
    return 1;
  }
  lua_pushlstring(L, s, keep);
  lua_pushstring(L, logger_search_note);
  lua_concat(L, 2);
  return 1;
}

static const luaL_Reg functions[] = {
  {"debug", l_debug},
  {"info", l_info},
  {"notice", l_notice},
  {"warning", l_warning},
  {"error", l_error},
  {"level", l_level},
  {"format", l_format},
  {"verbose", l_verbose},
  {"brief", l_brief},
  {NULL, NULL}
};

void llog_open(lua_State *L) {
  luaL_newlib(L, functions);
}
