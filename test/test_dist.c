/*
** test_dist.c — the term mapping between heirloom terms and Erlang's
** external format (src/dist/dist_term.h), without a network: every
** supported value goes out and comes back as the same bytes; what Erlang
** can say and heirloom cannot hold is refused with its reason; and bytes
** a peer might send, however damaged, are either refused or give a valid
** term, never a crash (run under ASan and TSan by the check targets).
** Last, two distributed nodes in this one OS process, through epmd on
** loopback (started, and stopped again, when none runs): threads of one
** send to a name on the other at once, and every message arrives, once
** (under TSan, the listener, readers and senders run together). Then
** links, monitors and exit signals between the two nodes through
** dist_link.h's calls: EXIT and DOWN with the reason and the remote pid,
** noproc, demonitor and unlink, and noconnection when a node goes.
*/
#include <ei.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dist.h"
#include "dist_conn.h"
#include "dist_link.h"
#include "dist_term.h"
#include "proc.h"
#include "ptab.h"
#include "heirloom.h"
#include "term.h"

static const dist_self SELF = {"hl@localhost", 7, NULL};

/* The term b goes out and back: the same bytes. */
static void round_trip(const buf *b) {
  ei_x_buff x;
  buf back;
  char err[300];
  int index = 0;
  buf_init(&back);
  ei_x_new(&x);
  CHECK(dist_term_to_ei(b->p, b->n, &SELF, &x, err, sizeof err));
  CHECK(dist_term_from_ei(x.buff, (size_t)x.index, &index, &SELF, &back, err, sizeof err));
  CHECK(index == x.index);
  CHECK(back.n == b->n && memcmp(back.p, b->p, b->n) == 0);
  ei_x_free(&x);
  buf_free(&back);
}

/* Atoms, this node's refs, and other nodes' pids and refs go out and come
** back as they were. */
static void test_round_trip_names(void) {
  static const char *const atoms[] = {"ok", "", "$gen_call", "caf\xc3\xa9", "True"};
  term_xpid xp = {(const unsigned char *)"erl@localhost", 13, 45, 3, 0xDEADBEEF};
  term_xref xr = {(const unsigned char *)"erl@localhost", 13, 9, 3, {1, 2, 3, 0, 0}};
  uint64_t refs[] = {1, 0x3FFFF, 0x40000, UINT64_MAX, (uint64_t)1 << 50};
  buf b;
  buf_init(&b);
  for (size_t i = 0; i < sizeof atoms / sizeof atoms[0]; i++) {
    buf_reset(&b);
    term_put_atom(&b, atoms[i], strlen(atoms[i]));
    round_trip(&b);
  }
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    buf_reset(&b);
    term_put_id(&b, TERM_REF, refs[i]);
    round_trip(&b);
  }
  buf_reset(&b);
  term_put_xpid(&b, &xp);
  round_trip(&b);
  xp.node = (const unsigned char *)SELF.node;   /* a pid of an earlier run of this node */
  xp.nodelen = strlen(SELF.node);
  buf_reset(&b);
  term_put_xpid(&b, &xp);
  round_trip(&b);
  for (int n = 1; n <= TERM_XREF_WORDS; n++) {
    xr.n = n;
    buf_reset(&b);
    term_put_xref(&b, &xr);
    round_trip(&b);
  }
  buf_reset(&b);   /* as a map key, beside a string of the same name */
  term_put_map(&b, 2);
  term_put_atom(&b, "k", 1);
  term_put_string(&b, "k", 1);
  term_put_int(&b, 1);
  term_put_int(&b, 2);
  round_trip(&b);
  buf_free(&b);
}

static void test_round_trips(void) {
  buf b;
  buf_init(&b);
  term_put_nil(&b);
  round_trip(&b);
  buf_reset(&b);
  term_put_bool(&b, 1);
  round_trip(&b);
  buf_reset(&b);
  term_put_bool(&b, 0);
  round_trip(&b);
  int64_t ints[] = {0, 1, -1, 255, 256, -129, INT32_MAX, INT32_MIN, (int64_t)1 << 53,
                    ((int64_t)1 << 53) + 1, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    buf_reset(&b);
    term_put_int(&b, ints[i]);
    round_trip(&b);
  }
  double floats[] = {1.5, -0.25, 1e300, 5e-324};
  for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) {
    buf_reset(&b);
    term_put_float(&b, floats[i]);
    round_trip(&b);
  }
  buf_reset(&b);
  term_put_string(&b, "a\0b\xff", 4);
  round_trip(&b);
  buf_reset(&b);
  term_put_id(&b, TERM_PID, (uint64_t)5 << 32 | 77);   /* serial 5, number 77 */
  round_trip(&b);
  buf_reset(&b);                  /* {1, {}, {k = "v", [2] = {true}}} */
  term_put_array(&b, 3);
  term_put_int(&b, 1);
  term_put_array(&b, 0);
  term_put_map(&b, 2);
  term_put_int(&b, 2);            /* keys in term order: numbers before strings */
  term_put_string(&b, "k", 1);
  term_put_array(&b, 1);
  term_put_bool(&b, 1);
  term_put_string(&b, "v", 1);
  round_trip(&b);
  buf_reset(&b);                  /* lists: [], [1, [], "s", {2}] */
  term_put_list(&b);
  term_put_list_end(&b);
  round_trip(&b);
  buf_reset(&b);
  term_put_list(&b);
  term_put_int(&b, 1);
  term_put_list(&b);
  term_put_list_end(&b);
  term_put_string(&b, "s", 1);
  term_put_array(&b, 1);
  term_put_int(&b, 2);
  term_put_list_end(&b);
  round_trip(&b);
  buf_reset(&b);                  /* a map with a tuple key and a list key alike */
  term_put_map(&b, 2);
  term_put_array(&b, 1);
  term_put_int(&b, 1);
  term_put_list(&b);
  term_put_int(&b, 1);
  term_put_list_end(&b);
  term_put_int(&b, 1);
  term_put_int(&b, 2);
  round_trip(&b);
  buf_free(&b);
}

