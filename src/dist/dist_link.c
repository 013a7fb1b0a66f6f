/*
** dist_link.c — links, monitors and exit signals across nodes
** (dist_link.h).
**
** One table per node, under its own lock, which is held only around the
** table and the outbox: never while an exit signal is delivered (that can
** carry out an exit, which comes back here through node->remote_exit).
** A DOWN is delivered under it, so that a demonitor either removes the
** entry first or finds the DOWN queued. What goes out for an exit or an
** answer to a peer is queued in the outbox, and the sender thread writes
** it: the thread that carries out an exit may be a connection's reader or
** hold nothing it could wait for.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_link.h"
#include "dist_wire.h"
#include "proc.h"
#include "ptab.h"

enum { DL_LINK, DL_WATCHED, DL_WATCHING };

/* A link or monitor that crosses to another node. */
typedef struct dlink {
  int kind;                /* DL_WATCHED: the peer's process monitors a local one;
                              DL_WATCHING: a local process monitors the peer's */
  char peer[MAXNODELEN + 1];
  erlang_pid remote;       /* the peer's process (a name monitor: its node only) */
  char name[MAXATOMLEN];   /* a monitor of a registered name: the name; else "" */
  uint64_t local;
  erlang_ref ref;          /* monitors: the ref on the wire */
  uint64_t lref;           /* DL_WATCHING: the ref its DOWN carries */
} dlink;

/* A message waiting for the sender thread. */
typedef struct outmsg {
  struct outmsg *next;
  char peer[MAXNODELEN + 1];
  int make;                /* connect to the peer if there is no connection */
  int len;
  char bytes[];
} outmsg;

struct dlinks {
  pthread_mutex_t lock;
  pthread_cond_t more;
  dlink *v;
  size_t n, cap;
  outmsg *head, **tail;
  char busy[MAXNODELEN + 1];   /* the peer of the message being sent ("": none) */
  int stop;
  pthread_t sender;
};

/* The process a monitor is of: a pid, or a name. */
static void put_target(ei_x_buff *x, const dlink *l) {
  if (l->name[0] != '\0') ei_x_encode_atom(x, l->name);
  else ei_x_encode_pid(x, &l->remote);
}

/* Queues x (ended) for the sender thread; t->lock held. Frees x. */
static void post_locked(struct dlinks *t, const char *peer, ei_x_buff *x, int make) {
  outmsg *m = malloc(sizeof *m + (size_t)x->index);
  if (m != NULL && !t->stop) {
    m->next = NULL;
    snprintf(m->peer, sizeof m->peer, "%s", peer);
    m->make = make;
    m->len = x->index;
    memcpy(m->bytes, x->buff, (size_t)x->index);
    *t->tail = m;
    t->tail = &m->next;
    pthread_cond_signal(&t->more);
  } else {
    free(m);
  }
  ei_x_free(x);
}

static void post(dist *d, const char *peer, ei_x_buff *x) {
  pthread_mutex_lock(&d->links->lock);
  post_locked(d->links, peer, x, 0);
  pthread_mutex_unlock(&d->links->lock);
}

/* 1 while something for peer waits in the outbox or is being sent. */
static int waiting_locked(struct dlinks *t, const char *peer) {
  if (strcmp(t->busy, peer) == 0) return 1;
  for (outmsg *m = t->head; m != NULL; m = m->next)
    if (strcmp(m->peer, peer) == 0) return 1;
  return 0;
}

void dist_link_send(dist *d, const char *peer, ei_x_buff *x, int make) {
  struct dlinks *t = d->links;
  dconn *c = NULL;
  int waiting;
  /* d->lock is never taken under t->lock: a reader that d->lock's holder
  ** joins may be waiting for t->lock */
  pthread_mutex_lock(&t->lock);
  waiting = waiting_locked(t, peer);
  pthread_mutex_unlock(&t->lock);
  if (!waiting) {
    pthread_mutex_lock(&d->lock);
    c = dconn_find(d, peer);
    pthread_mutex_unlock(&d->lock);
  }
  if (c != NULL) {
    dwire_write(c, x);
    dconn_unref(c);
    ei_x_free(x);
    return;
  }
  pthread_mutex_lock(&t->lock);
  post_locked(t, peer, x, make);
  pthread_mutex_unlock(&t->lock);
}

