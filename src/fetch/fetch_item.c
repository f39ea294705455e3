/* One item as a state machine on one easy handle, driven by its worker's loop
 * (fetch_engine.c): nothing here blocks, so one worker runs many items at once.
 *
 *   start item -> [backoff wait] -> [rate slot wait] -> attempt (hops in the multi)
 *        ^                                                   |
 *        +------------------- retry (backoff timer) <--------+--> item done
 *
 * An item starts (the request set up, its sink opened), then waits for its rate slot (a timer
 * of the loop, FO__RUN_RATE) and starts an attempt (fetch_transfer.c), whose hops run in the
 * worker's multi handle (FO__RUN_XFER). When an attempt ends, the retry rule decides: the item
 * is done, or it waits for its backoff (FO__RUN_BACKOFF, again a timer) and then its rate
 * slot. At every turn of the loop an item sees a cancel, whatever it waits for; a transfer
 * paused by a byte rate is unpaused here when its bytes are paid. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* Whether the item may be tried again after err. */
static int may_retry(const fo_fetch_req *req, const fo__xfer *x, int err, long status) {
  /* A wrong answer to a Range is the one protocol fault worth a retry: the partial file was
   * dropped, so the next attempt asks for the whole body, to which no 206 fits. */
  int wrong_range = err == FO_EPROTOCOL && x->range_from >= 0;
  if ((!fo__fetch_retryable(err, status) && !wrong_range) || !fo__body_retryable(&x->body))
    return 0;
  /* The server may have acted on a POST or PATCH it never answered: repeating one is the
   * caller's call. */
  return fo__method_safe(req->method) || (req->flags & FO_FETCH_RETRY_UNSAFE) != 0;
}

/* The body of any answer, 2xx or not (a 404 says "Not Found"), unless the transfer broke. */
static void keep_body(fo__sink *s, fo_fetch_result *r) {
  int keep = (r->err == 0 || r->err == FO_EHTTP || r->err == FO_ECONTENTTYPE) && r->status != 304;
  if (!keep || s->kind != FO__SINK_MEMORY)
    return;
  if (s->buf == NULL) {
    s->buf = fo__malloc(1);
    if (s->buf == NULL) {
      fo__fail_result(r, -ENOMEM, "out of memory for the response");
      return;
    }
    s->buf[0] = '\0';
  }
  r->body = s->buf;
  r->body_len = (size_t)s->bytes;
  s->buf = NULL;
}

/* What every item leaves behind, whatever its end: the handle ready for the next. */
static void item_release(fo__handle *h) {
  fo__xfer *x = &h->x;
  fo__free(x->etag);
  x->etag = NULL;
  fo__body_close(&x->body);
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
  h->run.claim.result->elapsed = (double)(fo__now_ns() - h->run.t0_ns) * 1e-9;
  h->watch.req = NULL;
  h->run.phase = FO__RUN_DONE;
}

/* The last attempt's err is the item's: the file moved into place, the body and ETag kept. */
static void item_end(fo__handle *h, int err) {
  fo__xfer *x = &h->x;
  fo_fetch_result *r = h->run.claim.result;
  if (err != 0 && r->attempts > 1)
    fo__msgf(r, 1, " (after %u attempts)", r->attempts);
  r->err = err;
  int ok = r->err == 0 && r->status >= 200 && r->status <= 299;
  int ferr = fo__sink_finish(&x->sink, ok, r->err, r->status);
  if (ok && ferr != 0) {
    r->err = ferr;
    fo__sink_message(r, &x->sink, ferr);
  }
  keep_body(&x->sink, r);
  if (r->err == 0 || r->err == FO_EHTTP || r->err == FO_ECONTENTTYPE) {
    r->etag = x->etag;
    x->etag = NULL;
  }
  fo__sink_free(&x->sink);
  item_release(h);
}

/* A wait before an attempt ended by a cancel or the deadline (err). */
static void wait_failed(fo__handle *h, int err) {
  fo_fetch_result *r = h->run.claim.result;
  fo__msgf(r, 0, "%s %s",
           err != -ECANCELED                ? "the call's deadline passed"
           : h->watch.stop == FO__STOP_JOB ? "cancelled (fo_fetch_job_cancel)"
                                            : "cancelled (fo_fetcher_cancel)",
           h->run.attempt > 1 ? "while waiting to retry" : "before the first attempt");
  item_end(h, err);
}

