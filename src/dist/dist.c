/*
** dist.c — joining an Erlang cluster and leaving it, the thread that
** accepts connections, and sending to a name on another node (dist.h).
** The connections themselves are dist_conn.c's.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dist.h"
#include "dist_conn.h"
#include "dist_cookie.h"
#include "dist_link.h"
#include "dist_sock.h"
#include "preempt.h"
#include "term.h"

extern char **environ;

#define ACCEPT_MS 100        /* how soon the listener notices a stop */
#define CONNECT_MS 3000
#define EPMD_WAIT_MS 3000    /* for an epmd we started to answer */
#define EPMD_PORT 4369

static void report(dist *d, const char *fmt, const char *a, const char *b) {
  char text[1200];
  snprintf(text, sizeof text, fmt, a, b);
  logger_log(&d->n->log, LOGLEVEL_WARNING, 0, text);   /* the cluster's trouble, not the node's */
}

/* ---- names ---- */

static int name_chars(const char *s, size_t len, const char *extra) {
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          strchr(extra, ch) != NULL) || ch == '\0')
      return 0;
  }
  return 1;
}

/* Splits name into alive and host, completing a short name with this
** machine's host name up to its first dot, as erl -sname does. */
static hl_status split_name(const char *name, char *alive, char *host, hl_err *e) {
  const char *at = strchr(name, '@');
  size_t alen = at != NULL ? (size_t)(at - name) : strlen(name);
  if (alen == 0 || alen > EI_MAXALIVELEN || !name_chars(name, alen, "_-"))
    return err_set(e, HL_EBADARG, "dist.name must be \"name@host\" or \"name\", the name of "
                   "letters, digits, '_' and '-' (got \"%.100s\")", name);
  memcpy(alive, name, alen);
  alive[alen] = '\0';
  if (at != NULL) {
    size_t hlen = strlen(at + 1);
    if (hlen == 0 || hlen > EI_MAXHOSTNAMELEN || !name_chars(at + 1, hlen, "_-."))
      return err_set(e, HL_EBADARG, "dist.name must be \"name@host\" with a host of letters, "
                     "digits, '.', '_' and '-' (got \"%.100s\")", name);
    memcpy(host, at + 1, hlen + 1);
  } else {
    char *dot;
    if (gethostname(host, EI_MAXHOSTNAMELEN) != 0)
      return err_set(e, HL_ESTORE, "cannot read this machine's host name: %s", strerror(errno));
    host[EI_MAXHOSTNAMELEN] = '\0';
    if ((dot = strchr(host, '.')) != NULL) *dot = '\0';
  }
  if (alen + 1 + strlen(host) > MAXNODELEN - 1)
    return err_set(e, HL_EBADARG, "dist.name is too long");
  return HL_OK;
}

static hl_status check_cookie(const char *cookie, hl_err *e) {
  size_t len = strlen(cookie);
  if (len == 0 || len > MAXATOMLEN - 1)   /* an Erlang node's cookie is an atom */
    return err_set(e, HL_EBADARG, "dist.cookie must be 1 to %d characters", MAXATOMLEN - 1);
  for (size_t i = 0; i < len; i++)
    if (cookie[i] <= ' ' || cookie[i] > '~')
      return err_set(e, HL_EBADARG, "dist.cookie must be printable ASCII without spaces");
  return HL_OK;
}

/* ---- epmd ---- */

static int epmd_port(void) {
  const char *s = getenv("ERL_EPMD_PORT");
  int port = s != NULL ? atoi(s) : 0;
  return port > 0 && port < 65536 ? port : EPMD_PORT;
}

static int epmd_answers(void) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
  if (fd < 0) return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)epmd_port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* As erl does: `epmd -daemon` when none answers. The daemon outlives the
** node, as it outlives erl. */
static hl_status ensure_epmd(hl_err *e) {
  char *argv[] = {"epmd", "-daemon", NULL};
  pid_t pid;
  int status;
  if (epmd_answers()) return HL_OK;
  if (posix_spawnp(&pid, "epmd", NULL, NULL, argv, environ) != 0)
    return err_set(e, HL_ESTORE, "no epmd answers and `epmd -daemon` cannot be run (is "
                   "Erlang installed?)");
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  for (int waited = 0; waited < EPMD_WAIT_MS; waited += 50) {
    if (epmd_answers()) return HL_OK;
    sleep_ms(50);
  }
  return err_set(e, HL_ESTORE, "`epmd -daemon` was started but does not answer on port %d",
                 epmd_port());
}

/* ---- the listener ---- */

