/*
** crc.h — the two table-driven CRCs heirloom reads and writes: CRC-32
** (IEEE 802.3, the table files of tabfile.c) and CRC-32C (Castagnoli, the
** checksum of LevelDB's log and table records, read by ldbfile.c).
** Both continue a running value: start from 0, feed the bytes in pieces.
*/
#ifndef HL_CRC_H
#define HL_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_ieee(uint32_t crc, const void *p, size_t len);
uint32_t crc32_castagnoli(uint32_t crc, const void *p, size_t len);

#endif
