/*
** einsert.c — putting objects in: insert and insert_new, of one object or
** a list.
**
** One object into a set or ordered_set that keeps nothing on disk is put in
** under its key's lock alone, and overwrites an object of the same size in
** place. Everything else is built first: every object is validated and
** made before any lock is taken, then every stripe the list touches (or
** every base of an ordered_set) is locked and given room, so that the list
** goes in whole or, for an ordered_set out of memory, says plainly how much
** did. Either way anything that can fail fails before the table changes.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etab.h"
#include "etab_impl.h"
#include "edurable.h"
#include "term.h"

/* The stripes (as a bit set) that a list of objects touches. */
static uint64_t stripes_of(eobj **objs, size_t n) {
  uint64_t set = 0;
  for (size_t i = 0; i < n; i++) set |= (uint64_t)1 << htab_stripe_of(objs[i]->hash);
  return set;
}

/* An ordered_set locks the one key's base, or every base for a list. */
static void lock_stripes(etab *t, uint64_t set, keyref *one) {
  if (etab_is_ordered(t)) {
    if (one != NULL) etab_lock_key(t, one, 1);
    else etab_lock_all(t);
    return;
  }
  /* in ascending order, as every multi-stripe lock: no two writers can
  ** each hold a stripe the other waits for */
  for (; set != 0; set &= set - 1) htab_lock(&t->store.h, (unsigned)__builtin_ctzll(set), 1);
}

static void unlock_stripes(etab *t, uint64_t set, const keyref *one) {
  if (etab_is_ordered(t)) {
    if (one != NULL) etab_unlock_key(t, one);
    else etab_unlock_all(t);
    return;
  }
  while (set != 0) {   /* the highest first, the reverse of locking */
    unsigned s = 63 - (unsigned)__builtin_clzll(set);
    htab_unlock(&t->store.h, s);
    set &= ~((uint64_t)1 << s);
  }
}

/* Builds table objects from terms; on failure frees what it built. */
static hl_status build_objects(etab *t, const tslice *objs, size_t n, eobj **out,
                               hl_err *e) {
  for (size_t i = 0; i < n; i++) {
    size_t koff, klen;
    if (etab_object_key(t, objs[i], &koff, &klen, e) != HL_OK ||
        (out[i] = etab_obj_new(t, objs[i].p, objs[i].len, koff, klen,
                               etab_key_hash(t, objs[i].p + koff, klen))) == NULL) {
      if (e->code == HL_OK) err_set(e, HL_ENOMEM, "out of memory");
      else if (n > 1 && strncmp(e->msg, "object ", 7) == 0) {
        char rest[sizeof e->msg];
        snprintf(rest, sizeof rest, "%s", e->msg + 7);
        err_set(e, e->code, "objects[%zu] %s", i + 1, rest);   /* name which one */
      }
      while (i-- > 0) etab_obj_free(t, out[i]);
      return e->code;
    }
  }
  return HL_OK;
}

/* Puts one object in under the lock (room reserved); frees it if the
** table keeps another. 0 when there was no memory (o is then not linked,
** and nothing changed). */
static int put_object(etab *t, eobj *o) {
  size_t at;
  eobj *old = etab_find(t, o->hash, eobj_key(o), o->klen, &at);
  if (old == NULL) return etab_link_new(t, at, o);
  if (!etab_is_bag(t)) {
    etab_replace(t, at, old, o);
    return 1;
  }
  for (;;) {
    if (t->type == HL_BAG && old->len == o->len && memcmp(old->data, o->data, o->len) == 0) {
      etab_obj_free(t, o);   /* a bag holds an object once */
      return 1;
    }
    if ((old = etab_same_key_next(t, old, &at)) == NULL) break;
  }
  return etab_link_new(t, at + 1, o);
}

static int any_present(etab *t, eobj **objs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t at;
    if (etab_find(t, objs[i]->hash, eobj_key(objs[i]), objs[i]->klen, &at) != NULL)
      return 1;
  }
  return 0;
}

