/*
** srepair.c — repairing a damaged store (`heirloom repair DIR`,
** hl.store.repair, hl_store_repair in capi.c), and an honest account of
** it.
**
** The order is the least lossy first. LevelDB's files are checked on
** their own (ldbfile.h); a damaged log is rewritten with its intact
** records only (the original kept in lost/). A missing CURRENT is written
** again, naming the newest intact MANIFEST: when the store then opens
** with every check and every record reads back with its checksum, nothing
** was lost. Only when it does not is LevelDB's own repair run (with its
** checks on: it drops the damaged blocks of table files and builds a new
** MANIFEST from the files it finds, moving the old ones to lost/). Last,
** the records heirloom needs to start are checked, and what it cannot
** load is removed, each said in the report.
**
** The report (a term, see docs/durability.md) counts each table's objects
** now and, when the store holds a stop record (sstop.c), at the last
** orderly stop; it says "data was lost" when it knows, and "data may have
** been lost" whenever it cannot prove otherwise.
*/
#include <errno.h>
#include <fcntl.h>
#include <leveldb/c.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sdir.h"
#include "srepair.h"
#include "store_impl.h"
#include "term.h"

#define MAX_LEVELDB_LINES 20

/* A list of strings, each NUL-terminated, one after another. */
typedef struct strs {
  buf b;
  size_t n;
} strs;

typedef struct tcount {
  uint64_t sid;
  char *name;                /* NULL: no metadata now */
  uint64_t objects;
} tcount;

typedef struct repair {
  const char *dir;
  strs damage, actions;
  int may_have_lost;         /* no proof that nothing was lost */
  int known_loss;            /* something is known to be lost */
  int leveldb_repair;        /* LevelDB's repair ran */
  leveldb_options_t *opts;
  leveldb_readoptions_t *ro;
  leveldb_writeoptions_t *wo;
  leveldb_t *db;
  sstop stop;
  tcount *tables;
  size_t ntables;
  uint64_t records, orphans;
} repair;

static void say(strs *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(strs *s, const char *fmt, ...) {
  char line[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  buf_put(&s->b, line, strlen(line) + 1);
  s->n++;
}

static const char *next_str(const strs *s, size_t *at) {
  const char *p = (const char *)s->b.p + *at;
  *at += strlen(p) + 1;
  return p;
}

/* ---- the directory ---- */

/* A process that is not heirloom's holds LevelDB's LOCK: refused. This
** OS process holds no lock on it (a node of its own would hold HEIRLOOM's
** lock, and sdir_lock failed), so opening and closing it undoes none. */
static hl_status check_leveldb_lock(const char *dir, hl_err *e) {
  char path[4200];
  struct flock fl;
  int fd;
  snprintf(path, sizeof path, "%s/LOCK", dir);
  if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) return HL_OK;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
    err_set(e, HL_ESTORE, "data_dir '%s' is in use by process %ld (it holds LevelDB's LOCK)",
            dir, (long)fl.l_pid);
  close(fd);
  return e->code;
}

/* The MANIFEST CURRENT names ("" when none can be read). */
static void read_current(const char *dir, char *out, size_t size) {
  char path[4200];
  FILE *f;
  out[0] = '\0';
  snprintf(path, sizeof path, "%s/CURRENT", dir);
  if ((f = fopen(path, "rb")) == NULL) return;
  if (fgets(out, (int)size, f) == NULL) out[0] = '\0';
  fclose(f);
  out[strcspn(out, "\n")] = '\0';
}

static hl_status write_current(const char *dir, const char *manifest, hl_err *e) {
  char tmp[4200], path[4200], text[300];
  int fd;
  size_t n = (size_t)snprintf(text, sizeof text, "%s\n", manifest);
  snprintf(tmp, sizeof tmp, "%s/CURRENT.repair", dir);
  snprintf(path, sizeof path, "%s/CURRENT", dir);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) != 0) {
    err_set(e, HL_ESTORE, "cannot write '%s': %s", tmp, strerror(errno));
    if (fd >= 0) close(fd);
    return e->code;
  }
  close(fd);
  if (rename(tmp, path) != 0)
    return err_set(e, HL_ESTORE, "cannot write '%s': %s", path, strerror(errno));
  if ((fd = open(dir, O_RDONLY | O_CLOEXEC)) >= 0) {
    fsync(fd);
    close(fd);
  }
  return HL_OK;
}

