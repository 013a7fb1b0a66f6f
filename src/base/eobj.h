/*
** eobj.h — one stored object: its encoded term, where its key lies inside
** it, and the key's hash. Objects are immutable once linked into a table;
** an update builds a new one.
*/
#ifndef HL_EOBJ_H
#define HL_EOBJ_H

#include <stddef.h>
#include <stdint.h>

typedef struct eobj {
  uint64_t hash;       /* of the key bytes */
  uint32_t len;        /* bytes of the object's term */
  uint32_t koff;       /* the key: data[koff .. koff+klen) */
  uint32_t klen;
  uint32_t home;       /* where its memory lies: eheap's business */
  unsigned char data[];
} eobj;

/* Where the key is: an array position (1-based) or, for map objects, the
** encoded field name. */
typedef struct ekeypos {
  uint32_t index;
  const unsigned char *field;
  size_t fieldlen;
} ekeypos;

uint64_t eobj_hash(const unsigned char *key, size_t klen);

/* Locates the element at `pos` in an object; 1 when found. */
int eobj_elem(const unsigned char *obj, size_t len, const ekeypos *pos,
              const unsigned char **elem, size_t *elen);

/* eobj_elem on a stored object whose key is array element keyindex
** (1-based; 0 for a map object): an element past the key is found from
** the key's end, without sizing the elements before it. */
int eobj_elem_of(const eobj *o, uint32_t keyindex, const ekeypos *pos,
                 const unsigned char **elem, size_t *elen);

static inline const unsigned char *eobj_key(const eobj *o) {
  return o->data + o->koff;
}

static inline int eobj_has_key(const eobj *o, uint64_t hash,
                               const unsigned char *key, size_t klen) {
  return o->hash == hash && o->klen == klen &&
         __builtin_memcmp(o->data + o->koff, key, klen) == 0;
}

#endif
