/*
** rwlock.c — the biased reader-writer lock (rwlock.h).
**
** Each thread that reads gets a block of slots, one cache line per eight
** locks it may hold, from a fixed array; a writer revoking the bias of a
** lock reads that lock's slot in every block handed out so far. The
** reader's announcement and the writer's revocation are the two sides of
** Dekker's exclusion: the reader stores its slot and then loads the flag,
** the writer stores the flag and then loads the slots, all sequentially
** consistent, so at least one of them sees the other. A reader that sees
** the flag cleared takes its announcement back and waits on the pthread
** lock, which the writer holds.
**
** What every writer relies on: while the flag is clear and the pthread
** lock free, no reader is on the fast path. A writer that clears the flag
** therefore waits out the fast readers, or (a try) sets the flag again
** before it lets go; and only a reader holding the pthread lock sets it.
*/
#include <stdint.h>

#include "rwlock.h"
#include "spin.h"

#define SLOTS 64                /* a power of two */

typedef struct reader {
  _Alignas(64) _Atomic(const rwlock *) slot[SLOTS];
  unsigned depth[SLOTS];        /* nested reads beyond the first; the owner's */
  atomic_int taken;
} reader;

static reader readers[RWLOCK_THREADS];
static atomic_int readers_used;    /* blocks [0, readers_used) were ever taken */
/* The block of a thread that found none free: its slots stay empty, so
** its reads go through the pthread lock and its unlocks find no slot. */
static reader overflow;

static _Thread_local reader *mine;
static pthread_key_t thread_end;   /* its destructor gives the block back */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void give_back(void *arg) {
  reader *r = arg;
  mine = NULL;
  atomic_store_explicit(&r->taken, 0, memory_order_release);
}

static void make_key(void) {
  pthread_key_create(&thread_end, give_back);
}

static void note_used(int count) {
  int used = atomic_load(&readers_used);
  while (used < count && !atomic_compare_exchange_weak(&readers_used, &used, count)) {
  }
}

/* The calling thread's block, taken at its first read. */
static reader *my_reader(void) {
  reader *r = mine;
  if (r != NULL) return r;
  pthread_once(&key_once, make_key);
  for (int i = 0; i < RWLOCK_THREADS; i++) {
    int free_block = 0;
    if (!atomic_compare_exchange_strong(&readers[i].taken, &free_block, 1)) continue;
    if (pthread_setspecific(thread_end, &readers[i]) != 0) {
      atomic_store(&readers[i].taken, 0);
      break;
    }
    note_used(i + 1);
    return mine = &readers[i];
  }
  return mine = &overflow;
}

static unsigned slot_of(const rwlock *l) {
  return (unsigned)(((uintptr_t)l >> 6) * 0x9E3779B97F4A7C15ull >> 32) & (SLOTS - 1);
}

int rwlock_init(rwlock *l) {
  atomic_init(&l->biased, 0);
  atomic_init(&l->reads_to_bias, REBIAS_READS);
  return pthread_rwlock_init(&l->lock, NULL);
}

void rwlock_destroy(rwlock *l) {
  pthread_rwlock_destroy(&l->lock);
}

/* ---- readers ---- */

/* Takes l without the pthread lock if it is biased; 1 if so. */
static int fast_read(rwlock *l) {
  reader *r;
  unsigned h;
  const rwlock *held;
  r = my_reader();
  h = slot_of(l);
  held = atomic_load_explicit(&r->slot[h], memory_order_relaxed);
  if (held == l) {   /* held already: a writer may be waiting, but for us */
    r->depth[h]++;
    return 1;
  }
  /* another lock this thread holds may have the slot */
  if (held != NULL || r == &overflow || !atomic_load_explicit(&l->biased, memory_order_relaxed))
    return 0;
  atomic_store(&r->slot[h], l);
  if (atomic_load(&l->biased)) return 1;
  atomic_store_explicit(&r->slot[h], NULL, memory_order_release);
  return 0;
}

/* A read through the pthread lock, which the caller now holds: the
** REBIAS_READS-th since the last write sets the flag again. Setting
** it under the read lock keeps it from a writer's critical section. */
static void count_slow_read(rwlock *l) {
  if (!atomic_load_explicit(&l->biased, memory_order_relaxed) &&
      atomic_fetch_sub_explicit(&l->reads_to_bias, 1, memory_order_relaxed) == 1)
    atomic_store_explicit(&l->biased, 1, memory_order_release);
}

void rwlock_rdlock(rwlock *l) {
  if (fast_read(l)) return;
  pthread_rwlock_rdlock(&l->lock);
  count_slow_read(l);
}

int rwlock_tryrdlock(rwlock *l) {
  if (fast_read(l)) return 1;
  if (pthread_rwlock_tryrdlock(&l->lock) != 0) return 0;
  count_slow_read(l);
  return 1;
}

/* ---- writers ---- */

/* With the pthread lock held: clears the flag and waits until no slot
** names l; 1 when no fast reader is left. wait 0: gives up at the first
** slot that does, and sets the flag again, since a clear flag with the
** pthread lock free tells the next writer that no fast reader is in. */
static int revoke(rwlock *l, int wait) {
  unsigned h = slot_of(l);
  int used;
  atomic_store(&l->biased, 0);
  used = atomic_load(&readers_used);
  for (int i = 0; i < used; i++) {
    int tries = 0;
    while (atomic_load(&readers[i].slot[h]) == l) {
      if (!wait) {
        atomic_store(&l->biased, 1);
        return 0;
      }
      spin_wait_once(&tries);   /* it is in one operation, or in a scan's chunk */
    }
  }
  return 1;
}

/* With the pthread lock just taken for a write: restarts the count of
** reads to the bias (only a run of reads with no write between sets it,
** so a lock that is also written often stays on the pthread lock and its
** writers pay no revocations) and revokes the bias if it is set. 1 when
** the writer may go on; as revoke. */
static int write_begins(rwlock *l, int wait) {
  atomic_store_explicit(&l->reads_to_bias, REBIAS_READS, memory_order_relaxed);
  return !atomic_load_explicit(&l->biased, memory_order_relaxed) || revoke(l, wait);
}

void rwlock_wrlock(rwlock *l) {
  pthread_rwlock_wrlock(&l->lock);
  write_begins(l, 1);
}

int rwlock_trywrlock(rwlock *l) {
  if (pthread_rwlock_trywrlock(&l->lock) != 0) return 0;
  if (write_begins(l, 0)) return 1;
  pthread_rwlock_unlock(&l->lock);
  return 0;
}

/* ---- either ---- */

void rwlock_unlock(rwlock *l) {
  reader *r = mine;
  if (r != NULL) {
    unsigned h = slot_of(l);
    if (atomic_load_explicit(&r->slot[h], memory_order_relaxed) == l) {
      if (r->depth[h] > 0) r->depth[h]--;
      else atomic_store_explicit(&r->slot[h], NULL, memory_order_release);
      return;
    }
  }
  pthread_rwlock_unlock(&l->lock);
}

int rwlock_is_biased(rwlock *l) {
  return atomic_load(&l->biased);
}

int rwlock_threads_in(void) {
  int n = 0;
  for (int i = 0; i < RWLOCK_THREADS; i++) n += atomic_load(&readers[i].taken);
  return n;
}
