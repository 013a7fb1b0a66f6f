/*
** cli_remsh.c — the client of the remote console: `heirloom shell
** --attach PATH` (and `heirloom remsh PATH`) connects to a node's console
** socket (cli_console.c; PATH may be tcp:HOST:PORT, cli_addr.c), sends
** the secret, and then runs the local
** prompt (cli_shell.c: libedit, history, "> " and ">> ") with each line
** sent to the node, which evaluates it and says whether the chunk is
** complete. What the node prints arrives as frames for stdout and stderr.
** Ctrl-C while a line runs asks the node to interrupt it; Ctrl-D, or the
** node closing the connection, ends the client and leaves the node
** running.
*/
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli_addr.h"
#include "cli_console.h"
#include "cli_remsh.h"
#include "cli_shell.h"
#include "cli_signal.h"

typedef struct remsh {
  int fd;
  cli_frames in;
  int ended;
  int signal;      /* SIGTERM or SIGHUP that came while a line ran */
} remsh;

static void say(const char *fmt, const char *a) {
  fputs("heirloom: ", stderr);
  fprintf(stderr, fmt, a);
  fputc('\n', stderr);
}

static int connect_to(const char *path) {
  struct sockaddr_un addr;
  int fd;
  if (cli_addr_is_tcp(path)) {
    char err[400];
    fd = cli_addr_connect(path, err, sizeof err);
    if (fd < 0) say("--attach %s", err);
    return fd;
  }
  if (strlen(path) >= sizeof addr.sun_path) {
    say("--attach %s: the path is too long for a Unix socket", path);
    return -1;
  }
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    fprintf(stderr, "heirloom: --attach %s: no console there: %s\n", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

/* Handles one frame from the node. Returns 'D' or 'M' when the line's
** answer came, 'R' when the console ended, 0 otherwise. */
static int take_frame(remsh *r, int type, const char *text, size_t len) {
  switch (type) {
    case CLI_FRAME_HELLO:
    case CLI_FRAME_OUT:
      fwrite(text, 1, len, stdout);
      fflush(stdout);
      return 0;
    case CLI_FRAME_ERR:
      fflush(stdout);
      fwrite(text, 1, len, stderr);
      fflush(stderr);
      return 0;
    case CLI_FRAME_DONE:
    case CLI_FRAME_MORE:
      return type;
    default:    /* CLI_FRAME_BYE, or what a node does not send */
      fflush(stdout);
      fprintf(stderr, "%.*s\n", (int)len, text);
      r->ended = 1;
      return CLI_FRAME_BYE;
  }
}

/* Reads what the socket has and handles the whole frames. Returns as
** take_frame does for the last one that mattered; 'R' when the
** connection ended. */
static int take_input(remsh *r) {
  int type, got, answer = 0;
  char *text;
  size_t len;
  if (!cli_frames_fill(&r->in, r->fd)) {
    if (!r->ended) say("%s", "the console's connection closed");
    r->ended = 1;
    return CLI_FRAME_BYE;
  }
  while (answer != CLI_FRAME_BYE && (got = cli_frames_next(&r->in, &type, &text, &len)) != 0) {
    if (got < 0) {
      say("%s", "the node sent what is not the console's protocol: leaving");
      r->ended = 1;
      return CLI_FRAME_BYE;
    }
    int a = take_frame(r, type, text, len);
    free(text);
    if (a != 0) answer = a;
  }
  return answer;
}

/* A line for the node: 1 the chunk ran, 0 it needs more, -1 the end. */
static int remote_feed(void *ud, const char *line) {
  remsh *r = ud;
  if (r->ended) return -1;
  if (!cli_console_send(r->fd, CLI_FRAME_LINE, line, strlen(line))) {
    say("%s", "the console's connection closed");
    r->ended = 1;
    return -1;
  }
  for (;;) {
    struct pollfd fds[2] = {{r->fd, POLLIN, 0}, {cli_signal_fd(), POLLIN, 0}};
    int sig, answer;
    if (poll(fds, 2, -1) < 0) continue;
    while ((sig = cli_signal_next()) != 0) {
      if (sig != SIGINT) {                /* SIGTERM, SIGHUP: leave */
        r->signal = sig;
        return -1;
      }
      if (isatty(1)) fputc('\n', stdout);  /* after the terminal's ^C */
      cli_console_send(r->fd, CLI_FRAME_INTERRUPT, "", 0);
    }
    if (fds[0].revents == 0) continue;
    answer = take_input(r);
    if (answer == CLI_FRAME_BYE) return -1;
    if (answer == CLI_FRAME_DONE) return 1;
    if (answer == CLI_FRAME_MORE) return 0;
  }
}

/* The socket became readable at the prompt: the node closing, mostly. */
static int remote_event(void *ud) {
  remsh *r = ud;
  return take_input(r) == CLI_FRAME_BYE;
}

static void remote_interrupt(void *ud) {
  remsh *r = ud;
  cli_console_send(r->fd, CLI_FRAME_INTERRUPT, "", 0);
}

/* Waits for the node's hello (or its refusal). */
static int greeted(remsh *r) {
  for (;;) {
    int type, got;
    char *text;
    size_t len;
    while ((got = cli_frames_next(&r->in, &type, &text, &len)) == 0) {
      if (!cli_frames_fill(&r->in, r->fd)) {
        say("%s", "the console's connection closed");
        return 0;
      }
    }
    if (got < 0) {
      say("%s", "the node sent what is not the console's protocol");
      return 0;
    }
    take_frame(r, type, text, len);
    free(text);
    if (type == CLI_FRAME_HELLO) return 1;
    if (r->ended) return 0;
  }
}

int cli_remsh(const char *path, const char *secret_file) {
  remsh r;
  char *secret = NULL;
  size_t secret_len = 0;
  char err[512];
  int status = 0;
  cli_shell_remote remote;
  sigset_t set;
  memset(&r, 0, sizeof r);
  if (secret_file != NULL) {
    secret = cli_console_read_secret(secret_file, &secret_len, err, sizeof err);
    if (secret == NULL) {
      say("%s", err);
      return 1;
    }
  }
  r.fd = connect_to(path);
  if (r.fd < 0) {
    free(secret);
    return 1;
  }
  if (!cli_console_send(r.fd, CLI_FRAME_SECRET, secret != NULL ? secret : "", secret_len) ||
      !greeted(&r)) {
    free(secret);
    close(r.fd);
    cli_frames_free(&r.in);
    return 1;
  }
  free(secret);
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  if (!cli_signal_start(NULL, 0, CLI_SIGNAL_SHELL)) {
    say("%s", "cannot watch for signals");
    status = 1;
  } else {
    remote.fd = r.fd;
    remote.feed = remote_feed;
    remote.event = remote_event;
    remote.interrupt = remote_interrupt;
    remote.ud = &r;
    int sig = cli_shell_attached(&remote);
    if (sig == 0) sig = r.signal;
    if (sig != 0)
      say("%s: detaching; the node runs on",
          sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "SIGINT");
    cli_signal_stop();
  }
  close(r.fd);
  cli_frames_free(&r.in);
  return status;
}
