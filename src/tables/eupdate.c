/*
** eupdate.c — update_counter and update_element: read-modify-write of one
** object under its key's write lock. The new object is built aside and
** swapped in only when every step succeeded.
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "etab_impl.h"
#include "edurable.h"
#include "term.h"

/* out = obj with the bytes [elem, elem+elen) replaced by val. */
static void splice(const unsigned char *obj, size_t len, const unsigned char *elem,
                   size_t elen, const unsigned char *val, size_t vlen, buf *out) {
  buf_reset(out);
  buf_put(out, obj, (size_t)(elem - obj));
  buf_put(out, val, vlen);
  buf_put(out, elem + elen, len - (size_t)(elem - obj) - elen);
}

static int is_key_pos(const etab *t, const ekeypos *pos) {
  if (t->keypos.field == NULL || pos->field == NULL)
    return t->keypos.field == NULL && pos->field == NULL && pos->index == t->keypos.index;
  return pos->fieldlen == t->keypos.fieldlen &&
         memcmp(pos->field, t->keypos.field, pos->fieldlen) == 0;
}

/* ETS's counters are bignums: a sum past 64 bits is an error here, unless
** a threshold is given, which such a sum is past (above for incr >= 0,
** below for incr < 0, as the overflow's direction): then the set value. */
static int64_t apply_incr(const etab_incr *op, int64_t value, int *overflow) {
  int64_t r;
  *overflow = __builtin_add_overflow(value, op->incr, &r);
  if (!op->has_threshold) return r;
  if (*overflow || (op->incr >= 0 && r > op->threshold) || (op->incr < 0 && r < op->threshold)) {
    *overflow = 0;
    return op->setvalue;
  }
  return r;
}

/* Why pos has no element to update. */
static hl_status no_element(const etab *t, const ekeypos *pos, hl_err *e) {
  char what[80];
  etab_describe_pos(pos, what, sizeof what);
  if (is_key_pos(t, pos))
    return err_set(e, HL_EBADARG, "position %s is the key and cannot be updated", what);
  return err_set(e, HL_EBADARG, "position %s is past the end of the object", what);
}

/* Finds the element at pos in an object's bytes, refusing the key. */
static hl_status locate(const etab *t, const unsigned char *obj, size_t len,
                        const ekeypos *pos, const unsigned char **elem, size_t *elen,
                        hl_err *e) {
  if (is_key_pos(t, pos) || !eobj_elem(obj, len, pos, elem, elen)) return no_element(t, pos, e);
  return HL_OK;
}

/* The same in a stored object, whose key's place is known. */
static hl_status locate_in(const etab *t, const eobj *o, const ekeypos *pos,
                           const unsigned char **elem, size_t *elen, hl_err *e) {
  if (is_key_pos(t, pos) || !eobj_elem_of(o, etab_key_index(t), pos, elem, elen))
    return no_element(t, pos, e);
  return HL_OK;
}

/* The counter at op's position, found at elem, and its new value. */
static hl_status next_count(const etab_incr *op, const unsigned char *elem, size_t elen,
                            int64_t *result, hl_err *e) {
  term_num num;
  int overflow;
  if (!term_get_num(elem, elen, &num) || !num.isint) {
    char what[80];
    etab_describe_pos(&op->pos, what, sizeof what);
    return err_set(e, HL_EBADARG, "element at position %s is not an integer", what);
  }
  *result = apply_incr(op, num.i, &overflow);
  if (overflow) return err_set(e, HL_EBADARG, "the counter would overflow 64 bits");
  return HL_OK;
}

/* The default object with its key replaced by key (its own key is ignored,
** as in ETS), into out. */
static hl_status default_object(etab *t, tslice deflt, const keyref *k, buf *out,
                                hl_err *e) {
  size_t koff, klen;
  if (etab_object_key(t, deflt, &koff, &klen, e) != HL_OK) {
    char msg[sizeof e->msg];
    snprintf(msg, sizeof msg, "%s", e->msg);
    return err_set(e, e->code, "default %s", msg);
  }
  splice(deflt.p, deflt.len, deflt.p + koff, klen, k->p, k->len, out);
  return HL_OK;
}


/* Runs the increments over the object in *cur (swapping with *spare). */
static hl_status run_incrs(etab *t, buf **cur, buf **spare, const etab_incr *ops,
                           size_t nops, int64_t *results, hl_err *e) {
  for (size_t i = 0; i < nops; i++) {
    const unsigned char *elem;
    size_t elen;
    unsigned char num[TERM_NUMBER_MAX];
    buf *swap;
    if (locate(t, (*cur)->p, (*cur)->n, &ops[i].pos, &elem, &elen, e) != HL_OK ||
        next_count(&ops[i], elem, elen, &results[i], e) != HL_OK)
      return e->code;
    splice((*cur)->p, (*cur)->n, elem, elen, num, term_encode_int(results[i], num), *spare);
    swap = *cur;
    *cur = *spare;
    *spare = swap;
  }
  return HL_OK;
}

/* The common case, one increment whose result takes as many bytes as the
** old value: rewritten where it stands, with no copy. 1 when done (or
** failed, with e set), 0 when the slow path must rebuild the object. */
static int incr_in_place(etab *t, eobj *o, const etab_incr *op, int64_t *result,
                         hl_err *e) {
  const unsigned char *elem;
  size_t elen, n;
  unsigned char num[TERM_NUMBER_MAX];
  if (locate_in(t, o, &op->pos, &elem, &elen, e) != HL_OK ||
      next_count(op, elem, elen, result, e) != HL_OK)
    return 1;
  n = term_encode_int(*result, num);
  if (n != elen) return 0;
  memcpy(o->data + (elem - o->data), num, n);
  return 1;
}

