/* The process pool against Python's multiprocessing.Pool.map on the same machine, in one run
 * (tests/bench/peer_ppool.py is the peer):
 *   1. the seed's own case: 10,000 items that each wait 5 ms, on 12 processes, pool start and
 *      shutdown included as the seed times them; also against the ideal, 10,000 x 5 ms / 12;
 *   2. 1,000,000 tiny items (x*x on 64-bit integers) on 2 processes, the pool already started:
 *      items per second against Python, and the map call against a plain loop in one process
 *      calling the same function through a pointer over the same arrays;
 *   3. a CPU-bound item of about 0.2 ms (each side calibrates its own loop to that): the speed-up
 *      from 1 to 2 processes, and items per second on 2.
 * Timed sections that are short are repeated and the best run counts: the machine is shared.
 * Cases 1 and 3 also run the same work on plain forked processes splitting the items evenly
 * (vs=raw_fork): what the machine itself delivers at that moment, with no pool at all, so a gap
 * to the ideal can be told apart from a cost of the pool. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "fanout/ppool.h"
#include "helpers/ppmap.h"

#define SLEEP_ITEMS 10000
#define SLEEP_PROCS 12
#define SLEEP_NS 5000000L
#define TINY_ITEMS 1000000
#define TINY_ROUNDS 15
#define CPU_ITEMS 2000
#define CPU_ROUNDS 5
#define CPU_ITEM_S 0.0002

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_ppool: %s failed: %s\n", what, fo_strerror(rc));
  exit(1);
}

static int wait5(const void *ctx, size_t index, const void *in, void *out) {
  (void)ctx;
  (void)index;
  (void)in;
  (void)out;
  struct timespec ts = {0, SLEEP_NS};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
  return 0;
}

static int square(const void *ctx, size_t index, const void *in, void *out) {
  (void)ctx;
  (void)index;
  int64_t x = *(const int64_t *)in;
  *(int64_t *)out = x * x;
  return 0;
}

/* xorshift rounds: work the compiler cannot fold, in registers only. */
static int spin(const void *ctx, size_t index, const void *in, void *out) {
  (void)index;
  uint64_t n = *(const uint64_t *)ctx, x = *(const uint64_t *)in | 1;
  for (uint64_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  *(uint64_t *)out = x;
  return 0;
}

static fo_ppool *start(unsigned workers) {
  fo_ppool *p;
  fo_ppool_opts o = {workers, 0};
  int rc = fo_ppool_create(&p, &o);
  if (rc != 0)
    die("fo_ppool_create", rc);
  return p;
}

static double map_once(fo_ppool *p, fo_ppool_fn fn, const void *ctx, size_t ctx_size,
                       const void *in, size_t in_size, void *out, size_t out_size, size_t n) {
  double t = bench_now();
  int rc = tp_map(p, fn, ctx, ctx_size, in, in_size, out, out_size, n, NULL, NULL);
  t = bench_now() - t;
  if (rc != 0)
    die("fo_ppool_map", rc);
  return t;
}

/* Runs the peer for one case and reads "name value" lines into up to three values. */
static int peer(const char *args, const char *const names[], double *values, int count) {
  char cmd[1024], line[256], name[64];
  if (BENCH_PYTHON[0] == '\0')
    return -1;
  snprintf(cmd, sizeof cmd, "'%s' '%s/peer_ppool.py' %s", BENCH_PYTHON, BENCH_PEER_DIR, args);
  FILE *f = popen(cmd, "r");
  if (f == NULL)
    return -1;
  int got = 0;
  double v;
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "%63s %lf", name, &v) != 2)
      continue;
    for (int i = 0; i < count; i++) {
      if (strcmp(name, names[i]) == 0) {
        values[i] = v;
        got++;
      }
    }
  }
  return pclose(f) == 0 && got == count ? 0 : -1;
}

/* The same items on procs plain forked processes, each running its even share of
 * fn(ctx, i, in[i], out[i]) in a loop: no pool, no queues. Returns the wall time. */
static double raw_fork(unsigned procs, fo_ppool_fn fn, const void *ctx, const void *in,
                       size_t in_size, void *out, size_t out_size, size_t n) {
  double t = bench_now();
  for (unsigned k = 0; k < procs; k++) {
    pid_t pid = fork();
    if (pid < 0)
      die("fork", -errno);
    if (pid == 0) {
      for (size_t i = n * k / procs; i < n * (k + 1) / procs; i++)
        fn(ctx, i, (const char *)in + i * in_size, (char *)out + i * out_size);
      _exit(0);
    }
  }
  for (unsigned k = 0; k < procs; k++) {
    int st;
    if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
      die("raw child", -ECHILD);
  }
  return bench_now() - t;
}

/* 1. The seed's case, start to shutdown. */
static void seed_case(void) {
  char *dummy = calloc(SLEEP_ITEMS, 1);
  double t = bench_now();
  fo_ppool *p = start(SLEEP_PROCS);
  map_once(p, wait5, NULL, 0, dummy, 1, NULL, 0, SLEEP_ITEMS);
  fo_ppool_destroy(p);
  double ours = bench_now() - t;
  double raw = raw_fork(SLEEP_PROCS, wait5, NULL, dummy, 1, NULL, 0, SLEEP_ITEMS);
  free(dummy);
  double ideal = SLEEP_ITEMS * (SLEEP_NS * 1e-9) / SLEEP_PROCS;
  const char *names[] = {"seconds"};
  double theirs;
  char args[64];
  snprintf(args, sizeof args, "sleep %d %d", SLEEP_ITEMS, SLEEP_PROCS);
  if (peer(args, names, &theirs, 1) == 0)
    bench_line("ppool_map_10k_sleep5ms_12p", "python_pool_map", ours, theirs, "s", 1);
  else
    fprintf(stderr, "bench_ppool: python3 peer unavailable for the sleep case\n");
  bench_line("ppool_map_10k_sleep5ms_12p", "ideal", ours, ideal, "s", 1);
  bench_line("ppool_map_10k_sleep5ms_12p", "raw_fork", ours, raw, "s", 1);
}

