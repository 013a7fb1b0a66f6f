/*
** test_mspec.c — match specifications: heads, guards, bodies, the pattern
** forms of match/match_object/match_delete, bound keys, compile errors,
** and garbage or truncated specs and objects (run it under ASan).
**
** Terms are written as Lua table constructors and encoded by a small
** reader below, so that a case reads like the Lua call it stands for:
** {a=1, "x"} is a map, {1, 2} an array, pid(3) / ref(3) / tab(3) ids.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mspec.h"
#include "term.h"

#define CALLER 42

/* ---- a reader for Lua-like literals ---- */

static void skip_space(const char **s) {
  while (**s == ' ' || **s == '\n' || **s == '\t') (*s)++;
}

static int is_ident_char(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void read_value(const char **s, buf *b);

static void read_string(const char **s, buf *b) {
  char quote = *(*s)++;
  buf raw;
  buf_init(&raw);
  while (**s != quote && **s != '\0') {
    char c = *(*s)++;
    if (c == '\\') {
      c = *(*s)++;
      if (c == '0') c = '\0';
    }
    buf_putc(&raw, (unsigned char)c);
  }
  if (**s == quote) (*s)++;
  term_put_string(b, raw.n ? (const void *)raw.p : "", raw.n);
  buf_free(&raw);
}

/* An entry of a table constructor: encoded key and value. */
typedef struct entry {
  buf k, v;
} entry;

static int entry_cmp(const void *a, const void *b) {
  const entry *x = a, *y = b;
  return term_compare(x->k.p, x->k.n, y->k.p, y->k.n);
}

static void read_table(const char **s, buf *b) {
  entry ents[256];
  int n = 0, positional = 0, keyed = 0;
  (*s)++;   /* { */
  for (;;) {
    const char *save;
    skip_space(s);
    if (**s == '}') {
      (*s)++;
      break;
    }
    buf_init(&ents[n].k);
    buf_init(&ents[n].v);
    save = *s;
    if (**s == '[') {   /* [key] = value */
      (*s)++;
      read_value(s, &ents[n].k);
      skip_space(s);
      (*s)++;   /* ] */
      skip_space(s);
      (*s)++;   /* = */
      read_value(s, &ents[n].v);
      keyed++;
    } else {
      const char *p = *s;
      while (is_ident_char(*p)) p++;
      if (p > *s && !(**s >= '0' && **s <= '9') && (skip_space(&p), *p == '=') && p[1] != '=') {
        const char *q = *s;
        size_t len = 0;
        while (is_ident_char(q[len])) len++;
        term_put_string(&ents[n].k, q, len);
        *s = p + 1;
        read_value(s, &ents[n].v);
        keyed++;
      } else {
        *s = save;
        term_put_int(&ents[n].k, ++positional);
        read_value(s, &ents[n].v);
      }
    }
    n++;
    skip_space(s);
    if (**s == ',') (*s)++;
  }
  if (keyed == 0) {
    term_put_array(b, (uint32_t)n);
    for (int i = 0; i < n; i++) buf_put(b, ents[i].v.p, ents[i].v.n);
  } else {
    qsort(ents, (size_t)n, sizeof ents[0], entry_cmp);
    term_put_map(b, (uint32_t)n);
    for (int i = 0; i < n; i++) buf_put(b, ents[i].k.p, ents[i].k.n);
    for (int i = 0; i < n; i++) buf_put(b, ents[i].v.p, ents[i].v.n);
  }
  for (int i = 0; i < n; i++) {
    buf_free(&ents[i].k);
    buf_free(&ents[i].v);
  }
}

static int word(const char **s, const char *w) {
  size_t n = strlen(w);
  if (strncmp(*s, w, n) != 0 || is_ident_char((*s)[n])) return 0;
  *s += n;
  return 1;
}

static void read_value(const char **s, buf *b) {
  skip_space(s);
  if (**s == '{') read_table(s, b);
  else if (**s == '"' || **s == '\'') read_string(s, b);
  else if (word(s, "true")) term_put_bool(b, 1);
  else if (word(s, "false")) term_put_bool(b, 0);
  else if (word(s, "nil")) term_put_nil(b);
  else if (word(s, "inf")) term_put_float(b, INFINITY);
  else if (word(s, "-inf")) term_put_float(b, -INFINITY);
  else if (word(s, "nan")) term_put_float(b, NAN);
  else if (word(s, "maxint")) term_put_int(b, INT64_MAX);
  else if (word(s, "minint")) term_put_int(b, INT64_MIN);
  else if (word(s, "pid") || word(s, "ref") || word(s, "tab")) {
    char kind = (*s)[-3];
    int tag = kind == 'p' ? TERM_PID : kind == 'r' ? TERM_REF : TERM_TABLE;
    char *end;
    uint64_t id = strtoull(*s + 1, &end, 10);
    *s = end + 1;
    term_put_id(b, tag, id);
  } else {
    char *end;
    const char *p = *s;
    int isfloat = 0;
    if (*p == '-') p++;
    while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e') {
      if (*p == '.' || *p == 'e') isfloat = 1;
      p++;
    }
    if (isfloat) term_put_float(b, strtod(*s, &end));
    else term_put_int(b, strtoll(*s, &end, 10));
    *s = end;
  }
}

/* The encoding of a literal, in a buffer of exactly its size (so that ASan
** sees any read past it). */
typedef struct term {
  unsigned char *p;
  size_t n;
} term;

static term T(const char *text) {
  buf b;
  term t;
  buf_init(&b);
  read_value(&text, &b);
  t.n = b.n;
  t.p = malloc(b.n ? b.n : 1);
  memcpy(t.p, b.p, b.n);
  buf_free(&b);
  return t;
}

static void dump(const char *what, const unsigned char *p, size_t n) {
  fprintf(stderr, "  %s:", what);
  for (size_t i = 0; i < n; i++) fprintf(stderr, " %02x", p[i]);
  fprintf(stderr, "\n");
}

/* ---- running ---- */

static mspec *compile(const char *spec) {
  char err[200];
  term t = T(spec);
  mspec *ms = mspec_compile(t.p, t.n, err, sizeof err);
  if (ms == NULL) fprintf(stderr, "  compile failed: %s\n  spec: %s\n", err, spec);
  free(t.p);
  return ms;
}

/* Runs ms on obj: 1 when the result is `expect` (NULL: no clause matched). */
static int runs_to(const mspec *ms, const char *obj, const char *expect) {
  term o = T(obj), e = {NULL, 0};
  buf out;
  int rc, ok;
  buf_init(&out);
  buf_put(&out, "pre", 3);   /* the result must go after what is there */
  rc = mspec_run(ms, o.p, o.n, CALLER, &out);
  if (expect == NULL) ok = rc == 0 && out.n == 3;
  else {
    e = T(expect);
    ok = rc == 1 && out.n == 3 + e.n && memcmp(out.p + 3, e.p, e.n) == 0 &&
         term_valid(out.p + 3, out.n - 3);
  }
  ok = ok && memcmp(out.p, "pre", 3) == 0;
  if (!ok) {
    fprintf(stderr, "  run on %s: rc %d, wanted %s\n", obj, rc, expect ? expect : "no match");
    if (out.n > 3) dump("got", out.p + 3, out.n - 3);
    if (e.p != NULL) dump("want", e.p, e.n);
  }
  free(o.p);
  free(e.p);
  buf_free(&out);
  return ok;
}

/* Compiles spec and runs it on obj. */
static int sel(const char *spec, const char *obj, const char *expect) {
  mspec *ms = compile(spec);
  int ok;
  if (ms == NULL) return 0;
  ok = runs_to(ms, obj, expect);
  mspec_free(ms);
  return ok;
}

/* One clause {head, guards, {body}} built from the three texts. */
static int one(const char *head, const char *guards, const char *body,
               const char *obj, const char *expect) {
  char spec[1024];
  snprintf(spec, sizeof spec, "{ { %s, %s, { %s } } }", head, guards, body);
  return sel(spec, obj, expect);
}

/* The value of body on object {}: a quick way to test expressions. */
static int val(const char *body, const char *expect) {
  return one("'_'", "{}", body, "{}", expect);
}

/* 1 when guard lets the object {} pass. */
static int guard(const char *g) {
  char guards[512];
  snprintf(guards, sizeof guards, "{ %s }", g);
  return one("'_'", guards, "true", "{}", "true");
}

static int guard_fails(const char *g) {
  char guards[512];
  snprintf(guards, sizeof guards, "{ %s }", g);
  return one("'_'", guards, "true", "{}", NULL);
}

/* Compiling spec fails with a message containing want. */
static int compile_error(const char *spec, const char *want) {
  char err[200] = "";
  term t = T(spec);
  mspec *ms = mspec_compile(t.p, t.n, err, sizeof err);
  int ok = ms == NULL && strstr(err, want) != NULL;
  if (!ok) fprintf(stderr, "  spec %s: error \"%s\", wanted \"%s\"\n", spec, err, want);
  mspec_free(ms);
  free(t.p);
  return ok;
}

/* ---- heads ---- */

