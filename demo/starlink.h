/* fanout-demo starlink internals: the satellite rows, fetching them, and printing them. */
#ifndef FO_DEMO_STARLINK_H
#define FO_DEMO_STARLINK_H

#include <stddef.h>

#include "fanout/fetch.h"
#include "fanout/sat.h"

/* Output formats, in the order of the --format choices. */
enum starlink_format { STARLINK_TABLE, STARLINK_CSV, STARLINK_JSON };

/* The command line, once read. */
typedef struct starlink_opts {
  const char *api; /* base URL, e.g. https://api.spacexdata.com/v4 */
  unsigned long count;
  unsigned long threads;
  int sequential, compare, from_list;
  int format; /* enum starlink_format */
  double timeout_s;
  unsigned long retries;
  double rate;        /* requests per second; 0: no cap */
  const char *cacert; /* NULL: libcurl's default bundle */
} starlink_opts;

/* One satellite: the lesson's three fields, as text exactly as the API sent them (unescaped),
 * or why it could not be had. */
typedef struct starlink_row {
  char id[FO_SAT_ID_LEN + 1];
  unsigned has; /* FO_SAT_HAS_OBJECT_NAME, _LAUNCH_DATE, _DECAY_DATE: set unless null */
  char object_name[FO_SAT_NAME_SIZE];
  char launch_date[FO_SAT_DATE_SIZE];
  char decay_date[FO_SAT_DATE_SIZE];
  int failed;
  char reason[256]; /* set when failed */
} starlink_row;

/* The fetcher's options for the command line's, with the given number of threads. */
void starlink_fetch_opts(const starlink_opts *o, unsigned threads, fo_fetch_opts *out);

/* A fetcher for the options, with the given number of threads. 0 or a fanout error. */
int starlink_fetcher(const starlink_opts *o, unsigned threads, fo_fetcher **f);

/* GET {api}/starlink and turn the first o->count entries into rows (ids only, or every field
 * with --from-list). *rows is allocated (free()), *n set. Reports any failure on stderr.
 * @return 0, or -1 when the list could not be fetched or parsed. */
int starlink_list(fo_fetcher *f, const starlink_opts *o, starlink_row **rows, size_t *n);

/* Fetch each row's document on the fetcher's threads and fill the row, or mark it failed.
 * Draws a progress bar on stderr when progress is set. Returns the number of failed rows, or a
 * negative fanout error when nothing could be fetched. */
int starlink_fetch(fo_fetcher *f, const starlink_opts *o, starlink_row *rows, size_t n,
                   int progress);

/* Print the rows that did not fail, in order, on stdout in the chosen format. 0 or -EIO. */
int starlink_print(const starlink_row *rows, size_t n, int format);

#endif /* FO_DEMO_STARLINK_H */
