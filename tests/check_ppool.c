/* fo_proc and fo_ppool: spawn and join; maps with results in order at every size; workers that
 * die by each cause at random points, retried and reported; item and map deadlines; a parent
 * killed outright leaving no orphans; reuse across hundreds of maps; out-of-memory loops. Runs on
 * whichever port is built. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "fanout/ipc.h"
#include "fanout/ppool.h"
#include "helpers/fixture.h"
#include "helpers/ppmap.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "ppool/ppool_internal.h"
#include "suites.h"

static int is_linux_port(void) {
  return strcmp(FO_PORT_NAME, "linux") == 0;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Whether pid is gone for good: reaped (by us or someone else) and not running. */
static int is_gone(pid_t pid) {
  return kill(pid, 0) != 0 && errno == ESRCH;
}

/* ------------------------------------------------------------------------------------------------
 * The test worker: items say what to do, outputs say who did it
 */

enum { ACT_NONE, ACT_KILL, ACT_SEGV, ACT_EXIT, ACT_HANG };

typedef struct {
  int64_t x;
  int32_t us;   /* sleep this long first */
  int32_t act;  /* then do this instead of answering */
  int32_t once; /* only the first time any worker reaches this item */
  int32_t pad;
} item;

typedef struct {
  int64_t y; /* x * mul */
  int32_t pid;
  int32_t rc; /* for the worker that calls back into the pool */
} result;

typedef struct {
  int64_t mul;
  uint32_t *fired; /* shared memory, one flag per item (x is the index) */
  fo_ppool *pool;  /* the parent's pool, as the worker's copy sees it */
} tctx;

/* An unmapped address the compiler cannot see through. */
static volatile uintptr_t bad_address = 16;

static void segfault(void) {
  signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would turn the signal into an exit */
  *(volatile int *)bad_address = 1;
}

static int act(const void *c, size_t index, const void *i, void *o) {
  (void)index;
  const tctx *ctx = c;
  const item *it = i;
  result *r = o;
  if (it->us > 0)
    sleep_us(it->us);
  if (it->act != ACT_NONE &&
      (!it->once || __atomic_exchange_n(&ctx->fired[it->x], 1u, __ATOMIC_SEQ_CST) == 0)) {
    switch (it->act) {
    case ACT_KILL:
      kill(getpid(), SIGKILL);
      break;
    case ACT_SEGV:
      segfault();
      break;
    case ACT_EXIT:
      exit(3);
    case ACT_HANG:
      for (int n = 0; n < 600; n++)
        sleep_us(100000);
      break;
    default:
      break;
    }
  }
  r->y = it->x * ctx->mul;
  r->pid = (int32_t)getpid();
  r->rc = 0;
  return 0;
}

static int square(const void *c, size_t index, const void *i, void *o) {
  (void)index;
  (void)c;
  int64_t x = *(const int64_t *)i;
  *(int64_t *)o = x * x;
  return 0;
}

static item *items(size_t n) {
  item *in = calloc(n > 0 ? n : 1, sizeof *in);
  ck_assert_ptr_nonnull(in);
  for (size_t i = 0; i < n; i++)
    in[i].x = (int64_t)i;
  return in;
}

static fo_ppool *pool_of(unsigned workers, size_t arena) {
  fo_ppool *p;
  fo_ppool_opts o = {workers, arena};
  int rc = fo_ppool_create(&p, &o);
  ck_assert_msg(rc == 0, "create: %s", fo_strerror(rc));
  ck_assert_uint_eq(fo_ppool_workers(p), workers);
  return p;
}

static int failed_at(const fo_ppool_report *r, size_t i) {
  for (size_t k = 0; k < r->nfailures; k++)
    if (i >= r->failures[k].first && i - r->failures[k].first < r->failures[k].count)
      return 1;
  return 0;
}

/* Every item not reported failed has its right output. (Loops count and assert once: each
 * Check assertion that passes still records a mark point with a system call.) */
static void check_results(const item *in, const result *out, size_t n, int64_t mul,
                          const fo_ppool_report *r) {
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; i++) {
    if ((r == NULL || !failed_at(r, i)) && out[i].y != in[i].x * mul && bad++ == 0)
      first = i;
  }
  ck_assert_msg(bad == 0, "%zu wrong outputs, the first at item %zu: %lld, want %lld", bad, first,
                bad ? (long long)out[first].y : 0LL, bad ? (long long)(in[first].x * mul) : 0LL);
}

/* The runs of a report are sorted, disjoint, and add up to failed. */
static void check_report_shape(const fo_ppool_report *r, size_t count) {
  size_t sum = 0;
  for (size_t k = 0; k < r->nfailures; k++) {
    const fo_ppool_failure *f = &r->failures[k];
    ck_assert_uint_ge(f->count, 1);
    ck_assert_uint_le(f->first + f->count, count);
    if (k > 0)
      ck_assert_uint_ge(f->first, r->failures[k - 1].first + r->failures[k - 1].count);
    ck_assert_int_ge(f->cause, FO_PPOOL_SIGNAL);
    ck_assert_int_le(f->cause, FO_PPOOL_NOT_RUN);
    sum += f->count;
  }
  if (r->nfailures < r->cap)
    ck_assert_uint_eq(sum, r->failed);
}

/* Whether this runs under valgrind, which preloads its own libraries into the program. */
static int under_valgrind(void) {
  const char *pre = getenv("LD_PRELOAD");
  return pre != NULL && strstr(pre, "vgpreload") != NULL;
}

