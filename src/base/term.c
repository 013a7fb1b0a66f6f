/*
** term.c — encoding and reading heirloom's one value format (see term.h).
** Everything here works on bytes only; the Lua side is lterm.c.
*/
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term.h"

#define TWO53 9007199254740992.0
#define TWO63 9223372036854775808.0

/* ---- numbers ---- */

/* Maps a double's bits so that unsigned order is numeric order. */
static uint64_t num_order_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return (u >> 63) ? ~u : (u | ((uint64_t)1 << 63));
}

static double num_from_order_bits(uint64_t u) {
  double d;
  u = (u >> 63) ? (u & ~((uint64_t)1 << 63)) : ~u;
  memcpy(&d, &u, 8);
  return d;
}

static void store_be(unsigned char *p, uint64_t v, int nbytes) {
  for (int i = nbytes - 1; i >= 0; i--) {
    p[i] = (unsigned char)(v & 0xFF);
    v >>= 8;
  }
}

static void put_be(buf *b, uint64_t v, int nbytes) {
  unsigned char *p = buf_grab(b, (size_t)nbytes);
  if (p != NULL) store_be(p, v, nbytes);
}

static uint64_t get_be(const unsigned char *p, int nbytes) {
  uint64_t v = 0;
  for (int i = 0; i < nbytes; i++) v = (v << 8) | p[i];
  return v;
}

static void store_be64(unsigned char *p, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  memcpy(p, &v, 8);
}

static uint64_t get_be64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static int needs_offset(double d) {
  return fabs(d) >= TWO53;   /* also true for the infinities */
}

/* Encodes the number whose value is d + off (off only when needs_offset). */
static size_t encode_number(unsigned char *out, double d, unsigned off) {
  out[0] = TERM_NUMBER;
  store_be64(out + 1, num_order_bits(d));
  if (!needs_offset(d)) return 9;
  store_be(out + 9, off, 2);
  return 11;
}

/* Below 2^53 an integer is its double exactly: 9 bytes, no rounding to
** undo. Most integers are. */
static int small_int(int64_t v) {
  return v > -(int64_t)TWO53 && v < (int64_t)TWO53;
}

static void encode_small_int(unsigned char *out, int64_t v) {
  out[0] = TERM_NUMBER;
  store_be64(out + 1, num_order_bits((double)v));
}

size_t term_encode_int(int64_t v, unsigned char out[TERM_NUMBER_MAX]) {
  double d = (double)v;
  if (small_int(v)) {
    encode_small_int(out, v);
    return TERM_NUMBER_SIZE;
  }
  /* d must be the largest double <= v; rounding may have gone up. */
  if (d >= TWO63 || (int64_t)d > v) d = nextafter(d, -INFINITY);
  return encode_number(out, d, (unsigned)(v - (int64_t)d));
}

void term_put_float(buf *b, double v) {
  unsigned char tmp[TERM_NUMBER_MAX];
  if (isnan(v)) v = NAN;          /* one canonical NaN */
  else if (v == 0) v = 0.0;       /* -0.0 is 0 */
  buf_put(b, tmp, encode_number(tmp, v, 0));
}

/* Encodes in place, not through a copy: integer keys are the common case. */
void term_put_int(buf *b, int64_t v) {
  unsigned char *p;
  if (small_int(v)) {
    if ((p = buf_grab(b, TERM_NUMBER_SIZE)) != NULL) encode_small_int(p, v);
    return;
  }
  if ((p = buf_grab(b, TERM_NUMBER_MAX)) != NULL)
    b->n -= TERM_NUMBER_MAX - term_encode_int(v, p);
}

void term_put_num(buf *b, const term_num *v) {
  if (v->isint) term_put_int(b, v->i);
  else term_put_float(b, v->d);
}

/* Nine bytes, no offset: the value is the double itself, exactly. */
int term_get_small_int(const unsigned char *p, size_t len, int64_t *v) {
  double d;
  if (len < TERM_NUMBER_SIZE || p[0] != TERM_NUMBER) return 0;
  d = num_from_order_bits(get_be64(p + 1));
  if (!(fabs(d) < TWO53) || d != (double)(int64_t)d || (d == 0 && signbit(d))) return 0;
  *v = (int64_t)d;
  return 1;
}

