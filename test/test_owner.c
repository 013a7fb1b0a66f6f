/*
** test_owner.c — table ownership through the C API and the internal one:
** hl_table_claim on a table left in custody by a process (from the node's
** host and from an attached host thread), and the rule that a process that
** is exiting never becomes a table's owner, by give_away or as an heir.
** That rule is a race in real programs; here a process is held in its
** exiting state by hand, so the check is deterministic.
*/
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "etab.h"
#include "heirloom.h"
#include "owner.h"
#include "proc.h"
#include "ptab.h"
#include "term.h"
#include "testutil.h"

/* A process creates the named custody table `kept` with {"a", "1"} and
** returns; the code waits until it is gone and the table is in custody. */
static const char *orphan_kept =
  "local pid = hl.spawn(function()\n"
  "  local hl = require('heirloom')\n"
  "  local t = hl.table.new('kept', { named = true, custody = true })\n"
  "  t:insert({ 'a', '1' })\n"
  "end)\n"
  "local ref = hl.monitor(pid)\n"
  "local m = hl.receive(function(m) return m[1] == 'DOWN' and m[2] == ref end, 5000)\n"
  "local t = hl.table.whereis('kept')\n"
  "return m ~= nil and t ~= nil and t:info().owner == nil and t:info().size == 1\n";

typedef struct rival {
  hl_node *node;
  hl_table *t;
  hl_status claimed;
} rival;

static void *rival_claim(void *arg) {
  rival *r = arg;
  hl_pid self;
  if (hl_attach(r->node, &self) != HL_OK) return NULL;
  r->claimed = hl_table_claim(r->t);
  hl_detach(r->node);
  return NULL;
}

static void test_claim(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 2};
  hl_table *t = NULL, *mine = NULL;
  hl_buf out;
  rival r;
  pthread_t th;
  hl_buf_init(&out);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  CHECK(lua_check(node, orphan_kept));
  CHECK(hl_table_open(node, "kept", &t) == HL_OK);
  /* in custody a protected table is readable by anyone, writable by nobody */
  CHECK(hl_table_get(t, "a", 1, &out) == HL_OK && out.len == 1 && out.data[0] == '1');
  CHECK(hl_table_put(t, "b", 1, "2", 1) == HL_EACCESS);
  CHECK(hl_table_claim(t) == HL_OK);
  CHECK(hl_table_put(t, "b", 1, "2", 1) == HL_OK);
  CHECK(hl_table_size(t) == 2);
  CHECK(hl_table_claim(t) == HL_EBADARG);          /* the node's host owns it now */
  CHECK(strstr(hl_errmsg(), "hl_table_claim") != NULL);
  CHECK(strstr(hl_errmsg(), "already owns") != NULL);
  /* an attached thread is another process: the table is not in custody */
  r = (rival){node, t, HL_OK};
  pthread_create(&th, NULL, rival_claim, &r);
  pthread_join(th, NULL);
  CHECK(r.claimed == HL_EBADARG);
  CHECK(lua_check(node, "return hl.table.whereis('kept'):info().owner ~= nil\n"));
  /* a table its creator still owns is not in custody either */
  CHECK(hl_table_new(node, "mine", NULL, &mine) == HL_OK);
  r = (rival){node, mine, HL_OK};
  pthread_create(&th, NULL, rival_claim, &r);
  pthread_join(th, NULL);
  CHECK(r.claimed == HL_EBADARG);
  CHECK(hl_table_drop(t) == HL_OK);
  CHECK(hl_table_claim(t) == HL_ECLOSED);
  hl_table_release(t);
  hl_table_release(mine);
  hl_node_stop(node);
  hl_buf_free(&out);
}

/* A second host process held in its exiting state (PROC_DYING) until
** released: to the engine it is a process whose exit is under way. */
static proc *hold_dying(node *n, uint64_t pid) {
  proc *p = ptab_get(&n->procs, pid);
  pthread_mutex_lock(&p->lock);
  p->state = PROC_DYING;
  pthread_mutex_unlock(&p->lock);
  return p;
}

static void release(proc *p) {
  pthread_mutex_lock(&p->lock);
  p->state = PROC_RUNNING;
  pthread_mutex_unlock(&p->lock);
  proc_end_host(p);
  proc_unref(p);
}

static void test_dying_never_owns(void) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0};
  hl_table *h;
  hl_err e;
  etab *t;
  uint64_t other, host;
  buf heir;
  proc *p;
  buf_init(&heir);
  CHECK(hl_node_start(&cfg, &node) == HL_OK);
  host = node->host_pid;
  CHECK(hl_table_new(node, "t", NULL, &h) == HL_OK);
  t = (etab *)h;
  other = node_new_host(node);
  CHECK(other != 0);
  /* give_away to a process whose exit is under way */
  p = hold_dying(node, other);
  err_clear(&e);
  CHECK(owner_give_away(t, host, other, (tslice){NULL, 0}, &e) == HL_EBADARG);
  CHECK(strstr(e.msg, "not alive") != NULL);
  CHECK(etab_owner(t) == host);
  release(p);
  /* an heir whose exit is under way when the owner exits: custody */
  other = node_new_host(node);
  term_put_id(&heir, TERM_PID, other);
  err_clear(&e);
  CHECK(owner_set_heir(t, host, (tslice){heir.p, heir.n}, (tslice){NULL, 0}, &e) == HL_OK);
  t->custody = 1;
  p = hold_dying(node, other);
  owner_table_exit(t, host);
  CHECK(etab_owner(t) == 0);
  CHECK(hl_table_claim(h) == HL_OK);
  CHECK(etab_owner(t) == host);
  release(p);
  hl_table_release(h);
  hl_node_stop(node);
  buf_free(&heir);
}

int main(void) {
  test_claim();
  test_dying_never_owns();
  return check_summary("owner");
}
