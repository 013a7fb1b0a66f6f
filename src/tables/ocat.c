/*
** ocat.c — the contention-adapting tree behind ordered_set (see ocat.h).
**
** A route is an immutable sorted array: base i holds the keys from split
** key i (a copy the route owns) up to split key i + 1. Finding a key's base
** reads the route and writes nothing, so readers and writers of different
** ranges share no written cache line. Who locks a base then checks that
** the route, read again, still sends the key there; while the lock is held
** it stays so, because only the holder of a base's write lock may split or
** join it.
**
** Adapting follows the contention-adapting trees of Sagonas and Winblad
** (as in ETS with {write_concurrency, auto}): a write lock got only after
** waiting raises the base's statistic a lot, one got at once lowers it a
** little; past a high mark the base splits at its middle key, past a low
** one it joins a neighbour. This happens at a write unlock, by the
** holder, under the table's adapt mutex (taken only with trylock there, so
** an adapting thread never waits for a base and no lock order is broken).
**
** Reclaiming: a thread may hold a route it read, or a base it is about to
** lock, for as long as it likes, and nothing here can tell when it has
** let go without a shared count on every operation. So retired routes and
** joined-away bases are kept until the table is destroyed, and a table
** adapts at most MAX_CHANGES times in its life (then keeps its bases as
** they are): at most about MAX_CHANGES * (MAX_BASES * 40 bytes + a base).
*/
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocat.h"
#include "spin.h"
#include "term.h"

#define MAX_BASES 64
#define MAX_CHANGES 1024
#define WAITED 250          /* a write lock that had to wait */
#define GOT_AT_ONCE 1       /* one that did not */
#define SPLIT_ABOVE 1000
#define JOIN_BELOW (-1000)
#define RETRY_TRIES 32      /* tries of a taken lock before sleeping on it, */
#define RETRY_PAUSES 8      /* with this many pause instructions between */

struct ocbase {
  oset tree;                /* its lock is the base's lock */
  int stat;                 /* contention, under the write lock */
  int writing;              /* 1 while write-locked by ocat_lock_key */
  ocbase *made_next;        /* every base the table made, for destroy */
};

/* The base and its lock on cache lines of their own. */
#define BASE_SIZE ((sizeof(ocbase) + 63) / 64 * 64)

struct ocroute {
  int n;
  ocroute *older;           /* on the retired list */
  ocbase **base;
  uint64_t *pre;            /* split key i: its prefix, bytes and size */
  unsigned char **key;      /* (index 0 unused: base 0 has no lower end) */
  size_t *klen;
};

/* ---- routes ---- */

static int compare_split(const ocroute *r, int i, uint64_t pre, const unsigned char *key,
                         size_t klen) {
  if (pre != r->pre[i]) return pre < r->pre[i] ? -1 : 1;
  return term_compare(key, klen, r->key[i], r->klen[i]);
}

