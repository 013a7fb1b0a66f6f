/*
** cli_console.c — the node's side of the remote console (see
** cli_console.h): `heirloom run --console PATH` listens on a Unix socket;
** on a network port only when asked (`--console tcp:HOST:PORT`), and then
** only with a secret, since nothing tells who is at the other end.
**
** Why this shape: the socket's work is blocking I/O, which must never
** happen on a scheduler thread, and the console's evaluation is Lua code
** that must run in a process of the node. So a listener thread accepts,
** and each connection gets a thread of its own that checks who is there
** (SO_PEERCRED: the node's own user only; then the secret, if the node
** has one, compared in constant time) and then becomes a host process
** with a Lua state of its own, running heirloom.console's relay: it
** spawns the evaluator process and carries lines one way and output the
** other. A thread per console keeps each one simple and independent: a
** client that sends garbage or stops reading blocks its own thread, not
** the listener, the other consoles or the node. Frames are bounded
** (CLI_CONSOLE_MAX_TEXT); anything else on the socket closes that
** connection with a message.
**
** Stopping: a pipe that is written once and never read tells the
** listener and every relay, whatever they poll, that the node stops; each
** relay then kills its evaluator, says "heirloom: the node is stopping"
** and closes; cli_console_stop waits for all of them and removes the
** socket file.
*/
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli_addr.h"
#include "cli_console.h"
#include "term.h"

#define MAX_CONSOLES 32
#define HANDSHAKE_MS 10000
#define MAX_SECRET 4096

/* ---- frames ---- */

static int write_all(int fd, const void *p, size_t n) {
  const char *s = p;
  while (n > 0) {
    ssize_t put = send(fd, s, n, MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return 0;
    s += put;
    n -= (size_t)put;
  }
  return 1;
}

int cli_console_send(int fd, int type, const void *text, size_t len) {
  do {
    size_t n = len > CLI_CONSOLE_MAX_TEXT ? CLI_CONSOLE_MAX_TEXT : len;
    unsigned char head[5] = {(unsigned char)type, (unsigned char)(n >> 24),
                             (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
    if (!write_all(fd, head, sizeof head) || !write_all(fd, text, n)) return 0;
    text = (const char *)text + n;
    len -= n;
  } while (len > 0);
  return 1;
}

int cli_frames_fill(cli_frames *f, int fd) {
  ssize_t got;
  if (f->cap - f->len < 65536) {
    size_t cap = f->cap ? f->cap * 2 : 65536 * 2;
    unsigned char *p;
    /* a frame and a half is all a client may have on its way: more is
    ** a client that does not wait for answers; it is closed */
    if (cap > 2 * (CLI_CONSOLE_MAX_TEXT + 5) + 65536) return 0;
    p = realloc(f->buf, cap);
    if (p == NULL) return 0;
    f->buf = p;
    f->cap = cap;
  }
  do {
    got = recv(fd, f->buf + f->len, f->cap - f->len, 0);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return 0;
  f->len += (size_t)got;
  return 1;
}

static int known_type(int t) {
  return t == CLI_FRAME_SECRET || t == CLI_FRAME_LINE || t == CLI_FRAME_INTERRUPT ||
         t == CLI_FRAME_HELLO || t == CLI_FRAME_OUT || t == CLI_FRAME_ERR ||
         t == CLI_FRAME_DONE || t == CLI_FRAME_MORE || t == CLI_FRAME_BYE;
}

int cli_frames_next(cli_frames *f, int *type, char **text, size_t *len) {
  uint32_t n;
  if (f->len < 1) return 0;
  if (!known_type(f->buf[0])) return -1;
  if (f->len < 5) return 0;
  n = (uint32_t)f->buf[1] << 24 | (uint32_t)f->buf[2] << 16 | (uint32_t)f->buf[3] << 8 | f->buf[4];
  if (n > CLI_CONSOLE_MAX_TEXT) return -1;
  if (f->len < 5 + (size_t)n) return 0;
  *text = malloc((size_t)n + 1);
  if (*text == NULL) return -1;
  memcpy(*text, f->buf + 5, n);
  (*text)[n] = '\0';
  *type = f->buf[0];
  *len = n;
  memmove(f->buf, f->buf + 5 + n, f->len - 5 - n);
  f->len -= 5 + n;
  return 1;
}

void cli_frames_free(cli_frames *f) {
  free(f->buf);
  memset(f, 0, sizeof *f);
}

/* ---- secrets and paths ---- */

char *cli_console_read_secret(const char *path, size_t *len, char *err, size_t errsize) {
  struct stat st;
  char *s;
  ssize_t got;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errsize, "secret file %s: %s", path, strerror(errno));
    return NULL;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() ||
      (st.st_mode & 077) != 0) {
    snprintf(err, errsize, "secret file %s: it must be a file of yours that nobody else can "
             "read or write (chmod 600 %s)", path, path);
    close(fd);
    return NULL;
  }
  s = malloc(MAX_SECRET + 1);
  got = s != NULL ? read(fd, s, MAX_SECRET + 1) : -1;
  close(fd);
  if (got < 0 || got > MAX_SECRET) {
    snprintf(err, errsize, "secret file %s: %s", path,
             got < 0 ? "cannot be read" : "longer than 4096 bytes");
    free(s);
    return NULL;
  }
  while (got > 0 && (s[got - 1] == '\n' || s[got - 1] == '\r')) got--;
  if (got == 0) {
    snprintf(err, errsize, "secret file %s: it is empty", path);
    free(s);
    return NULL;
  }
  s[got] = '\0';
  *len = (size_t)got;
  return s;
}

/* A directory of the user's own, closed to others, created if missing. */
static int private_dir(const char *dir, char *err, size_t errsize) {
  struct stat st;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    snprintf(err, errsize, "console: cannot create %s: %s", dir, strerror(errno));
    return 0;
  }
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
      (st.st_mode & 077) != 0) {
    snprintf(err, errsize, "console: %s must be a directory of yours that nobody else can "
             "use (chmod 700 %s)", dir, dir);
    return 0;
  }
  return 1;
}

