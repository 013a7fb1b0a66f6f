/*
** mailbox.c — a process's mailbox (see mailbox.h).
**
** The inbox is a stack that senders push onto with one compare-and-swap
** and the owner empties with another, taking every message at once; it
** then reverses them (the stack holds them newest first) onto the end of
** its queue. Nothing is ever popped alone, so the stack has no ABA
** problem: between the owner's read of the top and its swap the top can
** only grow, or become MAILBOX_CLOSED, which stays for good.
*/
#include <string.h>

#include "mailbox.h"
#include "tcache.h"

/* The inbox's top once closed: never a message's address. */
static msg closed_mark;
#define MAILBOX_CLOSED (&closed_mark)

/* From the sending thread's cache: malloc's locks are not on the way,
** and the receiver's thread hands the buffer back without one. */
msg *msg_new(uint64_t from, const unsigned char *term, size_t len) {
  msg *m = tcache_alloc(sizeof *m + len);
  if (m == NULL) return NULL;
  m->next = NULL;
  m->from = from;
  m->seq = 0;
  m->len = len;
  memcpy(m->data, term, len);
  return m;
}

void msg_free(msg *m) {
  tcache_free(m);
}

void mailbox_init(mailbox *mb) {
  atomic_init(&mb->inbox, NULL);
  atomic_init(&mb->pushed, 0);
  atomic_init(&mb->gone, 0);
  mb->head = NULL;
  mb->tail = &mb->head;
  mb->scanned = NULL;
  mb->arrivals = 0;
}

int mailbox_push(mailbox *mb, msg *m) {
  msg *top;
  /* counted before it can be taken, so that the count never goes below
  ** zero; relaxed: it is only a figure for process_info. Each side counts
  ** on its own cache line: pushed here, gone by the owner. */
  atomic_fetch_add_explicit(&mb->pushed, 1, memory_order_relaxed);
  top = atomic_load_explicit(&mb->inbox, memory_order_relaxed);
  do {
    if (top == MAILBOX_CLOSED) {
      atomic_fetch_sub_explicit(&mb->pushed, 1, memory_order_relaxed);
      msg_free(m);
      return 0;
    }
    m->next = top;
    /* seq_cst: it releases m's contents to the owner's acquire, and it
    ** orders this push before the sender's read of the owner's state
    ** (proc.c, wake) */
  } while (!atomic_compare_exchange_weak_explicit(&mb->inbox, &top, m, memory_order_seq_cst,
                                                  memory_order_relaxed));
  return 1;
}

int mailbox_has_new(mailbox *mb) {
  /* seq_cst: the owner has just published that it sleeps; this read must
  ** not come before that store (proc.c, wake) */
  msg *top = atomic_load_explicit(&mb->inbox, memory_order_seq_cst);
  return top != NULL && top != MAILBOX_CLOSED;
}

size_t mailbox_count(mailbox *mb) {
  /* gone first: what is gone was pushed before, so the difference read
  ** this way is never below zero */
  size_t gone = atomic_load_explicit(&mb->gone, memory_order_acquire);
  return atomic_load_explicit(&mb->pushed, memory_order_relaxed) - gone;
}

/* Frees a chain of messages; how many. */
static size_t free_chain(msg *m) {
  size_t n = 0;
  while (m != NULL) {
    msg *next = m->next;
    msg_free(m);
    m = next;
    n++;
  }
  return n;
}

void mailbox_close(mailbox *mb) {
  /* acquire: the messages' links, to free them (a pusher that reads
  ** CLOSED afterwards needs nothing from this thread) */
  msg *top = atomic_exchange_explicit(&mb->inbox, MAILBOX_CLOSED, memory_order_acquire);
  if (top == MAILBOX_CLOSED) return;
  atomic_fetch_add_explicit(&mb->gone, free_chain(top), memory_order_release);
}

void mailbox_free(mailbox *mb) {
  mailbox_close(mb);
  atomic_fetch_add_explicit(&mb->gone, free_chain(mb->head), memory_order_release);
  mb->head = NULL;
  mb->tail = &mb->head;
  mb->scanned = NULL;
}