static void test_heads(void) {
  /* wildcard */
  CHECK(one("'_'", "{}", "true", "{'a', 1}", "true"));
  CHECK(one("'_'", "{}", "true", "5", "true"));
  CHECK(one("{'_', '_'}", "{}", "true", "{'a', 1}", "true"));
  CHECK(one("{'_', '_'}", "{}", "true", "{'a', 1, 2}", NULL));
  CHECK(one("{'_', '_'}", "{}", "true", "{a=1}", NULL));
  /* variables */
  CHECK(one("'$1'", "{}", "'$1'", "{'a', 1}", "{'a', 1}"));
  CHECK(one("{'$1', '$2', '_'}", "{}", "{{'$2', '$1'}}", "{'alice', 1, 'x'}", "{1, 'alice'}"));
  CHECK(one("{'$0', '_'}", "{}", "'$0'", "{7, 8}", "7"));
  CHECK(one("{'$99999999'}", "{}", "'$99999999'", "{7}", "7"));
  CHECK(one("{'_', '_', '$1'}", "{}", "'$1'", "{{1, 2}, {a=1}, 'z'}", "'z'"));
  /* not variables: literal strings */
  CHECK(one("{'$01'}", "{}", "true", "{'$01'}", "true"));
  CHECK(one("{'$01'}", "{}", "true", "{1}", NULL));
  CHECK(one("{'$x'}", "{}", "true", "{'$x'}", "true"));
  CHECK(one("{'$100000000'}", "{}", "true", "{'$100000000'}", "true"));
  CHECK(one("'$_'", "{}", "true", "'$_'", "true"));
  CHECK(one("'$_'", "{}", "true", "'x'", NULL));
  CHECK(one("{'$'}", "{}", "true", "{'$'}", "true"));
  /* a repeated variable binds equal terms */
  CHECK(one("{'$1', '$1'}", "{}", "'$1'", "{3, 3}", "3"));
  CHECK(one("{'$1', '$1'}", "{}", "'$1'", "{3, 4}", NULL));
  CHECK(one("{'$1', '$1'}", "{}", "'$1'", "{3, 3.0}", "3"));   /* one term */
  CHECK(one("{'$1', {'$2', '$1'}}", "{}", "'$2'", "{'k', {9, 'k'}}", "9"));
  CHECK(one("{'$1', {'$2', '$1'}}", "{}", "'$2'", "{'k', {9, 'j'}}", NULL));
  CHECK(one("{'$1', '_', '$1'}", "{}", "'$1'", "{{1, {2}}, 0, {1, {2}}}", "{1, {2}}"));
  CHECK(one("{'$1', '_', '$1'}", "{}", "'$1'", "{{1, {2}}, 0, {1, {3}}}", NULL));
  /* literals */
  CHECK(one("{'a', '$1'}", "{}", "'$1'", "{'a', 5}", "5"));
  CHECK(one("{'a', '$1'}", "{}", "'$1'", "{'b', 5}", NULL));
  CHECK(one("{1, '$1'}", "{}", "'$1'", "{1.0, 5}", "5"));
  CHECK(one("{'a', 1}", "{}", "true", "{'a', 1}", "true"));
  CHECK(one("{'a', 1}", "{}", "true", "{'a', 2}", NULL));
  CHECK(one("{'a', 1}", "{}", "true", "{'a', 1, 2}", NULL));
  CHECK(one("5", "{}", "true", "5", "true"));
  CHECK(one("{nil, true, pid(3)}", "{}", "true", "{nil, true, pid(3)}", "true"));
  CHECK(one("{nil, true, pid(3)}", "{}", "true", "{nil, true, pid(4)}", NULL));
  CHECK(one("{{}}", "{}", "true", "{{}}", "true"));   /* {} in a head: the empty array */
  /* nested arrays */
  CHECK(one("{'$1', {'$2', '_', {'$3'}}}", "{}", "'$$'", "{1, {2, 'x', {3}}}", "{1, 2, 3}"));
  CHECK(one("{'$1', {'$2', '_', {'$3'}}}", "{}", "'$$'", "{1, {2, 'x', {3, 4}}}", NULL));
  CHECK(one("{'$1', {'$2', '_', {'$3'}}}", "{}", "'$$'", "{1, {2, 'x', 3}}", NULL));
  CHECK(one("{{'_', '_'}, '$1'}", "{}", "'$1'", "{{1, 2}, 'ok'}", "'ok'"));
  CHECK(one("{{'_', '_'}, '$1'}", "{}", "'$1'", "{{1}, 'ok'}", NULL));
  /* map patterns: at least these keys */
  CHECK(one("{id='$1'}", "{}", "'$1'", "{id='a', n=1}", "'a'"));
  CHECK(one("{id='$1', n='$2'}", "{}", "'$$'", "{id='a', n=1, z=true}", "{'a', 1}"));
  CHECK(one("{id='a', n='$1'}", "{}", "'$1'", "{id='a', n=1}", "1"));
  CHECK(one("{id='a', n='$1'}", "{}", "'$1'", "{id='b', n=1}", NULL));
  CHECK(one("{id='a', n='$1'}", "{}", "'$1'", "{id='a'}", NULL));
  CHECK(one("{id='a', n='$1'}", "{}", "'$1'", "{n=1}", NULL));
  CHECK(one("{zz='$1'}", "{}", "'$1'", "{a=1, b=2}", NULL));
  CHECK(one("{id='$1'}", "{}", "'$1'", "{'id', 1}", NULL));
  CHECK(one("{a='$1', b='$1'}", "{}", "'$1'", "{a=2, b=2}", "2"));
  CHECK(one("{a='$1', b='$1'}", "{}", "'$1'", "{a=2, b=3}", NULL));
  CHECK(one("{a={'$1', '_'}, b={x='$2'}}", "{}", "'$$'", "{a={1, 2}, b={x=3, y=4}, c=5}",
            "{1, 3}"));
  CHECK(one("{'$1', {k='$1'}}", "{}", "'$1'", "{7, {k=7, j=8}}", "7"));
  CHECK(one("{{k='_'}, '$1'}", "{}", "'$1'", "{{k={1, {2}}, j=8}, 'after'}", "'after'"));
  CHECK(one("{[1]='$1', [2]='$2'}", "{}", "'$2'", "{[1]='a', [2]='b', x=0}", "'b'"));
  /* '$$' lists the variables in number order, not head order */
  CHECK(one("{'$3', '$1', '$2'}", "{}", "'$$'", "{'c', 'a', 'b'}", "{'a', 'b', 'c'}"));
  CHECK(one("{'_', '_'}", "{}", "'$$'", "{1, 2}", "{}"));
}

/* More variables than the run keeps on the stack. */
static void test_many_vars(void) {
  char head[1024], expect[1024];
  size_t h = 0, e = 0;
  h += (size_t)snprintf(head + h, sizeof head - h, "{");
  e += (size_t)snprintf(expect + e, sizeof expect - e, "{");
  for (int i = 1; i <= 40; i++) {
    h += (size_t)snprintf(head + h, sizeof head - h, "%s'$%d'", i > 1 ? ", " : "", 41 - i);
    e += (size_t)snprintf(expect + e, sizeof expect - e, "%s%d", i > 1 ? ", " : "", i);
  }
  snprintf(head + h, sizeof head - h, "}");
  snprintf(expect + e, sizeof expect - e, "}");
  /* the object {40, 39, ..., 1} binds $i to i */
  {
    char obj[1024];
    size_t o = (size_t)snprintf(obj, sizeof obj, "{");
    for (int i = 1; i <= 40; i++)
      o += (size_t)snprintf(obj + o, sizeof obj - o, "%s%d", i > 1 ? ", " : "", 41 - i);
    snprintf(obj + o, sizeof obj - o, "}");
    CHECK(one(head, "{}", "'$$'", obj, expect));
    CHECK(one(head, "{ {'==', '$17', 17} }", "'$40'", obj, "40"));
  }
}

/* ---- guards ---- */

static void test_comparisons(void) {
  CHECK(guard("{'==', 1, 1}"));
  CHECK(guard("{'==', 1, 1.0}"));
  CHECK(guard("{'=:=', 'a', 'a'}"));
  CHECK(guard_fails("{'==', 1, 2}"));
  CHECK(guard_fails("{'==', 1, '1'}"));
  CHECK(guard("{'~=', 1, 2}"));
  CHECK(guard("{'/=', 1, 2}"));
  CHECK(guard("{'=/=', 'a', 'b'}"));
  CHECK(guard_fails("{'~=', {'const', {1, 2}}, {{1, 2}}}"));
  CHECK(guard("{'<', 1, 2}"));
  CHECK(guard("{'<', -1.5, 1}"));
  CHECK(guard_fails("{'<', 2, 2}"));
  CHECK(guard("{'>', 3, 2}"));
  CHECK(guard("{'<=', 2, 2}"));
  CHECK(guard("{'=<', 1, 2}"));
  CHECK(guard_fails("{'<=', 3, 2}"));
  CHECK(guard("{'>=', 2, 2}"));
  CHECK(guard_fails("{'>=', 1, 2}"));
  /* term order: nil < numbers < booleans < refs < tables < pids < arrays < maps < strings */
  CHECK(guard("{'<', nil, -1000}"));
  CHECK(guard("{'<', 1000000, false}"));
  CHECK(guard("{'<', true, ref(1)}"));
  CHECK(guard("{'<', ref(9), tab(1)}"));
  CHECK(guard("{'<', tab(9), pid(1)}"));
  CHECK(guard("{'<', pid(9), {}}"));
  CHECK(guard("{'<', {{1, 2, 3}}, {a=1}}"));
  CHECK(guard("{'<', {a=1}, ''}"));
  CHECK(guard("{'<', 'abc', 'abd'}"));
  CHECK(guard("{'<', 'ab', 'abc'}"));
  CHECK(guard("{'<', {{9}}, {{1, 1}}}"));   /* arrays: length first */
  CHECK(guard("{'<', -inf, inf}"));
  CHECK(guard("{'<', inf, nan}"));
  CHECK(guard("{'==', nan, nan}"));
  CHECK(guard("{'<', maxint, 9223372036854775808.0}"));
  CHECK(guard("{'<', 9007199254740992, 9007199254740993}"));
  /* a computed integer against another value: the same order as literals */
  CHECK(guard("{'<', {'-', 0, 5}, 3}"));
  CHECK(guard("{'>', {'+', 1, 1}, -7}"));
  CHECK(guard("{'==', {'*', 2, 3}, 6}"));
  CHECK(guard("{'==', {'*', 2, 3}, 6.0}"));
  CHECK(guard("{'<', {'-', 0, 5}, -4.5}"));
  CHECK(guard("{'>', {'-', 0, 5}, -5.5}"));
  CHECK(guard("{'<', {'+', 1, 1}, 'a'}"));
  CHECK(guard("{'>', {'+', 1, 1}, nil}"));
  CHECK(guard("{'<', {'-', 9007199254740993, 0}, {'+', 9007199254740993, 1}}"));
  CHECK(guard("{'<', {'-', 0, maxint}, {'+', {'-', 0, maxint}, 1}}"));
  CHECK(guard_fails("{'<', {'rem', 20, 10}, {'rem', 30, 10}}"));
  CHECK(guard("{'=<', {'rem', 20, 10}, {'rem', 30, 10}}"));
  /* bound variables */
  CHECK(one("{'$1', '$2'}", "{ {'>', '$2', 10} }", "'$1'", "{'a', 11}", "'a'"));
  CHECK(one("{'$1', '$2'}", "{ {'>', '$2', 10} }", "'$1'", "{'a', 10}", NULL));
  CHECK(one("{'$1', '$2'}", "{ {'>', '$2', 10}, {'<', '$2', 20} }", "'$1'", "{'a', 15}", "'a'"));
  CHECK(one("{'$1', '$2'}", "{ {'>', '$2', 10}, {'<', '$2', 20} }", "'$1'", "{'a', 25}", NULL));
  CHECK(one("{'$1', '$2'}", "{ {'==', '$1', '$2'} }", "true", "{{1}, {1}}", "true"));
}

