/* System calls failing in turn (src/base/base_internal.h, tests/helpers/faults.c): for each public operation that
 * creates a queue, a shared region, a process, a thread or a libcurl handle, the 1st, 2nd, ...
 * such call fails until the operation succeeds. Each time the caller gets a clean negative errno
 * (the one injected, or the documented translation) and nothing is left behind. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fanout/ipc.h"
#include "fanout/ppool.h"
#include "fanout/shmdict.h"
#include "fanout/tpool.h"
#include "helpers/faults.h"
#include "helpers/fixture.h"
#include "helpers/ppmap.h"
#include "helpers/procs.h"
#include "inject_suites.h"
#ifdef FO_HAVE_CURL
#include "fanout/fetch.h"
#include "helpers/mirror_proc.h"
#endif

static int linux_port(void) {
  return strcmp(FO_PORT_NAME, "linux") == 0;
}

/* ------------------------------------------------------------------ threads */

static int tpool_op(void *arg) {
  fo_tpool *p = (fo_tpool *)arg; /* a marker: create must leave it untouched on failure */
  int rc = fo_tpool_create(&p, &(fo_tpool_opts){.threads = 4, .queue = 8});
  if (rc != 0) {
    ck_assert_ptr_eq(p, arg);
    return rc;
  }
  ck_assert_int_eq(fo_tpool_wait(p), 0);
  ck_assert_int_eq(fo_tpool_destroy(p), 0);
  return 0;
}

START_TEST(tpool_create_threads) {
  int marker;
  fault_case c = {
      "fo_tpool_create", FO__FAULT_THREAD, EAGAIN, -EAGAIN, 0, 0, tpool_op, NULL, &marker};
  ck_assert_int_eq(fault_loop(&c), 4);
  c.err = EPERM, c.expect = -EPERM;
  ck_assert_int_eq(fault_loop(&c), 4);
}
END_TEST

/* ------------------------------------------------------------------ processes */

static int spawned(void *arg) {
  (void)arg;
  return 7;
}

static int proc_op(void *arg) {
  (void)arg;
  fo_proc *pr = (fo_proc *)&pr;
  int rc = fo_proc_spawn(&pr, spawned, NULL, 0);
  if (rc != 0) {
    ck_assert_ptr_null(pr);
    return rc;
  }
  fo_proc_status st;
  ck_assert_int_eq(fo_proc_join(pr, (int)(10000 * tp_scaled(1)), &st), 0);
  ck_assert_int_eq(st.signal, 0);
  ck_assert_int_eq(st.code, 7);
  fo_proc_destroy(pr);
  return 0;
}

START_TEST(proc_spawn_fork) {
  fault_case c = {"fo_proc_spawn", FO__FAULT_FORK, EAGAIN, -EAGAIN, 0, 0, proc_op, NULL, NULL};
  ck_assert_int_eq(fault_loop(&c), 1);
  c.err = ENOMEM, c.expect = -ENOMEM;
  ck_assert_int_eq(fault_loop(&c), 1);
}
END_TEST

static int square(const void *ctx, size_t index, const void *in, void *out) {
  (void)index;
  (void)ctx;
  int64_t v = *(const int64_t *)in;
  *(int64_t *)out = v * v;
  return 0;
}

#define MAP_N 64

/* A map that must produce every item, on a pool that has at least one worker. */
static void map_all(fo_ppool *p) {
  int64_t in[MAP_N], out[MAP_N];
  for (int i = 0; i < MAP_N; i++)
    in[i] = i - 10;
  fo_ppool_report rep = {0};
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, out, 8, MAP_N, NULL, &rep), 0);
  ck_assert_uint_eq(rep.failed, 0);
  for (int i = 0; i < MAP_N; i++)
    ck_assert(out[i] == in[i] * in[i]);
}

static int ppool_op(void *arg) {
  (void)arg;
  fo_ppool *p = (fo_ppool *)&p;
  int rc = fo_ppool_create(&p, &(fo_ppool_opts){.workers = 3, .arena_size = FO_PPOOL_ARENA_MIN});
  if (rc != 0) {
    ck_assert_ptr_null(p);
    return rc;
  }
  map_all(p);
  fo_ppool_destroy(p);
  return 0;
}

