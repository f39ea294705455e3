/* fo_shm: shared regions. Anonymous ones come from the port (memfd or MAP_ANONYMOUS); named ones
 * are POSIX shm objects, created O_EXCL with mode 0600 and reserved through the port before they
 * are mapped. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fanout/ipc.h"
#include "ports/port.h"

/* Longest name after the leading '/': well inside NAME_MAX for the file under /dev/shm. */
#define NAME_LEN_MAX 250

struct fo_shm {
  void *addr;
  size_t size;
};

static int valid_name(const char *name) {
  if (name == NULL || name[0] != '/')
    return 0;
  size_t n = strnlen(name + 1, NAME_LEN_MAX + 1);
  return n >= 1 && n <= NAME_LEN_MAX && memchr(name + 1, '/', n) == NULL;
}

/* mmap cannot take more than PTRDIFF_MAX on any system fanout knows. */
static int valid_size(size_t size) {
  return size > 0 && size <= (size_t)PTRDIFF_MAX;
}

int fo_shm_create(fo_shm **shm, size_t size) {
  if (shm == NULL)
    return -EINVAL;
  *shm = NULL;
  if (!valid_size(size))
    return -EINVAL;
  fo_shm *s = fo__malloc(sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  int rc = fo__port_shm_anon(size, &s->addr);
  if (rc < 0) {
    fo__free(s);
    return rc;
  }
  s->size = size;
  *shm = s;
  return 0;
}

static int map_fd(int fd, size_t size, void **addr) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return -errno;
  *addr = p;
  return 0;
}

int fo_shm_create_named(fo_shm **shm, const char *name, size_t size) {
  if (shm == NULL)
    return -EINVAL;
  *shm = NULL;
  if (!valid_name(name) || !valid_size(size))
    return -EINVAL;
  int rc = fo__shm_room(-1, size); /* a size no machine here can hold creates no name */
  if (rc < 0)
    return rc;
  fo_shm *s = fo__malloc(sizeof *s); /* first, so running out of memory leaves no name behind */
  if (s == NULL)
    return -ENOMEM;
  int fd = fo__fault_at(FO__FAULT_SHM) ? -1 : shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    rc = -errno;
    fo__free(s);
    return rc;
  }
  rc = fo__port_shm_reserve(fd, size);
  if (rc == 0)
    rc = map_fd(fd, size, &s->addr);
  close(fd);
  if (rc < 0) {
    shm_unlink(name);
    fo__free(s);
    return rc;
  }
  s->size = size;
  *shm = s;
  return 0;
}

int fo_shm_open_named(fo_shm **shm, const char *name) {
  if (shm == NULL)
    return -EINVAL;
  *shm = NULL;
  if (!valid_name(name))
    return -EINVAL;
  fo_shm *s = fo__malloc(sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  int rc = 0, fd = fo__fault_at(FO__FAULT_SHM) ? -1 : shm_open(name, O_RDWR, 0);
  struct stat st;
  if (fd < 0)
    rc = -errno;
  else if (fstat(fd, &st) != 0)
    rc = -errno;
  else if (st.st_size <= 0 || !valid_size((size_t)st.st_size))
    rc = -EAGAIN;
  else
    rc = map_fd(fd, (size_t)st.st_size, &s->addr);
  if (fd >= 0)
    close(fd);
  if (rc < 0) {
    fo__free(s);
    return rc;
  }
  s->size = (size_t)st.st_size;
  *shm = s;
  return 0;
}

int fo_shm_unlink_named(const char *name) {
  if (!valid_name(name))
    return -EINVAL;
  return shm_unlink(name) == 0 ? 0 : -errno;
}

void fo_shm_destroy(fo_shm *shm) {
  if (shm == NULL)
    return;
  munmap(shm->addr, shm->size);
  fo__free(shm);
}

void *fo_shm_addr(const fo_shm *shm) {
  return shm != NULL ? shm->addr : NULL;
}

size_t fo_shm_size(const fo_shm *shm) {
  return shm != NULL ? shm->size : 0;
}
