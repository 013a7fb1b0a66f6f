/*
** fuzz_dist.c — libFuzzer target for the term mapping of Erlang
** distribution (src/dist/dist_term.c): any bytes, read as a message a peer
** sent, and, when they are a valid heirloom term, sent out and read back.
**
** What must hold for every input:
**   - reading a peer's bytes never reads outside them or crashes (ASan,
**     UBSan), and what it accepts is a valid term;
**   - a valid heirloom term that has an Erlang form comes back from it as
**     the same bytes (the mapping is lossless that way round).
** A failed check aborts, which libFuzzer reports as a crash.
*/
#include <ei.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_term.h"
#include "term.h"

#define MUST(cond)                                                           \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "fuzz_dist: %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
      abort();                                                               \
    }                                                                        \
  } while (0)

static const dist_self SELF = {"hl@localhost", 1, NULL};

static void from_peer(const unsigned char *data, size_t size) {
  buf out;
  char err[300];
  int index = 0;
  buf_init(&out);
  if (dist_term_from_ei((const char *)data, size, &index, &SELF, &out, err, sizeof err))
    MUST(term_valid(out.p, out.n) && (size_t)index <= size);
  buf_free(&out);
}

static void out_and_back(const unsigned char *data, size_t size) {
  ei_x_buff x;
  buf back;
  char err[300];
  int index = 0;
  if (!term_valid(data, size)) return;
  ei_x_new(&x);
  buf_init(&back);
  if (dist_term_to_ei(data, size, &SELF, &x, err, sizeof err)) {
    MUST(dist_term_from_ei(x.buff, (size_t)x.index, &index, &SELF, &back, err, sizeof err));
    MUST(back.n == size && memcmp(back.p, data, size) == 0);
  }
  buf_free(&back);
  ei_x_free(&x);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  from_peer(data, size);
  out_and_back(data, size);
  return 0;
}
