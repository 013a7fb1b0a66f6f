/*
** ldist.h — Erlang distribution from Lua (docs/distribution.md): the dist
** option of heirloom.start, heirloom.send to {name, node} and to another
** node's pid, and heirloom.ping.
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

/* 1 when the value at idx is a pid of another node (lintern.h). */
int ldist_is_remote_pid(lua_State *L, int idx);

/* heirloom.send(pid, message) for such a pid: the same as ldist_send. */
int ldist_send_pid(lua_State *L, lbind *b);

/* heirloom.ping(node): true when node "name@host" can be reached (a
** connection to it is up, or is made now), false otherwise. */
int ldist_ping(lua_State *L);

#endif
