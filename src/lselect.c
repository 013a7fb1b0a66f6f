/*
** lselect.c — match, match_object, match_delete and the select family:
** the spec is encoded, compiled once in C (mspec.c) and run on the stored
** objects; only results cross back into Lua.
*/
#include <lauxlib.h>
#include <stdio.h>

#include "lcall.h"
#include "lhandle.h"
#include "lselect.h"
#include "mspec.h"
#include "term.h"

#define CONT_META "heirloom.continuation"

/* What select(spec, limit) hands back to resume from. */
typedef struct lcont {
  etab *t;          /* referenced */
  mspec *ms;
  buf last;         /* key of the last object scanned */
  size_t limit;
  int done;
} lcont;

static int cont_gc(lua_State *L) {
  lcont *k = luaL_checkudata(L, 1, CONT_META);
  if (k->ms != NULL) mspec_free(k->ms);
  if (k->t != NULL) etab_unref(k->t);
  buf_free(&k->last);
  k->ms = NULL;
  k->t = NULL;
  return 0;
}

void lselect_open(lua_State *L) {
  if (luaL_newmetatable(L, CONT_META)) {
    lua_pushcfunction(L, cont_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, "heirloom.continuation");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
}

/* Compiles the spec (kind < 0) or pattern (kind: MSPEC_*) at idx. The
** caller frees it before raising anything else. */
static mspec *compile(lcall *c, int idx, int kind) {
  const char *what = kind < 0 ? "match spec" : "pattern";
  char err[256], msg[320];
  size_t at;
  mspec *ms;
  if (kind < 0) lcall_check_object(c, idx, what);   /* a pattern may be "_" or "$1" */
  at = lcall_encode_arg(c, idx, what);
  if (kind < 0) ms = mspec_compile(c->s->in.p + at, c->s->in.n - at, err, sizeof err);
  else ms = mspec_from_pattern(c->s->in.p + at, c->s->in.n - at, kind, err, sizeof err);
  if (ms == NULL) {
    snprintf(msg, sizeof msg, "%s: %s", what, err);
    lcall_raise(c, msg);
  }
  return ms;
}

/* Runs ms over the whole table into the output buffer. */
static size_t scan_all(lcall *c, mspec *ms) {
  size_t count;
  int done;
  buf last;
  buf_init(&last);
  etab_scan(c->t, c->b->self, (tslice){NULL, 0}, 1, ms, 0, &c->s->out, &count, &last,
            &done, &c->e);
  buf_free(&last);
  mspec_free(ms);
  lcall_check_status(c);
  return count;
}

static int select_list(lua_State *L, const char *fname, int kind) {
  lcall c;
  lcall_begin(&c, L, fname);
  lcall_push_list(&c, scan_all(&c, compile(&c, 2, kind)));
  return lcall_end(&c, 1);
}

int lselect_match(lua_State *L) {
  return select_list(L, "table.match", MSPEC_BINDINGS);
}

int lselect_match_object(lua_State *L) {
  return select_list(L, "table.match_object", MSPEC_OBJECT);
}

static int delete_matching(lua_State *L, const char *fname, int kind) {
  lcall c;
  size_t count;
  mspec *ms;
  lcall_begin(&c, L, fname);
  ms = compile(&c, 2, kind);
  etab_select_delete(c.t, c.b->self, ms, &count, &c.e);
  mspec_free(ms);
  lcall_check_status(&c);
  lcall_end(&c, 0);
  return (int)count;
}

int lselect_match_delete(lua_State *L) {
  delete_matching(L, "table.match_delete", MSPEC_TRUE);
  lua_pushboolean(L, 1);
  return 1;
}

int lselect_select_delete(lua_State *L) {
  lua_pushinteger(L, delete_matching(L, "table.select_delete", -1));
  return 1;
}

int lselect_select_replace(lua_State *L) {
  lcall c;
  size_t count;
  mspec *ms;
  lcall_begin(&c, L, "table.select_replace");
  ms = compile(&c, 2, -1);
  etab_select_replace(c.t, c.b->self, ms, &count, &c.e);
  mspec_free(ms);
  lcall_check_status(&c);
  lua_pushinteger(L, (lua_Integer)count);
  return lcall_end(&c, 1);
}

int lselect_select_count(lua_State *L) {
  lcall c;
  size_t count, at = 0, matched = 0;
  lcall_begin(&c, L, "table.select_count");
  count = scan_all(&c, compile(&c, 2, -1));
  for (size_t i = 0; i < count; i++) {
    size_t n = term_skip(c.s->out.p + at, c.s->out.n - at);
    if (n == 1 && c.s->out.p[at] == TERM_TRUE) matched++;
    if (n == 0) break;
    at += n;
  }
  lua_pushinteger(L, (lua_Integer)matched);
  return lcall_end(&c, 1);
}

/* One chunk from a continuation: pushes the list and the continuation (or
** nil when the table is done), or just nil when nothing more matched. */
static int resume(lcall *c, lcont *k, int kidx) {
  size_t count;
  buf from;
  if (k->done || k->t == NULL) {
    lua_pushnil(c->L);
    return 1;
  }
  buf_init(&from);
  buf_put(&from, k->last.p, k->last.n);
  if (!buf_ok(&from)) lcall_raise(c, "out of memory");
  etab_scan(k->t, c->b->self, (tslice){from.n ? from.p : NULL, from.n}, 1, k->ms,
            k->limit, &c->s->out, &count, &k->last, &k->done, &c->e);
  buf_free(&from);
  lcall_check_status(c);
  if (count == 0) {
    lua_pushnil(c->L);
    return 1;
  }
  lcall_push_list(c, count);
  if (k->done) lua_pushnil(c->L);
  else lua_pushvalue(c->L, kidx);
  return 2;
}

int lselect_select(lua_State *L) {
  lcall c;
  lcont *k;
  lua_Integer limit = 0;
  if (luaL_testudata(L, 1, CONT_META) != NULL) {   /* heirloom.table.select(cont) */
    k = lua_touserdata(L, 1);
    if (k->t == NULL) return luaL_error(L, "heirloom.table.select: the continuation is spent");
    lua_pushnil(L);
    lua_insert(L, 1);
    lhandle_push_table(L, k->t);
    lua_replace(L, 1);
  }
  lcall_begin(&c, L, "table.select");
  if ((k = luaL_testudata(L, 2, CONT_META)) != NULL) {
    if (k->t != c.t) lcall_raise(&c, "the continuation belongs to another table");
    return lcall_end(&c, resume(&c, k, 2));
  }
  if (lua_isnoneornil(L, 3)) {
    lcall_push_list(&c, scan_all(&c, compile(&c, 2, -1)));
    return lcall_end(&c, 1);
  }
  if (!lua_isinteger(L, 3) || (limit = lua_tointeger(L, 3)) < 1)
    lcall_raise(&c, "limit must be a positive integer");
  k = lua_newuserdatauv(L, sizeof *k, 0);
  k->t = NULL;
  k->ms = NULL;
  buf_init(&k->last);
  k->limit = (size_t)limit;
  k->done = 0;
  luaL_setmetatable(L, CONT_META);
  k->ms = compile(&c, 2, -1);        /* owned by the continuation from here */
  k->t = c.t;
  etab_ref(c.t);
  return lcall_end(&c, resume(&c, k, lua_gettop(L)));
}
