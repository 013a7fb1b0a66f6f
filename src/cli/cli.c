/*
** cli.c — the heirloom command: `heirloom run APP.lua` starts a node and
** the application's supervision tree and stops them in order on SIGINT or
** SIGTERM; `heirloom shell [APP.lua]` is a Lua prompt inside the running
** node (cli_shell.c); `heirloom repair DIR` repairs a damaged data
** directory and reports what it recovered and what was lost. The application files, the run loop and the shell's
** helpers are Lua (cli_lib.lua); this file owns the process: arguments,
** search paths, the node, and the signals.
**
** Signals (cli_signal.c) are blocked in every thread of the node; the
** main thread, the host, takes them, and a watcher thread interrupts the
** host's receive, whatever it waits for: the application's start, the run
** loop or a chunk at the shell's prompt.
*/
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_console.h"
#include "cli_lib.h"
#include "cli_remsh.h"
#include "cli_shell.h"
#include "cli_signal.h"
#include "heirloom.h"

/* Where `make install` puts heirloom's Lua library (the Makefile passes
** its LUA_LMOD, $(PREFIX)/share/lua/5.4). */
#ifndef HL_LUA_DIR
#define HL_LUA_DIR "/usr/local/share/lua/5.4"
#endif

typedef struct cli_opts {
  const char *command;     /* "run", "shell" or "repair" */
  const char *app;         /* APP.lua, or NULL; repair: the directory */
  int schedulers;          /* 0: not given */
  const char *data_dir;
  long long seed;          /* 0: not given */
  const char *log_level;   /* NULL: not given */
  const char *log_format;
  int verbose;
  const char *console;        /* run, shell: the console's socket; "": the default path */
  const char *console_secret; /* run, shell: the file of the console's secret */
  const char *attach;         /* shell --attach, remsh: the console to attach to */
  const char *secret;         /* shell --attach, remsh: the file of the secret to send */
  const char *name, *cookie;   /* Erlang distribution; NULL: not given */
} cli_opts;

#define USAGE_LINES                               \
  "usage: heirloom run [options] APP.lua\n"        \
  "       heirloom shell [options] [APP.lua]\n"    \
  "       heirloom shell --attach PATH [--secret FILE]\n" \
  "       heirloom remsh PATH [--secret FILE]\n"   \
  "       heirloom --help | --version\n"

static const char usage_text[] =
    USAGE_LINES
    "\n"
    "commands:\n"
    "  run APP.lua      start a node and the application's supervision tree;\n"
    "                   Ctrl-C or SIGTERM stops them in order\n"
    "  shell [APP.lua]  a Lua prompt inside a running node (with the application\n"
    "                   started first when given); i(), ps(), tree(), help()\n"
    "  shell --attach PATH, remsh PATH\n"
    "                   a prompt in a process of the node whose console is at\n"
    "                   PATH (a Unix socket, or tcp:HOST:PORT); Ctrl-D detaches,\n"
    "                   the node runs on\n"
    "  repair DIR       repair a damaged data directory and report what was\n"
    "                   recovered and what was lost (exit status 0: nothing\n"
    "                   lost, 3: data may have been lost, 1: not repaired)\n"
    "options:\n"
    "  --schedulers N   scheduler threads (default: the application's\n"
    "                   node.schedulers, else one per core)\n"
    "  --data-dir DIR   the node's data directory\n"
    "  --seed N         the node's seed (a non-zero integer): math.random in each\n"
    "                   process and injected faults draw from it\n"
    "  --log LEVEL      write the log from LEVEL up: debug, info (the default),\n"
    "                   notice, warning, error, or none\n"
    "  --log-format F   text (one line per event, the default) or json\n"
    "  --verbose        reasons in full in the log: tracebacks, module search paths\n"
    "  --console [PATH] open a console on a Unix socket (default: a path in\n"
    "                   $XDG_RUNTIME_DIR/heirloom/, else /tmp/heirloom-UID/),\n"
    "                   for the node's own user only; tcp:HOST:PORT (tcp::PORT:\n"
    "                   127.0.0.1) listens on a network port, only with a secret\n"
    "  --console-secret FILE  consoles must send the secret in FILE (owner-only)\n"
    "  --secret FILE    with --attach: the secret to send\n"
    "  --name NAME      join an Erlang cluster as NAME (name@host, or name)\n"
    "  --cookie COOKIE  its cookie (default: the one in ~/.erlang.cookie)\n"
    "  -h, --help       this text\n"
    "  -V, --version    the version\n"
    "\n"
    "Lua modules are found in the application's directory, then in heirloom's\n"
    "Lua library: $HEIRLOOM_LUA_DIR, else ../lua beside the command (a build\n"
    "tree), else " HL_LUA_DIR ".\n"
    "See docs/heirloom-command.md.\n";

