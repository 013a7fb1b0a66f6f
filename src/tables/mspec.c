/*
** mspec.c — the match-spec compiler: checks an encoded spec (or an ets:match
** pattern) and turns it into the node program of mspec_impl.h, once, so that
** running it on each object (mspec_run.c) reads no names and resolves no
** variables. Also what the program tells a table before any run: its
** clause count and a key every head binds to one literal.
** See mspec.h and docs/match-specs.md.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mspec.h"
#include "mspec_impl.h"
#include "mspec_int.h"
#include "term.h"

#define NONE UINT32_MAX

static const unsigned char k_true[1] = {TERM_TRUE};

/* ---- the functions ---- */

#define MANY 255   /* no upper bound on the arguments */

static const struct fninfo {
  const char *name;
  unsigned char fn, min, max;
} functions[] = {
  {"==", F_EQ, 2, 2}, {"=:=", F_EQ, 2, 2},
  {"~=", F_NE, 2, 2}, {"/=", F_NE, 2, 2}, {"=/=", F_NE, 2, 2},
  {"<", F_LT, 2, 2}, {">", F_GT, 2, 2},
  {"<=", F_LE, 2, 2}, {"=<", F_LE, 2, 2}, {">=", F_GE, 2, 2},
  {"and", F_AND, 1, MANY}, {"or", F_OR, 1, MANY}, {"xor", F_XOR, 2, 2},
  {"not", F_NOT, 1, 1}, {"andalso", F_ANDALSO, 1, MANY}, {"orelse", F_ORELSE, 1, MANY},
  {"+", F_ADD, 1, 2}, {"-", F_SUB, 1, 2}, {"*", F_MUL, 2, 2}, {"/", F_FDIV, 2, 2},
  {"div", F_DIV, 2, 2}, {"rem", F_REM, 2, 2},
  {"band", F_BAND, 2, 2}, {"bor", F_BOR, 2, 2}, {"bxor", F_BXOR, 2, 2},
  {"bnot", F_BNOT, 1, 1}, {"bsl", F_BSL, 2, 2}, {"bsr", F_BSR, 2, 2},
  {"abs", F_ABS, 1, 1}, {"min", F_MIN, 2, 2}, {"max", F_MAX, 2, 2},
  {"float", F_FLOAT, 1, 1}, {"round", F_ROUND, 1, 1}, {"trunc", F_TRUNC, 1, 1},
  {"is_integer", F_IS_INTEGER, 1, 1}, {"is_float", F_IS_FLOAT, 1, 1},
  {"is_number", F_IS_NUMBER, 1, 1}, {"is_boolean", F_IS_BOOLEAN, 1, 1},
  {"is_string", F_IS_STRING, 1, 1}, {"is_binary", F_IS_STRING, 1, 1},
  {"is_array", F_IS_ARRAY, 1, 1}, {"is_tuple", F_IS_ARRAY, 1, 1},
  {"is_map", F_IS_MAP, 1, 1}, {"is_pid", F_IS_PID, 1, 1},
  {"is_reference", F_IS_REFERENCE, 1, 1}, {"is_table", F_IS_TABLE, 1, 1},
  {"is_atom", F_IS_ATOM, 1, 1}, {"is_list", F_IS_LIST, 1, 1},
  {"element", F_ELEMENT, 2, 2}, {"size", F_SIZE, 1, 1},
  {"map_get", F_MAP_GET, 2, 2}, {"is_map_key", F_IS_MAP_KEY, 2, 2},
  {"self", F_SELF, 0, 0}
};

/* ---- reading the spec ---- */

/* 1 when (p, n) is the string term of the C string s. */
static int str_is(const unsigned char *p, size_t n, const char *s) {
  size_t len = strlen(s);
  return n == len + 3 && p[0] == TERM_STRING && memcmp(p + 1, s, len) == 0;
}