/* Room in each stripe for the whole list, before anything changes: a hash
** table's insert then cannot fail half way. */
static hl_status reserve_list(etab *t, eobj **objs, size_t n, hl_err *e) {
  size_t per[HTAB_STRIPES];
  if (n == 1 && !etab_reserve(t, objs[0]->hash, 1)) return err_set(e, HL_ENOMEM, "out of memory");
  if (n == 1 || etab_is_ordered(t)) return HL_OK;
  memset(per, 0, sizeof per);
  for (size_t i = 0; i < n; i++) per[htab_stripe_of(objs[i]->hash)]++;
  for (unsigned s = 0; s < HTAB_STRIPES; s++)
    if (per[s] > 0 && !htab_reserve(&t->store.h, s, per[s]))
      return err_set(e, HL_ENOMEM, "out of memory");
  return HL_OK;
}

/* One object into a set or ordered_set that keeps nothing on disk, all
** under the key's lock. An object of that key already there, of the same
** size and with its key at the same place, is overwritten where it lies, as
** ETS does: an insert that replaces allocates and frees nothing. */
static hl_status insert_one(etab *t, tslice obj, int only_new, int *inserted, hl_err *e) {
  size_t koff, klen, at;
  keyref k;
  eobj *old, *o;
  if (etab_object_key(t, obj, &koff, &klen, e) != HL_OK) return e->code;
  k = (keyref){obj.p + koff, klen, etab_key_hash(t, obj.p + koff, klen), NULL, 0};
  if (etab_lock_open(t, &k, 1, e) != HL_OK) return e->code;
  if (!etab_reserve(t, k.hash, 1)) {
    err_set(e, HL_ENOMEM, "out of memory");
  } else if ((old = etab_find(t, k.hash, k.p, k.len, &at)) != NULL && only_new) {
    /* insert_new leaves the table as it is */
  } else if (old != NULL) {
    if (etab_put_over(t, at, old, obj.p, obj.len, koff, klen)) *inserted = 1;
    else err_set(e, HL_ENOMEM, "out of memory");
  } else if ((o = etab_obj_new(t, obj.p, obj.len, koff, klen, k.hash)) == NULL) {
    err_set(e, HL_ENOMEM, "out of memory");
  } else if (etab_link_new(t, at, o)) {
    *inserted = 1;
  } else {
    etab_obj_free(t, o);
    err_set(e, HL_ENOMEM, "out of memory");
  }
  etab_unlock_key(t, &k);
  return e->code;
}

hl_status etab_insert(etab *t, uint64_t caller, const tslice *objs, size_t n,
                      int only_new, int *inserted, hl_err *e) {
  eobj *one, **list;
  uint64_t stripes;
  keyref key1, *k1 = NULL;
  edur_txn tx;
  *inserted = 0;
  if (etab_check_write(t, caller, e) != HL_OK) return e->code;
  if (n == 1 && !etab_is_bag(t) && t->disk == NULL)
    return insert_one(t, objs[0], only_new, inserted, e);
  list = n <= 1 ? &one : malloc(n * sizeof *list);
  if (list == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  if (build_objects(t, objs, n, list, e) != HL_OK) goto done;
  stripes = stripes_of(list, n);
  if (n == 1) {
    key1 = (keyref){eobj_key(list[0]), list[0]->klen, list[0]->hash, NULL, 0};
    k1 = &key1;
  }
  lock_stripes(t, stripes, k1);
  if (etab_check_open(t, e) != HL_OK || (only_new && any_present(t, list, n)) ||
      reserve_list(t, list, n, e) != HL_OK) {
    unlock_stripes(t, stripes, k1);
    for (size_t i = 0; i < n; i++) etab_obj_free(t, list[i]);
    goto done;
  }
  if (t->disk != NULL) {      /* the keys, before put_object may free an object */
    edur_begin(&tx, t);
    for (size_t i = 0; i < n; i++)
      edur_touch(&tx, eobj_key(list[i]), list[i]->klen, list[i]->hash);
  }
  for (size_t i = 0; i < n; i++)
    if (!put_object(t, list[i])) {
      /* Only an ordered_set's new node can fail, and only the rest of a
      ** list is then left out: said plainly in the message. */
      for (size_t j = i; j < n; j++) etab_obj_free(t, list[j]);
      err_set(e, HL_ENOMEM, "out of memory after %zu of %zu objects", i, n);
      break;
    }
  if (t->disk != NULL) edur_seal(&tx);
  unlock_stripes(t, stripes, k1);
  if (t->disk != NULL) edur_write(&tx, e);
  *inserted = e->code == HL_OK;
done:
  if (list != &one) free(list);
  return e->code;
}
