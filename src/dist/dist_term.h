/*
** dist_term.h — heirloom terms (term.h) to and from Erlang's external
** term format, through ei. The mapping (docs/distribution.md) is the one
** place that decides what a value becomes on the other side:
**
**   heirloom            Erlang
**   nil                 the atom nil
**   true / false        the atoms true / false
**   atom                any other atom (UTF-8)
**   integer (int64)     integer
**   float               float (NaN and infinities have no Erlang form)
**   string              binary
**   array               tuple
**   list                proper list (a byte list, "abc", arrives as a list)
**   map                 map
**   pid of this node    pid of this node (this run)
**   ref of this node    reference of this node (this run)
**   xpid, xref          any other pid, reference
**
** Everything else is refused with a message saying what and where: a
** heirloom table handle, an atom named true/false/nil or not UTF-8; an
** Erlang port, fun, bitstring, improper list (but see dist_tags.h), an
** integer beyond 64 bits. Neither function leaves half a term in its
** output's meaning: on failure the output is to be thrown away.
*/
#ifndef HL_DIST_TERM_H
#define HL_DIST_TERM_H

#include <ei.h>
#include <stddef.h>

#include "buf.h"
#include "dist_tags.h"

/* Who "this node" is, for pids and refs. */
typedef struct dist_self {
  const char *node;       /* the full node name, "name@host" */
  unsigned int creation;  /* the incarnation epmd gave it */
  dist_tags *tags;        /* calls' reply tags held (NULL: none are) */
} dist_self;

/* Appends the valid term p[0..len) to x, as the body of a message (the
** version byte included). 1, or 0 and why in err. */
int dist_term_to_ei(const unsigned char *p, size_t len, const dist_self *self, ei_x_buff *x,
                    char *err, size_t size);

/* Appends to out the heirloom term of the external term at ebuf[*index]
** (the version byte included), moving *index past it; the result is a
** valid term (term_check). Nothing at or beyond ebuf[len] is read, however
** the bytes lie. 1, or 0 and why in err. */
int dist_term_from_ei(const char *ebuf, size_t len, int *index, const dist_self *self,
                      buf *out, char *err, size_t size);

#endif
