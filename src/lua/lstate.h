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

/* Appends the bytecode of the Lua function on top of L's stack, debug
** information included (tracebacks keep their file:line), to out. */
void lstate_dump(lua_State *L, buf *out);

#endif
