/*
** ldist.c — Erlang distribution from Lua: reading heirloom.start's dist
** option and sending to a name on another node. What a message becomes on
** the wire is dist_term.h's; joining and connections are dist.c's.
*/
#include <lauxlib.h>
#include <string.h>

#include "dist.h"
#include "ldist.h"
#include "lintern.h"
#include "lproc.h"
#include "term.h"

static const char *string_field(lua_State *L, int t, const char *field) {
  if (lua_getfield(L, t, field) != LUA_TSTRING || lua_rawlen(L, -1) == 0 ||
      strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1))
    luaL_error(L, "heirloom.start: opts.dist.%s must be a non-empty string", field);
  return lua_tostring(L, -1);   /* kept alive by opts */
}

void ldist_options(lua_State *L, int opts, const char **name, const char **cookie) {
  int t, top = lua_gettop(L);
  *name = *cookie = NULL;
  if (lua_getfield(L, opts, "dist") == LUA_TNIL) {
    lua_settop(L, top);
    return;
  }
  if (!lua_istable(L, -1))
    luaL_error(L, "heirloom.start: opts.dist must be a table {name = \"name@host\", "
                  "cookie = \"...\"}");
  t = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (strcmp(k, "name") != 0 && strcmp(k, "cookie") != 0)
      luaL_error(L, "heirloom.start: unknown option dist.%s (dist takes name and cookie)",
                 lua_type(L, -2) == LUA_TSTRING ? k : luaL_typename(L, -2));
    lua_pop(L, 1);
  }
  *name = string_field(L, t, "name");
  lua_getfield(L, t, "cookie");
  if (!lua_isnil(L, -1)) *cookie = string_field(L, t, "cookie");   /* nil: ~/.erlang.cookie */
  lua_settop(L, top);
}

void ldist_start(lua_State *L, node *n, const char *name, const char *cookie) {
  hl_err e;
  err_clear(&e);
  if (dist_start(n, name, cookie, &e) != HL_OK) {
    node_stop(n, NULL, 0);
    luaL_error(L, "heirloom.start: %s", e.msg);
  }
}

int ldist_send(lua_State *L, lbind *b) {
  const char *name, *to;
  hl_err e;
  lscratch *s;
  hl_status st;
  lua_rawgeti(L, 1, 1);
  lua_rawgeti(L, 1, 2);
  name = lua_tostring(L, -2);
  to = lua_tostring(L, -1);
  if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, 1) != 2)
    return luaL_error(L, "heirloom.send: destination must be a pid, a registered name, or "
                         "{name, \"node@host\"} for a name on another node");
  if (lua_isnone(L, 2)) return luaL_error(L, "heirloom.send: missing argument 'message'");
  s = lproc_encode_arg(L, b, 2, "message", "send");
  err_clear(&e);
  st = dist_send_name(b->node, name, to, s->in.p, s->in.n, &e);
  lscratch_return(s);
  if (st != HL_OK) return luaL_error(L, "heirloom.send: %s", e.msg);
  lua_settop(L, 2);
  return 1;
}

int ldist_is_remote_pid(lua_State *L, int idx) {
  const unsigned char *p;
  size_t len;
  return lintern_get(L, idx, &p, &len) && p[0] == TERM_XPID;
}

int ldist_send_pid(lua_State *L, lbind *b) {
  const unsigned char *pid;
  size_t pidlen;
  hl_err e;
  lscratch *s;
  hl_status st;
  lintern_get(L, 1, &pid, &pidlen);
  if (lua_isnone(L, 2)) return luaL_error(L, "heirloom.send: missing argument 'message'");
  s = lproc_encode_arg(L, b, 2, "message", "send");
  err_clear(&e);
  st = dist_send_pid(b->node, pid, pidlen, s->in.p, s->in.n, &e);
  lscratch_return(s);
  if (st != HL_OK) return luaL_error(L, "heirloom.send: %s", e.msg);
  lua_settop(L, 2);
  return 1;
}

int ldist_ping(lua_State *L) {
  lbind *b;
  const char *to;
  lproc_me(L, "ping", &b);
  if (lua_type(L, 1) != LUA_TSTRING || strchr(lua_tostring(L, 1), '@') == NULL)
    return luaL_error(L, "heirloom.ping: argument 1 (node) must be \"name@host\" (got %s)",
                      luaL_typename(L, 1));
  to = lua_tostring(L, 1);
  lua_pushboolean(L, dist_reachable(b->node, to));
  return 1;
}
