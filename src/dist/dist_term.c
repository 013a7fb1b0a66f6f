/*
** dist_term.c — the term mapping of dist_term.h, both ways. Going out the
** term is trusted (it was checked when it was made); coming in, the bytes
** are a peer's and ei checks each item as it decodes it, the nesting is
** bounded by TERM_MAX_DEPTH, and the result is checked with term_check.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_term.h"
#include "term.h"

#define REF_WORD0_MASK 0x3FFFFu   /* Erlang's refs keep 18 bits in their first word */

static int fail(char *err, size_t size, const char *what) {
  snprintf(err, size, "%s", what);
  return 0;
}

/* ---- heirloom to Erlang ---- */

typedef struct out {
  const dist_self *self;
  ei_x_buff *x;
  char *err;
  size_t size;
} out;

static size_t put_term(out *o, const unsigned char *p, size_t len);

static size_t put_number(out *o, const unsigned char *p, size_t len) {
  term_num v;
  size_t n = term_get_num(p, len, &v);
  if (n == 0) return fail(o->err, o->size, "a malformed number");
  if (v.isint) return ei_x_encode_longlong(o->x, v.i) == 0 ? n : 0;
  if (!isfinite(v.d))
    return fail(o->err, o->size, "NaN and infinities have no Erlang form");
  return ei_x_encode_double(o->x, v.d) == 0 ? n : 0;
}

static size_t put_string(out *o, const unsigned char *p, size_t len) {
  buf s;
  size_t n;
  buf_init(&s);
  n = term_get_string(p, len, &s);
  if (n != 0 && (!buf_ok(&s) || s.n > 0x7FFFFFFF))
    n = fail(o->err, o->size, "a string too long for Erlang's binary");
  if (n != 0 && ei_x_encode_binary(o->x, s.p, (int)s.n) != 0) n = 0;
  buf_free(&s);
  return n;
}

/* A reference of this node: its 64-bit id in three words, the first of
** 18 bits as Erlang's own refs have it (dist_term_from_ei reads it back). */
static size_t put_ref(out *o, uint64_t id, size_t n) {
  erlang_ref ref;
  if (o->self->tags != NULL && dist_tags_put(o->self->tags, id, o->x)) return n;   /* a held tag */
  memset(&ref, 0, sizeof ref);
  snprintf(ref.node, sizeof ref.node, "%s", o->self->node);
  ref.len = 3;
  ref.n[0] = (unsigned int)(id & REF_WORD0_MASK);
  ref.n[1] = (unsigned int)(uint32_t)(id >> 18);
  ref.n[2] = (unsigned int)(id >> 50);
  ref.creation = o->self->creation;
  return ei_x_encode_ref(o->x, &ref) == 0 ? n : 0;
}

/* A pid of this node: its id's low half is Erlang's number, the high half
** its serial, as term_pid_text prints it. */
static size_t put_pid(out *o, const unsigned char *p, size_t len) {
  erlang_pid pid;
  int tag;
  uint64_t id;
  size_t n = term_get_id(p, len, &tag, &id);
  if (n == 0) return 0;
  if (tag == TERM_TABLE) return fail(o->err, o->size, "a table handle cannot leave its node");
  if (tag == TERM_REF) return put_ref(o, id, n);
  memset(&pid, 0, sizeof pid);
  snprintf(pid.node, sizeof pid.node, "%s", o->self->node);
  pid.num = (unsigned int)(uint32_t)id;
  pid.serial = (unsigned int)(uint32_t)(id >> 32);
  pid.creation = o->self->creation;
  return ei_x_encode_pid(o->x, &pid) == 0 ? n : 0;
}

/* 1 when s[0..len) is UTF-8 (shortest forms, no surrogates), as an
** Erlang atom's name must be. */
static int utf8_ok(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i], need, min, cp;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) { need = 1; min = 0x80; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; min = 0x800; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; min = 0x10000; cp = c & 0x07; }
    else return 0;
    if (len - i <= need) return 0;
    for (unsigned k = 1; k <= need; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += need + 1;
  }
  return 1;
}

