/* Children watched through a pipe: the helpers fo_proc and the process pool share. Not
 * installed.
 *
 * A child holds the write end of a pipe whose read end only its parent keeps. Nobody writes to
 * it: when the child dies the kernel closes the write end, and the parent's poll(2) on the read
 * end wakes with end-of-file, with no signal handler, no SIGCHLD and no polling of waitpid. The
 * end-of-file comes as the child's descriptors are closed, a moment before it can be reaped, so
 * fo__proc_reap_exiting() waits that moment out. A child that closes its end itself (or execs:
 * both ends are close-on-exec) looks dead early; a grandchild that inherits the end delays the
 * news until it exits too. */
#ifndef FO_SRC_PROC_H
#define FO_SRC_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* fork() with a watch pipe. In the parent: the child's pid (> 0), *fd the read end. In the
 * child: 0, *fd the write end. On failure a negative errno, with nothing left open. */
pid_t fo__proc_fork(int *fd);

/* waitpid() with EINTR retried: pid, 0 (WNOHANG and still running) or a negative errno. */
pid_t fo__proc_waitpid(pid_t pid, int *status, int flags);

/* Reap a child whose watch pipe reported end-of-file: it is exiting, so this waits (with growing
 * naps) up to about a fifth of a second for it to become reapable; a child still running then
 * closed its end by itself and is killed (SIGKILL) and reaped. Returns 0 or a negative errno
 * (-ECHILD: someone else reaped it, e.g. SIGCHLD is ignored). */
int fo__proc_reap_exiting(pid_t pid, int *status);

/* Whether fd, the read end of a watch pipe, is at end-of-file (or broken) now. */
int fo__proc_watch_ended(int fd);

/* Split a wait status into the ending signal (0 when it exited) and the exit code. */
void fo__proc_decode(int status, int *signal, int *code);

#endif /* FO_SRC_PROC_H */