/* The number N of a variable "$N" (no leading zero, at most 8 digits), or
** NONE for any other term. */
static uint32_t var_number(const unsigned char *p, size_t n) {
  size_t digits;
  uint32_t v = 0;
  if (n < 5 || p[0] != TERM_STRING || p[1] != '$') return NONE;
  digits = n - 4;   /* less the tag, the '$' and the two closing bytes */
  if (digits > 8 || (digits > 1 && p[2] == '0')) return NONE;
  for (size_t i = 0; i < digits; i++) {
    if (p[2 + i] < '0' || p[2 + i] > '9') return NONE;
    v = v * 10 + (uint32_t)(p[2 + i] - '0');
  }
  return v;
}

/* ---- the compiler ---- */

typedef struct comp {
  mspec *ms;
  char *err;
  size_t errlen;
  int failed;
  uint32_t clause;       /* 1-based; 0 outside the clauses */
  const char *part;      /* "guard" or "body" while compiling one; else NULL */
  uint32_t item;         /* 1-based number of that guard or body expression */
  uint32_t *vars;        /* the clause head's variable numbers, ascending */
  uint32_t nvars, capvars;
  unsigned char *seen;   /* per slot: bound already, in matching order */
} comp;

/* Records the first error only, placed in its clause and expression. */
static uint32_t fail(comp *cp, const char *fmt, ...) {
  char msg[160];
  va_list ap;
  if (cp->failed) return NONE;
  cp->failed = 1;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (cp->errlen == 0) return NONE;
  if (cp->clause == 0) snprintf(cp->err, cp->errlen, "%s", msg);
  else if (cp->part == NULL) snprintf(cp->err, cp->errlen, "clause %u: %s", cp->clause, msg);
  else snprintf(cp->err, cp->errlen, "clause %u: %s %u: %s", cp->clause, cp->part, cp->item, msg);
  return NONE;
}

static uint32_t out_of_memory(comp *cp) {
  uint32_t clause = cp->clause;
  cp->clause = 0;   /* no place: it is not the spec's fault */
  fail(cp, "out of memory");
  cp->clause = clause;
  return NONE;
}

static uint32_t new_node(comp *cp, int op) {
  mspec *ms = cp->ms;
  node *nd;
  if (cp->failed) return NONE;
  if (ms->nnodes == ms->capnodes) {
    uint32_t cap = ms->capnodes ? ms->capnodes * 2 : 32;
    node *p = ms->capnodes < NONE / 4 ? realloc(ms->nodes, (size_t)cap * sizeof *p) : NULL;
    if (p == NULL) return out_of_memory(cp);
    ms->nodes = p;
    ms->capnodes = cap;
  }
  nd = &ms->nodes[ms->nnodes];
  memset(nd, 0, sizeof *nd);
  nd->op = (unsigned char)op;
  return ms->nnodes++;
}

/* Reserves n consecutive kid entries; returns the first. */
static uint32_t new_kids(comp *cp, uint32_t n) {
  mspec *ms = cp->ms;
  uint32_t first = ms->nkids;
  if (cp->failed) return NONE;
  if (n > NONE / 4 - ms->nkids) return out_of_memory(cp);
  if (ms->nkids + n > ms->capkids) {
    uint32_t cap = ms->capkids ? ms->capkids : 32;
    uint32_t *p;
    while (cap < ms->nkids + n) cap *= 2;
    p = realloc(ms->kids, (size_t)cap * sizeof *p);
    if (p == NULL) return out_of_memory(cp);
    ms->kids = p;
    ms->capkids = cap;
  }
  ms->nkids += n;
  return first;
}

/* Walking the elements of a well-formed array or map of the spec. */
typedef struct iter {
  const unsigned char *p;
  size_t n, at;
} iter;

static uint32_t iter_open(iter *it, const unsigned char *p, size_t n) {
  int tag;
  uint32_t count = 0;
  it->p = p;
  it->n = n;
  it->at = term_get_header(p, n, &tag, &count);
  return count;
}

static void iter_next(iter *it, const unsigned char **e, size_t *en) {
  *e = it->p + it->at;
  *en = term_size_trusted(*e, it->n - it->at);
  it->at += *en;
}

/* -- variables of a head -- */

