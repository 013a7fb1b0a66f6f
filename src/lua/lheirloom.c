/*
** lheirloom.c — the Lua module `heirloom`: starting and stopping a node
** from Lua, the calling process's identity, and the per-state record the
** other binding files share (lbind.h). Each field of the module is made
** the first time it is read (every process has the module; most read a
** few fields of it), and pairs lists them all.
*/
#include <dlfcn.h>
#include <lauxlib.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "edurable.h"
#include "heirloom.h"
#include "lbind.h"
#include "lbody.h"
#include "ldist.h"
#include "lfault.h"
#include "lhandle.h"
#include "lintern.h"
#include "llist.h"
#include "llog.h"
#include "lproc.h"
#include "lready.h"
#include "lsim.h"
#include "lsupervisor.h"
#include "lstore.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"

#define LBIND_KEY "heirloom.state"
#define LBUF_META "heirloom.buffer"

/* ---- the per-state record ---- */

/* Lets go of this state's process and node; 1 if stopping the node had
** to abandon something (said in report). crash: the node ends as a kill
** -9 would end it (node_crash). */
static int detach_as(lbind *b, int crash, char *report, size_t size) {
  int abandoned = 0;
  if (b->me != NULL) {
    if (b->attached && b->me->host) proc_end_host(b->me);
    proc_unref(b->me);
    b->me = NULL;
  }
  if (b->node != NULL) {
    if (!b->attached) dist_stop(b->node);   /* first: nothing more comes in */
    if (b->attached) node_unref(b->node);
    else if (crash) abandoned = node_crash(b->node, report, size);
    else abandoned = node_stop(b->node, report, size);
    b->node = NULL;
  }
  return abandoned;
}

static int detach(lbind *b, char *report, size_t size) {
  return detach_as(b, 0, report, size);
}

static int lbind_gc(lua_State *L) {
  lbind *b = lua_touserdata(L, 1);
  detach(b, NULL, 0);
  lscratch_free(&b->scratch);
  return 0;
}

lbind *lbind_get(lua_State *L) {
  lbind *b;
  lua_getfield(L, LUA_REGISTRYINDEX, LBIND_KEY);
  b = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return b;
}

lbind *lbind_running(lua_State *L, const char *fname) {
  lbind *b = lbind_get(L);
  if (b == NULL || b->node == NULL)
    luaL_error(L, "heirloom.%s: the node is not started (call heirloom.start first)", fname);
  lbind_check_alive(L, b, fname);
  return b;
}

lscratch *lbind_borrow(lua_State *L, lbind *b, const char *fname) {
  lscratch *s = lscratch_borrow(&b->scratch);
  if (s == NULL) luaL_error(L, "heirloom.%s: out of memory", fname);
  return s;
}

void lbind_check_alive(lua_State *L, const lbind *b, const char *fname) {
  proc *p = b->me;
  if (p != NULL ? proc_alive(p) && !p->loading : !b->process) return;
  if (p == NULL || p->loading) {
    if (b->ahead != NULL) lready_refuse(L, b->ahead);
    luaL_error(L, "heirloom.%s: the process has not started yet (a module's top level runs "
                  "while spawn loads it)", fname);
  }
  /* An exit signal reaches a running process at its next hook tick; it
  ** has just noticed it here, on its own thread: no pcall may go on. */
  lbody_exit_now(L);
  if (p->co != NULL && p->co != L) lbody_exit_now(p->co);
  luaL_error(L, "heirloom.%s: the calling process is no longer alive", fname);
}

/* Starting and stopping belong to the host: a process that stopped the
** node would only cut itself off, and one that started a node would run
** a second engine inside itself. */
static void host_only(lua_State *L, const lbind *b, const char *fname) {
  if (b != NULL && b->process)
    luaL_error(L, "heirloom.%s: only the host may %s its node, not a process", fname, fname);
}

