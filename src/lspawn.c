/*
** lspawn.c — spawn, spawn_link and spawn_opt: a new process with a Lua
** state of its own.
**
** The new state is prepared on the caller's thread before anyone else can
** see it: libraries opened, the caller's search paths copied, the module
** required and its function looked up. So a missing module or function,
** or a module that does not compile, is the caller's error, raised at
** once; the process is queued only when it can run.
*/
#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

#include "lbind.h"
#include "lhandle.h"
#include "lproc.h"
#include "lstate.h"
#include "lterm.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "spool.h"
#include "term.h"

typedef struct spawn_opts {
  int link, monitor, trap_exit;
  const char *name;
  size_t memory_limit;
} spawn_opts;

typedef struct spawning {
  lua_State *L;          /* the caller */
  const char *fname;
  lbind *b;
  proc *p;
  lua_State *L2;         /* the new process's state */
} spawning;

/* Raises the message on the caller's stack top, undoing the spawn. */
static int fail(spawning *sp) {
  if (sp->L2 != NULL) {
    lua_close(sp->L2);
    sp->p->L = NULL;
  }
  proc_unref(sp->p);
  return lua_error(sp->L);
}

static void copy_path(lua_State *from, lua_State *to, const char *field) {
  lua_getglobal(from, "package");
  lua_getfield(from, -1, field);
  lua_getglobal(to, "package");
  lua_pushstring(to, lua_tostring(from, -1));
  lua_setfield(to, -2, field);
  lua_pop(to, 1);
  lua_pop(from, 2);
}

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
  (void)L;
  buf_put(ud, p, sz);
  return 0;
}

/* Leaves the process's function on L2's stack. */
static void load_function(spawning *sp, int first) {
  lua_State *L = sp->L, *L2 = sp->L2;
  if (lua_type(L, first) == LUA_TFUNCTION) {
    const char *up = lua_getupvalue(L, first, 1);
    int nups = 0;
    buf code;
    if (up != NULL) {
      lua_pop(L, 1);
      nups = (strcmp(up, "_ENV") == 0 && lua_getupvalue(L, first, 2) == NULL) ? 0 : 1;
      if (nups) lua_pop(L, 1);
    }
    if (nups || lua_iscfunction(L, first)) {
      lua_pushfstring(L, "heirloom.%s: the function must be a Lua function without upvalues "
                         "(pass data as arguments)", sp->fname);
      fail(sp);
    }
    buf_init(&code);
    lua_pushvalue(L, first);
    lua_dump(L, dump_writer, &code, 0);
    lua_pop(L, 1);
    if (!buf_ok(&code) ||
        luaL_loadbufferx(L2, (const char *)code.p, code.n, "=spawned function", "b") != LUA_OK) {
      buf_free(&code);
      lua_pushfstring(L, "heirloom.%s: the function cannot be loaded: %s", sp->fname,
                      lua_tostring(L2, -1));
      fail(sp);
    }
    buf_free(&code);
    return;
  }
  if (lua_type(L, first) != LUA_TSTRING || lua_type(L, first + 1) != LUA_TSTRING) {
    lua_pushfstring(L, "heirloom.%s: module and function name must be strings "
                       "(or give a function)", sp->fname);
    fail(sp);
  }
  lua_getglobal(L2, "require");
  lua_pushstring(L2, lua_tostring(L, first));
  if (lua_pcall(L2, 1, 1, 0) != LUA_OK) {
    lua_pushfstring(L, "heirloom.%s: cannot load module '%s': %s", sp->fname,
                    lua_tostring(L, first), lua_tostring(L2, -1));
    fail(sp);
  }
  if (lua_type(L2, -1) != LUA_TTABLE ||
      lua_getfield(L2, -1, lua_tostring(L, first + 1)) != LUA_TFUNCTION) {
    lua_pushfstring(L, "heirloom.%s: module '%s' has no function '%s'", sp->fname,
                    lua_tostring(L, first), lua_tostring(L, first + 1));
    fail(sp);
  }
  lua_remove(L2, -2);
}

