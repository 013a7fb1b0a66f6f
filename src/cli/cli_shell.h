/*
** cli_shell.h — the heirloom command's interactive Lua prompt.
*/
#ifndef CLI_SHELL_H
#define CLI_SHELL_H

#include <lua.h>

/* Reads Lua from standard input and runs it in L (a host state of a
** running node) until the input ends or a signal ends the shell. With a
** terminal: line editing and history through libedit, "> " and ">> "
** prompts, Ctrl-C drops the line being typed or interrupts the running
** chunk. Otherwise lines are read as they come, without prompts.
** Returns 0 at the end of input, or the signal (SIGTERM, SIGHUP, or
** SIGINT when standard input is not a terminal) that ended it.
** The caller has started cli_signal in its shell mode. */
int cli_shell(lua_State *L);

/* The same prompt for a console attached to another node (cli_remsh.c):
** each line goes to feed (1: the chunk ran, 0: it needs more lines, -1:
** the console has ended); fd is polled beside the input, and event is
** called when it is readable (non-zero: the console has ended);
** interrupt is Ctrl-C at the prompt. Returns as cli_shell does. */
typedef struct cli_shell_remote {
  int fd;
  int (*feed)(void *ud, const char *line);
  int (*event)(void *ud);
  void (*interrupt)(void *ud);
  void *ud;
} cli_shell_remote;
int cli_shell_attached(const cli_shell_remote *remote);

#endif
