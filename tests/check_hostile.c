/* Hostile input to the JSON and satellite layers: a corpus built in code (deep nesting, a
 * million elements, huge numbers, every bad escape and UTF-8 sequence, NUL bytes, a BOM,
 * whitespace floods, repeated keys), each run through every entry point with its time and its
 * peak allocation bounded; real and generated answers cut at every byte, losing no element
 * before the cut; and ids that are not 24 lowercase hex refused wherever an id comes in. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/json.h"
#include "fanout/sat.h"
#include "gen/starlink_gen.h"
#include "helpers/files.h"
#include "helpers/fixture.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "suites.h"

/* What json.h documents a token to cost; the bounds below are stated in tokens. */
#define TOKEN_BYTES 20u
/* The document header and allocator rounding on top of the tokens. */
#define SLACK_BYTES 256u

static const char id0[] = "5eed770f096e59000698560d";

/* For loops of thousands of checks: a ck_assert that passes is a write to Check's pipe. */
#define MUST(cond, ...)                                                                            \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ck_abort_msg(__VA_ARGS__);                                                                   \
  } while (0)

/* data[0..n) placed so that its last byte is the last readable one of g (made by guard_copy()
 * at least n long): one mapping serves every cut of one text. */
static const char *guard_place(guard_buf *g, size_t cap, const char *data, size_t n) {
  char *p = g->data + cap - n;
  memcpy(p, data, n);
  return p;
}

static int count_element(const fo_json *doc, int v, size_t index, void *arg) {
  (void)doc;
  (void)v;
  (void)index;
  ++*(size_t *)arg;
  return 0;
}

static int count_record(const fo_sat_record *rec, size_t index, void *arg) {
  (void)rec;
  (void)index;
  ++*(size_t *)arg;
  return 0;
}

/* ---------------------------------------------------------------- the corpus */

typedef struct {
  const char *name;
  char *(*make)(size_t *len);
  int rc;         /* fo_json_parse() with the defaults */
  size_t tokens;  /* tokens the whole document needs (0: it fails before it needs many) */
  double seconds; /* a generous bound on all entry points together, before scaling */
} hostile;

static char *deep_arrays(size_t *len) {
  return fx_repeat("", "[", 1000000, "", len);
}
static char *deep_objects(size_t *len) {
  return fx_repeat("", "{\"a\":", 200000, "1", len);
}
static char *deep_in_element(size_t *len) { /* deep inside the third element of a list */
  return fx_repeat("[{\"id\":\"5eed770f096e59000698560d\"},{},", "[{\"x\":", 300000, "", len);
}
static char *closes_flood(size_t *len) {
  return fx_repeat("[[]", "]", 1000000, "", len);
}
static char *million_zeros(size_t *len) {
  return fx_repeat("[", "0,", 999999, "0]", len);
}
static char *million_empty_objects(size_t *len) {
  return fx_repeat("[", "{},", 999999, "{}]", len);
}
static char *million_keys(size_t *len) {
  return fx_repeat("{", "\"id\":\"5eed770f096e59000698560d\",", 300000, "\"id\":\"x\"}", len);
}
static char *long_number(size_t *len) {
  return fx_repeat("[1", "0", 2000000, "]", len);
}
static char *long_fraction(size_t *len) {
  return fx_repeat("[0.", "0", 2000000, "1e-99999999999999999999999]", len);
}
static char *long_string(size_t *len) {
  return fx_repeat("[\"", "\\u00e9", 1000000, "\"]", len);
}
static char *escapes_flood_bad(size_t *len) {
  return fx_repeat("[\"", "\\n", 1000000, "\\x\"]", len);
}
static char *utf8_flood_bad(size_t *len) {
  return fx_repeat("[\"", "\xc3\xa9", 1000000, "\xc0\xaf\"]", len);
}
static char *whitespace_only(size_t *len) {
  return fx_repeat("", " \t\r\n", 2000000, "", len);
}
static char *whitespace_around(size_t *len) {
  return fx_repeat("\n", " ", 4000000, "[{\"id\":\"5eed770f096e59000698560d\"}]\t", len);
}
static char *whitespace_between(size_t *len) {
  return fx_repeat("[1", "        ,1", 500000, "]", len);
}
static char *bad_whitespace(size_t *len) { /* \v and \f are not JSON whitespace */
  return fx_repeat("[", "  ", 1000000, "\v1]", len);
}
static char *nul_flood(size_t *len) {
  char *s = fx_repeat("[", "0", 1000000, "]", len);
  memset(s + 1, '\0', *len - 2);
  return s;
}
static char *bom_then_list(size_t *len) {
  return fx_repeat("\xef\xbb\xbf[", "{\"id\":\"5eed770f096e59000698560d\"},", 3, "{}]", len);
}
static char *commas(size_t *len) {
  return fx_repeat("[1", ",", 1000000, "]", len);
}
static char *colons(size_t *len) {
  return fx_repeat("{\"a\"", ":", 1000000, "1}", len);
}