START_TEST(ppool_create_fork) {
  fault_case c = {"fo_ppool_create", FO__FAULT_FORK, EAGAIN, -EAGAIN, 0, 0, ppool_op, NULL, NULL};
  ck_assert_int_eq(fault_loop(&c), 3);
}
END_TEST

START_TEST(ppool_create_queues_and_arena) {
  fault_case c = {"fo_ppool_create", FO__FAULT_MQ, ENOMEM, -ENOMEM, 0, 0, ppool_op, NULL, NULL};
  ck_assert_int_eq(fault_loop(&c), 2);
  c.kind = FO__FAULT_SHM, c.err = ENOSPC, c.expect = -ENOSPC;
  ck_assert_int_eq(fault_loop(&c), 1);
}
END_TEST


/* A map after every worker was killed between maps: it must fork replacements first. A fork that
 * fails leaves the map to the workers that did start; when none did, the map reports every item
 * not run and returns the error, and the next map (forks working again) starts them. */
static int map_op(void *arg) {
  fo_ppool *p = arg;
  for (unsigned i = 0; i < fo_ppool_workers(p); i++) {
    pid_t pid = fo_ppool_worker_pid(p, i);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    tp_wait_ended(pid, 5); /* then its watch pipe is closed: the map must see the death */
  }
  int64_t in[MAP_N], out[MAP_N];
  for (int i = 0; i < MAP_N; i++)
    in[i] = i;
  fo_ppool_failure fails[4];
  fo_ppool_report rep = {fails, 4, 0, 0, 0};
  int rc = tp_map(p, square, NULL, 0, in, 8, out, 8, MAP_N, NULL, &rep);
  fault_off();
  if (rc == 0) {
    for (int i = 0; i < MAP_N; i++)
      ck_assert(out[i] == in[i] * in[i]);
  } else {
    ck_assert_uint_eq(rep.failed, MAP_N);
    ck_assert_uint_eq(rep.nfailures, 1);
    ck_assert_int_eq(fails[0].cause, FO_PPOOL_NOT_RUN);
    ck_assert_uint_eq(fails[0].count, MAP_N);
  }
  map_all(p); /* with forks working again, every place has a worker after a map */
  for (unsigned i = 0; i < fo_ppool_workers(p); i++)
    ck_assert_int_gt(fo_ppool_worker_pid(p, i), 0);
  return rc;
}

START_TEST(ppool_map_replacement_fork) {
  fo_ppool *p;
  ck_assert_int_eq(fo_ppool_create(&p, &(fo_ppool_opts){2, FO_PPOOL_ARENA_MIN}), 0);
  /* one fork failing: the map runs on the other worker, then replaces the missing one */
  fault_case c = {"fo_ppool_map", FO__FAULT_FORK, EAGAIN, -EAGAIN, 1, 0, map_op, NULL, p};
  ck_assert_int_eq(fault_loop(&c), 2);
  /* every fork failing from the Nth: with none started, the map cannot run at all */
  c.sticky = 1;
  ck_assert_int_eq(fault_loop(&c), 2);
  fo_ppool_destroy(p);
}
END_TEST

/* ------------------------------------------------------------------ queues */

typedef struct {
  size_t msg_size;
  unsigned depth;
  unsigned flags;
} mq_arg;

static int mq_op(void *arg) {
  const mq_arg *a = arg;
  fo_mq *q = (fo_mq *)&q;
  int rc = fo_mq_create(&q, a->msg_size, a->depth, a->flags);
  if (rc != 0) {
    ck_assert_ptr_null(q);
    return rc;
  }
  ck_assert_uint_eq(fo_mq_msg_size(q), a->msg_size);
  size_t len = 0;
  char buf[64];
  ck_assert_int_eq(fo_mq_send(q, "ping", 4, 0), 0);
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), 0);
  ck_assert_uint_eq(len, 4);
  fo_mq_destroy(q);
  return 0;
}

