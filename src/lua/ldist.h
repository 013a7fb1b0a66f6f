/*
** ldist.h — Erlang distribution from Lua (docs/distribution.md): the dist
** option of heirloom.start and heirloom.send to {name, node}.
*/
#ifndef HL_LDIST_H
#define HL_LDIST_H

#include <lua.h>

#include "lbind.h"

/* Reads opts.dist of heirloom.start (opts at index opts), raising on a bad
** one: *name and *cookie (strings kept alive by opts; *cookie NULL when
** not given: ~/.erlang.cookie's), both NULL when there is no dist option. */
void ldist_options(lua_State *L, int opts, const char **name, const char **cookie);

/* Joins the cluster after the node n has started; on failure stops n and
** raises "heirloom.start: <why>" (dist.h's message). */
void ldist_start(lua_State *L, node *n, const char *name, const char *cookie);

/* heirloom.send({name, node}, message), the destination at index 1 and
** the message at index 2: returns the message, as send does. */
int ldist_send(lua_State *L, lbind *b);

#endif
