/*
** lbody.c — the Lua process body: a process is a Lua state of its own
** (p->L) and a coroutine its body runs in (p->co). The runtime knows none
** of it; it calls the functions of lbody_ops (proc.h, pbody_ops).
**
** A slice resumes the coroutine until it returns, fails, waits in receive
** or is ended by the hook: on a worker thread the hook is set only when
** the ticker finds the slice has run a tick (preempt.h), so the process's
** code runs at Lua's full speed; on a deterministic node a count hook
** ticks every HOOK_EVERY VM instructions and counts down the budget the
** scheduler gave (p->budget). The same hook ends a process whose exit is
** pending, raising on every instruction until its stack has unwound:
** neither pcall nor a C function such as table.sort can hold it back.
** What the hook cannot reach (a long C call, a finalizer) the scheduler's
** watchdog bounds.
**
** The node's Lua part (lnode: the pool of pristine states that also
** closes exited ones, the ready states its thread prepares, the code
** cache) is made when a process first needs it, and registers the body with the node (node->body), which then
** watches, stops and frees it through the same functions.
*/
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "graveyard.h"
#include "lbody.h"
#include "lready.h"
#include "lterm.h"
#include "node.h"
#include "pheap.h"
#include "scheduler.h"
#include "term.h"

#define HOOK_EVERY 1000

/* States waiting for the pool's thread beyond which a scheduler thread
** closes its own: exits must not outrun the closing. */
#define RETIRE_MAX 256

/* Once over its limit a process may still allocate this much more: the
** unwinding that ends it builds error values and closes what it opened. */
#define LIMIT_RESERVE (32 * 1024)

typedef struct lnode {
  spool *pool;                 /* pristine states for spawn; NULL until the first */
  lready *ready;               /* modules' ready states, with the pool; NULL: none */
  codecache code;              /* compiled Lua modules */
} lnode;

/* ---- the allocator ---- */

/* One writer at a time (the thread running the process), so a relaxed
** load and store suffice: no locked instruction on every allocation. */
static void add_used(palloc *a, size_t plus, size_t minus) {
  size_t used = atomic_load_explicit(&a->used, memory_order_relaxed);
  atomic_store_explicit(&a->used, used + plus - minus, memory_order_relaxed);
}

void *lbody_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  palloc *a = ud;
  void *q;
  if (ptr == NULL) osize = 0;    /* osize is then a type tag */
  if (nsize == 0) {
    pheap_realloc(a->heap, ptr, osize, 0);
    add_used(a, 0, osize);
    return NULL;
  }
  if (a->limit != 0 && nsize > osize &&
      atomic_load_explicit(&a->used, memory_order_relaxed) + (nsize - osize) >
          a->limit + (a->exceeded ? LIMIT_RESERVE : 0)) {
    if (!a->exceeded) lbody_over_limit(a);
    return NULL;
  }
  q = pheap_realloc(a->heap, ptr, osize, nsize);
  if (q != NULL) add_used(a, nsize, osize);
  return q;
}

/* A state no process counts any more: its heap alone. */
static void *heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  return pheap_realloc(ud, ptr, osize, nsize);
}

int lbody_new_heap(palloc *a) {
  a->heap = pheap_new();
  return a->heap != NULL;
}

void lbody_free_heap(palloc *a) {
  pheap_destroy(a->heap);
  a->heap = NULL;
}

void lbody_unbind(lua_State *L) {
  void *ud;
  if (lua_getallocf(L, &ud) == lbody_alloc) {
    palloc *a = ud;
    lua_setallocf(L, heap_alloc, a->heap);
    a->heap = NULL;
  }
}

void lbody_close(lua_State *L) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  palloc *a = f == lbody_alloc ? ud : NULL;
  pheap *h = a != NULL ? a->heap : f == heap_alloc ? ud : NULL;
  lua_close(L);
  pheap_destroy(h);              /* its chunks, all at once */
  if (a != NULL) a->heap = NULL;
}

