/*
** llist.h — lists in Lua: tables that carry the one list metatable.
**
** A list term (term.h) decodes as a table with this metatable, and a table
** with it encodes as a list; any other table is an array or a map, as
** always (docs/term-format.md, "Lists").
*/
#ifndef HL_LLIST_H
#define HL_LLIST_H

#include <lua.h>

/* 1 when the value at idx is a table whose metatable is the list one.
** Never allocates nor raises, so the encoder may ask. */
int llist_is(lua_State *L, int idx);

/* Gives the table at the stack top the list metatable (made on first
** use). Needs 2 free stack slots. */
void llist_mark(lua_State *L);

/* hl.list([t]) */
int llist_new(lua_State *L);

#endif