static int file_exists(const char *dir, const char *name) {
  char path[4200];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &st) == 0;
}

/* ---- checking and cleaning LevelDB's files ---- */

static uint64_t manifest_number(const char *name) {
  return strtoull(name + 9, NULL, 10);   /* after "MANIFEST-" */
}

/* Every damaged file goes in r->damage; damaged logs are rewritten.
** intact: the intact MANIFESTs; newest: the newest MANIFEST here, intact
** or not. */
static hl_status check_files(repair *r, strs *intact, char *newest, int *current_ok,
                             hl_err *e) {
  buf names;
  size_t count, at = 0;
  char current[256];
  int leveldb_files = 0;
  buf_init(&names);
  read_current(r->dir, current, sizeof current);
  if (!file_exists(r->dir, "CURRENT")) {
    say(&r->damage, "CURRENT: missing");
  } else if (strncmp(current, "MANIFEST-", 9) != 0 || !file_exists(r->dir, current)) {
    say(&r->damage, "CURRENT: names '%s', which is no MANIFEST file here", current);
  }
  *current_ok = 0;
  newest[0] = '\0';
  if (sdir_list(r->dir, &names, &count, e) != HL_OK) goto done;
  for (size_t i = 0; i < count && e->code == HL_OK; i++) {
    const char *name = (const char *)names.p + at;
    char kind, keep[4200], path[4200];
    ldbf_damage d;
    ldbf_cleaned c;
    at += strlen(name) + 1;
    if (!sdir_leveldb_file(name, &kind) || strchr("mlt", kind) == NULL) continue;
    leveldb_files = 1;
    if (sdir_check_file(r->dir, name, kind, &d, e) != HL_OK) break;
    if (d.found) say(&r->damage, "%s: %s", name, d.what);
    if (kind == 'm' && (newest[0] == '\0' || manifest_number(name) > manifest_number(newest)))
      snprintf(newest, 64, "%s", name);
    if (kind == 'm' && !d.found) {
      buf_put(&intact->b, name, strlen(name) + 1);
      intact->n++;
      if (strcmp(name, current) == 0) *current_ok = 1;
    }
    if (kind != 'l' || !d.found) continue;
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    snprintf(keep, sizeof keep, "%s/lost", r->dir);
    mkdir(keep, 0777);
    snprintf(keep, sizeof keep, "%s/lost/%s.damaged", r->dir, name);
    if (ldbf_clean_log(path, keep, &c, e) != HL_OK) break;
    say(&r->actions, "%s: rewritten without its damage: %zu record%s dropped (%llu bytes), "
        "%zu kept; the original is kept as lost/%s.damaged", name, c.dropped,
        c.dropped == 1 ? "" : "s", (unsigned long long)c.bytes, c.kept, name);
    r->may_have_lost = 1;
    if (c.dropped > 0) r->known_loss = 1;
  }
  if (e->code == HL_OK && !leveldb_files) say(&r->damage, "LevelDB's files: none are here");
done:
  buf_free(&names);
  return e->code;
}

/* ---- opening ---- */

/* Reads every record with its checksum; NULL or LevelDB's message. */
static char *read_all(leveldb_t *db) {
  leveldb_readoptions_t *ro = leveldb_readoptions_create();
  leveldb_iterator_t *it;
  char *lerr = NULL;
  leveldb_readoptions_set_verify_checksums(ro, 1);
  leveldb_readoptions_set_fill_cache(ro, 0);
  it = leveldb_create_iterator(db, ro);
  for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
  }
  leveldb_iter_get_error(it, &lerr);
  leveldb_iter_destroy(it);
  leveldb_readoptions_destroy(ro);
  return lerr;
}

/* Opens the store with every check and reads it whole; 1 when it could. */
static int open_checked(repair *r, int note) {
  char *lerr = NULL;
  r->db = leveldb_open(r->opts, r->dir, &lerr);
  if (r->db != NULL && (lerr = read_all(r->db)) != NULL) {
    leveldb_close(r->db);
    r->db = NULL;
  }
  if (r->db == NULL && note) {
    say(&r->damage, "LevelDB: %s", lerr != NULL ? lerr : "cannot open");
    if (lerr != NULL && strstr(lerr, "missing files") != NULL) r->known_loss = 1;
  }
  leveldb_free(lerr);
  return r->db != NULL;
}

