/* Anonymous shared memory on Linux: a memfd (or an shm_open object unlinked at once), its pages
 * reserved with fallocate before it is mapped, so running out of tmpfs space is an error here
 * rather than a SIGBUS in whichever process first touches a page. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux.h"
#include "ports/port.h"
#include "base/base_internal.h"

int fo__port_shm_reserve(int fd, size_t size) {
  int rc = fo__shm_room(fd, size); /* -EFBIG too, where size is above an off_t */
  if (rc < 0)
    return rc;
  for (;;) {
    if (fallocate(fd, 0, 0, (off_t)size) == 0)
      return 0;
    if (errno == EINTR)
      continue;
    if (errno != EOPNOTSUPP)
      return -errno;
    break;
  }
  return ftruncate(fd, (off_t)size) == 0 ? 0 : -errno;
}

/* A descriptor for a nameless, empty shared-memory file. */
static int anon_fd(void) {
#ifdef HAVE_MEMFD_CREATE
  int mfd = fo__fault_at(FO__FAULT_SHM) ? -1 : memfd_create("fanout-shm", MFD_CLOEXEC);
  if (mfd >= 0 || (errno != ENOSYS && errno != EINVAL))
    return mfd >= 0 ? mfd : -errno;
#endif
  /* Kernels before 3.17 (or a seccomp filter) without memfd: a POSIX object, named only for
   * the instant between shm_open and shm_unlink. */
  for (int attempt = 0; attempt < 8; attempt++) {
    char name[48];
    int rc = fo__linux_random_name(name, sizeof name, "/fanout-shm-");
    if (rc < 0)
      return rc;
    int fd = fo__fault_at(FO__FAULT_SHM)
                 ? -1
                 : shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
      continue;
    if (fd < 0)
      return -errno;
    shm_unlink(name);
    return fd;
  }
  return -EEXIST;
}

int fo__port_shm_anon(size_t size, void **addr) {
  int rc = fo__shm_room(-1, size); /* before a descriptor exists: nothing to undo */
  if (rc < 0)
    return rc;
  int fd = anon_fd();
  if (fd < 0)
    return fd;
  rc = fo__port_shm_reserve(fd, size);
  if (rc == 0) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
      rc = -errno;
    else
      *addr = p;
  }
  close(fd); /* the mapping keeps the memory; no descriptor is left for exec'd children */
  return rc;
}
