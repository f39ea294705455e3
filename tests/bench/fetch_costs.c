/* What a transfer in flight and a kept connection cost in memory, measured against the local
 * mirror (plain HTTP on loopback): for N and 2N transfers in flight on one worker thread, each
 * run in a process of its own (and the same with one worker thread per transfer, the picture of
 * the engine before, as the peer),
 *   - the peak RSS of the process (getrusage) while all of them wait for the server's answer at
 *     once (the mirror holds every answer LATENCY_MS), and
 *   - the C heap in use (mallinfo2) after the call, when each transfer's connection is kept in
 *     the worker's multi handle and its easy handle in the fetcher's idle pool.
 * The difference between 2N and N, divided by N, is the cost of one: the constant parts (the
 * program, libcurl, the thread pool, the mirror's ids) cancel out. Kernel socket buffers are not
 * in RSS and are not counted. Printed as BENCH lines:
 *   fetch_cost_per_transfer_in_flight  KiB of peak RSS per transfer in flight
 *   fetch_cost_per_kept_connection     KiB of heap per connection kept between calls (with its
 *                                      idle easy handle)
 * The peer's threads are at most FO_TPOOL_THREADS_MAX, so N is half of that.
 *
 * Over HTTPS the same against nginx (tests/helpers/nginx.c, when nginx and openssl are
 * installed), with NS and 2 * NS transfers (the test server takes 256 connections): each a
 * 256 KiB file nginx sends at 256 KiB/s, so all are in flight at once, its body dropped by a
 * write callback; the lines end in _https. FO_COSTS_HTTPS_ONLY=1 runs that part alone. */
#include "config.h"

#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "fanout/fetch.h"
#include "helpers/mirror_proc.h"
#include "helpers/nginx.h"

#define LATENCY_MS "1500"
#define N 128
#define NS 64

typedef struct {
  long peak_kib;    /* ru_maxrss */
  long heap_after;  /* bytes of heap in use after the call, connections kept */
} cost;

static char **make_urls(const mirror_proc *m, size_t n) {
  char(*ids)[25] = malloc(64 * sizeof *ids);
  if (mirror_ids(m, ids, 64) != 64)
    exit(1);
  char **urls = malloc(n * sizeof *urls);
  for (size_t i = 0; i < n; i++) {
    char path[256];
    snprintf(path, sizeof path, "/v4/starlink/%s?i=%zu", ids[i % 64], i);
    urls[i] = malloc(300);
    mirror_url(m, path, urls[i], 300);
  }
  free(ids);
  return urls;
}

static size_t heap_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  return mallinfo2().uordblks;
#else
  return 0;
#endif
}

static const char *ca_file; /* HTTPS: the test CA */

static int drop(const void *data, size_t len, void *arg) {
  (void)data;
  (void)len;
  (void)arg;
  return 0;
}

/* In a child: n transfers in flight at once on one worker. */
static cost measure(char **urls, size_t n, unsigned threads) {
  int p[2];
  if (pipe(p) != 0)
    exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    fo_fetcher *f;
    if (fo_fetcher_create(&f, &(fo_fetch_opts){.threads = threads, .max_inflight = (unsigned)n,
                                              .ca_file = ca_file, .no_compress = 1}) != 0)
      _exit(1);
    fo_fetch_result *r = calloc(n, sizeof *r);
    fo_fetch_req *q = calloc(n, sizeof *q);
    for (size_t i = 0; i < n; i++)
      q[i] = (fo_fetch_req){.url = urls[i], .write = ca_file != NULL ? drop : NULL};
    int rc = fo_fetch_requests(f, q, n, r, NULL, NULL);
    for (size_t i = 0; rc == 0 && i < n; i++)
      rc = r[i].err;
    fo_fetch_results_free(r, n);
    free(q);
    long heap = (long)heap_in_use();
    if (write(p[1], &heap, sizeof heap) != (ssize_t)sizeof heap)
      _exit(1);
    fo_fetcher_destroy(f);
    free(r);
    _exit(rc == 0 ? 0 : 1);
  }
  close(p[1]);
  cost c = {0, 0};
  if (read(p[0], &c.heap_after, sizeof c.heap_after) != (ssize_t)sizeof c.heap_after)
    exit(1);
  close(p[0]);
  int st;
  struct rusage ru;
  if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "fetch_costs: the run of %zu failed\n", n);
    exit(1);
  }
  c.peak_kib = ru.ru_maxrss;
  return c;
}

