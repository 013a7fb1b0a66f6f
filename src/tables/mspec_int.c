/*
** mspec_int.c — the integers of match specs (see mspec_int.h): Erlang's
** integer operators on int64_t, and comparisons and guards compiled to
** flat code.
**
** A program is postfix: each operation takes its operands from variables,
** constants or the stack, and pushes its result, so an expression costs one
** step per operator instead of a call per node. Every value on the stack
** has a type fixed at compile time, an integer or a boolean (0 or 1), so
** the running needs no checks but the variables' own.
*/
#include <stdint.h>
#include <stdlib.h>

#include "mspec_int.h"
#include "term.h"

#define MAX_DEPTH 16     /* the stack a program may use */
#define MAX_OPS 64       /* guards longer than this take the general way */

/* ---- the operators ---- */

int mspec_int_is_op(int fn) {
  switch (fn) {
    case F_ADD: case F_SUB: case F_MUL: case F_DIV: case F_REM:
    case F_BAND: case F_BOR: case F_BXOR: case F_BSL: case F_BSR:
      return 1;
    default:
      return 0;
  }
}

/* Two's complement conversion, through uint64_t where it is defined. */
static int64_t wrap(uint64_t u) {
  return (int64_t)u;
}

/* a shifted right by n (0 < n < 64), keeping the sign. */
static int64_t shift_right(int64_t a, int64_t n) {
  return a < 0 ? ~wrap((uint64_t)~a >> n) : wrap((uint64_t)a >> n);
}

/* Erlang's bsl: a negative count shifts right. Erlang's integers grow
** without bound, these have 64 bits: a result that does not fit (a bit or
** the sign shifted out) raises instead of losing bits. */
static int shift_left(int64_t a, int64_t s, int64_t *res) {
  if (s < 0) {
    *res = s <= -64 ? (a < 0 ? -1 : 0) : shift_right(a, -s);
    return 0;
  }
  if (a == 0) {
    *res = 0;
    return 0;
  }
  if (s >= 64) return -1;
  *res = wrap((uint64_t)a << s);
  return s == 0 || shift_right(*res, s) == a ? 0 : -1;
}

/* mspec_int_arith, inline in the programs' loop. */
static inline int arith(int fn, int64_t a, int64_t b, int64_t *res) {
  switch (fn) {
    case F_ADD: return __builtin_add_overflow(a, b, res) ? -1 : 0;
    case F_SUB: return __builtin_sub_overflow(a, b, res) ? -1 : 0;
    case F_MUL: return __builtin_mul_overflow(a, b, res) ? -1 : 0;
    case F_DIV:   /* truncating, as Erlang's div */
      if (b == 0 || (a == INT64_MIN && b == -1)) return -1;
      *res = a / b;
      return 0;
    case F_REM:   /* the sign of the dividend, as Erlang's rem */
      if (b == 0) return -1;
      *res = b == -1 ? 0 : a % b;
      return 0;
    case F_BAND: *res = a & b; return 0;
    case F_BOR: *res = a | b; return 0;
    case F_BXOR: *res = a ^ b; return 0;
    case F_BSL: return shift_left(a, b, res);
    case F_BSR: return shift_left(a, b <= -64 ? 64 : -b, res);
    default: return -1;
  }
}

int mspec_int_arith(int fn, int64_t a, int64_t b, int64_t *res) {
  return arith(fn, a, b, res);
}

int mspec_int_is_comparison(int fn) {
  return fn == F_EQ || fn == F_NE || fn == F_LT || fn == F_GT || fn == F_LE || fn == F_GE;
}

int mspec_int_holds(int fn, int c) {
  return fn == F_EQ ? c == 0 : fn == F_NE ? c != 0 : fn == F_LT ? c < 0
       : fn == F_GT ? c > 0 : fn == F_LE ? c <= 0 : c >= 0;
}

/* ---- compiling ---- */

enum { T_NONE, T_INT, T_BOOL };   /* what an operand stands for */

typedef struct icomp {
  mspec *ms;
  uint32_t start;        /* the program's first operation */
  int depth, maxdepth;   /* of the stack, as the program so far leaves it */
  int oom;
} icomp;

static int is_logic(int fn) {
  return fn == F_AND || fn == F_ANDALSO || fn == F_OR || fn == F_ORELSE;
}

/* Appends fn(a, b), which pops its stack operands and pushes its result;
** b's operand is popped first, as it was pushed last. */
static int emit(icomp *c, int fn, const iarg *a, const iarg *b) {
  mspec *ms = c->ms;
  iop *op;
  if (ms->niops - c->start >= MAX_OPS) return 0;
  if (ms->niops == ms->capiops) {
    uint32_t cap = ms->capiops ? ms->capiops * 2 : 16;
    iop *p = ms->capiops < UINT32_MAX / 2 ? realloc(ms->iops, (size_t)cap * sizeof *p) : NULL;
    if (p == NULL) {
      c->oom = 1;
      return 0;
    }
    ms->iops = p;
    ms->capiops = cap;
  }
  op = &ms->iops[ms->niops++];
  op->fn = (unsigned char)fn;
  op->a = *a;
  op->b = *b;
  c->depth -= (a->kind == IA_STACK) + (b->kind == IA_STACK);
  if (++c->depth > c->maxdepth) c->maxdepth = c->depth;
  return 1;
}

