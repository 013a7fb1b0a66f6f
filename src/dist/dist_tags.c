/*
** dist_tags.c — held reply tags (dist_tags.h): a ring of DIST_TAGS_MAX
** slots under one lock, searched from the newest (a reply usually follows
** its call closely).
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dist_tags.h"

typedef struct held {
  uint64_t ref;                 /* 0: an empty slot */
  size_t len;
  char bytes[DIST_TAG_BYTES];
} held;

struct dist_tags {
  node *n;
  pthread_mutex_t lock;
  size_t next;                  /* the slot the next tag takes */
  held slot[DIST_TAGS_MAX];
};

dist_tags *dist_tags_new(node *n) {
  dist_tags *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->n = n;
  pthread_mutex_init(&t->lock, NULL);
  return t;
}

void dist_tags_free(dist_tags *t) {
  if (t == NULL) return;
  pthread_mutex_destroy(&t->lock);
  free(t);
}

uint64_t dist_tags_hold(dist_tags *t, const char *bytes, size_t len) {
  uint64_t ref;
  held *h;
  if (len == 0 || len > DIST_TAG_BYTES) return 0;
  ref = node_new_ref(t->n);     /* unique among this node's refs: no other means it */
  pthread_mutex_lock(&t->lock);
  h = &t->slot[t->next];
  t->next = (t->next + 1) % DIST_TAGS_MAX;
  h->ref = ref;
  h->len = len;
  memcpy(h->bytes, bytes, len);
  pthread_mutex_unlock(&t->lock);
  return ref;
}

int dist_tags_put(dist_tags *t, uint64_t ref, ei_x_buff *x) {
  int found = 0, ok = 1;
  pthread_mutex_lock(&t->lock);
  for (size_t i = 0; i < DIST_TAGS_MAX && !found; i++) {
    held *h = &t->slot[(t->next + DIST_TAGS_MAX - 1 - i) % DIST_TAGS_MAX];
    if (h->ref == ref && ref != 0) {
      found = 1;
      ok = ei_x_append_buf(x, h->bytes, (int)h->len) == 0;
    }
  }
  pthread_mutex_unlock(&t->lock);
  return found && ok;
}