/* A heirloom list goes out as an Erlang proper list, an array as a tuple. */
static void test_lists_out(void) {
  buf b;
  ei_x_buff x;
  char err[300];
  int index = 0, version, type, size, arity;
  long v;
  buf_init(&b);
  term_put_list(&b);
  term_put_int(&b, 7);
  term_put_array(&b, 0);
  term_put_list_end(&b);
  ei_x_new(&x);
  CHECK(dist_term_to_ei(b.p, b.n, &SELF, &x, err, sizeof err));
  CHECK(ei_decode_version(x.buff, &index, &version) == 0);
  CHECK(ei_get_type(x.buff, &index, &type, &size) == 0 && type == ERL_LIST_EXT && size == 2);
  CHECK(ei_decode_list_header(x.buff, &index, &arity) == 0 && arity == 2);
  CHECK(ei_decode_long(x.buff, &index, &v) == 0 && v == 7);
  CHECK(ei_decode_tuple_header(x.buff, &index, &arity) == 0 && arity == 0);
  CHECK(ei_get_type(x.buff, &index, &type, &size) == 0 && type == ERL_NIL_EXT);
  CHECK(ei_decode_list_header(x.buff, &index, &arity) == 0 && arity == 0);
  CHECK(index == x.index);
  ei_x_free(&x);
  buf_reset(&b);
  term_put_list(&b);
  term_put_list_end(&b);
  ei_x_new(&x);
  index = 0;
  CHECK(dist_term_to_ei(b.p, b.n, &SELF, &x, err, sizeof err));
  CHECK(ei_decode_version(x.buff, &index, &version) == 0);
  CHECK(ei_get_type(x.buff, &index, &type, &size) == 0 && type == ERL_NIL_EXT);
  ei_x_free(&x);
  buf_free(&b);
}

/* What heirloom refuses to send, and why. */
static void refused_out(const buf *b, const char *why) {
  ei_x_buff x;
  char err[300];
  ei_x_new(&x);
  CHECK(!dist_term_to_ei(b->p, b->n, &SELF, &x, err, sizeof err));
  CHECK(strstr(err, why) != NULL);
  ei_x_free(&x);
}

static void test_refused_out(void) {
  buf b;
  buf_init(&b);
  term_put_float(&b, NAN);
  refused_out(&b, "NaN and infinities");
  buf_reset(&b);
  term_put_array(&b, 1);
  term_put_float(&b, -INFINITY);
  refused_out(&b, "NaN and infinities");
  buf_reset(&b);
  term_put_id(&b, TERM_TABLE, 3);
  refused_out(&b, "a table handle cannot leave its node");
  buf_reset(&b);
  term_put_atom(&b, "true", 4);
  refused_out(&b, "the atom 'true' is Lua's true on the other side");
  buf_reset(&b);
  term_put_atom(&b, "nil", 3);
  refused_out(&b, "the atom 'nil' is Lua's nil");
  buf_reset(&b);
  term_put_atom(&b, "\xff", 1);
  refused_out(&b, "an atom whose name is not UTF-8");
  buf_reset(&b);
  term_put_atom(&b, "\xc0\x80", 2);   /* an overlong zero */
  refused_out(&b, "not UTF-8");
  buf_free(&b);
}

/* The external term in x is refused, and why; or, when why is NULL,
** accepted as the term `want`. */
static void check_in(ei_x_buff *x, const char *why, const buf *want) {
  buf out;
  char err[300];
  int index = 0, ok;
  buf_init(&out);
  ok = dist_term_from_ei(x->buff, (size_t)x->index, &index, &SELF, &out, err, sizeof err);
  if (why != NULL) {
    CHECK(!ok);
    CHECK(strstr(err, why) != NULL);
    if (strstr(err, why) == NULL) fprintf(stderr, "  got: %s\n", err);
  } else {
    CHECK(ok);
    CHECK(out.n == want->n && memcmp(out.p, want->p, want->n) == 0);
  }
  buf_free(&out);
  ei_x_free(x);
}

static void fresh(ei_x_buff *x) {
  ei_x_new_with_version(x);
}

