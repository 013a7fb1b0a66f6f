/*
** tabfile.c — table files (tabfile.h; the format is in
** docs/durability.md):
**
**   magic     8 bytes  "HLTABF\r\n"
**   version   u32      1
**   hlen      u32      then hlen bytes: the header term
**                      {name, type, access, named, keypos}
**   records   u32 len, then len bytes: one object term; repeated
**   end       u32      0xFFFFFFFF
**   count     u64      the number of records
**   crc       u32      CRC-32 of every byte before it
** Numbers are big-endian.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc.h"
#include "etab_impl.h"
#include "tabfile.h"
#include "term.h"

#define MAGIC "HLTABF\r\n"
#define VERSION 1
#define END_MARK 0xFFFFFFFFu
#define MAX_RECORD (1u << 30)
#define CHUNK 1024


void tabfile_meta_init(tabfile_meta *m) {
  memset(m, 0, sizeof *m);
  buf_init(&m->name);
  buf_init(&m->field);
}

void tabfile_meta_free(tabfile_meta *m) {
  buf_free(&m->name);
  buf_free(&m->field);
}

/* ---- writing ---- */

typedef struct writer {
  FILE *f;
  uint32_t crc;
  int failed;
} writer;

static void w_bytes(writer *w, const void *p, size_t n) {
  if (w->failed) return;
  if (fwrite(p, 1, n, w->f) != n) w->failed = errno ? errno : EIO;
  w->crc = crc32_ieee(w->crc, p, n);
}

static void w_u32(writer *w, uint32_t v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 8), (unsigned char)v};
  w_bytes(w, b, 4);
}

static void w_u64(writer *w, uint64_t v) {
  w_u32(w, (uint32_t)(v >> 32));
  w_u32(w, (uint32_t)v);
}

static void header_term(etab *t, buf *h) {
  buf name;
  buf_init(&name);
  etab_meta(t, &name, NULL, NULL);
  term_put_array(h, 5);
  if (buf_ok(&name)) term_put_string(h, name.p, strlen((const char *)name.p));
  else h->oom = 1;
  term_put_string(h, etab_type_name(t->type), strlen(etab_type_name(t->type)));
  term_put_string(h, etab_access_name(t->access), strlen(etab_access_name(t->access)));
  term_put_bool(h, t->named);
  if (t->keypos.field != NULL) buf_put(h, t->keypos.field, t->keypos.fieldlen);
  else term_put_int(h, t->keypos.index);
  buf_free(&name);
}

/* Writes the objects, scanning the table in chunks; *count gets how many. */
static hl_status write_objects(etab *t, uint64_t caller, writer *w, uint64_t *count,
                               hl_err *e) {
  buf chunk, last, from;
  int done = 0;
  buf_init(&chunk);
  buf_init(&last);
  buf_init(&from);
  *count = 0;
  while (!done && !w->failed) {
    size_t n, at = 0;
    buf_reset(&from);
    buf_put(&from, last.p, last.n);
    buf_reset(&chunk);
    if (etab_scan(t, caller, (tslice){from.n ? from.p : NULL, from.n}, 1, NULL, CHUNK,
                  &chunk, &n, &last, &done, e) != HL_OK)
      break;
    for (size_t i = 0; i < n; i++) {
      size_t len = term_size_trusted(chunk.p + at, chunk.n - at);
      w_u32(w, (uint32_t)len);
      w_bytes(w, chunk.p + at, len);
      at += len;
    }
    *count += n;
    if (n == 0) break;
  }
  buf_free(&chunk);
  buf_free(&last);
  buf_free(&from);
  return e->code;
}

hl_status tabfile_save(etab *t, uint64_t caller, const char *path, hl_err *e) {
  writer w = {NULL, 0, 0};
  buf h, tmp;
  uint64_t count = 0;
  unsigned char crc[4];
  if (etab_check_read(t, caller, e) != HL_OK) return e->code;
  buf_init(&h);
  buf_init(&tmp);
  header_term(t, &h);
  buf_put(&tmp, path, strlen(path));
  buf_put(&tmp, ".tmp", 5);
  if (!buf_ok(&h) || !buf_ok(&tmp)) {
    err_set(e, HL_ENOMEM, "out of memory");
    goto done;
  }
  if ((w.f = fopen((const char *)tmp.p, "wb")) == NULL) {
    err_set(e, HL_ESTORE, "cannot write '%s': %s", path, strerror(errno));
    goto done;
  }
  w_bytes(&w, MAGIC, 8);
  w_u32(&w, VERSION);
  w_u32(&w, (uint32_t)h.n);
  w_bytes(&w, h.p, h.n);
  if (write_objects(t, caller, &w, &count, e) == HL_OK) {
    w_u32(&w, END_MARK);
    w_u64(&w, count);
    crc[0] = (unsigned char)(w.crc >> 24);
    crc[1] = (unsigned char)(w.crc >> 16);
    crc[2] = (unsigned char)(w.crc >> 8);
    crc[3] = (unsigned char)w.crc;
    w_bytes(&w, crc, 4);
  }
  if (fflush(w.f) != 0 && !w.failed) w.failed = errno;
  if (!w.failed && fsync(fileno(w.f)) != 0) w.failed = errno;
  if (fclose(w.f) != 0 && !w.failed) w.failed = errno;
  if (e->code == HL_OK && w.failed)
    err_set(e, HL_ESTORE, "cannot write '%s': %s", path, strerror(w.failed));
  if (e->code == HL_OK && rename((const char *)tmp.p, path) != 0)
    err_set(e, HL_ESTORE, "cannot write '%s': %s", path, strerror(errno));
  if (e->code != HL_OK) remove((const char *)tmp.p);
done:
  buf_free(&h);
  buf_free(&tmp);
  return e->code;
}

