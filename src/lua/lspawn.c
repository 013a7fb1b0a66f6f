/*
** lspawn.c — spawn, spawn_link and spawn_opt from Lua, and the C API's
** hl_spawn: a new process with a Lua state of its own. hl_spawn lives here,
** in the layer that makes Lua states, so that capi.c makes none.
**
** The new state is prepared on the caller's thread before anyone else can
** see it: taken from the node's pool (a ready state, with the module
** loaded already, when there is one: lready.c), the caller's search paths
** copied, the module found and compiled. So a missing module, or one that does not
** compile, is the caller's error, reported at once; the process is queued
** only when it can run.
**
** The module's top level is the process's own code, so it runs in the
** process's coroutine, under the scheduler's hook: the caller resumes that
** coroutine for up to LOAD_TICKS hook ticks, so that an error in the top
** level or a missing function is still its error, reported at once. A top
** level that takes longer goes on in the process (where it can be
** preempted and killed), and its errors are then the process's exit
** reason.
*/
#include <inttypes.h>
#include <limits.h>
#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi.h"
#include "heirloom.h"
#include "lbind.h"
#include "lbody.h"
#include "lhandle.h"
#include "lproc.h"
#include "lready.h"
#include "lstate.h"
#include "lterm.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "term.h"

typedef struct spawn_opts {
  int link, monitor, trap_exit;
  const char *name;
  const char *initial_call;    /* what process_info reports, if not module:fn */
  size_t memory_limit;
} spawn_opts;

/* A spawn under way; every step reports a failure in msg and undoes
** what was done. */
typedef struct spawning {
  node *node;
  const char *fname;     /* "heirloom.spawn", "hl_spawn": for messages */
  proc *p;
  lua_State *L2;         /* the new process's state */
  int lead;              /* values before the arguments: 4 for a module */
  char msg[640];
} spawning;

/* A million VM instructions of a module's top level on the spawner's
** thread, at most (HOOK_EVERY instructions a tick). */
#define LOAD_TICKS 1000

static int failf(spawning *sp, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(sp->msg, sizeof sp->msg, "%s: ", sp->fname);
  va_start(ap, fmt);
  vsnprintf(sp->msg + n, sizeof sp->msg - (size_t)n, fmt, ap);
  va_end(ap);
  if (sp->L2 != NULL) {
    /* the module's finalizers run now: as a process that never was */
    lbind *b2 = lbind_get(sp->L2);
    if (b2 != NULL && b2->node != NULL) {
      node_unref(b2->node);
      b2->node = NULL;
    }
    lbody_close(sp->L2);
    sp->p->L = NULL;
    sp->L2 = NULL;
  }
  if (sp->p != NULL) proc_unref(sp->p);
  sp->p = NULL;
  return 0;
}

static lua_State *make_pristine(palloc *a) {
  return lstate_new(lbody_alloc, a);
}

/* Usually the caller's path is the one the state started with: then a
** copy would only be garbage. */
static void set_path(lua_State *L2, const char *field, const char *value) {
  const char *own;
  if (value == NULL) return;
  lua_getglobal(L2, "package");
  lua_getfield(L2, -1, field);
  own = lua_tostring(L2, -1);
  if (own == NULL || strcmp(own, value) != 0) {
    lua_pushstring(L2, value);
    lua_setfield(L2, -3, field);
  }
  lua_pop(L2, 2);
}

