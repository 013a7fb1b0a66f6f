/*
** preempt.c — the ticker and the signal that end long slices (see
** preempt.h). The handler does one thing: it asks the body of the process
** that its thread runs to stop at its next instruction.
*/
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "preempt.h"
#include "proc.h"

#define PREEMPT_SIGNAL SIGURG
/* Looks with no slice under way before the ticker sleeps until one starts. */
#define IDLE_LOOKS 50
/* A slice that goes on after a kick (a long C call, a finalizer) is kicked
** again after 1, 2, 4 ... looks, at most this many apart. */
#define MAX_KICK_GAP 64

static _Thread_local preempt_slot *this_slot;

/* ---- the handler ---- */

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int tickers;                 /* tickers running; the handler is ours while > 0 */
static struct sigaction previous;   /* the host's, put back by the last */
static const int our_tag;           /* its address marks the signals we send */

static void pass_on(int sig, siginfo_t *info, void *context) {
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction != NULL) previous.sa_sigaction(sig, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
  }
}

/* Only our own signal, which goes to workers alone, reads this_slot: a
** first read of a thread-local on another thread could allocate. */
static void on_signal(int sig, siginfo_t *info, void *context) {
  int saved = errno;
  if (info == NULL || info->si_code != SI_QUEUE || info->si_value.sival_ptr != &our_tag) {
    pass_on(sig, info, context);
  } else if (this_slot != NULL) {
    proc *p = atomic_load_explicit(&this_slot->running, memory_order_relaxed);
    if (p != NULL && p->body != NULL && p->body->preempt != NULL) p->body->preempt(p);
  }
  errno = saved;
}

static int install(void) {
  int ok = 1;
  pthread_mutex_lock(&install_lock);
  if (tickers == 0) {
    struct sigaction sa;
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ok = sigaction(PREEMPT_SIGNAL, &sa, &previous) == 0;
  }
  if (ok) tickers++;
  pthread_mutex_unlock(&install_lock);
  return ok;
}

/* The last one puts the host's handler back, unless the host has put one
** of its own there meanwhile. */
static void uninstall(void) {
  struct sigaction now;
  pthread_mutex_lock(&install_lock);
  if (--tickers == 0 && sigaction(PREEMPT_SIGNAL, NULL, &now) == 0 &&
      (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_signal)
    sigaction(PREEMPT_SIGNAL, &previous, NULL);
  pthread_mutex_unlock(&install_lock);
}

/* ---- the ticker ---- */

static void kick(preempt_slot *slot) {
  union sigval v;
  v.sival_ptr = (void *)&our_tag;
  pthread_sigqueue(slot->thread, PREEMPT_SIGNAL, v);
}

/* One look at a slot (lock held): 1 if it is in a slice. */
static int look(preempt_slot *slot) {
  uint64_t seq = atomic_load(&slot->seq);
  if (slot->gone || !(seq & 1)) {
    slot->seen = seq;
    return 0;
  }
  if (seq != slot->seen) {          /* a new slice since the last look */
    slot->seen = seq;
    slot->looks = 0;
    slot->next_kick = 1;
    return 1;
  }
  if (++slot->looks == slot->next_kick) {
    kick(slot);
    slot->next_kick += slot->next_kick < MAX_KICK_GAP ? slot->next_kick : MAX_KICK_GAP;
  }
  return 1;
}

static int look_at_all(preempt *pt) {
  int busy = 0;
  for (preempt_slot *slot = pt->slots; slot != NULL; slot = slot->link) busy |= look(slot);
  return busy;
}

static struct timespec tick_from_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += PREEMPT_TICK_MS * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* Sleeps until a slice starts. A slice that started before `sleeping` was
** set is seen by the look after it; one that starts after sees it set and
** wakes the ticker (preempt_begin): seq_cst on both sides. */
static void sleep_while_idle(preempt *pt) {
  atomic_store(&pt->sleeping, 1);
  if (!look_at_all(pt)) {
    while (atomic_load(&pt->sleeping) && !pt->stopping) pthread_cond_wait(&pt->wake, &pt->lock);
  }
  atomic_store(&pt->sleeping, 0);
}

static void *ticker_main(void *arg) {
  preempt *pt = arg;
  int idle = 0;
  pthread_mutex_lock(&pt->lock);
  while (!pt->stopping) {
    struct timespec at = tick_from_now();
    if (idle >= IDLE_LOOKS) {
      sleep_while_idle(pt);
      idle = 0;
      continue;
    }
    pthread_cond_timedwait(&pt->wake, &pt->lock, &at);
    if (pt->stopping) break;
    idle = look_at_all(pt) ? 0 : idle + 1;
  }
  pthread_mutex_unlock(&pt->lock);
  return NULL;
}

int preempt_start(preempt *pt) {
  pthread_condattr_t attr;
  pt->slots = NULL;
  pt->stopping = 0;
  pt->started = 0;
  atomic_init(&pt->sleeping, 0);
  pthread_mutex_init(&pt->lock, NULL);
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&pt->wake, &attr);
  pthread_condattr_destroy(&attr);
  if (install()) {
    if (pthread_create(&pt->ticker, NULL, ticker_main, pt) == 0) {
      pt->started = 1;
      return 1;
    }
    uninstall();
  }
  preempt_free(pt);
  return 0;
}

