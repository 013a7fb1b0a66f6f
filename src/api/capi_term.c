/*
** capi_term.c — the C API's buffers and terms (include/heirloom.h): a host
** builds terms by appending to an hl_buf and reads them back in place.
** Every reader takes (p, len) and never reads past p + len; a NULL
** pointer argument is refused with a message naming it (hl_errmsg), never
** dereferenced.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi.h"
#include "heirloom.h"
#include "term.h"

#define B(b) ((buf *)(b))

/* Publishes "fn: what is NULL"; the reader then answers 0. */
static size_t null_arg(const char *fn, const char *what) {
  hl_err e;
  err_set(&e, HL_EBADARG, "%s: %s is NULL", fn, what);
  err_publish(&e);
  return 0;
}

/* ---- buffers ---- */

void hl_buf_init(hl_buf *b) {
  if (b != NULL) buf_init(B(b));
}

void hl_buf_free(hl_buf *b) {
  if (b != NULL) buf_free(B(b));
}

void hl_buf_clear(hl_buf *b) {
  if (b != NULL) buf_reset(B(b));
}

void hl_buf_append(hl_buf *b, const void *p, size_t n) {
  if (b == NULL) null_arg("hl_buf_append", "b");
  else if (p == NULL && n > 0) null_arg("hl_buf_append", "p");
  else if (n > 0) buf_put(B(b), p, n);
}

/* ---- building ----
** An append to a NULL buffer does nothing (it has nowhere to go); a NULL
** string leaves the buffer as it was, so hl_term_check finds the term
** incomplete. */

void hl_term_nil(hl_buf *b) {
  if (b != NULL) term_put_nil(B(b));
}

void hl_term_bool(hl_buf *b, int v) {
  if (b != NULL) term_put_bool(B(b), v);
}

void hl_term_int(hl_buf *b, int64_t v) {
  if (b != NULL) term_put_int(B(b), v);
}

void hl_term_float(hl_buf *b, double v) {
  if (b != NULL) term_put_float(B(b), v);
}

void hl_term_string(hl_buf *b, const void *s, size_t len) {
  if (b == NULL) null_arg("hl_term_string", "b");
  else if (s == NULL && len > 0) null_arg("hl_term_string", "s");
  else term_put_string(B(b), s != NULL ? s : "", len);
}

void hl_term_atom(hl_buf *b, const void *name, size_t len) {
  hl_err e;
  if (b == NULL) null_arg("hl_term_atom", "b");
  else if (name == NULL && len > 0) null_arg("hl_term_atom", "name");
  else if (!term_name_ok(name != NULL ? name : "", len)) {
    err_set(&e, HL_EBADARG, "hl_term_atom: name must be at most %d bytes, none of them zero",
            TERM_NAME_MAX);
    err_publish(&e);
  } else {
    term_put_atom(B(b), name != NULL ? name : "", len);
  }
}

void hl_term_array(hl_buf *b, uint32_t n) {
  if (b != NULL) term_put_array(B(b), n);
}

void hl_term_map(hl_buf *b, uint32_t n) {
  if (b != NULL) term_put_map(B(b), n);
}

void hl_term_list(hl_buf *b) {
  if (b != NULL) term_put_list(B(b));
}

void hl_term_list_end(hl_buf *b) {
  if (b != NULL) term_put_list_end(B(b));
}

void hl_term_pid(hl_buf *b, hl_pid pid) {
  if (b != NULL) term_put_id(B(b), TERM_PID, pid);
}

hl_status hl_term_check(const hl_buf *b) {
  hl_err e;
  if (b == NULL) return capi_fail(HL_EBADARG, "hl_term_check", "b is NULL");
  if (!buf_ok(B(b))) return capi_fail(HL_ENOMEM, "hl_term_check", "out of memory while building");
  if (term_check(b->data, b->len) == TERM_MALFORMED)
    return capi_fail(HL_EFORMAT, "hl_term_check", "the buffer is not exactly one well-formed term");
  err_clear(&e);
  capi_check_term("the buffer", b->data, b->len, &e);
  return capi_done("hl_term_check", &e);
}

/* ---- reading ---- */

size_t hl_term_size(const void *p, size_t len) {
  if (p == NULL) return null_arg("hl_term_size", "p");
  return term_skip(p, len);
}

int hl_term_type(const void *p, size_t len) {
  const unsigned char *t = p;
  term_num n;
  if (p == NULL) {
    null_arg("hl_term_type", "p");
    return HL_T_NONE;
  }
  if (term_skip(p, len) == 0) return HL_T_NONE;
  switch (t[0]) {
    case TERM_NIL: return HL_T_NIL;
    case TERM_FALSE: case TERM_TRUE: return HL_T_BOOLEAN;
    case TERM_REF: return HL_T_REF;
    case TERM_TABLE: return HL_T_TABLE;
    case TERM_PID: return HL_T_PID;
    case TERM_ARRAY: return HL_T_ARRAY;
    case TERM_MAP: return HL_T_MAP;
    case TERM_LIST: return HL_T_LIST;
    case TERM_STRING: return HL_T_STRING;
    case TERM_ATOM: return HL_T_ATOM;
    case TERM_XPID: return HL_T_XPID;
    case TERM_XREF: return HL_T_XREF;
    default:
      if (term_get_num(p, len, &n) == 0) return HL_T_NONE;
      return n.isint ? HL_T_INTEGER : HL_T_FLOAT;
  }
}

