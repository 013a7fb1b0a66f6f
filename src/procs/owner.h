/*
** owner.h — who owns a table, who inherits it, and when: the whole
** ownership rule (ETS's owner, heir, give_away, plus custody and claim).
** The table layer keeps the records (etab.h); this module alone decides.
*/
#ifndef HL_OWNER_H
#define HL_OWNER_H

#include <stdint.h>

#include "err.h"
#include "etab.h"
#include "node.h"

/* A process exits: each table it owns goes to its live heir (with an
** ETS-TRANSFER message), into the node's custody, or is dropped. Called by
** the exit protocol (proc_finish_exit) before links and monitors are told. */
void owner_process_exit(node *n, uint64_t pid);
/* The same for one table whose owner `dying` exits. */
void owner_table_exit(etab *t, uint64_t dying);

/* The owner gives the table to the live process pid, which is sent
** {"ETS-TRANSFER", tab, caller, data}. */
hl_status owner_give_away(etab *t, uint64_t caller, uint64_t pid,
                          tslice data, hl_err *e);
/* Makes caller the owner of a table in the node's custody (owner 0). */
hl_status owner_claim(etab *t, uint64_t caller, hl_err *e);
/* heir: a pid or string (registered name) term, or {NULL,0} for none. A
** pid heir that is not alive now is stored as none, as in ETS. */
hl_status owner_set_heir(etab *t, uint64_t caller, tslice heir,
                         tslice heir_data, hl_err *e);

#endif
