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
