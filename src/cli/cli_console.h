/*
** cli_console.h — the remote console of the heirloom command: the node's
** listener on a Unix socket (`heirloom run --console PATH`) and the
** framing that it and the client (cli_remsh.c) speak.
*/
#ifndef CLI_CONSOLE_H
#define CLI_CONSOLE_H

#include <stddef.h>

#include <lua.h>

#include "heirloom.h"

/* A frame on the socket: one type byte, the length of the text as 4 bytes
** big-endian, then the text. Neither side takes a text longer than this. */
#define CLI_CONSOLE_MAX_TEXT (1u << 20)

/* client -> node */
#define CLI_FRAME_SECRET 'S'     /* the first frame: the secret, maybe empty */
#define CLI_FRAME_LINE 'L'       /* a line of input */
#define CLI_FRAME_INTERRUPT 'I'  /* Ctrl-C */
/* node -> client */
#define CLI_FRAME_HELLO 'H'      /* accepted: a banner */
#define CLI_FRAME_OUT 'O'        /* for stdout */
#define CLI_FRAME_ERR 'E'        /* for stderr */
#define CLI_FRAME_DONE 'D'       /* the line's chunk ran: the next, please */
#define CLI_FRAME_MORE 'M'       /* the chunk needs more lines */
#define CLI_FRAME_BYE 'R'        /* refused or closing: why; the socket closes */

/* Writes one frame; 0 if the socket failed. */
int cli_console_send(int fd, int type, const void *text, size_t len);

/* Reads frames out of a connection's input. */
typedef struct cli_frames {
  unsigned char *buf;
  size_t len, cap;
} cli_frames;

/* Reads what the socket has (it must be readable) into f: 1 read something,
** 0 end of input or error. */
int cli_frames_fill(cli_frames *f, int fd);
/* The next whole frame in f: 1 (type, text copied to a NUL-terminated
** malloc'ed *text, *len), 0 none yet, -1 malformed (unknown type or too
** long: the connection must be closed). */
int cli_frames_next(cli_frames *f, int *type, char **text, size_t *len);
void cli_frames_free(cli_frames *f);

/* Reads a secret file: it must belong to the user and be readable by
** nobody else. Returns a malloc'ed secret (its trailing newline cut) and
** its length, or NULL with a message (naming the file) in err. */
char *cli_console_read_secret(const char *path, size_t *len, char *err, size_t errsize);

/* The default socket path for an application: $XDG_RUNTIME_DIR/heirloom/
** NAME.sock, else /tmp/heirloom-UID/NAME.sock; the directory is created
** 0700 (one that exists must be the user's own and closed to others).
** 0 with a message in err. */
int cli_console_default_path(const char *name, char *out, size_t size, char *err,
                             size_t errsize);

typedef struct cli_console_config {
  const char *path;            /* the socket */
  const char *secret;          /* NULL: none */
  size_t secret_len;
  const char *app_name;        /* for the banner */
  const char *top_name;        /* the top supervisor's registered name (tree()), or NULL */
  const char *keeper;          /* the text of the pid that restarts the application on a
                                  console's restart() (the command's host under `run`), or NULL */
  lua_State *(*new_state)(void *ud);
  void *new_state_ud;
} cli_console_config;

/* What the command asks for: the flags' path ("": the default path; NULL:
** none) and secret file, else the application's node.console and
** node.console_secret (app: its table's index in L, 0 if none). The secret
** file is read now. 0 when they are wrong (said on stderr). */
int cli_console_prepare(lua_State *L, int app, const char *path, const char *secret_file);

/* Opens the console that cli_console_prepare found wanted, if any: binds
** the socket (replacing a stale one; a live one is an error) and starts
** the listener thread, which keeps every signal blocked, as its relays
** do: signals are the main thread's. new_state(ud) makes a relay's Lua
** state: the heirloom module and the command's package.path. 1 when open
** or not wanted, 0 when it cannot open (said on stderr). keeper: L's host
** process starts the application again when a console asks (restart()),
** as `heirloom run` does (cli_lib.lua, run). */
int cli_console_open(lua_State *L, int app, hl_node *node, lua_State *(*new_state)(void *ud),
                     void *ud, int keeper);

/* 1 while a console is open. */
int cli_console_is_open(void);

/* Closes the listener and every console ("heirloom: the node is
** stopping"), removes the socket, and waits for their threads; forgets
** the secret. Nothing to do if none was opened. */
void cli_console_stop(void);

#endif
