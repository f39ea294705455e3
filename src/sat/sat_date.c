/* Dates in the two styles the API mixes: "2020-06-19 21:46:09" and "2020-10-13T04:16:08" (with
 * a fraction on EPOCH), and plain "2019-05-24" for launch and decay days. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fanout/sat.h"

/* n digits at s as a number, or -1. */
static long digits(const char *s, size_t n) {
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

static int days_in_month(long year, long month) {
  static const unsigned char days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return days[month - 1] + (month == 2 && leap);
}

int fo_sat_parse_date(const char *s, size_t n, fo_sat_time *out) {
  if (s == NULL || out == NULL)
    return -EINVAL;
  memset(out, 0, sizeof *out);
  /* the longest form, "YYYY-MM-DDTHH:MM:SS.fffffffffZ": nothing longer is a date, and its last
   * byte (looked at first, for the 'Z') may lie past the caller's buffer */
  if (n > 30)
    return FO_EDATE;
  if (n > 0 && s[n - 1] == 'Z')
    n--;
  if (n < 10 || s[4] != '-' || s[7] != '-')
    return FO_EDATE;
  long y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
    return FO_EDATE;
  out->year = (int)y;
  out->month = (int)mo;
  out->day = (int)d;
  if (n == 10)
    return 0;
  if (n < 19 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return FO_EDATE;
  long h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
  /* 60 is a leap second, which UTC dates may carry. */
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
    return FO_EDATE;
  long ns = 0;
  if (n > 19) {
    size_t fn = n - 20;
    if (s[19] != '.' || fn < 1 || fn > 9 || digits(s + 20, fn) < 0)
      return FO_EDATE;
    ns = digits(s + 20, fn);
    for (size_t i = fn; i < 9; i++)
      ns *= 10;
  }
  out->hour = (int)h;
  out->minute = (int)mi;
  out->second = (int)sec;
  out->nanosecond = ns;
  out->has_time = 1;
  return 0;
}
