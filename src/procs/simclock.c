/*
** simclock.c — a node's clock, real or virtual (see simclock.h).
**
** A virtual clock is written only by the thread that drives a
** deterministic node (the host), but read by any (a C host thread, the
** state pool): an atomic, and a compare-and-swap so that it never goes
** back even if two hosts move it at once.
*/
#include <time.h>

#include "simclock.h"

int64_t simclock_real(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void simclock_init(simclock *c, int is_virtual) {
  c->is_virtual = is_virtual;
  c->origin = is_virtual ? 0 : simclock_real();
  atomic_init(&c->virtual_ms, 0);
}

int64_t simclock_now(simclock *c) {
  if (c->is_virtual) return atomic_load(&c->virtual_ms);
  return simclock_real();
}

int64_t simclock_elapsed(simclock *c) {
  return simclock_now(c) - c->origin;
}

int simclock_move_to(simclock *c, int64_t t) {
  int64_t seen;
  if (!c->is_virtual) return 0;
  seen = atomic_load(&c->virtual_ms);
  while (seen < t)
    if (atomic_compare_exchange_weak(&c->virtual_ms, &seen, t)) return 1;
  return 0;
}