static lua_State *make_pristine(palloc *a) {
  return lstate_new(proc_alloc, a);
}

/* A state for p, from the node's pool when it has one ready: libraries,
** the caller's paths, heirloom bound to the node as p. */
static void new_state(spawning *sp) {
  spool *pool = node_pool(sp->b->node, make_pristine);
  lua_State *L2 = pool != NULL ? spool_take(pool, &sp->p->alloc) : NULL;
  lbind *b2;
  if (L2 == NULL) L2 = lstate_new(proc_alloc, &sp->p->alloc);
  if (L2 == NULL) {
    lua_pushfstring(sp->L, "heirloom.%s: out of memory", sp->fname);
    fail(sp);
  }
  sp->L2 = sp->p->L = L2;
  *(proc **)lua_getextraspace(L2) = sp->p;
  copy_path(sp->L, L2, "path");
  copy_path(sp->L, L2, "cpath");
  b2 = lbind_get(L2);
  node_ref(sp->b->node);
  b2->node = sp->b->node;
  b2->attached = 1;
}

static void read_opts(lua_State *L, int idx, spawn_opts *o) {
  static const char *const known[] = {"link", "monitor", "name", "memory_limit", "trap_exit", NULL};
  memset(o, 0, sizeof *o);
  if (lua_type(L, idx) != LUA_TTABLE) luaL_error(L, "heirloom.spawn_opt: opts must be a table");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      for (int i = 0; known[i] != NULL && !ok; i++) ok = strcmp(known[i], lua_tostring(L, -2)) == 0;
    if (!ok) luaL_error(L, "heirloom.spawn_opt: unknown option '%s'", luaL_tolstring(L, -2, NULL));
    lua_pop(L, 1);
  }
  lua_getfield(L, idx, "link");
  o->link = lua_toboolean(L, -1);
  lua_getfield(L, idx, "monitor");
  o->monitor = lua_toboolean(L, -1);
  lua_getfield(L, idx, "trap_exit");
  o->trap_exit = lua_toboolean(L, -1);
  if (lua_getfield(L, idx, "name") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
      luaL_error(L, "heirloom.spawn_opt: opts.name must be a non-empty string");
    o->name = lua_tostring(L, -1);     /* anchored by opts */
  }
  if (lua_getfield(L, idx, "memory_limit") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 16384)
      luaL_error(L, "heirloom.spawn_opt: opts.memory_limit must be an integer of at least 16384 bytes");
    o->memory_limit = (size_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 5);
}

