/*
** lstate.h — the Lua state a new process starts from (lstate.c).
*/
#ifndef HL_LSTATE_H
#define HL_LSTATE_H

#include <lua.h>

#include "buf.h"

/* A state with the base library, package and heirloom opened (heirloom
** not yet bound to a node) and the other standard libraries opened on
** first use. NULL when memory runs out. */
lua_State *lstate_new(lua_Alloc alloc, void *ud);

/* While the registry holds a table under this key, each Lua module the
** state loads through package.searchers is noted there: its file name ->
** the cc_stamp (codecache.h) its code was compiled from, as a string of
** sizeof(cc_stamp) bytes, or false when the file could not be stamped. */
#define LSTATE_LOADS "heirloom.loads"

/* Appends the bytecode of the Lua function on top of L's stack, debug
** information included (tracebacks keep their file:line), to out. */
void lstate_dump(lua_State *L, buf *out);

#endif
