/*
** test_preempt.c — slices ended from outside (src/procs/preempt.h): a
** process that never stops computing is preempted on a node of one
** scheduler thread although its code runs with no hook, also when the host
** blocked every signal before it started the node; the host's own SIGURG
** handler still gets the host's SIGURGs and none of the node's, and is back
** in place once the node has stopped; one the host installs while the node
** runs is left in place; a call held from the signal (preempt_hold) is
** not broken by it.
*/
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "heirloom.h"
#include "preempt.h"
#include "proc.h"
#include "testutil.h"

/* Built with ThreadSanitizer, workers count with the hook (preempt.h) and
** no handler is installed. */
#if PREEMPT_BY_SIGNAL
#define HOOKED "false"
#else
#define HOOKED "true"
#endif

/* One busy process that never yields by itself and one that answers:
** every answer needs the busy one's slice ended. The busy one also says
** whether it runs with a hook (it must not, on a worker). Its slices keep
** coming: were it left stuck, the watchdog would start another thread for
** the answers, and its own count would stop. */
static const char *SPIN_AND_PING =
    "local HOOKED = " HOOKED "\n"
    "local me = hl.self()\n"
    "local spin = hl.spawn(function(to)\n"
    "  local hl = require('heirloom')\n"
    "  hl.send(to, { 'hook', debug.gethook() ~= nil })\n"
    "  local x = 0\n"
    "  while true do x = x + 1 end\n"
    "end, me)\n"
    "local hooked = hl.receive(function(m) return m[1] == 'hook' end, 5000)\n"
    "if hooked == nil or hooked[2] ~= HOOKED then return false end\n"
    "local echo = hl.spawn(function()\n"
    "  local hl = require('heirloom')\n"
    "  while true do local m = hl.receive(); hl.send(m[1], { 'pong', m[2] }) end\n"
    "end)\n"
    "for i = 1, 20 do\n"
    "  hl.send(echo, { me, i })\n"
    "  local m = hl.receive(function(m) return m[1] == 'pong' end, 5000)\n"
    "  if m == nil or m[2] ~= i then return false end\n"
    "end\n"
    "local before = hl.process_info(spin).slices\n"
    "hl.sleep(50)\n"
    "if hl.process_info(spin).slices <= before then return false end\n"
    "hl.exit(spin, 'kill')\n"
    "hl.exit(echo, 'kill')\n"
    "return true\n";

static void quiet(void *ud, const char *text) {
  (void)ud;
  (void)text;
}

static hl_node *start_one_scheduler(void) {
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 1};
  hl_node *node = NULL;
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  if (node != NULL) hl_node_set_logger(node, quiet, NULL);   /* the kills' reports */
  return node;
}

/* The scheduler thread inherits the host's mask, and unblocks the signal
** for itself. */
static void test_host_blocks_signals(void) {
  sigset_t all, before;
  hl_node *node;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  node = start_one_scheduler();
  CHECK(lua_check(node, SPIN_AND_PING));
  hl_node_stop(node);
  pthread_sigmask(SIG_SETMASK, &before, NULL);
}

static volatile sig_atomic_t host_signals;

static void host_handler(int sig) {
  (void)sig;
  host_signals++;
}

/* The host's own SIGURG handler, a plain one. */
static int set_host_handler(void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGURG, &sa, NULL) == 0;
}

static int host_handler_is(void (*handler)(int)) {
  struct sigaction now;
  return sigaction(SIGURG, NULL, &now) == 0 && !(now.sa_flags & SA_SIGINFO) &&
         now.sa_handler == handler;
}

static void test_host_handler_kept(void) {
  hl_node *node;
  CHECK(set_host_handler(host_handler));
  host_signals = 0;
  node = start_one_scheduler();
  CHECK(lua_check(node, SPIN_AND_PING));        /* the node kicked its worker */
  CHECK(host_signals == 0);
  raise(SIGURG);                                /* the host's own goes to the host */
  CHECK(host_signals == 1);
  hl_node_stop(node);
  CHECK(host_handler_is(host_handler));
  raise(SIGURG);
  CHECK(host_signals == 2);
  set_host_handler(SIG_DFL);
}

/* A handler the host installs while the node runs stays after the stop. */
static void test_host_handler_later(void) {
  hl_node *node = start_one_scheduler();
  CHECK(set_host_handler(host_handler));
  hl_node_stop(node);
  CHECK(host_handler_is(host_handler));
  set_host_handler(SIG_DFL);
}

/* Two nodes share the handler; it goes when the last one stops. */
static void test_two_nodes(void) {
  struct sigaction now;
  hl_node *a = start_one_scheduler(), *b = start_one_scheduler();
  hl_node_stop(a);
  CHECK(lua_check(b, SPIN_AND_PING));
  CHECK(sigaction(SIGURG, NULL, &now) == 0 && !(now.sa_flags & SA_SIGINFO) == !PREEMPT_BY_SIGNAL);
  hl_node_stop(b);
  CHECK(host_handler_is(SIG_DFL));
}

/* ---- preempt.c alone ---- */

static atomic_int kicks;

static void count_kick(proc *p) {
  (void)p;
  atomic_fetch_add(&kicks, 1);
}

/* A slice that waits in poll is kicked within a tick or two, which breaks
** the poll (EINTR: SA_RESTART does not restart it); held, the poll runs
** its course, and the kick comes once allowed. ei's connect waits so. */
static void test_hold(void) {
  preempt pt;
  pbody_ops ops;
  proc *p = calloc(1, sizeof *p);
  preempt_slot *slot;
  sigset_t saved;
  int r, before;
  memset(&ops, 0, sizeof ops);
  ops.preempt = count_kick;
  CHECK(p != NULL);
  if (p == NULL) return;
  p->body = &ops;
  CHECK(preempt_start(&pt));
  slot = preempt_join(&pt);
  CHECK(slot != NULL);
  if (slot == NULL) return;
  preempt_begin(&pt, slot, p);
  atomic_store(&kicks, 0);
  r = poll(NULL, 0, 2000);
  CHECK(r < 0 && errno == EINTR);
  CHECK(atomic_load(&kicks) >= 1);
  preempt_hold(&saved);
  before = atomic_load(&kicks);
  CHECK(poll(NULL, 0, 30) == 0);                /* the kicks wait */
  CHECK(atomic_load(&kicks) == before);
  preempt_allow(&saved);
  CHECK(atomic_load(&kicks) > before);
  preempt_end(slot);
  preempt_leave(&pt, slot);
  preempt_stop(&pt);
  preempt_free(&pt);
  free(p);
}

int main(void) {
  test_hold();
  test_host_blocks_signals();
  test_host_handler_kept();
  test_host_handler_later();
  test_two_nodes();
  return check_summary("preempt");
}
