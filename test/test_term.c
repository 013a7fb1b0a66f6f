/*
** test_term.c — the term format: round trips, canonical numbers, key order
** against an independent model of Erlang's term order, and refusal of
** truncated or garbage bytes (run under ASan to catch any over-read).
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "term.h"

/* ---- a model of values, independent of the encoding ---- */

enum { V_NIL, V_NUM, V_BOOL, V_ATOM, V_XREF, V_XPID, V_ARRAY, V_LIST, V_STRING };

typedef struct val {
  int type;
  int isint;
  int64_t i;
  double d;
  int b;
  char s[12];
  size_t slen;
  uint32_t w[5];   /* an xpid's num, serial, creation; an xref's creation, ids */
  int nw;          /* an xref's id count */
  struct val *elems;
  size_t n;
} val;

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t next_random(void) {
  return check_random(&rng);
}

static int64_t random_int(void) {
  switch (next_random() % 5) {
    case 0: return (int64_t)(next_random() % 21) - 10;
    case 1: return (int64_t)next_random();
    case 2: return ((int64_t)1 << 53) + (int64_t)(next_random() % 5) - 2;
    case 3: return -((int64_t)1 << 53) - (int64_t)(next_random() % 5) + 2;
    default: return (next_random() & 1) ? INT64_MAX - (int64_t)(next_random() % 3)
                                        : INT64_MIN + (int64_t)(next_random() % 3);
  }
}

static double random_float(void) {
  switch (next_random() % 4) {
    case 0: return (double)((int64_t)(next_random() % 21) - 10) / 4.0;
    case 1: return (double)(int64_t)next_random() / 7.0;
    case 2: return (next_random() & 1) ? INFINITY : -INFINITY;
    default: return ldexp((double)(next_random() % 1000), (int)(next_random() % 200) - 100);
  }
}

/* A name of 0..11 bytes (1..11 for a node) from a few letters, no zero. */
static void random_name(val *v, size_t least) {
  v->slen = least + next_random() % (sizeof v->s - least);
  for (size_t i = 0; i < v->slen; i++) v->s[i] = (char)("ab\xff"[next_random() % 3]);
}

static uint32_t random_word(void) {
  return (next_random() & 1) ? (uint32_t)(next_random() % 3) : (uint32_t)next_random();
}

static void random_named(val *v) {
  switch (next_random() % 3) {
    case 0: v->type = V_ATOM; random_name(v, 0); break;
    case 1:
      v->type = V_XPID;
      random_name(v, 1);
      for (int i = 0; i < 3; i++) v->w[i] = random_word();
      break;
    default:
      v->type = V_XREF;
      random_name(v, 1);
      v->nw = 1 + (int)(next_random() % 4);   /* creation and 1..4 ids */
      for (int i = 0; i <= v->nw; i++) v->w[i] = random_word();
  }
}

static void random_val(val *v, int depth) {
  memset(v, 0, sizeof *v);
  if (next_random() % 6 == 0) {
    random_named(v);
    return;
  }
  switch (next_random() % (depth > 2 ? 4 : 5)) {
    case 0: v->type = V_NUM; v->isint = 1; v->i = random_int(); break;
    case 1: v->type = V_NUM; v->d = random_float(); break;
    case 2: v->type = V_BOOL; v->b = (int)(next_random() & 1); break;
    case 3:
      v->type = V_STRING;
      v->slen = next_random() % sizeof v->s;
      for (size_t i = 0; i < v->slen; i++) v->s[i] = (char)("a\0b\xff"[next_random() % 4]);
      break;
    default:
      v->type = (next_random() & 1) ? V_ARRAY : V_LIST;
      v->n = next_random() % 4;
      v->elems = calloc(v->n ? v->n : 1, sizeof(val));
      for (size_t i = 0; i < v->n; i++) random_val(&v->elems[i], depth + 1);
      break;
  }
}

static void free_val(val *v) {
  for (size_t i = 0; i < v->n; i++) free_val(&v->elems[i]);
  free(v->elems);
}

