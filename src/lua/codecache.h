/*
** codecache.h — compiled Lua modules shared by a node's processes
** (codecache.c).
*/
#ifndef HL_CODECACHE_H
#define HL_CODECACHE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

typedef struct cc_entry cc_entry;

typedef struct codecache {
  pthread_mutex_t lock;
  cc_entry *entries;
} codecache;

/* What a module's source file looked like when it was compiled. */
typedef struct cc_stamp {
  int64_t size;
  struct timespec mtime;
} cc_stamp;

void codecache_init(codecache *cc);
void codecache_destroy(codecache *cc);

/* Finds the module `name` as found on search path `path`: copies its file
** name, stamp and compiled chunk into the buffers (cleared first) and
** returns 1, or returns 0. */
int codecache_get(codecache *cc, const char *name, const char *path, buf *file,
                  cc_stamp *stamp, buf *code);
/* Adds or replaces the entry; 0 when memory runs out (nothing changes). */
int codecache_put(codecache *cc, const char *name, const char *path, const char *file,
                  const cc_stamp *stamp, const void *code, size_t len);

#endif
