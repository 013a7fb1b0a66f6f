/*
** dist_tags.h — the reply tags of gen_server calls from other nodes that
** have no heirloom form. OTP 24 and later tag a call with the improper
** list [alias | Ref], which no heirloom term can hold; the caller waits
** for {Tag, Reply} with that very tag. When such a call arrives, its tag's
** bytes are held here under a fresh reference of this node, which stands
** for it in the heirloom message; when that reference goes out again (the
** reply), the held bytes go in its place, so the tag returns unchanged.
**
** At most DIST_TAGS_MAX tags are held, the oldest forgotten first; a tag
** is kept after its reply (a server may reply late), until it is
** forgotten. A forgotten one goes out as the plain reference. Safe from
** any thread.
*/
#ifndef HL_DIST_TAGS_H
#define HL_DIST_TAGS_H

#include <ei.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"

#define DIST_TAGS_MAX 1024      /* tags held at once */
#define DIST_TAG_BYTES 128      /* the longest tag held: [alias | Ref] takes about 40 */

typedef struct dist_tags dist_tags;

dist_tags *dist_tags_new(node *n);    /* NULL when out of memory */
void dist_tags_free(dist_tags *t);

/* Holds the external term bytes[0..len) (no version byte) and returns the
** reference that stands for it; 0 when it is too long to hold. */
uint64_t dist_tags_hold(dist_tags *t, const char *bytes, size_t len);

/* If ref stands for a held tag, appends the tag's bytes to x and returns 1. */
int dist_tags_put(dist_tags *t, uint64_t ref, ei_x_buff *x);

#endif
