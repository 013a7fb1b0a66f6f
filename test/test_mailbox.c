/*
** test_mailbox.c — the lock-free mailbox under real threads: producer
** threads send to one process while it receives, on two scheduler threads
** (a process that waits and is woken) and as a host process (a thread that
** sleeps on its condition variable). Every message must arrive exactly
** once, each producer's in the order sent, and no wake-up may be lost (a
** lost one leaves the receiver asleep: the test times out). Also a
** receiver that exits or is killed while producers send (nothing leaks:
** `make check-asan`), and the count process_info reports. Run under
** ThreadSanitizer by `make check-tsan`. No Lua: the process body is C.
*/
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "node.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "tcache.h"
#include "term.h"

#define PRODUCERS 4
#define PER_PRODUCER 20000
#define TOTAL (nproducers * PER_PRODUCER)
#define WAIT_MS 20000         /* far beyond a run's time, even under TSan */

/* A message: which producer, and its number in that producer's order. */
typedef struct note {
  uint32_t producer;
  uint32_t n;
} note;

/* What the receiver checks, whoever runs it. */
typedef struct tally {
  atomic_uint next[PRODUCERS]; /* the number expected next from each */
  long got;
  long bad;                    /* out of order, unknown, or twice */
  long picked;                 /* taken by a selective receive */
  atomic_int done;
  int stop_after;              /* > 0: the process ends after this many */
} tally;

static tally the_tally;
static int nproducers = PRODUCERS;   /* in this test */
static uint32_t max_burst = 64;

static void count_note(tally *t, const msg *m) {
  note k;
  if (m->len != sizeof k) {
    t->bad++;
    return;
  }
  memcpy(&k, m->data, sizeof k);
  if (k.producer >= PRODUCERS || m->from != k.producer + 1 || k.n != atomic_load(&t->next[k.producer]))
    t->bad++;
  else atomic_fetch_add(&t->next[k.producer], 1);   /* its producer watches */
  t->got++;
}

/* Every third message, a selective receive: the first message of one
** producer among the next few, as a receive with a filter scans them. */
static int receive_one(proc *p, tally *t) {
  uint64_t seq = 0;
  uint32_t want = (uint32_t)(t->got % nproducers);
  if (t->got % 3 == 0) {
    for (int i = 0; i < 4; i++) {
      msg *m = proc_mail_after(p, seq);
      note k;
      if (m == NULL) break;
      seq = m->seq;
      memcpy(&k, m->data, sizeof k);
      if (m->len == sizeof k && k.producer == want) {
        count_note(t, m);
        t->picked++;
        return proc_mail_take_seq(p, seq);
      }
    }
  }
  {
    msg *m = proc_mail_after(p, 0);
    if (m == NULL) return 0;
    count_note(t, m);
    return proc_mail_take_seq(p, m->seq);
  }
}

/* ---- a scheduled process with a C body ---- */

static int body_slice(proc *p, int nargs) {
  tally *t = &the_tally;
  (void)nargs;
  for (int i = 0; i < 50; i++) {
    if (t->stop_after > 0 && t->got >= t->stop_after) return 0;
    if (t->got == TOTAL) {
      atomic_store(&t->done, 1);
      return 0;
    }
    if (!receive_one(p, t)) {
      p->wants_mail = 1;       /* waits: the scheduler decides under the protocol */
      return PBODY_YIELDED;
    }
  }
  return PBODY_YIELDED;        /* its slice is over: back in the queue */
}

static void body_reason(proc *p, int status, buf *out) {
  (void)p;
  (void)status;
  term_put_string(out, "normal", 6);
}

static void body_close(node *n, void *state) {
  (void)n;
  (void)state;
}

static void body_release(void *state) {
  (void)state;
}

static const pbody_ops c_body = {body_slice, body_reason, body_close, body_release,
                                 NULL, NULL, NULL, NULL};

/* ---- producers ---- */