/* term_get_num past its common case, apart so that the common case
** needs no stack frame. */
__attribute__((noinline)) static size_t get_other_num(const unsigned char *p, size_t len,
                                                     term_num *out) {
  double d;
  unsigned off = 0;
  size_t size = 9;
  if (len < 9 || p[0] != TERM_NUMBER) return 0;
  d = num_from_order_bits(get_be64(p + 1));
  if (needs_offset(d)) {
    if (len < 11) return 0;
    off = (unsigned)get_be(p + 9, 2);
    size = 11;
  }
  if (d >= -TWO63 && d < TWO63 && d == (double)(int64_t)d) {
    /* canonical: d is the largest double <= the value, and no -0.0 */
    if (off > 0 && (double)off >= nextafter(d, INFINITY) - d) return 0;
    if (d == 0 && signbit(d)) return 0;
    out->isint = 1;
    out->i = (int64_t)d + (int64_t)off;
  } else if (isnan(d)) {
    if (num_order_bits(d) != num_order_bits(NAN)) return 0;
    out->isint = 0;
    out->d = d;
  } else {
    if (off != 0) return 0;
    out->isint = 0;
    out->d = d;
  }
  return size;
}

size_t term_get_num(const unsigned char *p, size_t len, term_num *out) {
  if (term_get_small_int(p, len, &out->i)) {   /* the common number */
    out->isint = 1;
    return TERM_NUMBER_SIZE;
  }
  return get_other_num(p, len, out);
}

/* NaN has one encoding (term_get_num refuses any other), so the bytes
** tell without decoding: every key lookup asks. */
int term_is_nan(const unsigned char *p, size_t len) {
  return len >= 9 && p[0] == TERM_NUMBER && get_be64(p + 1) == num_order_bits(NAN);
}

/* ---- scalars ---- */

void term_put_nil(buf *b) {
  buf_putc(b, TERM_NIL);
}

void term_put_bool(buf *b, int v) {
  buf_putc(b, v ? TERM_TRUE : TERM_FALSE);
}

void term_put_id(buf *b, int tag, uint64_t id) {
  buf_putc(b, (unsigned char)tag);
  put_be(b, id, 8);
}

size_t term_get_id(const unsigned char *p, size_t len, int *tag, uint64_t *id) {
  if (len < 9) return 0;
  if (p[0] != TERM_REF && p[0] != TERM_TABLE && p[0] != TERM_PID) return 0;
  *tag = p[0];
  *id = get_be64(p + 1);
  return 9;
}

/* ---- atoms and other nodes' pids and refs ---- */

/* A caller's bug (it should have asked term_name_ok): the buffer fails as
** on a lost allocation, so that no malformed term is ever written. */
static void refuse(buf *b) {
  b->oom = 1;
}

int term_name_ok(const void *name, size_t len) {
  return len <= TERM_NAME_MAX && (len == 0 || memchr(name, 0, len) == NULL);
}

static void put_name(buf *b, const void *name, size_t len) {
  if (!term_name_ok(name, len)) {
    refuse(b);
    return;
  }
  buf_put(b, name, len);
  buf_putc(b, 0x00);
}

/* The name at p[0..len): its bytes up to the 0x00; returns the size with
** the 0x00, or 0. */
static size_t get_name(const unsigned char *p, size_t len,
                       const unsigned char **name, size_t *namelen) {
  const unsigned char *zero = memchr(p, 0, len < TERM_NAME_MAX + 1 ? len : TERM_NAME_MAX + 1);
  if (zero == NULL) return 0;
  *name = p;
  *namelen = (size_t)(zero - p);
  return *namelen + 1;
}

void term_put_atom(buf *b, const void *name, size_t len) {
  buf_putc(b, TERM_ATOM);
  put_name(b, name, len);
}

size_t term_get_atom(const unsigned char *p, size_t len,
                     const unsigned char **name, size_t *namelen) {
  size_t n;
  if (len < 2 || p[0] != TERM_ATOM) return 0;
  n = get_name(p + 1, len - 1, name, namelen);
  return n == 0 ? 0 : 1 + n;
}

void term_put_xpid(buf *b, const term_xpid *x) {
  buf_putc(b, TERM_XPID);
  if (x->nodelen == 0) refuse(b);
  put_name(b, x->node, x->nodelen);
  put_be(b, x->num, 4);
  put_be(b, x->serial, 4);
  put_be(b, x->creation, 4);
}