START_TEST(mq_create_queue) {
  mq_arg a = {64, 4, 0};
  fault_case c = {"fo_mq_create", FO__FAULT_MQ, ENOMEM, -ENOMEM, 0, 0, mq_op, NULL, &a};
  ck_assert_int_eq(fault_loop(&c), 1);
  c.err = ENFILE, c.expect = -ENFILE;
  ck_assert_int_eq(fault_loop(&c), 1);
  if (!linux_port())
    return;
  /* the linux port's translations of mq_open's errors (ports/port.h) */
  c.err = EMFILE, c.expect = FO_EMQCOUNT; /* "/" still opens: the byte budget is what ran out */
  ck_assert_int_eq(fault_loop(&c), 1);
  c.err = ENOSPC, c.expect = FO_EMQLIMIT; /* queues_max */
  ck_assert_int_eq(fault_loop(&c), 1);
  c.err = EINVAL, c.expect = FO_EMQLIMIT; /* above a limit */
  ck_assert_int_eq(fault_loop(&c), 1);
  /* with FO_MQ_CLAMP an EINVAL is retried within the limits, which this request already is */
  a.flags = FO_MQ_CLAMP;
  c.absorbs = 1;
  ck_assert_int_eq(fault_loop(&c), 1);
  /* a name collision is retried under a new name, a few times */
  c.err = EEXIST, c.expect = -EEXIST, c.absorbs = 1;
  ck_assert_int_eq(fault_loop(&c), 1);
  c.sticky = 1, c.absorbs = 0;
  ck_assert_int_eq(fault_loop(&c), 1);
}
END_TEST

/* ------------------------------------------------------------------ shared memory */

static int shm_op(void *arg) {
  (void)arg;
  fo_shm *s = (fo_shm *)&s;
  int rc = fo_shm_create(&s, 10000);
  if (rc != 0) {
    ck_assert_ptr_null(s);
    return rc;
  }
  memset(fo_shm_addr(s), 1, 10000);
  fo_shm_destroy(s);
  return 0;
}

START_TEST(shm_create_region) {
  fault_case c = {"fo_shm_create", FO__FAULT_SHM, ENOMEM, -ENOMEM, 0, 0, shm_op, NULL, NULL};
  ck_assert_int_eq(fault_loop(&c), 1);
  c.err = EMFILE, c.expect = -EMFILE;
  ck_assert_int_eq(fault_loop(&c), 1);
  /* a kernel without memfd_create: the linux port falls back to shm_open, whose name is gone
   * before the call returns (the loop checks /dev/shm); when that fails too, its error */
  c.err = ENOSYS, c.expect = -ENOSYS, c.sticky = 1;
  ck_assert_int_eq(fault_loop(&c), 1);
}
END_TEST

START_TEST(shm_create_memfd_fallback) {
  if (!linux_port())
    return;
  long calls = fault_calls(FO__FAULT_SHM);
  fault_plan(FO__FAULT_SHM, 1, ENOSYS, 0);
  ck_assert_int_eq(shm_op(NULL), 0);
  fault_off();
  ck_assert_int_eq(fault_calls(FO__FAULT_SHM) - calls, 2); /* memfd_create, then shm_open */
  fault_case c = {"fo_shm_create", FO__FAULT_SHM, ENOSYS, -ENOSYS, 1, 0, shm_op, NULL, NULL};
  ck_assert_int_eq(fault_loop(&c), 1);
}
END_TEST

static void shm_name(char *buf, size_t cap) {
  snprintf(buf, cap, "/fanout-inject-%ld", (long)getpid());
}

static int shm_named_op(void *arg) {
  (void)arg;
  char name[64];
  shm_name(name, sizeof name);
  fo_shm *s = (fo_shm *)&s;
  int rc = fo_shm_create_named(&s, name, 4096);
  if (rc != 0) {
    ck_assert_ptr_null(s);
    ck_assert_int_eq(fo_shm_unlink_named(name), -ENOENT); /* no name left behind */
    return rc;
  }
  fo_shm *o = (fo_shm *)&o;
  rc = fo_shm_open_named(&o, name);
  if (rc != 0)
    ck_assert_ptr_null(o);
  else
    fo_shm_destroy(o);
  fo_shm_destroy(s);
  ck_assert_int_eq(fo_shm_unlink_named(name), 0);
  return rc;
}

