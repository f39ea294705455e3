/* For `make footprint`: peakrss PROGRAM [ARGS...] runs PROGRAM and prints its peak resident
 * memory in KiB (VmHWM) and its exit status:
 *   <VmHWM KiB> <exit status>
 * The figure is read from /proc/PID/status while the program stops at its exit under ptrace,
 * before its memory is released: wait4()'s ru_maxrss would also count what the forked child
 * held before exec (the measuring parent's pages), which for a small program is not small. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static long vm_hwm(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  long kb = -1;
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "VmHWM:", 6) == 0)
      kb = strtol(line + 6, NULL, 10);
  if (f != NULL)
    fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: peakrss PROGRAM [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0)
    return 2;
  if (pid == 0) {
    int devnull = freopen("/dev/null", "w", stdout) != NULL;
    (void)devnull;
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0 || raise(SIGSTOP) != 0)
      _exit(126);
    execv(argv[1], argv + 1);
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st) ||
      ptrace(PTRACE_SETOPTIONS, pid, NULL,
             (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) != 0) {
    perror("peakrss: ptrace");
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return 2;
  }
  long kb = -1;
  int sig = 0;
  for (;;) {
    if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) != 0 || waitpid(pid, &st, 0) != pid)
      return 2;
    if (WIFEXITED(st) || WIFSIGNALED(st))
      break;
    sig = 0;
    if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
      kb = vm_hwm(pid);
    else if (st >> 8 != (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
      sig = WSTOPSIG(st); /* the program's own signal: deliver it */
  }
  printf("%ld %d\n", kb, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  return kb < 0;
}