static void encode_val(buf *b, const val *v) {
  switch (v->type) {
    case V_NIL: term_put_nil(b); break;
    case V_NUM: if (v->isint) term_put_int(b, v->i); else term_put_float(b, v->d); break;
    case V_BOOL: term_put_bool(b, v->b); break;
    case V_STRING: term_put_string(b, v->s, v->slen); break;
    case V_ATOM: term_put_atom(b, v->s, v->slen); break;
    case V_XPID: {
      term_xpid x = {(const unsigned char *)v->s, v->slen, v->w[0], v->w[1], v->w[2]};
      term_put_xpid(b, &x);
      break;
    }
    case V_XREF: {
      term_xref x = {(const unsigned char *)v->s, v->slen, v->w[0], v->nw, {0}};
      for (int i = 0; i < v->nw; i++) x.id[i] = v->w[1 + i];
      term_put_xref(b, &x);
      break;
    }
    case V_LIST:
      term_put_list(b);
      for (size_t i = 0; i < v->n; i++) encode_val(b, &v->elems[i]);
      term_put_list_end(b);
      break;
    default:
      term_put_array(b, (uint32_t)v->n);
      for (size_t i = 0; i < v->n; i++) encode_val(b, &v->elems[i]);
  }
}

/* Erlang's order: numbers by value (exact, ints and floats mixed) <
** booleans < atoms (names bytewise) < other nodes' refs (node, creation,
** id count, ids) < other nodes' pids (node, number, serial, creation) <
** arrays (length, then elements) < lists (element by element, a prefix
** first) < strings (bytewise). */
static int rank(int type) {
  return type;   /* the enum is in this order */
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0) return c < 0 ? -1 : 1;
  return alen < blen ? -1 : alen > blen;
}

