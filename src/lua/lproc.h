/*
** lproc.h — the process functions of the heirloom module (lproc.c,
** lspawn.c).
*/
#ifndef HL_LPROC_H
#define HL_LPROC_H

#include <lauxlib.h>
#include <stddef.h>
#include <stdint.h>

/* The module's fields (made on first use, lheirloom.c). The hot ones
** (self, send, receive...) are closures over the state's record (a light
** userdata) and the pid metatable: messages are the hot path. */
extern const luaL_Reg lproc_hot_functions[];
/* sleep, links, monitors, names, timers... */
extern const luaL_Reg lproc_functions[];
/* spawn, spawn_link, spawn_opt (lspawn.c). */
extern const luaL_Reg lspawn_functions[];
/* processes, process_info, pid (lpinfo.c). */
extern const luaL_Reg lpinfo_functions[];

struct lbind;
struct proc;
/* The calling process, after the checks every call makes (a started node,
** a live caller); its binding record in *bp. Raises "heirloom.<fname>: ...". */
struct proc *lproc_me(lua_State *L, const char *fname, struct lbind **bp);
/* The pid at idx, or raises "heirloom.<fname>: pid must be a pid". */
uint64_t lproc_pid_arg(lua_State *L, int idx, const char *fname);

struct lscratch;
/* Borrows the call's buffers (lscratch.h) and encodes argument idx into
** their input (root names it in a refusal); a refusal gives them back and
** raises "heirloom.<fname>: ...". */
struct lscratch *lproc_encode_arg(lua_State *L, struct lbind *b, int idx, const char *root,
                                  const char *fname);

#endif