/* The connection to peer could not be had: what waits for it goes, and
** its links and monitors get noconnection. */
static void unreachable(dist *d, const char *peer) {
  struct dlinks *t = d->links;
  pthread_mutex_lock(&t->lock);
  for (outmsg **at = &t->head; *at != NULL;) {
    outmsg *m = *at;
    if (strcmp(m->peer, peer) != 0) {
      at = &m->next;
      continue;
    }
    *at = m->next;
    free(m);
  }
  t->tail = &t->head;
  while (*t->tail != NULL) t->tail = &(*t->tail)->next;
  pthread_mutex_unlock(&t->lock);
  dist_link_nodedown(d, peer);
}

static void *sender(void *arg) {
  dist *d = arg;
  struct dlinks *t = d->links;
  pthread_mutex_lock(&t->lock);
  for (;;) {
    outmsg *m;
    dconn *c;
    ei_x_buff x;
    while (!t->stop && t->head == NULL) pthread_cond_wait(&t->more, &t->lock);
    if (t->stop) break;
    m = t->head;
    t->head = m->next;
    if (t->head == NULL) t->tail = &t->head;
    snprintf(t->busy, sizeof t->busy, "%s", m->peer);
    pthread_mutex_unlock(&t->lock);
    if (m->make) {
      c = dist_connection(d, m->peer);   /* here, not on the sender's thread */
    } else {
      pthread_mutex_lock(&d->lock);
      c = dconn_find(d, m->peer);   /* none: the peer saw it go */
      pthread_mutex_unlock(&d->lock);
    }
    x.buff = m->bytes;
    x.index = x.buffsz = m->len;
    if (c != NULL) {
      dwire_write(c, &x);
      dconn_unref(c);
    } else if (m->make && !atomic_load(&d->stopping)) {
      unreachable(d, m->peer);
    }
    free(m);
    pthread_mutex_lock(&t->lock);
    t->busy[0] = '\0';
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

/* ---- the table (t->lock held) ---- */

static dlink *table_add(struct dlinks *t, const dlink *l) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 8;
    dlink *v = realloc(t->v, cap * sizeof *v);
    if (v == NULL) return NULL;
    t->v = v;
    t->cap = cap;
  }
  t->v[t->n] = *l;
  return &t->v[t->n++];
}

static void table_del(struct dlinks *t, size_t i) {
  t->v[i] = t->v[--t->n];
}

static long find_link(struct dlinks *t, const char *peer, const erlang_pid *remote,
                      uint64_t local) {
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].kind == DL_LINK && t->v[i].local == local && dwire_pid_eq(&t->v[i].remote, remote) &&
        strcmp(t->v[i].peer, peer) == 0)
      return (long)i;
  return -1;
}

/* Adds the link unless it is there: 1, or 0 when out of memory. */
static int add_link(struct dlinks *t, const char *peer, const erlang_pid *remote,
                    uint64_t local) {
  dlink l;
  int ok;
  pthread_mutex_lock(&t->lock);
  ok = find_link(t, peer, remote, local) >= 0;
  if (!ok) {
    memset(&l, 0, sizeof l);
    l.kind = DL_LINK;
    snprintf(l.peer, sizeof l.peer, "%s", peer);
    l.remote = *remote;
    l.local = local;
    ok = table_add(t, &l) != NULL;
  }
  pthread_mutex_unlock(&t->lock);
  return ok;
}

/* Removes the link; 1 if it was there. */
static int del_link(struct dlinks *t, const char *peer, const erlang_pid *remote,
                    uint64_t local) {
  long i;
  pthread_mutex_lock(&t->lock);
  i = find_link(t, peer, remote, local);
  if (i >= 0) table_del(t, (size_t)i);
  pthread_mutex_unlock(&t->lock);
  return i >= 0;
}

