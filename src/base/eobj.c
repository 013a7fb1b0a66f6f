/*
** eobj.c — key hashing and element lookup for stored objects.
*/
#include <string.h>

#include "eobj.h"
#include "term.h"

static uint64_t mix(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  return x;
}

/* The table's bucket index and lock stripe come from the top bits, so every
** input bit must reach them: each word is folded in with one multiply,
** and the sum is mixed once at the end. */
uint64_t eobj_hash(const unsigned char *key, size_t klen) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (klen * 0xff51afd7ed558ccdull);
  size_t i = 0;
  for (; i + 8 <= klen; i += 8) {
    uint64_t w;
    memcpy(&w, key + i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  if (i < klen) {   /* byte by byte: a memcpy of a variable length is a call */
    uint64_t w = 0;
    for (size_t j = 0; i + j < klen; j++) w |= (uint64_t)key[i + j] << (8 * j);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  return mix(h);
}

int eobj_elem(const unsigned char *obj, size_t len, const ekeypos *pos,
              const unsigned char **elem, size_t *elen) {
  if (pos->field != NULL)
    return term_map_get(obj, len, pos->field, pos->fieldlen, elem, elen);
  if (pos->index == 0) return 0;
  return term_array_elem(obj, len, pos->index - 1, elem, elen);
}

int eobj_elem_of(const eobj *o, uint32_t keyindex, const ekeypos *pos,
                 const unsigned char **elem, size_t *elen) {
  if (pos->field != NULL || keyindex == 0 || pos->index <= keyindex)
    return eobj_elem(o->data, o->len, pos, elem, elen);
  /* an array's elements end where the object does: past them is past it */
  return term_nth_after(o->data, o->len, (size_t)o->koff + o->klen, pos->index - keyindex - 1,
                        elem, elen);
}