static const hostile corpus[] = {
    {"a million [", deep_arrays, FO_EJSONDEPTH, 0, 2},
    {"200,000 nested objects", deep_objects, FO_EJSONDEPTH, 0, 2},
    {"deep inside an element", deep_in_element, FO_EJSONDEPTH, 0, 2},
    {"a million ]", closes_flood, FO_EJSON, 0, 2},
    {"a million zeros", million_zeros, 0, 1000001, 3},
    {"a million {}", million_empty_objects, 0, 1000001, 3},
    {"300,000 repeated keys", million_keys, 0, 600003, 3},
    {"a 2,000,001-digit integer", long_number, 0, 2, 2},
    {"a 2,000,001-digit fraction", long_fraction, 0, 2, 2},
    {"a million escapes", long_string, 0, 2, 2},
    {"a million escapes, then a bad one", escapes_flood_bad, FO_EJSON, 0, 2},
    {"a million UTF-8 pairs, then an overlong one", utf8_flood_bad, FO_EJSON, 0, 2},
    {"8 MB of whitespace", whitespace_only, FO_EJSONTRUNC, 0, 2},
    {"4 MB of whitespace around a list", whitespace_around, 0, 4, 2},
    {"whitespace between elements", whitespace_between, 0, 500002, 3},
    {"a vertical tab", bad_whitespace, FO_EJSON, 0, 2},
    {"a million NUL bytes", nul_flood, FO_EJSON, 0, 2},
    {"a byte-order mark", bom_then_list, FO_EJSON, 0, 2},
    {"a million commas", commas, FO_EJSON, 0, 2},
    {"a million colons", colons, FO_EJSON, 0, 2},
};

/* Tokens held at once in the bounded runs: what a list element of the API needs (about 100)
 * with room to spare, far below what most of the corpus would need whole. */
#define CAP_TOKENS 2000u

START_TEST(corpus_in_bounded_time_and_memory) {
  for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
    const hostile *h = &corpus[i];
    size_t len, n = 0;
    char *s = h->make(&len);
    double t0 = tp_now_ms();

    /* Whole, with the defaults: the verdict, and tokens as documented. */
    fo_json *doc = NULL;
    ta_reset_peak();
    int rc = fo_json_parse(s, len, NULL, &doc, NULL);
    ck_assert_msg(rc == h->rc, "%s: %s", h->name, fo_strerror(rc));
    size_t bound = h->tokens * TOKEN_BYTES * 21 / 20 + (len / 36 + 16) * TOKEN_BYTES + SLACK_BYTES;
    ck_assert_msg(ta_peak_bytes() <= bound, "%s: %zu bytes for %zu tokens", h->name,
                  ta_peak_bytes(), h->tokens);
    if (rc == 0 && h->tokens > 0) {
      /* the walk ends on the last value whatever came before */
      int last = fo_json_first(doc, fo_json_root(doc));
      for (int k; last >= 0 && (k = fo_json_next(doc, last)) >= 0;)
        last = k;
      ck_assert_int_ge(last, 0);
    }
    fo_json_free(doc);

    /* With a cap on tokens: memory stays at the cap whatever the input. */
    fo_json_limits lim = {CAP_TOKENS, 0};
    ta_reset_peak();
    rc = fo_json_parse(s, len, &lim, &doc, NULL);
    ck_assert_msg(rc == (h->tokens > CAP_TOKENS ? FO_ETOOBIG : h->rc), "%s capped: %s", h->name,
                  fo_strerror(rc));
    fo_json_free(doc);
    ck_assert_msg(ta_peak_bytes() <= CAP_TOKENS * TOKEN_BYTES + SLACK_BYTES, "%s capped: %zu bytes",
                  h->name, ta_peak_bytes());

    /* Streamed, as a list and as satellite records: one element's tokens at a time. */
    ta_reset_peak();
    rc = fo_json_each(s, len, &lim, count_element, &n, NULL);
    ck_assert_msg(rc <= 0 && rc != -ENOMEM, "%s streamed: %d", h->name, rc);
    ck_assert_msg(ta_peak_bytes() <= CAP_TOKENS * TOKEN_BYTES, "%s streamed: %zu bytes", h->name,
                  ta_peak_bytes());
    ta_reset_peak();
    n = 0;
    rc = fo_sat_list_parse(s, len, &lim, count_record, &n, NULL);
    ck_assert_msg(rc <= 0 && rc != -ENOMEM, "%s as a list: %d", h->name, rc);
    ck_assert_msg(ta_peak_bytes() <= CAP_TOKENS * TOKEN_BYTES, "%s as a list: %zu bytes", h->name,
                  ta_peak_bytes());
    fo_sat_record rec;
    rc = fo_sat_parse(s, len, &lim, &rec, NULL);
    ck_assert_msg(rc < 0 && rc != -ENOMEM, "%s as a record: %d", h->name, rc);

    double ms = tp_now_ms() - t0;
    ck_assert_msg(ms <= tp_scaled(h->seconds) * 1000, "%s: %.0f ms", h->name, ms);
    ck_assert_int_eq(ta_outstanding(), 0);
    free(s);
  }
}
END_TEST