/* The intact MANIFEST numbered below `below` with the highest number, or
** NULL. */
static const char *next_manifest(const strs *intact, uint64_t below) {
  const char *best = NULL;
  size_t at = 0;
  for (size_t i = 0; i < intact->n; i++) {
    const char *name = next_str(intact, &at);
    uint64_t n = manifest_number(name);
    if (n < below && (best == NULL || n > manifest_number(best))) best = name;
  }
  return best;
}

/* CURRENT again, naming each intact MANIFEST, newest first, until the
** store opens whole. Nothing is lost only when CURRENT was missing and
** the MANIFEST is the newest here: LevelDB removes a MANIFEST once a newer
** one is current, and an older one describes the store as it was. */
static int restore_current(repair *r, const strs *intact, const char *newest, hl_err *e) {
  char before[256];
  int had = file_exists(r->dir, "CURRENT");
  const char *name;
  read_current(r->dir, before, sizeof before);
  for (name = next_manifest(intact, UINT64_MAX); name != NULL && e->code == HL_OK;
       name = next_manifest(intact, manifest_number(name))) {
    int older = had || strcmp(name, newest) != 0;
    if (write_current(r->dir, name, e) == HL_OK && open_checked(r, 0)) {
      say(&r->actions, "CURRENT: written again, naming %s%s", name,
          older ? " (a MANIFEST that may be older than the store's last one)" : "");
      if (older) r->may_have_lost = 1;
      return 1;
    }
  }
  if (e->code == HL_OK) {   /* as it was: LevelDB's repair writes its own */
    if (had) write_current(r->dir, before, e);
    else {
      char path[4200];
      snprintf(path, sizeof path, "%s/CURRENT", r->dir);
      unlink(path);
    }
  }
  return 0;
}

/* ---- LevelDB's repair ---- */

/* What LevelDB's repair wrote in its LOG about what it dropped. */
static void leveldb_said(repair *r) {
  char path[4200], line[1024];
  FILE *f;
  int n = 0;
  snprintf(path, sizeof path, "%s/LOG", r->dir);
  if ((f = fopen(path, "r")) == NULL) return;
  while (fgets(line, sizeof line, f) != NULL && n < MAX_LEVELDB_LINES) {
    char *msg = strchr(line, ' ');          /* after the time */
    if (msg == NULL || (msg = strchr(msg + 1, ' ')) == NULL) continue;   /* the thread */
    msg++;
    msg[strcspn(msg, "\n")] = '\0';
    if (strncmp(msg, "Archiving", 9) == 0 || strstr(msg, "Repaired leveldb") != NULL) continue;
    if (strstr(msg, "dropping") || strstr(msg, "dropped") || strstr(msg, "ignoring") ||
        strstr(msg, "unparsable") || strstr(msg, "repaired") || strstr(msg, "Corruption") ||
        strstr(msg, "IO error")) {
      say(&r->actions, "  LevelDB: %s", msg);
      r->known_loss = 1;   /* each such line is something it could not keep */
      n++;
    }
  }
  fclose(f);
}

static hl_status leveldb_repair(repair *r, hl_err *e) {
  char *lerr = NULL;
  leveldb_repair_db(r->opts, r->dir, &lerr);
  if (lerr != NULL) {
    err_set(e, HL_ESTORE, "LevelDB's repair of '%s' failed: %s", r->dir, lerr);
    leveldb_free(lerr);
    return e->code;
  }
  r->leveldb_repair = 1;
  r->may_have_lost = 1;
  say(&r->actions, "LevelDB's repair rebuilt the store from the files it found (the files "
      "it replaced are in lost/)");
  leveldb_said(r);
  if (!open_checked(r, 0))
    return err_set(e, HL_ESTORE, "'%s' cannot be read even after LevelDB's repair", r->dir);
  return HL_OK;
}

/* ---- what heirloom needs to start ---- */

static tcount *find_table(repair *r, uint64_t sid) {
  for (size_t i = 0; i < r->ntables; i++)
    if (r->tables[i].sid == sid) return &r->tables[i];
  return NULL;
}

