/*
** err.h — error codes and messages inside the engine.
** Internal functions fill an hl_err and return its code; the C API copies
** the message into the calling thread's slot for hl_errmsg(), and the Lua
** binding raises it as "heirloom.<module>.<function>: <message>".
*/
#ifndef HL_ERR_H
#define HL_ERR_H

#include "heirloom.h"

typedef struct hl_err {
  hl_status code;
  char msg[512];   /* room for two paths and LevelDB's message */
} hl_err;

void err_clear(hl_err *e);
hl_status err_set(hl_err *e, hl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The calling thread's last message, for hl_errmsg(). */
hl_status err_publish(const hl_err *e);
void err_publish_msg(const char *msg);
const char *err_last(void);

#endif
