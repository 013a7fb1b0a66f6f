/*
** lsim.h — the node's clock and trace from Lua (lsim.c).
*/
#ifndef HL_LSIM_H
#define HL_LSIM_H

#include <lua.h>

/* Adds now, monotime, advance, trace_hash and trace to the module table
** on the stack top. */
void lsim_open(lua_State *L);

#endif
