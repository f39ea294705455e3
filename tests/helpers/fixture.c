#include "config.h"

#include "fixture.h"

#include "ipccheck.h"
#include "procs.h"
#include "testalloc.h"

/* Per test process (Check forks one per test), so a static is not shared between tests. */
static ipc_snapshot before;

static void setup(void) {
  ipc_snap(&before);
  ta_install();
}

static void teardown(void) {
  tp_reap_all();
  long left = ta_outstanding();
  ta_uninstall();
  ck_assert_msg(left == 0, "%ld allocations outstanding at the end of the test", left);
  ipc_assert_none_new(&before);
}

TCase *fo_tcase(const char *name, double timeout) {
  TCase *tc = tcase_create(name);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, timeout);
  return tc;
}
