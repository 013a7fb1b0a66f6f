/*
** spin.c — short waits and the spinlock (spin.h).
*/
#include <sched.h>
#include <time.h>

#include "spin.h"

void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

void spin_wait_once(int *tries) {
  struct timespec nap = {0, SPIN_NAP_NS};
  ++*tries;
  if (*tries < SPIN_PAUSES) spin_pause();
  else if (*tries < SPIN_PAUSES + SPIN_YIELDS) sched_yield();
  else nanosleep(&nap, NULL);
}

void spin_init(spinlock *l) {
  atomic_init(&l->held, 0);
}

/* Waits reading, not exchanging: a waiter's exchanges would take the
** line from the holder's cache on every look. */
void spin_lock(spinlock *l) {
  int tries = 0;
  while (atomic_exchange_explicit(&l->held, 1, memory_order_acquire)) {
    do spin_wait_once(&tries);
    while (atomic_load_explicit(&l->held, memory_order_relaxed));
  }
}

int spin_trylock(spinlock *l) {
  return !atomic_load_explicit(&l->held, memory_order_relaxed) &&
         !atomic_exchange_explicit(&l->held, 1, memory_order_acquire);
}

void spin_unlock(spinlock *l) {
  atomic_store_explicit(&l->held, 0, memory_order_release);
}
