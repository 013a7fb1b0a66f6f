/*
** test_threads.c — one table used by several OS threads at once through the
** C API: every increment counted exactly once (linearizable updates), every
** insert visible, traversals under concurrent change never crash, and a
** drop in the middle of it all leaves the other threads with a clean
** HL_ECLOSED. Run under ThreadSanitizer by `make check-tsan`.
*/
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "heirloom.h"

#define THREADS 4
#define KEYS_PER_THREAD 5000
#define COUNTERS 16
#define INCREMENTS 20000

static int bag_run;   /* the duplicate_bag round has no counters */

typedef struct job {
  hl_table *t;
  int id;
  int failures;
  long seen;
  atomic_long progress;
} job;

static void int_key(hl_buf *b, int64_t k) {
  hl_buf_clear(b);
  hl_term_int(b, k);
}

static void pair(hl_buf *b, int64_t k, int64_t v) {
  hl_buf_clear(b);
  hl_term_array(b, 2);
  hl_term_int(b, k);
  hl_term_int(b, v);
}

/* Inserts its own keys, bumps shared counters, reads back its keys. */
static void *writer(void *arg) {
  job *j = arg;
  hl_buf b, out;
  int64_t r;
  size_t count;
  hl_buf_init(&b);
  hl_buf_init(&out);
  for (int i = 0; i < KEYS_PER_THREAD; i++) {
    pair(&b, 1000 + j->id * KEYS_PER_THREAD + i, i);
    if (hl_table_insert(j->t, b.data, b.len) != HL_OK) j->failures++;
  }
  for (int i = 0; i < INCREMENTS && !bag_run; i++) {
    int_key(&b, i % COUNTERS);
    if (hl_table_update_counter(j->t, b.data, b.len, 2, 1, &r) != HL_OK) j->failures++;
  }
  for (int i = 0; i < KEYS_PER_THREAD; i++) {
    int_key(&b, 1000 + j->id * KEYS_PER_THREAD + i);
    hl_buf_clear(&out);
    if (hl_table_lookup(j->t, b.data, b.len, &out, &count) != HL_OK || count != 1)
      j->failures++;
  }
  hl_buf_free(&b);
  hl_buf_free(&out);
  return NULL;
}

/* Walks the table over and over while the writers work. The counters'
** keys are in the table for every walk, so each walk returns each of them
** exactly once, however the table grows meanwhile (docs/tables.md, "The
** guarantee under concurrent change"). */
static void *walker(void *arg) {
  job *j = arg;
  hl_buf key, next;
  hl_buf_init(&key);
  hl_buf_init(&next);
  for (int round = 0; round < 20; round++) {
    int visits[COUNTERS] = {0};
    int64_t k;
    hl_status st = hl_table_next(j->t, NULL, 0, &key);
    while (st == HL_OK) {
      j->seen++;
      if (hl_term_get_int(key.data, key.len, &k) > 0 && k >= 0 && k < COUNTERS) visits[k]++;
      hl_buf_clear(&next);
      st = hl_table_next(j->t, key.data, key.len, &next);
      hl_buf_clear(&key);
      hl_buf_append(&key, next.data, next.len);
    }
    if (st != HL_ENOTFOUND) j->failures++;
    for (int c = 0; c < COUNTERS; c++)
      if (visits[c] != 1) j->failures++;
  }
  hl_buf_free(&key);
  hl_buf_free(&next);
  return NULL;
}

static void run(hl_node *node, hl_table_type type) {
  hl_table_opts opts = {type, HL_PUBLIC, 0, 1};
  hl_table *t;
  pthread_t th[THREADS + 1];
  job jobs[THREADS + 1];
  hl_buf b, out;
  int64_t total = 0, v;
  size_t count;
  CHECK(hl_table_new(node, "stress", &opts, &t) == HL_OK);
  hl_buf_init(&b);
  hl_buf_init(&out);
  for (int k = 0; k < COUNTERS; k++) {
    pair(&b, k, 0);
    CHECK(hl_table_insert(t, b.data, b.len) == HL_OK);
  }
  for (int i = 0; i <= THREADS; i++) {
    jobs[i] = (job){t, i, 0, 0, 0};
    pthread_create(&th[i], NULL, i < THREADS ? writer : walker, &jobs[i]);
  }
  for (int i = 0; i <= THREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK(jobs[i].failures == 0);
  }
  for (int k = 0; k < COUNTERS; k++) {
    hl_buf_clear(&out);
    int_key(&b, k);
    CHECK(hl_table_lookup(t, b.data, b.len, &out, &count) == HL_OK && count == 1);
    /* the object is {k, n}: skip the header and the key */
    {
      size_t at = hl_term_get_array(out.data, out.len, &(uint32_t){0});
      at += hl_term_size(out.data + at, out.len - at);
      CHECK(hl_term_get_int(out.data + at, out.len - at, &v) > 0);
      total += v;
    }
  }
  CHECK(total == (type == HL_DUPLICATE_BAG ? 0 : (int64_t)THREADS * INCREMENTS));
  CHECK(hl_table_size(t) == COUNTERS + THREADS * KEYS_PER_THREAD);
  CHECK(hl_table_drop(t) == HL_OK);
  hl_table_release(t);
  hl_buf_free(&b);
  hl_buf_free(&out);
}

/* Readers keep reading while the table is dropped under them. */
static void *reader_until_closed(void *arg) {
  job *j = arg;
  hl_buf b, out;
  size_t count;
  hl_status st = HL_OK;
  hl_buf_init(&b);
  hl_buf_init(&out);
  while (st == HL_OK) {
    int_key(&b, atomic_fetch_add(&j->progress, 1) % 100);
    hl_buf_clear(&out);
    st = hl_table_lookup(j->t, b.data, b.len, &out, &count);
  }
  if (st != HL_ECLOSED) j->failures++;
  hl_buf_free(&b);
  hl_buf_free(&out);
  return NULL;
}

static void run_drop(hl_node *node, hl_table_type type) {
  hl_table_opts opts = {type, HL_PUBLIC, 0, 1};
  hl_table *t;
  pthread_t th[2];
  job jobs[2];
  hl_buf b;
  CHECK(hl_table_new(node, "dropme", &opts, &t) == HL_OK);
  hl_buf_init(&b);
  for (int k = 0; k < 100; k++) {
    pair(&b, k, k);
    hl_table_insert(t, b.data, b.len);
  }
  for (int i = 0; i < 2; i++) {
    jobs[i] = (job){t, i, 0, 0, 0};
    pthread_create(&th[i], NULL, reader_until_closed, &jobs[i]);
  }
  while (atomic_load(&jobs[0].progress) < 1000 || atomic_load(&jobs[1].progress) < 1000)
    sched_yield();
  CHECK(hl_table_drop(t) == HL_OK);
  for (int i = 0; i < 2; i++) {
    pthread_join(th[i], NULL);
    CHECK(jobs[i].failures == 0);
  }
  hl_table_release(t);
  hl_buf_free(&b);
}

int main(void) {
  hl_node *node;
  CHECK(hl_node_start(NULL, &node) == HL_OK);
  run(node, HL_SET);
  run(node, HL_ORDERED_SET);
  bag_run = 1;
  run(node, HL_DUPLICATE_BAG);
  run_drop(node, HL_SET);
  run_drop(node, HL_ORDERED_SET);
  hl_node_stop(node);
  return check_summary("threads");
}
