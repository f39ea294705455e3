/* The suites of tests/check_inject, the runner linked against libfanout_inject.a (the library
 * with its fault points live, src/sys.h). */
#ifndef FO_TESTS_INJECT_SUITES_H
#define FO_TESTS_INJECT_SUITES_H

#include <check.h>

/* system calls failing in turn (tests/check_inject.c) */
Suite *inject_suite(void);
/* allocations failing in turn for every public operation that allocates (tests/check_oom.c) */
Suite *oom_suite(void);
/* bad arguments to every public function (tests/check_badargs.c) */
Suite *badargs_suite(void);

#endif /* FO_TESTS_INJECT_SUITES_H */
