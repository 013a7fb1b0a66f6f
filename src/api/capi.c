/*
** capi.c — the public C API (include/heirloom.h) over the engine's layers.
** It validates what the host passes (every term is checked before a table
** sees it), calls as the node's host process, and publishes error messages
** for hl_errmsg().
*/
#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capi.h"
#include "dist.h"
#include "edurable.h"
#include "etab.h"
#include "heirloom.h"
#include "mspec.h"
#include "owner.h"
#include "proc.h"
#include "ptab.h"
#include "scheduler.h"
#include "srepair.h"
#include "store.h"
#include "tabfile.h"
#include "term.h"
#include "trace.h"

/* hl_buf is buf under its public name. */
static_assert(sizeof(hl_buf) == sizeof(buf), "hl_buf and buf differ");
static_assert(offsetof(hl_buf, data) == offsetof(buf, p), "hl_buf.data");
static_assert(offsetof(hl_buf, len) == offsetof(buf, n), "hl_buf.len");
static_assert(offsetof(hl_buf, cap) == offsetof(buf, cap), "hl_buf.cap");
static_assert(offsetof(hl_buf, oom) == offsetof(buf, oom), "hl_buf.oom");

#define B(b) ((buf *)(b))
#define T(t) ((etab *)(t))

/* capi.h */
hl_status capi_fail(hl_status code, const char *fn, const char *msg) {
  hl_err e;
  err_set(&e, code, "%s: %s", fn, msg);
  return err_publish(&e);
}

/* Publishes e's message, prefixed with the function's name. */
hl_status capi_done(const char *fn, hl_err *e) {
  if (e->code != HL_OK) {
    char msg[sizeof e->msg];
    memcpy(msg, e->msg, sizeof msg);
    err_set(e, e->code, "%s: %s", fn, msg);
  }
  return err_publish(e);
}

const char *hl_errmsg(void) {
  return err_last();
}

const char *hl_version(void) {
  return HL_VERSION;
}

int hl_version_num(void) {
  return HL_VERSION_NUM;
}

/* Whether (p, len) is one valid term (term.h: one a Lua state can read);
** if not, e says why, naming the argument: HL_EFORMAT for bytes that are
** no term, HL_EBADARG for a map key no Lua table can hold. */
int capi_check_term(const char *what, const void *p, size_t len, hl_err *e) {
  if (p == NULL) {
    err_set(e, HL_EBADARG, "%s is NULL", what);
    return 0;
  }
  switch (term_check(p, len)) {
    case TERM_OK:
      return 1;
    case TERM_NIL_KEY:
      err_set(e, HL_EBADARG, "%s holds a map with a nil key (map keys cannot be nil or NaN)", what);
      return 0;
    case TERM_NAN_KEY:
      err_set(e, HL_EBADARG, "%s holds a map with a NaN key (map keys cannot be nil or NaN)", what);
      return 0;
    default:
      err_set(e, HL_EFORMAT, "%s is not a well-formed term", what);
      return 0;
  }
}

hl_status hl_node_set_path(hl_node *node, const char *path, const char *cpath) {
  char *p, *c;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_node_set_path", "node is NULL");
  p = path != NULL ? strdup(path) : NULL;
  c = cpath != NULL ? strdup(cpath) : NULL;
  if ((path != NULL && p == NULL) || (cpath != NULL && c == NULL)) {
    free(p);
    free(c);
    return capi_fail(HL_ENOMEM, "hl_node_set_path", "out of memory");
  }
  pthread_mutex_lock(&node->lock);
  if (path != NULL) {
    free(node->lua_path);
    node->lua_path = p;
  }
  if (cpath != NULL) {
    free(node->lua_cpath);
    node->lua_cpath = c;
  }
  pthread_mutex_unlock(&node->lock);
  return HL_OK;
}

void hl_node_set_logger(hl_node *node, hl_log_fn fn, void *ud) {
  if (node == NULL) {
    capi_fail(HL_EBADARG, "hl_node_set_logger", "node is NULL");
    return;
  }
  logger_set_callback(&node->log, fn, ud);
}

int hl_node_step(hl_node *node) {
  return node != NULL && node->sched->nthreads == 0 && sched_step(node->sched);
}

size_t hl_node_run(hl_node *node) {
  size_t steps = 0;
  while (hl_node_step(node)) steps++;
  return steps;
}

