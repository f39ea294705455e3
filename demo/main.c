/* fanout-demo: the lesson on threads and processes, one subcommand per topic. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "fanout/fanout.h"

static const char usage[] =
    "usage: fanout-demo COMMAND [OPTIONS]      (see fanout-demo COMMAND --help)\n"
    "\n"
    "commands:\n"
    "  get         HTTP(S) requests for real transfers: methods, headers, bodies,\n"
    "              files written whole, verified, resumed, compressed on the wire\n"
    "  starlink    the Starlink satellites from the SpaceX API, fetched one after\n"
    "              another or on many threads (--compare: both, and the speed-up)\n"
    "  cpus        CPUs this process may use (affinity and cgroup quota aware),\n"
    "              the count to size a process pool with\n"
    "  map         squares on a pool of worker processes (Pool.map), summed\n"
    "  counter     processes counting in one shared dictionary (Manager().dict())\n"
    "  queue       square and cube producers feeding one consumer through a queue\n"
    "  threads     threads printing their number, with and without a lock\n"
    "\n"
    "  --help      this text\n"
    "  --version   version, port, and the libcurl and TLS library it runs on\n";

static const struct {
  const char *name;
  demo_cmd_fn fn;
} commands[] = {
    {"get", demo_get},
    {"starlink", demo_starlink},
    {"cpus", demo_cpus},
    {"map", demo_map},
    {"counter", demo_counter},
    {"queue", demo_queue},
    {"threads", demo_threads},
};

/* What the library reports about itself, so a user can see which libcurl and TLS library a
 * binary really runs on (the one linked in, not whatever the machine has installed). */
static int print_version(void) {
  fo_info info;
  (void)fo_info_get(&info); /* fails only for NULL */
  printf("fanout-demo %s\nport %s\n", info.version, info.port);
  if (info.fetch)
    printf("libcurl %s\ntls %s\nhttp2 %s\n", info.curl_version, info.tls_backend,
           info.http2 ? "yes" : "no");
  else
    puts("fetch: not built");
  return DEMO_OK;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return DEMO_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    fputs(usage, stdout);
    return DEMO_OK;
  }
  if (strcmp(cmd, "--version") == 0)
    return print_version();
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    if (strcmp(cmd, commands[i].name) == 0)
      return commands[i].fn(argc - 1, argv + 1);
  }
  fprintf(stderr, "fanout-demo: unknown command '%s'\n\n%s", cmd, usage);
  return DEMO_USAGE;
}
