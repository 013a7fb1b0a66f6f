/*
** lstate.c — the Lua state a new process starts from.
**
** A process that waits in receive should cost little memory, so only the
** base library, package and heirloom are opened at once. The other
** standard libraries (string, table, math, ...) open on first use: through
** their global name, through require, or for string through a method call
** on a string value. Code sees the same libraries as under plain lua.
**
** Lua modules are searched for and compiled once per node (codecache.c):
** this state's searcher for Lua files takes them from the cache while
** their source file is unchanged.
*/
#include <lauxlib.h>
#include <lualib.h>
#include <string.h>
#include <sys/stat.h>

#include "codecache.h"
#include "lbind.h"
#include "lbody.h"
#include "lcoro.h"
#include "lstate.h"
#include "node.h"

int luaopen_heirloom(lua_State *L);

/* math, seeded from the node's seed and the pid when the node has one
** (hl.start{seed = n}): a deterministic run then draws the same numbers
** every time, and two processes do not draw the same ones. */
static int open_math(lua_State *L) {
  lbind *b = lbind_get(L);
  luaopen_math(L);
  if (b != NULL && b->node != NULL && b->node->cfg.seed != 0) {
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, (lua_Integer)b->node->cfg.seed);
    lua_pushinteger(L, (lua_Integer)b->self);
    lua_call(L, 2, 0);
  }
  return 1;
}

/* The scheduler's count hook preempts a process and carries out its exit
** (scheduler.c), and coroutines inherit it: a process may not remove or
** replace it. */
static int refuse_sethook(lua_State *L) {
  return luaL_error(L, "debug.sethook: a process cannot set or clear hooks (heirloom's "
                       "scheduler hook preempts it and carries out its exit)");
}

/* debug, without sethook. */
static int open_debug(lua_State *L) {
  luaopen_debug(L);
  lua_pushcfunction(L, refuse_sethook);
  lua_setfield(L, -2, "sethook");
  return 1;
}

static const luaL_Reg lazy_libraries[] = {
  {LUA_COLIBNAME, lcoro_open},
  {LUA_TABLIBNAME, luaopen_table},
  {LUA_IOLIBNAME, luaopen_io},
  {LUA_OSLIBNAME, luaopen_os},
  {LUA_STRLIBNAME, luaopen_string},
  {LUA_MATHLIBNAME, open_math},
  {LUA_UTF8LIBNAME, luaopen_utf8},
  {LUA_DBLIBNAME, open_debug},
  {NULL, NULL}
};

static const luaL_Reg *find_library(const char *name) {
  for (const luaL_Reg *l = lazy_libraries; l->name != NULL; l++)
    if (strcmp(l->name, name) == 0) return l;
  return NULL;
}

/* _G's __index: opens a library the first time its name is read. Other
** missing globals stay nil, as usual. */
static int global_index(lua_State *L) {
  const luaL_Reg *l = lua_type(L, 2) == LUA_TSTRING ? find_library(lua_tostring(L, 2)) : NULL;
  if (l == NULL) return 0;
  luaL_requiref(L, l->name, l->func, 1);
  return 1;
}

/* The string metatable's first __index: opening the string library puts
** its own metatable in place; then the method is looked up there. */
static int string_index(lua_State *L) {
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  lua_pushvalue(L, 2);
  lua_gettable(L, -2);
  return 1;
}

static void set_lazy_globals(lua_State *L) {
  lua_pushglobaltable(L);
  lua_newtable(L);
  lua_pushcfunction(L, global_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
}

static void set_lazy_strings(lua_State *L) {
  lua_pushliteral(L, "");
  lua_newtable(L);
  lua_pushcfunction(L, string_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
}

/* require("math") and friends find the libraries in package.preload. */
static void set_preload(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const luaL_Reg *l = lazy_libraries; l->name != NULL; l++) {
    lua_pushcfunction(L, l->func);
    lua_setfield(L, -2, l->name);
  }
  lua_pop(L, 1);
}

/* ---- Lua modules through the node's code cache ---- */

static int file_stamp(const char *file, cc_stamp *out) {
  struct stat st;
  if (stat(file, &st) != 0) return 0;
  out->size = (int64_t)st.st_size;
  out->mtime = st.st_mtim;
  return 1;
}

static int same_stamp(const cc_stamp *a, const cc_stamp *b) {
  return a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
         a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
  (void)L;
  buf_put(ud, p, sz);
  return 0;
}

void lstate_dump(lua_State *L, buf *out) {
  lua_dump(L, dump_writer, out, 0);
}

/* Notes the file a module was loaded from in the registry's LSTATE_LOADS
** table, when there is one (a top level run ahead of time, lready.c):
** file -> its stamp (the bytes of a cc_stamp), or false when it has none. */
static void note_load(lua_State *L, const char *file, const cc_stamp *stamp) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, LSTATE_LOADS) == LUA_TTABLE) {
    if (stamp != NULL) lua_pushlstring(L, (const char *)stamp, sizeof *stamp);
    else lua_pushboolean(L, 0);
    lua_setfield(L, -2, file);
  }
  lua_pop(L, 1);
}

