/*
** lterm.c — Lua values to terms and back.
**
** A Lua table whose keys are exactly 1..n is an array, or a list when it
** has the list metatable (llist.h); any other table is a map. Encoding
** reads tables raw (no metamethods) and calls no Lua code,
** so it cannot raise: it reports refusals with the path of the offending
** value ("object[2].name").
**
** A table may hold the same table many times ({t, t}, nested 27 deep, is
** 2^27 values), so a small value can encode into gigabytes. The encoding
** counts against the calling process's memory limit, and a process told
** to exit stops encoding: both are looked at every CHECK_EVERY values.
*/
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbind.h"
#include "lbody.h"
#include "lhandle.h"
#include "lintern.h"
#include "llist.h"
#include "lterm.h"
#include "proc.h"
#include "term.h"

#define CHECK_EVERY 4096            /* values between two looks at the process */
#define CHECK_BYTES (64 * 1024)     /* ... or bytes of strings */
#define FLAT_MAX 0x80               /* encode_flat_array: fewer elements, */
#define FLAT_BYTES (CHECK_BYTES / 2) /* and fewer string bytes */

/* ---- encoding ---- */

typedef struct pathseg {
  lua_Integer index;   /* array element, when key == 0 */
  int key;             /* stack index of a map key, or 0 */
} pathseg;

typedef struct enc {
  lua_State *L;
  const char *root;
  int depth;
  const void *seen[TERM_MAX_DEPTH + 1];
  pathseg path[TERM_MAX_DEPTH + 1];
  char *err;
  size_t errlen;
  size_t bytes;         /* encoded so far (about), side buffers included */
  size_t next_check;    /* bytes at the next look at the process */
  unsigned values;      /* values until that look */
  proc *p;              /* the calling process, found at the first look */
  int looked;
} enc;

static void append_key(lua_State *L, int idx, luaL_Buffer *lb) {
  size_t len;
  const char *s;
  int isname;
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &len);
      isname = len > 0 && len < 40 && (s[0] == '_' || (s[0] | 32) >= 'a') && (s[0] | 32) <= 'z';
      for (size_t i = 0; isname && i < len; i++)
        isname = s[i] == '_' || ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') ||
                 (s[i] >= '0' && s[i] <= '9');
      if (isname) lua_pushfstring(L, ".%s", s);
      else lua_pushfstring(L, "[\"%s\"]", len < 40 ? s : "...");
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) lua_pushfstring(L, "[%I]", lua_tointeger(L, idx));
      else lua_pushfstring(L, "[%f]", lua_tonumber(L, idx));
      break;
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, idx) ? "[true]" : "[false]");
      break;
    default:
      lua_pushfstring(L, "[<%s>]", luaL_typename(L, idx));
      break;
  }
  luaL_addvalue(lb);
}

/* "<path>: <what>" into err; a path too long for it is cut short, never
** the reason. */
static void report(enc *e, const char *path, const char *what) {
  size_t plen = strlen(path), need = strlen(what) + 6;   /* "...: " and the NUL */
  if (e->errlen == 0) return;
  if (plen + need - 3 <= e->errlen || e->errlen <= need)
    snprintf(e->err, e->errlen, "%s: %s", path, what);
  else
    snprintf(e->err, e->errlen, "%.*s...: %s", (int)(e->errlen - need), path, what);
}

static int fail(enc *e, const char *what) {
  lua_State *L = e->L;
  luaL_Buffer lb;
  if (!lua_checkstack(L, 8)) {
    report(e, e->root, what);
    return 0;
  }
  luaL_buffinit(L, &lb);
  luaL_addstring(&lb, e->root);
  for (int i = 1; i <= e->depth; i++) {
    if (e->path[i].key != 0) append_key(L, e->path[i].key, &lb);
    else {
      lua_pushfstring(L, "[%I]", e->path[i].index);
      luaL_addvalue(&lb);
    }
  }
  luaL_pushresult(&lb);
  report(e, lua_tostring(L, -1), what);
  lua_pop(L, 1);
  return 0;
}

