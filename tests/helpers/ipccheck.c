#include "config.h"

#include "ipccheck.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "procs.h"

/* Set once in ipc_init() before any test forks; read-only afterwards. */
static char mq_dir[64];
static int mq_mounted;

static int is_mqueue_mount(const char *dir) {
  FILE *f = fopen("/proc/self/mounts", "r");
  char line[512], dev[128], mnt[256], type[64];
  int found = 0;
  if (f == NULL)
    return 0;
  while (!found && fgets(line, sizeof line, f) != NULL)
    found = sscanf(line, "%127s %255s %63s", dev, mnt, type) == 3 && strcmp(type, "mqueue") == 0 &&
            strcmp(mnt, dir) == 0;
  fclose(f);
  return found;
}

void ipc_init(void) {
  if (is_mqueue_mount("/dev/mqueue")) {
    snprintf(mq_dir, sizeof mq_dir, "/dev/mqueue");
    return;
  }
  snprintf(mq_dir, sizeof mq_dir, "/tmp/fanout-mq.XXXXXX");
  if (mkdtemp(mq_dir) != NULL && mount("none", mq_dir, "mqueue", 0, NULL) == 0) {
    mq_mounted = 1;
    return;
  }
  if (mq_dir[0] != '\0')
    rmdir(mq_dir);
  mq_dir[0] = '\0';
  fprintf(stderr, "note: cannot mount the mqueue filesystem (not root?); "
                  "the leak check covers /dev/shm only\n");
}

void ipc_fini(void) {
  if (mq_mounted) {
    umount(mq_dir);
    rmdir(mq_dir);
    mq_mounted = 0;
  }
}

int ipc_can_see_queues(void) {
  return mq_dir[0] != '\0';
}

static void add_dir(ipc_snapshot *s, const char *dir, const char *tag) {
  DIR *d = opendir(dir);
  struct dirent *e;
  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    ck_assert_msg(s->n < IPC_MAX_NAMES, "more than %d IPC objects present", IPC_MAX_NAMES);
    snprintf(s->names[s->n++], sizeof s->names[0], "%s:%s", tag, e->d_name);
  }
  closedir(d);
}

void ipc_snap(ipc_snapshot *s) {
  s->n = 0;
  add_dir(s, "/dev/shm", "shm");
  if (mq_dir[0] != '\0')
    add_dir(s, mq_dir, "mq");
}

static int contains(const ipc_snapshot *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0)
      return 1;
  return 0;
}

/* The creator's pid in a name that carries one: the library's ("mq:fanout-mq-<pid>-...") and
 * the tests' own named regions ("shm:fanout-test-<pid>"); or 0. */
static pid_t creator(const char *tagged) {
  const char *p = strstr(tagged, ":fanout-");
  if (p == NULL || (p = strchr(p + 8, '-')) == NULL)
    return 0;
  char *end;
  long pid = strtol(p + 1, &end, 10);
  return end != p + 1 && (*end == '-' || *end == '\0') && pid > 0 ? (pid_t)pid : 0;
}

/* Whether pid is alive and neither this process nor one of its descendants. */
static int foreign(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH)
    return 0;
  pid_t self = getpid(), p = pid;
  for (int depth = 0; depth < 64 && p > 1; depth++) {
    if (p == self)
      return 0;
    if (tp_proc_stat(p, NULL, &p) != 0)
      return 0;
  }
  return 1;
}

static int counts(const ipc_snapshot *before, const char *name) {
  if (contains(before, name))
    return 0;
  pid_t pid = creator(name);
  return pid == 0 || !foreign(pid);
}

static int remove_in(const char *dir, pid_t pid, const char *prefix) {
  char want[64], path[512];
  int n = 0;
  snprintf(want, sizeof want, "%s%ld-", prefix, (long)pid);
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, want, strlen(want)) != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    n += unlink(path) == 0;
  }
  if (d != NULL)
    closedir(d);
  return n;
}

int ipc_remove_of(pid_t pid) {
  int n = remove_in("/dev/shm", pid, "fanout-shm-");
  if (mq_dir[0] != '\0')
    n += remove_in(mq_dir, pid, "fanout-mq-");
  return n;
}

int ipc_count_new(const ipc_snapshot *before) {
  static ipc_snapshot now; /* large; tests run one at a time in their own process */
  int fresh = 0;
  ipc_snap(&now);
  for (int i = 0; i < now.n; i++)
    fresh += counts(before, now.names[i]);
  return fresh;
}

void ipc_assert_none_new(const ipc_snapshot *before) {
  static ipc_snapshot now;
  ipc_snap(&now);
  for (int i = 0; i < now.n; i++)
    ck_assert_msg(!counts(before, now.names[i]), "IPC object left behind: %s", now.names[i]);
}