START_TEST(huge_numbers_convert_exactly_or_say_erange) {
  static const struct {
    const char *head, *unit;
    size_t times;
    const char *tail;
    int rc;
    double want;
  } nums[] = {
      {"1", "0", 100000, "e-100000", 0, 1.0},
      {"0.", "0", 100000, "1e100001", 0, 1.0},
      {"-0.", "0", 100000, "25e100001", 0, -2.5},
      {"1", "0", 400, "", -ERANGE, HUGE_VAL},
      {"-1", "0", 400, "", -ERANGE, -HUGE_VAL},
      {"1e", "9", 1000, "", -ERANGE, HUGE_VAL},
      {"1e-", "9", 1000, "", 0, 0.0},
      {"0e", "9", 1000, "", 0, 0.0},
      {"4.9406564584124654", "0", 1000, "e-324", 0, 4.9406564584124654e-324},
      {"1.7976931348623157", "0", 1000, "e308", 0, 1.7976931348623157e308},
      {"1.797693134862315807937", "9", 1000, "e308", -ERANGE, HUGE_VAL},
  };
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    size_t len;
    char *s = fx_repeat(nums[i].head, nums[i].unit, nums[i].times, nums[i].tail, &len);
    fo_json *doc;
    ck_assert_int_eq(fo_json_parse(s, len, NULL, &doc, NULL), 0);
    double d = 12345;
    int rc = fo_json_number(doc, fo_json_root(doc), &d);
    ck_assert_msg(rc == nums[i].rc && d == nums[i].want, "number %zu: %d %.17g", i, rc, d);
    fo_json_free(doc);
    free(s);
  }
  /* int64: exact at both ends, refused one past them, and refused written as a fraction */
  static const struct {
    const char *s;
    int rc;
  } ints[] = {
      {"9223372036854775807", 0},
      {"-9223372036854775808", 0},
      {"9223372036854775808", -ERANGE},
      {"-9223372036854775809", -ERANGE},
      {"99999999999999999999999999", -ERANGE},
      {"1e3", FO_EJSONTYPE},
  };
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    fo_json *doc;
    ck_assert_int_eq(fo_json_parse(ints[i].s, strlen(ints[i].s), NULL, &doc, NULL), 0);
    int64_t v = 7;
    int rc = fo_json_int64(doc, fo_json_root(doc), &v);
    ck_assert_msg(rc == ints[i].rc, "%s: %s", ints[i].s, fo_strerror(rc));
    if (rc == 0)
      ck_assert(v == (ints[i].s[0] == '-' ? INT64_MIN : INT64_MAX));
    fo_json_free(doc);
  }
  /* in a record: a position beyond a double and a catalogue number beyond int64 are errors */
  char doc[256];
  snprintf(doc, sizeof doc, "{\"id\":\"%s\",\"latitude\":1e400}", id0);
  fo_sat_record rec;
  ck_assert_int_eq(fo_sat_parse(doc, strlen(doc), NULL, &rec, NULL), -ERANGE);
  snprintf(doc, sizeof doc, "{\"id\":\"%s\",\"spaceTrack\":{\"NORAD_CAT_ID\":%s}}", id0,
           "18446744073709551616");
  ck_assert_int_eq(fo_sat_parse(doc, strlen(doc), NULL, &rec, NULL), -ERANGE);
}
END_TEST

