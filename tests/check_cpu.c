/* fo_cpu_count through whichever port is built. */
#include "config.h"

#include <check.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fanout/fanout.h"
#include "helpers/fixture.h"
#include "ports/port.h"
#include "suites.h"

START_TEST(count_is_within_the_online_cpus) {
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  int n = fo_cpu_count();
  ck_assert_int_ge(n, 1);
  if (online > 0)
    ck_assert_int_le(n, online);
}
END_TEST

START_TEST(count_is_the_tightest_port_limit) {
  int n = fo_cpu_count();
  int limits[] = {fo__port_cpus_online(), fo__port_cpus_affinity(), fo__port_cpus_quota()};
  for (int i = 0; i < 3; i++) {
    ck_assert_int_ge(limits[i], 0);
    if (limits[i] > 0)
      ck_assert_int_le(n, limits[i]);
  }
  /* ...and equal to one of them: nothing is made up */
  ck_assert(n == limits[0] || n == limits[1] || n == limits[2] ||
            (n == 1 && limits[0] + limits[1] + limits[2] == 0));
}
END_TEST

START_TEST(count_is_the_same_in_a_forked_child) {
  int n = fo_cpu_count();
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    _exit(fo_cpu_count() == n ? 0 : 1);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

Suite *cpu_suite(void) {
  Suite *s = suite_create("cpu");
  TCase *tc = fo_tcase("count", 5);
  tcase_add_test(tc, count_is_within_the_online_cpus);
  tcase_add_test(tc, count_is_the_tightest_port_limit);
  tcase_add_test(tc, count_is_the_same_in_a_forked_child);
  suite_add_tcase(s, tc);
  return s;
}
