/*
** linfo.c — heirloom.table.new, whereis and all, and what describes or
** changes a table as a whole: info, rename, setopts, give_away.
*/
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lcall.h"
#include "lhandle.h"
#include "linfo.h"
#include "lstore.h"
#include "lterm.h"
#include "owner.h"
#include "term.h"

/* ---- new ---- */

static const char *const new_options[] = {
  "type", "access", "named", "keypos", "heir", "heir_data", "custody", "durable", "sync", NULL
};

static int new_error(lua_State *L, const char *msg) {
  return luaL_error(L, "heirloom.table.new: %s", msg);
}

static void check_option_names(lua_State *L, int opts, const char *fname,
                               const char *const *known) {
  lua_pushnil(L);
  while (lua_next(L, opts) != 0) {
    int ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      for (int i = 0; known[i] != NULL && !ok; i++) ok = strcmp(known[i], lua_tostring(L, -2)) == 0;
    if (!ok)
      luaL_error(L, "heirloom.%s: unknown option '%s'", fname,
                 lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2));
    lua_pop(L, 1);
  }
}

static int choice(lua_State *L, int opts, const char *field, const char *const *names,
                  int dflt) {
  const char *s;
  int found = -1;
  if (lua_getfield(L, opts, field) == LUA_TNIL) {
    lua_pop(L, 1);
    return dflt;
  }
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  for (int i = 0; names[i] != NULL; i++)
    if (strcmp(names[i], s) == 0) found = i;
  if (found < 0) {
    char msg[160];
    size_t used = (size_t)snprintf(msg, sizeof msg, "opts.%s must be one of", field);
    for (int i = 0; names[i] != NULL && used < sizeof msg; i++)
      used += (size_t)snprintf(msg + used, sizeof msg - used, "%s '%s'", i ? "," : "", names[i]);
    new_error(L, msg);
  }
  lua_pop(L, 1);
  return found;
}

static int flag(lua_State *L, int opts, const char *field) {
  int t = lua_getfield(L, opts, field), v;
  if (t != LUA_TNIL && t != LUA_TBOOLEAN) {
    lua_pushfstring(L, "opts.%s must be a boolean", field);
    new_error(L, lua_tostring(L, -1));
  }
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* keypos: an index, or a field name encoded into kbuf. */
static ekeypos keypos_option(lua_State *L, int opts, buf *kbuf) {
  ekeypos pos = {1, NULL, 0};
  switch (lua_getfield(L, opts, "keypos")) {
    case LUA_TNIL:
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      if (len == 0) new_error(L, "opts.keypos must not be an empty field name");
      term_put_string(kbuf, s, len);
      if (!buf_ok(kbuf)) new_error(L, "out of memory");
      pos.index = 0;
      pos.field = kbuf->p;
      pos.fieldlen = kbuf->n;
      break;
    }
    default: {
      int isint;
      lua_Integer i = lua_tointegerx(L, -1, &isint);   /* 2.0 is 2 */
      if (!isint || lua_type(L, -1) != LUA_TNUMBER || i < 1 || i > (lua_Integer)TERM_MAX_COUNT)
        new_error(L, "opts.keypos must be a positive integer or a field name");
      pos.index = (uint32_t)i;
      break;
    }
  }
  lua_pop(L, 1);
  return pos;
}

/* Encodes a heir (pid, name or false/nil for none) and its data into b.
** Returns 1, 0 for none, or -1 with the reason in msg. */
static int encode_heir(lua_State *L, int heir, int data, buf *b, size_t *heirlen,
                       char *msg, size_t size) {
  int tag;
  uint64_t id;
  if (lua_isnoneornil(L, heir) || (lua_isboolean(L, heir) && !lua_toboolean(L, heir)))
    return 0;
  if (lua_type(L, heir) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, heir, &len);
    term_put_string(b, s, len);
  } else if (lhandle_get(L, heir, &tag, &id) && tag == TERM_PID) {
    term_put_id(b, TERM_PID, id);
  } else {
    snprintf(msg, size, "heir must be a pid, a registered name or false (got %s)",
             luaL_typename(L, heir));
    return -1;
  }
  *heirlen = b->n;
  if (!lterm_encode(L, data, b, "heir_data", msg, size)) return -1;
  if (!buf_ok(b)) {
    snprintf(msg, size, "out of memory");
    return -1;
  }
  return 1;
}