/* The base holding key in a route of several bases: the number of split
** keys at or below it. */
static int route_search(const ocroute *r, const unsigned char *key, size_t klen) {
  uint64_t pre = oset_prefix(key, klen);
  int lo = 1, hi = r->n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (compare_split(r, mid, pre, key, klen) >= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/* The base holding key; one base, the usual case, takes no search. */
static inline int route_find(const ocroute *r, const unsigned char *key, size_t klen) {
  return r->n == 1 ? 0 : route_search(r, key, klen);
}

/* A route of n bases with room for the key bytes; all in one block. */
static ocroute *route_new(int n, size_t keybytes) {
  size_t each = sizeof(ocbase *) + sizeof(uint64_t) + sizeof(unsigned char *) + sizeof(size_t);
  ocroute *r = malloc(sizeof *r + (size_t)n * each + keybytes);
  if (r == NULL) return NULL;
  r->n = n;
  r->older = NULL;
  r->base = (ocbase **)(r + 1);
  r->pre = (uint64_t *)(r->base + n);
  r->key = (unsigned char **)(r->pre + n);
  r->klen = (size_t *)(r->key + n);
  r->key[0] = (unsigned char *)(r->klen + n);
  r->klen[0] = 0;
  r->pre[0] = 0;
  return r;
}

static size_t key_bytes(const ocroute *r) {
  size_t k = 0;
  for (int i = 1; i < r->n; i++) k += r->klen[i];
  return k;
}

/* Appends split key i of the new route r, its bytes after those before. */
static void route_put_key(ocroute *r, int i, const unsigned char *key, size_t klen) {
  unsigned char *at = r->key[0];
  for (int j = 1; j < i; j++) at += r->klen[j];
  memcpy(at, key, klen);
  r->key[i] = at;
  r->klen[i] = klen;
  r->pre[i] = oset_prefix(key, klen);
}

/* r with base i split: b keeps the lower part, right takes the upper from
** the key `mid` on. */
static ocroute *route_split(const ocroute *r, int i, ocbase *right, const eobj *mid) {
  ocroute *nr = route_new(r->n + 1, key_bytes(r) + mid->klen);
  if (nr == NULL) return NULL;
  for (int j = 0, k = 0; j < r->n; j++, k++) {
    nr->base[k] = r->base[j];
    if (j > 0) route_put_key(nr, k, r->key[j], r->klen[j]);
    if (j == i) {
      k++;
      nr->base[k] = right;
      route_put_key(nr, k, eobj_key(mid), mid->klen);
    }
  }
  return nr;
}

/* r with base j + 1 folded into base j. */
static ocroute *route_join(const ocroute *r, int j) {
  ocroute *nr = route_new(r->n - 1, key_bytes(r) - r->klen[j + 1]);
  if (nr == NULL) return NULL;
  for (int i = 0, k = 0; i < r->n; i++) {
    if (i == j + 1) continue;
    nr->base[k] = r->base[i];
    if (k > 0) route_put_key(nr, k, r->key[i], r->klen[i]);
    k++;
  }
  return nr;
}

static ocroute *current(ocat *c) {
  return atomic_load_explicit(&c->route, memory_order_acquire);
}

static int index_of(const ocroute *r, const ocbase *b) {
  for (int i = 0; i < r->n; i++)
    if (r->base[i] == b) return i;
  return -1;
}

/* The base of key, the route being stable (key's base or all held). */
static oset *tree_of(ocat *c, const unsigned char *key, size_t klen) {
  ocroute *r = current(c);
  return &r->base[route_find(r, key, klen)]->tree;
}

/* ---- bases ---- */

static ocbase *base_new(ocat *c) {
  ocbase *b = aligned_alloc(64, BASE_SIZE);
  if (b == NULL) return NULL;
  if (!oset_init(&b->tree, c->objs)) {
    free(b);
    return NULL;
  }
  b->stat = 0;
  b->writing = 0;
  b->made_next = c->all_bases;
  c->all_bases = b;
  return b;
}

static int try_lock(rwlock *l, int write) {
  return write ? rwlock_trywrlock(l) : rwlock_tryrdlock(l);
}

/* Takes a lock just found taken: tries it again for a few microseconds
** before sleeping on it. Its holder is mostly doing one operation, about
** a microsecond, while a sleep and the wake-up it needs cost system calls
** on both sides. */
static void lock_after_wait(rwlock *l, int write) {
  for (int i = 0; i < RETRY_TRIES; i++) {
    for (int j = 0; j < RETRY_PAUSES; j++) spin_pause();
    if (try_lock(l, write)) return;
  }
  if (write) rwlock_wrlock(l);
  else rwlock_rdlock(l);
}

static void base_lock(ocbase *b, int write) {
  if (!write) {
    if (!try_lock(&b->tree.lock, 0)) lock_after_wait(&b->tree.lock, 0);
  } else if (try_lock(&b->tree.lock, 1)) {
    if (b->stat > JOIN_BELOW) b->stat -= GOT_AT_ONCE;
  } else {
    lock_after_wait(&b->tree.lock, 1);
    b->stat += WAITED;
  }
}

static void base_unlock(ocbase *b) {
  rwlock_unlock(&b->tree.lock);
}

/* ---- set up and tear down ---- */

int ocat_init(ocat *c, eheap *objs) {
  ocroute *r = route_new(1, 0);
  ocbase *b;
  c->objs = objs;
  c->all_bases = NULL;
  c->old_routes = NULL;
  c->changes = 0;
  if (r == NULL || (b = base_new(c)) == NULL) {
    free(r);
    return 0;
  }
  r->base[0] = b;
  atomic_init(&c->route, r);
  atomic_init(&c->seq, 0);
  if (pthread_mutex_init(&c->adapt, NULL) != 0) {
    oset_destroy(&b->tree);
    free(b);
    free(r);
    return 0;
  }
  return 1;
}

void ocat_destroy(ocat *c) {
  free(atomic_load(&c->route));
  for (ocroute *o = c->old_routes; o != NULL;) {
    ocroute *older = o->older;
    free(o);
    o = older;
  }
  while (c->all_bases != NULL) {
    ocbase *next = c->all_bases->made_next;
    oset_destroy(&c->all_bases->tree);
    free(c->all_bases);
    c->all_bases = next;
  }
  pthread_mutex_destroy(&c->adapt);
}

void ocat_clear(ocat *c) {
  ocroute *r = current(c);
  for (int i = 0; i < r->n; i++) oset_clear(&r->base[i]->tree);
}

/* ---- adapting ---- */

/* Publishes nr in place of r, which retires. */
static void publish(ocat *c, ocroute *r, ocroute *nr) {
  for (int i = 0; i < nr->n; i++)
    atomic_store_explicit(&nr->base[i]->tree.shares, nr->n, memory_order_relaxed);
  atomic_store_explicit(&c->route, nr, memory_order_release);
  r->older = c->old_routes;
  c->old_routes = r;
  c->changes++;
}

/* Splits base i of r (write-locked by the caller; adapt held). */
static int split_base(ocat *c, ocroute *r, int i) {
  ocbase *b = r->base[i], *right;
  const eobj *mid = oset_middle(&b->tree);
  ocroute *nr;
  if (mid == NULL || r->n >= MAX_BASES || c->changes >= MAX_CHANGES) return 0;
  if ((right = base_new(c)) == NULL) return 0;   /* kept on all_bases */
  if ((nr = route_split(r, i, right, mid)) == NULL) return 0;
  atomic_fetch_add_explicit(&c->seq, 1, memory_order_acq_rel);
  if (!oset_split(&b->tree, &right->tree)) {
    atomic_fetch_add_explicit(&c->seq, 1, memory_order_release);
    free(nr);
    return 0;
  }
  publish(c, r, nr);
  atomic_fetch_add_explicit(&c->seq, 1, memory_order_release);
  return 1;
}

/* Joins bases j and j + 1 of r; the caller holds `held`, one of the two,
** and adapt. The other is only tried: waiting for it could deadlock. */
static int join_bases(ocat *c, ocroute *r, int j, ocbase *held) {
  ocbase *left = r->base[j], *right = r->base[j + 1];
  ocbase *other = held == left ? right : left;
  ocroute *nr;
  int ok = 0;
  if (c->changes >= MAX_CHANGES || !rwlock_trywrlock(&other->tree.lock)) return 0;
  if ((nr = route_join(r, j)) != NULL) {
    atomic_fetch_add_explicit(&c->seq, 1, memory_order_acq_rel);
    ok = oset_join(&left->tree, &right->tree);
    if (ok) publish(c, r, nr);
    else free(nr);
    atomic_fetch_add_explicit(&c->seq, 1, memory_order_release);
  }
  if (ok) left->stat = 0;
  base_unlock(other);
  return ok;
}

static void adapt(ocat *c, ocbase *b) {
  ocroute *r;
  int i;
  if (pthread_mutex_trylock(&c->adapt) != 0) return;   /* another time */
  r = current(c);
  i = index_of(r, b);
  if (b->stat > SPLIT_ABOVE) split_base(c, r, i);
  else if (r->n > 1) join_bases(c, r, i + 1 < r->n ? i : i - 1, b);
  b->stat = 0;
  pthread_mutex_unlock(&c->adapt);
}

/* ---- locking ---- */

ocbase *ocat_lock_key(ocat *c, const unsigned char *key, size_t klen, int write) {
  for (;;) {
    ocroute *r = current(c), *now;
    ocbase *b = r->base[route_find(r, key, klen)];
    base_lock(b, write);
    now = current(c);
    if (now == r || now->base[route_find(now, key, klen)] == b) {
      if (write) b->writing = 1;
      return b;
    }
    base_unlock(b);         /* split or joined meanwhile: look again */
  }
}

void ocat_unlock_key(ocat *c, ocbase *b, int write) {
  if (write) b->writing = 0;
  if (write && (b->stat > SPLIT_ABOVE || b->stat <= JOIN_BELOW)) adapt(c, b);
  base_unlock(b);
}

void ocat_lock_all(ocat *c, int write) {
  for (;;) {
    ocroute *r = current(c);
    for (int i = 0; i < r->n; i++) {
      if (write) rwlock_wrlock(&r->base[i]->tree.lock);
      else rwlock_rdlock(&r->base[i]->tree.lock);
    }
    if (current(c) == r) return;
    for (int i = r->n; i-- > 0;) base_unlock(r->base[i]);
  }
}

void ocat_unlock_all(ocat *c) {
  ocroute *r = current(c);
  for (int i = r->n; i-- > 0;) base_unlock(r->base[i]);
}

/* ---- objects ---- */

/* A writer's find is mostly followed by an insert of the same key: the
** tree then remembers the place, which readers must not write. */
eobj *ocat_find(ocat *c, const unsigned char *key, size_t klen) {
  ocroute *r = current(c);
  ocbase *b = r->base[route_find(r, key, klen)];
  if (b->writing) return oset_find_to_insert(&b->tree, key, klen);
  return oset_find(&b->tree, key, klen);
}

int ocat_insert(ocat *c, eobj *obj) {
  return oset_insert(tree_of(c, eobj_key(obj), obj->klen), obj);
}

eobj *ocat_replace(ocat *c, eobj *obj) {
  return oset_replace(tree_of(c, eobj_key(obj), obj->klen), obj);
}

eobj *ocat_remove(ocat *c, const unsigned char *key, size_t klen) {
  return oset_remove(tree_of(c, key, klen), key, klen);
}

/* The sum of a field over the bases of one route: the objects, or the
** nodes' bytes. Read again if a split or join moved objects between the
** bases meanwhile (seq changed or was odd). */
static size_t sum_bases(ocat *c, int node_bytes, const ocroute **seen) {
  for (;;) {
    unsigned s = atomic_load_explicit(&c->seq, memory_order_acquire);
    ocroute *r;
    size_t n = 0;
    if (s & 1) {
      sched_yield();
      continue;
    }
    r = current(c);
    for (int i = 0; i < r->n; i++)
      n += node_bytes ? oset_node_bytes(&r->base[i]->tree) : atomic_load(&r->base[i]->tree.count);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&c->seq, memory_order_relaxed) == s) {
      if (seen != NULL) *seen = r;
      return n;
    }
  }
}

