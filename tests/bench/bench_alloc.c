/* What the allocator hook costs: fanout's internal allocation (through the hook, default
 * allocator) against calling malloc/free directly, on the same sizes in the same run. Rounds
 * alternate so drift on a shared machine hits both sides alike; the best round of each counts. */
#include "config.h"

#include <stdlib.h>

#include "base/base_internal.h"
#include "bench.h"

#define N 2000000
#define ROUNDS 7

static void *volatile sink;

static double run_hook(void) {
  double t = bench_now();
  for (int i = 0; i < N; i++) {
    void *p = fo__malloc((size_t)(16 + (i & 255)));
    sink = p;
    fo__free(p);
  }
  return (bench_now() - t) * 1e9 / N;
}

static double run_libc(void) {
  double t = bench_now();
  for (int i = 0; i < N; i++) {
    void *p = malloc((size_t)(16 + (i & 255)));
    sink = p;
    free(p);
  }
  return (bench_now() - t) * 1e9 / N;
}

int main(void) {
  double ours = 1e30, theirs = 1e30;
  for (int r = 0; r < ROUNDS; r++) {
    double a = run_hook(), b = run_libc();
    ours = a < ours ? a : ours;
    theirs = b < theirs ? b : theirs;
  }
  bench_line("alloc_hook_malloc_free", "libc_malloc", ours, theirs, "ns/op", 1);
  return 0;
}
