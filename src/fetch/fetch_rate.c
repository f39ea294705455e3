/* The fetcher's rate limiter: evenly spaced slots shared by every worker of a fetcher. Spacing
 * (no burst) keeps every one-second window at or under the rate, which is what a server that
 * counts requests per second per address checks. */
#include "config.h"

#include <errno.h>

#include "fetch/fetch_internal.h"

void fo__sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

int fo__rate_init(fo__rate *r, double rate) {
  /* also false for NaN; no libm, so programs need no -lm for the fetcher */
  if (!(rate >= 0.0 && rate <= 1e9))
    return -EINVAL;
  int rc = pthread_mutex_init(&r->mu, NULL);
  if (rc != 0)
    return -rc;
  r->interval_ns = rate > 0.0 ? (uint64_t)(1e9 / rate + 0.5) : 0;
  if (rate > 0.0 && r->interval_ns == 0)
    r->interval_ns = 1;
  r->next_ns = 0;
  return 0;
}

void fo__rate_destroy(fo__rate *r) {
  pthread_mutex_destroy(&r->mu);
}

uint64_t fo__rate_reserve(fo__rate *r, uint64_t now_ns) {
  if (r->interval_ns == 0)
    return now_ns;
  pthread_mutex_lock(&r->mu);
  uint64_t slot = r->next_ns > now_ns ? r->next_ns : now_ns;
  r->next_ns = slot + r->interval_ns;
  pthread_mutex_unlock(&r->mu);
  return slot;
}

/* ------------------------------------------------------------------ the byte rate */

/* The byte rates (a fetcher's max_recv_speed_total, shared by its workers, and each transfer's
 * max_recv_speed, its own) are the same evenly spaced schedule, in bytes: every piece of body
 * books the time it costs at the rate after the pieces booked before it (by any transfer of any
 * worker), and its transfer is paused until that booking ends: the write callback takes the
 * piece, pauses the transfer (curl_easy_pause(CURLPAUSE_RECV)) and the worker's loop unpauses it
 * by timer at the booking's end, while the loop's other transfers go on. Until then libcurl reads
 * nothing more from that socket; its buffers fill and TCP slows the sender. The schedule may run
 * up to FLOW_SLACK_NS behind the clock: a transfer whose loop woke late or that waited on the
 * network gets that much back, no more, so jitter does not lower the rate and an idle fetcher
 * does not save up a burst. Over a window of T seconds at most rate * (T + slack) bytes pass,
 * plus the pieces in hand (one per transfer): within 0.5 % over 10 s. libcurl's own per-transfer
 * limit (CURLOPT_MAX_RECV_SPEED_LARGE) is not used: on libcurl 7.88 it let a loopback download
 * through at 1.8 times its cap. */
#define FLOW_SLACK_NS 50000000u

int fo__flow_init(fo__flow *fl, unsigned long long rate) {
  if (rate == 0 || rate > FO_FETCH_SPEED_MAX)
    return -EINVAL;
  int rc = pthread_mutex_init(&fl->mu, NULL);
  if (rc != 0)
    return -rc;
  fl->rate = rate;
  fl->next_ns = 0;
  fl->shared = 1;
  return 0;
}

void fo__flow_init_own(fo__flow *fl, unsigned long long rate) {
  fl->rate = rate;
  fl->next_ns = 0;
  fl->shared = 0;
}

void fo__flow_destroy(fo__flow *fl) {
  pthread_mutex_destroy(&fl->mu);
}

uint64_t fo__flow_reserve(fo__flow *fl, size_t n, uint64_t now_ns) {
  /* n is at most libcurl's buffer (512 KiB): n * 1e9 fits 64 bits by far */
  uint64_t cost = (uint64_t)n * 1000000000u / fl->rate;
  if (fl->shared)
    pthread_mutex_lock(&fl->mu);
  uint64_t from = now_ns > FLOW_SLACK_NS ? now_ns - FLOW_SLACK_NS : 0;
  if (fl->next_ns > from)
    from = fl->next_ns;
  fl->next_ns = from + cost;
  uint64_t until = fl->next_ns;
  if (fl->shared)
    pthread_mutex_unlock(&fl->mu);
  return until;
}

uint64_t fo__flows_book(fo__flow *own, fo__flow *shared, size_t n, uint64_t now) {
  uint64_t until = now;
  if (own != NULL) {
    uint64_t t = fo__flow_reserve(own, n, now);
    until = t > until ? t : until;
  }
  if (shared != NULL) {
    uint64_t t = fo__flow_reserve(shared, n, now);
    until = t > until ? t : until;
  }
  return until;
}