static void attempt_ended(fo_fetcher *f, fo__handle *h, int err);

/* The rate slot has come (or there is no limiter): the attempt goes out. */
static void attempt_go(fo_fetcher *f, fo__handle *h) {
  h->run.claim.result->attempts = h->run.attempt;
  int rc = fo__attempt_start(f, h, h->run.claim.result);
  if (rc == FO__INFLIGHT)
    h->run.phase = FO__RUN_XFER;
  else
    attempt_ended(f, h, rc);
}

/* The backoff is over (or there was none): ask the limiter for a slot. */
static void rate_wait(fo_fetcher *f, fo__handle *h, uint64_t now) {
  uint64_t slot;
  int rc = fo__time_rate_slot(f, h, &slot);
  if (rc != 0) {
    wait_failed(h, rc);
  } else if (slot > now) {
    h->run.phase = FO__RUN_RATE;
    h->run.wake_ns = slot;
  } else {
    attempt_go(f, h);
  }
}

/* Attempt a (1 = the first): its backoff, then its rate slot, then the attempt. */
static void attempt_wait(fo_fetcher *f, fo__handle *h, unsigned a) {
  unsigned long delay = 0;
  if (a > 1) {
    delay = fo__backoff_delay(f->backoff_ms, f->backoff_max_ms, a - 1, &h->rng);
    if (h->x.has_retry_after && h->x.retry_after_ms > delay)
      delay = h->x.retry_after_ms;
  }
  h->run.attempt = a;
  uint64_t until;
  /* backoff (fetch_time.c): refused when a cancel, the deadline or the window comes first */
  int go = fo__time_backoff(f, h, a, h->run.first_ns, delay, &until);
  if (go == 1) {
    fo__msgf(h->run.claim.result, 1, "; no retry: the retry window of %ld ms is spent",
             f->retry_window_ms);
    h->run.attempt = a - 1;
    item_end(h, h->run.err);
    return;
  }
  if (go != 0) {
    wait_failed(h, go);
    return;
  }
  uint64_t now = (uint64_t)fo__now_ns();
  if (until > now) {
    h->run.phase = FO__RUN_BACKOFF;
    h->run.wake_ns = until;
  } else {
    rate_wait(f, h, now);
  }
}

/* The retry rule after an attempt that ended with err. */
static void attempt_ended(fo_fetcher *f, fo__handle *h, int err) {
  fo_fetch_result *r = h->run.claim.result;
  h->run.err = err;
  if (err == 0 || h->run.attempt >= f->retries + 1 ||
      !may_retry(h->run.claim.req, &h->x, err, r->status)) {
    item_end(h, err);
  } else if (h->x.has_retry_after && h->x.retry_after_ms > f->backoff_max_ms) {
    fo__msgf(r, 1, "; Retry-After %lu ms is over the %lu ms cap", h->x.retry_after_ms,
             f->backoff_max_ms);
    item_end(h, err);
  } else {
    attempt_wait(f, h, h->run.attempt + 1);
  }
}

/* The request and the sink of the item: 0, or the item is over (its result written). */
static int item_setup(fo_fetcher *f, fo__handle *h) {
  const fo_fetch_req *req = h->run.claim.req;
  fo_fetch_result *r = h->run.claim.result;
  fo__xfer *x = &h->x;
  const char *what = NULL;
  int err = fo__request_apply(f, h, req, &what);
  if (err == -EINVAL) {
    r->err = err;
    fo__msgf(r, 0, "request refused: bad %s", what ? what : "URL");
    for (size_t i = 0; what != NULL && strcmp(what, "headers") == 0 && req->headers[i]; i++)
      if (fo__header_refusal(req->headers[i]) != NULL) {
        fo__msgf(r, 1, " [%zu]: %s", i, fo__header_refusal(req->headers[i]));
        break;
      }
  } else if (err == FO_EBODY) {
    fo__fail_result(r, err, x->body.why);
  } else if (err == FO_ETLS) {
    fo__fail_result(r, err, h->tls_why);
  } else if (err != 0) {
    fo__fail_result(r, err, err == -ENOMEM ? "out of memory for the request" : "request refused");
  }
  size_t cap = req->max_bytes ? req->max_bytes : req->output || req->write ? 0 : f->max_body;
  if (err == 0) {
    err = fo__sink_open(&x->sink, req, cap, f->file_mode);
    if (err != 0) {
      r->err = err;
      if (err == -ENOMEM)
        fo__msgf(r, 0, "out of memory for the request");
      else if (!fo__sink_file_message(r, &x->sink, err))
        fo__msgf(r, 0, "cannot create a file beside %s: %s", req->output, fo_strerror(err));
      fo__sink_free(&x->sink);
    }
  }
  if (err != 0)
    item_release(h);
  return err;
}

