/*
** graveyard.c — what the node leaves to threads it could not stop.
**
** A thread stuck where nothing can interrupt it (a long C call, a
** finalizer) is left running. If it ever comes back it goes on in
** heirloom's code and touches what it belongs to (its scheduler, the
** state pool), so those are kept here for the life of the OS process:
** never freed, and reachable, so a leak checker does not count them. The
** code is kept loaded too: a Lua host that closes its state would
** otherwise unload heirloom.so under the thread's feet.
*/
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#include "graveyard.h"

typedef struct grave {
  void *p;
  struct grave *next;
} grave;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static grave *graves;
static int pinned;

/* Loads this library once more, never to be unloaded (the handle is kept
** on purpose). In a program linked statically it finds the program. */
static void pin_code(void) {
  Dl_info info;
  if (dladdr(&pinned, &info) != 0 && info.dli_fname != NULL)
    (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

void graveyard_keep(void *p) {
  grave *g = p != NULL ? malloc(sizeof *g) : NULL;
  pthread_mutex_lock(&lock);
  if (!pinned) pin_code();
  pinned = 1;
  if (g != NULL) {
    g->p = p;
    g->next = graves;
    graves = g;
  }
  pthread_mutex_unlock(&lock);
}
