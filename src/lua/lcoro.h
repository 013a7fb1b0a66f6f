/*
** lcoro.h — the coroutine library of a process's state (lcoro.c).
*/
#ifndef HL_LCORO_H
#define HL_LCORO_H

#include <lua.h>

/* Opens coroutine with resume and wrap that let the scheduler preempt a
** coroutine the process made (luaL_requiref's signature). */
int lcoro_open(lua_State *L);

#endif
