/*
** dist_conn.h — the connections of a distributed node and what it shares
** with them (dist.c owns the rest: joining, the listener, sending).
**
** A connection is in its node's list from when its handshake succeeds
** until the node stops or a new connection to the same peer replaces it
** after it died. Its thread reads it; senders write it. One at a time
** touches its socket (io), because ei answers a peer's tick from inside a
** receive and those bytes must not interleave with a message's.
*/
#ifndef HL_DIST_CONN_H
#define HL_DIST_CONN_H

#include <ei.h>
#include <pthread.h>
#include <stdatomic.h>

#include "dist_term.h"
#include "node.h"

typedef struct dconn dconn;

typedef struct dist {
  node *n;
  ei_cnode ec;
  dist_self self;
  int listen_fd, epmd_fd;
  pthread_t listener;
  atomic_int stopping;
  atomic_int refs;        /* the node's, and each sender's while it sends */
  pthread_mutex_t lock;   /* guards conns, and connecting (one at a time) */
  dconn *conns;
  struct dlinks *links;   /* links and monitors across nodes (dist_link.c) */
} dist;

struct dconn {
  dconn *next;
  dist *d;
  char peer[MAXNODELEN + 1];
  int fd;
  atomic_int refs;        /* the list's, and each sender's while it writes */
  atomic_int dead;        /* the socket failed: the reader ends, sends are dropped */
  pthread_mutex_t io;     /* one reader or writer on fd at a time */
  pthread_t reader;
};

/* Adds a connection on fd (handshake done) to peer and starts its reader;
** a dead connection to the same peer is dropped first. Under d->lock. 0
** when out of memory or threads (fd is then closed). */
dconn *dconn_add(dist *d, int fd, const char *peer);

/* The live connection to peer, referenced (dconn_unref), or NULL. Under
** d->lock; a dead one met on the way is dropped. */
dconn *dconn_find(dist *d, const char *peer);

void dconn_unref(dconn *c);

/* Keeps fd from programs the host runs: a child holding the epmd socket
** would keep the name registered after the node has stopped. */
void dconn_cloexec(int fd);

/* dist.c's: the connection to `to`, made now if there is none (NULL, said
** to the logger, when it cannot be had), referenced (dconn_unref); and
** letting go of a reference to d (dist_send_name's, dist_link.c's). */
dconn *dist_connection(dist *d, const char *to);
void dist_unref(dist *d);

/* Ends every connection and joins its reader (dist_stop). */
void dconn_close_all(dist *d);

#endif