size_t term_get_xpid(const unsigned char *p, size_t len, term_xpid *out) {
  size_t n;
  if (len < 2 || p[0] != TERM_XPID) return 0;
  n = get_name(p + 1, len - 1, &out->node, &out->nodelen);
  if (n < 2 || len - 1 - n < 12) return 0;
  p += 1 + n;
  out->num = (uint32_t)get_be(p, 4);
  out->serial = (uint32_t)get_be(p + 4, 4);
  out->creation = (uint32_t)get_be(p + 8, 4);
  return 1 + n + 12;
}

void term_put_xref(buf *b, const term_xref *x) {
  buf_putc(b, TERM_XREF);
  if (x->nodelen == 0 || x->n < 1 || x->n > TERM_XREF_WORDS) refuse(b);
  put_name(b, x->node, x->nodelen);
  put_be(b, x->creation, 4);
  buf_putc(b, (unsigned char)x->n);
  for (int i = 0; i < x->n && i < TERM_XREF_WORDS; i++) put_be(b, x->id[i], 4);
}

size_t term_get_xref(const unsigned char *p, size_t len, term_xref *out) {
  size_t n, need;
  if (len < 2 || p[0] != TERM_XREF) return 0;
  n = get_name(p + 1, len - 1, &out->node, &out->nodelen);
  if (n < 2 || len - 1 - n < 5) return 0;
  p += 1 + n;
  out->creation = (uint32_t)get_be(p, 4);
  out->n = p[4];
  if (out->n < 1 || out->n > TERM_XREF_WORDS) return 0;
  need = 5 + 4 * (size_t)out->n;
  if (len - 1 - n < need) return 0;
  for (int i = 0; i < out->n; i++) out->id[i] = (uint32_t)get_be(p + 5 + 4 * i, 4);
  return 1 + n + need;
}

/* ---- strings ---- */

void term_put_string(buf *b, const void *s, size_t len) {
  const unsigned char *src = s;
  const unsigned char *zero;
  buf_putc(b, TERM_STRING);
  while ((zero = memchr(src, 0, len)) != NULL) {
    size_t run = (size_t)(zero - src);
    buf_put(b, src, run);
    buf_putc(b, 0x00);
    buf_putc(b, 0xFF);
    src += run + 1;
    len -= run + 1;
  }
  buf_put(b, src, len);
  buf_putc(b, 0x00);
  buf_putc(b, 0x00);
}

/* Size of the string term at p (0 if malformed); its body unescaped into
** out when out is not NULL. */
static size_t scan_string(const unsigned char *p, size_t len, buf *out) {
  size_t i = 1;
  if (len < 3 || p[0] != TERM_STRING) return 0;
  for (;;) {
    const unsigned char *zero = memchr(p + i, 0, len - i);
    size_t at;
    if (zero == NULL) return 0;
    at = (size_t)(zero - p);
    if (out != NULL) buf_put(out, p + i, at - i);
    if (at + 1 >= len) return 0;
    if (p[at + 1] == 0x00) return at + 2;
    if (p[at + 1] != 0xFF) return 0;
    if (out != NULL) buf_putc(out, 0x00);
    i = at + 2;
  }
}

size_t term_get_string(const unsigned char *p, size_t len, buf *out) {
  return scan_string(p, len, out);
}

size_t term_string_length(const unsigned char *p, size_t len, size_t *chars) {
  size_t size = scan_string(p, len, NULL), zeros = 0;
  const unsigned char *at, *end;
  if (size == 0) return 0;
  /* scan_string checked the escapes: every 0x00 in the body p[1..size-2)
  ** starts a 0x00 0xFF pair that stands for one zero byte */
  at = p + 1;
  end = p + size - 2;
  while ((at = memchr(at, 0, (size_t)(end - at))) != NULL) {
    zeros++;
    at += 2;
  }
  *chars = size - 3 - zeros;
  return size;
}

/* ---- arrays and maps ---- */

static void put_count(buf *b, uint32_t count) {
  if (count < 0x80) buf_putc(b, (unsigned char)count);
  else if (count < 0x4000) put_be(b, 0x8000u | count, 2);
  else put_be(b, 0xC0000000u | (count & TERM_MAX_COUNT), 4);
}