typedef struct producer {
  pthread_t thread;
  node *n;
  uint64_t to;
  uint32_t id;
  int handshake;               /* waits for each burst to be taken */
  int refused;                 /* deliveries refused (the receiver was gone) */
  int lost;                    /* a burst was never taken: a lost wake-up */
} producer;

/* 1 once the receiver has taken every message up to n of pr's. */
static int taken(producer *pr, uint32_t n) {
  struct timespec pause = {0, 100000};
  for (int i = 0; i < WAIT_MS * 10; i++) {
    if (atomic_load(&the_tally.next[pr->id]) >= n) return 1;
    if (i > 100) nanosleep(&pause, NULL);
    else sched_yield();
  }
  return 0;
}

/* Sends in bursts of 1 to 64 and, with handshake, waits until the
** receiver has taken the burst: it empties its mailbox and goes to sleep
** again and again while the others' bursts start, and a wake-up lost
** leaves a burst untaken for good. */
static void *produce(void *arg) {
  producer *pr = arg;
  uint32_t rnd = pr->id * 2654435761u + 1;
  proc *p = ptab_get(&pr->n->procs, pr->to);
  if (p == NULL) return NULL;
  for (uint32_t i = 0; i < PER_PRODUCER;) {
    uint32_t burst;
    rnd = rnd * 1103515245u + 12345u;
    burst = 1 + (rnd >> 16) % max_burst;
    for (; burst > 0 && i < PER_PRODUCER; burst--, i++) {
      note k = {pr->id, i};
      if (!proc_deliver_from(p, pr->id + 1, (const unsigned char *)&k, sizeof k)) pr->refused++;
    }
    if (pr->handshake && !taken(pr, i)) {
      pr->lost = 1;
      break;
    }
    if ((rnd >> 8) % 64 == 0) {    /* long enough for a spinning receiver to sleep */
      struct timespec pause = {0, 300000};
      nanosleep(&pause, NULL);
    } else {
      sched_yield();
    }
  }
  proc_unref(p);
  return NULL;
}

static void start_producers(producer *prs, node *n, uint64_t to, int handshake) {
  for (uint32_t i = 0; i < (uint32_t)nproducers; i++) {
    prs[i] = (producer){.n = n, .to = to, .id = i, .handshake = handshake};
    pthread_create(&prs[i].thread, NULL, produce, &prs[i]);
  }
}

/* How many deliveries were refused; -1 if a burst was never taken. */
static int join_producers(producer *prs) {
  int refused = 0, lost = 0;
  for (int i = 0; i < nproducers; i++) {
    pthread_join(prs[i].thread, NULL);
    refused += prs[i].refused;
    lost |= prs[i].lost;
  }
  return lost ? -1 : refused;
}

static node *new_node(int schedulers) {
  hl_config cfg;
  memset(&cfg, 0, sizeof cfg);
  node *n;
  cfg.size = sizeof cfg;
  cfg.schedulers = schedulers;
  n = node_new(&cfg);
  if (n != NULL) logger_set_mode(&n->log, LOG_SILENT);   /* the killed one's report */
  return n;
}

/* A process with the C body, queued; the caller holds a reference. */
static proc *spawn_c(node *n) {
  proc *p = proc_new(n, 0);
  if (p == NULL) return NULL;
  p->body = &c_body;
  if (ptab_add(&n->procs, p) == 0) {
    proc_unref(p);
    return NULL;
  }
  sched_enqueue(n->sched, p);
  return p;
}

static int wait_done(tally *t) {
  struct timespec pause = {0, 1000000};
  for (int ms = 0; ms < WAIT_MS; ms++) {
    if (atomic_load(&t->done)) return 1;
    nanosleep(&pause, NULL);
  }
  return 0;
}

static int all_in_order(const tally *t) {
  for (int i = 0; i < nproducers; i++)
    if (atomic_load(&t->next[i]) != PER_PRODUCER) return 0;
  return t->bad == 0 && t->got == TOTAL;
}

/* ---- the tests ---- */