static void test_logic(void) {
  CHECK(guard("true"));
  CHECK(guard_fails("false"));
  CHECK(guard_fails("5"));           /* not a boolean: false */
  CHECK(guard_fails("'true'"));
  CHECK(guard("{'and', true, true}"));
  CHECK(guard("{'and', true}"));
  CHECK(guard_fails("{'and', true, false}"));
  CHECK(guard("{'and', true, true, true, {'==', 1, 1}}"));
  CHECK(guard_fails("{'and', false, 1}"));   /* strict: the 1 is an error */
  CHECK(guard("{'or', false, true}"));
  CHECK(guard_fails("{'or', false, false}"));
  CHECK(guard_fails("{'or', true, 'x'}"));
  CHECK(guard("{'xor', true, false}"));
  CHECK(guard_fails("{'xor', true, true}"));
  CHECK(guard_fails("{'xor', true, 1}"));
  CHECK(guard("{'not', false}"));
  CHECK(guard_fails("{'not', true}"));
  CHECK(guard_fails("{'not', nil}"));
  CHECK(guard("{'andalso', true, true}"));
  CHECK(guard_fails("{'andalso', true, false}"));
  /* short-circuit: the failing arithmetic is never evaluated */
  CHECK(guard("{'not', {'andalso', false, {'==', {'+', 'a', 1}, 1}}}"));
  CHECK(guard_fails("{'not', {'andalso', true, {'==', {'+', 'a', 1}, 1}}}"));
  CHECK(guard("{'orelse', true, {'==', {'+', 'a', 1}, 1}}"));
  CHECK(guard("{'orelse', false, false, true}"));
  CHECK(guard_fails("{'orelse', false, false}"));
  CHECK(guard_fails("{'orelse', 1, true}"));
}

static void test_arithmetic(void) {
  CHECK(val("{'+', 1, 2}", "3"));
  CHECK(val("{'+', 1, 0.5}", "1.5"));
  CHECK(val("{'+', 0.5, 0.5}", "1"));
  CHECK(val("{'+', maxint, 1}", "'EXIT'"));   /* past 64 bits: never wraps */
  CHECK(val("{'-', minint, 1}", "'EXIT'"));
  CHECK(val("{'*', maxint, 2}", "'EXIT'"));
  CHECK(val("{'+', 7}", "7"));
  CHECK(val("{'-', 7}", "-7"));
  CHECK(val("{'-', 2.5}", "-2.5"));
  CHECK(val("{'-', minint}", "'EXIT'"));
  CHECK(val("{'-', 10, 4}", "6"));
  CHECK(val("{'-', 0.5, 1}", "-0.5"));
  CHECK(val("{'*', 6, 7}", "42"));
  CHECK(val("{'*', 1.5, 2}", "3"));
  CHECK(val("{'/', 7, 2}", "3.5"));
  CHECK(val("{'/', 4, 2}", "2"));
  CHECK(val("{'/', 1, 0}", "'EXIT'"));   /* as Erlang's, not Lua's: no inf */
  CHECK(val("{'/', -1, 0}", "'EXIT'"));
  CHECK(val("{'div', 7, 2}", "3"));
  CHECK(val("{'div', -7, 2}", "-3"));   /* truncates, as Erlang */
  CHECK(val("{'rem', 7, 2}", "1"));
  CHECK(val("{'rem', -7, 2}", "-1"));
  CHECK(val("{'rem', 7, -2}", "1"));
  CHECK(val("{'div', minint, -1}", "'EXIT'"));
  CHECK(val("{'rem', minint, -1}", "0"));
  CHECK(val("{'band', 12, 10}", "8"));
  CHECK(val("{'bor', 12, 10}", "14"));
  CHECK(val("{'bxor', 12, 10}", "6"));
  CHECK(val("{'bnot', 0}", "-1"));
  CHECK(val("{'bsl', 1, 4}", "16"));
  CHECK(val("{'bsl', 1, 63}", "'EXIT'"));
  CHECK(val("{'bsl', 1, 64}", "'EXIT'"));
  CHECK(val("{'bsl', 16, -2}", "4"));
  CHECK(val("{'bsr', 16, 2}", "4"));
  CHECK(val("{'bsr', -8, 1}", "-4"));
  CHECK(val("{'bsr', -8, 100}", "-1"));
  CHECK(val("{'bsr', 8, 100}", "0"));
  CHECK(val("{'bsr', 1, -3}", "8"));
  CHECK(val("{'bsr', 1, minint}", "'EXIT'"));
  CHECK(val("{'abs', -5}", "5"));
  CHECK(val("{'abs', -5.5}", "5.5"));
  CHECK(val("{'abs', minint}", "'EXIT'"));
  CHECK(val("{'min', 3, 2}", "2"));
  CHECK(val("{'max', 3, 2}", "3"));
  CHECK(val("{'max', 3, 'a'}", "'a'"));   /* term order */
  CHECK(val("{'min', {{1}}, {{0, 0}}}", "{1}"));
  CHECK(val("{'max', {{1}}, {{0, 0}}}", "{0, 0}"));
  CHECK(val("{'+', {'*', 2, 3}, {'-', 10, {'div', 9, 3}}}", "13"));
  /* type errors and division by zero fail the guard */
  CHECK(guard_fails("{'==', {'+', 'a', 1}, 1}"));
  CHECK(guard_fails("{'==', {'-', true}, 1}"));
  CHECK(guard_fails("{'==', {'div', 1, 0}, 1}"));
  CHECK(guard_fails("{'==', {'rem', 1, 0}, 1}"));
  CHECK(guard_fails("{'==', {'div', 1.5, 1}, 1}"));
  CHECK(guard_fails("{'==', {'band', 1.5, 1}, 1}"));
  CHECK(guard_fails("{'==', {'bnot', 0.5}, 1}"));
  CHECK(guard_fails("{'==', {'abs', {}}, 1}"));
  CHECK(guard_fails("{'==', {'+', {'self'}, 1}, 1}"));
  /* an integral float result is an integer: band works on it */
  CHECK(val("{'band', {'/', 12, 2}, 3}", "2"));
  /* against the object */
  CHECK(one("{'$1', '$2'}", "{ {'>', {'*', '$2', 2}, 10} }", "{'+', '$2', 0.25}", "{'a', 6}",
            "6.25"));
}

static void test_types(void) {
  CHECK(guard("{'is_integer', 1}"));
  CHECK(guard("{'is_integer', 2.0}"));    /* integral floats are integers */
  CHECK(guard_fails("{'is_integer', 1.5}"));
  CHECK(guard_fails("{'is_integer', '1'}"));
  CHECK(guard("{'is_float', 1.5}"));
  CHECK(guard_fails("{'is_float', 2.0}"));
  CHECK(guard("{'is_float', {'/', 1, 2}}"));
  CHECK(guard_fails("{'is_float', {'/', 4, 2}}"));
  CHECK(guard("{'is_float', inf}"));
  CHECK(guard("{'is_float', nan}"));
  CHECK(guard("{'is_integer', {'+', 1, 1}}"));
  CHECK(guard("{'is_number', 1}"));
  CHECK(guard("{'is_number', 1.5}"));
  CHECK(guard("{'is_number', {'-', 1}}"));
  CHECK(guard_fails("{'is_number', nil}"));
  CHECK(guard("{'is_boolean', true}"));
  CHECK(guard("{'is_boolean', false}"));
  CHECK(guard("{'is_boolean', {'==', 1, 2}}"));
  CHECK(guard_fails("{'is_boolean', 0}"));
  CHECK(guard("{'is_string', 'x'}"));
  CHECK(guard("{'is_binary', ''}"));
  CHECK(guard_fails("{'is_string', 1}"));
  CHECK(guard("{'is_array', {{1}}}"));
  CHECK(guard("{'is_tuple', {}}"));
  CHECK(guard("{'is_array', '$_'}"));
  CHECK(guard_fails("{'is_array', {'const', {a=1}}}"));
  CHECK(guard("{'is_map', {'const', {a=1}}}"));
  CHECK(guard("{'is_map', {a=1}}"));
  CHECK(guard_fails("{'is_map', {}}"));
  CHECK(guard("{'is_pid', pid(1)}"));
  CHECK(guard("{'is_pid', {'self'}}"));
  CHECK(guard_fails("{'is_pid', ref(1)}"));
  CHECK(guard("{'is_reference', ref(1)}"));
  CHECK(guard_fails("{'is_reference', tab(1)}"));
  CHECK(guard("{'is_table', tab(1)}"));
  CHECK(guard_fails("{'is_table', pid(1)}"));
  /* a type test on an error is still an error */
  CHECK(guard_fails("{'not', {'is_integer', {'+', 'a', 1}}}"));
}

