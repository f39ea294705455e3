/* CPU counts on a plain POSIX system: no affinity masks, no resource controller. */
#include "config.h"

#include <unistd.h>

#include "ports/port.h"

int fo__port_cpus_online(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 && n < 1L << 20 ? (int)n : 0;
}

int fo__port_cpus_affinity(void) {
  return 0;
}

int fo__port_cpus_quota(void) {
  return 0;
}