void lbody_over_limit(palloc *a) {
  proc *p = (proc *)(void *)((char *)a - offsetof(proc, alloc));
  a->exceeded = 1;
  /* Lua lets a hook be set from anywhere (its own interpreter does it from
  ** a signal handler): the hook runs before the next instruction */
  if (p->co != NULL) lbody_exit_now(p->co);
}

/* ---- the hook ---- */

/* The process's own coroutine yields to the scheduler. A coroutine the
** process made is resumed by the process's code, where a yield would
** look like the coroutine's own: it yields only when coroutine.resume or
** wrap resumed it (lcoro.c), which pass the preemption up.
**
** On a worker the hook is set only when the ticker has ended the slice
** (yield_soon), and it takes itself off as it yields; on a
** deterministic node it ticks every HOOK_EVERY instructions all along
** and counts the budget down. */
static void hook(lua_State *L, lua_Debug *ar) {
  proc *p = *(proc **)lua_getextraspace(L);
  (void)ar;
  if (p == NULL) return;
  proc_check_limit(p);
  if (atomic_load(&p->exiting)) {
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);   /* raise on every instruction now */
    if (p->co != NULL && p->co != L) lua_sethook(p->co, hook, LUA_MASKCOUNT, 1);
    lua_pushliteral(L, "heirloom: the process is exiting");
    lua_error(L);
  }
  if (p->counted && --p->budget > 0) return;
  if (L != p->co && L != p->nested) {    /* not ours to yield */
    if (!p->counted) lua_sethook(L, NULL, 0, 0);
    return;
  }
  if (!lua_isyieldable(L)) {             /* inside a metamethod, say: look again */
    if (!p->counted) lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);
    return;
  }
  if (L == p->nested) p->preempted = L;  /* its resume yields in turn (lcoro.c) */
  if (!p->counted) lua_sethook(L, NULL, 0, 0);
  lua_yield(L, 0);
}

void lbody_exit_now(lua_State *L) {
  lua_sethook(L, hook, LUA_MASKCOUNT, 1);
}

/* A spawn's load and a deterministic node count; a slice on a worker runs
** with no hook until the ticker ends it. */
void lbody_prepare(lua_State *co) {
  proc *p = *(proc **)lua_getextraspace(co);
  if (p != NULL && !p->counted) lua_sethook(co, NULL, 0, 0);
  else lua_sethook(co, hook, LUA_MASKCOUNT, HOOK_EVERY);
}

/* From the signal handler (pbody_ops.preempt): the coroutine that runs now
** stops at its next instruction. lua_sethook is safe there, as Lua's own
** interpreter relies on. */
static void yield_soon(proc *p) {
  lua_State *L = p->nested != NULL ? p->nested : p->co;
  if (L != NULL) lua_sethook(L, hook, LUA_MASKCOUNT, 1);
}

/* ---- slices ---- */

static int slice(proc *p, int nargs) {
  int nres, status;
  /* a hook left from a spawn's load or a late signal: none on a worker */
  if (!p->counted && lua_gethook(p->co) != NULL && !atomic_load(&p->exiting))
    lua_sethook(p->co, NULL, 0, 0);
  status = lua_resume(p->co, NULL, nargs, &nres);
  if (status != LUA_YIELD) return status;
  lua_pop((lua_State *)p->co, nres);
  return PBODY_YIELDED;
}

/* "normal", or for a failure {error = message, traceback = ...}. */
static void reason(proc *p, int status, buf *out) {
  lua_State *co = p->co;
  char msg[256];
  if (p->alloc.exceeded) {
    term_put_string(out, "memory_limit", 12);
    return;
  }
  if (status == LUA_OK) {
    term_put_string(out, "normal", 6);
    return;
  }
  if (status == LUA_ERRMEM) {
    term_put_string(out, "out_of_memory", 13);
    return;
  }
  luaL_traceback(co, co, NULL, 0);
  term_put_map(out, 2);      /* keys in order: "error" < "traceback" */
  term_put_string(out, "error", 5);
  term_put_string(out, "traceback", 9);
  if (!lterm_encode(co, -2, out, "error", msg, sizeof msg))
    term_put_string(out, msg, strlen(msg));
  {
    size_t len;
    const char *tb = lua_tolstring(co, -1, &len);
    term_put_string(out, tb != NULL ? tb : "", tb != NULL ? len : 0);
  }
}