static void test_access(void) {
  CHECK(one("'$1'", "{}", "{'element', 2, '$1'}", "{'a', 'b', 'c'}", "'b'"));
  CHECK(one("'_'", "{}", "{'element', 3, '$_'}", "{'a', 'b', {1}}", "{1}"));
  CHECK(one("'_'", "{ {'==', {'element', 1, '$_'}, 'a'} }", "true", "{'a', 'b'}", "true"));
  CHECK(one("'_'", "{ {'==', {'element', 9, '$_'}, 'a'} }", "true", "{'a', 'b'}", NULL));
  CHECK(guard_fails("{'==', {'element', 0, {{1}}}, 1}"));
  CHECK(guard_fails("{'==', {'element', 1.5, {{1}}}, 1}"));
  CHECK(guard_fails("{'==', {'element', 1, 'abc'}, 1}"));
  CHECK(guard_fails("{'==', {'element', 1, {'const', {a=1}}}, 1}"));
  CHECK(val("{'element', 2, {{'x', {'+', 1, 1}}}}", "2"));
  CHECK(val("{'size', {{1, 2, 3}}}", "3"));
  CHECK(val("{'size', {a=1, b=2}}", "2"));
  CHECK(val("{'size', 'hello'}", "5"));
  CHECK(val("{'size', 'a\\0b'}", "3"));
  CHECK(val("{'size', ''}", "0"));
  CHECK(val("{'size', {}}", "0"));
  CHECK(guard_fails("{'==', {'size', 5}, 1}"));
  CHECK(guard_fails("{'==', {'size', {'self'}}, 1}"));
  CHECK(one("'$1'", "{}", "{'map_get', 'n', '$1'}", "{id='a', n=5}", "5"));
  CHECK(one("'$1'", "{}", "{'map_get', 'zz', '$1'}", "{id='a', n=5}", "'EXIT'"));
  CHECK(one("'$1'", "{}", "{'map_get', 'n', '$1'}", "{'n', 5}", "'EXIT'"));
  CHECK(val("{'map_get', 2, {'const', {[1]='a', [2]='b'}}}", "'b'"));
  CHECK(val("{'map_get', {'+', 1, 1}, {'const', {[1]='a', [2]='b'}}}", "'b'"));
  CHECK(one("'$1'", "{ {'is_map_key', 'id', '$1'} }", "true", "{id='a'}", "true"));
  CHECK(one("'$1'", "{ {'is_map_key', 'x', '$1'} }", "true", "{id='a'}", NULL));
  CHECK(guard_fails("{'is_map_key', 'x', {{1}}}"));
  CHECK(guard("{'not', {'is_map_key', 'x', {y=1}}}"));
  /* self */
  CHECK(val("{'self'}", "pid(42)"));
  CHECK(guard("{'==', {'self'}, pid(42)}"));
  CHECK(guard_fails("{'==', {'self'}, pid(43)}"));
  CHECK(one("{'$1', '_'}", "{ {'==', '$1', {'self'}} }", "true", "{pid(42), 1}", "true"));
  CHECK(one("{'$1', '_'}", "{ {'==', '$1', {'self'}} }", "true", "{pid(7), 1}", NULL));
}

/* ---- bodies ---- */

static void test_bodies(void) {
  CHECK(one("{'$1', '_'}", "{}", "'$_'", "{'a', {1, 2}}", "{'a', {1, 2}}"));
  CHECK(one("{'$2', '$1'}", "{}", "'$$'", "{'x', 'y'}", "{'y', 'x'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$2', {{'$1', '$_'}}, 3}}", "{1, 2}",
            "{2, {1, {1, 2}}, 3}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{}}", "{1, 2}", "{}"));
  CHECK(val("{'const', '$1'}", "'$1'"));
  CHECK(val("{'const', '_'}", "'_'"));
  CHECK(val("{'const', {'foo', 1}}", "{'foo', 1}"));
  CHECK(val("{'const', {{1}}}", "{{1}}"));
  CHECK(val("'plain'", "'plain'"));
  CHECK(val("'_'", "'_'"));
  CHECK(val("nil", "nil"));
  CHECK(val("pid(5)", "pid(5)"));
  CHECK(val("ref(5)", "ref(5)"));
  CHECK(val("tab(5)", "tab(5)"));
  CHECK(val("2.5", "2.5"));
  CHECK(val("{}", "{}"));
  /* maps: literal keys, evaluated values, written in key order */
  CHECK(one("{'$1', '$2'}", "{}", "{id='$1', n={'+', '$2', 1}, [0]='$$', zz={{'$2'}}}",
            "{'k', 1}", "{id='k', n=2, [0]={'k', 1}, zz={1}}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{ {x='$1'}, {y={{'$2'}}} }}", "{'k', 1}",
            "{{x='k'}, {y={1}}}"));
  /* arithmetic in results */
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'*', '$2', '$2'}, {'/', '$2', 4}}}", "{'k', 3}",
            "{'k', 9, 0.75}"));
  /* values taken out of temporaries built on the way */
  CHECK(one("{'$1', '$2'}", "{}", "{{ {'element', 1, {{'$2', {{'$1'}}}}}, '$1' }}", "{'k', 3}",
            "{3, 'k'}"));
  CHECK(one("{'$1', '$2'}", "{}",
            "{{ {'element', 2, {{'$2', {{'$1', {'element', 1, {{ {'+', '$2', 1} }}}}}}}}, 0 }}",
            "{'k', 3}", "{{'k', 4}, 0}"));
  CHECK(one("{'$1', '$2'}", "{}", "{'map_get', 'a', {a={{'$1', '$2'}}, b=0}}", "{'k', 3}",
            "{'k', 3}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{ {'max', {{'$1'}}, {{'$2', '$2'}}}, {'min', {{'$1'}}, 1} }}",
            "{'k', 3}", "{{3, 3}, 1}"));
  CHECK(one("{'$1', '$2'}", "{ {'==', {'element', 2, {{'$1', '$2'}}}, 3} }", "'$1'", "{'k', 3}",
            "'k'"));
  /* several body expressions: the last one is the result */
  CHECK(sel("{ { {'$1'}, {}, {'$1', {'+', '$1', 1}, {'*', '$1', 10}} } }", "{4}", "40"));
  /* a call that raises in a body gives 'EXIT' in its place */
  CHECK(one("{'$1'}", "{}", "{'+', '$1', 1}", "{'a'}", "'EXIT'"));
  CHECK(one("{'$1'}", "{}", "{{'ok', {'+', '$1', 1}}}", "{'a'}", "{'ok', 'EXIT'}"));
  CHECK(one("{'$1'}", "{}", "{k={'div', '$1', 0}}", "{5}", "{k='EXIT'}"));
  CHECK(sel("{ { {'$1'}, {}, {{'+', '$1', 1}, 'fine'} } }", "{'a'}", "'fine'"));
  /* comparisons and booleans as results */
  CHECK(one("{'$1'}", "{}", "{'>', '$1', 1}", "{5}", "true"));
  CHECK(one("{'$1'}", "{}", "{'>', '$1', 1}", "{0}", "false"));
}

/* The expected results below are ETS's (OTP 25's ets:select on the
** object {1, 10}), with ETS's atoms written as strings. */
#define OBJ "{1, 10}"

/* In a body, a call that raises is 'EXIT' in its place and the rest of the
** body goes on with that value; only the last body expression counts. */
static void test_body_errors(void) {
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'div', '$2', 0}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{'is_integer', {'div', '$2', 0}}", OBJ, "false"));
  CHECK(one("{'$1', '$2'}", "{}", "{'div', '$2', 0}", OBJ, "'EXIT'"));
  CHECK(one("{'$1', '$2'}", "{}", "{'==', {'div', '$2', 0}, 'EXIT'}", OBJ, "true"));
  CHECK(one("{'$1', '$2'}", "{}", "{'+', {'div', '$2', 0}, 1}", OBJ, "'EXIT'"));
  CHECK(one("{'$1', '$2'}", "{}", "{{ {'div', '$2', 0}, {'+', '$2', 1}, {'rem', '$2', 0} }}", OBJ,
            "{'EXIT', 11, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{k={'div', '$2', 0}}", OBJ, "{k='EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'element', 5, '$_'}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'map_get', 'a', '$2'}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'is_map_key', 'a', '$2'}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'/', '$2', 0}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'+', '$2', 'a'}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'size', '$2'}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'not', '$2'}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'and', true, '$2'}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'xor', '$2', true}}}", OBJ, "{1, 'EXIT'}"));
  /* an error in an earlier body expression changes nothing */
  CHECK(sel("{ { {'$1', '$2'}, {}, { {'div', '$2', 0}, {'div', '$2', 0}, '$1' } } }", OBJ, "1"));
  /* in a guard, the same error fails the clause (the next is tried) */
  CHECK(sel("{ { {'$1', '$2'}, { {'is_integer', {'div', '$2', 0}} }, {'pass'} },"
            "  { '_', {}, {'fail'} } }", OBJ, "'fail'"));
  CHECK(sel("{ { {'$1', '$2'}, { {'not', {'is_integer', {'div', '$2', 0}}} }, {'pass'} },"
            "  { '_', {}, {'fail'} } }", OBJ, "'fail'"));
  CHECK(sel("{ { {'$1', '$2'}, { {'orelse', {'==', {'div', '$2', 0}, 1}, true} }, {'pass'} },"
            "  { '_', {}, {'fail'} } }", OBJ, "'fail'"));
}