static void test_from_erlang(void) {
  ei_x_buff x;
  buf want;
  erlang_pid pid;
  static const char big[] = {'n', 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};   /* 2^64 */
  buf_init(&want);
  /* [1, 2] and "ab" are lists (of integers), [] an empty one; a tuple an
  ** array; a binary a string */
  fresh(&x);
  ei_x_encode_list_header(&x, 2);
  ei_x_encode_long(&x, 1);
  ei_x_encode_long(&x, 2);
  ei_x_encode_empty_list(&x);
  term_put_list(&want);
  term_put_int(&want, 1);
  term_put_int(&want, 2);
  term_put_list_end(&want);
  check_in(&x, NULL, &want);
  fresh(&x);
  ei_x_encode_string(&x, "ab");
  buf_reset(&want);
  term_put_list(&want);
  term_put_int(&want, 'a');
  term_put_int(&want, 'b');
  term_put_list_end(&want);
  check_in(&x, NULL, &want);
  fresh(&x);
  ei_x_encode_empty_list(&x);
  buf_reset(&want);
  term_put_list(&want);
  term_put_list_end(&want);
  check_in(&x, NULL, &want);
  fresh(&x);
  ei_x_encode_tuple_header(&x, 2);
  ei_x_encode_long(&x, 1);
  ei_x_encode_long(&x, 2);
  buf_reset(&want);
  term_put_array(&want, 2);
  term_put_int(&want, 1);
  term_put_int(&want, 2);
  check_in(&x, NULL, &want);
  fresh(&x);
  ei_x_encode_binary(&x, "b\0", 2);
  buf_reset(&want);
  term_put_string(&want, "b\0", 2);
  check_in(&x, NULL, &want);
  /* a map's keys come in any order and leave sorted */
  fresh(&x);
  ei_x_encode_map_header(&x, 2);
  ei_x_encode_binary(&x, "k", 1);
  ei_x_encode_long(&x, 1);
  ei_x_encode_long(&x, 9);
  ei_x_encode_atom(&x, "true");
  buf_reset(&want);
  term_put_map(&want, 2);
  term_put_int(&want, 9);
  term_put_string(&want, "k", 1);
  term_put_bool(&want, 1);
  term_put_int(&want, 1);
  check_in(&x, NULL, &want);
  /* refused */
  fresh(&x);
  ei_x_append_buf(&x, big, sizeof big);
  check_in(&x, "an integer bigger than 64 bits", NULL);
  fresh(&x);
  ei_x_encode_atom(&x, "ok");
  buf_reset(&want);
  term_put_atom(&want, "ok", 2);
  check_in(&x, NULL, &want);
  fresh(&x);
  ei_x_encode_list_header(&x, 1);
  ei_x_encode_long(&x, 1);
  ei_x_encode_long(&x, 2);
  check_in(&x, "an improper list", NULL);
  fresh(&x);
  ei_x_encode_bitstring(&x, "\xff", 0, 3);
  check_in(&x, "a bitstring", NULL);
  fresh(&x);
  for (int i = 0; i < TERM_MAX_DEPTH + 1; i++) ei_x_encode_tuple_header(&x, 1);
  ei_x_encode_long(&x, 1);
  check_in(&x, "nesting deeper than 64 levels", NULL);
  fresh(&x);
  ei_x_encode_map_header(&x, 2);
  ei_x_encode_long(&x, 1);
  ei_x_encode_long(&x, 1);
  ei_x_encode_double(&x, 1.0);
  ei_x_encode_long(&x, 2);
  check_in(&x, "two keys that are one heirloom term", NULL);
  fresh(&x);
  ei_x_encode_map_header(&x, 1);
  ei_x_encode_atom(&x, "nil");
  ei_x_encode_long(&x, 1);
  check_in(&x, "the atom nil as a key", NULL);
  memset(&pid, 0, sizeof pid);
  strcpy(pid.node, "other@localhost");
  pid.num = 1;
  pid.creation = 7;
  fresh(&x);
  ei_x_encode_pid(&x, &pid);
  buf_reset(&want);
  {
    term_xpid xp = {(const unsigned char *)"other@localhost", 15, 1, 0, 7};
    term_put_xpid(&want, &xp);
  }
  check_in(&x, NULL, &want);
  /* a gen_server call's [alias | Ref] tag, with no tags held (no node),
  ** is an improper list like any other */
  fresh(&x);
  ei_x_encode_tuple_header(&x, 3);
  ei_x_encode_atom(&x, "$gen_call");
  ei_x_encode_tuple_header(&x, 2);
  ei_x_encode_pid(&x, &pid);
  ei_x_encode_list_header(&x, 1);
  ei_x_encode_atom(&x, "alias");
  ei_x_encode_long(&x, 5);
  ei_x_encode_atom(&x, "req");
  check_in(&x, "an improper list", NULL);
  buf_free(&want);
}

