/* Children that die with their parent on Linux: PR_SET_PDEATHSIG. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ports/port.h"

int fo__port_die_with_parent(pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    return -errno;
  /* A parent that died before the prctl sent nothing: the child was re-parented already. */
  return getppid() == parent ? 0 : -ESRCH;
}

int fo__port_orphan_check_ms(void) {
  return -1;
}