/* How a worker that did action ended up reported. */
static void check_cause(const fo_ppool_failure *f, int action) {
  switch (action) {
  case ACT_KILL:
    ck_assert_int_eq(f->cause, FO_PPOOL_SIGNAL);
    ck_assert_int_eq(f->code, SIGKILL);
    break;
  case ACT_SEGV: /* a signal, or an exit where a sanitizer or valgrind catches the fault */
    ck_assert_msg((f->cause == FO_PPOOL_SIGNAL && f->code == SIGSEGV) ||
                      (f->cause == FO_PPOOL_EXIT && f->code != 0),
                  "segfault reported as cause %d code %d", f->cause, f->code);
    break;
  case ACT_EXIT:
    /* Under valgrind the dying worker runs a leak check first, and every block it inherited from
     * the counting allocator (which hands out pointers past a header) looks "possibly lost", so
     * valgrind's --error-exitcode replaces the status. */
    ck_assert_int_eq(f->cause, FO_PPOOL_EXIT);
    ck_assert_msg(f->code == 3 || (under_valgrind() && f->code == 1), "exit code %d", f->code);
    break;
  default:
    ck_abort_msg("no death expected");
  }
}

/* Most items a test marks with shared flags. */
#define FLAGS_MAX 8192

/* A shared flag per item. It must be mapped before the pool is created: workers forked earlier
 * would not see it. */
static uint32_t *shared_flags(fo_shm **shm) {
  ck_assert_int_eq(fo_shm_create(shm, FLAGS_MAX * sizeof(uint32_t)), 0);
  return fo_shm_addr(*shm);
}

/* ------------------------------------------------------------------------------------------------
 * fo_proc
 */

static int return_arg(void *arg) {
  return (int)(intptr_t)arg;
}

static int kill_self(void *arg) {
  (void)arg;
  kill(getpid(), SIGKILL);
  return 0;
}

static int sleep_ms(void *arg) {
  sleep_us((long)(intptr_t)arg * 1000);
  return 0;
}

START_TEST(proc_arguments_are_checked) {
  fo_proc *pr = (fo_proc *)&pr;
  ck_assert_int_eq(fo_proc_spawn(NULL, return_arg, NULL, 0), -EINVAL);
  ck_assert_int_eq(fo_proc_spawn(&pr, NULL, NULL, 0), -EINVAL);
  ck_assert_ptr_null(pr);
  ck_assert_int_eq(fo_proc_spawn(&pr, return_arg, NULL, 0x80), -EINVAL);
  ck_assert_int_eq(fo_proc_join(NULL, 0, NULL), -EINVAL);
  ck_assert_int_eq(fo_proc_kill(NULL, SIGTERM), -EINVAL);
  ck_assert_int_eq(fo_proc_pid(NULL), 0);
  fo_proc_destroy(NULL);
}
END_TEST

START_TEST(proc_exit_code_and_signal_are_reported) {
  fo_proc *a, *b;
  fo_proc_status st = {-1, -1};
  ck_assert_int_eq(fo_proc_spawn(&a, return_arg, (void *)(intptr_t)42, 0), 0);
  ck_assert_int_eq(fo_proc_spawn(&b, kill_self, NULL, 0), 0);
  ck_assert_int_gt(fo_proc_pid(a), 0);
  ck_assert_int_eq(fo_proc_join(a, (int)(tp_scaled(10) * 1000), &st), 0);
  ck_assert_int_eq(st.signal, 0);
  ck_assert_int_eq(st.code, 42);
  ck_assert_int_eq(fo_proc_join(b, (int)(tp_scaled(10) * 1000), &st), 0);
  ck_assert_int_eq(st.signal, SIGKILL);
  /* once reaped: the same answer at once, and nothing left to signal */
  ck_assert_int_eq(fo_proc_join(a, 0, &st), 0);
  ck_assert_int_eq(st.code, 42);
  ck_assert_int_eq(fo_proc_kill(a, SIGTERM), -ESRCH);
  pid_t pid = fo_proc_pid(a);
  fo_proc_destroy(a);
  fo_proc_destroy(b);
  ck_assert(is_gone(pid));
}
END_TEST

START_TEST(proc_join_waits_with_a_deadline) {
  fo_proc *pr;
  fo_proc_status st;
  ck_assert_int_eq(fo_proc_spawn(&pr, sleep_ms, (void *)(intptr_t)30000, 0), 0);
  ck_assert_int_eq(fo_proc_join(pr, 0, &st), -EAGAIN); /* would have to wait */
  double t = tp_now_ms();
  ck_assert_int_eq(fo_proc_join(pr, 80, &st), -ETIMEDOUT);
  ck_assert_double_ge(tp_now_ms() - t, 75);
  /* not SIGTERM: the child inherits Check's handler for it, which signals the whole group */
  ck_assert_int_eq(fo_proc_kill(pr, SIGUSR1), 0);
  t = tp_now_ms();
  ck_assert_int_eq(fo_proc_join(pr, FO_FOREVER, &st), 0);
  ck_assert_double_lt(tp_now_ms() - t, tp_scaled(5) * 1000);
  ck_assert_int_eq(st.signal, SIGUSR1);
  fo_proc_destroy(pr);
}
END_TEST

START_TEST(proc_destroy_kills_and_reaps) {
  fo_proc *pr;
  ck_assert_int_eq(fo_proc_spawn(&pr, sleep_ms, (void *)(intptr_t)30000, 0), 0);
  pid_t pid = fo_proc_pid(pr);
  fo_proc_destroy(pr);
  int st;
  ck_assert_int_eq(waitpid(pid, &st, WNOHANG), -1); /* reaped already: no zombie */
  ck_assert_int_eq(errno, ECHILD);
  ck_assert(is_gone(pid));
}
END_TEST

START_TEST(proc_join_from_another_process_is_refused) {
  fo_proc *pr;
  fo_proc_status st;
  ck_assert_int_eq(fo_proc_spawn(&pr, sleep_ms, (void *)(intptr_t)100, 0), 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    TP_CHECK(fo_proc_join(pr, 0, &st) == -ECHILD, 1);
    fo_proc_destroy(pr); /* releases the copy, kills nothing */
    _exit(0);
  }
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  ck_assert_int_eq(fo_proc_join(pr, (int)(tp_scaled(10) * 1000), &st), 0);
  ck_assert_int_eq(st.signal, 0); /* the child's destroy did not kill it */
  ck_assert_int_eq(st.code, 0);
  fo_proc_destroy(pr);
}
END_TEST

