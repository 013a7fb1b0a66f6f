/*
** crc.c — CRC-32 and CRC-32C (see crc.h): one reflected, byte-at-a-time
** loop over a table per polynomial, each table built once on first use.
*/
#include <pthread.h>

#include "crc.h"

typedef struct crc_table {
  uint32_t poly;               /* reflected */
  pthread_once_t once;
  uint32_t entry[256];
} crc_table;

static crc_table ieee = {0xEDB88320u, PTHREAD_ONCE_INIT, {0}};
static crc_table castagnoli = {0x82F63B78u, PTHREAD_ONCE_INIT, {0}};

static void fill(crc_table *t) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? t->poly ^ (c >> 1) : c >> 1;
    t->entry[i] = c;
  }
}

static void fill_ieee(void) { fill(&ieee); }
static void fill_castagnoli(void) { fill(&castagnoli); }

static uint32_t update(const crc_table *t, uint32_t crc, const void *p, size_t len) {
  const unsigned char *s = p;
  crc = ~crc;
  for (size_t i = 0; i < len; i++) crc = t->entry[(crc ^ s[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t crc32_ieee(uint32_t crc, const void *p, size_t len) {
  pthread_once(&ieee.once, fill_ieee);
  return update(&ieee, crc, p, len);
}

uint32_t crc32_castagnoli(uint32_t crc, const void *p, size_t len) {
  pthread_once(&castagnoli.once, fill_castagnoli);
  return update(&castagnoli, crc, p, len);
}
