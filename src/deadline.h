/* Deadlines: a caller's timeout turned into an absolute point on the monotonic clock, so a wait
 * that is interrupted (EINTR) or woken for nothing resumes with the time left, never with the
 * full timeout again. The core and the ports pass deadlines, not timeouts. Not installed. */
#ifndef FO_SRC_DEADLINE_H
#define FO_SRC_DEADLINE_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

/* No deadline: wait as long as it takes. */
#define FO__FOREVER INT64_MAX

/* Nanoseconds on CLOCK_MONOTONIC. */
int64_t fo__now_ns(void);

/* The deadline for a public timeout_ms argument: < 0 is FO__FOREVER, 0 is now (try once, do not
 * wait), > 0 that many milliseconds from now. */
int64_t fo__deadline(int timeout_ms);

/* Whether the deadline has passed (never for FO__FOREVER). */
int fo__deadline_passed(int64_t deadline);

/* The time left as a poll(2) timeout: -1 for FO__FOREVER, 0 once passed, otherwise milliseconds
 * rounded up (a wait that ends early only loops once more instead of spinning). */
int fo__deadline_poll_ms(int64_t deadline);

/* The deadline on CLOCK_REALTIME, for calls such as mq_timedsend() that take no other clock. A
 * passed deadline gives a time in the past, which those calls treat as "do not wait". */
struct timespec fo__deadline_realtime(int64_t deadline);

/* The code a public call returns for rc, which a wait with timeout_ms gave: a wait that was not
 * to wait at all (timeout_ms 0) and found nothing ready "would have to wait" (-EAGAIN), while
 * -ETIMEDOUT is kept for a wait whose time ran out (fanout.h, "Waiting"). */
static inline int fo__timeout_rc(int rc, int timeout_ms) {
  return rc == -ETIMEDOUT && timeout_ms == 0 ? -EAGAIN : rc;
}

#endif /* FO_SRC_DEADLINE_H */