int cli_console_default_path(const char *name, char *out, size_t size, char *err,
                             size_t errsize) {
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
  int n;
  if (xdg != NULL && xdg[0] != '\0') n = snprintf(dir, sizeof dir, "%s/heirloom", xdg);
  else n = snprintf(dir, sizeof dir, "/tmp/heirloom-%u", (unsigned)getuid());
  if (n < 0 || (size_t)n >= sizeof dir) {
    snprintf(err, errsize, "console: the runtime directory's path is too long");
    return 0;
  }
  if (!private_dir(dir, err, errsize)) return 0;
  n = snprintf(out, size, "%s/%s.sock", dir, name);
  if (n < 0 || (size_t)n >= size) {
    snprintf(err, errsize, "console: the socket's path is too long");
    return 0;
  }
  return 1;
}

/* ---- the listener's state ---- */

typedef struct console {
  int fd;
  cli_frames in;
  hl_node *node;
  const cli_console_config *cfg;
} console;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t idle;       /* signalled when a relay ends */
  int started;
  int tcp;                   /* a network console: no SO_PEERCRED, no socket file */
  int listen_fd;
  int stop_pipe[2];          /* written once at the stop, never read */
  pthread_t listener;
  int relays;                /* relay threads running */
  hl_node *node;
  cli_console_config cfg;    /* its strings are the caller's, alive till the stop */
  char path[sizeof ((struct sockaddr_un *)0)->sun_path];
} C = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, -1, {-1, -1}, 0, 0, NULL, {0}, ""};

/* What the command asked for (cli_console_prepare). */
static struct {
  int wanted;
  char path[sizeof ((struct sockaddr_un *)0)->sun_path];
  char *secret;              /* NULL: none */
  size_t secret_len;
  char keeper[48];           /* the text of the pid that restarts the application */
} setup;

