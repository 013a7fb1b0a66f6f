/*
** lready.c — ready states: Lua states in which a module's top level has
** already run, kept per module so that spawn only starts the process.
**
** Loading a module (its bytecode, then its top level) is much of what a
** spawn costs, and a supervisor restarting a server spawns the same
** module again and again. Once a module has been spawned, the node's pool
** thread (spool.c) prepares a few states for it ahead of time: a pristine
** state, the spawner's package.path and cpath, then require(module), run
** under a budget of hook ticks. Spawn takes one and only calls the
** function. The top level's garbage is left for the process to collect
** first thing, as after a load of its own, so its finalizers run there.
**
** What may run ahead of time is what cannot tell the difference: a top
** level that calls into heirloom for anything needing its process (self,
** send, a table, ...) or that errors, runs too long, or loads a file that
** cannot be stamped, is abandoned there (even inside pcall: the hook then
** raises on every instruction) and its module is not prepared again; its
** spawns load it themselves, as they always did. A state is given only
** while every Lua file its modules came from is unchanged (size and
** modification time), as the code cache checks them.
**
** The states are few (READY_PER_MODULE for each of the READY_MODULES
** modules spawned last) and they count for nobody until taken; taken, a
** state's memory counts for its process. At stop they go to the pool's
** thread to be closed, as exited processes' states do. The pool refills
** them once spawns pause for READY_PAUSE_MS: on scheduler threads a
** refill would otherwise compete for a core with the process just
** spawned (a restarted server, say).
**
** A deterministic node (schedulers = 0) must run the same way every time,
** whatever the pool's thread has had time to do: there, a spawn that
** finds no ready state prepares one itself (and only then pokes the pool,
** so that it is the first to compile the module), so every spawn of a
** module that can run ahead of time takes the same path. Its host thread
** runs all processes, so the pool refills at once.
*/
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codecache.h"
#include "lbind.h"
#include "lbody.h"
#include "lready.h"
#include "lstate.h"

#define READY_MODULES 8          /* modules with ready states, at most */
#define READY_PER_MODULE 4       /* ready states of one module, at most */
#define READY_HOOK_EVERY 1000    /* VM instructions a hook tick, as lbody.c */
#define READY_TICKS 1000         /* hook ticks a top level may take, as spawn's own */
#define READY_PAUSE_MS 2         /* refills wait for spawns to pause this long */

struct lready_run {
  int ticks;
  int refused;       /* abandoned: the module cannot run ahead of time */
};

/* A Lua file a ready state's code came from, as it was then. */
typedef struct ready_file {
  struct ready_file *next;
  cc_stamp stamp;
  char name[];
} ready_file;

typedef struct ready_state {
  lua_State *L;
  palloc *alloc;     /* its allocator data until it is taken */
  ready_file *files;
} ready_state;

typedef struct ready_module {
  uint64_t id;                 /* never reused: a preparation finds its module again */
  char *name, *path, *cpath;   /* path, cpath NULL: the state's own */
  int refused;                 /* its top level cannot run ahead of time */
  int preparing;               /* states being prepared by the pool's thread */
  int count;
  uint64_t used;               /* when it was last spawned (r->clock) */
  ready_state states[READY_PER_MODULE];
} ready_module;

struct lready {
  pthread_mutex_t lock;
  node *node;
  ready_module *mods[READY_MODULES];   /* NULL: a free place */
  uint64_t clock, next_id;
  int stopped;
};

/* What a preparation needs, copied: the module may be evicted meanwhile. */
typedef struct ready_key {
  uint64_t id;
  char *name, *path, *cpath;
  ready_file *files;           /* out: what it loaded */
} ready_key;

/* ---- states ---- */

static void free_files(ready_file *f) {
  while (f != NULL) {
    ready_file *next = f->next;
    free(f);
    f = next;
  }
}

