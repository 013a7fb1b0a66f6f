/*
** lproc.c — processes from Lua: self, send, receive, links, monitors,
** exits, names, timers, and driving a deterministic node. Spawning is in
** lspawn.c, introspection (process_info, processes, pid) in lpinfo.c.
**
** receive runs in two worlds. In a process it yields (lua_yieldk) until
** mail or its timeout arrives, and resumes where it left off; on a host
** thread it blocks, or, in a deterministic node, runs the scheduler itself
** while it waits. A filter is called with lua_callk, so it too may be
** preempted without losing the receive.
*/
#include <lauxlib.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alias.h"
#include "lbind.h"
#include "lbody.h"
#include "ldist.h"
#include "lhandle.h"
#include "logger.h"
#include "lproc.h"
#include "lremote.h"
#include "lterm.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "term.h"

/* ---- arguments ---- */

/* self, send and receive carry the state's record and the pid metatable
** as upvalues 1 and 2 (lproc_hot_functions): messages are the hot path,
** and a registry lookup by name costs a string comparison each. Other
** functions have no upvalues and look the record up. */
static lbind *bind_of(lua_State *L) {
  lbind *b = lua_touserdata(L, lua_upvalueindex(1));
  return b != NULL ? b : lbind_get(L);
}

proc *lproc_me(lua_State *L, const char *fname, lbind **bp) {
  lbind *b = bind_of(L);
  if (b == NULL || b->node == NULL)
    luaL_error(L, "heirloom.%s: the node is not started (call heirloom.start first)", fname);
  lbind_check_alive(L, b, fname);
  if (bp != NULL) *bp = b;
  return b->me;
}

/* A pid argument, told by its metatable (upvalue 2), or 0. The metatable
** is made with the state's first pid: until then upvalue 2 is nil, and is
** set on the first call that sees one. */
static uint64_t fast_pid(lua_State *L, int idx) {
  uint64_t *id = lua_touserdata(L, idx);
  int same;
  if (id == NULL || lua_isnone(L, lua_upvalueindex(2))) return 0;
  if (lua_isnil(L, lua_upvalueindex(2))) {
    if (luaL_getmetatable(L, LHANDLE_PID) == LUA_TNIL) {
      lua_pop(L, 1);
      return 0;                       /* no pid exists in this state yet */
    }
    lua_replace(L, lua_upvalueindex(2));
  }
  if (!lua_getmetatable(L, idx)) return 0;
  same = lua_rawequal(L, -1, lua_upvalueindex(2));
  lua_pop(L, 1);
  return same ? *id : 0;
}

uint64_t lproc_pid_arg(lua_State *L, int idx, const char *fname) {
  int tag;
  uint64_t id;
  if (!lhandle_get(L, idx, &tag, &id) || tag != TERM_PID)
    luaL_error(L, "heirloom.%s: pid must be a pid (got %s)", fname, luaL_typename(L, idx));
  return id;
}

/* A pid, or a registered name resolved now (0 if nobody holds it). */
static uint64_t dest_arg(lua_State *L, int idx, node *n, const char *fname) {
  if (lua_type(L, idx) == LUA_TSTRING) return ptab_whereis(&n->procs, lua_tostring(L, idx));
  if (lua_isuserdata(L, idx)) return lproc_pid_arg(L, idx, fname);
  return luaL_error(L, "heirloom.%s: destination must be a pid or a registered name (got %s)",
                    fname, luaL_typename(L, idx));
}

/* Milliseconds; -1 for none (nil). */
static int64_t timeout_arg(lua_State *L, int idx, const char *fname) {
  lua_Integer ms;
  if (lua_isnoneornil(L, idx)) return -1;
  if (!lua_isinteger(L, idx) || (ms = lua_tointeger(L, idx)) < 0)
    return luaL_error(L, "heirloom.%s: timeout must be a non-negative integer of milliseconds",
                      fname);
  return ms;
}

lscratch *lproc_encode_arg(lua_State *L, lbind *b, int idx, const char *root,
                           const char *fname) {
  char msg[300];
  lscratch *s = lbind_borrow(L, b, fname);
  if (!lterm_encode(L, idx, &s->in, root, msg, sizeof msg)) {
    lscratch_return(s);
    luaL_error(L, "heirloom.%s: %s", fname, msg);
  }
  return s;
}

/* ---- self, send ---- */

