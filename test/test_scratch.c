/*
** test_scratch.c — lending the binding's buffers (lscratch.c): a call
** nested in another never gets the other's set, and a set abandoned by a
** longjmp (a Lua error) is free again for the calls that come after.
*/
#include <pthread.h>
#include <setjmp.h>
#include <string.h>

#include "check.h"
#include "lscratch.h"

static jmp_buf unwind;
static lscratch *lost, *again;   /* not locals: they change between setjmp and longjmp */

/* A call that borrows and is unwound before it can give the set back,
** as a Lua error would unwind it. */
__attribute__((noinline)) static void borrow_then_fail(lscratch_pool *pool, lscratch **got) {
  *got = lscratch_borrow(pool);
  buf_put(&(*got)->in, "abc", 3);
  longjmp(unwind, 1);
}

/* A call nested in one that holds `outer`, as a finalizer's call is. */
__attribute__((noinline)) static void nested(lscratch_pool *pool, lscratch *outer, int depth) {
  lscratch *inner = lscratch_borrow(pool);
  CHECK(inner != NULL && inner != outer);
  CHECK(outer->lent);
  buf_put(&inner->out, "inner", 5);
  if (depth > 0) nested(pool, inner, depth - 1);
  CHECK(inner->out.n == 5 && memcmp(inner->out.p, "inner", 5) == 0);
  lscratch_return(inner);
}

static void test_nesting(void) {
  lscratch_pool pool;
  lscratch *a, *b;
  lscratch_init(&pool);
  a = lscratch_borrow(&pool);
  buf_put(&a->out, "outer", 5);
  nested(&pool, a, 3);
  CHECK(a->lent && a->out.n == 5 && memcmp(a->out.p, "outer", 5) == 0);
  CHECK(pool.n == 5);                   /* the outer set and one per nesting level */
  lscratch_return(a);
  b = lscratch_borrow(&pool);           /* unnested again: the first set, emptied */
  CHECK(b == a && b->in.n == 0 && b->out.n == 0);
  nested(&pool, b, 3);                  /* the sets are kept: no more are made */
  CHECK(pool.n == 5);
  lscratch_return(b);
  lscratch_free(&pool);
}

static void test_abandoned_by_longjmp(void) {
  lscratch_pool pool;
  lscratch *next;
  lscratch_init(&pool);
  for (int i = 0; i < 100; i++) {
    if (setjmp(unwind) == 0) borrow_then_fail(&pool, i == 0 ? &lost : &again);
    CHECK(lost != NULL && lost->lent);  /* nobody gave it back */
  }
  CHECK(again == lost);                 /* each call found the set of the one before free */
  CHECK(pool.n == 1);
  next = lscratch_borrow(&pool);        /* from a frame above the lost one: free too */
  CHECK(next == lost && next->in.n == 0);
  lscratch_return(next);
  lscratch_free(&pool);
}

static void *borrow_on_a_thread(void *pool) {
  return lscratch_borrow(pool);         /* and never gives it back */
}

static void test_abandoned_on_another_thread(void) {
  lscratch_pool pool;
  pthread_t th;
  void *theirs;
  lscratch *mine;
  lscratch_init(&pool);
  pthread_create(&th, NULL, borrow_on_a_thread, &pool);
  pthread_join(th, &theirs);
  mine = lscratch_borrow(&pool);        /* no call of that thread can be running here */
  CHECK(mine == theirs);
  lscratch_return(mine);
  lscratch_free(&pool);
}

static void test_big_buffers_are_not_kept(void) {
  lscratch_pool pool;
  lscratch *s;
  lscratch_init(&pool);
  s = lscratch_borrow(&pool);
  buf_reserve(&s->out, 4u << 20);
  buf_put(&s->in, "small", 5);
  lscratch_return(s);
  CHECK(s->out.cap == 0 && s->in.cap > 0);
  lscratch_free(&pool);
}

/* A set whose buffer failed to grow is lent again as good as new: one
** allocation failure must not fail every later call of the state. */
static void test_failure_is_forgotten(void) {
  lscratch_pool pool;
  lscratch *s;
  lscratch_init(&pool);
  s = lscratch_borrow(&pool);
  buf_put(&s->in, "abc", 3);
  buf_put(&s->out, "abc", 3);
  CHECK(!buf_reserve(&s->in, (size_t)-1) && !buf_ok(&s->in));   /* cannot be had */
  CHECK(!buf_reserve(&s->out, (size_t)-1) && !buf_ok(&s->out));
  lscratch_return(s);
  s = lscratch_borrow(&pool);
  CHECK(buf_ok(&s->in) && buf_ok(&s->out));
  buf_put(&s->in, "abc", 3);
  CHECK(buf_ok(&s->in) && s->in.n == 3);
  lscratch_return(s);
  lscratch_free(&pool);
}

int main(void) {
  test_nesting();
  test_abandoned_by_longjmp();
  test_abandoned_on_another_thread();
  test_big_buffers_are_not_kept();
  test_failure_is_forgotten();
  return check_summary("scratch");
}