static int same_stamp(const cc_stamp *a, const cc_stamp *b) {
  return a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
         a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int files_unchanged(const ready_file *f) {
  for (; f != NULL; f = f->next) {
    struct stat st;
    cc_stamp now;
    if (stat(f->name, &st) != 0) return 0;
    now.size = (int64_t)st.st_size;
    now.mtime = st.st_mtim;
    if (!same_stamp(&f->stamp, &now)) return 0;
  }
  return 1;
}

/* A pristine state on a heap of its own, its allocator data in *a. */
static lua_State *new_state(spool *pool, palloc **a) {
  lua_State *L;
  *a = calloc(1, sizeof **a);
  if (*a == NULL) return NULL;
  L = pool != NULL ? spool_take(pool, *a) : NULL;
  if (L == NULL && lbody_new_heap(*a)) {
    L = lstate_new(lbody_alloc, *a);
    if (L == NULL) lbody_free_heap(*a);
  }
  if (L == NULL) {
    free(*a);
    *a = NULL;
    return NULL;
  }
  *(proc **)lua_getextraspace(L) = NULL;   /* no process: the hooks and lcoro.c read it */
  return L;
}

/* A state that no process will have, closed here (its finalizers run as
** those of a process that never was). */
static void discard(lua_State *L, palloc *a) {
  lbody_close(L);
  free(a);
}

/* The same, by the pool's thread. */
static void retire(spool *pool, ready_state *st) {
  spool_retire(pool, st->L);
  free(st->alloc);
  free_files(st->files);
}

/* The state now counts its memory in `to` (as spool_take). */
static lua_State *hand_over(lua_State *L, palloc *a, palloc *to) {
  atomic_store(&to->used, atomic_load(&a->used));
  to->heap = a->heap;
  lua_setallocf(L, lbody_alloc, to);
  free(a);
  return L;
}

/* ---- running a top level ahead of time ---- */

static void ahead_hook(lua_State *L, lua_Debug *ar) {
  lbind *b = lbind_get(L);
  struct lready_run *run = b != NULL ? b->ahead : NULL;
  (void)ar;
  if (run == NULL) {
    /* a coroutine the top level made, now resumed by its process: from
    ** here on it knows its process and has its hook, as it would have had
    ** (it was made before the state had a process) */
    lua_State *main;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    main = lua_tothread(L, -1);
    lua_pop(L, 1);
    *(proc **)lua_getextraspace(L) = *(proc **)lua_getextraspace(main);
    lbody_prepare(L);
    return;
  }
  if (!run->refused && ++run->ticks <= READY_TICKS) return;
  lready_refuse(L, run);
  luaL_error(L, "heirloom: this top level cannot run ahead of time");
}

void lready_refuse(lua_State *L, struct lready_run *run) {
  run->refused = 1;
  lua_sethook(L, ahead_hook, LUA_MASKCOUNT, 1);   /* no pcall goes on */
}

static void set_path(lua_State *L, const char *field, const char *value) {
  if (value == NULL) return;
  lua_getglobal(L, "package");
  lua_pushstring(L, value);
  lua_setfield(L, -2, field);
  lua_pop(L, 1);
}

/* The files noted in LSTATE_LOADS into k->files; 0 if one has no stamp
** (or memory runs out). */
static int read_loads(lua_State *L, ready_key *k) {
  int ok = 1;
  lua_getfield(L, LUA_REGISTRYINDEX, LSTATE_LOADS);
  lua_pushnil(L);
  while (ok && lua_next(L, -2) != 0) {
    size_t namelen, len;
    const char *name = lua_tolstring(L, -2, &namelen), *stamp = lua_tolstring(L, -1, &len);
    ready_file *f = stamp != NULL && len == sizeof(cc_stamp)
                        ? malloc(sizeof *f + namelen + 1) : NULL;
    ok = f != NULL;
    if (ok) {
      memcpy(&f->stamp, stamp, sizeof f->stamp);
      memcpy(f->name, name, namelen + 1);
      f->next = k->files;
      k->files = f;
    }
    lua_pop(L, 1);
  }
  return ok;
}

/* Protected: argument 1 the ready_key. require(name) on a hooked thread;
** true if it went through and its files have stamps. */
static int run_top_level(lua_State *L) {
  ready_key *k = lua_touserdata(L, 1);
  lua_State *T;
  int ok;
  set_path(L, "path", k->path);
  set_path(L, "cpath", k->cpath);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LSTATE_LOADS);
  T = lua_newthread(L);
  lua_sethook(T, ahead_hook, LUA_MASKCOUNT, READY_HOOK_EVERY);
  lua_getglobal(T, "require");
  lua_pushstring(T, k->name);
  ok = lua_pcall(T, 1, 0, 0) == LUA_OK;
  lua_pop(L, 1);
  ok = ok && read_loads(L, k);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LSTATE_LOADS);
  lua_pushboolean(L, ok);
  return 1;
}

