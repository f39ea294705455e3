/* fanout-demo map: the lesson's Pool.map of squares. The items go to a pool of worker processes,
 * come back in order, and are summed into a checksum that anyone can recompute:
 * 0^2 + 1^2 + ... + (count-1)^2 = (count-1) * count * (2*count-1) / 6. */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"
#include "fanout/fanout.h"
#include "fanout/ppool.h"

/* 10^6 items: the checksum stays below 3.4 * 10^17, well inside 64 bits (which would overflow
 * past about 3.8 million), and the array takes 8 MB. */
#define MAP_COUNT_MAX 1000000ul
#define MAP_WORK_MS_MAX 10000ul
#define MAP_ATTEMPTS_MAX 100ul
/* Runs of failed items the report can list; more are counted but not listed. */
#define MAP_FAILURES_LISTED 16

static const char help[] =
    "usage: fanout-demo map [--procs N] [--count N] [--work-ms MS] [--attempts N]\n"
    "                       [--fail-fast]\n"
    "\n"
    "Square the numbers 0 .. N-1 on a pool of worker processes (Pool.map), as the\n"
    "lesson does, and sum the squares into a checksum.\n"
    "\n"
    "  --procs N     worker processes, 1 to 256 (default: the CPUs this process may\n"
    "                use, as `fanout-demo cpus` prints)\n"
    "  --count N     items, 0 to 1000000 (default 10000)\n"
    "  --work-ms MS  each item also sleeps MS milliseconds, 0 to 10000 (default 0),\n"
    "                to stand for real work: compare --procs 1 with more\n"
    "  --attempts N  times an item is started when its worker dies, 1 to 100\n"
    "                (default 3)\n"
    "  --fail-fast   stop at the first item that fails; the rest are not run\n"
    "\n"
    "output (stdout):\n"
    "  procs N       worker processes used\n"
    "  checksum S    sum of the squares produced; (N-1)*N*(2N-1)/6 when none failed\n"
    "  failed F      items that could not be produced (their worker died, or\n"
    "                they were not run after a failure with --fail-fast)\n"
    "  wall T s      seconds from starting the pool to the last result\n"
    "\n"
    "exit status: 0 all items produced, 1 some failed (listed on stderr),\n"
    "2 bad command line\n";

/* What every item needs besides its number. The pool copies it into shared memory for each map,
 * so the workers see it even though they were forked before it was filled in. */
typedef struct map_ctx {
  unsigned work_ms;
} map_ctx;

/* Runs in a worker process, once per item. The pool does not promise any alignment for the
 * context, the input or the output, so they are copied rather than cast. */