static int l_self(lua_State *L) {
  lhandle_push(L, TERM_PID, lproc_me(L, "self", NULL)->pid);
  return 1;
}

/* The reference in an alias argument, or 0 if it is not a reference. */
static uint64_t ref_arg(lua_State *L, int idx) {
  int tag;
  uint64_t id;
  return lhandle_get(L, idx, &tag, &id) && tag == TERM_REF ? id : 0;
}

/* Where send's message goes: a pid, the holder of a registered name, or
** (*alias set, 0 returned) an alias. */
static uint64_t send_target(lua_State *L, lbind *b, uint64_t *alias) {
  uint64_t to = fast_pid(L, 1);
  *alias = 0;
  if (to != 0) return to;
  if ((*alias = ref_arg(L, 1)) != 0) return 0;
  to = dest_arg(L, 1, b->node, "send");
  if (to == 0)
    luaL_error(L, "heirloom.send: no process is registered as '%s'", lua_tostring(L, 1));
  return to;
}

static int l_send(lua_State *L) {
  lbind *b;
  uint64_t to, alias;
  proc *p, *self;
  lscratch *s;
  self = lproc_me(L, "send", &b);
  alias = 0;
  /* a local pid first: the hot path asks nothing of the other kinds */
  if ((to = fast_pid(L, 1)) == 0) {
    if (lua_type(L, 1) == LUA_TTABLE) return ldist_send(L, b);   /* {name, node} */
    if (ldist_is_remote_pid(L, 1)) return ldist_send_pid(L, b);  /* a pid of another node */
    to = send_target(L, b, &alias);
  }
  if (lua_isnone(L, 2)) return luaL_error(L, "heirloom.send: missing argument 'message'");
  s = lproc_encode_arg(L, b, 2, "message", "send");
  if (alias != 0) {
    alias_send(b->node, alias, self->pid, s->in.p, s->in.n);   /* dropped unless active */
  } else if ((p = ptab_get(&b->node->procs, to)) != NULL) {
    /* to a dead pid it is dropped, as in Erlang */
    proc_deliver_from(p, self->pid, s->in.p, s->in.n);
    proc_unref(p);
  }
  lscratch_return(s);
  lua_settop(L, 2);
  return 1;
}

/* send_alias(alias, owner, message): through alias only if it is an
** active alias of owner; whether it was delivered. A reply address read
** from a message is checked this way against the message's true sender. */
static int l_send_alias(lua_State *L) {
  lbind *b;
  lscratch *s;
  proc *self = lproc_me(L, "send_alias", &b);
  uint64_t ref = ref_arg(L, 1), owner;
  int tag, sent;
  if (ref == 0)
    return luaL_error(L, "heirloom.send_alias: alias must be a reference from hl.alias");
  if (!lhandle_get(L, 2, &tag, &owner) || tag != TERM_PID)
    return luaL_error(L, "heirloom.send_alias: owner must be a pid (got %s)", luaL_typename(L, 2));
  if (lua_isnone(L, 3)) return luaL_error(L, "heirloom.send_alias: missing argument 'message'");
  s = lproc_encode_arg(L, b, 3, "message", "send_alias");
  sent = alias_send_owned(b->node, ref, owner, self->pid, s->in.p, s->in.n);
  lscratch_return(s);
  lua_pushboolean(L, sent);
  return 1;
}

/* ---- receive ----
** receive's stack: 1 the filter or nil, 2 the arrival number of the last
** message examined, 3 the deadline (-1: none), 4 whether the sender is
** wanted too; then the message (5) and, when wanted, its sender (6). The
** position and the deadline are kept here, not in the process: a receive
** nested in this one (in the filter, or in a finalizer that runs while a
** message decodes) moves the process's own and may take any message, this
** one's included. */

static int receive_k(lua_State *L, int status, lua_KContext ctx);

#define WITH_SENDER(L) lua_toboolean(L, 4)

static void push_sender(lua_State *L, uint64_t from) {
  if (from == 0) lua_pushnil(L);      /* the node itself */
  else lhandle_push(L, TERM_PID, from);
}

/* Drops message m, which does not decode, with a report: it must not
** block the mailbox. None can arrive (every way in checks terms), but the
** mailbox is not the place to find out. */
static void drop_message(lbind *b, proc *p, uint64_t seq, size_t len) {
  char pid[40], text[160];
  term_pid_text(p->pid, pid, sizeof pid);
  snprintf(text, sizeof text, "heirloom.receive: process %s dropped a message of %zu bytes "
           "that does not decode", pid, len);
  proc_mail_take_seq(p, seq);
  logger_log(&b->node->log, LOGLEVEL_ERROR, p->pid, text);
}

