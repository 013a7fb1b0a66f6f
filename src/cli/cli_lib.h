/*
** cli_lib.h — the Lua half of the heirloom command (src/cli_lib.lua,
** compiled in): application files, the run loop, the shell's helpers.
*/
#ifndef CLI_LIB_H
#define CLI_LIB_H

#include <lua.h>

/* Loads the library into package.loaded["heirloom.cli"] and pushes it.
** The heirloom module must be requirable. Returns 0 (message pushed) if
** the library does not load. */
int cli_lib_open(lua_State *L);

/* Calls cli.NAME with nargs arguments from the stack top, leaving nres
** results; on error returns 0 and leaves the message (a string). */
int cli_lib_call(lua_State *L, const char *name, int nargs, int nres);

#endif
