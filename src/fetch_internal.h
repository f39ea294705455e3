/* Internal parts of the fetcher that the tests reach directly: Retry-After parsing, backoff,
 * the retry rule and the rate limiter. Not installed. Nothing here touches libcurl. */
#ifndef FO_SRC_FETCH_INTERNAL_H
#define FO_SRC_FETCH_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "deadline.h"

/* ---- fetch_retry.c */

/* Parse a Retry-After value (RFC 9110 10.2.3): delta-seconds, or an HTTP-date (IMF-fixdate,
 * also RFC 850 and asctime forms) taken relative to now (seconds since the epoch). value need not
 * be NUL-terminated; surrounding blanks are ignored. A date in the past gives 0.
 * Returns 0 and sets *ms, or -EINVAL. Delays are capped at one day. */
int fo__retry_after_parse(const char *value, size_t len, time_t now, unsigned long *ms);

/* The delay before retry number `retry` (1 = the first retry): base * 2^(retry-1), capped at
 * max, then drawn uniformly from its upper half so workers that failed together spread out. */
unsigned long fo__backoff_delay(unsigned long base_ms, unsigned long max_ms, unsigned retry,
                                uint64_t *rng);

/* A small per-worker generator (xorshift64*); state must be nonzero. */
uint64_t fo__rng_next(uint64_t *state);

/* Whether an attempt that ended with err (and HTTP status) is worth repeating: transport
 * errors, timeouts, 5xx and 429. */
int fo__fetch_retryable(int err, long status);

/* ---- fetch_rate.c */

/* Requests spaced evenly at `rate` per second across every thread that shares the limiter: a
 * caller reserves the next free slot under the lock and sleeps outside it until the slot. */
typedef struct fo__rate {
  pthread_mutex_t mu;
  uint64_t interval_ns; /* 0: no limit */
  uint64_t next_ns;     /* CLOCK_MONOTONIC time of the next free slot */
} fo__rate;

/* rate 0 means no limit. Returns 0, -EINVAL (negative, not finite or above 1e9), or a
 * pthread_mutex_init error negated. */
int fo__rate_init(fo__rate *r, double rate);
void fo__rate_destroy(fo__rate *r);
/* The slot for a request made at now_ns: the returned time is >= now_ns and at least one
 * interval after the previous slot handed out. */
uint64_t fo__rate_reserve(fo__rate *r, uint64_t now_ns);
/* Reserve a slot and sleep until it. */
void fo__rate_wait(fo__rate *r);

/* A sleep that resumes after signals. (The clock, fo__now_ns, is src/deadline.h's.) */
void fo__sleep_ns(uint64_t ns);

#endif /* FO_SRC_FETCH_INTERNAL_H */
