/*
** ldbfile.c — LevelDB's logs and table files checked on their own
** (ldbfile.h), and a damaged log rewritten without its damage. Nothing
** here trusts a length it read: every offset is checked against the file.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc.h"
#include "buf.h"
#include "ldbfile.h"

#define BLOCK 32768          /* a log block */
#define HEADER 7             /* crc u32, length u16, type u8 */
#define FOOTER 48            /* a table file's footer */
#define TRAILER 5            /* a table block's type u8 and crc u32 */
#define TABLE_MAGIC 0xdb4775248b80fb57ull
#define CRC_MASK_DELTA 0xa282ead8u

enum { FULL = 1, FIRST, MIDDLE, LAST };


/* LevelDB stores a CRC rotated and offset ("masked"), so that the CRC of
** data holding CRCs is not trivial. */
static uint32_t crc_unmask(uint32_t masked) {
  uint32_t rot = masked - CRC_MASK_DELTA;
  return rot >> 17 | rot << 15;
}

static uint32_t crc_mask(uint32_t crc) {
  return (crc >> 15 | crc << 17) + CRC_MASK_DELTA;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p) {
  return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- files ---- */

static hl_status read_file(const char *path, buf *out, hl_err *e) {
  FILE *f = fopen(path, "rb");
  size_t got = 0;
  if (f == NULL) return err_set(e, HL_ESTORE, "cannot read '%s': %s", path, strerror(errno));
  do {
    unsigned char *p = buf_grab(out, 65536);
    if (p == NULL) break;
    got = fread(p, 1, 65536, f);
    out->n -= 65536 - got;
  } while (got == 65536);
  if (ferror(f)) err_set(e, HL_ESTORE, "cannot read '%s': %s", path, strerror(errno));
  else if (!buf_ok(out)) err_set(e, HL_ENOMEM, "out of memory");
  fclose(f);
  return e->code;
}

/* Writes p[0..n) to path, synced. */
static hl_status write_file(const char *path, const void *p, size_t n, hl_err *e) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const unsigned char *s = p;
  if (fd < 0) return err_set(e, HL_ESTORE, "cannot write '%s': %s", path, strerror(errno));
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    s += w;
    n -= (size_t)w;
  }
  if (n > 0 || fsync(fd) != 0) err_set(e, HL_ESTORE, "cannot write '%s': %s", path, strerror(errno));
  close(fd);
  return e->code;
}

static void damage(ldbf_damage *d, uint64_t at, const char *why) {
  if (d->found) return;
  d->found = 1;
  d->at = at;
  snprintf(d->what, sizeof d->what, "%s at byte %llu", why, (unsigned long long)at);
}

/* ---- logs ---- */

typedef struct record {
  int type;
  const unsigned char *data;
  size_t len;
} record;

static int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0) return 0;
  return 1;
}

/* The physical record at `at` (p[0..n) is the file): 1 with r filled,
** 0 at the end of the file, -1 when damaged (*why says how). A record cut
** short by the end of the file, and zeros up to it, are its end: that is
** what a crash leaves while a record is written. LevelDB also reads a
** zeroed header as the end of its block, and goes on at the next one;
** anywhere but at the end that is damage. */
static int physical(const unsigned char *p, size_t n, size_t at, record *r, const char **why) {
  size_t left = BLOCK - at % BLOCK;
  const unsigned char *h = p + at;
  size_t len;
  if (n - at < HEADER) return 0;
  len = (size_t)h[4] | (size_t)h[5] << 8;
  r->type = h[6];
  r->data = h + HEADER;
  r->len = len;
  if (r->type == 0 && len == 0) {
    if (all_zero(h, n - at)) return 0;
    *why = "zeros in place of a record header";
    return -1;
  }
  if (r->type < FULL || r->type > LAST) {
    *why = "an unknown record type";
    return -1;
  }
  if (HEADER + len > left) {
    *why = "a bad record length";
    return -1;
  }
  if (len > n - at - HEADER) return 0;
  if (crc_unmask(le32(h)) != crc32_castagnoli(0, h + 6, len + 1)) {
    *why = "checksum mismatch in a record";
    return -1;
  }
  return 1;
}

