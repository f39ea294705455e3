/* When to try again: Retry-After parsing, exponential backoff with jitter, and which failures
 * are worth a retry. Pure functions, so the tests drive them directly. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fanout/fanout.h"
#include "fetch/fetch_internal.h"

#define DAY_MS 86400000ul

static int is_blank(char c) {
  return c == ' ' || c == '\t';
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil), so no time zone or locale is involved. */
static long days_from_civil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long)doe - 719468;
}

static int month_of(const char *s) {
  static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  for (int i = 0; i < 12; i++)
    if (strncmp(s, names + 3 * i, 3) == 0)
      return i + 1;
  return 0;
}

/* Reads digits into *v; returns characters used (0 when none or more than max). */
static size_t read_num(const char *s, size_t len, size_t max, long *v) {
  size_t i = 0;
  *v = 0;
  while (i < len && is_digit(s[i]) && i < max)
    *v = *v * 10 + (s[i++] - '0');
  if (i < len && is_digit(s[i]))
    return 0;
  return i;
}

/* hh:mm:ss at s; returns 8 or 0. */
static size_t read_clock(const char *s, size_t len, long *secs) {
  long h, m, sec;
  if (len < 8 || read_num(s, 2, 2, &h) != 2 || s[2] != ':' || read_num(s + 3, 2, 2, &m) != 2 ||
      s[5] != ':' || read_num(s + 6, 2, 2, &sec) != 2 || h > 23 || m > 59 || sec > 60)
    return 0;
  *secs = h * 3600 + m * 60 + sec;
  return 8;
}

/* The three date forms of RFC 9110 5.6.7; returns 0 and the time, or -EINVAL. */
static int parse_http_date(const char *s, size_t len, long long *t) {
  long day, year, secs;
  int mon;
  const char *comma = memchr(s, ',', len);
  if (comma != NULL) {
    size_t i = (size_t)(comma - s) + 1;
    if (i >= len || s[i] != ' ')
      return -EINVAL;
    i++;
    size_t n = read_num(s + i, len - i, 2, &day);
    if (n != 2)
      return -EINVAL;
    i += n;
    char sep = i < len ? s[i] : 0;
    if (sep != ' ' && sep != '-')
      return -EINVAL;
    i++;
    if (len - i < 4 || (mon = month_of(s + i)) == 0 || s[i + 3] != sep)
      return -EINVAL;
    i += 4;
    n = read_num(s + i, len - i, 4, &year);
    if (sep == ' ' ? n != 4 : n != 2)
      return -EINVAL;
    if (n == 2) /* RFC 850: a two-digit year more than 50 years ahead is in the past century */
      year += year < 70 ? 2000 : 1900;
    i += n;
    if (i >= len || s[i] != ' ')
      return -EINVAL;
    i++;
    if (read_clock(s + i, len - i, &secs) != 8)
      return -EINVAL;
    i += 8;
    if (len - i != 4 || memcmp(s + i, " GMT", 4) != 0)
      return -EINVAL;
  } else {
    /* asctime: "Sun Nov  6 08:49:37 1994" */
    if (len != 24 || s[3] != ' ' || (mon = month_of(s + 4)) == 0 || s[7] != ' ')
      return -EINVAL;
    char dd[2] = {s[8] == ' ' ? '0' : s[8], s[9]};
    if (read_num(dd, 2, 2, &day) != 2 || s[10] != ' ' || read_clock(s + 11, 8, &secs) != 8 ||
        s[19] != ' ' || read_num(s + 20, 4, 4, &year) != 4)
      return -EINVAL;
  }
  if (day < 1 || day > 31)
    return -EINVAL;
  *t = (long long)days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + secs;
  return 0;
}

int fo__retry_after_parse(const char *value, size_t len, time_t now, unsigned long *ms) {
  if (value == NULL || ms == NULL)
    return -EINVAL;
  while (len > 0 && is_blank(value[0]))
    value++, len--;
  while (len > 0 && (is_blank(value[len - 1]) || value[len - 1] == '\r' || value[len - 1] == '\n'))
    len--;
  if (len == 0)
    return -EINVAL;
  if (is_digit(value[0])) {
    unsigned long long secs = 0;
    for (size_t i = 0; i < len; i++) {
      if (!is_digit(value[i]))
        return -EINVAL;
      if (secs < DAY_MS)
        secs = secs * 10 + (unsigned)(value[i] - '0');
    }
    *ms = secs >= DAY_MS / 1000 ? DAY_MS : (unsigned long)secs * 1000ul;
    return 0;
  }
  long long t;
  if (parse_http_date(value, len, &t) != 0)
    return -EINVAL;
  long long d = t - (long long)now;
  *ms = d <= 0 ? 0 : d >= (long long)(DAY_MS / 1000) ? DAY_MS : (unsigned long)d * 1000ul;
  return 0;
}

uint64_t fo__rng_next(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

unsigned long fo__backoff_delay(unsigned long base_ms, unsigned long max_ms, unsigned retry,
                                uint64_t *rng) {
  unsigned long d = base_ms;
  for (unsigned i = 1; i < retry && d < max_ms; i++)
    d = d > max_ms / 2 ? max_ms : d * 2;
  if (d > max_ms)
    d = max_ms;
  unsigned long half = d / 2;
  return half + (unsigned long)(fo__rng_next(rng) % (d - half + 1));
}

/* The server's faults (FO_EHEADER, FO_EREDIRECT, FO_EPROTOCOL) are not retried: the server
 * answered, and the same request gets the same answer; repeating it would only let a hostile
 * server hold the worker longer. (fetch_transfer.c retries a wrong answer to a Range once,
 * as a request without one.) */
int fo__fetch_retryable(int err, long status) {
  if (err == FO_ETRANSPORT || err == -ETIMEDOUT)
    return 1;
  return err == FO_EHTTP && (status == 429 || (status >= 500 && status <= 599));
}