/* Both modes at n and 2n; the BENCH lines named with suffix. */
static void run(char **urls, size_t n, const char *suffix) {
  double per_xfer[2], per_conn[2];
  for (int mode = 0; mode < 2; mode++) {
    /* mode 0: one worker thread for all; mode 1: one worker thread per transfer */
    /* the best of three of each: a run that page-faults less is closer to what it needs */
    cost one = {0, 0}, two = {0, 0};
    for (int k = 0; k < 3; k++) {
      cost a = measure(urls, n, mode ? (unsigned)n : 1);
      cost b = measure(urls, 2 * n, mode ? 2 * (unsigned)n : 1);
      if (k == 0 || a.peak_kib < one.peak_kib)
        one.peak_kib = a.peak_kib;
      if (k == 0 || b.peak_kib < two.peak_kib)
        two.peak_kib = b.peak_kib;
      if (k == 0 || a.heap_after < one.heap_after)
        one.heap_after = a.heap_after;
      if (k == 0 || b.heap_after < two.heap_after)
        two.heap_after = b.heap_after;
    }
    per_xfer[mode] = (double)(two.peak_kib - one.peak_kib) / (double)n;
    per_conn[mode] = (double)(two.heap_after - one.heap_after) / (double)n / 1024.0;
    fprintf(stderr,
            "fetch_costs: %s: peak RSS %ld KiB at %zu in flight, %ld KiB at %zu; heap after the "
            "call %ld and %ld bytes\n",
            mode ? "a thread per transfer" : "one thread", one.peak_kib, n, two.peak_kib, 2 * n,
            one.heap_after, two.heap_after);
  }
  char name[80];
  snprintf(name, sizeof name, "fetch_cost_per_transfer_in_flight%s", suffix);
  bench_line(name, "thread_per_transfer", per_xfer[0], per_xfer[1], "KiB", 1);
  snprintf(name, sizeof name, "fetch_cost_per_kept_connection%s", suffix);
  bench_line(name, "thread_per_transfer", per_conn[0], per_conn[1], "KiB", 1);
}

static void put_blob(const char *html, void *arg) {
  (void)arg;
  char path[256];
  snprintf(path, sizeof path, "%s/slow/blob.bin", html);
  test_make_text_file(path, 256 * 1024);
}

static void https(void) {
  test_nginx e;
  if (!nginx_up(&e, "fetch_costs", put_blob, NULL))
    return; /* it said why */
  char **urls = malloc(2 * NS * sizeof *urls);
  for (size_t i = 0; i < 2 * NS; i++) {
    char path[64];
    snprintf(path, sizeof path, "/slow/blob.bin?i=%zu", i);
    urls[i] = malloc(300);
    nginx_url(&e, 1, path, urls[i], 300);
  }
  ca_file = e.ca;
  run(urls, NS, "_https");
  ca_file = NULL;
  for (size_t i = 0; i < 2 * NS; i++)
    free(urls[i]);
  free(urls);
  nginx_down(&e);
}

/* nginx_up() reports through Check, whose asserts work only inside a test: the HTTPS run is one,
 * in this process (no fork, so the children measured are this program's). */
START_TEST(https_costs) {
  https();
}
END_TEST

static void https_in_check(void) {
  Suite *s = suite_create("fetch_costs");
  TCase *tc = tcase_create("https");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, https_costs);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_SILENT);
  if (srunner_ntests_failed(sr) != 0)
    fprintf(stderr, "fetch_costs: the HTTPS run failed\n");
  srunner_free(sr);
}

int main(void) {
  if (fo_fetch_global_init() != 0)
    return 1;
  mirror_proc m;
  const char *args[] = {"--docs", "64", "--latency-ms", LATENCY_MS, "--idle-exit", "30", NULL};
  if (mirror_start(&m, args) != 0) {
    fprintf(stderr, "fetch_costs: could not start %s\n", mirror_bin());
    return 1;
  }
  char **urls = make_urls(&m, 2 * N);
  if (getenv("FO_COSTS_HTTPS_ONLY") == NULL)
    run(urls, N, "");
  for (size_t i = 0; i < 2 * N; i++)
    free(urls[i]);
  free(urls);
  mirror_stop(&m);
  https_in_check();
  fo_fetch_global_cleanup();
  return 0;
}
