/* The suites of tests/check_inject, the runner linked against libfanout_inject.a (the library
 * with its fault points live, src/base/base_internal.h). */
#ifndef FO_TESTS_INJECT_SUITES_H
#define FO_TESTS_INJECT_SUITES_H

#include <check.h>

/* system calls failing in turn (tests/check_inject.c) */
Suite *inject_suite(void);
/* allocations failing in turn for every public operation that allocates (tests/check_oom.c) */
Suite *oom_suite(void);
/* bad arguments to every public function (tests/check_badargs.c) */
Suite *badargs_suite(void);
/* shared-memory sizes above what the machine holds, refused before any reservation
 * (tests/check_sizes.c) */
Suite *sizes_suite(void);

#ifdef FO_HAVE_CURL
/* libcurl's global state, set up once per test case that fetches (tests/check_inject.c) */
void inject_curl_fixture(TCase *tc);
#endif

#endif /* FO_TESTS_INJECT_SUITES_H */