/* Runs k's module's top level in L, bound to the node but to no process;
** 1 if L is now a ready state (its files in k->files). */
static int prepare(lready *r, lua_State *L, ready_key *k) {
  lbind *b = lbind_get(L);
  struct lready_run run = {0, 0};
  int ok;
  node_ref(r->node);
  b->node = r->node;     /* for the code cache, and so that heirloom says why not */
  b->attached = 1;
  b->process = 1;
  b->ahead = &run;
  lua_pushcfunction(L, run_top_level);
  lua_pushlightuserdata(L, k);
  ok = lua_pcall(L, 1, 1, 0) == LUA_OK && lua_toboolean(L, -1) && !run.refused;
  lua_pop(L, 1);
  b->ahead = NULL;
  b->node = NULL;        /* spawn binds it again */
  node_unref(r->node);
  if (!ok) {
    free_files(k->files);
    k->files = NULL;
  }
  return ok;
}

/* ---- the modules ---- */

static int same(const char *a, const char *b) {
  return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static char *copy(const char *s, int *ok) {
  char *c;
  if (s == NULL) return NULL;
  c = malloc(strlen(s) + 1);
  if (c == NULL) *ok = 0;
  else strcpy(c, s);
  return c;
}

static void free_key(ready_key *k) {
  free(k->name);
  free(k->path);
  free(k->cpath);
  free_files(k->files);
}

/* Lock held for these. */
static ready_module *find(lready *r, const char *name, const char *path, const char *cpath) {
  for (int i = 0; i < READY_MODULES; i++) {
    ready_module *m = r->mods[i];
    if (m != NULL && strcmp(m->name, name) == 0 && same(m->path, path) && same(m->cpath, cpath))
      return m;
  }
  return NULL;
}

static ready_module *by_id(lready *r, uint64_t id) {
  for (int i = 0; i < READY_MODULES; i++)
    if (r->mods[i] != NULL && r->mods[i]->id == id) return r->mods[i];
  return NULL;
}

/* Takes m's states out into out (READY_PER_MODULE places); how many. */
static int take_all(ready_module *m, ready_state *out) {
  int n = m->count;
  memcpy(out, m->states, (size_t)n * sizeof *out);
  m->count = 0;
  return n;
}

static void free_module(ready_module *m) {
  free(m->name);
  free(m->path);
  free(m->cpath);
  free(m);
}

/* A new entry for the module, in place of the one spawned longest ago
** when all are taken (its states into out, *nout of them); NULL when
** memory runs out. */
static ready_module *add(lready *r, const char *name, const char *path, const char *cpath,
                         ready_state *out, int *nout) {
  int ok = 1, at = 0;
  ready_module *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->name = copy(name, &ok);
  m->path = copy(path, &ok);
  m->cpath = copy(cpath, &ok);
  if (!ok) {
    free_module(m);
    return NULL;
  }
  for (int i = 0; i < READY_MODULES; i++) {
    if (r->mods[i] == NULL) {
      at = i;
      break;
    }
    if (r->mods[i]->used < r->mods[at]->used) at = i;
  }
  if (r->mods[at] != NULL) {
    *nout = take_all(r->mods[at], out);
    free_module(r->mods[at]);
  }
  m->id = ++r->next_id;
  r->mods[at] = m;
  return m;
}

/* The module spawned last that may have one more state. */
static ready_module *most_wanted(lready *r) {
  ready_module *best = NULL;
  for (int i = 0; i < READY_MODULES; i++) {
    ready_module *m = r->mods[i];
    if (m != NULL && !m->refused && m->count + m->preparing < READY_PER_MODULE &&
        (best == NULL || m->used > best->used))
      best = m;
  }
  return best;
}

/* ---- the pool's thread ---- */

int lready_work(void *data) {
  lready *r = data;
  ready_module *m;
  ready_key k;
  palloc *a = NULL;
  lua_State *L;
  int ok = 1;
  memset(&k, 0, sizeof k);
  pthread_mutex_lock(&r->lock);
  m = r->stopped ? NULL : most_wanted(r);
  if (m != NULL) {
    k.id = m->id;
    k.name = copy(m->name, &ok);
    k.path = copy(m->path, &ok);
    k.cpath = copy(m->cpath, &ok);
    if (ok) m->preparing++;
  }
  pthread_mutex_unlock(&r->lock);
  if (m == NULL || !ok) {
    free_key(&k);
    return 0;
  }
  L = new_state(NULL, &a);
  ok = L != NULL && prepare(r, L, &k);
  pthread_mutex_lock(&r->lock);
  m = by_id(r, k.id);
  if (m != NULL) m->preparing--;
  if (ok && m != NULL && !r->stopped && m->count < READY_PER_MODULE) {
    m->states[m->count++] = (ready_state){L, a, k.files};
    k.files = NULL;
    L = NULL;
  } else if (!ok && L != NULL && m != NULL) {
    m->refused = 1;
  }
  pthread_mutex_unlock(&r->lock);
  free_key(&k);
  if (L == NULL) return ok;    /* out of memory: until the next spawn */
  discard(L, a);
  return 1;
}

/* ---- spawn ---- */

/* Prepares a state for the spawner itself (a deterministic node). */
static lua_State *prepare_now(lready *r, spool *pool, uint64_t id, const char *module,
                              const char *path, const char *cpath, palloc *to) {
  ready_key k = {id, (char *)module, (char *)path, (char *)cpath, NULL};
  palloc *a;
  lua_State *L = new_state(pool, &a);
  if (L == NULL) return NULL;
  if (prepare(r, L, &k)) {
    free_files(k.files);
    return hand_over(L, a, to);
  }
  pthread_mutex_lock(&r->lock);
  if (by_id(r, id) != NULL) by_id(r, id)->refused = 1;
  pthread_mutex_unlock(&r->lock);
  discard(L, a);
  return NULL;
}

lua_State *lready_take(lready *r, spool *pool, const char *module, const char *path,
                       const char *cpath, palloc *to) {
  ready_state out[READY_PER_MODULE], one = {NULL, NULL, NULL};
  int nout = 0, poke = 0, here, pause;
  uint64_t id = 0;
  ready_module *m;
  lua_State *L;
  pthread_mutex_lock(&r->lock);
  m = r->stopped ? NULL : find(r, module, path, cpath);
  if (m == NULL && !r->stopped) m = add(r, module, path, cpath, out, &nout);
  if (m != NULL) m->used = ++r->clock;
  if (m != NULL && !m->refused) {
    id = m->id;
    if (m->count > 0) one = m->states[--m->count];
    poke = m->count + m->preparing < READY_PER_MODULE / 2 + 1;
  }
  here = id != 0 && r->node->cfg.schedulers == 0;
  pause = r->node->cfg.schedulers == 0 ? 0 : READY_PAUSE_MS;
  pthread_mutex_unlock(&r->lock);
  for (int i = 0; i < nout; i++) retire(pool, &out[i]);
  if (one.L != NULL && !files_unchanged(one.files)) {
    /* and so are the others: prepared again, from the files as they are */
    pthread_mutex_lock(&r->lock);
    m = by_id(r, id);
    nout = m != NULL ? take_all(m, out) : 0;
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < nout; i++) retire(pool, &out[i]);
    retire(pool, &one);
    one.L = NULL;
    poke = 1;
  }
  if (one.L != NULL) {
    free_files(one.files);
    L = hand_over(one.L, one.alloc, to);
  } else {
    L = here ? prepare_now(r, pool, id, module, path, cpath, to) : NULL;
  }
  if (poke) spool_poke(pool, pause);    /* after this spawn's own preparation */
  return L;
}

/* ---- the node's ---- */

lready *lready_new(node *n) {
  lready *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  pthread_mutex_init(&r->lock, NULL);
  r->node = n;
  return r;
}

void lready_stop(lready *r, spool *pool) {
  for (int i = 0; i < READY_MODULES; i++) {
    ready_state out[READY_PER_MODULE];
    int n;
    pthread_mutex_lock(&r->lock);
    r->stopped = 1;
    n = r->mods[i] != NULL ? take_all(r->mods[i], out) : 0;
    pthread_mutex_unlock(&r->lock);
    for (int j = 0; j < n; j++) retire(pool, &out[j]);
  }
}

void lready_free(lready *r) {
  if (r == NULL) return;
  for (int i = 0; i < READY_MODULES; i++) {
    ready_module *m = r->mods[i];
    if (m == NULL) continue;
    for (int j = 0; j < m->count; j++) {    /* none once stopped */
      discard(m->states[j].L, m->states[j].alloc);
      free_files(m->states[j].files);
    }
    free_module(m);
  }
  pthread_mutex_destroy(&r->lock);
  free(r);
}