static int encode(enc *e, int idx, buf *b);

/* A large term: is the calling process still alive, and within its limit
** with what the encoding takes? */
static int check_process(enc *e) {
  palloc *a;
  e->values = CHECK_EVERY;
  e->next_check = e->bytes + CHECK_BYTES;
  if (!e->looked) {
    lbind *lb = lbind_get(e->L);
    e->p = lb != NULL ? lb->me : NULL;
    e->looked = 1;
  }
  if (e->p == NULL) return 1;
  if (!proc_alive(e->p)) return fail(e, "the process is exiting");
  a = &e->p->alloc;
  if (a->limit != 0 && atomic_load(&a->used) + e->bytes > a->limit) {
    lbody_over_limit(a);      /* it ends with "memory_limit", as any allocation would */
    return fail(e, "the encoded term goes over the process's memory limit");
  }
  return 1;
}

/* 1 if the table at idx has exactly the keys 1..n; n in *count. */
static int is_array(lua_State *L, int idx, lua_Integer *count) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx), seen = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_Integer k;
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || (k = lua_tointeger(L, -1)) < 1 || k > n) {
      lua_pop(L, 1);
      return 0;
    }
    seen++;
  }
  *count = n;
  return seen == n;
}

/* A list's length is its largest index: a nil element, which a list from
** Erlang or another node may hold, is a hole, and holes stay in their
** places ([nil, 1] comes back as itself). Any key that is not an index
** is refused. */
static int list_length(enc *e, int idx, lua_Integer *count) {
  lua_State *L = e->L;
  lua_Integer n = 0;
  const char *why = NULL;
  lua_pushnil(L);
  while (why == NULL && lua_next(L, idx) != 0) {
    lua_Integer k;
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || (k = lua_tointeger(L, -1)) < 1) {
      lua_pop(L, 1);
      why = "cannot encode a list with a key that is not a positive integer";
    } else if (k > n) {
      n = k;
    }
  }
  if (why == NULL && (uint64_t)n > TERM_MAX_COUNT) why = "list too long to encode";
  if (why != NULL) {
    e->depth--;   /* the path of the list itself, not of an element */
    fail(e, why);
    e->depth++;
    return 0;
  }
  *count = n;
  return 1;
}

static int encode_array(enc *e, int idx, lua_Integer n, int list, buf *b) {
  lua_State *L = e->L;
  if (list) term_put_list(b);
  else if ((uint64_t)n > TERM_MAX_COUNT) return fail(e, "array too long to encode");
  else term_put_array(b, (uint32_t)n);
  for (lua_Integer i = 1; i <= n; i++) {
    e->path[e->depth].index = i;
    e->path[e->depth].key = 0;
    lua_rawgeti(L, idx, i);
    if (!encode(e, lua_gettop(L), b)) return 0;
    lua_pop(L, 1);
  }
  if (list) term_put_list_end(b);
  return 1;
}


/* Keys and values go to a side buffer first: a map's keys are written in
** encoded order, which is known only once they are all encoded. */
static int encode_map(enc *e, int idx, buf *b) {
  lua_State *L = e->L;
  buf kv, ents;
  size_t n = 0;
  int ok = 1;
  buf_init(&kv);
  buf_init(&ents);
  lua_pushnil(L);
  while (ok && lua_next(L, idx) != 0) {
    term_mapent en;
    int top = lua_gettop(L);
    e->path[e->depth].key = top - 1;
    en.koff = kv.n;
    ok = encode(e, top - 1, &kv);
    en.klen = kv.n - en.koff;
    en.voff = kv.n;
    ok = ok && encode(e, top, &kv);
    en.vlen = kv.n - en.voff;
    buf_put(&ents, &en, sizeof en);
    n++;
    lua_pop(L, 1);
  }
  if (ok && n > TERM_MAX_COUNT) ok = fail(e, "map too large to encode");
  if (ok && !(buf_ok(&kv) && buf_ok(&ents))) ok = fail(e, "out of memory");
  /* Two tables with the same contents are two Lua keys but one term: a
  ** map holding that term twice would not be a valid term. */
  if (ok && !term_map_sort((term_mapent *)ents.p, n, kv.p)) {
    e->depth--;   /* the path of the map itself, not of its last key */
    ok = fail(e, "two keys of a map are the same term (tables with equal contents)");
    e->depth++;
  }
  if (ok) {
    term_map_put(b, (const term_mapent *)ents.p, n, kv.p);
    e->bytes += kv.n;     /* copied once more */
  }
  buf_free(&kv);
  buf_free(&ents);
  return ok;
}