/* Damaged bytes: a valid encoding with bytes changed or cut short is
** refused or read as a valid term. Bounded and seeded: the same each run. */
static void test_damaged(void) {
  ei_x_buff x;
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  fresh(&x);
  ei_x_encode_tuple_header(&x, 4);
  ei_x_encode_map_header(&x, 1);
  ei_x_encode_binary(&x, "key", 3);
  ei_x_encode_list_header(&x, 2);
  ei_x_encode_double(&x, 2.5);
  ei_x_encode_string(&x, "xyz");
  ei_x_encode_empty_list(&x);
  ei_x_encode_longlong(&x, -123456789012LL);
  ei_x_encode_atom(&x, "false");
  ei_x_encode_binary(&x, "bytes", 5);
  for (int round = 0; round < 3000; round++) {
    char *copy = malloc((size_t)x.index);
    int len = x.index, index = 0;
    buf out;
    char err[300];
    memcpy(copy, x.buff, (size_t)len);
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    copy[1 + (seed >> 33) % (uint64_t)(len - 1)] = (char)(seed >> 17);
    if (round % 3 == 0) len = 1 + (int)((seed >> 40) % (uint64_t)len);
    buf_init(&out);
    if (dist_term_from_ei(copy, (size_t)len, &index, &SELF, &out, err, sizeof err)) {
      CHECK(term_valid(out.p, out.n));
      CHECK(index <= len);
    }
    buf_free(&out);
    free(copy);
  }
  ei_x_free(&x);
}

/* hl_config's dist fields are checked before anything is started. */
static void test_config(void) {
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 1, .dist_name = "bad name@localhost",
                   .dist_cookie = "c"};
  hl_node *n = NULL;
  CHECK(hl_node_start(&cfg, &n) == HL_EBADARG && n == NULL);
  CHECK(strstr(hl_errmsg(), "hl_node_start: dist.name must be") != NULL);
  cfg.dist_name = "a@localhost";
  cfg.dist_cookie = "with space";
  CHECK(hl_node_start(&cfg, &n) == HL_EBADARG && n == NULL);
  CHECK(strstr(hl_errmsg(), "dist.cookie must be printable ASCII") != NULL);
  cfg.dist_cookie = "c";
  cfg.schedulers = 0;
  CHECK(hl_node_start(&cfg, &n) == HL_EBADARG && n == NULL);
  CHECK(strstr(hl_errmsg(), "needs scheduler threads") != NULL);
}

/* ---- two nodes ---- */

#define SENDERS 4
#define PER_SENDER 50

typedef struct sender {
  hl_node *from;
  const char *to;
  int index;
  int failed;
} sender;

static void *send_many(void *arg) {
  sender *s = arg;
  hl_err e;
  for (int i = 0; i < PER_SENDER; i++) {
    buf m;
    buf_init(&m);
    term_put_array(&m, 2);             /* {sender, i} */
    term_put_int(&m, s->index);
    term_put_int(&m, i);
    err_clear(&e);
    if (dist_send_name(s->from, "inbox", s->to, m.p, m.n, &e) != HL_OK) s->failed++;
    buf_free(&m);
  }
  return NULL;
}

/* Counts the reports that a connection was lost. */
static void count_lost(void *ud, const char *report) {
  if (strstr(report, "heirloom.dist: the connection to ") != NULL &&
      strstr(report, " was lost") != NULL)
    atomic_fetch_add((atomic_int *)ud, 1);
}

static void test_two_nodes(void) {
  static atomic_int lost;
  char a_name[64], b_name[64];
  int started_epmd = 0, got[SENDERS][PER_SENDER], next[SENDERS] = {0};
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 1, .dist_cookie = "test-dist-cookie"};
  hl_node *a = NULL, *b = NULL;
  hl_pid self;
  pthread_t threads[SENDERS];
  sender senders[SENDERS];
  hl_buf out;
  if (system("epmd -names >/dev/null 2>&1") != 0) {
    CHECK(system("ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon") == 0);
    started_epmd = 1;
  }
  snprintf(a_name, sizeof a_name, "tdista%d@localhost", (int)getpid());
  snprintf(b_name, sizeof b_name, "tdistb%d@localhost", (int)getpid());
  cfg.dist_name = a_name;
  CHECK(hl_node_start(&cfg, &a) == HL_OK);
  cfg.dist_name = b_name;
  CHECK(hl_node_start(&cfg, &b) == HL_OK);
  if (a == NULL || b == NULL) {
    fprintf(stderr, "  %s\n", hl_errmsg());
    return;
  }
  hl_node_set_logger(b, count_lost, &lost);
  CHECK(hl_attach(b, &self) == HL_OK);
  CHECK(hl_register(b, "inbox", self) == HL_OK);
  for (int i = 0; i < SENDERS; i++) {
    senders[i] = (sender){a, b_name, i, 0};
    pthread_create(&threads[i], NULL, send_many, &senders[i]);
  }
  memset(got, 0, sizeof got);
  hl_buf_init(&out);
  for (int n = 0; n < SENDERS * PER_SENDER; n++) {
    term_num who, which;
    const unsigned char *e0, *e1;
    size_t l0, l1;
    hl_buf_clear(&out);
    if (hl_receive(b, 10000, &out) != HL_OK) {
      CHECK(!"a message from the other node did not arrive");
      break;
    }
    if (term_array_elem(out.data, out.len, 0, &e0, &l0) &&
        term_array_elem(out.data, out.len, 1, &e1, &l1) && term_get_num(e0, l0, &who) &&
        term_get_num(e1, l1, &which) && who.i >= 0 && who.i < SENDERS && which.i >= 0 &&
        which.i < PER_SENDER) {
      got[who.i][which.i]++;
      /* each sender's messages arrive in the order sent, those that
      ** waited for the connection included */
      CHECK(which.i == next[who.i]);
      next[who.i] = which.i + 1;
    }
  }
  hl_buf_free(&out);
  for (int i = 0; i < SENDERS; i++) {
    pthread_join(threads[i], NULL);
    CHECK(senders[i].failed == 0);
    for (int j = 0; j < PER_SENDER; j++) CHECK(got[i][j] == 1);
  }
  hl_detach(b);
  hl_node_stop(a);   /* b's reader sees the connection go, and says so */
  for (int i = 0; i < 100 && atomic_load(&lost) == 0; i++) usleep(10000);
  CHECK(atomic_load(&lost) == 1);
  hl_node_stop(b);
  if (started_epmd) CHECK(system("epmd -kill >/dev/null 2>&1") == 0);
}

