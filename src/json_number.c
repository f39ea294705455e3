/* JSON numbers and literals: the syntax check jsmn leaves to us (its strict mode takes any run
 * of printable bytes as a primitive), and conversion that does not depend on the C locale. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/fanout.h"
#include "json_internal.h"

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int check_literal(const char *s, size_t n, const char *lit) {
  size_t ln = strlen(lit);
  if (n > ln || memcmp(s, lit, n) != 0)
    return FO__TEXT_BAD;
  return n == ln ? FO__TEXT_OK : FO__TEXT_PREFIX;
}

int fo__json_check_primitive(const char *s, size_t n) {
  if (n == 0)
    return FO__TEXT_PREFIX;
  switch (s[0]) {
  case 't':
    return check_literal(s, n, "true");
  case 'f':
    return check_literal(s, n, "false");
  case 'n':
    return check_literal(s, n, "null");
  default:
    break;
  }
  /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  size_t i = 0;
  if (s[i] == '-')
    i++;
  if (i == n)
    return FO__TEXT_PREFIX;
  if (s[i] == '0')
    i++;
  else if (s[i] >= '1' && s[i] <= '9')
    while (i < n && is_digit(s[i]))
      i++;
  else
    return FO__TEXT_BAD;
  if (i < n && s[i] == '.') {
    if (++i == n)
      return FO__TEXT_PREFIX;
    if (!is_digit(s[i]))
      return FO__TEXT_BAD;
    while (i < n && is_digit(s[i]))
      i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    if (++i == n)
      return FO__TEXT_PREFIX;
    if (s[i] == '+' || s[i] == '-')
      if (++i == n)
        return FO__TEXT_PREFIX;
    if (!is_digit(s[i]))
      return FO__TEXT_BAD;
    while (i < n && is_digit(s[i]))
      i++;
  }
  return i == n ? FO__TEXT_OK : FO__TEXT_BAD;
}

/* Powers of ten that are exact doubles: with a mantissa below 2^53 one multiply or divide by
 * them is a single correctly rounded operation (Clinger's fast path). */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Enough significant digits to round any decimal correctly (a double's exact decimal expansion
 * has at most 767); a dropped tail is represented by one nonzero sticky digit. */
#define SIG_DIGITS 780

/* The parts of a checked number: digits (int part then fraction, leading zeros dropped), and the
 * power of ten that scales them. */
typedef struct {
  int neg;
  const char *int_s, *frac_s;
  size_t int_n, frac_n;
  long long exp; /* written exponent, saturated far beyond any double */
} num_parts;

static void split(const char *s, size_t n, num_parts *p) {
  const char *end = s + n;
  memset(p, 0, sizeof *p);
  if (*s == '-') {
    p->neg = 1;
    s++;
  }
  p->int_s = s;
  while (s < end && is_digit(*s))
    s++;
  p->int_n = (size_t)(s - p->int_s);
  if (s < end && *s == '.') {
    p->frac_s = ++s;
    while (s < end && is_digit(*s))
      s++;
    p->frac_n = (size_t)(s - p->frac_s);
  }
  if (s < end) { /* e or E */
    s++;
    int eneg = 0;
    if (*s == '+' || *s == '-')
      eneg = *s++ == '-';
    long long e = 0;
    for (; s < end; s++)
      if (e < 100000000)
        e = e * 10 + (*s - '0');
    p->exp = eneg ? -e : e;
  }
}

/* The slow path: rewrite as "<digits>e<exp>" (no radix character, so the locale's decimal point
 * cannot matter) and let strtod round it. */
static int slow_double(const num_parts *p, double *out) {
  char buf[SIG_DIGITS + 32];
  size_t k = 0, seen = 0;
  int sticky = 0;
  long long scale = p->exp - (long long)p->frac_n;
  if (p->neg)
    buf[k++] = '-';
  size_t lead = k;
  for (int part = 0; part < 2; part++) {
    const char *d = part == 0 ? p->int_s : p->frac_s;
    size_t dn = part == 0 ? p->int_n : p->frac_n;
    for (size_t i = 0; i < dn; i++) {
      if (k == lead && d[i] == '0')
        continue; /* leading zero */
      if (seen < SIG_DIGITS)
        buf[k++] = d[i];
      else {
        scale++; /* dropped digit: the kept ones move up a place */
        sticky |= d[i] != '0';
      }
      seen++;
    }
  }
  if (k == lead) {
    *out = p->neg ? -0.0 : 0.0;
    return 0;
  }
  if (sticky) {
    buf[k++] = '1';
    scale--;
  }
  /* the exponent by hand: snprintf would cost as much as the conversion */
  buf[k++] = 'e';
  if (scale < 0) {
    buf[k++] = '-';
    scale = -scale;
  }
  char digits[24];
  size_t nd = 0;
  do {
    digits[nd++] = (char)('0' + scale % 10);
    scale /= 10;
  } while (scale > 0);
  while (nd > 0)
    buf[k++] = digits[--nd];
  buf[k] = '\0';
  errno = 0;
  double d = strtod(buf, NULL);
  *out = d;
  if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
    return -ERANGE;
  return 0;
}

int fo__json_to_double(const char *s, size_t n, double *out) {
  num_parts p;
  split(s, n, &p);
  uint64_t m = 0;
  int nd = 0, exact = 1;
  const uint64_t limit = (uint64_t)1 << 53;
  long long scale = p.exp - (long long)p.frac_n;
  for (int part = 0; part < 2 && exact; part++) {
    const char *d = part == 0 ? p.int_s : p.frac_s;
    size_t dn = part == 0 ? p.int_n : p.frac_n;
    for (size_t i = 0; i < dn; i++) {
      if (nd == 0 && d[i] == '0')
        continue;
      /* 16 digits such as -70.61521741360424 often still fit 2^53, where a double holds
       * them exactly */
      if (++nd > 16 || (m = m * 10 + (uint64_t)(d[i] - '0')) > limit) {
        exact = 0;
        break;
      }
    }
  }
  if (exact && m == 0) {
    *out = p.neg ? -0.0 : 0.0;
    return 0;
  }
  if (exact && scale >= -22 && scale <= 22) {
    double d = (double)m;
    d = scale >= 0 ? d * pow10_exact[scale] : d / pow10_exact[-scale];
    *out = p.neg ? -d : d;
    return 0;
  }
  return slow_double(&p, out);
}

int fo__json_to_int64(const char *s, size_t n, int64_t *out) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
      return FO_EJSONTYPE;
  int neg = s[0] == '-';
  /* Accumulate negatively: INT64_MIN has no positive counterpart. */
  int64_t v = 0;
  for (size_t i = (size_t)neg; i < n; i++) {
    int d = s[i] - '0';
    if (v < (INT64_MIN + d) / 10)
      return -ERANGE;
    v = v * 10 - d;
  }
  if (!neg) {
    if (v == INT64_MIN)
      return -ERANGE;
    v = -v;
  }
  *out = v;
  return 0;
}
