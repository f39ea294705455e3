/* fo_proc: one function in one child process, and the watch-pipe helpers (ppool_internal.h) that the
 * process pool uses for its workers. */
#include "config.h"

#include "ppool/ppool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fanout/ipc.h"
#include "fanout/ppool.h"
#include "ports/port.h"

/* How long an exiting child may take between closing its descriptors and becoming reapable
 * before it is taken to have closed its watch pipe on purpose. */
#define REAP_GRACE_NS 200000000LL

struct fo_proc {
  pid_t owner; /* the process that spawned the child: only it may wait for it */
  pid_t pid;
  int fd; /* watch pipe read end; -1 once it reported end-of-file */
  int reaped;
  fo_proc_status status;
};

static int set_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFD);
  return fl >= 0 && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == 0 ? 0 : -errno;
}

pid_t fo__proc_fork(int *fd) {
  int p[2];
  if (pipe(p) != 0)
    return -errno;
  int rc = set_cloexec(p[0]);
  if (rc == 0)
    rc = set_cloexec(p[1]);
  pid_t pid = rc == 0 ? (fo__fault_at(FO__FAULT_FORK) ? -1 : fork()) : -1;
  if (rc == 0 && pid < 0)
    rc = -errno;
  if (rc != 0) {
    close(p[0]);
    close(p[1]);
    return rc;
  }
  if (pid == 0) {
    close(p[0]);
    *fd = p[1];
    return 0;
  }
  close(p[1]);
  *fd = p[0];
  return pid;
}

pid_t fo__proc_waitpid(pid_t pid, int *status, int flags) {
  for (;;) {
    pid_t r = waitpid(pid, status, flags);
    if (r >= 0)
      return r;
    if (errno != EINTR)
      return -errno;
  }
}

static void nap(long ns) {
  struct timespec ts = {0, ns};
  nanosleep(&ts, NULL); /* an early wake-up only means one more look */
}

int fo__proc_reap_exiting(pid_t pid, int *status) {
  int64_t until = fo__now_ns() + REAP_GRACE_NS;
  long ns = 20000;
  for (;;) {
    pid_t r = fo__proc_waitpid(pid, status, WNOHANG);
    if (r != 0)
      return r < 0 ? (int)r : 0;
    if (fo__now_ns() >= until)
      break;
    nap(ns);
    ns = ns < 5000000 ? ns * 2 : ns;
  }
  kill(pid, SIGKILL);
  pid_t r = fo__proc_waitpid(pid, status, 0);
  return r < 0 ? (int)r : 0;
}

int fo__proc_watch_ended(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  int n;
  do
    n = poll(&p, 1, 0);
  while (n < 0 && errno == EINTR);
  return n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

void fo__proc_decode(int status, int *signal, int *code) {
  if (WIFSIGNALED(status)) {
    *signal = WTERMSIG(status);
    *code = 0;
  } else {
    *signal = 0;
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  }
}

/* ------------------------------------------------------------------------------------------- */

int fo_proc_spawn(fo_proc **proc, fo_proc_fn fn, void *arg, unsigned flags) {
  if (proc == NULL)
    return -EINVAL;
  *proc = NULL;
  if (fn == NULL || (flags & ~FO_PROC_DIE_WITH_PARENT) != 0)
    return -EINVAL;
  if ((flags & FO_PROC_DIE_WITH_PARENT) && fo__port_orphan_check_ms() >= 0)
    return -ENOTSUP; /* the port could only check while waiting, and this child never waits */
  fo_proc *p = fo__malloc(sizeof *p);
  if (p == NULL)
    return -ENOMEM;
  pid_t parent = getpid();
  int fd;
  pid_t pid = fo__proc_fork(&fd);
  if (pid < 0) {
    fo__free(p);
    return (int)pid;
  }
  if (pid == 0) {
    fo__free(p); /* the parent's handle: the child's copy would only leak */
    if ((flags & FO_PROC_DIE_WITH_PARENT) && fo__port_die_with_parent(parent) != 0)
      _exit(127);
    _exit(fn(arg) & 0xff); /* fd closes with the child */
  }
  p->owner = parent;
  p->pid = pid;
  p->fd = fd;
  p->reaped = 0;
  p->status.signal = p->status.code = 0;
  *proc = p;
  return 0;
}

/* Take the child's status if it can be reaped now. 1: reaped; 0: not yet; < 0: error. */
static int try_reap(fo_proc *p) {
  int st;
  pid_t r = fo__proc_waitpid(p->pid, &st, WNOHANG);
  if (r < 0)
    return (int)r;
  if (r == 0)
    return 0;
  fo__proc_decode(st, &p->status.signal, &p->status.code);
  p->reaped = 1;
  return 1;
}

int fo_proc_join(fo_proc *p, int timeout_ms, fo_proc_status *status) {
  if (p == NULL || timeout_ms < FO_FOREVER)
    return -EINVAL;
  if (!p->reaped && p->owner != getpid())
    return -ECHILD;
  int64_t deadline = fo__deadline(timeout_ms);
  long ns = 20000;
  while (!p->reaped) {
    int rc;
    if (p->fd >= 0) {
      /* Sleep until the child's end of the pipe closes or the time runs out. */
      struct pollfd pfd = {p->fd, POLLIN, 0};
      int n = poll(&pfd, 1, fo__deadline_poll_ms(deadline));
      if (n < 0 && errno != EINTR)
        return -errno;
      if (n > 0) {
        close(p->fd);
        p->fd = -1;
        continue;
      }
      if (fo__deadline_passed(deadline))
        return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
      continue;
    }
    /* The pipe ended: the child is exiting (or closed it, or exec'd). Look with growing naps. */
    rc = try_reap(p);
    if (rc < 0)
      return rc;
    if (rc > 0)
      break;
    int64_t left = deadline == FO__FOREVER ? ns : deadline - fo__now_ns();
    if (left <= 0)
      return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
    nap(left < ns ? (long)left : ns);
    ns = ns < 10000000 ? ns * 2 : ns;
  }
  if (p->fd >= 0) {
    close(p->fd);
    p->fd = -1;
  }
  if (status != NULL)
    *status = p->status;
  return 0;
}

int fo_proc_kill(fo_proc *p, int sig) {
  if (p == NULL)
    return -EINVAL;
  if (p->reaped)
    return -ESRCH;
  return kill(p->pid, sig) == 0 ? 0 : -errno;
}

pid_t fo_proc_pid(const fo_proc *p) {
  return p != NULL ? p->pid : 0;
}

void fo_proc_destroy(fo_proc *p) {
  if (p == NULL)
    return;
  if (!p->reaped && p->owner == getpid()) {
    int st;
    kill(p->pid, SIGKILL);
    fo__proc_waitpid(p->pid, &st, 0);
  }
  if (p->fd >= 0)
    close(p->fd);
  fo__free(p);
}
