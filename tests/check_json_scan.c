/* The string scan of the selective reader (src/json_scan.h): the kernel this target compiles
 * and the portable SWAR word test find the first byte that needs a look, at every position and
 * whatever the byte order (the suites run on big-endian s390x under qemu too). */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "helpers/fixture.h"
#include "json_scan.h"
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

void json_scan_cases(Suite *s) {
  TCase *tc = fo_tcase("scan", 10);
  tcase_add_test(tc, scan_stops_at_the_first_byte_that_needs_a_look);
  tcase_add_test(tc, swar_word_test_is_exact_for_every_byte_and_place);
  suite_add_tcase(s, tc);
}
