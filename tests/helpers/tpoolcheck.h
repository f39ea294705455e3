/* Helpers the thread pool's Check tests share (tests/check_tpool.c, tests/check_tpool_wake.c):
 * clocks, sleeps, bounded waits scaled for slow runs, and pools made or inspected with an
 * assertion. Header-only, so each test file keeps them static. */
#ifndef FO_TESTS_TPOOLCHECK_H
#define FO_TESTS_TPOOLCHECK_H

#include <check.h>
#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>

#include "fanout/tpool.h"
#include "tpool/tpool_internal.h"

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static inline void sleep_ms(long ms) {
  sleep_us(ms * 1000);
}

/* Sanitizer and valgrind runs stretch Check's timeouts by this; stretch our bounds alike. */
static inline double slowness(void) {
  const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
  double x = m != NULL ? atof(m) : 1.0;
  return x >= 1.0 ? x : 1.0;
}

/* sem_wait with a bound, so a broken pool fails the test instead of hanging it. */
static inline int sem_wait_s(sem_t *s, int seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += seconds;
  int rc;
  while ((rc = sem_timedwait(s, &ts)) != 0 && errno == EINTR)
    ;
  return rc;
}

static inline fo_tpool *make_pool(unsigned threads, unsigned queue) {
  fo_tpool_opts o = {.threads = threads, .queue = queue};
  fo_tpool *p = NULL;
  ck_assert_int_eq(fo_tpool_create(&p, &o), 0);
  ck_assert_ptr_nonnull(p);
  return p;
}

static inline fo__tpool_stats stats_of(fo_tpool *p) {
  fo__tpool_stats s;
  fo__tpool_get_stats(p, &s);
  return s;
}

#endif /* FO_TESTS_TPOOLCHECK_H */
