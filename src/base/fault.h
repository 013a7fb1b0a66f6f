/*
** fault.h — seeded fault draws, for tests that make things fail on
** purpose (docs/durability.md, "Injected write failures").
**
** A fault rate draws from its own stream of pseudo-random numbers
** (splitmix64), started from a seed: the same seed and the same sequence
** of draws fail the same ones. Draws are lock-free and safe from any
** thread; only their order across threads is up to the threads.
*/
#ifndef HL_FAULT_H
#define HL_FAULT_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct fault_rate {
  atomic_uint_fast64_t threshold;   /* fails a draw below it (of 2^53); 0: never */
  atomic_uint_fast64_t state;
} fault_rate;

/* Never failing, its stream started from seed. */
void fault_init(fault_rate *f, uint64_t seed);
/* From now on a draw fails with probability rate (0 to 1). */
void fault_set(fault_rate *f, double rate);
/* 1 when this draw fails. Draws nothing while the rate is 0. */
int fault_draw(fault_rate *f);

#endif
