/*
** simclock.h — a node's clock (simclock.c): the time its processes can
** observe (timers, receive timeouts, hl.now). A real clock follows the OS
** monotonic clock; a virtual one (deterministic mode) stands still while
** processes run and moves only when told to: when the host would wait for
** it, or by hand (hl.advance). Times are ms on the node's scale: for a
** real clock the OS's CLOCK_MONOTONIC ms, so they can be waited for; for
** a virtual one, ms since the node started.
*/
#ifndef HL_SIMCLOCK_H
#define HL_SIMCLOCK_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct simclock {
  int is_virtual;
  int64_t origin;             /* the node's start on its own scale */
  _Atomic int64_t virtual_ms; /* a virtual clock's time */
} simclock;

/* The OS's monotonic clock, ms: for what concerns real threads. */
int64_t simclock_real(void);

void simclock_init(simclock *c, int is_virtual);
/* Now, on the node's scale. */
int64_t simclock_now(simclock *c);
/* ms since the node started. */
int64_t simclock_elapsed(simclock *c);
/* A virtual clock moves forward to t (never back); 1 if it moved. A real
** clock is left alone (0). */
int simclock_move_to(simclock *c, int64_t t);

#endif
