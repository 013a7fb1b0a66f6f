/*
** lfault.h — heirloom.fault: faults a test injects on purpose
** (docs/durability.md, "Injected write failures").
*/
#ifndef HL_LFAULT_H
#define HL_LFAULT_H

#include <lua.h>

/* Adds fault to the module table on the stack top. */
void lfault_open(lua_State *L);

#endif