void term_put_array(buf *b, uint32_t count) {
  buf_putc(b, TERM_ARRAY);
  put_count(b, count);
}

void term_put_map(buf *b, uint32_t count) {
  buf_putc(b, TERM_MAP);
  put_count(b, count);
}

void term_put_list(buf *b) {
  buf_putc(b, TERM_LIST);
}

void term_put_list_end(buf *b) {
  buf_putc(b, TERM_LIST_END);
}

static int mapent_cmp(const void *a, const void *b, void *kv) {
  const term_mapent *x = a, *y = b;
  const unsigned char *p = kv;
  return term_compare(p + x->koff, x->klen, p + y->koff, y->klen);
}

int term_map_sort(term_mapent *list, size_t n, const unsigned char *kv) {
  if (n > 1) qsort_r(list, n, sizeof *list, mapent_cmp, (void *)kv);
  for (size_t i = 1; i < n; i++)
    if (mapent_cmp(&list[i - 1], &list[i], (void *)kv) == 0) return 0;
  return 1;
}

void term_map_put(buf *b, const term_mapent *list, size_t n, const unsigned char *kv) {
  term_put_map(b, (uint32_t)n);
  for (size_t i = 0; i < n; i++) buf_put(b, kv + list[i].koff, list[i].klen);
  for (size_t i = 0; i < n; i++) buf_put(b, kv + list[i].voff, list[i].vlen);
}

size_t term_get_header(const unsigned char *p, size_t len, int *tag, uint32_t *count) {
  uint32_t c;
  size_t size;
  if (len < 2 || (p[0] != TERM_ARRAY && p[0] != TERM_MAP)) return 0;
  if (p[1] < 0x80) { c = p[1]; size = 2; }
  else if (p[1] < 0xC0) {
    if (len < 3) return 0;
    c = (uint32_t)get_be(p + 1, 2) & 0x3FFF;
    if (c < 0x80) return 0;          /* not the shortest form */
    size = 3;
  } else {
    if (len < 5) return 0;
    c = (uint32_t)get_be(p + 1, 4) & TERM_MAX_COUNT;
    if (c < 0x4000) return 0;
    size = 5;
  }
  *tag = p[0];
  *count = c;
  return size;
}

/* ---- structure ---- */

/* The size of an atom, xpid or xref at p, or 0. */
static size_t named_size(const unsigned char *p, size_t len) {
  const unsigned char *name;
  size_t namelen;
  term_xpid xpid;
  term_xref xref;
  switch (p[0]) {
    case TERM_ATOM: return term_get_atom(p, len, &name, &namelen);
    case TERM_XPID: return term_get_xpid(p, len, &xpid);
    default: return term_get_xref(p, len, &xref);
  }
}

static size_t skip(const unsigned char *p, size_t len, int depth, int *why);

/* A map key that no Lua table can hold (the one definition of a valid
** term is what Lua can read: docs/term-format.md). */
static int bad_key(const unsigned char *p, size_t len) {
  if (p[0] == TERM_NIL) return TERM_NIL_KEY;
  if (p[0] == TERM_NUMBER && term_is_nan(p, len)) return TERM_NAN_KEY;
  return TERM_OK;
}

/* Skips `count` terms from p; with `keys`, each must be greater than the
** one before and one a map may have. Returns the bytes consumed or 0. */
static size_t skip_seq(const unsigned char *p, size_t len, uint32_t count,
                       int depth, int keys, int *why) {
  size_t used = 0, prev = 0, prevlen = 0;
  term_num num;
  for (uint32_t i = 0; i < count; i++) {
    size_t n = used < len && p[used] == TERM_NUMBER   /* the common one, without the dispatch */
                   ? term_get_num(p + used, len - used, &num)
                   : skip(p + used, len - used, depth, why);
    if (n == 0) return 0;
    if (keys && i > 0 &&
        term_compare(p + prev, prevlen, p + used, n) >= 0) return 0;
    if (keys && (*why = bad_key(p + used, n)) != TERM_OK) return 0;
    prev = used;
    prevlen = n;
    used += n;
  }
  return used;
}

/* A list's elements, up to its end mark; the size of the list or 0. */
static size_t skip_list(const unsigned char *p, size_t len, int depth, int *why) {
  size_t at = 1;
  if (depth >= TERM_MAX_DEPTH) return 0;
  while (at < len && p[at] != TERM_LIST_END) {
    size_t n = skip(p + at, len - at, depth + 1, why);
    if (n == 0) return 0;
    at += n;
  }
  return at < len ? at + 1 : 0;
}

