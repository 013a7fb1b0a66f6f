/*
** mspec_run.c — running a compiled match spec (mspec_impl.h) on one encoded
** object: matching a clause's head, evaluating its guards and body, and
** writing the result, all without decoding the object.
**
** A run allocates nothing of its own. Variables bind to (pointer, length)
** slices of the object. A computed number or pid lives in a `val`. An
** array or map built while evaluating is written at the end of the
** caller's output buffer, past the place where the result will go, and
** referred to by offset (the buffer may move as it grows); such
** temporaries are cut off again as soon as they have been used.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mspec.h"
#include "mspec_impl.h"
#include "mspec_int.h"
#include "term.h"

#define STACK_VARS 32        /* bindings a run keeps on the C stack */
#define TWO63 9223372036854775808.0

static const unsigned char k_true[1] = {TERM_TRUE};
static const unsigned char k_false[1] = {TERM_FALSE};
static const unsigned char k_exit[7] = {TERM_STRING, 'E', 'X', 'I', 'T', 0, 0};

/* ---- matching heads ---- */

typedef struct run {
  const mspec *ms;
  const unsigned char *obj;
  size_t len;
  slice *binds;        /* by slot */
  uint32_t nvars;      /* of the clause being run */
  int in_body;         /* a call that raises gives 'EXIT' instead of failing */
  uint64_t caller;
  buf *out;
} run;

/* What match() must say about the term's size: nothing (any nonzero
** means a match), its size, or n is its size already. */
enum { SIZE_NO, SIZE_NEED, SIZE_EXACT };

static size_t match(run *r, const node *nd, const unsigned char *p, size_t n, int mode);

/* Variable slot stands for the n bytes at p. */
static void bind(run *r, uint32_t slot, const unsigned char *p, size_t n) {
  r->binds[slot].p = p;
  r->binds[slot].n = n;
}

/* Elements after the last one that is no "_" are not even looked at,
** unless the array's size is needed to go on past it. */
static size_t match_array(run *r, const node *nd, const unsigned char *p, size_t n, int mode) {
  int tag;
  uint32_t count, stop = mode == SIZE_NEED ? nd->n : nd->slot;
  size_t at = term_get_header(p, n, &tag, &count);
  if (at == 0 || tag != TERM_ARRAY || count != nd->n) return 0;
  for (uint32_t i = 0; i < stop; i++) {
    const node *k = kid(r->ms, nd, i);
    size_t s;
    if (k->op == P_BIND) {   /* the usual element, bound here without a call */
      s = term_size_trusted(p + at, n - at);
      bind(r, k->slot, p + at, s);
    } else {
      s = match(r, k, p + at, n - at, mode == SIZE_NEED || i + 1 < stop ? SIZE_NEED : SIZE_NO);
    }
    if (s == 0) return 0;
    at += s;
  }
  return mode == SIZE_EXACT ? n : at;
}

/* Both the object's keys and the pattern's are ascending: one merge walk,
** with the values walked alongside the keys. */
static size_t match_map(run *r, const node *nd, const unsigned char *p, size_t n, int mode) {
  int tag;
  uint32_t count, j = 0;
  size_t h = term_get_header(p, n, &tag, &count), ka, va;
  if (h == 0 || tag != TERM_MAP || count < nd->n) return 0;
  if (nd->n == 0 && mode != SIZE_NEED) return mode == SIZE_EXACT ? n : 1;
  va = h;
  for (uint32_t i = 0; i < count; i++) {   /* the values follow all the keys */
    size_t s = term_size_trusted(p + va, n - va);
    if (s == 0) return 0;
    va += s;
  }
  ka = h;
  for (uint32_t i = 0; i < count && (j < nd->n || mode == SIZE_NEED); i++) {
    size_t ks = term_size_trusted(p + ka, n - ka), vs = term_size_trusted(p + va, n - va);
    if (ks == 0 || vs == 0) return 0;
    if (j < nd->n) {
      const node *key = kid(r->ms, nd, j);
      int c = term_compare(p + ka, ks, key->lit, key->litlen);
      if (c > 0) return 0;   /* the pattern's key j is not there */
      if (c == 0) {
        if (match(r, kid(r->ms, nd, nd->n + j), p + va, vs, SIZE_EXACT) == 0) return 0;
        j++;
      }
    }
    ka += ks;
    va += vs;
  }
  if (j < nd->n) return 0;
  return mode == SIZE_NEED ? va : mode == SIZE_EXACT ? n : 1;
}

