/*
** cli_lib.c — loads src/cli_lib.lua, which the Makefile turns into the
** string literal build/cli_lib.inc, so the command needs no Lua file of
** its own at run time.
*/
#include <lauxlib.h>

#include "cli_lib.h"

static const char lib_code[] =
#include "cli_lib.inc"
    ;

#define LIB_NAME "heirloom.cli"

int cli_lib_open(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, LIB_NAME) == LUA_TTABLE) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 1);
  if (luaL_loadbufferx(L, lib_code, sizeof lib_code - 1, "=heirloom.cli", "t") != LUA_OK ||
      lua_pcall(L, 0, 1, 0) != LUA_OK) {
    lua_remove(L, -2);
    return 0;
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, LIB_NAME);
  lua_remove(L, -2);
  return 1;
}

/* The library raises messages meant for the user: no traceback. */
static int message(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) return 1;
  if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
  lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  return 1;
}

int cli_lib_call(lua_State *L, const char *name, int nargs, int nres) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, message);
  if (!cli_lib_open(L)) {
    lua_remove(L, -2);
    return 0;
  }
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_rotate(L, base + 1, 2);          /* handler, function, args */
  if (lua_pcall(L, nargs, nres, base + 1) != LUA_OK) {
    lua_remove(L, base + 1);
    return 0;
  }
  lua_remove(L, base + 1);
  return 1;
}
