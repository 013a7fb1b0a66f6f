/*
** alias.h — process aliases, as in Erlang/OTP: a reference that a process
** makes (hl.alias) and that delivers messages to it only while it is
** active. Once the owner deactivates it (hl.unalias) or exits, a message
** sent to it is dropped, so a reply that comes too late never reaches the
** mailbox of a caller that stopped waiting.
**
** Two structures: the node-wide map (ref -> owner pid) that routes a send,
** and each process's own list of active aliases, guarded by its lock. The
** list is the authority: a send checks it under the owner's lock while it
** appends the message, and unalias removes from it under the same lock, so
** after unalias returns nothing more arrives through that alias.
*/
#ifndef HL_ALIAS_H
#define HL_ALIAS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct proc proc;
typedef struct hl_node hl_node;

/* Open addressing with linear probing; key 0 marks a free slot (no ref
** is 0). */
typedef struct alias_map {
  pthread_mutex_t lock;
  uint64_t *refs;
  uint64_t *pids;
  size_t count, cap;
} alias_map;

int alias_map_init(alias_map *m);
void alias_map_destroy(alias_map *m);

/* A new alias of p (a fresh reference), or 0 when out of memory or p is
** exiting. */
uint64_t alias_make(proc *p);
/* Deactivates ref if p owns it; 1 if it was active. */
int alias_drop(proc *p, uint64_t ref);
/* Delivers to the owner of ref while it is active; 0 when dropped. from:
** the true sender (see proc_deliver_from). */
int alias_send(hl_node *n, uint64_t ref, uint64_t from, const unsigned char *term, size_t len);
/* The same, only if ref is an active alias of process owner: a reply
** address taken from a message reaches no one but the process that sent
** it. */
int alias_send_owned(hl_node *n, uint64_t ref, uint64_t owner, uint64_t from,
                     const unsigned char *term, size_t len);
/* 1 if ref is one of p's active aliases (p's lock held). */
int alias_active_locked(const proc *p, uint64_t ref);
/* Forgets the routes of an exiting process's aliases (its list, taken
** from it under its lock); frees the list. */
void alias_forget(hl_node *n, uint64_t *refs, size_t count);

#endif
