/*
** heirloom.h — the public C API of heirloom, an embeddable engine in which
** in-memory tables outlive the processes that own them.
**
** Conventions, in the manner of lua.h and sqlite3.h:
**   - every handle is opaque; every name has the hl_ prefix;
**   - a function that can fail returns an hl_status (HL_OK is 0) and leaves
**     a message for hl_errmsg() in the calling thread;
**   - values are heirloom terms: byte strings built with the hl_term_*
**     functions below (or received from heirloom), never raw C structs;
**   - every function is safe to call from any thread, unless it says so;
**   - a NULL pointer argument is refused with HL_EBADARG (or 0 from a
**     function that returns a size), never dereferenced.
*/
#ifndef HEIRLOOM_H
#define HEIRLOOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what this header declares is exported from the shared library and
** the Lua module, which are built with -fvisibility=hidden: the engine's
** own names cannot clash with a host's. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* ---- version ----
** The version of this header. HL_VERSION_NUM orders versions as numbers
** (MAJOR * 10000 + MINOR * 100 + PATCH); the shared library's SONAME
** changes with HL_VERSION_MAJOR. */
#define HL_VERSION_MAJOR 0
#define HL_VERSION_MINOR 1
#define HL_VERSION_PATCH 0
#define HL_VERSION "0.1.0"
#define HL_VERSION_NUM (HL_VERSION_MAJOR * 10000 + HL_VERSION_MINOR * 100 + HL_VERSION_PATCH)

/* The version of the library the program runs with, which may differ from
** the header it was compiled with: "0.1.0" and 100. */
const char *hl_version(void);
int hl_version_num(void);

/* ---- status codes ---- */
typedef enum hl_status {
  HL_OK = 0,
  HL_EBADARG,     /* an argument is wrong: the message names it */
  HL_ENOTFOUND,   /* no such key, table or name */
  HL_EEXIST,      /* the name or key is already taken */
  HL_EACCESS,     /* the table's access mode forbids this caller */
  HL_ENOMEM,      /* out of memory; nothing was changed */
  HL_ECLOSED,     /* the table was dropped or the node stopped */
  HL_ETYPE,       /* the operation does not apply to this table type */
  HL_EFORMAT,     /* bytes that are not a well-formed term */
  HL_ESTORE,      /* the durable store or a table file failed: the message says how */
  HL_EINTR        /* the wait was interrupted (hl_interrupt) */
} hl_status;

/* The message of the last failed call in this thread ("" if none). */
const char *hl_errmsg(void);

/* ---- byte buffers ----
** Results are written into an hl_buf that the caller owns and may reuse
** across calls; the library grows it as needed. */
typedef struct hl_buf {
  unsigned char *data;
  size_t len;
  size_t cap;
  int oom;
} hl_buf;

void hl_buf_init(hl_buf *b);
void hl_buf_free(hl_buf *b);
void hl_buf_clear(hl_buf *b);         /* len = 0, memory kept, a failure forgotten */
void hl_buf_append(hl_buf *b, const void *p, size_t n);

/* ---- terms ----
** Build a term by appending to a buffer. An array of n elements is its
** header followed by the n element terms; a map of n pairs is its header,
** the n keys in ascending encoded order, then the n values in that order.
** A list is hl_term_list, its elements, then hl_term_list_end.
** Append calls never fail; hl_term_check reports an allocation failure or
** malformed result once, at the end. */
void hl_term_nil(hl_buf *b);
void hl_term_bool(hl_buf *b, int v);
void hl_term_int(hl_buf *b, int64_t v);
void hl_term_float(hl_buf *b, double v);
void hl_term_string(hl_buf *b, const void *s, size_t len);
/* An atom: a name of at most 255 bytes, none of them zero; another name
** appends nothing (hl_term_check then finds the term incomplete) and says
** why to hl_errmsg(). */
void hl_term_atom(hl_buf *b, const void *name, size_t len);
void hl_term_array(hl_buf *b, uint32_t n);
void hl_term_map(hl_buf *b, uint32_t n);
void hl_term_list(hl_buf *b);
void hl_term_list_end(hl_buf *b);
hl_status hl_term_check(const hl_buf *b);   /* HL_OK: b is one whole term */

