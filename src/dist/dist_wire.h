/*
** dist_wire.h — the pieces of Erlang's control messages that dist_link.c
** and dist_net.c put on the wire and read from it: this node's pids and
** refs in Erlang's form, exit reasons both ways, a control message's
** framing, and writing one to a peer.
**
** Reasons (docs/distribution.md): an atom reason that arrives becomes the
** string of its name; another term its term mapping (dist_term.h), or,
** when it has none, the string of its Erlang text. A string reason that
** goes out is sent as an atom when it is one of normal, kill, killed,
** noproc, noconnection and shutdown, else as its term mapping.
*/
#ifndef HL_DIST_WIRE_H
#define HL_DIST_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "dist_conn.h"
#include "term.h"

/* This node's pid or ref as Erlang sees it. A ref's first word is 0 (Erlang
** keeps the words below 2^18 there for its own), the id in the other two. */
erlang_pid dwire_local_pid(const dist *d, uint64_t pid);
erlang_ref dwire_local_ref(const dist *d, uint64_t ref);
/* The local pid an Erlang pid names; 0 for another node or an earlier run. */
uint64_t dwire_pid_local(const dist *d, const erlang_pid *p);
int dwire_ref_eq(const erlang_ref *a, const erlang_ref *b);
int dwire_pid_eq(const erlang_pid *a, const erlang_pid *b);
/* x as an erlang_pid into *p; 0 unless x names a process of another node. */
int dwire_xpid_pid(const dist *d, const term_xpid *x, erlang_pid *p);
/* The Erlang pid as a heirloom term (an xpid). */
void dwire_put_xpid(buf *b, const erlang_pid *p);

/* The reason term r (valid), encoded into x as said above. */
void dwire_put_reason(ei_x_buff *x, const dist *d, const unsigned char *r, size_t len);
/* The reason at b[index..len) (no version byte) as a heirloom term into out. */
void dwire_get_reason(const dist *d, const char *b, int index, int len, buf *out);

/* A control message: begin makes x (ei_x_new) and writes the length's
** room, the pass-through byte, the version and {type, ... (arity in
** all)}; end writes the length. begin 0: out of memory (x is then to be
** freed all the same). */
int dwire_begin(ei_x_buff *x, long type, int arity);
void dwire_end(ei_x_buff *x);

/* Writes the ended message x to c whole (c->io held meanwhile). 1 if
** written; a write that fails marks c dead (its reader then says the
** connection was lost). */
int dwire_write(dconn *c, const ei_x_buff *x);

#endif
