/*
** llist.c — lists in Lua (llist.h). The metatable has no metamethods: a
** list is indexed, iterated and measured as any table; only its identity
** matters. It is kept in the registry under a light userdata key, so that
** asking whether a table is a list allocates nothing.
*/
#include <lauxlib.h>

#include "llist.h"

static const char list_key = 0;

int llist_is(lua_State *L, int idx) {
  int is;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &list_key);
  is = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return is;
}

void llist_mark(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &list_key) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "heirloom.list");
    lua_setfield(L, -2, "__name");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &list_key);
  }
  lua_setmetatable(L, -2);
}

/* 1 when every key of the table at idx is a positive integer (a nil
** element is a hole: the list's length is its largest index). */
static int has_index_keys(lua_State *L, int idx) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
      lua_pop(L, 1);
      return 0;
    }
  }
  return 1;
}

int llist_new(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  } else if (lua_type(L, 1) != LUA_TTABLE) {
    return luaL_error(L, "heirloom.list: argument 1 (t) must be a table (got %s)",
                      luaL_typename(L, 1));
  } else if (!llist_is(L, 1) && lua_getmetatable(L, 1)) {
    return luaL_error(L, "heirloom.list: argument 1 (t) already has a metatable");
  } else if (!has_index_keys(L, 1)) {
    return luaL_error(L, "heirloom.list: argument 1 (t) must have only positive integer keys");
  }
  lua_settop(L, 1);
  luaL_checkstack(L, 2, "heirloom.list");
  llist_mark(L);
  return 1;
}
