/* The thread pool's private parts, shared by src/tpool.c (the pool) and src/tpool_group.c (task
 * groups). Not installed. */
#ifndef FO_SRC_TPOOL_IMPL_H
#define FO_SRC_TPOOL_IMPL_H

#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>

#include "fanout/tpool.h"
#include "tpool_ring.h"

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
enum fo__wait { FO__NOWAIT, FO__FOREVER, FO__TIMED };

/* How a public timeout_ms waits (fanout.h, "Waiting"): FO_FOREVER as long as it takes, 0 not at
 * all (-EAGAIN when full), more with a deadline (-ETIMEDOUT when it passes). */
static inline enum fo__wait fo__tpool_wait_of(int timeout_ms) {
  return timeout_ms == FO_FOREVER ? FO__FOREVER : timeout_ms == 0 ? FO__NOWAIT : FO__TIMED;
}

/* The one submit path; arguments already checked. */
int fo__tpool_submit(fo_tpool *p, fo_tpool_group *g, fo_tpool_fn fn, void *arg, enum fo__wait how,
                     int timeout_ms);

/* Whether the calling thread is one of the pool's workers: compared with the pool's own list of
 * thread ids, so no thread-local or global state is needed. */
int fo__tpool_is_worker(const fo_tpool *p);

/* A task joins the group (before it is queued), and n tasks leave it (finished or dropped);
 * _locked: the caller holds the pool's lock. */
void fo__tpool_group_add(fo_tpool_group *g);
void fo__tpool_group_done(fo_tpool_group *g, unsigned n);
void fo__tpool_group_done_locked(fo_tpool_group *g, unsigned n);

#endif /* FO_SRC_TPOOL_IMPL_H */