/* The chunk cached for name on path, pushed with its file name, if its
** source is unchanged. */
static int from_cache(lua_State *L, codecache *cc, const char *name, const char *path) {
  buf file, code;
  cc_stamp then, now;
  int found;
  buf_init(&file);
  buf_init(&code);
  found = codecache_get(cc, name, path, &file, &then, &code) &&
          file_stamp((const char *)file.p, &now) && same_stamp(&then, &now) &&
          luaL_loadbufferx(L, (const char *)code.p, code.n, name, "b") == LUA_OK;
  if (found) {
    lua_pushstring(L, (const char *)file.p);
    note_load(L, (const char *)file.p, &then);
  }
  buf_free(&file);
  buf_free(&code);
  return found;
}

/* Compiles the file found for name and leaves the result in the cache
** (cc NULL: none, the state is not bound to a node yet); pushes the chunk
** and the file name, as Lua's own searcher does. */
static int compile(lua_State *L, codecache *cc, const char *name, const char *path,
                   const char *file) {
  cc_stamp stamp;
  int ok = cc != NULL && file_stamp(file, &stamp);
  if (luaL_loadfilex(L, file, NULL) != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file,
                      lua_tostring(L, -1));
  if (ok) {
    buf code;
    buf_init(&code);
    lstate_dump(L, &code);
    if (buf_ok(&code)) codecache_put(cc, name, path, file, &stamp, code.p, code.n);
    buf_free(&code);
  }
  lua_pushstring(L, file);
  note_load(L, file, ok ? &stamp : NULL);
  return 2;
}

/* Takes the place of Lua's searcher for Lua files; upvalue 1: package. */
static int search_lua(lua_State *L) {
  const char *name = luaL_checkstring(L, 1), *path;
  lbind *b = lbind_get(L);
  codecache *cc = b != NULL && b->node != NULL ? lbody_code(b->node) : NULL;
  lua_getfield(L, lua_upvalueindex(1), "path");
  path = lua_tostring(L, -1);
  if (path == NULL) return luaL_error(L, "'package.path' must be a string");
  if (cc != NULL && from_cache(L, cc, name, path)) return 2;
  lua_getfield(L, lua_upvalueindex(1), "searchpath");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -3);
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) return 1;          /* the "no file" lines */
  return compile(L, cc, name, path, lua_tostring(L, -2));
}

static void set_searcher(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, LUA_LOADLIBNAME);
  lua_getfield(L, -1, "searchers");
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, search_lua, 1);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 3);
}

static int open_state(lua_State *L) {
  /* Setup makes little garbage: collecting bit by bit as it goes would
  ** cost more than the one collection at the end. */
  lua_gc(L, LUA_GCSTOP);
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L, LUA_LOADLIBNAME, luaopen_package, 1);
  lua_pop(L, 2);
  set_searcher(L);
  set_preload(L);
  set_lazy_globals(L);
  set_lazy_strings(L);
  luaL_requiref(L, "heirloom", luaopen_heirloom, 0);
  lua_pop(L, 1);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCCOLLECT);    /* a process starts without setup's garbage */
  return 0;
}

lua_State *lstate_new(lua_Alloc alloc, void *ud) {
  lua_State *L = lua_newstate(alloc, ud);
  if (L == NULL) return NULL;
  lua_pushcfunction(L, open_state);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    return NULL;
  }
  return L;
}
