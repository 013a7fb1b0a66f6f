/*
** test_supervisor.c — the supervisor's decision core (src/procs/supervisor.c)
** without any process: exit reasons, restart types, the four strategies'
** plans, the restart-intensity window on a millisecond clock the test
** drives, and the bookkeeping of children.
*/
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "supervisor.h"
#include "term.h"

static buf start_term;

/* Adds a child whose start term is {"mod", "f"}; returns its key. */
static uint64_t add(sup *s, const char *id, int restart, int type) {
  sup_childspec cs = {id, start_term.p, start_term.n, restart, type, 5000};
  uint64_t key = 0;
  CHECK(sup_add(s, &cs, &key) == SUP_OK);
  return key;
}

static int reason_string(const char *text) {
  buf b;
  int cls;
  buf_init(&b);
  term_put_string(&b, text, strlen(text));
  cls = sup_reason_class(b.p, b.n);
  buf_free(&b);
  return cls;
}

static void test_reasons(void) {
  buf b;
  CHECK(reason_string("normal") == SUP_EXIT_NORMAL);
  CHECK(reason_string("shutdown") == SUP_EXIT_SHUTDOWN);
  CHECK(reason_string("killed") == SUP_EXIT_ABNORMAL);
  CHECK(reason_string("normally") == SUP_EXIT_ABNORMAL);
  CHECK(reason_string("shutdow") == SUP_EXIT_ABNORMAL);
  CHECK(reason_string("") == SUP_EXIT_ABNORMAL);
  buf_init(&b);
  term_put_array(&b, 2);                 /* {"shutdown", 42} */
  term_put_string(&b, "shutdown", 8);
  term_put_int(&b, 42);
  CHECK(sup_reason_class(b.p, b.n) == SUP_EXIT_SHUTDOWN);
  buf_reset(&b);
  term_put_array(&b, 2);                 /* {"normal", 42}: abnormal, as in OTP */
  term_put_string(&b, "normal", 6);
  term_put_int(&b, 42);
  CHECK(sup_reason_class(b.p, b.n) == SUP_EXIT_ABNORMAL);
  buf_reset(&b);
  term_put_map(&b, 1);                   /* {error = "x"} */
  term_put_string(&b, "error", 5);
  term_put_string(&b, "x", 1);
  CHECK(sup_reason_class(b.p, b.n) == SUP_EXIT_ABNORMAL);
  buf_reset(&b);
  term_put_array(&b, 0);
  CHECK(sup_reason_class(b.p, b.n) == SUP_EXIT_ABNORMAL);
  CHECK(sup_reason_class(b.p, 0) == SUP_EXIT_ABNORMAL);
  CHECK(sup_reason_class((const unsigned char *)"\x70shut", 5) == SUP_EXIT_ABNORMAL);
  buf_free(&b);
}

static void test_children(void) {
  sup s;
  sup_childspec cs = {"a", start_term.p, start_term.n, SUP_PERMANENT, SUP_WORKER, 5000};
  uint64_t a, b, dup = 0, c;
  sup_counts n;
  sup_init(&s, SUP_ONE_FOR_ONE, 1, 5000);
  a = add(&s, "a", SUP_PERMANENT, SUP_WORKER);
  b = add(&s, "b", SUP_TRANSIENT, SUP_SUPERVISOR);
  CHECK(a != b && a != 0 && b != 0);
  CHECK(sup_add(&s, &cs, &dup) == SUP_EDUPLICATE && dup == a);
  CHECK(s.nchildren == 2);
  CHECK(sup_find_id(&s, "b")->key == b);
  CHECK(sup_find_id(&s, "c") == NULL);
  CHECK(sup_find_pid(&s, 0) == NULL);      /* not running is not pid 0 */
  sup_set_pid(&s, b, 77);
  CHECK(sup_find_pid(&s, 77)->key == b);
  CHECK(memcmp(sup_get(&s, a)->start, start_term.p, start_term.n) == 0);
  sup_count(&s, &n);
  CHECK(n.specs == 2 && n.active == 1 && n.supervisors == 1 && n.workers == 1);
  CHECK(sup_remove(&s, a) == SUP_OK);
  CHECK(sup_remove(&s, a) == SUP_ENOTFOUND);
  CHECK(sup_get(&s, a) == NULL);
  c = add(&s, "a", SUP_PERMANENT, SUP_WORKER);   /* the id is free again; the key is new */
  CHECK(c != a && c != b);
  CHECK(s.children[0].key == b && s.children[1].key == c);   /* appended: started last */
  sup_free(&s);
}