int64_t hl_node_now(hl_node *node) {
  return node == NULL ? 0 : sched_elapsed(node->sched);
}

hl_status hl_node_advance(hl_node *node, int64_t ms) {
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_node_advance", "node is NULL");
  if (ms < 0) return capi_fail(HL_EBADARG, "hl_node_advance", "ms must not be negative");
  if (!sched_advance(node->sched, ms))
    return capi_fail(HL_EBADARG, "hl_node_advance",
                     "the node runs on the real clock: only a virtual clock can be moved");
  return HL_OK;
}

uint64_t hl_node_trace_hash(hl_node *node) {
  return node != NULL && node->trace != NULL ? trace_hash(node->trace, NULL) : 0;
}

/* ---- nodes ---- */

int hl_default_schedulers(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

void hl_config_init(hl_config *cfg) {
  if (cfg == NULL) {
    capi_fail(HL_EBADARG, "hl_config_init", "cfg is NULL");
    return;
  }
  memset(cfg, 0, sizeof *cfg);
  cfg->size = sizeof *cfg;
  cfg->schedulers = hl_default_schedulers();
}

/* The smallest hl_config a host may pass: the first one that had a size,
** which ended with `schedule`. Fields added since keep hl_config_init's
** defaults for such a host. */
#define CONFIG_FIRST_SIZE (offsetof(hl_config, schedule) + sizeof(int))

hl_status hl_node_start(const hl_config *given, hl_node **out) {
  hl_config full, *cfg = &full;
  hl_err e;
  if (out == NULL) return capi_fail(HL_EBADARG, "hl_node_start", "out is NULL");
  *out = NULL;
  hl_config_init(&full);
  if (given != NULL && (given->size < CONFIG_FIRST_SIZE || given->size > sizeof full)) {
    err_set(&e, HL_EBADARG,
            "hl_node_start: cfg->size is %zu, not the size of an hl_config (%zu): "
            "set it with hl_config_init",
            given->size, sizeof full);
    return err_publish(&e);
  }
  if (given != NULL) {   /* over the defaults: what an older host has not, it gets */
    memcpy(&full, given, given->size);
    full.size = sizeof full;
  }
  if (cfg->schedulers < 0)
    return capi_fail(HL_EBADARG, "hl_node_start", "schedulers must not be negative");
  if (!store_sync_ok(cfg->sync))
    return capi_fail(HL_EBADARG, "hl_node_start",
                "sync must be HL_SYNC_NONE, HL_SYNC_ALWAYS or 1 to 3600000 ms");
  if (cfg->clock < HL_CLOCK_DEFAULT || cfg->clock > HL_CLOCK_VIRTUAL)
    return capi_fail(HL_EBADARG, "hl_node_start",
                     "clock must be HL_CLOCK_DEFAULT, HL_CLOCK_REAL or HL_CLOCK_VIRTUAL");
  if (cfg->schedule != HL_SCHEDULE_FIFO && cfg->schedule != HL_SCHEDULE_RANDOM)
    return capi_fail(HL_EBADARG, "hl_node_start",
                     "schedule must be HL_SCHEDULE_FIFO or HL_SCHEDULE_RANDOM");
  if (cfg->dist_name != NULL && cfg->schedulers == 0)
    return capi_fail(HL_EBADARG, "hl_node_start",
                     "dist_name needs scheduler threads (schedulers > 0)");
  if (cfg->schedulers > 0 && (cfg->clock == HL_CLOCK_VIRTUAL || cfg->trace ||
                              cfg->schedule == HL_SCHEDULE_RANDOM))
    return capi_fail(HL_EBADARG, "hl_node_start",
                     "a virtual clock, a trace and a random schedule are for schedulers = 0 "
                     "(deterministic mode) only");
  *out = node_new(cfg);
  if (*out == NULL) return capi_fail(HL_ENOMEM, "hl_node_start", "out of memory");
  err_clear(&e);
  if (cfg->data_dir != NULL && edur_open(&(*out)->tables, cfg, &e) != HL_OK) {
    node_stop(*out, NULL, 0);
    *out = NULL;
    return capi_done("hl_node_start", &e);
  }
  if (cfg->dist_name != NULL && dist_start(*out, cfg->dist_name, cfg->dist_cookie, &e) != HL_OK) {
    node_stop(*out, NULL, 0);
    *out = NULL;
    return capi_done("hl_node_start", &e);
  }
  return HL_OK;
}

void hl_node_stop(hl_node *node) {
  if (node != NULL) dist_stop(node);
  if (node != NULL) node_stop(node, NULL, 0);   /* what it abandons goes to the logger */
}

void hl_node_crash(hl_node *node) {
  if (node != NULL) dist_stop(node);
  if (node != NULL) node_crash(node, NULL, 0);
}

hl_status hl_node_fault_store_write(hl_node *node, double rate) {
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_node_fault_store_write", "node is NULL");
  if (!(rate >= 0 && rate <= 1))   /* NaN too */
    return capi_fail(HL_EBADARG, "hl_node_fault_store_write",
                     "rate must be a number from 0 to 1");
  fault_set(&node->tables.store_faults, rate);
  return HL_OK;
}

/* ---- tables ---- */

static hl_status table_new(const char *fn, hl_node *node, const char *name,
                           const hl_table_opts *opts, int durable, int sync, hl_table **out) {
  etab_opts o;
  hl_err e;
  etab *t;
  if (out == NULL) return capi_fail(HL_EBADARG, fn, "out is NULL");
  *out = NULL;
  if (node == NULL) return capi_fail(HL_EBADARG, fn, "node is NULL");
  if (name == NULL || name[0] == '\0')
    return capi_fail(HL_EBADARG, fn, "name must be a non-empty string");
  memset(&o, 0, sizeof o);
  o.durable = durable;
  o.sync = sync;
  o.type = opts ? opts->type : HL_SET;
  o.access = opts ? opts->access : HL_PROTECTED;
  o.named = opts ? opts->named : 0;
  o.keypos.index = opts ? opts->keypos : 1;
  if ((unsigned)o.type > HL_DUPLICATE_BAG)
    return capi_fail(HL_EBADARG, fn, "opts->type is not a table type");
  if ((unsigned)o.access > HL_PRIVATE)
    return capi_fail(HL_EBADARG, fn, "opts->access is not an access mode");
  if (o.keypos.index == 0)
    return capi_fail(HL_EBADARG, fn, "opts->keypos must be 1 or more");
  err_clear(&e);
  t = etab_new(&node->tables, name, &o, node->host_pid, &e);
  *out = (hl_table *)t;
  return capi_done(fn, &e);
}

hl_status hl_table_new(hl_node *node, const char *name, const hl_table_opts *opts,
                       hl_table **out) {
  return table_new("hl_table_new", node, name, opts, 0, HL_SYNC_DEFAULT, out);
}

hl_status hl_table_new_durable(hl_node *node, const char *name, const hl_table_opts *opts,
                               int sync, hl_table **out) {
  return table_new("hl_table_new_durable", node, name, opts, 1, sync, out);
}

hl_status hl_table_open(hl_node *node, const char *name, hl_table **out) {
  etab *t;
  hl_err e;
  if (out == NULL) return capi_fail(HL_EBADARG, "hl_table_open", "out is NULL");
  *out = NULL;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_table_open", "node is NULL");
  if (name == NULL) return capi_fail(HL_EBADARG, "hl_table_open", "name is NULL");
  t = treg_by_name(&node->tables, name);
  *out = (hl_table *)t;
  if (t != NULL) return HL_OK;
  err_set(&e, HL_ENOTFOUND, "hl_table_open: no table named '%.100s'", name);
  return err_publish(&e);
}

/* Refuses a NULL table handle for fn. */
static int no_table(const char *fn, hl_table *t) {
  if (t != NULL) return 0;
  capi_fail(HL_EBADARG, fn, "t is NULL");
  return 1;
}

/* Refuses a NULL pointer argument `what` of fn. */
static int null_arg(const char *fn, const char *what, const void *p) {
  hl_err e;
  if (p != NULL) return 0;
  err_set(&e, HL_EBADARG, "%s: %s is NULL", fn, what);
  err_publish(&e);
  return 1;
}

void hl_table_release(hl_table *t) {
  if (t != NULL) etab_unref(T(t));
}

static uint64_t caller(hl_table *t) {
  return capi_caller(T(t)->reg->host);
}

hl_status hl_table_drop(hl_table *t) {
  hl_err e;
  if (no_table("hl_table_drop", t)) return HL_EBADARG;
  err_clear(&e);
  etab_drop(T(t), caller(t), &e);
  return capi_done("hl_table_drop", &e);
}

hl_status hl_table_claim(hl_table *t) {
  hl_err e;
  if (no_table("hl_table_claim", t)) return HL_EBADARG;
  err_clear(&e);
  owner_claim(T(t), caller(t), &e);
  return capi_done("hl_table_claim", &e);
}

size_t hl_table_size(hl_table *t) {
  return t == NULL ? 0 : etab_size(T(t));
}

/* Checks that (p, len) is one valid term, publishing the error if not. */
static int valid(const char *fn, const char *what, const void *p, size_t len, hl_err *e) {
  if (capi_check_term(what, p, len, e)) return 1;
  capi_done(fn, e);
  return 0;
}

static hl_status insert(const char *fn, hl_table *t, const void *obj, size_t len, int only_new) {
  hl_err e;
  tslice s = {obj, len};
  int inserted;
  err_clear(&e);
  if (no_table(fn, t)) return HL_EBADARG;
  if (!valid(fn, "obj", obj, len, &e)) return e.code;
  etab_insert(T(t), caller(t), &s, 1, only_new, &inserted, &e);
  if (e.code == HL_OK && !inserted) err_set(&e, HL_EEXIST, "the key is already present");
  return capi_done(fn, &e);
}

hl_status hl_table_insert(hl_table *t, const void *obj, size_t len) {
  return insert("hl_table_insert", t, obj, len, 0);
}

hl_status hl_table_insert_new(hl_table *t, const void *obj, size_t len) {
  return insert("hl_table_insert_new", t, obj, len, 1);
}

hl_status hl_table_lookup(hl_table *t, const void *key, size_t klen, hl_buf *out,
                          size_t *count) {
  hl_err e;
  err_clear(&e);
  if (no_table("hl_table_lookup", t) || null_arg("hl_table_lookup", "out", out) ||
      null_arg("hl_table_lookup", "count", count))
    return HL_EBADARG;
  *count = 0;
  if (!valid("hl_table_lookup", "key", key, klen, &e)) return e.code;
  etab_lookup(T(t), caller(t), (tslice){key, klen}, B(out), count, &e);
  return capi_done("hl_table_lookup", &e);
}

hl_status hl_table_delete(hl_table *t, const void *key, size_t klen) {
  hl_err e;
  err_clear(&e);
  if (no_table("hl_table_delete", t)) return HL_EBADARG;
  if (!valid("hl_table_delete", "key", key, klen, &e)) return e.code;
  etab_delete(T(t), caller(t), (tslice){key, klen}, &e);
  return capi_done("hl_table_delete", &e);
}

static hl_status update_counter(const char *fn, hl_table *t, const void *key, size_t klen,
                                uint32_t pos, int64_t incr, tslice deflt, int64_t *result) {
  hl_err e;
  etab_incr op;
  err_clear(&e);
  if (no_table(fn, t) || null_arg(fn, "result", result)) return HL_EBADARG;
  if (!valid(fn, "key", key, klen, &e)) return e.code;
  if (pos == 0) {
    err_set(&e, HL_EBADARG, "pos must be 1 or more");
    return capi_done(fn, &e);
  }
  memset(&op, 0, sizeof op);
  op.pos.index = pos;
  op.incr = incr;
  etab_update_counter(T(t), caller(t), (tslice){key, klen}, &op, 1, deflt, result, &e);
  return capi_done(fn, &e);
}

hl_status hl_table_update_counter(hl_table *t, const void *key, size_t klen,
                                  uint32_t pos, int64_t incr, int64_t *result) {
  return update_counter("hl_table_update_counter", t, key, klen, pos, incr,
                        (tslice){NULL, 0}, result);
}

/* The results of spec over the whole table, backward in an ordered_set
** when reverse (ETS's select_reverse is select on the other types). */
static hl_status select_all(const char *fn, hl_table *t, const void *spec, size_t slen,
                            int reverse, hl_buf *out, size_t *count) {
  hl_err e;
  char why[200];
  buf last;
  size_t mark;
  int finished;
  mspec *ms;
  err_clear(&e);
  if (no_table(fn, t) || null_arg(fn, "out", out) || null_arg(fn, "count", count))
    return HL_EBADARG;
  mark = out->len;
  *count = 0;
  if (!valid(fn, "spec", spec, slen, &e)) return e.code;
  if ((ms = mspec_compile(spec, slen, why, sizeof why)) == NULL) {
    err_set(&e, strcmp(why, "out of memory") == 0 ? HL_ENOMEM : HL_EBADARG, "match spec: %s", why);
    return capi_done(fn, &e);
  }
  buf_init(&last);
  etab_scan(T(t), caller(t), (tslice){NULL, 0}, reverse && etab_is_ordered(T(t)) ? -1 : 1, ms,
            0, B(out), count, &last, &finished, &e);
  buf_free(&last);
  mspec_free(ms);
  if (e.code != HL_OK) {   /* no partial results */
    out->len = mark;
    *count = 0;
  }
  return capi_done(fn, &e);
}

hl_status hl_table_select(hl_table *t, const void *spec, size_t slen, hl_buf *out,
                          size_t *count) {
  return select_all("hl_table_select", t, spec, slen, 0, out, count);
}

hl_status hl_table_select_reverse(hl_table *t, const void *spec, size_t slen, hl_buf *out,
                                  size_t *count) {
  return select_all("hl_table_select_reverse", t, spec, slen, 1, out, count);
}

hl_status hl_table_next(hl_table *t, const void *key, size_t klen, hl_buf *out) {
  hl_err e;
  int found;
  err_clear(&e);
  if (no_table("hl_table_next", t) || null_arg("hl_table_next", "out", out)) return HL_EBADARG;
  if (key != NULL && !valid("hl_table_next", "key", key, klen, &e)) return e.code;
  etab_step(T(t), caller(t), (tslice){key, key ? klen : 0}, 1, B(out), &found, &e);
  if (e.code == HL_OK && !found) err_set(&e, HL_ENOTFOUND, "no more keys");
  return capi_done("hl_table_next", &e);
}

/* ---- plain byte strings ----
** Each thread keeps two scratch buffers for the terms it builds (a key and
** a result must not share one: appending may move it), freed when the
** thread ends. */

typedef struct scratch {
  buf a, b;
} scratchpad;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
  scratchpad *s = p;
  buf_free(&s->a);
  buf_free(&s->b);
  free(s);
}

