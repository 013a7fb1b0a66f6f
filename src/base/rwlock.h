/*
** rwlock.h — a reader-writer lock whose readers, while only reads come,
** write no memory another thread reads.
**
** A pthread reader-writer lock makes every reader write the lock's own
** cache line (its count of readers), so two threads reading under one
** lock pass that line between their cores on every read, and reads of a
** table that fits in the caches get no faster from a second thread.
** This lock keeps a pthread lock for writers, and a flag, `biased`: while
** it is set, a reader takes no lock at all and only writes the lock's
** address into a slot of its own thread's (one of 64, picked by the
** address), a cache line that no other thread writes. A writer takes the
** pthread lock, clears the flag and waits until no thread's slot names
** the lock. Readers that find the flag clear take the pthread lock as
** before, and after REBIAS_READS of them with no write between, one sets
** the flag again: a lock written often stays a plain pthread lock, and
** each revocation (a look at one slot per thread) is paid for by a run of
** reads before it. (This is the BRAVO design of Dice and
** Kogan, "BRAVO — Biased Locking for Reader-Writer Locks", USENIX ATC
** 2019, with a slot per lock and thread instead of a shared table.)
**
** What it promises, beyond a pthread reader-writer lock's:
** - a thread may take a read lock it already holds, any number of times;
** - rwlock_trywrlock never waits, for readers either;
** - up to RWLOCK_THREADS threads at once read on the fast path; any more
**   read through the pthread lock, correctly but sharing its line.
** A writer waiting for fast readers spins, then yields, then naps 50 µs
** between looks: readers hold a table's lock for one operation, and a
** whole-table read (a scan's chunk) for longer.
*/
#ifndef HL_RWLOCK_H
#define HL_RWLOCK_H

#include <pthread.h>
#include <stdatomic.h>

#define RWLOCK_THREADS 128
#define REBIAS_READS 32

typedef struct rwlock {
  pthread_rwlock_t lock;        /* writers; readers while not biased */
  atomic_int biased;            /* 1: readers announce themselves in their slots */
  atomic_int reads_to_bias;     /* reads through `lock`, with no write between,
                                   before biased is set again */
} rwlock;

int rwlock_init(rwlock *l);     /* 0, or pthread_rwlock_init's error */
void rwlock_destroy(rwlock *l);
void rwlock_rdlock(rwlock *l);
int rwlock_tryrdlock(rwlock *l);   /* 1: taken */
void rwlock_wrlock(rwlock *l);
int rwlock_trywrlock(rwlock *l);   /* 1: taken; 0: held, or being read */
void rwlock_unlock(rwlock *l);     /* a read or a write lock */

/* For tests: whether readers of l take the fast path now, and how many
** threads hold a slot block (a thread takes one at its first read and
** gives it back when it ends). */
int rwlock_is_biased(rwlock *l);
int rwlock_threads_in(void);

#endif
