/* Anonymous shared memory on a plain POSIX system: MAP_SHARED | MAP_ANONYMOUS, which has no name
 * at all. Reservation for named regions uses posix_fallocate where the C library has it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ports/port.h"
#include "base/base_internal.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

int fo__port_shm_reserve(int fd, size_t size) {
  int rc = fo__shm_room(fd, size); /* -EFBIG too, where size is above an off_t */
  if (rc < 0)
    return rc;
#ifdef HAVE_POSIX_FALLOCATE
  do
    rc = posix_fallocate(fd, 0, (off_t)size);
  while (rc == EINTR);
  if (rc != EOPNOTSUPP && rc != EINVAL)
    return -rc; /* 0 on success; posix_fallocate returns the error rather than setting errno */
#endif
  return ftruncate(fd, (off_t)size) == 0 ? 0 : -errno;
}

int fo__port_shm_anon(size_t size, void **addr) {
  int rc = fo__shm_room(-1, size);
  if (rc < 0)
    return rc;
  void *p = fo__fault_at(FO__FAULT_SHM)
                ? MAP_FAILED
                : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return -errno;
  *addr = p;
  return 0;
}
