/*
** lheirloom.c — the Lua module `heirloom`: starting and stopping a node
** from Lua, the calling process's identity, and the per-state record the
** other binding files share (lbind.h).
*/
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "heirloom.h"
#include "lbind.h"
#include "lhandle.h"
#include "term.h"

#define LBIND_KEY "heirloom.state"
#define LBUF_META "heirloom.buffer"

/* ---- the per-state record ---- */

static int lbind_gc(lua_State *L) {
  lbind *b = lua_touserdata(L, 1);
  if (b->node != NULL) {
    if (b->attached) node_unref(b->node);
    else node_stop(b->node);
    b->node = NULL;
  }
  buf_free(&b->in);
  buf_free(&b->out);
  return 0;
}

lbind *lbind_get(lua_State *L) {
  lbind *b;
  lua_getfield(L, LUA_REGISTRYINDEX, LBIND_KEY);
  b = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return b;
}

lbind *lbind_running(lua_State *L, const char *fname) {
  lbind *b = lbind_get(L);
  if (b == NULL || b->node == NULL)
    luaL_error(L, "heirloom.%s: the node is not started (call heirloom.start first)", fname);
  return b;
}

int lbind_error(lua_State *L, const char *fname, const char *msg) {
  return luaL_error(L, "heirloom.%s: %s", fname, msg);
}

static int lbuf_gc(lua_State *L) {
  buf_free(luaL_checkudata(L, 1, LBUF_META));
  return 0;
}

buf *lbind_newbuf(lua_State *L) {
  buf *b = lua_newuserdatauv(L, sizeof(buf), 0);
  buf_init(b);
  luaL_setmetatable(L, LBUF_META);
  return b;
}

static lbind *create_record(lua_State *L) {
  lbind *b = lbind_get(L);
  if (b != NULL) return b;
  b = lua_newuserdatauv(L, sizeof(lbind), 0);
  memset(b, 0, sizeof *b);
  buf_init(&b->in);
  buf_init(&b->out);
  lua_newtable(L);
  lua_pushcfunction(L, lbind_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, LBIND_KEY);
  if (luaL_newmetatable(L, LBUF_META)) {
    lua_pushcfunction(L, lbuf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  return b;
}

/* ---- start, stop, self ---- */

static int opt_integer(lua_State *L, int opts, const char *field, lua_Integer dflt) {
  lua_Integer v;
  int isnum;
  if (lua_getfield(L, opts, field) == LUA_TNIL) {
    lua_pop(L, 1);
    return (int)dflt;
  }
  v = lua_tointegerx(L, -1, &isnum);
  if (!isnum || v < 0 || v > 1024)
    luaL_error(L, "heirloom.start: opts.%s must be an integer from 0 to 1024", field);
  lua_pop(L, 1);
  return (int)v;
}

static void check_start_opts(lua_State *L, int opts) {
  lua_pushnil(L);
  while (lua_next(L, opts) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    if (k == NULL || (strcmp(k, "schedulers") != 0 && strcmp(k, "data_dir") != 0))
      luaL_error(L, "heirloom.start: unknown option '%s'",
                 k != NULL ? k : luaL_typename(L, -2));
    lua_pop(L, 1);
  }
}

static int l_start(lua_State *L) {
  lbind *b = create_record(L);
  hl_config cfg = {0, NULL};
  node *n;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    check_start_opts(L, 1);
    cfg.schedulers = opt_integer(L, 1, "schedulers", 0);
    if (lua_getfield(L, 1, "data_dir") != LUA_TNIL)
      return luaL_error(L, "heirloom.start: opts.data_dir: durable storage is not "
                           "available in this version");
    lua_pop(L, 1);
  }
  if (b->node != NULL) return luaL_error(L, "heirloom.start: the node is already running");
  n = node_new(&cfg);
  if (n == NULL) return luaL_error(L, "heirloom.start: out of memory");
  lhandle_reset(L);
  b->node = n;
  b->attached = 0;
  b->self = n->host_pid;
  return 0;
}

static int l_stop(lua_State *L) {
  lbind *b = lbind_get(L);
  if (b == NULL || b->node == NULL) return 0;
  if (b->attached) node_unref(b->node);
  else node_stop(b->node);
  b->node = NULL;
  lhandle_reset(L);
  return 0;
}

static int l_self(lua_State *L) {
  lbind *b = lbind_running(L, "self");
  lhandle_push(L, TERM_PID, b->self);
  return 1;
}

static const luaL_Reg functions[] = {
  {"start", l_start},
  {"stop", l_stop},
  {"self", l_self},
  {NULL, NULL}
};

int luaopen_heirloom(lua_State *L) {
  create_record(L);
  lhandle_open(L);
  luaL_newlib(L, functions);
  lbind_open_table(L);
  lua_setfield(L, -2, "table");
  lua_pushliteral(L, HL_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}

int hl_lua_attach(lua_State *L, hl_node *n) {
  lbind *b;
  luaL_requiref(L, "heirloom", luaopen_heirloom, 0);
  b = lbind_get(L);
  if (b->node != NULL) {
    if (b->attached) node_unref(b->node);
    else node_stop(b->node);
  }
  node_ref(n);
  b->node = n;
  b->attached = 1;
  b->self = n->host_pid;
  return 1;
}