int linfo_new(lua_State *L) {
  static const char *const types[] = {"set", "ordered_set", "bag", "duplicate_bag", NULL};
  static const char *const access[] = {"public", "protected", "private", NULL};
  lbind *b = lbind_running(L, "table.new");
  etab_opts opts;
  hl_err e;
  etab *t;
  buf *kbuf, *hbuf;
  size_t heirlen = 0;
  int has_heir;
  const char *name;
  char msg[300];
  if (lua_type(L, 1) != LUA_TSTRING || lua_rawlen(L, 1) == 0)
    return new_error(L, "name must be a non-empty string");
  name = lua_tostring(L, 1);
  if (strlen(name) != lua_rawlen(L, 1)) return new_error(L, "name must not contain NUL bytes");
  if (lua_isnoneornil(L, 2)) lua_newtable(L);
  else if (lua_type(L, 2) != LUA_TTABLE) return new_error(L, "opts must be a table");
  lua_settop(L, 2);
  check_option_names(L, 2, "table.new", new_options);
  memset(&opts, 0, sizeof opts);
  /* owned by Lua, so that any error frees them; new is not a hot path */
  kbuf = lbind_newbuf(L);   /* 3 */
  hbuf = lbind_newbuf(L);   /* 4 */
  opts.type = (hl_table_type)choice(L, 2, "type", types, HL_SET);
  opts.access = (hl_access)choice(L, 2, "access", access, HL_PROTECTED);
  opts.named = flag(L, 2, "named");
  opts.custody = flag(L, 2, "custody");
  opts.durable = flag(L, 2, "durable");
  lua_getfield(L, 2, "sync");
  opts.sync = lstore_sync_arg(L, 5, "table.new", HL_SYNC_DEFAULT);
  lua_pop(L, 1);
  opts.keypos = keypos_option(L, 2, kbuf);
  lua_getfield(L, 2, "heir");        /* 5 */
  lua_getfield(L, 2, "heir_data");   /* 6 */
  has_heir = encode_heir(L, 5, 6, hbuf, &heirlen, msg, sizeof msg);
  if (has_heir < 0) return new_error(L, msg);
  err_clear(&e);
  t = etab_new(&b->node->tables, name, &opts, b->self, &e);
  if (t == NULL) return new_error(L, e.msg);
  lhandle_push_table(L, t);
  etab_unref(t);   /* the handle and the registry hold it now */
  if (has_heir &&
      owner_set_heir(t, b->self, (tslice){hbuf->p, heirlen},
                     (tslice){hbuf->p + heirlen, hbuf->n - heirlen}, &e) != HL_OK)
    return new_error(L, e.msg);
  return 1;
}

/* ---- finding ---- */

int linfo_whereis(lua_State *L) {
  lbind *b = lbind_running(L, "table.whereis");
  etab *t;
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "heirloom.table.whereis: name must be a string (got %s)",
                      luaL_typename(L, 1));
  t = treg_by_name(&b->node->tables, lua_tostring(L, 1));
  if (t == NULL) {
    lua_pushnil(L);
    return 1;
  }
  lhandle_push_table(L, t);
  etab_unref(t);
  return 1;
}

/* An unnamed table called `name` that is in custody, which the caller then
** claims: the lowest id first. Unnamed tables are not found by whereis, but
** one left in custody must be reachable by a claim, or it would be stuck
** there until the node stops. *seen tells whether any unnamed table has
** that name. Returns the claimed table with a reference, or NULL. */
static etab *claim_unnamed(node *n, const char *name, uint64_t caller, int *seen) {
  etab **list, *won = NULL;
  size_t count = treg_list(&n->tables, &list);
  buf tname;
  buf_init(&tname);
  *seen = 0;
  for (size_t i = 0; i < count && won == NULL; i++) {
    hl_err e;
    if (list[i]->named) continue;
    buf_reset(&tname);
    etab_meta(list[i], &tname, NULL, NULL);
    if (!buf_ok(&tname) || strcmp((const char *)tname.p, name) != 0) continue;
    *seen = 1;
    err_clear(&e);
    if (owner_claim(list[i], caller, &e) == HL_OK) {
      won = list[i];
      etab_ref(won);
    }
  }
  buf_free(&tname);
  treg_list_free(list, count);
  return won;
}

