/*
** mspec.h — ETS match specifications, compiled once from an encoded term
** and run in C on encoded objects (select, match, match_object and the
** deleting and replacing scans).
**
** A spec is an array of clauses {head, guards, body}; see
** docs/match-specs.md for the language. A compiled spec is read-only: any
** number of threads may run it at once.
*/
#ifndef HL_MSPEC_H
#define HL_MSPEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct mspec mspec;

/* Compiles an encoded match spec. NULL on error with a message in err,
** e.g. "clause 2: guard 1: unknown function 'foo'". The spec bytes are
** copied: the caller may reuse them at once. */
mspec *mspec_compile(const unsigned char *spec, size_t len, char *err, size_t errlen);

/* A spec for ets:match / match_object / match_delete: one clause
** {pattern, {}, {result}} where result is "$$" (match: the bindings list),
** "$_" (match_object) or true (match_delete). */
enum { MSPEC_BINDINGS, MSPEC_OBJECT, MSPEC_TRUE };
mspec *mspec_from_pattern(const unsigned char *pattern, size_t len, int result,
                          char *err, size_t errlen);

void mspec_free(mspec *ms);

/* Runs on one encoded object: 1 when a clause matched (its result term
** appended to out), 0 when none matched; -1 only on out-of-memory (out
** may then hold a partial result past its old end). Never reads outside
** obj[0..len); obj must not lie inside out. `caller` is the pid that
** {"self"} gives. A malformed object may match oddly but is never read out
** of bounds. */
int mspec_run(const mspec *ms, const unsigned char *obj, size_t len, uint64_t caller,
              buf *out);

/* When every clause's head binds the key to one literal (so a table can
** look the key up instead of scanning): 1 and the key's encoded bytes,
** which live as long as ms. keypos: 1-based array position, or when
** keyfield != NULL the encoded map key of map objects. 0 otherwise (also
** for a spec of no clauses). */
int mspec_bound_key(const mspec *ms, uint32_t keypos, const unsigned char *keyfield,
                    size_t keyfieldlen, const unsigned char **key, size_t *klen);

/* Number of clauses (0 for a spec that matches nothing). */
uint32_t mspec_clauses(const mspec *ms);

#endif
