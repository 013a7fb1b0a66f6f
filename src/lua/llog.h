/*
** llog.h — hl.log: the application's lines in the node's log, and its
** level, format and verbosity at run time (llog.c).
*/
#ifndef HL_LLOG_H
#define HL_LLOG_H

#include <lua.h>

void llog_open(lua_State *L);     /* pushes the hl.log table */

#endif