/* Matches the term at p (within n bytes) against pattern nd: 0 when it
** does not match; else its size, as mode asks. */
static size_t match(run *r, const node *nd, const unsigned char *p, size_t n, int mode) {
  const slice *b;
  size_t size;
  switch (nd->op) {
    case P_ANY:
      if (mode == SIZE_NEED) return term_size_trusted(p, n);
      return n > 0 ? (mode == SIZE_EXACT ? n : 1) : 0;
    case P_LIT:
      /* encodings are self-delimiting: equal bytes are the equal term */
      if (nd->litlen > n || (mode == SIZE_EXACT && nd->litlen != n) ||
          memcmp(p, nd->lit, nd->litlen) != 0) return 0;
      return nd->litlen;
    case P_BIND:
      size = mode == SIZE_EXACT ? n : term_size_trusted(p, n);
      if (size == 0) return 0;
      bind(r, nd->slot, p, size);
      return size;
    case P_CHECK:
      b = &r->binds[nd->slot];
      if (b->n > n || (mode == SIZE_EXACT && b->n != n) || memcmp(p, b->p, b->n) != 0) return 0;
      return b->n;
    case P_ARRAY:
      return match_array(r, nd, p, n, mode);
    case P_MAP:
      return match_map(r, nd, p, n, mode);
    default:
      return 0;
  }
}

/* Runs a head's flat code (mspec_impl.h) over the object: 1 when it
** matches. Each operation's term starts where the last one's ended. */
static int match_flat(run *r, const clause *cl) {
  const hop *op = &r->ms->hops[cl->hprog], *end = op + cl->nhprog;
  const unsigned char *p = r->obj;
  size_t n = r->len, s;
  int tag;
  uint32_t count;
  for (; op < end; op++, p += s, n -= s) {
    switch (op->op) {
      case H_ARRAY:
        s = term_get_header(p, n, &tag, &count);
        if (s == 0 || tag != TERM_ARRAY || count != op->n) return 0;
        break;
      case H_BIND:
        if ((s = term_size_trusted(p, n)) == 0) return 0;
        bind(r, op->n, p, s);
        break;
      case H_SKIP:
        if ((s = term_size_trusted(p, n)) == 0) return 0;
        break;
      case H_LIT:   /* a whole term's bytes at the start of one: that term */
        s = op->litlen;
        if (s > n || memcmp(p, op->lit, s) != 0) return 0;
        break;
      default:      /* H_CHECK */
        s = r->binds[op->n].n;
        if (s > n || memcmp(p, r->binds[op->n].p, s) != 0) return 0;
        break;
    }
  }
  return 1;
}

/* ---- evaluating expressions ---- */

enum {
  V_PTR,     /* bytes at p: in the object, the spec or static */
  V_OUT,     /* bytes at out->p + off, a temporary */
  V_NUM,     /* a computed number */
  V_PID      /* a pid, from self */
};

typedef struct val {
  int kind;
  const unsigned char *p;
  size_t off, n;
  term_num num;
  const term_num *cnum;   /* V_PTR of a number constant: its value, decoded */
  uint64_t id;
} val;

#define VAL_TMP 16   /* room for an encoded number or pid (at most 11 bytes) */

static void set_ptr(val *v, const unsigned char *p, size_t n) {
  v->kind = V_PTR;
  v->p = p;
  v->n = n;
  v->cnum = NULL;
}

static void set_bool(val *v, int b) {
  set_ptr(v, b ? k_true : k_false, 1);
}

static void set_int(val *v, int64_t i) {
  v->kind = V_NUM;
  v->num.isint = 1;
  v->num.i = i;
  v->num.d = 0;
}

