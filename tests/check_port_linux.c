/* The linux port's CPU limits: the cgroup parser on fake hierarchies, and a real affinity mask. */
#define _GNU_SOURCE 1
#include "config.h"

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fanout/fanout.h"
#include "helpers/fixture.h"
#include "ports/linux/linux.h"
#include "ports/port.h"
#include "suites.h"

/* A scratch directory holding a fake /sys/fs/cgroup and /proc/self/cgroup. */
static char root[64];

static void put(const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  /* create parent directories */
  for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
    *p = '/';
  }
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static int quota(void) {
  char sys[128], proc[128];
  snprintf(sys, sizeof sys, "%s/sys", root);
  snprintf(proc, sizeof proc, "%s/proc_cgroup", root);
  return fo__linux_cgroup_cpus(sys, proc);
}

static void scratch_setup(void) {
  snprintf(root, sizeof root, "/tmp/fanout-cg.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
}

static void scratch_teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  ck_assert_int_eq(system(cmd), 0);
}

START_TEST(v2_no_limit) {
  put("proc_cgroup", "0::/user.slice/tool\n");
  put("sys/user.slice/tool/cpu.max", "max 100000\n");
  put("sys/user.slice/cpu.max", "max 100000\n");
  ck_assert_int_eq(quota(), 0);
}
END_TEST

START_TEST(v2_fractional_quota_rounds_up) {
  put("proc_cgroup", "0::/svc\n");
  put("sys/svc/cpu.max", "150000 100000\n");
  ck_assert_int_eq(quota(), 2);
}
END_TEST

START_TEST(v2_parent_limit_caps_the_child) {
  put("proc_cgroup", "0::/a/b/c\n");
  put("sys/a/b/c/cpu.max", "max 100000\n");
  put("sys/a/b/cpu.max", "300000 100000\n");
  put("sys/a/cpu.max", "100000 50000\n"); /* 2 CPUs: tighter than the child's 3 */
  ck_assert_int_eq(quota(), 2);
}
END_TEST

START_TEST(v2_child_tighter_than_parent) {
  put("proc_cgroup", "0::/a/b\n");
  put("sys/a/b/cpu.max", "50000 100000\n"); /* half a CPU is still one worker */
  put("sys/a/cpu.max", "800000 100000\n");
  ck_assert_int_eq(quota(), 1);
}
END_TEST

START_TEST(v2_root_cgroup_has_no_file) {
  put("proc_cgroup", "0::/\n");
  put("sys/cgroup.controllers", "cpu io memory\n");
  ck_assert_int_eq(quota(), 0);
}
END_TEST

