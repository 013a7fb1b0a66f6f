/*
** dist_net.c — the node's stand-in for Erlang's net_kernel: the one call a
** C node must answer is net_adm:ping's, {'$gen_call', {From, Tag},
** {is_auth, Node}}, with {Tag, yes}; the tag (a ref, or [alias | Ref]) goes
** back unchanged. What else is sent to net_kernel is dropped.
*/
#include <string.h>
#include <sys/socket.h>

#include "dist_net.h"

#define WRITE_MS 3000

int dist_net_kernel(dconn *c, const erlang_msg *msg, const ei_x_buff *x) {
  char atom[MAXATOMLEN];
  erlang_pid from;
  ei_x_buff r;
  int i = 0, version, arity, tag, tag_end;
  if (strcmp(msg->toname, "net_kernel") != 0) return 0;
  /* {'$gen_call', {From, Tag}, {is_auth, Node}} -> From ! {Tag, yes} */
  if (ei_decode_version(x->buff, &i, &version) != 0 ||
      ei_decode_tuple_header(x->buff, &i, &arity) != 0 || arity != 3 ||
      ei_decode_atom(x->buff, &i, atom) != 0 || strcmp(atom, "$gen_call") != 0 ||
      ei_decode_tuple_header(x->buff, &i, &arity) != 0 || arity != 2 ||
      ei_decode_pid(x->buff, &i, &from) != 0)
    return 1;
  tag = i;
  if (ei_skip_term(x->buff, &i) != 0) return 1;
  tag_end = i;
  if (ei_decode_tuple_header(x->buff, &i, &arity) != 0 || arity != 2 ||
      ei_decode_atom(x->buff, &i, atom) != 0 || strcmp(atom, "is_auth") != 0)
    return 1;   /* the only call of net_kernel a C node answers */
  if (ei_x_new_with_version(&r) != 0) return 1;
  if (ei_x_encode_tuple_header(&r, 2) == 0 && ei_x_append_buf(&r, x->buff + tag, tag_end - tag) == 0 &&
      ei_x_encode_atom(&r, "yes") == 0) {
    pthread_mutex_lock(&c->io);
    if (!atomic_load(&c->dead) && ei_send_tmo(c->fd, &from, r.buff, r.index, WRITE_MS) < 0) {
      atomic_store(&c->dead, 1);
      shutdown(c->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&c->io);
  }
  ei_x_free(&r);
  return 1;
}