static void say(const char *fmt, const char *a, long b) {
  char line[1024];
  snprintf(line, sizeof line, fmt, a, b);
  fprintf(stderr, "heirloom: %s\n", line);
}

static void bye(int fd, const char *why) {
  cli_console_send(fd, CLI_FRAME_BYE, why, strlen(why));
}

/* Waits for fd to be readable; 1 readable, 0 timeout, -1 the node stops. */
static int wait_input(int fd, int ms) {
  struct pollfd p[2] = {{fd, POLLIN, 0}, {C.stop_pipe[0], POLLIN, 0}};
  int n;
  do {
    n = poll(p, 2, ms);
  } while (n < 0 && errno == EINTR);
  if (n < 0 || (p[1].revents & (POLLIN | POLLHUP))) return -1;
  return n > 0;
}

/* ---- a relay: Lua's conn.next and conn.send ---- */

static const char *frame_kind(int type) {
  switch (type) {
    case CLI_FRAME_LINE: return "line";
    case CLI_FRAME_INTERRUPT: return "interrupt";
    default: return NULL;
  }
}

/* conn.next(ms): the client's next request (see heirloom.console). */
static int conn_next(lua_State *L) {
  console *c = lua_touserdata(L, lua_upvalueindex(1));
  int ms = (int)luaL_checkinteger(L, 1);
  for (;;) {
    int type, got, ready;
    char *text;
    size_t len;
    got = cli_frames_next(&c->in, &type, &text, &len);
    if (got < 0 || (got > 0 && frame_kind(type) == NULL)) {
      if (got > 0) free(text);
      bye(c->fd, "heirloom: console: that is not the console's protocol, or a line longer "
                 "than 1 MiB: closing");
      lua_pushliteral(L, "closed");
      return 1;
    }
    if (got > 0) {
      lua_pushstring(L, frame_kind(type));
      lua_pushlstring(L, text, len);
      free(text);
      return 2;
    }
    ready = wait_input(c->fd, ms);
    if (ready < 0) {
      lua_pushliteral(L, "stopping");
      return 1;
    }
    if (ready == 0) return 0;
    if (!cli_frames_fill(&c->in, c->fd)) {
      lua_pushliteral(L, "closed");
      return 1;
    }
    ms = 0;
  }
}

/* conn.send(kind [, text]) */
static int conn_send(lua_State *L) {
  static const char *const kinds[] = {"hello", "out", "err", "done", "more", NULL};
  static const char types[] = {CLI_FRAME_HELLO, CLI_FRAME_OUT, CLI_FRAME_ERR, CLI_FRAME_DONE,
                               CLI_FRAME_MORE};
  console *c = lua_touserdata(L, lua_upvalueindex(1));
  int k = luaL_checkoption(L, 1, NULL, kinds);
  size_t len = 0;
  const char *text = luaL_optlstring(L, 2, "", &len);
  lua_pushboolean(L, cli_console_send(c->fd, types[k], text, len));
  return 1;
}

/* heirloom.console.relay(conn, app): returns why it ended. */
static int run_relay(lua_State *L) {
  console *c = lua_touserdata(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "heirloom.console");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "relay");
  lua_createtable(L, 0, 2);
  lua_pushlightuserdata(L, c);
  lua_pushcclosure(L, conn_next, 1);
  lua_setfield(L, -2, "next");
  lua_pushlightuserdata(L, c);
  lua_pushcclosure(L, conn_send, 1);
  lua_setfield(L, -2, "send");
  lua_createtable(L, 0, 2);
  lua_pushstring(L, c->cfg->app_name);
  lua_setfield(L, -2, "name");
  if (c->cfg->top_name != NULL) {
    lua_pushstring(L, c->cfg->top_name);
    lua_setfield(L, -2, "top");
  }
  if (c->cfg->keeper != NULL) {
    lua_pushstring(L, c->cfg->keeper);
    lua_setfield(L, -2, "keeper");
  }
  lua_call(L, 2, 1);
  return 1;
}

