/*
** mailbox.h — a process's mailbox: an inbox that any thread pushes
** messages onto without a lock (a multi-producer, single-consumer stack),
** and the owner's private queue in arrival order, which the owner fills
** from the inbox in one step when its scan reaches the end and reads with
** selective receive (a scan position, arrival numbers).
**
** Promises: every message pushed before mailbox_close is either read by
** the owner or freed, exactly once; the messages of one sender keep their
** order; a push after mailbox_close is refused. Only the owner (the thread
** running the process, or any thread while nobody runs it) calls the
** functions marked "owner".
*/
#ifndef HL_MAILBOX_H
#define HL_MAILBOX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct msg {
  struct msg *next;
  uint64_t from;        /* who really sent it: a pid, or 0 for the node itself */
  uint64_t seq;         /* its place in arrival order, from 1 (given by the owner) */
  size_t len;
  unsigned char data[];
} msg;

typedef struct mailbox {
  /* Written by every sender: a cache line of its own, apart from what
  ** the owner reads and writes on every message. */
  _Alignas(64) _Atomic(msg *) inbox;   /* newest first; MAILBOX_CLOSED when closed */
  atomic_size_t pushed;                /* messages pushed and not refused */
  /* the owner's */
  _Alignas(64) msg *head, **tail;
  msg *scanned;                 /* receive's position: last message examined */
  uint64_t arrivals;            /* numbers the messages taken in */
  atomic_size_t gone;           /* messages taken or freed: pushed - gone are there */
} mailbox;

/* A message holding a copy of term (NULL: out of memory), and its end. */
msg *msg_new(uint64_t from, const unsigned char *term, size_t len);
void msg_free(msg *m);

void mailbox_init(mailbox *mb);

/* Any thread: pushes m; 0 (m freed) once the mailbox is closed. The push
** is sequentially consistent, so that a sender that pushed and then reads
** that the owner sleeps, and an owner that said it sleeps and then looks
** at the inbox, cannot both miss the other (see proc.c, wake). */
int mailbox_push(mailbox *mb, msg *m);
/* Any thread: 1 if the inbox holds messages the owner has not taken in
** (a sequentially consistent read, the other half of the above). */
int mailbox_has_new(mailbox *mb);
/* Any thread: refuses every later push and frees the inbox's messages. */
void mailbox_close(mailbox *mb);
/* Messages in the mailbox, for process_info (any thread; a push under
** way may be counted already). */
size_t mailbox_count(mailbox *mb);

/* The first n messages (in arrival order: the queue's, then the inbox's
** oldest) into out; how many. Only while the owner does not run them off
** (the owner itself, or another thread while the owner is suspended and
** cannot be resumed, nor the mailbox closed, under its process's lock):
** the pointers are good only until then. */
size_t mailbox_peek(mailbox *mb, msg **out, size_t n);

/* Owner: frees every message, the inbox's and the queue's, and closes. */
void mailbox_free(mailbox *mb);
/* Owner: the message after the scan position, made the position (NULL at
** the end); take removes the one last returned and restarts the scan. */
msg *mailbox_next(mailbox *mb);
void mailbox_take(mailbox *mb, msg *m);
void mailbox_rewind(mailbox *mb);
/* Owner: 1 if a message is there after the scan position, in the queue
** or still in the inbox. */
int mailbox_has_unscanned(mailbox *mb);
/* Owner: by arrival number (see proc_mail_after, proc_mail_take_seq). */
msg *mailbox_after(mailbox *mb, uint64_t seq);
int mailbox_take_seq(mailbox *mb, uint64_t seq);

#endif