static tcount *add_table(repair *r, uint64_t sid) {
  tcount *t = realloc(r->tables, (r->ntables + 1) * sizeof *t);
  if (t == NULL) return NULL;
  r->tables = t;
  t = &r->tables[r->ntables++];
  memset(t, 0, sizeof *t);
  t->sid = sid;
  return t;
}

/* Walks the records under prefix (one letter); each goes to fn, which
** may add its key to the batch of deletions. */
typedef void (*visit_fn)(repair *r, const char *key, size_t klen, const char *val,
                         size_t vlen, leveldb_writebatch_t *wb);

static hl_status walk(repair *r, char letter, visit_fn fn, leveldb_writebatch_t *wb,
                      hl_err *e) {
  leveldb_iterator_t *it = leveldb_create_iterator(r->db, r->ro);
  char *lerr = NULL;
  for (leveldb_iter_seek(it, &letter, 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
    size_t klen, vlen;
    const char *key = leveldb_iter_key(it, &klen), *val;
    if (klen == 0 || key[0] != letter) break;
    val = leveldb_iter_value(it, &vlen);
    fn(r, key, klen, val, vlen, wb);
  }
  leveldb_iter_get_error(it, &lerr);
  leveldb_iter_destroy(it);
  if (lerr != NULL) return store_fail(e, "reading the repaired store", lerr);
  return HL_OK;
}

static void visit_meta(repair *r, const char *key, size_t klen, const char *val, size_t vlen,
                       leveldb_writebatch_t *wb) {
  smeta m;
  tcount *t;
  if (klen != 9) return;
  if (!store_meta_decode((const unsigned char *)val, vlen, &m)) {
    leveldb_writebatch_delete(wb, key, klen);
    say(&r->actions, "the metadata of the table with store id %llu does not decode: removed "
        "(its objects stay in the store, unused)",
        (unsigned long long)store_get_u64((const unsigned char *)key + 1));
    r->may_have_lost = r->known_loss = 1;
    return;
  }
  if ((t = add_table(r, store_get_u64((const unsigned char *)key + 1))) == NULL) free(m.name);
  else t->name = m.name;
}

static void visit_object(repair *r, const char *key, size_t klen, const char *val,
                         size_t vlen, leveldb_writebatch_t *wb) {
  size_t n;
  tcount *t;
  if (klen < 9) return;
  t = find_table(r, store_get_u64((const unsigned char *)key + 1));
  n = store_value_objects((const unsigned char *)val, vlen);
  if (n == 0) {
    leveldb_writebatch_delete(wb, key, klen);
    say(&r->actions, "a record of table '%s' does not decode: removed",
        t != NULL && t->name != NULL ? t->name : "?");
    r->may_have_lost = r->known_loss = 1;
  } else if (t != NULL && t->name != NULL) {
    t->objects += n;
  } else {
    r->orphans += n;
  }
}

static void visit_record(repair *r, const char *key, size_t klen, const char *val,
                         size_t vlen, leveldb_writebatch_t *wb) {
  const unsigned char *k = (const unsigned char *)key;
  size_t ns = klen > 1 ? term_skip(k + 1, klen - 1) : 0;
  if (ns == 0 || !term_valid(k + 1 + ns, klen - 1 - ns) ||
      !term_valid((const unsigned char *)val, vlen)) {
    leveldb_writebatch_delete(wb, key, klen);
    say(&r->actions, "an hl.store record does not decode: removed");
    r->may_have_lost = r->known_loss = 1;
    return;
  }
  r->records++;
}

/* The table counter ("N") must be above every table's store id. */
static void check_counter(repair *r, leveldb_writebatch_t *wb) {
  uint64_t top = 0;
  char *lerr = NULL, *v;
  size_t vlen;
  term_num num;
  buf b;
  for (size_t i = 0; i < r->ntables; i++)
    if (r->tables[i].sid > top) top = r->tables[i].sid;
  v = leveldb_get(r->db, r->ro, "N", 1, &vlen, &lerr);
  leveldb_free(lerr);
  if (v != NULL && term_get_num((const unsigned char *)v, vlen, &num) == vlen && num.isint &&
      num.i > (int64_t)top) {
    leveldb_free(v);
    return;
  }
  leveldb_free(v);
  if (v == NULL && top == 0) return;
  buf_init(&b);
  term_put_int(&b, (int64_t)top + 1);
  if (buf_ok(&b)) leveldb_writebatch_put(wb, "N", 1, (const char *)b.p, b.n);
  buf_free(&b);
  say(&r->actions, "the table counter was missing or behind: set to %llu",
      (unsigned long long)top + 1);
}

static hl_status check_records(repair *r, hl_err *e) {
  leveldb_writebatch_t *wb = leveldb_writebatch_create();
  char *lerr = NULL;
  if (walk(r, 'M', visit_meta, wb, e) == HL_OK && walk(r, 'D', visit_object, wb, e) == HL_OK &&
      walk(r, 'S', visit_record, wb, e) == HL_OK) {
    check_counter(r, wb);
    leveldb_write(r->db, r->wo, wb, &lerr);
    if (lerr != NULL) store_fail(e, "writing the repaired store", lerr);
  }
  leveldb_writebatch_destroy(wb);
  if (e->code == HL_OK && r->orphans > 0) {
    say(&r->actions, "%llu objects belong to tables whose metadata is lost: they stay in the "
        "store, unused", (unsigned long long)r->orphans);
    r->may_have_lost = r->known_loss = 1;
  }
  if (e->code == HL_OK) sstop_read(r->db, r->ro, &r->stop, e);
  return e->code;
}

/* ---- the report ---- */

static const sstop_table *stopped(const repair *r, uint64_t sid) {
  for (size_t i = 0; i < r->stop.ntables; i++)
    if (r->stop.tables[i].sid == sid) return &r->stop.tables[i];
  return NULL;
}

/* One row per table now or at the stop, by name. */
typedef struct row {
  const char *name;
  int has_before, gone;
  uint64_t before, after;
} row;

static int by_row_name(const void *a, const void *b) {
  return strcmp(((const row *)a)->name, ((const row *)b)->name);
}

static row *make_rows(repair *r, size_t *n, uint64_t *lost) {
  row *rows = calloc(r->ntables + r->stop.ntables + 1, sizeof *rows);
  *n = 0;
  *lost = 0;
  if (rows == NULL) return NULL;
  for (size_t i = 0; i < r->ntables; i++) {
    const sstop_table *z = stopped(r, r->tables[i].sid);
    row *w = &rows[(*n)++];
    w->name = r->tables[i].name;
    w->after = r->tables[i].objects;
    if (z != NULL) {
      w->has_before = 1;
      w->before = z->objects;
    }
  }
  for (size_t i = 0; i < r->stop.ntables; i++)
    if (find_table(r, r->stop.tables[i].sid) == NULL) {
      row *w = &rows[(*n)++];
      w->name = r->stop.tables[i].name;
      w->has_before = w->gone = 1;
      w->before = r->stop.tables[i].objects;
    }
  for (size_t i = 0; i < *n; i++) {
    if (rows[i].has_before && rows[i].before > rows[i].after)
      *lost += rows[i].before - rows[i].after;
    if (rows[i].has_before ? rows[i].before != rows[i].after
                           : r->stop.found)   /* a table the stop did not know */
      r->may_have_lost = r->known_loss = 1;
  }
  qsort(rows, *n, sizeof *rows, by_row_name);
  return rows;
}

static void put_key(buf *b, const char *key) {
  term_put_string(b, key, strlen(key));
}

static void put_strs(buf *b, const strs *s) {
  size_t at = 0;
  term_put_array(b, (uint32_t)s->n);
  for (size_t i = 0; i < s->n; i++) {
    const char *p = next_str(s, &at);
    term_put_string(b, p, strlen(p));
  }
}

static void put_row(buf *b, const row *w) {
  term_put_map(b, 2u + (unsigned)w->has_before + (unsigned)w->gone);
  put_key(b, "after");
  if (w->has_before) put_key(b, "before");
  if (w->gone) put_key(b, "gone");
  put_key(b, "name");
  term_put_int(b, (int64_t)w->after);
  if (w->has_before) term_put_int(b, (int64_t)w->before);
  if (w->gone) term_put_bool(b, 1);
  term_put_string(b, w->name, strlen(w->name));
}

static void text_line(buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_line(buf *t, const char *fmt, ...) {
  char line[800];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  buf_put(t, line, strlen(line));
  buf_putc(t, '\n');
}

static void text_table(buf *t, const row *w) {
  if (w->gone)
    text_line(t, "  %s: %llu objects at the last orderly stop, gone now (its metadata was "
              "lost)", w->name, (unsigned long long)w->before);
  else if (w->has_before && w->before > w->after)
    text_line(t, "  %s: %llu objects at the last orderly stop, %llu now (%llu lost)", w->name,
              (unsigned long long)w->before, (unsigned long long)w->after,
              (unsigned long long)(w->before - w->after));
  else if (w->has_before && w->before < w->after)
    text_line(t, "  %s: %llu objects at the last orderly stop, %llu now (%llu more: deleted "
              "objects came back)", w->name, (unsigned long long)w->before,
              (unsigned long long)w->after, (unsigned long long)(w->after - w->before));
  else if (w->has_before)
    text_line(t, "  %s: %llu objects at the last orderly stop, %llu now", w->name,
              (unsigned long long)w->before, (unsigned long long)w->after);
  else
    text_line(t, "  %s: %llu objects now", w->name, (unsigned long long)w->after);
}

static void text_result(buf *t, const repair *r, uint64_t lost) {
  const char *done = r->actions.n > 0 ? "repaired, and " : "";
  if (!r->may_have_lost && r->damage.n == 0) {
    text_line(t, "result: no damage found: the store opens with every check, and every "
              "record passed its checksum.");
  } else if (!r->may_have_lost) {
    text_line(t, "result: repaired; no data was lost: every file the store's MANIFEST lists "
              "is here, and every record passed its checksum.");
  } else if (r->known_loss && lost > 0) {
    text_line(t, "result: %sDATA WAS LOST: %llu objects fewer than at the last orderly "
              "stop. The store now opens with every check; a start loads what is listed "
              "above.", done, (unsigned long long)lost);
  } else if (r->known_loss) {
    text_line(t, "result: %sDATA WAS LOST (see above). The store now opens with every "
              "check; a start loads what is listed above. Writes made after a damaged part "
              "are kept, so the store may hold a state that never was.", done);
  } else {
    text_line(t, "result: repaired, but DATA MAY HAVE BEEN LOST: a repair cannot see what "
              "was in files that are gone%s. The store now opens with every check.",
              r->stop.found ? "" : ", and the store holds no count from an orderly stop "
              "to compare with");
  }
}

static void make_text(buf *t, const repair *r, const row *rows, size_t n, uint64_t lost) {
  size_t at = 0;
  text_line(t, "heirloom repair: %s", r->dir);
  text_line(t, "damage found:%s", r->damage.n == 0 ? " none" : "");
  for (size_t i = 0; i < r->damage.n; i++) text_line(t, "  %s", next_str(&r->damage, &at));
  at = 0;
  text_line(t, "done:%s", r->actions.n == 0 ? " nothing" : "");
  for (size_t i = 0; i < r->actions.n; i++) text_line(t, "  %s", next_str(&r->actions, &at));
  if (r->stop.found) {
    char when[64];
    time_t tt = (time_t)r->stop.time;
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&tt, &tm));
    text_line(t, "tables (the last orderly stop was at %s):", when);
  } else {
    text_line(t, "tables (no count from an orderly stop to compare with: the node did not "
              "stop in order, or the count was lost, or an earlier repair used it):");
  }
  if (n == 0) text_line(t, "  none");
  for (size_t i = 0; i < n; i++) text_table(t, &rows[i]);
  if (r->stop.found)
    text_line(t, "hl.store records: %llu at the last orderly stop, %llu now",
              (unsigned long long)r->stop.records, (unsigned long long)r->records);
  else
    text_line(t, "hl.store records: %llu now", (unsigned long long)r->records);
  text_result(t, r, lost);
}