/* The process and its state, from the node's pool when it has one ready
** (for module, NULL for a function: one with the module loaded already),
** with heirloom bound to the node; path and cpath NULL keep the state's
** own. */
static int start_state(spawning *sp, const char *module, const char *path,
                       const char *cpath) {
  spool *pool;
  lready *ready;
  lbind *b2;
  sp->p = proc_new(sp->node, 0);
  if (sp->p == NULL) return failf(sp, "out of memory");
  sp->p->body = &lbody_ops;
  pool = lbody_pool(sp->node, make_pristine);
  ready = pool != NULL && module != NULL ? lbody_ready(sp->node) : NULL;
  sp->L2 = ready != NULL ? lready_take(ready, pool, module, path, cpath, &sp->p->alloc) : NULL;
  if (sp->L2 == NULL && pool != NULL) sp->L2 = spool_take(pool, &sp->p->alloc);
  if (sp->L2 == NULL && lbody_new_heap(&sp->p->alloc)) {
    sp->L2 = lstate_new(lbody_alloc, &sp->p->alloc);
    if (sp->L2 == NULL) lbody_free_heap(&sp->p->alloc);
  }
  if (sp->L2 == NULL) return failf(sp, "out of memory");
  sp->p->L = sp->L2;
  *(proc **)lua_getextraspace(sp->L2) = sp->p;
  set_path(sp->L2, "path", path);
  set_path(sp->L2, "cpath", cpath);
  b2 = lbind_get(sp->L2);
  node_ref(sp->node);
  b2->node = sp->node;
  b2->attached = 1;
  b2->process = 1;
  return 1;
}

/* ---- a module's body ---- */

/* Where a module's top level runs (proc.loading). */
enum { LOADING_HERE = 1, LOADING_IN_PROCESS = 2 };

/* Calls the function at index 1 with the values above it, once the
** loading's garbage is collected (by the process: the module's finalizers
** are its code). */
static int run_done(lua_State *co, int status, lua_KContext ctx) {
  (void)status;
  return lua_gettop(co) - (int)ctx;
}

static int run_function(lua_State *co) {
  lua_gc(co, LUA_GCCOLLECT);
  lua_callk(co, lua_gettop(co) - 1, LUA_MULTRET, 0, run_done);
  return run_done(co, LUA_OK, 0);
}

/* The module loading in a process's coroutine: stack module, fn, loader
** (nil if the module is loaded already), loader data, the arguments. Loads
** the module as require would; then, on the spawner's thread, returns fn
** and the arguments (launch starts the process with them), or, when the
** spawner handed the loading over to the process, calls fn itself. The
** continuations' context is the number of arguments. */
static int body_loaded(lua_State *co, int status, lua_KContext nargs);

static int module_body(lua_State *co) {
  lua_KContext nargs = lua_gettop(co) - 4;
  if (lua_isnil(co, 3)) {
    lua_pushnil(co);                    /* no loader, no result */
    return body_loaded(co, LUA_OK, nargs);
  }
  lua_pushvalue(co, 3);
  lua_pushvalue(co, 1);
  lua_pushvalue(co, 4);
  return body_loaded(co, lua_pcallk(co, 2, 1, 0, nargs, body_loaded), nargs);
}

