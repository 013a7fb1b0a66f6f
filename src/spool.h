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

/* Hands over the state of a process that has exited, to be closed by the
** pool's thread (at once, here, when too many wait). The state must not
** be used again; its allocator no longer counts for the process. */
void spool_retire(spool *s, lua_State *L);

/* Stops the thread and closes the states not taken and those retired. */
void spool_free(spool *s);

#endif
