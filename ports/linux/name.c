/* Unpredictable names for the IPC objects that briefly need one (a POSIX queue, a shm_open
 * fallback): another user cannot guess the name and open the object in the moment before it is
 * unlinked, and O_EXCL turns a collision into a retry rather than sharing. The creator's pid is
 * part of the name, so an object left by a process killed in that moment can be traced to it
 * and removed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "linux.h"

static int random_bytes(unsigned char *buf, size_t len) {
#ifdef HAVE_GETRANDOM
  size_t got = 0;
  while (got < len) {
    ssize_t n = getrandom(buf + got, len - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    got += (size_t)n;
  }
  return 0;
#else
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      close(fd);
      return n < 0 ? -errno : -EIO;
    }
    got += (size_t)n;
  }
  close(fd);
  return 0;
#endif
}

int fo__linux_random_name(char *buf, size_t size, const char *prefix) {
  unsigned char r[8];
  int rc = random_bytes(r, sizeof r);
  if (rc < 0)
    return rc;
  int n = snprintf(buf, size, "%s%ld-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, (long)getpid(),
                   r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
  return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}
