/*
** buf.c — a growable byte buffer whose out-of-memory flag lasts until it
** is reset.
*/
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(buf *b) {
  b->p = NULL;
  b->n = b->cap = 0;
  b->oom = 0;
}

void buf_free(buf *b) {
  if (b->p != NULL) free(b->p);   /* a buffer never written costs no call */
  buf_init(b);
}

void buf_reset(buf *b) {
  b->n = 0;
  b->oom = 0;
}

int buf_reserve(buf *b, size_t more) {
  size_t need, cap;
  unsigned char *p;
  if (b->oom) return 0;
  if (more > (size_t)-1 - b->n) { b->oom = 1; return 0; }
  need = b->n + more;
  /* An empty buffer gets memory even for 0 bytes: b->p + b->n must never
  ** be NULL + 0, which is undefined. */
  if (need <= b->cap && b->p != NULL) return 1;
  cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
  p = realloc(b->p, cap);
  if (p == NULL) { b->oom = 1; return 0; }
  b->p = p;
  b->cap = cap;
  return 1;
}

unsigned char *buf_grab(buf *b, size_t n) {
  unsigned char *p;
  int room = b->p != NULL && !b->oom && n <= b->cap - b->n;   /* then no call */
  if (!room && !buf_reserve(b, n)) return NULL;
  p = b->p + b->n;
  b->n += n;
  return p;
}

void buf_put(buf *b, const void *p, size_t n) {
  unsigned char *dst;
  if (n == 0) return;   /* nothing to copy, no memory needed */
  dst = buf_grab(b, n);
  if (dst != NULL) memcpy(dst, p, n);
}

void buf_putc(buf *b, unsigned char c) {
  if (b->n < b->cap && !b->oom) b->p[b->n++] = c;
  else buf_put(b, &c, 1);
}