/* ---------------------------------------------------------------- strings, byte by byte */

/* RFC 3629, table 3-7 of the Unicode standard: the length of the well-formed sequence at s, or
 * 0. Written from the table, not from the library, so the two can disagree. */
static size_t utf8_ok(const unsigned char *s, size_t n) {
  if (n == 0)
    return 0;
  unsigned char c = s[0];
  if (c < 0x80)
    return c >= 0x20 ? 1 : 0;
  unsigned char lo = 0x80, hi = 0xbf;
  size_t need;
  if (c >= 0xc2 && c <= 0xdf)
    need = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    need = 3;
    lo = c == 0xe0 ? 0xa0 : 0x80;
    hi = c == 0xed ? 0x9f : 0xbf;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 4;
    lo = c == 0xf0 ? 0x90 : 0x80;
    hi = c == 0xf4 ? 0x8f : 0xbf;
  } else
    return 0;
  if (n < need || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < need; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return need;
}

static int valid_text(const unsigned char *s, size_t n) {
  for (size_t i = 0, k; i < n; i += k)
    if ((k = utf8_ok(s + i, n - i)) == 0)
      return 0;
  return 1;
}

/* ["<bytes>"] through the parser: 0 or FO_EJSON, and a valid string reads back unchanged. */
static void check_bytes(const unsigned char *b, size_t n) {
  char s[16];
  s[0] = '[';
  s[1] = '"';
  memcpy(s + 2, b, n);
  s[n + 2] = '"';
  s[n + 3] = ']';
  fo_json *doc;
  int rc = fo_json_parse(s, n + 4, NULL, &doc, NULL);
  int want = valid_text(b, n) ? 0 : FO_EJSON;
  MUST(rc == want, "%02x %02x %02x %02x (%zu bytes): %s", b[0], n > 1 ? b[1] : 0, n > 2 ? b[2] : 0,
       n > 3 ? b[3] : 0, n, fo_strerror(rc));
  if (rc == 0) {
    char out[8];
    size_t len = 0;
    rc = fo_json_string(doc, fo_json_index(doc, 0, 0), out, sizeof out, &len);
    MUST(rc == 0 && len == n && memcmp(out, b, n) == 0, "%02x...: read back wrong", b[0]);
    fo_json_free(doc);
  }
}

/* Bytes that would end the string or start an escape: not UTF-8 questions. */
static int structural(unsigned c) {
  return c == '"' || c == '\\';
}

START_TEST(every_utf8_sequence_of_up_to_three_bytes_and_the_four_byte_edges) {
  unsigned char b[4];
  for (unsigned x = 0; x < 256; x++) {
    if (structural(x))
      continue;
    b[0] = (unsigned char)x;
    check_bytes(b, 1);
    for (unsigned y = 0; y < 256; y++) {
      if (structural(y))
        continue;
      b[1] = (unsigned char)y;
      check_bytes(b, 2);
      if (x < 0xc0)
        continue; /* three bytes after an ASCII or continuation lead add nothing new */
      for (unsigned z = 0x7f; z <= 0xc0; z++) {
        b[2] = (unsigned char)z;
        check_bytes(b, 3);
      }
    }
  }
  /* four bytes: every lead from 0xf0, the edges of the second byte's range, the third and
   * fourth in and just out of range */
  static const unsigned char second[] = {0x7f, 0x80, 0x8f, 0x90, 0xbf, 0xc0};
  static const unsigned char rest[] = {0x7f, 0x80, 0xbf, 0xc0};
  for (unsigned x = 0xf0; x < 0x100; x++)
    for (size_t i = 0; i < sizeof second; i++)
      for (size_t j = 0; j < sizeof rest; j++)
        for (size_t k = 0; k < sizeof rest; k++) {
          b[0] = (unsigned char)x;
          b[1] = second[i];
          b[2] = rest[j];
          b[3] = rest[k];
          check_bytes(b, 4);
        }
}
END_TEST