/* producers: how many; burst: at most this many messages before each
** handshake (1: every message is a round trip, where a wake-up is most
** often due just as the receiver goes to sleep). */
static void test_scheduled_receiver(int producers, uint32_t burst) {
  node *n = new_node(2);
  producer prs[PRODUCERS];
  proc *p;
  CHECK(n != NULL);
  nproducers = producers;
  max_burst = burst;
  memset(&the_tally, 0, sizeof the_tally);
  p = spawn_c(n);
  CHECK(p != NULL);
  start_producers(prs, n, p->pid, 1);
  CHECK(join_producers(prs) == 0);  /* fails on a lost wake-up */
  CHECK(wait_done(&the_tally));     /* fails on a lost wake-up */
  CHECK(all_in_order(&the_tally));
  CHECK(producers == 1 || the_tally.picked > 0);
  proc_unref(p);
  node_stop(n, NULL, 0);
}

static void test_host_receiver(int producers, uint32_t burst) {
  node *n = new_node(2);
  producer prs[PRODUCERS];
  proc *p = proc_new(n, 1);
  int stuck = 0;
  CHECK(p != NULL && ptab_add(&n->procs, p) != 0);
  nproducers = producers;
  max_burst = burst;
  memset(&the_tally, 0, sizeof the_tally);
  start_producers(prs, n, p->pid, 1);
  while (the_tally.got < TOTAL && !stuck) {
    if (receive_one(p, &the_tally)) continue;
    p->deadline = sched_clock(n->sched) + WAIT_MS;
    proc_host_wait(p);
    /* the deadline passed: a wake-up was lost */
    stuck = sched_clock(n->sched) >= p->deadline;
  }
  CHECK(!stuck);
  CHECK(join_producers(prs) == 0);
  CHECK(all_in_order(&the_tally));
  CHECK(proc_mail_count(p) == 0);
  proc_end_host(p);
  proc_unref(p);
  node_stop(n, NULL, 0);
}

