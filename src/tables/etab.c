/*
** etab.c — ETS tables: creation, access rules, and the single-key object
** operations. Inserts are in einsert.c, counters and element updates in
** eupdate.c, traversal and match-spec scans in escan.c. The owner and heir
** are only recorded here: the rule that changes them is owner.c's, and
** this file neither reads nor locks a process.
**
** Writes follow one pattern: validate first, then take the lock, apply,
** release. Anything that can fail fails before the table is touched, so
** nothing is ever half applied.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etab.h"
#include "etab_impl.h"
#include "edurable.h"
#include "term.h"

/* ---- names ---- */

const char *etab_type_name(hl_table_type type) {
  switch (type) {
    case HL_SET: return "set";
    case HL_ORDERED_SET: return "ordered_set";
    case HL_BAG: return "bag";
    case HL_DUPLICATE_BAG: return "duplicate_bag";
  }
  return "?";
}

const char *etab_access_name(hl_access access) {
  switch (access) {
    case HL_PUBLIC: return "public";
    case HL_PROTECTED: return "protected";
    case HL_PRIVATE: return "private";
  }
  return "?";
}

int etab_is_ordered(const etab *t) {
  return t->type == HL_ORDERED_SET;
}

int etab_is_bag(const etab *t) {
  return t->type == HL_BAG || t->type == HL_DUPLICATE_BAG;
}

uint32_t etab_key_index(const etab *t) {
  return t->keypos.field == NULL ? t->keypos.index : 0;
}

/* ---- life ---- */

static int copy_slice(buf *b, tslice s) {
  buf_reset(b);
  if (s.p != NULL) buf_put(b, s.p, s.len);
  return buf_ok(b);
}

etab *etab_new(treg *r, const char *name, const etab_opts *opts,
               uint64_t owner, hl_err *e) {
  etab *t = aligned_alloc(_Alignof(etab), sizeof *t);   /* the stripes' cache lines */
  unsigned char *field = NULL;
  int stored;
  if (t == NULL) goto oom;
  memset(t, 0, sizeof *t);
  t->name = strdup(name);
  if (opts->keypos.field != NULL) {
    field = malloc(opts->keypos.fieldlen);
    if (field != NULL) memcpy(field, opts->keypos.field, opts->keypos.fieldlen);
  }
  buf_init(&t->heir);
  buf_init(&t->heir_data);
  if (t->name == NULL || (opts->keypos.field != NULL && field == NULL) ||
      !copy_slice(&t->heir, opts->heir) || !copy_slice(&t->heir_data, opts->heir_data))
    goto oom;
  eheap_init(&t->objs, &r->spares);
  stored = opts->type == HL_ORDERED_SET ? ocat_init(&t->store.o, &t->objs)
                                        : htab_init(&t->store.h, &t->objs);
  if (!stored) goto oom;
  atomic_init(&t->refs, 1);
  atomic_init(&t->dropped, 0);
  atomic_init(&t->owner, owner);
  for (int i = 0; i < ETAB_TALLIES; i++) atomic_init(&t->tally[i].bytes, 0);
  pthread_mutex_init(&t->meta, NULL);
  t->type = opts->type;
  t->access = opts->access;
  t->named = opts->named;
  t->keypos = opts->keypos;
  t->keypos.field = field;
  t->custody = opts->custody;
  t->reg = r;
  r->hold(r->host);
  t->id = treg_new_id(r);
  if (treg_add(r, t, e) != HL_OK) {
    etab_unref(t);
    return NULL;
  }
  if (opts->durable && edur_attach(t, opts->sync, e) != HL_OK) {
    etab_close(t);
    treg_remove(r, t);
    etab_unref(t);
    return NULL;
  }
  return t;
oom:
  if (t != NULL) {
    free(t->name);
    buf_free(&t->heir);
    buf_free(&t->heir_data);
    free(t);
  }
  free(field);
  err_set(e, HL_ENOMEM, "out of memory");
  return NULL;
}

void etab_ref(etab *t) {
  atomic_fetch_add(&t->refs, 1);
}

void etab_unref(etab *t) {
  if (atomic_fetch_sub(&t->refs, 1) != 1) return;
  if (etab_is_ordered(t)) ocat_destroy(&t->store.o);
  else htab_destroy(&t->store.h);
  eheap_destroy(&t->objs);
  pthread_mutex_destroy(&t->meta);
  edur_detach(t);
  free((void *)t->keypos.field);
  free(t->name);
  buf_free(&t->heir);
  buf_free(&t->heir_data);
  t->reg->release(t->reg->host);
  free(t);
}