/* ---- links and monitors across two nodes (dist_link.h) ----
** Node A's side is this thread, attached; node B's processes are host
** processes made for the test, which nothing runs: each is ended by hand.
** Host processes trap exits, so exit signals arrive as messages. */

static hl_node *la, *lb;

static void quiet(void *ud, const char *report) {
  (void)ud;
  (void)report;   /* the crash reports of the processes ended here */
}

/* A process of lb, its pid as A names it, and the process itself. */
static uint64_t b_proc(term_xpid *x, proc **p) {
  uint64_t pid = node_new_host(lb);
  *x = (term_xpid){(const unsigned char *)lb->dist->self.node, strlen(lb->dist->self.node),
                   (uint32_t)pid, (uint32_t)(pid >> 32), lb->dist->self.creation};
  *p = ptab_get(&lb->procs, pid);
  return pid;
}

/* Until B has seen the link or monitor of p (its mark), at most 5 s. */
static void wait_marked(proc *p) {
  for (int i = 0; i < 500; i++) {
    int marked;
    pthread_mutex_lock(&p->lock);
    marked = p->remote;
    pthread_mutex_unlock(&p->lock);
    if (marked) return;
    usleep(10000);
  }
  CHECK(!"the other node did not see the link or monitor");
}

static void end_proc(proc *p, const char *why) {
  buf r;
  buf_init(&r);
  term_put_string(&r, why, strlen(why));
  proc_exit_now(p, r.p, r.n);
  buf_free(&r);
  proc_unref(p);
}

static int is_str(const unsigned char *t, size_t len, const char *s) {
  buf b;
  int same;
  buf_init(&b);
  same = term_get_string(t, len, &b) == len && b.n == strlen(s) && memcmp(b.p, s, b.n) == 0;
  buf_free(&b);
  return same;
}

/* The next message of A's thread is {tag, id, from, why} (a DOWN: id its
** ref) or {tag, from, why} (an EXIT), from naming x. */
static void expect_signal_on(hl_node *n, const char *tag, uint64_t ref, const term_xpid *x,
                             const char *why) {
  hl_buf out;
  const unsigned char *e;
  size_t l;
  term_xpid got;
  int down = strcmp(tag, "DOWN") == 0, t;
  uint64_t id;
  hl_buf_init(&out);
  if (hl_receive(n, 5000, &out) != HL_OK) {
    CHECK(!"no EXIT or DOWN arrived");
    fprintf(stderr, "  (waiting for %s %s)\n", tag, why);
    hl_buf_free(&out);
    return;
  }
  CHECK(term_array_elem(out.data, out.len, 0, &e, &l) && is_str(e, l, tag));
  if (down)
    CHECK(term_array_elem(out.data, out.len, 1, &e, &l) && term_get_id(e, l, &t, &id) &&
          t == TERM_REF && id == ref);
  if (x != NULL) {
    CHECK(term_array_elem(out.data, out.len, down ? 2 : 1, &e, &l) && term_get_xpid(e, l, &got));
    CHECK(got.num == x->num && got.serial == x->serial && got.nodelen == x->nodelen &&
          memcmp(got.node, x->node, x->nodelen) == 0);
  }
  CHECK(term_array_elem(out.data, out.len, down ? 3 : 2, &e, &l) && is_str(e, l, why));
  if (!(term_array_elem(out.data, out.len, down ? 3 : 2, &e, &l) && is_str(e, l, why)))
    fprintf(stderr, "  (waiting for %s %s)\n", tag, why);
  hl_buf_free(&out);
}

static void expect_signal(const char *tag, uint64_t ref, const term_xpid *x, const char *why) {
  expect_signal_on(la, tag, ref, x, why);
}

static void expect_nothing(int ms) {
  hl_buf out;
  hl_buf_init(&out);
  CHECK(hl_receive(la, ms, &out) == HL_ENOTFOUND);
  hl_buf_free(&out);
}