/* The report: a map (keys in term order). */
static void make_report(repair *r, buf *out) {
  size_t n;
  uint64_t lost;
  row *rows;
  buf text;
  if (r->stop.found && r->records < r->stop.records) r->may_have_lost = r->known_loss = 1;
  rows = make_rows(r, &n, &lost);
  if (rows == NULL) {
    out->oom = 1;
    return;
  }
  buf_init(&text);
  make_text(&text, r, rows, n, lost);
  term_put_map(out, r->stop.found ? 9 : 8);
  put_key(out, "actions");
  put_key(out, "damage");
  put_key(out, "dir");
  put_key(out, "lost");
  put_key(out, "may_have_lost");
  put_key(out, "records");
  if (r->stop.found) put_key(out, "stopped_at");
  put_key(out, "tables");
  put_key(out, "text");
  put_strs(out, &r->actions);
  put_strs(out, &r->damage);
  term_put_string(out, r->dir, strlen(r->dir));
  term_put_int(out, (int64_t)lost);
  term_put_bool(out, r->may_have_lost);
  term_put_map(out, r->stop.found ? 2 : 1);
  put_key(out, "after");
  if (r->stop.found) put_key(out, "before");
  term_put_int(out, (int64_t)r->records);
  if (r->stop.found) term_put_int(out, (int64_t)r->stop.records);
  if (r->stop.found) term_put_int(out, r->stop.time);
  term_put_array(out, (uint32_t)n);
  for (size_t i = 0; i < n; i++) put_row(out, &rows[i]);
  term_put_string(out, text.p, text.n);
  if (!buf_ok(&text)) out->oom = 1;
  buf_free(&text);
  free(rows);
}

