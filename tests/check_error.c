/* fo_strerror and the error code table. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fanout/fanout.h"
#include "helpers/fixture.h"
#include "suites.h"

static const int own_codes[] = {
#define XX(name, off, msg) FO_##name,
    FO_ERRNO_MAP(XX)
#undef XX
};
#define N_OWN ((int)(sizeof own_codes / sizeof own_codes[0]))

START_TEST(own_codes_are_outside_errno_and_distinct) {
  for (int i = 0; i < N_OWN; i++) {
    ck_assert_int_lt(own_codes[i], -FO_ERRBASE);
    for (int j = 0; j < i; j++)
      ck_assert_int_ne(own_codes[i], own_codes[j]);
  }
}
END_TEST

START_TEST(own_codes_have_their_own_messages) {
  for (int i = 0; i < N_OWN; i++) {
    const char *m = fo_strerror(own_codes[i]);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_ne(m, "unknown error");
    ck_assert_int_gt((int)strlen(m), 8);
    for (int j = 0; j < i; j++)
      ck_assert_str_ne(m, fo_strerror(own_codes[j]));
  }
  ck_assert_str_eq(fo_strerror(FO_EMQLIMIT),
                   "message queue request exceeds the kernel limit (/proc/sys/fs/mqueue)");
}
END_TEST

START_TEST(errno_values_are_described_by_the_c_library) {
  const int codes[] = {ENOMEM, EINVAL, ETIMEDOUT, EAGAIN, ESHUTDOWN, EMFILE};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    char want[256];
    snprintf(want, sizeof want, "%s", strerror(codes[i]));
    ck_assert_str_eq(fo_strerror(-codes[i]), want);
    /* a caller that forgot the sign still gets the right text */
    ck_assert_str_eq(fo_strerror(codes[i]), want);
  }
}
END_TEST

START_TEST(zero_and_unknown_codes) {
  ck_assert_str_eq(fo_strerror(0), "success");
  ck_assert_str_eq(fo_strerror(-FO_ERRBASE - 999), "unknown error");
  ck_assert_str_eq(fo_strerror(INT_MIN), "unknown error");
  ck_assert_str_eq(fo_strerror(INT_MAX), "unknown error");
  ck_assert_ptr_nonnull(fo_strerror(-FO_ERRBASE + 1)); /* an errno nobody defined */
}
END_TEST

Suite *error_suite(void) {
  Suite *s = suite_create("error");
  TCase *tc = fo_tcase("strerror", 5);
  tcase_add_test(tc, own_codes_are_outside_errno_and_distinct);
  tcase_add_test(tc, own_codes_have_their_own_messages);
  tcase_add_test(tc, errno_values_are_described_by_the_c_library);
  tcase_add_test(tc, zero_and_unknown_codes);
  suite_add_tcase(s, tc);
  return s;
}