/* {"DOWN", lref, who, reason} to l->local; t->lock held. */
static void deliver_down(dist *d, const dlink *l, const unsigned char *reason, size_t len) {
  proc *p = ptab_get(&d->n->procs, l->local);
  buf b;
  if (p == NULL) return;
  buf_init(&b);
  term_put_array(&b, 4);
  term_put_string(&b, "DOWN", 4);
  term_put_id(&b, TERM_REF, l->lref);
  if (l->name[0] != '\0') {
    term_put_array(&b, 2);
    term_put_string(&b, l->name, strlen(l->name));
    term_put_string(&b, l->peer, strlen(l->peer));
  } else {
    dwire_put_xpid(&b, &l->remote);
  }
  buf_put(&b, reason, len);
  if (buf_ok(&b)) proc_deliver(p, b.p, b.n);
  buf_free(&b);
  proc_unref(p);
}

/* Marks the live local process as having remote links; 0 if it is not alive. */
static int mark(dist *d, uint64_t local) {
  proc *p = local != 0 ? ptab_get(&d->n->procs, local) : NULL;
  int ok;
  if (p == NULL) return 0;
  ok = proc_mark_remote(p);
  proc_unref(p);
  return ok;
}

static void signal_from(dist *d, uint64_t to, const erlang_pid *from, const unsigned char *reason,
                        size_t len, int kind) {
  buf f;
  buf_init(&f);
  dwire_put_xpid(&f, from);
  if (buf_ok(&f)) proc_signal_exit_remote(d->n, to, f.p, f.n, reason, len, kind);
  buf_free(&f);
}

static const unsigned char NOCONNECTION[] = {TERM_STRING, 'n', 'o', 'c', 'o', 'n', 'n', 'e',
                                             'c', 't', 'i', 'o', 'n', 0, 0};

/* ---- what peers send ---- */

/* {EXIT, local, remote, noproc}: the link to a process that is not there */
static void answer_noproc_link(dist *d, const char *peer, const erlang_pid *local,
                               const erlang_pid *remote) {
  ei_x_buff x;
  if (dwire_begin(&x, ERL_EXIT, 4) && ei_x_encode_pid(&x, local) == 0 &&
      ei_x_encode_pid(&x, remote) == 0 && ei_x_encode_atom(&x, "noproc") == 0) {
    dwire_end(&x);
    post(d, peer, &x);
  } else {
    ei_x_free(&x);
  }
}

static void on_link(dist *d, const char *peer, const erlang_pid *from, const erlang_pid *to) {
  uint64_t local = dwire_pid_local(d, to);
  if (local != 0 && add_link(d->links, peer, from, local)) {
    if (mark(d, local)) return;
    del_link(d->links, peer, from, local);
  }
  answer_noproc_link(d, peer, to, from);
}

static void on_exit_signal(dist *d, const char *peer, const erlang_msg *msg, const ei_x_buff *x) {
  uint64_t local = dwire_pid_local(d, &msg->to);
  buf r;
  if (local == 0) return;
  /* EXIT: a link broke, which we must have had; EXIT2: exit/2 */
  if (msg->msgtype == ERL_EXIT && !del_link(d->links, peer, &msg->from, local)) return;
  buf_init(&r);
  dwire_get_reason(d, x->buff, 0, x->index, &r);
  if (buf_ok(&r))
    signal_from(d, local, &msg->from, r.p, r.n, msg->msgtype == ERL_EXIT ? SIG_LINK : SIG_EXIT_CALL);
  buf_free(&r);
}

/* {From, To, Ref} after the type: To a pid or a name. */
static int get_monitor(const ei_x_buff *x, erlang_pid *from, erlang_pid *to, char *name,
                       erlang_ref *ref, int *index) {
  int type, size;
  name[0] = '\0';
  memset(to, 0, sizeof *to);
  if (ei_decode_pid(x->buff, index, from) != 0 || ei_get_type(x->buff, index, &type, &size) != 0)
    return 0;
  if (type == ERL_PID_EXT || type == ERL_NEW_PID_EXT) {
    if (ei_decode_pid(x->buff, index, to) != 0) return 0;
  } else if (ei_decode_atom_as(x->buff, index, name, MAXATOMLEN, ERLANG_UTF8, NULL, NULL) != 0) {
    return 0;
  }
  return ei_decode_ref(x->buff, index, ref) == 0;
}

