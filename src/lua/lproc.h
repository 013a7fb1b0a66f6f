/*
** lproc.h — the process functions of the heirloom module (lproc.c,
** lspawn.c).
*/
#ifndef HL_LPROC_H
#define HL_LPROC_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>


/* Adds self, send, receive, links, monitors, names, timers... to the
** module table on the stack top. */
void lproc_open(lua_State *L);
/* Adds spawn, spawn_link, spawn_opt. */
void lspawn_open(lua_State *L);

#endif
