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
  const demo_cli cli = {help, NULL, 0, NULL, NULL};
  int status = demo_parse(argc, argv, &cli);
  if (status != DEMO_OK)
    return status == DEMO_HELP ? DEMO_OK : status;
  printf("%d\ntotal %d\n", fo_cpu_count(), fo_cpu_online());
  return DEMO_OK;
}
