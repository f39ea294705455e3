/* Batches: fo_fetch_requests(), fo_fetch_many() and fo_fetch_one() over the item engine of
 * fetch_transfer.c.
 *
 * fo_fetch_requests() submits min(n, threads) worker tasks to the pool. A worker takes an idle
 * easy handle (or makes one), then claims item indices from an atomic counter until none is
 * left, so a slow item holds up one worker, never a fixed share of the list. Each result is
 * written only by the worker that claimed its index, and read by the caller after the group
 * wait, whose mutex orders the two: no lock is needed around results. Handles go back to the
 * idle stack, keeping their connections alive for the next call. fo_fetch_many() and
 * fo_fetch_one() are this engine with GET requests into memory. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* One fo_fetch_requests() call, shared by its workers. */
typedef struct fo__batch {
  fo_fetcher *f;
  const fo_fetch_req *reqs;
  const char *const *urls; /* fo_fetch_many(): requests are made from these */
  const char *const *etags;
  size_t n;
  fo_fetch_result *results;
  fo_fetch_done_fn done;
  void *done_arg;
  size_t next; /* the next unclaimed index; atomic */
  /* -- time limits and cancel: read once at the call's start (fo__time_call_start) */
  unsigned long gen;
  uint64_t deadline_ns;
  unsigned no_handle; /* workers that could not get a handle; atomic */
} fo__batch;

/* ------------------------------------------------------------------ batches */

static void worker(void *arg) {
  fo__batch *b = arg;
  fo__handle *h;
  if (fo__handle_take(b->f, &h) != 0) {
    __atomic_add_fetch(&b->no_handle, 1, __ATOMIC_RELAXED);
    return; /* the items go to workers that have a handle; if none has, the caller reports them */
  }
  h->watch.gen = b->gen;
  h->watch.deadline_ns = b->deadline_ns;
  for (;;) {
    size_t i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
    if (i >= b->n)
      break;
    int stop = fo__time_call_check(b->f, b->gen, b->deadline_ns);
    if (b->reqs != NULL && b->results[i].err != 0) {
      /* refused before the start (fo__files_outputs_check) */
    } else if (stop != 0) {
      /* no file is touched: a partial file of an earlier run stays as it was */
      fo__fail_result(&b->results[i], stop,
                  stop == -ECANCELED ? "cancelled (fo_fetcher_cancel) before it started"
                                     : "the call's deadline passed before it started");
    } else if (b->reqs != NULL) {
      fo__fetch_item(b->f, h, &b->reqs[i], &b->results[i]);
    } else if (b->urls[i] == NULL) {
      fo__fail_result(&b->results[i], -EINVAL, "URL is NULL");
    } else {
      fo_fetch_req req = {.url = b->urls[i], .etag = b->etags ? b->etags[i] : NULL};
      fo__fetch_item(b->f, h, &req, &b->results[i]);
    }
    if (b->done != NULL)
      b->done(i, &b->results[i], b->done_arg);
  }
  fo__handle_put(b->f, h);
}

static void result_init(fo_fetch_result *r) {
  memset(r, 0, sizeof *r);
}

static int run_batch(fo__batch *b) {
  fo_fetcher *f = b->f;
  size_t n = b->n;
  for (size_t i = 0; i < n; i++)
    result_init(&b->results[i]);
  if (n == 0)
    return 0;
  fo__time_call_start(f, &b->gen, &b->deadline_ns);
  if (b->reqs != NULL && fo__files_outputs_check(b->reqs, n, b->results) != 0) {
    for (size_t i = 0; i < n; i++)
      fo__fail_result(&b->results[i], -ENOMEM, "out of memory for the request");
    return -ENOMEM;
  }
  fo_tpool_group *g = NULL;
  int rc = fo_tpool_group_create(f->pool, &g);
  /* A wait on the empty group fails at once from a task of this pool: find out before any
   * worker holds a pointer to this stack frame. */
  if (rc == 0)
    rc = fo_tpool_group_wait(g);
  size_t workers = n < f->threads ? n : f->threads;
  size_t started = 0;
  for (; rc == 0 && started < workers; started++) {
    int src = fo_tpool_group_submit(g, worker, b, FO_FOREVER);
    if (src != 0) {
      if (started == 0)
        rc = src;
      break;
    }
  }
  if (g != NULL) {
    int wrc = fo_tpool_group_wait(g);
    if (rc == 0 && wrc != 0)
      rc = wrc;
    fo_tpool_group_destroy(g);
  }

  /* Indices no worker claimed: no worker could get a handle, none started, or fo_tpool_cancel()
   * dropped every worker task of the call from the pool's queue (none failed for memory). */
  size_t next = __atomic_load_n(&b->next, __ATOMIC_RELAXED);
  int dropped = rc == 0 && __atomic_load_n(&b->no_handle, __ATOMIC_RELAXED) == 0;
  int unclaimed_err = rc != 0 ? rc : dropped ? -ECANCELED : -ENOMEM;
  for (size_t i = next; i < n; i++) {
    fo__fail_result(&b->results[i], unclaimed_err,
                unclaimed_err == -ENOMEM       ? "out of memory for an easy handle"
                : unclaimed_err == -ECANCELED ? "its workers were dropped from the pool's queue"
                                                " (fo_tpool_cancel)"
                                              : fo_strerror(unclaimed_err));
    if (b->done != NULL && started > 0)
      b->done(i, &b->results[i], b->done_arg);
  }
  if (rc == 0 && next == 0 && !dropped)
    rc = -ENOMEM;
  if (rc != 0)
    return rc;
  int failed = 0;
  for (size_t i = 0; i < n; i++)
    failed += b->results[i].err != 0;
  return failed;
}

int fo_fetch_requests(fo_fetcher *f, const fo_fetch_req *reqs, size_t n, fo_fetch_result *results,
                      fo_fetch_done_fn done, void *done_arg) {
  if (f == NULL || (n > 0 && (reqs == NULL || results == NULL)))
    return -EINVAL;
  fo__batch b = {f, reqs, NULL, NULL, n, results, done, done_arg, 0};
  return run_batch(&b);
}

int fo_fetch_many(fo_fetcher *f, const char *const *urls, const char *const *etags, size_t n,
                  fo_fetch_result *results, fo_fetch_done_fn done, void *done_arg) {
  if (f == NULL || (n > 0 && (urls == NULL || results == NULL)))
    return -EINVAL;
  fo__batch b = {f, NULL, urls, etags, n, results, done, done_arg, 0};
  return run_batch(&b);
}

int fo_fetch_one(fo_fetcher *f, const char *url, const char *etag, fo_fetch_result *result) {
  if (f == NULL || result == NULL)
    return -EINVAL;
  int rc = fo_fetch_many(f, &url, etag ? &etag : NULL, 1, result, NULL, NULL);
  return rc < 0 ? rc : result->err;
}

void fo_fetch_result_free(fo_fetch_result *result) {
  if (result == NULL)
    return;
  fo__free(result->body);
  fo__free(result->etag);
  result_init(result);
}

void fo_fetch_results_free(fo_fetch_result *results, size_t n) {
  if (results == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    fo_fetch_result_free(&results[i]);
}
