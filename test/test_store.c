/*
** test_store.c — durable tables through the C API: the data_dir lock
** within one OS process, writes that come back after a restart, sync
** modes, on_load, table files written and read from C, and a damaged
** data_dir refused by hl_node_start and brought back by hl_store_repair.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "heirloom.h"
#include "testutil.h"

static hl_buf b, out;
static char root[64], dir[256], path[300];

static void obj(int64_t k, const char *v) {
  hl_buf_clear(&b);
  hl_term_array(&b, 2);
  hl_term_int(&b, k);
  hl_term_string(&b, v, strlen(v));
}

static hl_node *start(int sync) {
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0, .data_dir = dir, .sync = sync};
  hl_node *n = NULL;
  CHECK(hl_node_start(&cfg, &n) == HL_OK);
  return n;
}

static void test_lock(void) {
  hl_node *a = start(HL_SYNC_NONE), *second = NULL;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0, .data_dir = dir};
  CHECK(hl_node_start(&cfg, &second) == HL_ESTORE);
  CHECK(second == NULL);
  CHECK(has_msg("hl_node_start: data_dir '"));
  CHECK(has_msg("' is in use by another node"));
  hl_node_stop(a);
  CHECK(hl_node_start(&cfg, &second) == HL_OK);   /* free again */
  hl_node_stop(second);
}

static void test_restart(void) {
  hl_table_opts o = {HL_ORDERED_SET, HL_PUBLIC, 1, 1};
  hl_table *t, *u;
  hl_node *n = start(HL_SYNC_NONE);
  int64_t r;
  CHECK(hl_table_new(n, "plain", &o, &t) == HL_OK);
  hl_table_release(t);
  CHECK(hl_table_new_durable(n, "bad", &o, 12345678, &t) == HL_EBADARG);
  CHECK(has_msg("hl_table_new_durable: sync must be"));
  CHECK(hl_table_new_durable(n, "d", &o, HL_SYNC_ALWAYS, &t) == HL_OK);
  for (int64_t k = 1; k <= 100; k++) {
    obj(k, "x");
    CHECK(hl_table_insert(t, b.data, b.len) == HL_OK);
  }
  int_term(&b, 50);
  CHECK(hl_table_delete(t, b.data, b.len) == HL_OK);
  CHECK(hl_table_put(t, "s", 1, "v", 1) == HL_OK);
  CHECK(hl_table_incr(t, "c", 1, 5, &r) == HL_OK);
  hl_table_release(t);
  hl_node_stop(n);

  n = start(HL_SYNC_NONE);
  CHECK(hl_table_open(n, "plain", &t) == HL_ENOTFOUND);   /* not durable */
  CHECK(hl_table_open(n, "d", &t) == HL_OK);
  CHECK(hl_table_size(t) == 101);
  CHECK(lookup_count(t, 49) == 1 && lookup_count(t, 50) == 0);
  hl_buf_clear(&out);
  CHECK(hl_table_get(t, "s", 1, &out) == HL_OK && out.len == 1 && out.data[0] == 'v');
  CHECK(hl_table_claim(t) == HL_OK);
  CHECK(hl_table_incr(t, "c", 1, 1, &r) == HL_OK && r == 6);

  /* a table file, read back under another name */
  CHECK(hl_table_tab2file(t, path) == HL_OK);
  CHECK(hl_table_file2tab(n, path, NULL, &u) == HL_EEXIST);
  CHECK(u == NULL);
  CHECK(hl_table_file2tab(n, path, "copy", &u) == HL_OK);
  CHECK(hl_table_size(u) == 101 && lookup_count(u, 100) == 1);
  hl_table_release(u);
  CHECK(hl_table_drop(t) == HL_OK);
  hl_table_release(t);
  hl_node_stop(n);

  n = start(HL_SYNC_NONE);
  CHECK(hl_table_open(n, "d", &t) == HL_ENOTFOUND);       /* dropped for good */
  hl_node_stop(n);
}

static int calls;
static int count_loads(void *ud, const char *name, size_t loaded, size_t total) {
  (void)ud;
  CHECK(strcmp(name, "p") == 0 && loaded <= total && total == 10);
  return ++calls > 1;   /* stops the start at its second call */
}

static void test_on_load(void) {
  hl_table_opts o = {HL_SET, HL_PUBLIC, 1, 1};
  hl_table *t;
  hl_node *n = start(50);
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0, .data_dir = dir, .on_load = count_loads};
  CHECK(hl_table_new_durable(n, "p", &o, HL_SYNC_DEFAULT, &t) == HL_OK);
  for (int64_t k = 1; k <= 10; k++) {
    obj(k, "y");
    CHECK(hl_table_insert(t, b.data, b.len) == HL_OK);
  }
  usleep(120 * 1000);   /* a period or two of the flusher */
  hl_table_release(t);
  hl_node_stop(n);
  n = NULL;
  CHECK(hl_node_start(&cfg, &n) == HL_EBADARG);
  CHECK(has_msg("loading stopped by on_load at table 'p'"));
  CHECK(calls == 2 && n == NULL);
  n = start(HL_SYNC_NONE);   /* the store was closed */
  CHECK(hl_table_open(n, "p", &t) == HL_OK && hl_table_size(t) == 10);
  hl_table_release(t);
  hl_node_stop(n);
}

