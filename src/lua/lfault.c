/*
** lfault.c — heirloom.fault{ store_write = rate }: from now on each write
** of a durable table's change to the store fails with probability rate,
** drawn from the node's seeded stream (node.h, fault.h), so that a run
** under one seed fails the same writes. What a failed write leaves is the
** durable tables' promise (edurable.h); this file only checks the plan.
*/
#include <lauxlib.h>
#include <math.h>
#include <string.h>

#include "lbind.h"
#include "lfault.h"

static const char *const kinds[] = {"store_write", NULL};

static double rate_of(lua_State *L, const char *kind) {
  double rate;
  if (lua_type(L, -1) != LUA_TNUMBER)
    luaL_error(L, "heirloom.fault: %s must be a number from 0 to 1, not a %s", kind,
               luaL_typename(L, -1));
  rate = lua_tonumber(L, -1);
  if (isnan(rate))
    luaL_error(L, "heirloom.fault: %s must be a number from 0 to 1, not NaN", kind);
  if (!(rate >= 0 && rate <= 1))
    luaL_error(L, "heirloom.fault: %s must be a number from 0 to 1, not %s", kind,
               luaL_tolstring(L, -1, NULL));
  return rate;
}

/* The whole plan is checked before any of it applies. */
static int l_fault(lua_State *L) {
  lbind *b;
  double store_write = -1;
  if (lua_type(L, 1) != LUA_TTABLE)
    return luaL_error(L, "heirloom.fault: argument 1 must be a table (a fault plan), not a %s",
                      luaL_typename(L, 1));
  b = lbind_running(L, "fault");
  lua_settop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    if (k == NULL || strcmp(k, kinds[0]) != 0)
      return luaL_error(L, "heirloom.fault: unknown fault %s%s%s (known: store_write)",
                        k != NULL ? "'" : "", k != NULL ? k : luaL_typename(L, -2),
                        k != NULL ? "'" : "");
    store_write = rate_of(L, k);
    lua_settop(L, 2);
  }
  if (store_write >= 0) fault_set(&b->node->tables.store_faults, store_write);
  return 0;
}

void lfault_push(lua_State *L) {
  lua_pushcfunction(L, l_fault);
}
