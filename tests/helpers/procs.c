#include "config.h"

#include "procs.h"

#include "fanout/fanout.h"
#include "fanout/shmdict.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

double tp_scaled(double seconds) {
  const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
  double k = m != NULL ? atof(m) : 1.0;
  return seconds * (k >= 1.0 ? k : 1.0);
}

double tp_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Children not reaped yet; per test process, like everything a test touches. */
#define TP_MAX_CHILDREN 64
static pid_t children[TP_MAX_CHILDREN];

static void forget(pid_t pid) {
  for (int i = 0; i < TP_MAX_CHILDREN; i++)
    if (children[i] == pid)
      children[i] = 0;
}

pid_t tp_fork(void) {
  pid_t pid = fork();
  ck_assert_msg(pid >= 0, "fork failed: errno %d", errno);
  if (pid == 0) {
    memset(children, 0, sizeof children); /* a child's siblings are not its own */
    return 0;
  }
  for (int i = 0; i < TP_MAX_CHILDREN; i++) {
    if (children[i] == 0) {
      children[i] = pid;
      break;
    }
  }
  return pid;
}

void tp_reap_all(void) {
  for (int i = 0; i < TP_MAX_CHILDREN; i++) {
    if (children[i] > 0) {
      int status;
      kill(children[i], SIGKILL);
      while (waitpid(children[i], &status, 0) < 0 && errno == EINTR)
        ;
      children[i] = 0;
    }
  }
}

static int code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tp_wait(pid_t pid, double timeout) {
  double end = tp_now_ms() + tp_scaled(timeout) * 1e3;
  int status;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      forget(pid);
      return code_of(status);
    }
    ck_assert_msg(r == 0 || errno == EINTR, "waitpid(%d) failed: errno %d", (int)pid, errno);
    if (tp_now_ms() > end)
      break;
    struct timespec nap = {0, 2000000};
    nanosleep(&nap, NULL);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  forget(pid);
  ck_abort_msg("child %d still running after %.1f s: killed", (int)pid, tp_scaled(timeout));
  return -1;
}

int tp_kill(pid_t pid) {
  kill(pid, SIGKILL);
  return tp_wait(pid, 10);
}

void tp_bell_init(tp_bell *b) {
  ck_assert_int_eq(pipe(b->fd), 0);
}

void tp_bell_ring(tp_bell *b, char c) {
  while (write(b->fd[1], &c, 1) < 0 && errno == EINTR)
    ;
}

int tp_bell_wait(tp_bell *b, double timeout) {
  struct pollfd p = {b->fd[0], POLLIN, 0};
  int n;
  do
    n = poll(&p, 1, (int)(tp_scaled(timeout) * 1e3));
  while (n < 0 && errno == EINTR);
  unsigned char c;
  if (n <= 0 || read(b->fd[0], &c, 1) != 1)
    return -1;
  return c;
}

void tp_bell_close(tp_bell *b) {
  close(b->fd[0]);
  close(b->fd[1]);
}

int tp_run(int (*fn)(void *), void *arg, double timeout) {
  pid_t pid = tp_fork();
  if (pid == 0)
    _exit(fn(arg));
  return tp_wait(pid, timeout);
}

unsigned tp_seed(const char *what) {
  const char *e = getenv("FO_TEST_SEED");
  unsigned seed = e != NULL && *e != '\0' ? (unsigned)strtoul(e, NULL, 0)
                                          : (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
  fprintf(stderr, "%s: seed %u (FO_TEST_SEED=%u replays it)\n", what, seed, seed);
  return seed;
}

long tp_rounds(long n, long min) {
  long r = (long)((double)n / tp_scaled(1.0));
  return r > min ? r : min;
}

void tp_wait_ended(pid_t pid, double timeout) {
  double end = tp_now_ms() + tp_scaled(timeout) * 1000;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == pid)
      return; /* waitable, or already reaped */
    ck_assert_msg(tp_now_ms() < end, "process %d still running %.1f s after SIGKILL", (int)pid,
                  tp_scaled(timeout));
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
}

int tp_proc_stat(pid_t pid, char *state, pid_t *ppid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* "pid (comm) S ppid ...": comm may hold spaces and parentheses, so look after the last ')' */
  const char *p = strrchr(buf, ')');
  int pp;
  char st;
  if (p == NULL || sscanf(p + 1, " %c %d", &st, &pp) != 2)
    return -1;
  if (state != NULL)
    *state = st;
  if (ppid != NULL)
    *ppid = (pid_t)pp;
  return 0;
}

/* Fill pids (up to cap) with this process's children; returns how many there are. */
static int children_of_self(pid_t *pids, int cap) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int n = 0;
  pid_t self = getpid(), pp;
  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL) {
    if (!isdigit((unsigned char)e->d_name[0]))
      continue;
    pid_t pid = (pid_t)atoi(e->d_name);
    if (tp_proc_stat(pid, NULL, &pp) == 0 && pp == self) {
      if (n < cap)
        pids[n] = pid;
      n++;
    }
  }
  closedir(d);
  return n;
}

int tp_count_children(void) {
  return children_of_self(NULL, 0);
}

int tp_adopt_orphans(const char *what) {
#ifdef PR_SET_CHILD_SUBREAPER
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) == 0)
    return 1;
#endif
  fprintf(stderr, "skip: cannot adopt orphans here (user-mode emulator?); %s not run\n", what);
  return 0;
}

int tp_robust_futexes(const char *what) {
#ifdef SYS_get_robust_list
  void *head;
  size_t len;
  if (syscall(SYS_get_robust_list, 0, &head, &len) == 0)
    return 1;
#endif
  fprintf(stderr, "skip: robust futexes unavailable here (user-mode emulator?); %s\n", what);
  return 0;
}

int tp_dict_create(struct fo_shmdict **d, size_t capacity, size_t key_max, const char *what) {
  int rc = fo_shmdict_create(d, capacity, key_max);
  if (rc == -EOPNOTSUPP) {
    if (what != NULL) /* NULL: the caller forced the refusal, nothing is skipped */
      fprintf(stderr, "skip: no robust process-shared mutexes here (qemu-user?); %s not run\n",
              what);
    return 0;
  }
  ck_assert_msg(rc == 0, "fo_shmdict_create: %s", fo_strerror(rc));
  return 1;
}

int tp_reap_children(double timeout, int *reaped) {
  double end = tp_now_ms() + tp_scaled(timeout) * 1e3;
  int n = 0, status;
  for (;;) {
    pid_t r = waitpid(-1, &status, WNOHANG);
    if (r > 0) {
      forget(r);
      n++;
      continue;
    }
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 || tp_now_ms() > end)
      break; /* ECHILD: none left */
    struct timespec nap = {0, 1000000};
    nanosleep(&nap, NULL);
  }
  pid_t left[TP_MAX_CHILDREN];
  int late = children_of_self(left, TP_MAX_CHILDREN);
  for (int i = 0; i < late && i < TP_MAX_CHILDREN; i++)
    kill(left[i], SIGKILL);
  while (waitpid(-1, &status, 0) > 0 || errno == EINTR)
    ;
  if (reaped != NULL)
    *reaped = n;
  return late;
}
