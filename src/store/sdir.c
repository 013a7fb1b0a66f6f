/*
** sdir.c — a data directory before LevelDB opens it (sdir.h): what it
** holds, the HEIRLOOM file, and the lock on it.
*/
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ldbfile.h"
#include "sdir.h"

static const char marker_text[] =
    "heirloom data directory: the LevelDB store of a node's durable tables.\n"
    "Do not delete or edit its files; see heirloom's docs/durability.md.\n";

static int digits(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i])) return 0;
  return 1;
}

static int has_suffix(const char *name, const char *suffix, size_t *stem) {
  size_t n = strlen(name), k = strlen(suffix);
  if (n <= k || strcmp(name + n - k, suffix) != 0) return 0;
  *stem = n - k;
  return 1;
}

int sdir_leveldb_file(const char *name, char *kind) {
  size_t stem;
  *kind = 'o';
  if (strcmp(name, "CURRENT") == 0) *kind = 'c';
  else if (strncmp(name, "MANIFEST-", 9) == 0 && digits(name + 9, strlen(name + 9))) *kind = 'm';
  else if (has_suffix(name, ".log", &stem) && digits(name, stem)) *kind = 'l';
  else if ((has_suffix(name, ".ldb", &stem) || has_suffix(name, ".sst", &stem)) &&
           digits(name, stem))
    *kind = 't';
  else if (has_suffix(name, ".dbtmp", &stem) && digits(name, stem)) *kind = 'o';
  else if (strcmp(name, "LOCK") != 0 && strcmp(name, "LOG") != 0 &&
           strcmp(name, "LOG.old") != 0 && strcmp(name, "lost") != 0)
    return 0;
  return 1;
}

/* 1 when dir/HEIRLOOM holds text (a store was made); 0 when it is
** missing or empty (a first start that did not finish). */
static int marked(const char *dir) {
  char path[4200];
  struct stat st;
  snprintf(path, sizeof path, "%s/" SDIR_MARKER, dir);
  return stat(path, &st) == 0 && st.st_size > 0;
}

