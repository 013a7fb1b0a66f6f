/*
** spool.h — a pool of pristine Lua states for new processes (spool.c).
*/
#ifndef HL_SPOOL_H
#define HL_SPOOL_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "proc.h"

/* Makes one state whose allocator is lbody_alloc with `a` as its data;
** NULL when memory runs out. */
typedef lua_State *(*spool_make)(palloc *a);

/* One piece of the pool's other work (data: spool_new's): 1 if there may
** be more, 0 when there is none left. Runs on the pool's thread, which it
** may hold for as long as a state's close (spool_watch). */
typedef int (*spool_work)(void *data);

typedef struct spool spool;

/* A pool of up to `size` states, filled by a thread of its own, which also
** does `work` (NULL: none) when the pool is full and it is poked. NULL
** when the thread cannot be started. */
spool *spool_new(spool_make make, int size, spool_work work, void *data);

/* There is work for the pool's thread (spool_new's `work`), to begin once
** no poke has come for `delay` ms: work that would compete for a core with
** what the poker does next waits for it to pause. */
void spool_poke(spool *s, int delay);

/* A pristine state, now counting its memory in `to` (whose count starts at
** what the state already uses), or NULL when the pool is empty: the caller
** then makes one itself. */
lua_State *spool_take(spool *s, palloc *to);

/* Hands over the state of a process that has exited, to be closed by the
** pool's thread; the process (the state's extra space) is referenced
** until then. The state must not be used again; its allocator no longer
** counts for the process. */
void spool_retire(spool *s, lua_State *L);

/* How many retired states wait to be closed. */
size_t spool_waiting(spool *s);

/* Replaces the pool's thread if it has been closing one state (running
** its finalizers) or doing one piece of work for too long; now in ms
** (sched_now). */
void spool_watch(spool *s, int64_t now);

/* Stops the thread, once it has closed the retired states or deadline (ms)
** has passed. Returns how many retired states it could not see closed:
** they are left, with the thread stuck in one, and the pool is then not
** freed (that thread may come back to it). 0: everything is freed. */
size_t spool_free(spool *s, int64_t deadline);

#endif
