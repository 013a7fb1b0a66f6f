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
#define SEL_META "heirloom.select"

/* What every continuation of one select(spec, limit) shares, held by
** each of them as its user value and freed with the last. */
typedef struct lsel {
  etab *t;          /* referenced */
  mspec *ms;
  size_t limit;
  int dir;          /* 1, or -1 for select_reverse on an ordered_set */
} lsel;

/* A continuation: where the next chunk starts. It is a value, as in ETS:
** nothing changes it once it is handed out, so resuming it again gives
** that chunk again (of the table as it is then); each chunk comes with a
** new continuation. */
typedef struct lcont {
  buf last;         /* key of the last object scanned */
  int live;         /* 0 once finalized */
} lcont;

static int sel_gc(lua_State *L) {
  lsel *s = luaL_checkudata(L, 1, SEL_META);
  if (s->ms != NULL) mspec_free(s->ms);
  if (s->t != NULL) etab_unref(s->t);
  s->ms = NULL;
  s->t = NULL;
  return 0;
}

static int cont_gc(lua_State *L) {
  lcont *k = luaL_checkudata(L, 1, CONT_META);
  buf_free(&k->last);
  k->live = 0;
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
  if (luaL_newmetatable(L, SEL_META)) {
    lua_pushcfunction(L, sel_gc);
    lua_setfield(L, -2, "__gc");
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

/* Runs ms over the whole table, in direction dir, into the output buffer. */
static size_t scan_all(lcall *c, mspec *ms, int dir) {
  size_t count;
  int done;
  buf last;
  buf_init(&last);
  etab_scan(c->t, c->b->self, (tslice){NULL, 0}, dir, ms, 0, &c->s->out, &count, &last,
            &done, &c->e);
  buf_free(&last);
  mspec_free(ms);
  lcall_check_status(c);
  return count;
}

static int select_list(lua_State *L, const char *fname, int kind) {
  lcall c;
  lcall_begin(&c, L, fname);
  lcall_push_list(&c, scan_all(&c, compile(&c, 2, kind), 1));
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
  count = scan_all(&c, compile(&c, 2, -1), 1);
  for (size_t i = 0; i < count; i++) {
    size_t n = term_skip(c.s->out.p + at, c.s->out.n - at);
    if (n == 1 && c.s->out.p[at] == TERM_TRUE) matched++;
    if (n == 0) break;
    at += n;
  }
  lua_pushinteger(L, (lua_Integer)matched);
  return lcall_end(&c, 1);
}

/* The select shared by the continuation at idx, or NULL when either was
** finalized (a finalizer can bring a continuation back). Pushes nothing. */
static lsel *cont_select(lua_State *L, int idx, lcont **k) {
  lsel *s;
  *k = lua_touserdata(L, idx);
  lua_getiuservalue(L, idx, 1);
  s = luaL_testudata(L, -1, SEL_META);
  lua_pop(L, 1);
  return (*k)->live && s != NULL && s->t != NULL ? s : NULL;
}

/* One chunk of the select at sidx, after the key from (none: from the
** start): pushes the list and a new continuation (or nil when the table
** is done), or just nil when nothing more matched. */
static int resume(lcall *c, lsel *s, int sidx, const buf *from) {
  size_t count;
  int done;
  /* made before the scan, which writes its next position straight in */
  lcont *next = lua_newuserdatauv(c->L, sizeof *next, 1);
  buf_init(&next->last);
  next->live = 1;
  luaL_setmetatable(c->L, CONT_META);
  lua_pushvalue(c->L, sidx);
  lua_setiuservalue(c->L, -2, 1);
  etab_scan(s->t, c->b->self, (tslice){from->n ? from->p : NULL, from->n}, s->dir, s->ms,
            s->limit, &c->s->out, &count, &next->last, &done, &c->e);
  lcall_check_status(c);
  if (count == 0) {
    lua_pushnil(c->L);
    return 1;
  }
  lcall_push_list(c, count);
  if (done) lua_pushnil(c->L);
  else lua_pushvalue(c->L, -2);
  return 2;
}

/* select and select_reverse: t:select(ms [, limit]), t:select(cont) and
** heirloom.table.select(cont). A continuation goes on in the direction it
** was started in, whichever of the two resumes it (as in ETS). */
static int select_dir(lua_State *L, const char *fname, int reverse) {
  lcall c;
  lcont *k;
  lsel *s;
  buf start;
  lua_Integer limit = 0;
  int dir;
  if (luaL_testudata(L, 1, CONT_META) != NULL) {   /* heirloom.table.select(cont) */
    if ((s = cont_select(L, 1, &k)) == NULL)
      return luaL_error(L, "heirloom.%s: the continuation is spent", fname);
    lua_pushnil(L);
    lua_insert(L, 1);
    lhandle_push_table(L, s->t);
    lua_replace(L, 1);
  }
  lcall_begin(&c, L, fname);
  if (luaL_testudata(L, 2, CONT_META) != NULL) {
    if ((s = cont_select(L, 2, &k)) == NULL) lcall_raise(&c, "the continuation is spent");
    if (s->t != c.t) lcall_raise(&c, "the continuation belongs to another table");
    lua_getiuservalue(L, 2, 1);
    return lcall_end(&c, resume(&c, s, lua_gettop(L), &k->last));
  }
  /* ETS's select_reverse walks an ordered_set backward and is select on
  ** the other types, whose order has no meaning to reverse. */
  dir = reverse && etab_is_ordered(c.t) ? -1 : 1;
  if (lua_isnoneornil(L, 3)) {
    lcall_push_list(&c, scan_all(&c, compile(&c, 2, -1), dir));
    return lcall_end(&c, 1);
  }
  if (!lua_isinteger(L, 3) || (limit = lua_tointeger(L, 3)) < 1)
    lcall_raise(&c, "limit must be a positive integer");
  s = lua_newuserdatauv(L, sizeof *s, 0);
  s->t = NULL;
  s->ms = NULL;
  s->limit = (size_t)limit;
  s->dir = dir;
  luaL_setmetatable(L, SEL_META);
  s->ms = compile(&c, 2, -1);        /* owned by the select from here */
  s->t = c.t;
  etab_ref(c.t);
  buf_init(&start);
  return lcall_end(&c, resume(&c, s, lua_gettop(L), &start));
}

int lselect_select(lua_State *L) {
  return select_dir(L, "table.select", 0);
}

int lselect_select_reverse(lua_State *L) {
  return select_dir(L, "table.select_reverse", 1);
}