/* The test process adopts orphans, so it can reap what a killed parent leaves. Returns 0, with
 * a note, where that cannot be done: qemu's user-mode emulator, which runs the cross-built
 * suite, refuses PR_SET_CHILD_SUBREAPER with EINVAL. */
static int adopt_orphans(void) {
  return tp_adopt_orphans("parent-death test");
}

/* Wait (bounded) for an orphan that was re-parented to this process, and reap it. */
static int orphan_ends(pid_t pid, double seconds) {
  double end = tp_now_ms() + tp_scaled(seconds) * 1000;
  while (tp_now_ms() < end) {
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && is_gone(pid)))
      return 1;
    sleep_us(5000);
  }
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  return 0;
}

static int read_pids(int fd, pid_t *pids, size_t n, double seconds) {
  size_t got = 0;
  while (got < n * sizeof *pids) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, (int)(tp_scaled(seconds) * 1000)) <= 0)
      return -1;
    ssize_t r = read(fd, (char *)pids + got, n * sizeof *pids - got);
    if (r <= 0)
      return -1;
    got += (size_t)r;
  }
  return 0;
}

START_TEST(proc_dies_with_parent_where_the_port_can) {
  fo_proc *pr = NULL;
  if (!is_linux_port()) {
    ck_assert_int_eq(fo_proc_spawn(&pr, sleep_ms, NULL, FO_PROC_DIE_WITH_PARENT), -ENOTSUP);
    ck_assert_ptr_null(pr);
    return;
  }
  if (!adopt_orphans())
    return;
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t mid = tp_fork();
  if (mid == 0) {
    TP_CHECK(fo_proc_spawn(&pr, sleep_ms, (void *)(intptr_t)30000, FO_PROC_DIE_WITH_PARENT) == 0,
             1);
    pid_t c = fo_proc_pid(pr);
    TP_CHECK(write(fds[1], &c, sizeof c) == sizeof c, 2);
    sleep_us(30000000);
    _exit(0);
  }
  pid_t child;
  ck_assert_int_eq(read_pids(fds[0], &child, 1, 10), 0);
  ck_assert_int_eq(tp_kill(mid), 128 + SIGKILL);
  ck_assert_msg(orphan_ends(child, 5), "the child outlived its parent");
  close(fds[0]);
  close(fds[1]);
}
END_TEST

static int spawn_op(void *arg) {
  return fo_proc_spawn((fo_proc **)arg, return_arg, (void *)(intptr_t)7, 0);
}

static void spawn_undo(void *arg) {
  fo_proc *pr = *(fo_proc **)arg;
  fo_proc_status st;
  ck_assert_int_eq(fo_proc_join(pr, (int)(tp_scaled(10) * 1000), &st), 0);
  ck_assert_int_eq(st.code, 7);
  fo_proc_destroy(pr);
}

START_TEST(proc_spawn_out_of_memory) {
  fo_proc *pr;
  ck_assert_int_ge(ta_oom_loop(spawn_op, spawn_undo, &pr), 1);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * The pool: arguments, order, sizes, context, windows, reuse
 */

START_TEST(pool_arguments_are_checked) {
  fo_ppool *p = (fo_ppool *)(void *)&p;
  fo_ppool_opts o = {FO_PPOOL_WORKERS_MAX + 1, 0};
  ck_assert_int_eq(fo_ppool_create(NULL, NULL), -EINVAL);
  ck_assert_int_eq(fo_ppool_create(&p, &o), -EINVAL);
  ck_assert_ptr_null(p);
  o.workers = 1;
  o.arena_size = FO_PPOOL_ARENA_MIN - 1;
  ck_assert_int_eq(fo_ppool_create(&p, &o), -EINVAL);
  ck_assert_uint_eq(fo_ppool_workers(NULL), 0);
  ck_assert_int_eq(fo_ppool_worker_pid(NULL, 0), 0);
  fo_ppool_destroy(NULL);

  p = pool_of(2, FO_PPOOL_ARENA_MIN);
  ck_assert_int_eq(fo_ppool_worker_pid(p, 2), 0);
  ck_assert_int_gt(fo_ppool_worker_pid(p, 1), 0);
  int64_t in[4] = {1, 2, 3, 4}, out[4];
  char big[FO_PPOOL_ARENA_MIN];
  memset(big, 0, sizeof big);
  ck_assert_int_eq(tp_map(NULL, square, NULL, 0, in, 8, out, 8, 4, NULL, NULL), -EINVAL);
  ck_assert_int_eq(tp_map(p, NULL, NULL, 0, in, 8, out, 8, 4, NULL, NULL), -EINVAL);
  ck_assert_int_eq(tp_map(p, square, NULL, 0, NULL, 8, out, 8, 4, NULL, NULL), -EINVAL);
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, NULL, 8, 4, NULL, NULL), -EINVAL);
  ck_assert_int_eq(tp_map(p, square, NULL, 4, in, 8, out, 8, 4, NULL, NULL), -EINVAL);
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, in + 1, 8, 3, NULL, NULL), -EINVAL);
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, out, 8, SIZE_MAX / 4, NULL, NULL),
                   -EINVAL);
  /* the context and one item must fit in the arena */
  ck_assert_int_eq(tp_map(p, square, big, sizeof big, in, 8, out, 8, 4, NULL, NULL),
                   FO_ETOOBIG);
  ck_assert_int_eq(tp_map(p, square, NULL, 0, big, sizeof big, out, 8, 1, NULL, NULL),
                   FO_ETOOBIG);
  /* NULL arrays are fine with nothing to read or write */
  ck_assert_int_eq(tp_map(p, square, NULL, 0, NULL, 8, NULL, 8, 0, NULL, NULL), 0);
  /* in place */
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, in, 8, 4, NULL, NULL), 0);
  ck_assert_int_eq(in[3], 16);
  ck_assert_str_eq(fo_strerror(FO_EPARTIAL),
                   "some items of a map failed: its report says which and why");
  fo_ppool_destroy(p);
}
END_TEST

