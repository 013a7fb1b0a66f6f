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

/* A pid of this node: its id's low half is Erlang's number, the high half
** its serial, as term_pid_text prints it. */
static size_t put_pid(out *o, const unsigned char *p, size_t len) {
  erlang_pid pid;
  int tag;
  uint64_t id;
  size_t n = term_get_id(p, len, &tag, &id);
  if (n == 0) return 0;
  if (tag == TERM_TABLE) return fail(o->err, o->size, "a table handle cannot leave its node");
  if (tag == TERM_REF)
    return fail(o->err, o->size, "references cannot be sent to another node yet");
  memset(&pid, 0, sizeof pid);
  snprintf(pid.node, sizeof pid.node, "%s", o->self->node);
  pid.num = (unsigned int)(uint32_t)id;
  pid.serial = (unsigned int)(uint32_t)(id >> 32);
  pid.creation = o->self->creation;
  return ei_x_encode_pid(o->x, &pid) == 0 ? n : 0;
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
  else {
    snprintf(c->err, c->size, "the atom '%.200s': atoms other than true/false/nil are not "
             "supported yet", name);
    return 0;
  }
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

/* A list of bytes ("abc" in Erlang) is a list like any other: an array of
** integers. */
static int get_byte_list(in *c, buf *b, int size) {
  char *s = malloc((size_t)size + 1);
  int ok;
  if (s == NULL) return fail(c->err, c->size, "out of memory");
  ok = ei_decode_string(c->e, c->index, s) == 0;
  if (ok) {
    term_put_array(b, (uint32_t)size);
    for (int i = 0; i < size; i++) term_put_int(b, (unsigned char)s[i]);
  }
  free(s);
  return ok ? 1 : fail(c->err, c->size, "a malformed string");
}

static int get_pid(in *c, buf *b) {
  erlang_pid pid;
  if (ei_decode_pid(c->e, c->index, &pid) != 0) return fail(c->err, c->size, "a malformed pid");
  if (strcmp(pid.node, c->self->node) != 0)
    return fail(c->err, c->size, "a pid of another node: remote pids are not supported yet");
  if (pid.creation != c->self->creation)
    return fail(c->err, c->size, "a pid of an earlier run of this node");
  term_put_id(b, TERM_PID, (uint64_t)pid.num | (uint64_t)pid.serial << 32);
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
  term_put_array(b, (uint32_t)arity);
  if (arity == 0) return 1;
  if (!get_elements(c, b, arity, depth)) return 0;
  if (ei_get_type(c->e, c->index, &type, &size) != 0 || type != ERL_NIL_EXT)
    return fail(c->err, c->size, "an improper list (its tail is not [])");
  return ei_decode_list_header(c->e, c->index, &arity) == 0;
}


/* A heirloom map holds its keys in term order: they are decoded to a side
** buffer, sorted, and two Erlang keys that become one term (1 and 1.0, a
** tuple and a list alike) are refused rather than one lost. */
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
                               "(1 and 1.0, or a tuple and a list alike)");
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
  default:
    break;
  }
  if (type != ERL_SMALL_TUPLE_EXT && type != ERL_LARGE_TUPLE_EXT && type != ERL_NIL_EXT &&
      type != ERL_LIST_EXT && type != ERL_MAP_EXT) {
    const char *what = type == ERL_BIT_BINARY_EXT ? "a bitstring (not whole bytes)"
                     : type == ERL_NEW_REFERENCE_EXT || type == ERL_NEWER_REFERENCE_EXT ||
                       type == ERL_REFERENCE_EXT ? "a reference: references are not supported yet"
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

int dist_term_from_ei(const char *ebuf, size_t len, int *index, const dist_self *self,
                      buf *out, char *err, size_t size) {
  in c = {ebuf, index, self, err, size};
  size_t start = out->n, at = (size_t)*index + 1;
  int version;
  err[0] = '\0';
  if (*index < 0 || (size_t)*index >= len || ei_decode_version(ebuf, index, &version) != 0)
    return fail(err, size, "no version byte: not an external term");
  if (!ext_walk((const unsigned char *)ebuf, len, &at, 0))
    return fail(err, size, "malformed bytes (a term cut short, nested too deep, or of a kind "
                           "heirloom does not know)");
  if (!get_term(&c, out, 0)) return 0;
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
