/*
** lintern.h — the values of a term that are their bytes alone: atoms, and
** the pids and refs of other nodes (term.h's TERM_ATOM, TERM_XPID,
** TERM_XREF). Each is a userdata holding its term, interned per Lua state
** by those bytes, so that the same atom (or remote pid) is always the same
** value: == works and it can be a table key.
*/
#ifndef HL_LINTERN_H
#define HL_LINTERN_H

#include <lua.h>
#include <stddef.h>

#define LINTERN_ATOM "heirloom.atom"
#define LINTERN_XPID "heirloom.xpid"
#define LINTERN_XREF "heirloom.xref"

/* Pushes the value of the canonical atom, xpid or xref term p[0..len)
** (the caller has read it with term_get_*). */
void lintern_push(lua_State *L, const unsigned char *p, size_t len);

/* If the value at idx is one of these, its term's bytes (*len of them;
** they live as long as the value) and 1; else 0. */
int lintern_get(lua_State *L, int idx, const unsigned char **p, size_t *len);

/* hl.kind's word for the value at idx ("atom", "pid", "ref"), or NULL. */
const char *lintern_kind(lua_State *L, int idx);

/* hl.atom(name): the atom of that name. */
int lintern_atom(lua_State *L);

#endif
