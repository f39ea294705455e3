/* The posix port's part of the contract: online CPUs only, no affinity or quota. */
#include "config.h"

#include <check.h>
#include <unistd.h>

#include "fanout/fanout.h"
#include "helpers/fixture.h"
#include "ports/port.h"
#include "suites.h"

START_TEST(posix_cpus_are_the_online_count) {
  ck_assert_int_eq(fo__port_cpus_affinity(), 0);
  ck_assert_int_eq(fo__port_cpus_quota(), 0);
  ck_assert_int_eq(fo__port_cpus_online(), (int)sysconf(_SC_NPROCESSORS_ONLN));
  ck_assert_int_eq(fo_cpu_count(), (int)sysconf(_SC_NPROCESSORS_ONLN));
  ck_assert_str_eq(FO_PORT_NAME, "posix");
}
END_TEST

Suite *port_suite(void) {
  Suite *s = suite_create("port");
  TCase *tc = fo_tcase("posix", 5);
  tcase_add_test(tc, posix_cpus_are_the_online_count);
  suite_add_tcase(s, tc);
  return s;
}