START_TEST(pool_defaults_to_the_cpu_count) {
  fo_ppool *p;
  ck_assert_int_eq(fo_ppool_create(&p, NULL), 0);
  ck_assert_uint_eq(fo_ppool_workers(p), (unsigned)fo_cpu_count());
  fo_ppool_destroy(p);
}
END_TEST

START_TEST(results_come_back_in_order_at_every_size) {
  fo_ppool *p = pool_of(3, 0);
  const size_t sizes[] = {0, 1, 2, 3, 4, 17, 1000, 100003};
  const size_t chunks[] = {0, 1, 7, (size_t)1 << 30};
  tctx ctx = {5, NULL, NULL};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
      size_t n = sizes[s];
      if (chunks[c] == 1 && n > 1000)
        continue; /* a hundred thousand messages prove nothing more */
      item *in = items(n);
      result *out = calloc(n + 1, sizeof *out);
      tp_map_opts mo = {chunks[c], 0, 0, 0};
      fo_ppool_report rep = {NULL, 0, 1, 1, 1};
      int rc =
          tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, &mo, &rep);
      ck_assert_msg(rc == 0, "n %zu chunk %zu: %s", n, chunks[c], fo_strerror(rc));
      ck_assert_uint_eq(rep.failed, 0);
      ck_assert_uint_eq(rep.nfailures, 0);
      ck_assert_uint_eq(rep.deaths, 0);
      check_results(in, out, n, 5, NULL);
      free(in);
      free(out);
    }
  }
  fo_ppool_destroy(p);
}
END_TEST

START_TEST(a_million_tiny_items) {
  fo_ppool *p = pool_of(2, 0);
  size_t n = 1000000;
  int64_t *in = malloc(n * sizeof *in), *out = calloc(n, sizeof *out);
  for (size_t i = 0; i < n; i++)
    in[i] = (int64_t)i - 500000;
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, out, 8, n, NULL, NULL), 0);
  size_t bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += out[i] != in[i] * in[i];
  ck_assert_uint_eq(bad, 0);
  free(in);
  free(out);
  fo_ppool_destroy(p);
}
END_TEST

/* Items of 3 bytes in, 5 bytes out: nothing assumes alignment or equal sizes. */
static int widen(const void *c, size_t index, const void *i, void *o) {
  (void)index;
  const unsigned char *a = i;
  unsigned char *b = o;
  unsigned add = *(const unsigned char *)c;
  b[0] = (unsigned char)(a[2] + add);
  b[1] = a[1];
  b[2] = a[0];
  b[3] = (unsigned char)(a[0] ^ a[1]);
  b[4] = 0xee;
  return 0;
}

START_TEST(odd_sizes_and_windows_through_a_small_arena) {
  /* 200,001 items of 8 bytes through a 64 KiB arena: hundreds of windows */
  fo_ppool *p = pool_of(2, FO_PPOOL_ARENA_MIN);
  size_t n = 200001;
  unsigned char *in = malloc(n * 3), *out = calloc(n, 5);
  for (size_t i = 0; i < n; i++) {
    in[3 * i] = (unsigned char)i;
    in[3 * i + 1] = (unsigned char)(i >> 8);
    in[3 * i + 2] = (unsigned char)(i >> 16);
  }
  unsigned char add = 9;
  ck_assert_int_eq(tp_map(p, widen, &add, 1, in, 3, out, 5, n, NULL, NULL), 0);
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *b = out + 5 * i;
    bad += b[0] != (unsigned char)((i >> 16) + 9) || b[1] != (unsigned char)(i >> 8) ||
           b[2] != (unsigned char)i || b[3] != (unsigned char)(i ^ (i >> 8)) || b[4] != 0xee;
  }
  ck_assert_uint_eq(bad, 0);
  free(in);
  free(out);
  fo_ppool_destroy(p);
}
END_TEST

static const tctx static_ctx = {-2, NULL, NULL};

START_TEST(context_is_copied_per_map) {
  fo_ppool *p = pool_of(2, 0);
  size_t n = 50;
  item *in = items(n);
  result out[50];
  tctx ctx = {3, NULL, NULL};
  ck_assert_int_eq(
      tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, NULL), 0);
  check_results(in, out, n, 3, NULL);
  ctx.mul = 11; /* after the fork: only the copy made by the next map shows it */
  ck_assert_int_eq(
      tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, NULL), 0);
  check_results(in, out, n, 11, NULL);
  /* size 0: no pointer is passed on as it is, not even one that would be valid */
  ck_assert_int_eq(
      tp_map(p, act, &static_ctx, 0, in, sizeof *in, out, sizeof *out, n, NULL, NULL), -EINVAL);
  ck_assert_int_eq(
      tp_map(p, act, &static_ctx, sizeof static_ctx, in, sizeof *in, out, sizeof *out, n, NULL,
             NULL),
      0);
  check_results(in, out, n, -2, NULL);
  free(in);
  fo_ppool_destroy(p);
}
END_TEST

