/*
** cli_shell.c — the interactive prompt of `heirloom shell`, in the manner
** of lua.c: an expression is tried as "return <line>" first and printed,
** a chunk that ends in "<eof>" waits for more lines, errors are shown
** with a traceback. Input comes through libedit's callback interface
** when standard input is a terminal, so the loop can poll, beside it, the
** pipe through which the signals come (cli_signal.c); Tab completes Lua
** names there.
*/
#include <errno.h>
#include <lauxlib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli_lib.h"
#include "cli_shell.h"
#include "cli_signal.h"

#define PROMPT "> "
#define PROMPT_MORE ">> "
#define HISTORY_FILE ".heirloom_history"
#define HISTORY_SIZE 1000

typedef struct shell {
  lua_State *L;
  const cli_shell_remote *remote;   /* an attached console's, or NULL */
  int tty;
  char *chunk;             /* the lines of an incomplete chunk */
  size_t n, cap;
  int done;                /* 0, -1 at the end of input, or a signal */
  /* a terminal: the line libedit handed over */
  int have_line;
  char *line;
  /* not a terminal: bytes read and not yet split into lines */
  char *in;
  size_t inlen, incap;
} shell;

static shell *current;     /* for libedit's line callback */

/* The attached console's socket, polled beside the input; -1: none. */
static int remote_fd(const shell *sh) {
  return sh->remote != NULL ? sh->remote->fd : -1;
}

/* ---- running a chunk ---- */

static int message_handler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) return 1;   /* cli.print_error shows other values */
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void print_error(lua_State *L) {
  if (!cli_lib_call(L, "print_error", 1, 0)) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}

/* Runs the function on the stack top and prints what it returns. */
static void run_chunk(shell *sh) {
  lua_State *L = sh->L;
  int base = lua_gettop(L), status;
  lua_pushcfunction(L, message_handler);
  lua_insert(L, base);
  cli_signal_chunk(L);
  status = lua_pcall(L, 0, LUA_MULTRET, base);
  cli_signal_chunk(NULL);
  lua_remove(L, base);
  if (status != LUA_OK) {
    print_error(L);
  } else if (lua_gettop(L) >= base) {
    if (!cli_lib_call(L, "print_results", lua_gettop(L) - base + 1, 0)) print_error(L);
  }
  lua_settop(L, base - 1);
  if (!cli_lib_call(L, "after_chunk", 0, 0)) print_error(L);
}

static void chunk_add(shell *sh, const char *s, size_t len) {
  if (sh->n + len + 1 > sh->cap) {
    size_t cap = sh->cap ? sh->cap : 256;
    char *p;
    while (cap < sh->n + len + 1) cap *= 2;
    p = realloc(sh->chunk, cap);
    if (p == NULL) {
      fputs("heirloom: out of memory\n", stderr);
      exit(1);
    }
    sh->chunk = p;
    sh->cap = cap;
  }
  memcpy(sh->chunk + sh->n, s, len);
  sh->n += len;
  sh->chunk[sh->n] = '\0';
}

/* A syntax error at the end of the input: the chunk is not finished. */
static int incomplete(lua_State *L) {
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  static const char eof[] = "<eof>";
  return msg != NULL && len >= sizeof eof - 1 && strcmp(msg + len - (sizeof eof - 1), eof) == 0;
}

/* One line of input. Returns 1 when it completes a chunk (run, or
** reported as wrong), 0 when the chunk needs more lines. */
static int feed(shell *sh, const char *line) {
  lua_State *L = sh->L;
  if (sh->remote != NULL) {
    int r = sh->remote->feed(sh->remote->ud, line);
    if (r < 0) sh->done = -1;
    return r != 0;
  }
  if (sh->n == 0) {
    const char *ret = lua_pushfstring(L, "return %s;", line);
    if (luaL_loadbuffer(L, ret, strlen(ret), "=stdin") == LUA_OK) {
      lua_remove(L, -2);
      run_chunk(sh);
      return 1;
    }
    lua_pop(L, 2);
  }
  chunk_add(sh, line, strlen(line));
  if (luaL_loadbuffer(L, sh->chunk, sh->n, "=stdin") == LUA_OK) {
    sh->n = 0;
    run_chunk(sh);
    return 1;
  }
  if (incomplete(L)) {
    lua_pop(L, 1);
    chunk_add(sh, "\n", 1);
    return 0;
  }
  sh->n = 0;
  print_error(L);
  return 1;
}