/* ---- reading ---- */

typedef struct reader {
  FILE *f;
  const char *path;
  uint32_t crc;
  buf rec;
} reader;

static hl_status corrupt(reader *r, const char *why, hl_err *e) {
  return err_set(e, HL_ESTORE, "'%s' is not a valid table file: %s", r->path, why);
}

static int r_bytes(reader *r, void *p, size_t n) {
  if (fread(p, 1, n, r->f) != n) return 0;
  r->crc = crc32_ieee(r->crc, p, n);
  return 1;
}

static int r_u32(reader *r, uint32_t *v) {
  unsigned char b[4];
  if (!r_bytes(r, b, 4)) return 0;
  *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
  return 1;
}

static int name_index(const char *s, size_t len, const char *(*name)(int), int n) {
  for (int i = 0; i < n; i++)
    if (strlen(name(i)) == len && memcmp(name(i), s, len) == 0) return i;
  return -1;
}

static const char *type_name(int i) { return etab_type_name((hl_table_type)i); }
static const char *access_name(int i) { return etab_access_name((hl_access)i); }

static hl_status parse_header(reader *r, const unsigned char *p, size_t len, tabfile_meta *m,
                              hl_err *e) {
  const unsigned char *el;
  size_t elen;
  int tag, idx;
  uint32_t count;
  buf s;
  term_num num;
  if (!term_valid(p, len) || !term_get_header(p, len, &tag, &count) || tag != TERM_ARRAY ||
      count != 5)
    return corrupt(r, "bad header", e);
  buf_init(&s);
  for (uint32_t i = 0; i < 3; i++) {
    buf_reset(&s);
    if (!term_array_elem(p, len, i, &el, &elen) || !term_get_string(el, elen, &s)) break;
    if (i == 0) {
      if (s.n == 0 || memchr(s.p, 0, s.n) != NULL) break;
      buf_put(&m->name, s.p, s.n);
      buf_putc(&m->name, 0);
    } else if ((idx = name_index((const char *)s.p, s.n, i == 1 ? type_name : access_name,
                                 i == 1 ? 4 : 3)) < 0) {
      break;
    } else if (i == 1) {
      m->type = (hl_table_type)idx;
    } else {
      m->access = (hl_access)idx;
    }
    if (i == 2) {
      buf_free(&s);
      goto rest;
    }
  }
  buf_free(&s);
  return corrupt(r, "bad header", e);
rest:
  if (!term_array_elem(p, len, 3, &el, &elen) || elen != 1 ||
      (el[0] != TERM_TRUE && el[0] != TERM_FALSE))
    return corrupt(r, "bad header", e);
  m->named = el[0] == TERM_TRUE;
  if (!term_array_elem(p, len, 4, &el, &elen)) return corrupt(r, "bad header", e);
  if (el[0] == TERM_STRING) {
    buf_put(&m->field, el, elen);
    m->keypos = 0;
  } else if (term_get_num(el, elen, &num) == elen && num.isint && num.i >= 1 &&
             num.i <= (int64_t)TERM_MAX_COUNT) {
    m->keypos = (uint32_t)num.i;
  } else {
    return corrupt(r, "bad header", e);
  }
  if (!buf_ok(&m->name) || !buf_ok(&m->field)) return err_set(e, HL_ENOMEM, "out of memory");
  return HL_OK;
}