/* hl.table.claim(name): the caller takes over a table in the node's
** custody. Any process may claim; the first claim wins. */
int linfo_claim(lua_State *L) {
  lbind *b = lbind_running(L, "table.claim");
  hl_err e;
  etab *t;
  ltab *h;
  const char *name;
  int seen;
  if ((h = lhandle_totable(L, 1)) != NULL) {
    /* By handle: exactly that table, where a name may match several
    ** unnamed ones (the table manager claims its own this way). */
    if (h->t == NULL || atomic_load(&h->t->dropped))
      return luaL_error(L, "heirloom.table.claim: the table has been dropped");
    err_clear(&e);
    if (owner_claim(h->t, b->self, &e) != HL_OK)
      return luaL_error(L, "heirloom.table.claim: %s", e.msg);
    lua_pushvalue(L, 1);
    return 1;
  }
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_error(L, "heirloom.table.claim: name must be a string or a table handle (got %s)",
                      luaL_typename(L, 1));
  name = lua_tostring(L, 1);
  t = treg_by_name(&b->node->tables, name);
  if (t == NULL) {
    t = claim_unnamed(b->node, name, b->self, &seen);
    if (t == NULL && seen)
      return luaL_error(L, "heirloom.table.claim: no table named '%s' is in custody", name);
    if (t == NULL) return luaL_error(L, "heirloom.table.claim: no table is named '%s'", name);
  } else {
    err_clear(&e);
    if (owner_claim(t, b->self, &e) != HL_OK) {
      etab_unref(t);
      return luaL_error(L, "heirloom.table.claim: table '%s': %s", name, e.msg);
    }
  }
  lhandle_push_table(L, t);
  etab_unref(t);
  return 1;
}

