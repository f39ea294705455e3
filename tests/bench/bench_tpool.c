/* fanout's thread pool against GLib's GThreadPool, libuv's uv_queue_work and Python's
 * ThreadPoolExecutor, in one run:
 *   - throughput: 1,000,000 empty tasks submitted from one thread, then a wait for all of them,
 *     with 2 and with 8 workers (Python: 100,000 tasks; the unit is tasks per second for all);
 *     the best of THROUGHPUT_ROUNDS rounds counts, and a peer that needs more than
 *     PEER_BUDGET_S for its rounds so far gets no more;
 *   - latency: from just before submit to the start of the task, on a pool of LATENCY_THREADS
 *     idle workers: each sample sleeps TPOOL_BENCH_IDLE_US, submits one probe and takes the time
 *     the probe starts. A round is LATENCY_SAMPLES samples and gives its median and its 99th
 *     percentile; every side runs LATENCY_ROUNDS rounds, and what is printed for a side is the
 *     median over its rounds of the per-round median and of the per-round p99 (not the best
 *     round: a p99 is the tail of a few samples, and one lucky or unlucky round of a shared
 *     machine would decide it). Every side gets the same rounds, samples, threads, idle sleep
 *     and probe, and no budget cuts any side's latency rounds short.
 * Pools are created before the clock starts and each keeps its default queue; fanout's is
 * bounded (FO_TPOOL_QUEUE_DEFAULT), so its submitter also pays for waiting when it is full, while
 * the peers' queues grow without bound. Rounds alternate strictly between the sides (fanout,
 * GLib, libuv, Python, fanout, ...), so drift on a shared machine hits all alike.
 *
 * `bench_tpool throughput` or `bench_tpool latency` runs one half only. */
#include "config.h"

#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "fanout/tpool.h"
#include "tpool_peers.h"

#define TASKS 1000000L
#define THROUGHPUT_ROUNDS 3
#define PEER_BUDGET_S 4.0
#define LATENCY_THREADS 2
#define LATENCY_SAMPLES 2000
#define LATENCY_ROUNDS 9 /* odd, so the median is one round's figure */

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
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    tpool_bench_sleep_us(TPOOL_BENCH_IDLE_US);
    double t0 = bench_now();
    if ((rc = fo_tpool_submit(p, probe_task, &pr)) != 0)
      break;
    sem_wait(&pr.done);
    us[i] = (pr.started - t0) * 1e6;
  }
  fo_tpool_wait(p);
  fo_tpool_destroy(p);
  sem_destroy(&pr.done);
  if (rc == 0)
    tpool_bench_percentiles(us, n, median, p99);
  free(us);
  return rc == 0 ? 0 : -1;
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
  for (int r = 0; r < THROUGHPUT_ROUNDS; r++) {
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

/* The median of n per-round figures (n odd); sorts them. */
static double median_of(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, by_value);
  return v[n / 2];
}

/* Side 0 is fanout, side i + 1 is peers[i]. */
static int side_latency(int side, double *median, double *p99) {
  if (side == 0)
    return ours_latency(LATENCY_THREADS, LATENCY_SAMPLES, median, p99);
  return peers[side - 1]->latency(LATENCY_THREADS, LATENCY_SAMPLES, median, p99);
}

static void latency(void) {
  enum { SIDES = NPEERS + 1 };
  double med[SIDES][LATENCY_ROUNDS] = {{0}}, p99[SIDES][LATENCY_ROUNDS] = {{0}};
  int ok[SIDES];
  for (int s = 0; s < SIDES; s++)
    ok[s] = s == 0 || peers[s - 1]->missing == NULL;
  for (int r = 0; r < LATENCY_ROUNDS; r++)
    for (int s = 0; s < SIDES; s++)
      if (ok[s] && side_latency(s, &med[s][r], &p99[s][r]) != 0)
        ok[s] = 0;
  double ours_med = median_of(med[0], LATENCY_ROUNDS), ours_p99 = median_of(p99[0], LATENCY_ROUNDS);
  for (int i = 0; i < NPEERS; i++) {
    if (peers[i]->missing != NULL)
      continue;
    if (!ok[0] || !ok[i + 1]) {
      printf("FAILED tpool_submit_to_start vs=%s\n", peers[i]->name);
      continue;
    }
    bench_line("tpool_submit_to_start_median", peers[i]->name, ours_med,
               median_of(med[i + 1], LATENCY_ROUNDS), "us", 1);
    bench_line("tpool_submit_to_start_p99", peers[i]->name, ours_p99,
               median_of(p99[i + 1], LATENCY_ROUNDS), "us", 1);
  }
}

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : "";
  if (only[0] != '\0' && strcmp(only, "throughput") != 0 && strcmp(only, "latency") != 0) {
    fprintf(stderr, "usage: bench_tpool [throughput|latency]\n");
    return 2;
  }
  for (int i = 0; i < NPEERS; i++)
    if (peers[i]->missing != NULL)
      printf("SKIP bench_tpool vs=%s: %s\n", peers[i]->name, peers[i]->missing);
  if (strcmp(only, "latency") != 0) {
    throughput(2);
    throughput(8);
  }
  if (strcmp(only, "throughput") != 0)
    latency();
  return 0;
}
