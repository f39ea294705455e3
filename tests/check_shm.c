/* fo_shm: anonymous regions shared across fork(), named regions only on request, reservation
 * up front, and nothing left behind when the creating process is killed. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fanout/ipc.h"
#include "fanout/shmdict.h"
#include "helpers/fixture.h"
#include "helpers/ipccheck.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "ports/port.h"
#include "suites.h"

START_TEST(arguments_are_checked) {
  fo_shm *s = (fo_shm *)&s;
  char longname[300];
  memset(longname, 'n', sizeof longname);
  longname[0] = '/';
  longname[sizeof longname - 1] = '\0';
  ck_assert_int_eq(fo_shm_create(NULL, 4096), -EINVAL);
  ck_assert_int_eq(fo_shm_create(&s, 0), -EINVAL);
  ck_assert_ptr_null(s);
  ck_assert_int_eq(fo_shm_create(&s, SIZE_MAX), -EINVAL);
  const char *bad[] = {NULL, "", "/", "noslash", "/a/b", longname};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(fo_shm_create_named(&s, bad[i], 4096), -EINVAL);
    ck_assert_int_eq(fo_shm_open_named(&s, bad[i]), -EINVAL);
    ck_assert_int_eq(fo_shm_unlink_named(bad[i]), -EINVAL);
  }
  ck_assert_int_eq(fo_shm_create_named(NULL, "/fanout-x", 4096), -EINVAL);
  ck_assert_int_eq(fo_shm_create_named(&s, "/fanout-x", 0), -EINVAL);
  ck_assert_int_eq(fo_shm_open_named(NULL, "/fanout-x"), -EINVAL);
  ck_assert_ptr_null(fo_shm_addr(NULL));
  ck_assert_uint_eq(fo_shm_size(NULL), 0);
  fo_shm_destroy(NULL);
}
END_TEST

START_TEST(anonymous_region_is_zeroed_and_shared_with_children) {
  fo_shm *s;
  ck_assert_int_eq(fo_shm_create(&s, 100000), 0);
  ck_assert_uint_eq(fo_shm_size(s), 100000);
  unsigned char *p = fo_shm_addr(s);
  ck_assert_uint_eq((uintptr_t)p % 4096, 0);
  for (size_t i = 0; i < 100000; i++)
    ck_assert_uint_eq(p[i], 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    TP_CHECK(fo_shm_addr(s) == p, 1);
    memset(p, 0x5a, 100000);
    fo_shm_destroy(s);
    _exit(0);
  }
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  ck_assert_uint_eq(p[0], 0x5a);
  ck_assert_uint_eq(p[99999], 0x5a);
  fo_shm_destroy(s);
}
END_TEST

START_TEST(named_region_lives_until_unlinked) {
  char name[64], path[80];
  snprintf(name, sizeof name, "/fanout-test-%d", (int)getpid());
  snprintf(path, sizeof path, "/dev/shm%s", name);
  fo_shm *s, *other;
  ck_assert_int_eq(fo_shm_create_named(&s, name, 10000), 0);
  /* Results are gathered first and asserted after the unlink, so a failure leaves no name. */
  int visible = access(path, F_OK);
  int again = fo_shm_create_named(&other, name, 10000);
  strcpy(fo_shm_addr(s), "from the creator");
  pid_t pid = tp_fork();
  if (pid == 0) { /* stands in for an unrelated process: opens by name */
    fo_shm *o;
    TP_CHECK(fo_shm_open_named(&o, name) == 0, 1);
    TP_CHECK(fo_shm_size(o) == 10000, 2);
    TP_CHECK(strcmp(fo_shm_addr(o), "from the creator") == 0, 3);
    strcpy(fo_shm_addr(o), "from the opener");
    fo_shm_destroy(o);
    fo_shm_destroy(s);
    _exit(0);
  }
  int child = tp_wait(pid, 10);
  ck_assert_int_eq(fo_shm_unlink_named(name), 0);
  ck_assert_int_eq(visible, 0); /* the one object with a name: by request */
  ck_assert_int_eq(again, -EEXIST);
  ck_assert_int_eq(child, 0);
  ck_assert_int_ne(access(path, F_OK), 0);
  ck_assert_str_eq(fo_shm_addr(s), "from the opener"); /* the mapping outlives the name */
  ck_assert_int_eq(fo_shm_open_named(&other, name), -ENOENT);
  ck_assert_int_eq(fo_shm_unlink_named(name), -ENOENT);
  fo_shm_destroy(s);
}
END_TEST

