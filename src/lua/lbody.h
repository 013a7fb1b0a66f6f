/*
** lbody.h — the Lua process body (lbody.c): what the runtime calls to run
** a process (proc.h, pbody_ops) when the process is a Lua state, and the
** node's Lua part (the pool of pristine states, the ready states, the code
** cache).
*/
#ifndef HL_LBODY_H
#define HL_LBODY_H

#include <lua.h>

#include "codecache.h"
#include "proc.h"
#include "spool.h"

/* The Lua body: a process spawned with a Lua state gets it (p->body). */
extern const pbody_ops lbody_ops;

/* The allocator of a process's state (ud: its palloc): from the state's
** own heap (pheap.h), within the process's memory limit. */
void *lbody_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* A new heap for a state's allocator data (a->heap); 0 when memory runs out. */
int lbody_new_heap(palloc *a);
/* Frees a->heap, whose state was never made or is closed. */
void lbody_free_heap(palloc *a);
/* The state's allocations go to its heap and are no longer counted to a
** process: the state outlives the allocator data (a state to close). */
void lbody_unbind(lua_State *L);
/* Closes a state made with lbody_alloc (bound or not) and frees its heap. */
void lbody_close(lua_State *L);
/* The process went over its memory limit (its own thread): from the next
** hook on it exits with "memory_limit", even inside pcall. */
void lbody_over_limit(palloc *a);

/* Installs the budget and exit hook on a process's coroutine. */
void lbody_prepare(lua_State *co);
/* Makes the hook raise on the very next instruction: the process is
** exiting and must run nothing more, not even inside pcall. */
void lbody_exit_now(lua_State *L);

/* The node's pool of pristine states, started on first use with `make`
** (see spool.h); NULL if its thread cannot start, or once the node has
** stopped. Registers the Lua body with the node. */
spool *lbody_pool(node *n, spool_make make);
/* The node's ready states (lready.h), made with its pool: NULL before
** lbody_pool, once the node has stopped, or when memory ran out. */
struct lready *lbody_ready(node *n);
/* The node's compiled modules; NULL when memory runs out. Registers the
** Lua body with the node. */
codecache *lbody_code(node *n);

#endif
