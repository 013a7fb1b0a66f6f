/*
** test_rwlock.c — the biased reader-writer lock (src/base/rwlock.c): a lock
** becomes biased after a run of reads and a write takes the bias away; a
** writer waits for a reader on the fast path, and a try does not; a thread
** may take a read lock it holds; threads give their slot blocks back when
** they end, and threads beyond the blocks still read correctly; and
** readers and writers on a few locks at once never see a write half done
** (meant to run under ThreadSanitizer too).
*/
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "rwlock.h"

/* n reads of l, each taken and let go. */
static void read_times(rwlock *l, int n) {
  for (int i = 0; i < n; i++) {
    rwlock_rdlock(l);
    rwlock_unlock(l);
  }
}

/* Reads l until it is biased; 1 if it became so within a bound. */
static int read_until_biased(rwlock *l) {
  for (int i = 0; i < 10 * REBIAS_READS; i++) {
    if (rwlock_is_biased(l)) return 1;
    read_times(l, 1);
  }
  return rwlock_is_biased(l);
}

static void test_bias_comes_and_goes(void) {
  rwlock l;
  CHECK(rwlock_init(&l) == 0);
  CHECK(!rwlock_is_biased(&l));
  read_times(&l, REBIAS_READS - 1);
  CHECK(!rwlock_is_biased(&l));        /* one read short */
  read_times(&l, 1);
  CHECK(rwlock_is_biased(&l));
  rwlock_wrlock(&l);
  CHECK(!rwlock_is_biased(&l));        /* the write revoked it */
  rwlock_unlock(&l);
  CHECK(read_until_biased(&l));

  /* a write restarts the count: only a run of reads sets the bias */
  rwlock_wrlock(&l);
  rwlock_unlock(&l);
  for (int round = 0; round < 2; round++) {
    read_times(&l, REBIAS_READS - 1);
    CHECK(!rwlock_is_biased(&l));
    if (round == 0) rwlock_wrlock(&l);
    else CHECK(rwlock_trywrlock(&l));
    rwlock_unlock(&l);
  }
  read_times(&l, REBIAS_READS - 1);
  CHECK(!rwlock_is_biased(&l));
  rwlock_destroy(&l);
}

/* ---- a second thread's write or try while the main thread reads ---- */

typedef struct other {
  rwlock *l;
  int try_only;
  atomic_int done;       /* 1: the call returned */
  int got;               /* what a try returned */
} other;

static void *other_writes(void *arg) {
  other *o = arg;
  if (o->try_only) {
    o->got = rwlock_trywrlock(o->l);
  } else {
    rwlock_wrlock(o->l);
    o->got = 1;
  }
  atomic_store(&o->done, 1);
  if (o->got) rwlock_unlock(o->l);
  return NULL;
}

static void *other_tries_read(void *arg) {
  other *o = arg;
  o->got = rwlock_tryrdlock(o->l);
  atomic_store(&o->done, 1);
  if (o->got) rwlock_unlock(o->l);
  return NULL;
}

/* Waits up to a second for o->done. */
static int wait_done(other *o) {
  for (int i = 0; i < 1000 && !atomic_load(&o->done); i++) check_sleep_ms(1);
  return atomic_load(&o->done);
}

static void start(pthread_t *t, other *o, rwlock *l, int try_only, void *(*fn)(void *)) {
  o->l = l;
  o->try_only = try_only;
  o->got = -1;
  atomic_init(&o->done, 0);
  pthread_create(t, NULL, fn, o);
}

static void test_writer_waits_for_fast_reader(void) {
  rwlock l;
  pthread_t t;
  other o;
  rwlock_init(&l);
  CHECK(read_until_biased(&l));
  rwlock_rdlock(&l);                   /* on the fast path: no pthread lock */
  start(&t, &o, &l, 0, other_writes);
  check_sleep_ms(50);
  CHECK(!atomic_load(&o.done));        /* the writer waits */
  rwlock_unlock(&l);
  pthread_join(t, NULL);
  CHECK(o.done && o.got == 1);
  rwlock_destroy(&l);
}

