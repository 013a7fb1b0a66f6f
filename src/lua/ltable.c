/*
** ltable.c — heirloom.table: creating and finding tables, and the object
** operations as methods of table handles (t:insert(...), t:lookup(k)).
**
** Every function follows the same order: check and encode all arguments,
** call the table layer, then raise or decode the results. Encoding never
** raises and the table layer applies nothing on error, so a bad argument
** can neither leak memory nor leave a table half changed.
*/
#include <lauxlib.h>
#include <string.h>

#include "etab.h"
#include "lbind.h"
#include "lcall.h"
#include "lhandle.h"
#include "linfo.h"
#include "lselect.h"
#include "lstore.h"
#include "lterm.h"
#include "term.h"

/* ---- insert ---- */

/* Encodes objects (the list at idx, or arguments idx..top) and inserts. */
static int insert_objects(lua_State *L, const char *fname, int only_new, int as_list) {
  lcall c;
  size_t n, *offs;
  tslice *objs;
  int inserted;
  lcall_begin(&c, L, fname);
  if (as_list) {
    if (lua_type(L, 2) != LUA_TTABLE) lcall_raise(&c, "objects must be a list of objects");
    n = lua_rawlen(L, 2);
  } else {
    n = (size_t)(lua_gettop(L) - 1);
    if (n == 0) lcall_raise(&c, "missing argument 'object'");
  }
  if (n == 1 && !as_list) {            /* the common case: no scratch memory */
    size_t at;
    tslice one;
    lcall_check_object(&c, 2, "object");
    at = lcall_encode_arg(&c, 2, "object");
    one = lcall_slice_at(&c, at, c.s->in.n);
    etab_insert(c.t, c.b->self, &one, 1, only_new, &inserted, &c.e);
    lcall_check_status(&c);
    lua_pushboolean(L, inserted);
    return lcall_end(&c, 1);
  }
  offs = lua_newuserdatauv(L, (n + 1) * (sizeof(size_t) + sizeof(tslice)), 0);
  objs = (tslice *)(offs + n + 1);
  for (size_t i = 0; i < n; i++) {
    char root[40];
    int idx = 2 + (int)i;
    if (as_list) {
      lua_rawgeti(L, 2, (lua_Integer)i + 1);
      idx = lua_gettop(L);
    }
    snprintf(root, sizeof root, "objects[%zu]", i + 1);
    lcall_check_object(&c, idx, root);
    offs[i] = lcall_encode_arg(&c, idx, root);
    if (as_list) lua_pop(L, 1);
  }
  offs[n] = c.s->in.n;
  for (size_t i = 0; i < n; i++) objs[i] = lcall_slice_at(&c, offs[i], offs[i + 1]);
  etab_insert(c.t, c.b->self, objs, n, only_new, &inserted, &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, inserted);
  return lcall_end(&c, 1);
}

static int t_insert(lua_State *L) { return insert_objects(L, "table.insert", 0, 0); }
static int t_insert_many(lua_State *L) { return insert_objects(L, "table.insert_many", 0, 1); }
static int t_insert_new(lua_State *L) { return insert_objects(L, "table.insert_new", 1, 0); }
static int t_insert_new_many(lua_State *L) { return insert_objects(L, "table.insert_new_many", 1, 1); }

/* ---- reads ---- */

static int t_lookup(lua_State *L) {
  lcall c;
  size_t count;
  lcall_begin(&c, L, "table.lookup");
  etab_lookup(c.t, c.b->self, lcall_key_arg(&c, 2), &c.s->out, &count, &c.e);
  lcall_check_status(&c);
  lcall_push_list(&c, count);
  return lcall_end(&c, 1);
}

