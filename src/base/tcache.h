/*
** tcache.h — small blocks from a cache per thread, for what one thread
** allocates and another frees (a message: the sender's thread allocates
** it, the receiver's frees it).
**
** A block remembers the cache it came from. Freed on that cache's thread,
** it goes back on the thread's own list; freed on another thread, it is
** pushed (one compare-and-swap, no lock) onto its home's return list,
** which the home thread takes back in one step when its own list runs
** dry. So a steady flow of messages from one thread to another allocates
** and frees nothing through malloc. Each thread keeps at most
** TCACHE_KEEP_BYTES of free blocks of each size (a slice's worth of
** messages, so that a burst a process sends in one slice is reused by the
** next); a thread that ends frees its blocks, and
** the cache itself goes with the last of its blocks still in use
** elsewhere. Blocks above TCACHE_LARGE bytes come from malloc.
*/
#ifndef HL_TCACHE_H
#define HL_TCACHE_H

#include <stddef.h>

#define TCACHE_LARGE 496
#define TCACHE_KEEP_BYTES (512 * 1024)

/* A block of at least size bytes, aligned like malloc's up to 16; NULL
** when memory runs out. */
void *tcache_alloc(size_t size);
/* Frees a block from tcache_alloc, on any thread (NULL: nothing). */
void tcache_free(void *block);

#endif
