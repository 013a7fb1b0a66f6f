/*
** lstore.h — the Lua side of the store (lstore.c).
*/
#ifndef HL_LSTORE_H
#define HL_LSTORE_H

#include <lua.h>

#include "etab.h"

/* Pushes the hl.store library (built when hl.store is first read). */
void lstore_open(lua_State *L);
/* Adds file2tab and tabfile_info to the hl.table module on top. */
void lstore_table_functions(lua_State *L);
/* t:tab2file(path) */
int lstore_tab2file(lua_State *L);
/* Pushes a durable table's sync ("none", "always" or ms), or nil. */
void lstore_push_sync(lua_State *L, etab *t);
/* The sync value at idx ("none", "always" or ms), dflt when nil; raises
** naming fname. */
int lstore_sync_arg(lua_State *L, int idx, const char *fname, int dflt);

#endif