/* ---- locking ---- */

void etab_lock_key(etab *t, keyref *k, int write) {
  if (etab_is_ordered(t)) {
    k->base = ocat_lock_key(&t->store.o, k->p, k->len, write);
    k->write = write;
  } else {
    htab_lock(&t->store.h, htab_stripe_of(k->hash), write);
  }
}

void etab_unlock_key(etab *t, const keyref *k) {
  if (etab_is_ordered(t)) ocat_unlock_key(&t->store.o, k->base, k->write);
  else htab_unlock(&t->store.h, htab_stripe_of(k->hash));
}

void etab_lock_all(etab *t) {
  if (etab_is_ordered(t)) ocat_lock_all(&t->store.o, 1);
  else htab_lock_all(&t->store.h, 1);
}

void etab_unlock_all(etab *t) {
  if (etab_is_ordered(t)) ocat_unlock_all(&t->store.o);
  else htab_unlock_all(&t->store.h);
}

/* ---- checks ---- */

hl_status etab_check_open(etab *t, hl_err *e) {
  if (atomic_load(&t->dropped))
    return err_set(e, HL_ECLOSED, "table %" PRIu64 " has been dropped", t->id);
  return HL_OK;
}

hl_status etab_check_read(etab *t, uint64_t caller, hl_err *e) {
  if (etab_check_open(t, e) != HL_OK) return e->code;
  if (t->access == HL_PRIVATE && caller != atomic_load(&t->owner))
    return err_set(e, HL_EACCESS, "table is private: only its owner may read it");
  return HL_OK;
}

hl_status etab_check_write(etab *t, uint64_t caller, hl_err *e) {
  if (etab_check_open(t, e) != HL_OK) return e->code;
  if (t->access != HL_PUBLIC && caller != atomic_load(&t->owner))
    return err_set(e, HL_EACCESS, "table is %s: only its owner may write to it",
                   etab_access_name(t->access));
  return HL_OK;
}

hl_status etab_check_key(tslice key, const char *what, hl_err *e) {
  if (key.len == 0 || key.p[0] == TERM_NIL)
    return err_set(e, HL_EBADARG, "%s must not be nil", what);
  if (key.p[0] == TERM_NUMBER && term_is_nan(key.p, key.len))
    return err_set(e, HL_EBADARG, "%s must not be NaN", what);
  return HL_OK;
}

static void describe_field(const ekeypos *pos, char *out, size_t n) {
  buf name;
  buf_init(&name);
  if (term_get_string(pos->field, pos->fieldlen, &name) && buf_ok(&name))
    snprintf(out, n, "'%.*s'", (int)(name.n > 60 ? 60 : name.n), (const char *)name.p);
  else
    snprintf(out, n, "(a non-string field)");
  buf_free(&name);
}

/* Finds an object's key: *koff and *klen. */
hl_status etab_object_key(const etab *t, tslice obj, size_t *koff, size_t *klen,
                          hl_err *e) {
  const unsigned char *key;
  int tag;
  uint32_t count;
  if (t->keypos.field != NULL) {
    char field[80];
    if (obj.len == 0 || obj.p[0] != TERM_MAP)
      return err_set(e, HL_EBADARG, "object must be a map (keypos is a field name)");
    if (!eobj_elem(obj.p, obj.len, &t->keypos, &key, klen)) {
      describe_field(&t->keypos, field, sizeof field);
      return err_set(e, HL_EBADARG, "object has no key field %s", field);
    }
  } else if (!eobj_elem(obj.p, obj.len, &t->keypos, &key, klen)) {
    /* the usual object has its key, found in one pass; this one is told why not */
    if (term_get_header(obj.p, obj.len, &tag, &count) == 0 || tag != TERM_ARRAY)
      return err_set(e, HL_EBADARG, "object must be an array (keypos is %" PRIu32 ")",
                     t->keypos.index);
    if (count < t->keypos.index)
      return err_set(e, HL_EBADARG,
                     "object has %" PRIu32 " element%s but keypos is %" PRIu32, count,
                     count == 1 ? "" : "s", t->keypos.index);
    return err_set(e, HL_EFORMAT, "object is not a well-formed term");
  }
  *koff = (size_t)(key - obj.p);
  return etab_check_key((tslice){key, *klen}, "key", e);
}

/* ---- objects ---- */