/* An atom: Erlang's true, false and nil are Lua's booleans and nil, so
** atoms of those names would come back as something else: refused. */
static size_t put_atom(out *o, const unsigned char *p, size_t len) {
  const unsigned char *name;
  size_t namelen, n = term_get_atom(p, len, &name, &namelen);
  if (n == 0) return fail(o->err, o->size, "a malformed atom");
  if ((namelen == 4 && memcmp(name, "true", 4) == 0) ||
      (namelen == 5 && memcmp(name, "false", 5) == 0) ||
      (namelen == 3 && memcmp(name, "nil", 3) == 0)) {
    snprintf(o->err, o->size, "the atom '%.*s' is Lua's %.*s on the other side: send %.*s "
             "itself", (int)namelen, name, (int)namelen, name, (int)namelen, name);
    return 0;
  }
  if (!utf8_ok(name, namelen)) {
    snprintf(o->err, o->size, "an atom whose name is not UTF-8 (Erlang's atoms are text)");
    return 0;
  }
  return ei_x_encode_atom_len_as(o->x, (const char *)name, (int)namelen, ERLANG_UTF8,
                                 ERLANG_UTF8) == 0 ? n : 0;
}

/* A node's name from a term (at most TERM_NAME_MAX bytes), as ei keeps
** it. One that names this node's present run would come back as this
** node's own pid or ref, another term: only a forged one can, refused. */
static int node_name(out *o, const unsigned char *name, size_t len, uint32_t creation,
                     char *into, size_t size) {
  if (len >= size || !utf8_ok(name, len))
    return fail(o->err, o->size, "another node's pid or reference with a bad node name");
  if (len == strlen(o->self->node) && memcmp(name, o->self->node, len) == 0 &&
      creation == o->self->creation)
    return fail(o->err, o->size, "a pid or reference held as another node's names this node");
  memcpy(into, name, len);
  into[len] = '\0';
  return 1;
}

static size_t put_xpid(out *o, const unsigned char *p, size_t len) {
  term_xpid xp;
  erlang_pid pid;
  size_t n = term_get_xpid(p, len, &xp);
  if (n == 0) return fail(o->err, o->size, "a malformed pid of another node");
  memset(&pid, 0, sizeof pid);
  if (!node_name(o, xp.node, xp.nodelen, xp.creation, pid.node, sizeof pid.node)) return 0;
  pid.num = xp.num;
  pid.serial = xp.serial;
  pid.creation = xp.creation;
  return ei_x_encode_pid(o->x, &pid) == 0 ? n : 0;
}

static size_t put_xref(out *o, const unsigned char *p, size_t len) {
  term_xref xr;
  erlang_ref ref;
  size_t n = term_get_xref(p, len, &xr);
  if (n == 0) return fail(o->err, o->size, "a malformed reference of another node");
  memset(&ref, 0, sizeof ref);
  if (!node_name(o, xr.node, xr.nodelen, xr.creation, ref.node, sizeof ref.node)) return 0;
  ref.len = xr.n;
  for (int i = 0; i < xr.n; i++) ref.n[i] = xr.id[i];
  ref.creation = xr.creation;
  return ei_x_encode_ref(o->x, &ref) == 0 ? n : 0;
}

static size_t put_elements(out *o, const unsigned char *p, size_t len, uint32_t count) {
  size_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    size_t n = put_term(o, p + at, len - at);
    if (n == 0) return 0;
    at += n;
  }
  return at;
}

/* A list goes out as a proper list: ei wants its length first, so it is
** counted, then written element by element and closed with []. The
** empty list is [] alone. */
static size_t put_list(out *o, const unsigned char *p, size_t len) {
  uint32_t count;
  size_t size = term_get_list(p, len, &count), n;
  if (size == 0) return fail(o->err, o->size, "a malformed list");
  if (count > 0x7FFFFFFF) return fail(o->err, o->size, "a list too long for Erlang");
  if (ei_x_encode_list_header(o->x, (long)count) != 0) return 0;
  if (count == 0) return size;
  n = put_elements(o, p + 1, len - 1, count);
  if (n == 0 || ei_x_encode_empty_list(o->x) != 0) return 0;
  return size;
}