/* Threads change the same keys at once: the store must end with what
** memory ended with (its batches were written in the order memory applied
** them). */
static void *hammer(void *arg) {
  hl_table *t = arg;
  char k[2] = {0, 0};
  int64_t r;
  intptr_t failed = 0;   /* counted here: CHECK is not for threads */
  for (int i = 0; i < 3000; i++) {
    k[0] = (char)('a' + i % 8);
    failed += hl_table_incr(t, k, 1, 1, &r) != HL_OK;
    if (i % 100 == 99) failed += hl_table_del(t, k, 1) != HL_OK;
  }
  return (void *)failed;
}

static void test_threads(void) {
  hl_table_opts o = {HL_SET, HL_PUBLIC, 1, 1};
  hl_table *t;
  hl_node *n = start(5);
  pthread_t th[3];
  int64_t before[8], after[8];
  CHECK(hl_table_new_durable(n, "hot", &o, HL_SYNC_DEFAULT, &t) == HL_OK);
  for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, hammer, t);
  for (int i = 0; i < 3; i++) {
    void *failed;
    pthread_join(th[i], &failed);
    CHECK(failed == NULL);
  }
  for (int i = 0; i < 8; i++) {
    char k = (char)('a' + i);
    CHECK(hl_table_incr(t, &k, 1, 0, &before[i]) == HL_OK);
  }
  hl_table_release(t);
  hl_node_stop(n);
  n = start(HL_SYNC_NONE);
  CHECK(hl_table_open(n, "hot", &t) == HL_OK);
  CHECK(hl_table_claim(t) == HL_OK);
  for (int i = 0; i < 8; i++) {
    char k = (char)('a' + i);
    CHECK(hl_table_incr(t, &k, 1, 0, &after[i]) == HL_OK);
    CHECK(after[i] == before[i]);
  }
  hl_table_drop(t);
  hl_table_release(t);
  hl_node_stop(n);
}

/* A data_dir whose CURRENT file was deleted: hl_node_start refuses it,
** names it and makes nothing over it; hl_store_repair brings it back
** whole, and refuses while a node uses it. A directory of other files is
** refused too. */
static void test_damage(void) {
  hl_table_opts o = {HL_SET, HL_PUBLIC, 1, 1};
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0, .data_dir = dir};
  char current[400], other[100];
  hl_table *t;
  hl_buf report;
  FILE *f;
  hl_node *n = start(HL_SYNC_NONE);
  CHECK(hl_table_new_durable(n, "dmg", &o, HL_SYNC_DEFAULT, &t) == HL_OK);
  for (int64_t k = 1; k <= 100; k++) {
    obj(k, "z");
    CHECK(hl_table_insert(t, b.data, b.len) == HL_OK);
  }
  hl_table_release(t);
  hl_node_stop(n);
  snprintf(current, sizeof current, "%s/CURRENT", dir);
  CHECK(unlink(current) == 0);
  n = NULL;
  CHECK(hl_node_start(&cfg, &n) == HL_ESTORE);
  CHECK(n == NULL);
  CHECK(has_msg("hl_node_start: data_dir '"));
  CHECK(has_msg("' holds a LevelDB store whose CURRENT file is missing; run `heirloom repair "));
  CHECK(access(current, F_OK) != 0);   /* no store was made over it */

  hl_buf_init(&report);
  CHECK(hl_store_repair(dir, &report) == HL_OK);
  CHECK(hl_term_check(&report) == HL_OK);
  CHECK(memmem(report.data, report.len, "no data was lost", 16) != NULL);
  n = start(HL_SYNC_NONE);
  CHECK(hl_table_open(n, "dmg", &t) == HL_OK && hl_table_size(t) == 100);
  hl_table_release(t);
  hl_buf_clear(&report);
  CHECK(hl_store_repair(dir, &report) == HL_ESTORE);   /* in use */
  CHECK(has_msg("hl_store_repair: data_dir '"));
  CHECK(has_msg("' is in use by a node"));
  CHECK(report.len == 0);
  hl_node_stop(n);
  CHECK(hl_store_repair(root, &report) == HL_ESTORE);
  CHECK(has_msg("' holds no heirloom store: nothing to repair"));
  CHECK(hl_store_repair(NULL, &report) == HL_EBADARG);
  hl_buf_free(&report);

  snprintf(other, sizeof other, "%s/other", root);
  CHECK(mkdir(other, 0777) == 0);
  snprintf(current, sizeof current, "%s/notes.txt", other);
  CHECK((f = fopen(current, "w")) != NULL);
  fclose(f);
  cfg.data_dir = other;
  CHECK(hl_node_start(&cfg, &n) == HL_ESTORE);
  CHECK(has_msg("' is not empty and holds no heirloom store (it has 'notes.txt')"));
}

int main(void) {
  char tmpl[] = "/tmp/heirloom-test-store-XXXXXX";
  CHECK(mkdtemp(tmpl) != NULL);
  snprintf(root, sizeof root, "%s", tmpl);
  snprintf(dir, sizeof dir, "%s/data", tmpl);
  snprintf(path, sizeof path, "%s/d.tab", tmpl);
  hl_buf_init(&b);
  hl_buf_init(&out);
  test_lock();
  test_restart();
  test_on_load();
  test_threads();
  test_damage();
  hl_buf_free(&b);
  hl_buf_free(&out);
  {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
    CHECK(system(cmd) == 0);
  }
  return check_summary("test_store");
}