/* andalso and orelse give their last argument as it is, in bodies and in
** guards; the ones before it must be booleans. */
static void test_andalso_last(void) {
  CHECK(one("{'$1', '$2'}", "{}", "{'andalso', true, '$2'}", OBJ, "10"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'andalso', true, '$2'}}}", OBJ, "{1, 10}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'orelse', false, '$2'}}}", OBJ, "{1, 10}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'andalso', false, '$2'}}}", OBJ, "{1, false}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'orelse', true, '$2'}}}", OBJ, "{1, true}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'andalso', true, true, '$2'}}}", OBJ, "{1, 10}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'orelse', false, false, '$2'}}}", OBJ, "{1, 10}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'andalso', '$2'}}}", OBJ, "{1, 10}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'orelse', '$2'}}}", OBJ, "{1, 10}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'orelse', false, {{'$1'}}}}}", OBJ, "{1, {1}}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'andalso', true, '$_'}}}", OBJ, "{1, {1, 10}}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'andalso', true, '$2', true}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'orelse', '$2', true}}}", OBJ, "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$1', {'andalso', true, {'div', '$2', 0}}}}", OBJ,
            "{1, 'EXIT'}"));
  CHECK(one("{'$1', '$2'}", "{ {'==', {'andalso', true, '$2'}, 10} }", "'pass'", OBJ, "'pass'"));
  CHECK(one("{'$1', '$2'}", "{ {'==', {'orelse', false, '$2'}, 10} }", "'pass'", OBJ, "'pass'"));
  CHECK(one("{'$1', '$2'}", "{ {'==', {'andalso', '$2'}, 10} }", "'pass'", OBJ, "'pass'"));
  CHECK(one("{'$1', '$2'}", "{ {'andalso', true, '$2'} }", "'pass'", OBJ, NULL));   /* 10: no */
}

/* Integers are 64-bit and ETS's are bignums: a result past 64 bits raises
** instead of wrapping around. A float result must be finite. */
static void test_overflow(void) {
  static const char *raise[] = {
    "{'+', maxint, 1}", "{'-', minint, 1}", "{'+', minint, -1}", "{'-', maxint, -1}",
    "{'*', maxint, 2}", "{'*', minint, -1}", "{'*', 4611686018427387904, 2}",
    "{'-', minint}", "{'abs', minint}", "{'div', minint, -1}",
    "{'bsl', 1, 63}", "{'bsl', 1, 64}", "{'bsl', 3, 62}", "{'bsl', -3, 62}", "{'bsl', maxint, 1}",
    "{'bsl', 1, maxint}", "{'bsr', 1, -64}", "{'bsr', 1, minint}",
    "{'/', 1, 0}", "{'/', 1, 0.0}", "{'/', 0, 0}", "{'/', 0.0, 0.0}", "{'/', 1, -0.0}",
    "{'*', 1.0e308, 10}", "{'+', 1.0e308, 1.0e308}", "{'-', -1.0e308, 1.0e308}",
    "{'+', inf, 1}", "{'-', inf}", "{'abs', -inf}", "{'+', nan}", "{'*', 0, inf}",
    "{'round', 1.0e300}", "{'trunc', 1.0e19}", "{'round', 9223372036854775808.0}",
    "{'trunc', inf}", "{'round', nan}", "{'float', 'a'}", "{'round', 'a'}", "{'trunc', {{}}}",
  };
  for (size_t i = 0; i < sizeof raise / sizeof raise[0]; i++) {
    char g[200];
    if (!val(raise[i], "'EXIT'")) fprintf(stderr, "  expression: %s\n", raise[i]);
    CHECK(val(raise[i], "'EXIT'"));
    snprintf(g, sizeof g, "{'is_number', %s}", raise[i]);   /* a guard fails */
    CHECK(guard_fails(g));
  }
  /* ETS's results, where they fit in 64 bits */
  CHECK(val("{'*', -4611686018427387904, 2}", "minint"));
  CHECK(val("{'-', maxint}", "-9223372036854775807"));
  CHECK(val("{'-', minint, -1}", "-9223372036854775807"));
  CHECK(val("{'rem', minint, -1}", "0"));
  CHECK(val("{'bsl', -1, 63}", "minint"));
  CHECK(val("{'bsl', maxint, 0}", "maxint"));
  CHECK(val("{'bsl', 0, maxint}", "0"));
  CHECK(val("{'bsr', 0, minint}", "0"));
  CHECK(val("{'bsl', 1, -100}", "0"));
  CHECK(val("{'bsr', -1, 100}", "-1"));
  CHECK(val("{'bsr', minint, 63}", "-1"));
  CHECK(val("{'bsr', minint, 64}", "-1"));
  CHECK(val("{'bsr', 16, -2}", "64"));
  /* a float operand makes a float: no overflow, as in Erlang */
  CHECK(val("{'+', maxint, 0.5}", "9223372036854775808.0"));
  CHECK(val("{'*', maxint, 1.5}", "13835058055282163712.0"));
  CHECK(val("{'-', minint, 0.5}", "minint"));   /* -2^63, integral: an integer */
  CHECK(val("{'+', maxint, 1.0}", "'EXIT'"));   /* 1.0 is the integer 1 here */
  /* round (half away from zero), trunc and float */
  CHECK(val("{'round', 2.5}", "3"));
  CHECK(val("{'round', -2.5}", "-3"));
  CHECK(val("{'round', 0.49999999999999994}", "0"));
  CHECK(val("{'trunc', -2.7}", "-2"));
  CHECK(val("{'trunc', 9.2e18}", "9200000000000000000"));
  CHECK(val("{'round', -9223372036854775808.0}", "minint"));
  CHECK(val("{'round', 3}", "3"));
  CHECK(val("{'trunc', -3}", "-3"));
  CHECK(val("{'float', 2.5}", "2.5"));
  CHECK(val("{'float', 3}", "3"));   /* 3.0 in ETS: one value here */
  CHECK(val("{'float', maxint}", "9223372036854775808.0"));
  /* a guard sees an overflow as an error: the clause fails (ETS, with
  ** bignums, would pass it) */
  CHECK(one("{'$1', '$2'}", "{ {'>', {'+', maxint, '$2'}, 0} }", "'pass'", OBJ, NULL));
}

static void test_clauses(void) {
  const char *spec =
    "{ { {'$1', '$2'}, { {'is_integer', '$2'}, {'>', '$2', 10} }, { {{'big', '$1'}} } },"
    "  { {'$1', '$2'}, { {'is_integer', '$2'} }, { {{'small', '$1'}} } },"
    "  { {'$1', '_'}, {}, { {{'other', '$1'}} } } }";
  mspec *ms = compile(spec);
  CHECK(ms != NULL);
  if (ms == NULL) return;
  CHECK(mspec_clauses(ms) == 3);
  CHECK(runs_to(ms, "{'a', 20}", "{'big', 'a'}"));
  CHECK(runs_to(ms, "{'a', 5}", "{'small', 'a'}"));
  CHECK(runs_to(ms, "{'a', 'x'}", "{'other', 'a'}"));
  CHECK(runs_to(ms, "{'a'}", NULL));
  CHECK(runs_to(ms, "{a=1}", NULL));
  mspec_free(ms);
  /* a guard error in clause 1 only skips clause 1 */
  CHECK(sel("{ { {'$1'}, { {'>', {'+', '$1', 1}, 0} }, {1} }, { {'$1'}, {}, {2} } }", "{'s'}",
            "2"));
  CHECK(sel("{ { {'$1'}, { {'>', {'+', '$1', 1}, 0} }, {1} }, { {'$1'}, {}, {2} } }", "{5}", "1"));
  /* a body error does not fall through: that clause gives 'EXIT' */
  CHECK(sel("{ { {'$1'}, {}, {{'+', '$1', 1}} }, { {'$1'}, {}, {2} } }", "{'s'}", "'EXIT'"));
  /* no clauses: nothing matches */
  CHECK(sel("{}", "{1}", NULL));
  /* ms reused across objects, with repeated variables */
  ms = compile("{ { {'$1', '$1', '$2'}, {}, {'$2'} } }");
  if (ms != NULL) {
    CHECK(runs_to(ms, "{1, 1, 'a'}", "'a'"));
    CHECK(runs_to(ms, "{1, 2, 'b'}", NULL));
    CHECK(runs_to(ms, "{{2}, {2}, 'c'}", "'c'"));
    mspec_free(ms);
  }
}

/* ---- match / match_object / match_delete ---- */

static int pattern_runs_to(const char *pattern, int kind, const char *obj, const char *expect) {
  char err[200];
  term p = T(pattern);
  mspec *ms = mspec_from_pattern(p.p, p.n, kind, err, sizeof err);
  int ok = ms != NULL && runs_to(ms, obj, expect);
  if (ms == NULL) fprintf(stderr, "  pattern %s: %s\n", pattern, err);
  mspec_free(ms);
  free(p.p);
  return ok;
}

static void test_patterns(void) {
  char err[200];
  term p;
  CHECK(pattern_runs_to("{'$2', '_', '$1'}", MSPEC_BINDINGS, "{'a', 'b', 'c'}", "{'c', 'a'}"));
  CHECK(pattern_runs_to("{'x', '_'}", MSPEC_BINDINGS, "{'x', 'b'}", "{}"));
  CHECK(pattern_runs_to("{'x', '_'}", MSPEC_BINDINGS, "{'y', 'b'}", NULL));
  CHECK(pattern_runs_to("{'$1', '$1'}", MSPEC_BINDINGS, "{2, 2}", "{2}"));
  CHECK(pattern_runs_to("{'$1', '_'}", MSPEC_OBJECT, "{'a', {1}}", "{'a', {1}}"));
  CHECK(pattern_runs_to("{'$1', 'z'}", MSPEC_OBJECT, "{'a', {1}}", NULL));
  CHECK(pattern_runs_to("{id='$1'}", MSPEC_OBJECT, "{id=1, v=2}", "{id=1, v=2}"));
  CHECK(pattern_runs_to("'_'", MSPEC_TRUE, "{'a'}", "true"));
  CHECK(pattern_runs_to("{'b'}", MSPEC_TRUE, "{'a'}", NULL));
  p = T("{'a'}");
  CHECK(mspec_from_pattern(p.p, p.n, 7, err, sizeof err) == NULL);
  CHECK(strstr(err, "result kind") != NULL);
  CHECK(mspec_from_pattern(p.p, p.n - 1, MSPEC_TRUE, err, sizeof err) == NULL);
  CHECK(strstr(err, "well-formed") != NULL);
  free(p.p);
}

