/* Python's ThreadPoolExecutor as a peer, through tests/bench/peer_tpool.py. The interpreter and
 * the script's path come from configure and the Makefile, so `make bench` works from any build
 * directory. */
#include "config.h"

#include "tpool_peers.h"

#include <stdio.h>

#ifndef BENCH_PYTHON
#define BENCH_PYTHON ""
#endif
#ifndef BENCH_PEER_PY
#define BENCH_PEER_PY "peer_tpool.py"
#endif

/* Run the script and read `want` numbers from its output; 0 or -1. */
static int run_script(const char *mode, int threads, long n, double *out, int want) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' '%s' %s %d %ld", BENCH_PYTHON, BENCH_PEER_PY, mode, threads, n);
  fflush(stdout);
  FILE *f = popen(cmd, "r");
  if (f == NULL)
    return -1;
  int got = want == 2 ? fscanf(f, "%lf %lf", &out[0], &out[1]) : fscanf(f, "%lf", &out[0]);
  int status = pclose(f);
  return got == want && status == 0 ? 0 : -1;
}

static double python_throughput(int threads, long n) {
  double r;
  return run_script("throughput", threads, n, &r, 1) == 0 ? r : -1;
}

static int python_latency(int threads, int n, double *median, double *p99) {
  double r[2];
  if (run_script("latency", threads, n, r, 2) != 0)
    return -1;
  *median = r[0];
  *p99 = r[1];
  return 0;
}

const tpool_peer tpool_peer_python = {
    "python_threadpoolexecutor",
    sizeof BENCH_PYTHON > 1 ? NULL : "python3 not found at configure time",
    python_throughput,
    python_latency,
    100000, /* Python runs about 40,000 tasks a second: a tenth of the tasks, same rate unit */
};
