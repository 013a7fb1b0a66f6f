/*
** term.h — heirloom's one value format.
**
** A term is a compact, self-delimiting byte string. Messages, table objects
** and LevelDB records all use it, and it is canonical: two equal values
** always encode to the same bytes. It is also order-preserving: memcmp of
** two encodings orders them as Erlang's term order does, so the encoding of
** a key is at once its ordered_set position and its LevelDB key.
**
** Layout (one tag byte, then a body; see docs/term-format.md):
**   nil      0x10
**   number   0x20, 8 bytes: the largest double d <= value, order-mapped,
**                 big-endian; when |d| >= 2^53 two more bytes follow: the
**                 integer offset value - d (0 for a float). Integers and
**                 floats with the same value encode alike (1 and 1.0 are
**                 one term); an integral value in int64 range decodes as
**                 an integer. NaN has one canonical encoding, above +inf.
**   false    0x30          true  0x31
**   atom     0x38, the name (no zero byte, at most 255 bytes), then 0x00
**   ref      0x40, 8 bytes big-endian id
**   xref     0x44, a reference of another node: the node's name (as an
**                 atom's), creation (4 bytes), n (1 byte, 1..5), n 4-byte ids
**   table    0x48, 8 bytes big-endian table id
**   pid      0x50, 8 bytes big-endian process id
**   xpid     0x58, a process of another node: the node's name (as an
**                 atom's, not empty), number, serial, creation (4 bytes each)
**   array    0x60, count, then the elements
**   map      0x68, count, then the keys in encoded order, then the values
**                 in the same order (Erlang's map order: size, keys, values)
**   list     0x6C, the elements, then 0x00 (no term starts with 0x00, so
**                 memcmp compares element by element, a prefix first:
**                 Erlang's list order)
**   string   0x70, the bytes with 0x00 written as 0x00 0xFF, then 0x00 0x00
** count: 1 byte below 0x80; 0x80|hi then 1 byte below 2^14; 0xC0|hi then
** 3 bytes below 2^30. Larger counts are refused.
**
** Order: nil < numbers < booleans < atoms < refs < other nodes' refs <
** tables < pids < other nodes' pids < arrays < maps < lists < strings. Big-endian
** fields and the 0x00 after a name keep memcmp order: a name that is a
** prefix of another sorts first. Arrays compare by length, then element by element
** (Erlang's tuples); lists element by element, a prefix first (Erlang's
** lists); strings bytewise.
**
** A valid term is exactly what a Lua state can read back: besides being
** well formed, no map in it has nil or NaN as a key (no Lua table can).
** term_skip, term_valid and term_check all hold to this one definition,
** and everything that enters heirloom other than from Lua (the C API, the
** store, table files) is checked with them.
*/
#ifndef HL_TERM_H
#define HL_TERM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
  TERM_NIL = 0x10,
  TERM_NUMBER = 0x20,
  TERM_FALSE = 0x30,
  TERM_TRUE = 0x31,
  TERM_ATOM = 0x38,
  TERM_REF = 0x40,
  TERM_XREF = 0x44,
  TERM_TABLE = 0x48,
  TERM_PID = 0x50,
  TERM_XPID = 0x58,
  TERM_ARRAY = 0x60,
  TERM_MAP = 0x68,
  TERM_LIST = 0x6C,
  TERM_LIST_END = 0x00,
  TERM_STRING = 0x70
};

#define TERM_MAX_DEPTH 64          /* nesting limit of arrays, maps and lists */
#define TERM_MAX_COUNT 0x3FFFFFFFu /* most elements in one array or map */
#define TERM_NUMBER_SIZE 9         /* tag + 8 bytes, when |value| < 2^53 */
#define TERM_NUMBER_MAX 11         /* with the 2-byte offset */
#define TERM_NAME_MAX 255          /* bytes of an atom's or a node's name */
#define TERM_XREF_WORDS 5          /* most ids in another node's ref */

/* A process of another node (Erlang's external pid). `node` points at
** the name's bytes (not zero-terminated): into the term when read. */
typedef struct term_xpid {
  const unsigned char *node;
  size_t nodelen;
  uint32_t num, serial, creation;
} term_xpid;

/* A reference made by another node (Erlang's external ref). */
typedef struct term_xref {
  const unsigned char *node;
  size_t nodelen;
  uint32_t creation;
  int n;                           /* 1..TERM_XREF_WORDS */
  uint32_t id[TERM_XREF_WORDS];
} term_xref;

/* A decoded number. */
typedef struct term_num {
  int isint;    /* 1: the value is i; 0: the value is d */
  int64_t i;
  double d;
} term_num;

/* ---- writing ---- */
void term_put_nil(buf *b);
void term_put_bool(buf *b, int v);
void term_put_int(buf *b, int64_t v);
void term_put_float(buf *b, double v);
void term_put_num(buf *b, const term_num *v);
/* Encodes an integer into out; returns its size (9 or 11). */
size_t term_encode_int(int64_t v, unsigned char out[TERM_NUMBER_MAX]);
void term_put_string(buf *b, const void *s, size_t len);
void term_put_id(buf *b, int tag, uint64_t id);   /* TERM_REF, TERM_TABLE, TERM_PID */
/* An atom, an xpid or an xref; the caller has checked term_name_ok on the
** names (and 1 <= x->n <= TERM_XREF_WORDS): a bad one fails the buffer. */
void term_put_atom(buf *b, const void *name, size_t len);
void term_put_xpid(buf *b, const term_xpid *x);
void term_put_xref(buf *b, const term_xref *x);
/* 1 when name[0..len) can be an atom's name: at most TERM_NAME_MAX bytes,
** none of them zero (a node's name must also not be empty). */
int term_name_ok(const void *name, size_t len);
/* An array or map header; the caller writes the `count` elements (for a
** map: count keys in encoded order, then count values) right after. */
void term_put_array(buf *b, uint32_t count);
void term_put_map(buf *b, uint32_t count);
/* A list: term_put_list, then the elements, then term_put_list_end. */
void term_put_list(buf *b);
void term_put_list_end(buf *b);