static int cmp_words(const uint32_t *a, const uint32_t *b, int n) {
  for (int i = 0; i < n; i++)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

static int cmp_named(const val *a, const val *b) {
  int c = cmp_bytes(a->s, a->slen, b->s, b->slen);
  if (c != 0 || a->type == V_ATOM) return c;
  if (a->type == V_XPID) return cmp_words(a->w, b->w, 3);
  if (a->w[0] != b->w[0]) return a->w[0] < b->w[0] ? -1 : 1;
  if (a->nw != b->nw) return a->nw < b->nw ? -1 : 1;
  return cmp_words(a->w + 1, b->w + 1, a->nw);
}

static int cmp_num(const val *a, const val *b) {
  long double x = a->isint ? (long double)a->i : (long double)a->d;   /* exact for int64 */
  long double y = b->isint ? (long double)b->i : (long double)b->d;
  return x < y ? -1 : x > y;
}

static int model_compare(const val *a, const val *b) {
  int c;
  if (rank(a->type) != rank(b->type)) return rank(a->type) < rank(b->type) ? -1 : 1;
  switch (a->type) {
    case V_NUM: return cmp_num(a, b);
    case V_BOOL: return a->b - b->b;
    case V_ATOM: case V_XPID: case V_XREF: return cmp_named(a, b);
    case V_STRING: return cmp_bytes(a->s, a->slen, b->s, b->slen);
    case V_ARRAY:
      if (a->n != b->n) return a->n < b->n ? -1 : 1;
      for (size_t i = 0; i < a->n; i++)
        if ((c = model_compare(&a->elems[i], &b->elems[i])) != 0) return c;
      return 0;
    case V_LIST:
      for (size_t i = 0; i < a->n && i < b->n; i++)
        if ((c = model_compare(&a->elems[i], &b->elems[i])) != 0) return c;
      return a->n < b->n ? -1 : a->n > b->n;
    default: return 0;
  }
}

static int sign(int x) {
  return x < 0 ? -1 : x > 0;
}

/* ---- tests ---- */

static void test_numbers(void) {
  buf a, b;
  term_num n;
  int64_t ints[] = {0, 1, -1, 42, INT64_MAX, INT64_MIN, ((int64_t)1 << 53) + 1,
                    -((int64_t)1 << 53) - 1, ((int64_t)1 << 62) + 12345,
                    ((int64_t)1 << 53) - 1, (int64_t)1 << 53, -((int64_t)1 << 53) + 1,
                    -((int64_t)1 << 53)};
  buf_init(&a);
  buf_init(&b);
  term_put_int(&a, 1);
  term_put_float(&b, 1.0);
  CHECK(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);   /* 1 and 1.0: one term */
  buf_reset(&a);
  buf_reset(&b);
  term_put_float(&a, -0.0);
  term_put_int(&b, 0);
  CHECK(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    buf_reset(&a);
    term_put_int(&a, ints[i]);
    CHECK(term_get_num(a.p, a.n, &n) == a.n && n.isint && n.i == ints[i]);
    CHECK(term_valid(a.p, a.n));
    {   /* the short way for small integers writes what the general one does */
      unsigned char general[TERM_NUMBER_MAX];
      size_t len = term_encode_int(ints[i], general);
      CHECK(a.n == len && memcmp(a.p, general, len) == 0);
    }
  }
  buf_reset(&a);
  term_put_float(&a, 0.5);
  CHECK(term_get_num(a.p, a.n, &n) == a.n && !n.isint && n.d == 0.5);
  buf_reset(&a);
  term_put_float(&a, NAN);
  CHECK(term_is_nan(a.p, a.n));
  buf_reset(&b);
  term_put_float(&b, INFINITY);
  CHECK(term_compare(b.p, b.n, a.p, a.n) < 0);   /* NaN sorts above +inf */
  buf_reset(&a);
  term_put_float(&a, 1e300);
  CHECK(term_get_num(a.p, a.n, &n) == a.n && !n.isint && n.d == 1e300);
  buf_reset(&a);
  term_put_float(&a, 4611686018427387904.0);   /* 2^62 as a float: integral, in range */
  CHECK(term_get_num(a.p, a.n, &n) == a.n && n.isint && n.i == ((int64_t)1 << 62));
  buf_free(&a);
  buf_free(&b);
}

/* term_get_small_int reads what term_get_num reads, for the integers of
** magnitude below 2^53, and refuses everything else. */
static void test_small_ints(void) {
  const int64_t two53 = (int64_t)1 << 53;
  int64_t ints[] = {0, 1, -1, 42, -42, two53 - 1, -(two53 - 1), two53, -two53, two53 + 1,
                    INT64_MAX, INT64_MIN};
  double floats[] = {0.5, -0.5, 1e300, INFINITY, -INFINITY, NAN, 9007199254740992.0};
  unsigned char minus_zero[TERM_NUMBER_SIZE] = {TERM_NUMBER, 0x7f, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff};
  buf a;
  term_num n;
  int64_t v;
  buf_init(&a);
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    int small = ints[i] > -two53 && ints[i] < two53;
    buf_reset(&a);
    term_put_int(&a, ints[i]);
    v = 12345;
    CHECK(term_get_small_int(a.p, a.n, &v) == small);
    CHECK(!small || v == ints[i]);
    CHECK(term_get_num(a.p, a.n, &n) == a.n && n.isint && n.i == ints[i]);
    CHECK(!small || term_get_small_int(a.p, a.n - 1, &v) == 0);   /* cut short */
  }
  for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
    buf_reset(&a);
    term_put_float(&a, floats[i]);
    CHECK(term_get_small_int(a.p, a.n, &v) == 0);
  }
  /* -0.0's bits, which no writer produces (0 is written instead) */
  CHECK(term_get_num(minus_zero, sizeof minus_zero, &n) == 0);
  CHECK(term_get_small_int(minus_zero, sizeof minus_zero, &v) == 0);
  buf_reset(&a);
  term_put_string(&a, "12345678", 8);
  CHECK(term_get_small_int(a.p, a.n, &v) == 0);
  buf_free(&a);
}

static void test_strings(void) {
  buf a, out;
  const char s[] = "a\0b\0\0c\xff";
  buf_init(&a);
  buf_init(&out);
  term_put_string(&a, s, sizeof s - 1);
  CHECK(term_valid(a.p, a.n));
  CHECK(term_get_string(a.p, a.n, &out) == a.n);
  CHECK(out.n == sizeof s - 1 && memcmp(out.p, s, out.n) == 0);
  buf_free(&a);
  buf_free(&out);
}