/* Reading terms. Each reader takes the bytes at p (at most len) and
** returns the size of the term it read, or 0 when p holds no term of that
** kind. A NULL pointer argument is refused the same way (0), with a
** message for hl_errmsg() that names it. */
size_t hl_term_size(const void *p, size_t len);          /* any term */
size_t hl_term_get_nil(const void *p, size_t len);
size_t hl_term_get_bool(const void *p, size_t len, int *v);      /* 0 or 1 */
size_t hl_term_get_int(const void *p, size_t len, int64_t *v);
size_t hl_term_get_float(const void *p, size_t len, double *v); /* any number */
size_t hl_term_get_string(const void *p, size_t len, hl_buf *out); /* appends */
/* An atom: *name points at its name in p (not zero-terminated). */
size_t hl_term_get_atom(const void *p, size_t len, const char **name, size_t *namelen);
size_t hl_term_get_array(const void *p, size_t len, uint32_t *n); /* header only */
size_t hl_term_get_map(const void *p, size_t len, uint32_t *n);   /* header only */
/* A list: *n elements; the size returned is the whole list's. */
size_t hl_term_get_list(const void *p, size_t len, uint32_t *n);
int hl_term_compare(const void *a, size_t alen, const void *b, size_t blen);

/* The type of the term at p: one of HL_T_*; HL_T_NONE when p holds no
** valid term. 1 and 1.0 are the same term (docs/term-format.md): a
** number is HL_T_INTEGER when its value is integral and in int64 range,
** HL_T_FLOAT otherwise. */
enum {
  HL_T_NONE = -1,
  HL_T_NIL, HL_T_BOOLEAN, HL_T_INTEGER, HL_T_FLOAT, HL_T_STRING,
  HL_T_PID, HL_T_REF, HL_T_TABLE, HL_T_ARRAY, HL_T_MAP,
  HL_T_ATOM, HL_T_XPID, HL_T_XREF,  /* an atom; another node's pid or ref */
  HL_T_LIST
};
int hl_term_type(const void *p, size_t len);

/* Element i (0-based) of the array at p: *elem and *elen point into p.
** 1 if found; 0 if p is no valid array or has no element i. */
int hl_term_array_elem(const void *p, size_t len, uint32_t i, const void **elem, size_t *elen);
/* Element i (0-based) of the list at p, the same way; each call walks the
** list from its start. */
int hl_term_list_elem(const void *p, size_t len, uint32_t i, const void **elem, size_t *elen);
/* Entry i (0-based, in key order) of the map at p: its key and value point
** into p. 1 if found. Each call walks the map from its start. */
int hl_term_map_entry(const void *p, size_t len, uint32_t i, const void **key, size_t *klen,
                      const void **val, size_t *vlen);
/* The value under key (an encoded term) in the map at p; 1 if found. */
int hl_term_map_get(const void *p, size_t len, const void *key, size_t klen, const void **val,
                    size_t *vlen);

/* ---- nodes ---- */
typedef struct hl_node hl_node;

