/*
** proc.h — a lightweight process: a body that runs it (opaque here: the
** Lua body of lbody.c gives each process its own Lua state, own garbage
** collector and own memory limit through its allocator), a mailbox,
** links, monitors, and the exit protocol.
**
** Life cycle, guarded by the process's lock:
**   RUNNABLE (in the run queue) -> RUNNING (a scheduler thread runs it) ->
**   WAITING (in receive) or RUNNABLE again, until DYING (whoever moved it
**   there carries out the exit, exactly once) -> EXITED.
** One step needs no lock: a sender moves WAITING -> RUNNABLE with a
** compare-and-swap, and whoever wins it queues the process.
** A host process (the host Lua state, a C host thread) has no scheduler
** slot: it runs on its own thread and waits on its condition variable.
*/
#ifndef HL_PROC_H
#define HL_PROC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "mailbox.h"
#include "node.h"

enum { PROC_RUNNABLE, PROC_RUNNING, PROC_WAITING, PROC_DYING, PROC_EXITED };

/* A monitor as seen from either end. */
typedef struct pmon {
  uint64_t ref;
  uint64_t pid;     /* the other end */
} pmon;

/* Bytes in use and the limit (0: none), for a process's allocator. */
typedef struct palloc {
  struct pheap *heap;   /* the body's own heap (pheap.h) */
  atomic_size_t used;   /* written only by the thread running the process;
                           atomic so that process_info may read it */
  size_t limit;
  int exceeded;         /* the process went over its limit: it must end */
} palloc;

typedef struct proc proc;

/* What the runtime asks of a process's body (the scheduler, the exit
** protocol, the node), and nothing else: the body is the binding's, as a
** lua_Alloc or lua_Hook is the host's. The Lua body is lbody.c. */
typedef struct pbody_ops {
  /* Runs one slice of p, with nargs arguments waiting for the first one:
  ** PBODY_YIELDED, or how the body ended, for `reason`. */
  int (*slice)(proc *p, int nargs);
  /* The exit reason of a body that ended with status (a term into out);
  ** it may run the body's code, so no lock is held. */
  void (*reason)(proc *p, int status, buf *out);
  /* Closes the state of a process that has exited (p->L), through the
  ** node's means; touches nothing of the node after: it may be gone. */
  void (*close)(node *n, void *state);
  /* Closes a state here and now (a taken-over process, a failed spawn). */
  void (*release)(void *state);
  /* Called from a signal handler on the thread that runs p's slice
  ** (preempt.h), so only what is async-signal-safe: asks p to yield at
  ** its next instruction. */
  void (*preempt)(proc *p);
  /* The node's part, once the body has registered with it (node->body):
  ** the watchdog's call (now: sched_now()); the stop, which returns how
  ** many states it could not see closed by deadline (ms); the last
  ** reference's. */
  void (*watch)(node *n, int64_t now);
  size_t (*stop)(node *n, int64_t deadline);
  void (*free)(node *n);
} pbody_ops;

#define PBODY_YIELDED (-1)