/* Reading the empty string appends nothing: into a buffer that has no
** memory yet, that must not compute NULL + 0 (undefined behaviour, which
** clang's UBSan reports as pointer-overflow). Empty appends and grabs on an
** empty buffer are the same case. */
static void test_empty_string_into_empty_buffer(void) {
  buf a, out;
  unsigned char *p;
  buf_init(&a);
  buf_init(&out);
  term_put_string(&a, "", 0);
  CHECK(a.n == 3 && term_valid(a.p, a.n));
  CHECK(term_get_string(a.p, a.n, &out) == 3);
  CHECK(out.n == 0 && buf_ok(&out));
  buf_free(&out);
  buf_put(&out, "x", 0);
  CHECK(out.n == 0 && buf_ok(&out));
  buf_free(&out);
  p = buf_grab(&out, 0);
  CHECK(p != NULL && out.n == 0 && buf_ok(&out));
  buf_free(&a);
  buf_free(&out);
}

/* A reset starts a new term: a failure to grow before it is forgotten. */
static void test_reset_forgets_a_failure(void) {
  buf b;
  buf_init(&b);
  term_put_int(&b, 1);
  CHECK(!buf_reserve(&b, (size_t)-1) && !buf_ok(&b));
  term_put_int(&b, 2);                 /* ignored: the buffer has failed */
  CHECK(!buf_ok(&b));
  buf_reset(&b);
  CHECK(buf_ok(&b));
  term_put_int(&b, 3);
  CHECK(buf_ok(&b) && b.n == TERM_NUMBER_SIZE && term_valid(b.p, b.n));
  buf_free(&b);
}

static void test_maps(void) {
  buf m, k;
  const unsigned char *v;
  size_t vlen;
  term_num n;
  buf_init(&m);
  buf_init(&k);
  term_put_map(&m, 2);              /* {a = 1, b = 2}: keys ascending */
  term_put_string(&m, "a", 1);
  term_put_string(&m, "b", 1);
  term_put_int(&m, 1);
  term_put_int(&m, 2);
  CHECK(term_valid(m.p, m.n));
  term_put_string(&k, "b", 1);
  CHECK(term_map_get(m.p, m.n, k.p, k.n, &v, &vlen));
  CHECK(term_get_num(v, vlen, &n) && n.isint && n.i == 2);
  buf_reset(&m);
  term_put_map(&m, 2);              /* keys out of order: not canonical */
  term_put_string(&m, "b", 1);
  term_put_string(&m, "a", 1);
  term_put_int(&m, 1);
  term_put_int(&m, 2);
  CHECK(!term_valid(m.p, m.n));
  buf_free(&m);
  buf_free(&k);
}

/* Elements of an array, numbers of each size among them: every one found
** whole, and none past the end or in a truncated array. */
static void test_array_elements(void) {
  static const int64_t ints[] = {7, ((int64_t)1 << 60) + 3, -5, INT64_MIN, 0};
  buf a;
  const unsigned char *e;
  size_t elen;
  term_num n;
  buf_init(&a);
  term_put_array(&a, 7);
  for (size_t i = 0; i < 5; i++) term_put_int(&a, ints[i]);
  term_put_float(&a, 1.5);
  term_put_string(&a, "x", 1);
  CHECK(term_valid(a.p, a.n));
  for (uint32_t i = 0; i < 5; i++) {
    CHECK(term_array_elem(a.p, a.n, i, &e, &elen));
    CHECK(term_get_num(e, elen, &n) == elen && n.isint && n.i == ints[i]);
  }
  CHECK(term_array_elem(a.p, a.n, 5, &e, &elen) && term_get_num(e, elen, &n) == elen &&
        !n.isint && n.d == 1.5);
  CHECK(term_array_elem(a.p, a.n, 6, &e, &elen) && e[0] == TERM_STRING && e + elen == a.p + a.n);
  CHECK(!term_array_elem(a.p, a.n, 7, &e, &elen));
  CHECK(!term_array_elem(a.p, a.n - 6, 5, &e, &elen));   /* cut inside 1.5 (the string is 4 bytes) */
  CHECK(!term_array_elem(a.p, 12, 1, &e, &elen));        /* cut inside 2^60 + 3 */
  buf_free(&a);
}

static void test_depth(void) {
  buf b;
  buf_init(&b);
  for (int i = 0; i < TERM_MAX_DEPTH; i++) term_put_array(&b, 1);
  term_put_nil(&b);
  CHECK(term_valid(b.p, b.n));
  buf_reset(&b);
  for (int i = 0; i <= TERM_MAX_DEPTH; i++) term_put_array(&b, 1);
  term_put_nil(&b);
  CHECK(!term_valid(b.p, b.n));
  buf_free(&b);
}

