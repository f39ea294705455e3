/* fo_cpu_count: the tightest of the port's three CPU limits; fo_cpu_online: the machine's. */
#include "config.h"

#include "fanout/fanout.h"
#include "ports/port.h"

static int tighter(int have, int limit) {
  return (limit > 0 && (have == 0 || limit < have)) ? limit : have;
}

int fo_cpu_count(void) {
  int n = fo__port_cpus_online();
  n = tighter(n, fo__port_cpus_affinity());
  n = tighter(n, fo__port_cpus_quota());
  return n > 0 ? n : 1;
}

int fo_cpu_online(void) {
  int n = fo__port_cpus_online();
  return n > 0 ? n : 1;
}