static void say(const char *fmt, const char *a, const char *b) {
  fputs("heirloom: ", stderr);
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
}

static int usage_error(const char *fmt, const char *arg) {
  say(fmt, arg, NULL);
  fputs(USAGE_LINES "(heirloom --help tells more)\n", stderr);
  return 2;
}

/* ---- arguments ---- */

static int parse_int(const char *s, int *out) {
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 1024) return 0;
  *out = (int)v;
  return 1;
}

static int parse_seed(const char *s, long long *out) {
  char *end;
  long long v;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v == 0) return 0;
  *out = v;
  return 1;
}

static int is_one_of(const char *s, const char *const *names) {
  for (; *names != NULL; names++)
    if (strcmp(s, *names) == 0) return 1;
  return 0;
}

#define KNOWN_OPTIONS                                                                    \
  "--schedulers, --data-dir, --seed, --log, --log-format, --verbose, --console, "          \
  "--console-secret, --attach, --secret, --name, --cookie, --help, --version"

/* An option's value: "--opt=V" or "--opt V". NULL if missing. */
static const char *option_value(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (*i + 1 >= argc) return NULL;
  return argv[++*i];
}

static int is_option(const char *arg, const char *name) {
  size_t n = strlen(name);
  return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* --console's path: "--console=PATH", "--console PATH", or "" for the
** default when no path follows (the next argument an option, or an
** application file). */
static const char *console_path(int argc, char **argv, int *i) {
  const size_t len = sizeof "--console" - 1;
  const char *next;
  size_t n;
  if (argv[*i][len] == '=') return argv[*i] + len + 1;
  if (*i + 1 >= argc) return "";
  next = argv[*i + 1];
  n = strlen(next);
  if (next[0] == '-' || (n > 4 && strcmp(next + n - 4, ".lua") == 0)) return "";
  if (strcmp(next, "run") == 0 || strcmp(next, "shell") == 0) return "";
  ++*i;
  return next;
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, cli_opts *o) {
  int i;
  memset(o, 0, sizeof *o);
  if (argc < 2) return usage_error("%s", "no command given");
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage_text, stdout);
      return 0;
    } else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
      printf("heirloom %s (%s)\n", HL_VERSION, LUA_RELEASE);
      return 0;
    } else if (is_option(a, "--schedulers")) {
      const char *v = option_value(argc, argv, &i, "--schedulers");
      if (v == NULL || !parse_int(v, &o->schedulers))
        return usage_error("--schedulers: expected an integer from 1 to 1024, got '%s'",
                           v != NULL ? v : "");
    } else if (is_option(a, "--data-dir")) {
      o->data_dir = option_value(argc, argv, &i, "--data-dir");
      if (o->data_dir == NULL || o->data_dir[0] == '\0')
        return usage_error("%s", "--data-dir: expected a directory");
    } else if (is_option(a, "--seed")) {
      const char *v = option_value(argc, argv, &i, "--seed");
      if (v == NULL || !parse_seed(v, &o->seed))
        return usage_error("--seed: expected a non-zero integer, got '%s'", v != NULL ? v : "");
    } else if (is_option(a, "--log-format")) {
      static const char *const formats[] = {"text", "json", NULL};
      o->log_format = option_value(argc, argv, &i, "--log-format");
      if (o->log_format == NULL || !is_one_of(o->log_format, formats))
        return usage_error("--log-format: expected text or json, got '%s'",
                           o->log_format != NULL ? o->log_format : "");
    } else if (is_option(a, "--log")) {
      static const char *const levels[] = {"debug", "info", "notice", "warning", "error",
                                           "none", NULL};
      o->log_level = option_value(argc, argv, &i, "--log");
      if (o->log_level == NULL || !is_one_of(o->log_level, levels))
        return usage_error("--log: expected debug, info, notice, warning, error or none, got '%s'",
                           o->log_level != NULL ? o->log_level : "");
    } else if (strcmp(a, "--verbose") == 0) {
      o->verbose = 1;
    } else if (is_option(a, "--console")) {
      o->console = console_path(argc, argv, &i);
    } else if (is_option(a, "--console-secret")) {
      o->console_secret = option_value(argc, argv, &i, "--console-secret");
      if (o->console_secret == NULL || o->console_secret[0] == '\0')
        return usage_error("%s", "--console-secret: expected a file");
    } else if (is_option(a, "--secret")) {
      o->secret = option_value(argc, argv, &i, "--secret");
      if (o->secret == NULL || o->secret[0] == '\0')
        return usage_error("%s", "--secret: expected a file");
    } else if (is_option(a, "--attach")) {
      o->attach = option_value(argc, argv, &i, "--attach");
      if (o->attach == NULL || o->attach[0] == '\0')
        return usage_error("%s", "--attach: expected the console's socket");
    } else if (is_option(a, "--name")) {
      o->name = option_value(argc, argv, &i, "--name");
      if (o->name == NULL || o->name[0] == '\0')
        return usage_error("%s", "--name: expected a node name (name@host, or name)");
    } else if (is_option(a, "--cookie")) {
      o->cookie = option_value(argc, argv, &i, "--cookie");
      if (o->cookie == NULL || o->cookie[0] == '\0')
        return usage_error("%s", "--cookie: expected a cookie");
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error("unknown option '%s' (known: " KNOWN_OPTIONS ")", a);
    } else if (o->command == NULL) {
      if (strcmp(a, "run") != 0 && strcmp(a, "shell") != 0 && strcmp(a, "repair") != 0 &&
          strcmp(a, "remsh") != 0)
        return usage_error("unknown command '%s'", a);
      o->command = a;
    } else if (o->app == NULL) {
      o->app = a;
    } else {
      return usage_error("unexpected argument '%s'", a);
    }
  }
  if (o->command == NULL) return usage_error("%s", "no command given");
  if (o->cookie != NULL && o->name == NULL)
    return usage_error("%s", "--cookie: only with --name (the node's name in the cluster)");
  if (strcmp(o->command, "run") == 0 && o->app == NULL)
    return usage_error("%s", "run: which application? (heirloom run APP.lua)");
  if (strcmp(o->command, "repair") == 0 && o->app == NULL)
    return usage_error("%s", "repair: which directory? (heirloom repair DIR)");
  if (strcmp(o->command, "remsh") == 0) {
    if (o->app == NULL) return usage_error("%s", "remsh: which console? (heirloom remsh PATH)");
    o->attach = o->app;
    o->app = NULL;
  }
  if (o->attach != NULL && (o->app != NULL || o->console != NULL))
    return usage_error("%s", "--attach: a shell attached to a node takes no application and no --console");
  if (o->secret != NULL && o->attach == NULL)
    return usage_error("%s", "--secret: only with --attach (the node's own is --console-secret)");
  return -1;
}