/* A map's keys come first, then its values: two cursors walk them side by
** side, as ei wants each key followed by its value. */
static size_t put_map(out *o, const unsigned char *p, size_t len, uint32_t count) {
  size_t keys = 0, vals = 0;
  for (uint32_t i = 0; i < count; i++) {
    size_t n = term_size_trusted(p + keys, len - keys);
    if (n == 0) return 0;
    keys += n;
  }
  vals = keys;
  keys = 0;
  for (uint32_t i = 0; i < count; i++) {
    size_t k = put_term(o, p + keys, len - keys), v;
    if (k == 0) return 0;
    keys += k;
    v = put_term(o, p + vals, len - vals);
    if (v == 0) return 0;
    vals += v;
  }
  return vals;
}

static size_t put_term(out *o, const unsigned char *p, size_t len) {
  int tag;
  uint32_t count;
  size_t h, n;
  if (len == 0) return 0;
  switch (p[0]) {
  case TERM_NIL:
    return ei_x_encode_atom(o->x, "nil") == 0 ? 1 : 0;
  case TERM_FALSE:
  case TERM_TRUE:
    return ei_x_encode_boolean(o->x, p[0] == TERM_TRUE) == 0 ? 1 : 0;
  case TERM_NUMBER:
    return put_number(o, p, len);
  case TERM_STRING:
    return put_string(o, p, len);
  case TERM_REF:
  case TERM_TABLE:
  case TERM_PID:
    return put_pid(o, p, len);
  case TERM_ATOM:
    return put_atom(o, p, len);
  case TERM_XPID:
    return put_xpid(o, p, len);
  case TERM_XREF:
    return put_xref(o, p, len);
  case TERM_LIST:
    return put_list(o, p, len);
  case TERM_ARRAY:
  case TERM_MAP:
    h = term_get_header(p, len, &tag, &count);
    if (h == 0) return 0;
    if (tag == TERM_ARRAY) {
      if (ei_x_encode_tuple_header(o->x, (long)count) != 0) return 0;
      n = put_elements(o, p + h, len - h, count);
    } else {
      if (ei_x_encode_map_header(o->x, (long)count) != 0) return 0;
      n = put_map(o, p + h, len - h, count);
    }
    return n == 0 && count > 0 ? 0 : h + n;
  default:
    return fail(o->err, o->size, "a malformed term");
  }
}

int dist_term_to_ei(const unsigned char *p, size_t len, const dist_self *self, ei_x_buff *x,
                    char *err, size_t size) {
  out o = {self, x, err, size};
  err[0] = '\0';
  if (ei_x_encode_version(x) != 0) return fail(err, size, "out of memory");
  if (put_term(&o, p, len) != len) {
    if (err[0] == '\0') fail(err, size, "out of memory encoding for Erlang");
    return 0;
  }
  return 1;
}

/* ---- Erlang to heirloom ---- */

typedef struct in {
  const char *e;
  int *index;
  const dist_self *self;
  char *err;
  size_t size;
} in;

static int get_term(in *c, buf *b, int depth);

static int get_integer(in *c, buf *b) {
  long long v;
  if (ei_decode_longlong(c->e, c->index, &v) != 0)
    return fail(c->err, c->size, "an integer bigger than 64 bits (heirloom's integers are "
                                 "64-bit)");
  term_put_int(b, (int64_t)v);
  return 1;
}

static int get_float(in *c, buf *b) {
  double d;
  if (ei_decode_double(c->e, c->index, &d) != 0) return fail(c->err, c->size, "a malformed float");
  term_put_float(b, d);
  return 1;
}

static int get_atom(in *c, buf *b) {
  char name[MAXATOMLEN_UTF8];
  if (ei_decode_atom_as(c->e, c->index, name, sizeof name, ERLANG_UTF8, NULL, NULL) != 0)
    return fail(c->err, c->size, "a malformed atom");
  if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0)
    term_put_bool(b, name[0] == 't');
  else if (strcmp(name, "nil") == 0)
    term_put_nil(b);
  else if (strlen(name) > TERM_NAME_MAX)
    return fail(c->err, c->size, "an atom longer than 255 bytes (in UTF-8)");
  else
    term_put_atom(b, name, strlen(name));
  return 1;
}