int linfo_all(lua_State *L) {
  lbind *b = lbind_running(L, "table.all");
  etab **list;
  size_t n = treg_list(&b->node->tables, &list);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lhandle_push_table(L, list[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  treg_list_free(list, n);
  return 1;
}

/* ---- info ---- */

static void push_meta_term(lua_State *L, const buf *b) {
  if (b->n == 0 || lterm_decode(L, b->p, b->n) == 0) lua_pushnil(L);
}

static void push_keypos(lua_State *L, const etab *t) {
  if (t->keypos.field == NULL) lua_pushinteger(L, t->keypos.index);
  else if (lterm_decode(L, t->keypos.field, t->keypos.fieldlen) == 0) lua_pushnil(L);
}

int linfo_info(lua_State *L) {
  lcall c;
  buf name, heir, data;
  lcall_begin(&c, L, "table.info");
  lua_settop(L, 2);
  if (!lua_isnil(L, 2) && lua_type(L, 2) != LUA_TSTRING) lcall_raise(&c, "item must be a string");
  buf_init(&name);
  buf_init(&heir);
  buf_init(&data);
  etab_meta(c.t, &name, &heir, &data);
  if (!buf_ok(&name) || !buf_ok(&heir) || !buf_ok(&data)) {
    buf_free(&name);
    buf_free(&heir);
    buf_free(&data);
    lcall_raise(&c, "out of memory");
  }
  lua_newtable(L);
  lua_pushstring(L, (const char *)name.p);
  lua_setfield(L, -2, "name");
  push_meta_term(L, &heir);
  lua_setfield(L, -2, "heir");
  push_meta_term(L, &data);
  lua_setfield(L, -2, "heir_data");
  buf_free(&name);
  buf_free(&heir);
  buf_free(&data);
  lua_pushstring(L, etab_type_name(c.t->type));
  lua_setfield(L, -2, "type");
  lua_pushstring(L, etab_access_name(c.t->access));
  lua_setfield(L, -2, "access");
  lua_pushinteger(L, (lua_Integer)etab_size(c.t));
  lua_setfield(L, -2, "size");
  lua_pushinteger(L, (lua_Integer)etab_memory(c.t));
  lua_setfield(L, -2, "memory");
  if (etab_owner(c.t) != 0) lhandle_push(L, TERM_PID, etab_owner(c.t));
  else lua_pushnil(L);   /* in the node's custody: nobody owns it */
  lua_setfield(L, -2, "owner");
  push_keypos(L, c.t);
  lua_setfield(L, -2, "keypos");
  lua_pushboolean(L, c.t->named);
  lua_setfield(L, -2, "named");
  lua_pushinteger(L, (lua_Integer)c.t->id);
  lua_setfield(L, -2, "id");
  lua_pushboolean(L, c.t->custody);
  lua_setfield(L, -2, "custody");
  lua_pushboolean(L, c.t->durable);
  lua_setfield(L, -2, "durable");
  lstore_push_sync(L, c.t);
  lua_setfield(L, -2, "sync");
  if (lua_isnil(L, 2)) return lcall_end(&c, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) == LUA_TNIL && strcmp(lua_tostring(L, 2), "heir") != 0 &&
      strcmp(lua_tostring(L, 2), "heir_data") != 0 && strcmp(lua_tostring(L, 2), "owner") != 0) {
    char msg[120];
    snprintf(msg, sizeof msg, "unknown info item '%.60s'", lua_tostring(L, 2));
    lcall_raise(&c, msg);
  }
  return lcall_end(&c, 1);
}

/* ---- changes ---- */

int linfo_rename(lua_State *L) {
  lcall c;
  lcall_begin(&c, L, "table.rename");
  if (lua_type(L, 2) != LUA_TSTRING || lua_rawlen(L, 2) == 0 ||
      strlen(lua_tostring(L, 2)) != lua_rawlen(L, 2))
    lcall_raise(&c, "name must be a non-empty string without NUL bytes");
  etab_rename(c.t, c.b->self, lua_tostring(L, 2), &c.e);
  lcall_check_status(&c);
  lua_pushvalue(L, 2);
  return lcall_end(&c, 1);
}

int linfo_setopts(lua_State *L) {
  static const char *const known[] = {"heir", "heir_data", NULL};
  lcall c;
  size_t heirlen = 0;
  tslice heir = {NULL, 0}, data = {NULL, 0};
  char msg[300];
  int has_heir;
  lcall_begin(&c, L, "table.setopts");
  if (lua_type(L, 2) != LUA_TTABLE) lcall_raise(&c, "opts must be a table");
  lua_settop(L, 2);
  check_option_names(L, 2, "table.setopts", known);
  lua_getfield(L, 2, "heir");
  lua_getfield(L, 2, "heir_data");
  /* heir = nil or false removes the heir; data alone would silently do the
  ** same, so it is refused. */
  if ((lua_isnil(L, 3) || (lua_isboolean(L, 3) && !lua_toboolean(L, 3))) && !lua_isnil(L, 4))
    lcall_raise(&c, "opts.heir_data given without opts.heir (set both, or heir = false to remove the heir)");
  has_heir = encode_heir(L, 3, 4, &c.s->in, &heirlen, msg, sizeof msg);
  if (has_heir < 0) lcall_raise(&c, msg);
  if (has_heir) {
    heir = (tslice){c.s->in.p, heirlen};
    data = (tslice){c.s->in.p + heirlen, c.s->in.n - heirlen};
  }
  owner_set_heir(c.t, c.b->self, heir, data, &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, 1);
  return lcall_end(&c, 1);
}

int linfo_give_away(lua_State *L) {
  lcall c;
  int tag;
  uint64_t pid;
  size_t at;
  lcall_begin(&c, L, "table.give_away");
  if (!lhandle_get(L, 2, &tag, &pid) || tag != TERM_PID) lcall_raise(&c, "pid must be a pid");
  at = lcall_encode_arg(&c, 3, "data");
  owner_give_away(c.t, c.b->self, pid, lcall_slice_at(&c, at, c.s->in.n), &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, 1);
  return lcall_end(&c, 1);
}
