/* The fetcher against its peers, on the local API mirror, in one run:
 *   - 1,000 GETs with 20 ms of added latency on 50 threads, against the ideal (20 rounds of
 *     20 ms = 0.4 s), `curl --parallel --parallel-max 50` and Python's ThreadPoolExecutor(50)
 *     with urllib;
 *   - requests per second with no added latency, against curl --parallel and wrk (the ceiling);
 *   - peak memory of a process that runs the 50-thread fetch, against curl's.
 * Each timed case runs a few rounds, alternating ours and theirs, and keeps the best of each, so
 * noise on a shared machine hits both sides alike. A peer that is not installed is skipped with
 * a note. Every timed fetch includes creating the fetcher (connections are made fresh each
 * round, as the peers make theirs). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "fanout/fetch.h"
#include "helpers/mirror_proc.h"

#define THREADS 50
#define N_LAT 1000
#define LATENCY_MS 20
#define N_RPS 5000
#define ROUNDS 3

static char urlfile[64], curlcfg[64];

static int have(const char *cmd) {
  char buf[256];
  snprintf(buf, sizeof buf, "command -v %s >/dev/null 2>&1", cmd);
  return system(buf) == 0;
}

static char **make_urls(const mirror_proc *m, size_t n) {
  enum { DOCS = 100 };
  char(*ids)[25] = malloc(DOCS * sizeof *ids);
  if (ids == NULL || mirror_ids(m, ids, DOCS) != DOCS) {
    fprintf(stderr, "bench_fetch: could not read the mirror's ids\n");
    exit(1);
  }
  char **urls = malloc(n * sizeof *urls);
  FILE *uf = fopen(urlfile, "w"), *cf = fopen(curlcfg, "w");
  if (urls == NULL || uf == NULL || cf == NULL)
    exit(1);
  for (size_t i = 0; i < n; i++) {
    char path[64];
    snprintf(path, sizeof path, "/v4/starlink/%s", ids[i % DOCS]);
    urls[i] = malloc(128);
    mirror_url(m, path, urls[i], 128);
    fprintf(uf, "%s\n", urls[i]);
    fprintf(cf, "url = \"%s\"\noutput = \"/dev/null\"\n", urls[i]);
  }
  fclose(uf);
  fclose(cf);
  free(ids);
  return urls;
}

static void free_urls(char **urls, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(urls[i]);
  free(urls);
}

/* One timed fetch of n URLs on a new fetcher; exits on any failed URL (a benchmark of errors
 * would measure nothing). */
static double ours(char **urls, size_t n) {
  double t = bench_now();
  fo_fetcher *f;
  fo_fetch_opts o = {.threads = THREADS};
  fo_fetch_result *res = calloc(n, sizeof *res);
  if (res == NULL || fo_fetcher_create(&f, &o) != 0)
    exit(1);
  int rc = fo_fetch_many(f, (const char *const *)urls, NULL, n, res, NULL, NULL);
  fo_fetcher_destroy(f);
  t = bench_now() - t;
  if (rc != 0) {
    for (size_t i = 0; i < n; i++)
      if (res[i].err)
        fprintf(stderr, "bench_fetch: %s: %s\n", urls[i], res[i].message);
    exit(1);
  }
  fo_fetch_results_free(res, n);
  free(res);
  return t;
}

/* Run a shell command; its wall time, and its peak RSS in KiB when rss != NULL. */
static double timed_cmd(const char *cmd, long *rss) {
  double t = bench_now();
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  int st;
  struct rusage ru;
  if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "bench_fetch: failed: %s\n", cmd);
    exit(1);
  }
  if (rss)
    *rss = ru.ru_maxrss;
  return bench_now() - t;
}

static double curl_parallel(long *rss) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "curl -s --fail --parallel --parallel-max %d -K %s 2>/dev/null",
           THREADS, curlcfg);
  return timed_cmd(cmd, rss);
}

/* Python measures itself, so interpreter start-up is not charged to it. */
static double python_pool(void) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "python3 %s/peer_urllib.py %s %d", FO_BENCH_DIR, urlfile, THREADS);
  FILE *p = popen(cmd, "r");
  double t = -1;
  int failed = -1;
  if (p == NULL || fscanf(p, "%lf %d", &t, &failed) != 2 || pclose(p) != 0 || failed != 0) {
    fprintf(stderr, "bench_fetch: python peer failed (%d failures)\n", failed);
    exit(1);
  }
  return t;
}

static double wrk_rps(const mirror_proc *m, const char *url) {
  (void)m;
  char cmd[512], line[256];
  snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d3s %s 2>/dev/null", THREADS, url);
  FILE *p = popen(cmd, "r");
  double rps = -1;
  while (p && fgets(line, sizeof line, p) != NULL)
    sscanf(line, "Requests/sec: %lf", &rps);
  if (p)
    pclose(p);
  return rps;
}