START_TEST(shm_named_regions) {
  /* the first call is the creator's shm_open, the second the opener's */
  fault_case c = {"fo_shm_*_named", FO__FAULT_SHM, EACCES, -EACCES, 0, 0, shm_named_op, NULL, NULL};
  ck_assert_int_eq(fault_loop(&c), 2);
  c.err = EMFILE, c.expect = -EMFILE;
  ck_assert_int_eq(fault_loop(&c), 2);
}
END_TEST

static int shmdict_op(void *arg) {
  (void)arg;
  fo_shmdict *d = (fo_shmdict *)&d;
  int rc = fo_shmdict_create(&d, 16, 16);
  if (rc != 0) {
    ck_assert_ptr_null(d);
    return rc;
  }
  int64_t v = 0;
  ck_assert_int_eq(fo_shmdict_add(d, "k", 5, &v), 0);
  ck_assert(v == 5);
  fo_shmdict_destroy(d);
  return 0;
}

START_TEST(shmdict_create_region) {
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 8, 8);
  fo_shmdict_destroy(d);
  fault_case c = {"fo_shmdict_create", FO__FAULT_SHM, ENOMEM, -ENOMEM, 0, 0,
                  shmdict_op,          NULL,          NULL};
  ck_assert_int_eq(fault_loop(&c), 1);
}
END_TEST

/* A system without robust process-shared mutexes (glibc under qemu-riscv64 refuses them): the
 * dict is refused with -EOPNOTSUPP, whatever code the C library gives, nothing is left behind,
 * and the tests' helper skips instead of failing. Forced here so the path is tested everywhere. */
START_TEST(shmdict_without_robust_mutexes) {
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 8, 8);
  fo_shmdict_destroy(d);
  fault_case c = {"fo_shmdict_create", FO__FAULT_ROBUST, EOPNOTSUPP, -EOPNOTSUPP, 0, 0,
                  shmdict_op,          NULL,             NULL};
  ck_assert_int_eq(fault_loop(&c), 1);
  c.err = ENOSYS; /* a C library that has no robust mutexes at all */
  ck_assert_int_eq(fault_loop(&c), 1);
  fault_plan(FO__FAULT_ROBUST, 1, EOPNOTSUPP, 0);
  ck_assert_int_eq(tp_dict_create(&d, 8, 8, NULL), 0); /* refused, and quietly */
  fault_off();
}
END_TEST

/* ------------------------------------------------------------------ libcurl handles */
#ifdef FO_HAVE_CURL

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

void inject_curl_fixture(TCase *tc) {
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
}

static int fetcher_op(void *arg) {
  const fo_fetch_opts *o = arg;
  fo_fetcher *f = (fo_fetcher *)&f;
  int rc = fo_fetcher_create(&f, o);
  if (rc != 0) {
    ck_assert_ptr_eq(f, (fo_fetcher *)&f); /* untouched */
    return rc;
  }
  fo_fetcher_destroy(f);
  return 0;
}

START_TEST(fetcher_create_share_and_threads) {
  fo_fetch_opts o = {.threads = 3, .stack_size = 128 * 1024};
  fault_case c = {"fo_fetcher_create", FO__FAULT_CURL, ENOMEM, -ENOMEM, 0, 0, fetcher_op, NULL, &o};
  ck_assert_int_eq(fault_loop(&c), 1); /* curl_share_init */
  c.kind = FO__FAULT_THREAD, c.err = EAGAIN, c.expect = -EAGAIN;
  ck_assert_int_eq(fault_loop(&c), 3); /* its own pool's threads */
}
END_TEST

typedef struct {
  const char *urls[3];
  unsigned threads;
  int one; /* through fo_fetch_one() */
} fetch_arg;

