#include "config.h"

#include "faults.h"

#include <check.h>
#include <stdio.h>

#include "fanout/fanout.h"
#include "ipccheck.h"
#include "leaks.h"
#include "testalloc.h"

static long calls[FO__FAULT_KINDS], fail_at[FO__FAULT_KINDS], fail_err[FO__FAULT_KINDS],
    fail_sticky[FO__FAULT_KINDS], failures[FO__FAULT_KINDS];

int fo__fault(int kind) {
  ck_assert_msg(kind >= 0 && kind < FO__FAULT_KINDS, "unknown fault kind %d", kind);
  long n = __atomic_add_fetch(&calls[kind], 1, __ATOMIC_SEQ_CST);
  long at = __atomic_load_n(&fail_at[kind], __ATOMIC_SEQ_CST);
  if (at > 0 && (n == at || (n > at && __atomic_load_n(&fail_sticky[kind], __ATOMIC_SEQ_CST)))) {
    __atomic_add_fetch(&failures[kind], 1, __ATOMIC_SEQ_CST);
    return (int)__atomic_load_n(&fail_err[kind], __ATOMIC_SEQ_CST);
  }
  return 0;
}

void fault_plan(int kind, long n, int err, int sticky) {
  __atomic_store_n(&fail_at[kind], 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&fail_err[kind], (long)err, __ATOMIC_SEQ_CST);
  __atomic_store_n(&fail_sticky[kind], (long)sticky, __ATOMIC_SEQ_CST);
  if (n > 0)
    __atomic_store_n(&fail_at[kind], fault_calls(kind) + n, __ATOMIC_SEQ_CST);
}

void fault_off(void) {
  for (int k = 0; k < FO__FAULT_KINDS; k++)
    fault_plan(k, 0, 0, 0);
}

long fault_calls(int kind) {
  return __atomic_load_n(&calls[kind], __ATOMIC_SEQ_CST);
}

long fault_failures(int kind) {
  return __atomic_load_n(&failures[kind], __ATOMIC_SEQ_CST);
}

/* Everything a run may leave behind, before it. */
typedef struct {
  long mem;
  lk_snapshot res;
  ipc_snapshot ipc;
} held;

static void snap(held *h) {
  h->mem = ta_outstanding();
  lk_snap(&h->res);
  ipc_snap(&h->ipc);
}

static void assert_released(const held *h, const char *name, long n) {
  char what[160];
  snprintf(what, sizeof what, "%s, call %ld failing", name, n);
  ck_assert_msg(ta_outstanding() == h->mem, "%s: %ld allocations leaked", what,
                ta_outstanding() - h->mem);
  lk_assert_same(&h->res, what);
  ipc_assert_none_new(&h->ipc);
}

long fault_loop(const fault_case *c) {
  static held before; /* large (the IPC names); tests run one at a time in their own process */
  fault_off();
  /* The untouched run: the operation must work and reach the fault point; it also lets a
   * runtime start what it starts once (a sanitizer's helper thread) before the counts. */
  long first = fault_calls(c->kind);
  int rc = c->op(c->arg);
  ck_assert_msg(rc == 0, "%s without failures: %s", c->name, fo_strerror(rc));
  if (c->undo != NULL)
    c->undo(c->arg);
  ck_assert_msg(fault_calls(c->kind) > first, "%s never reached its fault point", c->name);
  snap(&before);
  long injected = 0;
  for (long n = 1; n < 10000; n++) {
    fault_plan(c->kind, n, c->err, c->sticky);
    long failed_before = fault_failures(c->kind);
    rc = c->op(c->arg);
    int failed = fault_failures(c->kind) > failed_before;
    fault_off();
    if (rc == 0 && c->undo != NULL)
      c->undo(c->arg);
    assert_released(&before, c->name, n);
    if (!failed) {
      ck_assert_msg(rc == 0, "%s: %s with no call failing", c->name, fo_strerror(rc));
      return injected;
    }
    injected++;
    ck_assert_msg(rc == c->expect || (rc == 0 && c->absorbs),
                  "%s, call %ld failing with errno %d: expected %d (%s), got %d (%s)", c->name, n,
                  c->err, c->expect, fo_strerror(c->expect), rc, fo_strerror(rc));
  }
  ck_abort_msg("%s never succeeded within 10000 calls", c->name);
  return -1;
}
