/* fanout's thread pool against GLib's GThreadPool, libuv's uv_queue_work and Python's
 * ThreadPoolExecutor, in one run:
 *   - throughput: 1,000,000 empty tasks submitted from one thread, then a wait for all of them,
 *     with 2 and with 8 workers (Python: 100,000 tasks; the unit is tasks per second for all);
 *   - latency: from just before submit to the start of the task, on a pool of 2 idle workers
 *     (median and 99th percentile of 1,000 samples a round).
 * Pools are created before the clock starts and each keeps its default queue; fanout's is
 * bounded (FO_TPOOL_QUEUE_DEFAULT), so its submitter also pays for waiting when it is full, while
 * the peers' queues grow without bound. Rounds alternate between the pools so drift on a shared
 * machine hits all alike, and the best round of each counts; a peer that needs more than
 * PEER_BUDGET_S for its rounds so far gets no more, which keeps the run near half a minute. */
#include "config.h"

#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"
#include "fanout/tpool.h"
#include "tpool_peers.h"

#define TASKS 1000000L
#define ROUNDS 3
#define PEER_BUDGET_S 4.0
#define LATENCY_THREADS 2
#define LATENCY_SAMPLES 1000

double tpool_bench_now(void) {
  return bench_now();
}

void tpool_bench_sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void tpool_bench_percentiles(double *us, int n, double *median, double *p99) {
  qsort(us, (size_t)n, sizeof *us, by_value);
  *median = us[n / 2];
  *p99 = us[n * 99 / 100 < n - 1 ? n * 99 / 100 : n - 1];
}

static void empty_task(void *arg) {
  (void)arg;
}

static double ours_throughput(int threads, long n) {
  fo_tpool_opts o = {.threads = (unsigned)threads};
  fo_tpool *p = NULL;
  if (fo_tpool_create(&p, &o) != 0)
    return -1;
  double t0 = bench_now();
  for (long i = 0; i < n; i++)
    if (fo_tpool_submit(p, empty_task, NULL) != 0)
      return -1;
  fo_tpool_wait(p);
  double rate = (double)n / (bench_now() - t0);
  fo_tpool_destroy(p);
  return rate;
}

typedef struct {
  double started;
  sem_t done;
} probe;

static void probe_task(void *arg) {
  probe *p = arg;
  p->started = bench_now();
  sem_post(&p->done);
}

static int ours_latency(int threads, int n, double *median, double *p99) {
  fo_tpool_opts o = {.threads = (unsigned)threads};
  fo_tpool *p = NULL;
  double *us = malloc((size_t)n * sizeof *us);
  if (us == NULL || fo_tpool_create(&p, &o) != 0) {
    free(us);
    return -1;
  }
  probe pr;
  sem_init(&pr.done, 0, 0);
  for (int i = 0; i < n; i++) {
    tpool_bench_sleep_us(TPOOL_BENCH_IDLE_US);
    double t0 = bench_now();
    fo_tpool_submit(p, probe_task, &pr);
    sem_wait(&pr.done);
    us[i] = (pr.started - t0) * 1e6;
  }
  fo_tpool_wait(p);
  fo_tpool_destroy(p);
  sem_destroy(&pr.done);
  tpool_bench_percentiles(us, n, median, p99);
  free(us);
  return 0;
}

static double better(double have, double got) {
  return got > have ? got : have;
}

static const tpool_peer *const peers[] = {&tpool_peer_glib, &tpool_peer_libuv, &tpool_peer_python};
#define NPEERS (int)(sizeof peers / sizeof peers[0])

static void throughput(int threads) {
  double ours = -1, theirs[NPEERS], spent[NPEERS];
  char name[64];
  snprintf(name, sizeof name, "tpool_1M_empty_tasks_%dt", threads);
  for (int i = 0; i < NPEERS; i++)
    theirs[i] = -1, spent[i] = 0;
  for (int r = 0; r < ROUNDS; r++) {
    ours = better(ours, ours_throughput(threads, TASKS));
    for (int i = 0; i < NPEERS; i++) {
      if (peers[i]->missing != NULL || spent[i] > PEER_BUDGET_S)
        continue;
      double t0 = bench_now();
      theirs[i] = better(theirs[i], peers[i]->throughput(threads, peers[i]->tasks));
      spent[i] += bench_now() - t0;
    }
  }
  for (int i = 0; i < NPEERS; i++) {
    if (peers[i]->missing != NULL)
      continue;
    if (ours < 0 || theirs[i] < 0)
      printf("FAILED %s vs=%s\n", name, peers[i]->name);
    else
      bench_line(name, peers[i]->name, ours, theirs[i], "tasks/s", 0);
  }
}

static void latency(void) {
  double med = 1e30, p99 = 1e30, tmed[NPEERS], tp99[NPEERS];
  int ok = 1, tok[NPEERS];
  for (int i = 0; i < NPEERS; i++)
    tmed[i] = tp99[i] = 1e30, tok[i] = 1;
  for (int r = 0; r < ROUNDS; r++) {
    double m, q;
    if (ours_latency(LATENCY_THREADS, LATENCY_SAMPLES, &m, &q) != 0)
      ok = 0;
    med = m < med ? m : med;
    p99 = q < p99 ? q : p99;
    for (int i = 0; i < NPEERS; i++) {
      if (peers[i]->missing != NULL)
        continue;
      if (peers[i]->latency(LATENCY_THREADS, LATENCY_SAMPLES, &m, &q) != 0)
        tok[i] = 0;
      tmed[i] = m < tmed[i] ? m : tmed[i];
      tp99[i] = q < tp99[i] ? q : tp99[i];
    }
  }
  for (int i = 0; i < NPEERS; i++) {
    if (peers[i]->missing != NULL)
      continue;
    if (!ok || !tok[i]) {
      printf("FAILED tpool_submit_to_start vs=%s\n", peers[i]->name);
      continue;
    }
    bench_line("tpool_submit_to_start_median", peers[i]->name, med, tmed[i], "us", 1);
    bench_line("tpool_submit_to_start_p99", peers[i]->name, p99, tp99[i], "us", 1);
  }
}

int main(void) {
  for (int i = 0; i < NPEERS; i++)
    if (peers[i]->missing != NULL)
      printf("SKIP bench_tpool vs=%s: %s\n", peers[i]->name, peers[i]->missing);
  throughput(2);
  throughput(8);
  latency();
  return 0;
}