/* ---- the whole ---- */

static void repair_free(repair *r) {
  if (r->db != NULL) leveldb_close(r->db);
  leveldb_options_destroy(r->opts);
  leveldb_readoptions_destroy(r->ro);
  leveldb_writeoptions_destroy(r->wo);
  buf_free(&r->damage.b);
  buf_free(&r->actions.b);
  sstop_free(&r->stop);
  for (size_t i = 0; i < r->ntables; i++) free(r->tables[i].name);
  free(r->tables);
}

static hl_status run(repair *r, int lockfd, buf *out, hl_err *e) {
  strs intact = {0};
  char newest[64];
  int current_ok;
  buf_init(&intact.b);
  if (check_files(r, &intact, newest, &current_ok, e) == HL_OK) {
    /* a CURRENT that names an intact MANIFEST is the store's: only when
    ** it is gone or damaged is another MANIFEST tried */
    int opened = current_ok ? open_checked(r, 1) : restore_current(r, &intact, newest, e);
    if (!opened && e->code == HL_OK) leveldb_repair(r, e);
  }
  buf_free(&intact.b);
  if (e->code == HL_OK && check_records(r, e) == HL_OK) {
    sdir_mark(lockfd, r->dir, e);
    make_report(r, out);
    if (!buf_ok(out)) err_set(e, HL_ENOMEM, "out of memory");
    if (e->code == HL_OK && r->may_have_lost && r->stop.found) {
      /* reported: the store is what it is now, and no longer what the
      ** stop record says (a later repair compares with nothing) */
      char *lerr = NULL;
      leveldb_delete(r->db, r->wo, "Z", 1, &lerr);
      if (lerr != NULL) store_fail(e, "writing the repaired store", lerr);
    }
  }
  return e->code;
}