/* The input ended inside a chunk: report why it does not compile. */
static void finish(shell *sh) {
  if (sh->n == 0 || sh->remote != NULL) return;
  if (luaL_loadbuffer(sh->L, sh->chunk, sh->n, "=stdin") == LUA_OK) {
    run_chunk(sh);
  } else {
    print_error(sh->L);
  }
  sh->n = 0;
}

/* ---- a terminal: libedit ---- */

static void on_line(char *line) {
  current->have_line = 1;
  current->line = line;
  /* libedit shows the prompt again as soon as this returns, before the
  ** chunk has run: let that be an empty one; the real one comes back
  ** with the handler after the run. */
  rl_set_prompt("");
}

/* Tab: Lua names (cli_lib's complete: globals, fields of tables and of
** the module, methods of handles), never file names. libedit asks for the
** matches one by one; they are made all at once, into `matches`. */
static char **matches;
static size_t nmatches, next_match;

static void forget_matches(void) {
  for (size_t i = next_match; i < nmatches; i++) free(matches[i]);
  free(matches);
  matches = NULL;
  nmatches = next_match = 0;
}

static void find_matches(const char *word) {
  lua_State *L = current->L;
  size_t n;
  forget_matches();
  lua_pushstring(L, word);
  if (!cli_lib_call(L, "complete", 1, 1)) {
    lua_pop(L, 1);                    /* no completion is better than a message mid-line */
    return;
  }
  n = (size_t)lua_rawlen(L, -1);
  matches = calloc(n > 0 ? n : 1, sizeof *matches);
  for (size_t i = 0; matches != NULL && i < n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    if ((matches[nmatches] = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "")) != NULL)
      nmatches++;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static char *next_completion(const char *word, int state) {
  if (state == 0) find_matches(word);
  if (next_match >= nmatches) return NULL;
  return matches[next_match++];      /* libedit frees it */
}

static char **complete(const char *word, int start, int end) {
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1;
  return rl_completion_matches(word, next_completion);
}

static char *history_path(void) {
  const char *home = getenv("HOME");
  char *path;
  if (home == NULL || home[0] == '\0') return NULL;
  path = malloc(strlen(home) + sizeof HISTORY_FILE + 1);
  if (path != NULL) sprintf(path, "%s/%s", home, HISTORY_FILE);
  return path;
}

static void tty_signal(shell *sh, int sig) {
  if (sig != SIGINT) {
    sh->done = sig;
    return;
  }
  /* Ctrl-C at the prompt drops what was typed, as a shell does */
  rl_callback_handler_remove();
  fputs("^C\n", stdout);
  fflush(stdout);
  sh->n = 0;
  if (sh->remote != NULL) sh->remote->interrupt(sh->remote->ud);
  rl_callback_handler_install(PROMPT, on_line);
}

static void tty_loop(shell *sh) {
  char *hist = history_path();
  rl_readline_name = "heirloom";
  rl_catch_signals = 0;
  rl_attempted_completion_function = complete;
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^#~[]";
  using_history();
  stifle_history(HISTORY_SIZE);
  if (hist != NULL) read_history(hist);
  if (sh->remote == NULL)
    fputs("heirloom shell (help() for the helpers, Ctrl-D to leave)\n", stdout);
  fflush(stdout);
  rl_callback_handler_install(PROMPT, on_line);
  while (!sh->done) {
    struct pollfd fds[3] = {{0, POLLIN, 0}, {cli_signal_fd(), POLLIN, 0}, {remote_fd(sh), POLLIN, 0}};
    int sig;
    if (poll(fds, 3, -1) < 0) continue;
    while (!sh->done && (sig = cli_signal_next()) != 0) tty_signal(sh, sig);
    if (!sh->done && fds[2].revents != 0 && sh->remote->event(sh->remote->ud)) sh->done = -1;
    if (sh->done || !(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    rl_callback_read_char();
    if (!sh->have_line) continue;
    sh->have_line = 0;
    rl_callback_handler_remove();  /* the terminal as it was, for the run */
    if (sh->line == NULL) {
      fputc('\n', stdout);
      sh->done = -1;
      break;
    }
  if (sh->line[0] != '\0') add_history(sh->line);
    rl_callback_handler_install(feed(sh, sh->line) ? PROMPT : PROMPT_MORE, on_line);
    free(sh->line);
    sh->line = NULL;
  }
  rl_callback_handler_remove();
  forget_matches();
  if (hist != NULL) write_history(hist);
  free(hist);
}

/* ---- not a terminal: plain lines ---- */

static void feed_lines(shell *sh, int at_eof) {
  size_t start = 0;
  for (size_t k = 0; k < sh->inlen && !sh->done; k++) {
    if (sh->in[k] != '\n') continue;
    int sig;
    sh->in[k] = '\0';
    feed(sh, sh->in + start);
    start = k + 1;
    if ((sig = cli_signal_next()) != 0) sh->done = sig;
  }
  memmove(sh->in, sh->in + start, sh->inlen - start);
  sh->inlen -= start;
  if (at_eof && sh->inlen > 0 && !sh->done) {
    sh->in[sh->inlen] = '\0';
    feed(sh, sh->in);
    sh->inlen = 0;
  }
}

static void pipe_loop(shell *sh) {
  while (!sh->done) {
    struct pollfd fds[3] = {{0, POLLIN, 0}, {cli_signal_fd(), POLLIN, 0}, {remote_fd(sh), POLLIN, 0}};
    int sig;
    ssize_t got;
    if (poll(fds, 3, -1) < 0) continue;
    if ((sig = cli_signal_next()) != 0) {
      sh->done = sig;
      break;
    }
    if (fds[2].revents != 0 && sh->remote->event(sh->remote->ud)) {
      sh->done = -1;
      break;
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    if (sh->incap - sh->inlen < 4096 + 1) {
      size_t cap = sh->incap ? sh->incap * 2 : 8192;
      char *p = realloc(sh->in, cap);
      if (p == NULL) {
        fputs("heirloom: out of memory\n", stderr);
        exit(1);
      }
      sh->in = p;
      sh->incap = cap;
    }
    got = read(0, sh->in + sh->inlen, sh->incap - sh->inlen - 1);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) {
      feed_lines(sh, 1);
      if (!sh->done) finish(sh);
      if (!sh->done) sh->done = -1;
      break;
    }
    sh->inlen += (size_t)got;
    feed_lines(sh, 0);
  }
}

static int shell_loop(lua_State *L, const cli_shell_remote *remote) {
  shell sh;
  memset(&sh, 0, sizeof sh);
  sh.L = L;
  sh.remote = remote;
  sh.tty = isatty(0) && isatty(1);
  current = &sh;
  cli_signal_prompt(1);
  if (sh.tty) tty_loop(&sh);
  else pipe_loop(&sh);
  cli_signal_prompt(0);
  current = NULL;
  free(sh.chunk);
  free(sh.in);
  free(sh.line);
  return sh.done > 0 ? sh.done : 0;
}

int cli_shell(lua_State *L) {
  return shell_loop(L, NULL);
}

int cli_shell_attached(const cli_shell_remote *remote) {
  return shell_loop(NULL, remote);
}