static int encode_table(enc *e, int idx, buf *b) {
  lua_State *L = e->L;
  const void *self = lua_topointer(L, idx);
  lua_Integer n = 0;
  int ok;
  for (int i = 0; i < e->depth; i++)
    if (e->seen[i] == self) return fail(e, "cannot encode a cyclic table");
  if (e->depth >= TERM_MAX_DEPTH) return fail(e, "nesting deeper than 64 levels");
  if (!lua_checkstack(L, 6)) return fail(e, "nesting too deep for the Lua stack");
  e->seen[e->depth++] = self;
  if (llist_is(L, idx)) {
    ok = list_length(e, idx, &n) && encode_array(e, idx, n, 1, b);
  } else {
    ok = is_array(L, idx, &n) ? encode_array(e, idx, n, 0, b) : encode_map(e, idx, b);
  }
  e->depth--;
  return ok;
}

static int encode(enc *e, int idx, buf *b) {
  lua_State *L = e->L;
  size_t len;
  const char *s;
  const unsigned char *term;
  int tag;
  uint64_t id;
  e->bytes += 9;          /* a header, a number: about */
  if ((--e->values == 0 || e->bytes >= e->next_check) && !check_process(e)) return 0;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: term_put_nil(b); return 1;
    case LUA_TBOOLEAN: term_put_bool(b, lua_toboolean(L, idx)); return 1;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) term_put_int(b, lua_tointeger(L, idx));
      else term_put_float(b, lua_tonumber(L, idx));
      return 1;
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &len);
      e->bytes += len;
      if (e->bytes >= e->next_check && !check_process(e)) return 0;
      term_put_string(b, s, len);
      return 1;
    case LUA_TTABLE: return encode_table(e, idx, b);
    case LUA_TFUNCTION: return fail(e, "cannot encode a function");
    case LUA_TTHREAD: return fail(e, "cannot encode a coroutine");
    case LUA_TLIGHTUSERDATA: return fail(e, "cannot encode a light userdata");
    default:
      if (lhandle_get(L, idx, &tag, &id)) {
        term_put_id(b, tag, id);
        return 1;
      }
      if (lintern_get(L, idx, &term, &len)) {   /* an atom, a remote pid or ref */
        buf_put(b, term, len);
        return 1;
      }
      return fail(e, "cannot encode a userdata that is not heirloom's");
  }
}

/* Encodes the scalar at the stack top as encode would; 0 for anything
** else. *bytes counts the string bytes written so far. */
static int put_scalar(lua_State *L, buf *b, size_t *bytes) {
  size_t len;
  const char *s;
  switch (lua_type(L, -1)) {
    case LUA_TBOOLEAN: term_put_bool(b, lua_toboolean(L, -1)); return 1;
    case LUA_TNUMBER:
      if (lua_isinteger(L, -1)) term_put_int(b, lua_tointeger(L, -1));
      else term_put_float(b, lua_tonumber(L, -1));
      return 1;
    case LUA_TSTRING:
      s = lua_tolstring(L, -1, &len);
      if (len >= FLAT_BYTES || (*bytes += len) >= FLAT_BYTES) return 0;
      term_put_string(b, s, len);
      return 1;
    default: return 0;
  }
}

