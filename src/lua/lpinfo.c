/*
** lpinfo.c — processes seen from outside: hl.processes(), hl.process_info
** and hl.pid, which turns a printed pid back into the pid. What another
** process's record holds is read under its lock, and its Lua state and
** mailbox only while nobody runs it (current_function, messages); the
** messages are copied as bytes under the lock and decoded after it.
*/
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etab.h"
#include "lbind.h"
#include "lhandle.h"
#include "lproc.h"
#include "lterm.h"
#include "proc.h"
#include "ptab.h"
#include "term.h"

/* ---- pids from text ---- */

/* A part of a pid: a number below 2^32. */
static uint32_t pid_part(lua_State *L, int idx, const char *what) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint || v < 0 || v > (lua_Integer)UINT32_MAX)
    luaL_error(L, "heirloom.pid: argument %d (%s) must be an integer from 0 to 4294967295", idx,
               what);
  return (uint32_t)v;
}

/* Reads digits (no sign, no space) up to `end`; 0 if there are none, or
** the number is 2^32 or more. */
static int text_part(const char **at, char end, uint32_t *out) {
  const char *p = *at;
  uint64_t v = 0;
  if (*p < '0' || *p > '9') return 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    v = v * 10 + (uint64_t)(*p - '0');
    if (v > UINT32_MAX) return 0;
  }
  if (*p != end) return 0;
  *out = (uint32_t)v;
  *at = p + 1;
  return 1;
}

/* pid("<0.7.1>") or pid(0, 7, 1): the pid printed so, as list_to_pid and
** c:pid/3 make one. It need not be alive; only this node's (0) exist. */
static int l_pid(lua_State *L) {
  uint32_t node, index, serial;
  if (lua_gettop(L) >= 2) {
    if (pid_part(L, 1, "node") != 0)
      return luaL_error(L, "heirloom.pid: argument 1 (node) must be 0, this node");
    index = pid_part(L, 2, "index");
    serial = pid_part(L, 3, "serial");
  } else {
    const char *at = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : "";
    if (*at++ != '<' || !text_part(&at, '.', &node) || !text_part(&at, '.', &index) ||
        !text_part(&at, '>', &serial) || *at != '\0' || node != 0 ||
        lua_rawlen(L, 1) != (size_t)(at - lua_tostring(L, 1)))
      return luaL_error(L, "heirloom.pid: argument 1 must be a pid's text such as \"<0.7.1>\" "
                           "(got %s)", luaL_tolstring(L, 1, NULL));
  }
  lhandle_push(L, TERM_PID, (uint64_t)index | ((uint64_t)serial << 32));
  return 1;
}

/* ---- who is there, and how each is ---- */