static int lbuf_gc(lua_State *L) {
  buf_free(luaL_checkudata(L, 1, LBUF_META));
  return 0;
}

buf *lbind_newbuf(lua_State *L) {
  buf *b = lua_newuserdatauv(L, sizeof(buf), 0);
  buf_init(b);
  if (luaL_newmetatable(L, LBUF_META)) {      /* made when first needed */
    lua_pushcfunction(L, lbuf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return b;
}

static lbind *create_record(lua_State *L) {
  lbind *b = lbind_get(L);
  if (b != NULL) return b;
  b = lua_newuserdatauv(L, sizeof(lbind), 0);
  memset(b, 0, sizeof *b);
  lscratch_init(&b->scratch);
  lua_newtable(L);
  lua_pushcfunction(L, lbind_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, LBIND_KEY);
  return b;
}

/* ---- start, stop ---- */

static int opt_integer(lua_State *L, int opts, const char *field, lua_Integer dflt) {
  lua_Integer v;
  int isnum;
  if (lua_getfield(L, opts, field) == LUA_TNIL) {
    lua_pop(L, 1);
    return (int)dflt;
  }
  v = lua_tointegerx(L, -1, &isnum);
  if (!isnum || v < 0 || v > 1024)
    luaL_error(L, "heirloom.start: opts.%s must be an integer from 0 to 1024", field);
  lua_pop(L, 1);
  return (int)v;
}

/* Which of names (NULL-terminated) the option table at idx has as field,
** or dflt when absent; where: the table's name in messages ("opts"). */
static int choice_in(lua_State *L, int idx, const char *where, const char *field,
                     const char *const *names, int dflt, const char *expected) {
  const char *s;
  if (lua_getfield(L, idx, field) == LUA_TNIL) {
    lua_pop(L, 1);
    return dflt;
  }
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  for (int i = 0; names[i] != NULL; i++)
    if (strcmp(s, names[i]) == 0) {
      lua_pop(L, 1);
      return i;
    }
  return luaL_error(L, "heirloom.start: %s.%s must be %s", where, field, expected);
}

static int choice_option(lua_State *L, int opts, const char *field, const char *const *names,
                         int dflt, const char *expected) {
  return choice_in(L, opts, "opts", field, names, dflt, expected);
}

/* opts.logger: the names in the order of logger.h's LOG_ modes. */
static int logger_option(lua_State *L, int opts) {
  static const char *const modes[] = {"stderr", "silent", "capture", NULL};
  return choice_option(L, opts, "logger", modes, LOG_STDERR,
                       "'stderr', 'silent' or 'capture'");
}

/* opts.log = {level =, format =, verbose =}: the node's log (logger.h). */
typedef struct log_opts {
  int level, format, verbose;
} log_opts;

static void log_option(lua_State *L, int opts, log_opts *o) {
  static const char *const levels[] = {"debug", "info", "notice", "warning", "error", "none",
                                       NULL};
  static const char *const formats[] = {"text", "json", NULL};
  int t;
  o->level = LOGLEVEL_INFO;
  o->format = LOGFORMAT_TEXT;
  o->verbose = 0;
  if (lua_getfield(L, opts, "log") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  t = lua_gettop(L);
  if (!lua_istable(L, t)) luaL_error(L, "heirloom.start: opts.log must be a table");
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (strcmp(k, "level") != 0 && strcmp(k, "format") != 0 && strcmp(k, "verbose") != 0)
      luaL_error(L, "heirloom.start: opts.log: unknown option '%s' (known: level, format, "
                    "verbose)", luaL_tolstring(L, -2, NULL));
    lua_pop(L, 1);
  }
  o->level = choice_in(L, t, "opts.log", "level", levels, LOGLEVEL_INFO,
                       "'debug', 'info', 'notice', 'warning', 'error' or 'none'");
  o->format = choice_in(L, t, "opts.log", "format", formats, LOGFORMAT_TEXT, "'text' or 'json'");
  if (lua_getfield(L, t, "verbose") != LUA_TNIL && !lua_isboolean(L, -1))
    luaL_error(L, "heirloom.start: opts.log.verbose must be a boolean");
  o->verbose = lua_toboolean(L, -1);
  lua_settop(L, t - 1);
}

/* clock, trace and schedule: deterministic mode's (docs/processes.md). */
static void simulation_options(lua_State *L, int opts, hl_config *cfg) {
  static const char *const clocks[] = {"default", "real", "virtual", NULL};
  static const char *const schedules[] = {"fifo", "random", NULL};
  cfg->clock = choice_option(L, opts, "clock", clocks + 1, -1, "'virtual' or 'real'") + 1;
  cfg->schedule = choice_option(L, opts, "schedule", schedules, HL_SCHEDULE_FIFO,
                                "'fifo' or 'random'");
  if (lua_getfield(L, opts, "trace") != LUA_TNIL && !lua_isboolean(L, -1))
    luaL_error(L, "heirloom.start: opts.trace must be a boolean");
  cfg->trace = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (cfg->schedulers > 0 && cfg->clock == HL_CLOCK_VIRTUAL)
    luaL_error(L, "heirloom.start: opts.clock = 'virtual' needs schedulers = 0 (a node with "
                  "scheduler threads runs on the real clock)");
  if (cfg->schedulers > 0 && cfg->trace)
    luaL_error(L, "heirloom.start: opts.trace needs schedulers = 0 (only a deterministic node "
                  "can be replayed)");
  if (cfg->schedule == HL_SCHEDULE_RANDOM && cfg->schedulers > 0)
    luaL_error(L, "heirloom.start: opts.schedule = 'random' needs schedulers = 0 (scheduler "
                  "threads pick for themselves)");
  if (cfg->schedule == HL_SCHEDULE_RANDOM && cfg->seed == 0)
    luaL_error(L, "heirloom.start: opts.schedule = 'random' needs opts.seed (the schedule is "
                  "drawn from it)");
}

static void check_start_opts(lua_State *L, int opts) {
  static const char *const known[] = {"schedulers", "data_dir", "logger", "log",
                                     "memory_limit", "sync", "on_load", "seed", "clock",
                                     "trace", "schedule", "dist", NULL};
  lua_pushnil(L);
  while (lua_next(L, opts) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int ok = 0;
    for (int i = 0; k != NULL && known[i] != NULL && !ok; i++) ok = strcmp(k, known[i]) == 0;
    if (!ok)
      luaL_error(L, "heirloom.start: unknown option '%s'", k != NULL ? k : luaL_typename(L, -2));
    lua_pop(L, 1);
  }
}

static void bind_host(lbind *b, node *n, uint64_t pid, int attached) {
  b->node = n;
  b->attached = attached;
  b->self = pid;
  b->me = ptab_get(&n->procs, pid);
}

/* on_load, called from the store while it loads: the Lua function is at
** stack index 2 of l_start; an error it raises stops the start and is left
** on the stack. */
static int call_on_load(void *ud, const char *name, size_t loaded, size_t total) {
  lua_State *L = ud;
  lua_pushvalue(L, 2);
  lua_pushstring(L, name);
  lua_pushinteger(L, (lua_Integer)loaded);
  lua_pushinteger(L, (lua_Integer)total);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) return 1;
  return 0;
}

static int l_start(lua_State *L) {
  lbind *b = create_record(L);
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = hl_default_schedulers()};
  int mode = LOG_STDERR;
  log_opts log = {LOGLEVEL_INFO, LOGFORMAT_TEXT, 0};
  const char *dist_name = NULL, *dist_cookie = NULL;
  node *n;
  hl_err e;
  host_only(L, b, "start");
  if (!lua_isnoneornil(L, 1)) {
    if (lua_type(L, 1) != LUA_TTABLE) return luaL_error(L, "heirloom.start: opts must be a table");
    check_start_opts(L, 1);
    cfg.schedulers = opt_integer(L, 1, "schedulers", cfg.schedulers);
    mode = logger_option(L, 1);
    log_option(L, 1, &log);
    if (lua_getfield(L, 1, "memory_limit") != LUA_TNIL) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 65536)
        return luaL_error(L, "heirloom.start: opts.memory_limit must be an integer of at "
                             "least 65536 bytes");
      cfg.memory_limit = (size_t)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "seed") != LUA_TNIL) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) == 0)
        return luaL_error(L, "heirloom.start: opts.seed must be a non-zero integer");
      cfg.seed = (int64_t)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    simulation_options(L, 1, &cfg);
    lua_settop(L, 1);
    if (lua_getfield(L, 1, "on_load") != LUA_TNIL && !lua_isfunction(L, 2))
      return luaL_error(L, "heirloom.start: opts.on_load must be a function");
    if (lua_isfunction(L, 2)) {
      cfg.on_load = call_on_load;
      cfg.on_load_ud = L;
    }
    lua_getfield(L, 1, "sync");
    cfg.sync = lstore_sync_arg(L, 3, "start", HL_SYNC_NONE);
    if (lua_getfield(L, 1, "data_dir") != LUA_TNIL &&
        (lua_type(L, 4) != LUA_TSTRING || lua_rawlen(L, 4) == 0 ||
         strlen(lua_tostring(L, 4)) != lua_rawlen(L, 4)))
      return luaL_error(L, "heirloom.start: opts.data_dir must be a non-empty path");
    cfg.data_dir = lua_tostring(L, 4);
    ldist_options(L, 1, &dist_name, &dist_cookie);
    if (dist_name != NULL && cfg.schedulers == 0)
      return luaL_error(L, "heirloom.start: opts.dist needs scheduler threads (a deterministic "
                           "node cannot take messages from the network)");
  }
  if (b->node != NULL) return luaL_error(L, "heirloom.start: the node is already running");
  n = node_new(&cfg);
  if (n == NULL) return luaL_error(L, "heirloom.start: out of memory");
  err_clear(&e);
  if (cfg.data_dir != NULL && edur_open(&n->tables, &cfg, &e) != HL_OK) {
    node_stop(n, NULL, 0);
    if (cfg.on_load != NULL && lua_gettop(L) > 4)   /* on_load raised: its error */
      return luaL_error(L, "heirloom.start: on_load: %s", luaL_tolstring(L, -1, NULL));
    return luaL_error(L, "heirloom.start: %s", e.msg);
  }
  logger_set_mode(&n->log, mode);
  logger_set_level(&n->log, log.level);
  logger_set_format(&n->log, log.format);
  logger_set_verbose(&n->log, log.verbose);
  if (dist_name != NULL) ldist_start(L, n, dist_name, dist_cookie);
  lhandle_reset(L);
  bind_host(b, n, n->host_pid, 0);
  return 0;
}

