/*
** testutil.h — helpers the C tests share: int key terms, lookups that
** count, error-message checks, and Lua code run in a state attached to a
** node. All static inline, so a test that uses only some of them still
** builds with -Werror.
*/
#ifndef HL_TESTUTIL_H
#define HL_TESTUTIL_H

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "heirloom.h"

/* b = the int term v. */
static inline void int_term(hl_buf *b, int64_t v) {
  hl_buf_clear(b);
  hl_term_int(b, v);
}

/* How many objects t holds under the int key k (the lookup must succeed). */
static inline size_t lookup_count(hl_table *t, int64_t k) {
  hl_buf key, out;
  size_t count = 0;
  hl_buf_init(&key);
  hl_buf_init(&out);
  int_term(&key, k);
  CHECK(hl_table_lookup(t, key.data, key.len, &out, &count) == HL_OK);
  hl_buf_free(&key);
  hl_buf_free(&out);
  return count;
}

/* Whether the last error message contains part; prints it when not. */
static inline int has_msg(const char *part) {
  if (strstr(hl_errmsg(), part) != NULL) return 1;
  fprintf(stderr, "message was: %s\n", hl_errmsg());
  return 0;
}

/* Runs Lua code in a state bound to node; the code returns a boolean. */
static inline int lua_check(hl_node *node, const char *code) {
  lua_State *L = luaL_newstate();
  int ok;
  luaL_openlibs(L);
  if (!hl_lua_attach(L, node)) {
    lua_close(L);
    return 0;
  }
  lua_setglobal(L, "hl");
  ok = luaL_dostring(L, code) == LUA_OK && lua_toboolean(L, -1);
  if (!ok) fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return ok;
}

#endif