/* The next offset at which a record may start: past a block's trailer. */
static size_t next_start(size_t at) {
  size_t left = BLOCK - at % BLOCK;
  return left < HEADER ? at + left : at;
}

/* After damage at `at`: the next offset in its block where an intact
** record starts (its checksum proves it), else the next block. */
static size_t resync(const unsigned char *p, size_t n, size_t at) {
  size_t end = at - at % BLOCK + BLOCK;
  record r;
  const char *why;
  if (end > n) end = n;
  for (size_t q = at + 1; q + HEADER <= end; q++) {
    unsigned t = p[q + 6];
    size_t len = (size_t)p[q + 4] | (size_t)p[q + 5] << 8;
    if (t < FULL || t > LAST || q + HEADER + len > end) continue;
    if (physical(p, n, q, &r, &why) == 1) return q;
  }
  return end;
}

hl_status ldbf_check_log(const char *path, ldbf_damage *d, hl_err *e) {
  buf file;
  size_t at = 0;
  int chain = 0;   /* inside a FIRST ... LAST record */
  memset(d, 0, sizeof *d);
  buf_init(&file);
  if (read_file(path, &file, e) != HL_OK) {
    buf_free(&file);
    return e->code;
  }
  while (!d->found && (at = next_start(at)) < file.n) {
    record r;
    const char *why = NULL;
    int got = physical(file.p, file.n, at, &r, &why);
    if (got == 0) break;
    if (got < 0) {
      damage(d, at, why);
      break;
    }
    if ((r.type == FULL || r.type == FIRST) && chain)
      damage(d, at, "a fragmented record without its end");
    else if ((r.type == MIDDLE || r.type == LAST) && !chain)
      damage(d, at, "a fragment without its start");
    chain = r.type == FIRST || r.type == MIDDLE;
    at += HEADER + r.len;
  }
  buf_free(&file);
  return HL_OK;
}

/* ---- rewriting a log ---- */

/* Appends one logical record in LevelDB's framing. */
static void emit(buf *out, const unsigned char *data, size_t len) {
  int begin = 1;
  do {
    size_t left = BLOCK - out->n % BLOCK, frag;
    unsigned char *h;
    int type;
    if (left < HEADER) {
      unsigned char *z = buf_grab(out, left);
      if (z == NULL) return;
      memset(z, 0, left);
      left = BLOCK;
    }
    frag = len < left - HEADER ? len : left - HEADER;
    type = begin && frag == len ? FULL : begin ? FIRST : frag == len ? LAST : MIDDLE;
    if ((h = buf_grab(out, HEADER)) == NULL) return;
    h[4] = (unsigned char)frag;
    h[5] = (unsigned char)(frag >> 8);
    h[6] = (unsigned char)type;
    {
      uint32_t crc = crc_mask(crc32_castagnoli(crc32_castagnoli(0, h + 6, 1), data, frag));
      h[0] = (unsigned char)crc;
      h[1] = (unsigned char)(crc >> 8);
      h[2] = (unsigned char)(crc >> 16);
      h[3] = (unsigned char)(crc >> 24);
    }
    buf_put(out, data, frag);
    data += frag;
    len -= frag;
    begin = 0;
  } while (len > 0);
}

typedef struct cleaner {
  buf out;           /* the new file */
  buf chain;         /* the fragments of the record being read */
  int in_chain;      /* a FIRST was read, its LAST not yet */
  int chain_ok;      /* no fragment of it was lost */
  ldbf_cleaned *c;
} cleaner;

static void drop_chain(cleaner *k) {
  if (k->in_chain) k->c->dropped++;
  k->in_chain = 0;
  buf_reset(&k->chain);
}

static void take(cleaner *k, const record *r) {
  if (r->type == FULL || r->type == FIRST) {
    drop_chain(k);
    if (r->type == FULL) {
      emit(&k->out, r->data, r->len);
      k->c->kept++;
      return;
    }
    k->in_chain = 1;
    k->chain_ok = 1;
  } else if (!k->in_chain) {
    k->c->dropped++;   /* a fragment whose start was lost */
    return;
  }
  buf_put(&k->chain, r->data, r->len);
  if (r->type == LAST) {
    if (k->chain_ok) {
      emit(&k->out, k->chain.p, k->chain.n);
      k->c->kept++;
    } else {
      k->c->dropped++;
    }
    k->in_chain = 0;
    buf_reset(&k->chain);
  }
}