/* Every URL gets a result: fetched, or -ENOMEM when no easy handle could be made at all. */
static int fetch_op(void *arg) {
  const fetch_arg *a = arg;
  fo_fetcher *f = NULL;
  int rc = fo_fetcher_create(&f, &(fo_fetch_opts){.threads = a->threads});
  if (rc != 0)
    return rc;
  fo_fetch_result r[3];
  size_t n = a->one ? 1 : 3;
  if (a->one)
    rc = fo_fetch_one(f, a->urls[0], NULL, r);
  else
    rc = fo_fetch_many(f, a->urls, NULL, n, r, NULL, NULL);
  for (size_t i = 0; i < n; i++) {
    if (rc == 0) {
      ck_assert_msg(r[i].err == 0 && r[i].status == 200 && r[i].body != NULL, "%zu: %s", i,
                    r[i].message);
    } else {
      ck_assert_int_eq(rc, -ENOMEM);
      ck_assert_int_eq(r[i].err, -ENOMEM);
      ck_assert_ptr_null(r[i].body);
      ck_assert_str_ne(r[i].message, "");
    }
  }
  fo_fetch_results_free(r, n);
  fo_fetcher_destroy(f);
  return rc;
}

START_TEST(fetch_easy_handles) {
  mirror_proc m;
  ck_assert_int_eq(mirror_start(&m, (const char *const[]){"--docs", "3", NULL}), 0);
  char url[128];
  mirror_url(&m, "/latest/starlink", url, sizeof url);
  fetch_arg a = {{url, url, url}, 2, 0};
  /* one handle failing: the other worker fetches every URL; both failing: nothing can start */
  fault_case c = {"fo_fetch_many", FO__FAULT_CURL, ENOMEM, -ENOMEM, 1, 0, fetch_op, NULL, &a};
  ck_assert_int_ge(fault_loop(&c), 2);
  c.sticky = 1;
  ck_assert_int_ge(fault_loop(&c), 2);
  a.one = 1;
  c.name = "fo_fetch_one";
  ck_assert_int_eq(fault_loop(&c), 2);
  mirror_stop(&m);
}
END_TEST

START_TEST(fetch_multi_handles) {
  mirror_proc m;
  ck_assert_int_eq(mirror_start(&m, (const char *const[]){"--docs", "3", NULL}), 0);
  char url[128];
  mirror_url(&m, "/latest/starlink", url, sizeof url);
  fetch_arg a = {{url, url, url}, 2, 0};
  /* a worker's multi handle (its loop) that cannot be made: the other worker fetches every URL;
   * neither: every URL fails with -ENOMEM and says so */
  fault_case c = {"fo_fetch_many", FO__FAULT_CURLM, ENOMEM, -ENOMEM, 1, 0, fetch_op, NULL, &a};
  ck_assert_int_ge(fault_loop(&c), 1);
  c.sticky = 1;
  ck_assert_int_ge(fault_loop(&c), 1);
  a.one = 1;
  c.name = "fo_fetch_one";
  ck_assert_int_eq(fault_loop(&c), 1);
  mirror_stop(&m);
}
END_TEST

#endif

Suite *inject_suite(void) {
  Suite *s = suite_create("inject");
  TCase *tc = fo_tcase("threads_processes", 60);
  tcase_add_test(tc, tpool_create_threads);
  tcase_add_test(tc, proc_spawn_fork);
  tcase_add_test(tc, ppool_create_fork);
  tcase_add_test(tc, ppool_create_queues_and_arena);
  tcase_add_test(tc, ppool_map_replacement_fork);
  suite_add_tcase(s, tc);
  tc = fo_tcase("ipc", 30);
  tcase_add_test(tc, mq_create_queue);
  tcase_add_test(tc, shm_create_region);
  tcase_add_test(tc, shm_create_memfd_fallback);
  tcase_add_test(tc, shm_named_regions);
  tcase_add_test(tc, shmdict_create_region);
  tcase_add_test(tc, shmdict_without_robust_mutexes);
  suite_add_tcase(s, tc);
#ifdef FO_HAVE_CURL
  tc = fo_tcase("curl", 60);
  inject_curl_fixture(tc);
  tcase_add_test(tc, fetcher_create_share_and_threads);
  tcase_add_test(tc, fetch_easy_handles);
  tcase_add_test(tc, fetch_multi_handles);
  suite_add_tcase(s, tc);
#endif
  return s;
}