void preempt_stop(preempt *pt) {
  if (!pt->started) return;
  pthread_mutex_lock(&pt->lock);
  pt->stopping = 1;
  pthread_cond_signal(&pt->wake);
  pthread_mutex_unlock(&pt->lock);
  pthread_join(pt->ticker, NULL);
  pt->started = 0;
  uninstall();
}

void preempt_free(preempt *pt) {
  while (pt->slots != NULL) {
    preempt_slot *slot = pt->slots;
    pt->slots = slot->link;
    free(slot);
  }
  pthread_cond_destroy(&pt->wake);
  pthread_mutex_destroy(&pt->lock);
}

/* ---- the workers' side ---- */

/* Blocks or unblocks the signal for the calling thread. */
static void set_mask(int how, sigset_t *saved) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, PREEMPT_SIGNAL);
  pthread_sigmask(how, &set, saved);
}

preempt_slot *preempt_join(preempt *pt) {
  preempt_slot *slot;
  if (!pt->started || (slot = calloc(1, sizeof *slot)) == NULL) return NULL;
  slot->thread = pthread_self();
  atomic_init(&slot->seq, 0);
  atomic_init(&slot->running, NULL);
  /* a host that blocks signals in its threads passes its mask on to ours */
  set_mask(SIG_UNBLOCK, NULL);
  this_slot = slot;
  pthread_mutex_lock(&pt->lock);
  slot->link = pt->slots;
  pt->slots = slot;
  pthread_mutex_unlock(&pt->lock);
  return slot;
}

void preempt_leave(preempt *pt, preempt_slot *slot) {
  if (slot == NULL) return;
  this_slot = NULL;
  pthread_mutex_lock(&pt->lock);
  slot->gone = 1;
  pthread_mutex_unlock(&pt->lock);
}

void preempt_begin(preempt *pt, preempt_slot *slot, proc *p) {
  atomic_store_explicit(&slot->running, p, memory_order_relaxed);
  atomic_fetch_add(&slot->seq, 1);            /* seq_cst: see sleep_while_idle */
  if (atomic_load(&pt->sleeping)) {
    pthread_mutex_lock(&pt->lock);
    atomic_store(&pt->sleeping, 0);
    pthread_cond_signal(&pt->wake);
    pthread_mutex_unlock(&pt->lock);
  }
}

void preempt_end(preempt_slot *slot) {
  /* no kick after this reaches a state the slice's end may close */
  atomic_store_explicit(&slot->running, NULL, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);   /* the handler runs on this thread */
  atomic_fetch_add_explicit(&slot->seq, 1, memory_order_relaxed);
}

void preempt_hold(sigset_t *saved) {
  set_mask(SIG_BLOCK, saved);
}

void preempt_allow(const sigset_t *saved) {
  pthread_sigmask(SIG_SETMASK, saved, NULL);
}