/* ---- search paths ---- */

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory of heirloom's Lua library: $HEIRLOOM_LUA_DIR, else <the
** command's directory>/../lua (a build tree), else HL_LUA_DIR (an
** installed command). */
static int find_lua_dir(char *out, size_t size) {
  const char *env = getenv("HEIRLOOM_LUA_DIR");
  char exe[PATH_MAX];
  ssize_t n;
  if (env != NULL && env[0] != '\0') {
    snprintf(out, size, "%s", env);
    return 1;
  }
  n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    char *slash;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash != NULL) {
      *slash = '\0';
      int len = snprintf(out, size, "%s/../lua", exe);
      if (len > 0 && (size_t)len < size && is_dir(out)) return 1;
    }
  }
  snprintf(out, size, "%s", HL_LUA_DIR);
  return is_dir(out);
}

/* package.path = the application's directory, lua/, then what it was
** (LUA_PATH or Lua's default). Spawned processes copy it. */
static void set_paths(lua_State *L, const char *app) {
  char lua_dir[PATH_MAX];
  luaL_Buffer b;
  lua_getglobal(L, "package");
  luaL_buffinit(L, &b);
  if (app != NULL) {
    const char *slash = strrchr(app, '/');
    if (slash == NULL) {
      luaL_addstring(&b, "./?.lua;./?/init.lua;");
    } else {
      for (int k = 0; k < 2; k++) {
        luaL_addlstring(&b, app, (size_t)(slash - app));
        luaL_addstring(&b, k == 0 ? "/?.lua;" : "/?/init.lua;");
      }
    }
  }
  if (find_lua_dir(lua_dir, sizeof lua_dir)) {
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", lua_dir, lua_dir);
    luaL_addvalue(&b);
  }
  lua_getfield(L, -2, "path");
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
}

int luaopen_heirloom(lua_State *L);

static lua_State *new_state(const char *app) {
  lua_State *L = luaL_newstate();
  if (L == NULL) return NULL;
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_heirloom);
  lua_setfield(L, -2, "heirloom");
  lua_pop(L, 1);
  set_paths(L, app);
  return L;
}

/* ---- the application ---- */

