/*
** lintern.c — atoms and other nodes' pids and refs in Lua (lintern.h).
** The userdata holds the term's bytes; one weak-valued cache per state
** maps those bytes (as a Lua string) to the value, so a value used as a
** table key, and so alive, is always the one found again.
*/
#include <lauxlib.h>
#include <string.h>

#include "buf.h"
#include "lintern.h"
#include "term.h"

#define CACHE_KEY "heirloom.interned"

typedef struct interned {
  size_t len;
  unsigned char bytes[1];   /* len bytes: the term */
} interned;

static const char *tname_of(int tag) {
  return tag == TERM_ATOM ? LINTERN_ATOM : tag == TERM_XPID ? LINTERN_XPID : LINTERN_XREF;
}

static interned *to_value(lua_State *L, int idx) {
  static const char *const names[] = {LINTERN_ATOM, LINTERN_XPID, LINTERN_XREF};
  for (int i = 0; i < 3; i++) {
    interned *v = luaL_testudata(L, idx, names[i]);
    if (v != NULL) return v;
  }
  return NULL;
}

/* Appends a node's name and, for pids and refs, what follows it. */
static void push_text(lua_State *L, const interned *v) {
  term_xpid xp;
  term_xref xr;
  const unsigned char *name;
  size_t namelen;
  char text[TERM_NAMED_TEXT_MAX];
  switch (v->bytes[0]) {
  case TERM_ATOM:
    term_get_atom(v->bytes, v->len, &name, &namelen);
    lua_pushlstring(L, (const char *)name, namelen);
    return;
  case TERM_XPID:
    term_get_xpid(v->bytes, v->len, &xp);
    term_xpid_text(&xp, text, sizeof text);
    lua_pushstring(L, text);
    return;
  default:
    term_get_xref(v->bytes, v->len, &xr);
    term_xref_text(&xr, text, sizeof text);
    lua_pushstring(L, text);
  }
}

static int value_tostring(lua_State *L) {
  interned *v = to_value(L, 1);
  if (v == NULL) return luaL_error(L, "heirloom: tostring of a value that is not an atom");
  push_text(L, v);
  return 1;
}

/* In the term order: atoms by name, remote pids by node, number, serial. */
static int value_lt(lua_State *L) {
  interned *a = to_value(L, 1), *b = to_value(L, 2);
  int c;
  if (a == NULL || b == NULL || a->bytes[0] != b->bytes[0])
    return luaL_error(L, "attempt to compare two different kinds of heirloom values");
  c = memcmp(a->bytes, b->bytes, a->len < b->len ? a->len : b->len);
  lua_pushboolean(L, c < 0 || (c == 0 && a->len < b->len));
  return 1;
}

static void push_metatable(lua_State *L, int tag) {
  const char *tname = tname_of(tag);
  if (luaL_getmetatable(L, tname) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, tname);
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, value_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, value_lt);
  lua_setfield(L, -2, "__lt");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, tname);
}

void lintern_push(lua_State *L, const unsigned char *p, size_t len) {
  interned *v;
  luaL_checkstack(L, 4, "heirloom: interning a value");
  if (lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
  }
  lua_pushlstring(L, (const char *)p, len);
  if (lua_rawget(L, -2) != LUA_TNIL) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  v = lua_newuserdatauv(L, offsetof(interned, bytes) + len, 0);
  v->len = len;
  memcpy(v->bytes, p, len);
  push_metatable(L, p[0]);
  lua_setmetatable(L, -2);
  lua_pushlstring(L, (const char *)p, len);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  lua_remove(L, -2);
}

int lintern_get(lua_State *L, int idx, const unsigned char **p, size_t *len) {
  interned *v;
  if (lua_type(L, idx) != LUA_TUSERDATA || (v = to_value(L, idx)) == NULL) return 0;
  *p = v->bytes;
  *len = v->len;
  return 1;
}

const char *lintern_kind(lua_State *L, int idx) {
  const unsigned char *p;
  size_t len;
  if (!lintern_get(L, idx, &p, &len)) return NULL;
  return p[0] == TERM_ATOM ? "atom" : p[0] == TERM_XPID ? "pid" : "ref";
}

int lintern_atom(lua_State *L) {
  size_t len;
  const char *name;
  buf b;
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "heirloom.atom: argument 1 (name) must be a string (got %s)",
                      luaL_typename(L, 1));
  name = lua_tolstring(L, 1, &len);
  if (len > TERM_NAME_MAX)
    return luaL_error(L, "heirloom.atom: argument 1 (name) must be at most %d bytes (got %I)",
                      TERM_NAME_MAX, (lua_Integer)len);
  if (memchr(name, 0, len) != NULL)
    return luaL_error(L, "heirloom.atom: argument 1 (name) must not hold a zero byte");
  buf_init(&b);
  term_put_atom(&b, name, len);
  if (!buf_ok(&b)) {
    buf_free(&b);
    return luaL_error(L, "heirloom.atom: out of memory");
  }
  lua_pushlstring(L, (const char *)b.p, b.n);   /* no error may leave b behind */
  buf_free(&b);
  lintern_push(L, (const unsigned char *)lua_tostring(L, -1), lua_rawlen(L, -1));
  return 1;
}
