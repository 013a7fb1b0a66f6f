/*
** lremote.c — links, monitors and exit signals of processes of other
** nodes from Lua (docs/distribution.md): heirloom.link, unlink, monitor,
** demonitor and exit when their argument is another node's pid (or, for
** monitor, {name, "node@host"}), carried out by dist_link.h. The calls
** look and fail as the local ones do; what differs is only the wire.
*/
#include <lauxlib.h>

#include "dist_link.h"
#include "lhandle.h"
#include "lintern.h"
#include "lproc.h"
#include "lremote.h"
#include "lscratch.h"
#include "term.h"

/* The pid of another node at idx, into *x (pointing into the value). */
static int remote_pid(lua_State *L, int idx, term_xpid *x) {
  const unsigned char *p;
  size_t len;
  return lintern_get(L, idx, &p, &len) && term_get_xpid(p, len, x) == len;
}

int lremote_is_pid(lua_State *L, int idx) {
  term_xpid x;
  return remote_pid(L, idx, &x);
}

static void check(lua_State *L, hl_status st, const hl_err *e, const char *fname) {
  if (st != HL_OK) luaL_error(L, "heirloom.%s: %s", fname, e->msg);
}

int lremote_link(lua_State *L, int unlink) {
  const char *fname = unlink ? "unlink" : "link";
  lbind *b;
  proc *p = lproc_me(L, fname, &b);
  term_xpid x;
  hl_err e;
  remote_pid(L, 1, &x);
  err_clear(&e);
  check(L, unlink ? dist_unlink(b->node, p->pid, &x, &e) : dist_link(b->node, p->pid, &x, &e),
        &e, fname);
  lua_pushboolean(L, 1);
  return 1;
}

/* monitor(pid) of another node, or monitor({name, "node@host"}). */
int lremote_monitor(lua_State *L) {
  lbind *b;
  proc *p = lproc_me(L, "monitor", &b);
  term_xpid x;
  uint64_t ref = 0;
  hl_err e;
  hl_status st;
  err_clear(&e);
  if (remote_pid(L, 1, &x)) {
    st = dist_monitor(b->node, p->pid, &x, &ref, &e);
  } else {
    const char *name, *peer;
    lua_rawgeti(L, 1, 1);
    lua_rawgeti(L, 1, 2);
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, 1) != 2)
      return luaL_error(L, "heirloom.monitor: target must be a pid, a registered name, or "
                           "{name, \"node@host\"} for a name on another node");
    name = lua_tostring(L, -2);
    peer = lua_tostring(L, -1);
    st = dist_monitor_name(b->node, p->pid, name, peer, &ref, &e);
  }
  check(L, st, &e, "monitor");
  lhandle_push(L, TERM_REF, ref);
  return 1;
}

void lremote_demonitor(lua_State *L, node *n, proc *p, uint64_t ref) {
  hl_err e;
  err_clear(&e);
  /* a ref that is not a remote monitor's, or a node not distributed:
  ** nothing to withdraw there */
  (void)dist_demonitor(n, p->pid, ref, &e);
  (void)L;
}

/* exit(pid, reason) for another node's pid. */
int lremote_exit(lua_State *L) {
  lbind *b;
  proc *p = lproc_me(L, "exit", &b);
  term_xpid x;
  lscratch *s;
  hl_err e;
  hl_status st;
  remote_pid(L, 1, &x);
  if (lua_isnoneornil(L, 2)) return luaL_error(L, "heirloom.exit: missing argument 'reason'");
  s = lproc_encode_arg(L, b, 2, "reason", "exit");
  err_clear(&e);
  st = dist_exit(b->node, p->pid, &x, s->in.p, s->in.n, &e);
  lscratch_return(s);
  check(L, st, &e, "exit");
  lua_pushboolean(L, 1);
  return 1;
}