/* Lists: the empty one is a term; the elements are read up to the end
** mark; one without its end mark, or nested too deep, is refused. */
static void test_lists(void) {
  buf a, b;
  uint32_t count = 99;
  const unsigned char *elem;
  size_t elen;
  buf_init(&a);
  buf_init(&b);
  term_put_list(&a);
  term_put_list_end(&a);
  CHECK(a.n == 2 && term_valid(a.p, a.n) && term_check(a.p, a.n) == TERM_OK);
  CHECK(term_get_list(a.p, a.n, &count) == 2 && count == 0);
  CHECK(term_size_trusted(a.p, a.n) == 2);
  buf_reset(&a);
  term_put_list(&a);               /* [1, [], "ab"] */
  term_put_int(&a, 1);
  term_put_list(&a);
  term_put_list_end(&a);
  term_put_string(&a, "ab", 2);
  term_put_list_end(&a);
  CHECK(term_valid(a.p, a.n) && term_skip(a.p, a.n) == a.n && term_size_trusted(a.p, a.n) == a.n);
  CHECK(term_get_list(a.p, a.n, &count) == a.n && count == 3);
  CHECK(!term_valid(a.p, a.n - 1));   /* no end mark */
  CHECK(!term_array_elem(a.p, a.n, 0, &elem, &elen));   /* a list is no array */
  /* [1] sorts before [1, 2] and before [2]; the array {1, 2} before both */
  buf_reset(&a);
  term_put_list(&a);
  term_put_int(&a, 1);
  term_put_list_end(&a);
  term_put_list(&b);
  term_put_int(&b, 1);
  term_put_int(&b, 2);
  term_put_list_end(&b);
  CHECK(term_compare(a.p, a.n, b.p, b.n) < 0);
  buf_reset(&b);
  term_put_list(&b);
  term_put_int(&b, 2);
  term_put_list_end(&b);
  CHECK(term_compare(a.p, a.n, b.p, b.n) < 0);
  buf_reset(&b);
  term_put_array(&b, 2);
  term_put_int(&b, 1);
  term_put_int(&b, 2);
  CHECK(term_compare(b.p, b.n, a.p, a.n) < 0);
  buf_reset(&a);
  for (int i = 0; i < TERM_MAX_DEPTH; i++) term_put_list(&a);
  for (int i = 0; i < TERM_MAX_DEPTH; i++) term_put_list_end(&a);
  CHECK(term_valid(a.p, a.n));
  buf_reset(&a);
  for (int i = 0; i <= TERM_MAX_DEPTH; i++) term_put_list(&a);
  for (int i = 0; i <= TERM_MAX_DEPTH; i++) term_put_list_end(&a);
  CHECK(!term_valid(a.p, a.n) && term_size_trusted(a.p, a.n) == 0);
  buf_free(&a);
  buf_free(&b);
}

static void test_random_order_and_prefixes(void) {
  buf a, b;
  buf_init(&a);
  buf_init(&b);
  for (int round = 0; round < 5000; round++) {
    val x, y;
    int model, bytes;
    random_val(&x, 0);
    random_val(&y, 0);
    buf_reset(&a);
    buf_reset(&b);
    encode_val(&a, &x);
    encode_val(&b, &y);
    CHECK(term_valid(a.p, a.n));
    model = sign(model_compare(&x, &y));
    bytes = sign(term_compare(a.p, a.n, b.p, b.n));
    if (model != bytes) fprintf(stderr, "order mismatch in round %d\n", round);
    CHECK(model == bytes);
    CHECK((model == 0) == (a.n == b.n && memcmp(a.p, b.p, a.n) == 0));
    /* No proper prefix is a whole term; each is read in a buffer of its
    ** exact size, so ASan reports any read past it. */
    for (size_t cut = 0; cut < a.n; cut++) {
      unsigned char *p = malloc(cut ? cut : 1);
      memcpy(p, a.p, cut);
      CHECK(term_skip(p, cut) == 0);
      free(p);
    }
    free_val(&x);
    free_val(&y);
  }
  buf_free(&a);
  buf_free(&b);
}

