/*
** etab_impl.h — what the parts of the table layer share among themselves
** (etab.c, eupdate.c, escan.c, edurable.c); not for the rest of the engine.
*/
#ifndef HL_ETAB_IMPL_H
#define HL_ETAB_IMPL_H

#include "etab.h"

/* A validated key and its hash (0 in an ordered_set, which needs none);
** in an ordered_set, also the base etab_lock_key locked and how. */
typedef struct keyref {
  const unsigned char *p;
  size_t len;
  uint64_t hash;
  ocbase *base;
  int write;
} keyref;

hl_status etab_check_read(etab *t, uint64_t caller, hl_err *e);
hl_status etab_check_write(etab *t, uint64_t caller, hl_err *e);
hl_status etab_check_key(tslice key, const char *what, hl_err *e);
hl_status etab_object_key(const etab *t, tslice obj, size_t *koff, size_t *klen,
                          hl_err *e);
hl_status etab_prep_key(etab *t, tslice key, keyref *k, hl_err *e);
hl_status etab_lock_open(etab *t, keyref *k, int write, hl_err *e);

void etab_lock_key(etab *t, keyref *k, int write);
void etab_unlock_key(etab *t, const keyref *k);
void etab_lock_all(etab *t);
void etab_unlock_all(etab *t);

/* A key's hash as the table keeps it (0 in an ordered_set). */
uint64_t etab_key_hash(const etab *t, const unsigned char *key, size_t klen);
/* A new object of len bytes (its key at koff, klen bytes, whose
** etab_key_hash is hash), not yet in the table. */
eobj *etab_obj_new(etab *t, const unsigned char *bytes, size_t len,
                   size_t koff, size_t klen, uint64_t hash);
void etab_obj_free(etab *t, eobj *o);
/* A place in a hash table is a slot of the key's stripe (htab.h), size_t
** at; an ordered_set ignores it. */
int etab_reserve(etab *t, uint64_t hash, size_t n);
int etab_link_new(etab *t, size_t at, eobj *o);
int etab_add(etab *t, eobj *o);
void etab_replace(etab *t, size_t at, eobj *old, eobj *o);
int etab_put_over(etab *t, size_t at, eobj *old, const unsigned char *p, size_t len,
                  size_t koff, size_t klen);
void etab_unlink_free(etab *t, size_t at, eobj *o);
eobj *etab_find(etab *t, uint64_t hash, const unsigned char *key, size_t klen,
                size_t *at);
eobj *etab_same_key_next(etab *t, const eobj *o, size_t *at);
eobj *etab_key_at(etab *t, const keyref *k, size_t at);

void etab_describe_pos(const ekeypos *pos, char *out, size_t n);

#endif
