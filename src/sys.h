/* Fault points: the system calls that create an object fanout cannot do without, and that a test
 * cannot make fail on demand (a queue, a shared region, a process, a thread, a libcurl handle).
 *
 * Each such call is written `fo__fault_at(KIND) ? <failure> : call(...)`. In the library as
 * shipped fo__fault_at() is the constant 0, so the compiler drops it: no code, no state. Built
 * with FO_FAULT_INJECTION (only the test library libfanout_inject.a is), it asks fo__fault(),
 * which the *test program* defines, whether to fail this call and with which errno; the test
 * counts calls per kind and fails the Nth, so it can check that every failure comes back as a
 * clean negative errno with nothing left behind. The library itself never defines fo__fault().
 */
#ifndef FO_SRC_SYS_H
#define FO_SRC_SYS_H

#include <errno.h>

/* What a fault point creates. A kind covers the calls that fill one role on either port. */
enum fo__fault_kind {
  FO__FAULT_MQ,     /* a queue: mq_open (linux port), socketpair (posix port) */
  FO__FAULT_SHM,    /* a shared region: memfd_create, shm_open, anonymous mmap (posix port) */
  FO__FAULT_FORK,   /* fork */
  FO__FAULT_THREAD, /* pthread_create */
  FO__FAULT_CURL,   /* curl_share_init, curl_easy_init */
  FO__FAULT_ROBUST, /* a robust process-shared mutex (pthread_mutexattr_setrobust) */
  FO__FAULT_KINDS
};

#ifdef FO_FAULT_INJECTION
/* Defined by the test program: 0 to make the call, or the errno to fail it with. Called from any
 * thread. */
int fo__fault(int kind);
#endif

/* 1 (errno set) when this call is to fail; always 0 outside test builds. */
static inline int fo__fault_at(int kind) {
#ifdef FO_FAULT_INJECTION
  int e = fo__fault(kind);
  if (e != 0) {
    errno = e;
    return 1;
  }
#else
  (void)kind;
#endif
  return 0;
}

#endif /* FO_SRC_SYS_H */
