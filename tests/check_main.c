/* The one test runner: every suite, in fork mode so a crash fails one test, not the run.
 * CK_RUN_SUITE / CK_RUN_CASE select part of it; CK_TIMEOUT_MULTIPLIER stretches timeouts for
 * slow runs (sanitizers, valgrind, qemu). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "helpers/ipccheck.h"
#include "suites.h"

int main(void) {
  Suite *(*const suites[])(void) = {
      error_suite,   alloc_suite, cpu_suite,  port_suite, queue_suite,    pipe_suite,  shm_suite,
      shmdict_suite, tpool_suite, json_suite, sat_suite,  fixtures_suite, ppool_suite,
  };
  SRunner *sr = srunner_create(NULL);
  for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
    srunner_add_suite(sr, suites[i]());
#ifdef FO_HAVE_CURL
  /* The fetcher is built only with libcurl. */
  srunner_add_suite(sr, fetch_suite());
  srunner_add_suite(sr, fetch_tls_suite());
  srunner_add_suite(sr, chaos_suite());
#endif
  srunner_add_suite(sr, kill_suite());
  srunner_add_suite(sr, hostile_suite());
  ipc_init();
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  ipc_fini();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
