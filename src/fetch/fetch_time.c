/* Time limits and cancel: the stall limit, TCP keep-alive, the whole-attempt limit, the call's
 * deadline, the retry window, and fo_fetcher_cancel().
 *
 * What must stop a running transfer is checked in libcurl's progress callback
 * (CURLOPT_XFERINFOFUNCTION), which libcurl calls as data moves, on the worker that drives the
 * transfer. Through the socket interface libcurl runs only the transfers whose sockets or timers
 * are due, so one that receives nothing is not called back at all: the loop makes the same
 * checks for a transfer whose last was 50 ms ago (fo__time_quiet). The stall limit is checked
 * there rather than with CURLOPT_LOW_SPEED_LIMIT: libcurl measures its speed over a window of its
 * own choosing (about five seconds), so a stall after a fast start is seen seconds late.
 *
 * Cancel is a generation count: fo_fetcher_cancel() adds one, each call remembers the value at
 * its start and is cancelled once they differ. One atomic add is all a signal handler may do,
 * and a count needs no reset, so the calls that begin afterwards run normally. The add wakes
 * nobody (curl_multi_wakeup() would need the worker's multi, which a signal handler cannot
 * reach safely): the worker's loop polls for at most 50 ms at a time and checks every item it
 * holds at each turn (fo__time_cancelled), whether in a transfer, paused, or waiting for a
 * retry or a rate slot; waits are timers of that loop (fo__time_backoff, fo__time_rate_slot). */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

#define NS_PER_MS 1000000u
/* How long a transfer may go without its checks before the loop makes them (fo__time_quiet):
 * the loop's longest sleep, so a quiet transfer is checked about as often as the loop turns. */
#define QUIET_NS (50 * (uint64_t)NS_PER_MS)

_Static_assert(__atomic_always_lock_free(sizeof(unsigned long), 0),
               "fo_fetcher_cancel() must be one lock-free add to be async-signal-safe");

int fo_fetcher_cancel(fo_fetcher *f) {
  if (f == NULL)
    return -EINVAL;
  __atomic_add_fetch(&f->cancel_gen, 1, __ATOMIC_SEQ_CST);
  return 0;
}

/* Whether item index of work w is cancelled, and by what: 0, FO__STOP_CANCEL or FO__STOP_JOB. */
static int cancelled(const fo_fetcher *f, const fo__work *w, size_t index) {
  if (__atomic_load_n(&f->cancel_gen, __ATOMIC_ACQUIRE) != w->gen)
    return FO__STOP_CANCEL;
  if ((w->cancel != NULL && __atomic_load_n(w->cancel, __ATOMIC_ACQUIRE)) ||
      (w->item_cancel != NULL && __atomic_load_n(&w->item_cancel[index], __ATOMIC_ACQUIRE)))
    return FO__STOP_JOB;
  return 0;
}

/* ------------------------------------------------------------------ options */

int fo__time_opts_ok(const fo_fetch_opts *o, fo_opt_error *why) {
  return fo__opt_range("stall_time_ms", o->stall_time_ms, -1, FO_FETCH_MS_MAX, why) &&
         fo__opt_urange("stall_speed", o->stall_speed, FO_FETCH_STALL_SPEED_MAX, why) &&
         fo__opt_range("keepalive_s", o->keepalive_s, -1, FO_FETCH_KEEPALIVE_MAX, why) &&
         fo__opt_range("deadline_ms", o->deadline_ms, 0, FO_FETCH_MS_MAX, why) &&
         fo__opt_range("retry_window_ms", o->retry_window_ms, 0, FO_FETCH_MS_MAX, why);
}

void fo__time_options(fo_fetcher *f, const fo_fetch_opts *o) {
  f->stall_time_ms = o->stall_time_ms < 0    ? 0
                     : o->stall_time_ms == 0 ? FO_FETCH_STALL_TIME_DEFAULT
                                             : o->stall_time_ms;
  f->stall_speed = o->stall_speed ? o->stall_speed : FO_FETCH_STALL_SPEED_DEFAULT;
  f->keepalive_s = o->keepalive_s < 0 ? 0 : o->keepalive_s ? o->keepalive_s : FO_FETCH_KEEPALIVE_DEFAULT;
  f->deadline_ms = o->deadline_ms;
  f->retry_window_ms = o->retry_window_ms;
}

/* ------------------------------------------------------------------ in a transfer */

/* Whether the bytes moved over the last stall window (the FO__STALL_SLOTS slots up to now) fall
 * short of stall_speed. Before a whole window has passed there is nothing to judge. */
