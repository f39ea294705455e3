/* The JSON module's private parts: the tree over jsmn's tokens (json.c, json_parse.c,
 * json_string.c, json_number.c) and the scanning kernels that the satellite module's selective
 * reader shares. Not installed. */
#ifndef FO_SRC_JSON_INTERNAL_H
#define FO_SRC_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fanout/json.h"

/* What the JSON files share: the document layout, jsmn's token type, and the text checks and
 * conversions that work on a span of bytes. */

/* Only json_parse.c compiles jsmn's functions (static there, so no jsmn_ symbol leaves the
 * library); everywhere else the header gives the token type alone. */
#ifndef JSMN_H
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_HEADER
#include "json/jsmn/jsmn.h" /* vendored, pinned: src/json/jsmn/README */
#undef JSMN_HEADER
#endif
#ifndef JSMN_PARENT_LINKS
#error "the JSON layer needs jsmn's parent links (linear-time closing and skipping)"
#endif

/* A document, or a view of one array element lent by fo_json_each(). Tokens are jsmn's, in
 * document order; handles first..end-1 are valid. A key's value is the token after it (jsmn
 * makes it the key's child). */
struct fo_json {
  const char *buf;
  size_t len;
  jsmntok_t *tok;
  int first;
  int end;
  int escapes; /* some string holds a backslash (for a view: somewhere in the input so far) */
};

/* Outcome of checking a span of text. */
enum { FO__TEXT_BAD = -1, FO__TEXT_OK = 0, FO__TEXT_PREFIX = 1, FO__TEXT_ESCAPED = 2 };

/* String contents (between the quotes): no raw control bytes, valid escapes, paired surrogates,
 * valid UTF-8. OK, or ESCAPED when valid and holding an escape. partial: the span may stop
 * inside an escape or a sequence (PREFIX). */
int fo__json_check_string(const char *s, size_t n, int partial);
/* Whether n bytes hold no control byte, no backslash and nothing above 0x7f. Then every string
 * in them is valid as it stands and decodes to itself, which is what API answers look like. */
int fo__json_plain(const char *s, size_t n);
/* A number or literal. Returns PREFIX for a proper beginning of one ("-", "1e", "tr"). */
int fo__json_check_primitive(const char *s, size_t n);
/* Decode checked string contents; out NULL only counts. Returns the decoded length (<= n). */
size_t fo__json_unescape(const char *s, size_t n, char *out);
/* Checked string contents against plain bytes: 1 equal, 0 not. */
int fo__json_text_equals(const char *s, size_t n, const char *key, size_t keylen);
/* Checked number text to double: 0 or -ERANGE. */
int fo__json_to_double(const char *s, size_t n, double *out);
/* Checked number text to int64: 0, -ERANGE, or FO_EJSONTYPE (fraction or exponent). */
int fo__json_to_int64(const char *s, size_t n, int64_t *out);

/* The token after v's whole value (for a key: after its value), found by the spans of the
 * tokens in O(log size); limit bounds the search. */
int fo__json_skip(const jsmntok_t *tok, int v, int limit);

/* Set err's offset to at (at most len), and its line and column, counted over buf. */
void fo__json_locate(const char *buf, size_t len, size_t at, fo_json_error *err);

/* Finding the bytes a string scan must stop at, and the end of a digit run, many bytes at a time. The kernel is chosen when
 * compiling, never at run time: SSE2 on x86-64, NEON on little-endian AArch64, and elsewhere
 * (or with FO_JSON_SCAN_SWAR defined) a portable 64-bit SWAR word test. */

#if !defined(FO_JSON_SCAN_SWAR) && defined(__SSE2__)
#include <emmintrin.h>
#define FO__JSON_SCAN_KERNEL "sse2"
#elif !defined(FO_JSON_SCAN_SWAR) && defined(__aarch64__) && defined(__ARM_NEON) &&              \
    defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <arm_neon.h>
#define FO__JSON_SCAN_KERNEL "neon"
#else
#define FO__JSON_SCAN_KERNEL "swar"
#endif

/* A word with the high bit of each byte set where the byte is '"', '\\', below 0x20 or above
 * 0x7f, and no other bit. Every test is done on the low seven bits, where adding a constant of
 * at most 0x80 cannot carry into the next byte, so no byte disturbs its neighbours. */