static int t_lookup_element(lua_State *L) {
  lcall c;
  size_t count, keyend;
  ekeypos pos;
  tslice key;
  lcall_begin(&c, L, "table.lookup_element");
  lcall_key_arg(&c, 2);
  keyend = c.s->in.n;
  pos = lcall_pos_arg(&c, 3, "pos");
  lcall_fix_pos(&c, &pos);
  key = lcall_slice_at(&c, 0, keyend);
  etab_lookup_element(c.t, c.b->self, key, &pos, &c.s->out, &count, &c.e);
  if (c.e.code == HL_ENOTFOUND && !lua_isnone(L, 4)) {
    lua_pushvalue(L, 4);
    return lcall_end(&c, 1);
  }
  lcall_check_status(&c);
  if (etab_is_bag(c.t)) lcall_push_list(&c, count);
  else lcall_push_term(&c, c.s->out.p, c.s->out.n);
  return lcall_end(&c, 1);
}

static int t_member(lua_State *L) {
  lcall c;
  int found;
  lcall_begin(&c, L, "table.member");
  etab_member(c.t, c.b->self, lcall_key_arg(&c, 2), &found, &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, found);
  return lcall_end(&c, 1);
}

static int t_take(lua_State *L) {
  lcall c;
  size_t count;
  lcall_begin(&c, L, "table.take");
  etab_take(c.t, c.b->self, lcall_key_arg(&c, 2), &c.s->out, &count, &c.e);
  lcall_check_status(&c);
  lcall_push_list(&c, count);
  return lcall_end(&c, 1);
}

/* ---- deletes ---- */

static int t_delete(lua_State *L) {
  lcall c;
  lcall_begin(&c, L, "table.delete");
  etab_delete(c.t, c.b->self, lcall_key_arg(&c, 2), &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, 1);
  return lcall_end(&c, 1);
}

static int t_delete_object(lua_State *L) {
  lcall c;
  size_t at;
  lcall_begin(&c, L, "table.delete_object");
  lcall_check_object(&c, 2, "object");
  at = lcall_encode_arg(&c, 2, "object");
  etab_delete_object(c.t, c.b->self, lcall_slice_at(&c, at, c.s->in.n), &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, 1);
  return lcall_end(&c, 1);
}

static int t_delete_all_objects(lua_State *L) {
  lcall c;
  lcall_begin(&c, L, "table.delete_all_objects");
  etab_delete_all(c.t, c.b->self, &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, 1);
  return lcall_end(&c, 1);
}

static int t_drop(lua_State *L) {
  lcall c;
  lcall_begin(&c, L, "table.drop");
  etab_drop(c.t, c.b->self, &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, 1);
  return lcall_end(&c, 1);
}

/* ---- updates ---- */

/* 1 when the table at idx is a list of operations: its first element is a
** table, or it is empty (ETS's []: no operation at all). */
static int is_op_list(lua_State *L, int idx) {
  int list;
  lua_rawgeti(L, idx, 1);
  list = lua_type(L, -1) == LUA_TTABLE;
  lua_pop(L, 1);
  if (list) return 1;
  lua_pushnil(L);
  if (lua_next(L, idx) == 0) return 1;
  lua_pop(L, 2);
  return 0;
}

static int integer_field(lcall *c, int tidx, int i, const char *what, int64_t *out) {
  int isnum;
  lua_rawgeti(c->L, tidx, i);
  *out = lua_tointegerx(c->L, -1, &isnum);
  lua_pop(c->L, 1);
  if (!isnum) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s must be an integer", what);
    lcall_raise(c, msg);
  }
  return 1;
}

/* One {pos, incr[, threshold, setvalue]} at stack index idx. */
static etab_incr incr_op(lcall *c, int idx) {
  etab_incr op;
  size_t n = lua_rawlen(c->L, idx);
  memset(&op, 0, sizeof op);
  if (n != 2 && n != 4)
    lcall_raise(c, "op must be an increment, {pos, incr} or {pos, incr, threshold, setvalue}");
  lua_rawgeti(c->L, idx, 1);
  op.pos = lcall_pos_arg(c, lua_gettop(c->L), "op pos");
  lua_pop(c->L, 1);
  integer_field(c, idx, 2, "op incr", &op.incr);
  if (n == 4) {
    op.has_threshold = 1;
    integer_field(c, idx, 3, "op threshold", &op.threshold);
    integer_field(c, idx, 4, "op setvalue", &op.setvalue);
  }
  return op;
}