/* A variable nothing reads matches as "_" does: the object's shape is
** still checked, and what comes after the last element read is not. */
static void test_unread_vars(void) {
  mspec *ms;
  term o;
  buf out;
  int tag;
  uint32_t count;
  size_t keyend;
  CHECK(one("{'$1', '$2'}", "{}", "'$1'", "{1, 2}", "1"));
  CHECK(one("{'$1', '$2'}", "{}", "'$1'", "{1}", NULL));
  CHECK(one("{'$1', '$2'}", "{}", "'$1'", "{1, 2, 3}", NULL));
  CHECK(one("{'$1', {'$2', '$3'}}", "{}", "'$1'", "{1, {2, 3}}", "1"));
  CHECK(one("{'$1', {'$2', '$3'}}", "{}", "'$1'", "{1, 5}", NULL));
  CHECK(one("{'$1', {'$2', '$3'}}", "{}", "'$1'", "{1, {2}}", NULL));
  CHECK(one("{'$1', '$2', '$1'}", "{}", "true", "{{1}, {'x', 2}, {1}}", "true"));
  CHECK(one("{'$1', '$2', '$1'}", "{}", "true", "{1, 2, 3}", NULL));
  CHECK(one("{a='$1', b='$2'}", "{}", "'$1'", "{a=1, b=2}", "1"));
  CHECK(one("{a='$1', b='$2'}", "{}", "'$1'", "{a=1}", NULL));
  CHECK(one("{a='$1', b={'$2'}}", "{}", "'$1'", "{a=1, b=2}", NULL));
  CHECK(one("'$1'", "{}", "true", "{'anything'}", "true"));
  /* read by a guard, by '$$' or by a tuple in the body: bound as before */
  CHECK(one("{'$1', '$2'}", "{{'>', '$2', 1}}", "'$1'", "{5, 2}", "5"));
  CHECK(one("{'$1', '$2'}", "{{'>', '$2', 1}}", "'$1'", "{5, 0}", NULL));
  CHECK(one("{'$1', '$2'}", "{}", "'$$'", "{5, 2}", "{5, 2}"));
  CHECK(one("{'$1', '$2'}", "{}", "{{'$2'}}", "{5, 2}", "{2}"));
  CHECK(one("{'$1', '$2'}", "{{'is_integer', {'element', 1, {{'$2'}}}}}", "'$1'",
            "{5, 'x'}", NULL));
  CHECK(pattern_runs_to("{'$1', {'$2'}}", MSPEC_OBJECT, "{1, 2}", NULL));
  CHECK(pattern_runs_to("{'$1', {'$2'}}", MSPEC_OBJECT, "{1, {2}}", "{1, {2}}"));
  /* {'$1', '$2'} returning '$1' stops at the key: a run on the object's
  ** bytes up to its key matches, where binding '$2' would find nothing */
  ms = compile("{ { {'$1', '$2'}, {}, {'$1'} } }");
  o = T("{7, 'second'}");
  keyend = term_get_header(o.p, o.n, &tag, &count);
  keyend += term_size_trusted(o.p + keyend, o.n - keyend);
  buf_init(&out);
  CHECK(ms != NULL && mspec_run(ms, o.p, keyend, CALLER, &out) == 1);
  buf_free(&out);
  free(o.p);
  mspec_free(ms);
}

/* A head without maps runs as flat code; the same head as the value of a
** map pattern runs through the node walk. The two must agree on every
** object: whether it matches, and what it binds. */
static void test_flat_heads(void) {
  static const char *heads[] = {
    "'_'", "'$1'", "{'$1'}", "{'$1', '_'}", "{'_', '$1'}", "{'$1', '$2'}",
    "{'$1', '$1'}", "{'$1', '_', '$1'}", "{'$1', {'$2', '_'}}", "{{'_', '_'}, '$1'}",
    "{'a', '$1'}", "{1, '$1'}", "{{1, 'x'}, '$1'}", "{'$1', {'$2', '$1'}, '_'}",
    "{{}}", "{{'_'}}", "{'_', {'_', {'$1'}}}", "5", "{'$2', '$1', '$3'}"
  };
  static const char *objs[] = {
    "{1, 2}", "{1, 1}", "{'a', 5}", "{1.0, 5}", "{1, {2, 3}}", "{1, {1, 3}}",
    "{{1, 'x'}, 9}", "{{1, 2}, 'ok'}", "{{1}, 'ok'}", "{1, 2, 1}", "{1, {2, 1}, 0}",
    "{{}}", "{{7}}", "{0, {1, {2}}}", "{0, {1, {2, 3}}}", "{0, {1, 2}}", "5", "5.5",
    "{'c', 'a', 'b'}", "{}", "{1}", "'x'", "{x=1}", "{1, {a=2}}"
  };
  for (size_t h = 0; h < sizeof heads / sizeof *heads; h++) {
    char spec[512], wrapped[512];
    mspec *flat, *walked;
    snprintf(spec, sizeof spec, "{ { %s, {}, {'$$'} } }", heads[h]);
    snprintf(wrapped, sizeof wrapped, "{ { {v=%s}, {}, {'$$'} } }", heads[h]);
    flat = compile(spec);
    walked = compile(wrapped);
    for (size_t o = 0; flat != NULL && walked != NULL && o < sizeof objs / sizeof *objs; o++) {
      char inmap[256];
      term x = T(objs[o]), y;
      buf a, b;
      int ra, rb;
      snprintf(inmap, sizeof inmap, "{v=%s}", objs[o]);
      y = T(inmap);
      buf_init(&a);
      buf_init(&b);
      ra = mspec_run(flat, x.p, x.n, CALLER, &a);
      rb = mspec_run(walked, y.p, y.n, CALLER, &b);
      CHECK(ra == rb && a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0));
      if (ra != rb) fprintf(stderr, "  head %s on %s: %d flat, %d walked\n", heads[h], objs[o], ra, rb);
      buf_free(&a);
      buf_free(&b);
      free(x.p);
      free(y.p);
    }
    mspec_free(flat);
    mspec_free(walked);
  }
}

/* ---- bound keys ---- */

static int bound_key(const char *spec, uint32_t keypos, const char *field, const char *want) {
  mspec *ms = compile(spec);
  term f = {NULL, 0}, w = {NULL, 0};
  const unsigned char *key = NULL;
  size_t klen = 0;
  int got, ok;
  if (ms == NULL) return 0;
  if (field != NULL) f = T(field);
  got = mspec_bound_key(ms, keypos, f.p, f.n, &key, &klen);
  if (want == NULL) ok = got == 0;
  else {
    w = T(want);
    ok = got == 1 && klen == w.n && memcmp(key, w.p, w.n) == 0;
  }
  if (!ok) fprintf(stderr, "  bound key of %s at %u: got %d\n", spec, keypos, got);
  mspec_free(ms);
  free(f.p);
  free(w.p);
  return ok;
}

static void test_bound_key(void) {
  char err[200];
  term p;
  mspec *ms;
  const unsigned char *key;
  size_t klen;
  CHECK(bound_key("{ { {'a', '$1'}, {}, {'$1'} } }", 1, NULL, "'a'"));
  CHECK(bound_key("{ { {'a', '$1'}, {}, {'$1'} } }", 2, NULL, NULL));
  CHECK(bound_key("{ { {'a', '$1'}, {}, {'$1'} } }", 3, NULL, NULL));
  CHECK(bound_key("{ { {'a', '$1'}, {}, {'$1'} } }", 0, NULL, NULL));
  CHECK(bound_key("{ { {'_', {1, 2}, '$1'}, {}, {'$1'} } }", 2, NULL, "{1, 2}"));
  CHECK(bound_key("{ { {'_', {1, '_'}, '$1'}, {}, {'$1'} } }", 2, NULL, NULL));
  CHECK(bound_key("{ { {'a', 1}, {}, {true} } }", 1, NULL, "'a'"));   /* all literal */
  CHECK(bound_key("{ { {'a', 1}, {}, {true} } }", 2, NULL, "1"));
  CHECK(bound_key("{ { {'a', 1}, {}, {true} } }", 3, NULL, NULL));
  CHECK(bound_key("{ { {'a', '$1'}, {}, {'$1'} }, { {'a', '_'}, {}, {0} } }", 1, NULL, "'a'"));
  CHECK(bound_key("{ { {'a', '$1'}, {}, {'$1'} }, { {'b', '_'}, {}, {0} } }", 1, NULL, NULL));
  CHECK(bound_key("{ { {'a', '$1'}, {}, {'$1'} }, { '_', {}, {0} } }", 1, NULL, NULL));
  CHECK(bound_key("{ { {'$1', 1}, { {'==', '$1', 'a'} }, {'$1'} } }", 1, NULL, NULL));
  CHECK(bound_key("{ { '_', {}, {true} } }", 1, NULL, NULL));
  CHECK(bound_key("{ { 'a', {}, {true} } }", 1, NULL, NULL));
  CHECK(bound_key("{}", 1, NULL, NULL));
  CHECK(bound_key("{ { {id='a', n='$1'}, {}, {'$1'} } }", 0, "'id'", "'a'"));
  CHECK(bound_key("{ { {id='a', n='$1'}, {}, {'$1'} } }", 0, "'n'", NULL));
  CHECK(bound_key("{ { {id='a', n='$1'}, {}, {'$1'} } }", 0, "'zz'", NULL));
  CHECK(bound_key("{ { {id='a', n='$1'}, {}, {'$1'} } }", 1, NULL, NULL));
  CHECK(bound_key("{ { {'a', 1}, {}, {true} } }", 1, "'id'", NULL));
  /* the key outlives the caller's bytes: it points into the mspec */
  p = T("{'k', '$1'}");
  ms = mspec_from_pattern(p.p, p.n, MSPEC_OBJECT, err, sizeof err);
  memset(p.p, 0, p.n);
  free(p.p);
  CHECK(ms != NULL && mspec_bound_key(ms, 1, NULL, 0, &key, &klen) == 1);
  if (ms != NULL) {
    term want = T("'k'");
    CHECK(klen == want.n && memcmp(key, want.p, klen) == 0);
    free(want.p);
  }
  mspec_free(ms);
}