/* Peak RSS of a child process that creates a 50-thread fetcher and fetches n URLs. */
static long ours_rss(char **urls, size_t n) {
  pid_t pid = fork();
  if (pid == 0) {
    ours(urls, n);
    _exit(0);
  }
  int st;
  struct rusage ru;
  if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
    exit(1);
  return ru.ru_maxrss;
}

static void start_mirror(mirror_proc *m, const char *latency) {
  const char *args[] = {"--docs", "100", "--latency-ms", latency, "--idle-exit", "20", NULL};
  if (mirror_start(m, args) != 0) {
    fprintf(stderr, "bench_fetch: could not start %s\n", mirror_bin());
    exit(1);
  }
}

int main(void) {
  snprintf(urlfile, sizeof urlfile, "/tmp/fo-bench-urls-%d.txt", (int)getpid());
  snprintf(curlcfg, sizeof curlcfg, "/tmp/fo-bench-curl-%d.cfg", (int)getpid());
  int has_curl = have("curl"), has_py = have("python3"), has_wrk = have("wrk");
  if (fo_fetch_global_init() != 0)
    return 1;

  /* ---- 1,000 GETs, 20 ms added latency, 50 threads */
  mirror_proc m;
  char lat[16];
  snprintf(lat, sizeof lat, "%d", LATENCY_MS);
  start_mirror(&m, lat);
  char **urls = make_urls(&m, N_LAT);
  /* memory first, before this process has threads of its own to copy into the child */
  long rss_ours = ours_rss(urls, N_LAT), rss_curl = 0;
  double best = 1e30, best_curl = 1e30, best_py = 1e30;
  for (int r = 0; r < ROUNDS; r++) {
    double t = ours(urls, N_LAT);
    best = t < best ? t : best;
    if (has_curl) {
      long rss;
      t = curl_parallel(&rss);
      best_curl = t < best_curl ? t : best_curl;
      rss_curl = rss > rss_curl ? rss : rss_curl;
    }
    if (has_py && r < 2) { /* Python is slow; two rounds are enough */
      t = python_pool();
      best_py = t < best_py ? t : best_py;
    }
  }
  double ideal = (double)N_LAT / THREADS * LATENCY_MS / 1000.0;
  bench_line("fetch_1000_get_20ms_50_threads", "ideal_20_rounds", best, ideal, "s", 1);
  if (has_curl)
    bench_line("fetch_1000_get_20ms_50_threads", "curl_parallel_max_50", best, best_curl, "s", 1);
  else
    fprintf(stderr, "bench_fetch: curl not installed: no curl --parallel comparison\n");
  if (has_py)
    bench_line("fetch_1000_get_20ms_50_threads", "python_threadpool50_urllib", best, best_py, "s",
               1);
  else
    fprintf(stderr, "bench_fetch: python3 not installed: no Python comparison\n");
  if (has_curl)
    bench_line("fetch_peak_rss_50_threads", "curl_parallel_max_50", (double)rss_ours / 1024.0,
               (double)rss_curl / 1024.0, "MiB", 1);
  bench_line("fetch_peak_rss_50_threads", "target_64MiB", (double)rss_ours / 1024.0, 64.0, "MiB",
             1);
  free_urls(urls, N_LAT);
  mirror_stop(&m);

  /* ---- requests per second, no added latency */
  start_mirror(&m, "0");
  urls = make_urls(&m, N_RPS);
  double rps = 0, rps_curl = 0;
  for (int r = 0; r < ROUNDS; r++) {
    double t = ours(urls, N_RPS);
    rps = N_RPS / t > rps ? N_RPS / t : rps;
    if (has_curl) {
      t = curl_parallel(NULL);
      rps_curl = N_RPS / t > rps_curl ? N_RPS / t : rps_curl;
    }
  }
  if (has_curl)
    bench_line("fetch_rps_no_latency_50_threads", "curl_parallel_max_50", rps, rps_curl, "req/s",
               0);
  if (has_wrk) {
    double w = wrk_rps(&m, urls[0]);
    if (w > 0)
      bench_line("fetch_rps_no_latency_50_threads", "wrk_ceiling", rps, w, "req/s", 0);
  } else {
    fprintf(stderr, "bench_fetch: wrk not installed: no ceiling figure\n");
  }
  free_urls(urls, N_RPS);
  mirror_stop(&m);
  unlink(urlfile);
  unlink(curlcfg);
  fo_fetch_global_cleanup();
  return 0;
}
