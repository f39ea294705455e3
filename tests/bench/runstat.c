/* For the fetch benchmarks: runstat OUT PROGRAM [ARGS...] runs PROGRAM (found on PATH, its
 * standard streams left as they are) and writes one line to the file OUT:
 *   <wall s> <cpu s> <peak RSS KiB> <exit status>
 * wall: from fork to exit on CLOCK_MONOTONIC; cpu: user + system time of the program, every
 * thread of it (wait4's rusage, to the microsecond, which /usr/bin/time rounds to 10 ms); peak
 * RSS: VmHWM read from /proc/PID/status while the program stops at its exit under ptrace, as
 * tests/footprint/peakrss.c does, because wait4's ru_maxrss would also count the pages the forked
 * child held before exec (this program's), the same for every side but not nothing beside a
 * small peer. Without ptrace (a sandbox that refuses it) ru_maxrss is written instead, and a
 * note says so on stderr. Exit status: 0, or 2 when PROGRAM could not be run or measured. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
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

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: runstat OUT PROGRAM [ARGS...]\n");
    return 2;
  }
  int traced = 1;
  double t0 = now();
  pid_t pid = fork();
  if (pid < 0)
    return 2;
  if (pid == 0) {
    /* stop until the parent has set its options, so the exit event cannot be missed */
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
      raise(SIGSTOP);
    execvp(argv[2], argv + 2);
    _exit(127);
  }
  int st;
  struct rusage ru;
  if (wait4(pid, &st, WUNTRACED, &ru) != pid)
    return 2;
  if (!WIFSTOPPED(st) ||
      ptrace(PTRACE_SETOPTIONS, pid, NULL,
             (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) != 0)
    traced = 0;
  long kb = -1;
  if (!traced) {
    fprintf(stderr, "runstat: no ptrace here: peak RSS from ru_maxrss (counts the fork)\n");
    if (WIFSTOPPED(st))
      ptrace(PTRACE_DETACH, pid, NULL, NULL); /* traced, but the options were refused */
    if (!WIFEXITED(st) && !WIFSIGNALED(st) && wait4(pid, &st, 0, &ru) != pid)
      return 2;
  } else {
    int sig = 0;
    for (;;) {
      if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) != 0 || wait4(pid, &st, 0, &ru) != pid)
        return 2;
      if (WIFEXITED(st) || WIFSIGNALED(st))
        break;
      sig = 0;
      if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
        kb = vm_hwm(pid);
      else if (st >> 8 != (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
        sig = WSTOPSIG(st); /* the program's own signal: deliver it */
    }
  }
  double wall = now() - t0;
  if (kb < 0)
    kb = ru.ru_maxrss;
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
  int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  FILE *out = fopen(argv[1], "w");
  if (out == NULL || fprintf(out, "%.6f %.6f %ld %d\n", wall, cpu, kb, status) < 0 ||
      fclose(out) != 0) {
    perror(argv[1]);
    return 2;
  }
  return 0;
}