static int l_processes(lua_State *L) {
  lbind *b;
  uint64_t *pids;
  size_t n;
  lproc_me(L, "processes", &b);
  n = ptab_pids(&b->node->procs, &pids);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lhandle_push(L, TERM_PID, pids[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(pids);
  return 1;
}

static const char *state_name(int state) {
  static const char *const names[] = {"runnable", "running", "waiting", "exiting", "exited"};
  return names[state];
}

/* The handles of the tables pid owns. */
static void push_owned_tables(lua_State *L, node *n, uint64_t pid) {
  etab **list;
  size_t count = treg_list(&n->tables, &list), k = 0;
  lua_newtable(L);
  for (size_t i = 0; i < count; i++)
    if (etab_owner(list[i]) == pid) {
      lhandle_push_table(L, list[i]);
      lua_rawseti(L, -2, (lua_Integer)++k);
    }
  treg_list_free(list, count);
}

/* "file:line: in function 'name'" for the innermost Lua function on co's
** stack, from `level` up; 0 if it has none. */
static int where(lua_State *co, int level, char *out, size_t size) {
  lua_Debug ar;
  for (; lua_getstack(co, level, &ar); level++) {
    if (!lua_getinfo(co, "Sln", &ar) || strcmp(ar.what, "C") == 0) continue;
    if (ar.name != NULL)
      snprintf(out, size, "%s:%d: in function '%s'", ar.short_src, ar.currentline, ar.name);
    else if (strcmp(ar.what, "main") == 0)
      snprintf(out, size, "%s:%d: in main chunk", ar.short_src, ar.currentline);
    else
      snprintf(out, size, "%s:%d: in function <%s:%d>", ar.short_src, ar.currentline,
               ar.short_src, ar.linedefined);
    return 1;
  }
  return 0;
}

/* What process_info reports about p, copied under p's lock: the table is
** built after the lock is released, because building it allocates, and a
** finalizer that allocation runs may send to p, which takes that lock. */
typedef struct pinfo {
  int state, trap_exit, host, has_where;
  size_t nmsg, memory, nlinks, nmonitors;
  uint64_t slices, received;
  uint64_t *links, *monitors;   /* one malloc'd block */
  char where[300];
} pinfo;

/* Where p is. Its state may be read only while nobody runs it: when it
** is the caller itself, or, with its lock held, when it is suspended (the
** scheduler marks it running under that lock before resuming it). */
static int current_function(lua_State *L, proc *p, proc *self, char *text, size_t size) {
  if (p == self && !p->host) return where(L, 1, text, size);
  /* the state first: p->co is written without the lock once p is dying */
  if ((p->state == PROC_WAITING || p->state == PROC_RUNNABLE) && !p->host && p->co != NULL)
    return where(p->co, 0, text, size);
  return 0;
}

/* Copies what process_info reports; 0 when out of memory. */
static int copy_info(lua_State *L, proc *p, proc *self, pinfo *in) {
  int ok = 1;
  pthread_mutex_lock(&p->lock);
  in->state = p->state;
  in->nmsg = proc_mail_count(p);
  in->memory = atomic_load(&p->alloc.used);
  in->slices = atomic_load_explicit(&p->slices, memory_order_relaxed);
  in->received = atomic_load_explicit(&p->received, memory_order_relaxed);
  in->trap_exit = p->trap_exit;
  in->host = p->host;
  in->nlinks = p->nlinks;
  in->nmonitors = p->nwatching;
  in->links = malloc((in->nlinks + in->nmonitors + 1) * sizeof *in->links);
  if (in->links == NULL) {
    ok = 0;
  } else {
    in->monitors = in->links + in->nlinks;
    for (size_t i = 0; i < in->nlinks; i++) in->links[i] = p->links[i];
    for (size_t i = 0; i < in->nmonitors; i++) in->monitors[i] = p->watching[i].pid;
    in->has_where = current_function(L, p, self, in->where, sizeof in->where);
  }
  pthread_mutex_unlock(&p->lock);
  return ok;
}

static void push_pids(lua_State *L, const uint64_t *pids, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lhandle_push(L, TERM_PID, pids[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Copies of a process's first messages, decoded in a protected call
** (lua_pcall of push_messages) so that the copies are freed whatever
** decoding raises. */
typedef struct peeked {
  msg **copies;
  long n;                       /* -1: they could not be read */
} peeked;

#define MAX_PEEK 1000
#define DEFAULT_PEEK 10

static int push_messages(lua_State *L) {
  peeked *pk = lua_touserdata(L, 1);
  if (pk->n < 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, (int)pk->n, 0);
  for (long i = 0; i < pk->n; i++) {
    msg *m = pk->copies[i];
    if (lterm_decode(L, m->data, m->len) == 0) lua_pushliteral(L, "(a message that does not decode)");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static void free_peeked(peeked *pk) {
  for (long i = 0; i < pk->n; i++) msg_free(pk->copies[i]);
  free(pk->copies);
}

/* How many messages process_info copies: argument idx, or the default. */
static size_t peek_count(lua_State *L, int idx) {
  int isint;
  lua_Integer n;
  if (lua_isnoneornil(L, idx)) return DEFAULT_PEEK;
  n = lua_tointegerx(L, idx, &isint);
  if (!isint || n < 0 || n > MAX_PEEK)
    luaL_error(L, "heirloom.process_info: argument 2 must be an integer from 0 to %d (how many "
                  "messages to show; got %s)", MAX_PEEK, luaL_tolstring(L, idx, NULL));
  return (size_t)n;
}

static int l_process_info(lua_State *L) {
  lbind *b;
  proc *p;
  pinfo in;
  char name[128];
  int named;
  peeked pk = {NULL, 0};
  size_t want;
  int status;
  lproc_me(L, "process_info", &b);
  want = peek_count(L, 2);
  p = ptab_get(&b->node->procs, lproc_pid_arg(L, 1, "process_info"));
  if (p == NULL) {
    lua_pushnil(L);
    return 1;
  }
  named = ptab_name_of(&b->node->procs, p->pid, name, sizeof name);
  if (want > 0 && (pk.copies = malloc(want * sizeof *pk.copies)) == NULL) {
    proc_unref(p);
    return luaL_error(L, "heirloom.process_info: out of memory");
  }
  pk.n = proc_mail_peek(p, b->me, pk.copies, want);
  lua_settop(L, 1);
  lua_pushcfunction(L, push_messages);
  lua_pushlightuserdata(L, &pk);
  status = lua_pcall(L, 1, 1, 0);            /* 2: the messages */
  free_peeked(&pk);
  if (status != LUA_OK) {
    proc_unref(p);
    return lua_error(L);
  }
  if (!copy_info(L, p, b->me, &in)) {
    proc_unref(p);
    return luaL_error(L, "heirloom.process_info: out of memory");
  }
  /* The pid lists go into Lua first: the rest cannot fail to be built,
  ** except by a memory error, which would otherwise leak the copy. */
  push_pids(L, in.links, in.nlinks);      /* 3 */
  push_pids(L, in.monitors, in.nmonitors);   /* 4 */
  free(in.links);
  lua_newtable(L);
  lua_pushstring(L, state_name(in.state));
  lua_setfield(L, -2, "status");
  lua_pushinteger(L, (lua_Integer)in.nmsg);
  lua_setfield(L, -2, "message_queue_len");
  lua_pushinteger(L, (lua_Integer)in.memory);
  lua_setfield(L, -2, "memory");
  lua_pushinteger(L, (lua_Integer)in.slices);
  lua_setfield(L, -2, "slices");
  lua_pushinteger(L, (lua_Integer)in.received);
  lua_setfield(L, -2, "messages_received");
  lua_pushboolean(L, in.trap_exit);
  lua_setfield(L, -2, "trap_exit");
  lua_pushboolean(L, in.host);
  lua_setfield(L, -2, "host");
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, "links");
  lua_pushvalue(L, 4);
  lua_setfield(L, -2, "monitors");
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "messages");
  if (in.has_where) lua_pushstring(L, in.where);
  else lua_pushnil(L);
  lua_setfield(L, -2, "current_function");
  if (p->initial_call != NULL) {   /* immutable while p is referenced */
    lua_pushstring(L, p->initial_call);
    lua_setfield(L, -2, "initial_call");
  }
  if (named) {
    lua_pushstring(L, name);
    lua_setfield(L, -2, "registered_name");
  }
  push_owned_tables(L, b->node, p->pid);
  lua_setfield(L, -2, "tables");
  proc_unref(p);
  return 1;
}

const luaL_Reg lpinfo_functions[] = {
  {"processes", l_processes},
  {"pid", l_pid},
  {"process_info", l_process_info},
  {NULL, NULL}
};