static int relay_session(console *c) {
  lua_State *L = c->cfg->new_state(c->cfg->new_state_ud);
  int stopping = 0;
  if (L == NULL) return 0;
  if (!hl_lua_attach(L, c->node)) {
    lua_close(L);
    return 0;
  }
  lua_settop(L, 0);
  lua_pushcfunction(L, run_relay);
  lua_pushlightuserdata(L, c);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) say("console: %s", lua_tostring(L, -1), 0);
  else stopping = strcmp(lua_tostring(L, -1), "stopping") == 0;
  lua_close(L);
  return stopping;
}

/* ---- a relay: who is there ---- */

/* Equal secrets, in a time that does not depend on where they differ. */
static int same_secret(const char *a, size_t alen, const char *b, size_t blen) {
  size_t n = alen > blen ? alen : blen;
  unsigned diff = alen != blen;
  for (size_t k = 0; k < n; k++)
    diff |= (unsigned char)(k < alen ? a[k] : 0) ^ (unsigned char)(k < blen ? b[k] : 0);
  return diff == 0;
}

/* Who is there: the node's own user, with the node's secret if it has
** one. The client's first frame (its secret) is read before anything is
** refused: a socket closed with unread input would reset the connection,
** and the client would lose the reason. 1 accepted, 0 refused (said). */
static int handshake(console *c) {
  struct ucred who = {0, (uid_t)-1, (gid_t)-1};
  socklen_t size = sizeof who;
  char why[160];
  int type = 0, got = 0;
  char *text = NULL;
  size_t len = 0;
  while ((got = cli_frames_next(&c->in, &type, &text, &len)) == 0) {
    if (wait_input(c->fd, HANDSHAKE_MS) <= 0 || !cli_frames_fill(&c->in, c->fd)) return 0;
  }
  if (got < 0 || type != CLI_FRAME_SECRET) {
    if (got > 0) free(text);
    say("%s", "console refused: a client that does not speak the console's protocol", 0);
    bye(c->fd, "heirloom: console refused: not a console client");
    return 0;
  }
  if (!C.tcp &&
      (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &who, &size) != 0 || who.uid != getuid())) {
    free(text);
    snprintf(why, sizeof why, "console refused: user %ld is not the node's owner (uid %ld)",
             (long)who.uid, (long)getuid());
    say("%s", why, 0);
    snprintf(why, sizeof why, "heirloom: console refused: user %ld is not the node's owner "
             "(uid %ld)", (long)who.uid, (long)getuid());
    bye(c->fd, why);
    return 0;
  }
  if (C.cfg.secret != NULL && !same_secret(text, len, C.cfg.secret, C.cfg.secret_len)) {
    free(text);
    say("%s", "console refused: wrong secret", 0);
    bye(c->fd, "heirloom: console refused: wrong secret");
    return 0;
  }
  free(text);
  return 1;
}

/* Closes a connection so that the client reads what it was told last:
** a socket closed with input it has not read resets the connection, and
** the client would lose that. What the client still sends is read and
** dropped for a moment (200 ms, 4 MiB at most). */
static void close_gently(int fd) {
  char sink[4096];
  size_t drained = 0;
  shutdown(fd, SHUT_WR);
  while (drained < 4u << 20 && wait_input(fd, 200) > 0) {
    ssize_t got = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (got <= 0) break;
    drained += (size_t)got;
  }
  close(fd);
}

static void *relay(void *arg) {
  console *c = arg;
  if (handshake(c)) {
    say("console attached (%s)", C.path, 0);
    if (relay_session(c)) bye(c->fd, "heirloom: the node is stopping");
    else say("console detached (%s)", C.path, 0);
  }
  close_gently(c->fd);
  cli_frames_free(&c->in);
  free(c);
  pthread_mutex_lock(&C.lock);
  C.relays--;
  pthread_cond_broadcast(&C.idle);
  pthread_mutex_unlock(&C.lock);
  return NULL;
}