/* One slow item among fast ones: the others flow to the other worker meanwhile. */
START_TEST(uneven_items_balance) {
  fo_ppool *p = pool_of(2, 0);
  size_t n = 60;
  item *in = items(n);
  result out[60];
  in[0].us = 400000;
  for (size_t i = 1; i < n; i++)
    in[i].us = 1000;
  tctx ctx = {1, NULL, NULL};
  ck_assert_int_eq(
      tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, NULL), 0);
  check_results(in, out, n, 1, NULL);
  size_t with_slow = 0;
  for (size_t i = 0; i < n; i++)
    with_slow += out[i].pid == out[0].pid;
  ck_assert_msg(with_slow < n / 2, "the slow item's worker ran %zu of %zu items", with_slow, n);
  free(in);
  fo_ppool_destroy(p);
}
END_TEST

/* The seed's shape: more workers (12) than the work queue holds messages (10 by default). */
START_TEST(more_workers_than_the_queue_holds) {
  fo_ppool *p = pool_of(12, 0);
  size_t n = 600;
  item *in = items(n);
  result *out = calloc(n, sizeof *out);
  for (size_t i = 0; i < n; i++)
    in[i].us = 2000;
  tctx ctx = {-1, NULL, NULL};
  ck_assert_int_eq(
      tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, NULL), 0);
  check_results(in, out, n, -1, NULL);
  unsigned busy = 0;
  for (unsigned w = 0; w < 12; w++) {
    size_t k = 0;
    while (k < n && out[k].pid != fo_ppool_worker_pid(p, w))
      k++;
    busy += k < n;
  }
  ck_assert_uint_ge(busy, 6); /* 1.2 s of waiting, spread: each chunk is a few dozen ms at most */
  free(in);
  free(out);
  fo_ppool_destroy(p);
}
END_TEST

static int negate(const void *c, size_t index, const void *i, void *o) {
  (void)index;
  (void)c;
  *(int64_t *)o = -*(const int64_t *)i;
  return 0;
}

START_TEST(one_pool_serves_hundreds_of_maps) {
  fo_ppool *p = pool_of(2, 0);
  pid_t w0 = fo_ppool_worker_pid(p, 0), w1 = fo_ppool_worker_pid(p, 1);
  int64_t in[300], out[300];
  unsigned seed = 7;
  for (int round = 0; round < 400; round++) {
    size_t n = (size_t)(rand_r(&seed) % 300);
    for (size_t i = 0; i < n; i++)
      in[i] = (int64_t)rand_r(&seed) - RAND_MAX / 2;
    fo_ppool_fn fn = round % 2 ? square : negate;
    tp_map_opts mo = {(size_t)(rand_r(&seed) % 4), 0, 0, 0};
    ck_assert_int_eq(tp_map(p, fn, NULL, 0, in, 8, out, 8, n, &mo, NULL), 0);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
      bad += out[i] != (round % 2 ? in[i] * in[i] : -in[i]);
    ck_assert_msg(bad == 0, "round %d: %zu wrong outputs", round, bad);
  }
  ck_assert_int_eq(fo_ppool_worker_pid(p, 0), w0); /* nobody died or was replaced */
  ck_assert_int_eq(fo_ppool_worker_pid(p, 1), w1);
  fo_ppool_destroy(p);
}
END_TEST

static int call_back(const void *c, size_t index, const void *i, void *o) {
  (void)index;
  const tctx *ctx = c;
  int64_t x = 1, y;
  result *r = o;
  r->y = *(const int64_t *)i;
  r->rc = tp_map(ctx->pool, square, NULL, 0, &x, 8, &y, 8, 1, NULL, NULL);
  return 0;
}

START_TEST(workers_cannot_map_on_their_pool) {
  fo_ppool *p = pool_of(2, 0);
  tctx ctx = {1, NULL, p};
  int64_t in[3] = {4, 5, 6};
  result out[3];
  ck_assert_int_eq(
      tp_map(p, call_back, &ctx, sizeof ctx, in, 8, out, sizeof *out, 3, NULL, NULL), 0);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(out[i].rc, FO_ETASK);
  fo_ppool_destroy(p);
}
END_TEST

START_TEST(destroy_reaps_every_worker_and_a_child_releases_only_its_copy) {
  fo_ppool *p = pool_of(3, 0);
  pid_t w[3];
  for (unsigned i = 0; i < 3; i++)
    w[i] = fo_ppool_worker_pid(p, i);
  pid_t child = tp_fork();
  if (child == 0) {
    int64_t x = 2, y;
    TP_CHECK(tp_map(p, square, NULL, 0, &x, 8, &y, 8, 1, NULL, NULL) == FO_ETASK, 1);
    fo_ppool_destroy(p); /* its copy only: the workers are not its children */
    _exit(0);
  }
  ck_assert_int_eq(tp_wait(child, 10), 0);
  int64_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, out, 8, 8, NULL, NULL), 0);
  ck_assert(out[7] == 64);
  for (unsigned i = 0; i < 3; i++)
    ck_assert_int_eq(fo_ppool_worker_pid(p, i), w[i]);
  fo_ppool_destroy(p);
  for (unsigned i = 0; i < 3; i++) {
    int st;
    ck_assert_int_eq(waitpid(w[i], &st, WNOHANG), -1); /* reaped: no zombie */
    ck_assert(is_gone(w[i]));
  }
}
END_TEST

START_TEST(map_allocates_nothing) {
  fo_shm *shm;
  tctx ctx = {2, shared_flags(&shm), NULL};
  fo_ppool *p = pool_of(2, 0);
  size_t n = 5000;
  item *in = items(n);
  result *out = calloc(n, sizeof *out);
  in[10].act = ACT_KILL; /* the death path too */
  in[10].once = 1;
  fo_ppool_failure f[4];
  fo_ppool_report rep = {f, 4, 0, 0, 0};
  long before = ta_attempts();
  ta_fail_at(1, 1);
  int rc = tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, &rep);
  ta_fail_at(0, 0);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(ta_attempts(), before);
  ck_assert_uint_eq(rep.deaths, 1);
  check_results(in, out, n, 2, NULL);
  free(in);
  free(out);
  fo_ppool_destroy(p);
  fo_shm_destroy(shm);
}
END_TEST