static int t_update_counter(lua_State *L) {
  lcall c;
  etab_incr *ops, one_op;
  int64_t *results, one_result;
  size_t nops = 1, keyend, dstart;
  int islist = 0, alone;
  tslice deflt = {NULL, 0};
  lcall_begin(&c, L, "table.update_counter");
  lcall_key_arg(&c, 2);
  keyend = c.s->in.n;
  alone = lua_isinteger(L, 3);   /* an increment alone pushes nothing */
  if (!alone && lua_type(L, 3) == LUA_TTABLE) {
    lua_settop(L, 4);   /* scratch values go above the arguments */
    islist = is_op_list(L, 3);
    if (islist) nops = lua_rawlen(L, 3);
  } else if (!alone) {
    lcall_raise(&c, "op must be an increment, {pos, incr}, {pos, incr, threshold, setvalue} "
              "or a list of those");
  }
  if (nops == 1) {                     /* the common case: no scratch memory */
    ops = &one_op;
    results = &one_result;
  } else {
    ops = lua_newuserdatauv(L, (nops + 1) * (sizeof *ops + sizeof *results), 0);
    results = (int64_t *)(ops + nops + 1);
  }
  if (alone) {
    memset(ops, 0, sizeof *ops);
    if (c.t->keypos.field != NULL)
      lcall_raise(&c, "an increment alone needs array objects; give {field, incr}");
    ops[0].pos.index = c.t->keypos.index + 1;
    ops[0].incr = lua_tointeger(L, 3);
  } else if (!islist) {
    ops[0] = incr_op(&c, 3);
  } else {
    for (size_t i = 0; i < nops; i++) {
      lua_rawgeti(L, 3, (lua_Integer)i + 1);
      if (!lua_istable(L, -1)) lcall_raise(&c, "op list must hold {pos, incr} tables");
      ops[i] = incr_op(&c, lua_gettop(L));
      lua_pop(L, 1);
    }
  }
  dstart = c.s->in.n;
  if (!lua_isnoneornil(L, 4)) {
    lcall_check_object(&c, 4, "default");
    lcall_encode_arg(&c, 4, "default");
    deflt = lcall_slice_at(&c, dstart, c.s->in.n);
  }
  for (size_t i = 0; i < nops; i++) lcall_fix_pos(&c, &ops[i].pos);
  etab_update_counter(c.t, c.b->self, lcall_slice_at(&c, 0, keyend), ops, nops, deflt,
                      results, &c.e);
  lcall_check_status(&c);
  if (!islist) {
    lua_pushinteger(L, results[0]);
    return lcall_end(&c, 1);
  }
  lua_createtable(L, (int)nops, 0);
  for (size_t i = 0; i < nops; i++) {
    lua_pushinteger(L, results[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return lcall_end(&c, 1);
}

/* One {pos, value} at idx; the value's term offsets go to *at, *end. */
static etab_change change_op(lcall *c, int idx, size_t *at, size_t *end) {
  etab_change ch;
  memset(&ch, 0, sizeof ch);
  if (lua_rawlen(c->L, idx) != 2) lcall_raise(c, "change must be {pos, value}");
  lua_rawgeti(c->L, idx, 1);
  ch.pos = lcall_pos_arg(c, lua_gettop(c->L), "change pos");
  lua_rawgeti(c->L, idx, 2);
  *at = lcall_encode_arg(c, lua_gettop(c->L), "change value");
  *end = c->s->in.n;
  lua_pop(c->L, 2);
  return ch;
}

static int t_update_element(lua_State *L) {
  lcall c;
  etab_change *chs;
  size_t n = 1, keyend, *offs, dstart;
  int islist, updated;
  tslice deflt = {NULL, 0};
  lcall_begin(&c, L, "table.update_element");
  lua_settop(L, 4);
  lcall_key_arg(&c, 2);
  keyend = c.s->in.n;
  if (lua_type(L, 3) != LUA_TTABLE) lcall_raise(&c, "change must be {pos, value} or a list of those");
  islist = is_op_list(L, 3);
  if (islist) n = lua_rawlen(L, 3);
  chs = lua_newuserdatauv(L, (n + 1) * (sizeof *chs + 2 * sizeof *offs), 0);
  offs = (size_t *)(chs + n + 1);
  for (size_t i = 0; i < n; i++) {
    if (islist) lua_rawgeti(L, 3, (lua_Integer)i + 1);
    else lua_pushvalue(L, 3);
    if (!lua_istable(L, -1)) lcall_raise(&c, "change list must hold {pos, value} tables");
    chs[i] = change_op(&c, lua_gettop(L), &offs[2 * i], &offs[2 * i + 1]);
    lua_pop(L, 1);
  }
  dstart = c.s->in.n;
  if (!lua_isnoneornil(L, 4)) {
    lcall_check_object(&c, 4, "default");
    lcall_encode_arg(&c, 4, "default");
    deflt = lcall_slice_at(&c, dstart, c.s->in.n);
  }
  for (size_t i = 0; i < n; i++) {
    lcall_fix_pos(&c, &chs[i].pos);
    chs[i].value = lcall_slice_at(&c, offs[2 * i], offs[2 * i + 1]);
  }
  etab_update_element(c.t, c.b->self, lcall_slice_at(&c, 0, keyend), chs, n, deflt, &updated, &c.e);
  lcall_check_status(&c);
  lua_pushboolean(L, updated);
  return lcall_end(&c, 1);
}

/* ---- traversal ---- */

static int step(lua_State *L, const char *fname, int dir, int from_key) {
  lcall c;
  int found;
  tslice key = {NULL, 0};
  lcall_begin(&c, L, fname);
  if (from_key) key = lcall_key_arg(&c, 2);
  etab_step(c.t, c.b->self, key, dir, &c.s->out, &found, &c.e);
  lcall_check_status(&c);
  if (!found) lua_pushnil(L);
  else lcall_push_term(&c, c.s->out.p, c.s->out.n);
  return lcall_end(&c, 1);
}

static int t_first(lua_State *L) { return step(L, "table.first", 1, 0); }
static int t_next(lua_State *L) { return step(L, "table.next", 1, 1); }
static int t_last(lua_State *L) { return step(L, "table.last", -1, 0); }
static int t_prev(lua_State *L) { return step(L, "table.prev", -1, 1); }

#define FOLD_CHUNK 256

static int fold(lua_State *L, const char *fname, int dir) {
  lcall c;
  buf *chunk, *last;
  int done = 0, acc;
  lcall_begin(&c, L, fname);
  lcall_end(&c, 0);   /* fold's buffers are chunk and last, which f cannot touch */
  if (lua_type(L, 2) != LUA_TFUNCTION) lcall_raise(&c, "f must be a function");
  lua_settop(L, 3);
  chunk = lbind_newbuf(L);   /* owned by Lua: f may raise at any point */
  last = lbind_newbuf(L);
  acc = 3;
  while (!done) {
    size_t count, at = 0;
    buf from;
    buf_init(&from);
    buf_put(&from, last->p, last->n);
    buf_reset(chunk);
    etab_scan(c.t, c.b->self, (tslice){from.n ? from.p : NULL, from.n}, dir, NULL,
              FOLD_CHUNK, chunk, &count, last, &done, &c.e);
    buf_free(&from);
    lcall_check_status(&c);
    for (size_t i = 0; i < count; i++) {
      size_t n;
      lua_pushvalue(L, 2);
      n = lterm_decode(L, chunk->p + at, chunk->n - at);
      if (n == 0) lcall_raise(&c, "internal error: a stored object does not decode");
      at += n;
      lua_pushvalue(L, acc);
      lua_call(L, 2, 1);
      lua_replace(L, acc);
    }
    if (count == 0) break;
  }
  lua_pushvalue(L, acc);
  return 1;
}

static int t_foldl(lua_State *L) { return fold(L, "table.foldl", 1); }
static int t_foldr(lua_State *L) { return fold(L, "table.foldr", -1); }

static int t_tab2list(lua_State *L) {
  lcall c;
  size_t count;
  int done;
  buf last;
  lcall_begin(&c, L, "table.tab2list");
  buf_init(&last);
  etab_scan(c.t, c.b->self, (tslice){NULL, 0}, 1, NULL, 0, &c.s->out, &count, &last,
            &done, &c.e);
  buf_free(&last);
  lcall_check_status(&c);
  lcall_push_list(&c, count);
  return lcall_end(&c, 1);
}

static const luaL_Reg methods[] = {
  {"insert", t_insert},
  {"insert_many", t_insert_many},
  {"insert_new", t_insert_new},
  {"insert_new_many", t_insert_new_many},
  {"lookup", t_lookup},
  {"lookup_element", t_lookup_element},
  {"member", t_member},
  {"take", t_take},
  {"delete", t_delete},
  {"delete_object", t_delete_object},
  {"delete_all_objects", t_delete_all_objects},
  {"drop", t_drop},
  {"update_counter", t_update_counter},
  {"update_element", t_update_element},
  {"first", t_first},
  {"next", t_next},
  {"last", t_last},
  {"prev", t_prev},
  {"foldl", t_foldl},
  {"foldr", t_foldr},
  {"tab2list", t_tab2list},
  {"match", lselect_match},
  {"match_object", lselect_match_object},
  {"match_delete", lselect_match_delete},
  {"select", lselect_select},
  {"select_reverse", lselect_select_reverse},
  {"select_count", lselect_select_count},
  {"select_delete", lselect_select_delete},
  {"select_replace", lselect_select_replace},
  {"info", linfo_info},
  {"rename", linfo_rename},
  {"setopts", linfo_setopts},
  {"give_away", linfo_give_away},
  {"tab2file", lstore_tab2file},
  {NULL, NULL}
};

/* One table serves as heirloom.table and as the handles' __index, so a
** process pays for the methods once. It is built on first use: through
** heirloom.table, or through a handle that arrived in a message. */
static void build_module(lua_State *L) {
  lbind *b;
  lselect_open(L);
  lua_newtable(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "heirloom.state");
  lhandle_push_metatable(L, TERM_TABLE);
  if ((b = lua_touserdata(L, -2)) != NULL)
    b->table_meta = lua_topointer(L, -1);   /* the methods' upvalue 2, for lcall_begin */
  luaL_setfuncs(L, methods, 2);
  lua_pushcfunction(L, linfo_new);
  lua_setfield(L, -2, "new");
  lua_pushcfunction(L, linfo_whereis);
  lua_setfield(L, -2, "whereis");
  lua_pushcfunction(L, linfo_claim);
  lua_setfield(L, -2, "claim");
  lua_pushcfunction(L, linfo_all);
  lua_setfield(L, -2, "all");
  lstore_table_functions(L);
  lhandle_push_metatable(L, TERM_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "heirloom.table module");
}

void lbind_open_table(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "heirloom.table module") == LUA_TTABLE) return;
  lua_pop(L, 1);
  build_module(L);
}

/* The handles' first __index: builds the methods, then looks key up. */
static int first_index(lua_State *L) {
  lbind_open_table(L);
  lua_pushvalue(L, 2);
  lua_gettable(L, -2);
  return 1;
}

void lbind_lazy_table(lua_State *L) {
  lua_pushcfunction(L, first_index);
  lua_setfield(L, -2, "__index");
}
