/* JSON string contents: the strict check jsmn does not do (raw control bytes, UTF-8, surrogate
 * pairs), decoding to UTF-8, and comparing with a plain key without decoding into memory. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "json/json_internal.h"

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Eight bytes that need no attention: no control byte, no backslash, no byte above 0x7f.
 * Strings in API answers are long runs of such bytes, so this carries most of the check. */
static int plain8(const unsigned char *s) {
  uint64_t w;
  memcpy(&w, s, sizeof w);
  uint64_t ctl = (w - ONES * 0x20) & ~w;
  uint64_t b = w ^ (ONES * '\\');
  uint64_t bs = (b - ONES) & ~b;
  return ((ctl | bs | w) & HIGHS) == 0;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Four hex digits at s (avail bytes there): the code unit, -1 bad, -2 cut short. */
static long hex4(const unsigned char *s, size_t avail) {
  long v = 0;
  for (size_t i = 0; i < 4; i++) {
    if (i == avail)
      return -2;
    int h = hexval(s[i]);
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  return v;
}

/* An escape at *ps (pointing at the backslash). Advances past it. */
static int check_escape(const unsigned char **ps, const unsigned char *end) {
  const unsigned char *s = *ps;
  if (end - s < 2)
    return FO__TEXT_PREFIX;
  switch (s[1]) {
  case '"':
  case '\\':
  case '/':
  case 'b':
  case 'f':
  case 'n':
  case 'r':
  case 't':
    *ps = s + 2;
    return FO__TEXT_OK;
  case 'u':
    break;
  default:
    return FO__TEXT_BAD;
  }
  long hi = hex4(s + 2, (size_t)(end - s - 2));
  if (hi < 0)
    return hi == -2 ? FO__TEXT_PREFIX : FO__TEXT_BAD;
  if (hi >= 0xDC00 && hi <= 0xDFFF)
    return FO__TEXT_BAD; /* a low surrogate with no high one before it */
  if (hi < 0xD800 || hi > 0xDBFF) {
    *ps = s + 6;
    return FO__TEXT_OK;
  }
  /* A high surrogate means nothing alone: the low half must follow as \uDC00..\uDFFF. */
  s += 6;
  if (s == end)
    return FO__TEXT_PREFIX;
  if (s[0] != '\\')
    return FO__TEXT_BAD;
  if (s + 1 == end)
    return FO__TEXT_PREFIX;
  if (s[1] != 'u')
    return FO__TEXT_BAD;
  long lo = hex4(s + 2, (size_t)(end - s - 2));
  if (lo == -2)
    return FO__TEXT_PREFIX;
  if (lo < 0xDC00 || lo > 0xDFFF)
    return FO__TEXT_BAD;
  *ps = s + 6;
  return FO__TEXT_OK;
}

/* A UTF-8 sequence at *ps starting with a byte >= 0x80 (RFC 3629, table 4: no overlong forms,
 * no encoded surrogates, nothing above U+10FFFF). */
static int check_utf8(const unsigned char **ps, const unsigned char *end) {
  const unsigned char *s = *ps;
  unsigned c = s[0];
  size_t need;
  unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return FO__TEXT_BAD;
  }
  for (size_t i = 1; i <= need; i++) {
    if (s + i == end)
      return FO__TEXT_PREFIX;
    unsigned b = s[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
      return FO__TEXT_BAD;
  }
  *ps = s + need + 1;
  return FO__TEXT_OK;
}

int fo__json_plain(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str, *end = s + n;
  /* Four words a round, their flags or'ed, so the loop runs near the speed of memory. */
  while (end - s >= 32) {
    if (!(plain8(s) & plain8(s + 8) & plain8(s + 16) & plain8(s + 24)))
      return 0;
    s += 32;
  }
  while (end - s >= 8) {
    if (!plain8(s))
      return 0;
    s += 8;
  }
  for (; s < end; s++)
    if (*s < 0x20 || *s == '\\' || *s >= 0x80)
      return 0;
  return 1;
}

int fo__json_check_string(const char *str, size_t n, int partial) {
  const unsigned char *s = (const unsigned char *)str, *end = s + n;
  int escaped = 0;
  while (s < end) {
    while (end - s >= 8 && plain8(s))
      s += 8;
    if (s == end)
      break;
    unsigned c = *s;
    int r;
    if (c < 0x20)
      return FO__TEXT_BAD;
    if (c == '\\') {
      escaped = 1;
      r = check_escape(&s, end);
    } else if (c >= 0x80)
      r = check_utf8(&s, end);
    else {
      s++;
      continue;
    }
    if (r == FO__TEXT_BAD || (r == FO__TEXT_PREFIX && !partial))
      return FO__TEXT_BAD;
    if (r == FO__TEXT_PREFIX)
      return FO__TEXT_PREFIX;
  }
  return escaped ? FO__TEXT_ESCAPED : FO__TEXT_OK;
}

/* Decode the escape at *ps (checked) into out[0..3]; returns the bytes written. */
static size_t decode_escape(const unsigned char **ps, unsigned char *out) {
  const unsigned char *s = *ps;
  unsigned char c = s[1];
  *ps = s + 2;
  switch (c) {
  case 'b':
    out[0] = '\b';
    return 1;
  case 'f':
    out[0] = '\f';
    return 1;
  case 'n':
    out[0] = '\n';
    return 1;
  case 'r':
    out[0] = '\r';
    return 1;
  case 't':
    out[0] = '\t';
    return 1;
  case 'u':
    break;
  default: /* " \ / stand for themselves */
    out[0] = c;
    return 1;
  }
  unsigned long cp = (unsigned long)hex4(s + 2, 4);
  *ps = s + 6;
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    unsigned long low = (unsigned long)hex4(s + 8, 4);
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    *ps = s + 12;
  }
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | (cp >> 6));
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | (cp >> 12));
    out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | (cp >> 18));
  out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

size_t fo__json_unescape(const char *str, size_t n, char *out) {
  const unsigned char *s = (const unsigned char *)str, *end = s + n;
  size_t len = 0;
  while (s < end) {
    const unsigned char *bs = memchr(s, '\\', (size_t)(end - s));
    size_t run = (size_t)((bs != NULL ? bs : end) - s);
    if (out != NULL)
      memcpy(out + len, s, run);
    len += run;
    s += run;
    if (s == end)
      break;
    unsigned char tmp[4];
    size_t k = decode_escape(&s, tmp);
    if (out != NULL)
      memcpy(out + len, tmp, k);
    len += k;
  }
  return len;
}

int fo__json_text_equals(const char *str, size_t n, const char *key, size_t keylen) {
  const unsigned char *s = (const unsigned char *)str, *end = s + n;
  const unsigned char *k = (const unsigned char *)key, *kend = k + keylen;
  /* Decoding never lengthens, so a raw text shorter than the key cannot match. */
  if (n < keylen)
    return 0;
  while (s < end) {
    const unsigned char *bs = memchr(s, '\\', (size_t)(end - s));
    size_t run = (size_t)((bs != NULL ? bs : end) - s);
    if (run > (size_t)(kend - k) || memcmp(s, k, run) != 0)
      return 0;
    s += run;
    k += run;
    if (s == end)
      break;
    unsigned char tmp[4];
    size_t m = decode_escape(&s, tmp);
    if (m > (size_t)(kend - k) || memcmp(tmp, k, m) != 0)
      return 0;
    k += m;
  }
  return k == kend;
}
