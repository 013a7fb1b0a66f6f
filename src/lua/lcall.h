/*
** lcall.h — one call of a heirloom.table function in progress (lcall.c).
*/
#ifndef HL_LCALL_H
#define HL_LCALL_H

#include <lua.h>

#include "etab.h"
#include "lbind.h"

typedef struct lcall {
  lua_State *L;
  const char *fname;     /* "table.insert" */
  lbind *b;
  etab *t;
  lscratch *s;           /* this call's buffers, lent until lcall_end */
  hl_err e;
} lcall;

/* Starts a call on the table handle at argument 1 (raises if it is none)
** and borrows the call's buffers. */
void lcall_begin(lcall *c, lua_State *L, const char *fname);
/* Gives the buffers back; returns nresults, for `return lcall_end(&c, 1)`.
** Every way out of a call goes through it or through lcall_raise. */
int lcall_end(lcall *c, int nresults);
/* Gives the buffers back and raises "heirloom.<fname>: <msg>". */
int lcall_raise(lcall *c, const char *msg);
/* Raises c->e's message if the table layer reported an error. */
void lcall_check_status(lcall *c);

/* Encodes argument idx into the input buffer, returning its offset; a
** refusal raises with the path from root ("object[2].name"). */
size_t lcall_encode_arg(lcall *c, int idx, const char *root);
tslice lcall_slice_at(lcall *c, size_t at, size_t end);
tslice lcall_key_arg(lcall *c, int idx);
void lcall_check_object(lcall *c, int idx, const char *root);
/* A position argument: index, or a field name encoded into the input
** buffer, held as an offset until lcall_fix_pos once encoding is done. */
ekeypos lcall_pos_arg(lcall *c, int idx, const char *what);
void lcall_fix_pos(lcall *c, ekeypos *pos);

void lcall_push_list(lcall *c, size_t count);   /* from the output buffer */
void lcall_push_term(lcall *c, const unsigned char *p, size_t len);

#endif