/* true; or false and what the node had to abandon to stop in bounded time. */
static int l_stop(lua_State *L) {
  lbind *b = lbind_get(L);
  char report[512];
  host_only(L, b, "stop");
  if (b == NULL || b->node == NULL) return 0;
  if (detach(b, report, sizeof report)) {
    lhandle_reset(L);
    lua_pushboolean(L, 0);
    lua_pushstring(L, report);
    return 2;
  }
  lhandle_reset(L);
  lua_pushboolean(L, 1);
  return 1;
}

/* The node ends as a kill -9 of the OS process would end it, as far as
** its data is concerned (docs/durability.md, "Crashing the node"): true,
** or false and what it had to abandon, as stop. */
static int l_crash(lua_State *L) {
  lbind *b = lbind_get(L);
  char report[512];
  int abandoned;
  host_only(L, b, "crash");
  if (b == NULL || b->node == NULL)
    return luaL_error(L, "heirloom.crash: the node is not started (call heirloom.start first)");
  if (b->attached)
    return luaL_error(L, "heirloom.crash: the node was not started by this state "
                         "(hl_lua_attach): only the program that started it may crash it");
  abandoned = detach_as(b, 1, report, sizeof report);
  lhandle_reset(L);
  lua_pushboolean(L, !abandoned);
  if (!abandoned) return 1;
  lua_pushstring(L, report);
  return 2;
}