void fo__item_start(fo_fetcher *f, fo__handle *h, const fo__claim *c) {
  fo__run *run = &h->run;
  run->claim = *c;
  if (c->req == &c->own)
    run->claim.req = &run->claim.own; /* fo_fetch_many(): the request lives with the item */
  run->t0_ns = (uint64_t)fo__now_ns();
  run->attempt = 0;
  run->err = 0;
  h->watch.index = c->index;
  h->watch.req = run->claim.req;
  const fo_fetch_req *req = run->claim.req;
  if ((req->flags & FO_FETCH_SKIP_EXISTING) != 0 && fo_fetch_req_check(req, NULL) == 0 &&
      fo__skip_present(req)) {
    fo_fetch_result *r = run->claim.result;
    r->skipped = 1; /* err 0, attempts 0: nothing was asked of the network */
    r->elapsed = (double)(fo__now_ns() - run->t0_ns) * 1e-9;
    h->watch.req = NULL;
    run->phase = FO__RUN_DONE;
    return;
  }
  if (item_setup(f, h) != 0)
    return;
  fo__transfer_setup(f, h, req);
  run->first_ns = (uint64_t)fo__now_ns();
  attempt_wait(f, h, 1);
}

void fo__item_xfer_done(fo_fetcher *f, fo__handle *h, CURLcode rc) {
  int err = fo__attempt_hop_done(f, h, h->run.claim.result, rc);
  if (err != FO__INFLIGHT)
    attempt_ended(f, h, err);
}

void fo__item_tick(fo_fetcher *f, fo__handle *h, uint64_t now) {
  fo__run *run = &h->run;
  if (run->phase == FO__RUN_XFER) {
    CURLcode rc = CURLE_OK;
    if (fo__time_cancelled(f, h) != 0) {
      /* as the progress callback stops it, but without waiting for libcurl to call it */
      h->x.sink.err = -ECANCELED;
      rc = CURLE_ABORTED_BY_CALLBACK;
    } else if (fo__time_quiet(f, h, now) != 0) {
      rc = CURLE_ABORTED_BY_CALLBACK; /* the watch or the stall limit, as data stopped */
    } else if (h->x.pause_until != 0 && now >= h->x.pause_until) {
      /* the bytes are paid: libcurl hands over what it kept and reads on (the write callback
       * may pause it again at once) */
      h->x.pause_until = 0;
      rc = curl_easy_pause(h->curl, CURLPAUSE_CONT);
      /* a callback of the multi's refusing is the engine's socket array that could not grow */
      if (rc != CURLE_OK && h->x.sink.err == 0)
        h->x.sink.err = rc == CURLE_OUT_OF_MEMORY || rc == CURLE_ABORTED_BY_CALLBACK ? -ENOMEM : 0;
    }
    if (rc != CURLE_OK) {
      curl_multi_remove_handle(run->multi, h->curl);
      fo__item_xfer_done(f, h, rc);
    }
  } else if (run->phase == FO__RUN_BACKOFF || run->phase == FO__RUN_RATE) {
    if (fo__time_cancelled(f, h) != 0)
      wait_failed(h, -ECANCELED);
    else if (now >= run->wake_ns && run->phase == FO__RUN_BACKOFF)
      rate_wait(f, h, now);
    else if (now >= run->wake_ns)
      attempt_go(f, h);
  }
}

uint64_t fo__item_wake(const fo__handle *h) {
  if (h->run.phase == FO__RUN_BACKOFF || h->run.phase == FO__RUN_RATE)
    return h->run.wake_ns;
  if (h->run.phase == FO__RUN_XFER)
    return h->x.pause_until;
  return 0;
}
