/*
** lremote.h — heirloom.link, unlink, monitor, demonitor and exit of
** processes of other nodes (lremote.c), called by lproc.c when the
** argument at index 1 is another node's pid (or {name, node} for
** monitor). Each raises as the local call would.
*/
#ifndef HL_LREMOTE_H
#define HL_LREMOTE_H

#include <lua.h>

#include "lbind.h"
#include "proc.h"

/* 1 when the value at idx is a pid of another node. */
int lremote_is_pid(lua_State *L, int idx);

int lremote_link(lua_State *L, int unlink);   /* link(pid) or unlink(pid) */
int lremote_monitor(lua_State *L);            /* monitor(pid or {name, node}) */
int lremote_exit(lua_State *L);               /* exit(pid, reason) */

/* Withdraws p's monitor ref if it is of a remote process (no DOWN for it
** comes after); nothing otherwise. */
void lremote_demonitor(lua_State *L, node *n, proc *p, uint64_t ref);

#endif
