/*
** lready.h — ready states: Lua states in which a module's top level has
** already run, kept per module for spawn (lready.c).
*/
#ifndef HL_LREADY_H
#define HL_LREADY_H

#include <lua.h>

#include "node.h"
#include "proc.h"
#include "spool.h"

typedef struct lready lready;

/* A top level running ahead of time (lbind.h, lbind.ahead). */
struct lready_run;

/* The ready states of node n's modules, none yet; NULL when memory runs
** out. The node outlives it. */
lready *lready_new(node *n);

/* The pool thread's work (spool_work, data: the lready): prepares one
** ready state for a module that has fewer than it may keep. */
int lready_work(void *r);

/* A ready state for module on package.path path and package.cpath cpath
** (NULL: the state's own), now counting its memory in `to`, or NULL: the
** caller then loads the module itself, as without ready states. The first
** call for a module asks the pool for some (poking `pool`'s thread); one
** whose source files have changed since is never given. On a
** deterministic node (schedulers = 0) a state is prepared here when none
** is ready, so which spawns get one never depends on the pool's timing. */
lua_State *lready_take(lready *r, spool *pool, const char *module, const char *path,
                       const char *cpath, palloc *to);

/* The node stops: no state is prepared any more, and those ready go to
** `pool` to be closed (spool_retire). */
void lready_stop(lready *r, spool *pool);

/* Frees r, stopped, once no pool thread can be preparing a state. */
void lready_free(lready *r);

/* A call that needs the calling process, made by a top level running
** ahead of time: that run is abandoned, whatever pcall catches, and the
** module is not prepared ahead any more (its spawns load it themselves). */
void lready_refuse(lua_State *L, struct lready_run *run);

#endif