/* The common object, a short array of numbers, strings and booleans
** ({key, 0}), in one pass of lua_next instead of is_array's pass and then
** encode's. 1 when the keys came exactly as 1, 2, ..., n (an array, as
** is_array would say) and every value was a scalar; else 0, with b and the
** stack as they were, and the general encoder decides. It stays well below
** the sizes at which the general encoder first looks at the process, so
** that skipping those looks changes nothing. */
static int encode_flat_array(lua_State *L, int idx, buf *b) {
  size_t start = b->n, end, bytes = 0;
  lua_Integer n = 0;
  if (!lua_checkstack(L, 3) || buf_grab(b, 2) == NULL) return 0;   /* room for the header */
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int ok = n + 1 < FLAT_MAX && lua_isinteger(L, -2) && lua_tointeger(L, -2) == n + 1 &&
             put_scalar(L, b, &bytes);
    lua_pop(L, 1);
    if (!ok) {
      lua_pop(L, 1);
      b->n = start;
      return 0;
    }
    n++;
  }
  end = b->n;
  b->n = start;
  term_put_array(b, (uint32_t)n);   /* two bytes, as reserved: n < 0x80 */
  b->n = end;
  return 1;
}

int lterm_encode(lua_State *L, int idx, buf *b, const char *root, char *err,
                 size_t errlen) {
  enc e;
  size_t start = b->n;
  int top = lua_gettop(L);
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TTABLE && !llist_is(L, idx) && encode_flat_array(L, idx, b)) {
    if (buf_ok(b)) return 1;
    snprintf(err, errlen, "%s: out of memory", root);
    return 0;
  }
  e.L = L;
  e.root = root;
  e.depth = 0;
  e.err = err;
  e.errlen = errlen;
  e.bytes = 0;
  e.next_check = CHECK_BYTES;
  e.values = CHECK_EVERY;
  e.p = NULL;
  e.looked = 0;
  if (!encode(&e, idx, b)) {
    lua_settop(L, top);   /* a failure leaves its iteration state behind */
    b->n = start;
    return 0;
  }
  if (!buf_ok(b)) {
    snprintf(err, errlen, "%s: out of memory", root);
    return 0;
  }
  return 1;
}

/* ---- decoding ---- */

static size_t decode(lua_State *L, const unsigned char *p, size_t len, int depth);

static size_t decode_number(lua_State *L, const unsigned char *p, size_t len) {
  term_num num;
  size_t n = term_get_num(p, len, &num);
  if (n == 0) return 0;
  if (num.isint) lua_pushinteger(L, num.i);
  else lua_pushnumber(L, num.d);
  return n;
}

static size_t decode_string(lua_State *L, const unsigned char *p, size_t len) {
  const unsigned char *zero = len > 1 ? memchr(p + 1, 0, len - 1) : NULL;
  size_t size;
  buf tmp;
  if (zero != NULL && (size_t)(zero - p) + 1 < len && zero[1] == 0x00) {
    lua_pushlstring(L, (const char *)p + 1, (size_t)(zero - p) - 1);   /* no escapes */
    return (size_t)(zero - p) + 2;
  }
  buf_init(&tmp);
  size = term_get_string(p, len, &tmp);
  if (size != 0 && buf_ok(&tmp)) lua_pushlstring(L, (const char *)tmp.p, tmp.n);
  else size = 0;
  buf_free(&tmp);
  return size;
}

/* The elements up to the end mark, into a new table with the list
** metatable. */
static size_t decode_list(lua_State *L, const unsigned char *p, size_t len, int depth) {
  size_t at = 1;
  lua_Integer i = 0;
  if (depth >= TERM_MAX_DEPTH || !lua_checkstack(L, 4)) return 0;
  lua_newtable(L);
  while (at < len && p[at] != TERM_LIST_END) {
    size_t n = decode(L, p + at, len - at, depth + 1);
    if (n == 0) { lua_pop(L, 1); return 0; }
    lua_rawseti(L, -2, ++i);
    at += n;
  }
  if (at >= len) { lua_pop(L, 1); return 0; }
  llist_mark(L);
  return at + 1;
}

