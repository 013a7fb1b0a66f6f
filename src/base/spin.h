/*
** spin.h — short waits, and a lock for critical sections that are short
** and seldom contended.
**
** A thread waiting for another to let something go pauses while the other
** is likely still in a handful of instructions, gives the processor up
** while it may be in a longer stretch, and naps once it surely is:
** spin_wait_once is one step of that (SPIN_PAUSES pauses, then
** SPIN_YIELDS yields, then naps of SPIN_NAP_NS).
**
** spinlock is a lock that waits that way. Taking a free one is one atomic
** exchange and letting it go a plain store, where a pthread mutex's unlock
** is a second atomic read-modify-write and both are calls into the C
** library: worth it for a lock nearly always free, held for a few dozen
** instructions, now and then for a call to malloc (a table heap's shard,
** which one thread mostly uses). It is not fair, and a waiter never sleeps
** on the kernel, only naps: a lock held for long, or by many, wants a
** pthread mutex.
*/
#ifndef HL_SPIN_H
#define HL_SPIN_H

#include <stdatomic.h>

#define SPIN_PAUSES 100
#define SPIN_YIELDS 1000
#define SPIN_NAP_NS 50000

/* A pause instruction where there is one (it tells the processor that
** this is a wait loop); nothing elsewhere. */
void spin_pause(void);
/* The next step of a wait; *tries counts the steps, from 0. */
void spin_wait_once(int *tries);

typedef struct spinlock {
  atomic_int held;
} spinlock;

void spin_init(spinlock *l);
void spin_lock(spinlock *l);
int spin_trylock(spinlock *l);    /* 1: taken */
void spin_unlock(spinlock *l);

#endif