START_TEST(v1_comounted_cpu_cpuacct) {
  put("proc_cgroup", "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n");
  put("sys/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
  put("sys/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  ck_assert_int_eq(quota(), 3);
}
END_TEST

START_TEST(v1_separate_cpu_mount_and_no_quota) {
  put("proc_cgroup", "3:cpuacct:/\n2:cpu:/job\n");
  put("sys/cpu/job/cpu.cfs_quota_us", "-1\n");
  put("sys/cpu/job/cpu.cfs_period_us", "100000\n");
  ck_assert_int_eq(quota(), 0);
  put("sys/cpu/job/cpu.cfs_quota_us", "100000\n");
  ck_assert_int_eq(quota(), 1);
}
END_TEST

START_TEST(v1_cpuacct_alone_is_not_cpu) {
  put("proc_cgroup", "3:cpuacct:/job\n");
  put("sys/cpuacct/job/cpu.cfs_quota_us", "100000\n");
  put("sys/cpuacct/job/cpu.cfs_period_us", "100000\n");
  ck_assert_int_eq(quota(), 0);
}
END_TEST

START_TEST(hybrid_takes_the_tighter) {
  put("proc_cgroup", "2:cpu:/j\n0::/j\n");
  put("sys/cpu/j/cpu.cfs_quota_us", "400000\n");
  put("sys/cpu/j/cpu.cfs_period_us", "100000\n");
  put("sys/j/cpu.max", "200000 100000\n");
  ck_assert_int_eq(quota(), 2);
}
END_TEST

START_TEST(garbage_and_missing_files_mean_no_quota) {
  ck_assert_int_eq(quota(), 0); /* no proc file at all */
  put("proc_cgroup", "nonsense\n::\n0::relative\n7:cpu\n\n");
  ck_assert_int_eq(quota(), 0);
  put("proc_cgroup", "0::/g\n");
  put("sys/g/cpu.max", "lots 100000\n");
  ck_assert_int_eq(quota(), 0);
  put("sys/g/cpu.max", "100000 0\n");
  ck_assert_int_eq(quota(), 0);
  put("sys/g/cpu.max", "-5 100000\n");
  ck_assert_int_eq(quota(), 0);
}
END_TEST

START_TEST(overlong_path_is_no_quota_not_a_crash) {
  char line[FO_CGROUP_PATH_MAX + 64];
  memset(line, 'a', sizeof line);
  memcpy(line, "0::/", 4);
  line[sizeof line - 2] = '\n';
  line[sizeof line - 1] = '\0';
  put("proc_cgroup", line);
  ck_assert_int_eq(quota(), 0);
}
END_TEST

/* The real affinity mask: pin a child to one CPU and ask it. It may use one CPU, and still sees
 * every CPU online (musl's sysconf(_SC_NPROCESSORS_ONLN) would say 1). */
START_TEST(affinity_mask_limits_the_count) {
  cpu_set_t set;
  ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
  int first = -1;
  for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
    if (CPU_ISSET(i, &set))
      first = i;
  ck_assert_int_ge(first, 0);
  ck_assert_int_eq(fo__port_cpus_affinity(), CPU_COUNT(&set));
  int online = fo_cpu_online();
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
      _exit(2);
    int ok = fo__port_cpus_affinity() == 1 && fo_cpu_count() == 1 && fo_cpu_online() == online;
    _exit(ok ? 0 : 1);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST

START_TEST(linux_port_name) {
  ck_assert_str_eq(FO_PORT_NAME, "linux");
  int online = fo__linux_cpus_online("/sys/devices/system/cpu/online");
  ck_assert_int_ge(online, 1);
  ck_assert_int_eq(fo__port_cpus_online(), online);
  ck_assert_int_eq(fo_cpu_online(), online);
}
END_TEST

/* The kernel's CPU list format, and what is not one. */
START_TEST(cpu_list_counts) {
  ck_assert_int_eq(fo__linux_cpu_list_count("0\n"), 1);
  ck_assert_int_eq(fo__linux_cpu_list_count("0-3\n"), 4);
  ck_assert_int_eq(fo__linux_cpu_list_count("0-3,8-11\n"), 8);
  ck_assert_int_eq(fo__linux_cpu_list_count("0,2,4-5"), 4);
  ck_assert_int_eq(fo__linux_cpu_list_count(""), 0);
  ck_assert_int_eq(fo__linux_cpu_list_count("3-1\n"), 0);
  ck_assert_int_eq(fo__linux_cpu_list_count("0-\n"), 0);
  ck_assert_int_eq(fo__linux_cpu_list_count("-1\n"), 0);
  ck_assert_int_eq(fo__linux_cpu_list_count("0,,1\n"), 0);
  ck_assert_int_eq(fo__linux_cpu_list_count("0-3x\n"), 0);
  ck_assert_int_eq(fo__linux_cpu_list_count("0-99999999\n"), 0);
  put("online", "0-1,4\n");
  char path[128];
  snprintf(path, sizeof path, "%s/online", root);
  ck_assert_int_eq(fo__linux_cpus_online(path), 3);
  snprintf(path, sizeof path, "%s/missing", root);
  ck_assert_int_eq(fo__linux_cpus_online(path), 0);
}
END_TEST

Suite *port_suite(void) {
  Suite *s = suite_create("port");
  TCase *tc = fo_tcase("cgroup", 5);
  tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
  tcase_add_test(tc, v2_no_limit);
  tcase_add_test(tc, v2_fractional_quota_rounds_up);
  tcase_add_test(tc, v2_parent_limit_caps_the_child);
  tcase_add_test(tc, v2_child_tighter_than_parent);
  tcase_add_test(tc, v2_root_cgroup_has_no_file);
  tcase_add_test(tc, v1_comounted_cpu_cpuacct);
  tcase_add_test(tc, v1_separate_cpu_mount_and_no_quota);
  tcase_add_test(tc, v1_cpuacct_alone_is_not_cpu);
  tcase_add_test(tc, hybrid_takes_the_tighter);
  tcase_add_test(tc, garbage_and_missing_files_mean_no_quota);
  tcase_add_test(tc, overlong_path_is_no_quota_not_a_crash);
  tcase_add_test(tc, cpu_list_counts);
  suite_add_tcase(s, tc);
  tc = fo_tcase("affinity", 5);
  tcase_add_test(tc, affinity_mask_limits_the_count);
  tcase_add_test(tc, linux_port_name);
  suite_add_tcase(s, tc);
  return s;
}
