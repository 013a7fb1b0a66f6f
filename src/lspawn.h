/*
** lspawn.h — spawning processes from C (lspawn.c; from Lua, see lproc.h).
*/
#ifndef HL_LSPAWN_H
#define HL_LSPAWN_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* Spawns module.fn with the elements of the array term args (NULL: none)
** as its arguments; path and cpath (NULL: the defaults) are the new
** process's package.path and cpath. 1 and *pid, or 0 and a message. */
int lspawn_from_c(node *n, const char *module, const char *fn, const unsigned char *args,
                  size_t len, const char *path, const char *cpath, uint64_t *pid,
                  char *msg, size_t size);

#endif