/* A node's settings. The struct may gain fields at its end in later
** versions: start from hl_config_init, which sets size to the size this
** header gives it and every setting to its default, then change what you
** need. hl_node_start takes a config of any size it knows (a host built
** against an older, smaller hl_config gets the defaults for the fields it
** does not have) and refuses any other size with HL_EBADARG. */
typedef struct hl_config {
  size_t size;             /* sizeof(hl_config), as hl_config_init sets it */
  int schedulers;          /* scheduler threads; 0: driven by the host */
  const char *data_dir;    /* LevelDB store for durable tables, or NULL */
  size_t memory_limit;     /* a process's default memory limit in bytes; 0: none */
  int64_t seed;            /* non-zero: each process's math.random starts from
                              (seed, its pid), so a run can be repeated */
  int sync;                /* durable tables' default sync: HL_SYNC_NONE,
                              HL_SYNC_ALWAYS, or a period in ms (docs/durability.md) */
  /* Called while the durable tables of data_dir load at start: loaded of
  ** total keys of table `name`; a non-zero return stops the start. */
  int (*on_load)(void *ud, const char *name, size_t loaded, size_t total);
  void *on_load_ud;
  /* Deterministic mode only (schedulers = 0; docs/processes.md): */
  int clock;               /* HL_CLOCK_DEFAULT: virtual with 0 schedulers, real
                              otherwise; HL_CLOCK_REAL; HL_CLOCK_VIRTUAL */
  int trace;               /* non-zero: record the run's trace (hl_trace_hash) */
  int schedule;            /* HL_SCHEDULE_FIFO, or HL_SCHEDULE_RANDOM: the next
                              process and its slice drawn from seed */
  /* Erlang distribution (docs/distribution.md): non-NULL dist_name joins
  ** the cluster as "name@host" (or "name": this host) with dist_cookie
  ** (NULL: the one in ~/.erlang.cookie, made if missing, as Erlang does). */
  const char *dist_name;
  const char *dist_cookie;
} hl_config;

#define HL_CLOCK_DEFAULT 0
#define HL_CLOCK_REAL 1
#define HL_CLOCK_VIRTUAL 2
#define HL_SCHEDULE_FIFO 0
#define HL_SCHEDULE_RANDOM 1

#define HL_SYNC_NONE 0        /* survives a crash of the process */
#define HL_SYNC_ALWAYS (-1)   /* fsync on every write: survives power loss */

/* The number of scheduler threads a node gets by default: the cores. */
int hl_default_schedulers(void);

/* Sets cfg's size, and its settings to the defaults: hl_default_schedulers()
** scheduler threads, everything else 0 (no data_dir, HL_SYNC_NONE, no
** memory limit, no seed, HL_CLOCK_DEFAULT, no trace, HL_SCHEDULE_FIFO). */
void hl_config_init(hl_config *cfg);

/* Starts a node. cfg may be NULL for the defaults (hl_config_init's). */
hl_status hl_node_start(const hl_config *cfg, hl_node **out);

/* Stops the node: drops every table. Handles still held become closed:
** calls on them return HL_ECLOSED until they are released. Attached
** threads waiting in hl_receive are woken with HL_ECLOSED (and every later
** hl_receive of theirs answers so); hl_detach stays safe. No other call
** on the node may run during the stop or be made after it
** (docs/c-api.md, "Threads"). */
void hl_node_stop(hl_node *node);

/* Ends the node as a kill -9 of the OS process would, as far as its data
** is concerned (docs/durability.md, "Crashing the node"): from this call
** on nothing more is written to its store, and the store is closed with
** no sync and no stop record. hl_node_start on the same data_dir loads
** what a restart after a kill -9 would. Otherwise as hl_node_stop. */
void hl_node_crash(hl_node *node);

/* Testing: from now on each write of a durable table's change fails with
** probability rate (0 to 1; 0: never), drawn from a stream seeded by the
** node's seed (a fixed one without), so that a run can be repeated. The
** operation then fails with HL_ESTORE and its change is not made
** (docs/durability.md, "Injected write failures"). HL_EBADARG for a rate
** outside [0, 1]. */
hl_status hl_node_fault_store_write(hl_node *node, double rate);

/* ---- processes ----
** A host thread takes part as a process of its own: after hl_attach it has
** a pid and a mailbox, tables it creates are its own, and table calls are
** checked against it. A thread that never attached acts as the node's
** host process. Messages are terms (see above). */
typedef uint64_t hl_pid;

/* Makes the calling thread a process of node; *self gets its pid. A
** thread is attached to one node at a time. */
hl_status hl_attach(hl_node *node, hl_pid *self);
/* Ends the calling thread's process (reason "normal"). */
void hl_detach(hl_node *node);