static void test_links(void) {
  char a_name[64], b_name[64];
  int started_epmd = 0;
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 1, .dist_cookie = "test-dist-cookie"};
  static atomic_int lost_a;
  hl_pid ha;
  hl_err e;
  term_xpid x, self_x;
  proc *p;
  uint64_t ref, pid;
  unsigned char shutdown_reason[16];
  buf r;
  if (system("epmd -names >/dev/null 2>&1") != 0) {
    CHECK(system("ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon") == 0);
    started_epmd = 1;
  }
  snprintf(a_name, sizeof a_name, "tlinka%d@localhost", (int)getpid());
  snprintf(b_name, sizeof b_name, "tlinkb%d@localhost", (int)getpid());
  cfg.dist_name = a_name;
  CHECK(hl_node_start(&cfg, &la) == HL_OK);
  cfg.dist_name = b_name;
  CHECK(hl_node_start(&cfg, &lb) == HL_OK);
  if (la == NULL || lb == NULL) return;
  hl_node_set_logger(la, count_lost, &lost_a);   /* and the crash reports go */
  hl_node_set_logger(lb, quiet, NULL);
  CHECK(hl_attach(la, &ha) == HL_OK);
  self_x = (term_xpid){(const unsigned char *)la->dist->self.node, strlen(la->dist->self.node),
                       (uint32_t)ha, (uint32_t)(ha >> 32), la->dist->self.creation};

  /* a link: the other end's exit comes as an EXIT with its reason */
  b_proc(&x, &p);
  err_clear(&e);
  CHECK(dist_link(la, ha, &x, &e) == HL_OK);
  wait_marked(p);
  end_proc(p, "bye");
  expect_signal("EXIT", 0, &x, "bye");
  /* an exit signal (exit/2) from the other node; a special reason goes as an atom */
  pid = b_proc(&x, &p);
  buf_init(&r);
  term_put_string(&r, "shutdown", 8);
  memcpy(shutdown_reason, r.p, r.n);
  CHECK(dist_exit(lb, pid, &self_x, shutdown_reason, r.n, &e) == HL_OK);
  buf_free(&r);
  expect_signal("EXIT", 0, &x, "shutdown");
  /* a monitor: DOWN with the ref dist_monitor gave */
  CHECK(dist_monitor(la, ha, &x, &ref, &e) == HL_OK);
  wait_marked(p);
  end_proc(p, "gone");
  expect_signal("DOWN", ref, &x, "gone");
  /* of a process that is not there any more: noproc */
  CHECK(dist_monitor(la, ha, &x, &ref, &e) == HL_OK);
  expect_signal("DOWN", ref, &x, "noproc");
  CHECK(dist_link(la, ha, &x, &e) == HL_OK);
  expect_signal("EXIT", 0, &x, "noproc");
  /* of a name: withdrawn, no DOWN comes; of a name nobody holds: noproc */
  pid = b_proc(&x, &p);
  {
    const char *why;
    uint64_t *watchers = NULL;
    size_t nwatchers = 0;
    CHECK(ptab_register(&lb->procs, "watched", pid, &why, &watchers, &nwatchers));
    free(watchers);
  }
  CHECK(dist_monitor_name(la, ha, "watched", b_name, &ref, &e) == HL_OK);
  wait_marked(p);
  CHECK(dist_demonitor(la, ha, ref, &e) == HL_OK);
  usleep(200000);
  end_proc(p, "unwatched");
  expect_nothing(300);
  CHECK(dist_monitor_name(la, ha, "nobody", b_name, &ref, &e) == HL_OK);
  expect_signal("DOWN", ref, NULL, "noproc");
  /* an unlinked process's exit is not told */
  b_proc(&x, &p);
  CHECK(dist_link(la, ha, &x, &e) == HL_OK);
  wait_marked(p);
  CHECK(dist_unlink(la, ha, &x, &e) == HL_OK);
  usleep(200000);
  end_proc(p, "unlinked");
  expect_nothing(300);
  /* the peer's UNLINK_ID_ACK did not cost the connection */
  CHECK(atomic_load(&lost_a) == 0);
  /* bad arguments */
  CHECK(dist_link(la, ha, &self_x, &e) == HL_EBADARG);
  CHECK(strstr(e.msg, "argument 2 must be a pid of another node") != NULL);
  /* the connection is lost: noconnection to the link and the monitor */
  b_proc(&x, &p);
  CHECK(dist_link(la, ha, &x, &e) == HL_OK);
  CHECK(dist_monitor(la, ha, &x, &ref, &e) == HL_OK);
  wait_marked(p);
  proc_unref(p);
  hl_node_stop(lb);
  {
    int got_exit = 0, got_down = 0;
    for (int i = 0; i < 2; i++) {
      hl_buf out;
      const unsigned char *el;
      size_t l;
      hl_buf_init(&out);
      if (hl_receive(la, 5000, &out) == HL_OK && term_array_elem(out.data, out.len, 0, &el, &l)) {
        if (is_str(el, l, "EXIT") && term_array_elem(out.data, out.len, 2, &el, &l) &&
            is_str(el, l, "noconnection"))
          got_exit++;
        if (is_str(el, l, "DOWN") && term_array_elem(out.data, out.len, 3, &el, &l) &&
            is_str(el, l, "noconnection"))
          got_down++;
      }
      hl_buf_free(&out);
    }
    CHECK(got_exit == 1 && got_down == 1);
  }
  hl_detach(la);
  hl_node_stop(la);
  if (started_epmd) CHECK(system("epmd -kill >/dev/null 2>&1") == 0);
}

