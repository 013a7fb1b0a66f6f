/*
** test_simclock.c — deterministic mode through the C API: the options
** refused with scheduler threads, the virtual clock (hl_receive jumps it,
** hl_node_advance moves it and fires timers, hl_node_now), the real clock
** kept on request, and the trace's hash, equal for two identical runs.
*/
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "heirloom.h"
#include "simclock.h"
#include "testutil.h"

static void test_refused_options(void) {
  hl_node *node = NULL;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 2, .clock = HL_CLOCK_VIRTUAL};
  CHECK(hl_node_start(&cfg, &node) == HL_EBADARG && node == NULL);
  CHECK(has_msg("hl_node_start: a virtual clock, a trace and a random schedule are for "
                "schedulers = 0"));
  cfg.clock = HL_CLOCK_DEFAULT;
  cfg.trace = 1;
  CHECK(hl_node_start(&cfg, &node) == HL_EBADARG);
  cfg.trace = 0;
  cfg.schedule = HL_SCHEDULE_RANDOM;
  CHECK(hl_node_start(&cfg, &node) == HL_EBADARG);
  cfg.schedulers = 0;
  cfg.schedule = 7;
  CHECK(hl_node_start(&cfg, &node) == HL_EBADARG);
  CHECK(has_msg("hl_node_start: schedule must be HL_SCHEDULE_FIFO or HL_SCHEDULE_RANDOM"));
  cfg.schedule = HL_SCHEDULE_FIFO;
  cfg.clock = 9;
  CHECK(hl_node_start(&cfg, &node) == HL_EBADARG);
  CHECK(has_msg("hl_node_start: clock must be HL_CLOCK_DEFAULT, HL_CLOCK_REAL or HL_CLOCK_VIRTUAL"));
}

/* A deterministic node's clock is virtual by default: a host's receive
** that would wait jumps it to the deadline or to the next timer. */
static void test_virtual_clock(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0};
  hl_pid self;
  hl_buf in;
  hl_buf_init(&in);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_node_now(node) == 0);
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_receive(node, 3000, &in) == HL_ENOTFOUND);
  CHECK(hl_node_now(node) == 3000);
  CHECK(hl_node_advance(node, -1) == HL_EBADARG);
  CHECK(has_msg("hl_node_advance: ms must not be negative"));
  CHECK(hl_node_advance(node, 5) == HL_OK);
  CHECK(hl_node_now(node) == 3005);
  /* a timer set from Lua: advance fires it, a receive finds it */
  CHECK(hl_register(node, "c_host", self) == HL_OK);
  CHECK(lua_check(node, "hl.send_after(100, 'c_host', 42); return hl.now() == 3005"));
  CHECK(hl_node_advance(node, 99) == HL_OK);
  CHECK(hl_receive(node, 0, &in) == HL_ENOTFOUND);
  CHECK(hl_node_advance(node, 1) == HL_OK);
  hl_buf_clear(&in);
  CHECK(hl_receive(node, 0, &in) == HL_OK);
  CHECK(hl_node_now(node) == 3105);
  /* a far timer: the wait jumps to it, not to the deadline */
  CHECK(lua_check(node, "hl.send_after(500, 'c_host', 7); return true"));
  hl_buf_clear(&in);
  CHECK(hl_receive(node, 10000, &in) == HL_OK);
  CHECK(hl_node_now(node) == 3605);
  CHECK(hl_node_trace_hash(node) == 0);          /* no trace asked for */
  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&in);
}

static void test_real_clock(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0, .clock = HL_CLOCK_REAL};
  hl_pid self;
  hl_buf in;
  int64_t t0;
  hl_buf_init(&in);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_node_advance(node, 1) == HL_EBADARG);
  CHECK(has_msg("hl_node_advance: the node runs on the real clock"));
  CHECK(hl_attach(node, &self) == HL_OK);
  t0 = simclock_real();
  CHECK(hl_receive(node, 30, &in) == HL_ENOTFOUND);
  CHECK(simclock_real() - t0 >= 30);             /* it really waited */
  CHECK(hl_node_now(node) >= 30);
  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&in);
}

/* A run: a Lua process and a host exchange messages on timers. */
static uint64_t traced_run(int64_t seed, int schedule) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0, .trace = 1, .seed = seed, .schedule = schedule};
  hl_pid self;
  hl_buf in;
  uint64_t h;
  hl_buf_init(&in);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(hl_attach(node, &self) == HL_OK);
  CHECK(hl_register(node, "c_host", self) == HL_OK);
  CHECK(lua_check(node, "for i = 1, 4 do\n"
                        "  hl.spawn(function(i)\n"
                        "    local hl = require('heirloom')\n"
                        "    for r = 1, 3 do hl.sleep(math.random(1, 3)); hl.send('c_host', i) end\n"
                        "  end, i)\n"
                        "end\n"
                        "return true"));
  for (int i = 0; i < 12; i++) {
    hl_buf_clear(&in);
    CHECK(hl_receive(node, 1000, &in) == HL_OK);
  }
  h = hl_node_trace_hash(node);
  hl_detach(node);
  hl_node_stop(node);
  hl_buf_free(&in);
  return h;
}

static void test_trace(void) {
  uint64_t a = traced_run(11, HL_SCHEDULE_FIFO), b = traced_run(11, HL_SCHEDULE_FIFO);
  CHECK(a != 0 && a == b);
  CHECK(traced_run(5, HL_SCHEDULE_RANDOM) == traced_run(5, HL_SCHEDULE_RANDOM));
}

/* The clock itself: a virtual one never goes back; a real one is not moved. */
static void test_simclock(void) {
  simclock c;
  simclock_init(&c, 1);
  CHECK(simclock_now(&c) == 0);
  CHECK(simclock_move_to(&c, 10) == 1 && simclock_now(&c) == 10);
  CHECK(simclock_move_to(&c, 5) == 0 && simclock_now(&c) == 10);
  CHECK(simclock_elapsed(&c) == 10);
  simclock_init(&c, 0);
  CHECK(simclock_move_to(&c, simclock_real() + 100000) == 0);
  CHECK(simclock_elapsed(&c) < 100000);
}

int main(void) {
  test_refused_options();
  test_virtual_clock();
  test_real_clock();
  test_trace();
  test_simclock();
  return check_summary("simclock");
}