static void scratch_init(void) {
  pthread_key_create(&scratch_key, scratch_free);
}

static scratchpad *scratch_get(void) {
  scratchpad *s;
  pthread_once(&scratch_once, scratch_init);
  s = pthread_getspecific(scratch_key);
  if (s == NULL && (s = malloc(sizeof *s)) != NULL) {
    buf_init(&s->a);
    buf_init(&s->b);
    pthread_setspecific(scratch_key, s);
  }
  if (s != NULL) {
    buf_reset(&s->a);
    buf_reset(&s->b);
  }
  return s;
}

/* Refuses key or val bytes that are NULL with a length; 1 if refused. */
static int no_bytes(const char *fn, const char *what, const void *p, size_t len) {
  hl_err e;
  if (p != NULL || len == 0) return 0;
  err_set(&e, HL_EBADARG, "%s: %s is NULL (with a length of %zu)", fn, what, len);
  err_publish(&e);
  return 1;
}

static buf *scratch(void) {
  scratchpad *s = scratch_get();
  return s != NULL ? &s->a : NULL;
}

hl_status hl_table_put(hl_table *t, const void *key, size_t klen, const void *val,
                       size_t vlen) {
  buf *b;
  if (no_table("hl_table_put", t) || no_bytes("hl_table_put", "key", key, klen) ||
      no_bytes("hl_table_put", "val", val, vlen))
    return HL_EBADARG;
  if ((b = scratch()) == NULL) return capi_fail(HL_ENOMEM, "hl_table_put", "out of memory");
  term_put_array(b, 2);
  term_put_string(b, key != NULL ? key : "", klen);
  term_put_string(b, val != NULL ? val : "", vlen);
  if (!buf_ok(b)) return capi_fail(HL_ENOMEM, "hl_table_put", "out of memory");
  return insert("hl_table_put", t, b->p, b->n, 0);
}

