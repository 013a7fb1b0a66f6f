/*
** fuzz_mspec.c — libFuzzer target for the match-spec compiler (mspec.c)
** and runner (mspec_run.c).
**
** Input: one byte that says what to compile (a spec, or a pattern for
** match, match_object or match_delete), then the term. When the rest is a
** valid term it is compiled as it is (the corpus holds real specs); when
** it is not, the bytes are read as choices that build a term from the
** spec language's own words ("$1", "_", "andalso", "element", ...), so
** that mutations still reach deep into the compiler. A spec that compiles
** is run against a few objects of every kind.
**
** What must hold: no crash or out-of-bounds read (ASan, UBSan), and a
** clause that matches appends exactly one valid term (it goes back to Lua
** as a select result).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mspec.h"
#include "term.h"

#define MUST(cond)                                                            \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_mspec: %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
      abort();                                                                \
    }                                                                         \
  } while (0)

/* ---- building a term from choices ---- */

typedef struct choices {
  const unsigned char *p;
  size_t n, at;
} choices;

static unsigned next(choices *c) {
  return c->at < c->n ? c->p[c->at++] : 0;
}

static const char *const words[] = {
  "$1", "$2", "$3", "$_", "$$", "_", "const", "self", "EXIT",
  "==", "=:=", "/=", "=/=", "<", ">", "=<", ">=", "and", "or", "xor", "not",
  "andalso", "orelse", "+", "-", "*", "/", "div", "rem", "band", "bor", "bxor",
  "bnot", "bsl", "bsr", "abs", "min", "max", "is_integer", "is_float",
  "is_number", "is_boolean", "is_string", "is_array", "is_tuple", "is_map",
  "is_pid", "is_reference", "is_table", "element", "size", "map_get",
  "is_map_key", "is_list", "$0", "$99999", "$-1", "x", ""
};
#define NWORDS (sizeof words / sizeof words[0])

static void put_word(buf *b, unsigned i) {
  const char *w = words[i % NWORDS];
  term_put_string(b, w, strlen(w));
}

static void build(choices *c, buf *b, int depth);

/* A map with some of five keys, in their encoded (ascending) order. */
static void build_map(choices *c, buf *b, int depth) {
  static const char *const keys[] = {"$1", "_", "a", "b"};
  unsigned mask = next(c) & 31;
  uint32_t count = 0;
  for (int i = 0; i < 5; i++) count += (mask >> i) & 1;
  term_put_map(b, count);
  if (mask & 1) term_put_int(b, 1);                 /* numbers sort before strings */
  for (int i = 0; i < 4; i++)
    if (mask & (2u << i)) term_put_string(b, keys[i], strlen(keys[i]));
  for (uint32_t i = 0; i < count; i++) build(c, b, depth + 1);
}

static void build(choices *c, buf *b, int depth) {
  unsigned k = next(c), count;
  int64_t v;
  double d;
  if (depth > 12) k = 0;
  switch (k % 16) {
    case 0: put_word(b, next(c)); break;
    case 1: term_put_nil(b); break;
    case 2: term_put_bool(b, (int)(next(c) & 1)); break;
    case 3: term_put_int(b, (int8_t)next(c)); break;
    case 4:
      v = 0;
      for (int i = 0; i < 8; i++) v = (int64_t)((uint64_t)v << 8 | next(c));
      term_put_int(b, v);
      break;
    case 5:
      v = 0;
      for (int i = 0; i < 8; i++) v = (int64_t)((uint64_t)v << 8 | next(c));
      memcpy(&d, &v, sizeof d);
      term_put_float(b, d);
      break;
    case 6: term_put_id(b, TERM_PID + (int)(next(c) % 3) * 8 - 16, next(c)); break;
    case 7: {                                       /* a short string of its own */
      char s[4];
      size_t len = next(c) % 4;
      for (size_t i = 0; i < len; i++) s[i] = (char)next(c);
      term_put_string(b, s, len);
      break;
    }
    case 8: case 9: case 10:                       /* a call: {name, args...} */
      count = next(c) % 4;
      term_put_array(b, count + 1);
      put_word(b, next(c));
      for (unsigned i = 0; i < count; i++) build(c, b, depth + 1);
      break;
    case 11:                                       /* a tuple built in a body: {{...}} */
      term_put_array(b, 1);
      count = next(c) % 4;
      term_put_array(b, count);
      for (unsigned i = 0; i < count; i++) build(c, b, depth + 1);
      break;
    case 12:
      build_map(c, b, depth);
      break;
    default:                                       /* an array: a pattern, a list */
      count = next(c) % 5;
      term_put_array(b, count);
      for (unsigned i = 0; i < count; i++) build(c, b, depth + 1);
      break;
  }
}

