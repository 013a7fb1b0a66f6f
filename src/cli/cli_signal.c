/*
** cli_signal.c — the heirloom command's signals (see cli_signal.h).
**
** The node's threads keep SIGINT, SIGTERM and SIGHUP blocked; only the
** main thread, the host, takes them. Its handler does what is safe there
** and nothing more: it writes the signal to a pipe and, while the shell
** runs a chunk, sets the Lua hook that interrupts it (lua_sethook is safe
** in a handler). A watcher thread reads that pipe and does the rest,
** which takes locks: it records a signal that asks for a stop (the Lua
** side takes it with take_signal) and interrupts the host process
** (hl_interrupt), so that a host blocked in a receive — an application's
** start, the run loop, a chunk at the prompt — gives up at once with
** "interrupted", whatever it was waiting for. The interrupt lasts until
** the signal is taken, so code that catches the error and waits again
** cannot swallow it. In the shell the watcher also passes each signal on
** to a second pipe that the input loop polls, before it interrupts, so
** the loop has it by the time the interrupted chunk returns. A SIGINT that
** came while a chunk ran is the chunk's, even when the hook has ended the
** chunk before the watcher reads it: the handler marks it so.
*/
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cli_signal.h"

static int wake_pipe[2] = {-1, -1};   /* handler -> watcher */
static int loop_pipe[2] = {-1, -1};   /* watcher -> the shell's input loop */
static pthread_t watcher;

/* What the watcher decides by; guarded by lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static hl_node *node;
static hl_pid host;
static int mode;
static int prompt;     /* the shell's prompt is up */
static int chunk;      /* a chunk of the shell's is running */
static int pending;    /* a signal that asked for a stop, not taken yet */

/* The state a running chunk runs in, for the handler (lock-free). */
static _Atomic(lua_State *) hook_state;
static lua_State *chunk_state;        /* the same, for the main thread */

static void handled_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
}

static const char *signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

/* ---- in the handler ---- */

static void interrupt_chunk(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* Set on the byte the handler writes when a chunk was running: the hook
** may end that chunk before the watcher reads the byte, and the watcher
** must not take the signal for one that came at the prompt. */
#define DURING_CHUNK 0x80

static void on_signal(int sig) {
  int saved = errno;
  lua_State *L = atomic_load(&hook_state);
  unsigned char c = (unsigned char)(sig | (L != NULL ? DURING_CHUNK : 0));
  if (L != NULL) lua_sethook(L, interrupt_chunk, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  if (write(wake_pipe[1], &c, 1) < 0) {
    /* the pipe is full: enough signals are pending already */
  }
  errno = saved;
}

/* ---- in the watcher ---- */

static void pass_on(int sig) {
  unsigned char c = (unsigned char)sig;
  if (write(loop_pipe[1], &c, 1) < 0) {
    /* full: the loop has plenty to read */
  }
}

static void take_in(int byte) {
  int stop, sig = byte & ~DURING_CHUNK, during = (byte & DURING_CHUNK) != 0;
  pthread_mutex_lock(&lock);
  stop = mode == CLI_SIGNAL_RUN || sig != SIGINT || !prompt;
  if (mode == CLI_SIGNAL_SHELL && !(sig == SIGINT && (chunk || during))) pass_on(sig);
  if (stop) pending = sig;
  if ((stop || chunk) && node != NULL) hl_interrupt(node, host, 1);   /* NULL: an attached console's */
  pthread_mutex_unlock(&lock);
}

static void *watch(void *arg) {
  (void)arg;
  for (;;) {
    unsigned char c;
    ssize_t got = read(wake_pipe[0], &c, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return NULL;     /* cli_signal_stop closed the pipe */
    take_in(c);
  }
}

/* ---- on the main thread ---- */

static void close_pipes(void) {
  for (int k = 0; k < 2; k++) {
    if (wake_pipe[k] >= 0) close(wake_pipe[k]);
    if (loop_pipe[k] >= 0) close(loop_pipe[k]);
    wake_pipe[k] = loop_pipe[k] = -1;
  }
}

static void set_flags(int fd, int nonblocking) {
  if (nonblocking) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int cli_signal_start(hl_node *n, hl_pid h, int m) {
  struct sigaction sa;
  sigset_t set;
  if (pipe(wake_pipe) != 0 || pipe(loop_pipe) != 0) {
    close_pipes();
    return 0;
  }
  set_flags(wake_pipe[0], 0);          /* the watcher waits on it */
  set_flags(wake_pipe[1], 1);          /* a handler never blocks */
  set_flags(loop_pipe[0], 1);
  set_flags(loop_pipe[1], 1);
  pthread_mutex_lock(&lock);
  node = n;
  host = h;
  mode = m;
  prompt = chunk = pending = 0;
  pthread_mutex_unlock(&lock);
  /* created while the signals are blocked here: the watcher keeps them so */
  if (pthread_create(&watcher, NULL, watch, NULL) != 0) {
    close_pipes();
    return 0;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  handled_signals(&set);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  return 1;
}

void cli_signal_stop(void) {
  sigset_t set;
  handled_signals(&set);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  close(wake_pipe[1]);                 /* the watcher reads what is left, then ends */
  wake_pipe[1] = -1;
  pthread_join(watcher, NULL);
  close_pipes();
  pthread_mutex_lock(&lock);
  node = NULL;
  pthread_mutex_unlock(&lock);
}

int cli_signal_fd(void) {
  return loop_pipe[0];
}

int cli_signal_next(void) {
  unsigned char c;
  return read(loop_pipe[0], &c, 1) == 1 ? c : 0;
}

void cli_signal_prompt(int on) {
  pthread_mutex_lock(&lock);
  prompt = on;
  pthread_mutex_unlock(&lock);
}

void cli_signal_chunk(lua_State *L) {
  if (L != NULL) {
    chunk_state = L;
    atomic_store(&hook_state, L);
  } else {
    atomic_store(&hook_state, NULL);
    if (chunk_state != NULL) lua_sethook(chunk_state, NULL, 0, 0);   /* one that came too late */
  }
  pthread_mutex_lock(&lock);
  chunk = L != NULL;
  /* a SIGINT interrupts the chunk it came during, not the next one */
  if (L == NULL && pending == 0 && node != NULL) hl_interrupt(node, host, 0);
  pthread_mutex_unlock(&lock);
}

int cli_signal_take(lua_State *L) {
  int sig;
  pthread_mutex_lock(&lock);
  sig = pending;
  pending = 0;
  if (sig != 0 && !chunk && node != NULL) hl_interrupt(node, host, 0);
  pthread_mutex_unlock(&lock);
  if (sig == 0) lua_pushnil(L);
  else lua_pushstring(L, signal_name(sig));
  return 1;
}