hl_status sdir_inspect(const char *dir, sdir_info *info, hl_err *e) {
  DIR *d;
  struct dirent *de;
  int current = 0, leveldb = 0;
  struct stat st;
  memset(info, 0, sizeof *info);
  if (strlen(dir) > 4000) return err_set(e, HL_EBADARG, "data_dir is too long");
  if (stat(dir, &st) != 0) {
    if (errno == ENOENT) return HL_OK;   /* SDIR_NEW */
    return err_set(e, HL_ESTORE, "data_dir '%s' cannot be read: %s", dir, strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    info->state = SDIR_NOT_DIR;
    return HL_OK;
  }
  if ((d = opendir(dir)) == NULL)
    return err_set(e, HL_ESTORE, "data_dir '%s' cannot be read: %s", dir, strerror(errno));
  info->marked = marked(dir);
  while ((de = readdir(d)) != NULL) {
    char kind;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (strcmp(de->d_name, SDIR_MARKER) == 0) {
      continue;   /* empty, and alone: a first start cut short */
    } else if (sdir_leveldb_file(de->d_name, &kind)) {
      leveldb = 1;
      current |= kind == 'c';
    } else if (info->other[0] == '\0') {
      snprintf(info->other, sizeof info->other, "%s", de->d_name);
    }
  }
  closedir(d);
  if (current) info->state = SDIR_STORE;
  else if (leveldb) info->state = SDIR_NO_CURRENT;
  else if (info->marked) info->state = SDIR_NO_FILES;
  else if (info->other[0] != '\0') info->state = SDIR_OTHER;
  else info->state = SDIR_NEW;
  return HL_OK;
}

hl_status sdir_refuse(const char *dir, const sdir_info *info, hl_err *e) {
  switch (info->state) {
    case SDIR_NO_CURRENT:
      return err_set(e, HL_ESTORE,
                     "data_dir '%s' holds a LevelDB store whose CURRENT file is missing; "
                     "run `heirloom repair %s`", dir, dir);
    case SDIR_NO_FILES:
      return err_set(e, HL_ESTORE,
                     "data_dir '%s' holds a heirloom store (its " SDIR_MARKER " file) but "
                     "none of LevelDB's files; `heirloom repair %s` makes it an empty store",
                     dir, dir);
    case SDIR_OTHER:
      return err_set(e, HL_ESTORE,
                     "data_dir '%s' is not empty and holds no heirloom store (it has '%s'); "
                     "give a new or empty directory", dir, info->other);
    case SDIR_NOT_DIR:
      return err_set(e, HL_ESTORE, "data_dir '%s' is not a directory", dir);
    default:
      return HL_OK;
  }
}

hl_status sdir_make(const char *dir, hl_err *e) {
  char *copy = strdup(dir);
  if (copy == NULL) return err_set(e, HL_ENOMEM, "out of memory");
  for (char *p = copy + 1; *p != '\0'; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(copy, 0777);
      *p = '/';
    }
  free(copy);
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    return err_set(e, HL_ESTORE, "data_dir '%s' cannot be made: %s", dir, strerror(errno));
  return HL_OK;
}

int sdir_lock(const char *dir, const char *user, hl_err *e) {
  char path[4200];
  struct flock fl;
  int fd;
  snprintf(path, sizeof path, "%s/" SDIR_MARKER, dir);
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    err_set(e, HL_ESTORE, "data_dir '%s': cannot open %s: %s", dir, path, strerror(errno));
    return -1;
  }
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    if (errno == EAGAIN || errno == EACCES)
      err_set(e, HL_ESTORE, "data_dir '%s' is in use by %s (or a repair): its " SDIR_MARKER
              " file is locked", dir, user);
    else
      err_set(e, HL_ESTORE, "data_dir '%s': cannot lock %s: %s", dir, path, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

void sdir_unlock(int fd) {
  if (fd >= 0) close(fd);   /* the lock goes with its open file */
}

hl_status sdir_mark(int fd, const char *dir, hl_err *e) {
  size_t n = sizeof marker_text - 1;
  if (pwrite(fd, marker_text, n, 0) != (ssize_t)n || ftruncate(fd, (off_t)n) != 0 ||
      fsync(fd) != 0)
    return err_set(e, HL_ESTORE, "data_dir '%s': cannot write its " SDIR_MARKER " file: %s",
                   dir, strerror(errno));
  return HL_OK;
}

/* ---- LevelDB's files, checked ---- */

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

hl_status sdir_list(const char *dir, buf *names, size_t *count, hl_err *e) {
  DIR *d = opendir(dir);
  struct dirent *de;
  buf offsets;
  *count = 0;
  if (d == NULL)
    return err_set(e, HL_ESTORE, "data_dir '%s' cannot be read: %s", dir, strerror(errno));
  buf_init(&offsets);
  buf_reset(names);
  while ((de = readdir(d)) != NULL) {
    size_t at = names->n;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    buf_put(&offsets, &at, sizeof at);
    buf_put(names, de->d_name, strlen(de->d_name) + 1);
    (*count)++;
  }
  closedir(d);
  if (buf_ok(names) && buf_ok(&offsets) && *count > 1) {   /* in name order */
    char **ptrs = malloc(*count * sizeof *ptrs);
    buf sorted;
    buf_init(&sorted);
    if (ptrs != NULL) {
      for (size_t i = 0; i < *count; i++)
        ptrs[i] = (char *)names->p + ((size_t *)offsets.p)[i];
      qsort(ptrs, *count, sizeof *ptrs, by_name);
      for (size_t i = 0; i < *count; i++) buf_put(&sorted, ptrs[i], strlen(ptrs[i]) + 1);
      free(ptrs);
      if (buf_ok(&sorted)) {
        buf t = *names;
        *names = sorted;
        sorted = t;
      }
    } else {
      names->oom = 1;
    }
    buf_free(&sorted);
  }
  if (!buf_ok(names) || !buf_ok(&offsets)) err_set(e, HL_ENOMEM, "out of memory");
  buf_free(&offsets);
  return e->code;
}

hl_status sdir_check_file(const char *dir, const char *name, char kind, ldbf_damage *d,
                          hl_err *e) {
  char path[4200];
  memset(d, 0, sizeof *d);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (kind == 'm' || kind == 'l') return ldbf_check_log(path, d, e);
  if (kind == 't') return ldbf_check_table(path, d, e);
  return HL_OK;
}

int sdir_find_damage(const char *dir, const char *kinds, char *out, size_t size, hl_err *e) {
  buf names;
  size_t count, at = 0;
  int found = 0;
  buf_init(&names);
  if (sdir_list(dir, &names, &count, e) == HL_OK)
    for (size_t i = 0; i < count && !found && e->code == HL_OK; i++) {
      const char *name = (const char *)names.p + at;
      char kind;
      ldbf_damage d;
      at += strlen(name) + 1;
      if (!sdir_leveldb_file(name, &kind) || strchr(kinds, kind) == NULL) continue;
      if (sdir_check_file(dir, name, kind, &d, e) == HL_OK && d.found) {
        snprintf(out, size, "%s: %s", name, d.what);
        found = 1;
      }
    }
  buf_free(&names);
  return found;
}
