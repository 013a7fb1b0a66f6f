/*
** preempt.h — ending a slice from outside, so that a process's code runs
** with no hook at all until its slice is over.
**
** A Lua count hook makes every VM instruction call into the debug library
** (about twice the time of plain Lua): a scheduler that counts its way to
** the end of a slice taxes all the code it runs. Instead a ticker thread
** looks at the workers every PREEMPT_TICK_MS; a worker seen in the same
** slice on two looks in a row is sent a signal, and the handler, on that
** worker's thread, calls the process body's preempt (pbody_ops), which
** sets the hook that yields. That is how Lua's own interpreter stops a
** chunk on Ctrl-C: lua_sethook may be called from a signal handler.
**
** The signal is SIGURG, as Go's runtime uses it to preempt: its default
** action is to ignore it, and few programs use it. It is sent with
** pthread_sigqueue and a value of ours; any other SIGURG goes to the
** handler the host had installed. Ours is installed while some ticker
** runs; the last one to stop puts the host's back, unless the host has
** since installed another, which it keeps.
**
** A deterministic (host-driven) node has no workers and no ticker: its
** processes count their slices with the hook, so that they end at the same
** instruction in every run.
*/
#ifndef HL_PREEMPT_H
#define HL_PREEMPT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct proc proc;

#define PREEMPT_TICK_MS 1

/* ThreadSanitizer holds an asynchronous signal back until its thread calls
** a function it intercepts, which a loop in Lua's own (uninstrumented)
** library never does. Built with it, workers count their slices with the
** hook, as a deterministic node does. */
#if defined(__SANITIZE_THREAD__)
#define PREEMPT_BY_SIGNAL 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PREEMPT_BY_SIGNAL 0
#endif
#endif
#ifndef PREEMPT_BY_SIGNAL
#define PREEMPT_BY_SIGNAL 1
#endif

/* One worker thread's: what it runs now, for the ticker and the handler. */
typedef struct preempt_slot {
  pthread_t thread;
  atomic_uint_least64_t seq;    /* odd: in a slice; changes at each start and end */
  _Atomic(proc *) running;      /* the process in that slice */
  int gone;                     /* the thread has left (under the ticker's lock) */
  /* the ticker's own */
  uint64_t seen;                /* seq at its last look */
  unsigned looks, next_kick;    /* looks at this slice; the look that kicks next */
  struct preempt_slot *link;
} preempt_slot;

typedef struct preempt {
  pthread_mutex_t lock;
  pthread_cond_t wake;          /* the ticker's sleep, between ticks or while idle */
  preempt_slot *slots;
  atomic_int sleeping;          /* the ticker waits for a slice to start */
  int stopping;
  int started;
  pthread_t ticker;
} preempt;

/* Starts the ticker (and installs the handler); 0 if it cannot run, and
** then nothing is preempted from outside. */
int preempt_start(preempt *pt);
/* Stops the ticker; its slots stay for threads that may yet come back. */
void preempt_stop(preempt *pt);
/* Frees the slots, once no thread uses one. */
void preempt_free(preempt *pt);

/* The calling thread's slot (made, and the signal unblocked for it);
** NULL when the ticker does not run or out of memory. */
preempt_slot *preempt_join(preempt *pt);
/* The thread leaves for good. */
void preempt_leave(preempt *pt, preempt_slot *slot);

/* A slice of p starts and ends on the slot's thread. */
void preempt_begin(preempt *pt, preempt_slot *slot, proc *p);
void preempt_end(preempt_slot *slot);

/* Around a call that a signal would break rather than interrupt and
** resume (select and poll fail with EINTR whatever SA_RESTART says, and
** Erlang's ei library takes that for a failed connect), on any thread:
** the signal waits, blocked, until preempt_allow. */
void preempt_hold(sigset_t *saved);
void preempt_allow(const sigset_t *saved);

#endif
