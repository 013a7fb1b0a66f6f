/*
** lstate.c — the Lua state a new process starts from.
**
** A process that waits in receive should cost little memory, so a new
** state holds only what every process needs: package (require and its
** searchers) and the heirloom module, itself filled on first use
** (lheirloom.c). The base library's functions (print, pairs, pcall, ...)
** and the other standard libraries (string, table, math, ...) appear the
** first time they are read: as globals (_G's __index), through require or
** package.loaded (its __index), or for string through a method call on a
** string value. pairs over _G or package.loaded first makes them all, and
** so does setmetatable on _G (the new metatable would hide ours): code
** sees the same globals and libraries as under plain lua.
**
** The base functions are C functions without upvalues: the node finds
** them once (in a state of its own, thrown away) and every state pushes
** them from that list.
**
** Lua modules are searched for and compiled once per node (codecache.c):
** this state's searcher for Lua files takes them from the cache while
** their source file is unchanged.
*/
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
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

static void push_filling(lua_State *L, lua_CFunction f);

/* debug, without sethook; its getmetatable and setmetatable as the base
** library's (filling, below). */
static int open_debug(lua_State *L) {
  static const char *const wrapped[] = {"getmetatable", "setmetatable", NULL};
  luaopen_debug(L);
  lua_pushcfunction(L, refuse_sethook);
  lua_setfield(L, -2, "sethook");
  for (int i = 0; wrapped[i] != NULL; i++) {
    lua_getfield(L, -1, wrapped[i]);
    push_filling(L, lua_tocfunction(L, -1));
    lua_setfield(L, -3, wrapped[i]);
    lua_pop(L, 1);
  }
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

/* Pushes t[name] of the table on top, without its __index. */
static int rawget_name(lua_State *L, const char *name) {
  lua_pushstring(L, name);
  return lua_rawget(L, -2);
}

/* Opens library l unless it is open already, as luaL_requiref(L, name, f,
** 1) would (package.loaded and the global), without reading
** package.loaded through its __index; pushes it. */
static void open_library(lua_State *L, const luaL_Reg *l) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (rawget_name(L, l->name) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushcfunction(L, l->func);
    lua_pushstring(L, l->name);
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, l->name);
    lua_pushglobaltable(L);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, l->name);
    lua_pop(L, 1);
  }
  lua_remove(L, -2);
}

/* ---- the base library's functions, found once ---- */

#define BASE_MAX 40

static struct {
  char name[16];
  lua_CFunction f;
} base_functions[BASE_MAX];
static int base_count;
static pthread_once_t base_once = PTHREAD_ONCE_INIT;

static int filling(lua_State *L);

/* Pushes f standing behind filling (below), with the lazy metatable. */
static void push_filling(lua_State *L, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_pushglobaltable(L);
  if (!lua_getmetatable(L, -1)) lua_pushnil(L);
  lua_remove(L, -2);
  lua_pushcclosure(L, filling, 2);
}

/* Runs once: base's functions, read from a state of its own. */
static void find_base_functions(void) {
  lua_State *L = luaL_newstate();
  if (L == NULL) return;
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0 && base_count < BASE_MAX) {
    size_t len;
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
    lua_CFunction f = lua_tocfunction(L, -1);
    if (name != NULL && f != NULL && len < sizeof base_functions[0].name) {
      memcpy(base_functions[base_count].name, name, len + 1);
      base_functions[base_count++].f = f;
    }
    lua_pop(L, 1);
  }
  lua_close(L);
}

static lua_CFunction find_base(const char *name) {
  for (int i = 0; i < base_count; i++)
    if (strcmp(base_functions[i].name, name) == 0) return base_functions[i].f;
  return NULL;
}

/* ---- the lazy globals ---- */

/* One metatable serves _G, package.loaded and, until the string library
** opens and puts its own in place, strings. Its __index makes each name
** once: a global that code has removed (print = nil, a sandbox's io =
** nil) stays removed. Upvalue 1 of lazy_index holds the names made, one
** bit each: */
#define BIT_G BASE_MAX                        /* base function i: bit i */
#define BIT_VERSION (BASE_MAX + 1)
#define BIT_LIBRARY (BASE_MAX + 2)            /* library j: bit BIT_LIBRARY + j */

static int first_time(lua_State *L, int bit) {
  lua_Integer made = lua_tointeger(L, lua_upvalueindex(1));
  if (made & ((lua_Integer)1 << bit)) return 0;
  lua_pushinteger(L, made | ((lua_Integer)1 << bit));
  lua_replace(L, lua_upvalueindex(1));
  return 1;
}

/* The bit of a global of the base library's (its functions, _G,
** _VERSION), or -1. */
static int base_bit(const char *name) {
  for (int i = 0; i < base_count; i++)
    if (strcmp(base_functions[i].name, name) == 0) return i;
  if (strcmp(name, LUA_GNAME) == 0) return BIT_G;
  if (strcmp(name, "_VERSION") == 0) return BIT_VERSION;
  return -1;
}

static void push_base(lua_State *L, int bit, const char *name) {
  if (bit == BIT_G) {
    lua_pushglobaltable(L);
  } else if (bit == BIT_VERSION) {
    lua_pushliteral(L, LUA_VERSION);
  } else if (strcmp(name, "getmetatable") == 0 || strcmp(name, "setmetatable") == 0) {
    push_filling(L, base_functions[bit].f);
  } else {
    lua_pushcfunction(L, base_functions[bit].f);
  }
}