/* An integral float in int64 range is the integer: that is what storing
** it and reading it back would give (term.h), so is_integer, band and the
** rest see the same value either way. Erlang has no inf or NaN: a float
** result that is not finite raises (-1), as its arithmetic does. */
static int set_float(val *v, double d) {
  if (!isfinite(d)) return -1;
  if (d == floor(d) && d >= -TWO63 && d < TWO63) {
    set_int(v, (int64_t)d);
    return 0;
  }
  v->kind = V_NUM;
  v->num.isint = 0;
  v->num.i = 0;
  v->num.d = d;
  return 0;
}

/* The encoded bytes of v: in place, or for a number or pid written into
** tmp. The buf over tmp never grows (which would realloc memory it does
** not own): VAL_TMP holds any number or pid. */
static const unsigned char *val_bytes(const run *r, const val *v, unsigned char tmp[VAL_TMP],
                                      size_t *n) {
  buf b;
  if (v->kind == V_PTR) {
    *n = v->n;
    return v->p;
  }
  if (v->kind == V_OUT) {
    *n = v->n;
    return r->out->p + v->off;
  }
  b.p = tmp;
  b.n = 0;
  b.cap = VAL_TMP;
  b.oom = 0;
  if (v->kind == V_NUM) term_put_num(&b, &v->num);
  else term_put_id(&b, TERM_PID, v->id);
  *n = b.n;
  return tmp;
}

static int val_tag(const run *r, const val *v) {
  if (v->kind == V_NUM) return TERM_NUMBER;
  if (v->kind == V_PID) return TERM_PID;
  return v->kind == V_PTR ? v->p[0] : r->out->p[v->off];
}

static int val_num(const run *r, const val *v, term_num *num) {
  unsigned char tmp[VAL_TMP];
  const unsigned char *p;
  size_t n;
  if (v->kind == V_NUM) {
    *num = v->num;
    return 1;
  }
  if (v->kind == V_PID) return 0;
  if (v->kind == V_PTR && v->cnum != NULL) {
    *num = *v->cnum;
    return 1;
  }
  p = val_bytes(r, v, tmp, &n);
  return p[0] == TERM_NUMBER && term_get_num(p, n, num) != 0;
}

static int val_bool(const run *r, const val *v, int *b) {
  unsigned char tmp[VAL_TMP];
  const unsigned char *p;
  size_t n;
  if (v->kind == V_NUM || v->kind == V_PID) return 0;
  p = val_bytes(r, v, tmp, &n);
  if (n != 1 || (p[0] != TERM_TRUE && p[0] != TERM_FALSE)) return 0;
  *b = p[0] == TERM_TRUE;
  return 1;
}

/* v := the part (p, n) of parent, which holds an array or map. */
static void set_part(const run *r, const val *parent, val *v, const unsigned char *p, size_t n) {
  if (parent->kind == V_OUT) {
    v->kind = V_OUT;
    v->off = (size_t)(p - r->out->p);
    v->n = n;
  } else {
    set_ptr(v, p, n);
  }
}

static int eval(run *r, const node *nd, val *v);
static int emit(run *r, const node *nd);

static int arg(run *r, const node *nd, uint32_t i, val *v) {
  return eval(r, kid(r->ms, nd, i), v);
}

/* A computed integer against an integer: compared as integers, the order
** their encodings have (term.h), without encoding the computed one. */
static int compare_ints(const run *r, const val *a, const val *b, int *c) {
  term_num x, y;
  if (a->kind != V_NUM && b->kind != V_NUM) return 0;
  if (val_tag(r, a) != TERM_NUMBER || val_tag(r, b) != TERM_NUMBER) return 0;
  if (!val_num(r, a, &x) || !val_num(r, b, &y) || !x.isint || !y.isint) return 0;
  *c = (x.i > y.i) - (x.i < y.i);
  return 1;
}

static int compare_args(run *r, const node *nd, val *a, val *b, int *c) {
  unsigned char ta[VAL_TMP], tb[VAL_TMP];
  const unsigned char *ap, *bp;
  size_t an, bn;
  if (arg(r, nd, 0, a) != 0 || arg(r, nd, 1, b) != 0) return -1;
  if (compare_ints(r, a, b, c)) return 0;
  ap = val_bytes(r, a, ta, &an);   /* only now: evaluating b may move out */
  bp = val_bytes(r, b, tb, &bn);
  *c = term_compare(ap, an, bp, bn);
  return 0;
}

