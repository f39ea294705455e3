/* fanout-demo cpus: how many CPUs this process may use, the number to size a process pool with,
 * and how many the machine has. The two differ under taskset, a container's CPU quota or a
 * cgroup limit; the lesson's mp.cpu_count() reports only the machine's. */
#include "config.h"

#include <stdio.h>

#include "demo.h"
#include "fanout/fanout.h"

static const char help[] =
    "usage: fanout-demo cpus\n"
    "\n"
    "output (stdout):\n"
    "  N          CPUs this process may use: the fewest of the CPUs online and, on\n"
    "             the linux port, its affinity mask (taskset) and cgroup CPU quota\n"
    "             (rounded up); the default number of worker processes for map and\n"
    "             counter\n"
    "  total M    CPUs online in the machine, whatever this process may use\n";

int demo_cpus(int argc, char **argv) {
  demo_args a;
  int status = DEMO_OK;
  demo_args_init(&a, argc, argv);
  while (demo_next_flag(&a, &status)) {
    if (demo_is(&a, "--help") || demo_is(&a, "-h")) {
      fputs(help, stdout);
      return DEMO_OK;
    }
    return demo_unknown(&a);
  }
  if (status != DEMO_OK)
    return status;
  printf("%d\ntotal %d\n", fo_cpu_count(), fo_cpu_online());
  return DEMO_OK;
}
