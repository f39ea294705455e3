/* Children and their parent's death without prctl: the child checks getppid() itself. A child
 * whose parent dies is re-parented (to init or a subreaper), so its parent pid changes. */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "ports/port.h"

/* How often a waiting child looks: often enough that an orphan goes within a second, seldom
 * enough that an idle worker costs nothing measurable. */
#ifndef FO_ORPHAN_CHECK_MS
#define FO_ORPHAN_CHECK_MS 250
#endif

int fo__port_die_with_parent(pid_t parent) {
  return getppid() == parent ? 0 : -ESRCH;
}

int fo__port_orphan_check_ms(void) {
  return FO_ORPHAN_CHECK_MS;
}
