/* The one test runner: every suite, in fork mode so a crash fails one test, not the run.
 * CK_RUN_SUITE / CK_RUN_CASE select part of it; CK_TIMEOUT_MULTIPLIER stretches timeouts for
 * slow runs (sanitizers, valgrind, qemu). `check_fanout --list` prints the suite names, one per
 * line, so a slow run (valgrind, an emulator) can start one process per suite, several at once. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/ipccheck.h"
#include "suites.h"

/* Each name is the one its suite_create() gives: CK_RUN_SUITE matches on it. */
static const struct {
  const char *name;
  Suite *(*make)(void);
} suites[] = {
    {"error", error_suite},
    {"alloc", alloc_suite},
    {"cpu", cpu_suite},
    {"info", info_suite},
    {"port", port_suite},
    {"queue", queue_suite},
    {"pipe", pipe_suite},
    {"shm", shm_suite},
    {"shmdict", shmdict_suite},
    {"tpool", tpool_suite},
    {"json", json_suite},
    {"sat", sat_suite},
    {"fixtures", fixtures_suite},
    {"ppool", ppool_suite},
#ifdef FO_HAVE_CURL
    /* The fetcher is built only with libcurl. */
    {"fetch", fetch_suite},
    {"fetch_tls", fetch_tls_suite},
    {"fetch_mtls", fetch_mtls_suite},
    {"fetch_req", fetch_req_suite},
    {"fetch_sink", fetch_sink_suite},
    {"fetch_hostile", fetch_hostile_suite},
    {"fetch_net", fetch_net_suite},
    {"fetch_time", fetch_time_suite},
    {"fetch_engine", fetch_engine_suite},
    {"fetch_job", fetch_job_suite},
    {"fetch_h2", fetch_h2_suite},
    {"chaos", chaos_suite},
#endif
    {"kill", kill_suite},
    {"hostile", hostile_suite},
};

int main(int argc, char **argv) {
  size_t n = sizeof suites / sizeof suites[0];
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < n; i++)
      printf("%s\n", suites[i].name);
    return EXIT_SUCCESS;
  }
  if (argc != 1) {
    fprintf(stderr, "usage: %s [--list]\n", argv[0]);
    return EXIT_FAILURE;
  }
  SRunner *sr = srunner_create(NULL);
  for (size_t i = 0; i < n; i++)
    srunner_add_suite(sr, suites[i].make());
  ipc_init();
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  int ran = srunner_ntests_run(sr);
  srunner_free(sr);
  ipc_fini();
  /* A misspelt selection would otherwise pass having run nothing. */
  const char *only = getenv("CK_RUN_SUITE");
  if (ran == 0 && only != NULL && *only != '\0') {
    fprintf(stderr, "no suite named '%s' (see --list)\n", only);
    return EXIT_FAILURE;
  }
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