static void push_crash(lua_State *L) {
  lua_pushcfunction(L, l_crash);
}

static const luaL_Reg functions[] = {
  {"start", l_start},
  {"stop", l_stop},
  {"kind", lhandle_kind},
  {"atom", lintern_atom},
  {"list", llist_new},
  {"ping", ldist_ping},
  {NULL, NULL}
};

/* Every field of the module is made the first time it is read (a process
** waiting in receive has read one or two of them), then kept in the
** module table; pairs makes them all first, so the module looks the same
** as if they had always been there.
**
** hl.table, hl.store, hl.log and hl._supervisor_core (for
** lua/heirloom/supervisor.lua) are built in C. hl.server, hl.supervisor
** and hl.tablemgr are Lua modules in lua/heirloom/, required on first
** use. */
static const char *const lua_libraries[] = {"server", "supervisor", "tablemgr", NULL};

/* Each pushes its library (or its function). */
static const struct {
  const char *name;
  void (*open)(lua_State *L);
} c_libraries[] = {
  {"table", lbind_open_table},
  {"store", lstore_open},
  {"log", llog_open},
  {"_supervisor_core", lsupervisor_open},
  /* tools of tests */
  {"crash", push_crash},
  {"fault", lfault_push},
  {NULL, NULL}
};

/* The lists of plain functions (no upvalues). */
static const luaL_Reg *const function_lists[] = {
  functions, lproc_functions, lpinfo_functions, lspawn_functions, lsim_functions, NULL
};

