/*
** embed.c — a C host program that embeds heirloom: it starts a node, runs
** the etscounter application (examples/etscounter) in it through a Lua
** state bound to the node, drives a few increments, kills the counter
** server and the table manager, and after each step reads the counter
** straight from the table in C, with hl_table_open and hl_table_lookup.
**
**   build/embed_example [PROJECT_ROOT [LUA_DIR]]
**
** PROJECT_ROOT (default: the directory above the executable's) is where
** examples/etscounter/ is found, and LUA_DIR heirloom's Lua library
** (default: PROJECT_ROOT/lua; an installed one is
** `pkg-config --variable=lua_lmod heirloom`). Exit status 0 when every
** count read from C is the number of increments made.
*/
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>
#include <lua.h>

#include "heirloom.h"

/* Reports (the crash reports of the processes we kill, the supervisors'
** reports) are counted here instead of being printed: this program's
** output is its own lines. Called from any thread. */
static atomic_int reports;

static void count_report(void *ud, const char *report) {
  (void)ud;
  (void)report;
  atomic_fetch_add(&reports, 1);
}

/* The project's root: argv[1], else the executable's directory's parent. */
static int project_root(int argc, char **argv, char *out, size_t size) {
  char exe[PATH_MAX + 4];
  ssize_t n;
  char *slash;
  if (argc > 1) return (size_t)snprintf(out, size, "%s", argv[1]) < size;
  n = readlink("/proc/self/exe", exe, PATH_MAX - 1);
  if (n <= 0) return 0;
  exe[n] = '\0';
  slash = strrchr(exe, '/');
  if (slash == NULL) return 0;
  strcpy(slash, "/..");                 /* exe's directory, then up */
  return (size_t)snprintf(out, size, "%s", exe) < size;
}

/* Runs a chunk in the host's Lua state; returns its integer result (0 if
** it returns none), or -1 after printing the error. */
static long long run_lua(lua_State *L, const char *chunk) {
  long long v = 0;
  if (luaL_dostring(L, chunk) != LUA_OK) {
    fprintf(stderr, "embed: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  if (lua_gettop(L) > 0 && lua_isinteger(L, -1)) v = (long long)lua_tointeger(L, -1);
  lua_settop(L, 0);
  return v;
}

/* The count, read from C: the object {"count", n} under the key "count". */
static long long read_count(hl_table *t) {
  hl_buf key, out;
  size_t count = 0, at;
  uint32_t n = 0;
  int64_t v = -1;
  hl_buf_init(&key);
  hl_buf_init(&out);
  hl_term_string(&key, "count", 5);
  if (hl_table_lookup(t, key.data, key.len, &out, &count) != HL_OK) {
    fprintf(stderr, "embed: %s\n", hl_errmsg());
  } else if (count != 1) {
    fprintf(stderr, "embed: %zu objects under \"count\"\n", count);
  } else if ((at = hl_term_get_array(out.data, out.len, &n)) == 0 || n != 2) {
    fprintf(stderr, "embed: the counter object is not {\"count\", n}\n");
  } else {
    at += hl_term_size(out.data + at, out.len - at);          /* skip "count" */
    if (hl_term_get_int(out.data + at, out.len - at, &v) == 0) v = -1;
  }
  hl_buf_free(&key);
  hl_buf_free(&out);
  return (long long)v;
}

/* Kills the process registered as `name`, waits for its end, then for its
** supervisor to start the next one (told, not polling). */
static const char *const KILL =
  "local name = ...\n"
  "local old = hl.whereis(name)\n"
  "local ref = hl.monitor(old)\n"
  "hl.exit(old, 'kill')\n"
  "assert(hl.receive(function(m) return m[1] == 'DOWN' and m[2] == ref end, 5000))\n"
  "assert(hl.await_name(name, 5000), 'no restart')\n";

static int kill_process(lua_State *L, const char *name) {
  if (luaL_loadstring(L, KILL) != LUA_OK) return 0;
  lua_pushstring(L, name);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "embed: killing %s: %s\n", name, lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

static long long count_n(lua_State *L, int n) {
  long long last = -1;
  for (int i = 0; i < n; i++) last = run_lua(L, "return etscounter.count()");
  return last;
}

static int check(const char *what, long long from_c, long long expected) {
  printf("embed: %-44s the count read from C: %lld\n", what, from_c);
  if (from_c != expected) {
    printf("embed: FAILED: expected %lld\n", expected);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  char root[PATH_MAX], lib[PATH_MAX + 8], path[3 * PATH_MAX + 64];
  hl_config cfg;
  hl_node *node;
  hl_table *t = NULL;
  lua_State *L;
  int ok = 1;

  if (!project_root(argc, argv, root, sizeof root)) {
    fprintf(stderr, "embed: cannot find the project's root; give it as the first argument\n");
    return 2;
  }
  if (argc > 2) snprintf(lib, sizeof lib, "%s", argv[2]);
  else snprintf(lib, sizeof lib, "%s/lua", root);
  snprintf(path, sizeof path, "%s/examples/etscounter/?.lua;%s/?.lua;%s/?/init.lua", root, lib,
           lib);

  hl_config_init(&cfg);   /* the defaults, and the size of this hl_config */
  cfg.schedulers = 2;
  if (hl_node_start(&cfg, &node) != HL_OK) {
    fprintf(stderr, "embed: %s\n", hl_errmsg());
    return 1;
  }
  hl_node_set_logger(node, count_report, NULL);
  hl_node_set_path(node, path, NULL);          /* for hl_spawn from C */

  /* A Lua state of the host's, bound to the node: it is a host process,
  ** the parent of the application's supervisor. Processes spawned from it
  ** copy its package.path. */
  L = luaL_newstate();
  if (L == NULL) {
    hl_node_stop(node);
    return 1;
  }
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_pushstring(L, path);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  if (!hl_lua_attach(L, node)) {
    fprintf(stderr, "embed: hl_lua_attach failed\n");
    lua_close(L);
    hl_node_stop(node);
    return 1;
  }
  lua_setglobal(L, "hl");
  if (run_lua(L, "etscounter = require('etscounter')\n"
                 "hl.trap_exit(true)\n"
                 "sup = assert(etscounter.start())") < 0) {
    ok = 0;
    goto out;
  }
  printf("embed: the etscounter application runs in a node embedded in this C program\n");

  /* The table is the server's, protected: anyone may read it, from C too. */
  if (hl_table_open(node, "etscounter", &t) != HL_OK) {
    fprintf(stderr, "embed: hl_table_open: %s\n", hl_errmsg());
    ok = 0;
    goto out;
  }

  count_n(L, 3);
  ok &= check("3 increments;", read_count(t), 3);

  ok &= kill_process(L, "etscounter_srv");
  ok &= check("killed the counter server;", read_count(t), 3);
  count_n(L, 2);
  ok &= check("2 more increments;", read_count(t), 5);

  ok &= kill_process(L, "etsmgr_srv");
  ok &= check("killed the table manager;", read_count(t), 5);
  ok &= kill_process(L, "etscounter_srv");
  count_n(L, 1);
  ok &= check("killed the server again, 1 more increment;", read_count(t), 6);

  printf("embed: count = %lld (%d reports from the node, not shown)\n", read_count(t),
         atomic_load(&reports));
  if (run_lua(L, "etscounter.stop(sup)") < 0) ok = 0;

out:
  if (t != NULL) hl_table_release(t);
  lua_close(L);
  hl_node_stop(node);
  return ok ? 0 : 1;
}