/* Takes the inbox's messages into the queue, oldest first, numbering them;
** 1 if there were any. */
static int drain(mailbox *mb) {
  msg *top = atomic_load_explicit(&mb->inbox, memory_order_relaxed), *first = NULL;
  /* acquire: pairs with the pushes' release, for the messages' contents */
  while (top != NULL && top != MAILBOX_CLOSED &&
         !atomic_compare_exchange_weak_explicit(&mb->inbox, &top, NULL, memory_order_acquire,
                                                memory_order_relaxed)) {}
  if (top == NULL || top == MAILBOX_CLOSED) return 0;
  while (top != NULL) {         /* reverse: newest first becomes oldest first */
    msg *next = top->next;
    top->next = first;
    first = top;
    top = next;
  }
  *mb->tail = first;
  for (msg *m = first; m != NULL; m = m->next) {
    m->seq = ++mb->arrivals;
    mb->tail = &m->next;
  }
  return 1;
}

size_t mailbox_peek(mailbox *mb, msg **out, size_t n) {
  size_t got = 0, pushed = 0, skip;
  msg *top, *m;
  for (m = mb->head; m != NULL && got < n; m = m->next) out[got++] = m;
  if (got == n) return got;
  /* acquire: pairs with the pushes, for the messages' links and bytes */
  top = atomic_load_explicit(&mb->inbox, memory_order_acquire);
  if (top == MAILBOX_CLOSED) return got;
  /* the stack is newest first: its oldest are at its bottom */
  for (m = top; m != NULL; m = m->next) pushed++;
  skip = pushed > n - got ? pushed - (n - got) : 0;
  n = got + (pushed - skip);
  for (m = top; skip > 0; m = m->next) skip--;
  for (size_t k = n; m != NULL; m = m->next) out[--k] = m;
  return n;
}

msg *mailbox_next(mailbox *mb) {
  msg *m = mb->scanned != NULL ? mb->scanned->next : mb->head;
  if (m == NULL && drain(mb)) m = mb->scanned != NULL ? mb->scanned->next : mb->head;
  if (m != NULL) mb->scanned = m;
  return m;
}

int mailbox_has_unscanned(mailbox *mb) {
  msg *m = mb->scanned != NULL ? mb->scanned->next : mb->head;
  return m != NULL || mailbox_has_new(mb);
}

/* Unlinks the message at *link (not NULL). */
static void unlink_at(mailbox *mb, msg **link) {
  msg *m = *link;
  *link = m->next;
  if (mb->tail == &m->next) mb->tail = link;
  /* release: a reader that sees it gone sees it pushed */
  atomic_fetch_add_explicit(&mb->gone, 1, memory_order_release);
}

void mailbox_take(mailbox *mb, msg *m) {
  msg **link;
  for (link = &mb->head; *link != NULL && *link != m; link = &(*link)->next) {}
  if (*link == m) unlink_at(mb, link);
  mb->scanned = NULL;
  msg_free(m);
}

void mailbox_rewind(mailbox *mb) {
  mb->scanned = NULL;
}

msg *mailbox_after(mailbox *mb, uint64_t seq) {
  msg *at = mb->scanned, *next;
  if (at == NULL || at->seq != seq) {   /* moved by a nested receive: find seq's place */
    at = NULL;
    for (msg *m = mb->head; m != NULL && m->seq <= seq; m = m->next) at = m;
  }
  next = at != NULL ? at->next : mb->head;
  if (next == NULL && drain(mb)) next = at != NULL ? at->next : mb->head;
  /* at the end, the position stays on the last message examined, so that
  ** mailbox_has_unscanned sees what arrives after it */
  mb->scanned = next != NULL ? next : at;
  return next;
}

int mailbox_take_seq(mailbox *mb, uint64_t seq) {
  msg **link, *m;
  int found;
  for (link = &mb->head; *link != NULL && (*link)->seq < seq; link = &(*link)->next) {}
  m = *link;
  found = m != NULL && m->seq == seq;
  if (found) unlink_at(mb, link);
  mb->scanned = NULL;
  if (found) msg_free(m);
  return found;
}
