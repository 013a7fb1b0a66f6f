/*
** lhandle.h — heirloom's own values in Lua: pids, references and table
** handles. Each is a userdata interned per Lua state, so that the same
** pid (or table) is always the same value: == works and it can be a table
** key.
*/
#ifndef HL_LHANDLE_H
#define HL_LHANDLE_H

#include <lua.h>
#include <stdint.h>

#include "etab.h"

#define LHANDLE_PID "heirloom.pid"
#define LHANDLE_REF "heirloom.ref"
#define LHANDLE_TABLE "heirloom.table"

typedef struct ltab {
  uint64_t id;
  etab *t;          /* referenced; NULL when the table no longer exists */
} ltab;

/* Pushes the metatable of TERM_PID, TERM_REF or TERM_TABLE values,
** making it on first use (as the caches come with the first handle). */
void lhandle_push_metatable(lua_State *L, int tag);
void lhandle_reset(lua_State *L);      /* forget every interned value (node stop) */

/* Pushes the value for (tag, id): TERM_PID, TERM_REF or TERM_TABLE. */
void lhandle_push(lua_State *L, int tag, uint64_t id);
/* Pushes the handle of a table just created or found (takes over no ref). */
void lhandle_push_table(lua_State *L, etab *t);

/* If the value at idx is one of heirloom's, its tag and id; else 0. */
int lhandle_get(lua_State *L, int idx, int *tag, uint64_t *id);

/* The table handle at idx, or NULL. */
ltab *lhandle_totable(lua_State *L, int idx);

/* hl.kind(value): "pid", "table", "ref" or "atom" for heirloom's values (an
** alias is a ref), nil for anything else. */
int lhandle_kind(lua_State *L);

#endif