static void test_restart_types(void) {
  sup s;
  sup_plan plan;
  uint64_t key;
  int report;
  sup_init(&s, SUP_ONE_FOR_ONE, 100, 5000);
  uint64_t p = add(&s, "p", SUP_PERMANENT, SUP_WORKER);
  uint64_t t = add(&s, "t", SUP_TRANSIENT, SUP_WORKER);
  uint64_t x = add(&s, "x", SUP_TEMPORARY, SUP_WORKER);
  sup_set_pid(&s, p, 10);
  sup_set_pid(&s, t, 11);
  sup_set_pid(&s, x, 12);

  /* permanent: restarted whatever the reason, and always reported */
  CHECK(sup_child_exit(&s, 10, SUP_EXIT_NORMAL, 0, &key, &report, &plan) == SUP_RESTART);
  CHECK(key == p && report == 1 && plan.nstop == 0 && plan.nstart == 1 && plan.start[0] == p);
  CHECK(sup_get(&s, p)->pid == 0);
  sup_plan_free(&plan);

  /* transient: normal and shutdown exits are not restarted, nor reported */
  CHECK(sup_child_exit(&s, 11, SUP_EXIT_NORMAL, 0, &key, &report, &plan) == SUP_KEEP);
  CHECK(key == t && report == 0 && sup_get(&s, t) != NULL && sup_get(&s, t)->pid == 0);
  sup_set_pid(&s, t, 13);
  CHECK(sup_child_exit(&s, 13, SUP_EXIT_SHUTDOWN, 0, &key, &report, &plan) == SUP_KEEP);
  CHECK(report == 0);
  sup_set_pid(&s, t, 14);
  CHECK(sup_child_exit(&s, 14, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_RESTART);
  CHECK(key == t && report == 1 && plan.nstart == 1 && plan.start[0] == t);
  sup_plan_free(&plan);

  /* temporary: never restarted, its spec removed; reported when abnormal */
  CHECK(sup_child_exit(&s, 12, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_REMOVED);
  CHECK(key == x && report == 1 && sup_get(&s, x) == NULL);

  /* a pid that is no child (any more) */
  CHECK(sup_child_exit(&s, 12, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_UNKNOWN);
  CHECK(sup_child_exit(&s, 999, SUP_EXIT_NORMAL, 0, &key, &report, &plan) == SUP_UNKNOWN);
  CHECK(s.nchildren == 2);
  sup_free(&s);
}

/* a b c d, all running (pids 1..4), c temporary */
static void four(sup *s, int strategy, uint64_t k[4]) {
  static const char *const ids[] = {"a", "b", "c", "d"};
  sup_init(s, strategy, 10, 1000);
  for (int i = 0; i < 4; i++) {
    k[i] = add(s, ids[i], i == 2 ? SUP_TEMPORARY : SUP_PERMANENT, SUP_WORKER);
    sup_set_pid(s, k[i], (uint64_t)i + 1);
  }
}

static void test_strategies(void) {
  sup s;
  sup_plan plan;
  uint64_t k[4], key, *order;
  int report;

  four(&s, SUP_ONE_FOR_ONE, k);
  CHECK(sup_child_exit(&s, 2, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_RESTART);
  CHECK(plan.nstop == 0 && plan.nstart == 1 && plan.start[0] == k[1]);
  sup_plan_free(&plan);
  sup_free(&s);

  /* one_for_all: the others stopped right to left, the temporary one not
  ** started again, everyone else started left to right */
  four(&s, SUP_ONE_FOR_ALL, k);
  CHECK(sup_child_exit(&s, 2, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_RESTART);
  CHECK(plan.nstop == 3 && plan.stop[0] == k[3] && plan.stop[1] == k[2] && plan.stop[2] == k[0]);
  CHECK(plan.nstart == 3 && plan.start[0] == k[0] && plan.start[1] == k[1] &&
        plan.start[2] == k[3]);
  for (size_t i = 0; i < plan.nstop; i++) sup_stopped(&s, plan.stop[i]);
  CHECK(sup_get(&s, k[2]) == NULL && sup_get(&s, k[0])->pid == 0 && s.nchildren == 3);
  sup_plan_free(&plan);
  sup_free(&s);

  /* rest_for_one: the children after the failed one */
  four(&s, SUP_REST_FOR_ONE, k);
  CHECK(sup_child_exit(&s, 2, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_RESTART);
  CHECK(plan.nstop == 2 && plan.stop[0] == k[3] && plan.stop[1] == k[2]);
  CHECK(plan.nstart == 2 && plan.start[0] == k[1] && plan.start[1] == k[3]);
  sup_plan_free(&plan);
  CHECK(sup_child_exit(&s, 4, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_RESTART);
  CHECK(plan.nstop == 0 && plan.nstart == 1 && plan.start[0] == k[3]);   /* the last one */
  sup_plan_free(&plan);
  sup_free(&s);

  /* a child that is not running (exited normally earlier) is started again
  ** by one_for_all, as in OTP */
  four(&s, SUP_ONE_FOR_ALL, k);
  sup_set_pid(&s, k[0], 0);
  CHECK(sup_plan_restart(&s, k[3], &plan) == SUP_OK);
  CHECK(plan.nstop == 2 && plan.stop[0] == k[2] && plan.stop[1] == k[1]);
  CHECK(plan.nstart == 3 && plan.start[0] == k[0]);
  sup_plan_free(&plan);
  CHECK(sup_plan_restart(&s, 12345, &plan) == SUP_ENOTFOUND && plan.nstart == 0);

  /* the shutdown order: running children, right to left */
  CHECK(sup_shutdown_order(&s, &order) == 3);
  CHECK(order[0] == k[3] && order[1] == k[2] && order[2] == k[1]);
  free(order);
  sup_free(&s);
  sup_init(&s, SUP_ONE_FOR_ONE, 1, 1);
  CHECK(sup_shutdown_order(&s, &order) == 0 && order == NULL);
  sup_free(&s);
}

static void test_intensity(void) {
  sup s;
  sup_plan plan;
  uint64_t key, k;
  int report;

  /* 2 restarts within 1000 ms are allowed, the 3rd is one too many */
  sup_init(&s, SUP_ONE_FOR_ONE, 2, 1000);
  CHECK(sup_record_restart(&s, 0) == 1);
  CHECK(sup_record_restart(&s, 500) == 1);
  CHECK(sup_record_restart(&s, 999) == 0);
  sup_free(&s);

  /* a restart exactly period_ms old has left the window */
  sup_init(&s, SUP_ONE_FOR_ONE, 2, 1000);
  CHECK(sup_record_restart(&s, 0) == 1);
  CHECK(sup_record_restart(&s, 500) == 1);
  CHECK(sup_record_restart(&s, 1000) == 1);
  CHECK(sup_record_restart(&s, 1499) == 0);
  sup_free(&s);

  /* milliseconds, not seconds: a 5 ms period */
  sup_init(&s, SUP_ONE_FOR_ONE, 1, 5);
  CHECK(sup_record_restart(&s, 100) == 1);
  CHECK(sup_record_restart(&s, 105) == 1);
  CHECK(sup_record_restart(&s, 109) == 0);
  sup_free(&s);

  /* intensity 0: the first restart gives up */
  sup_init(&s, SUP_ONE_FOR_ONE, 0, 1000);
  k = add(&s, "a", SUP_PERMANENT, SUP_WORKER);
  sup_set_pid(&s, k, 5);
  CHECK(sup_child_exit(&s, 5, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_GIVE_UP);
  CHECK(key == k && report == 1 && plan.nstart == 0 && plan.start == NULL);
  sup_free(&s);

  /* a transient normal exit is no restart: it does not count */
  sup_init(&s, SUP_ONE_FOR_ONE, 0, 1000);
  k = add(&s, "a", SUP_TRANSIENT, SUP_WORKER);
  sup_set_pid(&s, k, 5);
  CHECK(sup_child_exit(&s, 5, SUP_EXIT_NORMAL, 0, &key, &report, &plan) == SUP_KEEP);
  CHECK(s.nrestarts == 0);
  sup_free(&s);

  /* the window's memory stays bounded when restarts keep coming */
  sup_init(&s, SUP_ONE_FOR_ONE, 3, 1000000);
  for (int i = 0; i < 1000; i++) sup_record_restart(&s, i);
  CHECK(s.nrestarts <= 4);
  CHECK(sup_record_restart(&s, 2000) == 0);
  CHECK(sup_record_restart(&s, 2000000) == 1);   /* all old ones have left */
  sup_free(&s);
}

static void test_simple(void) {
  sup s;
  sup_plan plan;
  sup_childspec tmpl = {"w", start_term.p, start_term.n, SUP_TRANSIENT, SUP_WORKER, 100};
  uint64_t k1, k2, key;
  int report;
  sup_init(&s, SUP_SIMPLE_ONE_FOR_ONE, 5, 1000);
  CHECK(sup_add_dynamic(&s, start_term.p, start_term.n, &k1) == SUP_ENOTFOUND);
  CHECK(sup_set_template(&s, &tmpl) == SUP_OK);
  CHECK(sup_add_dynamic(&s, start_term.p, start_term.n, &k1) == SUP_OK);
  CHECK(sup_add_dynamic(&s, start_term.p, start_term.n, &k2) == SUP_OK);
  CHECK(k1 != k2 && s.nchildren == 2);
  CHECK(sup_get(&s, k1)->id == NULL && sup_get(&s, k1)->restart == SUP_TRANSIENT &&
        sup_get(&s, k1)->shutdown == 100);
  sup_set_pid(&s, k1, 21);
  sup_set_pid(&s, k2, 22);
  /* restarted alone, like one_for_one */
  CHECK(sup_child_exit(&s, 22, SUP_EXIT_ABNORMAL, 0, &key, &report, &plan) == SUP_RESTART);
  CHECK(key == k2 && plan.nstop == 0 && plan.nstart == 1 && plan.start[0] == k2);
  sup_plan_free(&plan);
  /* a dynamic child that is not restarted is forgotten */
  CHECK(sup_child_exit(&s, 21, SUP_EXIT_NORMAL, 0, &key, &report, &plan) == SUP_REMOVED);
  CHECK(sup_get(&s, k1) == NULL && s.nchildren == 1);
  sup_set_pid(&s, k2, 23);
  CHECK(sup_stopped(&s, k2) == 1 && s.nchildren == 0);
  sup_free(&s);
}

int main(void) {
  buf_init(&start_term);
  term_put_array(&start_term, 2);
  term_put_string(&start_term, "mod", 3);
  term_put_string(&start_term, "f", 1);
  test_reasons();
  test_children();
  test_restart_types();
  test_strategies();
  test_intensity();
  test_simple();
  buf_free(&start_term);
  return check_summary("supervisor");
}