/* ---- links and monitors with an Erlang node ----
** An `erl -sname` node on loopback runs spec/support/dist_peer.erl; this
** thread, attached to a heirloom node, links to and monitors Erlang
** processes it has the peer spawn (each registered, so that it can be
** told what to do), and reads what they report. Nothing is skipped:
** without erl and erlc this fails, as the specs do. */

static hl_node *en;
static hl_pid eh;
static char epeer[64];

static void to_peer(const char *name, const buf *m) {
  hl_err e;
  err_clear(&e);
  CHECK(dist_send_name(en, name, epeer, m->p, m->n, &e) == HL_OK);
}

/* The next message tagged tag into out (others are dropped); 0 if none
** comes within ms. */
static int wait_tag(const char *tag, hl_buf *out, int ms) {
  for (int waited = 0; waited < ms; waited += 100) {
    const unsigned char *e;
    size_t l;
    hl_buf_clear(out);
    if (hl_receive(en, 100, out) != HL_OK) continue;
    if (term_array_elem(out->data, out->len, 0, &e, &l) && is_str(e, l, tag)) return 1;
  }
  return 0;
}

static int64_t elem_int(const hl_buf *m, uint32_t i) {
  const unsigned char *e;
  size_t l;
  term_num v;
  return term_array_elem(m->data, m->len, i, &e, &l) && term_get_num(e, l, &v) ? v.i : -1;
}

typedef struct target {
  term_xpid x;
  char name[32];
} target;

/* A fresh trapping Erlang process. */
static int spawn_target(target *t) {
  hl_buf out;
  buf m, name;
  const unsigned char *e;
  size_t l;
  int ok;
  buf_init(&m);
  term_put_array(&m, 2);
  term_put_string(&m, "spawn", 5);
  term_put_id(&m, TERM_PID, eh);
  to_peer("echo", &m);
  buf_free(&m);
  hl_buf_init(&out);
  buf_init(&name);
  ok = wait_tag("spawned", &out, 5000) && term_array_elem(out.data, out.len, 4, &e, &l) &&
       term_get_string(e, l, &name) == l && name.n < sizeof t->name;
  CHECK(ok);
  if (ok) {
    t->x = (term_xpid){(const unsigned char *)epeer, strlen(epeer), (uint32_t)elem_int(&out, 1),
                       (uint32_t)elem_int(&out, 2), (uint32_t)elem_int(&out, 3)};
    memcpy(t->name, name.p, name.n);
    t->name[name.n] = '\0';
  }
  buf_free(&name);
  hl_buf_free(&out);
  return ok;
}

/* Until t has `links` links and `monitors` monitors on it (5 s at most). */
static void wait_info(const target *t, int links, int monitors) {
  hl_buf out;
  buf m;
  int ok = 0;
  buf_init(&m);
  term_put_array(&m, 1);
  term_put_string(&m, "info", 4);
  hl_buf_init(&out);
  for (int i = 0; i < 50 && !ok; i++) {
    to_peer(t->name, &m);
    ok = wait_tag("info", &out, 2000) && elem_int(&out, 1) == links &&
         elem_int(&out, 2) == monitors;
    if (!ok) usleep(100000);
  }
  CHECK(ok);
  if (!ok) fprintf(stderr, "  (waiting for %d links, %d monitors)\n", links, monitors);
  hl_buf_free(&out);
  buf_free(&m);
}

static void tell_die(const target *t, const char *why) {
  buf m;
  buf_init(&m);
  term_put_array(&m, 2);
  term_put_string(&m, "die", 3);
  term_put_string(&m, why, strlen(why));
  to_peer(t->name, &m);
  buf_free(&m);
}

