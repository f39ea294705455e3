/* JSON numbers and literals: the syntax check jsmn leaves to us (its strict mode takes any run
 * of printable bytes as a primitive), and conversion that does not depend on the C locale. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/fanout.h"
#include "json/json_internal.h"

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

/* Powers of five as 128-bit fractions, most significant bit set: 5^q scaled by a power of two,
 * truncated for q >= 0, and for q < 0 one more than the floor of the reciprocal (the table of
 * Lemire's fast_float, for the powers a double's printed form usually needs; generated with
 * exact integers by the formula in fast_float's script). Outside this range strtod decides. */
#define POW5_MIN (-40)
#define POW5_MAX 40
static const uint64_t pow5_128[POW5_MAX - POW5_MIN + 1][2] = {
    {0x8b61313bbabce2c6u, 0x2323ac4b3b3da015u}, /* 5^-40 */
    {0xae397d8aa96c1b77u, 0xabec975e0a0d081au}, /* 5^-39 */
    {0xd9c7dced53c72255u, 0x96e7bd358c904a21u}, /* 5^-38 */
    {0x881cea14545c7575u, 0x7e50d64177da2e54u}, /* 5^-37 */
    {0xaa242499697392d2u, 0xdde50bd1d5d0b9e9u}, /* 5^-36 */
    {0xd4ad2dbfc3d07787u, 0x955e4ec64b44e864u}, /* 5^-35 */
    {0x84ec3c97da624ab4u, 0xbd5af13bef0b113eu}, /* 5^-34 */
    {0xa6274bbdd0fadd61u, 0xecb1ad8aeacdd58eu}, /* 5^-33 */
    {0xcfb11ead453994bau, 0x67de18eda5814af2u}, /* 5^-32 */
    {0x81ceb32c4b43fcf4u, 0x80eacf948770ced7u}, /* 5^-31 */
    {0xa2425ff75e14fc31u, 0xa1258379a94d028du}, /* 5^-30 */
    {0xcad2f7f5359a3b3eu, 0x096ee45813a04330u}, /* 5^-29 */
    {0xfd87b5f28300ca0du, 0x8bca9d6e188853fcu}, /* 5^-28 */
    {0x9e74d1b791e07e48u, 0x775ea264cf55347eu}, /* 5^-27 */
    {0xc612062576589ddau, 0x95364afe032a819eu}, /* 5^-26 */
    {0xf79687aed3eec551u, 0x3a83ddbd83f52205u}, /* 5^-25 */
    {0x9abe14cd44753b52u, 0xc4926a9672793543u}, /* 5^-24 */
    {0xc16d9a0095928a27u, 0x75b7053c0f178294u}, /* 5^-23 */
    {0xf1c90080baf72cb1u, 0x5324c68b12dd6339u}, /* 5^-22 */
    {0x971da05074da7beeu, 0xd3f6fc16ebca5e04u}, /* 5^-21 */
    {0xbce5086492111aeau, 0x88f4bb1ca6bcf585u}, /* 5^-20 */
    {0xec1e4a7db69561a5u, 0x2b31e9e3d06c32e6u}, /* 5^-19 */
    {0x9392ee8e921d5d07u, 0x3aff322e62439fd0u}, /* 5^-18 */
    {0xb877aa3236a4b449u, 0x09befeb9fad487c3u}, /* 5^-17 */
    {0xe69594bec44de15bu, 0x4c2ebe687989a9b4u}, /* 5^-16 */
    {0x901d7cf73ab0acd9u, 0x0f9d37014bf60a11u}, /* 5^-15 */
    {0xb424dc35095cd80fu, 0x538484c19ef38c95u}, /* 5^-14 */
    {0xe12e13424bb40e13u, 0x2865a5f206b06fbau}, /* 5^-13 */
    {0x8cbccc096f5088cbu, 0xf93f87b7442e45d4u}, /* 5^-12 */
    {0xafebff0bcb24aafeu, 0xf78f69a51539d749u}, /* 5^-11 */
    {0xdbe6fecebdedd5beu, 0xb573440e5a884d1cu}, /* 5^-10 */
    {0x89705f4136b4a597u, 0x31680a88f8953031u}, /* 5^-9 */
    {0xabcc77118461cefcu, 0xfdc20d2b36ba7c3eu}, /* 5^-8 */
    {0xd6bf94d5e57a42bcu, 0x3d32907604691b4du}, /* 5^-7 */
    {0x8637bd05af6c69b5u, 0xa63f9a49c2c1b110u}, /* 5^-6 */
    {0xa7c5ac471b478423u, 0x0fcf80dc33721d54u}, /* 5^-5 */
    {0xd1b71758e219652bu, 0xd3c36113404ea4a9u}, /* 5^-4 */
    {0x83126e978d4fdf3bu, 0x645a1cac083126eau}, /* 5^-3 */
    {0xa3d70a3d70a3d70au, 0x3d70a3d70a3d70a4u}, /* 5^-2 */
    {0xccccccccccccccccu, 0xcccccccccccccccdu}, /* 5^-1 */
    {0x8000000000000000u, 0x0000000000000000u}, /* 5^0 */
    {0xa000000000000000u, 0x0000000000000000u}, /* 5^1 */
    {0xc800000000000000u, 0x0000000000000000u}, /* 5^2 */
    {0xfa00000000000000u, 0x0000000000000000u}, /* 5^3 */
    {0x9c40000000000000u, 0x0000000000000000u}, /* 5^4 */
    {0xc350000000000000u, 0x0000000000000000u}, /* 5^5 */
    {0xf424000000000000u, 0x0000000000000000u}, /* 5^6 */
    {0x9896800000000000u, 0x0000000000000000u}, /* 5^7 */
    {0xbebc200000000000u, 0x0000000000000000u}, /* 5^8 */
    {0xee6b280000000000u, 0x0000000000000000u}, /* 5^9 */
    {0x9502f90000000000u, 0x0000000000000000u}, /* 5^10 */
    {0xba43b74000000000u, 0x0000000000000000u}, /* 5^11 */
    {0xe8d4a51000000000u, 0x0000000000000000u}, /* 5^12 */
    {0x9184e72a00000000u, 0x0000000000000000u}, /* 5^13 */
    {0xb5e620f480000000u, 0x0000000000000000u}, /* 5^14 */
    {0xe35fa931a0000000u, 0x0000000000000000u}, /* 5^15 */
    {0x8e1bc9bf04000000u, 0x0000000000000000u}, /* 5^16 */
    {0xb1a2bc2ec5000000u, 0x0000000000000000u}, /* 5^17 */
    {0xde0b6b3a76400000u, 0x0000000000000000u}, /* 5^18 */
    {0x8ac7230489e80000u, 0x0000000000000000u}, /* 5^19 */
    {0xad78ebc5ac620000u, 0x0000000000000000u}, /* 5^20 */
    {0xd8d726b7177a8000u, 0x0000000000000000u}, /* 5^21 */
    {0x878678326eac9000u, 0x0000000000000000u}, /* 5^22 */
    {0xa968163f0a57b400u, 0x0000000000000000u}, /* 5^23 */
    {0xd3c21bcecceda100u, 0x0000000000000000u}, /* 5^24 */
    {0x84595161401484a0u, 0x0000000000000000u}, /* 5^25 */
    {0xa56fa5b99019a5c8u, 0x0000000000000000u}, /* 5^26 */
    {0xcecb8f27f4200f3au, 0x0000000000000000u}, /* 5^27 */
    {0x813f3978f8940984u, 0x4000000000000000u}, /* 5^28 */
    {0xa18f07d736b90be5u, 0x5000000000000000u}, /* 5^29 */
    {0xc9f2c9cd04674edeu, 0xa400000000000000u}, /* 5^30 */
    {0xfc6f7c4045812296u, 0x4d00000000000000u}, /* 5^31 */
    {0x9dc5ada82b70b59du, 0xf020000000000000u}, /* 5^32 */
    {0xc5371912364ce305u, 0x6c28000000000000u}, /* 5^33 */
    {0xf684df56c3e01bc6u, 0xc732000000000000u}, /* 5^34 */
    {0x9a130b963a6c115cu, 0x3c7f400000000000u}, /* 5^35 */
    {0xc097ce7bc90715b3u, 0x4b9f100000000000u}, /* 5^36 */
    {0xf0bdc21abb48db20u, 0x1e86d40000000000u}, /* 5^37 */
    {0x96769950b50d88f4u, 0x1314448000000000u}, /* 5^38 */
    {0xbc143fa4e250eb31u, 0x17d955a000000000u}, /* 5^39 */
    {0xeb194f8e1ae525fdu, 0x5dcfab0800000000u}, /* 5^40 */
};