/* A file system without room fails at reservation, before anything is mapped: a tiny tmpfs
 * stands in for a full /dev/shm. Needs root for the mount; skipped without. */
START_TEST(reservation_fails_up_front_when_space_is_short) {
  char dir[] = "/tmp/fanout-tmpfs.XXXXXX", path[64];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  if (mount("none", dir, "tmpfs", 0, "size=256k") != 0) {
    rmdir(dir);
    fprintf(stderr, "note: cannot mount a tmpfs (not root?): reservation test skipped\n");
    return;
  }
  snprintf(path, sizeof path, "%s/region", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  int big = fd >= 0 ? fo__port_shm_reserve(fd, 4u << 20) : -errno;
  int small = fd >= 0 ? fo__port_shm_reserve(fd, 64u << 10) : -errno;
  if (fd >= 0)
    close(fd);
  umount(dir);
  rmdir(dir);
  ck_assert_msg(big == -ENOSPC, "reserving 4 MiB on a 256 KiB tmpfs gave %d", big);
  ck_assert_int_eq(small, 0);
}
END_TEST

/* The creator of a queue, a pipe, a region and a dict is killed with SIGKILL while it holds
 * them: nothing of them is left in /dev/shm or the mqueue file system, nor was there anything to
 * see while it lived. */
START_TEST(killed_creator_leaves_nothing) {
  ipc_snapshot before;
  ipc_snap(&before);
  tp_bell ready;
  tp_bell_init(&ready);
  pid_t pid = tp_fork();
  if (pid == 0) {
    fo_mq *q;
    fo_pipe *r, *w;
    fo_shm *s;
    fo_shmdict *d;
    TP_CHECK(fo_mq_create(&q, 128, 4, 0) == 0, 1);
    TP_CHECK(fo_mq_send(q, "pending", 7, 0) == 0, 2);
    TP_CHECK(fo_pipe_create(&r, &w) == 0, 3);
    TP_CHECK(fo_shm_create(&s, 1 << 20) == 0, 4);
    int rc = fo_shmdict_create(&d, 64, 16); /* -EOPNOTSUPP: no robust mutexes (qemu-user) */
    TP_CHECK(rc == 0 || rc == -EOPNOTSUPP, 5);
    TP_CHECK(rc != 0 || fo_shmdict_add(d, "k", 1, NULL) == 0, 6);
    tp_bell_ring(&ready, 'r');
    for (;;)
      pause();
  }
  ck_assert_int_eq(tp_bell_wait(&ready, 10), 'r');
  ck_assert_int_eq(ipc_count_new(&before), 0);
  ck_assert_int_eq(tp_kill(pid), 128 + SIGKILL);
  ck_assert_int_eq(ipc_count_new(&before), 0);
  if (!ipc_can_see_queues())
    fprintf(stderr, "note: mqueue file system not visible: only /dev/shm was checked\n");
  tp_bell_close(&ready);
}
END_TEST

static int anon_op(void *arg) {
  return fo_shm_create(arg, 8192);
}

static void destroy_op(void *arg) {
  fo_shm_destroy(*(fo_shm **)arg);
}

static char oom_name[64];

static int named_op(void *arg) {
  return fo_shm_create_named(arg, oom_name, 8192);
}

static void named_undo(void *arg) {
  fo_shm_destroy(*(fo_shm **)arg);
  ck_assert_int_eq(fo_shm_unlink_named(oom_name), 0);
}

START_TEST(create_out_of_memory) {
  fo_shm *s;
  ck_assert_int_ge(ta_oom_loop(anon_op, destroy_op, &s), 1);
  snprintf(oom_name, sizeof oom_name, "/fanout-oom-%d", (int)getpid());
  ck_assert_int_ge(ta_oom_loop(named_op, named_undo, &s), 1); /* and failures leave no name */
}
END_TEST

/* The helpers for words shared between processes (src/base/base_internal.h), between real processes: two of
 * them add to one counter by compare-and-swap and none of the adds is lost (libatomic's
 * per-process locks lose some on 32-bit MIPS), and a reader never sees a value of the
 * single-writer 64-bit cell that the writer did not write whole. */
typedef struct {
  fo__word counter;
  fo__word stop;
  fo__owned64 cell;
} shared_words;

static void add_by_cas(fo__word *w, long n) {
  for (long i = 0; i < n; i++) {
    fo__word v = fo__ld(w, FO__RELAXED);
    while (!fo__cas(w, &v, v + 1, FO__ACQ_REL, FO__RELAXED))
      ;
  }
}

START_TEST(shared_words_are_atomic_between_processes) {
  const long adds = (long)(100000 / tp_scaled(1));
  fo_shm *shm;
  ck_assert_int_eq(fo_shm_create(&shm, sizeof(shared_words)), 0);
  shared_words *sw = fo_shm_addr(shm);
  pid_t adder = tp_fork();
  if (adder == 0) {
    add_by_cas(&sw->counter, adds);
    _exit(0);
  }
  pid_t writer = tp_fork();
  if (writer == 0) {
    /* both halves equal: a torn read would show two different ones */
    for (uint64_t x = 1; !fo__ld(&sw->stop, FO__ACQUIRE); x++) {
      fo__owned64_st(&sw->cell, x << 32 | x);
      if ((x & 63) == 0)
        sched_yield(); /* a pause now and then, as a real writer has, lets some reads through */
    }
    _exit(0);
  }
  add_by_cas(&sw->counter, adds);
  long reads = 0, torn = 0;
  /* Under an emulator on a loaded machine every read of the first `adds` may overlap a write
   * (the reader then says "not known"): go on, within a bound, until some read succeeds. */
  for (long i = 0; i < adds || (reads == 0 && i < 1000 * adds); i++) {
    uint64_t v;
    if (fo__owned64_ld(&sw->cell, &v) == 0) {
      reads++;
      torn += (v >> 32) != (v & 0xffffffffu);
    }
  }
  ck_assert_int_eq(tp_wait(adder, 60), 0);
  fo__st(&sw->stop, 1, FO__RELEASE);
  ck_assert_int_eq(tp_wait(writer, 60), 0);
  ck_assert_uint_eq(fo__ld(&sw->counter, FO__RELAXED), (fo__word)(2 * adds));
  ck_assert_int_eq(torn, 0);
  ck_assert_int_gt(reads, 0);
  fo_shm_destroy(shm);
}
END_TEST

/* Without 8-byte atomics the cell carries a generation word, odd while a write runs. A writer
 * killed mid-write leaves it odd: readers say "not known", and the next writer (the parent
 * resetting the slot) makes it readable again instead of turning the parity round. */
START_TEST(owned_cell_survives_a_writer_dying_mid_write) {
  fo__owned64 c;
  memset(&c, 0, sizeof c);
  uint64_t v = 1;
  ck_assert_int_eq(fo__owned64_ld(&c, &v), 0);
  ck_assert(v == 0);
  fo__owned64_st(&c, 0x123456789abcdefull);
  ck_assert_int_eq(fo__owned64_ld(&c, &v), 0);
  ck_assert(v == 0x123456789abcdefull);
#ifndef FO_HAVE_ATOMIC_8
  c.gen |= 1; /* as a writer killed between its two halves leaves it */
  ck_assert_int_eq(fo__owned64_ld(&c, &v), -1);
  fo__owned64_st(&c, 42);
  ck_assert_int_eq(fo__owned64_ld(&c, &v), 0);
  ck_assert(v == 42);
  fo__owned64_st(&c, 43);
  ck_assert_int_eq(fo__owned64_ld(&c, &v), 0);
  ck_assert(v == 43);
#endif
}
END_TEST

Suite *shm_suite(void) {
  Suite *s = suite_create("shm");
  TCase *tc = fo_tcase("regions", 10);
  tcase_add_test(tc, arguments_are_checked);
  tcase_add_test(tc, anonymous_region_is_zeroed_and_shared_with_children);
  tcase_add_test(tc, named_region_lives_until_unlinked);
  tcase_add_test(tc, reservation_fails_up_front_when_space_is_short);
  tcase_add_test(tc, create_out_of_memory);
  suite_add_tcase(s, tc);
  tc = fo_tcase("atomics", 30);
  tcase_add_test(tc, shared_words_are_atomic_between_processes);
  tcase_add_test(tc, owned_cell_survives_a_writer_dying_mid_write);
  suite_add_tcase(s, tc);
  tc = fo_tcase("crash", 20);
  tcase_add_test(tc, killed_creator_leaves_nothing);
  suite_add_tcase(s, tc);
  return s;
}