static int logic(run *r, const node *nd, val *v) {
  int acc = nd->fn == F_AND || nd->fn == F_ANDALSO, b, b2;
  val x;
  switch (nd->fn) {
    case F_NOT:
      if (arg(r, nd, 0, &x) != 0 || !val_bool(r, &x, &b)) return -1;
      set_bool(v, !b);
      return 0;
    case F_XOR:
      if (arg(r, nd, 0, &x) != 0 || !val_bool(r, &x, &b)) return -1;
      if (arg(r, nd, 1, &x) != 0 || !val_bool(r, &x, &b2)) return -1;
      set_bool(v, b != b2);
      return 0;
    default:
      break;
  }
  for (uint32_t i = 0; i < nd->n; i++) {
    if (arg(r, nd, i, &x) != 0) return -1;
    if (i + 1 == nd->n && (nd->fn == F_ANDALSO || nd->fn == F_ORELSE)) {
      *v = x;   /* reached the last argument: it is the value, unchecked, as in ETS */
      return 0;
    }
    if (!val_bool(r, &x, &b)) return -1;
    if (nd->fn == F_AND) acc = acc && b;
    else if (nd->fn == F_OR) acc = acc || b;
    else if (b != acc) {   /* andalso met false, orelse met true: stop */
      acc = b;
      break;
    }
  }
  set_bool(v, acc);
  return 0;
}

static double to_double(const term_num *x) {
  return x->isint ? (double)x->i : x->d;
}

/* v := the integer that d (integral or not finite) stands for, if it fits. */
static int set_integral(val *v, double d) {
  if (!(d >= -TWO63 && d < TWO63)) return -1;   /* NaN too */
  set_int(v, (int64_t)d);
  return 0;
}

static int arith1(const node *nd, const term_num *a, val *v) {
  switch (nd->fn) {
    case F_ADD:
      if (a->isint) set_int(v, a->i);
      else return set_float(v, a->d);
      return 0;
    case F_FLOAT:   /* float(3) is 3.0, the same value here; past 2^53 it rounds */
      return set_float(v, to_double(a));
    case F_SUB:
      if (!a->isint) return set_float(v, -a->d);
      if (a->i == INT64_MIN) return -1;
      set_int(v, -a->i);
      return 0;
    case F_ABS:
      if (!a->isint) return set_float(v, fabs(a->d));
      if (a->i == INT64_MIN) return -1;
      set_int(v, a->i < 0 ? -a->i : a->i);
      return 0;
    case F_BNOT:
      if (!a->isint) return -1;
      set_int(v, ~a->i);
      return 0;
    case F_ROUND:   /* half away from zero, as Erlang's */
      if (a->isint) set_int(v, a->i);
      else return set_integral(v, round(a->d));
      return 0;
    case F_TRUNC:
      if (a->isint) set_int(v, a->i);
      else return set_integral(v, trunc(a->d));
      return 0;
    default:
      return -1;
  }
}

static int arith2(const node *nd, const term_num *a, const term_num *b, val *v) {
  int64_t res;
  if (a->isint && b->isint && mspec_int_is_op(nd->fn)) {
    if (mspec_int_arith(nd->fn, a->i, b->i, &res) != 0) return -1;
    set_int(v, res);
    return 0;
  }
  switch (nd->fn) {
    case F_ADD: return set_float(v, to_double(a) + to_double(b));
    case F_SUB: return set_float(v, to_double(a) - to_double(b));
    case F_MUL: return set_float(v, to_double(a) * to_double(b));
    case F_FDIV:   /* by zero (0.0 and -0.0 too) raises, as in Erlang */
      if (to_double(b) == 0) return -1;
      return set_float(v, to_double(a) / to_double(b));
    default:
      return -1;   /* the rest take integers only */
  }
}