/* ---- compile errors ---- */

static void test_errors(void) {
  char err[200];
  unsigned char junk[3] = {0x60, 0x05, 0x10};
  CHECK(compile_error("{ { '_', {}, {1} }, { '_', { {'foo', 1} }, {1} } }",
                      "clause 2: guard 1: unknown function 'foo'"));
  CHECK(compile_error("{ { '_', {}, {{'bar'}} } }", "clause 1: body 1: unknown function 'bar'"));
  CHECK(compile_error("{ { '_', {}, {1, {'+', 1, {'nope', 2}}} } }",
                      "clause 1: body 2: unknown function 'nope'"));
  CHECK(compile_error("{ { {'$1'}, {}, {'$3'} } }",
                      "clause 1: body 1: variable '$3' is not bound in the head"));
  CHECK(compile_error("{ { {'$1'}, { {'>', '$2', 1} }, {'$1'} } }",
                      "clause 1: guard 1: variable '$2' is not bound"));
  CHECK(compile_error("{ { '_', {}, {{1, 2}} } }", "clause 1: body 1: an array must be a call"));
  CHECK(compile_error("{ { '_', {}, {{{1}, 2}} } }", "an array must be a call"));
  CHECK(compile_error("{ { '_', {}, {{'$1', 2}} } }", "unknown function '$1' (build arrays with {{...}})"));
  CHECK(compile_error("{ { '_', {}, {{'element', 1}} } }", "'element' takes 2 arguments"));
  CHECK(compile_error("{ { '_', {}, {{'-', 1, 2, 3}} } }", "'-' takes 1 or 2 arguments"));
  CHECK(compile_error("{ { '_', {}, {{'and'}} } }", "'and' takes at least 1 argument"));
  CHECK(compile_error("{ { '_', {}, {{'self', 1}} } }", "'self' takes 0 arguments"));
  CHECK(compile_error("{ { '_', {}, {{'not', 1, 2}} } }", "'not' takes 1 argument"));
  CHECK(compile_error("{ { '_', {}, {{'const', 1, 2}} } }", "'const' takes 1 argument"));
  CHECK(compile_error("{ { '_', {}, {{'const'}} } }", "'const' takes 1 argument"));
  CHECK(compile_error("{ { '_', {} } }", "clause 1: a clause must be an array {head, guards, body}"));
  CHECK(compile_error("{ { '_', {}, {1} }, 5 }", "clause 2: a clause must be an array"));
  CHECK(compile_error("{ { '_', true, {1} } }", "clause 1: the guards must be an array"));
  CHECK(compile_error("{ { '_', {}, {} } }", "clause 1: the body must be a non-empty array"));
  CHECK(compile_error("{ { '_', {}, 1 } }", "the body must be a non-empty array"));
  CHECK(compile_error("{ { '_', {}, {x=1} } }", "the body must be a non-empty array"));
  CHECK(compile_error("5", "a match spec must be an array of clauses"));
  CHECK(compile_error("{a=1}", "a match spec must be an array of clauses"));
  CHECK(compile_error("{ { '_', {}, {{'this_name_is_very_long_indeed_and_goes_on_and_on_x'}} } }",
                      "unknown function 'this_name_is_very_long_indeed_and_goes_o...'"));
  /* malformed bytes */
  CHECK(mspec_compile(junk, sizeof junk, err, sizeof err) == NULL);
  CHECK(strstr(err, "not a well-formed term") != NULL);
  CHECK(mspec_compile(junk, 0, err, sizeof err) == NULL);
  CHECK(mspec_compile(NULL, 0, err, sizeof err) == NULL);
  CHECK(mspec_compile(junk, sizeof junk, NULL, 0) == NULL);   /* no room for a message */
  CHECK(mspec_compile(junk, sizeof junk, err, 1) == NULL && err[0] == '\0');
}

/* ---- robustness ---- */

static uint32_t rng_state = 12345;

static uint32_t rng(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return rng_state >> 8;
}

/* Runs ms on every prefix of obj and on single-byte corruptions of it,
** each copied to a block of exactly its size. */
static void abuse_object(const mspec *ms, const term *obj) {
  buf out;
  buf_init(&out);
  for (size_t n = 0; n <= obj->n; n++) {
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, obj->p, n);
    buf_reset(&out);
    (void)mspec_run(ms, copy, n, CALLER, &out);
    free(copy);
  }
  for (int i = 0; i < 200 && obj->n > 0; i++) {
    unsigned char *copy = malloc(obj->n);
    memcpy(copy, obj->p, obj->n);
    copy[rng() % obj->n] = (unsigned char)rng();
    if (i % 3 == 0) copy[rng() % obj->n] = (unsigned char)(0x60 + (rng() % 2) * 8);
    buf_reset(&out);
    (void)mspec_run(ms, copy, obj->n, CALLER, &out);
    free(copy);
  }
  buf_free(&out);
}

static const char *specs[] = {
  "{ { {'$1', '$2', '_'}, { {'>', '$2', 1} }, { {{'$2', '$1', '$$', '$_'}} } } }",
  "{ { {id='$1', n={'$2', '_'}}, { {'is_integer', '$2'} }, { {k='$1', v={'+', '$2', 1}} } } }",
  "{ { {'$1', {'$1', '_'}}, {}, { {'element', 2, '$_'}, {'size', '$1'} } } }",
  ("{ { '$1', { {'orelse', {'is_map_key', 'a', '$1'}, {'==', {'element', 1, '$1'}, 0}} },"
   "    { {'map_get', 'a', '$1'} } }, { '_', {}, { {'self'} } } }"),
  "{ { {'_', '_', '$3'}, {}, { {'min', '$3', {{'$3'}}} } } }",
};

static const char *objects[] = {
  "{'alice', 5, 'x'}",
  "{id='a', n={3, 4}, z={1, {2, {3}}}}",
  "{'k', {'k', 'v'}}",
  "{a={1, 2}, b='\\0\\0x'}",
  "{1.5, 9007199254740993, {nil, true, pid(1), ref(2), tab(3)}}",
};

static void test_robustness(void) {
  buf out;
  buf_init(&out);
  /* valid specs on mangled objects */
  for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
    mspec *ms = compile(specs[s]);
    CHECK(ms != NULL);
    if (ms == NULL) continue;
    for (size_t o = 0; o < sizeof objects / sizeof objects[0]; o++) {
      term obj = T(objects[o]);
      abuse_object(ms, &obj);
      free(obj.p);
    }
    mspec_free(ms);
  }
  /* truncated and corrupted specs: refused or compiled, never a crash */
  for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
    term spec = T(specs[s]);
    int refused = 0;
    for (size_t n = 0; n < spec.n; n++) {
      char err[64];
      unsigned char *copy = malloc(n ? n : 1);
      mspec *ms;
      memcpy(copy, spec.p, n);
      ms = mspec_compile(copy, n, err, sizeof err);
      refused += ms == NULL;
      mspec_free(ms);
      free(copy);
    }
    CHECK(refused == (int)spec.n);
    for (int i = 0; i < 300; i++) {
      char err[64];
      unsigned char *copy = malloc(spec.n);
      mspec *ms;
      memcpy(copy, spec.p, spec.n);
      copy[rng() % spec.n] = (unsigned char)rng();
      ms = mspec_compile(copy, spec.n, err, sizeof err);
      free(copy);   /* the mspec keeps its own copy */
      if (ms != NULL) {
        for (size_t o = 0; o < sizeof objects / sizeof objects[0]; o++) {
          term obj = T(objects[o]);
          buf_reset(&out);
          (void)mspec_run(ms, obj.p, obj.n, CALLER, &out);
          free(obj.p);
        }
      }
      mspec_free(ms);
    }
    free(spec.p);
  }
  /* random bytes */
  for (int i = 0; i < 2000; i++) {
    size_t n = rng() % 40;
    unsigned char *bytes = malloc(n ? n : 1);
    char err[64];
    mspec *ms;
    for (size_t j = 0; j < n; j++) bytes[j] = (unsigned char)rng();
    if (n > 0 && i % 2) bytes[0] = 0x60;
    ms = mspec_compile(bytes, n, err, sizeof err);
    if (ms != NULL) {
      buf_reset(&out);
      (void)mspec_run(ms, bytes, n, CALLER, &out);
    }
    mspec_free(ms);
    free(bytes);
  }
  /* an object nested far deeper than any term may be */
  {
    size_t depth = 5000, n = 2 * depth + 1;
    unsigned char *deep = malloc(n);
    mspec *ms = compile("{ { {'$1'}, {}, { {'size', '$1'} } } }");
    mspec *any = compile("{ { {{'_'}}, {}, {'$_'} } }");
    for (size_t i = 0; i < depth; i++) {
      deep[2 * i] = TERM_ARRAY;
      deep[2 * i + 1] = 1;
    }
    deep[n - 1] = TERM_NIL;
    if (ms != NULL) {
      buf_reset(&out);
      CHECK(mspec_run(ms, deep, n, CALLER, &out) == 0);   /* too deep to size: no match */
      mspec_free(ms);
    }
    if (any != NULL) {   /* what is not looked at is not sized */
      buf_reset(&out);
      CHECK(mspec_run(any, deep, n, CALLER, &out) == 1 && out.n == n);
      mspec_free(any);
    }
    free(deep);
  }
  /* an out-of-memory out buffer is reported, not written */
  {
    mspec *ms = compile("{ { '_', {}, {'$_'} } }");
    term obj = T("{1}");
    if (ms != NULL) {
      buf_reset(&out);
      out.oom = 1;
      CHECK(mspec_run(ms, obj.p, obj.n, CALLER, &out) == -1);
      out.oom = 0;
      CHECK(mspec_run(ms, obj.p, 0, CALLER, &out) == 0);   /* an empty object matches nothing */
      mspec_free(ms);
    }
    free(obj.p);
  }
  buf_free(&out);
  CHECK(1);   /* reached the end without a crash */
}

