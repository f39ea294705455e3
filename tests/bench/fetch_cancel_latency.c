/* fetch_cancel_latency: N transfers in flight on one fetcher, fo_fetcher_cancel() from another
 * thread, and the time from the cancel to the call's return. Run by fetch_field_time.sh with the
 * mirror's URL:
 *   fetch_cancel_latency NAME BASE_URL QUERY N ROUNDS
 * QUERY picks the transfers: a paced body (rate=...: data arrives all the time, so libcurl calls
 * the progress callback on every read) or a stalled one (stall=...: nothing arrives, so the
 * callback comes only from libcurl's own once-a-second wake-up: the engine's floor). Prints one
 * BENCH line against the 1 s goal: the worst round, and the median on stderr. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "fanout/fetch.h"

typedef struct {
  fo_fetcher *f;
  unsigned n;
  double at; /* when the cancel was made */
} ctx;

static int watch(unsigned long long bytes, unsigned long long total, void *arg) {
  (void)bytes;
  (void)total;
  unsigned *seen = arg; /* the item's flag: its transfer is under way */
  __atomic_store_n(seen, 1, __ATOMIC_RELAXED);
  return 0;
}

/* The bodies are endless: they go nowhere (a memory sink would refuse them at its cap). */
static int discard(const void *data, size_t len, void *arg) {
  (void)data;
  (void)len;
  (void)arg;
  return 0;
}

typedef struct {
  ctx *c;
  unsigned *seen;
} canceller;

/* Wait until every transfer is in flight (its watch was called once), then cancel. */
static void *cancel_when_all_run(void *arg) {
  canceller *k = arg;
  for (int tries = 0; tries < 3000; tries++) {
    unsigned in = 0;
    for (unsigned i = 0; i < k->c->n; i++)
      in += __atomic_load_n(&k->seen[i], __ATOMIC_RELAXED) != 0;
    if (in == k->c->n)
      break;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  struct timespec ts = {0, 300 * 1000000L}; /* let the transfers settle into their pace */
  nanosleep(&ts, NULL);
  k->c->at = bench_now();
  fo_fetcher_cancel(k->c->f);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s NAME BASE_URL QUERY N ROUNDS\n", argv[0]);
    return 2;
  }
  const char *name = argv[1];
  unsigned n = (unsigned)atoi(argv[4]), rounds = (unsigned)atoi(argv[5]);
  if (n == 0 || n > 256 || rounds == 0 || rounds > 50 || fo_fetch_global_init() != 0)
    return 2;
  char (*urls)[512] = calloc(n, sizeof *urls);
  fo_fetch_req *reqs = calloc(n, sizeof *reqs);
  fo_fetch_result *res = calloc(n, sizeof *res);
  unsigned *seen = calloc(n, sizeof *seen);
  double *lat = calloc(rounds, sizeof *lat);
  fo_fetcher *f = NULL;
  if (!urls || !reqs || !res || !seen || !lat ||
      fo_fetcher_create(&f, &(fo_fetch_opts){.threads = n}) != 0)
    return 1;
  for (unsigned r = 0; r < rounds; r++) {
    for (unsigned i = 0; i < n; i++) {
      /* a distinct target each, so the mirror's n= counters and caches play no part */
      snprintf(urls[i], sizeof urls[i], "%s/blob?%s&i=%u&r=%u", argv[2], argv[3], i, r);
      reqs[i] = (fo_fetch_req){
          .url = urls[i], .write = discard, .watch = watch, .watch_arg = &seen[i]};
      seen[i] = 0;
    }
    ctx c = {f, n, 0};
    canceller k = {&c, seen};
    pthread_t t;
    if (pthread_create(&t, NULL, cancel_when_all_run, &k) != 0)
      return 1;
    int rc = fo_fetch_requests(f, reqs, n, res, NULL, NULL);
    double end = bench_now();
    pthread_join(t, NULL);
    unsigned cancelled = 0;
    for (unsigned i = 0; i < n; i++)
      cancelled += res[i].err == -ECANCELED;
    if (rc != (int)n || cancelled != n)
      fprintf(stderr, "%s: round %u: %d failed, %u cancelled of %u\n", name, r, rc, cancelled, n);
    lat[r] = end - c.at;
    fo_fetch_results_free(res, n);
  }
  qsort(lat, rounds, sizeof *lat, cmp_double);
  fprintf(stderr, "%s: %u transfers, %u rounds: median %.3f s, worst %.3f s\n", name, n, rounds,
          lat[rounds / 2], lat[rounds - 1]);
  bench_line(name, "goal_1s", lat[rounds - 1], 1.0, "s", 1);
  fo_fetcher_destroy(f);
  fo_fetch_global_cleanup();
  free(urls), free(reqs), free(res), free(seen), free(lat);
  return 0;
}