static const luaL_Reg *find_function(const luaL_Reg *list, const char *key) {
  for (; list->name != NULL; list++)
    if (strcmp(key, list->name) == 0) return list;
  return NULL;
}

/* Pushes a function of the module's, or returns 0 if it has none of that
** name. */
static int push_function(lua_State *L, const char *key) {
  const luaL_Reg *f = find_function(lproc_hot_functions, key);
  if (f != NULL) {
    lua_pushlightuserdata(L, lbind_get(L));   /* the record outlives its functions */
    luaL_getmetatable(L, LHANDLE_PID);        /* nil until the first pid (lproc.c) */
    lua_pushcclosure(L, f->func, 2);
    return 1;
  }
  for (int i = 0; function_lists[i] != NULL; i++)
    if ((f = find_function(function_lists[i], key)) != NULL) {
      lua_pushcfunction(L, f->func);
      return 1;
    }
  return 0;
}

/* Pushes field `key`, or returns 0 if heirloom has none of that name. */
static int open_field(lua_State *L, const char *key) {
  int i;
  if (push_function(L, key)) return 1;
  if (strcmp(key, "version") == 0) {
    lua_pushliteral(L, HL_VERSION);
    return 1;
  }
  for (i = 0; c_libraries[i].name != NULL; i++)
    if (strcmp(key, c_libraries[i].name) == 0) {
      c_libraries[i].open(L);
      return 1;
    }
  for (i = 0; lua_libraries[i] != NULL; i++)
    if (strcmp(key, lua_libraries[i]) == 0) {
      lua_getglobal(L, "require");
      lua_pushfstring(L, "heirloom.%s", key);
      lua_call(L, 1, 1);
      return 1;
    }
  return 0;
}