/* Comparisons and guards on integers have flat code (mspec_int.h). An
** operator whose two arguments are an integer constant or a variable
** holding a small integer is worked out here on int64_t, with no val: 1
** and *i for such a leaf, 0 for anything else, which eval then computes
** the usual way, raising or not. */
static int int_leaf(const run *r, const node *nd, int64_t *i) {
  if (nd->op == E_CONST && nd->isnum && nd->num.isint) {
    *i = nd->num.i;
    return 1;
  }
  if (nd->op == E_VAR)
    return term_get_small_int(r->binds[nd->slot].p, r->binds[nd->slot].n, i);
  return 0;
}

static int arith(run *r, const node *nd, val *v) {
  term_num a, b;
  int64_t i, j;
  val x;
  if (nd->n == 2 && mspec_int_is_op(nd->fn) && int_leaf(r, kid(r->ms, nd, 0), &i) &&
      int_leaf(r, kid(r->ms, nd, 1), &j) && mspec_int_arith(nd->fn, i, j, &i) == 0) {
    set_int(v, i);
    return 0;
  }
  if (arg(r, nd, 0, &x) != 0 || !val_num(r, &x, &a)) return -1;
  if (nd->n == 1) return arith1(nd, &a, v);
  if (arg(r, nd, 1, &x) != 0 || !val_num(r, &x, &b)) return -1;
  return arith2(nd, &a, &b, v);
}

static int type_test(run *r, const node *nd, val *v) {
  term_num num;
  val x;
  int tag, is;
  if (arg(r, nd, 0, &x) != 0) return -1;
  tag = val_tag(r, &x);
  switch (nd->fn) {
    case F_IS_INTEGER: is = val_num(r, &x, &num) && num.isint; break;
    case F_IS_FLOAT: is = val_num(r, &x, &num) && !num.isint; break;
    case F_IS_NUMBER: is = tag == TERM_NUMBER; break;
    case F_IS_BOOLEAN: is = tag == TERM_TRUE || tag == TERM_FALSE; break;
    case F_IS_STRING: is = tag == TERM_STRING; break;
    case F_IS_ARRAY: is = tag == TERM_ARRAY; break;
    case F_IS_MAP: is = tag == TERM_MAP; break;
    case F_IS_PID: is = tag == TERM_PID || tag == TERM_XPID; break;
    case F_IS_REFERENCE: is = tag == TERM_REF || tag == TERM_XREF; break;
    case F_IS_ATOM:   /* true and false are atoms in Erlang, as in ETS's match specs */
      is = tag == TERM_ATOM || tag == TERM_TRUE || tag == TERM_FALSE;
      break;
    case F_IS_LIST: is = tag == TERM_LIST; break;
    default: is = tag == TERM_TABLE; break;
  }
  set_bool(v, is);
  return 0;
}

/* size: a string's length in bytes, an array's or map's count. */
static int size_of(run *r, const node *nd, val *v) {
  unsigned char tc[VAL_TMP];
  const unsigned char *cp;
  size_t cn, chars;
  uint32_t count;
  int tag;
  val c;
  if (arg(r, nd, 0, &c) != 0) return -1;
  cp = val_bytes(r, &c, tc, &cn);
  if (cp[0] == TERM_STRING) {
    if (term_string_length(cp, cn, &chars) == 0) return -1;
    set_int(v, (int64_t)chars);
  } else {
    if (term_get_header(cp, cn, &tag, &count) == 0) return -1;
    set_int(v, count);
  }
  return 0;
}

/* element, map_get, is_map_key. */
static int lookup(run *r, const node *nd, val *v) {
  unsigned char tk[VAL_TMP], tc[VAL_TMP];
  const unsigned char *kp, *cp, *e = NULL;
  size_t kn, cn, en = 0;
  term_num idx;
  uint32_t count;
  int tag, found;
  val k, c;
  if (arg(r, nd, 0, &k) != 0 || arg(r, nd, 1, &c) != 0) return -1;
  kp = val_bytes(r, &k, tk, &kn);   /* only now: evaluating c may move out */
  cp = val_bytes(r, &c, tc, &cn);
  if (nd->fn == F_ELEMENT) {
    if (!val_num(r, &k, &idx) || !idx.isint || idx.i < 1 || idx.i > (int64_t)TERM_MAX_COUNT ||
        !term_array_elem(cp, cn, (uint32_t)(idx.i - 1), &e, &en)) return -1;
    set_part(r, &c, v, e, en);
    return 0;
  }
  /* no map raises; a missing key raises only in map_get */
  if (term_get_header(cp, cn, &tag, &count) == 0 || tag != TERM_MAP) return -1;
  found = term_map_get(cp, cn, kp, kn, &e, &en);
  if (!found && nd->fn == F_MAP_GET) return -1;
  if (nd->fn == F_IS_MAP_KEY) set_bool(v, found);
  else set_part(r, &c, v, e, en);
  return 0;
}