size_t hl_term_get_nil(const void *p, size_t len) {
  if (p == NULL) return null_arg("hl_term_get_nil", "p");
  return len >= 1 && *(const unsigned char *)p == TERM_NIL ? 1 : 0;
}

size_t hl_term_get_bool(const void *p, size_t len, int *v) {
  const unsigned char *t = p;
  if (p == NULL) return null_arg("hl_term_get_bool", "p");
  if (v == NULL) return null_arg("hl_term_get_bool", "v");
  if (len < 1 || (t[0] != TERM_FALSE && t[0] != TERM_TRUE)) return 0;
  *v = t[0] == TERM_TRUE;
  return 1;
}

size_t hl_term_get_int(const void *p, size_t len, int64_t *v) {
  term_num n;
  size_t size;
  if (p == NULL) return null_arg("hl_term_get_int", "p");
  if (v == NULL) return null_arg("hl_term_get_int", "v");
  size = term_get_num(p, len, &n);
  if (size == 0 || !n.isint) return 0;
  *v = n.i;
  return size;
}

size_t hl_term_get_float(const void *p, size_t len, double *v) {
  term_num n;
  size_t size;
  if (p == NULL) return null_arg("hl_term_get_float", "p");
  if (v == NULL) return null_arg("hl_term_get_float", "v");
  size = term_get_num(p, len, &n);
  if (size == 0) return 0;
  *v = n.isint ? (double)n.i : n.d;
  return size;
}

size_t hl_term_get_string(const void *p, size_t len, hl_buf *out) {
  if (p == NULL) return null_arg("hl_term_get_string", "p");
  if (out == NULL) return null_arg("hl_term_get_string", "out");
  return term_get_string(p, len, B(out));
}

/* An id term (pid or ref) of this tag. */
static size_t get_id(const char *fn, const void *p, size_t len, int want, uint64_t *id) {
  int tag;
  uint64_t v;
  size_t size;
  if (p == NULL) return null_arg(fn, "p");
  if (id == NULL) return null_arg(fn, want == TERM_PID ? "pid" : "ref");
  size = term_get_id(p, len, &tag, &v);
  if (size == 0 || tag != want) return 0;
  *id = v;
  return size;
}

size_t hl_term_get_pid(const void *p, size_t len, hl_pid *pid) {
  return get_id("hl_term_get_pid", p, len, TERM_PID, pid);
}

size_t hl_term_get_ref(const void *p, size_t len, uint64_t *ref) {
  return get_id("hl_term_get_ref", p, len, TERM_REF, ref);
}

size_t hl_term_get_atom(const void *p, size_t len, const char **name, size_t *namelen) {
  const unsigned char *n;
  size_t nlen, size;
  if (p == NULL) return null_arg("hl_term_get_atom", "p");
  if (name == NULL) return null_arg("hl_term_get_atom", "name");
  if (namelen == NULL) return null_arg("hl_term_get_atom", "namelen");
  size = term_get_atom(p, len, &n, &nlen);
  if (size == 0) return 0;
  *name = (const char *)n;
  *namelen = nlen;
  return size;
}

/* An array's or a map's header. */
static size_t get_header(const char *fn, const void *p, size_t len, int want, uint32_t *n) {
  int tag;
  uint32_t count;
  size_t size;
  if (p == NULL) return null_arg(fn, "p");
  if (n == NULL) return null_arg(fn, "n");
  size = term_get_header(p, len, &tag, &count);
  if (size == 0 || tag != want) return 0;
  *n = count;
  return size;
}

size_t hl_term_get_array(const void *p, size_t len, uint32_t *n) {
  return get_header("hl_term_get_array", p, len, TERM_ARRAY, n);
}

size_t hl_term_get_map(const void *p, size_t len, uint32_t *n) {
  return get_header("hl_term_get_map", p, len, TERM_MAP, n);
}

size_t hl_term_get_list(const void *p, size_t len, uint32_t *n) {
  if (p == NULL) return null_arg("hl_term_get_list", "p");
  if (n == NULL) return null_arg("hl_term_get_list", "n");
  if (term_skip(p, len) == 0) return 0;
  return term_get_list(p, len, n);
}

