/* The thread pool's private parts: the task ring, the pool and its workers (shared by tpool.c, the
 * pool, and tpool_group.c, task groups), and the ways in that the tests use. Not installed. */
#ifndef FO_SRC_TPOOL_INTERNAL_H
#define FO_SRC_TPOOL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <semaphore.h>

#include "fanout/tpool.h"

/* The thread pool's queue: a bounded many-producer many-consumer ring of task slots (Dmitry
 * Vyukov's design). Submitters and workers pass tasks without taking a lock, so a lock is only
 * ever taken to sleep or to wake someone, and the queue never allocates after creation.
 *
 * Each slot carries a sequence number that says whose turn it is: a slot at position pos is free
 * for the producer of pos when seq == pos, holds that producer's task when seq == pos + 1, and
 * becomes free for the producer of pos + capacity when the consumer sets seq = pos + capacity.
 * Positions only grow (size_t wraps harmlessly: only differences are compared), so `tail` also
 * counts every task ever queued, which fo_tpool_wait() relies on.
 *
 * Filling and freeing a slot are sequentially consistent stores, not just release stores: the
 * pool's sleep and wake-up decisions (a producer checking for sleeping workers after filling, a
 * worker checking for work after saying it sleeps) are Dekker-style and need them. Internal. */

typedef struct fo__slot {
  size_t seq;
  fo_tpool_fn fn;
  void *arg;
  fo_tpool_group *group;
} fo__slot;

/* What a consumer takes out of a slot. */
typedef struct fo__task {
  fo_tpool_fn fn;
  void *arg;
  fo_tpool_group *group;
} fo__task;

/* Slots must number a power of two; slot i starts with seq = i. */
static inline void fo__ring_init(fo__slot *slots, size_t capacity) {
  for (size_t i = 0; i < capacity; i++)
    slots[i].seq = i;
}

/* 1 if queued, 0 if the ring is full. */
static inline int fo__ring_push(fo__slot *slots, size_t mask, size_t *tail, const fo__task *t) {
  size_t pos = __atomic_load_n(tail, __ATOMIC_RELAXED);
  for (;;) {
    fo__slot *s = &slots[pos & mask];
    intptr_t dif = (intptr_t)(__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) - pos);
    if (dif == 0) {
      /* The slot is ours once the CAS wins; the task data is published by the seq store. */
      if (__atomic_compare_exchange_n(tail, &pos, pos + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        s->fn = t->fn;
        s->arg = t->arg;
        s->group = t->group;
        __atomic_store_n(&s->seq, pos + 1, __ATOMIC_SEQ_CST);
        return 1;
      }
    } else if (dif < 0) {
      return 0; /* the slot still holds a task from one lap ago */
    } else {
      pos = __atomic_load_n(tail, __ATOMIC_RELAXED); /* another producer took pos */
    }
  }
}

/* 1 with the task in *t, 0 if nothing is ready. A slot that a producer has claimed but not yet
 * filled counts as empty: that producer wakes a worker after filling it. The CAS on head is
 * sequentially consistent so that a consumer which frees a slot later sees every claim made
 * before (the pool's "half the queue is free" decision reads head after freeing). */
static inline int fo__ring_pop(fo__slot *slots, size_t mask, size_t *head, fo__task *t) {
  size_t pos = __atomic_load_n(head, __ATOMIC_RELAXED);
  for (;;) {
    fo__slot *s = &slots[pos & mask];
    intptr_t dif = (intptr_t)(__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) - (pos + 1));
    if (dif == 0) {
      if (__atomic_compare_exchange_n(head, &pos, pos + 1, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        t->fn = s->fn;
        t->arg = s->arg;
        t->group = s->group;
        __atomic_store_n(&s->seq, pos + mask + 1, __ATOMIC_SEQ_CST);
        return 1;
      }
    } else if (dif < 0) {
      return 0;
    } else {
      pos = __atomic_load_n(head, __ATOMIC_RELAXED);
    }
  }
}

/* Whether the slot at the head holds a task (or the head moved on meanwhile: a cheap "maybe"
 * that errs towards yes, used only to decide whether to wake one more worker). */
static inline int fo__ring_maybe_nonempty(fo__slot *slots, size_t mask, size_t *head) {
  size_t pos = __atomic_load_n(head, __ATOMIC_RELAXED);
  size_t seq = __atomic_load_n(&slots[pos & mask].seq, __ATOMIC_ACQUIRE);
  return (intptr_t)(seq - (pos + 1)) >= 0;
}

/* The pool and its workers. */

/* Counters written by different threads on every task sit this far apart, so that a submitter
 * and a worker do not take a cache line from each other at each step. */
#define FO__CACHELINE 64

typedef struct fo__worker {
  fo_tpool *pool;
  pthread_t tid;
  unsigned index;
  /* Asleep, a worker waits on its own semaphore, so the one wake-up goes to the worker chosen
   * and it wakes without taking the pool's lock. */
  sem_t wake;
  /* Under lock: the neighbours in the list of sleepers, towards the oldest and the newest. */
  struct fo__worker *older, *newer;
} fo__worker;

struct fo_tpool {
  /* Written by submitters at each task: the ring's tail, also the count of tasks ever queued. */
  _Alignas(FO__CACHELINE) size_t tail;