hl_status hl_table_get(hl_table *t, const void *key, size_t klen, hl_buf *out) {
  scratchpad *s;
  hl_err e;
  size_t count;
  const unsigned char *val;
  size_t vlen;
  if (no_table("hl_table_get", t) || no_bytes("hl_table_get", "key", key, klen) ||
      null_arg("hl_table_get", "out", out))
    return HL_EBADARG;
  if ((s = scratch_get()) == NULL) return capi_fail(HL_ENOMEM, "hl_table_get", "out of memory");
  term_put_string(&s->a, key != NULL ? key : "", klen);
  if (!buf_ok(&s->a)) return capi_fail(HL_ENOMEM, "hl_table_get", "out of memory");
  err_clear(&e);
  etab_lookup(T(t), caller(t), (tslice){s->a.p, s->a.n}, &s->b, &count, &e);
  if (e.code == HL_OK && count == 0) err_set(&e, HL_ENOTFOUND, "key not found");
  if (e.code == HL_OK &&
      (!term_array_elem(s->b.p, s->b.n, 1, &val, &vlen) ||
       term_get_string(val, vlen, B(out)) == 0))
    err_set(&e, HL_EBADARG, "the object under this key is not {key, string value}");
  if (e.code == HL_OK && !buf_ok(B(out))) err_set(&e, HL_ENOMEM, "out of memory");
  return capi_done("hl_table_get", &e);
}