/* The receiver ends after a few messages, or is killed, while producers
** send: what arrives later is refused or freed with it. */
static void test_receiver_gone(int kill) {
  node *n = new_node(2);
  producer prs[PRODUCERS];
  proc *p;
  long refused;
  memset(&the_tally, 0, sizeof the_tally);
  the_tally.stop_after = kill ? TOTAL + 1 : 1000;
  p = spawn_c(n);
  CHECK(p != NULL);
  start_producers(prs, n, p->pid, 0);
  if (kill) {
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    proc_kill(p);
  }
  refused = join_producers(prs);
  for (int ms = 0; ms < WAIT_MS && atomic_load(&p->state) != PROC_EXITED; ms++) {
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
  CHECK(atomic_load(&p->state) == PROC_EXITED);
  CHECK(the_tally.got + refused <= TOTAL);
  CHECK(the_tally.bad == 0);
  CHECK(!proc_deliver(p, (const unsigned char *)"x", 1));
  proc_unref(p);
  node_stop(n, NULL, 0);
}

static void test_queue_length(void) {
  node *n = new_node(0);
  proc *p = proc_new(n, 1);
  note k = {0, 0};
  CHECK(p != NULL && ptab_add(&n->procs, p) != 0);
  for (int i = 0; i < 5; i++) CHECK(proc_deliver(p, (const unsigned char *)&k, sizeof k));
  CHECK(proc_mail_count(p) == 5);
  CHECK(proc_mail_next(p) != NULL);
  CHECK(proc_mail_count(p) == 5);      /* looked at, not taken */
  CHECK(proc_mail_take_seq(p, 1));
  CHECK(proc_mail_count(p) == 4);
  CHECK(!proc_mail_take_seq(p, 1));
  CHECK(proc_mail_count(p) == 4);
  proc_end_host(p);
  proc_unref(p);
  node_stop(n, NULL, 0);
}

/* The first n messages, copied for process_info: the queue's first, then
** the inbox's oldest, in arrival order; nothing taken. A host process
** other than the caller cannot be read (its thread may run any time). */
static void test_peek(void) {
  node *n = new_node(0);
  proc *p = proc_new(n, 1), *other = proc_new(n, 1);
  msg *out[8];
  long got;
  CHECK(p != NULL && ptab_add(&n->procs, p) != 0);
  CHECK(other != NULL && ptab_add(&n->procs, other) != 0);
  for (uint32_t i = 1; i <= 3; i++) {
    note k = {0, i};
    CHECK(proc_deliver(p, (const unsigned char *)&k, sizeof k));
  }
  CHECK(proc_mail_next(p) != NULL);    /* 1..3 into the queue */
  for (uint32_t i = 4; i <= 7; i++) {  /* 4..7 stay in the inbox */
    note k = {0, i};
    CHECK(proc_deliver(p, (const unsigned char *)&k, sizeof k));
  }
  for (size_t want = 0; want <= 8; want++) {
    got = proc_mail_peek(p, p, out, want);
    CHECK(got == (long)(want < 7 ? want : 7));
    for (long i = 0; i < got; i++) {
      note k;
      memcpy(&k, out[i]->data, sizeof k);
      CHECK(out[i]->len == sizeof k && k.n == (uint32_t)i + 1);
      msg_free(out[i]);
    }
  }
  CHECK(proc_mail_count(p) == 7);
  CHECK(proc_mail_peek(p, other, out, 8) == -1);
  proc_end_host(other);
  proc_unref(other);
  proc_end_host(p);
  proc_unref(p);
  node_stop(n, NULL, 0);
}

/* ---- message buffers: a cache per thread ---- */

#define BLOCKS 3000

typedef struct blocks {
  unsigned char *b[BLOCKS];
  size_t size[BLOCKS];
} blocks;

static void fill(blocks *bs, int salt) {
  for (int i = 0; i < BLOCKS; i++) {
    bs->size[i] = (size_t)(i * 7 % 700) + 1;       /* small ones and a few large */
    bs->b[i] = tcache_alloc(bs->size[i]);
    if (bs->b[i] != NULL) memset(bs->b[i], (i + salt) & 0xff, bs->size[i]);
  }
}

/* 1 if every block still holds what fill wrote; then frees them. */
static int check_and_free(blocks *bs, int salt) {
  int ok = 1;
  for (int i = 0; i < BLOCKS; i++) {
    if (bs->b[i] == NULL) {
      ok = 0;
      continue;
    }
    for (size_t j = 0; j < bs->size[i]; j++)
      if (bs->b[i][j] != ((i + salt) & 0xff)) ok = 0;
    tcache_free(bs->b[i]);
  }
  return ok;
}

static void *fill_thread(void *arg) {
  fill(arg, 1);
  return NULL;
}

static void *free_thread(void *arg) {
  return check_and_free(arg, 2) ? arg : NULL;
}

/* Blocks freed on another thread go back to their home's cache; blocks
** whose home thread has ended are freed for good (ASan: nothing leaks). */
static void test_message_buffers(void) {
  static blocks a, b;
  pthread_t th;
  void *ok;
  pthread_create(&th, NULL, fill_thread, &a);    /* its home thread ends */
  pthread_join(th, NULL);
  CHECK(check_and_free(&a, 1));
  for (int round = 0; round < 3; round++) {      /* home here, freed there, reused */
    fill(&b, 2);
    pthread_create(&th, NULL, free_thread, &b);
    pthread_join(th, &ok);
    CHECK(ok != NULL);
  }
  tcache_free(NULL);
}

int main(void) {
  test_message_buffers();
  test_queue_length();
  test_peek();
  test_scheduled_receiver(PRODUCERS, 64);
  test_scheduled_receiver(1, 1);
  test_host_receiver(PRODUCERS, 64);
  test_host_receiver(1, 1);
  test_receiver_gone(0);
  test_receiver_gone(1);
  return check_summary("mailbox");
}