/* UTF-8 of a code point, written here rather than taken from the library. */
static size_t encode(unsigned long cp, unsigned char *o) {
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xc0 | cp >> 6);
    o[1] = (unsigned char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xe0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (unsigned char)(0xf0 | cp >> 18);
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (unsigned char)(0x80 | (cp & 0x3f));
  return 4;
}

static void check_escape(const char *text, int want, unsigned long cp) {
  fo_json *doc;
  int rc = fo_json_parse(text, strlen(text), NULL, &doc, NULL);
  MUST(rc == want, "%s: %s", text, fo_strerror(rc));
  if (rc != 0)
    return;
  unsigned char out[8], ref[4];
  size_t len = 0, n = encode(cp, ref);
  rc = fo_json_string(doc, fo_json_index(doc, 0, 0), (char *)out, sizeof out, &len);
  MUST(rc == 0 && len == n && memcmp(out, ref, n) == 0, "%s decodes wrong", text);
  fo_json_free(doc);
}

START_TEST(every_escape_and_every_code_unit) {
  char s[32];
  for (unsigned c = 0; c < 256; c++) { /* a backslash before every byte */
    snprintf(s, sizeof s, "[\"\\%c\"]", (char)c);
    const char *p = c != 0 ? strchr("\"\\/bfnrt", (int)c) : NULL;
    fo_json *doc;
    int rc = fo_json_parse(s, 6, NULL, &doc, NULL);
    MUST(rc == (p != NULL ? 0 : FO_EJSON), "\\%02x: %s", c, fo_strerror(rc));
    fo_json_free(doc);
  }
  for (unsigned long u = 0; u < 0x10000; u++) { /* every \uXXXX alone, in both cases */
    int lone_surrogate = u >= 0xd800 && u <= 0xdfff;
    snprintf(s, sizeof s, u % 2 ? "[\"\\u%04lx\"]" : "[\"\\u%04lX\"]", u);
    check_escape(s, lone_surrogate ? FO_EJSON : 0, u);
  }
  static const unsigned long lows[] = {0xdbff, 0xdc00, 0xdfff, 0xe000};
  for (unsigned long hi = 0xd800; hi < 0xdc00; hi++) /* every high half, with edge low halves */
    for (size_t k = 0; k < sizeof lows / sizeof lows[0]; k++) {
      snprintf(s, sizeof s, "[\"\\u%04lx\\u%04lx\"]", hi, lows[k]);
      int pair = lows[k] >= 0xdc00 && lows[k] <= 0xdfff;
      check_escape(s, pair ? 0 : FO_EJSON, 0x10000 + ((hi - 0xd800) << 10) + (lows[k] - 0xdc00));
    }
  /* a non-hex digit in each place */
  static const char *bad_hex[] = {"[\"\\ug000\"]", "[\"\\u0g00\"]", "[\"\\u00g0\"]",
                                  "[\"\\u000g\"]", "[\"\\u 000\"]", "[\"\\u-001\"]",
                                  "[\"\\u00\"]",   "[\"\\u\"]"};
  for (size_t i = 0; i < sizeof bad_hex / sizeof bad_hex[0]; i++)
    check_escape(bad_hex[i], FO_EJSON, 0);
}
END_TEST

/* ---------------------------------------------------------------- cut at every byte */

typedef struct {
  size_t count;
  char ids[64][FO_SAT_ID_LEN + 1];
} seen_ids;

static int keep_id(const fo_sat_record *rec, size_t index, void *arg) {
  seen_ids *s = arg;
  ck_assert_uint_eq(index, s->count);
  if (index < 64)
    memcpy(s->ids[index], rec->id, sizeof s->ids[index]);
  s->count++;
  return 0;
}

/* Where each element of a list ends (one past its closing brace). */
typedef struct {
  const char *base;
  size_t n, end[64];
} ends;

static int element_end(const fo_json *doc, int v, size_t index, void *arg) {
  ends *e = arg;
  const char *raw;
  size_t len;
  ck_assert_int_eq(fo_json_raw(doc, v, &raw, &len), 0);
  ck_assert_uint_lt(index, 64);
  e->end[e->n++] = (size_t)(raw - e->base) + len;
  return 0;
}

/* A list cut at byte `cut` is truncated, and every record that ended before the cut was handed
 * to the callback, in order: nothing read is lost when a connection drops. */