hl_status ldbf_clean_log(const char *path, const char *keep_as, ldbf_cleaned *c, hl_err *e) {
  buf file;
  cleaner k;
  size_t at = 0;
  char tmp[4200];
  memset(c, 0, sizeof *c);
  memset(&k, 0, sizeof k);
  k.c = c;
  buf_init(&file);
  buf_init(&k.out);
  buf_init(&k.chain);
  if (read_file(path, &file, e) != HL_OK) goto done;
  while ((at = next_start(at)) < file.n) {
    record r;
    const char *why = NULL;
    int got = physical(file.p, file.n, at, &r, &why);
    if (got == 0) break;
    if (got > 0) {
      take(&k, &r);
      at += HEADER + r.len;
    } else {
      size_t next = resync(file.p, file.n, at);
      damage(&c->first, at, why);
      c->bytes += next - at;
      if (!k.in_chain) {   /* the damaged record is dropped as a broken chain */
        k.in_chain = 1;
        buf_reset(&k.chain);
      }
      k.chain_ok = 0;
      at = next;
    }
  }
  drop_chain(&k);   /* cut short by the end: never acknowledged whole */
  if (!buf_ok(&k.out) || !buf_ok(&k.chain)) {
    err_set(e, HL_ENOMEM, "out of memory");
    goto done;
  }
  if (snprintf(tmp, sizeof tmp, "%s.clean", path) >= (int)sizeof tmp) {
    err_set(e, HL_EBADARG, "the path '%s' is too long", path);
    goto done;
  }
  /* the original is kept first: path is never missing, never half written */
  if (write_file(keep_as, file.p, file.n, e) == HL_OK &&
      write_file(tmp, k.out.p, k.out.n, e) == HL_OK && rename(tmp, path) != 0)
    err_set(e, HL_ESTORE, "cannot replace '%s': %s", path, strerror(errno));
done:
  buf_free(&file);
  buf_free(&k.out);
  buf_free(&k.chain);
  return e->code;
}

/* ---- table files ---- */

static const unsigned char *varint64(const unsigned char *p, const unsigned char *end,
                                     uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift <= 63 && p < end; shift += 7) {
    unsigned char b = *p++;
    *v |= (uint64_t)(b & 0x7F) << shift;
    if (b < 0x80) return p;
  }
  return NULL;
}

static const unsigned char *varint32(const unsigned char *p, const unsigned char *end,
                                     uint32_t *v) {
  uint64_t w;
  p = varint64(p, end, &w);
  if (p == NULL || w > 0xFFFFFFFFu) return NULL;
  *v = (uint32_t)w;
  return p;
}

/* Snappy's format (format_description.txt in its sources): the length as
** a varint, then literals and back-references. 0 when malformed. */
static int snappy_uncompress(const unsigned char *p, size_t n, buf *out) {
  const unsigned char *end = p + n;
  uint32_t ulen;
  size_t o = 0;
  unsigned char *dst;
  if ((p = varint32(p, end, &ulen)) == NULL || (dst = buf_grab(out, ulen)) == NULL) return 0;
  while (p < end) {
    unsigned tag = *p++;
    size_t len, off = 0;
    if ((tag & 3) == 0) {                    /* a literal */
      len = tag >> 2;
      if (len >= 60) {
        size_t bytes = len - 59;
        if ((size_t)(end - p) < bytes) return 0;
        len = 0;
        for (size_t i = 0; i < bytes; i++) len |= (size_t)p[i] << (8 * i);
        p += bytes;
      }
      len++;
      if ((size_t)(end - p) < len || ulen - o < len) return 0;
      memcpy(dst + o, p, len);
      p += len;
      o += len;
      continue;
    }
    if ((tag & 3) == 1) {
      if (end - p < 1) return 0;
      len = 4 + ((tag >> 2) & 7);
      off = (size_t)(tag >> 5) << 8 | p[0];
      p += 1;
    } else if ((tag & 3) == 2) {
      if (end - p < 2) return 0;
      len = (tag >> 2) + 1;
      off = (size_t)p[0] | (size_t)p[1] << 8;
      p += 2;
    } else {
      if (end - p < 4) return 0;
      len = (tag >> 2) + 1;
      off = le32(p);
      p += 4;
    }
    if (off == 0 || off > o || ulen - o < len) return 0;
    for (size_t i = 0; i < len; i++, o++) dst[o] = dst[o - off];   /* may overlap */
  }
  return o == ulen;
}

