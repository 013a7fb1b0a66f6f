/*
** buf.h — a growable byte buffer.
** Every encoder in heirloom writes into one. An allocation failure is
** sticky until the buffer is reset: later writes do nothing and buf_ok()
** reports it once, at the end, so that encoders need no error check after
** every byte. A reset starts afresh, so one failure does not fail every
** later use of a buffer that is kept and reused.
*/
#ifndef HL_BUF_H
#define HL_BUF_H

#include <stddef.h>

typedef struct buf {
  unsigned char *p;
  size_t n;     /* bytes used */
  size_t cap;   /* bytes allocated */
  int oom;      /* an allocation failed */
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reset(buf *b);                      /* n = 0 and no failure; memory kept */
int buf_reserve(buf *b, size_t more);        /* room for `more` bytes; 0 on failure */
void buf_put(buf *b, const void *p, size_t n);
void buf_putc(buf *b, unsigned char c);
unsigned char *buf_grab(buf *b, size_t n);   /* n bytes to fill in; NULL on failure */

/* 1 unless an allocation failed; inline, as every encoder ends with it. */
static inline int buf_ok(const buf *b) {
  return !b->oom;
}

#endif