static void check_list_cut(const char *list, size_t cut, const ends *e, const seen_ids *all,
                           guard_buf *g, size_t cap) {
  seen_ids got = {0};
  int rc = fo_sat_list_parse(guard_place(g, cap, list, cut), cut, NULL, keep_id, &got, NULL);
  size_t want = 0;
  while (want < e->n && e->end[want] <= cut)
    want++;
  MUST(rc == FO_EJSONTRUNC, "cut at %zu: %s", cut, fo_strerror(rc));
  MUST(got.count == want, "cut at %zu: %zu records, %zu complete", cut, got.count, want);
  for (size_t i = 0; i < want && i < 64; i++)
    MUST(strcmp(got.ids[i], all->ids[i]) == 0, "cut at %zu: record %zu is %s", cut, i, got.ids[i]);
}

static void check_list_cuts(const char *list, size_t len, size_t stride) {
  ends e = {list, 0, {0}};
  ck_assert_int_eq(fo_json_each(list, len, NULL, element_end, &e, NULL), 0);
  seen_ids all = {0};
  ck_assert_int_eq(fo_sat_list_parse(list, len, NULL, keep_id, &all, NULL), 0);
  ck_assert_uint_eq(all.count, e.n);
  guard_buf g;
  guard_copy(&g, list, len);
  /* every byte near each element's end, and every stride-th byte in between */
  for (size_t cut = 0; cut < len; cut++) {
    int near = 0;
    for (size_t i = 0; i < e.n && !near; i++)
      near = cut + 8 >= e.end[i] && cut <= e.end[i] + 8;
    if (near || cut % stride == 0 || cut < 64)
      check_list_cut(list, cut, &e, &all, &g, len);
  }
  guard_free(&g);
}

/* A record cut at every byte is truncated; a NUL in place of any byte is malformed. */
static void check_doc_cuts(const char *doc, size_t len, const char *what) {
  fo_sat_record rec;
  ck_assert_msg(fo_sat_parse(doc, len, NULL, &rec, NULL) == 0, "%s does not parse", what);
  char *copy = malloc(len);
  ck_assert_ptr_nonnull(copy);
  guard_buf g;
  guard_copy(&g, doc, len);
  for (size_t cut = 0; cut < len; cut++) {
    int rc = fo_sat_parse(guard_place(&g, len, doc, cut), cut, NULL, &rec, NULL);
    MUST(rc == FO_EJSONTRUNC, "%s cut at %zu: %s", what, cut, fo_strerror(rc));
    memcpy(copy, doc, len);
    copy[cut] = '\0';
    rc = fo_sat_parse(copy, len, NULL, &rec, NULL);
    MUST(rc == FO_EJSON, "%s with a NUL at %zu: %s", what, cut, fo_strerror(rc));
  }
  guard_free(&g);
  free(copy);
}

START_TEST(generated_answers_cut_at_every_byte) {
  char doc[GEN_DOC_MAX];
  for (unsigned long i = 0; i < 4; i++) {
    size_t n = gen_starlink_doc(doc, i);
    check_doc_cuts(doc, n, "generated document");
  }
  size_t len;
  char *list = gen_starlink_list(6, &len);
  ck_assert_ptr_nonnull(list);
  check_list_cuts(list, len, 1);
  free(list);
}
END_TEST

START_TEST(real_answers_cut_at_every_byte) {
  const char *dir = fx_dir("real_answers_cut_at_every_byte");
  if (dir == NULL)
    return;
  size_t count;
  char **names = fx_names(dir, "one", ".json", &count);
  ck_assert_ptr_nonnull(names);
  ck_assert_uint_gt(count, 0);
  char path[64];
  for (size_t i = 0; i < count; i++) {
    size_t len;
    snprintf(path, sizeof path, "one/%s", names[i]);
    char *doc = fx_read(dir, path, &len);
    ck_assert_ptr_nonnull(doc);
    check_doc_cuts(doc, len, names[i]);
    free(doc);
  }
  fx_free_names(names);
  size_t len;
  char *list = fx_read(dir, "starlink_list_first55_2021-05-19.json", &len);
  ck_assert_ptr_nonnull(list);
  check_list_cuts(list, len, 97);
  free(list);
}
END_TEST

