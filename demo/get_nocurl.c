/* fanout-demo get in a build without libcurl: there is no fetcher to show. */
#include "config.h"

#include <stdio.h>

#include "demo.h"

int demo_get(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs("fanout-demo get: this build has no HTTP fetcher (configured --without-curl)\n", stderr);
  return DEMO_USAGE;
}
