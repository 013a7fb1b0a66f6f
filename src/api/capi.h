/*
** capi.h — what the C API's functions share with the layer above it that
** implements some of them (hl_spawn lives with the Lua processes it
** makes, in lspawn.c): how a public function refuses its arguments and
** publishes its error for hl_errmsg().
*/
#ifndef HL_CAPI_H
#define HL_CAPI_H

#include <stddef.h>

#include "err.h"
#include "heirloom.h"

/* Publishes "fn: msg" with code, and returns code. */
hl_status capi_fail(hl_status code, const char *fn, const char *msg);
/* Publishes e's message prefixed with "fn: " (nothing if e is HL_OK), and
** returns its code. */
hl_status capi_done(const char *fn, hl_err *e);
/* Whether (p, len) is one valid term (term.h: one a Lua state can read);
** if not, e says why, naming the argument `what`. */
int capi_check_term(const char *what, const void *p, size_t len, hl_err *e);
/* Who calls on node n: the calling thread's attached process (capi_proc.c),
** else the node's host process. */
uint64_t capi_caller(hl_node *n);

#endif