static size_t decode_container(lua_State *L, const unsigned char *p, size_t len, int depth) {
  int tag;
  uint32_t count;
  size_t at = term_get_header(p, len, &tag, &count), vat;
  if (at == 0 || depth >= TERM_MAX_DEPTH || count > len || !lua_checkstack(L, 4)) return 0;
  if (tag == TERM_ARRAY) {
    lua_createtable(L, (int)count, 0);
    for (uint32_t i = 0; i < count; i++) {
      /* numbers, the common elements, without the general dispatch */
      size_t n = at < len && p[at] == TERM_NUMBER ? decode_number(L, p + at, len - at)
                                                   : decode(L, p + at, len - at, depth + 1);
      if (n == 0) { lua_pop(L, 1); return 0; }
      lua_rawseti(L, -2, (lua_Integer)i + 1);
      at += n;
    }
    return at;
  }
  vat = at;   /* values start after the keys */
  for (uint32_t i = 0; i < count; i++) {
    size_t n = term_skip(p + vat, len - vat);
    if (n == 0) return 0;
    vat += n;
  }
  lua_createtable(L, 0, (int)count);
  for (uint32_t i = 0; i < count; i++) {
    size_t kn = decode(L, p + at, len - at, depth + 1), vn;
    if (kn == 0 || lua_isnil(L, -1)) { lua_pop(L, kn == 0 ? 1 : 2); return 0; }
    vn = decode(L, p + vat, len - vat, depth + 1);
    if (vn == 0) { lua_pop(L, 2); return 0; }
    if (lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) != lua_tonumber(L, -2)) {
      lua_pop(L, 3);   /* a NaN key cannot be set in Lua */
      return 0;
    }
    lua_rawset(L, -3);
    at += kn;
    vat += vn;
  }
  return vat;
}

/* The size of the canonical atom, xpid or xref at p, or 0. */
static size_t decode_interned(const unsigned char *p, size_t len) {
  const unsigned char *name;
  size_t namelen;
  term_xpid xp;
  term_xref xr;
  if (p[0] == TERM_ATOM) return term_get_atom(p, len, &name, &namelen);
  if (p[0] == TERM_XPID) return term_get_xpid(p, len, &xp);
  return term_get_xref(p, len, &xr);
}

static size_t decode(lua_State *L, const unsigned char *p, size_t len, int depth) {
  int tag;
  uint64_t id;
  size_t n;
  if (len == 0) return 0;
  switch (p[0]) {
    case TERM_NIL: lua_pushnil(L); return 1;
    case TERM_FALSE: lua_pushboolean(L, 0); return 1;
    case TERM_TRUE: lua_pushboolean(L, 1); return 1;
    case TERM_NUMBER: return decode_number(L, p, len);
    case TERM_STRING: return decode_string(L, p, len);
    case TERM_REF: case TERM_TABLE: case TERM_PID:
      n = term_get_id(p, len, &tag, &id);
      if (n != 0) lhandle_push(L, tag, id);
      return n;
    case TERM_ARRAY: case TERM_MAP: return decode_container(L, p, len, depth);
    case TERM_LIST: return decode_list(L, p, len, depth);
    case TERM_ATOM: case TERM_XPID: case TERM_XREF:
      n = decode_interned(p, len);
      if (n != 0) lintern_push(L, p, n);
      return n;
    default: return 0;
  }
}

size_t lterm_decode(lua_State *L, const unsigned char *p, size_t len) {
  if (!lua_checkstack(L, 4)) return 0;
  return decode(L, p, len, 0);
}

int lterm_decode_list(lua_State *L, const unsigned char *p, size_t len, size_t count) {
  size_t at = 0;
  if (!lua_checkstack(L, 5)) return 0;   /* once for the list, not per object */
  lua_createtable(L, count > 0x7fffffff ? 0 : (int)count, 0);
  for (size_t i = 0; i < count; i++) {
    size_t n = decode(L, p + at, len - at, 0);
    if (n == 0) {
      lua_pop(L, 1);
      return 0;
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
    at += n;
  }
  return 1;
}