struct proc {
  atomic_int refs;
  uint64_t pid;
  node *node;
  int host;
  pthread_mutex_t lock;
  pthread_cond_t wake;          /* host processes wait here */
  /* Changed under lock, but for one step a sender takes without it:
  ** WAITING -> RUNNABLE, by compare-and-swap (proc.c, wake). */
  atomic_int state;
  atomic_int host_sleeping;     /* a host waits on `wake`: a sender must signal */
  mailbox mail;                 /* no lock: mailbox.h */
  int64_t deadline;             /* receive timeout, ms; -1: none */
  uint64_t timer_gen;           /* which timeout is current */
  int wants_mail;               /* yielded in receive */
  atomic_int interrupted;       /* a host's waits give up (proc_interrupt) */
  atomic_int host_receiving;    /* a host thread is inside a receive that uses
                                   the node: its stop waits for it to leave */
  /* signals */
  int trap_exit;
  atomic_int exiting;           /* an exit is pending: unwind at once */
  atomic_int abandoned;         /* its exit was carried out while a thread still
                                   ran its state (proc_take_over): that thread
                                   closes the state when it comes back */
  buf reason;                   /* the pending or final exit reason (a term) */
  uint64_t *links;
  size_t nlinks, caplinks;
  pmon *watchers;               /* monitors others hold on me */
  size_t nwatchers, capwatchers;
  pmon *watching;               /* monitors I hold on others */
  size_t nwatching, capwatching;
  int remote;                   /* it has links or monitors with processes of
                                   other nodes: its exit is told to
                                   node->remote_exit (proc_mark_remote) */
  uint64_t *aliases;            /* my active aliases (alias.c) */
  size_t naliases, capaliases;
  /* the body: opaque to the runtime, which only calls body's functions;
  ** the Lua body (lbody.c) keeps a lua_State in each pointer */
  const pbody_ops *body;        /* NULL: a host process, or none yet */
  void *L;                      /* the process's own state */
  void *co;                     /* the coroutine its body runs in */
  int nargs;                    /* arguments waiting for the first resume */
  int budget;                   /* hook ticks left in this slice */
  int counted;                  /* 1: the hook counts this slice's end (budget);
                                   0: a worker's ticker ends it (preempt.h) */
  int loading;                  /* its module's top level runs: not started yet */
  void *nested;                 /* the coroutine it resumes now (lcoro.c) */
  void *preempted;              /* ... which the hook has just yielded */
  palloc alloc;
  char *initial_call;           /* "module:function" its body started with, set
                                   before the pid is published and never changed;
                                   NULL: a spawned function, or a host */
  /* For introspection: written only by the thread running the process,
  ** read by anyone (relaxed: each is a count, not a promise about the
  ** other). They live in what was the record's tail padding. */
  atomic_uint_least64_t slices;     /* slices run (coarser than reductions) */
  atomic_uint_least64_t received;   /* messages taken from its mailbox */
};

/* Adds one to a counter that only one thread writes. */
static inline void proc_count(atomic_uint_least64_t *c) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

proc *proc_new(node *n, int host);
void proc_ref(proc *p);
void proc_unref(proc *p);

/* Appends a message (a copy of the term) and wakes p if it waits. 0 if p
** has exited (the message is dropped, as in Erlang) or out of memory.
** from: the pid that really sent it, which the receiver may trust; 0 for
** a message the node makes itself (EXIT, DOWN, ETS-TRANSFER, ...), as
** proc_deliver does. */
int proc_deliver_from(proc *p, uint64_t from, const unsigned char *term, size_t len);
int proc_deliver(proc *p, const unsigned char *term, size_t len);
/* The same, only while ref is one of p's active aliases (checked under
** p's lock, so none arrives once alias_drop has returned). */
int proc_deliver_alias(proc *p, uint64_t ref, uint64_t from, const unsigned char *term,
                       size_t len);

/* Exit signals. kind: how the signal was sent. */
enum { SIG_LINK, SIG_EXIT_CALL };
void proc_signal_exit(node *n, uint64_t to, uint64_t from, const unsigned char *reason,
                      size_t len, int kind);

/* The same from a process of another node: from_term (a term, an xpid)
** is who the EXIT message names, when p traps. */
void proc_signal_exit_remote(node *n, uint64_t to, const unsigned char *from_term,
                             size_t from_len, const unsigned char *reason, size_t len, int kind);

/* Records that p has a link or monitor with a process of another node, so
** that its exit calls node->remote_exit; 0 (nothing recorded) once p has
** begun to die: the caller then answers for it as for a dead process. */
int proc_mark_remote(proc *p);