/* Messages up to this size are decoded from a copy on the C stack. */
#define SMALL_MESSAGE 256

/* Pushes the message m decoded, and its sender when wanted, or drops it
** (returning 0) if it does not decode. It is decoded from a copy, and m is
** not read once Lua has run: a receive nested in the decoding (in a
** finalizer) may take m and free it. A small message is copied to this
** function's frame, which lives as long as the decoding (nothing in it
** yields), a larger one to the call's scratch buffer. */
static int push_message(lua_State *L, lbind *b, proc *p, const msg *m) {
  unsigned char small[SMALL_MESSAGE];
  const unsigned char *copy = small;
  lscratch *s = NULL;
  uint64_t seq = m->seq, from = m->from;
  size_t n, len = m->len;
  int valid;
  if (len <= sizeof small) {
    memcpy(small, m->data, len);
  } else {
    s = lbind_borrow(L, b, "receive");
    buf_put(&s->in, m->data, len);
    if (!buf_ok(&s->in)) {
      lscratch_return(s);
      return luaL_error(L, "heirloom.receive: out of memory");
    }
    copy = s->in.p;
  }
  n = lterm_decode(L, copy, len);
  valid = n != 0 || term_valid(copy, len);
  lscratch_return(s);
  if (n != 0) {
    if (WITH_SENDER(L)) push_sender(L, from);
    return 1;
  }
  if (valid) return luaL_error(L, "heirloom.receive: not enough Lua stack to decode a message");
  drop_message(b, p, seq, len);
  return 0;
}

/* A host state's wait, between proc_host_enter and leave: the node's stop
** ends it, and waits for it to leave before freeing the scheduler. 1 when
** the deadline has passed; otherwise as proc_host_wait. */
static int host_wait(proc *p, int64_t deadline) {
  int waited;
  if (!proc_host_enter(p)) return -3;
  if (deadline >= 0 && sched_clock(p->node->sched) >= deadline) {
    proc_host_leave(p);
    return 1;
  }
  p->deadline = deadline;
  waited = proc_host_wait(p);
  proc_host_leave(p);
  return waited;
}

/* Waits for mail after the position, or for the deadline; 0 when the
** deadline passed. Does not return when the process yields. */
static int wait_mail(lua_State *L, proc *p, int64_t deadline) {
  if (p->host) {
    int waited = host_wait(p, deadline);
    if (waited == 1) return 0;   /* the deadline has passed */
    if (waited == -3) return luaL_error(L, "heirloom.receive: the node stopped");
    if (waited == -2) return luaL_error(L, "heirloom.receive: interrupted");
    if (waited != 0)
      return luaL_error(L, "heirloom.receive: the node is idle and no message can arrive");
    return 1;
  }
  if (deadline >= 0 && sched_clock(p->node->sched) >= deadline) return 0;
  p->deadline = deadline;
  if (L != p->co)
    return luaL_error(L, "heirloom.receive: a process waits only in its own body, "
                         "not inside a coroutine it made");
  if (!lua_isyieldable(L))
    return luaL_error(L, "heirloom.receive: cannot wait here (in a finalizer, a fold "
                         "function or a metamethod): give a timeout of 0");
  p->wants_mail = 1;
  return lua_yieldk(L, 0, 0, receive_k);
}

static int receive_k(lua_State *L, int status, lua_KContext ctx) {
  lbind *b = bind_of(L);
  proc *p = b->me;
  (void)status;
  if (ctx == 1) goto filtered;
  for (;;) {
    msg *m = proc_mail_after(p, (uint64_t)lua_tointeger(L, 2));
    if (m == NULL) {
      if (!wait_mail(L, p, lua_tointeger(L, 3))) {
        lua_pushnil(L);
        return 1;
      }
      continue;
    }
    lua_pushinteger(L, (lua_Integer)m->seq);
    lua_replace(L, 2);
    if (!push_message(L, b, p, m)) continue;
    /* Taking fails when a nested receive took the message meanwhile: it
    ** is not this receive's any more. */
    if (lua_isnil(L, 1)) {
      if (proc_mail_take_seq(p, (uint64_t)lua_tointeger(L, 2))) return WITH_SENDER(L) ? 2 : 1;
      lua_settop(L, 4);
      continue;
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 5);
    if (WITH_SENDER(L)) lua_pushvalue(L, 6);
    lua_callk(L, WITH_SENDER(L) ? 2 : 1, 1, 1, receive_k);
  filtered:
    if (lua_toboolean(L, -1) && proc_mail_take_seq(p, (uint64_t)lua_tointeger(L, 2))) {
      lua_pop(L, 1);
      return WITH_SENDER(L) ? 2 : 1;
    }
    lua_settop(L, 4);
  }
}

