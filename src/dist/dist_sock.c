/*
** dist_sock.c — libei's TCP socket callbacks, with DFLAG_DIST_MONITOR_NAME
** added to the flags of the handshake's name or challenge message
** (dist_sock.h says why). Every callback is libei's own
** (ei_default_socket_callbacks, which libei exports for this use since
** OTP 21); only write looks at what it writes, and only while the socket
** is in its handshake: from socket()/accept() until ei says the handshake
** is complete or closes the socket (a listening socket has none).
**
** The handshake messages have a 2-byte length, then a tag: 'n' (version,
** 4-byte flags, ...) or 'N' (8-byte flags, ...), both big-endian. ei
** hands each to one write call whole; a copy of it goes out with the flag.
*/
#include <pthread.h>
#include <string.h>

#include "dist_sock.h"

extern ei_socket_callbacks ei_default_socket_callbacks;

#define DFLAG_DIST_MONITOR_NAME 0x20
#define SHAKING_MAX 64   /* sockets in a handshake at once, all nodes together */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int shaking[SHAKING_MAX];
static int nshaking;
static ei_socket_callbacks cbs;

static int fd_of(void *ctx) {
  int fd = -1;
  if (ei_default_socket_callbacks.get_fd(ctx, &fd) != 0) return -1;
  return fd;
}

static void shake_begin(void *ctx) {
  int fd = fd_of(ctx);
  pthread_mutex_lock(&lock);
  if (fd >= 0 && nshaking < SHAKING_MAX) shaking[nshaking++] = fd;   /* full: not said */
  pthread_mutex_unlock(&lock);
}

/* 1 if ctx was in its handshake (it is not any more when end is set). */
static int shake_check(void *ctx, int end) {
  int fd = fd_of(ctx), found = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nshaking; i++)
    if (shaking[i] == fd) {
      found = 1;
      if (end) shaking[i] = shaking[--nshaking];
      break;
    }
  pthread_mutex_unlock(&lock);
  return found;
}

static int cb_socket(void **ctx, void *setup) {
  int r = ei_default_socket_callbacks.socket(ctx, setup);
  if (r == 0) shake_begin(*ctx);
  return r;
}

static int cb_close(void *ctx) {
  shake_check(ctx, 1);
  return ei_default_socket_callbacks.close(ctx);
}

static int cb_accept(void **ctx, void *addr, int *len, unsigned tmo) {
  int r = ei_default_socket_callbacks.EI_ACCEPT_NAME(ctx, addr, len, tmo);
  if (r == 0) shake_begin(*ctx);
  return r;
}

static int cb_write(void *ctx, const char *buf, ssize_t *len, unsigned tmo) {
  const unsigned char *b = (const unsigned char *)buf;
  char copy[512];   /* a name or challenge message: the header and a node name */
  ssize_t at = 0;
  if (*len >= 11 && *len <= (ssize_t)sizeof copy && (b[0] << 8 | b[1]) + 2 == *len &&
      (b[2] == 'n' || b[2] == 'N') && shake_check(ctx, 0))
    at = b[2] == 'n' ? 8 : 10;   /* 'n': 2 length, 'n', 2 version, flags 5..8; 'N': flags 3..10 */
  if (at == 0) return ei_default_socket_callbacks.write(ctx, buf, len, tmo);
  memcpy(copy, buf, (size_t)*len);
  copy[at] = (char)(b[at] | DFLAG_DIST_MONITOR_NAME);
  return ei_default_socket_callbacks.write(ctx, copy, len, tmo);
}

/* A listening socket has no handshake. */
static int cb_listen(void *ctx, void *addr, int *len, int backlog) {
  shake_check(ctx, 1);
  return ei_default_socket_callbacks.listen(ctx, addr, len, backlog);
}

static int cb_connect_done(void *ctx) {
  shake_check(ctx, 1);
  return ei_default_socket_callbacks.connect_handshake_complete != NULL
             ? ei_default_socket_callbacks.connect_handshake_complete(ctx)
             : 0;
}

static int cb_accept_done(void *ctx) {
  shake_check(ctx, 1);
  return ei_default_socket_callbacks.accept_handshake_complete != NULL
             ? ei_default_socket_callbacks.accept_handshake_complete(ctx)
             : 0;
}

static void init(void) {
  cbs = ei_default_socket_callbacks;
  cbs.socket = cb_socket;
  cbs.close = cb_close;
  cbs.EI_ACCEPT_NAME = cb_accept;
  cbs.write = cb_write;
  cbs.listen = cb_listen;
  cbs.connect_handshake_complete = cb_connect_done;
  cbs.accept_handshake_complete = cb_accept_done;
}

ei_socket_callbacks *dist_sock_callbacks(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init);
  return &cbs;
}
