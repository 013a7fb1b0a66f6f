/*
** dist_sock.h — the sockets ei uses for a distributed node: libei's own
** TCP ones, with one change in the handshake. ei says to its peers that it
** supports monitors (DFLAG_DIST_MONITOR) but not monitors of a registered
** name (DFLAG_DIST_MONITOR_NAME), and an Erlang node sends MONITOR_P,
** DEMONITOR_P and MONITOR_P_EXIT only to a node that says both: without
** the second flag a monitor across the connection fires only when the
** connection is lost. dist_link.c handles both kinds, so the node says
** both: the flag is added to the name or challenge message its handshakes
** send, and nothing else is touched.
*/
#ifndef HL_DIST_SOCK_H
#define HL_DIST_SOCK_H

#include <ei.h>

/* The callbacks for ei_connect_xinit_ussi (their size: sizeof). */
ei_socket_callbacks *dist_sock_callbacks(void);

#endif
