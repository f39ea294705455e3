/* System-call failure injection for the test library libfanout_inject.a (see src/base/base_internal.h): this
 * file defines the fo__fault() that library asks at each fault point, counts the calls of each
 * kind and fails the ones a test plans, with the errno it chooses. Thread-safe. */
#ifndef FO_TESTS_FAULTS_H
#define FO_TESTS_FAULTS_H

#include "base/base_internal.h"

/* Make call number n (1 = the next one) of kind fail with err, and every later one too when
 * sticky is nonzero. n = 0 turns injection off for that kind. */
void fault_plan(int kind, long n, int err, int sticky);
/* Turn every plan off. */
void fault_off(void);
/* Calls of kind made so far (failed or not), and those failed by a plan. */
long fault_calls(int kind);
long fault_failures(int kind);

typedef struct {
  const char *name;        /* for messages */
  int kind;                /* FO__FAULT_* */
  int err;                 /* the errno injected */
  int expect;              /* what the operation returns when a failure reaches it */
  int absorbs;             /* it may survive a failure (a retry, another worker) and return 0 */
  int sticky;              /* fail every call from the Nth on, not only the Nth */
  int (*op)(void *arg);    /* 0 on success */
  void (*undo)(void *arg); /* releases what a successful op made; may be NULL */
  void *arg;
} fault_case;

/*
 * The failure loop, as ta_oom_loop() does for allocations: run op once untouched (it must reach
 * the fault point at least once) and undo it, then again with the 1st, 2nd, ... call of kind
 * failing in turn until a run fails no call. After every run (undone when it succeeded) nothing
 * may be left: allocations, descriptors, threads, child processes, IPC objects. A run whose call
 * failed must return expect, or 0 when the case absorbs failures. Fails the current Check test
 * on any breach; returns the number of runs in which a call failed.
 */
long fault_loop(const fault_case *c);

#endif /* FO_TESTS_FAULTS_H */