/* Loads and checks APP.lua; leaves its description on the stack. */
static int load_app(lua_State *L, const char *path) {
  lua_pushstring(L, path);
  if (!cli_lib_call(L, "load", 1, 2)) return 0;
  if (lua_isnil(L, -2)) {
    lua_remove(L, -2);
    return 0;
  }
  lua_pushstring(L, path);
  lua_insert(L, -2);                       /* value, path, line */
  return cli_lib_call(L, "describe", 3, 1);
}

/* Durable tables loading at start: a line when a table starts, and one
** per step (every 65,536 keys) of a large one, on stderr. */
static int show_load(void *ud, const char *name, size_t loaded, size_t total) {
  (void)ud;
  if (loaded == 0 && total > 0)
    fprintf(stderr, "heirloom: loading table '%s' (%zu keys)\n", name, total);
  else if (loaded < total)
    fprintf(stderr, "heirloom: loading table '%s': %zu of %zu keys (%zu%%)\n", name, loaded,
            total, loaded * 100 / total);
  else if (total >= 65536)
    fprintf(stderr, "heirloom: table '%s' loaded\n", name);
  return 0;
}

/* The node's configuration: the application's node table, then flags. */
static void node_config(lua_State *L, int app, const cli_opts *o, hl_config *cfg) {
  hl_config_init(cfg);
  cfg->on_load = show_load;
  if (app != 0) {
    lua_getfield(L, app, "node");
    if (lua_getfield(L, -1, "schedulers") == LUA_TNUMBER)
      cfg->schedulers = (int)lua_tointeger(L, -1);
    if (lua_getfield(L, -2, "data_dir") == LUA_TSTRING)
      cfg->data_dir = lua_tostring(L, -1);   /* anchored by the app table */
    if (lua_getfield(L, -3, "memory_limit") == LUA_TNUMBER)
      cfg->memory_limit = (size_t)lua_tointeger(L, -1);
    if (lua_getfield(L, -4, "seed") == LUA_TNUMBER) cfg->seed = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 5);
  }
  if (o->seed != 0) cfg->seed = (int64_t)o->seed;
  if (o->schedulers > 0) cfg->schedulers = o->schedulers;
  if (o->data_dir != NULL) cfg->data_dir = o->data_dir;
  cfg->dist_name = o->name;
  cfg->dist_cookie = o->cookie;
}

/* ---- the console ---- */

static lua_State *console_state(void *app) {
  return new_state(app);
}

/* ---- signals ---- */

static void handled_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
}

/* ---- the commands ---- */

static void report(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  say("%s", msg != NULL ? msg : "(error object is not a string)", NULL);
  lua_pop(L, 1);
}

/* The node's log: the application's node table, then the flags. */
static int set_log(lua_State *L, int app, const cli_opts *o) {
  if (app != 0) lua_pushvalue(L, app);
  else lua_pushnil(L);
  lua_createtable(L, 0, 3);
  if (o->log_level != NULL) {
    lua_pushstring(L, o->log_level);
    lua_setfield(L, -2, "level");
  }
  if (o->log_format != NULL) {
    lua_pushstring(L, o->log_format);
    lua_setfield(L, -2, "format");
  }
  if (o->verbose) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "verbose");
  }
  if (cli_lib_call(L, "set_log", 2, 0)) return 1;
  report(L);
  return 0;
}

/* Starts the node, binds L to it as a host process, and takes the
** signals on this thread (the node's threads keep them blocked). */
static hl_node *start_node(lua_State *L, const hl_config *cfg, int signal_mode) {
  hl_node *node;
  sigset_t set;
  handled_signals(&set);
  pthread_sigmask(SIG_BLOCK, &set, NULL);  /* every thread from here on */
  if (hl_node_start(cfg, &node) != HL_OK) {
    say("cannot start the node: %s", hl_errmsg(), NULL);
    return NULL;
  }
  if (!hl_lua_attach(L, node)) {
    say("%s", "cannot start the node: out of memory", NULL);
    hl_node_stop(node);
    return NULL;
  }
  lua_pop(L, 1);
  if (!cli_signal_start(node, hl_lua_self(L), signal_mode)) {
    say("%s", "cannot watch for signals", NULL);
    lua_close(L);
    hl_node_stop(node);
    return NULL;
  }
  return node;
}

static void stop_node(lua_State *L, hl_node *node) {
  cli_signal_stop();
  lua_close(L);
  hl_node_stop(node);
}

