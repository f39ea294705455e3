#include "config.h"

#include "leaks.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <time.h>

#include "procs.h"

/* Entries of a /proc directory, or -1. */
static int entries(const char *path) {
  DIR *d = opendir(path);
  if (d == NULL)
    return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* Children of every thread: a process forked from a worker thread is that thread's child. */
static int children(void) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return -1;
  int n = 0;
  for (struct dirent *e; n >= 0 && (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.')
      continue;
    char path[300];
    snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
      n = -1; /* a kernel without CONFIG_PROC_CHILDREN */
      break;
    }
    for (long pid; fscanf(f, "%ld", &pid) == 1;)
      n++;
    fclose(f);
  }
  closedir(d);
  return n;
}

void lk_snap(lk_snapshot *s) {
  int fds = entries("/proc/self/fd");
  s->fds = fds < 0 ? -1 : fds - 1; /* the directory's own descriptor */
  s->threads = entries("/proc/self/task");
  s->children = children();
}

static int same(int before, int now) {
  return before < 0 || now < 0 || before == now;
}

/* A thread joined just before the first snapshot may still have been listed in /proc then (for
 * long, under an emulator): fewer threads now is not a leak, more is. */
static int no_more(int before, int now) {
  return before < 0 || now < 0 || now <= before;
}

void lk_assert_same(const lk_snapshot *before, const char *what) {
  lk_snapshot now;
  double until = tp_now_ms() + 1000 * tp_scaled(1);
  for (;;) {
    lk_snap(&now);
    if (same(before->fds, now.fds) && no_more(before->threads, now.threads) &&
        same(before->children, now.children))
      return;
    if (tp_now_ms() > until)
      break;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  ck_abort_msg("%s: descriptors %d -> %d, threads %d -> %d, children %d -> %d", what, before->fds,
               now.fds, before->threads, now.threads, before->children, now.children);
}
