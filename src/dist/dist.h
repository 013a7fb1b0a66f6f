/*
** dist.h — a node's part in an Erlang cluster (docs/distribution.md): it
** joins as a C node through ei, Erlang's own library. dist_start names the
** node, registers it with epmd (starting `epmd -daemon` when none
** answers, as erl does) and listens; a thread accepts connections, whose
** handshake checks the cookie, and a thread per connection delivers what
** arrives to the node's processes. Connections out are made on the first
** send to a node. A node that never calls dist_start is untouched.
**
** Promises: dist_stop (which every stop of a distributed node calls
** before node_stop) closes every connection, unpublishes the name and
** joins every thread before it returns, so nothing is delivered to a node
** that is stopping. A message from another node is delivered with no
** sender (0): it comes from no local process, and what it says of its
** sender is only what the peer says.
*/
#ifndef HL_DIST_H
#define HL_DIST_H

#include <stddef.h>

#include "err.h"
#include "node.h"

/* Joins the cluster as name ("alive@host", or "alive", completed with this
** machine's short host name) with cookie (NULL: ~/.erlang.cookie's,
** dist_cookie.h). HL_EBADARG for a bad name or
** cookie, HL_EEXIST when epmd already has the name, HL_ESTORE (the
** outside world failed) when epmd or the listener cannot be had; the
** message says which, prefixed by nothing: the caller names itself. */
hl_status dist_start(node *n, const char *name, const char *cookie, hl_err *e);

/* Leaves the cluster; nothing if n never joined. */
void dist_stop(node *n);

/* Sends the valid term to the process registered as `name` on node `to`
** ("alive@host"). As in Erlang, a message to a node that cannot be
** reached is dropped (and the logger told why); the errors are the
** sender's own: HL_ECLOSED when this node is not distributed, HL_EBADARG
** for a bad name or a term with no Erlang form (the message says what). */
hl_status dist_send_name(node *n, const char *name, const char *to, const unsigned char *term,
                         size_t len, hl_err *e);

/* The same to the process of another node whose TERM_XPID term is
** xpid[0..xlen); to a pid of an earlier run of this node it is dropped. */
hl_status dist_send_pid(node *n, const unsigned char *xpid, size_t xlen,
                        const unsigned char *term, size_t len, hl_err *e);

/* 1 when node `to` ("alive@host") can be reached: it is this node, or a
** connection to it is up or can be made now (the logger says why not). */
int dist_reachable(node *n, const char *to);

#endif