/* An ordered_set finds by key alone: its keyrefs carry hash 0, and so do
** its objects. */
uint64_t etab_key_hash(const etab *t, const unsigned char *key, size_t klen) {
  return etab_is_ordered(t) ? 0 : eobj_hash(key, klen);
}

eobj *etab_obj_new(etab *t, const unsigned char *bytes, size_t len,
                   size_t koff, size_t klen, uint64_t hash) {
  eobj *o;
  if (len > UINT32_MAX) return NULL;
  o = eheap_alloc(&t->objs, len);
  if (o == NULL) return NULL;
  o->len = (uint32_t)len;
  o->koff = (uint32_t)koff;
  o->klen = (uint32_t)klen;
  memcpy(o->data, bytes, len);
  o->hash = hash;
  return o;
}

static size_t obj_bytes(const eobj *o) {
  return sizeof(eobj) + o->len;
}

void etab_obj_free(etab *t, eobj *o) {
  eheap_free(&t->objs, o);
}

/* Makes room for n more objects under hash's stripe before a hash table's
** etab_link_new, which then cannot fail (positions found before are
** stale). 0 when there is no memory: then nothing changed. An ordered_set
** allocates in ocat_insert instead. */
int etab_reserve(etab *t, uint64_t hash, size_t n) {
  return etab_is_ordered(t) || htab_reserve(&t->store.h, htab_stripe_of(hash), n);
}

/* Links an object that is new to the table, at slot at (a hash table:
** room reserved), and counts its memory. 0 when an ordered_set has no
** memory for a new node: then nothing changed. */
int etab_link_new(etab *t, size_t at, eobj *o) {
  if (etab_is_ordered(t)) {
    if (!ocat_insert(&t->store.o, o)) return 0;
  } else {
    htab_link(&t->store.h, at, o);
  }
  etab_count_bytes(t, obj_bytes(o), 0);
  return 1;
}

/* Links o after any objects with its key, making room first. 0 when there
** is no memory: then nothing changed. */
int etab_add(etab *t, eobj *o) {
  size_t at = 0;
  eobj *last;
  if (!etab_reserve(t, o->hash, 1)) return 0;
  last = etab_find(t, o->hash, eobj_key(o), o->klen, &at);
  if (last != NULL) {
    for (eobj *next; (next = etab_same_key_next(t, last, &at)) != NULL;) last = next;
    at++;
  }
  return etab_link_new(t, at, o);
}

/* Puts o in the place of old (same key, at slot at) and frees old; never
** allocates. */
void etab_replace(etab *t, size_t at, eobj *old, eobj *o) {
  if (etab_is_ordered(t)) ocat_replace(&t->store.o, o);
  else htab_replace(&t->store.h, at, o);
  etab_count_bytes(t, obj_bytes(o), obj_bytes(old));
  etab_obj_free(t, old);
}

/* Puts the object of len bytes at p (its key at koff, klen bytes) in the
** place of old, which has the same key (at slot at): written over old
** where it lies when that has the same size and key place, else made anew
** and swapped in. 0 when out of memory: then nothing changed. */
int etab_put_over(etab *t, size_t at, eobj *old, const unsigned char *p, size_t len,
                  size_t koff, size_t klen) {
  eobj *o;
  if (old->len == len && old->koff == koff) {
    memmove(old->data, p, len);   /* the key, and so the hash, are the same */
    return 1;
  }
  if ((o = etab_obj_new(t, p, len, koff, klen, old->hash)) == NULL) return 0;
  etab_replace(t, at, old, o);
  return 1;
}

/* Removes an object (at slot at, for a hash table) and frees it. The next
** object of its key, if any, is then at slot at. */
void etab_unlink_free(etab *t, size_t at, eobj *o) {
  if (etab_is_ordered(t)) ocat_remove(&t->store.o, eobj_key(o), o->klen);
  else htab_unlink(&t->store.h, o->hash, at);
  etab_count_bytes(t, 0, obj_bytes(o));
  etab_obj_free(t, o);
}

/* The first object under key, and for a hash table its slot (or where the
** first would go), valid while the lock is held and nothing changes. */
eobj *etab_find(etab *t, uint64_t hash, const unsigned char *key, size_t klen,
                size_t *at) {
  if (etab_is_ordered(t)) {
    *at = 0;
    return ocat_find(&t->store.o, key, klen);
  }
  return htab_find(&t->store.h, hash, key, klen, at);
}

/* The object at slot at when it has key k (bags), or NULL. */
eobj *etab_key_at(etab *t, const keyref *k, size_t at) {
  eobj *o;
  if (!etab_is_bag(t)) return NULL;   /* one per key */
  o = htab_at(&t->store.h, k->hash, at);
  return o != NULL && eobj_has_key(o, k->hash, k->p, k->len) ? o : NULL;
}

