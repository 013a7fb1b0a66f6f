/*
** cli_addr.h — a console's network address, "tcp:HOST:PORT": parsed,
** listened on (by the node) and connected to (by the client). A console
** is on a Unix socket unless its address says tcp: (cli_console.c).
*/
#ifndef CLI_ADDR_H
#define CLI_ADDR_H

#include <stddef.h>

/* 1 if spec names a network address (it begins with "tcp:"). */
int cli_addr_is_tcp(const char *spec);

/* Listens on spec ("tcp:HOST:PORT"; HOST a numeric address or localhost,
** 127.0.0.1 when empty; PORT 0 lets the system choose). Returns the
** socket and the address it got in bound ("tcp:127.0.0.1:41234"), or -1
** with a message in err. */
int cli_addr_listen(const char *spec, char *bound, size_t boundsize, char *err, size_t errsize);

/* Connects to spec; the socket, or -1 with a message in err. */
int cli_addr_connect(const char *spec, char *err, size_t errsize);

#endif
