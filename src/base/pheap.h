/*
** pheap.h — a process's own heap: size classes over chunks the heap owns,
** as an Erlang process has a heap of its own.
**
** Small blocks (up to PHEAP_SMALL bytes) are carved from the heap's
** chunks and kept, once freed, on a list per size class: no header per
** block (the caller says a block's size when it frees it, as lua_Alloc
** does), no lock (one thread at a time uses a heap; whoever hands it to
** another thread does so through a lock of its own), and every chunk goes
** back in one step when the heap is destroyed. Larger blocks come from
** malloc and must each be freed.
*/
#ifndef HL_PHEAP_H
#define HL_PHEAP_H

#include <stddef.h>

#define PHEAP_SMALL 2048

typedef struct pheap pheap;

/* A new heap, or NULL when memory runs out. */
pheap *pheap_new(void);
/* Frees every chunk at once, and the heap. Large blocks still allocated
** are not freed (NULL: nothing). */
void pheap_destroy(pheap *h);

/* Like lua_Alloc: osize is the size ptr was allocated with (ignored when
** ptr is NULL), nsize 0 frees and returns NULL; NULL when memory runs out
** (ptr is then untouched). */
void *pheap_realloc(pheap *h, void *ptr, size_t osize, size_t nsize);

/* Bytes the heap holds from the system: its chunks (large blocks not
** counted). */
size_t pheap_footprint(const pheap *h);

#endif