/* A spec: 0 to 3 clauses {head, guards, body}. */
static void build_spec(choices *c, buf *b) {
  unsigned clauses = next(c) % 4;
  term_put_array(b, clauses);
  for (unsigned i = 0; i < clauses; i++) {
    unsigned n;
    term_put_array(b, 3);
    build(c, b, 1);
    n = next(c) % 3;
    term_put_array(b, n);
    for (unsigned j = 0; j < n; j++) build(c, b, 2);
    n = next(c) % 3;
    term_put_array(b, n);
    for (unsigned j = 0; j < n; j++) build(c, b, 2);
  }
}

/* ---- objects to run on ---- */

static buf objects[8];
static size_t nobjects;

static void add_object(buf *o) {
  MUST(term_valid(o->p, o->n));
  objects[nobjects++] = *o;
  buf_init(o);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  buf o;
  (void)argc;
  (void)argv;
  buf_init(&o);
  term_put_array(&o, 3);                  /* {1, "a", 2.5} */
  term_put_int(&o, 1);
  term_put_string(&o, "a", 1);
  term_put_float(&o, 2.5);
  add_object(&o);
  term_put_array(&o, 3);                  /* {"k", {1, 2, 3}, {x = 1}} */
  term_put_string(&o, "k", 1);
  term_put_array(&o, 3);
  for (int i = 1; i <= 3; i++) term_put_int(&o, i);
  term_put_map(&o, 1);
  term_put_string(&o, "x", 1);
  term_put_int(&o, 1);
  add_object(&o);
  term_put_array(&o, 6);                  /* extremes */
  term_put_int(&o, INT64_MIN);
  term_put_int(&o, INT64_MAX);
  term_put_float(&o, 1e308);
  term_put_nil(&o);
  term_put_bool(&o, 0);
  term_put_string(&o, "\0\0", 2);
  add_object(&o);
  term_put_array(&o, 4);                  /* handles */
  term_put_id(&o, TERM_PID, 7);
  term_put_id(&o, TERM_REF, 8);
  term_put_id(&o, TERM_TABLE, 9);
  term_put_int(&o, -1);
  add_object(&o);
  term_put_map(&o, 2);                    /* a map object: {[1] = "one", ["$1"] = {}} */
  term_put_int(&o, 1);
  term_put_string(&o, "$1", 2);
  term_put_string(&o, "one", 3);
  term_put_array(&o, 0);
  add_object(&o);
  term_put_array(&o, 1);                  /* {{{}}} */
  term_put_array(&o, 1);
  term_put_array(&o, 0);
  add_object(&o);
  term_put_array(&o, 3);                  /* {[1, "$1"], [], "k"}: lists */
  term_put_list(&o);
  term_put_int(&o, 1);
  term_put_string(&o, "$1", 2);
  term_put_list_end(&o);
  term_put_list(&o);
  term_put_list_end(&o);
  term_put_string(&o, "k", 1);
  add_object(&o);
  return 0;
}

static void run_all(const mspec *ms) {
  buf out;
  buf_init(&out);
  for (size_t i = 0; i < nobjects; i++) {
    size_t mark;
    int rc;
    buf_reset(&out);
    term_put_string(&out, "before", 6);   /* results are appended */
    mark = out.n;
    rc = mspec_run(ms, objects[i].p, objects[i].n, 42, &out);
    MUST(rc >= 0);                        /* out of memory only */
    if (rc == 1) MUST(term_valid(out.p + mark, out.n - mark));
    else MUST(out.n == mark);
  }
  buf_free(&out);
}

int LLVMFuzzerTestOneInput(const unsigned char *p, size_t n) {
  unsigned what = n > 0 ? p[0] % 4 : 0;
  const unsigned char *term = n > 0 ? p + 1 : p;
  size_t len = n > 0 ? n - 1 : 0;
  buf built;
  mspec *ms;
  char err[256];
  const unsigned char *key;
  size_t klen;
  buf_init(&built);
  if (!term_valid(term, len)) {
    choices c = {term, len, 0};
    if (what == 0) build_spec(&c, &built);
    else build(&c, &built, 0);
    MUST(buf_ok(&built));
    term = built.p;
    len = built.n;
  }
  if (what == 0) ms = mspec_compile(term, len, err, sizeof err);
  else ms = mspec_from_pattern(term, len, (int)what - 1, err, sizeof err);
  if (ms == NULL) {
    MUST(err[0] != '\0');                 /* a refusal says why */
  } else {
    run_all(ms);
    mspec_bound_key(ms, 1, NULL, 0, &key, &klen);
    mspec_clauses(ms);
    mspec_free(ms);
  }
  buf_free(&built);
  return 0;
}
