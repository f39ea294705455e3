/* Forked children in tests. Every child is reaped and every wait is bounded: a child that
 * overstays is killed and the test fails. Children report through their exit code only (a
 * Check assertion in a child would report from the wrong process) and leave with _exit. */
#ifndef FO_TESTS_PROCS_H
#define FO_TESTS_PROCS_H

#include <sys/types.h>

/* In a child: exit with code unless cond holds. */
#define TP_CHECK(cond, code)                                                                       \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      _exit(code);                                                                                 \
  } while (0)

/* Seconds, scaled by CK_TIMEOUT_MULTIPLIER for slow runs (sanitizers, valgrind). */
double tp_scaled(double seconds);

/* fork(), failing the test if it cannot. */
pid_t tp_fork(void);

/* Reap pid within timeout seconds (scaled). Returns its exit code, or 128 + the signal that
 * ended it. On timeout the child is killed, reaped, and the test fails. */
int tp_wait(pid_t pid, double timeout);

/* SIGKILL pid and reap it. Returns what tp_wait returns (128 + SIGKILL normally). */
int tp_kill(pid_t pid);

/* Kill and reap every child tp_fork() made that was not reaped yet: the fixture's teardown
 * calls it, so a test that fails part-way leaves no child behind (with CK_FORK=no; in fork
 * mode the test's process exits at once and its children end at their own deadlines). */
void tp_reap_all(void);

/* A one-way doorbell between processes over a raw pipe, for "ready" and "go". */
typedef struct {
  int fd[2];
} tp_bell;

void tp_bell_init(tp_bell *b);
/* Ring once with a byte. */
void tp_bell_ring(tp_bell *b, char c);
/* Wait up to timeout seconds (scaled) for a ring; returns the byte, or -1 on timeout or EOF. */
int tp_bell_wait(tp_bell *b, double timeout);
void tp_bell_close(tp_bell *b);

/* Milliseconds on the monotonic clock, for measuring how long a call waited. */
double tp_now_ms(void);

#endif /* FO_TESTS_PROCS_H */
