/* Sizes no machine here can hold: every create that reserves shared memory must refuse them before
 * it reserves anything (fo__shm_room, ports/port.h). Each call runs in a child whose files may not grow past
 * 1 MiB, with SIGXFSZ ignored: should the check ever be lost, the reservation behind it (fallocate
 * on a memfd or in /dev/shm, which honours RLIMIT_FSIZE) fails there with -EFBIG, and the test with
 * it, instead of taking every page of the machine's memory. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fanout/ipc.h"
#include "fanout/ppool.h"
#include "fanout/shmdict.h"
#include "helpers/fixture.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "inject_suites.h"

typedef struct {
  long rc;     /* long, as leaked: no padding goes down the pipe */
  long leaked; /* allocations still held after the call and its cleanup */
} outcome;

/* Run fn in a capped child and return what it returned there. */
static outcome capped(int (*fn)(void *), void *arg) {
  int fd[2];
  ck_assert_int_eq(pipe(fd), 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    close(fd[0]);
    struct rlimit small = {1 << 20, 1 << 20};
    TP_CHECK(signal(SIGXFSZ, SIG_IGN) != SIG_ERR, 2);
    TP_CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0, 3);
    long before = ta_outstanding();
    outcome o = {fn(arg), 0};
    o.leaked = ta_outstanding() - before;
    TP_CHECK(write(fd[1], &o, sizeof o) == (ssize_t)sizeof o, 4);
    _exit(0);
  }
  close(fd[1]);
  outcome o = {0, 0};
  ssize_t n = read(fd[0], &o, sizeof o);
  close(fd[0]);
  int code = tp_wait(pid, 30);
  ck_assert_msg(n == (ssize_t)sizeof o, "the child reported nothing (exit %d)", code);
  ck_assert_int_eq(o.leaked, 0);
  return o;
}

/* One page more than the machine's memory, or 0 when no region size is that large: a 32-bit
 * program (regions end at PTRDIFF_MAX) on a machine with more memory than that, as under an
 * emulator on a large host. */
static size_t above_phys(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  ck_assert(pages > 0 && page > 0);
  uintmax_t bytes = ((uintmax_t)pages + 1) * (uintmax_t)page;
  return bytes <= (uintmax_t)PTRDIFF_MAX ? (size_t)bytes : 0;
}

static int anon(void *arg) {
  fo_shm *s = (fo_shm *)&s;
  int rc = fo_shm_create(&s, *(size_t *)arg);
  if (rc == 0)
    fo_shm_destroy(s);
  else if (s != NULL)
    rc = 1000; /* a refused create must say so in *shm too */
  return rc;
}

static void region_name(char *buf, size_t cap) {
  snprintf(buf, cap, "/fanout-sizes-%ld", (long)getppid());
}

static int named(void *arg) {
  char name[64];
  region_name(name, sizeof name);
  fo_shm *s = (fo_shm *)&s;
  int rc = fo_shm_create_named(&s, name, *(size_t *)arg);
  if (rc == 0) {
    fo_shm_destroy(s);
    fo_shm_unlink_named(name);
  } else if (s != NULL || fo_shm_unlink_named(name) != -ENOENT) {
    rc = 1000; /* a refused create leaves no region and no name */
  }
  return rc;
}

static int pool(void *arg) {
  fo_ppool *p = (fo_ppool *)&p;
  int rc = fo_ppool_create(&p, &(fo_ppool_opts){.workers = 1, .arena_size = *(size_t *)arg});
  if (rc == 0)
    fo_ppool_destroy(p);
  else if (p != NULL)
    rc = 1000;
  return rc;
}

static int dict(void *arg) {
  (void)arg;
  fo_shmdict *d = (fo_shmdict *)&d;
  int rc = fo_shmdict_create(&d, FO_SHMDICT_CAPACITY_MAX, FO_SHMDICT_KEY_MAX);
  if (rc == 0)
    fo_shmdict_destroy(d);
  else if (d != NULL)
    rc = 1000;
  return rc;
}

