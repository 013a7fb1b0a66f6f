/*
** lstore.c — the Lua side of the store: hl.store (put, get, delete, list,
** dir), t:tab2file, hl.table.file2tab and hl.table.tabfile_info, and the
** `sync` option shared by hl.start and hl.table.new.
*/
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "edurable.h"
#include "lbind.h"
#include "lcall.h"
#include "lhandle.h"
#include "lstore.h"
#include "lterm.h"
#include "srepair.h"
#include "store.h"
#include "tabfile.h"

int lstore_sync_arg(lua_State *L, int idx, const char *fname, int dflt) {
  int isint;
  lua_Integer ms;
  if (lua_isnoneornil(L, idx)) return dflt;
  if (lua_type(L, idx) == LUA_TSTRING) {
    if (strcmp(lua_tostring(L, idx), "none") == 0) return HL_SYNC_NONE;
    if (strcmp(lua_tostring(L, idx), "always") == 0) return HL_SYNC_ALWAYS;
  } else if (lua_type(L, idx) == LUA_TNUMBER) {
    ms = lua_tointegerx(L, idx, &isint);
    if (isint && ms >= 1 && ms <= 3600000) return (int)ms;
  }
  return luaL_error(L, "heirloom.%s: opts.sync must be \"none\", \"always\" or a period "
                       "of 1 to 3600000 ms", fname);
}

void lstore_push_sync(lua_State *L, etab *t) {
  if (t->disk == NULL) lua_pushnil(L);
  else if (t->disk->sync == HL_SYNC_NONE) lua_pushliteral(L, "none");
  else if (t->disk->sync == HL_SYNC_ALWAYS) lua_pushliteral(L, "always");
  else lua_pushinteger(L, t->disk->sync);
}

/* ---- hl.store ---- */

typedef struct kvcall {
  lua_State *L;
  const char *fname;
  lbind *b;
  lscratch *buf;     /* the call's own buffers, lent until kv_end */
  store *s;
  const char *ns;
  size_t nslen;
  hl_err e;
} kvcall;

static void kv_begin(kvcall *c, lua_State *L, const char *fname) {
  c->L = L;
  c->fname = fname;
  c->b = lbind_running(L, fname);
  err_clear(&c->e);
  if (lua_type(L, 1) != LUA_TSTRING)
    luaL_error(L, "heirloom.%s: ns must be a string (got %s)", fname, luaL_typename(L, 1));
  c->ns = lua_tolstring(L, 1, &c->nslen);
  c->s = edur_store(&c->b->node->tables, &c->e);
  if (c->s == NULL) luaL_error(L, "heirloom.%s: %s", fname, c->e.msg);
  c->buf = lbind_borrow(L, c->b, fname);
}

static int kv_end(kvcall *c, int nresults) {
  lscratch_return(c->buf);
  c->buf = NULL;
  return nresults;
}

static int kv_raise(kvcall *c, const char *msg) {
  kv_end(c, 0);
  return luaL_error(c->L, "heirloom.%s: %s", c->fname, msg);
}

static void kv_check(kvcall *c) {
  if (c->e.code != HL_OK) kv_raise(c, c->e.msg);
}

/* Encodes argument idx into the input buffer; returns its offset. */
static size_t kv_encode(kvcall *c, int idx, const char *what) {
  char msg[300];
  size_t at = c->buf->in.n;
  if (lua_isnoneornil(c->L, idx)) {
    snprintf(msg, sizeof msg, "%s must not be nil", what);
    kv_raise(c, msg);
  }
  if (!lterm_encode(c->L, idx, &c->buf->in, what, msg, sizeof msg)) kv_raise(c, msg);
  if (!buf_ok(&c->buf->in)) kv_raise(c, "out of memory");
  return at;
}

static int kv_put(lua_State *L) {
  kvcall c;
  size_t vat;
  kv_begin(&c, L, "store.put");
  kv_encode(&c, 2, "key");
  vat = kv_encode(&c, 3, "value");
  store_kv_put(c.s, c.ns, c.nslen, c.buf->in.p, vat, c.buf->in.p + vat, c.buf->in.n - vat,
               &c.e);
  kv_check(&c);
  lua_pushboolean(L, 1);
  return kv_end(&c, 1);
}