START_TEST(errors_after_elements_hand_those_elements_out) {
  static const struct {
    const char *text;
    int rc;
    size_t handed;
  } cases[] = {
      {"[1,2,3,x]", FO_EJSON, 3},         {"[1,2 3]", FO_EJSON, 2},
      {"[[1] x]", FO_EJSON, 1},           {"[[1],[2 x]]", FO_EJSON, 1},
      {"[[1],[2]]]", FO_EJSON, 2},        {"[[1],{\"a\" 1}]", FO_EJSON, 1},
      {"[\"a\",\"b\xff\"]", FO_EJSON, 1}, {"[{},{},[[[[[[[[[[", FO_EJSONTRUNC, 2},
      {"[1,2,3", FO_EJSONTRUNC, 2}, /* 3 may yet become 30 */
      {"{\"a\":1,x", FO_EJSON, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = 0;
    int rc = fo_json_each(cases[i].text, strlen(cases[i].text), NULL, count_element, &n, NULL);
    ck_assert_msg(rc == cases[i].rc && n == cases[i].handed, "%s: %s after %zu", cases[i].text,
                  fo_strerror(rc), n);
  }
  /* too deep in element 3: elements 0..2 first */
  size_t len, n = 0;
  char *s = fx_repeat("[{},[],0,", "[", 1000, "", &len);
  ck_assert_int_eq(fo_json_each(s, len, NULL, count_element, &n, NULL), FO_EJSONDEPTH);
  ck_assert_uint_eq(n, 3);
  free(s);
}
END_TEST

/* ---------------------------------------------------------------- ids */

/* Ids that must never reach a URL. */
static const struct {
  const char *s;
  size_t n;
} bad_ids[] = {
    {"", 0},
    {"5eed770f096e59000698560", 23},
    {"5eed770f096e59000698560d0", 25},
    {"5EED770F096E59000698560D", 24},
    {"5eed770f096e59000698560D", 24},
    {"../../../../../../etc/pw", 24},
    {"5eed770f096e5900069856/d", 24},
    {"5eed770f096e590006985\\0d", 24},
    {"%2e%2e%2f096e59000698560", 24},
    {"5eed770f096e59000698%2F0", 24},
    {"5eed770f096e5900069856%00", 25},
    {"5eed770f\0"
     "96e59000698560d",
     24},
    {"5eed770f096e59000698560d\0", 25},
    {"5eed770f096e59000698560?", 24},
    {"5eed770f096e59000698560#", 24},
    {"5eed770f096e59000698560 ", 24},
    {" 5eed770f096e59000698560", 24},
    {"0x5eed770f096e590006985", 24},
    {"5eed770f096e5900069856\xc3\xa9", 24},    /* é */
    {"5eed770f096e590006985\xef\xbc\x90", 24}, /* a fullwidth 0 */
    {"5eed770f096e59000698560d5eed770f096e59000698560d", 48},
};

START_TEST(ids_not_24_lowercase_hex_are_refused_everywhere) {
  /* every byte in every place: accepted only for 0-9a-f */
  char id[FO_SAT_ID_LEN + 1];
  for (size_t at = 0; at < FO_SAT_ID_LEN; at++)
    for (unsigned c = 0; c < 256; c++) {
      memcpy(id, id0, sizeof id);
      id[at] = (char)c;
      int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      MUST(fo_sat_check_id(id, FO_SAT_ID_LEN) == (hex ? 0 : FO_EBADID), "%02x at %zu", c, at);
    }
  ck_assert_int_eq(fo_sat_check_id(id0, 24), 0);
  ck_assert_int_eq(fo_sat_check_id(NULL, 0), FO_EBADID);
  ck_assert_int_eq(fo_sat_check_id(id0, SIZE_MAX), FO_EBADID);
  for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
    ck_assert_msg(fo_sat_check_id(bad_ids[i].s, bad_ids[i].n) == FO_EBADID, "id %zu accepted", i);

  /* The ids a caller builds URLs from come out of records and lists: a bad id there is refused
   * as the record's error, never handed on. JSON escapes cannot smuggle one in either. */
  static const char *escaped[] = {
      "\\u0035eed770f096e59000698560d",    "5eed770f096e59000698560\\u0064",
      "..\\/..\\/..\\/..\\/..\\/etc\\/pw", "5eed770f096e59000698560\\u0000",
      "5eed770f096e590006985\\\"0d",
  };
  char doc[512];
  fo_sat_record rec;
  for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0] + 5; i++) {
    int len;
    if (i < sizeof bad_ids / sizeof bad_ids[0]) {
      if (memchr(bad_ids[i].s, '\0', bad_ids[i].n) != NULL || strchr(bad_ids[i].s, '\\'))
        continue; /* not expressible raw in JSON */
      len = snprintf(doc, sizeof doc, "[{\"id\":\"%s\"},{\"id\":\"%.*s\"}]", id0, (int)bad_ids[i].n,
                     bad_ids[i].s);
    } else {
      len = snprintf(doc, sizeof doc, "[{\"id\":\"%s\"},{\"id\":\"%s\"}]", id0,
                     escaped[i - sizeof bad_ids / sizeof bad_ids[0]]);
    }
    seen_ids got = {0};
    ck_assert_msg(fo_sat_list_parse(doc, (size_t)len, NULL, keep_id, &got, NULL) == FO_EBADID, "%s", doc);
    ck_assert_uint_eq(got.count, 1);
    char ids[4][FO_SAT_ID_LEN + 1];
    size_t count = 99;
    ck_assert_int_eq(fo_sat_list_ids(doc, (size_t)len, NULL, ids, 4, &count, NULL), FO_EBADID);
    ck_assert_uint_eq(count, 1);
    /* the second element alone, as one document */
    const char *one = strstr(doc + 2, "{\"id\"");
    ck_assert_int_eq(fo_sat_parse(one, strlen(one) - 1, NULL, &rec, NULL), FO_EBADID);
  }
}
END_TEST