static int create_op(void *arg) {
  fo_ppool_opts o = {2, 0};
  return fo_ppool_create((fo_ppool **)arg, &o);
}

static void create_undo(void *arg) {
  fo_ppool *p = *(fo_ppool **)arg;
  int64_t in[3] = {1, 2, 3}, out[3];
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, out, 8, 3, NULL, NULL), 0);
  ck_assert(out[2] == 9);
  fo_ppool_destroy(p);
}

START_TEST(create_out_of_memory) {
  fo_ppool *p;
  ck_assert_int_ge(ta_oom_loop(create_op, create_undo, &p), 3);
}
END_TEST

START_TEST(chunk_policy_and_geometry) {
  /* a fixed size, clamped by what is left and what a slot holds */
  ck_assert_uint_eq(fo__ppool_chunk_items(100, 4, 0, 50, 7), 7);
  ck_assert_uint_eq(fo__ppool_chunk_items(100, 4, 0, 50, 1000), 50);
  ck_assert_uint_eq(fo__ppool_chunk_items(3, 4, 0, 50, 10), 3);
  /* automatic: remaining over twice the workers, rounded up */
  ck_assert_uint_eq(fo__ppool_chunk_items(1000, 2, 0, 1 << 20, 0), 250);
  ck_assert_uint_eq(fo__ppool_chunk_items(1001, 2, 0, 1 << 20, 0), 251);
  ck_assert_uint_eq(fo__ppool_chunk_items(1, 8, 0, 1 << 20, 0), 1);
  ck_assert_uint_eq(fo__ppool_chunk_items(10, 12, 5e6, 1 << 20, 0), 1);
  /* never under FO_PPOOL_CHUNK_NS of measured work */
  ck_assert_uint_eq(fo__ppool_chunk_items(1000000, 2, 1.0, 1 << 20, 0), FO_PPOOL_CHUNK_NS);
  ck_assert_uint_eq(fo__ppool_chunk_items(1000000, 2, 1.0, 4096, 0), 4096);
  ck_assert_uint_eq(fo__ppool_chunk_items(100, 2, 1.0, 4096, 0), 100);

  size_t items, bytes, out_off;
  ck_assert_uint_eq(fo__ppool_geometry(1 << 20, 4, 8, 8, &items, &bytes, &out_off), 4);
  ck_assert_uint_eq(bytes, (1 << 20) / 4);
  ck_assert_uint_ge(out_off, items * 8);
  ck_assert_uint_le(out_off + items * 8, bytes);
  ck_assert_uint_eq(out_off % FO__PPOOL_ALIGN, 0);
  ck_assert_uint_eq(fo__ppool_geometry(1000, 4, 200, 200, &items, &bytes, &out_off), 1);
  ck_assert_uint_eq(items, 2);
  ck_assert_uint_eq(fo__ppool_geometry(1000, 4, 1000, 0, &items, &bytes, &out_off), 0);
  ck_assert_uint_eq(fo__ppool_geometry(4096, 2, 0, 0, &items, &bytes, &out_off), 2);
  ck_assert_uint_ge(items, 1u << 20);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * Deaths
 */

/* One item whose worker dies: the first time only (retried, nothing fails) or every time
 * (reported after max_attempts). */
static void one_death(fo_ppool *p, uint32_t *flags, size_t n, size_t k, int action, int once,
                      size_t chunk, unsigned attempts, unsigned *seed) {
  item *in = items(n);
  result *out = calloc(n, sizeof *out);
  ck_assert_uint_le(n, FLAGS_MAX);
  memset(flags, 0, n * sizeof *flags);
  tctx ctx = {7, flags, NULL};
  for (size_t i = 0; i < n; i++)
    in[i].us = seed != NULL && rand_r(seed) % 3 == 0 ? rand_r(seed) % 300 : 0;
  in[k].act = action;
  in[k].once = once;
  fo_ppool_failure f[4];
  fo_ppool_report rep = {f, 4, 0, 0, 0};
  tp_map_opts mo = {chunk, 0, 0, attempts};
  int rc = tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, &mo, &rep);
  check_report_shape(&rep, n);
  unsigned want = attempts > 0 ? attempts : FO_PPOOL_ATTEMPTS;
  if (once) {
    ck_assert_msg(rc == 0, "n %zu k %zu action %d chunk %zu: %s", n, k, action, chunk,
                  fo_strerror(rc));
    ck_assert_uint_eq(rep.failed, 0);
    ck_assert_uint_eq(rep.deaths, 1);
  } else {
    ck_assert_msg(rc == FO_EPARTIAL, "n %zu k %zu action %d chunk %zu: %s", n, k, action, chunk,
                  fo_strerror(rc));
    ck_assert_uint_eq(rep.failed, 1);
    ck_assert_uint_eq(rep.nfailures, 1);
    ck_assert_uint_eq(f[0].first, k);
    ck_assert_uint_eq(f[0].count, 1);
    ck_assert_uint_eq(f[0].attempts, want);
    ck_assert_uint_eq(rep.deaths, want);
    check_cause(&f[0], action);
  }
  check_results(in, out, n, 7, &rep);
  for (unsigned i = 0; i < fo_ppool_workers(p); i++)
    ck_assert_int_gt(fo_ppool_worker_pid(p, i), 0); /* replaced */
  free(in);
  free(out);
}

