/* The string scan of the selective reader (src/json/json_internal.h): the kernel this target compiles
 * and the portable SWAR word test find the first byte that needs a look, at every position and
 * whatever the byte order (the suites run on big-endian s390x under qemu too). And the reader's
 * number grammar, whose digit runs are also taken many bytes at a time: every length of run
 * decides as the tree path does, and a text cut inside a number is never read past. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/sat.h"
#include "helpers/fixture.h"
#include "json/json_internal.h"
#include "sat/sat_internal.h"
#include "suites.h"

/* Bytes the scan stops at, and neighbours of them it must pass. */
static const unsigned char stops[] = {'"', '\\', 0x00, 0x1f, 0x0a, 0x80, 0xc3, 0xff};
static const unsigned char passes[] = {' ', '!', '#', '[', ']', 0x7f, 'a', '~', 0x21, 0x5d};

START_TEST(scan_stops_at_the_first_byte_that_needs_a_look) {
  char buf[80];
  for (size_t k = 0; k < sizeof passes; k++) {
    memset(buf, (char)passes[k], sizeof buf);
    ck_assert_ptr_eq(fo__json_scan_string(buf, buf + sizeof buf), buf + sizeof buf);
    for (size_t at = 0; at < 40; at++)
      for (size_t j = 0; j < sizeof stops; j++) {
        memset(buf, (char)passes[k], sizeof buf);
        buf[at] = (char)stops[j];
        buf[at + 1 + j % 9] = '"'; /* a later stop must not win */
        for (size_t from = 0; from <= at; from += 3)
          ck_assert_ptr_eq(fo__json_scan_string(buf + from, buf + sizeof buf), buf + at);
        ck_assert_ptr_eq(fo__json_scan_string(buf, buf + at), buf + at); /* the end bounds it */
      }
  }
}
END_TEST

START_TEST(swar_word_test_is_exact_for_every_byte_and_place) {
  for (unsigned b = 0; b < 256; b++) {
    int stop = b == '"' || b == '\\' || b < 0x20 || b > 0x7f;
    for (unsigned at = 0; at < 8; at++) {
      unsigned char bytes[8];
      memset(bytes, 'a', sizeof bytes);
      bytes[at] = (unsigned char)b;
      if (at < 7)
        bytes[7] = '\\'; /* a stop after it must not be taken for it */
      uint64_t x;
      memcpy(&x, bytes, sizeof x);
      uint64_t s = fo__json_swar_stops(x);
      if (!stop && at == 7) {
        ck_assert_uint_eq(s, 0);
        continue;
      }
      ck_assert_uint_ne(s, 0);
      ck_assert_uint_eq(fo__json_swar_first(s), stop ? at : 7);
      if (at < 7)
        bytes[7] = 'a';
      memcpy(&x, bytes, sizeof x);
      ck_assert_uint_eq(fo__json_swar_stops(x) != 0, (unsigned)stop);
    }
  }
}
END_TEST


/* The digit-run kernel, finished by the byte loop as the reader does, ends where the byte loop
 * alone ends: every byte at every place in runs of every length up to 40. */
START_TEST(digit_scan_stops_at_the_first_non_digit_for_every_byte_and_place) {
  char buf[48];
  for (unsigned b = 0; b < 256; b++)
    for (int at = 0; at < 40; at++)
      for (int len = at; len <= 40; len++) {
        memset(buf, '7', sizeof buf);
        buf[at] = (char)b;
        const char *end = buf + len, *p = fo__json_scan_digits(buf, end), *q = buf;
        ck_assert(p >= buf && p <= end);
        while (p < end && *p >= '0' && *p <= '9')
          p++;
        while (q < end && *q >= '0' && *q <= '9')
          q++;
        ck_assert_msg(p == q, "byte 0x%02x at %d of %d: stopped at %d, not %d", b, at, len,
                      (int)(p - buf), (int)(q - buf));
      }
}
END_TEST