static int call_fn(run *r, const node *nd, val *v) {
  val a, b;
  int c;
  switch (nd->fn) {
    case F_EQ: case F_NE: case F_LT: case F_GT: case F_LE: case F_GE:
      if (nd->nprog > 0 && (c = mspec_int_run(r->ms, nd, r->binds)) != MSPEC_INT_UNKNOWN) {
        set_bool(v, c);
        return 0;
      }
      if (compare_args(r, nd, &a, &b, &c) != 0) return -1;
      set_bool(v, mspec_int_holds(nd->fn, c));
      return 0;
    case F_MIN: case F_MAX:   /* in term order; the first when equal, as Erlang */
      if (compare_args(r, nd, &a, &b, &c) != 0) return -1;
      *v = (nd->fn == F_MIN ? c <= 0 : c >= 0) ? a : b;
      return 0;
    case F_AND: case F_OR: case F_XOR: case F_NOT: case F_ANDALSO: case F_ORELSE:
      return logic(r, nd, v);
    case F_ADD: case F_SUB: case F_MUL: case F_FDIV: case F_DIV: case F_REM:
    case F_BAND: case F_BOR: case F_BXOR: case F_BNOT: case F_BSL: case F_BSR: case F_ABS:
    case F_FLOAT: case F_ROUND: case F_TRUNC:
      return arith(r, nd, v);
    case F_SIZE:
      return size_of(r, nd, v);
    case F_ELEMENT: case F_MAP_GET: case F_IS_MAP_KEY:
      return lookup(r, nd, v);
    case F_SELF:
      v->kind = V_PID;
      v->id = r->caller;
      return 0;
    default:
      return type_test(r, nd, v);
  }
}

/* A call's temporaries are cut off unless its value lies among them. In a
** body, a call that raises is 'EXIT' in its place, as in ETS, and the
** evaluation goes on with that value. */
static int call(run *r, const node *nd, val *v) {
  size_t mark = r->out->n;
  int rc = call_fn(r, nd, v);
  if (rc != 0 || v->kind != V_OUT) r->out->n = mark;
  if (rc != 0 && r->in_body && buf_ok(r->out)) {
    set_ptr(v, k_exit, sizeof k_exit);
    return 0;
  }
  return rc;
}

/* The value of nd: 0, or -1 when it raises (or out ran out of memory). */
static int eval(run *r, const node *nd, val *v) {
  size_t start;
  switch (nd->op) {
    case E_CONST:
      set_ptr(v, nd->lit, nd->litlen);
      if (nd->isnum) v->cnum = &nd->num;
      return 0;
    case E_VAR:
      set_ptr(v, r->binds[nd->slot].p, r->binds[nd->slot].n);
      return 0;
    case E_OBJ:
      set_ptr(v, r->obj, r->len);
      return 0;
    case E_CALL:
      return call(r, nd, v);
    default:   /* E_ALL, E_TUPLE, E_MAP: built as a temporary */
      start = r->out->n;
      if (emit(r, nd) != 0 || !buf_ok(r->out)) return -1;
      v->kind = V_OUT;
      v->off = start;
      v->n = r->out->n - start;
      return 0;
  }
}

/* Puts v's bytes at out[start..], in place of any temporaries there. */
static int place(run *r, const val *v, size_t start) {
  buf *out = r->out;
  unsigned char tmp[VAL_TMP];
  const unsigned char *p;
  size_t n;
  if (v->kind == V_OUT) {   /* made at or past start: move it down */
    memmove(out->p + start, out->p + v->off, v->n);
    out->n = start + v->n;
  } else {
    p = val_bytes(r, v, tmp, &n);
    out->n = start;
    buf_put(out, p, n);
  }
  return buf_ok(out) ? 0 : -1;
}