static int square(const void *ctx, size_t index, const void *in, void *out) {
  (void)index; /* the input holds the number already */
  map_ctx c;
  uint64_t x;
  memcpy(&c, ctx, sizeof c);
  memcpy(&x, in, sizeof x);
  if (c.work_ms > 0) {
    struct timespec t = {(time_t)(c.work_ms / 1000), (long)(c.work_ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
  }
  uint64_t y = x * x;
  memcpy(out, &y, sizeof y);
  return 0;
}

static const char *cause_name(int cause) {
  switch (cause) {
  case FO_PPOOL_SIGNAL:
    return "worker killed by signal";
  case FO_PPOOL_EXIT:
    return "worker exited with status";
  case FO_PPOOL_TIMEOUT:
    return "timed out";
  case FO_PPOOL_ERROR:
    return "failed with code";
  default:
    return "not run";
  }
}

/* Lists the failed items on stderr and zeroes their outputs, whose contents the pool leaves
 * unspecified, so the checksum counts only what was produced. */
static void report_failures(const fo_ppool_report *r, uint64_t *out) {
  size_t listed = 0;
  for (size_t i = 0; i < r->nfailures; i++) {
    const fo_ppool_failure *f = &r->failures[i];
    if (f->count == 1)
      fprintf(stderr, "error: item %zu: %s", f->first, cause_name(f->cause));
    else
      fprintf(stderr, "error: items %zu-%zu: %s", f->first, f->first + f->count - 1,
              cause_name(f->cause));
    if (f->cause == FO_PPOOL_SIGNAL || f->cause == FO_PPOOL_EXIT)
      fprintf(stderr, " %d", f->code);
    else if (f->cause == FO_PPOOL_ERROR)
      fprintf(stderr, " %d (%s)", f->code, fo_strerror(f->code));
    fprintf(stderr, " (%u attempts)\n", f->attempts);
    memset(out + f->first, 0, f->count * sizeof *out);
    listed += f->count;
  }
  if (listed < r->failed)
    fprintf(stderr,
            "error: %zu more failed items not listed; the checksum includes whatever they left\n",
            r->failed - listed);
}

int demo_map(int argc, char **argv) {
  /* One worker per usable CPU, as the lesson's Pool(processes=mp.cpu_count()), within what a
   * pool accepts. */
  unsigned long procs = (unsigned long)fo_cpu_count(), count = 10000, work_ms = 0;
  unsigned long attempts = FO_PPOOL_ATTEMPTS;
  int fail_fast = 0;
  if (procs > FO_PPOOL_WORKERS_MAX)
    procs = FO_PPOOL_WORKERS_MAX;
  const demo_flag table[] = {
      {"--procs", DEMO_UINT, &procs, .umin = 1, .umax = FO_PPOOL_WORKERS_MAX},
      {"--count", DEMO_UINT, &count, .umin = 0, .umax = MAP_COUNT_MAX},
      {"--work-ms", DEMO_UINT, &work_ms, .umin = 0, .umax = MAP_WORK_MS_MAX},
      {"--attempts", DEMO_UINT, &attempts, .umin = 1, .umax = MAP_ATTEMPTS_MAX},
      {"--fail-fast", DEMO_SET, &fail_fast, .set = 1}};
  const demo_cli cli = {help, table, sizeof table / sizeof table[0], NULL, NULL};
  int status = demo_parse(argc, argv, &cli);
  if (status != DEMO_OK)
    return status == DEMO_HELP ? DEMO_OK : status;
  unsigned flags = fail_fast ? FO_PPOOL_FAIL_FAST : 0;

  /* One array, squared in place: the pool allows it when inputs and outputs have one size. */
  uint64_t *items = malloc((count > 0 ? count : 1) * sizeof *items);
  if (items == NULL) {
    fprintf(stderr, "fanout-demo map: out of memory for %lu items\n", count);
    return DEMO_PARTIAL;
  }
  for (size_t i = 0; i < count; i++)
    items[i] = i;

  double t0 = demo_now();
  fo_ppool *pool;
  fo_ppool_opts opts = {.workers = (unsigned)procs};
  fo_opt_error why;
  int rc = fo_ppool_opts_check(&opts, &why);
  if (rc != 0) {
    fprintf(stderr, "fanout-demo map: pool option %s is %lld, accepted %lld to %lld\n", why.field,
            why.value, why.min, why.max);
    free(items);
    return DEMO_PARTIAL;
  }
  rc = fo_ppool_create(&pool, &opts);
  if (rc != 0) {
    fprintf(stderr, "fanout-demo map: cannot start %lu worker processes: %s\n", procs,
            fo_strerror(rc));
    free(items);
    return DEMO_PARTIAL;
  }
  map_ctx ctx = {.work_ms = (unsigned)work_ms};
  fo_ppool_failure failures[MAP_FAILURES_LISTED];
  fo_ppool_report report = {.failures = failures, .cap = MAP_FAILURES_LISTED};
  fo_ppool_job job;
  fo_ppool_job_init(&job);
  job.fn = square;
  job.ctx = &ctx;
  job.ctx_size = sizeof ctx;
  job.in = items;
  job.in_size = sizeof *items;
  job.out = items;
  job.out_size = sizeof *items;
  job.count = count;
  job.max_attempts = (unsigned)attempts;
  job.flags = flags;
  rc = fo_ppool_map(pool, &job, &report);
  double wall = demo_now() - t0;
  fo_ppool_destroy(pool);
  if (rc != 0 && rc != FO_EPARTIAL)
    fprintf(stderr, "fanout-demo map: %s\n", fo_strerror(rc));
  report_failures(&report, items);

  uint64_t checksum = 0;
  for (size_t i = 0; i < count; i++)
    checksum += items[i];
  free(items);
  printf("procs %lu\nchecksum %" PRIu64 "\nfailed %zu\nwall %.3f s\n", procs, checksum,
         report.failed, wall);
  return rc == 0 ? DEMO_OK : DEMO_PARTIAL;
}
