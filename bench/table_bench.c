/*
** table_bench.c — the heirloom side of `make bench`: times the workloads of
** bench/ets_bench.erl on heirloom tables, through the C API and through the
** Lua API (bench/table_bench.lua's loops in host Lua states bound to the same
** node, `lua`, and in heirloom processes, `proc`, as a handler runs them),
** on 1 and 2 threads, and prints one line per workload:
**
**   heirloom <type> <op> <c|lua|proc> <threads> <ns_per_op> [size=20k] [check=<count>/<sum>]
**
** size=20k marks the workloads on the small table (SMALL_KEYS keys, N
** operations); check= is what a select or a walk found, which the Erlang
** side must find too.
**
** Usage: table_bench SCRIPT [N [ONLY]]
**   SCRIPT  bench/table_bench.lua
**   N       keys and operations per workload (default 1000000)
**   ONLY    run only the workloads whose name (set/lookup/c/1t, or
**           set/lookup/c/1t/20k on the small table) starts so
**
** The key sequences are built before the clock starts and are the ones the
** Erlang side builds (see bench/README.md).
*/
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heirloom.h"

#define DEFAULT_N 1000000
#define RUNS 3                /* timed runs per workload; the best is kept */
#define WARMUP_SHARE 10       /* the warm-up run does N / 10 operations */
#define MAX_THREADS 2
#define STRIDE 618031         /* a prime: i -> i*STRIDE mod N permutes 0..N-1 */
#define LCG_MUL 48271         /* Park-Miller "minimal standard" */
#define LCG_MOD 2147483647
#define SEED 20240601
#define TABLE_NAME "bench"
#define SMALL_KEYS 20000      /* the table that fits in the caches */
#define SMALL_TAG "20k"
#define SELECT_MODULUS 10     /* select picks the keys K with K rem 10 == 0 */

/* select and walk are passes over the whole table, one per run. */
enum op { OP_INSERT, OP_LOOKUP, OP_UPDATE_COUNTER, OP_MIX90, OP_SELECT, OP_WALK, OP_COUNT };
enum api { API_C, API_LUA, API_PROC, API_COUNT };

static const char *const op_names[OP_COUNT] = {"insert", "lookup", "update_counter", "mix90",
                                               "select", "walk"};
static const char *const api_names[API_COUNT] = {"c", "lua", "proc"};

static const char *type_name(hl_table_type type) {
  return type == HL_SET ? "set" : "ordered_set";
}

static const char *only = "";   /* the ONLY argument */

/* What every worker of one run shares. */
typedef struct job {
  hl_node *node;
  hl_table *table;
  size_t n;                   /* operations per workload */
  size_t keys;                /* the table's keys: 1..keys */
  int small;                  /* 1: the SMALL_KEYS table */
  size_t ops;                 /* operations in this run, over all workers */
  enum op op;
  enum api api;
  const char *script;
  pthread_barrier_t start;
  size_t failures;            /* failed operations, over all runs */
  char check[64];             /* what the last pass found: "<count>/<sum>" */
} job;

typedef struct worker {
  pthread_t thread;
  job *job;
  int64_t *keys;              /* for mix90, -K means "insert {K, 0}" */
  size_t count;
  uint64_t start_ns, end_ns;
  size_t failures;
  char check[64];             /* a pass's "<count>/<sum>" */
  char error[256];
} worker;

/* The buffers a C worker reuses for every operation. */
typedef struct scratch {
  hl_buf key, obj, out;
} scratch;

static void die(const char *what) {
  fprintf(stderr, "table_bench: %s: %s\n", what, hl_errmsg());
  exit(1);
}

