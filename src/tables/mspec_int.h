/*
** mspec_int.h — the integers of match specs: Erlang's integer operators
** on int64_t, and comparisons and guards compiled to flat integer code.
**
** Most guards compare keys and counters, and most of those are integers.
** A comparison (in a guard or a body), or a guard, made only of
** comparisons, integer operators and boolean operators over variables
** and integer constants is compiled, once, into a short list of
** operations on int64_t (mspec_int_compile); running it
** (mspec_int_run) reads each variable's integer straight from the object,
** with no value records and no calls per node. A program answers only
** when every variable it reads holds an integer below 2^53 in magnitude
** and no operation raises; otherwise it says it does not know, and the
** caller evaluates the expression the general way. Whenever a program
** answers, the general way gives the same answer: nothing here has side
** effects, so evaluating every argument where Erlang would stop early
** changes nothing but the time.
*/
#ifndef HL_MSPEC_INT_H
#define HL_MSPEC_INT_H

#include <stdint.h>

#include "mspec_impl.h"

#define MSPEC_INT_UNKNOWN (-1)

/* Whether fn (F_*) is an integer operator: + - * div rem band bor bxor bsl bsr. */
int mspec_int_is_op(int fn);
/* fn (mspec_int_is_op) on a and b: 0 and *res, or -1 when it raises (a
** result past 64 bits, a division by zero). */
int mspec_int_arith(int fn, int64_t a, int64_t b, int64_t *res);
/* Whether fn is one of the comparisons == /= < > =< >=. */
int mspec_int_is_comparison(int fn);
/* Whether comparison fn holds of two terms whose order is c (<0, 0, >0). */
int mspec_int_holds(int fn, int c);

/* Compiles the boolean expression at node index g (a comparison, or a
** guard) into flat code if it can be (it sets the node's prog and nprog;
** nprog stays 0 if not): 0, or -1 when out of memory. */
int mspec_int_compile(mspec *ms, uint32_t g);
/* Runs g's program (nprog > 0) with the clause's bindings: 1 if g is
** true, 0 if false, MSPEC_INT_UNKNOWN when it cannot tell. */
int mspec_int_run(const mspec *ms, const node *g, const slice *binds);

#endif
