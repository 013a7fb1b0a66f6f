/*
** lcall.c — the steps every heirloom.table function shares: finding the
** table handle, encoding arguments into the call's input buffer, raising
** errors that name the function, and decoding results. The buffers are
** the call's own (lscratch.h): a call nested in it, from a finalizer or a
** fold function, gets others.
*/
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lcall.h"
#include "lhandle.h"
#include "lterm.h"
#include "term.h"



int lcall_end(lcall *c, int nresults) {
  lscratch_return(c->s);
  c->s = NULL;
  return nresults;
}

int lcall_raise(lcall *c, const char *msg) {
  lcall_end(c, 0);
  return luaL_error(c->L, "heirloom.%s: %s", c->fname, msg);
}

/* Starts a call on the table handle at argument 1. */
void lcall_begin(lcall *c, lua_State *L, const char *fname) {
  ltab *h;
  c->L = L;
  c->fname = fname;
  c->s = NULL;
  /* The state's record and the handle metatable are upvalues: the hot path
  ** makes no lookups by name. */
  c->b = lua_touserdata(L, lua_upvalueindex(1));
  if (c->b->node == NULL)
    luaL_error(L, "heirloom.%s: the node is not started (call heirloom.start first)", fname);
  lbind_check_alive(L, c->b, fname);
  err_clear(&c->e);
  h = lua_touserdata(L, 1);
  /* The metatable is upvalue 2; its address, kept in the record, is the
  ** same test without reading the upvalue. */
  if (h == NULL || !lua_getmetatable(L, 1) || lua_topointer(L, -1) != c->b->table_meta)
    luaL_error(L, "heirloom.%s: argument 1 must be a table handle (got %s)", fname,
               luaL_typename(L, 1));
  lua_pop(L, 1);
  if (h->t == NULL || atomic_load(&h->t->dropped))
    luaL_error(L, "heirloom.%s: the table has been dropped", fname);
  c->t = h->t;
  c->s = lbind_borrow(L, c->b, fname);
}

/* Encodes argument idx, of Lua type `type`, into the call's input;
** returns its offset. */
static size_t encode_typed(lcall *c, int idx, int type, const char *root) {
  buf *in = &c->s->in;
  size_t at = in->n;
  char msg[300];
  size_t len;
  const char *s;
  lua_Integer i;
  int isint = 0;
  if (type == LUA_TNUMBER) i = lua_tointegerx(c->L, idx, &isint);
  if (type == LUA_TNONE) {
    term_put_nil(in);                              /* a missing argument is nil */
  } else if (isint) {
    /* the common keys, fast; a float of integral value (2.0) is read as
    ** its integer, whose term is the same */
    term_put_int(in, i);
  } else if (type == LUA_TSTRING) {
    s = lua_tolstring(c->L, idx, &len);
    term_put_string(in, s, len);
  } else if (!lterm_encode(c->L, idx, in, root, msg, sizeof msg)) {
    lcall_raise(c, msg);
  }
  if (!buf_ok(in)) lcall_raise(c, "out of memory");
  return at;
}

size_t lcall_encode_arg(lcall *c, int idx, const char *root) {
  return encode_typed(c, idx, lua_type(c->L, idx), root);
}

tslice lcall_slice_at(lcall *c, size_t at, size_t end) {
  return (tslice){c->s->in.p + at, end - at};
}

/* The key at argument idx (nil refused by the table layer). */
tslice lcall_key_arg(lcall *c, int idx) {
  int type = lua_type(c->L, idx);   /* asked once, for both checks */
  size_t at;
  if (type == LUA_TNONE) lcall_raise(c, "missing argument 'key'");
  at = encode_typed(c, idx, type, "key");
  return lcall_slice_at(c, at, c->s->in.n);
}

void lcall_check_object(lcall *c, int idx, const char *root) {
  if (lua_type(c->L, idx) != LUA_TTABLE) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s must be a table (got %s)", root, luaL_typename(c->L, idx));
    lcall_raise(c, msg);
  }
}

/* A position: an integer index or a field name (encoded into `in`). */
ekeypos lcall_pos_arg(lcall *c, int idx, const char *what) {
  ekeypos pos = {0, NULL, 0};
  lua_State *L = c->L;
  lua_Integer i;
  int isint;
  i = lua_tointegerx(L, idx, &isint);             /* 2.0 is 2, as everywhere */
  if (isint && lua_type(L, idx) == LUA_TNUMBER && i >= 1 && i <= (lua_Integer)TERM_MAX_COUNT) {
    pos.index = (uint32_t)i;
  } else if (lua_type(L, idx) == LUA_TSTRING) {
    size_t at = lcall_encode_arg(c, idx, what);
    pos.field = (const unsigned char *)(uintptr_t)at;   /* an offset until fixed */
    pos.fieldlen = c->s->in.n - at;
  } else {
    char msg[120];
    snprintf(msg, sizeof msg, "%s must be a positive integer or a field name (got %s)",
             what, luaL_typename(L, idx));
    lcall_raise(c, msg);
  }
  return pos;
}

/* Turns a position's offset into a pointer once `in` stops growing. */
void lcall_fix_pos(lcall *c, ekeypos *pos) {
  if (pos->field != NULL || pos->fieldlen != 0)
    pos->field = c->s->in.p + (size_t)(uintptr_t)pos->field;
}

void lcall_check_status(lcall *c) {
  if (c->e.code != HL_OK) lcall_raise(c, c->e.msg);
}

void lcall_push_list(lcall *c, size_t count) {
  if (!lterm_decode_list(c->L, c->s->out.p, c->s->out.n, count))
    lcall_raise(c, "internal error: a stored object does not decode");
}

void lcall_push_term(lcall *c, const unsigned char *p, size_t len) {
  if (lterm_decode(c->L, p, len) == 0) lcall_raise(c, "internal error: a term does not decode");
}