START_TEST(repeated_keys_take_the_last_in_linear_time) {
  /* a record whose id and name repeat 100,000 times: one pass, the last of each */
  size_t n1, n2;
  char *a = fx_repeat("{",
                      "\"id\":\"000000000000000000000000\",\"spaceTrack\":{\"OBJECT_NAME\":"
                      "\"A\",\"OBJECT_NAME\":\"B\"},",
                      100000, "", &n1);
  char tail[128];
  snprintf(tail, sizeof tail, "\"id\":\"%s\",\"spaceTrack\":{\"OBJECT_NAME\":\"Z\"}}", id0);
  char *s = malloc(n1 + strlen(tail) + 1);
  ck_assert_ptr_nonnull(s);
  memcpy(s, a, n1);
  memcpy(s + n1, tail, strlen(tail) + 1);
  n2 = n1 + strlen(tail);
  double t0 = tp_now_ms();
  fo_sat_record rec;
  ck_assert_int_eq(fo_sat_parse(s, n2, NULL, &rec, NULL), 0);
  ck_assert_str_eq(rec.id, id0);
  ck_assert_str_eq(rec.object_name, "Z");
  fo_json *doc;
  ck_assert_int_eq(fo_json_parse(s, n2, NULL, &doc, NULL), 0);
  ck_assert_int_eq(fo_json_equals(doc, fo_json_path(doc, 0, "spaceTrack.OBJECT_NAME"), "Z", 1), 1);
  fo_json_free(doc);
  double ms = tp_now_ms() - t0;
  ck_assert_msg(ms <= tp_scaled(2) * 1000, "%.0f ms", ms);
  free(a);
  free(s);
}
END_TEST

Suite *hostile_suite(void) {
  Suite *s = suite_create("hostile");
  TCase *tc = fo_tcase("corpus", 60);
  tcase_add_test(tc, corpus_in_bounded_time_and_memory);
  tcase_add_test(tc, huge_numbers_convert_exactly_or_say_erange);
  suite_add_tcase(s, tc);
  tc = fo_tcase("bytes", 60);
  tcase_add_test(tc, every_utf8_sequence_of_up_to_three_bytes_and_the_four_byte_edges);
  tcase_add_test(tc, every_escape_and_every_code_unit);
  suite_add_tcase(s, tc);
  tc = fo_tcase("cuts", 60);
  tcase_add_test(tc, generated_answers_cut_at_every_byte);
  tcase_add_test(tc, real_answers_cut_at_every_byte);
  tcase_add_test(tc, errors_after_elements_hand_those_elements_out);
  suite_add_tcase(s, tc);
  tc = fo_tcase("ids", 30);
  tcase_add_test(tc, ids_not_24_lowercase_hex_are_refused_everywhere);
  tcase_add_test(tc, repeated_keys_take_the_last_in_linear_time);
  suite_add_tcase(s, tc);
  return s;
}