static int add_var(comp *cp, uint32_t v) {
  if (cp->nvars == cp->capvars) {
    uint32_t cap = cp->capvars ? cp->capvars * 2 : 16;
    uint32_t *p = realloc(cp->vars, (size_t)cap * sizeof *p);
    if (p == NULL) {
      out_of_memory(cp);
      return -1;
    }
    cp->vars = p;
    cp->capvars = cap;
  }
  cp->vars[cp->nvars++] = v;
  return 0;
}

/* Every variable in a pattern; map keys are literal, so only the values. */
static int collect_vars(comp *cp, const unsigned char *p, size_t n) {
  uint32_t v = var_number(p, n);
  const unsigned char *e;
  size_t en;
  iter it;
  uint32_t count;
  if (v != NONE) return add_var(cp, v);
  if (p[0] != TERM_ARRAY && p[0] != TERM_MAP) return 0;
  count = iter_open(&it, p, n);
  if (p[0] == TERM_MAP)
    for (uint32_t i = 0; i < count; i++) iter_next(&it, &e, &en);
  for (uint32_t i = 0; i < count; i++) {
    iter_next(&it, &e, &en);
    if (collect_vars(cp, e, en) != 0) return -1;
  }
  return 0;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Gives the head's variables their slots: their rank in number order, so
** that "$$" is the slots in order. */
static int number_vars(comp *cp, const unsigned char *head, size_t n) {
  uint32_t kept = 0;
  cp->nvars = 0;
  if (collect_vars(cp, head, n) != 0) return -1;
  if (cp->nvars > 1) qsort(cp->vars, cp->nvars, sizeof *cp->vars, cmp_u32);
  for (uint32_t i = 0; i < cp->nvars; i++)
    if (kept == 0 || cp->vars[kept - 1] != cp->vars[i]) cp->vars[kept++] = cp->vars[i];
  cp->nvars = kept;
  free(cp->seen);
  cp->seen = calloc(kept ? kept : 1, 1);
  if (cp->seen == NULL) {
    out_of_memory(cp);
    return -1;
  }
  return 0;
}

static uint32_t slot_of(const comp *cp, uint32_t v) {
  uint32_t lo = 0, hi = cp->nvars;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (cp->vars[mid] == v) return mid;
    if (cp->vars[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return NONE;
}

/* -- heads -- */

/* 1 when the pattern has nothing to bind or skip, so a memcmp matches it.
** Maps never are: a map pattern matches maps with more keys too. */
static int plain_literal(const unsigned char *p, size_t n) {
  const unsigned char *e;
  size_t en;
  iter it;
  uint32_t count;
  if (p[0] == TERM_MAP || str_is(p, n, "_") || var_number(p, n) != NONE) return 0;
  if (p[0] != TERM_ARRAY) return 1;
  count = iter_open(&it, p, n);
  for (uint32_t i = 0; i < count; i++) {
    iter_next(&it, &e, &en);
    if (!plain_literal(e, en)) return 0;
  }
  return 1;
}

static uint32_t compile_pattern(comp *cp, const unsigned char *p, size_t n);

static uint32_t compile_array_pattern(comp *cp, const unsigned char *p, size_t n) {
  const unsigned char *e;
  size_t en;
  iter it;
  uint32_t count = iter_open(&it, p, n);
  uint32_t ni = new_node(cp, P_ARRAY), first = new_kids(cp, count);
  if (cp->failed) return NONE;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t k;
    iter_next(&it, &e, &en);
    if ((k = compile_pattern(cp, e, en)) == NONE) return NONE;
    cp->ms->kids[first + i] = k;
  }
  cp->ms->nodes[ni].n = count;
  cp->ms->nodes[ni].kid = first;   /* slot: set by drop_unread, once variables are known */
  return ni;
}

static uint32_t compile_map_pattern(comp *cp, const unsigned char *p, size_t n) {
  const unsigned char *e;
  size_t en;
  iter it;
  uint32_t count = iter_open(&it, p, n);
  uint32_t ni = new_node(cp, P_MAP), first = new_kids(cp, 2 * count);
  if (cp->failed) return NONE;
  for (uint32_t i = 0; i < count; i++) {   /* the keys, literal */
    uint32_t k = new_node(cp, P_LIT);
    if (k == NONE) return NONE;
    iter_next(&it, &e, &en);
    cp->ms->nodes[k].lit = e;
    cp->ms->nodes[k].litlen = en;
    cp->ms->kids[first + i] = k;
  }
  for (uint32_t i = 0; i < count; i++) {
    uint32_t k;
    iter_next(&it, &e, &en);
    if ((k = compile_pattern(cp, e, en)) == NONE) return NONE;
    cp->ms->kids[first + count + i] = k;
  }
  cp->ms->nodes[ni].n = count;
  cp->ms->nodes[ni].kid = first;
  return ni;
}

/* The order in which this compiles the variables, elements in order and
** map keys ascending, is the order in which match() meets them: so the
** first occurrence binds and the others compare. */
static uint32_t compile_pattern(comp *cp, const unsigned char *p, size_t n) {
  uint32_t v = var_number(p, n), ni;
  if (str_is(p, n, "_")) return new_node(cp, P_ANY);
  if (v != NONE) {
    uint32_t slot = slot_of(cp, v);
    if ((ni = new_node(cp, cp->seen[slot] ? P_CHECK : P_BIND)) == NONE) return NONE;
    cp->ms->nodes[ni].slot = slot;
    cp->seen[slot] = 1;
    return ni;
  }
  if (p[0] == TERM_MAP) return compile_map_pattern(cp, p, n);
  if (p[0] == TERM_ARRAY && !plain_literal(p, n)) return compile_array_pattern(cp, p, n);
  if ((ni = new_node(cp, P_LIT)) == NONE) return NONE;
  cp->ms->nodes[ni].lit = p;
  cp->ms->nodes[ni].litlen = n;
  return ni;
}

/* -- expressions -- */

static uint32_t compile_expr(comp *cp, const unsigned char *p, size_t n);

static uint32_t const_node(comp *cp, const unsigned char *p, size_t n) {
  uint32_t ni = new_node(cp, E_CONST);
  if (ni == NONE) return NONE;
  cp->ms->nodes[ni].lit = p;
  cp->ms->nodes[ni].litlen = n;
  /* decoded once here rather than on every object a guard looks at */
  cp->ms->nodes[ni].isnum = n > 0 && p[0] == TERM_NUMBER &&
                            term_get_num(p, n, &cp->ms->nodes[ni].num) == n;
  return ni;
}

/* A node of op over `count` expressions read from it. */
static uint32_t compile_list(comp *cp, int op, iter *it, uint32_t count) {
  const unsigned char *e;
  size_t en;
  uint32_t ni = new_node(cp, op), first = new_kids(cp, count);
  if (cp->failed) return NONE;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t k;
    iter_next(it, &e, &en);
    if ((k = compile_expr(cp, e, en)) == NONE) return NONE;
    cp->ms->kids[first + i] = k;
  }
  cp->ms->nodes[ni].n = count;
  cp->ms->nodes[ni].kid = first;
  return ni;
}

static const struct fninfo *find_function(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
    if (str_is(p, n, functions[i].name)) return &functions[i];
  return NULL;
}

static uint32_t arity_error(comp *cp, const struct fninfo *f) {
  if (f->max == MANY)
    return fail(cp, "'%s' takes at least %u argument%s", f->name, f->min, f->min == 1 ? "" : "s");
  if (f->min == f->max)
    return fail(cp, "'%s' takes %u argument%s", f->name, f->min, f->min == 1 ? "" : "s");
  return fail(cp, "'%s' takes %u or %u arguments", f->name, f->min, f->max);
}

/* {"const", x}, {{...}}, or {name, args...}. */
static uint32_t compile_array_expr(comp *cp, const unsigned char *p, size_t n) {
  const unsigned char *e;
  size_t en;
  const struct fninfo *f;
  iter it;
  uint32_t count = iter_open(&it, p, n), ni;
  if (count == 0) return const_node(cp, p, n);   /* {}: nothing to call or build */
  iter_next(&it, &e, &en);
  if (count == 1 && e[0] == TERM_ARRAY) {
    count = iter_open(&it, e, en);
    return compile_list(cp, E_TUPLE, &it, count);
  }
  if (e[0] != TERM_STRING)
    return fail(cp, "an array must be a call {\"name\", args...}; build arrays with {{...}}");
  if (str_is(e, en, "const")) {
    if (count != 2) return fail(cp, "'const' takes 1 argument");
    iter_next(&it, &e, &en);
    return const_node(cp, e, en);
  }
  if ((f = find_function(e, en)) == NULL) {
    size_t namelen = en - 3;   /* the string's body, zeros escaped */
    /* {"$1", "$2"} for an array is the likely mistake: say how instead */
    return fail(cp, "unknown function '%.*s%s'%s", (int)(namelen > 40 ? 40 : namelen),
                (const char *)e + 1, namelen > 40 ? "..." : "",
                e[1] == '$' ? " (build arrays with {{...}})" : "");
  }
  if (count - 1 < f->min || (f->max != MANY && count - 1 > f->max)) return arity_error(cp, f);
  if ((ni = compile_list(cp, E_CALL, &it, count - 1)) == NONE) return NONE;
  cp->ms->nodes[ni].fn = f->fn;
  /* a comparison, wherever it stands, gets flat code if it is on integers */
  if (mspec_int_is_comparison(f->fn) && mspec_int_compile(cp->ms, ni) != 0)
    return out_of_memory(cp);
  return ni;
}

/* A map of literal keys and evaluated values. */
static uint32_t compile_map_expr(comp *cp, const unsigned char *p, size_t n) {
  const unsigned char *e;
  size_t en;
  iter it;
  uint32_t count = iter_open(&it, p, n), ni, first;
  if (count == 0) return const_node(cp, p, n);
  ni = new_node(cp, E_MAP);
  first = new_kids(cp, 2 * count);
  if (cp->failed) return NONE;
  for (uint32_t i = 0; i < count; i++) {   /* already in ascending order */
    uint32_t k;
    iter_next(&it, &e, &en);
    if ((k = const_node(cp, e, en)) == NONE) return NONE;
    cp->ms->kids[first + i] = k;
  }
  for (uint32_t i = 0; i < count; i++) {
    uint32_t k;
    iter_next(&it, &e, &en);
    if ((k = compile_expr(cp, e, en)) == NONE) return NONE;
    cp->ms->kids[first + count + i] = k;
  }
  cp->ms->nodes[ni].n = count;
  cp->ms->nodes[ni].kid = first;
  return ni;
}

static uint32_t compile_expr(comp *cp, const unsigned char *p, size_t n) {
  uint32_t v, ni;
  if (p[0] == TERM_ARRAY) return compile_array_expr(cp, p, n);
  if (p[0] == TERM_MAP) return compile_map_expr(cp, p, n);
  if (str_is(p, n, "$_")) return new_node(cp, E_OBJ);
  if (str_is(p, n, "$$")) return new_node(cp, E_ALL);
  if ((v = var_number(p, n)) == NONE) return const_node(cp, p, n);
  if (slot_of(cp, v) == NONE) return fail(cp, "variable '$%u' is not bound in the head", v);
  if ((ni = new_node(cp, E_VAR)) == NONE) return NONE;
  cp->ms->nodes[ni].slot = slot_of(cp, v);
  return ni;
}

/* -- clauses -- */

static int compile_head(comp *cp, clause *cl, const unsigned char *p, size_t n) {
  if (number_vars(cp, p, n) != 0) return -1;
  cl->nvars = cp->nvars;
  if (cp->nvars > cp->ms->maxvars) cp->ms->maxvars = cp->nvars;
  cl->head = compile_pattern(cp, p, n);
  return cl->head == NONE ? -1 : 0;
}

/* Guards or body: a list of expressions into a kid range. */
static int compile_exprs(comp *cp, const char *part, const unsigned char *p, size_t n,
                         uint32_t *first, uint32_t *count) {
  const unsigned char *e;
  size_t en;
  iter it;
  *count = iter_open(&it, p, n);
  if ((*first = new_kids(cp, *count)) == NONE) return -1;
  cp->part = part;
  for (uint32_t i = 0; i < *count; i++) {
    uint32_t k;
    cp->item = i + 1;
    iter_next(&it, &e, &en);
    if ((k = compile_expr(cp, e, en)) == NONE) return -1;
    cp->ms->kids[*first + i] = k;
  }
  cp->part = NULL;
  return 0;
}

/* -- bindings no one reads -- */

/* Marks in cp->seen the slots that node ni (and its kids) reads. */
static void mark_reads(comp *cp, uint32_t ni) {
  const node *nd = &cp->ms->nodes[ni];
  uint32_t kids = nd->op == E_MAP || nd->op == P_MAP ? 2 * nd->n : nd->n;
  if (nd->op == E_VAR || nd->op == P_CHECK) cp->seen[nd->slot] = 1;
  if (nd->op == E_ALL) memset(cp->seen, 1, cp->nvars);
  if (nd->op == E_CALL || nd->op == E_TUPLE || nd->op == E_MAP || nd->op == P_ARRAY ||
      nd->op == P_MAP)
    for (uint32_t i = 0; i < kids; i++) mark_reads(cp, cp->ms->kids[nd->kid + i]);
}

/* A variable bound in the head and read nowhere matches anything, as "_"
** does: it becomes one. Each array's slot is set here, to the number of
** its elements up to its last that is no "_": those after are not even
** looked at (match_array). {'$1', '$2'} with only '$1' used reads the key
** and stops. */
static void drop_unread(comp *cp, uint32_t ni) {
  node *nd = &cp->ms->nodes[ni];
  if (nd->op == P_BIND && !cp->seen[nd->slot]) nd->op = P_ANY;
  if (nd->op == P_MAP)
    for (uint32_t i = 0; i < nd->n; i++) drop_unread(cp, cp->ms->kids[nd->kid + nd->n + i]);
  if (nd->op == P_ARRAY) {
    nd->slot = 0;
    for (uint32_t i = 0; i < nd->n; i++) {
      uint32_t k = cp->ms->kids[nd->kid + i];
      drop_unread(cp, k);
      if (cp->ms->nodes[k].op != P_ANY) nd->slot = i + 1;
    }
  }
}

static void drop_unread_binds(comp *cp, const clause *cl) {
  memset(cp->seen, 0, cp->nvars);   /* now: read by a guard, the body or a later
                                       occurrence in the head */
  mark_reads(cp, cl->head);
  for (uint32_t i = 0; i < cl->nguards; i++) mark_reads(cp, cp->ms->kids[cl->guards + i]);
  for (uint32_t i = 0; i < cl->nbody; i++) mark_reads(cp, cp->ms->kids[cl->body + i]);
  drop_unread(cp, cl->head);
}

/* -- heads as flat code -- */

static int add_hop(comp *cp, int op, uint32_t n, const unsigned char *lit, size_t litlen) {
  mspec *ms = cp->ms;
  if (ms->nhops == ms->caphops) {
    uint32_t cap = ms->caphops ? ms->caphops * 2 : 16;
    hop *p = ms->caphops < NONE / 4 ? realloc(ms->hops, (size_t)cap * sizeof *p) : NULL;
    if (p == NULL) {
      out_of_memory(cp);
      return 0;
    }
    ms->hops = p;
    ms->caphops = cap;
  }
  ms->hops[ms->nhops++] = (hop){(unsigned char)op, n, lit, litlen};
  return 1;
}

/* Appends node ni's flat code: 1, or 0 when it has none (a map) or
** memory ran out. */
static int flatten(comp *cp, uint32_t ni) {
  const node *nd = &cp->ms->nodes[ni];
  switch (nd->op) {
    case P_ANY: return add_hop(cp, H_SKIP, 0, NULL, 0);
    case P_BIND: return add_hop(cp, H_BIND, nd->slot, NULL, 0);
    case P_CHECK: return add_hop(cp, H_CHECK, nd->slot, NULL, 0);
    case P_LIT: return add_hop(cp, H_LIT, 0, nd->lit, nd->litlen);
    case P_ARRAY:
      if (!add_hop(cp, H_ARRAY, nd->n, NULL, 0)) return 0;
      for (uint32_t i = 0; i < nd->n; i++)
        if (!flatten(cp, cp->ms->kids[nd->kid + i])) return 0;
      return 1;
    default:
      return 0;
  }
}

/* Gives the clause's head flat code if it can have some. Whatever follows
** the last term read is left out, as match_array leaves out the elements
** after its last one that is no "_". */
static void flatten_head(comp *cp, clause *cl) {
  uint32_t start = cp->ms->nhops;
  cl->flat = flatten(cp, cl->head);
  if (!cl->flat) {
    cp->ms->nhops = start;
    return;
  }
  while (cp->ms->nhops > start && cp->ms->hops[cp->ms->nhops - 1].op == H_SKIP)
    cp->ms->nhops--;
  cl->hprog = start;
  cl->nhprog = cp->ms->nhops - start;
}

static int compile_clause(comp *cp, clause *cl, const unsigned char *p, size_t n) {
  const unsigned char *head, *guards, *body;
  size_t hn, gn, bn;
  iter it;
  if (p[0] != TERM_ARRAY || iter_open(&it, p, n) != 3) {
    fail(cp, "a clause must be an array {head, guards, body}");
    return -1;
  }
  iter_next(&it, &head, &hn);
  iter_next(&it, &guards, &gn);
  iter_next(&it, &body, &bn);
  if (guards[0] != TERM_ARRAY) {
    fail(cp, "the guards must be an array");
    return -1;
  }
  if (body[0] != TERM_ARRAY || iter_open(&it, body, bn) == 0) {
    fail(cp, "the body must be a non-empty array");
    return -1;
  }
  if (compile_head(cp, cl, head, hn) != 0) return -1;
  if (compile_exprs(cp, "guard", guards, gn, &cl->guards, &cl->nguards) != 0) return -1;
  /* a guard that is no comparison (those have theirs) may have flat code too */
  for (uint32_t g = 0; g < cl->nguards; g++) {
    uint32_t ni = cp->ms->kids[cl->guards + g];
    if (cp->ms->nodes[ni].nprog == 0 && mspec_int_compile(cp->ms, ni) != 0) {
      out_of_memory(cp);
      return -1;
    }
  }
  if (compile_exprs(cp, "body", body, bn, &cl->body, &cl->nbody) != 0) return -1;
  drop_unread_binds(cp, cl);
  flatten_head(cp, cl);
  return cp->failed ? -1 : 0;
}

/* Checks and copies the spec bytes into a new, empty mspec. */
static mspec *begin(comp *cp, const unsigned char *spec, size_t len, char *err, size_t errlen) {
  mspec *ms;
  memset(cp, 0, sizeof *cp);
  cp->err = err;
  cp->errlen = errlen;
  if (errlen > 0) err[0] = '\0';
  if (spec == NULL || !term_valid(spec, len)) {
    fail(cp, "not a well-formed term");
    return NULL;
  }
  if (len > NONE / 4) {   /* node and kid counts are 32-bit */
    fail(cp, "too large");
    return NULL;
  }
  if ((ms = calloc(1, sizeof *ms)) == NULL || (ms->src = malloc(len)) == NULL) {
    free(ms);
    out_of_memory(cp);
    return NULL;
  }
  memcpy(ms->src, spec, len);
  cp->ms = ms;
  return ms;
}

static mspec *finish(comp *cp) {
  free(cp->vars);
  free(cp->seen);
  if (!cp->failed) return cp->ms;
  mspec_free(cp->ms);
  return NULL;
}

mspec *mspec_compile(const unsigned char *spec, size_t len, char *err, size_t errlen) {
  comp cp;
  iter it;
  uint32_t count;
  mspec *ms = begin(&cp, spec, len, err, errlen);
  if (ms == NULL) return NULL;
  if (ms->src[0] != TERM_ARRAY) {
    fail(&cp, "a match spec must be an array of clauses {head, guards, body}");
    return finish(&cp);
  }
  count = iter_open(&it, ms->src, len);
  if ((ms->clauses = calloc(count ? count : 1, sizeof *ms->clauses)) == NULL) {
    out_of_memory(&cp);
    return finish(&cp);
  }
  for (uint32_t i = 0; i < count && !cp.failed; i++) {
    const unsigned char *e;
    size_t en;
    iter_next(&it, &e, &en);
    cp.clause = i + 1;
    if (compile_clause(&cp, &ms->clauses[i], e, en) == 0) ms->nclauses++;
  }
  return finish(&cp);
}

mspec *mspec_from_pattern(const unsigned char *pattern, size_t len, int result,
                          char *err, size_t errlen) {
  comp cp;
  clause *cl;
  uint32_t body;
  mspec *ms = begin(&cp, pattern, len, err, errlen);
  if (ms == NULL) return NULL;
  if (result != MSPEC_BINDINGS && result != MSPEC_OBJECT && result != MSPEC_TRUE) {
    fail(&cp, "unknown result kind %d", result);
    return finish(&cp);
  }
  if ((ms->clauses = calloc(1, sizeof *ms->clauses)) == NULL) {
    out_of_memory(&cp);
    return finish(&cp);
  }
  cl = &ms->clauses[0];
  if (compile_head(&cp, cl, ms->src, len) != 0) return finish(&cp);
  body = result == MSPEC_BINDINGS ? new_node(&cp, E_ALL)
       : result == MSPEC_OBJECT ? new_node(&cp, E_OBJ)
       : const_node(&cp, k_true, sizeof k_true);
  cl->body = new_kids(&cp, 1);
  if (cp.failed) return finish(&cp);
  ms->kids[cl->body] = body;
  cl->nbody = 1;
  drop_unread_binds(&cp, cl);
  flatten_head(&cp, cl);
  if (cp.failed) return finish(&cp);
  ms->nclauses = 1;
  return finish(&cp);
}

void mspec_free(mspec *ms) {
  if (ms == NULL) return;
  free(ms->src);
  free(ms->nodes);
  free(ms->kids);
  free(ms->iops);
  free(ms->hops);
  free(ms->clauses);
  free(ms);
}

uint32_t mspec_clauses(const mspec *ms) {
  return ms->nclauses;
}

/* ---- the bound key ---- */

/* The literal a clause's head puts at the key position, if any. */
static int head_key(const mspec *ms, const clause *cl, uint32_t keypos,
                    const unsigned char *field, size_t fieldlen,
                    const unsigned char **key, size_t *klen) {
  const node *h = &ms->nodes[cl->head];
  const node *k;
  if (field == NULL) {
    if (keypos == 0) return 0;
    if (h->op == P_LIT) return term_array_elem(h->lit, h->litlen, keypos - 1, key, klen);
    if (h->op != P_ARRAY || keypos > h->n) return 0;
    k = kid(ms, h, keypos - 1);
  } else {
    uint32_t i;
    if (h->op != P_MAP) return 0;
    for (i = 0; i < h->n; i++) {
      k = kid(ms, h, i);
      if (k->litlen == fieldlen && memcmp(k->lit, field, fieldlen) == 0) break;
    }
    if (i == h->n) return 0;
    k = kid(ms, h, h->n + i);
  }
  if (k->op != P_LIT) return 0;
  *key = k->lit;
  *klen = k->litlen;
  return 1;
}

int mspec_bound_key(const mspec *ms, uint32_t keypos, const unsigned char *keyfield,
                    size_t keyfieldlen, const unsigned char **key, size_t *klen) {
  const unsigned char *k0 = NULL, *k;
  size_t n0 = 0, n;
  if (ms->nclauses == 0) return 0;
  for (uint32_t c = 0; c < ms->nclauses; c++) {
    if (!head_key(ms, &ms->clauses[c], keypos, keyfield, keyfieldlen, &k, &n)) return 0;
    if (c > 0 && (n != n0 || memcmp(k, k0, n) != 0)) return 0;
    k0 = k;
    n0 = n;
  }
  *key = k0;
  *klen = n0;
  return 1;
}