/* Spawns from the arguments first..top; pushes the pid (and the monitor
** ref). */
static int spawn(lua_State *L, const char *fname, int first, const spawn_opts *o) {
  spawning sp = {L, fname, NULL, NULL, NULL};
  int top = lua_gettop(L), nargs;
  size_t limit;
  const char *why;
  proc *caller = lbind_running(L, fname)->me;
  uint64_t *watchers;
  size_t nwatchers;
  sp.b = lbind_get(L);
  if (first > top) return luaL_error(L, "heirloom.%s: missing module and function", fname);
  if (o->name != NULL && ptab_whereis(&sp.b->node->procs, o->name) != 0)
    return luaL_error(L, "heirloom.%s: cannot register '%s': the name is already registered",
                      fname, o->name);
  buf_reset(&sp.b->in);                  /* the arguments, as one array */
  nargs = top - first - (lua_type(L, first) == LUA_TFUNCTION ? 0 : 1);
  lua_createtable(L, nargs, 0);
  for (int i = 0; i < nargs; i++) {
    lua_pushvalue(L, top - nargs + 1 + i);
    lua_rawseti(L, -2, i + 1);
  }
  {
    char msg[300];
    if (!lterm_encode(L, -1, &sp.b->in, "args", msg, sizeof msg))
      return luaL_error(L, "heirloom.%s: %s", fname, msg);
  }
  lua_pop(L, 1);
  sp.p = proc_new(sp.b->node, 0);
  if (sp.p == NULL) return luaL_error(L, "heirloom.%s: out of memory", fname);
  sp.p->trap_exit = o->trap_exit;
  new_state(&sp);
  load_function(&sp, first);
  sp.p->co = lua_newthread(sp.L2);
  luaL_ref(sp.L2, LUA_REGISTRYINDEX);    /* the coroutine lives as long as the state */
  lua_xmove(sp.L2, sp.p->co, 1);
  if (lterm_decode(sp.p->co, sp.b->in.p, sp.b->in.n) == 0) {
    lua_pushfstring(L, "heirloom.%s: the arguments do not decode", fname);
    fail(&sp);
  }
  {
    int t = lua_gettop(sp.p->co);
    for (int i = 1; i <= nargs; i++) lua_rawgeti(sp.p->co, t, i);   /* unpack */
    lua_remove(sp.p->co, t);
  }
  sp.p->nargs = nargs;
  /* Loading the module left garbage (paths tried, the source); an idle
  ** process should not carry it until its first collection. */
  lua_gc(sp.L2, LUA_GCCOLLECT);
  sched_prepare(sp.p->co);
  limit = o->memory_limit != 0 ? o->memory_limit : sp.b->node->cfg.memory_limit;
  /* The limit holds from the body's first instruction: setting up the state
  ** is heirloom's doing, and a failure there would have nowhere to go. */
  if (limit != 0 && limit <= atomic_load(&sp.p->alloc.used)) {
    lua_pushfstring(L, "heirloom.%s: the memory limit (%I bytes) is below what the new "
                       "process already uses (%I bytes)", fname, (lua_Integer)limit,
                    (lua_Integer)atomic_load(&sp.p->alloc.used));
    fail(&sp);
  }
  sp.p->alloc.limit = limit;
  if (ptab_add(&sp.b->node->procs, sp.p) == 0) {
    lua_pushfstring(L, "heirloom.%s: out of memory", fname);
    fail(&sp);
  }
  lbind_get(sp.L2)->self = sp.p->pid;
  lbind_get(sp.L2)->me = sp.p;
  proc_ref(sp.p);
  if (o->name != NULL &&
      !ptab_register(&sp.b->node->procs, o->name, sp.p->pid, &why, &watchers, &nwatchers)) {
    lua_pushfstring(L, "heirloom.%s: cannot register '%s': %s", fname, o->name, why);
    proc_kill(sp.p);
    proc_unref(sp.p);
    return lua_error(L);
  }
  if (o->name != NULL) node_notify_name(sp.b->node, o->name, sp.p->pid, watchers, nwatchers);
  if (o->link) proc_link(caller, sp.p->pid);
  lhandle_push(L, TERM_PID, sp.p->pid);
  if (o->monitor) lhandle_push(L, TERM_REF, proc_monitor(caller, sp.p->pid));
  sched_enqueue(sp.b->node->sched, sp.p);
  proc_unref(sp.p);
  return o->monitor ? 2 : 1;
}

static int l_spawn(lua_State *L) {
  spawn_opts o;
  memset(&o, 0, sizeof o);
  return spawn(L, "spawn", 1, &o);
}

static int l_spawn_link(lua_State *L) {
  spawn_opts o;
  memset(&o, 0, sizeof o);
  o.link = 1;
  return spawn(L, "spawn_link", 1, &o);
}

static int l_spawn_opt(lua_State *L) {
  spawn_opts o;
  read_opts(L, 1, &o);
  return spawn(L, "spawn_opt", 2, &o);
}

static const luaL_Reg functions[] = {
  {"spawn", l_spawn},
  {"spawn_link", l_spawn_link},
  {"spawn_opt", l_spawn_opt},
  {NULL, NULL}
};

void lspawn_open(lua_State *L) {
  luaL_setfuncs(L, functions, 0);
}