static int stalled(const fo_fetcher *f, fo__watch *w, unsigned long long moved, uint64_t now) {
  uint64_t k = (now - w->t0_ns) / w->slot_ns;
  if (k - w->slot >= FO__STALL_SLOTS) {
    for (unsigned i = 0; i < FO__STALL_SLOTS; i++)
      w->slots[i] = 0;
  } else {
    for (uint64_t j = w->slot + 1; j <= k; j++)
      w->slots[j % FO__STALL_SLOTS] = 0;
  }
  w->slot = k;
  w->slots[k % FO__STALL_SLOTS] += moved - w->moved;
  w->moved = moved;
  uint64_t window_ns = w->slot_ns * FO__STALL_SLOTS;
  if (now - w->t0_ns < window_ns)
    return 0;
  /* the slots cover from the start of the oldest one to now: judge the average over that span */
  uint64_t span_ns = now - (k + 1 - FO__STALL_SLOTS) * w->slot_ns - w->t0_ns;
  unsigned long long sum = 0;
  for (unsigned i = 0; i < FO__STALL_SLOTS; i++)
    sum += w->slots[i];
  return (double)sum < (double)f->stall_speed * ((double)span_ns * 1e-9);
}

/* What stops a transfer as it runs: a cancel, the request's watch, the stall limit. moved: the
 * bytes received and sent by the hop so far. Nonzero stops it (CURLE_ABORTED_BY_CALLBACK), and
 * x.sink.err tells classify() which code the item gets. */
static int check(fo_fetcher *f, fo__handle *h, unsigned long long moved, uint64_t now) {
  fo__watch *w = &h->watch;
  w->checked_ns = now;
  int stop = cancelled(f, w->work, w->index);
  if (stop != 0)
    ;
  else if (w->req != NULL && w->req->watch != NULL &&
           w->req->watch(h->x.sink.bytes, h->x.encoded ? 0 : h->x.sink.expect,
                         w->req->watch_arg) != 0)
    stop = FO__STOP_WATCH;
  else if (f->stall_time_ms > 0 && stalled(f, w, moved, now))
    stop = FO__STOP_STALL;
  if (stop == 0)
    return 0;
  w->stop = stop;
  h->x.sink.err = stop == FO__STOP_STALL ? -ETIMEDOUT : -ECANCELED;
  return 1;
}

/* libcurl's progress callback. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  (void)dltotal;
  (void)ultotal;
  fo__handle *h = userp;
  return check(h->watch.f, h, (unsigned long long)dlnow + (unsigned long long)ulnow,
               (uint64_t)fo__now_ns());
}

int fo__time_quiet(fo_fetcher *f, fo__handle *h, uint64_t now) {
  fo__watch *w = &h->watch;
  if (now < w->checked_ns || now - w->checked_ns < QUIET_NS)
    return 0;
  curl_off_t down = 0, up = 0;
  curl_easy_getinfo(h->curl, CURLINFO_SIZE_DOWNLOAD_T, &down);
  curl_easy_getinfo(h->curl, CURLINFO_SIZE_UPLOAD_T, &up);
  return check(f, h, (unsigned long long)down + (unsigned long long)up, now);
}

int fo__time_handle_setup(fo_fetcher *f, fo__handle *h) {
  CURL *c = h->curl;
  h->watch.f = f; /* a handle never outlives its fetcher */
  CURLcode rc = curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, f->keepalive_s > 0 ? 1L : 0L);
  if (rc == CURLE_OK && f->keepalive_s > 0)
    rc = curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, f->keepalive_s);
  if (rc == CURLE_OK && f->keepalive_s > 0)
    rc = curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, f->keepalive_s);
  /* fo__setopt_rc()'s mapping, not the call: fetch.c calls this file, never the reverse */
  return rc == CURLE_OK ? 0 : rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : FO_EINTERNAL;
}

void fo__time_hop(fo_fetcher *f, fo__handle *h) {
  fo__watch *w = &h->watch;
  uint64_t now = (uint64_t)fo__now_ns();
  w->stop = 0;
  w->t0_ns = now;
  w->checked_ns = now;
  w->slot = 0;
  w->moved = 0;
  for (unsigned i = 0; i < FO__STALL_SLOTS; i++)
    w->slots[i] = 0;
  w->slot_ns = (uint64_t)f->stall_time_ms * NS_PER_MS / FO__STALL_SLOTS;
  if (w->slot_ns == 0)
    w->slot_ns = 1;
  long ms = f->timeout_ms;
  w->limit = ms > 0 ? FO__LIMIT_ATTEMPT : FO__LIMIT_NONE;
  uint64_t deadline_ns = w->work->deadline_ns;
  if (deadline_ns != 0) {
    /* at least 1 ms: 0 would mean no limit to libcurl (fo__time_item_check ran just before) */
    uint64_t left = deadline_ns > now ? (deadline_ns - now + NS_PER_MS - 1) / NS_PER_MS : 1;
    if (ms == 0 || (uint64_t)ms > left) {
      ms = (long)left;
      w->limit = FO__LIMIT_DEADLINE;
    }
  }
  curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, ms);
}