/* The module's __index: a field is made the first time it is read, then
** kept in the module table. */
static int load_field(lua_State *L) {
  const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (key == NULL || !open_field(L, key)) return 0;
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

/* Makes field key of the module at idx, unless it is there already. */
static void fill_field(lua_State *L, int idx, const char *key) {
  if (lua_getfield(L, idx, key) == LUA_TNIL) luaL_error(L, "heirloom: no field '%s'", key);
  lua_pop(L, 1);
}

/* A Lua library that cannot be found (no lua/heirloom/ on package.path:
** a host embedding the engine alone) is left out rather than failing the
** whole loop. */
static int require_library(lua_State *L) {
  lua_getfield(L, 1, lua_tostring(L, 2));
  return 0;
}

/* The module's __pairs: every field made, then the table's own next. */
static int all_fields(lua_State *L) {
  int i;
  luaL_checktype(L, 1, LUA_TTABLE);
  for (i = 0; function_lists[i] != NULL; i++)
    for (const luaL_Reg *f = function_lists[i]; f->name != NULL; f++) fill_field(L, 1, f->name);
  for (const luaL_Reg *f = lproc_hot_functions; f->name != NULL; f++) fill_field(L, 1, f->name);
  fill_field(L, 1, "version");
  for (i = 0; c_libraries[i].name != NULL; i++) fill_field(L, 1, c_libraries[i].name);
  for (i = 0; lua_libraries[i] != NULL; i++) {
    lua_pushcfunction(L, require_library);
    lua_pushvalue(L, 1);
    lua_pushstring(L, lua_libraries[i]);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) lua_pop(L, 1);
  }
  lua_getglobal(L, "next");
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* 1 if this module was built without ThreadSanitizer but runs under its
** runtime (preloaded to test the build that has it). TSan would not see
** the module's atomics, so each reference handed between threads by a
** counter (a process freed by the last thread holding it) would look like
** a data race: a false report, which the right build does not give. Looked
** up once: every process's state opens the module. */
static atomic_int tsan_known;      /* 0: not looked up yet; 1: no; 2: yes */

static int tsan_without_instrumentation(void) {
  int k = atomic_load(&tsan_known);
#if defined(__SANITIZE_THREAD__)
  k = 1;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  k = 1;
#endif
#endif
  if (k == 0) {
    k = dlsym(RTLD_DEFAULT, "__tsan_init") != NULL ? 2 : 1;
    atomic_store(&tsan_known, k);
  }
  return k == 2;
}

static void check_build(lua_State *L) {
  Dl_info self;
  const char *file = "heirloom";
  if (!tsan_without_instrumentation()) return;
  if (dladdr(&tsan_known, &self) && self.dli_fname != NULL) file = self.dli_fname;
  luaL_error(L, "heirloom: %s was built without ThreadSanitizer, but this process runs under "
                "its runtime, which cannot see the module's atomics (it would report data races "
                "that are none): load the module built with -fsanitize=thread (make check-tsan's "
                "build-tsan: HEIRLOOM_BUILD or package.cpath)", file);
}

/* The module's opener: with the C API of heirloom.h, the one name that
** heirloom.so exports (the build hides the rest: -fvisibility=hidden). */
__attribute__((visibility("default"))) int luaopen_heirloom(lua_State *L) {
  check_build(L);
  create_record(L);
  lua_newtable(L);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, load_field);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, all_fields);
  lua_setfield(L, -2, "__pairs");
  lua_setmetatable(L, -2);
  return 1;
}

int hl_lua_attach(lua_State *L, hl_node *n) {
  lbind *b;
  uint64_t pid;
  if (L == NULL || n == NULL) return 0;   /* nothing to attach */
  pid = node_new_host(n);
  if (pid == 0) return 0;
  luaL_requiref(L, "heirloom", luaopen_heirloom, 0);
  b = lbind_get(L);
  detach(b, NULL, 0);
  node_ref(n);
  bind_host(b, n, pid, 1);
  return 1;
}

hl_pid hl_lua_self(lua_State *L) {
  lbind *b = L != NULL ? lbind_get(L) : NULL;
  return b != NULL && b->me != NULL ? b->me->pid : 0;
}