static int get_binary(in *c, buf *b, int size) {
  long got;
  char *bytes = malloc(size > 0 ? (size_t)size : 1);
  int ok;
  if (bytes == NULL) return fail(c->err, c->size, "out of memory");
  ok = ei_decode_binary(c->e, c->index, bytes, &got) == 0;
  if (ok) term_put_string(b, bytes, (size_t)got);
  free(bytes);
  return ok ? 1 : fail(c->err, c->size, "a malformed binary");
}

/* A list of bytes ("abc" in Erlang) is a list like any other: a list of
** integers. */
static int get_byte_list(in *c, buf *b, int size) {
  char *s = malloc((size_t)size + 1);
  int ok;
  if (s == NULL) return fail(c->err, c->size, "out of memory");
  ok = ei_decode_string(c->e, c->index, s) == 0;
  if (ok) {
    term_put_list(b);
    for (int i = 0; i < size; i++) term_put_int(b, (unsigned char)s[i]);
    term_put_list_end(b);
  }
  free(s);
  return ok ? 1 : fail(c->err, c->size, "a malformed string");
}

/* A pid of this node as it runs now is one of its processes; any other
** (another node's, or one of an earlier run of this node) is an xpid. */
static int get_pid(in *c, buf *b) {
  erlang_pid pid;
  term_xpid xp;
  if (ei_decode_pid(c->e, c->index, &pid) != 0) return fail(c->err, c->size, "a malformed pid");
  if (strcmp(pid.node, c->self->node) == 0 && pid.creation == c->self->creation) {
    term_put_id(b, TERM_PID, (uint64_t)pid.num | (uint64_t)pid.serial << 32);
    return 1;
  }
  xp.node = (const unsigned char *)pid.node;
  xp.nodelen = strlen(pid.node);
  if (!term_name_ok(xp.node, xp.nodelen) || xp.nodelen == 0)
    return fail(c->err, c->size, "a pid whose node name is longer than 255 bytes");
  xp.num = pid.num;
  xp.serial = pid.serial;
  xp.creation = pid.creation;
  term_put_xpid(b, &xp);
  return 1;
}

/* A reference this node made (put_ref's three words, this run) comes back
** as the same ref; any other is an xref. */
static int get_ref(in *c, buf *b) {
  erlang_ref ref;
  term_xref xr;
  if (ei_decode_ref(c->e, c->index, &ref) != 0 || ref.len < 1 || ref.len > TERM_XREF_WORDS)
    return fail(c->err, c->size, "a malformed reference");
  if (strcmp(ref.node, c->self->node) == 0 && ref.creation == c->self->creation &&
      ref.len == 3 && ref.n[0] <= REF_WORD0_MASK && ref.n[2] < (1u << 14)) {
    term_put_id(b, TERM_REF, (uint64_t)ref.n[0] | (uint64_t)ref.n[1] << 18 |
                             (uint64_t)ref.n[2] << 50);
    return 1;
  }
  xr.node = (const unsigned char *)ref.node;
  xr.nodelen = strlen(ref.node);
  if (!term_name_ok(xr.node, xr.nodelen) || xr.nodelen == 0)
    return fail(c->err, c->size, "a reference whose node name is longer than 255 bytes");
  xr.creation = ref.creation;
  xr.n = ref.len;
  for (int i = 0; i < ref.len; i++) xr.id[i] = ref.n[i];
  term_put_xref(b, &xr);
  return 1;
}

static int get_elements(in *c, buf *b, int count, int depth) {
  for (int i = 0; i < count; i++)
    if (!get_term(c, b, depth)) return 0;
  return 1;
}

static int get_tuple(in *c, buf *b, int depth) {
  int arity;
  if (ei_decode_tuple_header(c->e, c->index, &arity) != 0 || arity < 0)
    return fail(c->err, c->size, "a malformed tuple");
  term_put_array(b, (uint32_t)arity);
  return get_elements(c, b, arity, depth);
}

