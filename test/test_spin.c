/*
** test_spin.c — short waits and the spinlock (src/base/spin.c): a held
** lock keeps out a second taker, who gets it once it is let go; a try
** never waits; threads adding under one lock lose no addition (meant to
** run under ThreadSanitizer too); and a long wait ends in naps.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"
#include "spin.h"

#define ADDERS 4
#define ADDS 200000

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_try(void) {
  spinlock l;
  spin_init(&l);
  CHECK(spin_trylock(&l));
  CHECK(!spin_trylock(&l));            /* held: a try fails at once */
  spin_unlock(&l);
  CHECK(spin_trylock(&l));
  spin_unlock(&l);
  spin_lock(&l);
  CHECK(!spin_trylock(&l));
  spin_unlock(&l);
}

typedef struct taker {
  spinlock *l;
  atomic_int in;
} taker;

static void *take(void *arg) {
  taker *t = arg;
  spin_lock(t->l);
  atomic_store(&t->in, 1);
  spin_unlock(t->l);
  return NULL;
}

/* A second taker waits while the lock is held (long enough for its wait
** to reach the yields and the naps), and gets it once it is let go. */
static void test_waiter_waits(void) {
  spinlock l;
  taker t = {&l, 0};
  pthread_t th;
  spin_init(&l);
  spin_lock(&l);
  CHECK(pthread_create(&th, NULL, take, &t) == 0);
  check_sleep_ms(100);
  CHECK(atomic_load(&t.in) == 0);
  spin_unlock(&l);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK(atomic_load(&t.in) == 1);
}

typedef struct adder {
  spinlock *l;
  long *sum;
} adder;

static void *add(void *arg) {
  adder *a = arg;
  for (int i = 0; i < ADDS; i++) {
    spin_lock(a->l);
    ++*a->sum;                          /* a plain add: the lock alone guards it */
    spin_unlock(a->l);
  }
  return NULL;
}

static void test_no_addition_lost(void) {
  spinlock l;
  long sum = 0;
  adder a = {&l, &sum};
  pthread_t th[ADDERS];
  spin_init(&l);
  for (int i = 0; i < ADDERS; i++) CHECK(pthread_create(&th[i], NULL, add, &a) == 0);
  for (int i = 0; i < ADDERS; i++) CHECK(pthread_join(th[i], NULL) == 0);
  CHECK(sum == (long)ADDERS * ADDS);
}

/* Past its pauses and yields a wait naps: ten more steps take at least ten
** naps (nanosleep sleeps at least as long as asked). */
static void test_wait_ends_in_naps(void) {
  int tries = 0;
  double start;
  for (int i = 0; i < SPIN_PAUSES + SPIN_YIELDS; i++) spin_wait_once(&tries);
  CHECK(tries == SPIN_PAUSES + SPIN_YIELDS);
  start = now_s();
  for (int i = 0; i < 10; i++) spin_wait_once(&tries);
  CHECK(now_s() - start >= 10 * SPIN_NAP_NS / 1e9);
}

int main(void) {
  test_try();
  test_waiter_waits();
  test_no_addition_lost();
  test_wait_ends_in_naps();
  return check_summary("spin");
}
