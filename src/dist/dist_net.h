/*
** dist_net.h — the node's stand-in for Erlang's net_kernel, so that
** net_adm:ping of a heirloom node answers pong.
*/
#ifndef HL_DIST_NET_H
#define HL_DIST_NET_H

#include "dist_conn.h"

/* A message to the name net_kernel, from c's peer (its reader): answers
** the is_auth call that net_adm:ping makes with yes, and drops the rest.
** 1 if it was to net_kernel, 0 (nothing done) otherwise. */
int dist_net_kernel(dconn *c, const erlang_msg *msg, const ei_x_buff *x);

#endif
