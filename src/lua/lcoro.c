/*
** lcoro.c — coroutine.resume and coroutine.wrap in a process's state: a
** coroutine the process made is preempted with the process.
**
** The scheduler's hook yields a process whose slice is used up. In a
** coroutine the process made, a plain yield would go back to the process's
** own code, as if the coroutine had yielded. So these versions of resume
** and wrap note the coroutine they resume (proc.nested); the hook yields
** that one only, marking it preempted (proc.preempted), and the resume
** that sees the mark yields in turn, up to the process's body, which goes
** back to the scheduler. When the process runs again, each resume takes
** up the coroutine where it stopped. The process's code sees nothing.
**
** Where a resume cannot yield (inside a metamethod, say), it resumes the
** coroutine again at once: that slice goes on, as any C boundary makes it.
*/
#include <lauxlib.h>
#include <lualib.h>

#include "lcoro.h"
#include "proc.h"

static proc *process_of(lua_State *L) {
  return *(proc **)lua_getextraspace(L);
}

static int resume_k(lua_State *L, int status, lua_KContext ctx);

/* Resumes co with narg values moved from L (as lcorolib's auxresume):
** the number of results moved back to L, or -1 and an error on L. The
** preemption of co is passed up by yielding L (continued in resume_k). */
static int resume(lua_State *L, lua_State *co, int narg, lua_KContext ctx) {
  proc *p = process_of(L);
  for (;;) {
    lua_State *outer = p != NULL ? p->nested : NULL;
    int status, nres;
    if (!lua_checkstack(co, narg)) {
      lua_pushliteral(L, "too many arguments to resume");
      return -1;
    }
    lua_xmove(L, co, narg);
    if (p != NULL) p->nested = co;
    status = lua_resume(co, L, narg, &nres);
    if (p != NULL) p->nested = outer;
    if (status == LUA_YIELD && p != NULL && p->preempted == co) {
      p->preempted = NULL;
      lua_pop(co, nres);
      if (lua_isyieldable(L) && (L == p->co || L == outer)) {
        if (L != p->co) p->preempted = L;
        return lua_yieldk(L, 0, ctx, resume_k);
      }
      narg = 0;
      continue;
    }
    if (status == LUA_OK || status == LUA_YIELD) {
      if (!lua_checkstack(L, nres + 1)) {
        lua_pop(co, nres);
        lua_pushliteral(L, "too many results to resume");
        return -1;
      }
      lua_xmove(co, L, nres);
      return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
  }
}

/* What coroutine.resume returns. */
static int resume_results(lua_State *L, int r) {
  if (r < 0) {
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_insert(L, -(r + 1));
  return r + 1;
}

/* What a wrapped coroutine's function returns, or its error raised. */
static int wrap_results(lua_State *L, lua_State *co, int r) {
  if (r < 0) {
    int stat = lua_status(co);
    if (stat != LUA_OK && stat != LUA_YIELD) {
      stat = lua_resetthread(co);     /* closes its to-be-closed variables */
      lua_xmove(co, L, 1);
    }
    if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
      luaL_where(L, 1);
      lua_insert(L, -2);
      lua_concat(L, 2);
    }
    return lua_error(L);
  }
  return r;
}

/* ctx: 0 for coroutine.resume (the coroutine is argument 1), 1 for a
** wrapped function (upvalue 1). */
static int resume_k(lua_State *L, int status, lua_KContext ctx) {
  lua_State *co = lua_tothread(L, ctx == 0 ? 1 : lua_upvalueindex(1));
  (void)status;
  if (ctx == 0) return resume_results(L, resume(L, co, 0, ctx));
  return wrap_results(L, co, resume(L, co, 0, ctx));
}

static int co_resume(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co != NULL, 1, "coroutine");
  return resume_results(L, resume(L, co, lua_gettop(L) - 1, 0));
}

static int co_wrapped(lua_State *L) {
  lua_State *co = lua_tothread(L, lua_upvalueindex(1));
  return wrap_results(L, co, resume(L, co, lua_gettop(L), 1));
}

static int co_wrap(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State *co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, co_wrapped, 1);
  return 1;
}

int lcoro_open(lua_State *L) {
  luaopen_coroutine(L);
  lua_pushcfunction(L, co_resume);
  lua_setfield(L, -2, "resume");
  lua_pushcfunction(L, co_wrap);
  lua_setfield(L, -2, "wrap");
  return 1;
}
