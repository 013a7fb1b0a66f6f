/*
** dist_link.h — links, monitors and exit signals between this node's
** processes and other nodes' (docs/distribution.md), as Erlang's
** distribution carries them: the control messages LINK, UNLINK, EXIT,
** EXIT2, MONITOR_P, DEMONITOR_P and MONITOR_P_EXIT.
**
** The node keeps one table of the links and monitors that cross to other
** nodes. A local process in it is marked (proc_mark_remote), so that its
** exit is told here (node->remote_exit): its linked remote processes get
** EXIT, the remote monitors of it MONITOR_P_EXIT, and its own monitors of
** remote processes are withdrawn (DEMONITOR_P). When a connection is lost,
** every local process linked to a process of that node gets the exit
** signal "noconnection", every local monitor of one a DOWN with reason
** "noconnection", and the node's entries go.
**
** Reasons. An atom reason that arrives becomes the string of its name
** ("normal", "kill", "noproc", ...); another term its term mapping
** (dist_term.h), or, when it has none, the string of its Erlang text. A
** string reason that goes out is sent as an atom when it is one of normal,
** kill, killed, noproc, noconnection and shutdown, else as its term
** mapping (a binary for a string).
**
** Promises: what goes out because a process died or a peer asked is sent
** by a thread of this module's own, never by the thread that carried out
** the exit, so no exit waits on a socket or on the connections' lock.
** After dist_demonitor returns, no DOWN for that ref arrives any more. A
** remote process is only known by what its node says: an EXIT from a peer
** is taken as from the pid the peer names, of that peer.
*/
#ifndef HL_DIST_LINK_H
#define HL_DIST_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "dist_conn.h"
#include "err.h"
#include "term.h"

/* ---- for the C API (the lead wires hl.link / hl.monitor / hl.exit) ----
** `local` is the pid of a process of node n (the caller); `remote` a pid
** of another node. Each returns HL_ECLOSED when n is not distributed or
** `local` is not alive, HL_EBADARG (saying which argument) for a remote
** pid that names this node or a bad node name. None waits for a
** connection (dist_link_send). A peer that cannot be reached is no error,
** as in Erlang: once the attempt to connect fails, the link gets the exit
** signal "noconnection" and the monitor a DOWN with reason "noconnection". */

/* Links local and remote (both ends: the peer is told with LINK). */
hl_status dist_link(node *n, uint64_t local, const term_xpid *remote, hl_err *e);

/* Removes that link at both ends (UNLINK_ID); nothing if there is none. */
hl_status dist_unlink(node *n, uint64_t local, const term_xpid *remote, hl_err *e);

/* local monitors remote (MONITOR_P). *ref: a ref of this node (TERM_REF),
** the one the DOWN carries: {"DOWN", ref, remote pid (an xpid), reason},
** delivered to local when remote exits, is not there ("noproc"), or its
** node is lost ("noconnection"). */
hl_status dist_monitor(node *n, uint64_t local, const term_xpid *remote, uint64_t *ref,
                       hl_err *e);

/* The same for the process registered as `name` on node `peer`
** ("name@host"); its DOWN names it {name, peer} (an array of two strings). */
hl_status dist_monitor_name(node *n, uint64_t local, const char *name, const char *peer,
                            uint64_t *ref, hl_err *e);

/* Withdraws local's monitor ref (DEMONITOR_P); nothing if it fired, is
** not local's, or local is not alive (its monitors went with it). After it
** returns, no DOWN for ref is delivered. */
hl_status dist_demonitor(node *n, uint64_t local, uint64_t ref, hl_err *e);

/* Sends remote an exit signal from local (EXIT2, erlang:exit/2's) with
** the reason (a valid term; mapped as said above). */
hl_status dist_exit(node *n, uint64_t local, const term_xpid *remote, const unsigned char *reason,
                    size_t len, hl_err *e);

/* ---- for the rest of src/dist ---- */

/* At dist_start, before any connection: the table, its sender thread and
** the node's remote_exit hook. 0 when out of memory or threads. */
int dist_link_start(dist *d);
/* At dist_stop, before the connections close: ends the sender thread;
** what it had not sent is dropped (the peers see the connection go). */
void dist_link_stop(dist *d);
/* With the dist's last reference. */
void dist_link_free(dist *d);

/* A control message from c's peer (the reader thread), as ei gives it:
** msg->msgtype ERL_LINK, ERL_UNLINK, ERL_EXIT, ERL_EXIT2, or
** DIST_MONITOR_P, DIST_DEMONITOR_P, DIST_MONITOR_P_EXIT with the rest of
** the control tuple in x. 1 if it was one of these. */
#define DIST_MONITOR_P (ERL_MONITOR_P - 10)   /* ei takes 10 off every type above 10 */
#define DIST_DEMONITOR_P (ERL_DEMONITOR_P - 10)
#define DIST_MONITOR_P_EXIT (ERL_MONITOR_P_EXIT - 10)
/* unlinks: ei answers an UNLINK_ID itself; the ACK of ours it reads whole
** (it is short) but calls an error, with this type, not taken off */
#define DIST_UNLINK_ID 35
#define DIST_UNLINK_ID_ACK 36
int dist_link_control(dist *d, dconn *c, const erlang_msg *msg, const ei_x_buff *x);

/* Sends the ended control message x (dist_wire.h) to peer, in order with
** what this node has sent it before: at once over its connection when
** nothing for the peer waits in the outbox, else queued for the sender
** thread. When there is no connection, the sender thread makes it if
** `make` (and drops x otherwise): no caller waits for a connection. A
** connection that cannot be had drops what waits for the peer and gives
** its links and monitors noconnection, as a lost one does. Frees x. */
void dist_link_send(dist *d, const char *peer, ei_x_buff *x, int make);

/* dist_send_name's message msg (with its version byte) to the process
** registered as name on node `to`, through dist_link_send. */
void dist_link_reg_send(dist *d, const char *to, const char *name, ei_x_buff *msg);
/* The same to the process pid of node `to`. */
void dist_link_pid_send(dist *d, const char *to, const erlang_pid *pid, ei_x_buff *msg);

/* The connection to peer was lost (its reader, not at stop). */
void dist_link_nodedown(dist *d, const char *peer);

#endif