static void on_monitor(dist *d, const char *peer, const ei_x_buff *x) {
  erlang_pid from, to;
  dlink l;
  int index = 0, added = 0;
  memset(&l, 0, sizeof l);
  if (!get_monitor(x, &from, &to, l.name, &l.ref, &index)) return;
  if (strcmp(l.name, "net_kernel") == 0) return;   /* net_adm:ping's call: it never goes */
  l.kind = DL_WATCHED;
  snprintf(l.peer, sizeof l.peer, "%s", peer);
  l.remote = from;
  l.local = l.name[0] != '\0' ? ptab_whereis(&d->n->procs, l.name) : dwire_pid_local(d, &to);
  if (l.local != 0) {
    pthread_mutex_lock(&d->links->lock);
    added = table_add(d->links, &l) != NULL;
    pthread_mutex_unlock(&d->links->lock);
  }
  if (added && mark(d, l.local)) return;
  if (added) {
    pthread_mutex_lock(&d->links->lock);
    for (size_t i = 0; i < d->links->n; i++)
      if (d->links->v[i].kind == DL_WATCHED && dwire_ref_eq(&d->links->v[i].ref, &l.ref)) {
        table_del(d->links, i);
        break;
      }
    pthread_mutex_unlock(&d->links->lock);
  }
  {
    ei_x_buff m;   /* {MONITOR_P_EXIT, watched as named, watcher, ref, noproc} */
    if (dwire_begin(&m, ERL_MONITOR_P_EXIT, 5) &&
        (l.name[0] != '\0' ? ei_x_encode_atom(&m, l.name) : ei_x_encode_pid(&m, &to)) == 0 &&
        ei_x_encode_pid(&m, &from) == 0 && ei_x_encode_ref(&m, &l.ref) == 0 &&
        ei_x_encode_atom(&m, "noproc") == 0) {
      dwire_end(&m);
      post(d, peer, &m);
    } else {
      ei_x_free(&m);
    }
  }
}

static void on_demonitor(dist *d, const char *peer, const ei_x_buff *x) {
  erlang_pid from, to;
  erlang_ref ref;
  char name[MAXATOMLEN];
  int index = 0;
  if (!get_monitor(x, &from, &to, name, &ref, &index)) return;
  pthread_mutex_lock(&d->links->lock);
  for (size_t i = 0; i < d->links->n; i++) {
    dlink *l = &d->links->v[i];
    if (l->kind == DL_WATCHED && dwire_ref_eq(&l->ref, &ref) && strcmp(l->peer, peer) == 0) {
      table_del(d->links, i);
      break;
    }
  }
  pthread_mutex_unlock(&d->links->lock);
}

/* {Watched, Watcher, Ref, Reason}: a monitor of ours fired. */
static void on_monitor_exit(dist *d, const char *peer, const ei_x_buff *x) {
  erlang_pid watched, watcher;
  erlang_ref ref;
  char name[MAXATOMLEN];
  int index = 0;
  buf r;
  if (!get_monitor(x, &watched, &watcher, name, &ref, &index)) {
    /* get_monitor reads {pid, pid|name, ref}: here the first may be a name */
    int type, size;
    index = 0;
    if (ei_get_type(x->buff, &index, &type, &size) != 0 || ei_skip_term(x->buff, &index) != 0 ||
        ei_decode_pid(x->buff, &index, &watcher) != 0 || ei_decode_ref(x->buff, &index, &ref) != 0)
      return;
  }
  buf_init(&r);
  dwire_get_reason(d, x->buff, index, x->index, &r);
  pthread_mutex_lock(&d->links->lock);
  for (size_t i = 0; i < d->links->n; i++) {
    dlink *l = &d->links->v[i];
    if (l->kind == DL_WATCHING && dwire_ref_eq(&l->ref, &ref) && strcmp(l->peer, peer) == 0) {
      dlink fired = *l;
      table_del(d->links, i);
      if (buf_ok(&r)) deliver_down(d, &fired, r.p, r.n);
      break;
    }
  }
  pthread_mutex_unlock(&d->links->lock);
  buf_free(&r);
}

