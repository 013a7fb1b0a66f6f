/*
** dist_wire.c — pids, refs, reasons and control messages on the wire
** (dist_wire.h).
*/
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dist_wire.h"

#define WRITE_MS 3000

static const char *const ATOM_REASONS[] = {"normal", "kill", "killed", "noproc",
                                           "noconnection", "shutdown", NULL};

/* ---- pids and refs ---- */

erlang_pid dwire_local_pid(const dist *d, uint64_t pid) {
  erlang_pid p;
  memset(&p, 0, sizeof p);
  snprintf(p.node, sizeof p.node, "%s", d->self.node);
  p.num = (unsigned int)(uint32_t)pid;
  p.serial = (unsigned int)(uint32_t)(pid >> 32);
  p.creation = d->self.creation;
  return p;
}

/* The local pid an Erlang pid names; 0 for another node or an earlier run. */
uint64_t dwire_pid_local(const dist *d, const erlang_pid *p) {
  if (strcmp(p->node, d->self.node) != 0 || p->creation != d->self.creation) return 0;
  return (uint64_t)p->num | (uint64_t)p->serial << 32;
}

/* A ref of this node on the wire: Erlang takes the first word below 2^18
** for its own, so it is 0, and the id fills the other two. */
erlang_ref dwire_local_ref(const dist *d, uint64_t ref) {
  erlang_ref r;
  memset(&r, 0, sizeof r);
  snprintf(r.node, sizeof r.node, "%s", d->self.node);
  r.len = 3;
  r.n[1] = (unsigned int)(uint32_t)ref;
  r.n[2] = (unsigned int)(uint32_t)(ref >> 32);
  r.creation = d->self.creation;
  return r;
}

int dwire_ref_eq(const erlang_ref *a, const erlang_ref *b) {
  if (strcmp(a->node, b->node) != 0 || a->len != b->len || a->creation != b->creation) return 0;
  for (int i = 0; i < a->len && i < 5; i++)
    if (a->n[i] != b->n[i]) return 0;
  return 1;
}

int dwire_pid_eq(const erlang_pid *a, const erlang_pid *b) {
  return a->num == b->num && a->serial == b->serial && a->creation == b->creation &&
         strcmp(a->node, b->node) == 0;
}

/* 0 unless x names a process of another node. */
int dwire_xpid_pid(const dist *d, const term_xpid *x, erlang_pid *p) {
  memset(p, 0, sizeof *p);
  if (x->nodelen == 0 || x->nodelen >= MAXNODELEN || memchr(x->node, '@', x->nodelen) == NULL ||
      memchr(x->node, '\0', x->nodelen) != NULL)
    return 0;
  memcpy(p->node, x->node, x->nodelen);
  p->num = x->num;
  p->serial = x->serial;
  p->creation = x->creation;
  return strcmp(p->node, d->self.node) != 0;
}

void dwire_put_xpid(buf *b, const erlang_pid *p) {
  term_xpid x = {(const unsigned char *)p->node, strlen(p->node), p->num, p->serial,
                 p->creation};
  term_put_xpid(b, &x);
}

/* ---- reasons ---- */

static int is_string(const unsigned char *t, size_t len, const char *s) {
  size_t n = strlen(s);
  return len == n + 3 && t[0] == TERM_STRING && memcmp(t + 1, s, n) == 0 && t[n + 1] == 0 &&
         t[n + 2] == 0;
}

void dwire_put_reason(ei_x_buff *x, const dist *d, const unsigned char *r, size_t len) {
  char err[300];
  ei_x_buff t;
  for (int i = 0; ATOM_REASONS[i] != NULL; i++)
    if (is_string(r, len, ATOM_REASONS[i])) {
      ei_x_encode_atom(x, ATOM_REASONS[i]);
      return;
    }
  if (ei_x_new(&t) != 0) {
    ei_x_encode_atom(x, "nomemory");
    return;
  }
  if (dist_term_to_ei(r, len, &d->self, &t, err, sizeof err))
    ei_x_append_buf(x, t.buff + 1, t.index - 1);   /* without its version byte */
  else
    ei_x_encode_binary(x, err, (long)strlen(err));
  ei_x_free(&t);
}

/* The reason at b[index] (no version byte) as a heirloom term into out. */
void dwire_get_reason(const dist *d, const char *b, int index, int len, buf *out) {
  char atom[MAXATOMLEN_UTF8], err[300], *text = NULL;
  int type, size, i = index;
  buf_reset(out);
  if (ei_get_type(b, &i, &type, &size) == 0 &&
      (type == ERL_ATOM_EXT || type == ERL_SMALL_ATOM_EXT || type == ERL_ATOM_UTF8_EXT ||
       type == ERL_SMALL_ATOM_UTF8_EXT) &&
      ei_decode_atom_as(b, &i, atom, sizeof atom, ERLANG_UTF8, NULL, NULL) == 0) {
    term_put_string(out, atom, strlen(atom));
    return;
  }
  if (len > index) {
    char *v = malloc((size_t)(len - index) + 1);
    if (v != NULL) {
      v[0] = (char)131   /* the external format's version */;
      memcpy(v + 1, b + index, (size_t)(len - index));
      i = 0;
      if (dist_term_from_ei(v, (size_t)(len - index) + 1, &i, &d->self, out, err, sizeof err)) {
        free(v);
        return;
      }
      free(v);
    }
  }
  buf_reset(out);   /* no heirloom form: Erlang's text of it */
  i = index;
  if (ei_s_print_term(&text, b, &i) >= 0 && text != NULL) term_put_string(out, text, strlen(text));
  else term_put_string(out, "unreadable", 10);
  free(text);
}

/* ---- control messages on the wire ---- */

/* 4 bytes length, pass-through, version, {type, ...} */
int dwire_begin(ei_x_buff *x, long type, int arity) {
  static const char head[5] = {0, 0, 0, 0, 'p'};
  if (ei_x_new(x) != 0) return 0;
  return ei_x_append_buf(x, head, 5) == 0 && ei_x_encode_version(x) == 0 &&
         ei_x_encode_tuple_header(x, arity) == 0 && ei_x_encode_long(x, type) == 0;
}

void dwire_end(ei_x_buff *x) {
  uint32_t n = (uint32_t)x->index - 4;
  unsigned char *p = (unsigned char *)x->buff;
  p[0] = (unsigned char)(n >> 24);
  p[1] = (unsigned char)(n >> 16);
  p[2] = (unsigned char)(n >> 8);
  p[3] = (unsigned char)n;
}

/* Writes bytes to c whole, or marks it dead. 1 if written. */
static int write_all(dconn *c, const char *bytes, int len) {
  int done = 0;
  pthread_mutex_lock(&c->io);
  while (!atomic_load(&c->dead) && done < len) {
    struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
    ssize_t w;
    if (poll(&pfd, 1, WRITE_MS) <= 0) {
      if (errno == EINTR) continue;
      break;
    }
    w = send(c->fd, bytes + done, (size_t)(len - done), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += (int)w;
  }
  if (done < len && !atomic_load(&c->dead)) {
    atomic_store(&c->dead, 1);   /* its reader sees it go, and says so */
    shutdown(c->fd, SHUT_RDWR);
  }
  pthread_mutex_unlock(&c->io);
  return done == len;
}

int dwire_write(dconn *c, const ei_x_buff *x) {
  return write_all(c, x->buff, x->index);
}