size_t ocat_count(ocat *c) {
  return sum_bases(c, 0, NULL);
}

size_t ocat_memory(ocat *c) {
  const ocroute *r;
  size_t nodes = sum_bases(c, 1, &r);
  size_t each = sizeof(ocbase *) + sizeof(uint64_t) + sizeof(unsigned char *) + sizeof(size_t);
  return nodes + (size_t)r->n * (BASE_SIZE + each) + sizeof *r + key_bytes(r);
}

/* ---- walking ---- */

void ocat_release(ocat *c, ochold *h) {
  if (h->all) ocat_unlock_all(c);
  else
    for (int i = h->to; i >= h->from; i--) base_unlock(h->route->base[i]);
  h->route = NULL;
}

/* Forward: hold the key's base and, while nothing follows there, the
** next ones too (in key order, as every locker goes), so that no key can
** arrive behind the answer before it is given. */
static eobj *step_after(ocat *c, const unsigned char *key, size_t klen, ochold *h) {
  for (;;) {
    ocroute *r = current(c);
    eobj *o;
    h->route = r;
    h->all = 0;
    h->from = h->to = key != NULL ? route_find(r, key, klen) : 0;
    rwlock_rdlock(&r->base[h->from]->tree.lock);
    if (current(c) != r) {
      ocat_release(c, h);
      continue;
    }
    o = oset_step_after(&r->base[h->to]->tree, key, klen);
    while (o == NULL && h->to + 1 < r->n) {
      rwlock_rdlock(&r->base[++h->to]->tree.lock);
      if (current(c) != r) break;
      o = oset_step_after(&r->base[h->to]->tree, NULL, 0);
    }
    if (current(c) == r) return o;
    ocat_release(c, h);
  }
}