/* The next object with the same key as o, in slot *at (bags), or NULL;
** *at moves to it. */
eobj *etab_same_key_next(etab *t, const eobj *o, size_t *at) {
  keyref k = {eobj_key(o), o->klen, o->hash, NULL, 0};
  eobj *next;
  if (!etab_is_bag(t)) return NULL;
  if ((next = etab_key_at(t, &k, *at + 1)) != NULL) (*at)++;
  return next;
}

/* ---- reads ---- */

hl_status etab_prep_key(etab *t, tslice key, keyref *k, hl_err *e) {
  if (etab_check_key(key, "key", e) != HL_OK) return e->code;
  k->p = key.p;
  k->len = key.len;
  k->hash = etab_key_hash(t, key.p, key.len);
  return HL_OK;
}

/* Takes the key's lock and checks the table is still there. */
hl_status etab_lock_open(etab *t, keyref *k, int write, hl_err *e) {
  etab_lock_key(t, k, write);
  if (etab_check_open(t, e) != HL_OK) etab_unlock_key(t, k);
  return e->code;
}

hl_status etab_lookup(etab *t, uint64_t caller, tslice key, buf *out,
                      size_t *count, hl_err *e) {
  keyref k;
  size_t at;
  *count = 0;
  if (etab_check_read(t, caller, e) != HL_OK || etab_prep_key(t, key, &k, e) != HL_OK ||
      etab_lock_open(t, &k, 0, e) != HL_OK)
    return e->code;
  for (eobj *o = etab_find(t, k.hash, k.p, k.len, &at); o != NULL;
       o = etab_same_key_next(t, o, &at)) {
    buf_put(out, o->data, o->len);
    (*count)++;
  }
  etab_unlock_key(t, &k);
  if (!buf_ok(out)) return err_set(e, HL_ENOMEM, "out of memory");
  return HL_OK;
}

void etab_describe_pos(const ekeypos *pos, char *out, size_t n) {
  if (pos->field != NULL) describe_field(pos, out, n);
  else snprintf(out, n, "%" PRIu32, pos->index);
}

hl_status etab_lookup_element(etab *t, uint64_t caller, tslice key,
                              const ekeypos *pos, buf *out, size_t *count,
                              hl_err *e) {
  keyref k;
  size_t at;
  size_t start = out->n;
  *count = 0;
  if (etab_check_read(t, caller, e) != HL_OK || etab_prep_key(t, key, &k, e) != HL_OK ||
      etab_lock_open(t, &k, 0, e) != HL_OK)
    return e->code;
  for (eobj *o = etab_find(t, k.hash, k.p, k.len, &at); o != NULL;
       o = etab_same_key_next(t, o, &at)) {
    const unsigned char *elem;
    size_t elen;
    if (!eobj_elem_of(o, etab_key_index(t), pos, &elem, &elen)) {
      char what[80];
      etab_describe_pos(pos, what, sizeof what);
      err_set(e, HL_EBADARG, "position %s is past the end of the object", what);
      out->n = start;
      *count = 0;
      break;
    }
    buf_put(out, elem, elen);
    (*count)++;
  }
  etab_unlock_key(t, &k);
  if (e->code != HL_OK) return e->code;
  if (*count == 0) return err_set(e, HL_ENOTFOUND, "key not found");
  if (!buf_ok(out)) return err_set(e, HL_ENOMEM, "out of memory");
  return HL_OK;
}

hl_status etab_member(etab *t, uint64_t caller, tslice key, int *found, hl_err *e) {
  keyref k;
  size_t at;
  *found = 0;
  if (etab_check_read(t, caller, e) != HL_OK || etab_prep_key(t, key, &k, e) != HL_OK ||
      etab_lock_open(t, &k, 0, e) != HL_OK)
    return e->code;
  *found = etab_find(t, k.hash, k.p, k.len, &at) != NULL;
  etab_unlock_key(t, &k);
  return HL_OK;
}

/* ---- deletes ---- */

/* Removes every object under key, copying them to out first if out. */
static size_t remove_key(etab *t, const keyref *k, buf *out) {
  size_t at;
  eobj *o = etab_find(t, k->hash, k->p, k->len, &at);
  size_t n = 0;
  while (o != NULL) {
    if (out != NULL) buf_put(out, o->data, o->len);
    etab_unlink_free(t, at, o);
    n++;
    o = etab_key_at(t, k, at);   /* the next of the key moved into at */
  }
  return n;
}

