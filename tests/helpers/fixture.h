/* The fixture every test case uses: the counting allocator installed in setup, and in teardown
 * the assertions that nothing is left: no allocation outstanding, no new IPC object. */
#ifndef FO_TESTS_FIXTURE_H
#define FO_TESTS_FIXTURE_H

#include <check.h>

/* A test case with the leak-checking fixture and a timeout in seconds (scaled by Check's
 * CK_TIMEOUT_MULTIPLIER, which the sanitizer and valgrind runs set). */
TCase *fo_tcase(const char *name, double timeout);

#endif /* FO_TESTS_FIXTURE_H */
