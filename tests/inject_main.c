/* The runner of the failure-injection suites: linked against libfanout_inject.a, the library
 * built with its fault points live (src/base/base_internal.h), which tests/helpers/faults.c drives. Like
 * check_fanout, it runs each test in its own process; CK_RUN_SUITE / CK_RUN_CASE select. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "helpers/ipccheck.h"
#include "inject_suites.h"

int main(void) {
  SRunner *sr = srunner_create(inject_suite());
  srunner_add_suite(sr, oom_suite());
  srunner_add_suite(sr, badargs_suite());
  srunner_add_suite(sr, sizes_suite());
  ipc_init();
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  ipc_fini();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