/* Backward: the key's base alone when it has an answer; else, as locks
** are never taken downwards, every base. */
static eobj *step_before(ocat *c, const unsigned char *key, size_t klen, ochold *h) {
  occursor cur;
  for (;;) {
    ocroute *r = current(c);
    eobj *o;
    h->route = r;
    h->all = 0;
    h->from = h->to = key != NULL ? route_find(r, key, klen) : r->n - 1;
    rwlock_rdlock(&r->base[h->from]->tree.lock);
    if (current(c) != r) {
      ocat_release(c, h);
      continue;
    }
    o = oset_step_before(&r->base[h->from]->tree, key, klen);
    if (o != NULL || h->from == 0) return o;
    ocat_release(c, h);
    break;
  }
  ocat_lock_all(c, 0);
  h->route = current(c);
  h->all = 1;
  return ocat_seek_before(c, key, klen, &cur);
}

eobj *ocat_step(ocat *c, const unsigned char *key, size_t klen, int dir, ochold *h) {
  return dir > 0 ? step_after(c, key, klen, h) : step_before(c, key, klen, h);
}

eobj *ocat_seek_after(ocat *c, const unsigned char *key, size_t klen, occursor *cur) {
  const ocroute *r = current(c);
  int i = key != NULL ? route_find(r, key, klen) : 0;
  eobj *o = oset_seek_after(&r->base[i]->tree, key, klen, &cur->c);
  while (o == NULL && i + 1 < r->n) o = oset_seek_after(&r->base[++i]->tree, NULL, 0, &cur->c);
  cur->route = r;
  cur->base = i;
  return o;
}