START_TEST(each_death_cause_is_retried_then_reported) {
  fo_shm *shm;
  uint32_t *flags = shared_flags(&shm);
  fo_ppool *p = pool_of(2, 0);
  const int actions[] = {ACT_KILL, ACT_SEGV, ACT_EXIT};
  for (int a = 0; a < 3; a++) {
    one_death(p, flags, 40, 13, actions[a], 1, 0, 0, NULL);
    one_death(p, flags, 40, 13, actions[a], 0, 0, 0, NULL);
    one_death(p, flags, 40, 0, actions[a], 0, 4, 1, NULL);
    one_death(p, flags, 40, 39, actions[a], 0, 1, 2, NULL);
  }
  /* and the pool goes on as if nothing happened */
  int64_t in[5] = {1, 2, 3, 4, 5}, out[5];
  ck_assert_int_eq(tp_map(p, square, NULL, 0, in, 8, out, 8, 5, NULL, NULL), 0);
  ck_assert(out[4] == 25);
  fo_ppool_destroy(p);
  fo_shm_destroy(shm);
}
END_TEST

START_TEST(deaths_at_random_points_a_hundred_times) {
  fo_shm *shm;
  uint32_t *flags = shared_flags(&shm);
  fo_ppool *p = pool_of(3, 0);
  unsigned seed = (unsigned)getpid();
  for (int round = 0; round < 100; round++) {
    size_t n = 1 + (size_t)(rand_r(&seed) % 48);
    size_t k = (size_t)(rand_r(&seed) % (int)n);
    int action = 1 + rand_r(&seed) % 3;
    int once = rand_r(&seed) % 2;
    size_t chunk = rand_r(&seed) % 3 == 0 ? 0 : 1 + (size_t)(rand_r(&seed) % 8);
    one_death(p, flags, n, k, action, once, chunk, 2, &seed);
  }
  fo_ppool_destroy(p);
  fo_shm_destroy(shm);
}
END_TEST


/* Someone else kills a worker at a random moment of a map. */
START_TEST(workers_killed_from_outside_are_replaced) {
  fo_ppool *p = pool_of(2, 0);
  unsigned seed = (unsigned)getpid();
  size_t n = 120;
  item *in = items(n);
  result *out = calloc(n, sizeof *out);
  for (size_t i = 0; i < n; i++)
    in[i].us = 1000;
  tctx ctx = {3, NULL, NULL};
  for (int round = 0; round < 15; round++) {
    pid_t victim = fo_ppool_worker_pid(p, (unsigned)(rand_r(&seed) % 2));
    long delay = rand_r(&seed) % 80000;
    pid_t killer = tp_fork();
    if (killer == 0) {
      sleep_us(delay);
      kill(victim, SIGKILL);
      fo_ppool_destroy(p); /* its copy only */
      free(in);
      free(out);
      _exit(0);
    }
    fo_ppool_failure f[4];
    fo_ppool_report rep = {f, 4, 0, 0, 0};
    int rc =
        tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, &rep);
    ck_assert_int_eq(tp_wait(killer, 10), 0);
    tp_wait_ended(victim, 10); /* a kill after the map ended is the next map's to see */
    ck_assert_msg(rc == 0, "round %d: %s", round, fo_strerror(rc));
    ck_assert_uint_le(rep.deaths, 1);
    check_results(in, out, n, 3, NULL);
  }
  /* a worker killed between maps is replaced at the next one */
  pid_t w0 = fo_ppool_worker_pid(p, 0);
  kill(w0, SIGKILL);
  tp_wait_ended(w0, 10);
  ck_assert_int_eq(
      tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, NULL), 0);
  check_results(in, out, n, 3, NULL);
  ck_assert_int_ne(fo_ppool_worker_pid(p, 0), w0);
  ck_assert(is_gone(w0));
  free(in);
  free(out);
  fo_ppool_destroy(p);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * Deadlines
 */

START_TEST(an_item_past_its_deadline_is_killed_and_reported) {
  fo_ppool *p = pool_of(2, 0);
  size_t n = 20;
  item *in = items(n);
  result out[20];
  memset(out, 0, sizeof out);
  in[7].act = ACT_HANG;
  tctx ctx = {1, NULL, NULL};
  fo_ppool_failure f[4];
  fo_ppool_report rep = {f, 4, 0, 0, 0};
  tp_map_opts mo = {0, 100, 0, 0};
  double t = tp_now_ms();
  int rc = tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, &mo, &rep);
  double took = tp_now_ms() - t;
  ck_assert_int_eq(rc, FO_EPARTIAL);
  ck_assert_double_ge(took, 95);
  ck_assert_double_lt(took, tp_scaled(5) * 1000);
  ck_assert_uint_eq(rep.nfailures, 1);
  ck_assert_uint_eq(f[0].first, 7);
  ck_assert_uint_eq(f[0].count, 1);
  ck_assert_int_eq(f[0].cause, FO_PPOOL_TIMEOUT);
  ck_assert_uint_eq(f[0].attempts, 1);
  ck_assert_uint_eq(rep.deaths, 1);
  check_results(in, out, n, 1, &rep);
  /* slow but in time: nothing is killed */
  in[7].act = ACT_NONE;
  for (size_t i = 0; i < n; i++)
    in[i].us = 5000;
  mo.item_timeout_ms = (int)(tp_scaled(2) * 1000);
  ck_assert_int_eq(
      tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, &mo, &rep), 0);
  ck_assert_uint_eq(rep.deaths, 0);
  check_results(in, out, n, 1, NULL);
  free(in);
  fo_ppool_destroy(p);
}
END_TEST

