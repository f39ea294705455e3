/* fanout-demo cpus: how many CPUs this process may use, the number to size a process pool with. */
#include "config.h"

#include <stdio.h>

#include "demo.h"
#include "fanout/fanout.h"

int demo_cpus(int argc, char **argv) {
  demo_args a;
  int status = DEMO_OK;
  demo_args_init(&a, argc, argv);
  while (demo_next_flag(&a, &status)) {
    if (demo_is(&a, "--help") || demo_is(&a, "-h")) {
      fputs("usage: fanout-demo cpus\n", stdout);
      return DEMO_OK;
    }
    return demo_unknown(&a);
  }
  if (status != DEMO_OK)
    return status;
  printf("%d\n", fo_cpu_count());
  return DEMO_OK;
}