static void test_try_does_not_wait(void) {
  rwlock l;
  pthread_t t;
  other o;
  rwlock_init(&l);
  CHECK(read_until_biased(&l));
  rwlock_rdlock(&l);
  start(&t, &o, &l, 1, other_writes);
  CHECK(wait_done(&o));                /* returned while the read is held */
  rwlock_unlock(&l);
  pthread_join(t, NULL);
  CHECK(o.got == 0);
  /* The try found a reader in and left the bias on: a clear one would
  ** have told the next writer that none was. */
  CHECK(rwlock_is_biased(&l));
  CHECK(rwlock_trywrlock(&l));
  CHECK(!rwlock_is_biased(&l));
  rwlock_unlock(&l);

  rwlock_wrlock(&l);                   /* a read try while written */
  start(&t, &o, &l, 1, other_tries_read);
  CHECK(wait_done(&o));
  rwlock_unlock(&l);
  pthread_join(t, NULL);
  CHECK(o.got == 0);
  rwlock_destroy(&l);
}

static void test_nested_reads(void) {
  rwlock l;
  pthread_t t;
  other o;
  int nested;
  rwlock_init(&l);
  CHECK(read_until_biased(&l));
  for (int i = 0; i < 3; i++) rwlock_rdlock(&l);
  CHECK(rwlock_tryrdlock(&l));
  for (int i = 0; i < 3; i++) rwlock_unlock(&l);
  start(&t, &o, &l, 1, other_writes);  /* one read is still held */
  pthread_join(t, NULL);
  CHECK(o.got == 0);
  rwlock_unlock(&l);
  start(&t, &o, &l, 1, other_writes);  /* none is */
  pthread_join(t, NULL);
  CHECK(o.got == 1);

  /* nested while a writer waits: the second read gets in (a read that
  ** waited for the writer would wait forever, the writer for it) */
  CHECK(read_until_biased(&l));
  rwlock_rdlock(&l);
  start(&t, &o, &l, 0, other_writes);
  check_sleep_ms(20);
  nested = rwlock_tryrdlock(&l);
  CHECK(nested);
  if (nested) rwlock_unlock(&l);
  CHECK(!atomic_load(&o.done));
  rwlock_unlock(&l);
  pthread_join(t, NULL);
  CHECK(o.got == 1);
  rwlock_destroy(&l);
}

/* ---- threads' blocks ---- */

static rwlock shared;

static void *read_biased(void *arg) {
  int *ok = arg;
  *ok = read_until_biased(&shared);
  rwlock_rdlock(&shared);
  rwlock_unlock(&shared);
  return NULL;
}

static void test_blocks_given_back(void) {
  int before, ok = 1;
  rwlock_init(&shared);
  CHECK(read_until_biased(&shared));
  before = rwlock_threads_in();
  CHECK(before >= 1);                  /* this thread's */
  for (int i = 0; i < 3 * RWLOCK_THREADS; i++) {
    pthread_t t;
    int one = 0;
    pthread_create(&t, NULL, read_biased, &one);
    pthread_join(t, NULL);
    ok &= one;
  }
  CHECK(ok);
  CHECK(rwlock_threads_in() == before);
  rwlock_destroy(&shared);
}

#define CROWD (RWLOCK_THREADS + 4)

static pthread_barrier_t crowd_in, crowd_out;

static void *hold_read(void *arg) {
  (void)arg;
  rwlock_rdlock(&shared);
  pthread_barrier_wait(&crowd_in);
  pthread_barrier_wait(&crowd_out);
  rwlock_unlock(&shared);
  return NULL;
}

/* More threads than blocks: every one holds its read, the extra ones
** through the pthread lock, and no write gets in until all let go. */
static void test_more_threads_than_blocks(void) {
  static pthread_t t[CROWD];
  rwlock_init(&shared);
  CHECK(read_until_biased(&shared));
  pthread_barrier_init(&crowd_in, NULL, CROWD + 1);
  pthread_barrier_init(&crowd_out, NULL, CROWD + 1);
  for (int i = 0; i < CROWD; i++) pthread_create(&t[i], NULL, hold_read, NULL);
  pthread_barrier_wait(&crowd_in);
  CHECK(rwlock_threads_in() == RWLOCK_THREADS);
  CHECK(!rwlock_trywrlock(&shared));
  pthread_barrier_wait(&crowd_out);
  for (int i = 0; i < CROWD; i++) pthread_join(t[i], NULL);
  CHECK(rwlock_trywrlock(&shared));
  rwlock_unlock(&shared);
  pthread_barrier_destroy(&crowd_in);
  pthread_barrier_destroy(&crowd_out);
  rwlock_destroy(&shared);
}

