/*
** lsim.h — the node's clock and trace from Lua (lsim.c).
*/
#ifndef HL_LSIM_H
#define HL_LSIM_H

#include <lua.h>

#include <lauxlib.h>

/* now, monotime, advance, trace_hash and trace, for the module's fields. */
extern const luaL_Reg lsim_functions[];

#endif
