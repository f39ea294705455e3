/* The engine: what a worker thread of the fetcher runs for a call. The worker takes an idle loop
 * (a libcurl multi handle that kept its connections from the calls before) and drives up to
 * ceil(max_inflight / threads) items at once through it, each on an easy handle of its own from
 * the fetcher's idle pool. It claims an item whenever one of its handles is free, so a slow item
 * holds up one slot of one worker, never a fixed share of the list.
 *
 * One turn of the loop: start items on free handles; curl_multi_perform() moves every transfer
 * on; each transfer that ended goes to its item's state machine (fetch_item.c), which starts the
 * next hop, the next attempt's wait, or finishes the item; then every item gets its turn for
 * what no socket tells: a backoff or rate slot that ends, a byte-rate pause that ends, a cancel.
 * Finished items are reported through the call's done(). curl_multi_poll() then waits for the
 * sockets, libcurl's own timers and the nearest of ours, never longer than TURN_MAX_MS: that
 * bound is how a cancel (an atomic add, fo_fetcher_cancel(), which may come from a signal
 * handler and so wakes nobody) is seen within 50 ms.
 *
 * The handles go back to the idle pool at the end and the loop to the idle stack, its
 * connections alive for the next call. The call (fetch_job.c) is reached only through its
 * fo__work. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* The longest the loop sleeps: a cancel is seen within this; 20 wake-ups a second per worker
 * with transfers in flight, nothing beside them. */
#define TURN_MAX_MS 50
#define NS_PER_MS 1000000u

/* Report a finished item and free its handle for the next. */
static void report(const fo__work *w, fo__handle *h) {
  h->run.phase = FO__RUN_IDLE;
  w->done(w->call, h->run.claim.index);
}

/* Start claimed item c on h; what is done at once (refused, cancelled, skipped, failed before
 * a transfer) is reported at once. */
static void start(fo_fetcher *f, const fo__work *w, fo__handle *h, fo__claim *c) {
  int stop = 0;
  int err = c->final ? 0 : fo__time_item_check(f, w, c->index, &stop);
  if (c->final) {
    /* refused before the start (fo__files_outputs_check, a NULL URL) */
  } else if (err != 0) {
    /* no file is touched: a partial file of an earlier run stays as it was */
    fo__fail_result(c->result, err,
                    err == -ETIMEDOUT        ? "the call's deadline passed before it started"
                    : stop == FO__STOP_JOB ? "cancelled (fo_fetch_job_cancel) before it started"
                                           : "cancelled (fo_fetcher_cancel) before it started");
  } else {
    fo__item_start(f, h, c);
    if (h->run.phase != FO__RUN_DONE)
      return;
  }
  h->run.claim.index = c->index;
  report(w, h);
}

/* Claim items for the loop's free handles, taking handles up to its cap. 0: the call has no
 * item left to claim; 1: more may come. -ENOMEM: no handle at all (nothing claimed). */
static int fill(fo_fetcher *f, const fo__work *w, fo__loop *l) {
  for (;;) {
    fo__handle *h = NULL;
    for (unsigned i = 0; i < l->n && h == NULL; i++)
      if (l->h[i]->run.phase == FO__RUN_IDLE)
        h = l->h[i];
    if (h == NULL && l->n < l->cap) {
      if (fo__handle_take(f, &h) != 0) {
        if (l->n == 0)
          return -ENOMEM;
        return 1; /* the handles it has go on; items wait for one of them */
      }
      h->run.phase = FO__RUN_IDLE;
      h->run.multi = l->multi;
      h->watch.work = w;
      l->h[l->n++] = h;
    }
    if (h == NULL)
      return 1;
    fo__claim c;
    if (!w->claim(w->call, &c))
      return 0;
    start(f, w, h, &c);
  }
}

/* The transfers that ended in this turn, to their items; 1 when an item ended. */
static int collect(fo_fetcher *f, const fo__work *w, fo__loop *l) {
  CURLMsg *m;
  int left, freed = 0;
  while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE)
      continue;
    CURL *e = m->easy_handle;
    CURLcode rc = m->data.result;
    char *priv = NULL; /* CURLOPT_PRIVATE: the fo__handle (fetch.c's handle_setup) */
    if (curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv) != CURLE_OK || priv == NULL)
      continue;
    fo__handle *h = (fo__handle *)(void *)priv;
    curl_multi_remove_handle(l->multi, e); /* m is gone from here on */
    fo__item_xfer_done(f, h, rc);
    if (h->run.phase == FO__RUN_DONE) {
      report(w, h);
      freed = 1;
    }
  }
  return freed;
}

/* Every item's turn for its timers and a cancel; returns the nearest timer left (0: none) and
 * whether an item ended (*freed). */
static uint64_t tick(fo_fetcher *f, const fo__work *w, fo__loop *l, int *freed, int *busy) {
  uint64_t now = (uint64_t)fo__now_ns(), next = 0;
  *freed = 0;
  *busy = 0;
  for (unsigned i = 0; i < l->n; i++) {
    fo__handle *h = l->h[i];
    if (h->run.phase == FO__RUN_IDLE)
      continue;
    fo__item_tick(f, h, now);
    if (h->run.phase == FO__RUN_DONE) {
      report(w, h);
      *freed = 1;
      continue;
    }
    *busy = 1;
    uint64_t t = fo__item_wake(h);
    if (t != 0 && (next == 0 || t < next))
      next = t;
  }
  return next;
}

int fo__engine_run(fo_fetcher *f, const fo__work *w) {
  fo__loop *l;
  if (fo__loop_take(f, &l) != 0)
    return -ENOMEM;
  int more = fill(f, w, l);
  if (more < 0) {
    fo__loop_put(f, l);
    return -ENOMEM;
  }
  for (;;) {
    int running = 0, freed, busy;
    curl_multi_perform(l->multi, &running);
    int collected = collect(f, w, l);
    uint64_t next = tick(f, w, l, &freed, &busy);
    freed |= collected;
    if (more && freed) {
      more = fill(f, w, l);
      continue; /* the new items' transfers go out before the loop sleeps */
    }
    if (!busy) {
      if (!more)
        break;
      more = fill(f, w, l);
      continue;
    }
    int ms = TURN_MAX_MS;
    if (next != 0) {
      uint64_t now = (uint64_t)fo__now_ns();
      uint64_t d = next > now ? (next - now + NS_PER_MS - 1) / NS_PER_MS : 0;
      if (d < (uint64_t)ms)
        ms = (int)d;
    }
    curl_multi_poll(l->multi, NULL, 0, ms, NULL);
  }
  for (unsigned i = 0; i < l->n; i++) {
    l->h[i]->watch.work = NULL;
    l->h[i]->run.multi = NULL;
    fo__handle_put(f, l->h[i]);
  }
  l->n = 0;
  fo__loop_put(f, l);
  return 0;
}
