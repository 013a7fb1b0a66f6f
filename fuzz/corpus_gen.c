/*
** corpus_gen.c — writes the fuzz corpora's seeds (fuzz/corpus.lua) as
** files: corpus_gen LUAFILE OUTDIR writes OUTDIR/term/seed-NNN (a term)
** and OUTDIR/mspec/seed-NNN (a kind byte and a term), the inputs
** fuzz_term and fuzz_mspec take. `make fuzz-corpus` runs it.
*/
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

#include "heirloom.h"
#include "lterm.h"

static int write_file(const char *dir, const char *kind, int n, const void *p, size_t len) {
  char path[512];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s/seed-%03d", dir, kind, n);
  if ((f = fopen(path, "wb")) == NULL) return 0;
  fwrite(p, 1, len, f);
  return fclose(f) == 0;
}

/* Encodes the value at the top of L into b (a raw entry as it is). */
static int encode_top(lua_State *L, buf *b) {
  char err[300];
  size_t len;
  const char *raw;
  if (lua_type(L, -1) == LUA_TTABLE) {
    int is_raw = lua_getfield(L, -1, "raw") == LUA_TSTRING;
    if (is_raw) {
      raw = lua_tolstring(L, -1, &len);
      buf_put(b, raw, len);
    }
    lua_pop(L, 1);
    if (is_raw) return 1;
  }
  if (!lterm_encode(L, -1, b, "seed", err, sizeof err)) {
    fprintf(stderr, "corpus_gen: %s\n", err);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  hl_node *node;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 0};
  lua_State *L;
  buf b;
  int ok = 1;
  if (argc != 3) {
    fprintf(stderr, "usage: corpus_gen fuzz/corpus.lua OUTDIR\n");
    return 2;
  }
  if (hl_node_start(&cfg, &node) != HL_OK) return 1;
  L = luaL_newstate();
  luaL_openlibs(L);
  hl_lua_attach(L, node);
  lua_pop(L, 1);
  if (luaL_dofile(L, argv[1]) != LUA_OK) {
    fprintf(stderr, "corpus_gen: %s\n", lua_tostring(L, -1));
    return 1;
  }
  buf_init(&b);
  lua_getfield(L, -1, "term");
  for (int i = 1; ok && lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
    buf_reset(&b);
    ok = encode_top(L, &b) && write_file(argv[2], "term", i, b.p, b.n);
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  lua_getfield(L, -1, "mspec");
  for (int i = 1; ok && lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
    buf_reset(&b);
    lua_rawgeti(L, -1, 1);
    buf_putc(&b, (unsigned char)lua_tointeger(L, -1));
    lua_pop(L, 1);
    lua_rawgeti(L, -1, 2);
    ok = encode_top(L, &b) && write_file(argv[2], "mspec", i, b.p, b.n);
    lua_pop(L, 2);
  }
  buf_free(&b);
  lua_close(L);
  hl_node_stop(node);
  return ok ? 0 : 1;
}