/* Pids in terms and as text. A pid prints as Erlang prints one,
** "<0.ID.SERIAL>". hl_pid_format writes it into out (at most size bytes,
** always terminated when size > 0) and returns its length, as snprintf
** does; HL_PID_TEXT_SIZE bytes always suffice. hl_pid_parse reads that text back:
** HL_EBADARG, naming the text, for anything else. */
void hl_term_pid(hl_buf *b, hl_pid pid);
size_t hl_term_get_pid(const void *p, size_t len, hl_pid *pid);
/* Monitor references (hl_monitor) as they come in a DOWN message. */
size_t hl_term_get_ref(const void *p, size_t len, uint64_t *ref);
#define HL_PID_TEXT_SIZE 32
size_t hl_pid_format(hl_pid pid, char *out, size_t size);
hl_status hl_pid_parse(const char *text, hl_pid *pid);

/* Sends a message (a term) to a pid, or to a registered name. A dead pid
** drops it, as in Erlang; a name nobody holds is HL_ENOTFOUND. */
hl_status hl_send(hl_node *node, hl_pid to, const void *msg, size_t len);
hl_status hl_send_name(hl_node *node, const char *name, const void *msg, size_t len);

/* Takes the oldest message of the calling thread's process into out
** (appended), waiting at most timeout_ms (-1: for ever). HL_ENOTFOUND on
** timeout; HL_EBADARG if the thread is not attached; HL_ECLOSED once the
** node stops (hl_node_stop ends the wait under way); in a node driven by
** the host (schedulers = 0) it runs the node while it waits, and answers
** HL_ECLOSED when nothing could ever arrive. */
hl_status hl_receive(hl_node *node, int timeout_ms, hl_buf *out);

/* Interrupts (on = 1) a host process's waits for messages — hl_receive on
** its thread, hl.receive and everything built on it in a Lua state bound
** to it — until withdrawn (on = 0): the wait under way gives up at once,
** and so does every later one, hl_receive with HL_EINTR and hl.receive
** with the error "heirloom.receive: interrupted". Messages already there
** are still taken. For a thread that watches signals (it takes a lock:
** not from a signal handler). HL_EBADARG if pid is not a live host
** process. */
hl_status hl_interrupt(hl_node *node, hl_pid pid, int on);

/* Registered names. */
hl_status hl_register(hl_node *node, const char *name, hl_pid pid);
hl_pid hl_whereis(hl_node *node, const char *name);     /* 0: nobody */

/* Sends an exit signal to pid with reason (a term), as Erlang's exit/2
** from the caller (the attached process, else the node's host process):
** the string "kill" ends any process with reason "killed"; "normal" is
** ignored by a process that does not trap exits; any other reason ends
** one that does not trap exits, and comes as {"EXIT", from, reason} to
** one that does. Host processes always trap. A dead pid: nothing, HL_OK. */
hl_status hl_exit(hl_node *node, hl_pid pid, const void *reason, size_t len);

/* Links and monitors of the calling thread's process (it must be attached:
** HL_EBADARG otherwise). Its mailbox receives, as hl_receive returns them:
**   {"EXIT", pid, reason}       when a linked process ends (host processes
**                               trap exits: a link never ends them);
**   {"DOWN", ref, pid, reason}  when a monitored one ends.
** Both come at once with reason "noproc" when pid is not alive. ref is
** the one hl_monitor gave (hl_term_get_ref); after hl_demonitor(ref)
** returns no DOWN for it arrives any more. */
hl_status hl_link(hl_node *node, hl_pid pid);
hl_status hl_unlink(hl_node *node, hl_pid pid);
hl_status hl_monitor(hl_node *node, hl_pid pid, uint64_t *ref);
hl_status hl_demonitor(hl_node *node, uint64_t ref);

/* 1 while pid names a live process. */
int hl_process_alive(hl_node *node, hl_pid pid);

/* A moment's view of a live process; HL_ENOTFOUND if it is not alive. */
#define HL_PROC_RUNNABLE 0     /* ready to run */
#define HL_PROC_RUNNING 1      /* running (a host process always is) */
#define HL_PROC_WAITING 2      /* waiting in receive */
#define HL_PROC_EXITING 3
typedef struct hl_proc_info {
  int status;                  /* HL_PROC_* */
  size_t message_queue_len;    /* messages in its mailbox */
  size_t memory;               /* bytes its Lua state uses (0 for a host) */
  int trap_exit;
  int host;                    /* a host process (hl_attach, a host Lua state) */
  size_t links, monitors;      /* how many links; monitors it holds */
  char registered_name[128];   /* "" if none */
} hl_proc_info;
hl_status hl_process_info(hl_node *node, hl_pid pid, hl_proc_info *out);