  /* Written by workers at each task: the ring's head, and tasks finished or cancelled. */
  _Alignas(FO__CACHELINE) size_t head;
  size_t retired;

  /* Fixed at creation, read at each task. */
  _Alignas(FO__CACHELINE) fo__slot *slots;
  size_t mask; /* slots - 1; the slot count is a power of two */
  fo__worker *workers;
  unsigned nthreads; /* workers started (and to be joined) */
  size_t stack_size;
  void *raw; /* the block from fo__malloc, of which this struct is a part */
  char name[16];

  /* Read at each task, written only when a thread sleeps or wakes another (see tpool.c). */
  _Alignas(FO__CACHELINE) unsigned sleepers;
  unsigned tokens;
  fo__worker *newest, *oldest; /* under lock: the sleepers, by when they fell asleep */
  unsigned space_waiters;
  unsigned idle_waiters; /* fo_tpool_wait() callers */
  int stopping;          /* destroy has begun; set once, under lock */
  pthread_mutex_t lock;
  pthread_cond_t space_cv; /* submitters waiting for room; CLOCK_MONOTONIC */
  pthread_cond_t idle_cv;  /* fo_tpool_wait(), and destroy waiting for blocked submitters */
  unsigned long parks, wakeups, full_waits; /* under lock, for the tests */
  unsigned long inline_runs;                /* atomic */
};

/* How a submit waits for room. */
enum fo__wait { FO__WAIT_NONE, FO__WAIT_FOREVER, FO__WAIT_TIMED };

/* How a public timeout_ms waits (fanout.h, "Waiting"): FO_FOREVER as long as it takes, 0 not at
 * all (-EAGAIN when full), more with a deadline (-ETIMEDOUT when it passes). */
static inline enum fo__wait fo__tpool_wait_of(int timeout_ms) {
  return timeout_ms == FO_FOREVER ? FO__WAIT_FOREVER : timeout_ms == 0 ? FO__WAIT_NONE : FO__WAIT_TIMED;
}

/* The one submit path; arguments already checked. */
int fo__tpool_submit(fo_tpool *p, fo_tpool_group *g, fo_tpool_fn fn, void *arg, enum fo__wait how,
                     int timeout_ms);

/* Whether the calling thread is one of the pool's workers: compared with the pool's own list of
 * thread ids, so no thread-local or global state is needed. */
int fo__tpool_is_worker(const fo_tpool *p);

/* A task group (tpool_group.c): a count of unfinished tasks, under the pool's lock. The pool
 * itself adds a task to its group before queueing it and takes it out when it ends or is
 * dropped, with the helpers below, so the pool needs nothing of tpool_group.c. */
struct fo_tpool_group {
  fo_tpool *pool;
  unsigned long unfinished; /* queued or running tasks of the group; under pool->lock */
  unsigned waiters;         /* threads in fo_tpool_group_wait(); under pool->lock */
  pthread_cond_t done_cv;   /* broadcast when unfinished reaches 0 */
};

static inline void fo__tpool_group_add(fo_tpool_group *g) {
  pthread_mutex_lock(&g->pool->lock);
  g->unfinished++;
  pthread_mutex_unlock(&g->pool->lock);
}

static inline void fo__tpool_group_done_locked(fo_tpool_group *g, unsigned n) {
  g->unfinished -= n;
  if (g->unfinished == 0 && g->waiters != 0)
    pthread_cond_broadcast(&g->done_cv);
}

static inline void fo__tpool_group_done(fo_tpool_group *g, unsigned n) {
  pthread_mutex_lock(&g->pool->lock);
  fo__tpool_group_done_locked(g, n);
  pthread_mutex_unlock(&g->pool->lock);
}

/* Ways into the thread pool for the tests, which need to see what a correct pool never shows:
 * a thread that fails to start, and how often workers were woken. Both are per
 * pool, so the library keeps no global state for them. */

/* Starts one worker thread; returns 0 or a positive errno, as pthread_create() does. */
typedef int (*fo__tpool_spawn_fn)(pthread_t *thread, const pthread_attr_t *attr,
                                  void *(*start)(void *), void *arg, void *ctx);

/* fo_tpool_create() with the thread starter replaced (spawn NULL: pthread_create), so a test can
 * refuse the Nth thread and check that the ones before it were joined. */
int fo__tpool_create_with(fo_tpool **pool, const fo_tpool_opts *opts, fo__tpool_spawn_fn spawn,
                          void *ctx);

typedef struct fo__tpool_stats {
  unsigned threads;          /* worker threads running */
  unsigned capacity;         /* queue slots (after rounding) */
  size_t stack_size;         /* bytes per worker stack (after rounding) */
  unsigned long parks;       /* times a worker went to sleep for want of work */
  unsigned long wakeups;     /* times a sleeping worker was signalled to take work */
  unsigned long full_waits;  /* submits that had to wait for queue space */
  unsigned long inline_runs; /* tasks a worker ran inline because its own pool was full */
} fo__tpool_stats;

/* A consistent snapshot of the counters. Thread-safe. */
void fo__tpool_get_stats(fo_tpool *pool, fo__tpool_stats *stats);

#endif /* FO_SRC_TPOOL_INTERNAL_H */