int dist_link_control(dist *d, dconn *c, const erlang_msg *msg, const ei_x_buff *x) {
  switch (msg->msgtype) {
  case ERL_LINK:
    on_link(d, c->peer, &msg->from, &msg->to);
    return 1;
  case ERL_UNLINK:   /* ei has acknowledged an UNLINK_ID already */
    if (dwire_pid_local(d, &msg->to) != 0) del_link(d->links, c->peer, &msg->from, dwire_pid_local(d, &msg->to));
    return 1;
  case ERL_EXIT:
  case ERL_EXIT2:
    on_exit_signal(d, c->peer, msg, x);
    return 1;
  case DIST_MONITOR_P:
    on_monitor(d, c->peer, x);
    return 1;
  case DIST_DEMONITOR_P:
    on_demonitor(d, c->peer, x);
    return 1;
  case DIST_MONITOR_P_EXIT:
    on_monitor_exit(d, c->peer, x);
    return 1;
  default:
    return 0;
  }
}

/* ---- a local process exited (node->remote_exit) ---- */

/* The node's dist, referenced (dist_unref), or NULL. */
static dist *dist_hold(node *n) {
  dist *d;
  pthread_mutex_lock(&n->lock);
  d = n->dist;
  if (d != NULL) atomic_fetch_add(&d->refs, 1);
  pthread_mutex_unlock(&n->lock);
  return d;
}

/* What the peer is told of l when its local process exits (t->lock held). */
static void tell_exit(dist *d, const dlink *l, const unsigned char *reason, size_t len) {
  erlang_pid me = dwire_local_pid(d, l->local);
  ei_x_buff x;
  int ok = 0;
  switch (l->kind) {
  case DL_LINK:   /* {EXIT, me, remote, reason} */
    ok = dwire_begin(&x, ERL_EXIT, 4) && ei_x_encode_pid(&x, &me) == 0 &&
         ei_x_encode_pid(&x, &l->remote) == 0;
    if (ok) dwire_put_reason(&x, d, reason, len);
    break;
  case DL_WATCHED:   /* {MONITOR_P_EXIT, me or my name, watcher, ref, reason} */
    ok = dwire_begin(&x, ERL_MONITOR_P_EXIT, 5) &&
         (l->name[0] != '\0' ? ei_x_encode_atom(&x, l->name) : ei_x_encode_pid(&x, &me)) == 0 &&
         ei_x_encode_pid(&x, &l->remote) == 0 && ei_x_encode_ref(&x, &l->ref) == 0;
    if (ok) dwire_put_reason(&x, d, reason, len);
    break;
  default:   /* DL_WATCHING: {DEMONITOR_P, me, target, ref} */
    ok = dwire_begin(&x, ERL_DEMONITOR_P, 4) && ei_x_encode_pid(&x, &me) == 0;
    if (ok) put_target(&x, l);
    ok = ok && ei_x_encode_ref(&x, &l->ref) == 0;
  }
  if (!ok) {
    ei_x_free(&x);
    return;
  }
  dwire_end(&x);
  post_locked(d->links, l->peer, &x, 0);
}

static void on_remote_exit(node *n, uint64_t pid, const unsigned char *reason, size_t len) {
  dist *d = dist_hold(n);
  struct dlinks *t;
  if (d == NULL) return;
  t = d->links;
  pthread_mutex_lock(&t->lock);
  for (size_t i = 0; i < t->n;) {
    if (t->v[i].local == pid) {
      tell_exit(d, &t->v[i], reason, len);
      table_del(t, i);
    } else {
      i++;
    }
  }
  pthread_mutex_unlock(&t->lock);
  dist_unref(d);
}

/* ---- a connection was lost ---- */

