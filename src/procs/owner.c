/*
** owner.c — the ownership rule of tables, in one place.
**
** Every table has an owner: the process that created it, or 0 while the
** node keeps it in custody. Only the owner may set the heir or give the
** table away; an access mode limits the others (etab.c).
**
** - Heir, as in ETS: when the owner exits, the table goes to its heir if
**   the heir is alive and is not the owner itself, and the new owner is
**   sent {"ETS-TRANSFER", tab, dying_owner, heir_data}. A pid heir that is
**   not alive when set is stored as none, and a pid heir serves once: it is
**   forgotten before the new owner is set, so an heir the new owner sets at
**   once is never undone.
** - Heir by registered name (heirloom's addition): the name is resolved at
**   the owner's death, not when set, and the name heir stays, so a
**   restarted holder of the name (a supervised server) is heir again.
** - Custody: a table created with custody = true that finds no live heir
**   is kept by the node (owner 0) until a process claims it; without
**   custody it is dropped (a durable one stays on disk unless the whole
**   node is stopping: edur_owner_gone).
** - claim makes the caller the owner of a table in custody; of two
**   claimers exactly one wins (a compare-and-swap on the owner).
** - give_away: the owner hands the table to a live process, which is sent
**   {"ETS-TRANSFER", tab, giver, data}.
**
** The race it guards against: a process that exits is marked PROC_DYING
** under its lock before its exit looks for the tables it owns
** (owner_process_exit). A new owner is therefore set only under the new
** owner's lock, after checking it is not dying (take_if_alive): a table is
** either seen by the dying process's look, or never given to it, and so can
** never end up owned by a dead pid.
**
** Lock order: this module nests no locks. It takes, one at a time, the
** process table's lock (ptab_get, ptab_whereis), a process's lock
** (take_if_alive, node_pid_alive) and a table's meta lock (etab_meta,
** etab_put_heir, etab_clear_heir); the owner itself is an atomic, stored
** under the new owner's process lock and under no table lock. No lock is
** held while a message is delivered (proc_deliver takes the receiver's).
*/
#include <stdlib.h>

#include "buf.h"
#include "node.h"
#include "owner.h"
#include "proc.h"
#include "ptab.h"
#include "term.h"
#include "trace.h"

/* The node a table belongs to: its registry's host (treg.h). */
static node *node_of(etab *t) {
  return t->reg->host;
}

/* Tells `to` it owns the table now: {"ETS-TRANSFER", tab, from, data}. */
static void send_transfer(etab *t, proc *to, uint64_t from, tslice data) {
  buf m;
  buf_init(&m);
  term_put_array(&m, 4);
  term_put_string(&m, "ETS-TRANSFER", 12);
  term_put_id(&m, TERM_TABLE, t->id);
  term_put_id(&m, TERM_PID, from);
  if (data.len > 0) buf_put(&m, data.p, data.len);
  else term_put_nil(&m);
  if (to->node->trace != NULL)
    trace_event(to->node->trace, TRACE_TRANSFER, from, to->pid, t->id, NULL);
  if (buf_ok(&m)) proc_deliver(to, m.p, m.n);
  buf_free(&m);
}

/* Makes `to` the owner if it is alive, and says whether it did; see the
** race described above. */
static int take_if_alive(etab *t, proc *to) {
  int alive;
  pthread_mutex_lock(&to->lock);
  alive = to->state < PROC_DYING;
  if (alive) etab_set_owner(t, to->pid);
  pthread_mutex_unlock(&to->lock);
  return alive;
}

hl_status owner_set_heir(etab *t, uint64_t caller, tslice heir,
                         tslice heir_data, hl_err *e) {
  int tag;
  uint64_t pid;
  if (etab_check_owner(t, caller, "set its heir", e) != HL_OK) return e->code;
  if (heir.p != NULL && heir.p[0] != TERM_STRING &&
      !(term_get_id(heir.p, heir.len, &tag, &pid) && tag == TERM_PID))
    return err_set(e, HL_EBADARG, "heir must be a pid, a registered name or nil");
  /* An heir that is not alive when set is stored as none, as in ETS. */
  if (heir.p != NULL && heir.p[0] == TERM_PID && !node_pid_alive(node_of(t), pid))
    heir = (tslice){NULL, 0};
  return etab_put_heir(t, heir, heir_data, e);
}

hl_status owner_give_away(etab *t, uint64_t caller, uint64_t pid,
                          tslice data, hl_err *e) {
  char text[40];
  proc *to;
  if (etab_check_owner(t, caller, "give it away", e) != HL_OK) return e->code;
  term_pid_text(pid, text, sizeof text);
  if (pid == caller) return err_set(e, HL_EBADARG, "pid %s already owns the table", text);
  to = ptab_get(&node_of(t)->procs, pid);
  if (to == NULL || !take_if_alive(t, to)) {
    if (to != NULL) proc_unref(to);
    return err_set(e, HL_EBADARG, "pid %s is not alive", text);
  }
  send_transfer(t, to, caller, data);
  proc_unref(to);
  return HL_OK;
}

hl_status owner_claim(etab *t, uint64_t caller, hl_err *e) {
  uint64_t found;
  char text[40];
  if (etab_check_open(t, e) != HL_OK) return e->code;
  if (etab_set_owner_if(t, 0, caller, &found)) return HL_OK;
  if (found == caller) return err_set(e, HL_EBADARG, "the caller already owns the table");
  term_pid_text(found, text, sizeof text);
  return err_set(e, HL_EBADARG, "the table is not in custody: %s owns it", text);
}

/* ---- the owner's exit ---- */

/* Resolves the heir now: a pid, or the holder of a registered name. */
static uint64_t live_heir(node *n, const buf *heir, uint64_t dying) {
  int tag;
  uint64_t pid = 0;
  if (heir->n == 0) return 0;
  if (heir->p[0] == TERM_PID) term_get_id(heir->p, heir->n, &tag, &pid);
  else {
    buf name;
    buf_init(&name);
    term_get_string(heir->p, heir->n, &name);
    buf_putc(&name, '\0');
    if (buf_ok(&name)) pid = ptab_whereis(&n->procs, (const char *)name.p);
    buf_free(&name);
  }
  return pid != dying && node_pid_alive(n, pid) ? pid : 0;
}

void owner_table_exit(etab *t, uint64_t dying) {
  buf heir, data;
  uint64_t to;
  proc *p = NULL;
  int taken = 0;
  buf_init(&heir);
  buf_init(&data);
  etab_meta(t, NULL, &heir, &data);
  to = live_heir(node_of(t), &heir, dying);
  if (to != 0 && (p = ptab_get(&node_of(t)->procs, to)) != NULL) {
    /* A pid heir serves once; a name heir stays (see the top). */
    if (heir.p[0] == TERM_PID) etab_clear_heir(t);
    taken = take_if_alive(t, p);   /* the heir may be exiting just now */
  }
  if (taken) send_transfer(t, p, dying, (tslice){data.p, data.n});
  else if (t->custody) etab_set_owner(t, 0);   /* the node keeps it until claimed */
  else etab_drop_orphan(t);
  if (p != NULL) proc_unref(p);
  buf_free(&heir);
  buf_free(&data);
}

void owner_process_exit(node *n, uint64_t pid) {
  etab **list;
  size_t count = etab_owned_by(&n->tables, pid, &list);
  for (size_t i = 0; i < count; i++) owner_table_exit(list[i], pid);
  treg_list_free(list, count);
}
