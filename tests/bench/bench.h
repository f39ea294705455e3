/* Shared by the benchmark programs: a monotonic clock and the one output line
 *   BENCH <benchmark> vs=<peer> ours=<value> theirs=<value> unit=<unit> advantage=<x>
 * where advantage > 1 means ours is better, whether the unit is a time or a rate. */
#ifndef FO_TESTS_BENCH_H
#define FO_TESTS_BENCH_H

#include <stdio.h>
#include <time.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* lower_is_better: 1 for times (advantage = theirs / ours), 0 for rates (ours / theirs). */
static inline void bench_line(const char *name, const char *peer, double ours, double theirs,
                              const char *unit, int lower_is_better) {
  double adv = lower_is_better ? theirs / ours : ours / theirs;
  printf("BENCH %s vs=%s ours=%.4g theirs=%.4g unit=%s advantage=%.3f\n", name, peer, ours, theirs,
         unit, adv);
  fflush(stdout);
}

#endif /* FO_TESTS_BENCH_H */