static int kv_get(lua_State *L) {
  kvcall c;
  kv_begin(&c, L, "store.get");
  kv_encode(&c, 2, "key");
  store_kv_get(c.s, c.ns, c.nslen, c.buf->in.p, c.buf->in.n, &c.buf->out, &c.e);
  if (c.e.code == HL_ENOTFOUND) {
    lua_pushnil(L);
    return kv_end(&c, 1);
  }
  kv_check(&c);
  if (lterm_decode(L, c.buf->out.p, c.buf->out.n) == 0)
    return kv_raise(&c, "the stored value does not decode");
  return kv_end(&c, 1);
}

static int kv_delete(lua_State *L) {
  kvcall c;
  kv_begin(&c, L, "store.delete");
  kv_encode(&c, 2, "key");
  store_kv_delete(c.s, c.ns, c.nslen, c.buf->in.p, c.buf->in.n, &c.e);
  kv_check(&c);
  lua_pushboolean(L, 1);
  return kv_end(&c, 1);
}

static int kv_list(lua_State *L) {
  kvcall c;
  size_t count, at = 0;
  buf *out;
  kv_begin(&c, L, "store.list");
  kv_end(&c, 0);           /* list's buffer is its own: */
  out = lbind_newbuf(L);   /* decoding may raise: Lua owns the memory */
  store_kv_list(c.s, c.ns, c.nslen, out, &count, &c.e);
  kv_check(&c);
  lua_createtable(L, (int)count, 0);
  for (size_t i = 0; i < count; i++) {
    size_t n;
    lua_createtable(L, 2, 0);
    for (int j = 1; j <= 2; j++) {
      if ((n = lterm_decode(L, out->p + at, out->n - at)) == 0)
        return luaL_error(L, "heirloom.store.list: a stored record does not decode");
      at += n;
      lua_rawseti(L, -2, j);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* The data_dir, or nil; with true, the private directory used without
** one (made now if need be) and whether it is temporary. */
static int kv_dir(lua_State *L) {
  lbind *b = lbind_running(L, "store.dir");
  const char *dir = edur_dir(&b->node->tables);
  hl_err e;
  if (dir != NULL || !lua_toboolean(L, 1)) {
    if (dir == NULL) lua_pushnil(L);
    else lua_pushstring(L, dir);
    return 1;
  }
  err_clear(&e);
  if (edur_store(&b->node->tables, &e) == NULL) return luaL_error(L, "heirloom.store.dir: %s", e.msg);
  lua_pushstring(L, edur_path(&b->node->tables));
  lua_pushboolean(L, 1);
  return 2;
}

/* ---- table files ---- */

static const char *path_arg(lua_State *L, int idx, const char *fname) {
  if (lua_type(L, idx) != LUA_TSTRING || lua_rawlen(L, idx) == 0 ||
      strlen(lua_tostring(L, idx)) != lua_rawlen(L, idx))
    luaL_error(L, "heirloom.%s: path must be a non-empty string without NUL bytes", fname);
  return lua_tostring(L, idx);
}

int lstore_tab2file(lua_State *L) {
  lcall c;
  lcall_begin(&c, L, "table.tab2file");
  lcall_end(&c, 0);        /* the file is written from the table, not from buffers */
  tabfile_save(c.t, c.b->self, path_arg(L, 2, "table.tab2file"), &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_file2tab(lua_State *L) {
  static const char *const known[] = {"name", "durable", "sync", NULL};
  lbind *b = lbind_running(L, "table.file2tab");
  const char *path = path_arg(L, 1, "table.file2tab"), *name = NULL;
  int durable = 0, sync = HL_SYNC_DEFAULT;
  etab *t;
  hl_err e;
  if (!lua_isnoneornil(L, 2)) {
    if (lua_type(L, 2) != LUA_TTABLE)
      return luaL_error(L, "heirloom.table.file2tab: opts must be a table");
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
      int ok = 0;
      for (int i = 0; known[i] != NULL && lua_type(L, -2) == LUA_TSTRING && !ok; i++)
        ok = strcmp(known[i], lua_tostring(L, -2)) == 0;
      if (!ok)
        return luaL_error(L, "heirloom.table.file2tab: unknown option '%s'",
                          lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                                                         : luaL_typename(L, -2));
      lua_pop(L, 1);
    }
    lua_settop(L, 2);
    lua_getfield(L, 2, "name");
    if (!lua_isnil(L, 3) && (lua_type(L, 3) != LUA_TSTRING || lua_rawlen(L, 3) == 0 ||
                             strlen(lua_tostring(L, 3)) != lua_rawlen(L, 3)))
      return luaL_error(L, "heirloom.table.file2tab: opts.name must be a non-empty string");
    name = lua_tostring(L, 3);
    lua_getfield(L, 2, "durable");
    if (!lua_isnil(L, 4) && !lua_isboolean(L, 4))
      return luaL_error(L, "heirloom.table.file2tab: opts.durable must be a boolean");
    durable = lua_toboolean(L, 4);
    lua_getfield(L, 2, "sync");
    sync = lstore_sync_arg(L, 5, "table.file2tab", HL_SYNC_DEFAULT);
  }
  err_clear(&e);
  if (tabfile_load(&b->node->tables, b->self, path, name, durable, sync, &t, &e) != HL_OK)
    return luaL_error(L, "heirloom.table.file2tab: %s", e.msg);
  lhandle_push_table(L, t);
  etab_unref(t);
  return 1;
}

static int l_tabfile_info(lua_State *L) {
  const char *path = path_arg(L, 1, "table.tabfile_info");
  tabfile_meta m;
  hl_err e;
  err_clear(&e);
  tabfile_meta_init(&m);
  if (tabfile_info(path, &m, &e) != HL_OK) {
    tabfile_meta_free(&m);
    return luaL_error(L, "heirloom.table.tabfile_info: %s", e.msg);
  }
  lua_createtable(L, 0, 7);
  lua_pushstring(L, (const char *)m.name.p);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, etab_type_name(m.type));
  lua_setfield(L, -2, "type");
  lua_pushstring(L, etab_access_name(m.access));
  lua_setfield(L, -2, "access");
  lua_pushboolean(L, m.named);
  lua_setfield(L, -2, "named");
  if (m.keypos > 0) lua_pushinteger(L, m.keypos);
  else if (lterm_decode(L, m.field.p, m.field.n) == 0) lua_pushnil(L);
  lua_setfield(L, -2, "keypos");
  lua_pushinteger(L, (lua_Integer)m.count);
  lua_setfield(L, -2, "size");
  lua_pushinteger(L, m.version);
  lua_setfield(L, -2, "version");
  tabfile_meta_free(&m);
  return 1;
}

/* The report in the buf at index 1, as a Lua table: called protected, so
** that the buf is freed even when Lua runs out of memory. */
static int push_report(lua_State *L) {
  buf *out = lua_touserdata(L, 1);
  if (lterm_decode(L, out->p, out->n) == 0)
    return luaL_error(L, "heirloom.store.repair: the report does not decode");
  return 1;
}

/* hl.store.repair(dir): no node needed, and none may use dir. */
static int kv_repair(lua_State *L) {
  buf out;
  hl_err e;
  if (lua_type(L, 1) != LUA_TSTRING || lua_rawlen(L, 1) == 0 ||
      strlen(lua_tostring(L, 1)) != lua_rawlen(L, 1))
    return luaL_error(L, "heirloom.store.repair: dir must be a non-empty path (got %s)",
                      lua_type(L, 1) != LUA_TSTRING ? luaL_typename(L, 1)
                      : lua_rawlen(L, 1) == 0       ? "an empty string"
                                                    : "a string with a NUL byte");
  err_clear(&e);
  buf_init(&out);
  if (store_repair(lua_tostring(L, 1), &out, &e) != HL_OK) {
    buf_free(&out);
    return luaL_error(L, "heirloom.store.repair: %s", e.msg);
  }
  lua_pushcfunction(L, push_report);
  lua_pushlightuserdata(L, &out);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    buf_free(&out);
    return lua_error(L);
  }
  buf_free(&out);
  return 1;
}

static const luaL_Reg store_functions[] = {
  {"put", kv_put},
  {"get", kv_get},
  {"delete", kv_delete},
  {"list", kv_list},
  {"dir", kv_dir},
  {"repair", kv_repair},
  {NULL, NULL}
};

void lstore_open(lua_State *L) {
  luaL_newlib(L, store_functions);
}

void lstore_table_functions(lua_State *L) {
  lua_pushcfunction(L, l_file2tab);
  lua_setfield(L, -2, "file2tab");
  lua_pushcfunction(L, l_tabfile_info);
  lua_setfield(L, -2, "tabfile_info");
}
