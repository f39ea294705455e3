/* fanout-demo get's own parts, shared by its files: get.c (the command line and the run),
 * get_out.c (where bodies go when no file is named), get_urls.c (the URL list). */
#ifndef FO_DEMO_GET_H
#define FO_DEMO_GET_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>

#include "fanout/fetch.h"

/* ------------------------------------------------------------------ the URL list (get_urls.c)
 * The run's URLs: those of the command line, then those of each --urls-file in turn. The list is
 * read whole before the run (results print in URL order and the summary counts them all), so its
 * memory has a bound: a line over GET_URL_LINE_MAX bytes, a URL past GET_URLS_MAX or URL text
 * past GET_URLS_TEXT_MAX is a usage error naming the line. With the per-URL request, result and
 * progress records (about 600 bytes each), a run's list takes at most about 80 MiB. */
#ifndef GET_URL_LINE_MAX
#define GET_URL_LINE_MAX 8192 /* bytes of one URL; libcurl's own URL bound is 8 MB */
#endif
#ifndef GET_URLS_MAX
#define GET_URLS_MAX 100000 /* URLs in one run, the command line's and the files' together */
#endif
#ifndef GET_URLS_TEXT_MAX
#define GET_URLS_TEXT_MAX (16u << 20) /* bytes of URL text in one run */
#endif

typedef struct {
  char **v; /* n copies, each malloc'd */
  size_t n, cap;
  size_t text; /* bytes of text held */
} get_urls;

/* Copy one URL of the command line onto the list: DEMO_OK, DEMO_USAGE (past a bound, said on
 * stderr) or DEMO_PARTIAL (out of memory, said). */
int get_urls_add(get_urls *u, const char *url);
/* Append the URLs of a file ("-": standard input), one a line: a line's surrounding spaces and
 * its CR before the line feed are dropped; empty lines and lines whose first other byte is '#'
 * are skipped; a control byte, a line over GET_URL_LINE_MAX or a bound passed is a usage error
 * that names the file and the line. DEMO_OK, DEMO_USAGE or DEMO_PARTIAL (out of memory). */
int get_urls_read(get_urls *u, const char *path);
/* Free every copy and the array; the list is empty again. */
void get_urls_free(get_urls *u);

/* ------------------------------------------------------------------ bodies (get_out.c) */
/* A body streamed to stdout (one URL, nothing to check first). */
int get_to_stdout(const void *data, size_t len, void *arg);
/* --discard: every piece of the body dropped as it arrives; the fetcher still counts it in the
 * result's bytes and digests it for --sha256. */
int get_discard(const void *data, size_t len, void *arg);

/* Bodies held in memory go to stdout in URL order as soon as every URL before them is done, and
 * are freed then: a long list never holds more than the bodies that wait for a slow one. Only a
 * success's body is written, so a body checked with --sha256 reaches stdout verified or not at
 * all. get_print_in_order is the fetcher's done callback, arg the get_in_order. */
typedef struct {
  pthread_mutex_t mu;
  fo_fetch_result *res;
  char *done;
  size_t next, n;
  int werr; /* errno of a failed write to stdout */
} get_in_order;
void get_print_in_order(size_t index, const fo_fetch_result *result, void *arg);

/* --sha256 to stdout without --max-bytes: the body waits in a file of a private directory
 * (mkdtemp, mode 0700) and is copied out once verified. */
typedef struct {
  char dir[PATH_MAX], file[PATH_MAX + 8];
} get_held_file;
/* 0 or a negative errno (no directory could be made). */
int get_held_open(get_held_file *h);
/* Copy the verified file to stdout; 0 or an errno. */
int get_held_copy(const get_held_file *h);
/* Remove the file and its directory; nothing when none was opened. */
void get_held_close(get_held_file *h);

#endif /* FO_DEMO_GET_H */