START_TEST(the_map_deadline_bounds_the_call) {
  fo_ppool *p = pool_of(2, 0);
  size_t n = 40;
  item *in = items(n);
  result out[40];
  memset(out, 0, sizeof out);
  tctx ctx = {1, NULL, NULL};
  fo_ppool_failure f[64];
  fo_ppool_report rep = {f, 64, 0, 0, 0};
  for (size_t i = 0; i < n; i++)
    in[i].us = 50000; /* 2 s of work for 2 workers, with 300 ms to do it */
  tp_map_opts mo = {1, 0, 300, 0};
  double t = tp_now_ms();
  int rc = tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, &mo, &rep);
  double took = tp_now_ms() - t;
  ck_assert_int_eq(rc, -ETIMEDOUT);
  ck_assert_double_ge(took, 295);
  ck_assert_double_lt(took, tp_scaled(5) * 1000);
  check_report_shape(&rep, n);
  ck_assert_uint_gt(rep.failed, 0);
  ck_assert_uint_lt(rep.failed, n);
  ck_assert_int_eq(f[rep.nfailures - 1].cause, FO_PPOOL_NOT_RUN);
  ck_assert_uint_eq(f[rep.nfailures - 1].first + f[rep.nfailures - 1].count, n);
  check_results(in, out, n, 1, &rep);

  /* every item stuck: the ones running time out, the rest never ran */
  for (size_t i = 0; i < n; i++) {
    in[i].us = 0;
    in[i].act = ACT_HANG;
  }
  mo.chunk = 0;
  mo.timeout_ms = 200;
  t = tp_now_ms();
  rc = tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, &mo, &rep);
  ck_assert_int_eq(rc, -ETIMEDOUT);
  ck_assert_double_lt(tp_now_ms() - t, tp_scaled(5) * 1000);
  check_report_shape(&rep, n);
  ck_assert_uint_eq(rep.failed, n);
  ck_assert_uint_eq(rep.deaths, 2);
  size_t timeouts = 0;
  for (size_t k = 0; k < rep.nfailures; k++)
    timeouts += f[k].cause == FO_PPOOL_TIMEOUT ? f[k].count : 0;
  ck_assert_uint_eq(timeouts, 2); /* one item per worker was running */

  /* the pool is whole again */
  for (size_t i = 0; i < n; i++)
    in[i].act = ACT_NONE;
  ck_assert_int_eq(
      tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, &rep), 0);
  check_results(in, out, n, 1, NULL);
  free(in);
  fo_ppool_destroy(p);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * The parent dies
 */

START_TEST(a_killed_parent_leaves_no_orphans) {
  if (!adopt_orphans())
    return;
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t parent = tp_fork();
  if (parent == 0) {
    close(fds[0]);
    fo_ppool *p;
    fo_ppool_opts o = {2, 0};
    TP_CHECK(fo_ppool_create(&p, &o) == 0, 1);
    pid_t w[2] = {fo_ppool_worker_pid(p, 0), fo_ppool_worker_pid(p, 1)};
    TP_CHECK(write(fds[1], w, sizeof w) == sizeof w, 2);
    /* Busy workers: items that never end on linux, where the kernel kills the workers; short
     * items on posix, where a worker stuck inside an item outlives the parent until it returns. */
    size_t n = 100000;
    item *in = items(n);
    result *out = calloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
      in[i].act = is_linux_port() ? ACT_HANG : ACT_NONE;
      in[i].us = 20000;
    }
    tctx ctx = {1, NULL, NULL};
    tp_map(p, act, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, NULL);
    _exit(3);
  }
  close(fds[1]);
  pid_t w[2];
  ck_assert_int_eq(read_pids(fds[0], w, 2, 10), 0);
  sleep_us(100000); /* into the map */
  ck_assert_int_eq(tp_kill(parent), 128 + SIGKILL);
  for (int i = 0; i < 2; i++)
    ck_assert_msg(orphan_ends(w[i], 3), "worker %d outlived its parent", (int)w[i]);
  close(fds[0]);
  /* the fixture's teardown checks that nothing is left in /dev/shm or the mqueue fs */
}
END_TEST

void ppool_job_cases(Suite *s); /* tests/check_ppool_job.c */

Suite *ppool_suite(void) {
  Suite *s = suite_create("ppool");
  TCase *tc = fo_tcase("proc", 30);
  tcase_add_test(tc, proc_arguments_are_checked);
  tcase_add_test(tc, proc_exit_code_and_signal_are_reported);
  tcase_add_test(tc, proc_join_waits_with_a_deadline);
  tcase_add_test(tc, proc_destroy_kills_and_reaps);
  tcase_add_test(tc, proc_join_from_another_process_is_refused);
  tcase_add_test(tc, proc_dies_with_parent_where_the_port_can);
  tcase_add_test(tc, proc_spawn_out_of_memory);
  suite_add_tcase(s, tc);

  tc = fo_tcase("map", 60);
  tcase_add_test(tc, pool_arguments_are_checked);
  tcase_add_test(tc, pool_defaults_to_the_cpu_count);
  tcase_add_test(tc, results_come_back_in_order_at_every_size);
  tcase_add_test(tc, a_million_tiny_items);
  tcase_add_test(tc, odd_sizes_and_windows_through_a_small_arena);
  tcase_add_test(tc, context_is_copied_per_map);
  tcase_add_test(tc, uneven_items_balance);
  tcase_add_test(tc, one_pool_serves_hundreds_of_maps);
  tcase_add_test(tc, more_workers_than_the_queue_holds);
  tcase_add_test(tc, workers_cannot_map_on_their_pool);
  tcase_add_test(tc, destroy_reaps_every_worker_and_a_child_releases_only_its_copy);
  tcase_add_test(tc, map_allocates_nothing);
  tcase_add_test(tc, create_out_of_memory);
  tcase_add_test(tc, chunk_policy_and_geometry);
  suite_add_tcase(s, tc);

  tc = fo_tcase("deaths", 60);
  tcase_add_test(tc, each_death_cause_is_retried_then_reported);
  tcase_add_test(tc, deaths_at_random_points_a_hundred_times);
  tcase_add_test(tc, workers_killed_from_outside_are_replaced);
  suite_add_tcase(s, tc);

  tc = fo_tcase("deadlines", 30);
  tcase_add_test(tc, an_item_past_its_deadline_is_killed_and_reported);
  tcase_add_test(tc, the_map_deadline_bounds_the_call);
  tcase_add_test(tc, a_killed_parent_leaves_no_orphans);
  suite_add_tcase(s, tc);
  ppool_job_cases(s);
  return s;
}
