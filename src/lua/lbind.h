/*
** lbind.h — what the Lua binding's files share: the per-state record that
** ties a Lua state to its node and process, and how errors are raised.
*/
#ifndef HL_LBIND_H
#define HL_LBIND_H

#include <lua.h>

#include "buf.h"
#include "lscratch.h"
#include "node.h"

struct lready_run;

typedef struct lbind {
  node *node;        /* NULL until heirloom.start or hl_lua_attach */
  uint64_t self;     /* this state's process */
  struct proc *me;   /* the same, referenced */
  int attached;      /* the node belongs to the host program, not to us */
  int process;       /* this is a spawned process's own state, not a host's */
  lscratch_pool scratch;   /* encode and decode buffers, one set per call */
  struct lready_run *ahead; /* a module's top level runs ahead of time (lready.c) */
  const void *table_meta;  /* the table handles' metatable, once heirloom.table is built */
} lbind;

/* The state's record (created by luaopen_heirloom). */
lbind *lbind_get(lua_State *L);
/* The same, raising "heirloom.<fname>: the node is not started" without
** one, and as lbind_check_alive does. */
lbind *lbind_running(lua_State *L, const char *fname);
/* Every engine call from a state starts here: raises "heirloom.<fname>:
** the calling process is no longer alive" once its process is exiting or
** has exited (its finalizers run when its state is closed), and "...: the
** process has not started yet" while spawn still loads its module (or a
** module's top level runs ahead of time, which that call then abandons:
** lready.c). A host always passes. */
void lbind_check_alive(lua_State *L, const lbind *b, const char *fname);

/* A set of scratch buffers for the calling function (lscratch.h), given
** back with lscratch_return before it returns or raises; raises
** "heirloom.<fname>: out of memory" when none can be had. */
lscratch *lbind_borrow(lua_State *L, lbind *b, const char *fname);

/* A buffer owned by a new userdata on the stack (freed when collected), for
** results that must survive calls back into Lua. */
buf *lbind_newbuf(lua_State *L);

/* Pushes the heirloom.table module, building it on first use; the state's
** record must be registered under "heirloom.state". */
void lbind_open_table(lua_State *L);
/* Makes table handles build the module on their first method call: sets
** the __index of their metatable, on the stack top. */
void lbind_lazy_table(lua_State *L);

#endif
