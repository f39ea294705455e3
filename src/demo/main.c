/* fanout-demo: the lesson on threads and processes, one subcommand per topic. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fanout/fanout.h"

static const char usage[] =
    "usage: fanout-demo COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  cpus        CPUs this process may use (affinity and cgroup quota aware),\n"
    "              the count to size a process pool with\n"
    "\n"
    "  --help      this text\n"
    "  --version   version and port\n";

static int cmd_cpus(int argc, char **argv) {
  if (argc > 1) {
    if (strcmp(argv[1], "--help") == 0) {
      fputs("usage: fanout-demo cpus\n", stdout);
      return 0;
    }
    fprintf(stderr, "fanout-demo cpus: unexpected argument '%s'\n", argv[1]);
    return 2;
  }
  printf("%d\n", fo_cpu_count());
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("fanout-demo %s (port %s)\n", FO_VERSION_STRING, FO_PORT_NAME);
    return 0;
  }
  if (strcmp(cmd, "cpus") == 0)
    return cmd_cpus(argc - 1, argv + 1);
  fprintf(stderr, "fanout-demo: unknown command '%s'\n\n%s", cmd, usage);
  return 2;
}
