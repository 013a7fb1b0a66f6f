/*
** cli_signal.h — SIGINT, SIGTERM and SIGHUP for the heirloom command, in
** `run` and in `shell`: what they stop, and how a host blocked in a
** receive (an application's start, the run loop, a chunk at the prompt)
** is made to give up.
*/
#ifndef CLI_SIGNAL_H
#define CLI_SIGNAL_H

#include <lua.h>

#include "heirloom.h"

/* run: every signal asks for a stop. shell: SIGTERM and SIGHUP do; SIGINT
** belongs to the prompt while it is up (it interrupts a running chunk, or
** goes to the input loop), and asks for a stop otherwise. */
enum { CLI_SIGNAL_RUN, CLI_SIGNAL_SHELL };

/* Installs the handlers on the calling (main) thread, which must have the
** three signals blocked, as every thread of the node must, and unblocks
** them there; host: the host process to interrupt (node NULL: none, for a
** console attached to another node). 0 on failure. */
int cli_signal_start(hl_node *node, hl_pid host, int mode);
/* Blocks the signals again and removes the handlers and the watcher. */
void cli_signal_stop(void);

/* The shell's input loop polls this descriptor; cli_signal_next reads the
** next signal from it (0: none). */
int cli_signal_fd(void);
int cli_signal_next(void);
/* The prompt is up (on) or gone. */
void cli_signal_prompt(int on);
/* A chunk starts running in L, or (L NULL) has ended: a SIGINT meanwhile
** interrupts it, and is forgotten when it ends. */
void cli_signal_chunk(lua_State *L);

/* take_signal() in Lua: the name of the signal that asked for a stop
** ("SIGTERM"), or nil; taking it lets the host wait again. */
int cli_signal_take(lua_State *L);

#endif
