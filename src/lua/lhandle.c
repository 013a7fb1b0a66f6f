/*
** lhandle.c — interned userdata for pids, references and table handles.
*/
#include <lauxlib.h>
#include <string.h>

#include "lbind.h"
#include "lhandle.h"
#include "lintern.h"
#include "llist.h"
#include "term.h"

#define CACHE_KEY "heirloom.handles"

typedef struct lid {
  uint64_t id;
} lid;

static const char *tname_of(int tag) {
  switch (tag) {
    case TERM_PID: return LHANDLE_PID;
    case TERM_REF: return LHANDLE_REF;
    default: return LHANDLE_TABLE;
  }
}

static int pid_tostring(lua_State *L) {
  char text[40];
  term_pid_text(((lid *)luaL_checkudata(L, 1, LHANDLE_PID))->id, text, sizeof text);
  lua_pushstring(L, text);
  return 1;
}

static int ref_tostring(lua_State *L) {
  lua_pushfstring(L, "#Ref<%I>", (lua_Integer)((lid *)luaL_checkudata(L, 1, LHANDLE_REF))->id);
  return 1;
}

static int table_tostring(lua_State *L) {
  ltab *h = luaL_checkudata(L, 1, LHANDLE_TABLE);
  if (h->t == NULL) {
    lua_pushfstring(L, "#Tab<%I, dropped>", (lua_Integer)h->id);
  } else {
    buf name;
    buf_init(&name);
    etab_meta(h->t, &name, NULL, NULL);
    lua_pushfstring(L, "#Tab<%s.%I>", buf_ok(&name) ? (const char *)name.p : "?",
                    (lua_Integer)h->id);
    buf_free(&name);
  }
  return 1;
}

static int table_gc(lua_State *L) {
  ltab *h = luaL_checkudata(L, 1, LHANDLE_TABLE);
  if (h->t != NULL) etab_unref(h->t);
  h->t = NULL;
  return 0;
}

/* Pids and refs order by id, so that they can be sorted. */
static int id_lt(lua_State *L) {
  lid *a = lua_touserdata(L, 1), *b = lua_touserdata(L, 2);
  if (a == NULL || b == NULL || !lua_getmetatable(L, 1) || !lua_getmetatable(L, 2) ||
      !lua_rawequal(L, -1, -2))
    return luaL_error(L, "attempt to compare two different kinds of heirloom values");
  lua_pushboolean(L, a->id < b->id);
  return 1;
}

/* The cache is made on the first handle pushed: many processes never
** push one, and a new state should cost little. One weak-valued
** metatable serves the three caches. */
static void new_cache(lua_State *L) {
  lua_createtable(L, 0, 3);        /* cache[tag] = { [id] = userdata } weak */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  for (int i = 0; i < 3; i++) {
    static const int tags[] = {TERM_PID, TERM_REF, TERM_TABLE};
    lua_newtable(L);
    lua_pushvalue(L, -2);
    lua_setmetatable(L, -2);
    lua_rawseti(L, -3, tags[i]);
  }
  lua_pop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
}

/* Made when first needed: until then no value of that kind exists in the
** state, and luaL_checkudata refuses anything as it should. */
void lhandle_push_metatable(lua_State *L, int tag) {
  const char *tname = tname_of(tag);
  if (luaL_getmetatable(L, tname) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, tname);
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, tag == TERM_PID ? pid_tostring
                       : tag == TERM_REF ? ref_tostring
                                         : table_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, tag == TERM_TABLE ? table_gc : id_lt);
  lua_setfield(L, -2, tag == TERM_TABLE ? "__gc" : "__lt");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, tname);
  if (tag == TERM_TABLE) lbind_lazy_table(L);
}

/* A node started or stopped: handles of the previous one are not reused. */
void lhandle_reset(lua_State *L) {
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
}

/* Pushes the cached value for (tag, id) and returns 1, or leaves the
** cache for that tag on the stack and returns 0. */
static int cached(lua_State *L, int tag, uint64_t id) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY) == LUA_TNIL) {
    lua_pop(L, 1);
    new_cache(L);
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
  }
  lua_rawgeti(L, -1, tag);
  lua_remove(L, -2);
  if (lua_rawgeti(L, -1, (lua_Integer)id) != LUA_TNIL) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 1);
  return 0;
}

/* With the cache on the stack: creates, caches and leaves the userdata. */
static void *create(lua_State *L, int tag, uint64_t id, size_t size) {
  void *u = lua_newuserdatauv(L, size, 0);
  memset(u, 0, size);
  *(uint64_t *)u = id;
  lhandle_push_metatable(L, tag);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, (lua_Integer)id);
  lua_remove(L, -2);
  return u;
}

void lhandle_push(lua_State *L, int tag, uint64_t id) {
  ltab *h;
  lbind *b;
  if (cached(L, tag, id)) {
    /* A handle decoded before its table existed (an id from a previous run
    ** of the node, read back from the store) must not stay dead once a
    ** table of this run gets that id. */
    if (tag == TERM_TABLE && (h = lua_touserdata(L, -1))->t == NULL) {
      b = lbind_get(L);
      if (b->node != NULL) h->t = treg_by_id(&b->node->tables, id);
    }
    return;
  }
  if (tag != TERM_TABLE) {
    create(L, tag, id, sizeof(lid));
    return;
  }
  h = create(L, tag, id, sizeof(ltab));
  b = lbind_get(L);
  h->t = b->node != NULL ? treg_by_id(&b->node->tables, id) : NULL;
}

void lhandle_push_table(lua_State *L, etab *t) {
  ltab *h;
  if (cached(L, TERM_TABLE, t->id)) {
    if ((h = lua_touserdata(L, -1))->t == NULL) {   /* see lhandle_push */
      etab_ref(t);
      h->t = t;
    }
    return;
  }
  h = create(L, TERM_TABLE, t->id, sizeof(ltab));
  etab_ref(t);
  h->t = t;
}

int lhandle_get(lua_State *L, int idx, int *tag, uint64_t *id) {
  static const int tags[] = {TERM_PID, TERM_REF, TERM_TABLE};
  void *u = lua_touserdata(L, idx);
  if (u == NULL || lua_islightuserdata(L, idx) || !lua_getmetatable(L, idx)) return 0;
  for (int i = 0; i < 3; i++) {
    luaL_getmetatable(L, tname_of(tags[i]));
    if (lua_rawequal(L, -1, -2)) {
      lua_pop(L, 2);
      *tag = tags[i];
      *id = *(uint64_t *)u;
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

ltab *lhandle_totable(lua_State *L, int idx) {
  return luaL_testudata(L, idx, LHANDLE_TABLE);
}

/* Judged by the metatable, which only this file gives to a userdata: a
** Lua table or another library's userdata is no pid, whatever it prints
** as or names itself. */
int lhandle_kind(lua_State *L) {
  int tag;
  uint64_t id;
  const char *interned;
  if (lua_isnone(L, 1)) return luaL_error(L, "heirloom.kind: missing argument 'value'");
  if ((interned = lintern_kind(L, 1)) != NULL) {
    lua_pushstring(L, interned);   /* an atom, or another node's pid or ref */
  } else if (llist_is(L, 1)) {
    lua_pushliteral(L, "list");
  } else if (!lhandle_get(L, 1, &tag, &id)) {
    lua_pushnil(L);
  } else if (tag == TERM_PID) {
    lua_pushliteral(L, "pid");
  } else if (tag == TERM_REF) {
    lua_pushliteral(L, "ref");
  } else {
    lua_pushliteral(L, "table");
  }
  return 1;
}