static hl_status run_changes(etab *t, buf **cur, buf **spare,
                             const etab_change *changes, size_t n, hl_err *e) {
  for (size_t i = 0; i < n; i++) {
    const unsigned char *elem;
    size_t elen;
    buf *swap;
    if (locate(t, (*cur)->p, (*cur)->n, &changes[i].pos, &elem, &elen, e) != HL_OK)
      return e->code;
    splice((*cur)->p, (*cur)->n, elem, elen, changes[i].value.p, changes[i].value.len, *spare);
    swap = *cur;
    *cur = *spare;
    *spare = swap;
  }
  return HL_OK;
}

/* Puts the rebuilt object, whose key is k's (no update touches the key),
** in place of old (at slot at), or as new when old is NULL. */
static hl_status put_back(etab *t, size_t at, eobj *old, const keyref *k, const buf *b,
                          hl_err *e) {
  size_t koff, klen;
  eobj *o;
  if (etab_object_key(t, (tslice){b->p, b->n}, &koff, &klen, e) != HL_OK) return e->code;
  if (old != NULL) {
    if (!etab_put_over(t, at, old, b->p, b->n, koff, klen))
      return err_set(e, HL_ENOMEM, "out of memory");
    return HL_OK;
  }
  o = etab_obj_new(t, b->p, b->n, koff, klen, k->hash);
  if (o == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  if (!etab_add(t, o)) {
    etab_obj_free(t, o);
    return err_set(e, HL_ENOMEM, "out of memory");
  }
  return HL_OK;
}

typedef struct update {
  const etab_incr *incrs;
  size_t nincrs;
  int64_t *results;
  const etab_change *changes;
  size_t nchanges;
} update;

/* The general way, under the lock: the object is rebuilt aside (from old,
** or from the default when there is none) and put in old's place. */
static void rebuild(etab *t, size_t at, eobj *old, tslice deflt, const keyref *k,
                    const update *u, int *found, hl_err *e) {
  buf a, b, *cur = &a, *spare = &b;
  buf_init(&a);
  buf_init(&b);
  if (old != NULL) buf_put(cur, old->data, old->len);
  else if (deflt.p != NULL) default_object(t, deflt, k, cur, e);
  else goto done;   /* no object: *found stays 0 */
  if (e->code == HL_OK && !buf_ok(cur)) err_set(e, HL_ENOMEM, "out of memory");
  if (e->code == HL_OK) {
    if (u->nincrs > 0) run_incrs(t, &cur, &spare, u->incrs, u->nincrs, u->results, e);
    else run_changes(t, &cur, &spare, u->changes, u->nchanges, e);
  }
  if (e->code == HL_OK && !buf_ok(cur)) err_set(e, HL_ENOMEM, "out of memory");
  if (e->code == HL_OK && put_back(t, at, old, k, cur, e) == HL_OK) *found = 1;
done:
  buf_free(&a);
  buf_free(&b);
}

/* The shared frame: lock, find, update in place or rebuild, log, unlock. */
static hl_status update_object(etab *t, uint64_t caller, tslice key, tslice deflt,
                               const update *u, int *found, const char *fname,
                               hl_err *e) {
  keyref k;
  size_t at;
  eobj *old;
  edur_txn tx;
  int logged, unchanged = 0;
  *found = 0;
  if (etab_check_write(t, caller, e) != HL_OK) return e->code;
  if (etab_is_bag(t))
    return err_set(e, HL_ETYPE, "%s needs a set or ordered_set, not a %s", fname,
                   etab_type_name(t->type));
  if (etab_prep_key(t, key, &k, e) != HL_OK || etab_lock_open(t, &k, 1, e) != HL_OK)
    return e->code;
  old = etab_find(t, k.hash, k.p, k.len, &at);
  if (old != NULL && u->nincrs == 0 && u->nchanges == 0)   /* ETS's []: nothing to do */
    *found = unchanged = 1;
  else if (old != NULL && u->nincrs == 1 && incr_in_place(t, old, u->incrs, u->results, e))
    *found = e->code == HL_OK;
  else
    rebuild(t, at, old, deflt, &k, u, found, e);
  logged = t->disk != NULL && *found && !unchanged && e->code == HL_OK;
  if (logged) edur_seal_key(&tx, t, k.p, k.len, k.hash);
  etab_unlock_key(t, &k);
  if (logged) edur_write(&tx, e);
  return e->code;
}

hl_status etab_update_counter(etab *t, uint64_t caller, tslice key,
                              const etab_incr *ops, size_t nops, tslice deflt,
                              int64_t *results, hl_err *e) {
  update u = {ops, nops, results, NULL, 0};
  int found;
  if (update_object(t, caller, key, deflt, &u, &found, "update_counter", e) != HL_OK)
    return e->code;
  if (!found) return err_set(e, HL_ENOTFOUND, "key not found and no default object");
  return HL_OK;
}

hl_status etab_update_element(etab *t, uint64_t caller, tslice key,
                              const etab_change *changes, size_t n,
                              tslice deflt, int *updated, hl_err *e) {
  update u = {NULL, 0, NULL, changes, n};
  return update_object(t, caller, key, deflt, &u, updated, "update_element", e);
}