/* ------------------------------------------------------------------ between transfers */

void fo__time_call_start(const fo_fetcher *f, fo__work *w) {
  w->gen = __atomic_load_n(&f->cancel_gen, __ATOMIC_ACQUIRE);
  w->deadline_ns = f->deadline_ms > 0
                       ? (uint64_t)fo__now_ns() + (uint64_t)f->deadline_ms * NS_PER_MS
                       : 0;
}

int fo__time_item_check(const fo_fetcher *f, const fo__work *w, size_t index, int *stop) {
  if ((*stop = cancelled(f, w, index)) != 0)
    return -ECANCELED;
  /* libcurl counts its timeout in whole milliseconds from a start of its own: an attempt it cut
   * at the deadline may return a hair before our clock reaches it. Under a millisecond left is
   * no time to start anything. */
  if (w->deadline_ns != 0 && (uint64_t)fo__now_ns() + NS_PER_MS >= w->deadline_ns)
    return -ETIMEDOUT;
  return 0;
}

int fo__time_cancelled(fo_fetcher *f, fo__handle *h) {
  fo__watch *w = &h->watch;
  int stop = cancelled(f, w->work, w->index);
  if (stop != 0)
    w->stop = stop;
  return stop;
}

int fo__time_backoff(fo_fetcher *f, fo__handle *h, unsigned a, uint64_t item_t0_ns,
                     unsigned long delay_ms, uint64_t *until) {
  fo__watch *w = &h->watch;
  uint64_t deadline_ns = w->work->deadline_ns;
  int rc = fo__time_item_check(f, w->work, w->index, &w->stop);
  if (rc != 0)
    return rc;
  *until = (uint64_t)fo__now_ns();
  if (a > 1) {
    *until += (uint64_t)delay_ms * NS_PER_MS;
    /* a retry that could only start past a bound is not waited for */
    if (f->retry_window_ms > 0 &&
        *until >= item_t0_ns + (uint64_t)f->retry_window_ms * NS_PER_MS)
      return 1;
    if (deadline_ns != 0 && *until >= deadline_ns)
      return -ETIMEDOUT;
  }
  return 0;
}

int fo__time_rate_slot(fo_fetcher *f, fo__handle *h, uint64_t *slot) {
  fo__watch *w = &h->watch;
  if ((w->stop = cancelled(f, w->work, w->index)) != 0)
    return -ECANCELED;
  *slot = (uint64_t)fo__now_ns();
  if (f->rate_ok) {
    *slot = fo__rate_reserve(&f->rate, *slot);
    if (w->work->deadline_ns != 0 && *slot >= w->work->deadline_ns)
      return -ETIMEDOUT;
  }
  return 0;
}

int fo__time_message(const fo_fetcher *f, const fo__handle *h, int err, char *msg, size_t cap) {
  const fo__watch *w = &h->watch;
  if (err == -ECANCELED && (w->stop == FO__STOP_CANCEL || w->stop == FO__STOP_JOB))
    snprintf(msg, cap, "cancelled (%s) after %llu bytes",
             w->stop == FO__STOP_CANCEL ? "fo_fetcher_cancel" : "fo_fetch_job_cancel",
             h->x.sink.bytes);
  else if (err == -ECANCELED && w->stop == FO__STOP_WATCH)
    snprintf(msg, cap, "stopped by the request's watch callback after %llu bytes",
             h->x.sink.bytes);
  else if (err == -ETIMEDOUT && w->stop == FO__STOP_STALL)
    snprintf(msg, cap, "stalled: fewer than %lu bytes/s for %ld ms (after %llu bytes)",
             f->stall_speed, f->stall_time_ms, h->x.sink.bytes);
  else if (err == -ETIMEDOUT && w->limit == FO__LIMIT_DEADLINE &&
           (uint64_t)fo__now_ns() + 5 * NS_PER_MS >= w->work->deadline_ns)
    /* not the connect timeout; libcurl's timeout at the deadline wins over a cancel seen in the
     * same turn (w->stop set too late to end the transfer): it is still the deadline's doing */
    snprintf(msg, cap, "the call's deadline of %ld ms passed (after %llu bytes)", f->deadline_ms,
             h->x.sink.bytes);
  else
    return 0;
  return 1;
}