/* Starts the application: 1 once it runs, 0 when a signal stopped it as
** it started, -1 when it cannot start (reported). */
static int start_app(lua_State *L, int app) {
  int started;
  lua_pushvalue(L, app);
  if (!cli_lib_call(L, "start", 1, 1)) {
    report(L);
    return -1;
  }
  started = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return started;
}

/* The node and what comes with it: its log and, if asked, a console.
** NULL, with everything undone, when any of it cannot start. */
static hl_node *start_all(lua_State *L, int app, const cli_opts *o, int signal_mode) {
  hl_config cfg;
  hl_node *node;
  if (!cli_console_prepare(L, app, o->console, o->console_secret)) return NULL;
  node_config(L, app, o, &cfg);
  node = start_node(L, &cfg, signal_mode);
  if (node == NULL) {
    cli_console_stop();     /* what cli_console_prepare made */
    return NULL;
  }
  if (!set_log(L, app, o) ||
      !cli_console_open(L, app, node, console_state, (void *)o->app, signal_mode == CLI_SIGNAL_RUN)) {
    cli_console_stop();
    stop_node(L, node);
    return NULL;
  }
  return node;
}

static int cmd_run(lua_State *L, int app, const cli_opts *o) {
  hl_node *node;
  int status = 1, started;
  node = start_all(L, app, o, CLI_SIGNAL_RUN);
  if (node == NULL) return 1;
  started = start_app(L, app);
  if (started == 0) {
    status = 0;                 /* stopped on a signal as it started */
  } else if (started > 0) {
    lua_pushvalue(L, app);
    lua_pushboolean(L, cli_console_is_open());
    if (cli_lib_call(L, "run", 2, 1)) {
      status = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
    } else {
      report(L);
    }
  }
  cli_console_stop();
  stop_node(L, node);
  return status;
}

static int cmd_shell(lua_State *L, int app, const cli_opts *o) {
  hl_node *node;
  int status = 0;
  node = start_all(L, app, o, CLI_SIGNAL_SHELL);
  if (node == NULL) return 1;
  if (app != 0) {
    int started = start_app(L, app);
    if (started <= 0) {
      cli_console_stop();
      stop_node(L, node);
      return started < 0;
    }
  }
  lua_pushglobaltable(L);
  if (!cli_lib_call(L, "install_globals", 1, 0)) {
    report(L);
    status = 1;
  } else {
    int sig = cli_shell(L);
    if (sig != 0) say("%s: leaving the shell", sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "SIGINT", NULL);
  }
  if (app != 0) {
    lua_pushvalue(L, app);
    if (!cli_lib_call(L, "stop_and_say", 1, 0)) {
      report(L);
      status = 1;
    }
  }
  cli_console_stop();
  stop_node(L, node);
  return status;
}

/* `heirloom repair DIR`: hl.store.repair, no node; prints its report.
** Exit status 0: nothing was lost; 3: data may have been lost; 1: not
** repaired. */
static int cmd_repair(lua_State *L, const char *dir) {
  int status = 1;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "heirloom");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
    lua_getfield(L, -1, "store");
    lua_getfield(L, -1, "repair");
    lua_pushstring(L, dir);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
      lua_getfield(L, -1, "text");
      fputs(lua_tostring(L, -1), stdout);
      lua_getfield(L, -2, "may_have_lost");
      status = lua_toboolean(L, -1) ? 3 : 0;
    } else {
      report(L);
    }
  } else {
    report(L);
  }
  lua_close(L);
  return status;
}

int main(int argc, char **argv) {
  cli_opts o;
  lua_State *L;
  int status, app = 0;
  status = parse_args(argc, argv, &o);
  if (status >= 0) return status;
  if (o.attach != NULL) return cli_remsh(o.attach, o.secret);
  if (strcmp(o.command, "repair") == 0) {
    L = new_state(NULL);
    if (L == NULL) {
      say("%s", "cannot create a Lua state: out of memory", NULL);
      return 1;
    }
    return cmd_repair(L, o.app);
  }
  L = new_state(o.app);
  if (L == NULL) {
    say("%s", "cannot create a Lua state: out of memory", NULL);
    return 1;
  }
  if (!cli_lib_open(L)) {
    report(L);
    lua_close(L);
    return 1;
  }
  lua_pushcfunction(L, cli_signal_take);
  lua_setfield(L, -2, "take_signal");
  lua_pop(L, 1);
  if (o.app != NULL) {
    if (!load_app(L, o.app)) {
      report(L);
      lua_close(L);
      return 1;
    }
    app = lua_gettop(L);
  }
  if (strcmp(o.command, "run") == 0) return cmd_run(L, app, &o);
  return cmd_shell(L, app, &o);
}