/* The full product a * b: high and low 64 bits. */
static void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
#if defined(__SIZEOF_INT128__)
  __extension__ typedef unsigned __int128 u128;
  u128 r = (u128)a * b;
  *hi = (uint64_t)(r >> 64);
  *lo = (uint64_t)r;
#else /* 32-bit targets: four partial products */
  uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
  *lo = (mid << 32) | (uint32_t)p00;
  *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/* w * 10^q for an exact significand w > 0 of at most 19 digits, correctly rounded to nearest
 * even: the Eisel-Lemire algorithm, in the form proven to need no fallback for a 128-bit table
 * (Mushtak and Lemire, "Fast number parsing without fallback", 2023). Returns 0 and leaves *out
 * alone when q is outside the table or the result is not a normal double (subnormals, zero and
 * overflow go to strtod, which also sets ERANGE). */
static int eisel_lemire(uint64_t w, long long q, int neg, double *out) {
  if (q < POW5_MIN || q > POW5_MAX)
    return 0;
  int lz = __builtin_clzll(w);
  w <<= lz;
  const uint64_t *t = pow5_128[q - POW5_MIN];
  uint64_t hi, lo, hi2, lo2;
  mul_64x64(w, t[0], &hi, &lo);
  const uint64_t precision_mask = UINT64_MAX >> 55; /* 52 mantissa bits + 3 */
  if ((hi & precision_mask) == precision_mask) {
    mul_64x64(w, t[1], &hi2, &lo2);
    lo += hi2;
    hi += hi2 > lo;
  }
  int upper = (int)(hi >> 63), shift = upper + 64 - 52 - 3;
  uint64_t mant = hi >> shift;
  /* floor(q * log2(10)) + 63, as (217706 * q) >> 16 with the floor written out for q < 0 */
  long v = 217706L * (long)q;
  long pow2 = (v >= 0 ? v >> 16 : -((-v + 65535) >> 16)) + 63 + upper - lz + 1023;
  if (pow2 <= 0)
    return 0;
  /* A tie can only be exact where 5^q fits 64 bits; then round to even, not up. */
  if (lo <= 1 && q >= -4 && q <= 23 && (mant & 3) == 1 && (mant << shift) == hi)
    mant &= ~(uint64_t)1;
  mant += mant & 1;
  mant >>= 1;
  if (mant >= (uint64_t)2 << 52) {
    mant = (uint64_t)1 << 52;
    pow2++;
  }
  if (pow2 >= 0x7ff)
    return 0;
  uint64_t bits = (mant & ~((uint64_t)1 << 52)) | (uint64_t)pow2 << 52 | (uint64_t)neg << 63;
  memcpy(out, &bits, sizeof bits); /* doubles and 64-bit integers share a byte order here */
  return 1;
}

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
 * cannot matter) and let strtod round it. The significand is not zero: the caller returned zero
 * itself. */
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
  /* One pass over the checked text for the common case: the significant digits while they fit
   * a 64-bit word (any 19 do), and the power of ten that scales them. */
  const char *p = s, *end = s + n;
  int neg = *p == '-', nd = 0;
  p += neg;
  uint64_t m = 0;
  long long scale = 0, e = 0;
  for (int frac = 0; p < end; p++) {
    if (*p == '.') {
      frac = 1;
      continue;
    }
    if (!is_digit(*p))
      break;
    scale -= frac;
    if (nd == 0 && *p == '0')
      continue;
    if (++nd <= 19)
      m = m * 10 + (uint64_t)(*p - '0');
  }
  if (p < end) { /* e or E */
    int eneg = *++p == '-';
    p += *p == '+' || *p == '-';
    for (; p < end; p++)
      if (e < 100000000)
        e = e * 10 + (*p - '0');
    scale += eneg ? -e : e;
  }
  if (nd == 0) {
    *out = neg ? -0.0 : 0.0;
    return 0;
  }
  if (nd <= 19) {
    /* Clinger's fast path: an exact mantissa and an exact power, one rounding */
    if (m <= (uint64_t)1 << 53 && scale >= -22 && scale <= 22) {
      double d = (double)m;
      d = scale >= 0 ? d * pow10_exact[scale] : d / pow10_exact[-scale];
      *out = neg ? -d : d;
      return 0;
    }
    if (eisel_lemire(m, scale, neg, out))
      return 0;
  }
  num_parts parts;
  split(s, n, &parts);
  return slow_double(&parts, out);
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
