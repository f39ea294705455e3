/* The process pool: convert an array of structs on every usable CPU, with one item that fails,
 * and read the report that says which one and why.
 *
 * Python's Pool.map raises on the first exception and loses the other results. fo_ppool_map
 * keeps going: every item that could be produced is, in input order, and the report lists the
 * items that could not, each with a cause (the function's error, a killed worker, a timeout).
 *
 *   cc ppool_report.c $(pkg-config --static --cflags --libs fanout)
 */
#include <stdio.h>
#include <string.h>
#include <fanout/ppool.h>

#define ITEMS 12
#define BAD 7 /* the reading nobody can convert */

struct reading {
  int sensor;
  double celsius;
};

struct converted {
  int sensor;
  double fahrenheit;
};

/* Runs in a worker process. Items are not aligned in the shared arena: copy, never cast. */
static int convert(const void *ctx, size_t index, const void *in, void *out)
{
  (void)ctx;
  (void)index;
  struct reading r;
  struct converted c;
  memcpy(&r, in, sizeof r);
  if (r.celsius < -273.15)
    return -ERANGE; /* below absolute zero: this item fails, the map goes on */
  c.sensor = r.sensor;
  c.fahrenheit = r.celsius * 9 / 5 + 32;
  memcpy(out, &c, sizeof c);
  return 0;
}

int main(void)
{
  struct reading in[ITEMS];
  struct converted out[ITEMS];
  for (int i = 0; i < ITEMS; i++)
    in[i] = (struct reading){.sensor = 100 + i, .celsius = i == BAD ? -300.0 : i * 10.0};

  fo_ppool *pool;
  fo_ppool_opts opts = {.workers = (unsigned)fo_cpu_count()}; /* 0 would mean the same */
  int rc = fo_ppool_create(&pool, &opts);
  if (rc != 0) {
    fprintf(stderr, "fo_ppool_create: %s\n", fo_strerror(rc));
    return 1;
  }

  fo_ppool_job job;
  fo_ppool_job_init(&job);
  job.fn = convert;
  job.in = in;
  job.in_size = sizeof in[0];
  job.out = out;
  job.out_size = sizeof out[0];
  job.count = ITEMS;

  fo_ppool_failure failures[4];
  fo_ppool_report report = {.failures = failures, .cap = 4};
  rc = fo_ppool_map(pool, &job, &report);
  fo_ppool_destroy(pool);

  printf("map: %s; %zu item(s) failed\n", fo_strerror(rc), report.failed);
  for (size_t i = 0; i < report.nfailures; i++)
    printf("  item %zu: cause %d, code %s (%s)\n", failures[i].first, failures[i].cause,
           fo_errname(failures[i].code), fo_strerror(failures[i].code));

  int ok = rc == FO_EPARTIAL && report.failed == 1 && report.nfailures == 1 &&
           failures[0].first == BAD && failures[0].cause == FO_PPOOL_ERROR &&
           failures[0].code == -ERANGE;
  for (int i = 0; i < ITEMS; i++)
    if (i != BAD)
      ok &= out[i].sensor == 100 + i && out[i].fahrenheit == i * 10.0 * 9 / 5 + 32;
  return ok ? 0 : 1;
}