typedef struct table {
  const unsigned char *p;
  size_t n;
  ldbf_damage *d;
} table;

/* Checks the block at (off, size) and its trailer; its contents (the
** block uncompressed) into out when out is not NULL. 0 when damaged. */
static int table_block(table *t, uint64_t off, uint64_t size, buf *out) {
  const unsigned char *b;
  if (off > t->n || size > t->n - off || t->n - off - size < TRAILER) {
    damage(t->d, off, "a block outside the file");
    return 0;
  }
  b = t->p + off;
  if (crc_unmask(le32(b + size + 1)) != crc32_castagnoli(0, b, size + 1)) {
    damage(t->d, off, "checksum mismatch in a block");
    return 0;
  }
  if (b[size] > 1) {
    damage(t->d, off, "an unknown block type");
    return 0;
  }
  if (out == NULL) return 1;
  if (b[size] == 0) buf_put(out, b, size);
  else if (!snappy_uncompress(b, size, out)) {
    damage(t->d, off, "bad compressed contents in a block");
    return 0;
  }
  return 1;
}

/* Every data block the index block names. */
static void table_data(table *t, uint64_t at, const buf *index) {
  const unsigned char *p = index->p, *limit, *end = index->p + index->n;
  uint32_t restarts;
  if (index->n < 4 || (restarts = le32(end - 4)) > (index->n - 4) / 4) {
    damage(t->d, at, "a bad index block");
    return;
  }
  limit = end - 4 - 4 * (size_t)restarts;
  while (p < limit && !t->d->found) {
    uint32_t shared, unshared, vlen;
    uint64_t off, size;
    const unsigned char *v;
    if ((p = varint32(p, limit, &shared)) == NULL || (p = varint32(p, limit, &unshared)) == NULL ||
        (p = varint32(p, limit, &vlen)) == NULL || (size_t)(limit - p) < (size_t)unshared + vlen) {
      damage(t->d, at, "a bad index block");
      return;
    }
    v = p + unshared;
    p = v + vlen;
    if ((v = varint64(v, p, &off)) == NULL || varint64(v, p, &size) == NULL) {
      damage(t->d, at, "a bad index block");
      return;
    }
    table_block(t, off, size, NULL);
  }
}

hl_status ldbf_check_table(const char *path, ldbf_damage *d, hl_err *e) {
  buf file, index;
  table t;
  memset(d, 0, sizeof *d);
  buf_init(&file);
  buf_init(&index);
  if (read_file(path, &file, e) != HL_OK) goto done;
  t = (table){file.p, file.n, d};
  if (file.n < FOOTER || le64(file.p + file.n - 8) != TABLE_MAGIC) {
    damage(d, file.n < FOOTER ? 0 : file.n - FOOTER, "no table magic number in the footer");
  } else {
    const unsigned char *f = file.p + file.n - FOOTER, *fend = f + FOOTER - 8;
    uint64_t moff, msize, ioff, isize;
    if ((f = varint64(f, fend, &moff)) == NULL || (f = varint64(f, fend, &msize)) == NULL ||
        (f = varint64(f, fend, &ioff)) == NULL || varint64(f, fend, &isize) == NULL)
      damage(d, file.n - FOOTER, "a bad footer");
    else if (table_block(&t, moff, msize, NULL) && table_block(&t, ioff, isize, &index))
      table_data(&t, ioff, &index);
    if (!buf_ok(&index)) err_set(e, HL_ENOMEM, "out of memory");
  }
done:
  buf_free(&file);
  buf_free(&index);
  return e->code;
}
