/* fanout-demo get's own parts, shared by its files: get.c (the command line and the checks),
 * get_run.c (the run, in windows), get_out.c (where bodies go when no file is named), get_urls.c
 * (the URL list). */
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
 * past GET_URLS_TEXT_MAX is a usage error naming the line. Each URL keeps its text and about 60
 * bytes; requests and results (about 550 bytes a URL) are held for two windows of the list at a
 * time (get_run.c), or for the whole list when its bodies go to stdout: at most about 80 MiB. */
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

/* ------------------------------------------------------------------ the run (get_run.c)
 * A checked list of n URLs on fetcher f, in windows of `window` requests, two at a time (the
 * next submitted before the one before it is waited for). fill() makes request i; missing(i),
 * when given, names why URL i failed before any request (NULL: it did not); window_start()
 * sees a window's results before its submit, window_end() after its wait (rc: the wait's
 * return). Every URL ends up counted in ok (bytes) or failed with an error line on stderr, in
 * URL order; a window after a SIGINT or SIGTERM (demo_cancel_seen) or the deadline is not
 * submitted. */
typedef struct {
  fo_fetcher *f;
  const char *const *urls;
  size_t n, window;
  int bar; /* a progress line is drawn: cleared before error lines */
  void (*fill)(size_t i, fo_fetch_req *req, void *arg);
  const char *(*missing)(size_t i, void *arg);
  void (*window_start)(fo_fetch_result *res, void *arg);
  void (*window_end)(int rc, size_t base, fo_fetch_result *res, void *arg);
  fo_fetch_done_fn done; /* each job's done callback, with done_arg */
  void *done_arg, *arg;
  double deadline; /* demo_now() at which the run ends (--deadline), or 0 */
  int expired;     /* the deadline passed: running windows were cancelled */
  /* -- out */
  size_t failed;
  unsigned long long bytes;
  int negative; /* a wait returned an error */
} get_run;
/* 0, or -1 when out of memory (nothing ran). */
int get_run_list(get_run *r);

#endif /* FO_DEMO_GET_H */