/* Appends the value of nd to out. Arrays and maps are written straight
** out, element by element; anything else is evaluated and placed. */
static int emit(run *r, const node *nd) {
  buf *out = r->out;
  size_t start;
  val v;
  switch (nd->op) {
    case E_ALL:
      term_put_array(out, r->nvars);
      for (uint32_t s = 0; s < r->nvars; s++) buf_put(out, r->binds[s].p, r->binds[s].n);
      return buf_ok(out) ? 0 : -1;
    case E_TUPLE: case E_MAP:
      if (nd->op == E_TUPLE) term_put_array(out, nd->n);
      else term_put_map(out, nd->n);
      for (uint32_t i = 0; i < (nd->op == E_TUPLE ? nd->n : 2 * nd->n); i++)
        if (emit(r, kid(r->ms, nd, i)) != 0) return -1;
      return 0;
    default:
      start = out->n;
      if (eval(r, nd, &v) != 0) return -1;
      return place(r, &v, start);
  }
}

/* ---- clauses ---- */

/* 1 when guard g holds; 0 when it is false, not a boolean or raises; -1
** when out ran out of memory. A guard on integers runs its flat code; a
** comparison that is not on integers is answered without a val, by
** comparing its arguments (what call_fn would do). */
static int guard_holds(run *r, const node *g) {
  size_t mark = r->out->n;
  val v, a;
  int b, c, ok;
  if (g->nprog > 0 && (ok = mspec_int_run(r->ms, g, r->binds)) != MSPEC_INT_UNKNOWN) return ok;
  if (g->op == E_CALL && mspec_int_is_comparison(g->fn)) {
    ok = compare_args(r, g, &a, &v, &c) == 0 && mspec_int_holds(g->fn, c);
  } else {
    ok = eval(r, g, &v) == 0 && val_bool(r, &v, &b) && b;
  }
  r->out->n = mark;
  return buf_ok(r->out) ? ok : -1;
}

/* ETS's 'EXIT': the result of a clause whose body raised. */
static int exit_result(run *r, size_t mark) {
  r->out->n = mark;
  buf_put(r->out, k_exit, sizeof k_exit);
  return buf_ok(r->out) ? 1 : -1;
}

static int run_clause(run *r, const clause *cl) {
  const mspec *ms = r->ms;
  buf *out = r->out;
  size_t mark = out->n;
  int rc;
  r->nvars = cl->nvars;
  r->in_body = 0;
  if (cl->flat ? !match_flat(r, cl) : match(r, &ms->nodes[cl->head], r->obj, r->len,
                                             SIZE_EXACT) == 0)
    return 0;
  for (uint32_t g = 0; g < cl->nguards; g++)
    if ((rc = guard_holds(r, &ms->nodes[ms->kids[cl->guards + g]])) != 1) return rc;
  /* Only the last body expression gives the result. ETS evaluates the
  ** others and drops their values, errors included ('EXIT' in place), and
  ** nothing here has side effects: they are not run at all. */
  r->in_body = 1;
  rc = emit(r, &ms->nodes[ms->kids[cl->body + cl->nbody - 1]]);
  r->in_body = 0;
  if (rc != 0) return buf_ok(out) ? exit_result(r, mark) : -1;
  return buf_ok(out) ? 1 : -1;
}

int mspec_run(const mspec *ms, const unsigned char *obj, size_t len, uint64_t caller,
              buf *out) {
  slice stack[STACK_VARS], *binds = stack;
  run r;
  int rc = 0;
  if (!buf_ok(out)) return -1;
  if (len == 0 || obj == NULL) return 0;
  if (ms->maxvars > STACK_VARS && (binds = malloc(ms->maxvars * sizeof *binds)) == NULL)
    return -1;
  r.ms = ms;
  r.obj = obj;
  r.len = len;
  r.binds = binds;
  r.nvars = 0;
  r.in_body = 0;
  r.caller = caller;
  r.out = out;
  for (uint32_t c = 0; c < ms->nclauses && rc == 0; c++) rc = run_clause(&r, &ms->clauses[c]);
  if (binds != stack) free(binds);
  return rc;
}
