/*
** srepair.h — repairing a damaged store (srepair.c; hl_store_repair in
** heirloom.h is its C API).
*/
#ifndef HL_SREPAIR_H
#define HL_SREPAIR_H

#include "buf.h"
#include "err.h"

/* Repairs the store in dir, which no node may use, and appends the
** report (a map term, docs/durability.md) to out. */
hl_status store_repair(const char *dir, buf *out, hl_err *e);

#endif