eobj *ocat_seek_before(ocat *c, const unsigned char *key, size_t klen, occursor *cur) {
  const ocroute *r = current(c);
  int i = key != NULL ? route_find(r, key, klen) : r->n - 1;
  eobj *o = oset_seek_before(&r->base[i]->tree, key, klen, &cur->c);
  while (o == NULL && i > 0) o = oset_seek_before(&r->base[--i]->tree, NULL, 0, &cur->c);
  cur->route = r;
  cur->base = i;
  return o;
}

eobj *ocat_cursor_next(occursor *cur) {
  const ocroute *r = cur->route;
  eobj *o = oset_cursor_next(&cur->c);
  while (o == NULL && cur->base + 1 < r->n)
    o = oset_seek_after(&r->base[++cur->base]->tree, NULL, 0, &cur->c);
  return o;
}

eobj *ocat_cursor_prev(occursor *cur) {
  const ocroute *r = cur->route;
  eobj *o = oset_cursor_prev(&cur->c);
  while (o == NULL && cur->base > 0)
    o = oset_seek_before(&r->base[--cur->base]->tree, NULL, 0, &cur->c);
  return o;
}

void ocat_rewrite(ocat *c, oset_rewrite_fn fn, void *ud) {
  ocroute *r = current(c);
  for (int i = 0; i < r->n; i++) oset_rewrite(&r->base[i]->tree, fn, ud);
}

/* ---- for the tests ---- */

static int force(ocat *c, const unsigned char *key, size_t klen, int split) {
  ocbase *b = ocat_lock_key(c, key, klen, 1);
  ocroute *r;
  int i, done = 0;
  pthread_mutex_lock(&c->adapt);
  r = current(c);
  i = index_of(r, b);
  if (split) done = split_base(c, r, i);
  else if (i + 1 < r->n) done = join_bases(c, r, i, b);
  pthread_mutex_unlock(&c->adapt);
  b->writing = 0;
  base_unlock(b);
  return done;
}

int ocat_force_split(ocat *c, const unsigned char *key, size_t klen) {
  return force(c, key, klen, 1);
}

int ocat_force_join(ocat *c, const unsigned char *key, size_t klen) {
  return force(c, key, klen, 0);
}

int ocat_bases(ocat *c) {
  return current(c)->n;
}

/* Every base sound, and its keys within its range. */
int ocat_check(ocat *c) {
  ocroute *r = current(c);
  size_t n = 0;
  for (int i = 0; i < r->n; i++) {
    oset *t = &r->base[i]->tree;
    eobj *first = oset_after(t, NULL, 0), *last = oset_before(t, NULL, 0);
    if (!oset_check(t)) return 0;
    if (i + 1 < r->n &&
        term_compare(r->key[i], r->klen[i], r->key[i + 1], r->klen[i + 1]) >= 0 && i > 0)
      return 0;
    if (first != NULL && i > 0 &&
        term_compare(eobj_key(first), first->klen, r->key[i], r->klen[i]) < 0)
      return 0;
    if (last != NULL && i + 1 < r->n &&
        term_compare(eobj_key(last), last->klen, r->key[i + 1], r->klen[i + 1]) >= 0)
      return 0;
    n += atomic_load(&t->count);
  }
  return n == ocat_count(c);
}