hl_status etab_take(etab *t, uint64_t caller, tslice key, buf *out,
                    size_t *count, hl_err *e) {
  keyref k;
  edur_txn tx;
  *count = 0;
  if (etab_check_write(t, caller, e) != HL_OK || etab_prep_key(t, key, &k, e) != HL_OK)
    return e->code;
  /* Reserve first: once objects are unlinked, copying them must not fail. */
  if (etab_lock_open(t, &k, 1, e) != HL_OK) return e->code;
  {
    size_t at, need = 0;
    for (eobj *o = etab_find(t, k.hash, k.p, k.len, &at); o != NULL;
         o = etab_same_key_next(t, o, &at))
      need += o->len;
    if (!buf_reserve(out, need)) {
      etab_unlock_key(t, &k);
      return err_set(e, HL_ENOMEM, "out of memory");
    }
  }
  *count = remove_key(t, &k, out);
  if (t->disk != NULL && *count > 0) edur_seal_key(&tx, t, k.p, k.len, k.hash);
  etab_unlock_key(t, &k);
  if (t->disk != NULL && *count > 0) edur_write(&tx, e);
  return e->code;
}

hl_status etab_delete(etab *t, uint64_t caller, tslice key, hl_err *e) {
  keyref k;
  edur_txn tx;
  if (etab_check_write(t, caller, e) != HL_OK || etab_prep_key(t, key, &k, e) != HL_OK ||
      etab_lock_open(t, &k, 1, e) != HL_OK)
    return e->code;
  int logged = remove_key(t, &k, NULL) > 0 && t->disk != NULL;
  if (logged) edur_seal_key(&tx, t, k.p, k.len, k.hash);
  etab_unlock_key(t, &k);
  if (logged) edur_write(&tx, e);
  return e->code;
}

hl_status etab_delete_object(etab *t, uint64_t caller, tslice obj, hl_err *e) {
  size_t koff, klen;
  keyref k;
  size_t at;
  eobj *o;
  int removed = 0;
  edur_txn tx;
  if (etab_check_write(t, caller, e) != HL_OK ||
      etab_object_key(t, obj, &koff, &klen, e) != HL_OK ||
      etab_prep_key(t, (tslice){obj.p + koff, klen}, &k, e) != HL_OK ||
      etab_lock_open(t, &k, 1, e) != HL_OK)
    return e->code;
  o = etab_find(t, k.hash, k.p, k.len, &at);
  while (o != NULL) {
    if (o->len == obj.len && memcmp(o->data, obj.p, obj.len) == 0) {
      etab_unlink_free(t, at, o);
      removed = 1;
      o = etab_key_at(t, &k, at);   /* the next of the key moved into at */
    } else {
      o = etab_same_key_next(t, o, &at);
    }
  }
  removed = removed && t->disk != NULL;
  if (removed) edur_seal_key(&tx, t, k.p, k.len, k.hash);
  etab_unlock_key(t, &k);
  if (removed) edur_write(&tx, e);
  return e->code;
}

static void clear_locked(etab *t) {
  if (etab_is_ordered(t)) ocat_clear(&t->store.o);
  else htab_clear(&t->store.h);
  for (int i = 0; i < ETAB_TALLIES; i++) atomic_store(&t->tally[i].bytes, 0);
}

hl_status etab_delete_all(etab *t, uint64_t caller, hl_err *e) {
  if (etab_check_write(t, caller, e) != HL_OK) return e->code;
  edur_txn tx;
  etab_lock_all(t);
  if (etab_check_open(t, e) == HL_OK) {
    if (t->disk != NULL) {         /* every key, then their state: gone */
      edur_begin(&tx, t);
      edur_touch_all(&tx);
    }
    clear_locked(t);
    if (t->disk != NULL) edur_seal(&tx);
  }
  etab_unlock_all(t);
  if (e->code == HL_OK && t->disk != NULL) edur_write(&tx, e);
  return e->code;
}

void etab_close(etab *t) {
  size_t objects;
  int was_open;
  etab_lock_all(t);
  was_open = !atomic_exchange(&t->dropped, 1);
  objects = etab_size(t);
  clear_locked(t);
  etab_unlock_all(t);
  edur_quiesce(t);   /* the writes under way reach the store first */
  if (was_open) edur_closed(t, objects);
}

