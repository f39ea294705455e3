/* The harnesses' one assertion: a property that does not hold aborts, so libFuzzer keeps the
 * input that broke it. */
#ifndef FO_TESTS_FUZZ_REQUIRE_H
#define FO_TESTS_FUZZ_REQUIRE_H

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(cond)                                                                              \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                                   \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

#endif /* FO_TESTS_FUZZ_REQUIRE_H */