/* ---- readers and writers at once ---- */

#define LOCKS 4
#define READERS 3
#define ROUNDS 50000

typedef struct guarded {
  rwlock lock;
  long a, b;             /* equal whenever no write is under way */
} guarded;

static guarded g[LOCKS];
static atomic_int stop;
static atomic_long torn, fast_seen;

static void *reader_loop(void *arg) {
  uint64_t rng = 0x2545F4914F6CDD1Dull + (uintptr_t)arg;
  while (!atomic_load(&stop)) {
    /* two held at once, in one order as the tables take theirs; the same
    ** one twice now and then */
    guarded *x = &g[check_random(&rng) % LOCKS];
    guarded *y = &g[check_random(&rng) % LOCKS];
    if (y < x) {
      guarded *swap = x;
      x = y;
      y = swap;
    }
    if (rwlock_is_biased(&x->lock)) atomic_fetch_add(&fast_seen, 1);
    rwlock_rdlock(&x->lock);
    rwlock_rdlock(&y->lock);
    if (x->a != x->b || y->a != y->b) atomic_fetch_add(&torn, 1);
    rwlock_unlock(&y->lock);
    rwlock_unlock(&x->lock);
  }
  return NULL;
}

static void test_readers_and_writers(void) {
  pthread_t r[READERS];
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < LOCKS; i++) {
    rwlock_init(&g[i].lock);
    g[i].a = g[i].b = 0;
  }
  atomic_init(&stop, 0);
  for (intptr_t i = 0; i < READERS; i++) pthread_create(&r[i], NULL, reader_loop, (void *)i);
  for (int i = 0; i < ROUNDS; i++) {
    guarded *x = &g[check_random(&rng) % LOCKS];
    if (i % 2 == 0) rwlock_wrlock(&x->lock);
    else if (!rwlock_trywrlock(&x->lock)) continue;
    x->a++;
    for (int j = 0; j < 20; j++) __asm__ volatile("" ::: "memory");
    x->b++;
    rwlock_unlock(&x->lock);
    if (i % 500 == 0) check_sleep_ms(1);     /* readers bias the locks again meanwhile */
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < READERS; i++) pthread_join(r[i], NULL);
  CHECK(atomic_load(&torn) == 0);
  CHECK(atomic_load(&fast_seen) > 0);  /* the fast path was taken */
  for (int i = 0; i < LOCKS; i++) rwlock_destroy(&g[i].lock);
}

/* One lock, written as soon as readers have biased it again: every write
** revokes, while readers come in at full speed. */
#define RACE_ROUNDS 20000

static void *one_lock_reader(void *arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    rwlock_rdlock(&g[0].lock);
    if (g[0].a != g[0].b) atomic_fetch_add(&torn, 1);
    rwlock_unlock(&g[0].lock);
  }
  return NULL;
}

static void test_revocation_races(void) {
  pthread_t r[2];
  long revoked = 0;
  rwlock_init(&g[0].lock);
  g[0].a = g[0].b = 0;
  atomic_store(&stop, 0);
  atomic_store(&torn, 0);
  for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, one_lock_reader, NULL);
  for (int i = 0; i < RACE_ROUNDS; i++) {
    for (int spins = 0; !rwlock_is_biased(&g[0].lock) && spins < 100000; spins++) {
    }
    revoked += rwlock_is_biased(&g[0].lock);
    rwlock_wrlock(&g[0].lock);
    g[0].a++;
    g[0].b++;
    rwlock_unlock(&g[0].lock);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);
  CHECK(atomic_load(&torn) == 0);
  CHECK(revoked > RACE_ROUNDS / 2);   /* most writes came to a biased lock */
  rwlock_destroy(&g[0].lock);
}

int main(void) {
  test_bias_comes_and_goes();
  test_writer_waits_for_fast_reader();
  test_try_does_not_wait();
  test_nested_reads();
  test_blocks_given_back();
  test_more_threads_than_blocks();
  test_readers_and_writers();
  test_revocation_races();
  return check_summary("rwlock");
}
