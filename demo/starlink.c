/* fanout-demo starlink: the lesson's Starlink calls, one after another or on a fetcher's
 * threads. The list comes first (one request), then one document per satellite; rows print in
 * list order whatever order the answers came in. */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "starlink.h"

/* The most satellites one run may ask for: the real list held about 6,000 in 2024, and rows are
 * kept in memory (about 400 bytes each). */
#define STARLINK_COUNT_MAX 100000

static const char help[] =
    "usage: fanout-demo starlink [--api URL] [--count N] [--threads N]\n"
    "                            [--sequential | --compare] [--from-list]\n"
    "                            [--format table|csv|json] [--timeout SEC]\n"
    "                            [--retries N] [--rate PER_SEC] [--cacert FILE]\n"
    "\n"
    "Fetch the Starlink list, then each of the first N satellites on many threads,\n"
    "and print id, OBJECT_NAME, LAUNCH_DATE and DECAY_DATE in list order.\n"
    "\n"
    "  --api URL         API base (default https://api.spacexdata.com/v4)\n"
    "  --count N         satellites to fetch (default 50)\n"
    "  --threads N       concurrent requests, 1..256 (default 50)\n"
    "  --sequential      one request at a time\n"
    "  --compare         sequential, then threaded: both wall times and the speed-up\n"
    "  --from-list       every field from the list alone (one request)\n"
    "  --format F        table (default), csv (RFC 4180) or json\n"
    "  --timeout SEC     per request (default 10)\n"
    "  --retries N       retries after a failed try, 0..20 (default 2)\n"
    "  --rate PER_SEC    at most this many requests per second (default: no cap)\n"
    "  --cacert FILE     trust the CAs in this PEM file for HTTPS\n"
    "\n"
    "Rows go to stdout, errors ('error: ID: REASON') and the summary to stderr.\n"
    "Exit status: 0 all fetched, 1 some failed, 2 usage, 3 no list.\n";

/* Read the command line into o; DEMO_OK, DEMO_USAGE (reported), or DEMO_HELP. */
static int parse_flags(int argc, char **argv, starlink_opts *o) {
  static const char *const formats[] = {"table", "csv", "json", NULL};
  const demo_flag table[] = {
      {"--sequential", DEMO_SET, &o->sequential, .set = 1},
      {"--compare", DEMO_SET, &o->compare, .set = 1},
      {"--from-list", DEMO_SET, &o->from_list, .set = 1},
      {"--api", DEMO_TEXT, &o->api},
      {"--count", DEMO_UINT, &o->count, .umin = 1, .umax = STARLINK_COUNT_MAX},
      /* the fetcher's check has the max */
      {"--threads", DEMO_UINT, &o->threads, .umin = 1, .umax = UINT_MAX},
      {"--format", DEMO_CHOICE, &o->format, .choices = formats},
      {"--timeout", DEMO_DOUBLE, &o->timeout_s, .dmin = 0.001, .dmax = FO_FETCH_MS_MAX / 1000.0},
      {"--retries", DEMO_UINT, &o->retries, .umin = 0, .umax = UINT_MAX},
      {"--rate", DEMO_DOUBLE, &o->rate, .dmin = 0.001, .dmax = DBL_MAX},
      {"--cacert", DEMO_TEXT, &o->cacert}};
  const demo_cli cli = {help, table, sizeof table / sizeof table[0], NULL, NULL};
  int status = demo_parse(argc, argv, &cli);
  if (status != DEMO_OK)
    return status;
  if (o->sequential && o->compare) {
    fputs("fanout-demo starlink: --sequential and --compare exclude each other\n", stderr);
    return DEMO_USAGE;
  }
  if (o->from_list && o->compare) {
    fputs("fanout-demo starlink: --from-list makes one request: nothing to --compare\n", stderr);
    return DEMO_USAGE;
  }
  /* The fetcher holds the ranges: ask it, and name the flag behind a field it refuses. */
  static const char *const flags[][2] = {{"threads", "--threads"},
                                         {"retries", "--retries"},
                                         {"rate", "--rate"},
                                         {"timeout_ms", "--timeout"},
                                         {"connect_timeout_ms", "--timeout"},
                                         {"ca_file", "--cacert"}};
  fo_fetch_opts fo;
  fo_opt_error why;
  starlink_fetch_opts(o, (unsigned)o->threads, &fo);
  if (fo_fetch_opts_check(&fo, &why) != 0) {
    const char *flag = why.field;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
      if (strcmp(flags[i][0], why.field) == 0)
        flag = flags[i][1];
    return demo_opt_refused("starlink", flag, &why);
  }
  return DEMO_OK;
}

