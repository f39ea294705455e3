#include "config.h"

#include "procs.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
