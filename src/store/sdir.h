/*
** sdir.h — a data directory before LevelDB opens it: what it holds, and
** heirloom's own file in it.
**
** A directory holds a store when it has any of LevelDB's files (CURRENT,
** LOCK, LOG, MANIFEST-*, *.log, *.ldb, *.sst, lost/) or heirloom's file
** HEIRLOOM, written once a store was made there. Such a directory is
** never made a new store: LevelDB would start empty over it, and delete
** the table files it does not know. A missing or empty directory is made
** one; a directory holding other files only is refused.
**
** HEIRLOOM is also the lock that keeps a repair and a node apart: each
** holds an open-file-description lock on it (F_OFD_SETLK) for as long as
** it uses the directory. Such locks are per open file, so no other
** descriptor of the file, in this OS process or another, can take or
** undo it.
*/
#ifndef HL_SDIR_H
#define HL_SDIR_H

#include "buf.h"
#include "err.h"
#include "ldbfile.h"

#define SDIR_MARKER "HEIRLOOM"

typedef enum sdir_state {
  SDIR_NEW,          /* missing or empty: a store is made there */
  SDIR_STORE,        /* a store, with its CURRENT file */
  SDIR_NO_CURRENT,   /* LevelDB's files, but no CURRENT */
  SDIR_NO_FILES,     /* HEIRLOOM, but none of LevelDB's files */
  SDIR_OTHER,        /* files that are no store's */
  SDIR_NOT_DIR       /* not a directory */
} sdir_state;

typedef struct sdir_info {
  sdir_state state;
  int marked;          /* HEIRLOOM says a store was made here */
  char other[256];     /* SDIR_OTHER: the first such file's name */
} sdir_info;

/* Looks at dir without changing it. */
hl_status sdir_inspect(const char *dir, sdir_info *info, hl_err *e);

/* The error for a directory LevelDB must not open as it is (a state other
** than SDIR_NEW and SDIR_STORE). */
hl_status sdir_refuse(const char *dir, const sdir_info *info, hl_err *e);

/* Makes dir (and its parents) when missing. */
hl_status sdir_make(const char *dir, hl_err *e);

/* Opens dir/HEIRLOOM (made empty when missing) and locks it: the
** descriptor, or -1 with e set ("in use" when another holds it). `user`
** names the holder in the message ("another node", "a node"). */
int sdir_lock(const char *dir, const char *user, hl_err *e);
void sdir_unlock(int fd);

/* Writes HEIRLOOM's text through the locked descriptor, synced. */
hl_status sdir_mark(int fd, const char *dir, hl_err *e);

/* 1 when name is one of LevelDB's files: *kind gets 'c' (CURRENT), 'm'
** (MANIFEST-*), 'l' (a log), 't' (a table file), or 'o' (another). */
int sdir_leveldb_file(const char *name, char *kind);

/* The names of dir's entries in name order, each NUL-terminated, one
** after another in names. */
hl_status sdir_list(const char *dir, buf *names, size_t *count, hl_err *e);

/* Checks dir/name, one of LevelDB's files of the given kind, with
** ldbfile.c (a kind it cannot check is taken as intact). */
hl_status sdir_check_file(const char *dir, const char *name, char kind, ldbf_damage *d,
                          hl_err *e);

/* The first damaged file of dir among those of the given kinds ("ml":
** MANIFEST and logs, "t": table files): 1 with "<name>: <what>" in out. */
int sdir_find_damage(const char *dir, const char *kinds, char *out, size_t size, hl_err *e);

#endif