/* A record with num as a member nobody asks for and as its latitude. */
static int record_with(char *doc, size_t size, const char *num) {
  return snprintf(doc, size,
                  "{\"spaceTrack\":{\"MEAN_MOTION\":%s,\"NORAD_CAT_ID\":44242},\"latitude\":%s,"
                  "\"id\":\"5eed770f096e590006985614\"}",
                  num, num);
}

/* Digits of a given count: never a leading zero, so every count is a valid integer part. */
static void run_of(char *out, int n) {
  for (int i = 0; i < n; i++)
    out[i] = (char)('1' + (i * 7) % 9);
  out[n] = '\0';
}

START_TEST(numbers_of_every_run_length_decide_as_the_tree_path) {
  static const char *const bad_tails[] = {".", ".e5", "e", "e+", "x", "-", ".5.", "0"};
  char num[160], whole[64], frac[64], doc[512];
  for (int i = 1; i <= 40; i++) {
    for (int f = 0; f <= 40; f += (f < 20 ? 1 : 7)) {
      run_of(whole, i);
      run_of(frac, f);
      for (int form = 0; form < 3; form++) {
        snprintf(num, sizeof num, "%s%s%s%s%s", form == 2 ? "-" : "", whole, f > 0 ? "." : "",
                 frac, form == 1 ? "e-7" : "");
        int n = record_with(doc, sizeof doc, num);
        fo_sat_record fast, tree;
        ck_assert_int_eq(fo__sat_read_one(doc, (size_t)n, NULL, &fast), 0);
        fo_json *d;
        ck_assert_int_eq(fo_json_parse(doc, (size_t)n, NULL, &d, NULL), 0);
        ck_assert_int_eq(fo_sat_from_json(d, 0, &tree), 0);
        fo_json_free(d);
        ck_assert_msg(memcmp(&fast.latitude, &tree.latitude, sizeof fast.latitude) == 0 &&
                          fast.has == tree.has,
                      "%s: %.17g, tree %.17g", num, fast.latitude, tree.latitude);
        /* cut inside the number: the reader gives up, and reads nothing past the cut */
        const char *at = strstr(doc, num);
        size_t cut = (size_t)(at - doc) + strlen(num) - 1;
        char *part = malloc(cut);
        ck_assert_ptr_nonnull(part);
        memcpy(part, doc, cut);
        ck_assert_int_eq(fo__sat_read_one(part, cut, NULL, &fast), FO__SAT_FALLBACK);
        free(part);
        /* a run followed by what no number may hold: the reader gives up, the parse refuses */
        for (size_t b = 0; b < sizeof bad_tails / sizeof bad_tails[0]; b++) {
          char bad[200];
          snprintf(bad, sizeof bad, "%s%s", b == 7 ? "-" : num, b == 7 ? "0" : bad_tails[b]);
          if (b == 7) /* a leading zero before a run: -0 then digits */
            strcat(bad, whole);
          n = record_with(doc, sizeof doc, bad);
          ck_assert_msg(fo__sat_read_one(doc, (size_t)n, NULL, &fast) == FO__SAT_FALLBACK, "%s",
                        bad);
          ck_assert_msg(fo_sat_parse(doc, (size_t)n, NULL, &tree, NULL) == FO_EJSON, "%s", bad);
        }
      }
    }
  }
}
END_TEST

void json_scan_cases(Suite *s) {
  TCase *tc = fo_tcase("scan", 10);
  tcase_add_test(tc, scan_stops_at_the_first_byte_that_needs_a_look);
  tcase_add_test(tc, swar_word_test_is_exact_for_every_byte_and_place);
  tcase_add_test(tc, digit_scan_stops_at_the_first_non_digit_for_every_byte_and_place);
  tcase_add_test(tc, numbers_of_every_run_length_decide_as_the_tree_path);
  suite_add_tcase(s, tc);
}