/* Opens path and reads up to the first record. */
static hl_status open_file(reader *r, const char *path, tabfile_meta *m, hl_err *e) {
  char magic[8];
  uint32_t hlen;
  memset(r, 0, sizeof *r);
  r->path = path;
  buf_init(&r->rec);
  if ((r->f = fopen(path, "rb")) == NULL)
    return err_set(e, HL_ESTORE, "cannot open '%s': %s", path, strerror(errno));
  if (!r_bytes(r, magic, 8) || memcmp(magic, MAGIC, 8) != 0)
    return corrupt(r, "no table file magic at its start", e);
  if (!r_u32(r, &m->version)) return corrupt(r, "truncated", e);
  if (m->version != VERSION)
    return corrupt(r, "version unknown to this heirloom", e);
  if (!r_u32(r, &hlen) || hlen > MAX_RECORD) return corrupt(r, "truncated", e);
  if (buf_grab(&r->rec, hlen) == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  if (!r_bytes(r, r->rec.p, hlen)) return corrupt(r, "truncated", e);
  return parse_header(r, r->rec.p, hlen, m, e);
}

/* The next record into r->rec: 1, or 0 at the end mark (then the count and
** the checksum are checked), or -1 with e set. */
static int next_record(reader *r, uint64_t seen, hl_err *e) {
  uint32_t len, hi, lo, want, got;
  if (!r_u32(r, &len)) return corrupt(r, "truncated", e), -1;
  if (len == END_MARK) {
    if (!r_u32(r, &hi) || !r_u32(r, &lo)) return corrupt(r, "truncated", e), -1;
    got = r->crc;
    if (!r_u32(r, &want)) return corrupt(r, "truncated", e), -1;
    if (want != got) return corrupt(r, "checksum mismatch", e), -1;
    if (((uint64_t)hi << 32 | lo) != seen) return corrupt(r, "wrong object count", e), -1;
    if (fgetc(r->f) != EOF) return corrupt(r, "bytes after the checksum", e), -1;
    return 0;
  }
  if (len == 0 || len > MAX_RECORD) return corrupt(r, "bad record length", e), -1;
  buf_reset(&r->rec);
  if (buf_grab(&r->rec, len) == NULL) return err_set(e, HL_ENOMEM, "out of memory"), -1;
  if (!r_bytes(r, r->rec.p, len)) return corrupt(r, "truncated", e), -1;
  return 1;
}

static void close_file(reader *r) {
  if (r->f != NULL) fclose(r->f);
  buf_free(&r->rec);
}

/* Checks a whole file: every record a term, the count, the checksum. */
static hl_status check_file(const char *path, tabfile_meta *m, hl_err *e) {
  reader r;
  uint64_t n = 0;
  int bad = 0;
  /* A damaged record is reported only when the checksum matched: a
  ** mismatch says more about what happened to the file. */
  if (open_file(&r, path, m, e) == HL_OK) {
    while (next_record(&r, n, e) == 1) {
      if (!bad && !term_valid(r.rec.p, r.rec.n)) bad = 1;
      n++;
    }
  }
  close_file(&r);
  if (e->code == HL_OK && bad) corrupt(&r, "a record is not a well-formed term", e);
  m->count = n;
  return e->code;
}

hl_status tabfile_info(const char *path, tabfile_meta *m, hl_err *e) {
  return check_file(path, m, e);
}

/* The second pass: the records into t, in chunks. */
static hl_status fill(etab *t, uint64_t caller, const char *path, hl_err *e) {
  reader r;
  tabfile_meta m;
  buf chunk;
  tslice objs[CHUNK];
  size_t nobjs = 0;
  uint64_t n = 0;
  int more = 1, inserted;
  tabfile_meta_init(&m);
  buf_init(&chunk);
  if (open_file(&r, path, &m, e) == HL_OK) {
    while (more == 1) {
      more = next_record(&r, n, e);
      if (more == 1) {
        buf_put(&chunk, r.rec.p, r.rec.n);
        objs[nobjs++].len = r.rec.n;
        n++;
      }
      if (nobjs > 0 && (nobjs == CHUNK || more != 1) && more >= 0) {
        size_t at = 0;
        if (!buf_ok(&chunk)) {
          err_set(e, HL_ENOMEM, "out of memory");
          break;
        }
        for (size_t i = 0; i < nobjs; i++) {
          objs[i].p = chunk.p + at;
          at += objs[i].len;
        }
        if (etab_insert(t, caller, objs, nobjs, 0, &inserted, e) != HL_OK) break;
        nobjs = 0;
        buf_reset(&chunk);
      }
    }
  }
  close_file(&r);
  buf_free(&chunk);
  tabfile_meta_free(&m);
  return e->code;
}

hl_status tabfile_load(treg *r, uint64_t caller, const char *path, const char *name,
                       int durable, int sync, etab **out, hl_err *e) {
  tabfile_meta m;
  etab_opts o;
  etab *t;
  *out = NULL;
  tabfile_meta_init(&m);
  if (check_file(path, &m, e) != HL_OK) {
    tabfile_meta_free(&m);
    return e->code;
  }
  memset(&o, 0, sizeof o);
  o.type = m.type;
  o.access = m.access;
  o.named = m.named;
  o.keypos.index = m.keypos;
  if (m.keypos == 0) {
    o.keypos.field = m.field.p;
    o.keypos.fieldlen = m.field.n;
  }
  o.durable = durable;
  o.sync = sync;
  t = etab_new(r, name != NULL ? name : (const char *)m.name.p, &o, caller, e);
  tabfile_meta_free(&m);
  if (t == NULL) return e->code;
  /* The file is read twice: checked whole before the table was made, and
  ** again while filling it, in case it changed in between. */
  if (fill(t, caller, path, e) != HL_OK) {
    hl_err ignored;
    err_clear(&ignored);
    etab_drop(t, caller, &ignored);
    etab_unref(t);
    return e->code;
  }
  *out = t;
  return HL_OK;
}
