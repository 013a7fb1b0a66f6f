/*
** fuzz_term.c — libFuzzer target for the term readers (term.c) and the
** Lua decoder (lterm.c): any bytes, read every way heirloom reads them.
**
** What must hold for every input:
**   - no reader reads outside the input or crashes (ASan, UBSan);
**   - the readers agree: term_skip, term_size_trusted and term_check give
**     the same size and verdict; a string's length agrees with its copy;
**   - one definition of a valid term: every valid term decodes into Lua,
**     taking exactly its size;
**   - what decodes encodes again, into a valid term that decodes and
**     encodes to the same bytes (encoding is stable after one round). The
**     one exception: a map whose keys are two different terms that Lua
**     reads as equal tables (an empty array and an empty map, say) is
**     refused by the encoder, saying so.
** A failed check aborts, which libFuzzer reports as a crash.
*/
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lterm.h"
#include "term.h"

int luaopen_heirloom(lua_State *L);

static lua_State *L;

#define MUST(cond)                                                           \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "fuzz_term: %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
      abort();                                                               \
    }                                                                        \
  } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  L = luaL_newstate();
  luaL_requiref(L, "heirloom", luaopen_heirloom, 0);   /* handles' metatables */
  lua_settop(L, 0);
  return 0;
}

static void check_readers(const unsigned char *p, size_t n, size_t size) {
  int why = term_check(p, n);
  MUST((why == TERM_OK) == (size == n && n > 0));
  MUST(term_valid(p, n) == (why == TERM_OK));
  if (size == 0) return;
  MUST(term_size_trusted(p, n) == size);
  MUST(term_compare(p, size, p, size) == 0);
  if (p[0] == TERM_STRING) {
    buf out;
    size_t chars = 0;
    buf_init(&out);
    MUST(term_get_string(p, n, &out) == size && buf_ok(&out));
    MUST(term_string_length(p, n, &chars) == size && chars == out.n);
    buf_free(&out);
  }
}

/* Encodes the value on the top of the stack; 0 when it holds two keys
** that are one term, the only refusal a decoded value may meet. */
static int encode_top(buf *b) {
  char err[300];
  buf_reset(b);
  if (lterm_encode(L, -1, b, "value", err, sizeof err)) return 1;
  if (strstr(err, ": two keys of a map are the same term") != NULL) return 0;
  fprintf(stderr, "fuzz_term: a decoded value does not encode: %s\n", err);
  abort();
}

static void check_round_trip(void) {
  buf once, twice;
  buf_init(&once);
  buf_init(&twice);
  if (!encode_top(&once)) {
    buf_free(&once);
    buf_free(&twice);
    return;
  }
  MUST(term_valid(once.p, once.n));
  MUST(lterm_decode(L, once.p, once.n) == once.n);
  MUST(encode_top(&twice));
  MUST(twice.n == once.n && memcmp(twice.p, once.p, once.n) == 0);
  lua_pop(L, 1);
  buf_free(&once);
  buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const unsigned char *p, size_t n) {
  size_t size = term_skip(p, n), decoded;
  check_readers(p, n, size);
  decoded = lterm_decode(L, p, n);
  if (size != 0) MUST(decoded == size);   /* every valid term decodes */
  if (decoded != 0) {
    check_round_trip();
    lua_pop(L, 1);
  }
  MUST(lua_gettop(L) == 0);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