static void test_garbage(void) {
  int accepted = 0;
  for (int round = 0; round < 20000; round++) {
    size_t len = 1 + next_random() % 24;
    unsigned char *p = malloc(len);
    static const unsigned char tags[] = {TERM_NIL, TERM_NUMBER, TERM_TRUE, TERM_PID,
                                         TERM_ARRAY, TERM_MAP, TERM_STRING, 0xEE,
                                         TERM_ATOM, TERM_XPID, TERM_XREF, 0x00, TERM_LIST};
    for (size_t i = 0; i < len; i++)
      p[i] = (next_random() & 1) ? tags[next_random() % 13] : (unsigned char)next_random();
    if (term_valid(p, len)) {
      /* what is accepted must be canonical: re-reading it gives its size */
      accepted++;
      CHECK(term_skip(p, len) == len);
    }
    free(p);
  }
  CHECK(accepted < 20000);
}

/* Atoms and other nodes' pids and refs read back as written; a bad name
** or id count fails the buffer instead of writing a malformed term. */
static void test_named(void) {
  buf b;
  const unsigned char *name;
  size_t namelen;
  term_xpid xp = {(const unsigned char *)"erl@host", 8, 97, 3, 0x66554433u}, xp2;
  term_xref xr = {(const unsigned char *)"erl@host", 8, 7, 3, {1, 2, 0xFFFFFFFFu, 0, 0}}, xr2;
  buf_init(&b);
  term_put_atom(&b, "ok", 2);
  CHECK(b.n == 4 && term_valid(b.p, b.n));
  CHECK(term_get_atom(b.p, b.n, &name, &namelen) == 4 && namelen == 2 && memcmp(name, "ok", 2) == 0);
  buf_reset(&b);
  term_put_atom(&b, "", 0);
  CHECK(term_valid(b.p, b.n) && term_get_atom(b.p, b.n, &name, &namelen) == 2 && namelen == 0);
  buf_reset(&b);
  term_put_xpid(&b, &xp);
  CHECK(term_valid(b.p, b.n) && term_get_xpid(b.p, b.n, &xp2) == b.n);
  CHECK(xp2.nodelen == 8 && memcmp(xp2.node, "erl@host", 8) == 0);
  CHECK(xp2.num == 97 && xp2.serial == 3 && xp2.creation == 0x66554433u);
  buf_reset(&b);
  term_put_xref(&b, &xr);
  CHECK(term_valid(b.p, b.n) && term_get_xref(b.p, b.n, &xr2) == b.n);
  CHECK(xr2.creation == 7 && xr2.n == 3 && xr2.id[2] == 0xFFFFFFFFu);
  /* refused: a zero in a name, a name too long, an empty node, 0 or 6 ids */
  buf_reset(&b);
  term_put_atom(&b, "a\0b", 3);
  CHECK(!buf_ok(&b));
  {
    char longname[TERM_NAME_MAX + 1];
    memset(longname, 'x', sizeof longname);
    CHECK(term_name_ok(longname, TERM_NAME_MAX) && !term_name_ok(longname, TERM_NAME_MAX + 1));
    buf_reset(&b);
    term_put_atom(&b, longname, TERM_NAME_MAX);
    CHECK(buf_ok(&b) && term_valid(b.p, b.n));
  }
  buf_reset(&b);
  xp.nodelen = 0;
  term_put_xpid(&b, &xp);
  CHECK(!buf_ok(&b));
  buf_reset(&b);
  xr.n = 0;
  term_put_xref(&b, &xr);
  CHECK(!buf_ok(&b));
  buf_reset(&b);
  xr.n = TERM_XREF_WORDS + 1;
  term_put_xref(&b, &xr);
  CHECK(!buf_ok(&b));
  /* hand-made bytes: an xref claiming 6 ids, an xpid with an empty node */
  {
    static const unsigned char six[] = {TERM_XREF, 'n', 0, 0, 0, 0, 1, 6,
                                        0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                                        0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6};
    static const unsigned char empty[] = {TERM_XPID, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(!term_valid(six, sizeof six));
    CHECK(!term_valid(empty, sizeof empty));
  }
  buf_free(&b);
}

int main(void) {
  test_numbers();
  test_small_ints();
  test_named();
  test_strings();
  test_empty_string_into_empty_buffer();
  test_reset_forgets_a_failure();
  test_maps();
  test_array_elements();
  test_depth();
  test_lists();
  test_random_order_and_prefixes();
  test_garbage();
  return check_summary("term");
}