static size_t skip(const unsigned char *p, size_t len, int depth, int *why) {
  term_num num;
  int tag;
  uint32_t count;
  uint64_t id;
  size_t h, keys, vals;
  if (len == 0) return 0;
  switch (p[0]) {
    case TERM_NIL: case TERM_FALSE: case TERM_TRUE:
      return 1;
    case TERM_NUMBER:
      return term_get_num(p, len, &num);
    case TERM_REF: case TERM_TABLE: case TERM_PID:
      return term_get_id(p, len, &tag, &id);
    case TERM_ATOM: case TERM_XPID: case TERM_XREF:
      return named_size(p, len);
    case TERM_STRING:
      return scan_string(p, len, NULL);
    case TERM_LIST:
      return skip_list(p, len, depth, why);
    case TERM_ARRAY: case TERM_MAP:
      if (depth >= TERM_MAX_DEPTH) return 0;
      h = term_get_header(p, len, &tag, &count);
      if (h == 0) return 0;
      if (count > len - h) return 0;   /* every term takes a byte at least */
      if (count == 0) return h;
      keys = skip_seq(p + h, len - h, count, depth + 1, tag == TERM_MAP, why);
      if (keys == 0) return 0;
      if (tag == TERM_ARRAY) return h + keys;
      vals = skip_seq(p + h + keys, len - h - keys, count, depth + 1, 0, why);
      return vals == 0 ? 0 : h + keys + vals;
    default:
      return 0;
  }
}

size_t term_skip(const unsigned char *p, size_t len) {
  int why = TERM_OK;
  return skip(p, len, 0, &why);
}

int term_check(const unsigned char *p, size_t len) {
  int why = TERM_OK;
  term_num num;
  if (len > 0 && p[0] == TERM_NUMBER)   /* the common key, without the dispatch */
    return term_get_num(p, len, &num) == len ? TERM_OK : TERM_MALFORMED;
  if (len > 0 && skip(p, len, 0, &why) == len) return TERM_OK;
  return why != TERM_OK ? why : TERM_MALFORMED;
}

int term_valid(const unsigned char *p, size_t len) {
  return term_check(p, len) == TERM_OK;
}

/* The size of a number already known to be well formed, or 0. */
static size_t trusted_number_size(const unsigned char *p, size_t len) {
  if (len < 9) return 0;
  if (!needs_offset(num_from_order_bits(get_be64(p + 1)))) return 9;
  return len >= 11 ? 11 : 0;
}

/* The size of a term already known to be well formed: no map-order check,
** so that lookups inside stored objects stay linear. The depth limit and
** the bounds checks stay, so that malformed bytes (a corrupted object) give
** 0 rather than a read past the end or a runaway recursion. */
static size_t trusted_size(const unsigned char *p, size_t len, int depth) {
  int tag;
  uint32_t count;
  size_t h, used;
  if (len == 0) return 0;
  switch (p[0]) {
    case TERM_NIL: case TERM_FALSE: case TERM_TRUE:
      return 1;
    case TERM_NUMBER:
      return trusted_number_size(p, len);
    case TERM_REF: case TERM_TABLE: case TERM_PID:
      return len >= 9 ? 9 : 0;
    case TERM_ATOM: case TERM_XPID: case TERM_XREF:
      return named_size(p, len);
    case TERM_STRING:
      return scan_string(p, len, NULL);
    case TERM_LIST:
      if (depth >= TERM_MAX_DEPTH) return 0;
      for (used = 1; used < len && p[used] != TERM_LIST_END; used += h)
        if ((h = trusted_size(p + used, len - used, depth + 1)) == 0) return 0;
      return used < len ? used + 1 : 0;
    case TERM_ARRAY: case TERM_MAP:
      if (depth >= TERM_MAX_DEPTH) return 0;
      h = term_get_header(p, len, &tag, &count);
      if (h == 0) return 0;
      if (tag == TERM_MAP) count *= 2;   /* fits: count < 2^30 */
      used = h;
      for (uint32_t i = 0; i < count; i++) {
        size_t n = trusted_size(p + used, len - used, depth + 1);
        if (n == 0) return 0;
        used += n;
      }
      return used;
    default:
      return 0;
  }
}