void dist_link_nodedown(dist *d, const char *peer) {
  struct dlinks *t = d->links;
  dlink *broken = NULL;
  size_t nbroken = 0;
  pthread_mutex_lock(&t->lock);
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].kind == DL_LINK && strcmp(t->v[i].peer, peer) == 0) nbroken++;
  if (nbroken > 0) broken = malloc(nbroken * sizeof *broken);
  nbroken = 0;
  for (size_t i = 0; i < t->n;) {
    dlink *l = &t->v[i];
    if (strcmp(l->peer, peer) != 0) {
      i++;
      continue;
    }
    if (l->kind == DL_LINK && broken != NULL) broken[nbroken++] = *l;
    if (l->kind == DL_WATCHING) deliver_down(d, l, NOCONNECTION, sizeof NOCONNECTION);
    table_del(t, i);
  }
  pthread_mutex_unlock(&t->lock);
  /* outside the lock: an exit carried out here comes back to on_remote_exit */
  for (size_t i = 0; i < nbroken; i++)
    signal_from(d, broken[i].local, &broken[i].remote, NOCONNECTION, sizeof NOCONNECTION,
                SIG_LINK);
  free(broken);
}

/* ---- the C API ---- */

static hl_status hold_args(node *n, uint64_t local, const term_xpid *remote, dist **d,
                           erlang_pid *rp, hl_err *e) {
  *d = dist_hold(n);
  if (*d == NULL)
    return err_set(e, HL_ECLOSED, "this node is not distributed (start it with a dist option)");
  if (remote != NULL && !dwire_xpid_pid(*d, remote, rp)) {
    dist_unref(*d);
    return err_set(e, HL_EBADARG, "argument 2 must be a pid of another node");
  }
  if (!node_pid_alive(n, local)) {
    dist_unref(*d);
    return err_set(e, HL_ECLOSED, "the process is not alive");
  }
  return HL_OK;
}

hl_status dist_link(node *n, uint64_t local, const term_xpid *remote, hl_err *e) {
  erlang_pid rp, me;
  ei_x_buff x;
  dist *d;
  if (hold_args(n, local, remote, &d, &rp, e) != HL_OK) return e->code;
  if (!add_link(d->links, rp.node, &rp, local)) {
    dist_unref(d);
    return err_set(e, HL_ENOMEM, "out of memory");
  }
  if (!mark(d, local)) {
    del_link(d->links, rp.node, &rp, local);
    dist_unref(d);
    return err_set(e, HL_ECLOSED, "the process is not alive");
  }
  me = dwire_local_pid(d, local);
  /* a node that cannot be reached breaks the link with noconnection, as
  ** Erlang's does (the sender thread's unreachable) */
  if (dwire_begin(&x, ERL_LINK, 3) && ei_x_encode_pid(&x, &me) == 0 &&
      ei_x_encode_pid(&x, &rp) == 0) {
    dwire_end(&x);
    dist_link_send(d, rp.node, &x, 1);
  } else {
    ei_x_free(&x);
  }
  dist_unref(d);
  return HL_OK;
}

hl_status dist_unlink(node *n, uint64_t local, const term_xpid *remote, hl_err *e) {
  erlang_pid rp, me;
  ei_x_buff x;
  dist *d;
  if (hold_args(n, local, remote, &d, &rp, e) != HL_OK) return e->code;
  me = dwire_local_pid(d, local);
  if (del_link(d->links, rp.node, &rp, local)) {
    /* {UNLINK_ID, Id, me, remote}: the form nodes since OTP 23 expect; the
    ** peer's UNLINK_ID_ACK is read and dropped (dist_conn.c), and an EXIT
    ** that crosses it is ignored, the link being gone here already */
    if (dwire_begin(&x, DIST_UNLINK_ID, 4) && ei_x_encode_ulonglong(&x, node_new_ref(n)) == 0 &&
        ei_x_encode_pid(&x, &me) == 0 && ei_x_encode_pid(&x, &rp) == 0) {
      dwire_end(&x);
      dist_link_send(d, rp.node, &x, 0);
    } else {
      ei_x_free(&x);
    }
  }
  dist_unref(d);
  return HL_OK;
}