hl_status etab_drop(etab *t, uint64_t caller, hl_err *e) {
  if (etab_check_write(t, caller, e) != HL_OK) return e->code;
  etab_lock_all(t);
  if (etab_check_open(t, e) == HL_OK) {
    atomic_store(&t->dropped, 1);
    clear_locked(t);
  }
  etab_unlock_all(t);
  if (e->code == HL_OK) {
    edur_drop(t);
    treg_remove(t->reg, t);
  }
  return e->code;
}

/* ---- metadata ---- */

size_t etab_size(etab *t) {
  return etab_is_ordered(t) ? ocat_count(&t->store.o)
                            : htab_count(&t->store.h);
}

size_t etab_memory(etab *t) {
  size_t bytes = etab_is_ordered(t) ? ocat_memory(&t->store.o) : atomic_load(&t->store.h.bytes);
  for (int i = 0; i < ETAB_TALLIES; i++)
    bytes += atomic_load_explicit(&t->tally[i].bytes, memory_order_relaxed);
  return bytes;
}

/* Each thread takes one tally for good, round robin: threads past the
** ETAB_TALLIES-th share, which stays correct (the adds are atomic). */
static atomic_uint tally_turn;
static _Thread_local unsigned my_tally = ETAB_TALLIES;

void etab_count_bytes(etab *t, size_t add, size_t sub) {
  if (my_tally == ETAB_TALLIES) my_tally = atomic_fetch_add(&tally_turn, 1) % ETAB_TALLIES;
  atomic_fetch_add_explicit(&t->tally[my_tally].bytes, add - sub, memory_order_relaxed);
}

uint64_t etab_owner(etab *t) {
  return atomic_load(&t->owner);
}

void etab_meta(etab *t, buf *name, buf *heir, buf *heir_data) {
  pthread_mutex_lock(&t->meta);
  if (name != NULL) buf_put(name, t->name, strlen(t->name) + 1);
  if (heir != NULL) buf_put(heir, t->heir.p, t->heir.n);
  if (heir_data != NULL) buf_put(heir_data, t->heir_data.p, t->heir_data.n);
  pthread_mutex_unlock(&t->meta);
}

hl_status etab_rename(etab *t, uint64_t caller, const char *name, hl_err *e) {
  if (etab_check_write(t, caller, e) != HL_OK ||
      treg_rename(t->reg, t, name, e) != HL_OK)
    return e->code;
  return edur_meta(t, e);
}

hl_status etab_check_owner(etab *t, uint64_t caller, const char *what, hl_err *e) {
  if (etab_check_open(t, e) != HL_OK) return e->code;
  if (caller != atomic_load(&t->owner))
    return err_set(e, HL_EACCESS, "only the table's owner may %s", what);
  return HL_OK;
}

void etab_set_owner(etab *t, uint64_t pid) {
  atomic_store(&t->owner, pid);
}

int etab_set_owner_if(etab *t, uint64_t expected, uint64_t pid, uint64_t *found) {
  *found = expected;
  return atomic_compare_exchange_strong(&t->owner, found, pid);
}

hl_status etab_put_heir(etab *t, tslice heir, tslice heir_data, hl_err *e) {
  buf h, d;
  buf_init(&h);
  buf_init(&d);
  if (!copy_slice(&h, heir) || !copy_slice(&d, heir.p == NULL ? (tslice){NULL, 0} : heir_data)) {
    buf_free(&h);
    buf_free(&d);
    return err_set(e, HL_ENOMEM, "out of memory");
  }
  pthread_mutex_lock(&t->meta);
  buf_free(&t->heir);
  buf_free(&t->heir_data);
  t->heir = h;
  t->heir_data = d;
  pthread_mutex_unlock(&t->meta);
  return edur_meta(t, e);
}

void etab_clear_heir(etab *t) {
  pthread_mutex_lock(&t->meta);
  buf_free(&t->heir);
  buf_free(&t->heir_data);
  buf_init(&t->heir);
  buf_init(&t->heir_data);
  pthread_mutex_unlock(&t->meta);
}

size_t etab_owned_by(treg *r, uint64_t pid, etab ***out) {
  size_t count = treg_list(r, out), kept = 0;
  for (size_t i = 0; i < count; i++) {
    if (etab_owner((*out)[i]) == pid) (*out)[kept++] = (*out)[i];
    else etab_unref((*out)[i]);
  }
  return kept;
}

void etab_drop_orphan(etab *t) {
  etab_close(t);
  edur_owner_gone(t);   /* gone, unless the whole node is stopping */
  treg_remove(t->reg, t);
}
