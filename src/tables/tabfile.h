/*
** tabfile.h — table files: a table's settings and objects in one file
** with a checksum (tab2file, file2tab, tabfile_info). The format is in
** docs/durability.md.
*/
#ifndef HL_TABFILE_H
#define HL_TABFILE_H

#include <stdint.h>

#include "etab.h"

/* What a file says about its table. */
typedef struct tabfile_meta {
  buf name;                 /* NUL-terminated */
  hl_table_type type;
  hl_access access;
  int named;
  uint32_t keypos;          /* 0 when the key is a field, in `field` */
  buf field;                /* the field's string term */
  uint64_t count;           /* objects */
  uint32_t version;
} tabfile_meta;

void tabfile_meta_init(tabfile_meta *m);
void tabfile_meta_free(tabfile_meta *m);

/* Writes every object of t (read as caller) to path: written aside, synced,
** then renamed over path, so path is never half written. */
hl_status tabfile_save(etab *t, uint64_t caller, const char *path, hl_err *e);

/* Reads the whole file and checks it (checksum, structure, count). */
hl_status tabfile_info(const char *path, tabfile_meta *m, hl_err *e);

/* Checks the file, then creates a table from it owned by caller (named
** name, or the file's name when NULL; durable with sync when durable).
** On any failure no table is left behind. *out holds a reference. */
hl_status tabfile_load(treg *r, uint64_t caller, const char *path, const char *name,
                       int durable, int sync, etab **out, hl_err *e);


#endif