/* Ends p now with this reason, unless it is running on a scheduler thread
** or already exiting. */
void proc_exit_now(proc *p, const unsigned char *reason, size_t len);
/* Tests only: when set, every exit that proc_exit_now starts calls it on
** its own thread, once p is DYING and before anything of the node is
** touched, so that a test can hold a host's exit midway (a detach while
** the node stops). NULL otherwise. */
extern void (*_Atomic proc_exit_test_hook)(proc *p);
/* Ends a host process (its thread or Lua state is leaving) with "normal". */
void proc_end_host(proc *p);

/* Ends p with reason "killed" (untrappable, like an exit signal kill). */
void proc_kill(proc *p);

/* Carries out p's exit with the reason in p->reason; p must be DYING. */
void proc_finish_exit(proc *p);

/* For a process whose thread is stuck where the hook cannot reach it (a
** long C call, a finalizer): carries out its exit for the node now, with
** the pending reason (signals, monitors, tables, name; the pid is dead),
** while its Lua state and mailbox stay with the thread that runs it. 1 if
** it did, 0 if p was not running any more. */
int proc_take_over(proc *p);
/* On the thread that ran a taken-over process, back from its state:
** closes the state there and frees the mailbox. */
void proc_release_abandoned(proc *p);

/* In the body's hook: turns a memory limit that was exceeded into a pending exit. */
void proc_check_limit(proc *p);

/* 1 while p may act: not exiting, not dead. Host processes always may. */
int proc_alive(proc *p);

/* Links and monitors (both ends updated; a dead target gets the noproc
** treatment: an exit signal or an immediate DOWN). */
void proc_link(proc *self, uint64_t other);
void proc_unlink(proc *self, uint64_t other);
uint64_t proc_monitor(proc *self, uint64_t target);
/* After demonitor returns no DOWN for ref arrives any more: one that was
** sent is already in the mailbox. */
void proc_demonitor(proc *self, uint64_t ref);

/* Mailbox reading for receive, by the owner only, with no lock. next: the message after
** the scan position (NULL at the end); take removes the one last returned
** by next and restarts the scan. */
msg *proc_mail_next(proc *p);
/* On a host thread: waits until a message arrives after the scan position
** or p->deadline (on the node's clock) passes; in a deterministic node it
** runs the node meanwhile, and when nothing can run, a virtual clock jumps
** to the next timer or to the deadline, whichever comes first. -1 when the
** node is idle and nothing can ever arrive; -2 while p is interrupted; -3
** once p has ended (its node stops, or it detached). */
int proc_host_wait(proc *p);
/* Around a host thread's receive, which reads the node's clock and
** scheduler: enter is 0 (and the receive must not touch the node) once p
** has ended; between enter and leave the node's stop wakes the thread and
** waits for it to leave before it frees what the receive uses. */
int proc_host_enter(proc *p);
void proc_host_leave(proc *p);

/* Interrupts a host process: while set, its waits return -2 at once
** (the one under way wakes up). Takes p's lock: for a thread that watches
** signals, never for a signal handler. on = 0 withdraws it. */
void proc_interrupt(proc *p, int on);

/* 1 if a message arrived after the scan position (the owner). */
int proc_has_unscanned(proc *p);
/* Messages in p's mailbox, for process_info (any thread). */
size_t proc_mail_count(proc *p);
/* Copies of the first n messages waiting for p, oldest first, into out
** (msg_new copies: the caller msg_frees them); how many, or -1 when they
** cannot be read now: p runs on another thread, is a host process other
** than self, or is exiting. Under p's lock only bytes are copied. */
long proc_mail_peek(proc *p, proc *self, msg **out, size_t n);
void proc_mail_take(proc *p, msg *m);
void proc_mail_rewind(proc *p);

/* The same by arrival number, for a receive that runs Lua between its
** steps: a receive nested in it (in a filter or a finalizer) may take
** messages and move the scan position. after: the first message whose seq
** is above `seq` (0: the first of all), made the scan position; NULL when
** there is none. take_seq: removes message `seq`; 0 if it is gone
** already. */
msg *proc_mail_after(proc *p, uint64_t seq);
int proc_mail_take_seq(proc *p, uint64_t seq);

#endif