/* The loader's result (or error) on top. */
static int body_loaded(lua_State *co, int status, lua_KContext nargs) {
  const char *module = lua_tostring(co, 1), *fn = lua_tostring(co, 2);
  proc *p = *(proc **)lua_getextraspace(co);
  if (status != LUA_OK && status != LUA_YIELD)
    return luaL_error(co, "cannot load module '%s': %s", module,
                      lua_isstring(co, -1) ? lua_tostring(co, -1)
                                           : "(error object is not a string)");
  lua_getfield(co, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (!lua_isnil(co, 3)) {            /* what require does with the result */
    if (!lua_isnil(co, -2)) {
      lua_pushvalue(co, -2);
      lua_setfield(co, -2, module);
    }
    if (lua_getfield(co, -1, module) == LUA_TNIL) {
      lua_pushboolean(co, 1);
      lua_setfield(co, -3, module);
    }
    lua_pop(co, 1);
  }
  if (lua_getfield(co, -1, module) != LUA_TTABLE || lua_getfield(co, -1, fn) != LUA_TFUNCTION)
    return luaL_error(co, "module '%s' has no function '%s'", module, fn);
  lua_replace(co, 4);                 /* fn right under the arguments */
  lua_settop(co, 4 + (int)nargs);
  lua_rotate(co, 1, -3);              /* module, fn name and loader out of the way */
  lua_pop(co, 3);
  if (p->loading == LOADING_HERE) return 1 + (int)nargs;
  p->loading = 0;
  return run_function(co);
}

/* On the new state's main thread: module's loader and its data, found by
** package.searchers as require finds them (nil, nil if it is loaded). */
static int find_loader(lua_State *L2) {
  const char *name = luaL_checkstring(L2, 1);
  luaL_Buffer msg;
  lua_getfield(L2, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L2, 2, name);
  if (lua_toboolean(L2, 3)) {
    lua_pushnil(L2);
    lua_pushnil(L2);
    return 2;
  }
  lua_getglobal(L2, "package");
  if (lua_getfield(L2, 4, "searchers") != LUA_TTABLE)
    return luaL_error(L2, "'package.searchers' must be a table");
  luaL_buffinit(L2, &msg);
  for (int i = 1;; i++) {
    luaL_addstring(&msg, "\n\t");
    if (lua_rawgeti(L2, 5, i) == LUA_TNIL) {
      lua_pop(L2, 1);
      luaL_buffsub(&msg, 2);
      luaL_pushresult(&msg);
      return luaL_error(L2, "module '%s' not found:%s", name, lua_tostring(L2, -1));
    }
    lua_pushstring(L2, name);
    lua_call(L2, 1, 2);
    if (lua_isfunction(L2, -2)) return 2;
    if (lua_isstring(L2, -2)) {
      lua_pop(L2, 1);
      luaL_addvalue(&msg);
    } else {
      lua_pop(L2, 2);
      luaL_buffsub(&msg, 2);
    }
  }
}

/* Leaves module_body, module, fn, the loader and its data on the new
** state's stack. */
static int load_module(spawning *sp, const char *module, const char *fn) {
  lua_State *L2 = sp->L2;
  size_t len = strlen(module) + strlen(fn) + 2;
  sp->p->initial_call = malloc(len);
  if (sp->p->initial_call == NULL) return failf(sp, "out of memory");
  snprintf(sp->p->initial_call, len, "%s:%s", module, fn);
  lua_pushcfunction(L2, module_body);
  lua_pushstring(L2, module);
  lua_pushstring(L2, fn);
  lua_pushcfunction(L2, find_loader);
  lua_pushstring(L2, module);
  if (lua_pcall(L2, 1, 2, 0) != LUA_OK)
    return failf(sp, "cannot load module '%s': %s", module,
                 lua_isstring(L2, -1) ? lua_tostring(L2, -1) : "(error object is not a string)");
  sp->lead = 4;
  return 1;
}

/* Leaves the function dumped in code on the new state's stack. */
static int load_code(spawning *sp, const buf *code) {
  if (luaL_loadbufferx(sp->L2, (const char *)code->p, code->n, "=spawned function", "b") !=
      LUA_OK)
    return failf(sp, "the function cannot be loaded: %s", lua_tostring(sp->L2, -1));
  return 1;
}

static int register_name(spawning *sp, const char *name, uint64_t pid) {
  const char *why;
  uint64_t *watchers;
  size_t nwatchers;
  if (!ptab_register(&sp->node->procs, name, pid, &why, &watchers, &nwatchers)) {
    snprintf(sp->msg, sizeof sp->msg, "%s: cannot register '%s': %s", sp->fname, name, why);
    return 0;
  }
  node_notify_name(sp->node, name, pid, watchers, nwatchers);
  return 1;
}

/* Runs a module's top level in the new process's coroutine, under the
** hook, for up to LOAD_TICKS ticks: its errors are the spawner's. Done in
** time, the process starts afresh with the function, in the same
** coroutine (a finished thread may be resumed anew: a second one would be
** garbage in every new process), and no yield crosses the spawner's
** thread in the usual case; a top level that needs longer yields, and
** goes on once the process runs. */
static int load_top_level(spawning *sp, int nargs) {
  proc *p = sp->p;
  lua_State *co = p->co;
  int nres, status;
  p->loading = LOADING_HERE;
  p->budget = LOAD_TICKS;
  status = lua_resume(co, NULL, sp->lead + nargs, &nres);
  if (status == LUA_YIELD) {
    lua_pop(co, nres);
    p->loading = LOADING_IN_PROCESS;
    p->nargs = 0;                       /* started: it goes on from its yield */
    return 1;
  }
  if (status != LUA_OK)
    return failf(sp, "%s", lua_isstring(co, -1) ? lua_tostring(co, -1)
                                                 : "(error object is not a string)");
  p->loading = 0;
  lua_pushcfunction(co, run_function);
  lua_insert(co, -nres - 1);            /* under fn and the arguments */
  p->nargs = nres;
  return 1;
}

/* Starts the function on the new state's stack with elements 1..nargs of
** the table term args as its arguments (nargs -1: args is an array term,
** all of it; a Lua caller's arguments with nil among them encode as a
** map). caller links or monitors when the options ask; *pid and *ref
** receive the results. */
static int launch(spawning *sp, const unsigned char *args, size_t len, int nargs,
                  const spawn_opts *o, proc *caller, uint64_t *pid, uint64_t *ref) {
  size_t limit, used;
  proc *p = sp->p;
  if (nargs < 0) {
    int tag;
    uint32_t count;
    if (term_get_header(args, len, &tag, &count) == 0 || tag != TERM_ARRAY || count > INT_MAX)
      return failf(sp, "args must be an array term");
    nargs = (int)count;
  }
  p->trap_exit = o->trap_exit;
  p->co = lua_newthread(sp->L2);
  luaL_ref(sp->L2, LUA_REGISTRYINDEX);   /* the coroutine lives as long as the state */
  lua_xmove(sp->L2, p->co, 1 + sp->lead);
  if (lterm_decode(p->co, args, len) == 0) return failf(sp, "the arguments do not decode");
  {
    int t = lua_gettop(p->co);
    for (int i = 1; i <= nargs; i++) lua_rawgeti(p->co, t, i);   /* unpack */
    lua_remove(p->co, t);
  }
  lbody_prepare(p->co);
  if (sp->lead > 0) {
    if (!load_top_level(sp, nargs)) return 0;
  } else {
    p->nargs = nargs;
    /* Loading the function left garbage; an idle process should not carry
    ** it until its first collection. (A module's is collected by the
    ** process itself: its finalizers are the module's code.) */
    lua_gc(sp->L2, LUA_GCCOLLECT);
  }
  if (caller != NULL && !proc_alive(caller))   /* killed while its thread was here */
    return failf(sp, "the calling process is no longer alive");
  limit = o->memory_limit != 0 ? o->memory_limit : sp->node->cfg.memory_limit;
  used = atomic_load(&p->alloc.used);
  /* The limit holds from the body's first instruction: setting up the state
  ** is heirloom's doing, and a failure there would have nowhere to go. */
  if (limit != 0 && limit <= used)
    return failf(sp, "the memory limit (%zu bytes) is below what the new process already "
                     "uses (%zu bytes)", limit, used);
  p->alloc.limit = limit;
  if (ptab_add(&sp->node->procs, p) == 0) return failf(sp, "out of memory");
  lbind_get(sp->L2)->self = p->pid;
  lbind_get(sp->L2)->me = p;
  sp->L2 = NULL;                          /* the process owns it now */
  proc_ref(p);
  sp->p = NULL;
  if (o->name != NULL && !register_name(sp, o->name, p->pid)) {
    proc_kill(p);
    proc_unref(p);
    return 0;
  }
  if (o->link) proc_link(caller, p->pid);
  if (o->monitor) *ref = proc_monitor(caller, p->pid);
  *pid = p->pid;
  sched_enqueue(sp->node->sched, p);
  proc_unref(p);
  return 1;
}

/* ---- from C ---- */

/* Spawns module.fn with the elements of the array term args (NULL: none)
** as its arguments; path and cpath (NULL: the defaults) are the new
** process's package.path and cpath. 1 and *pid, or 0 and a message. */
static int lspawn_from_c(node *n, const char *module, const char *fn, const unsigned char *args,
                  size_t len, const char *path, const char *cpath, uint64_t *pid,
                  char *msg, size_t size) {
  spawning sp = {n, "hl_spawn", NULL, NULL, 0, ""};
  spawn_opts o;
  buf none;
  int ok;
  memset(&o, 0, sizeof o);
  buf_init(&none);
  term_put_array(&none, 0);
  if (args == NULL) {
    args = none.p;
    len = none.n;
  }
  ok = buf_ok(&none) ? start_state(&sp, module, path, cpath) : failf(&sp, "out of memory");
  ok = ok && load_module(&sp, module, fn) && launch(&sp, args, len, -1, &o, NULL, pid, NULL);
  buf_free(&none);
  if (!ok) snprintf(msg, size, "%s", sp.msg);
  return ok;
}

/* ---- from Lua ---- */

/* Dumps the function at idx into code, or explains in msg why not. */
static int dump_function(lua_State *L, int idx, buf *code, char *msg, size_t size) {
  const char *up = lua_getupvalue(L, idx, 1);
  int nups = 0;
  if (up != NULL) {
    lua_pop(L, 1);
    nups = (strcmp(up, "_ENV") == 0 && lua_getupvalue(L, idx, 2) == NULL) ? 0 : 1;
    if (nups) lua_pop(L, 1);
  }
  if (nups || lua_iscfunction(L, idx)) {
    snprintf(msg, size, "the function must be a Lua function without upvalues "
                        "(pass data as arguments)");
    return 0;
  }
  lua_pushvalue(L, idx);
  lstate_dump(L, code);
  lua_pop(L, 1);
  if (!buf_ok(code)) {
    buf_free(code);
    snprintf(msg, size, "out of memory");
    return 0;
  }
  return 1;
}

/* A behaviour names the module it runs (a server, its callback module's
** init, as proc_lib records for gen_server) rather than its own loop. */
static int name_initial_call(spawning *sp, const spawn_opts *o) {
  char *text;
  if (o->initial_call == NULL) return 1;
  text = strdup(o->initial_call);
  if (text == NULL) return failf(sp, "out of memory");
  free(sp->p->initial_call);
  sp->p->initial_call = text;
  return 1;
}

static const char *package_field(lua_State *L, const char *field) {
  const char *s;
  lua_getglobal(L, "package");
  lua_getfield(L, -1, field);
  s = lua_tostring(L, -1);        /* anchored by package until the spawn ends */
  lua_pop(L, 2);
  return s;
}

static void read_opts(lua_State *L, int idx, spawn_opts *o) {
  static const char *const known[] = {"link", "monitor", "name", "memory_limit", "trap_exit",
                                       "initial_call", NULL};
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
  if (lua_getfield(L, idx, "initial_call") != LUA_TNIL) {
    const char *s = lua_tostring(L, -1), *colon = s != NULL ? strrchr(s, ':') : NULL;
    if (lua_type(L, -1) != LUA_TSTRING || colon == NULL || colon == s || colon[1] == '\0' ||
        lua_rawlen(L, -1) > 200)
      luaL_error(L, "heirloom.spawn_opt: opts.initial_call must be a string "
                    "\"module:function\" of at most 200 bytes");
    o->initial_call = s;               /* anchored by opts */
  }
  lua_pop(L, 6);
}

/* Spawns from the arguments first..top; pushes the pid (and the monitor
** ref). */
static int spawn(lua_State *L, const char *fname, int first, const spawn_opts *o) {
  lbind *b = lbind_running(L, fname);
  char qualified[40];
  spawning sp = {b->node, qualified, NULL, NULL, 0, ""};
  int top = lua_gettop(L), nargs, isfn = lua_type(L, first) == LUA_TFUNCTION, ok;
  uint64_t pid = 0, ref = 0;
  buf code;
  lscratch *args;
  char msg[300];
  snprintf(qualified, sizeof qualified, "heirloom.%s", fname);
  if (first > top) return luaL_error(L, "heirloom.%s: missing module and function", fname);
  if (!isfn && (lua_type(L, first) != LUA_TSTRING || lua_type(L, first + 1) != LUA_TSTRING))
    return luaL_error(L, "heirloom.%s: module and function name must be strings "
                         "(or give a function)", fname);
  if (o->name != NULL && ptab_whereis(&b->node->procs, o->name) != 0)
    return luaL_error(L, "heirloom.%s: cannot register '%s': the name is already registered",
                      fname, o->name);
  nargs = top - first - (isfn ? 0 : 1);
  lua_createtable(L, nargs, 0);        /* the arguments, as one array */
  for (int i = 0; i < nargs; i++) {
    lua_pushvalue(L, top - nargs + 1 + i);
    lua_rawseti(L, -2, i + 1);
  }
  args = lbind_borrow(L, b, fname);
  buf_init(&code);
  if (!lterm_encode(L, -1, &args->in, "args", msg, sizeof msg) ||
      (isfn && !dump_function(L, first, &code, msg, sizeof msg))) {
    lscratch_return(args);
    return luaL_error(L, "heirloom.%s: %s", fname, msg);
  }
  lua_pop(L, 1);
  ok = start_state(&sp, isfn ? NULL : lua_tostring(L, first), package_field(L, "path"),
                   package_field(L, "cpath")) &&
       (isfn ? load_code(&sp, &code)
             : load_module(&sp, lua_tostring(L, first), lua_tostring(L, first + 1))) &&
       name_initial_call(&sp, o) &&
       launch(&sp, args->in.p, args->in.n, nargs, o, b->me, &pid, &ref);
  buf_free(&code);
  lscratch_return(args);
  if (!ok) return luaL_error(L, "%s", sp.msg);
  lhandle_push(L, TERM_PID, pid);
  if (o->monitor) lhandle_push(L, TERM_REF, ref);
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

const luaL_Reg lspawn_functions[] = {
  {"spawn", l_spawn},
  {"spawn_link", l_spawn_link},
  {"spawn_opt", l_spawn_opt},
  {NULL, NULL}
};

/* ---- hl_spawn: the C API's spawn, which needs no Lua state of the host's ---- */

/* Copies of the node's module paths, under its lock (NULL: none set);
** 0 if the node is stopping. */
static int copy_paths(node *n, char **path, char **cpath) {
  int running;
  pthread_mutex_lock(&n->lock);
  running = !n->stopped;
  *path = running && n->lua_path != NULL ? strdup(n->lua_path) : NULL;
  *cpath = running && n->lua_cpath != NULL ? strdup(n->lua_cpath) : NULL;
  pthread_mutex_unlock(&n->lock);
  return running;
}

hl_status hl_spawn(hl_node *node, const char *module, const char *fn, const void *args,
                   size_t len, hl_pid *pid) {
  char msg[700], *path, *cpath;
  int ok;
  hl_err e;
  if (pid == NULL) return capi_fail(HL_EBADARG, "hl_spawn", "pid must not be NULL");
  *pid = 0;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_spawn", "node is NULL");
  if (module == NULL || module[0] == '\0')
    return capi_fail(HL_EBADARG, "hl_spawn", "module must be a non-empty string");
  if (fn == NULL || fn[0] == '\0')
    return capi_fail(HL_EBADARG, "hl_spawn", "fn must be a non-empty string");
  err_clear(&e);
  if (args != NULL && !capi_check_term("args", args, len, &e)) return capi_done("hl_spawn", &e);
  if (!copy_paths(node, &path, &cpath))
    return capi_fail(HL_ECLOSED, "hl_spawn", "the node is stopping");
  ok = lspawn_from_c(node, module, fn, args, len, path, cpath, pid, msg, sizeof msg);
  free(path);
  free(cpath);
  if (ok) return HL_OK;
  err_set(&e, HL_EBADARG, "%s", msg);
  return err_publish(&e);
}
