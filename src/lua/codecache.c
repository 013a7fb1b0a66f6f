/*
** codecache.c — compiled Lua modules shared by a node's processes.
**
** Every process has a Lua state of its own, so each one requires its
** modules itself. Searching the path and compiling the source again for
** every spawn would cost more than the rest of spawn; instead the first
** process to load a module leaves its bytecode here, and later ones load
** that. An entry is keyed by module name and search path, and is used
** only while the source file's size and modification time are unchanged.
** A node loads few modules, so a list does.
*/
#include <stdlib.h>
#include <string.h>

#include "codecache.h"

struct cc_entry {
  cc_entry *next;
  char *name, *path, *file;
  cc_stamp stamp;
  unsigned char *code;
  size_t len;
};

void codecache_init(codecache *cc) {
  pthread_mutex_init(&cc->lock, NULL);
  cc->entries = NULL;
}

static void free_entry(cc_entry *e) {
  free(e->name);
  free(e->path);
  free(e->file);
  free(e->code);
  free(e);
}

void codecache_destroy(codecache *cc) {
  cc_entry *e = cc->entries;
  while (e != NULL) {
    cc_entry *next = e->next;
    free_entry(e);
    e = next;
  }
  cc->entries = NULL;
  pthread_mutex_destroy(&cc->lock);
}

/* The entry for (name, path), lock held; NULL if none. */
static cc_entry **find(codecache *cc, const char *name, const char *path) {
  cc_entry **at = &cc->entries;
  for (; *at != NULL; at = &(*at)->next)
    if (strcmp((*at)->name, name) == 0 && strcmp((*at)->path, path) == 0) return at;
  return NULL;
}

int codecache_get(codecache *cc, const char *name, const char *path, buf *file,
                  cc_stamp *stamp, buf *code) {
  cc_entry **at;
  int found = 0;
  buf_reset(file);
  buf_reset(code);
  pthread_mutex_lock(&cc->lock);
  at = find(cc, name, path);
  if (at != NULL) {
    buf_put(file, (*at)->file, strlen((*at)->file) + 1);
    buf_put(code, (*at)->code, (*at)->len);
    *stamp = (*at)->stamp;
    found = buf_ok(file) && buf_ok(code);
  }
  pthread_mutex_unlock(&cc->lock);
  return found;
}

static char *copy(const char *s) {
  size_t n = strlen(s) + 1;
  char *c = malloc(n);
  if (c != NULL) memcpy(c, s, n);
  return c;
}

int codecache_put(codecache *cc, const char *name, const char *path, const char *file,
                  const cc_stamp *stamp, const void *code, size_t len) {
  cc_entry *e = calloc(1, sizeof *e), **old;
  if (e == NULL) return 0;
  e->name = copy(name);
  e->path = copy(path);
  e->file = copy(file);
  e->code = malloc(len > 0 ? len : 1);
  if (e->name == NULL || e->path == NULL || e->file == NULL || e->code == NULL) {
    free_entry(e);
    return 0;
  }
  memcpy(e->code, code, len);
  e->len = len;
  e->stamp = *stamp;
  pthread_mutex_lock(&cc->lock);
  old = find(cc, name, path);
  if (old != NULL) {
    cc_entry *gone = *old;
    *old = gone->next;
    free_entry(gone);
  }
  e->next = cc->entries;
  cc->entries = e;
  pthread_mutex_unlock(&cc->lock);
  return 1;
}
