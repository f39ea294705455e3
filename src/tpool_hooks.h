/* Ways into the thread pool for the tests, which need to see what a correct pool never shows:
 * a thread that fails to start, and how often workers were woken. Not installed. Both are per
 * pool, so the library keeps no global state for them. */
#ifndef FO_SRC_TPOOL_HOOKS_H
#define FO_SRC_TPOOL_HOOKS_H

#include <pthread.h>
#include <stddef.h>

#include "fanout/tpool.h"

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

#endif /* FO_SRC_TPOOL_HOOKS_H */