static int operand(icomp *c, uint32_t ni, iarg *x);

/* fn(kid 0, kid 1), the kids of type want; gives type `gives` on the stack. */
static int binary(icomp *c, const node *nd, int want, int gives, iarg *x) {
  iarg a, b;
  if (nd->n != 2 || operand(c, c->ms->kids[nd->kid], &a) != want ||
      operand(c, c->ms->kids[nd->kid + 1], &b) != want || !emit(c, nd->fn, &a, &b))
    return T_NONE;
  x->kind = IA_STACK;
  return gives;
}

/* and, andalso, or, orelse of one or more booleans: folded left, a pair
** at a time. */
static int logic(icomp *c, const node *nd, iarg *x) {
  iarg b;
  if (nd->n == 0 || operand(c, c->ms->kids[nd->kid], x) != T_BOOL) return T_NONE;
  for (uint32_t i = 1; i < nd->n; i++) {
    if (operand(c, c->ms->kids[nd->kid + i], &b) != T_BOOL || !emit(c, nd->fn, x, &b))
      return T_NONE;
    x->kind = IA_STACK;
  }
  return T_BOOL;
}

/* Node ni as an operand in *x (its code emitted first, if it has some):
** its type, or T_NONE if the program cannot compute it. */
static int operand(icomp *c, uint32_t ni, iarg *x) {
  const node *nd = &c->ms->nodes[ni];
  iarg none = {IA_NONE, 0, 0};   /* not's missing first operand: k is 0 */
  if (c->oom) return T_NONE;
  if (nd->op == E_VAR) {
    *x = (iarg){IA_VAR, nd->slot, 0};
    return T_INT;
  }
  if (nd->op == E_CONST) {
    if (!nd->isnum || !nd->num.isint) return T_NONE;
    *x = (iarg){IA_CONST, 0, nd->num.i};
    return T_INT;
  }
  if (nd->op != E_CALL) return T_NONE;
  if (mspec_int_is_op(nd->fn)) return binary(c, nd, T_INT, T_INT, x);
  if (mspec_int_is_comparison(nd->fn)) return binary(c, nd, T_INT, T_BOOL, x);
  if (nd->fn == F_XOR) return binary(c, nd, T_BOOL, T_BOOL, x);
  if (is_logic(nd->fn)) return logic(c, nd, x);
  if (nd->fn == F_NOT && nd->n == 1) {
    iarg b;
    if (operand(c, c->ms->kids[nd->kid], &b) != T_BOOL || !emit(c, F_NOT, &none, &b))
      return T_NONE;
    x->kind = IA_STACK;
    return T_BOOL;
  }
  return T_NONE;
}

int mspec_int_compile(mspec *ms, uint32_t g) {
  uint32_t start = ms->niops;
  icomp c = {ms, start, 0, 0, 0};
  iarg x;
  ms->nodes[g].nprog = 0;
  if (start > UINT32_MAX - MAX_OPS) return 0;
  if (operand(&c, g, &x) == T_BOOL && x.kind == IA_STACK && c.maxdepth <= MAX_DEPTH) {
    ms->nodes[g].prog = start;
    ms->nodes[g].nprog = ms->niops - start;
    return 0;
  }
  ms->niops = start;   /* what was emitted is of no use */
  return c.oom ? -1 : 0;
}

/* ---- running ---- */

/* An operand's value: 0 if a variable holds no small integer. The kinds
** are tested in turn rather than switched on: a program runs once per
** object, always the same way, and the branches learn it. */
static inline int value(const iarg *x, const slice *binds, const int64_t *stack, int *sp,
                        int64_t *v) {
  if (x->kind == IA_VAR) return term_get_small_int(binds[x->slot].p, binds[x->slot].n, v);
  if (x->kind == IA_STACK) *v = stack[--*sp];
  else *v = x->k;   /* IA_CONST, and IA_NONE with k 0 */
  return 1;
}

int mspec_int_run(const mspec *ms, const node *g, const slice *binds) {
  int64_t stack[MAX_DEPTH], a, b, r;
  int sp = 0;
  const iop *op = &ms->iops[g->prog], *end = op + g->nprog;
  for (; op < end; op++) {
    if (!value(&op->b, binds, stack, &sp, &b) || !value(&op->a, binds, stack, &sp, &a))
      return MSPEC_INT_UNKNOWN;
    switch (op->fn) {
      case F_EQ: r = a == b; break;
      case F_NE: r = a != b; break;
      case F_LT: r = a < b; break;
      case F_GT: r = a > b; break;
      case F_LE: r = a <= b; break;
      case F_GE: r = a >= b; break;
      case F_AND: case F_ANDALSO: r = a & b; break;
      case F_OR: case F_ORELSE: r = a | b; break;
      case F_XOR: r = a ^ b; break;
      case F_NOT: r = !b; break;
      default:
        if (arith(op->fn, a, b, &r) != 0) return MSPEC_INT_UNKNOWN;
        break;
    }
    stack[sp++] = r;
  }
  return (int)stack[0];
}
