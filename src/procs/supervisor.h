/*
** supervisor.h — the decision core of a supervisor: its validated spec,
** its ordered children, its restart-intensity window, and the answers to
** the strategy questions (which children to stop, in which order, which to
** start again, whether the supervisor must give up).
**
** The core does no I/O and reads no clock: the supervisor process (a Lua
** process, lua/heirloom/supervisor.lua, through lsupervisor.c) carries out
** what it decides and passes the time in milliseconds. Every child has a
** key, unique within its supervisor and never reused, so that a plan stays
** valid while children are removed.
*/
#ifndef HL_SUPERVISOR_H
#define HL_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

enum { SUP_ONE_FOR_ONE, SUP_ONE_FOR_ALL, SUP_REST_FOR_ONE, SUP_SIMPLE_ONE_FOR_ONE };
enum { SUP_PERMANENT, SUP_TRANSIENT, SUP_TEMPORARY };
enum { SUP_WORKER, SUP_SUPERVISOR };

/* shutdown, besides a number of milliseconds >= 0 */
#define SUP_BRUTAL_KILL (-1)
#define SUP_INFINITY (-2)

/* How a child's exit reason counts (sup_reason_class). */
enum { SUP_EXIT_NORMAL, SUP_EXIT_SHUTDOWN, SUP_EXIT_ABNORMAL };

/* Results. */
enum { SUP_OK, SUP_ENOMEM, SUP_EDUPLICATE, SUP_ENOTFOUND };

/* What a child's exit calls for (sup_child_exit). */
enum {
  SUP_UNKNOWN,     /* not one of our children: nothing to do */
  SUP_KEEP,        /* not restarted; its spec stays (pid cleared) */
  SUP_REMOVED,     /* not restarted; its spec is gone */
  SUP_RESTART,     /* carry out the plan */
  SUP_GIVE_UP      /* restart intensity reached: stop everything, exit */
};

/* A child spec as given: sup_add copies id and start. */
typedef struct sup_childspec {
  const char *id;
  const unsigned char *start;   /* the encoded term {module, fname, args...} */
  size_t startlen;
  int restart, type;
  int64_t shutdown;             /* ms >= 0, SUP_BRUTAL_KILL or SUP_INFINITY */
} sup_childspec;

typedef struct sup_child {
  uint64_t key;
  char *id;                     /* NULL for a simple_one_for_one child */
  unsigned char *start;
  size_t startlen;
  uint64_t pid;                 /* 0 when not running */
  int restart, type;
  int64_t shutdown;
} sup_child;

typedef struct sup {
  int strategy;
  int intensity;                /* restarts allowed within period_ms */
  int64_t period_ms;
  sup_child *children;          /* in start order */
  size_t nchildren, capchildren;
  sup_child tmpl;               /* simple_one_for_one: the template (key 0) */
  int has_tmpl;
  uint64_t lastkey;
  int64_t *restarts;            /* times of the restarts in the window, oldest first */
  size_t nrestarts, caprestarts;
} sup;

/* A plan: the keys to stop (in that order: right to left) and then the
** keys to start (in that order: left to right). */
typedef struct sup_plan {
  uint64_t *stop;
  size_t nstop;
  uint64_t *start;
  size_t nstart;
} sup_plan;

typedef struct sup_counts {
  size_t specs, active, supervisors, workers;
} sup_counts;

void sup_init(sup *s, int strategy, int intensity, int64_t period_ms);
void sup_free(sup *s);

/* Adds a child at the end of the start order. SUP_EDUPLICATE if the id is
** taken (*key is then the holder's key). */
int sup_add(sup *s, const sup_childspec *cs, uint64_t *key);
/* simple_one_for_one: sets the template (its id may be NULL). */
int sup_set_template(sup *s, const sup_childspec *cs);
/* simple_one_for_one: adds a child made from the template, with its own
** start term (the template's plus the extra arguments). */
int sup_add_dynamic(sup *s, const unsigned char *start, size_t startlen, uint64_t *key);

sup_child *sup_get(sup *s, uint64_t key);
sup_child *sup_find_id(sup *s, const char *id);
sup_child *sup_find_pid(sup *s, uint64_t pid);
/* Forgets a child (running or not: the caller stopped it). */
int sup_remove(sup *s, uint64_t key);
void sup_set_pid(sup *s, uint64_t key, uint64_t pid);

/* "normal"; "shutdown" or an array whose first element is "shutdown";
** anything else, a malformed term included, is abnormal. */
int sup_reason_class(const unsigned char *reason, size_t len);

/* Records a restart at now_ms. 1: within the intensity; 0: more than
** `intensity` restarts within the last period_ms: give up. */
int sup_record_restart(sup *s, int64_t now_ms);

/* The child with this pid exited. Decides by its restart type, records the
** restart, and fills plan (to be freed with sup_plan_free) for
** SUP_RESTART. *key: the child's key; *report: whether the exit deserves a
** "child terminated" report (a permanent child always, the others when the
** reason is abnormal). Returns one of SUP_UNKNOWN .. SUP_GIVE_UP, or -1
** out of memory. */
int sup_child_exit(sup *s, uint64_t pid, int reason_class, int64_t now_ms, uint64_t *key,
                   int *report, sup_plan *plan);

/* What restarting the (not running) child `key` takes under the strategy:
** one_for_one and simple_one_for_one start it alone; one_for_all stops
** every other running child, right to left, and starts them all again,
** left to right; rest_for_one does the same for the children after it.
** Temporary children are stopped but not started again. */
int sup_plan_restart(sup *s, uint64_t key, sup_plan *plan);
void sup_plan_free(sup_plan *plan);

/* A child was stopped by the supervisor (a strategy, terminate_child): its
** pid is cleared, and a temporary or simple_one_for_one child is removed.
** Returns 1 if removed. */
int sup_stopped(sup *s, uint64_t key);

/* The running children, right to left: the shutdown order. Fills a new
** array (NULL when there are none); returns the count, or (size_t)-1 out of
** memory. */
size_t sup_shutdown_order(const sup *s, uint64_t **keys);

void sup_count(const sup *s, sup_counts *c);

#endif
