/*
** err.c — error records and the per-thread message behind hl_errmsg().
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static _Thread_local char last_message[512];

void err_clear(hl_err *e) {
  e->code = HL_OK;
  e->msg[0] = '\0';
}

hl_status err_set(hl_err *e, hl_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  e->code = code;
  return code;
}

void err_publish_msg(const char *msg) {
  snprintf(last_message, sizeof last_message, "%s", msg);
}

hl_status err_publish(const hl_err *e) {
  if (e->code == HL_OK) last_message[0] = '\0';   /* the common case: no snprintf */
  else err_publish_msg(e->msg);
  return e->code;
}

const char *err_last(void) {
  return last_message;
}