hl_status hl_table_del(hl_table *t, const void *key, size_t klen) {
  buf *b;
  if (no_table("hl_table_del", t) || no_bytes("hl_table_del", "key", key, klen))
    return HL_EBADARG;
  if ((b = scratch()) == NULL) return capi_fail(HL_ENOMEM, "hl_table_del", "out of memory");
  term_put_string(b, key != NULL ? key : "", klen);
  if (!buf_ok(b)) return capi_fail(HL_ENOMEM, "hl_table_del", "out of memory");
  return hl_table_delete(t, b->p, b->n);
}

hl_status hl_table_incr(hl_table *t, const void *key, size_t klen, int64_t incr,
                        int64_t *result) {
  buf *b;
  size_t keyend;
  if (no_table("hl_table_incr", t) || no_bytes("hl_table_incr", "key", key, klen) ||
      null_arg("hl_table_incr", "result", result))
    return HL_EBADARG;
  if ((b = scratch()) == NULL) return capi_fail(HL_ENOMEM, "hl_table_incr", "out of memory");
  if (key == NULL) key = "";
  term_put_string(b, key, klen);
  keyend = b->n;
  term_put_array(b, 2);               /* the default {key, 0} */
  term_put_string(b, key, klen);
  term_put_int(b, 0);
  if (!buf_ok(b)) return capi_fail(HL_ENOMEM, "hl_table_incr", "out of memory");
  return update_counter("hl_table_incr", t, b->p, keyend, 2, incr,
                        (tslice){b->p + keyend, b->n - keyend}, result);
}