int hl_term_list_elem(const void *p, size_t len, uint32_t i, const void **elem, size_t *elen) {
  const unsigned char *e;
  if (p == NULL) return (int)null_arg("hl_term_list_elem", "p");
  if (elem == NULL) return (int)null_arg("hl_term_list_elem", "elem");
  if (elen == NULL) return (int)null_arg("hl_term_list_elem", "elen");
  if (term_skip(p, len) == 0 || !term_list_elem(p, len, i, &e, elen)) return 0;
  *elem = e;
  return 1;
}

int hl_term_array_elem(const void *p, size_t len, uint32_t i, const void **elem, size_t *elen) {
  const unsigned char *e;
  if (p == NULL) return (int)null_arg("hl_term_array_elem", "p");
  if (elem == NULL) return (int)null_arg("hl_term_array_elem", "elem");
  if (elen == NULL) return (int)null_arg("hl_term_array_elem", "elen");
  if (term_skip(p, len) == 0 || !term_array_elem(p, len, i, &e, elen)) return 0;
  *elem = e;
  return 1;
}

/* Skips `count` terms from p; NULL if the bytes end first. */
static const unsigned char *skip_terms(const unsigned char *p, const unsigned char *end,
                                       uint32_t count) {
  for (uint32_t k = 0; k < count; k++) {
    size_t size = term_size_trusted(p, (size_t)(end - p));
    if (size == 0) return NULL;
    p += size;
  }
  return p;
}

int hl_term_map_entry(const void *p, size_t len, uint32_t i, const void **key, size_t *klen,
                      const void **val, size_t *vlen) {
  const unsigned char *start = p, *end = start + len, *k, *v;
  uint32_t n;
  size_t header, whole;
  if (p == NULL) return (int)null_arg("hl_term_map_entry", "p");
  if (key == NULL || klen == NULL) return (int)null_arg("hl_term_map_entry", "key or klen");
  if (val == NULL || vlen == NULL) return (int)null_arg("hl_term_map_entry", "val or vlen");
  whole = term_skip(p, len);
  header = hl_term_get_map(p, len, &n);
  if (whole == 0 || header == 0 || i >= n) return 0;
  end = start + whole;
  k = skip_terms(start + header, end, i);           /* the keys, then the values */
  v = k != NULL ? skip_terms(k, end, n) : NULL;
  if (k == NULL || v == NULL) return 0;
  *key = k;
  *klen = term_size_trusted(k, (size_t)(end - k));
  *val = v;
  *vlen = term_size_trusted(v, (size_t)(end - v));
  return 1;
}

int hl_term_map_get(const void *p, size_t len, const void *key, size_t klen, const void **val,
                    size_t *vlen) {
  const unsigned char *v;
  if (p == NULL) return (int)null_arg("hl_term_map_get", "p");
  if (key == NULL) return (int)null_arg("hl_term_map_get", "key");
  if (val == NULL || vlen == NULL) return (int)null_arg("hl_term_map_get", "val or vlen");
  if (term_skip(p, len) == 0 || term_skip(key, klen) != klen) return 0;
  if (!term_map_get(p, len, key, klen, &v, vlen)) return 0;
  *val = v;
  return 1;
}

/* NULL orders before every term (and is refused, for hl_errmsg). */
int hl_term_compare(const void *a, size_t alen, const void *b, size_t blen) {
  if (a == NULL || b == NULL) {
    null_arg("hl_term_compare", a == NULL ? "a" : "b");
    return (a != NULL) - (b != NULL);
  }
  return term_compare(a, alen, b, blen);
}

/* ---- pid text ---- */

size_t hl_pid_format(hl_pid pid, char *out, size_t size) {
  char text[48];
  size_t n;
  term_pid_text(pid, text, sizeof text);
  n = strlen(text);
  if (out != NULL && size > 0) snprintf(out, size, "%s", text);
  return n;
}

/* "<0.ID.SERIAL>", each number decimal, nothing around it. */
hl_status hl_pid_parse(const char *text, hl_pid *pid) {
  unsigned long long id, serial;
  char *end;
  const char *at;
  if (text == NULL) return capi_fail(HL_EBADARG, "hl_pid_parse", "text is NULL");
  if (pid == NULL) return capi_fail(HL_EBADARG, "hl_pid_parse", "pid is NULL");
  if (strncmp(text, "<0.", 3) != 0 || text[3] < '0' || text[3] > '9') goto bad;
  id = strtoull(text + 3, &end, 10);
  if (*end != '.' || end[1] < '0' || end[1] > '9' || id > UINT32_MAX) goto bad;
  at = end + 1;
  serial = strtoull(at, &end, 10);
  if (end[0] != '>' || end[1] != '\0' || serial > UINT32_MAX) goto bad;
  *pid = (hl_pid)id | (hl_pid)serial << 32;
  return HL_OK;
bad:
  {
    hl_err e;
    err_set(&e, HL_EBADARG, "hl_pid_parse: text '%.60s' is not a pid like <0.2.1>", text);
    return err_publish(&e);
  }
}
