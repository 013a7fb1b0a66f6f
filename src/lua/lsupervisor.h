/*
** lsupervisor.h — the supervisor's decision core for Lua (lsupervisor.c).
*/
#ifndef HL_LSUPERVISOR_H
#define HL_LSUPERVISOR_H

#include <lua.h>

/* Pushes the table that heirloom exposes as hl._supervisor_core. */
void lsupervisor_open(lua_State *L);

#endif
