/*
** lterm.h — converting between Lua values and terms (term.h).
*/
#ifndef HL_LTERM_H
#define HL_LTERM_H

#include <lua.h>

#include "buf.h"

/* Appends the encoding of the value at idx to b. On refusal returns 0,
** leaves b as it was and writes "<root><path>: <reason>" into err, for
** example "object[2].name: cannot encode a function". Never raises. */
int lterm_encode(lua_State *L, int idx, buf *b, const char *root, char *err,
                 size_t errlen);

/* Pushes the value of the term at p; returns the term's size, or 0 (and
** pushes nothing) when the bytes are not a well-formed term. */
size_t lterm_decode(lua_State *L, const unsigned char *p, size_t len);

/* Pushes a new list of the `count` terms stored one after another at p;
** 0 (nothing pushed) if they are malformed. */
int lterm_decode_list(lua_State *L, const unsigned char *p, size_t len, size_t count);

#endif
