/*
** ldbfile.h — LevelDB's own files, read without LevelDB: its logs (the
** write-ahead log and the MANIFEST share one format) and its table files.
** LevelDB skips some damage in silence (a zeroed record header, the rest
** of its block with it) and names no file in the errors it reports; these
** checks find the damage and say where it is. A damaged log can also be
** rewritten with only its intact records, for a repair.
**
** The formats are LevelDB's (doc/log_format.md, doc/table_format.md in
** its sources): 32 KiB blocks of records with a masked CRC-32C each, and
** table files of blocks with a CRC-32C trailer, found from a footer and an
** index block (Snappy-compressed or not).
*/
#ifndef HL_LDBFILE_H
#define HL_LDBFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The first damage a check found (found = 0: none). */
typedef struct ldbf_damage {
  int found;
  uint64_t at;        /* the byte offset of the damaged record or block */
  char what[120];     /* "checksum mismatch in a record at byte 40960" */
} ldbf_damage;

/* What ldbf_clean_log did. */
typedef struct ldbf_cleaned {
  ldbf_damage first;  /* the first damage */
  size_t kept;        /* records (write batches) kept */
  size_t dropped;     /* records dropped, whole or in part */
  uint64_t bytes;     /* bytes of the file that were dropped */
} ldbf_cleaned;

/* Checks a log or MANIFEST file. A record cut short at the end of the
** file (a crash while it was written) and zeros up to its end are not
** damage. HL_OK with d->found set when damaged; an error when the file
** cannot be read. */
hl_status ldbf_check_log(const char *path, ldbf_damage *d, hl_err *e);

/* Rewrites the log at path with its intact records only (in order,
** re-framed in LevelDB's format), after copying the original to keep_as.
** The new file replaces path by a rename, so path is never half written. */
hl_status ldbf_clean_log(const char *path, const char *keep_as, ldbf_cleaned *c, hl_err *e);

/* Checks a table file (.ldb, .sst): its footer, index and every block's
** checksum. */
hl_status ldbf_check_table(const char *path, ldbf_damage *d, hl_err *e);


#endif
