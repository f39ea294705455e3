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

/* Wait until pid, a child of this process, has ended and can be waited for, without reaping it
 * (its owner, a pool, does): every thread of it has gone, so its descriptors are closed. Its
 * /proc state says 'Z' too early for that: under qemu-user a child is a process of several
 * threads, and the leader is a zombie while another thread still holds the descriptors open.
 * A SIGKILLed child may also take a while to tear down on a busy machine. The test fails if it
 * has not ended within timeout seconds (scaled). */
void tp_wait_ended(pid_t pid, double timeout);

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

/* Run fn(arg) in a forked child that leaves with _exit(fn's return) and wait for it as tp_wait
 * does: its exit code, or 128 + signal; the test fails if it overstays timeout seconds. */
int tp_run(int (*fn)(void *), void *arg, double timeout);

/* The seed of a randomized test: $FO_TEST_SEED when set (to replay a run), else one from the
 * clock and the pid. Printed on stderr with what, so any failing run can be replayed. */
unsigned tp_seed(const char *what);

/* n rounds, divided by CK_TIMEOUT_MULTIPLIER for slow runs, but at least min. */
long tp_rounds(long n, long min);

/* State letter ('R', 'S', 'Z', ...) and parent of pid from /proc; 0, or -1 when it is gone. */
int tp_proc_stat(pid_t pid, char *state, pid_t *ppid);

/* Processes whose parent is this one, zombies included, as /proc lists them. */
int tp_count_children(void);

/* Make this process the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER), so a test
 * can see that what a killed child left ends by itself. Returns 0, with a note on stderr saying
 * which test is not run, where that cannot be done (qemu's user-mode emulator refuses it). */
int tp_adopt_orphans(const char *what);

/* Whether the kernel keeps robust-futex lists, so a lock whose holder died is handed on. Real
 * Linux kernels do; qemu's user-mode emulator, which runs the cross-built tests, answers ENOSYS
 * and never releases a dead holder's lock: then 0, with a note on stderr ending with what. */
int tp_robust_futexes(const char *what);

/* fo_shmdict_create for a test: 1 when *d was made; 0, with a note on stderr naming what is not
 * run (none when what is NULL: a test that forced the refusal skips nothing), where the system
 * has no robust process-shared mutexes (-EOPNOTSUPP); any other failure fails the test.
 * TP_DICT_OR_SKIP returns from the test in the second case. */
struct fo_shmdict;
int tp_dict_create(struct fo_shmdict **d, size_t capacity, size_t key_max, const char *what);
#define TP_DICT_OR_SKIP(d, capacity, key_max)                                                   \
  do {                                                                                          \
    if (!tp_dict_create((d), (capacity), (key_max), __func__))                                  \
      return;                                                                                   \
  } while (0)

/* Reap every child of this process, its own and adopted orphans, until none is left or timeout
 * seconds (scaled) pass; then kill and reap what is left. Returns how many were still running at
 * the deadline (0: every descendant ended by itself); *reaped (may be NULL) counts the rest. */
int tp_reap_children(double timeout, int *reaped);

#endif /* FO_TESTS_PROCS_H */
