/*
** dist_conn.c — a distributed node's connections (dist_conn.h): the list,
** each connection's reader thread, and the delivery of what arrives. A
** reader polls its socket with a short timeout, so that a stop or a dead
** connection is noticed within POLL_MS, and takes the socket (io) only to
** read a message that has begun to arrive.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dist_conn.h"
#include "dist_link.h"
#include "dist_net.h"
#include "proc.h"
#include "ptab.h"
#include "term.h"

#define POLL_MS 100
#define READ_MS 5000   /* the rest of a message that has begun to arrive */

static void report(dist *d, const char *fmt, const char *a, const char *b, const char *c) {
  char text[1400];
  snprintf(text, sizeof text, fmt, a, b, c);
  logger_log(&d->n->log, LOGLEVEL_WARNING, 0, text);   /* the cluster's trouble, not the node's */
}

/* ---- delivery ---- */

static void deliver(dist *d, const char *peer, uint64_t to, const char *toname,
                    const ei_x_buff *x) {
  char err[300];
  int index = 0;
  buf m;
  proc *p;
  buf_init(&m);
  if (!dist_term_from_ei(x->buff, (size_t)x->index, &index, &d->self, &m, err, sizeof err)) {
    report(d, "heirloom.dist: a message from %s to %s was dropped: %s", peer, toname, err);
  } else if (to == 0) {
    report(d, "heirloom.dist: a message from %s to %s was dropped: no process has that name",
           peer, toname, "");
  } else if ((p = ptab_get(&d->n->procs, to)) != NULL) {
    proc_deliver_from(p, 0, m.p, m.n);   /* from no local process */
    proc_unref(p);
  }   /* to a dead pid it is dropped, as in Erlang */
  buf_free(&m);
}

static void dispatch(dist *d, dconn *c, const erlang_msg *msg, const ei_x_buff *x) {
  char pidtext[64];
  switch (msg->msgtype) {
  case ERL_REG_SEND:
    if (dist_net_kernel(c, msg, x)) break;
    deliver(d, c->peer, ptab_whereis(&d->n->procs, msg->toname), msg->toname, x);
    break;
  case ERL_SEND:
    if (strcmp(msg->to.node, d->self.node) != 0 || msg->to.creation != d->self.creation)
      break;   /* for an earlier run of this node: nobody is there */
    term_pid_text((uint64_t)msg->to.num | (uint64_t)msg->to.serial << 32, pidtext,
                  sizeof pidtext);
    deliver(d, c->peer, (uint64_t)msg->to.num | (uint64_t)msg->to.serial << 32, pidtext, x);
    break;
  default:
    if (dist_link_control(d, c, msg, x)) break;
    snprintf(pidtext, sizeof pidtext, "%ld", msg->msgtype);
    report(d, "heirloom.dist: a control message of type %s from %s was ignored: links, "
              "monitors and exit signals across nodes are not supported yet%s",
           pidtext, c->peer, "");
  }
}

/* ---- the reader ---- */

/* 1 while the connection is to be read on: a message or a tick was read,
** or nothing has arrived yet. */
static int read_one(dconn *c, ei_x_buff *x) {
  struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
  erlang_msg msg;
  int r = poll(&pfd, 1, POLL_MS);
  if (r == 0 || (r < 0 && errno == EINTR)) return 1;
  if (r < 0) return 0;
  pthread_mutex_lock(&c->io);
  x->index = -1;   /* stays so unless a whole message was read */
  msg.msgtype = -1;
  r = ei_xreceive_msg_tmo(c->fd, &msg, x, READ_MS);
  pthread_mutex_unlock(&c->io);
  if (r == ERL_TICK) return 1;
  if (r == ERL_ERROR && msg.msgtype == DIST_UNLINK_ID_ACK) return 1;   /* dist_link.h */
  /* ei reads the monitor messages whole but calls them an error */
  if (r == ERL_ERROR && x->index >= 0 &&
      (msg.msgtype == DIST_MONITOR_P || msg.msgtype == DIST_DEMONITOR_P ||
       msg.msgtype == DIST_MONITOR_P_EXIT))
    r = ERL_MSG;
  if (r != ERL_MSG) return 0;
  dispatch(c->d, c, &msg, x);
  return 1;
}

static void *reader(void *arg) {
  dconn *c = arg;
  dist *d = c->d;
  ei_x_buff x;
  if (ei_x_new(&x) != 0) {
    atomic_store(&c->dead, 1);
    return NULL;
  }
  while (!atomic_load(&d->stopping) && !atomic_load(&c->dead))
    if (!read_one(c, &x)) {
      if (!atomic_load(&d->stopping))
        report(d, "heirloom.dist: the connection to %s was lost%s%s", c->peer, "", "");
      atomic_store(&c->dead, 1);
    }
  /* however it died (here, or a failed write): noconnection to its links
  ** and monitors, before a new connection to the peer can be made (that
  ** joins this thread first) */
  if (!atomic_load(&d->stopping)) dist_link_nodedown(d, c->peer);
  ei_x_free(&x);
  return NULL;
}

/* ---- the list ---- */

void dconn_unref(dconn *c) {
  if (atomic_fetch_sub(&c->refs, 1) != 1) return;
  if (c->fd >= 0) close(c->fd);
  pthread_mutex_destroy(&c->io);
  free(c);
}

/* Takes c out of the list (d->lock held), ends its reader and lets go of
** the list's reference. */
static void drop(dist *d, dconn **at) {
  dconn *c = *at;
  *at = c->next;
  atomic_store(&c->dead, 1);
  pthread_mutex_lock(&c->io);   /* a sender may be writing: it finishes first */
  shutdown(c->fd, SHUT_RDWR);
  pthread_mutex_unlock(&c->io);
  pthread_join(c->reader, NULL);
  (void)d;
  dconn_unref(c);
}

static void drop_dead(dist *d, const char *peer) {
  dconn **at = &d->conns;
  while (*at != NULL)
    if (atomic_load(&(*at)->dead) && strcmp((*at)->peer, peer) == 0) drop(d, at);
    else at = &(*at)->next;
}

void dconn_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

dconn *dconn_add(dist *d, int fd, const char *peer) {
  dconn *c = calloc(1, sizeof *c);
  dconn_cloexec(fd);
  drop_dead(d, peer);
  if (c == NULL) {
    close(fd);
    return NULL;
  }
  c->d = d;
  c->fd = fd;
  snprintf(c->peer, sizeof c->peer, "%s", peer);
  atomic_init(&c->refs, 1);
  atomic_init(&c->dead, 0);
  pthread_mutex_init(&c->io, NULL);
  if (pthread_create(&c->reader, NULL, reader, c) != 0) {
    c->fd = -1;
    close(fd);
    dconn_unref(c);
    return NULL;
  }
  c->next = d->conns;
  d->conns = c;
  return c;
}

dconn *dconn_find(dist *d, const char *peer) {
  drop_dead(d, peer);
  for (dconn *c = d->conns; c != NULL; c = c->next)
    if (strcmp(c->peer, peer) == 0) {
      atomic_fetch_add(&c->refs, 1);
      return c;
    }
  return NULL;
}

void dconn_close_all(dist *d) {
  pthread_mutex_lock(&d->lock);
  while (d->conns != NULL) drop(d, &d->conns);
  pthread_mutex_unlock(&d->lock);
}
