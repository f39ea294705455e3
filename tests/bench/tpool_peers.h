/* The thread pools bench_tpool measures fanout's against, all driven the same way: the calling
 * thread submits empty tasks and then waits for them; latency is from just before submit to the
 * first line of the task, on a pool whose workers are all asleep. */
#ifndef FO_TESTS_TPOOL_PEERS_H
#define FO_TESTS_TPOOL_PEERS_H

#include <stddef.h>

typedef struct tpool_peer {
  const char *name;    /* as printed after vs= */
  const char *missing; /* NULL when built in, else why not (printed as a skip) */
  /* Throughput of n empty tasks with `threads` workers; tasks per second, or < 0 on failure. */
  double (*throughput)(int threads, long n);
  /* Submit-to-start latency over n samples, in microseconds; 0 or -1 on failure. */
  int (*latency)(int threads, int n, double *median_us, double *p99_us);
  /* Peers that cost more per task run fewer tasks; rates are per second either way. */
  long tasks;
} tpool_peer;

extern const tpool_peer tpool_peer_glib, tpool_peer_libuv, tpool_peer_python;

/* Shared helpers (bench_tpool.c). */
double tpool_bench_now(void);
void tpool_bench_sleep_us(long us);
/* Sorts us[0..n) and returns its median and 99th percentile. */
void tpool_bench_percentiles(double *us, int n, double *median, double *p99);

/* Time between latency samples, so every worker is asleep again when the next task comes. */
#define TPOOL_BENCH_IDLE_US 300

#endif /* FO_TESTS_TPOOL_PEERS_H */
