/*
** dist_cookie.h — the default cookie of a distributed node: the one in
** ~/.erlang.cookie, the file Erlang's own nodes read, made as Erlang makes
** it when it is missing (20 random capital letters, readable by its owner
** only).
*/
#ifndef HL_DIST_COOKIE_H
#define HL_DIST_COOKIE_H

#include <stddef.h>

#include "err.h"

/* The cookie of $HOME/.erlang.cookie into out (size bytes), creating the
** file when there is none. HL_ESTORE, saying why, when there is no HOME,
** the file cannot be read or made, is readable by others than its owner
** (Erlang refuses it too) or holds no cookie. */
hl_status dist_cookie_default(char *out, size_t size, hl_err *e);

#endif
