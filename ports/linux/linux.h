/* Internal to the linux port; tests include it to reach the parsers without a real cgroup. */
#ifndef FO_PORTS_LINUX_LINUX_H
#define FO_PORTS_LINUX_LINUX_H

#include <stddef.h>

/* Longest cgroup directory path followed; deeper paths are treated as "no quota". */
#ifndef FO_CGROUP_PATH_MAX
#define FO_CGROUP_PATH_MAX 1024
#endif

/*
 * The cgroup CPU quota (whole CPUs, rounded up; 0 for none) of the process whose
 * /proc/<pid>/cgroup text is in the file proc_cgroup, with the cgroup filesystems mounted under
 * sysfs_root (normally "/sys/fs/cgroup"). Handles cgroup v2 (cpu.max) and v1
 * (cpu.cfs_quota_us / cpu.cfs_period_us), and takes the tightest limit on the path to the root.
 */
int fo__linux_cgroup_cpus(const char *sysfs_root, const char *proc_cgroup);

/*
 * CPUs in a kernel CPU list such as "0-3,8-11\n" (the format of /sys/devices/system/cpu/online);
 * 0 for text that is not one.
 */
int fo__linux_cpu_list_count(const char *text);

/* CPUs in the CPU list in the file path; 0 when it cannot be read or is not one. */
int fo__linux_cpus_online(const char *path);

/*
 * An unpredictable name for a POSIX IPC object: prefix (starting with '/'), the caller's pid in
 * decimal, '-', and 16 hex digits from the kernel's random source ("/fanout-mq-4242-0123...").
 * Returns 0, -ENAMETOOLONG (size too small: 48 bytes always do), or the negative errno of the
 * random source.
 */
int fo__linux_random_name(char *buf, size_t size, const char *prefix);

#endif /* FO_PORTS_LINUX_LINUX_H */