/* Spawns a process running function fn of the Lua module `module`, with
** the elements of args (an array term; NULL: no arguments) as its
** arguments. The module is found on the node's search path (see
** hl_node_set_path). *pid receives the new pid. A module that does not
** load, or has no such function, is HL_EBADARG with Lua's message. */
hl_status hl_spawn(hl_node *node, const char *module, const char *fn,
                   const void *args, size_t len, hl_pid *pid);

/* The package.path and package.cpath of processes spawned with hl_spawn;
** NULL leaves one as it is. By default they are Lua's own (LUA_PATH,
** LUA_CPATH). Processes spawned from Lua inherit their spawner's. */
hl_status hl_node_set_path(hl_node *node, const char *path, const char *cpath);

/* The node's log (crash and supervisor reports, hl.log's lines) goes to
** stderr by default, one line per event (docs/logging.md). With a
** function set, each line is handed to fn, one call per event, on
** whichever thread made it and with no heirloom lock held. fn NULL: back
** to stderr. */
typedef void (*hl_log_fn)(void *ud, const char *report);
void hl_node_set_logger(hl_node *node, hl_log_fn fn, void *ud);

/* A node started with schedulers = 0 runs only when the host drives it:
** step runs one slice or fires one timer (1 if it did anything); run
** steps until nothing is left to do now and returns how many steps.
** Several threads may step one node at once (each step takes its process
** under the scheduler's lock), but then the order of the steps, and so a
** run's trace, is no longer repeatable. */
int hl_node_step(hl_node *node);
size_t hl_node_run(hl_node *node);

/* The node's clock: ms since it started. A virtual clock (hl_config.clock)
** moves only when a host waits for it (hl_receive jumps it to the next
** timer or to its own deadline) or by hl_node_advance: ms forward, firing
** the timers that come due, in order (their processes run on the next
** step). HL_EBADARG for a negative ms or a real clock. */
int64_t hl_node_now(hl_node *node);
hl_status hl_node_advance(hl_node *node, int64_t ms);
/* The hash of the node's trace so far (hl_config.trace), 0 without one:
** two runs with the same hash did the same things in the same order. */
uint64_t hl_node_trace_hash(hl_node *node);

/* ---- tables ---- */
typedef struct hl_table hl_table;

typedef enum hl_table_type {
  HL_SET, HL_ORDERED_SET, HL_BAG, HL_DUPLICATE_BAG
} hl_table_type;

typedef enum hl_access {
  HL_PUBLIC, HL_PROTECTED, HL_PRIVATE
} hl_access;

typedef struct hl_table_opts {
  hl_table_type type;
  hl_access access;
  int named;          /* 1: findable by name with hl_table_open */
  uint32_t keypos;    /* 1-based position of the key in array objects */
} hl_table_opts;

/* Creates a table owned by the node's host process. opts NULL: a
** protected, unnamed set with keypos 1. */
hl_status hl_table_new(hl_node *node, const char *name,
                       const hl_table_opts *opts, hl_table **out);

/* The same for a durable table (the node needs a data_dir): its changes
** are written to the node's store; sync is HL_SYNC_NONE, HL_SYNC_ALWAYS,
** a period in ms, or HL_SYNC_DEFAULT for the node's. */
#define HL_SYNC_DEFAULT (-2)
hl_status hl_table_new_durable(hl_node *node, const char *name,
                               const hl_table_opts *opts, int sync, hl_table **out);

/* Table files (docs/durability.md): tab2file writes every object and the
** table's settings to path (replaced whole, never half written);
** file2tab checks the file's checksum and creates a table from it, owned
** by the node's host process, named name (NULL: the name in the file). */
hl_status hl_table_tab2file(hl_table *t, const char *path);
hl_status hl_table_file2tab(hl_node *node, const char *path, const char *name,
                            hl_table **out);

