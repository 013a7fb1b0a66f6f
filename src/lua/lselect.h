/*
** lselect.h — the match-spec functions of heirloom.table (lselect.c).
*/
#ifndef HL_LSELECT_H
#define HL_LSELECT_H

#include <lua.h>

void lselect_open(lua_State *L);    /* the continuation metatable */
int lselect_match(lua_State *L);
int lselect_match_object(lua_State *L);
int lselect_match_delete(lua_State *L);
int lselect_select(lua_State *L);
int lselect_select_reverse(lua_State *L);
int lselect_select_count(lua_State *L);
int lselect_select_delete(lua_State *L);
int lselect_select_replace(lua_State *L);

#endif
