/*
** spool.h — a pool of pristine Lua states for new processes (spool.c).
*/
#ifndef HL_SPOOL_H
#define HL_SPOOL_H

#include <lua.h>

#include "proc.h"

/* Makes one state whose allocator is proc_alloc with `a` as its data;
** NULL when memory runs out. */
typedef lua_State *(*spool_make)(palloc *a);

typedef struct spool spool;

/* A pool of up to `size` states, filled by a thread of its own. NULL when
** the thread cannot be started. */
spool *spool_new(spool_make make, int size);

/* A pristine state, now counting its memory in `to` (whose count starts at
** what the state already uses), or NULL when the pool is empty: the caller
** then makes one itself. */
lua_State *spool_take(spool *s, palloc *to);

/* Stops the thread and closes the states not taken. */
void spool_free(spool *s);

#endif
