/*
** check.h — the C tests' assertion counter. Each test binary ends with
** check_summary(), which prints "N passed, N failed" and gives the exit code.
*/
#ifndef HL_CHECK_H
#define HL_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

static void check_at(int ok, const char *what, const char *file, int line) {
  if (ok) check_passed++;
  else {
    check_failed++;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
  }
}

#define CHECK(cond) check_at((cond) != 0, #cond, __FILE__, __LINE__)

static int check_summary(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
  return check_failed == 0 ? 0 : 1;
}

#endif
