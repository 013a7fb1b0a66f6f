/*
** fault.c — seeded fault draws (fault.h): a rate and a splitmix64 stream.
** The rate is kept as a threshold of 53 bits, so that 1 fails every
** draw; a draw takes its state with one atomic add, so two threads never
** take the same number.
*/
#include "fault.h"

#define GAMMA 0x9E3779B97F4A7C15ull
#define ONE ((uint64_t)1 << 53)

void fault_init(fault_rate *f, uint64_t seed) {
  atomic_init(&f->threshold, 0);
  atomic_init(&f->state, seed ^ 0x6A09E667F3BCC909ull);   /* a stream of its own */
}

void fault_set(fault_rate *f, double rate) {
  uint64_t t = rate <= 0 ? 0 : rate >= 1 ? ONE : (uint64_t)(rate * (double)ONE);
  atomic_store(&f->threshold, t);
}

int fault_draw(fault_rate *f) {
  uint64_t t = atomic_load(&f->threshold), z;
  if (t == 0) return 0;
  z = atomic_fetch_add(&f->state, GAMMA) + GAMMA;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (z >> 11) < t;
}
