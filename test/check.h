/*
** check.h — the C tests' assertion counter. Each test binary ends with
** check_summary(), which prints "N passed, N failed" and gives the exit code.
** check_random is the tests' one generator of random numbers, and
** check_sleep_ms their one way to let other threads run a while.
*/
#ifndef HL_CHECK_H
#define HL_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static int check_passed, check_failed;

static void check_at(int ok, const char *what, const char *file, int line) {
  if (ok) check_passed++;
  else {
    check_failed++;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
  }
}

#define CHECK(cond) check_at((cond) != 0, #cond, __FILE__, __LINE__)

/* xorshift64 over *state (not 0): each test draws the same numbers every
** run, from a state of its own. */
static inline uint64_t check_random(uint64_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

static inline void check_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int check_summary(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
  return check_failed == 0 ? 0 : 1;
}

#endif