static int get_list(in *c, buf *b, int depth) {
  int arity, type, size;
  if (ei_decode_list_header(c->e, c->index, &arity) != 0 || arity < 0)
    return fail(c->err, c->size, "a malformed list");
  term_put_list(b);
  if (arity > 0) {
    if (!get_elements(c, b, arity, depth)) return 0;
    if (ei_get_type(c->e, c->index, &type, &size) != 0 || type != ERL_NIL_EXT)
      return fail(c->err, c->size, "an improper list (its tail is not [])");
    if (ei_decode_list_header(c->e, c->index, &arity) != 0) return 0;
  }
  term_put_list_end(b);
  return 1;
}


/* A heirloom map holds its keys in term order: they are decoded to a side
** buffer, sorted, and two Erlang keys that become one term (1 and 1.0)
** are refused rather than one lost. */
static int get_map(in *c, buf *b, int depth) {
  buf kv, ents;
  int arity, ok = 1;
  if (ei_decode_map_header(c->e, c->index, &arity) != 0 || arity < 0)
    return fail(c->err, c->size, "a malformed map");
  buf_init(&kv);
  buf_init(&ents);
  for (int i = 0; ok && i < arity; i++) {
    term_mapent en;
    en.koff = kv.n;
    ok = get_term(c, &kv, depth);
    en.klen = kv.n - en.koff;
    en.voff = kv.n;
    ok = ok && get_term(c, &kv, depth);
    en.vlen = kv.n - en.voff;
    buf_put(&ents, &en, sizeof en);
  }
  if (ok && !(buf_ok(&kv) && buf_ok(&ents))) ok = fail(c->err, c->size, "out of memory");
  if (ok && !term_map_sort((term_mapent *)ents.p, (size_t)arity, kv.p))
    ok = fail(c->err, c->size, "a map with two keys that are one heirloom term "
                               "(1 and 1.0)");
  if (ok) term_map_put(b, (const term_mapent *)ents.p, (size_t)arity, kv.p);
  buf_free(&kv);
  buf_free(&ents);
  return ok;
}

static int get_term(in *c, buf *b, int depth) {
  int type, size;
  if (ei_get_type(c->e, c->index, &type, &size) != 0)
    return fail(c->err, c->size, "a malformed term");
  switch (type) {
  case ERL_SMALL_INTEGER_EXT: case ERL_INTEGER_EXT:
  case ERL_SMALL_BIG_EXT: case ERL_LARGE_BIG_EXT:
    return get_integer(c, b);
  case ERL_FLOAT_EXT: case NEW_FLOAT_EXT:
    return get_float(c, b);
  case ERL_ATOM_EXT: case ERL_SMALL_ATOM_EXT:
  case ERL_ATOM_UTF8_EXT: case ERL_SMALL_ATOM_UTF8_EXT:
    return get_atom(c, b);
  case ERL_BINARY_EXT:
    return get_binary(c, b, size);
  case ERL_STRING_EXT:
    return get_byte_list(c, b, size);
  case ERL_PID_EXT: case ERL_NEW_PID_EXT:
    return get_pid(c, b);
  case ERL_NEW_REFERENCE_EXT: case ERL_NEWER_REFERENCE_EXT: case ERL_REFERENCE_EXT:
    return get_ref(c, b);
  default:
    break;
  }
  if (type != ERL_SMALL_TUPLE_EXT && type != ERL_LARGE_TUPLE_EXT && type != ERL_NIL_EXT &&
      type != ERL_LIST_EXT && type != ERL_MAP_EXT) {
    const char *what = type == ERL_BIT_BINARY_EXT ? "a bitstring (not whole bytes)"
                     : type == ERL_PORT_EXT || type == ERL_NEW_PORT_EXT ||
                       type == ERL_V4_PORT_EXT ? "a port"
                     : type == ERL_NEW_FUN_EXT || type == ERL_FUN_EXT ||
                       type == ERL_EXPORT_EXT ? "a fun"
                     : "a term of a kind heirloom does not know";
    return fail(c->err, c->size, what);
  }
  if (depth >= TERM_MAX_DEPTH) return fail(c->err, c->size, "nesting deeper than 64 levels");
  if ((unsigned)size > TERM_MAX_COUNT) return fail(c->err, c->size, "a tuple, list or map too large");
  if (type == ERL_MAP_EXT) return get_map(c, b, depth + 1);
  if (type == ERL_NIL_EXT || type == ERL_LIST_EXT) return get_list(c, b, depth + 1);
  return get_tuple(c, b, depth + 1);
}