static hl_status monitor(node *n, uint64_t local, dist *d, dlink *l, uint64_t *ref, hl_err *e) {
  erlang_pid me = dwire_local_pid(d, local);
  ei_x_buff x;
  int added, sent;
  l->kind = DL_WATCHING;
  l->local = local;
  l->lref = *ref = node_new_ref(n);
  l->ref = dwire_local_ref(d, l->lref);
  pthread_mutex_lock(&d->links->lock);
  added = table_add(d->links, l) != NULL;
  pthread_mutex_unlock(&d->links->lock);
  if (!added) return err_set(e, HL_ENOMEM, "out of memory");
  if (!mark(d, local)) {
    dist_demonitor(n, local, *ref, e);
    return err_set(e, HL_ECLOSED, "the process is not alive");
  }
  /* MONITOR_P; a node that cannot be reached gives the DOWN noconnection */
  sent = dwire_begin(&x, ERL_MONITOR_P, 4) && ei_x_encode_pid(&x, &me) == 0;
  if (sent) put_target(&x, l);
  if (sent && ei_x_encode_ref(&x, &l->ref) == 0) {
    dwire_end(&x);
    dist_link_send(d, l->peer, &x, 1);
  } else {
    ei_x_free(&x);
  }
  return HL_OK;
}

hl_status dist_monitor(node *n, uint64_t local, const term_xpid *remote, uint64_t *ref,
                       hl_err *e) {
  dlink l;
  dist *d;
  hl_status st;
  memset(&l, 0, sizeof l);
  if (hold_args(n, local, remote, &d, &l.remote, e) != HL_OK) return e->code;
  snprintf(l.peer, sizeof l.peer, "%.*s", (int)sizeof l.peer - 1, l.remote.node);
  st = monitor(n, local, d, &l, ref, e);
  dist_unref(d);
  return st;
}

hl_status dist_monitor_name(node *n, uint64_t local, const char *name, const char *peer,
                            uint64_t *ref, hl_err *e) {
  term_xpid x = {(const unsigned char *)peer, strlen(peer), 0, 0, 0};
  dlink l;
  dist *d;
  hl_status st;
  memset(&l, 0, sizeof l);
  if (name[0] == '\0' || strlen(name) >= MAXATOMLEN)
    return err_set(e, HL_EBADARG, "argument 2 must be a name of 1 to %d bytes", MAXATOMLEN - 1);
  if (hold_args(n, local, &x, &d, &l.remote, e) != HL_OK) {
    if (e->code == HL_EBADARG)
      err_set(e, HL_EBADARG, "argument 3 must be the name of another node (\"name@host\")");
    return e->code;
  }
  snprintf(l.peer, sizeof l.peer, "%s", peer);
  snprintf(l.name, sizeof l.name, "%s", name);
  st = monitor(n, local, d, &l, ref, e);
  dist_unref(d);
  return st;
}

hl_status dist_demonitor(node *n, uint64_t local, uint64_t ref, hl_err *e) {
  dlink l;
  dist *d;
  int found = 0;
  /* not alive: its monitors went with it (on_remote_exit), nothing to do */
  d = dist_hold(n);
  if (d == NULL)
    return err_set(e, HL_ECLOSED, "this node is not distributed (start it with a dist option)");
  pthread_mutex_lock(&d->links->lock);
  for (size_t i = 0; i < d->links->n; i++)
    if (d->links->v[i].kind == DL_WATCHING && d->links->v[i].lref == ref &&
        d->links->v[i].local == local) {
      l = d->links->v[i];
      table_del(d->links, i);
      found = 1;
      break;
    }
  pthread_mutex_unlock(&d->links->lock);
  if (found) {
    erlang_pid me = dwire_local_pid(d, local);
    ei_x_buff x;
    if (dwire_begin(&x, ERL_DEMONITOR_P, 4) && ei_x_encode_pid(&x, &me) == 0) {
      put_target(&x, &l);
      if (ei_x_encode_ref(&x, &l.ref) == 0) {
        dwire_end(&x);
        dist_link_send(d, l.peer, &x, 0);
        x.buff = NULL;
      }
    }
    if (x.buff != NULL) ei_x_free(&x);
  }
  dist_unref(d);
  return HL_OK;
}