/* ---- closing states ---- */

static void release(void *state) {
  lbody_close(state);
}

static void close_state(node *n, void *state) {
  spool *pool = NULL;
  pthread_mutex_lock(&n->lock);
  if (n->body_data != NULL) pool = ((lnode *)n->body_data)->pool;
  pthread_mutex_unlock(&n->lock);
  if (pool == NULL) lbody_close(state);
  /* only a scheduler thread, which the watchdog replaces if a finalizer
  ** holds it; any other thread never runs finalizers it did not ask for */
  else if (spool_waiting(pool) < RETIRE_MAX || !sched_close_here(release, state))
    spool_retire(pool, state);
}

/* ---- the node's Lua part ---- */

static void watch(node *n, int64_t now) {
  pthread_mutex_lock(&n->lock);
  if (n->body_data != NULL && ((lnode *)n->body_data)->pool != NULL)
    spool_watch(((lnode *)n->body_data)->pool, now);
  pthread_mutex_unlock(&n->lock);
}

static size_t stop(node *n, int64_t deadline) {
  spool *pool = NULL;
  lready *ready = NULL;
  size_t left;
  pthread_mutex_lock(&n->lock);
  if (n->body_data != NULL) {
    lnode *ln = n->body_data;
    pool = ln->pool;
    ready = ln->ready;
    ln->pool = NULL;
    ln->ready = NULL;
  }
  pthread_mutex_unlock(&n->lock);
  if (ready != NULL) lready_stop(ready, pool);   /* their states go to the pool's thread */
  left = spool_free(pool, deadline);
  /* a pool thread left stuck may be preparing a state: it may come back */
  if (left == 0) lready_free(ready);
  else if (ready != NULL) graveyard_keep(ready);
  return left;
}

static void free_node(node *n) {
  lnode *ln = n->body_data;
  if (ln == NULL) return;
  codecache_destroy(&ln->code);
  free(ln);
  n->body_data = NULL;
}

const pbody_ops lbody_ops = {slice,      reason, close_state, release,
                             yield_soon, watch,  stop,        free_node};

/* The node's Lua part, made on first use; lock held. */
static lnode *lnode_locked(node *n) {
  lnode *ln = n->body_data;
  if (ln != NULL) return ln;
  ln = calloc(1, sizeof *ln);
  if (ln == NULL) return NULL;
  codecache_init(&ln->code);
  n->body_data = ln;
  n->body = &lbody_ops;
  return ln;
}

spool *lbody_pool(node *n, spool_make make) {
  spool *s = NULL;
  lnode *ln;
  pthread_mutex_lock(&n->lock);
  ln = lnode_locked(n);
  if (ln != NULL && ln->pool == NULL && !n->stopped) {
    ln->ready = lready_new(n);
    ln->pool = spool_new(make, 32, ln->ready != NULL ? lready_work : NULL, ln->ready);
    if (ln->pool == NULL) {
      lready_free(ln->ready);
      ln->ready = NULL;
    }
  }
  if (ln != NULL) s = ln->pool;
  pthread_mutex_unlock(&n->lock);
  return s;
}

lready *lbody_ready(node *n) {
  lready *r = NULL;
  pthread_mutex_lock(&n->lock);
  if (n->body_data != NULL) r = ((lnode *)n->body_data)->ready;
  pthread_mutex_unlock(&n->lock);
  return r;
}

codecache *lbody_code(node *n) {
  lnode *ln;
  pthread_mutex_lock(&n->lock);
  ln = lnode_locked(n);
  pthread_mutex_unlock(&n->lock);
  return ln != NULL ? &ln->code : NULL;
}
