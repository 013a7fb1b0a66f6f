/*
** lfault.h — heirloom.fault: faults a test injects on purpose
** (docs/durability.md, "Injected write failures").
*/
#ifndef HL_LFAULT_H
#define HL_LFAULT_H

#include <lua.h>

/* Pushes heirloom.fault (the module opens it on first use). */
void lfault_push(lua_State *L);

#endif