static void test_erlang_links(void) {
  static atomic_int lost;
  char dir[] = "/tmp/test_dist_XXXXXX", cmd[1024], name[64];
  hl_config cfg = {.size = sizeof(hl_config), .schedulers = 1, .dist_cookie = "test-dist-erl"};
  int started_epmd = 0, ready = 0;
  long erl_pid = 0;
  hl_buf out;
  hl_err e;
  target t;
  uint64_t ref;
  buf m;
  FILE *f;
  if (system("command -v erl >/dev/null && command -v erlc >/dev/null") != 0) {
    CHECK(!"erl and erlc are missing: install erlang-dev (make deps)");
    return;
  }
  if (system("epmd -names >/dev/null 2>&1") != 0) {
    CHECK(system("ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon") == 0);
    started_epmd = 1;
  }
  CHECK(mkdtemp(dir) != NULL);
  snprintf(cmd, sizeof cmd, "erlc -o %s spec/support/dist_peer.erl", dir);
  CHECK(system(cmd) == 0);
  snprintf(epeer, sizeof epeer, "tdisterl%d@localhost", (int)getpid());
  snprintf(cmd, sizeof cmd,
           "env -u LD_PRELOAD erl -sname %s -setcookie test-dist-erl -noshell -pa %s "
           "-kernel inet_dist_use_interface '{127,0,0,1}' -eval 'dist_peer:start()' "
           ">/dev/null 2>&1 & echo $! >%s/pid", epeer, dir, dir);
  CHECK(system(cmd) == 0);
  snprintf(cmd, sizeof cmd, "%s/pid", dir);
  if ((f = fopen(cmd, "r")) != NULL) {
    CHECK(fscanf(f, "%ld", &erl_pid) == 1);
    fclose(f);
  }
  snprintf(name, sizeof name, "tdisthl%d@localhost", (int)getpid());
  cfg.dist_name = name;
  CHECK(hl_node_start(&cfg, &en) == HL_OK);
  if (en == NULL) return;
  hl_node_set_logger(en, count_lost, &lost);
  CHECK(hl_attach(en, &eh) == HL_OK);
  hl_buf_init(&out);
  buf_init(&m);
  term_put_array(&m, 2);            /* {me, "ready?"}: the echo answers {"echo", "ready?"} */
  term_put_id(&m, TERM_PID, eh);
  term_put_string(&m, "ready?", 6);
  for (int i = 0; i < 100 && !ready; i++) {   /* erl takes a while to start */
    err_clear(&e);
    dist_send_name(en, "echo", epeer, m.p, m.n, &e);
    ready = wait_tag("echo", &out, 200);
  }
  buf_free(&m);
  CHECK(ready);
  if (ready) {
    /* a link: the Erlang process's exit comes as an EXIT with its reason */
    if (spawn_target(&t)) {
      CHECK(dist_link(en, eh, &t.x, &e) == HL_OK);
      wait_info(&t, 1, 0);
      tell_die(&t, "boom");
      expect_signal_on(en, "EXIT", 0, &t.x, "boom");
    }
    /* a monitor: DOWN with dist_monitor's ref */
    if (spawn_target(&t)) {
      CHECK(dist_monitor(en, eh, &t.x, &ref, &e) == HL_OK);
      wait_info(&t, 0, 1);
      tell_die(&t, "bye");
      expect_signal_on(en, "DOWN", ref, &t.x, "bye");
      /* of a process that is not there any more, and of a name nobody holds */
      CHECK(dist_monitor(en, eh, &t.x, &ref, &e) == HL_OK);
      expect_signal_on(en, "DOWN", ref, &t.x, "noproc");
      CHECK(dist_monitor_name(en, eh, "nobody_here", epeer, &ref, &e) == HL_OK);
      expect_signal_on(en, "DOWN", ref, NULL, "noproc");
    }
    /* exit/2 to a trapping Erlang process: it gets the reason (an atom) */
    if (spawn_target(&t)) {
      buf_init(&m);
      term_put_string(&m, "shutdown", 8);
      CHECK(dist_exit(en, eh, &t.x, m.p, m.n, &e) == HL_OK);
      buf_free(&m);
      CHECK(wait_tag("got_exit", &out, 5000));
      {
        const unsigned char *el;
        size_t l;
        CHECK(term_array_elem(out.data, out.len, 1, &el, &l) && is_str(el, l, "shutdown"));
      }
      /* unlink: the Erlang process has the link, then has it no more */
      CHECK(dist_link(en, eh, &t.x, &e) == HL_OK);
      wait_info(&t, 1, 0);
      CHECK(dist_unlink(en, eh, &t.x, &e) == HL_OK);
      wait_info(&t, 0, 0);
      /* and a demonitor */
      CHECK(dist_monitor(en, eh, &t.x, &ref, &e) == HL_OK);
      wait_info(&t, 0, 1);
      CHECK(dist_demonitor(en, eh, ref, &e) == HL_OK);
      wait_info(&t, 0, 0);
    }
    CHECK(atomic_load(&lost) == 0);
    /* the Erlang node is killed: noconnection to the link and the monitor */
    if (spawn_target(&t) && erl_pid > 0) {
      int got_exit = 0, got_down = 0;
      CHECK(dist_link(en, eh, &t.x, &e) == HL_OK);
      CHECK(dist_monitor(en, eh, &t.x, &ref, &e) == HL_OK);
      wait_info(&t, 1, 1);
      kill((pid_t)erl_pid, SIGKILL);
      erl_pid = 0;
      for (int i = 0; i < 2; i++) {
        const unsigned char *el;
        size_t l;
        hl_buf_clear(&out);
        if (hl_receive(en, 5000, &out) == HL_OK && term_array_elem(out.data, out.len, 0, &el, &l)) {
          if (is_str(el, l, "EXIT") && term_array_elem(out.data, out.len, 2, &el, &l) &&
              is_str(el, l, "noconnection"))
            got_exit++;
          else if (is_str(el, l, "DOWN") && term_array_elem(out.data, out.len, 3, &el, &l) &&
                   is_str(el, l, "noconnection"))
            got_down++;
        }
      }
      CHECK(got_exit == 1 && got_down == 1);
    }
  }
  hl_buf_free(&out);
  hl_detach(en);
  hl_node_stop(en);
  if (erl_pid > 0) kill((pid_t)erl_pid, SIGKILL);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
  if (started_epmd) CHECK(system("epmd -kill >/dev/null 2>&1") == 0);
}

int main(void) {
  test_config();
  test_round_trips();
  test_round_trip_names();
  test_lists_out();
  test_refused_out();
  test_from_erlang();
  test_damaged();
  test_two_nodes();
  test_links();
  test_erlang_links();
  return check_summary("dist");
}
