/*
** lsim.h — the node's clock and trace from Lua (lsim.c).
*/
#ifndef HL_LSIM_H
#define HL_LSIM_H

#include <lua.h>

/* Adds now to the module table on the stack top. */
void lsim_open(lua_State *L);
/* Pushes monotime, advance, trace_hash or trace, as key says, for the
** module's __index; 0 (nothing pushed) for any other key. */
int lsim_push(lua_State *L, const char *key);

#endif
