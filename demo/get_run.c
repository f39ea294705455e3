/* fanout-demo get: the run of a checked list. The list goes to the fetcher in windows of
 * requests, each a job (fo_fetch_submit), the next submitted before the one before it is waited
 * for: a worker that runs out of one window's items takes the next's as soon as its transfers
 * end, so the transfers in flight hardly dip between windows. Requests and results are held for
 * two windows, not for the whole list: what a run holds grows with --parallel, not with the
 * length of --urls-file (a result and a request are about 550 bytes: 10,000 URLs would hold
 * 5.4 MiB, two windows of 2,048 hold 2.2 MiB). Each window is accounted for when it ends, in URL
 * order: an error line for each failure, then its results are freed. The fetcher's deadline runs
 * from each job's submit, so with --deadline the run keeps its own (get_run.deadline): past it,
 * the running windows are cancelled and no other starts. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "get.h"

typedef struct {
  fo_fetch_job *job; /* NULL: no job (not submitted, or the submit failed: results say why) */
  size_t base, n;    /* the window's URLs, list[base .. base + n); n 0: the slot is free */
  int rc;            /* a failed submit's error */
} window;

/* Wait for a window's job; past the run's deadline, cancel it and the other window's. */
static int wait_for(get_run *r, window *w, window *other) {
  if (w->job == NULL)
    return w->rc;
  while (r->deadline > 0 && !r->expired) {
    double left = r->deadline - demo_now();
    int rc = fo_fetch_job_wait(w->job, left > 0 ? (int)(left * 1000.0) + 1 : 0);
    if (rc != -ETIMEDOUT && rc != -EAGAIN)
      return rc;
    if (demo_now() >= r->deadline) {
      r->expired = 1;
      fo_fetch_job_cancel(w->job, FO_FETCH_JOB_ALL);
      if (other->job != NULL)
        fo_fetch_job_cancel(other->job, FO_FETCH_JOB_ALL);
    }
  }
  return fo_fetch_job_wait(w->job, FO_FOREVER);
}

/* Wait for a window, write its error lines, count it in, free it. */
static void account(get_run *r, window *w, window *other, fo_fetch_result *res) {
  int rc = wait_for(r, w, other);
  if (rc < 0)
    r->negative = 1;
  if (r->bar)
    fputs("\r\033[K", stderr);
  if (r->window_end != NULL)
    r->window_end(rc, w->base, res, r->arg);
  for (size_t k = 0; k < w->n; k++) {
    size_t i = w->base + k;
    const char *missing = r->missing != NULL ? r->missing(i, r->arg) : NULL;
    if (res[k].err != 0 || missing != NULL) {
      r->failed++;
      fputs("error: ", stderr);
      demo_put_url(stderr, r->urls[i]);
      fputs(": ", stderr);
      /* a window after the first two began later than the run: the library's deadline, from
       * its submit, would come late, so the run's own ended it (a cancel) */
      const char *why = missing != NULL                                  ? missing
                        : r->expired && res[k].err == -ECANCELED && !demo_cancel_seen()
                            ? "the run's deadline (--deadline) passed"
                            : res[k].message;
      demo_put_text(stderr, why);
      fputc('\n', stderr);
      continue;
    }
    r->bytes += res[k].bytes;
    if (res[k].skipped) {
      fputs("skipped: ", stderr);
      demo_put_url(stderr, r->urls[i]);
      fputs(": the output already holds the verified body\n", stderr);
    }
  }
  fo_fetch_job_free(w->job);
  fo_fetch_results_free(res, w->n);
  *w = (window){0};
}

int get_run_list(get_run *r) {
  /* one window when it holds the whole list: the second slot is then never used */
  size_t cap = r->window < r->n ? r->window : r->n;
  size_t slots = (cap < r->n ? 2 : 1) * (cap ? cap : 1);
  fo_fetch_req *reqs = calloc(slots, sizeof *reqs);
  fo_fetch_result *res = calloc(slots, sizeof *res);
  if (reqs == NULL || res == NULL) {
    free(reqs), free(res);
    return -1;
  }
  window ws[2] = {{0}, {0}};
  size_t next = 0;
  for (int cur = 0;; cur ^= 1) {
    window *w = &ws[cur], *before = &ws[cur ^ 1];
    fo_fetch_req *q = reqs + (size_t)cur * cap;
    fo_fetch_result *s = res + (size_t)cur * cap;
    /* after a SIGINT or SIGTERM no window starts: fo_fetcher_cancel() stops the calls that began
     * before it, not those after; the URLs left count as failed below */
    if (next < r->n && !demo_cancel_seen() && !r->expired) {
      w->base = next;
      w->n = r->n - next < cap ? r->n - next : cap;
      for (size_t k = 0; k < w->n; k++)
        r->fill(next + k, &q[k], r->arg);
      if (r->window_start != NULL)
        r->window_start(s, r->arg);
      w->rc = fo_fetch_submit(r->f, q, w->n, s, r->done, r->done_arg, &w->job);
      /* a signal between the check and the submit: this job began after the cancel */
      if (w->job != NULL && demo_cancel_seen())
        fo_fetch_job_cancel(w->job, FO_FETCH_JOB_ALL);
      next += w->n;
    }
    if (before->n > 0)
      account(r, before, w, res + (size_t)(cur ^ 1) * cap);
    else if (w->n == 0)
      break;
  }
  /* URLs never submitted (a signal or the deadline ended the run first): a line each, in order */
  for (size_t i = next; i < r->n; i++) {
    r->failed++;
    fputs("error: ", stderr);
    demo_put_url(stderr, r->urls[i]);
    fputs(demo_cancel_seen() ? ": cancelled before it started\n"
                             : ": the run's deadline (--deadline) passed before it started\n",
          stderr);
  }
  free(reqs), free(res);
  return 0;
}