/* One run over the rows on a fetcher of `threads` threads: fetch, report each failure, then the
 * summary. Returns the number of failed rows; *wall gets the seconds the fetching took. */
static size_t run(const starlink_opts *o, fo_fetcher *f, unsigned threads, const char *label,
                  starlink_row *rows, size_t n, double *wall) {
  double t0 = demo_now();
  int rc = starlink_fetch(f, o, rows, n, isatty(STDERR_FILENO));
  *wall = demo_now() - t0;
  if (rc < 0) {
    for (size_t i = 0; i < n; i++) {
      rows[i].failed = 1;
      snprintf(rows[i].reason, sizeof rows[i].reason, "not fetched: %s", fo_strerror(rc));
    }
  }
  size_t failed = 0;
  for (size_t i = 0; i < n; i++) {
    if (rows[i].failed) {
      failed++;
      fprintf(stderr, "error: %s: %s%s\n", rows[i].id, rows[i].reason,
              o->compare && threads == 1 ? " (sequential run)" : "");
    }
  }
  fprintf(stderr, "starlink: %s%zu satellites, %zu errors, %.3f s wall time, %u thread%s\n", label,
          n - failed, failed, *wall, threads, threads == 1 ? "" : "s");
  return failed;
}

static int starlink(const starlink_opts *o) {
  fo_fetcher *one = NULL, *many = NULL;
  starlink_row *rows = NULL, *seq_rows = NULL;
  size_t n = 0, failed = 0;
  double seq_wall = 0, wall = 0;
  int status = DEMO_OK;

  double t0 = demo_now();
  int rc = starlink_fetcher(o, 1, &one);
  if (rc != 0) {
    fprintf(stderr, "fanout-demo starlink: no fetcher: %s\n", fo_strerror(rc));
    return DEMO_SOURCE;
  }
  if (starlink_list(one, o, &rows, &n) != 0) {
    status = DEMO_SOURCE;
    goto out;
  }
  if (o->from_list) {
    fprintf(stderr, "starlink: %zu satellites, 0 errors, %.3f s wall time, 1 request\n", n,
            demo_now() - t0);
    goto print;
  }

  if (o->sequential || o->compare) {
    seq_rows = o->compare ? malloc((n ? n : 1) * sizeof *rows) : rows;
    if (!seq_rows) {
      fprintf(stderr, "fanout-demo starlink: %s\n", fo_strerror(-ENOMEM));
      status = DEMO_PARTIAL;
      goto out;
    }
    if (o->compare)
      memcpy(seq_rows, rows, n * sizeof *rows);
    failed += run(o, one, 1, o->compare ? "sequential: " : "", seq_rows, n, &seq_wall);
  }
  if (!o->sequential) {
    /* No more threads than satellites: the others would only wait. */
    unsigned threads = (unsigned)(o->threads < n ? o->threads : n ? n : 1);
    rc = starlink_fetcher(o, threads, &many);
    if (rc != 0) {
      fprintf(stderr, "fanout-demo starlink: no fetcher of %u threads: %s\n", threads,
              fo_strerror(rc));
      status = DEMO_PARTIAL;
      goto out;
    }
    failed += run(o, many, threads, o->compare ? "threaded:   " : "", rows, n, &wall);
  }
  if (o->compare)
    fprintf(stderr, "starlink: speed-up %.1fx (%.3f s sequential, %.3f s threaded)\n",
            wall > 0 ? seq_wall / wall : 0.0, seq_wall, wall);
  status = failed ? DEMO_PARTIAL : DEMO_OK;
print:
  if (starlink_print(rows, n, o->format) != 0) {
    fprintf(stderr, "fanout-demo starlink: writing the rows failed: %s\n", strerror(errno));
    status = status == DEMO_OK ? DEMO_PARTIAL : status;
  }
out:
  fo_fetcher_destroy(many);
  fo_fetcher_destroy(one);
  if (seq_rows != rows)
    free(seq_rows);
  free(rows);
  return status;
}

int demo_starlink(int argc, char **argv) {
  starlink_opts o = {
      .api = "https://api.spacexdata.com/v4",
      .count = 50,
      .threads = 50,
      .format = STARLINK_TABLE,
      .timeout_s = 10,
      .retries = 2,
  };
  int status = parse_flags(argc, argv, &o);
  if (status != DEMO_OK)
    return status == DEMO_HELP ? DEMO_OK : status;
  int rc = fo_fetch_global_init();
  if (rc != 0) {
    fprintf(stderr, "fanout-demo starlink: libcurl would not start: %s\n", fo_strerror(rc));
    return DEMO_SOURCE;
  }
  status = starlink(&o);
  fo_fetch_global_cleanup();
  return status;
}
