/*
** graveyard.h — what the node leaves to threads it could not stop
** (graveyard.c).
*/
#ifndef HL_GRAVEYARD_H
#define HL_GRAVEYARD_H

/* Keeps p (may be NULL) allocated and reachable for the life of the OS
** process, and heirloom's code loaded: a thread left running may come
** back to both at any time. */
void graveyard_keep(void *p);

#endif