/* 2. A million tiny items. */
static void tiny_case(void) {
  int64_t *in = malloc(TINY_ITEMS * sizeof *in), *out = malloc(TINY_ITEMS * sizeof *out);
  if (in == NULL || out == NULL)
    die("malloc", -ENOMEM);
  for (int64_t i = 0; i < TINY_ITEMS; i++)
    in[i] = i - TINY_ITEMS / 2;
  memset(out, 0, TINY_ITEMS * sizeof *out);
  fo_ppool *p = start(2);
  /* The loop calls through a pointer the compiler cannot see through, as the pool's workers do. */
  fo_ppool_fn volatile fn_slot = square;
  double best_map = 1e9, best_loop = 1e9;
  for (int r = 0; r < TINY_ROUNDS; r++) {
    double t = map_once(p, square, NULL, 0, in, 8, out, 8, TINY_ITEMS);
    best_map = t < best_map ? t : best_map;
    fo_ppool_fn fn = fn_slot;
    t = bench_now();
    for (size_t i = 0; i < TINY_ITEMS; i++)
      fn(NULL, i, &in[i], &out[i]);
    t = bench_now() - t;
    best_loop = t < best_loop ? t : best_loop;
  }
  fo_ppool_destroy(p);
  for (size_t i = 0; i < TINY_ITEMS; i++) {
    if (out[i] != in[i] * in[i]) {
      fprintf(stderr, "bench_ppool: wrong output at %zu\n", i);
      exit(1);
    }
  }
  free(in);
  free(out);
  const char *names[] = {"items_per_s"};
  double theirs;
  char args[64];
  snprintf(args, sizeof args, "square %d 2", TINY_ITEMS);
  if (peer(args, names, &theirs, 1) == 0)
    bench_line("ppool_map_1M_square_2p", "python_pool_map", TINY_ITEMS / best_map, theirs,
               "items/s", 0);
  else
    fprintf(stderr, "bench_ppool: python3 peer unavailable for the tiny case\n");
  bench_line("ppool_map_1M_square_2p", "single_loop", best_map * 1e3, best_loop * 1e3, "ms", 1);
}

/* Where calibration results go, so the compiler keeps the work. */
static volatile uint64_t sink;

/* Rounds of spin that take about CPU_ITEM_S in this process. */
static uint64_t calibrate(void) {
  uint64_t n = 1000, x = 1, y;
  for (;;) {
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
      double t = bench_now();
      spin(&n, 0, &x, &y);
      sink = y;
      t = bench_now() - t;
      best = t < best ? t : best;
    }
    if (best > 0.002 || n > ((uint64_t)1 << 40))
      return (uint64_t)((double)n * CPU_ITEM_S / best) + 1;
    n *= 2;
  }
}

/* 3. CPU-bound items: 1 process against 2. */
static void cpu_case(void) {
  uint64_t rounds = calibrate();
  uint64_t *in = malloc(CPU_ITEMS * sizeof *in), *out = malloc(CPU_ITEMS * sizeof *out);
  if (in == NULL || out == NULL)
    die("malloc", -ENOMEM);
  for (size_t i = 0; i < CPU_ITEMS; i++)
    in[i] = i * 0x9e3779b97f4a7c15ull;
  double best[3] = {0, 1e9, 1e9}, best_raw[3] = {0, 1e9, 1e9};
  fo_ppool *pools[3] = {NULL, start(1), start(2)};
  for (int r = 0; r < CPU_ROUNDS; r++) {
    for (int w = 1; w <= 2; w++) { /* alternate, so load from elsewhere hits all alike */
      double t = map_once(pools[w], spin, &rounds, sizeof rounds, in, 8, out, 8, CPU_ITEMS);
      best[w] = t < best[w] ? t : best[w];
      t = raw_fork((unsigned)w, spin, &rounds, in, 8, out, 8, CPU_ITEMS);
      best_raw[w] = t < best_raw[w] ? t : best_raw[w];
    }
  }
  fo_ppool_destroy(pools[1]);
  fo_ppool_destroy(pools[2]);
  free(in);
  free(out);
  double speedup = best[1] / best[2];
  const char *names[] = {"t1", "t2", "items_per_s_2p"};
  double theirs[3];
  char args[64];
  snprintf(args, sizeof args, "cpu %d", CPU_ITEMS);
  if (peer(args, names, theirs, 3) == 0) {
    bench_line("ppool_cpu200us_speedup_1to2", "python_pool_map", speedup, theirs[0] / theirs[1],
               "x", 0);
    bench_line("ppool_cpu200us_2p", "python_pool_map", CPU_ITEMS / best[2], theirs[2], "items/s",
               0);
  } else {
    fprintf(stderr, "bench_ppool: python3 peer unavailable for the cpu case\n");
  }
  bench_line("ppool_cpu200us_speedup_1to2", "ideal", speedup, 2.0, "x", 0);
  bench_line("ppool_cpu200us_speedup_1to2", "raw_fork", speedup, best_raw[1] / best_raw[2], "x", 0);
}

int main(void) {
  alarm(600); /* a wedged peer ends the run instead of hanging it */
  seed_case();
  tiny_case();
  cpu_case();
  return 0;
}
