/*
** test_version.c — the version a host can test at compile time (the
** HL_VERSION_* macros) and at run time (hl_version, hl_version_num) agree:
** the string is MAJOR.MINOR.PATCH of the numbers, the number orders them.
*/
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "heirloom.h"

int main(void) {
  char text[32];
  snprintf(text, sizeof text, "%d.%d.%d", HL_VERSION_MAJOR, HL_VERSION_MINOR, HL_VERSION_PATCH);
  CHECK(strcmp(HL_VERSION, text) == 0);
  CHECK(HL_VERSION_NUM == HL_VERSION_MAJOR * 10000 + HL_VERSION_MINOR * 100 + HL_VERSION_PATCH);
  CHECK(HL_VERSION_MINOR < 100 && HL_VERSION_PATCH < 100);
  CHECK(strcmp(hl_version(), HL_VERSION) == 0);
  CHECK(hl_version_num() == HL_VERSION_NUM);
  return check_summary("version");
}