hl_status store_repair(const char *dir, buf *out, hl_err *e) {
  sdir_info info;
  repair r;
  int lockfd;
  if (sdir_inspect(dir, &info, e) != HL_OK) return e->code;
  if (info.state != SDIR_STORE && info.state != SDIR_NO_CURRENT && info.state != SDIR_NO_FILES)
    return err_set(e, HL_ESTORE, "'%s' holds no heirloom store: nothing to repair", dir);
  if ((lockfd = sdir_lock(dir, "a node", e)) < 0) return e->code;
  if (check_leveldb_lock(dir, e) != HL_OK) {
    sdir_unlock(lockfd);
    return e->code;
  }
  memset(&r, 0, sizeof r);
  r.dir = dir;
  buf_init(&r.damage.b);
  buf_init(&r.actions.b);
  r.opts = leveldb_options_create();
  leveldb_options_set_paranoid_checks(r.opts, 1);
  r.ro = leveldb_readoptions_create();
  leveldb_readoptions_set_verify_checksums(r.ro, 1);
  r.wo = leveldb_writeoptions_create();
  leveldb_writeoptions_set_sync(r.wo, 1);
  run(&r, lockfd, out, e);
  repair_free(&r);
  sdir_unlock(lockfd);   /* last: LevelDB's files are closed */
  return e->code;
}