hl_status dist_exit(node *n, uint64_t local, const term_xpid *remote, const unsigned char *reason,
                    size_t len, hl_err *e) {
  erlang_pid rp, me;
  ei_x_buff x;
  dist *d;
  if (!term_valid(reason, len)) return err_set(e, HL_EBADARG, "argument 3 must be a valid term");
  if (hold_args(n, local, remote, &d, &rp, e) != HL_OK) return e->code;
  me = dwire_local_pid(d, local);
  if (dwire_begin(&x, ERL_EXIT2, 4) && ei_x_encode_pid(&x, &me) == 0 &&
      ei_x_encode_pid(&x, &rp) == 0) {
    dwire_put_reason(&x, d, reason, len);
    dwire_end(&x);
    dist_link_send(d, rp.node, &x, 1);   /* to a node that cannot be reached: lost, as in Erlang */
  } else {
    ei_x_free(&x);
  }
  dist_unref(d);
  return HL_OK;
}

/* ---- sends to a name ---- */

void dist_link_reg_send(dist *d, const char *to, const char *name, ei_x_buff *msg) {
  erlang_pid from = dwire_local_pid(d, 0);   /* no process: the node, as ei's own sends say */
  ei_x_buff x;
  /* {REG_SEND, From, '', ToName}, then the message */
  if (dwire_begin(&x, ERL_REG_SEND, 4) && ei_x_encode_pid(&x, &from) == 0 &&
      ei_x_encode_atom(&x, "") == 0 && ei_x_encode_atom(&x, name) == 0 &&
      ei_x_append_buf(&x, msg->buff, msg->index) == 0) {
    dwire_end(&x);
    dist_link_send(d, to, &x, 1);
  } else {
    ei_x_free(&x);
  }
}

void dist_link_pid_send(dist *d, const char *to, const erlang_pid *pid, ei_x_buff *msg) {
  ei_x_buff x;
  /* {SEND, '', ToPid}, then the message */
  if (dwire_begin(&x, ERL_SEND, 3) && ei_x_encode_atom(&x, "") == 0 &&
      ei_x_encode_pid(&x, pid) == 0 && ei_x_append_buf(&x, msg->buff, msg->index) == 0) {
    dwire_end(&x);
    dist_link_send(d, to, &x, 1);
  } else {
    ei_x_free(&x);
  }
}

/* ---- start, stop ---- */

int dist_link_start(dist *d) {
  struct dlinks *t = calloc(1, sizeof *t);
  if (t == NULL) return 0;
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->more, NULL);
  t->tail = &t->head;
  d->links = t;
  if (pthread_create(&t->sender, NULL, sender, d) != 0) {
    pthread_cond_destroy(&t->more);
    pthread_mutex_destroy(&t->lock);
    free(t);
    d->links = NULL;
    return 0;
  }
  /* before any process can be marked: a mark is made after this */
  pthread_mutex_lock(&d->n->lock);
  d->n->remote_exit = on_remote_exit;
  pthread_mutex_unlock(&d->n->lock);
  return 1;
}

void dist_link_stop(dist *d) {
  struct dlinks *t = d->links;
  if (t == NULL) return;
  pthread_mutex_lock(&t->lock);
  t->stop = 1;
  pthread_cond_signal(&t->more);
  pthread_mutex_unlock(&t->lock);
  pthread_join(t->sender, NULL);
}

void dist_link_free(dist *d) {
  struct dlinks *t = d->links;
  if (t == NULL) return;
  while (t->head != NULL) {
    outmsg *m = t->head;
    t->head = m->next;
    free(m);
  }
  free(t->v);
  pthread_cond_destroy(&t->more);
  pthread_mutex_destroy(&t->lock);
  free(t);
  d->links = NULL;
}