/* With the common element, a number, sized without the dispatch: element
** lookups and match specs step over them. */
size_t term_size_trusted(const unsigned char *p, size_t len) {
  if (len > 0 && p[0] == TERM_NUMBER) return trusted_number_size(p, len);
  return trusted_size(p, len, 0);
}

size_t term_get_list(const unsigned char *p, size_t len, uint32_t *count) {
  size_t at = 1;
  uint32_t n = 0;
  if (len < 2 || p[0] != TERM_LIST) return 0;
  while (at < len && p[at] != TERM_LIST_END) {
    size_t size = term_size_trusted(p + at, len - at);
    if (size == 0 || n == TERM_MAX_COUNT) return 0;
    at += size;
    n++;
  }
  if (at >= len) return 0;
  *count = n;
  return at + 1;
}

int term_nth_after(const unsigned char *p, size_t len, size_t at, uint32_t n,
                   const unsigned char **elem, size_t *elen) {
  for (uint32_t i = 0; i < n; i++) {
    size_t size = term_size_trusted(p + at, len - at);
    if (size == 0) return 0;
    at += size;
  }
  *elem = p + at;
  *elen = term_size_trusted(p + at, len - at);
  return *elen != 0;
}

int term_array_elem(const unsigned char *p, size_t len, uint32_t index,
                    const unsigned char **elem, size_t *elen) {
  int tag;
  uint32_t count;
  size_t at = term_get_header(p, len, &tag, &count);
  if (at == 0 || tag != TERM_ARRAY || index >= count) return 0;
  return term_nth_after(p, len, at, index, elem, elen);
}

int term_list_elem(const unsigned char *p, size_t len, uint32_t index,
                   const unsigned char **elem, size_t *elen) {
  size_t at = 1;
  if (len < 2 || p[0] != TERM_LIST) return 0;
  for (uint32_t i = 0; i < index; i++) {
    size_t size;
    if (at >= len || p[at] == TERM_LIST_END) return 0;
    if ((size = term_size_trusted(p + at, len - at)) == 0) return 0;
    at += size;
  }
  if (at >= len || p[at] == TERM_LIST_END) return 0;
  *elem = p + at;
  *elen = term_size_trusted(p + at, len - at);
  return *elen != 0;
}

/* The keys come first, then the values in the same order: find the key's
** place among the keys, then take the value at that place. */
int term_map_get(const unsigned char *p, size_t len,
                 const unsigned char *k, size_t klen,
                 const unsigned char **val, size_t *vlen) {
  int tag;
  uint32_t count, found = 0;
  int hit = 0;
  size_t at = term_get_header(p, len, &tag, &count);
  if (at == 0 || tag != TERM_MAP) return 0;
  for (uint32_t i = 0; i < count; i++) {
    size_t n = term_size_trusted(p + at, len - at);
    if (n == 0) return 0;
    if (!hit && n == klen && memcmp(p + at, k, klen) == 0) {
      hit = 1;
      found = i;
    }
    at += n;
  }
  return hit && term_nth_after(p, len, at, found, val, vlen);
}

int term_compare(const unsigned char *a, size_t alen,
                 const unsigned char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0) return c;
  return alen < blen ? -1 : alen > blen;
}

void term_pid_text(uint64_t pid, char *out, size_t size) {
  snprintf(out, size, "<0.%" PRIu32 ".%" PRIu32 ">", (uint32_t)pid, (uint32_t)(pid >> 32));
}

void term_xpid_text(const term_xpid *x, char *out, size_t size) {
  snprintf(out, size, "<%.*s.%" PRIu32 ".%" PRIu32 ">", (int)x->nodelen, (const char *)x->node,
           x->num, x->serial);
}

void term_xref_text(const term_xref *x, char *out, size_t size) {
  int n = snprintf(out, size, "#Ref<%.*s", (int)x->nodelen, (const char *)x->node);
  for (int i = x->n - 1; i >= 0 && n >= 0 && (size_t)n < size; i--)
    n += snprintf(out + n, size - (size_t)n, ".%" PRIu32, x->id[i]);
  if (n >= 0 && (size_t)n + 1 < size) {
    out[n] = '>';
    out[n + 1] = '\0';
  }
}