static void *listener(void *arg) {
  dist *d = arg;
  while (!atomic_load(&d->stopping)) {
    ErlConnect conp;
    int fd;
    memset(&conp, 0, sizeof conp);
    fd = ei_accept_tmo(&d->ec, d->listen_fd, &conp, ACCEPT_MS);
    if (fd >= 0) {
      pthread_mutex_lock(&d->lock);
      if (dconn_add(d, fd, conp.nodename) == NULL)
        report(d, "heirloom.dist: a connection from %s was closed: out of memory%s",
               conp.nodename, "");
      pthread_mutex_unlock(&d->lock);
    } else if (erl_errno != ETIMEDOUT && !atomic_load(&d->stopping)) {
      /* the handshake checks the cookie: a peer with another one ends here */
      report(d, "heirloom.dist: refused a connection%s%s: its handshake failed (a wrong "
                "cookie, or not an Erlang node)",
             conp.nodename[0] ? " from " : "", conp.nodename);
    }
  }
  return NULL;
}

/* ---- start, stop ---- */

static void init_ei(void) {
  ei_init();
}

static hl_status listen_and_publish(dist *d, const char *host, hl_err *e) {
  struct in_addr addr;
  int port = 0;
  /* a node named for localhost is reachable from this machine only */
  addr.s_addr = strcmp(host, "localhost") == 0 ? htonl(INADDR_LOOPBACK) : htonl(INADDR_ANY);
  d->listen_fd = ei_xlisten(&d->ec, &addr, &port, 16);
  if (d->listen_fd < 0)
    return err_set(e, HL_ESTORE, "cannot listen for connections: %s", strerror(erl_errno));
  d->epmd_fd = ei_publish_tmo(&d->ec, port, CONNECT_MS);
  if (d->epmd_fd < 0)
    return err_set(e, HL_EEXIST, "epmd refused the name \"%s\" (is another node running "
                   "with it?)", d->ec.thisnodename);
  dconn_cloexec(d->listen_fd);
  dconn_cloexec(d->epmd_fd);
  d->self.node = d->ec.thisnodename;
  d->self.creation = d->ec.creation;
  if ((d->self.tags = dist_tags_new(d->n)) == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  return HL_OK;
}

static void close_sockets(dist *d) {
  if (d->listen_fd >= 0) close(d->listen_fd);
  if (d->epmd_fd >= 0) close(d->epmd_fd);   /* epmd forgets the name */
  d->listen_fd = d->epmd_fd = -1;
}

/* The node's reference, and each sender's while it sends. */
void dist_unref(dist *d) {
  if (atomic_fetch_sub(&d->refs, 1) != 1) return;
  close_sockets(d);
  dist_tags_free(d->self.tags);
  dist_link_free(d);
  pthread_mutex_destroy(&d->lock);
  free(d);
}

hl_status dist_start(node *n, const char *name, const char *cookie, hl_err *e) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  char alive[EI_MAXALIVELEN + 1], host[EI_MAXHOSTNAMELEN + 1];
  char full[EI_MAXALIVELEN + EI_MAXHOSTNAMELEN + 2];   /* split_name bounds its length */
  char own[MAXATOMLEN + 1];
  struct in_addr any = {0};
  dist *d;
  if (split_name(name, alive, host, e) != HL_OK) return e->code;
  if (cookie == NULL && dist_cookie_default(own, sizeof own, e) != HL_OK) return e->code;
  if (cookie == NULL) cookie = own;
  if (check_cookie(cookie, e) != HL_OK || ensure_epmd(e) != HL_OK) return e->code;
  pthread_once(&once, init_ei);
  d = calloc(1, sizeof *d);
  if (d == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  d->n = n;
  d->listen_fd = d->epmd_fd = -1;
  atomic_init(&d->stopping, 0);
  atomic_init(&d->refs, 1);
  pthread_mutex_init(&d->lock, NULL);
  snprintf(full, sizeof full, "%s@%s", alive, host);
  /* ei's sockets, with monitors of names said in the handshake (dist_sock.h) */
  if (ei_connect_xinit_ussi(&d->ec, host, alive, full, &any, cookie, 0, dist_sock_callbacks(),
                            sizeof(ei_socket_callbacks), NULL) < 0) {
    dist_unref(d);
    return err_set(e, HL_ESTORE, "ei cannot take the name \"%s\"", full);
  }
  if (listen_and_publish(d, host, e) != HL_OK) {
    dist_unref(d);
    return e->code;
  }
  if (!dist_link_start(d)) {
    dist_unref(d);
    return err_set(e, HL_ENOMEM, "cannot start the links' sender thread");
  }
  if (pthread_create(&d->listener, NULL, listener, d) != 0) {
    dist_link_stop(d);
    dist_unref(d);
    return err_set(e, HL_ENOMEM, "cannot start the listener thread");
  }
  pthread_mutex_lock(&n->lock);
  n->dist = d;
  pthread_mutex_unlock(&n->lock);
  return HL_OK;
}

void dist_stop(node *n) {
  dist *d;
  pthread_mutex_lock(&n->lock);
  d = n->dist;
  n->dist = NULL;
  pthread_mutex_unlock(&n->lock);
  if (d == NULL) return;
  atomic_store(&d->stopping, 1);
  pthread_join(d->listener, NULL);
  dist_link_stop(d);
  close_sockets(d);
  dconn_close_all(d);
  dist_unref(d);
}

/* ---- sending ---- */

/* The connection to `to`, made now if there is none; NULL, said to the
** logger, if it cannot be had. */
dconn *dist_connection(dist *d, const char *to) {
  dconn *c;
  int fd;
  pthread_mutex_lock(&d->lock);
  c = dconn_find(d, to);
  if (c == NULL && !atomic_load(&d->stopping)) {
    sigset_t mask;
    /* a process's thread: ei's select must not see the ticker's signal */
    preempt_hold(&mask);
    fd = ei_connect_tmo(&d->ec, (char *)to, CONNECT_MS);
    preempt_allow(&mask);
    if (fd < 0)
      report(d, "heirloom.dist: cannot connect to %s (is it up, with the same cookie?); the "
                "message was dropped%s", to, "");
    else if ((c = dconn_add(d, fd, to)) != NULL)
      atomic_fetch_add(&c->refs, 1);
  }
  pthread_mutex_unlock(&d->lock);
  return c;
}

/* Sends the term to `name` (or, when name is NULL, to pid) on node `to`. */
static hl_status send_to(node *n, const char *to, const char *name, erlang_pid *pid,
                         const unsigned char *term, size_t len, hl_err *e) {
  char err[300];
  ei_x_buff x;
  dist *d;
  hl_status st = HL_OK;
  pthread_mutex_lock(&n->lock);
  d = n->dist;
  if (d != NULL) atomic_fetch_add(&d->refs, 1);   /* dist_stop may come meanwhile */
  pthread_mutex_unlock(&n->lock);
  if (d == NULL)
    return err_set(e, HL_ECLOSED, "this node is not distributed (start it with a dist option)");
  if (ei_x_new(&x) != 0) {
    dist_unref(d);
    return err_set(e, HL_ENOMEM, "out of memory");
  }
  if (!dist_term_to_ei(term, len, &d->self, &x, err, sizeof err)) {
    st = err_set(e, HL_EBADARG, "the message has no Erlang form: %s", err);
  } else if (pid != NULL && strcmp(to, d->self.node) == 0) {
    /* a pid of an earlier run of this node: nobody is there, as in Erlang */
  } else if (name != NULL) {
    dist_link_reg_send(d, to, name, &x);   /* connecting, if it must, elsewhere */
  } else {
    dist_link_pid_send(d, to, pid, &x);
  }
  ei_x_free(&x);
  dist_unref(d);
  return st;
}

hl_status dist_send_name(node *n, const char *name, const char *to, const unsigned char *term,
                         size_t len, hl_err *e) {
  char alive[EI_MAXALIVELEN + 1], host[EI_MAXHOSTNAMELEN + 1];
  if (strchr(to, '@') == NULL || split_name(to, alive, host, e) != HL_OK)
    return err_set(e, HL_EBADARG, "the node must be \"name@host\" (got \"%.100s\")", to);
  if (name[0] == '\0' || strlen(name) >= MAXATOMLEN)
    return err_set(e, HL_EBADARG, "the name must be 1 to %d bytes", MAXATOMLEN - 1);
  return send_to(n, to, name, NULL, term, len, e);
}

hl_status dist_send_pid(node *n, const unsigned char *xpid, size_t xlen,
                        const unsigned char *term, size_t len, hl_err *e) {
  term_xpid xp;
  erlang_pid pid;
  if (term_get_xpid(xpid, xlen, &xp) == 0 || xp.nodelen >= sizeof pid.node)
    return err_set(e, HL_EBADARG, "not a pid of another node");
  memset(&pid, 0, sizeof pid);
  memcpy(pid.node, xp.node, xp.nodelen);
  pid.num = xp.num;
  pid.serial = xp.serial;
  pid.creation = xp.creation;
  return send_to(n, pid.node, NULL, &pid, term, len, e);
}

int dist_reachable(node *n, const char *to) {
  dist *d;
  dconn *c;
  int up;
  pthread_mutex_lock(&n->lock);
  d = n->dist;
  if (d != NULL) atomic_fetch_add(&d->refs, 1);
  pthread_mutex_unlock(&n->lock);
  if (d == NULL) return 0;
  up = strcmp(to, d->self.node) == 0;
  if (!up && (c = dist_connection(d, to)) != NULL) {
    up = 1;
    dconn_unref(c);
  }
  dist_unref(d);
  return up;
}
