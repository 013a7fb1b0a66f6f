/*
** scheduler.h — the schedulers: a run queue of processes, N OS threads that
** run them slice by slice, and the timers (receive timeouts, send_after).
**
** With 0 threads the node is deterministic: nothing runs until the host
** drives it (sched_step, or a host receive that waits), and processes run
** in one reproducible order: first queued first run, or drawn from the
** node's seed (HL_SCHEDULE_RANDOM). Its clock is then virtual unless the
** node asked for the real one (simclock.h): timers fire when the host
** moves it.
*/
#ifndef HL_SCHED_H
#define HL_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "preempt.h"
#include "simclock.h"

typedef struct proc proc;
typedef struct hl_node node;

/* A timer: wakes a waiting process, or delivers a message. */
typedef struct stimer {
  int64_t at;           /* ms, monotonic */
  uint64_t seq;         /* tie-break and identity (the timer's ref) */
  uint64_t pid;
  uint64_t gen;         /* for wakeups: the receive it belongs to */
  int is_message;
  buf msg;              /* for send_after: the term */
  uint64_t from;        /* for send_after: the process that armed it, its sender */
  char *name;           /* for send_after to a name: resolved when it fires */
} stimer;

typedef struct worker worker;   /* a worker thread (scheduler.c) */

typedef struct sched {
  node *node;
  pthread_mutex_t lock;
  pthread_cond_t work;          /* processes or timers to attend to */
  pthread_cond_t left;          /* a worker thread has left */
  pthread_cond_t watch;         /* wakes the watchdog to stop */
  proc **queue;                 /* ring buffer */
  size_t qhead, qcount, qcap;
  atomic_size_t queued;         /* qcount, for spinning workers to watch */
  stimer *timers;               /* min-heap by (at, seq) */
  size_t ntimers, captimers;
  uint64_t next_timer;
  int nthreads;                 /* working threads wanted; 0: deterministic */
  worker *workers;              /* every worker thread started, stuck ones too */
  int live;                     /* worker threads not yet left */
  int active;                   /* ... of which not stuck */
  int nstuck;                   /* stuck, replaced, and not back yet */
  pthread_t watchdog;
  int has_watchdog;
  preempt preempt;              /* ends the workers' long slices (preempt.h) */
  int has_preempt;
  int stopping;
  int abandoned;                /* sched_halt left threads running: never freed */
  size_t running;               /* slices under way */
  simclock clock;               /* the node's: timers and receive timeouts */
  atomic_int spent_us;          /* a virtual clock: slices' time not yet counted */
  int random;                   /* deterministic: the next process drawn from rng */
  uint64_t rng;                 /* splitmix64's state; under lock */
} sched;

/* The real clock, ms, monotonic: for threads (the watchdog, stop's
** deadlines), never for what a process can observe. */
int64_t sched_now(void);
/* The node's clock (timers, receive timeouts), on its own scale, and the
** ms since the node started. */
int64_t sched_clock(sched *s);
int64_t sched_elapsed(sched *s);
/* A virtual clock: moves it forward to t (on its scale; never back), and
** returns 1; 0 for a real clock, which nobody moves. */
int sched_move_clock(sched *s, int64_t t);
/* A virtual clock: moves it forward ms and fires, in order, the timers
** that come due (their processes are queued, not run). 0 for a real clock. */
int sched_advance(sched *s, int64_t ms);

/* Starts nthreads workers and the watchdog (which also runs node_watch).
** The clock and the schedule come from n->cfg. */
sched *sched_new(node *n, int nthreads);
/* Stops the threads. Slices under way get until deadline (ms) to end; a
** thread still in one then is left running, its process taken over
** (proc_take_over), and the scheduler must not be freed (s->abandoned):
** that thread may come back. Returns how many were left; the pids of the
** first max of their processes go to pids. */
size_t sched_halt(sched *s, int64_t deadline, uint64_t *pids, size_t max);
/* Frees the scheduler; queued processes and pending timers are dropped. */
void sched_free(sched *s);

/* Queues p (which must be RUNNABLE); takes a reference. */
void sched_enqueue(sched *s, proc *p);

/* Timers. wake: makes pid runnable at `at` if its receive `gen` still waits.
** send_after: delivers the term to pid (or to name, resolved then), as
** sent by `from`. Both return the timer's ref. cancel returns the ms that
** were left, or -1. */
uint64_t sched_wake_at(sched *s, uint64_t pid, uint64_t gen, int64_t at);
uint64_t sched_send_after(sched *s, int64_t at, uint64_t pid, const char *name, uint64_t from,
                          const unsigned char *term, size_t len);
int64_t sched_cancel(sched *s, uint64_t ref);

/* Deterministic mode, on the host thread: runs the next queued slice, or
** fires the timers that are due. 1 if it did anything. */
int sched_step(sched *s);
/* 1 while another thread runs a step of this host-driven node (what it
** runs may yet queue a process or send), or a process is queued (a step
** that ended since the caller's found none left it): the node is not idle. */
int sched_stepping_elsewhere(sched *s);
/* The earliest timer's time, or -1 when there is none. */
int64_t sched_next_timer(sched *s);

/* Runs one slice of p on the calling thread. */
void sched_run_slice(sched *s, proc *p);
/* On a worker thread: closes a body's state there with close(state) and
** returns 1 (sched_halt leaves the thread to it if it takes too long);
** elsewhere 0. */
int sched_close_here(void (*close)(void *state), void *state);

#endif