static void *checked_malloc(size_t size) {
  void *p = malloc(size);
  if (p == NULL) {
    fprintf(stderr, "table_bench: out of memory\n");
    exit(1);
  }
  return p;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- key sequences (the same in ets_bench.erl) ---- */

/* Worker i of `threads` does operations [first_op(i), first_op(i + 1)). */
static size_t first_op(int i, int threads, size_t ops) {
  return (size_t)i * ops / (size_t)threads;
}

static int64_t lcg_next(int64_t x) {
  return x * LCG_MUL % LCG_MOD;
}

static int64_t seed_of(int i) {
  return SEED + (int64_t)i * 7919;
}

/* Inserts: worker i's share of the permutation at -> (at*STRIDE mod N) + 1. */
static void fill_insert_keys(int64_t *keys, int i, int threads, size_t ops, size_t n) {
  size_t from = first_op(i, threads, ops), to = first_op(i + 1, threads, ops);
  for (size_t at = from; at < to; at++)
    keys[at - from] = (int64_t)(at * STRIDE % n) + 1;
}

/* Lookups and update_counter: uniform keys of 1..N from worker i's generator. */
static void fill_random_keys(int64_t *keys, size_t count, int i, size_t n) {
  int64_t x = seed_of(i);
  for (size_t j = 0; j < count; j++) {
    x = lcg_next(x);
    keys[j] = x % (int64_t)n + 1;
  }
}

/* The 90/10 mix: one draw for the key, one for the kind (write when % 10 == 0). */
static void fill_mix_ops(int64_t *keys, size_t count, int i, size_t n) {
  int64_t x = seed_of(i);
  for (size_t j = 0; j < count; j++) {
    int64_t k;
    x = lcg_next(x);
    k = x % (int64_t)n + 1;
    x = lcg_next(x);
    keys[j] = x % 10 == 0 ? -k : k;
  }
}

static int is_pass(enum op op) {
  return op == OP_SELECT || op == OP_WALK;
}

/* A run of `ops` operations on a table of `keys` keys makes ops / keys
** passes (at least one): one over the N-key table, 50 over the 20,000-key
** one, so that both are timed over about N objects. */
static size_t passes_of(size_t ops, size_t keys) {
  return ops > keys ? ops / keys : 1;
}

static void make_keys(worker *w, enum op op, int i, int threads, size_t ops, size_t n) {
  w->count = 0;
  w->keys = NULL;
  if (is_pass(op)) return;   /* no keys: passes over the whole table */
  w->count = first_op(i + 1, threads, ops) - first_op(i, threads, ops);
  /* + 1: malloc(0) may return NULL, which would read as out of memory */
  w->keys = checked_malloc((w->count + 1) * sizeof *w->keys);
  if (op == OP_INSERT) fill_insert_keys(w->keys, i, threads, ops, n);
  else if (op == OP_MIX90) fill_mix_ops(w->keys, w->count, i, n);
  else fill_random_keys(w->keys, w->count, i, n);
}

/* ---- the C API operations; each returns 1 on success ---- */

static int c_insert(hl_table *t, int64_t k, scratch *s) {
  hl_buf_clear(&s->obj);
  hl_term_array(&s->obj, 2);
  hl_term_int(&s->obj, k);
  hl_term_int(&s->obj, 0);
  return hl_table_insert(t, s->obj.data, s->obj.len) == HL_OK;
}

static int c_lookup(hl_table *t, int64_t k, scratch *s) {
  size_t count;
  hl_buf_clear(&s->key);
  hl_term_int(&s->key, k);
  hl_buf_clear(&s->out);
  return hl_table_lookup(t, s->key.data, s->key.len, &s->out, &count) == HL_OK && count == 1;
}

static int c_update_counter(hl_table *t, int64_t k, scratch *s) {
  int64_t value;
  hl_buf_clear(&s->key);
  hl_term_int(&s->key, k);
  return hl_table_update_counter(t, s->key.data, s->key.len, 2, 1, &value) == HL_OK;
}

static int c_mix90(hl_table *t, int64_t k, scratch *s) {
  return k > 0 ? c_lookup(t, k, s) : c_insert(t, -k, s);
}

typedef int (*c_op_fn)(hl_table *t, int64_t k, scratch *s);

/* select and walk are no per-key operation: run_c_pass runs them. */
static const c_op_fn c_ops[OP_COUNT] = {c_insert, c_lookup, c_update_counter, c_mix90,
                                        NULL, NULL};

/* The match spec of select, {{{"$1", "$2"}, {{"==", {"rem", "$1", 10}, 0}}, {"$1"}}}:
** ETS's [{{'$1','$2'},[{'==',{'rem','$1',10},0}],['$1']}]. The guard is on
** the key but is no key range, so both sides scan every object. */
static void encode_select_spec(hl_buf *b) {
  hl_term_array(b, 1);
  hl_term_array(b, 3);
  hl_term_array(b, 2);            /* head */
  hl_term_string(b, "$1", 2);
  hl_term_string(b, "$2", 2);
  hl_term_array(b, 1);            /* guards */
  hl_term_array(b, 3);
  hl_term_string(b, "==", 2);
  hl_term_array(b, 3);
  hl_term_string(b, "rem", 3);
  hl_term_string(b, "$1", 2);
  hl_term_int(b, SELECT_MODULUS);
  hl_term_int(b, 0);
  hl_term_array(b, 1);            /* body */
  hl_term_string(b, "$1", 2);
}

/* The sum of the integer terms in b, or -1 if one is not an integer. */
static int64_t sum_of_ints(const hl_buf *b) {
  int64_t sum = 0, v;
  size_t at = 0, used;
  while (at < b->len) {
    if ((used = hl_term_get_int(b->data + at, b->len - at, &v)) == 0) return -1;
    sum += v;
    at += used;
  }
  return sum;
}

/* One select over the whole table (s->key holds the spec), its result in
** s->out; 1 on success. */
static int c_select(worker *w, scratch *s, size_t *count) {
  hl_buf_clear(&s->out);
  return hl_table_select(w->job->table, s->key.data, s->key.len, &s->out, count) == HL_OK;
}

/* first, then next from each key until the end, counting and summing the
** keys; s->obj and s->out take turns holding the current key. */
static int c_walk(worker *w, scratch *s, size_t *steps, int64_t *sum) {
  hl_table *t = w->job->table;
  hl_buf *at = &s->obj, *next = &s->out, *swap;
  int64_t k;
  hl_status status;
  *steps = 0;
  *sum = 0;
  hl_buf_clear(at);
  status = hl_table_next(t, NULL, 0, at);
  while (status == HL_OK) {
    (*steps)++;
    if (hl_term_get_int(at->data, at->len, &k) > 0) *sum += k;
    hl_buf_clear(next);
    status = hl_table_next(t, at->data, at->len, next);
    swap = at;
    at = next;
    next = swap;
  }
  return status == HL_ENOTFOUND;
}

/* The run's passes, timed together; what the last one found goes into
** w->check after the clock stops. */
static void run_c_pass(worker *w, scratch *s) {
  size_t passes = passes_of(w->job->ops, w->job->keys), count = 0;
  int64_t sum = 0;
  if (w->job->op == OP_SELECT) encode_select_spec(&s->key);
  pthread_barrier_wait(&w->job->start);
  w->start_ns = now_ns();
  for (size_t p = 0; p < passes; p++)
    if (!(w->job->op == OP_SELECT ? c_select(w, s, &count) : c_walk(w, s, &count, &sum)))
      w->failures++;
  w->end_ns = now_ns();
  if (w->job->op == OP_SELECT) sum = sum_of_ints(&s->out);
  snprintf(w->check, sizeof w->check, "%zu/%lld", count, (long long)sum);
}

static void run_c_worker(worker *w) {
  scratch s;
  c_op_fn op = c_ops[w->job->op];
  hl_table *t = w->job->table;
  hl_buf_init(&s.key);
  hl_buf_init(&s.obj);
  hl_buf_init(&s.out);
  if (is_pass(w->job->op)) {
    run_c_pass(w, &s);
  } else {
    pthread_barrier_wait(&w->job->start);
    w->start_ns = now_ns();
    for (size_t i = 0; i < w->count; i++)
      if (!op(t, w->keys[i], &s)) w->failures++;
    w->end_ns = now_ns();
  }
  if (w->failures > 0) snprintf(w->error, sizeof w->error, "%s", hl_errmsg());
  hl_buf_free(&s.key);
  hl_buf_free(&s.obj);
  hl_buf_free(&s.out);
}

/* ---- the Lua API: a state of the worker's own, bound to the node ---- */

static void lua_error_to(worker *w, lua_State *L, const char *when) {
  const char *msg = lua_tostring(L, -1);
  snprintf(w->error, sizeof w->error, "%s: %s", when, msg != NULL ? msg : "(no message)");
  w->failures++;
}

/* Pushes the worker's keys as a Lua list. */
static void push_keys(lua_State *L, const worker *w) {
  lua_createtable(L, (int)w->count, 0);
  for (size_t i = 0; i < w->count; i++) {
    lua_pushinteger(L, (lua_Integer)w->keys[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Loads the script, which returns prepare(table_name, op, keys, passes); leaves
** what prepare returns on the stack: the timed loop, then check, which
** turns the loop's result into "<count>/<sum>" (or nil). */
static int prepare_lua(worker *w, lua_State *L) {
  luaL_openlibs(L);
  hl_lua_attach(L, w->job->node);
  lua_pop(L, 1);
  if (luaL_loadfile(L, w->job->script) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    lua_error_to(w, L, "loading the script");
    return 0;
  }
  lua_pushstring(L, TABLE_NAME);
  lua_pushstring(L, op_names[w->job->op]);
  push_keys(L, w);
  lua_pushinteger(L, (lua_Integer)passes_of(w->job->ops, w->job->keys));
  if (lua_pcall(L, 4, 2, 0) != LUA_OK) {
    lua_error_to(w, L, "prepare");
    return 0;
  }
  return 1;
}

/* Calls check (just below the loop's result on the stack) on the result. */
static void check_lua(worker *w, lua_State *L) {
  const char *check;
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    lua_error_to(w, L, "check");
    return;
  }
  if ((check = lua_tostring(L, -1)) != NULL) snprintf(w->check, sizeof w->check, "%s", check);
}

static void run_lua_worker(worker *w) {
  lua_State *L = luaL_newstate();
  int ready = L != NULL && prepare_lua(w, L), ran = 0;
  if (ready) lua_insert(L, -2);   /* check, loop */
  pthread_barrier_wait(&w->job->start);
  w->start_ns = now_ns();
  if (ready && !(ran = lua_pcall(L, 0, 1, 0) == LUA_OK)) lua_error_to(w, L, "the timed loop");
  w->end_ns = now_ns();
  if (ran) check_lua(w, L);
  if (L == NULL) snprintf(w->error, sizeof w->error, "luaL_newstate failed");
  if (L != NULL) lua_close(L);
}

/* ---- the Lua API in a heirloom process, as a handler's code runs ----
** The worker thread attaches as a host process, spawns a process running
** bench/support/table_bench_proc.lua with the keys as an argument, and
** times from its "go" to the process's "done". */

static void proc_error(worker *w, const char *what) {
  snprintf(w->error, sizeof w->error, "%s: %s", what, hl_errmsg());
  w->failures++;
}

/* Takes the process's next message: 1 if it is the string `want` (or any
** string, want NULL), left in text; else a DOWN: the process failed, and
** the node has logged why. */
static int expect(worker *w, const char *want, hl_buf *msg, hl_buf *text) {
  hl_buf_clear(msg);
  hl_buf_clear(text);
  if (hl_receive(w->job->node, -1, msg) != HL_OK) {
    proc_error(w, "hl_receive");
    return 0;
  }
  if (hl_term_get_string(msg->data, msg->len, text) == msg->len &&
      (want == NULL || (text->len == strlen(want) && memcmp(text->data, want, text->len) == 0)))
    return 1;
  snprintf(w->error, sizeof w->error, "the process failed before it said %s (see its crash report)",
           want != NULL ? want : "its check");
  w->failures++;
  return 0;
}

/* The process's arguments: {host, script, table name, op, {keys...}, passes}. */
static void proc_args(const worker *w, hl_pid self, hl_buf *args) {
  const job *j = w->job;
  hl_term_array(args, 6);
  hl_term_pid(args, self);
  hl_term_string(args, j->script, strlen(j->script));
  hl_term_string(args, TABLE_NAME, strlen(TABLE_NAME));
  hl_term_string(args, op_names[j->op], strlen(op_names[j->op]));
  hl_term_array(args, (uint32_t)w->count);
  for (size_t i = 0; i < w->count; i++) hl_term_int(args, w->keys[i]);
  hl_term_int(args, (int64_t)passes_of(j->ops, j->keys));
}

static void run_proc_worker(worker *w) {
  hl_node *node = w->job->node;
  hl_pid self, pid;
  hl_buf args, msg, text;
  uint64_t ref;
  int ready = 0, ran = 0;
  hl_buf_init(&args);
  hl_buf_init(&msg);
  hl_buf_init(&text);
  if (hl_attach(node, &self) != HL_OK) {
    proc_error(w, "hl_attach");
    pthread_barrier_wait(&w->job->start);
    return;
  }
  proc_args(w, self, &args);
  if (hl_spawn(node, "table_bench_proc", "run", args.data, args.len, &pid) != HL_OK)
    proc_error(w, "hl_spawn");
  else if (hl_monitor(node, pid, &ref) != HL_OK)
    proc_error(w, "hl_monitor");
  else
    ready = expect(w, "ready", &msg, &text);
  pthread_barrier_wait(&w->job->start);
  w->start_ns = now_ns();
  if (ready) {
    hl_buf_clear(&args);
    hl_term_string(&args, "go", 2);
    if (hl_send(node, pid, args.data, args.len) != HL_OK) proc_error(w, "hl_send");
    else ran = expect(w, "done", &msg, &text);
  }
  w->end_ns = now_ns();
  if (ran && expect(w, NULL, &msg, &text) && text.len > 0)
    snprintf(w->check, sizeof w->check, "%.*s", (int)text.len, (const char *)text.data);
  hl_detach(node);
  hl_buf_free(&args);
  hl_buf_free(&msg);
  hl_buf_free(&text);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  if (w->job->api == API_C) run_c_worker(w);
  else if (w->job->api == API_LUA) run_lua_worker(w);
  else run_proc_worker(w);
  return NULL;
}

/* ---- runs and workloads ---- */

static hl_table *new_table(hl_node *node, hl_table_type type) {
  hl_table_opts opts = {type, HL_PUBLIC, 1, 1};
  hl_table *t;
  if (hl_table_new(node, TABLE_NAME, &opts, &t) != HL_OK) die("hl_table_new");
  return t;
}

static void drop_table(hl_table *t) {
  if (hl_table_drop(t) != HL_OK) die("hl_table_drop");
  hl_table_release(t);
}

/* Inserts {K, 0} for every K in 1..N. */
static void prefill(hl_table *t, size_t n) {
  worker w;
  scratch s;
  memset(&w, 0, sizeof w);
  make_keys(&w, OP_INSERT, 0, 1, n, n);
  hl_buf_init(&s.obj);
  for (size_t i = 0; i < w.count; i++)
    if (!c_insert(t, w.keys[i], &s)) die("prefill");
  hl_buf_free(&s.obj);
  free(w.keys);
}

static void report_failures(job *j, const worker *w, int threads) {
  for (int i = 0; i < threads; i++)
    if (w[i].failures > 0) {
      j->failures += w[i].failures;
      fprintf(stderr, "table_bench: %s/%s worker %d: %zu failed operations (%s)\n",
              op_names[j->op], api_names[j->api], i, w[i].failures, w[i].error);
    }
}

/* One timed run: elapsed ns from the first worker's start to the last's end. */
static uint64_t timed_run(job *j, int threads) {
  worker w[MAX_THREADS];
  uint64_t start = UINT64_MAX, end = 0;
  memset(w, 0, sizeof w);
  pthread_barrier_init(&j->start, NULL, (unsigned)threads);
  for (int i = 0; i < threads; i++) {
    w[i].job = j;
    make_keys(&w[i], j->op, i, threads, j->ops, j->keys);
  }
  for (int i = 0; i < threads; i++)
    if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
      fprintf(stderr, "table_bench: pthread_create failed\n");
      exit(1);
    }
  for (int i = 0; i < threads; i++) {
    pthread_join(w[i].thread, NULL);
    if (w[i].start_ns < start) start = w[i].start_ns;
    if (w[i].end_ns > end) end = w[i].end_ns;
    free(w[i].keys);
  }
  pthread_barrier_destroy(&j->start);
  report_failures(j, w, threads);
  snprintf(j->check, sizeof j->check, "%s", w[0].check);
  return end - start;
}

/* A run of `ops` inserts: rounds of at most one insert per key, each into a
** new, empty table (made and dropped outside the clock); their times add up. */
static uint64_t insert_run(job *j, hl_table_type type, int threads, size_t ops) {
  uint64_t elapsed = 0;
  for (size_t done = 0; done < ops; done += j->ops) {
    j->ops = ops - done < j->keys ? ops - done : j->keys;
    j->table = new_table(j->node, type);
    elapsed += timed_run(j, threads);
    if (hl_table_size(j->table) != j->ops)
      fprintf(stderr, "table_bench: insert left %zu objects, not %zu\n",
              hl_table_size(j->table), j->ops);
    drop_table(j->table);
    j->table = NULL;
  }
  return elapsed;
}

/* A run of `ops` operations (or passes_of them). insert
** starts from an empty table each round; the others reuse j->table. */
static uint64_t one_run(job *j, hl_table_type type, int threads, size_t ops) {
  if (j->op == OP_INSERT) return insert_run(j, type, threads, ops);
  j->ops = ops;
  return timed_run(j, threads);
}

/* A short warm-up run, then the best of RUNS runs of N operations
** ("failed" instead of a time if any operation failed). A pass's time is
** per object visited. */
static void workload(job *j, hl_table_type type, int threads) {
  uint64_t best = UINT64_MAX;
  size_t n = j->n, per = is_pass(j->op) ? j->keys * passes_of(n, j->keys) : n;
  j->failures = 0;
  one_run(j, type, threads, n / WARMUP_SHARE);
  for (int r = 0; r < RUNS; r++) {
    uint64_t elapsed = one_run(j, type, threads, n);
    if (elapsed < best) best = elapsed;
  }
  printf("heirloom %s %s %s %d ", type_name(type), op_names[j->op], api_names[j->api], threads);
  if (j->failures > 0) printf("failed");
  else printf("%.1f", (double)best / (double)per);
  if (j->small) printf(" size=%s", SMALL_TAG);
  if (is_pass(j->op)) printf(" check=%s", j->check);
  printf("\n");
  fflush(stdout);
}

/* Whether the workload named <type>/<op>/<api>/<threads>t[/20k] is to be run. */
static int selected(hl_table_type type, enum op op, int api, int threads, int small) {
  char name[64];
  snprintf(name, sizeof name, "%s/%s/%s/%dt%s", type_name(type), op_names[op],
           api_names[api], threads, small ? "/" SMALL_TAG : "");
  return strncmp(name, only, strlen(only)) == 0;
}

/* select and walk run on one thread, on both tables (a pass over the
** small one is the CPU's part alone); walk on an ordered_set only. */
static int max_threads(enum op op) {
  return is_pass(op) ? 1 : MAX_THREADS;
}

static int exists(hl_table_type type, enum op op) {
  return op != OP_WALK || type == HL_ORDERED_SET;
}

static int any_selected(hl_table_type type, enum op op, int small) {
  if (!exists(type, op)) return 0;
  for (int api = 0; api < API_COUNT; api++)
    for (int threads = 1; threads <= max_threads(op); threads++)
      if (selected(type, op, api, threads, small)) return 1;
  return 0;
}

/* Every api and thread count of one op on one table size, on one
** prefilled table (or on fresh tables for insert). */
static void bench_op(hl_node *node, const char *script, hl_table_type type, enum op op,
                     size_t n, int small) {
  job j;
  if (!any_selected(type, op, small)) return;
  memset(&j, 0, sizeof j);
  j.node = node;
  j.n = n;
  j.keys = small ? SMALL_KEYS : n;
  j.small = small;
  j.op = op;
  j.script = script;
  if (op != OP_INSERT) {
    j.table = new_table(node, type);
    prefill(j.table, j.keys);
  }
  for (int api = 0; api < API_COUNT; api++)
    for (int threads = 1; threads <= max_threads(op); threads++) {
      j.api = (enum api)api;
      if (selected(type, op, api, threads, small)) workload(&j, type, threads);
    }
  if (j.table != NULL) drop_table(j.table);
}

/* Processes find bench/support/table_bench_proc.lua (beside the script)
** first, then what a Lua state of this program finds. */
static void set_process_path(hl_node *node, const char *script) {
  lua_State *L = luaL_newstate();
  const char *slash = strrchr(script, '/'), *dflt;
  char path[4096];
  if (L == NULL) die("luaL_newstate");
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  dflt = lua_tostring(L, -1);
  if (slash != NULL)
    snprintf(path, sizeof path, "%.*s/support/?.lua;%s", (int)(slash - script), script,
             dflt != NULL ? dflt : "");
  else
    snprintf(path, sizeof path, "support/?.lua;%s", dflt != NULL ? dflt : "");
  if (hl_node_set_path(node, path, NULL) != HL_OK) die("hl_node_set_path");
  lua_close(L);
}

int main(int argc, char **argv) {
  static const hl_table_type types[] = {HL_SET, HL_ORDERED_SET};
  hl_node *node;
  size_t n = DEFAULT_N;
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: table_bench SCRIPT [N [ONLY]]\n");
    return 2;
  }
  if (argc >= 3) n = strtoul(argv[2], NULL, 10);
  if (argc == 4) only = argv[3];
  if (n < MAX_THREADS * WARMUP_SHARE || n % STRIDE == 0) {
    fprintf(stderr, "table_bench: N must be at least %d and not a multiple of %d\n",
            MAX_THREADS * WARMUP_SHARE, STRIDE);
    return 2;
  }
  if (hl_node_start(NULL, &node) != HL_OK) die("hl_node_start");
  set_process_path(node, argv[1]);
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
    for (int op = 0; op < OP_COUNT; op++)
      for (int small = 0; small <= 1; small++)
        bench_op(node, argv[1], types[t], (enum op)op, n, small);
  hl_node_stop(node);
  return 0;
}
