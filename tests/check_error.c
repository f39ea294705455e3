/* fo_strerror, fo_errname, the error code table, fo_opt_error_format and the version calls. */
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
  }
}
END_TEST

/* A positive value is a count (fo_fetch_many's failures) or a handle, never an errno: 6 must not
 * read "No such device or address". */
START_TEST(positive_values_are_not_error_codes) {
  const int values[] = {1, ENXIO, ENOMEM, 133, FO_ERRBASE + 5, INT_MAX};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    const char *m = fo_strerror(values[i]);
    ck_assert_ptr_nonnull(strstr(m, "not an error code"));
    ck_assert_str_ne(m, strerror(values[i] < 200 ? values[i] : 1));
    ck_assert_str_eq(fo_errname(values[i]), "POSITIVE");
  }
}
END_TEST

START_TEST(zero_and_unknown_codes) {
  ck_assert_str_eq(fo_strerror(0), "success");
  ck_assert_str_eq(fo_strerror(-FO_ERRBASE - 999), "unknown error");
  ck_assert_str_eq(fo_strerror(INT_MIN), "unknown error");
  ck_assert_ptr_nonnull(fo_strerror(-FO_ERRBASE + 1)); /* an errno nobody defined */
  ck_assert_str_eq(fo_errname(0), "OK");
  ck_assert_str_eq(fo_errname(-FO_ERRBASE - 999), "E?");
  ck_assert_str_eq(fo_errname(-FO_ERRBASE - 1000), "E?"); /* the enum's end marker */
  ck_assert_str_eq(fo_errname(INT_MIN), "E?");
  ck_assert_str_eq(fo_errname(-FO_ERRBASE + 1), "E?");
}
END_TEST

START_TEST(own_codes_are_named_after_their_enum) {
  static const struct {
    int code;
    const char *name;
  } own[] = {
#define XX(name, off, msg) {FO_##name, "FO_" #name},
      FO_ERRNO_MAP(XX)
#undef XX
  };
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
    ck_assert_str_eq(fo_errname(own[i].code), own[i].name);
  ck_assert_str_eq(fo_errname(FO_ETOOBIG), "FO_ETOOBIG");
}
END_TEST

/* Every errno the C library describes has a name, and the names are the symbols' own. */
START_TEST(errno_values_have_their_symbolic_names) {
  static const struct {
    int code;
    const char *name;
  } some[] = {{ENOMEM, "ENOMEM"},
              {EINVAL, "EINVAL"},
              {EAGAIN, "EAGAIN"},
              {EPERM, "EPERM"},
              {E2BIG, "E2BIG"},
              {ETIMEDOUT, "ETIMEDOUT"},
              {EPIPE, "EPIPE"},
              {ESHUTDOWN, "ESHUTDOWN"},
              {EOPNOTSUPP, "EOPNOTSUPP"},
              {EDEADLK, "EDEADLK"},
              {ENOTRECOVERABLE, "ENOTRECOVERABLE"}};
  for (size_t i = 0; i < sizeof some / sizeof some[0]; i++)
    ck_assert_str_eq(fo_errname(-some[i].code), some[i].name);
  int named = 0;
  /* musl describes an errno it does not know as it describes 0 ("No error information"); glibc
   * says "Unknown error N" */
  char none[128];
  snprintf(none, sizeof none, "%s", strerror(0));
  for (int e = 1; e < 200; e++) {
    char unknown[64];
    snprintf(unknown, sizeof unknown, "Unknown error %d", e);
    if (strcmp(strerror(e), unknown) == 0 || strcmp(strerror(e), none) == 0)
      continue; /* the C library knows no such errno */
    const char *n = fo_errname(-e);
    ck_assert_msg(strcmp(n, "E?") != 0, "errno %d (%s) has no name", e, strerror(e));
    ck_assert_msg(n[0] == 'E' && strlen(n) >= 3, "errno %d is named %s", e, n);
    named++;
  }
  ck_assert_int_ge(named, 80); /* glibc describes about 133, musl about 92 */
}
END_TEST

START_TEST(opt_error_is_one_sentence_like_snprintf) {
  fo_opt_error e = {"threads", 0, 256, 300};
  char buf[64];
  const char *want = "threads = 300: accepted 0 to 256";
  ck_assert_int_eq(fo_opt_error_format(&e, buf, sizeof buf), (int)strlen(want));
  ck_assert_str_eq(buf, want);
  ck_assert_int_eq(fo_opt_error_format(&e, NULL, 0), (int)strlen(want)); /* size query */
  ck_assert_int_eq(fo_opt_error_format(&e, buf, 8), (int)strlen(want));  /* cut, terminated */
  ck_assert_str_eq(buf, "threads");
  fo_opt_error s = {"ca_file", 1, LLONG_MAX, 0}; /* a string field: its length */
  ck_assert_int_gt(fo_opt_error_format(&s, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "ca_file = 0: accepted 1 or more");
  ck_assert_int_eq(fo_opt_error_format(NULL, buf, sizeof buf), -EINVAL);
  ck_assert_int_eq(fo_opt_error_format(&e, NULL, 4), -EINVAL);
  fo_opt_error nofield = {NULL, 0, 1, 2};
  ck_assert_int_eq(fo_opt_error_format(&nofield, buf, sizeof buf), -EINVAL);
}
END_TEST

/* The library's version is the one configure set, and the header's agrees with it. */
START_TEST(version_calls_agree_with_the_header) {
  char dotted[32];
  snprintf(dotted, sizeof dotted, "%d.%d.%d", FO_VERSION_MAJOR, FO_VERSION_MINOR, FO_VERSION_PATCH);
  ck_assert_str_eq(fo_version(), PACKAGE_VERSION);
  ck_assert_str_eq(fo_version(), FO_VERSION_STRING);
  ck_assert_str_eq(fo_version(), dotted);
  ck_assert_uint_eq(fo_version_number(), FO_VERSION_NUMBER);
  ck_assert_uint_eq(fo_version_number(),
                    FO_VERSION_MAJOR * 10000u + FO_VERSION_MINOR * 100u + FO_VERSION_PATCH);
  ck_assert_uint_ge(fo_version_number(), 200u); /* the calls exist since 0.2.0 */
}
END_TEST

Suite *error_suite(void) {
  Suite *s = suite_create("error");
  TCase *tc = fo_tcase("strerror", 5);
  tcase_add_test(tc, own_codes_are_outside_errno_and_distinct);
  tcase_add_test(tc, own_codes_have_their_own_messages);
  tcase_add_test(tc, errno_values_are_described_by_the_c_library);
  tcase_add_test(tc, positive_values_are_not_error_codes);
  tcase_add_test(tc, zero_and_unknown_codes);
  tcase_add_test(tc, own_codes_are_named_after_their_enum);
  tcase_add_test(tc, errno_values_have_their_symbolic_names);
  tcase_add_test(tc, opt_error_is_one_sentence_like_snprintf);
  tcase_add_test(tc, version_calls_agree_with_the_header);
  suite_add_tcase(s, tc);
  return s;
}