/* A map whose entries come in any order (a Lua table, an Erlang map): each
** key and value is encoded into one buffer `kv` and its place recorded;
** term_map_sort puts the entries in key order and returns 0 when two keys
** are the same term (not a valid map), term_map_put then writes the map. */
typedef struct term_mapent {
  size_t koff, klen, voff, vlen;
} term_mapent;
int term_map_sort(term_mapent *list, size_t n, const unsigned char *kv);
void term_map_put(buf *b, const term_mapent *list, size_t n, const unsigned char *kv);

/* ---- reading ----
** Readers take (p, len) and never read past p + len. Functions returning a
** size return 0 when the bytes are malformed or truncated. */

/* Size of the valid term at p; 0 if it is none. Checks structure up to
** TERM_MAX_DEPTH, that map keys are strictly ascending and that none is
** nil or NaN. */
size_t term_skip(const unsigned char *p, size_t len);

/* 1 when p[0..len) is exactly one valid term. */
int term_valid(const unsigned char *p, size_t len);

/* The same, saying why not: TERM_OK, TERM_MALFORMED (not one whole term),
** or a map key no Lua table can hold. */
enum { TERM_OK, TERM_MALFORMED, TERM_NIL_KEY, TERM_NAN_KEY };
int term_check(const unsigned char *p, size_t len);

/* Reads a number term; returns its size or 0. */
size_t term_get_num(const unsigned char *p, size_t len, term_num *out);

/* The common number, an integer of magnitude below 2^53, read with fewer
** checks: 1 and *v when p holds one, 0 otherwise (term_get_num then says
** what p holds). */
int term_get_small_int(const unsigned char *p, size_t len, int64_t *v);

/* Reads an array or map header (tag included): *count, and the size of the
** header; 0 if p is not one. */
size_t term_get_header(const unsigned char *p, size_t len, int *tag, uint32_t *count);

/* Reads a list's elements, p being a term already known to be well formed:
** *count and the size of the list; 0 if p is not one. The elements start
** at p + 1, one after another; the last is followed by TERM_LIST_END. */
size_t term_get_list(const unsigned char *p, size_t len, uint32_t *count);

/* Reads a string: calls the body's unescaped bytes into `out` (appended).
** Returns the term's size or 0. */
size_t term_get_string(const unsigned char *p, size_t len, buf *out);

/* The size of the string term at p (0 if malformed) and, in *chars, the
** length of its unescaped body; unlike term_get_string, copies nothing. */
size_t term_string_length(const unsigned char *p, size_t len, size_t *chars);

/* Reads a ref/table/pid id; returns 9 or 0. */
size_t term_get_id(const unsigned char *p, size_t len, int *tag, uint64_t *id);

/* Read an atom (*name points into p), an xpid or an xref; each returns
** the term's size or 0 when p is not a canonical one. */
size_t term_get_atom(const unsigned char *p, size_t len,
                     const unsigned char **name, size_t *namelen);
size_t term_get_xpid(const unsigned char *p, size_t len, term_xpid *out);
size_t term_get_xref(const unsigned char *p, size_t len, term_xref *out);

/* Size of the term at p, for a term already known to be well formed (a
** stored object, a validated spec): like term_skip but without the map-key
** order check, so it is linear. Malformed bytes still give 0, never a read
** outside p[0..len) or nesting deeper than TERM_MAX_DEPTH. */
size_t term_size_trusted(const unsigned char *p, size_t len);

/* Skips n well-formed terms from p + at, then gives the one found there:
** *elem and *elen, and 1; 0 when the bytes end first. */
int term_nth_after(const unsigned char *p, size_t len, size_t at, uint32_t n,
                   const unsigned char **elem, size_t *elen);

/* Finds element `index` (0-based) of the array at p: *elem and *elen.
** Returns 1 when found, 0 when the array is shorter or p is no array. */
int term_array_elem(const unsigned char *p, size_t len, uint32_t index,
                    const unsigned char **elem, size_t *elen);

/* The same for element `index` of the list at p. */
int term_list_elem(const unsigned char *p, size_t len, uint32_t index,
                   const unsigned char **elem, size_t *elen);

/* Finds the value stored under the encoded key k in the map at p. */
int term_map_get(const unsigned char *p, size_t len,
                 const unsigned char *k, size_t klen,
                 const unsigned char **val, size_t *vlen);

/* Compares two terms in term order: <0, 0 or >0. */
int term_compare(const unsigned char *a, size_t alen,
                 const unsigned char *b, size_t blen);

/* 1 if the term is a number whose value is NaN (refused as a key). */
int term_is_nan(const unsigned char *p, size_t len);

/* A pid as Erlang prints one, "<0.ID.SERIAL>", into out (size bytes). */
void term_pid_text(uint64_t pid, char *out, size_t size);

/* Another node's pid as "<node@host.NUM.SERIAL>" and ref as
** "#Ref<node@host.ID...>" (the last id first, as Erlang prints them), into
** out (size bytes; TERM_NAMED_TEXT_MAX holds any). */
#define TERM_NAMED_TEXT_MAX (TERM_NAME_MAX + 8 + 11 * TERM_XREF_WORDS)
void term_xpid_text(const term_xpid *x, char *out, size_t size);
void term_xref_text(const term_xref *x, char *out, size_t size);

#endif
