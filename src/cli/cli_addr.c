/*
** cli_addr.c — a console's network address (see cli_addr.h).
**
** Only numeric hosts (and "localhost") are taken: a name would need a
** resolver, which may block for as long as the network likes, and a
** console's address is the operator's choice, not something to look up.
** An empty host is 127.0.0.1, so that "tcp::PORT" never listens beyond
** the machine by accident.
*/
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli_addr.h"

#define PREFIX "tcp:"

int cli_addr_is_tcp(const char *spec) {
  return strncmp(spec, PREFIX, sizeof PREFIX - 1) == 0;
}

/* Splits "tcp:HOST:PORT" ("[v6]:PORT" too) and resolves it, numerically.
** Returns the addresses (freeaddrinfo them) or NULL with a message. */
static struct addrinfo *resolve(const char *spec, int passive, char *err, size_t errsize) {
  const char *rest = spec + sizeof PREFIX - 1, *colon = strrchr(rest, ':'), *hp = rest;
  char host[256], *end;
  size_t hlen;
  long port;
  struct addrinfo hints, *list = NULL;
  int rc;
  if (colon == NULL || colon[1] == '\0') {
    snprintf(err, errsize, "%s: expected tcp:HOST:PORT (tcp::PORT for 127.0.0.1)", spec);
    return NULL;
  }
  errno = 0;
  port = strtol(colon + 1, &end, 10);
  if (*end != '\0' || errno != 0 || port < 0 || port > 65535 || colon[1] == '-' || colon[1] == '+') {
    snprintf(err, errsize, "%s: the port must be a number from 0 to 65535", spec);
    return NULL;
  }
  hlen = (size_t)(colon - rest);
  if (hlen >= 2 && rest[0] == '[' && rest[hlen - 1] == ']') {
    hp = rest + 1;
    hlen -= 2;
  }
  if (hlen >= sizeof host) {
    snprintf(err, errsize, "%s: the host is too long", spec);
    return NULL;
  }
  memcpy(host, hp, hlen);
  host[hlen] = '\0';
  if (hlen == 0 || strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  char portstr[8];
  snprintf(portstr, sizeof portstr, "%ld", port);
  rc = getaddrinfo(host, portstr, &hints, &list);
  if (rc != 0 || list == NULL) {
    snprintf(err, errsize, "%s: the host must be a numeric address such as 127.0.0.1 or ::1, "
             "or localhost", spec);
    return NULL;
  }
  return list;
}

int cli_addr_listen(const char *spec, char *bound, size_t boundsize, char *err, size_t errsize) {
  struct addrinfo *list = resolve(spec, 1, err, errsize);
  struct sockaddr_storage at;
  socklen_t atlen = sizeof at;
  char host[NI_MAXHOST], port[NI_MAXSERV];
  int fd, one = 1;
  if (list == NULL) return -1;
  fd = socket(list->ai_family, list->ai_socktype | SOCK_CLOEXEC, list->ai_protocol);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, list->ai_addr, list->ai_addrlen) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&at, &atlen) != 0 ||
      getnameinfo((struct sockaddr *)&at, atlen, host, sizeof host, port, sizeof port,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    snprintf(err, errsize, "%s: %s", spec, strerror(errno));
    if (fd >= 0) close(fd);
    freeaddrinfo(list);
    return -1;
  }
  freeaddrinfo(list);
  if (strchr(host, ':') != NULL) snprintf(bound, boundsize, PREFIX "[%s]:%s", host, port);
  else snprintf(bound, boundsize, PREFIX "%s:%s", host, port);
  return fd;
}

int cli_addr_connect(const char *spec, char *err, size_t errsize) {
  struct addrinfo *list = resolve(spec, 0, err, errsize);
  int fd;
  if (list == NULL) return -1;
  fd = socket(list->ai_family, list->ai_socktype | SOCK_CLOEXEC, list->ai_protocol);
  if (fd < 0 || connect(fd, list->ai_addr, list->ai_addrlen) != 0) {
    snprintf(err, errsize, "%s: no console there: %s", spec, strerror(errno));
    if (fd >= 0) close(fd);
    fd = -1;
  }
  freeaddrinfo(list);
  return fd;
}