static inline uint64_t fo__json_swar_stops(uint64_t x) {
  const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
  uint64_t low = x & ~high;
  uint64_t from_space = (low + ones * (0x80 - 0x20)) & high; /* low >= 0x20 */
  uint64_t quote = low ^ (ones * '"'), backslash = low ^ (ones * '\\');
  uint64_t is_quote = ~(quote + ones * 0x7f) & high; /* quote byte == 0 */
  uint64_t is_backslash = ~(backslash + ones * 0x7f) & high;
  return (x & high) | (~from_space & high) | is_quote | is_backslash;
}

/* Index of the first byte, in memory order, whose high bit is set in a nonzero stop word. The
 * word was loaded with memcpy, so where the first byte lands depends on the byte order. */
static inline unsigned fo__json_swar_first(uint64_t stops) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return (unsigned)__builtin_clzll(stops) / 8;
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return (unsigned)__builtin_ctzll(stops) / 8;
#else
#error "unknown byte order"
#endif
}

/* The first byte in [p, end) that is '"', '\\', a control byte or above 0x7f; end if none. */
static inline const char *fo__json_scan_string(const char *p, const char *end) {
#if defined(__SSE2__) && !defined(FO_JSON_SCAN_SWAR)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* signed compare: bytes above 0x7f are negative, so below 0x20 too */
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                             _mm_cmplt_epi8(x, space));
    unsigned bits = (unsigned)_mm_movemask_epi8(m);
    if (bits != 0)
      return p + __builtin_ctz(bits);
    p += 16;
  }
#elif defined(__aarch64__) && defined(__ARM_NEON) && !defined(FO_JSON_SCAN_SWAR) &&             \
    defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint8x16_t quote = vdupq_n_u8('"'), backslash = vdupq_n_u8('\\');
  const uint8x16_t space = vdupq_n_u8(0x20), high = vdupq_n_u8(0x80);
  while (end - p >= 16) {
    uint8x16_t x = vld1q_u8((const uint8_t *)p);
    uint8x16_t m = vorrq_u8(vorrq_u8(vceqq_u8(x, quote), vceqq_u8(x, backslash)),
                            vorrq_u8(vcltq_u8(x, space), vcgeq_u8(x, high)));
    /* four bits a byte, in order: shift each 16-bit lane right by 4 and keep the low byte */
    uint64_t bits = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
    if (bits != 0)
      return p + (__builtin_ctzll(bits) >> 2);
    p += 16;
  }
#endif
  while (end - p >= 8) {
    uint64_t x;
    memcpy(&x, p, sizeof x);
    uint64_t stops = fo__json_swar_stops(x);
    if (stops != 0)
      return p + fo__json_swar_first(stops);
    p += 8;
  }
  for (; p < end; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\' || c < 0x20 || c > 0x7f)
      break;
  }
  return p;
}

/* Past the digits at p, 16 bytes at a time where the kernel has vectors; the caller finishes
 * the run a byte at a time (the last bytes, and every byte with the SWAR kernel: digit runs are
 * short, and a word test did not pay for itself). */
static inline const char *fo__json_scan_digits(const char *p, const char *end) {
#if defined(__SSE2__) && !defined(FO_JSON_SCAN_SWAR)
  const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
  while (end - p >= 16) {
    __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), zero);
    __m128i d = _mm_cmpeq_epi8(_mm_min_epu8(x, nine), x); /* byte - '0' <= 9, unsigned */
    unsigned other = ~(unsigned)_mm_movemask_epi8(d) & 0xffffu;
    if (other != 0)
      return p + __builtin_ctz(other);
    p += 16;
  }
#elif defined(__aarch64__) && defined(__ARM_NEON) && !defined(FO_JSON_SCAN_SWAR) &&             \
    defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint8x16_t zero = vdupq_n_u8('0'), nine = vdupq_n_u8(9);
  while (end - p >= 16) {
    uint8x16_t other = vcgtq_u8(vsubq_u8(vld1q_u8((const uint8_t *)p), zero), nine);
    uint64_t bits =
        vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(other), 4)), 0);
    if (bits != 0)
      return p + (__builtin_ctzll(bits) >> 2);
    p += 16;
  }
#endif
  (void)end;
  return p;
}

#endif /* FO_SRC_JSON_INTERNAL_H */