/* receive([filter], [timeout]): the stack becomes [filter or nil, 0,
** deadline, with_sender]. */
static int start_receive(lua_State *L, const char *fname, int with_sender) {
  int64_t ms;
  proc *p = lproc_me(L, fname, NULL);
  if (lua_isfunction(L, 1)) {
    ms = timeout_arg(L, 2, fname);
  } else {
    ms = timeout_arg(L, 1, fname);
    lua_pushnil(L);
    lua_replace(L, 1);
  }
  lua_settop(L, 1);
  lua_pushinteger(L, 0);
  lua_pushinteger(L, ms < 0 ? -1 : sched_clock(p->node->sched) + ms);
  lua_pushboolean(L, with_sender);
  return receive_k(L, LUA_OK, 0);
}

static int l_receive(lua_State *L) {
  return start_receive(L, "receive", 0);
}

/* receive_with_sender([filter], [timeout]): the message and the pid that
** really sent it (nil for the node's own messages); the filter gets both. */
static int l_receive_with_sender(lua_State *L) {
  return start_receive(L, "receive_with_sender", 1);
}

static int never(lua_State *L) {
  lua_pushboolean(L, 0);
  return 1;
}

static int l_sleep(lua_State *L) {
  if (timeout_arg(L, 1, "sleep") < 0)
    return luaL_error(L, "heirloom.sleep: missing argument 'ms'");
  lua_pushcfunction(L, never);
  lua_insert(L, 1);
  start_receive(L, "sleep", 0);
  return 0;
}

/* ---- links, monitors, exits ---- */

static int l_link(lua_State *L) {
  if (lremote_is_pid(L, 1)) return lremote_link(L, 0);
  proc_link(lproc_me(L, "link", NULL), lproc_pid_arg(L, 1, "link"));
  lua_pushboolean(L, 1);
  return 1;
}

static int l_unlink(lua_State *L) {
  if (lremote_is_pid(L, 1)) return lremote_link(L, 1);
  proc_unlink(lproc_me(L, "unlink", NULL), lproc_pid_arg(L, 1, "unlink"));
  lua_pushboolean(L, 1);
  return 1;
}

static int l_monitor(lua_State *L) {
  lbind *b;
  proc *p = lproc_me(L, "monitor", &b);
  uint64_t target;
  if (lremote_is_pid(L, 1) || lua_type(L, 1) == LUA_TTABLE) return lremote_monitor(L);
  target = dest_arg(L, 1, b->node, "monitor");
  lhandle_push(L, TERM_REF, proc_monitor(p, target));
  return 1;
}