/* Repairs a damaged store (docs/durability.md, "A damaged store"): dir is
** a node's data_dir that no node uses. The least lossy way that works is
** taken (a damaged log rewritten without its damage, CURRENT written
** again, else LevelDB's own repair), and the report, a map term with what
** was damaged, what was done, each table's objects before and after, and
** whether data may have been lost, is appended to report. HL_ESTORE when
** dir holds no store, is in use, or cannot be repaired. */
hl_status hl_store_repair(const char *dir, hl_buf *report);

/* Finds a named table; the handle must be released. */
hl_status hl_table_open(hl_node *node, const char *name, hl_table **out);

/* Releases a handle (the table itself lives on). */
void hl_table_release(hl_table *t);

/* Deletes the table and its objects; handles become closed. */
hl_status hl_table_drop(hl_table *t);

/* The calling host (the thread's attached process, else the node's host
** process) takes over a table in the node's custody: one created with
** custody whose owner died with no live heir. HL_EBADARG if someone owns
** it. */
hl_status hl_table_claim(hl_table *t);

/* Number of objects. */
size_t hl_table_size(hl_table *t);

/* On encoded terms. An object is an array term with the key at keypos.
** Lookups append the objects' terms to out, one after another (clear it
** first to reuse it); *count tells how many. */
hl_status hl_table_insert(hl_table *t, const void *obj, size_t len);
hl_status hl_table_insert_new(hl_table *t, const void *obj, size_t len);
hl_status hl_table_lookup(hl_table *t, const void *key, size_t klen,
                          hl_buf *out, size_t *count);
hl_status hl_table_delete(hl_table *t, const void *key, size_t klen);

/* Adds incr to the integer at 1-based position pos of the object under
** key; *result receives the new value. HL_ENOTFOUND if no such object. */
hl_status hl_table_update_counter(hl_table *t, const void *key, size_t klen,
                                  uint32_t pos, int64_t incr, int64_t *result);

/* Match specifications (docs/match-specs.md): spec is an encoded match
** spec; the result of each object it matches is appended to out, one term
** after another, *count of them. select_reverse walks an ordered_set from
** its last key back, and is select on the other types, as in ETS.
** HL_EBADARG for a spec that does not compile, with the reason. */
hl_status hl_table_select(hl_table *t, const void *spec, size_t slen,
                          hl_buf *out, size_t *count);
hl_status hl_table_select_reverse(hl_table *t, const void *spec, size_t slen,
                                  hl_buf *out, size_t *count);

/* Iteration in table order (key order for ordered_set, a stable hash order
** otherwise). first: key == NULL. Writes the next key's term into out;
** HL_ENOTFOUND at the end. next works from a key that was deleted. */
hl_status hl_table_next(hl_table *t, const void *key, size_t klen, hl_buf *out);

/* On plain byte strings: the object is the array {key, value} of two
** strings. get appends the value's bytes to out. */
hl_status hl_table_put(hl_table *t, const void *key, size_t klen,
                       const void *val, size_t vlen);
hl_status hl_table_get(hl_table *t, const void *key, size_t klen, hl_buf *out);
hl_status hl_table_del(hl_table *t, const void *key, size_t klen);
/* Adds incr to the integer counter {key, n} (created at 0 if missing). */
hl_status hl_table_incr(hl_table *t, const void *key, size_t klen,
                        int64_t incr, int64_t *result);

/* ---- Lua ----
** Opens the heirloom module in a Lua state of the host's, bound to `node`
** (instead of a node of its own started by heirloom.start): pushes the
** module table, as require("heirloom") would, and sets package.loaded.
** The state acts as the node's host process. Several states may share one
** node, each used by one thread at a time. */
struct lua_State;
int hl_lua_attach(struct lua_State *L, hl_node *node);
/* The pid of the host process that L is bound to (by hl_lua_attach or
** heirloom.start); 0 if none. */
hl_pid hl_lua_self(struct lua_State *L);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
