/* Deadlines on the monotonic clock (see deadline.h). */
#include "config.h"

#include "base/base_internal.h"

#include <limits.h>

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL

static int64_t ns_of(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t fo__now_ns(void) {
  return ns_of(CLOCK_MONOTONIC);
}

int64_t fo__deadline(int timeout_ms) {
  if (timeout_ms < 0)
    return FO__FOREVER;
  return fo__now_ns() + (int64_t)timeout_ms * NS_PER_MS;
}

int fo__deadline_passed(int64_t deadline) {
  return deadline != FO__FOREVER && fo__now_ns() >= deadline;
}

int fo__deadline_poll_ms(int64_t deadline) {
  if (deadline == FO__FOREVER)
    return -1;
  int64_t left = deadline - fo__now_ns();
  if (left <= 0)
    return 0;
  int64_t ms = (left + NS_PER_MS - 1) / NS_PER_MS;
  return ms > INT_MAX ? INT_MAX : (int)ms;
}

struct timespec fo__deadline_realtime(int64_t deadline) {
  int64_t left = deadline - fo__now_ns();
  if (left < 0)
    left = 0;
  if (left > 100LL * 365 * 86400 * NS_PER_S) /* FO__FOREVER, or near it: no overflow below */
    left = 100LL * 365 * 86400 * NS_PER_S;
  int64_t at = ns_of(CLOCK_REALTIME) + left;
  struct timespec ts = {(time_t)(at / NS_PER_S), (long)(at % NS_PER_S)};
  return ts;
}
