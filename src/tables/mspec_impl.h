/*
** mspec_impl.h — the compiled form of a match spec: the node program that
** mspec.c (the compiler) builds and mspec_run.c (the runner) walks, with
** the flat integer code of mspec_int.c. Only those three files may include
** it; everyone else uses mspec.h.
*/
#ifndef HL_MSPEC_IMPL_H
#define HL_MSPEC_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "mspec.h"
#include "term.h"

/* A node's op. The P_ nodes make up heads, which match() walks against the
** object; the E_ nodes make up guards and bodies, which eval() computes. */
enum {
  /* head patterns */
  P_ANY,      /* "_" */
  P_LIT,      /* a term without variables, wildcards or maps: compared bytewise */
  P_BIND,     /* a variable's first occurrence: binds it */
  P_CHECK,    /* a later occurrence: must equal the binding */
  P_ARRAY,    /* n kids: the element patterns */
  P_MAP,      /* 2n kids: n key literals (ascending), then n value patterns */
  /* expressions */
  E_CONST,    /* lit */
  E_VAR,      /* slot */
  E_OBJ,      /* "$_" */
  E_ALL,      /* "$$" */
  E_TUPLE,    /* {{...}}: n kids */
  E_MAP,      /* 2n kids: n key constants (ascending), then n values */
  E_CALL      /* fn of the n kids */
};

typedef struct node {
  unsigned char op;
  unsigned char fn;            /* E_CALL: F_* */
  uint32_t n;                  /* kids; entries for the map nodes */
  uint32_t kid;                /* the first kid's entry in ms->kids */
  uint32_t slot;               /* P_BIND, P_CHECK, E_VAR: the variable;
                                  P_ARRAY: kids up to the last that is no "_" */
  const unsigned char *lit;    /* P_LIT, E_CONST: in ms->src, or static */
  size_t litlen;
  int isnum;                   /* E_CONST: lit is a number, decoded in num */
  term_num num;
  uint32_t prog, nprog;        /* a comparison or a guard: its flat integer
                                  code in ms->iops (mspec_int.h), if it has
                                  some (nprog > 0) */
} node;

/* An operand of a flat integer operation: a variable's integer, a
** constant, or the value an earlier operation left on the stack. */
enum { IA_NONE, IA_STACK, IA_VAR, IA_CONST };

typedef struct iarg {
  unsigned char kind;
  uint32_t slot;               /* IA_VAR */
  int64_t k;                   /* IA_CONST */
} iarg;

/* One operation: fn (F_*) of a and b, pushed on the stack (F_NOT: of b). */
typedef struct iop {
  unsigned char fn;
  iarg a, b;
} iop;

/* A head of arrays, literals, variables and "_" alone (no map) is also
** flat code: one operation per term of a walk through the object in the
** order its bytes come, with nothing after the last term the spec reads. */
enum {
  H_ARRAY,    /* an array of n elements: its header, then its elements */
  H_BIND,     /* a variable's first occurrence: binds slot n */
  H_SKIP,     /* "_", or a variable nothing reads: passed over */
  H_LIT,      /* lit's bytes */
  H_CHECK     /* the bytes bound to slot n */
};

typedef struct hop {
  unsigned char op;
  uint32_t n;                  /* H_ARRAY: elements; H_BIND, H_CHECK: slot */
  const unsigned char *lit;    /* H_LIT */
  size_t litlen;
} hop;

/* A variable's binding: a part of the object. */
typedef struct slice {
  const unsigned char *p;
  size_t n;
} slice;

typedef struct clause {
  uint32_t head;
  int flat;                    /* the head has flat code: ms->hops[hprog..] */
  uint32_t hprog, nhprog;
  uint32_t guards, nguards;    /* ranges of ms->kids */
  uint32_t body, nbody;
  uint32_t nvars;              /* slots: the head's variables in number order */
} clause;

struct mspec {
  unsigned char *src;          /* a copy of the spec: constants point into it */
  node *nodes;
  uint32_t nnodes, capnodes;
  uint32_t *kids;              /* node indices; a node's kids are consecutive */
  uint32_t nkids, capkids;
  iop *iops;                   /* the guards' flat integer code */
  uint32_t niops, capiops;
  hop *hops;                   /* the heads' flat code */
  uint32_t nhops, caphops;
  clause *clauses;
  uint32_t nclauses;
  uint32_t maxvars;
};

/* The functions a guard or body may call (E_CALL's fn). */
enum {
  F_EQ, F_NE, F_LT, F_GT, F_LE, F_GE,
  F_AND, F_OR, F_XOR, F_NOT, F_ANDALSO, F_ORELSE,
  F_ADD, F_SUB, F_MUL, F_FDIV, F_DIV, F_REM,
  F_BAND, F_BOR, F_BXOR, F_BNOT, F_BSL, F_BSR, F_ABS, F_FLOAT, F_ROUND, F_TRUNC, F_MIN, F_MAX,
  F_IS_INTEGER, F_IS_FLOAT, F_IS_NUMBER, F_IS_BOOLEAN, F_IS_STRING,
  F_IS_ARRAY, F_IS_MAP, F_IS_PID, F_IS_REFERENCE, F_IS_TABLE, F_IS_ATOM, F_IS_LIST,
  F_ELEMENT, F_SIZE, F_MAP_GET, F_IS_MAP_KEY, F_SELF
};

/* Kid i of nd. */
static inline const node *kid(const mspec *ms, const node *nd, uint32_t i) {
  return &ms->nodes[ms->kids[nd->kid + i]];
}

#endif
