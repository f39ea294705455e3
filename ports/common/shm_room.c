/* fo__shm_room: the size checks in front of every shared-memory reservation (ports/port.h). */
#include "config.h"

#include "ports/port.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

/* Physical memory in bytes, or 0 when the system does not say. In uintmax_t: on a 32-bit board
 * with large memory the product does not fit a size_t. */
static uintmax_t phys_bytes(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0)
    return 0;
  return (uintmax_t)pages * (uintmax_t)page;
}

int fo__shm_room(int fd, size_t size) {
  /* A file's size is an off_t: 64 bits on 32-bit boards too (a large-file build), but not on
   * every system; in uintmax_t so no compiler sees a comparison that cannot be true. */
  const uintmax_t off_max = ((uintmax_t)1 << (sizeof(off_t) * CHAR_BIT - 1)) - 1;
  if (fd >= 0 && (uintmax_t)size > off_max)
    return -EFBIG;
  uintmax_t phys = phys_bytes();
  if (phys > 0 && (uintmax_t)size > phys)
    return -ENOMEM;
  struct statvfs st;
  /* f_blocks 0: no limit (a memfd's internal tmpfs), which the memory check above covers */
  if (fd >= 0 && fstatvfs(fd, &st) == 0 && st.f_blocks > 0 &&
      (uintmax_t)size > (uintmax_t)st.f_bavail * (uintmax_t)st.f_frsize)
    return -ENOSPC;
  return 0;
}
