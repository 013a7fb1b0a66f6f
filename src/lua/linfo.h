/*
** linfo.h — creating, finding and describing tables, and their ownership
** settings (linfo.c).
*/
#ifndef HL_LINFO_H
#define HL_LINFO_H

#include <lua.h>

int linfo_new(lua_State *L);
int linfo_whereis(lua_State *L);
int linfo_claim(lua_State *L);
int linfo_all(lua_State *L);
int linfo_info(lua_State *L);
int linfo_rename(lua_State *L);
int linfo_setopts(lua_State *L);
int linfo_give_away(lua_State *L);

#endif
