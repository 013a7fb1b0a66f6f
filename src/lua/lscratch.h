/*
** lscratch.h — the buffers a binding call encodes its arguments into and
** gets its results in, lent to one call at a time.
**
** Calls into heirloom nest within one Lua state: any allocation may run a
** __gc finalizer that calls heirloom again, and fold's function or a
** receive filter may call it too. So a call never shares its buffers with
** a call nested in it: each borrows a set that nobody else holds and gives
** it back when it is done. The sets are kept from call to call: a call
** that nests in nothing takes the first one, and no call allocates once
** the state has seen its deepest nesting.
**
** A Lua error can jump past the give-back. A set lent to a call whose C
** frame is gone is free again, and that is told without the call's help:
** a call still running is on this OS thread (one thread runs a state at a
** time), and its frame is above the frame of any call nested in it (Lua
** runs coroutines and finalizers on the C stack of the thread that runs
** the state). A set lent on another thread, or at or below the current
** frame, was abandoned by an error. The test errs one way only: a set it
** cannot prove abandoned stays lent, which costs a set, never a mix-up.
*/
#ifndef HL_LSCRATCH_H
#define HL_LSCRATCH_H

#include <pthread.h>
#include <stdint.h>

#include "buf.h"

typedef struct lscratch {
  buf in;               /* the call's encoded arguments */
  buf out;              /* what the engine hands back */
  int lent;
  uintptr_t frame;      /* where the borrower's C frame was */
  pthread_t thread;     /* and on which OS thread */
} lscratch;

typedef struct lscratch_pool {
  lscratch **sets;      /* each set stays where it is while lent */
  size_t n, cap;
} lscratch_pool;

void lscratch_init(lscratch_pool *pool);
void lscratch_free(lscratch_pool *pool);

/* A set for the calling binding function, its buffers empty and without
** an earlier allocation failure; NULL when out of memory. */
lscratch *lscratch_borrow(lscratch_pool *pool);

/* Gives s back (s may be NULL). A buffer grown past what calls usually
** need is freed rather than kept. */
void lscratch_return(lscratch *s);

#endif