/* ---- bounds ----
** ei's decoders trust the lengths written in the bytes, and a message's
** bytes are a peer's: before any is decoded, the whole term is walked here
** and must end within the message. Only the kinds Erlang sends are known;
** anything else is refused. */

static int fits(size_t at, size_t need, size_t len) {
  return at <= len && need <= len - at;
}

/* Moves *at past n bytes, if they are there. */
static int skip(size_t *at, size_t n, size_t len) {
  if (!fits(*at, n, len)) return 0;
  *at += n;
  return 1;
}

static uint32_t be(const unsigned char *p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

static int ext_walk(const unsigned char *p, size_t len, size_t *at, int depth);

/* n terms from *at. */
static int ext_walk_n(const unsigned char *p, size_t len, size_t *at, uint64_t n, int depth) {
  for (uint64_t i = 0; i < n; i++)
    if (!ext_walk(p, len, at, depth)) return 0;
  return 1;
}

/* A field of `width` bytes whose value counts `unit`-byte items after it
** (and `extra` bytes more). */
static int ext_counted(const unsigned char *p, size_t len, size_t *at, int width, size_t unit,
                       size_t extra) {
  uint64_t n;
  if (!fits(*at, (size_t)width, len)) return 0;
  n = be(p + *at, width);
  *at += (size_t)width;
  if (n > (len / (unit ? unit : 1)) || !fits(*at, (size_t)n * unit + extra, len)) return 0;
  *at += (size_t)n * unit + extra;
  return 1;
}

static int ext_walk(const unsigned char *p, size_t len, size_t *at, int depth) {
  unsigned char tag;
  uint32_t n;
  if (depth > TERM_MAX_DEPTH + 1 || !fits(*at, 1, len)) return 0;
  tag = p[(*at)++];
  switch (tag) {
  case ERL_SMALL_INTEGER_EXT: return skip(at, 1, len);
  case ERL_INTEGER_EXT: return skip(at, 4, len);
  case ERL_FLOAT_EXT: return skip(at, 31, len);
  case NEW_FLOAT_EXT: return skip(at, 8, len);
  case ERL_SMALL_BIG_EXT: return ext_counted(p, len, at, 1, 1, 1);
  case ERL_LARGE_BIG_EXT: return ext_counted(p, len, at, 4, 1, 1);
  case ERL_ATOM_EXT: case ERL_ATOM_UTF8_EXT: case ERL_STRING_EXT:
    return ext_counted(p, len, at, 2, 1, 0);
  case ERL_SMALL_ATOM_EXT: case ERL_SMALL_ATOM_UTF8_EXT:
    return ext_counted(p, len, at, 1, 1, 0);
  case ERL_BINARY_EXT: return ext_counted(p, len, at, 4, 1, 0);
  case ERL_BIT_BINARY_EXT: return ext_counted(p, len, at, 4, 1, 1);
  case ERL_NIL_EXT: return 1;
  case ERL_PID_EXT: return ext_walk(p, len, at, depth) && skip(at, 9, len);
  case ERL_NEW_PID_EXT: return ext_walk(p, len, at, depth) && skip(at, 12, len);
  case ERL_PORT_EXT: return ext_walk(p, len, at, depth) && skip(at, 5, len);
  case ERL_NEW_PORT_EXT: return ext_walk(p, len, at, depth) && skip(at, 8, len);
  case ERL_V4_PORT_EXT: return ext_walk(p, len, at, depth) && skip(at, 12, len);
  case ERL_REFERENCE_EXT: return ext_walk(p, len, at, depth) && skip(at, 5, len);
  case ERL_NEW_REFERENCE_EXT: case ERL_NEWER_REFERENCE_EXT:
    if (!fits(*at, 2, len)) return 0;
    n = be(p + *at, 2);
    *at += 2;
    return ext_walk(p, len, at, depth) &&
           skip(at, (tag == ERL_NEWER_REFERENCE_EXT ? 4 : 1) + 4 * (size_t)n, len);
  case ERL_SMALL_TUPLE_EXT: case ERL_LARGE_TUPLE_EXT: case ERL_LIST_EXT: case ERL_MAP_EXT: {
    int width = tag == ERL_SMALL_TUPLE_EXT ? 1 : 4;
    if (!fits(*at, (size_t)width, len)) return 0;
    n = be(p + *at, width);
    *at += (size_t)width;
    if (n > len) return 0;   /* each item takes a byte at least */
    return ext_walk_n(p, len, at, (uint64_t)n * (tag == ERL_MAP_EXT ? 2 : 1) +
                                  (tag == ERL_LIST_EXT), depth + 1);
  }
  case ERL_EXPORT_EXT: return ext_walk_n(p, len, at, 3, depth + 1);
  case ERL_NEW_FUN_EXT: /* its size counts itself */
    if (!fits(*at, 4, len) || be(p + *at, 4) < 4) return 0;
    n = be(p + *at, 4);
    return skip(at, n, len);
  default:
    return 0;
  }
}

/* The tag of {'$gen_call', {Pid, Tag}, Req}: mapped if it can be, else
** held (dist_tags.h) and replaced by the ref that stands for it. */
static int get_call_tag(in *c, buf *b) {
  int start = *c->index, end = start, type, size;
  uint64_t ref;
  size_t at = b->n;
  if (get_term(c, b, 2)) return 1;
  b->n = at;
  *c->index = start;
  if (c->self->tags == NULL || ei_get_type(c->e, c->index, &type, &size) != 0 ||
      type != ERL_LIST_EXT || ei_skip_term(c->e, &end) != 0 ||
      (ref = dist_tags_hold(c->self->tags, c->e + start, (size_t)(end - start))) == 0)
    return 0;
  *c->index = end;
  c->err[0] = '\0';
  term_put_id(b, TERM_REF, ref);
  return 1;
}

/* A gen_server call from another node, {'$gen_call', {Pid, Tag}, Req}:
** 1 when the term at *index is one (mapped into b), 0 when it is not
** that shape (nothing is read), -1 when it is but does not map. */
static int get_gen_call(in *c, buf *b) {
  int start = *c->index, arity, type, size;
  char name[MAXATOMLEN_UTF8];
  if (ei_decode_tuple_header(c->e, c->index, &arity) != 0 || arity != 3 ||
      ei_get_type(c->e, c->index, &type, &size) != 0 || size > 9 ||
      ei_decode_atom_as(c->e, c->index, name, sizeof name, ERLANG_UTF8, NULL, NULL) != 0 ||
      strcmp(name, "$gen_call") != 0 ||
      ei_decode_tuple_header(c->e, c->index, &arity) != 0 || arity != 2) {
    *c->index = start;
    return 0;
  }
  term_put_array(b, 3);
  term_put_atom(b, "$gen_call", 9);
  term_put_array(b, 2);
  return get_term(c, b, 2) && get_call_tag(c, b) && get_term(c, b, 1) ? 1 : -1;
}

int dist_term_from_ei(const char *ebuf, size_t len, int *index, const dist_self *self,
                      buf *out, char *err, size_t size) {
  in c = {ebuf, index, self, err, size};
  size_t start = out->n, at = (size_t)*index + 1;
  int version, mapped;
  err[0] = '\0';
  if (*index < 0 || (size_t)*index >= len || ei_decode_version(ebuf, index, &version) != 0)
    return fail(err, size, "no version byte: not an external term");
  if (!ext_walk((const unsigned char *)ebuf, len, &at, 0))
    return fail(err, size, "malformed bytes (a term cut short, nested too deep, or of a kind "
                           "heirloom does not know)");
  mapped = get_gen_call(&c, out);
  if (mapped == 0) mapped = get_term(&c, out, 0);
  if (mapped != 1) return 0;
  if (!buf_ok(out)) return fail(err, size, "out of memory");
  switch (term_check(out->p + start, out->n - start)) {
  case TERM_OK:
    return 1;
  case TERM_NIL_KEY:
    return fail(err, size, "a map with the atom nil as a key (no Lua table can hold it)");
  default:
    return fail(err, size, "a term heirloom cannot hold");
  }
}