static int l_demonitor(lua_State *L) {
  int tag;
  uint64_t ref;
  lbind *b;
  proc *p = lproc_me(L, "demonitor", &b);
  if (!lhandle_get(L, 1, &tag, &ref) || tag != TERM_REF)
    return luaL_error(L, "heirloom.demonitor: ref must be a monitor reference");
  proc_demonitor(p, ref);
  lremote_demonitor(L, b->node, p, ref);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- aliases ---- */

static int l_alias(lua_State *L) {
  uint64_t ref = alias_make(lproc_me(L, "alias", NULL));
  if (ref == 0) return luaL_error(L, "heirloom.alias: out of memory");
  lhandle_push(L, TERM_REF, ref);
  return 1;
}

static int l_unalias(lua_State *L) {
  proc *p = lproc_me(L, "unalias", NULL);
  uint64_t ref = ref_arg(L, 1);
  if (ref == 0) return luaL_error(L, "heirloom.unalias: alias must be a reference from hl.alias");
  lua_pushboolean(L, alias_drop(p, ref));
  return 1;
}

static int l_trap_exit(lua_State *L) {
  proc *p = lproc_me(L, "trap_exit", NULL);
  int old;
  if (!lua_isboolean(L, 1)) return luaL_error(L, "heirloom.trap_exit: flag must be a boolean");
  pthread_mutex_lock(&p->lock);
  old = p->trap_exit;
  p->trap_exit = lua_toboolean(L, 1);
  pthread_mutex_unlock(&p->lock);
  lua_pushboolean(L, old);
  return 1;
}

/* exit(pid, reason) sends an exit signal; exit(reason) ends the caller. */
static int l_exit(lua_State *L) {
  lbind *b;
  proc *p = lproc_me(L, "exit", &b);
  int self = lua_gettop(L) < 2;
  uint64_t to;
  lscratch *s;
  if (!self && lremote_is_pid(L, 1)) return lremote_exit(L);
  to = self ? p->pid : lproc_pid_arg(L, 1, "exit");
  if (lua_isnoneornil(L, self ? 1 : 2))
    return luaL_error(L, "heirloom.exit: missing argument 'reason'");
  s = lproc_encode_arg(L, b, self ? 1 : 2, "reason", "exit");
  if (self && p->host) {
    lscratch_return(s);
    return luaL_error(L, "heirloom.exit: the host process cannot exit");
  }
  if (self) {
    pthread_mutex_lock(&p->lock);
    buf_reset(&p->reason);
    buf_put(&p->reason, s->in.p, s->in.n);
    atomic_store(&p->exiting, 1);
    pthread_mutex_unlock(&p->lock);
    lscratch_return(s);
    lbody_exit_now(L);
    return luaL_error(L, "heirloom: the process is exiting");
  }
  proc_signal_exit(b->node, to, p->pid, s->in.p, s->in.n, SIG_EXIT_CALL);
  lscratch_return(s);
  if (!proc_alive(p)) lbody_exit_now(L);   /* it signalled itself: it ends now */
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- names ---- */

static const char *name_arg(lua_State *L, int idx, const char *fname) {
  if (lua_type(L, idx) != LUA_TSTRING || lua_rawlen(L, idx) == 0)
    luaL_error(L, "heirloom.%s: name must be a non-empty string", fname);
  return lua_tostring(L, idx);
}

static int l_register(lua_State *L) {
  lbind *b;
  const char *why, *name;
  uint64_t pid, *watchers;
  size_t nwatchers;
  lproc_me(L, "register", &b);
  name = name_arg(L, 1, "register");
  pid = lproc_pid_arg(L, 2, "register");
  if (!node_pid_alive(b->node, pid)) return luaL_error(L, "heirloom.register: pid is not alive");
  if (!ptab_register(&b->node->procs, name, pid, &why, &watchers, &nwatchers))
    return luaL_error(L, "heirloom.register: cannot register '%s': %s", name, why);
  node_notify_name(b->node, name, pid, watchers, nwatchers);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_unregister(lua_State *L) {
  lbind *b;
  lproc_me(L, "unregister", &b);
  lua_pushboolean(L, ptab_unregister(&b->node->procs, name_arg(L, 1, "unregister")));
  return 1;
}

static int l_whereis(lua_State *L) {
  lbind *b;
  uint64_t pid;
  lproc_me(L, "whereis", &b);
  pid = ptab_whereis(&b->node->procs, name_arg(L, 1, "whereis"));
  if (pid == 0) lua_pushnil(L);
  else lhandle_push(L, TERM_PID, pid);
  return 1;
}

/* The filter of await_name: {"heirloom.name", <upvalue name>, pid}, from
** the node itself (anyone can send a message of that shape). */
static int name_filter(lua_State *L) {
  int ok = lua_isnil(L, 2) && lua_type(L, 1) == LUA_TTABLE &&
           lua_rawgeti(L, 1, 1) == LUA_TSTRING &&
           strcmp(lua_tostring(L, -1), "heirloom.name") == 0 &&
           lua_rawgeti(L, 1, 2) == LUA_TSTRING && lua_rawequal(L, -1, lua_upvalueindex(1));
  lua_pushboolean(L, ok);
  return 1;
}

static int await_k(lua_State *L, int status, lua_KContext ctx) {
  lbind *b = lbind_get(L);
  (void)status;
  (void)ctx;
  if (lua_isnil(L, -1)) {
    ptab_unwatch_name(&b->node->procs, lua_tostring(L, 1), b->me->pid);
    return 1;
  }
  lua_rawgeti(L, -1, 3);
  return 1;
}

static int l_await_name(lua_State *L) {
  lbind *b;
  proc *p = lproc_me(L, "await_name", &b);
  const char *name = name_arg(L, 1, "await_name");
  int64_t ms = timeout_arg(L, 2, "await_name");
  uint64_t pid = ptab_watch_name(&b->node->procs, name, p->pid);
  if (pid != 0) {
    lhandle_push(L, TERM_PID, pid);
    return 1;
  }
  lua_settop(L, 1);
  lua_pushcfunction(L, l_receive_with_sender);
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, name_filter, 1);
  if (ms < 0) lua_pushnil(L);
  else lua_pushinteger(L, ms);
  lua_callk(L, 2, 1, 0, await_k);
  return await_k(L, LUA_OK, 0);
}

/* ---- timers ---- */

static int l_send_after(lua_State *L) {
  lbind *b;
  lscratch *s;
  int64_t ms;
  uint64_t ref, pid = 0;
  const char *name = NULL;
  lproc_me(L, "send_after", &b);
  ms = timeout_arg(L, 1, "send_after");
  if (ms < 0) return luaL_error(L, "heirloom.send_after: missing argument 'ms'");
  if (lua_type(L, 2) == LUA_TSTRING) name = lua_tostring(L, 2);
  else pid = lproc_pid_arg(L, 2, "send_after");
  s = lproc_encode_arg(L, b, 3, "message", "send_after");
  ref = sched_send_after(b->node->sched, sched_clock(b->node->sched) + ms, pid, name,
                         b->me->pid, s->in.p, s->in.n);
  lscratch_return(s);
  if (ref == 0) return luaL_error(L, "heirloom.send_after: out of memory");
  lhandle_push(L, TERM_REF, ref);
  return 1;
}

static int l_cancel_timer(lua_State *L) {
  lbind *b;
  int tag;
  uint64_t ref;
  int64_t left;
  lproc_me(L, "cancel_timer", &b);
  if (!lhandle_get(L, 1, &tag, &ref) || tag != TERM_REF)
    return luaL_error(L, "heirloom.cancel_timer: timer must be a reference from send_after");
  left = sched_cancel(b->node->sched, ref);
  if (left < 0) lua_pushboolean(L, 0);
  else lua_pushinteger(L, left);
  return 1;
}

/* ---- driving ---- */

/* Deterministic mode: run the node until nothing is left to do now, or
** for at most `max` steps (a step: one slice, or one timer fired) so that
** a test can act between them. */
static int l_run(lua_State *L) {
  lbind *b;
  lua_Integer steps = 0, max = -1;
  lproc_me(L, "run", &b);
  if (!lua_isnoneornil(L, 1)) {
    int isint;
    max = lua_tointegerx(L, 1, &isint);
    if (!isint || max < 0)
      return luaL_error(L, "heirloom.run: argument 1 (max steps) must be a non-negative integer");
  }
  if (b->node->sched->nthreads > 0)
    return luaL_error(L, "heirloom.run: the node has scheduler threads; run is for schedulers = 0");
  while ((max < 0 || steps < max) && sched_step(b->node->sched)) steps++;
  lua_pushinteger(L, steps);
  return 1;
}

/* Crash reports carry other processes' error values: they are the host's. */
static int l_logs(lua_State *L) {
  lbind *b;
  char **lines;
  size_t n;
  if (!lproc_me(L, "logs", &b)->host)
    return luaL_error(L, "heirloom.logs: crash reports belong to the host: a process cannot "
                         "read them");
  n = logger_take(&b->node->log, &lines);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, lines[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
    free(lines[i]);
  }
  free(lines);
  return 1;
}

const luaL_Reg lproc_hot_functions[] = {
  {"self", l_self},
  {"send", l_send},
  {"receive", l_receive},
  {"receive_with_sender", l_receive_with_sender},
  {"send_alias", l_send_alias},
  {NULL, NULL}
};

const luaL_Reg lproc_functions[] = {
  {"sleep", l_sleep},
  {"link", l_link},
  {"unlink", l_unlink},
  {"monitor", l_monitor},
  {"demonitor", l_demonitor},
  {"alias", l_alias},
  {"unalias", l_unalias},
  {"trap_exit", l_trap_exit},
  {"exit", l_exit},
  {"register", l_register},
  {"unregister", l_unregister},
  {"whereis", l_whereis},
  {"await_name", l_await_name},
  {"send_after", l_send_after},
  {"cancel_timer", l_cancel_timer},
  {"run", l_run},
  {"logs", l_logs},
  {NULL, NULL}
};