/* fn with the largest size a region can have, and with one page more than the memory: both
 * -ENOMEM. */
static void above_memory(int (*fn)(void *)) {
  size_t sizes[] = {(size_t)PTRDIFF_MAX, above_phys()};
  if (sizes[1] == 0) {
    fprintf(stderr, "SKIP above the memory: every size a region can have fits in it here\n");
    return;
  }
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    outcome o = capped(fn, &sizes[i]);
    ck_assert_msg(o.rc == -ENOMEM, "%zu bytes: %ld (%s)", sizes[i], o.rc, fo_strerror((int)o.rc));
  }
}

START_TEST(anonymous_region_above_memory) {
  above_memory(anon);
  /* the limit is the machine's memory, not some smaller figure: a small region still works */
  size_t small = 4096;
  ck_assert_int_eq(capped(anon, &small).rc, 0);
}
END_TEST

START_TEST(named_region_above_memory_or_room) {
  above_memory(named);
  /* Within memory but above what /dev/shm has free: the file system's answer, before the
   * reservation (which the cap would turn into -EFBIG). Only where /dev/shm is a limited file
   * system smaller than memory, as a default tmpfs (half the memory) is. */
  struct statvfs st;
  if (statvfs("/dev/shm", &st) == 0 && st.f_blocks > 0) {
    uintmax_t room = (uintmax_t)st.f_bavail * st.f_frsize;
    size_t size = (size_t)room + ((size_t)64 << 20);
    if ((uintmax_t)size + (64u << 20) < above_phys()) {
      outcome o = capped(named, &size);
      ck_assert_msg(o.rc == -ENOSPC, "%zu bytes: %ld (%s)", size, o.rc, fo_strerror((int)o.rc));
    }
  }
}
END_TEST

/* named() with a 1 MiB tmpfs over /dev/shm, in a mount namespace of the child's own (the mount
 * goes with it); 1 when the system does not allow that (not root, no namespaces). */
static int named_small_dev_shm(void *arg) {
  if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("fanout-test", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0)
    return 1;
  return named(arg);
}

/* Within memory, above the room in /dev/shm: the file system's answer, -ENOSPC, before any
 * reservation (under the cap, a reservation of that size would be -EFBIG). */
START_TEST(named_region_above_room) {
  size_t fits = 64 << 10, too_big = 2 << 20;
  outcome o = capped(named_small_dev_shm, &fits);
  if (o.rc == 1) {
    fprintf(stderr, "SKIP named_region_above_room: cannot mount a small /dev/shm here\n");
    return;
  }
  ck_assert_int_eq(o.rc, 0);
  o = capped(named_small_dev_shm, &too_big);
  ck_assert_msg(o.rc == -ENOSPC, "%ld (%s)", o.rc, fo_strerror((int)o.rc));
}
END_TEST

START_TEST(pool_arena_above_memory) {
  above_memory(pool);
}
END_TEST

/* The largest dictionary takes some GiB: refused on a machine with less memory; elsewhere it gets
 * as far as the reservation, which the cap stops (-EFBIG), or maps lazily (posix port). */
START_TEST(largest_dictionary) {
  outcome o = capped(dict, NULL);
  ck_assert_msg(o.rc == -ENOMEM || o.rc == -EFBIG || o.rc == 0, "%ld (%s)", o.rc,
                fo_strerror((int)o.rc));
}
END_TEST

Suite *sizes_suite(void) {
  Suite *s = suite_create("sizes");
  TCase *tc = fo_tcase("above_the_machine", 30);
  tcase_add_test(tc, anonymous_region_above_memory);
  tcase_add_test(tc, named_region_above_memory_or_room);
  tcase_add_test(tc, named_region_above_room);
  tcase_add_test(tc, pool_arena_above_memory);
  tcase_add_test(tc, largest_dictionary);
  suite_add_tcase(s, tc);
  return s;
}
