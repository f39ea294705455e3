/* CPU counts on Linux: online CPUs, the affinity mask and the cgroup CPU quota. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "linux.h"
#include "ports/port.h"

int fo__port_cpus_affinity(void) {
  cpu_set_t set; /* 128 bytes: enough for 1024 CPUs, and no allocation in the common case */
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    return CPU_COUNT(&set);
  if (errno != EINVAL)
    return 0;
  /* More CPUs than CPU_SETSIZE: grow the set until the kernel accepts its size. */
  for (int ncpu = 4096; ncpu <= 1 << 20; ncpu *= 4) {
    size_t size = CPU_ALLOC_SIZE(ncpu);
    cpu_set_t *big = fo__malloc(size);
    if (big == NULL)
      return 0;
    int rc = sched_getaffinity(0, size, big);
    int err = errno;
    int count = rc == 0 ? CPU_COUNT_S(size, big) : 0;
    fo__free(big);
    if (rc == 0 || err != EINVAL)
      return count;
  }
  return 0;
}

/* Read a small file into buf (NUL-terminated). Returns bytes read, or -1. open/read rather than
 * stdio: no hidden allocation, and safe in a child after fork(). */
static ssize_t read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t len = 0;
  while (len + 1 < size) {
    ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  return (ssize_t)len;
}

/* Whole CPUs for quota/period, rounded up; 0 when either is not a positive number. */
int fo__linux_cpu_list_count(const char *text) {
  long count = 0;
  const char *p = text;
  for (;;) {
    char *end;
    long lo = strtol(p, &end, 10), hi = lo;
    if (end == p || lo < 0 || *p == '-' || *p == '+')
      return 0;
    p = end;
    if (*p == '-') {
      p++;
      hi = strtol(p, &end, 10);
      if (end == p || *p == '-' || *p == '+' || hi < lo)
        return 0;
      p = end;
    }
    count += hi - lo + 1;
    if (count >= 1L << 20)
      return 0;
    if (*p == ',') {
      p++;
      continue;
    }
    return *p == '\n' || *p == '\0' ? (int)count : 0;
  }
}

int fo__linux_cpus_online(const char *path) {
  char buf[4096];
  return read_small(path, buf, sizeof buf) > 0 ? fo__linux_cpu_list_count(buf) : 0;
}

/* The kernel's list of online CPUs rather than sysconf(_SC_NPROCESSORS_ONLN): musl answers that
 * with the CPUs of the affinity mask, which is a different limit (fo__port_cpus_affinity). */
int fo__port_cpus_online(void) {
  int n = fo__linux_cpus_online("/sys/devices/system/cpu/online");
  if (n > 0)
    return n;
  long c = sysconf(_SC_NPROCESSORS_ONLN); /* no /sys mounted: the C library's answer */
  return c > 0 && c < 1L << 20 ? (int)c : 0;
}

static int quota_cpus(long long quota, long long period) {
  if (quota <= 0 || period <= 0)
    return 0;
  long long n = (quota + period - 1) / period;
  return n > 1 << 20 ? 1 << 20 : (int)n;
}

/* cgroup v2: "max 100000" (no limit) or "150000 100000". */
static int v2_limit(const char *dir) {
  char path[FO_CGROUP_PATH_MAX + 16], buf[64];
  long long quota, period;
  if (snprintf(path, sizeof path, "%s/cpu.max", dir) >= (int)sizeof path)
    return 0;
  if (read_small(path, buf, sizeof buf) <= 0)
    return 0;
  if (sscanf(buf, "%lld %lld", &quota, &period) != 2)
    return 0; /* "max ..." does not scan as a number: no limit */
  return quota_cpus(quota, period);
}

/* cgroup v1: cpu.cfs_quota_us (-1 for none) and cpu.cfs_period_us. */
static int v1_limit(const char *dir) {
  char path[FO_CGROUP_PATH_MAX + 32], buf[64];
  long long quota, period;
  if (snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir) >= (int)sizeof path ||
      read_small(path, buf, sizeof buf) <= 0 || sscanf(buf, "%lld", &quota) != 1)
    return 0;
  if (snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir) >= (int)sizeof path ||
      read_small(path, buf, sizeof buf) <= 0 || sscanf(buf, "%lld", &period) != 1)
    return 0;
  return quota_cpus(quota, period);
}

/* The tightest limit on the path from the process's cgroup up to the hierarchy's root: a parent's
 * quota caps every child, so the process's own cpu.max alone can miss the real limit. */
static int walk_up(const char *mount, const char *cgpath, int (*limit)(const char *)) {
  char dir[FO_CGROUP_PATH_MAX];
  int best = 0;
  int n = snprintf(dir, sizeof dir, "%s%s", mount, strcmp(cgpath, "/") == 0 ? "" : cgpath);
  if (n < 0 || n >= (int)sizeof dir)
    return 0;
  size_t root_len = strlen(mount);
  for (;;) {
    int l = limit(dir);
    if (l > 0 && (best == 0 || l < best))
      best = l;
    char *slash = strrchr(dir, '/');
    if (slash == NULL || (size_t)(slash - dir) < root_len)
      break;
    *slash = '\0';
  }
  return best;
}

int fo__linux_cgroup_cpus(const char *sysfs_root, const char *proc_cgroup) {
  char buf[4096];
  if (read_small(proc_cgroup, buf, sizeof buf) <= 0)
    return 0;
  char mount[FO_CGROUP_PATH_MAX];
  int best = 0;
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    /* "hierarchy-id:controllers:path" */
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL || c2[1] != '/')
      continue;
    *c1 = *c2 = '\0';
    const char *controllers = c1 + 1, *path = c2 + 1;
    int l = 0;
    if (strcmp(line, "0") == 0 && controllers[0] == '\0') {
      if (snprintf(mount, sizeof mount, "%s", sysfs_root) < (int)sizeof mount)
        l = walk_up(mount, path, v2_limit);
    } else {
      /* v1: the cpu controller, alone or co-mounted ("cpu,cpuacct"), mounted under its own
       * name, which is how systemd and Docker lay it out. */
      char list[256];
      snprintf(list, sizeof list, ",%s,", controllers);
      if (strstr(list, ",cpu,") == NULL)
        continue;
      if (snprintf(mount, sizeof mount, "%s/%s", sysfs_root, controllers) < (int)sizeof mount)
        l = walk_up(mount, path, v1_limit);
      if (l == 0 && snprintf(mount, sizeof mount, "%s/cpu", sysfs_root) < (int)sizeof mount)
        l = walk_up(mount, path, v1_limit);
    }
    if (l > 0 && (best == 0 || l < best))
      best = l;
  }
  return best;
}

int fo__port_cpus_quota(void) {
  return fo__linux_cgroup_cpus("/sys/fs/cgroup", "/proc/self/cgroup");
}