/* ---- table files ---- */

hl_status hl_table_tab2file(hl_table *t, const char *path) {
  hl_err e;
  err_clear(&e);
  if (no_table("hl_table_tab2file", t)) return HL_EBADARG;
  if (path == NULL || path[0] == '\0')
    return capi_fail(HL_EBADARG, "hl_table_tab2file", "path must be a non-empty string");
  tabfile_save(T(t), caller(t), path, &e);
  return capi_done("hl_table_tab2file", &e);
}

hl_status hl_table_file2tab(hl_node *node, const char *path, const char *name,
                            hl_table **out) {
  hl_err e;
  etab *t = NULL;
  if (out == NULL) return capi_fail(HL_EBADARG, "hl_table_file2tab", "out is NULL");
  *out = NULL;
  if (node == NULL) return capi_fail(HL_EBADARG, "hl_table_file2tab", "node is NULL");
  err_clear(&e);
  if (path == NULL || path[0] == '\0')
    return capi_fail(HL_EBADARG, "hl_table_file2tab", "path must be a non-empty string");
  if (name != NULL && name[0] == '\0')
    return capi_fail(HL_EBADARG, "hl_table_file2tab", "name must be NULL or a non-empty string");
  tabfile_load(&node->tables, capi_caller(node), path, name, 0, HL_SYNC_DEFAULT, &t, &e);
  *out = (hl_table *)t;
  return capi_done("hl_table_file2tab", &e);
}

/* ---- store repair ---- */

hl_status hl_store_repair(const char *dir, hl_buf *report) {
  hl_err e;
  buf out;
  err_clear(&e);
  if (dir == NULL || dir[0] == '\0')
    return capi_fail(HL_EBADARG, "hl_store_repair", "dir must be a non-empty path");
  buf_init(&out);
  if (store_repair(dir, &out, &e) == HL_OK && report != NULL) buf_put(B(report), out.p, out.n);
  buf_free(&out);
  return capi_done("hl_store_repair", &e);
}