/* Library l, opened if this is the first time; 0 (nothing pushed) if it
** was opened before: its absence now is code's doing. */
static int library_once(lua_State *L, const luaL_Reg *l) {
  if (!first_time(L, BIT_LIBRARY + (int)(l - lazy_libraries))) return 0;
  open_library(L, l);
  return 1;
}

/* A global of _G's: a base function or a library. */
static int global_index(lua_State *L, const char *name) {
  const luaL_Reg *l;
  int bit = base_bit(name);
  if (bit >= 0) {
    if (!first_time(L, bit)) return 0;
    push_base(L, bit, name);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
  }
  return (l = find_library(name)) != NULL && library_once(L, l);
}

/* A method of a string: opening the string library puts its own metatable
** in place; then the method is looked up there. */
static int string_index(lua_State *L) {
  if (!library_once(L, find_library(LUA_STRLIBNAME))) return 0;
  lua_pushvalue(L, 2);
  lua_gettable(L, -2);
  return 1;
}

static int is_global_table(lua_State *L, int idx) {
  int same;
  lua_pushglobaltable(L);
  same = lua_rawequal(L, idx, -1);
  lua_pop(L, 1);
  return same;
}

/* __index: of _G, of package.loaded (require("string") and friends), of
** a string. */
static int lazy_index(lua_State *L) {
  const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  const luaL_Reg *l;
  if (lua_type(L, 1) == LUA_TSTRING) return string_index(L);
  if (name == NULL) return 0;
  if (is_global_table(L, 1)) return global_index(L, name);
  return (l = find_library(name)) != NULL && library_once(L, l);
}

/* __newindex of _G: a lazy global assigned before it was read (dofile =
** nil) is made first, as if it had been there, so that it stays as
** assigned (and a library stays in package.loaded, as under plain lua). */
static int lazy_newindex(lua_State *L) {
  const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (name != NULL && (base_bit(name) >= 0 || find_library(name) != NULL)) {
    lua_getfield(L, 1, name);
    lua_pop(L, 1);
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 0;
}

/* Reads global name through _G's __index while it is ours (the metatable
** at index mt): a name not made yet is made. */
static void make_global(lua_State *L, int mt, const char *name) {
  lua_pushglobaltable(L);
  if (lua_getmetatable(L, -1)) {
    int ours = lua_rawequal(L, -1, mt);
    lua_pop(L, 1);
    if (ours) {
      lua_getfield(L, -1, name);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* Every lazy global made (metatable at index mt): what follows sees _G and
** package.loaded as if they had always been full. */
static void fill_globals(lua_State *L, int mt) {
  for (int i = 0; i < base_count; i++) make_global(L, mt, base_functions[i].name);
  make_global(L, mt, LUA_GNAME);
  make_global(L, mt, "_VERSION");
  for (const luaL_Reg *l = lazy_libraries; l->name != NULL; l++) make_global(L, mt, l->name);
}

/* __pairs: all made, then the table's own next (a string gets next too,
** which refuses it, as pairs without __pairs would). */
static int lazy_pairs(lua_State *L) {
  if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
    fill_globals(L, lua_gettop(L));
    lua_pop(L, 1);
  }
  lua_pushcfunction(L, find_base("next"));
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* Code that reads or replaces the metatable of _G, package.loaded or a
** string (strict-mode guards, string extensions) gets them as under plain
** lua: everything made, or the string library open. Upvalue 1: the
** function it stands for (getmetatable, setmetatable, or debug's);
** upvalue 2: the lazy metatable. */
static int filling(lua_State *L) {
  int t = lua_type(L, 1);
  if ((t == LUA_TSTRING || t == LUA_TTABLE) && lua_getmetatable(L, 1)) {
    if (lua_rawequal(L, -1, lua_upvalueindex(2))) {
      if (t == LUA_TSTRING) make_global(L, lua_gettop(L), LUA_STRLIBNAME);
      else fill_globals(L, lua_gettop(L));
    }
    lua_pop(L, 1);
  }
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

static void set_lazy_metatable(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, 0);               /* no name made yet */
  lua_pushcclosure(L, lazy_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lazy_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, lazy_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushglobaltable(L);
  lua_pushvalue(L, -2);
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushglobaltable(L);
  lua_setfield(L, -2, LUA_GNAME);      /* require "_G", as luaopen_base would */
  lua_pushvalue(L, -2);
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
  lua_pushliteral(L, "");
  lua_pushvalue(L, -2);
  lua_setmetatable(L, -2);
  lua_pop(L, 2);
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
  luaL_requiref(L, LUA_LOADLIBNAME, luaopen_package, 1);
  lua_pop(L, 1);
  set_searcher(L);
  set_lazy_metatable(L);
  luaL_requiref(L, "heirloom", luaopen_heirloom, 0);
  lua_pop(L, 1);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCCOLLECT);    /* a process starts without setup's garbage */
  return 0;
}

lua_State *lstate_new(lua_Alloc alloc, void *ud) {
  lua_State *L;
  pthread_once(&base_once, find_base_functions);
  if (base_count == 0) return NULL;
  L = lua_newstate(alloc, ud);
  if (L == NULL) return NULL;
  lua_pushcfunction(L, open_state);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    return NULL;
  }
  return L;
}