/* ---- the listener ---- */

static void accept_one(void) {
  pthread_t t;
  pthread_attr_t attr;
  console *c;
  int fd = accept4(C.listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return;
  pthread_mutex_lock(&C.lock);
  if (C.relays >= MAX_CONSOLES) {
    pthread_mutex_unlock(&C.lock);
    bye(fd, "heirloom: console refused: too many consoles attached (32)");
    close(fd);
    return;
  }
  C.relays++;
  pthread_mutex_unlock(&C.lock);
  c = calloc(1, sizeof *c);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (c != NULL) {
    c->fd = fd;
    c->node = C.node;
    c->cfg = &C.cfg;
  }
  if (c == NULL || pthread_create(&t, &attr, relay, c) != 0) {
    free(c);
    close(fd);
    pthread_mutex_lock(&C.lock);
    C.relays--;
    pthread_mutex_unlock(&C.lock);
  }
  pthread_attr_destroy(&attr);
}

static void *listen_loop(void *arg) {
  (void)arg;
  for (;;) {
    int ready = wait_input(C.listen_fd, -1);
    if (ready < 0) return NULL;
    if (ready > 0) accept_one();
  }
}

/* Binds path: a stale socket (nobody answers) is replaced, a live one is
** an error. */
static int bind_socket(const char *path, char *err, size_t errsize) {
  struct sockaddr_un addr;
  struct stat st;
  int fd;
  if (strlen(path) >= sizeof addr.sun_path) {
    snprintf(err, errsize, "--console %s: the path is too long for a Unix socket (%zu bytes "
             "at most)", path, sizeof addr.sun_path - 1);
    return -1;
  }
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, errsize, "--console %s: %s", path, strerror(errno));
    return -1;
  }
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      snprintf(err, errsize, "--console %s: the file exists and is not a socket", path);
      close(fd);
      return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
      snprintf(err, errsize, "--console %s: another node is listening there", path);
      close(fd);
      return -1;
    }
    unlink(path);          /* a killed node's: nobody answers */
  }
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || chmod(path, 0600) != 0 ||
      listen(fd, 16) != 0) {
    snprintf(err, errsize, "--console %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* Removes the socket file of a console on a Unix socket. */
static void remove_socket(const char *path) {
  if (!C.tcp) unlink(path);
}

static int console_start(hl_node *node, const cli_console_config *cfg, char *err, size_t errsize) {
  sigset_t all, old;
  char addr_err[400];
  int fd;
  C.tcp = cli_addr_is_tcp(cfg->path);
  if (!C.tcp) {
    fd = bind_socket(cfg->path, err, errsize);
    snprintf(C.path, sizeof C.path, "%s", cfg->path);
  } else if ((fd = cli_addr_listen(cfg->path, C.path, sizeof C.path, addr_err,
                                   sizeof addr_err)) < 0) {
    snprintf(err, errsize, "--console %s", addr_err);
  }
  if (fd < 0) return 0;
  if (pipe2(C.stop_pipe, O_CLOEXEC) != 0) {
    snprintf(err, errsize, "--console: %s", strerror(errno));
    close(fd);
    remove_socket(cfg->path);
    return 0;
  }
  C.listen_fd = fd;
  C.node = node;
  C.cfg = *cfg;
  C.relays = 0;
  /* the listener and the relays keep every signal blocked: they are the
  ** main thread's to take */
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  if (pthread_create(&C.listener, NULL, listen_loop, NULL) != 0) {
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    snprintf(err, errsize, "--console: cannot start the listener");
    close(fd);
    close(C.stop_pipe[0]);
    close(C.stop_pipe[1]);
    remove_socket(cfg->path);
    return 0;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  C.started = 1;
  return 1;
}

void cli_console_stop(void) {
  free(setup.secret);
  memset(&setup, 0, sizeof setup);
  if (!C.started) return;
  C.started = 0;
  if (write(C.stop_pipe[1], "x", 1) < 0) {
    /* cannot fail on a fresh pipe */
  }
  pthread_join(C.listener, NULL);
  close(C.listen_fd);
  remove_socket(C.path);
  pthread_mutex_lock(&C.lock);
  while (C.relays > 0) pthread_cond_wait(&C.idle, &C.lock);
  pthread_mutex_unlock(&C.lock);
  close(C.stop_pipe[0]);
  close(C.stop_pipe[1]);
}

/* ---- what the command asks for ---- */

static const char *app_string(lua_State *L, int app, const char *table, const char *field) {
  const char *v = NULL;
  if (app == 0) return NULL;
  if (table == NULL) {
    if (lua_getfield(L, app, field) == LUA_TSTRING) v = lua_tostring(L, -1);
    lua_pop(L, 1);
    return v;                           /* anchored by the application's table */
  }
  if (lua_getfield(L, app, table) == LUA_TTABLE) {
    if (lua_getfield(L, -1, field) == LUA_TSTRING) v = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return v;
}

int cli_console_prepare(lua_State *L, int app, const char *path, const char *secret_file) {
  const char *name = app_string(L, app, NULL, "name");
  int flag_secret = secret_file != NULL;
  char err[600];
  memset(&setup, 0, sizeof setup);
  if (app != 0 && path == NULL) {
    lua_getfield(L, app, "node");
    int t = lua_getfield(L, -1, "console");
    if (t == LUA_TSTRING) path = lua_tostring(L, -1);
    else if (t == LUA_TBOOLEAN && lua_toboolean(L, -1)) path = "";
    lua_pop(L, 2);
  }
  if (secret_file == NULL) secret_file = app_string(L, app, "node", "console_secret");
  if (path == NULL) {
    if (flag_secret) say("%s", "--console-secret: only with a console (--console)", 0);
    return !flag_secret;
  }
  if (cli_addr_is_tcp(path) && secret_file == NULL) {
    say("--console %s: a console on a network port needs a secret (--console-secret FILE or "
        "node.console_secret: a file only you can read)", path, 0);
    return 0;
  }
  if (path[0] == '\0') {
    if (!cli_console_default_path(name != NULL ? name : "shell", setup.path, sizeof setup.path,
                                  err, sizeof err)) {
      say("%s", err, 0);
      return 0;
    }
  } else if (strlen(path) >= sizeof setup.path) {
    say("--console %s: the path is too long for a Unix socket", path, 0);
    return 0;
  } else {
    snprintf(setup.path, sizeof setup.path, "%s", path);
  }
  if (secret_file != NULL) {
    setup.secret = cli_console_read_secret(secret_file, &setup.secret_len, err, sizeof err);
    if (setup.secret == NULL) {
      say("console refused to start: %s", err, 0);
      return 0;
    }
  }
  setup.wanted = 1;
  return 1;
}

int cli_console_is_open(void) {
  return C.started;
}

int cli_console_open(lua_State *L, int app, hl_node *node, lua_State *(*new_state)(void *ud),
                     void *ud, int keeper) {
  cli_console_config cfg;
  char err[600];
  const char *name = app_string(L, app, NULL, "name");
  if (!setup.wanted) return 1;
  memset(&cfg, 0, sizeof cfg);
  cfg.path = setup.path;
  cfg.secret = setup.secret;
  cfg.secret_len = setup.secret_len;
  cfg.app_name = name != NULL ? name : "the shell's node";
  cfg.top_name = app_string(L, app, "supervisor", "name");
  cfg.new_state = new_state;
  cfg.new_state_ud = ud;
  if (keeper) {
    term_pid_text(hl_lua_self(L), setup.keeper, sizeof setup.keeper);
    cfg.keeper = setup.keeper;
  }
  if (!console_start(node, &cfg, err, sizeof err)) {
    say("%s", err, 0);
    return 0;
  }
  say(setup.secret != NULL ? "console at %s (with a secret)" : "console at %s", C.path, 0);
  return 1;
}