/* Runs two specs that must agree on the array of the given elements:
** their results and what they wrote. Says so on stderr when not, with
** the two results in *r1 and *r2. */
static int agree(mspec *x, mspec *y, const term *elems, int n, int *r1, int *r2) {
  buf obj, out1, out2;
  int same;
  buf_init(&obj);
  buf_init(&out1);
  buf_init(&out2);
  term_put_array(&obj, (uint32_t)n);
  for (int i = 0; i < n; i++) buf_put(&obj, elems[i].p, elems[i].n);
  *r1 = mspec_run(x, obj.p, obj.n, CALLER, &out1);
  *r2 = mspec_run(y, obj.p, obj.n, CALLER, &out2);
  same = *r1 == *r2 && out1.n == out2.n &&
         (out1.n == 0 || memcmp(out1.p, out2.p, out1.n) == 0);   /* p is NULL when empty */
  buf_free(&obj);
  buf_free(&out1);
  buf_free(&out2);
  return same;
}

/* Integer guards and bodies take a short way (no encoding on the way);
** wrapping an argument in a unary '+' sends the same expression the long
** way. The two must agree on every pair of values and every operator:
** the result, whether the guard passes, and the 'EXIT' of a raise. The
** values straddle the edges: 2^53 (where the short way stops), 64 bits,
** floats, and what is no number at all. */
static void test_int_short_way(void) {
  static const char *vals[] = {"0", "1", "-1", "7", "-7", "2", "63", "64", "-64",
                               "9007199254740991", "-9007199254740991", "9007199254740992",
                               "9007199254740993", "-9007199254740993", "maxint", "minint",
                               "2.5", "-0.5", "4.0", "1e300", "'s'", "true", "{1}"};
  static const char *ops[] = {"+", "-", "*", "div", "rem", "band", "bor", "bxor", "bsl", "bsr"};
  static const char *cmps[] = {"==", "/=", "<", ">", "=<", ">="};
  enum { NV = sizeof vals / sizeof vals[0] };
  term v[NV];
  char spec[512];
  for (int i = 0; i < NV; i++) v[i] = T(vals[i]);
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
    for (size_t c = 0; c < sizeof cmps / sizeof cmps[0]; c++) {
      mspec *shortway, *longway;
      snprintf(spec, sizeof spec,
               "{ { {'$1', '$2', '$3'}, { {'%s', {'%s', '$1', '$2'}, '$3'} },"
               " { {{ {'%s', '$1', '$2'}, {'%s', {'%s', '$1', '$2'}, '$3'} }} } } }",
               cmps[c], ops[o], ops[o], cmps[c], ops[o]);
      shortway = compile(spec);
      snprintf(spec, sizeof spec,
               "{ { {'$1', '$2', '$3'}, { {'%s', {'%s', {'+', '$1'}, {'+', '$2'}}, '$3'} },"
               " { {{ {'%s', {'+', '$1'}, {'+', '$2'}}, {'%s', {'%s', {'+', '$1'}, {'+', '$2'}},"
               " '$3'} }} } } }",
               cmps[c], ops[o], ops[o], cmps[c], ops[o]);
      longway = compile(spec);
      if (shortway == NULL || longway == NULL) {
        CHECK(0);
        mspec_free(shortway);
        mspec_free(longway);
        continue;
      }
      int agreed = 1;   /* one check a spec: this is a sweep, not 12,167 cases */
      for (int a = 0; a < NV; a++)
        for (int b = 0; b < NV; b++)
          for (int k = 0; k < NV; k++) {
            term three[3] = {v[a], v[b], v[k]};
            int r1, r2, same = agree(shortway, longway, three, 3, &r1, &r2);
            if (!same)
              fprintf(stderr, "  {'%s', {'%s', %s, %s}, %s}: short way %d, long way %d\n",
                      cmps[c], ops[o], vals[a], vals[b], vals[k], r1, r2);
            agreed = agreed && same;
          }
      CHECK(agreed);
      mspec_free(shortway);
      mspec_free(longway);
    }
  /* and a few whose answer is known, so that agreeing is not all */
  CHECK(one("{'$1', '$2'}", "{{'==', {'rem', '$1', 10}, '$2'}}", "{'div', '$1', '$2'}",
            "{123, 3}", "41"));
  CHECK(one("{'$1', '$2'}", "{{'<', {'+', '$1', '$2'}, 0}}", "true", "{9007199254740991, 1}",
            NULL));
  CHECK(one("{'$1', '$2'}", "{}", "{'*', '$1', '$2'}", "{maxint, 2}", "'EXIT'"));
  CHECK(one("{'$1', '$2'}", "{{'==', {'rem', '$1', '$2'}, 0}}", "true", "{5, 0}", NULL));
  for (int i = 0; i < NV; i++) free(v[i].p);
}

/* tpl with @X and @Y replaced by x and y, and @O by op. */
static void expand(const char *tpl, const char *x, const char *y, const char *op, char *out,
                   size_t n) {
  size_t at = 0;
  for (const char *p = tpl; *p != '\0' && at + 1 < n; p++) {
    const char *with = NULL;
    if (p[0] == '@' && p[1] == 'X') with = x;
    else if (p[0] == '@' && p[1] == 'Y') with = y;
    else if (p[0] == '@' && p[1] == 'O') with = op;
    if (with == NULL) {
      out[at++] = *p;
      continue;
    }
    at += (size_t)snprintf(out + at, n - at, "%s", with);
    if (at >= n) at = n - 1;
    p++;
  }
  out[at] = '\0';
}

/* Guards of comparisons joined by the boolean operators run as flat
** integer code (mspec_int.c), which evaluates every argument; ETS's
** andalso and orelse stop early. With each variable X written as
** {'max', X, X}, which is X but no integer operator, the same guard goes
** the general way; the two must agree on every pair of values, those that
** make an argument raise (a zero divisor, no number) included. */
static void test_int_logic(void) {
  static const char *vals[] = {"0", "1", "-1", "6", "7", "-7", "9007199254740992", "2.5",
                               "'s'", "maxint"};
  static const char *logics[] = {"and", "or", "andalso", "orelse"};
  static const char *shapes[] = {
    "{'@O', {'<', @X, @Y}, {'==', {'rem', @X, @Y}, 0}}",
    "{'@O', {'>', {'*', @X, 2}, 5}}",
    "{'@O', {'<', @X, @Y}, {'>', @X, 0}, {'/=', {'div', @Y, @X}, 7}}",
    "{'not', {'@O', {'>=', @X, @Y}, {'=<', {'bsl', @Y, @X}, 40}}}",
    "{'xor', {'@O', {'==', {'band', @X, 1}, 1}}, {'>', {'-', @Y, @X}, 0}}",
  };
  enum { NV = sizeof vals / sizeof vals[0] };
  term v[NV];
  char guards[400], spec[600];
  for (int i = 0; i < NV; i++) v[i] = T(vals[i]);
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
    for (size_t l = 0; l < sizeof logics / sizeof logics[0]; l++) {
      mspec *flat, *general;
      int agreed = 1;
      expand(shapes[sh], "'$1'", "'$2'", logics[l], guards, sizeof guards);
      snprintf(spec, sizeof spec, "{ { {'$1', '$2'}, { %s }, {true} } }", guards);
      flat = compile(spec);
      expand(shapes[sh], "{'max', '$1', '$1'}", "{'max', '$2', '$2'}", logics[l], guards,
             sizeof guards);
      snprintf(spec, sizeof spec, "{ { {'$1', '$2'}, { %s }, {true} } }", guards);
      general = compile(spec);
      if (flat == NULL || general == NULL) {
        CHECK(0);
        mspec_free(flat);
        mspec_free(general);
        continue;
      }
      for (int a = 0; a < NV; a++)
        for (int b = 0; b < NV; b++) {
          term two[2] = {v[a], v[b]};
          int r1, r2, same = agree(flat, general, two, 2, &r1, &r2);
          if (!same)
            fprintf(stderr, "  shape %zu with %s on {%s, %s}: flat %d, general %d\n", sh,
                    logics[l], vals[a], vals[b], r1, r2);
          agreed = agreed && same;
        }
      CHECK(agreed);
      mspec_free(flat);
      mspec_free(general);
    }
  /* answers known: each way round, an argument that raises */
  CHECK(one("{'$1', '$2'}", "{{'andalso', {'>', '$1', 5}, {'==', {'rem', '$1', '$2'}, 0}}}",
            "true", "{1, 0}", NULL));
  CHECK(one("{'$1', '$2'}", "{{'orelse', {'>', '$1', 5}, {'==', {'rem', '$1', '$2'}, 0}}}",
            "true", "{6, 0}", "true"));
  CHECK(one("{'$1', '$2'}", "{{'orelse', {'>', '$1', 5}, {'==', {'rem', '$1', '$2'}, 0}}}",
            "true", "{1, 0}", NULL));
  CHECK(one("{'$1', '$2'}", "{{'or', {'>', '$1', 5}, {'==', {'rem', '$1', '$2'}, 0}}}",
            "true", "{6, 0}", NULL));   /* strict: the raise fails the guard */
  CHECK(one("{'$1', '$2'}", "{{'xor', {'>', '$1', 5}, {'<', '$2', 5}}}", "true", "{6, 6}",
            "true"));
  CHECK(one("{'$1', '$2'}", "{{'not', {'<', '$1', '$2'}}, {'==', {'bor', '$1', '$2'}, 7}}",
            "true", "{5, 3}", "true"));
  for (int i = 0; i < NV; i++) free(v[i].p);
}

int main(void) {
  test_heads();
  test_unread_vars();
  test_flat_heads();
  test_many_vars();
  test_comparisons();
  test_logic();
  test_arithmetic();
  test_types();
  test_access();
  test_bodies();
  test_body_errors();
  test_andalso_last();
  test_overflow();
  test_int_short_way();
  test_int_logic();
  test_clauses();
  test_patterns();
  test_bound_key();
  test_errors();
  test_robustness();
  return check_summary("mspec");
}
