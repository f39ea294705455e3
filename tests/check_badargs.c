/* Bad arguments to every public function, as tables: each row is a call and the code its header
 * documents for it (NULL pointers, zero or oversized sizes, out-of-range options, an object used
 * the wrong way round). Every call must return that code without crashing, and the fixture checks
 * that none left an allocation or an IPC object behind. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fanout/ipc.h"
#include "fanout/json.h"
#include "fanout/ppool.h"
#include "fanout/sat.h"
#include "fanout/shmdict.h"
#include "fanout/tpool.h"
#include "helpers/fixture.h"
#include "helpers/ppmap.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "inject_suites.h"
#ifdef FO_HAVE_CURL
#include "fanout/fetch.h"
#endif

typedef struct {
  const char *call;
  long got;
  long want;
} row;

/* One row: the call's text, what it returned (pointers and sizes as integers; a void call
 * written (call, 0)) and what it must return. Rows of one table run in no particular order, so
 * none may depend on another. */
#define R(call, want)                                                                              \
  { #call, (long)(intptr_t)(call), (long)(want) }

static void check_rows(const row *rows, size_t n) {
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(rows[i].got == rows[i].want, "%s: got %ld (%s), want %ld (%s)", rows[i].call,
                  rows[i].got, fo_strerror((int)rows[i].got), rows[i].want,
                  fo_strerror((int)rows[i].want));
}

#define TABLE(...)                                                                                 \
  do {                                                                                             \
    const row rows_[] = {__VA_ARGS__};                                                             \
    check_rows(rows_, sizeof rows_ / sizeof rows_[0]);                                             \
  } while (0)

static void nop(void *arg) {
  (void)arg;
}

/* ------------------------------------------------------------------ fanout.h */

START_TEST(core) {
  fo_allocator half = {NULL, NULL, NULL, NULL};
  long before = ta_attempts();
  TABLE(R(fo_set_allocator(&half), -EINVAL), R(fo_strerror(0) != NULL, 1),
        R(fo_strerror(INT_MIN) != NULL, 1), R(fo_strerror(INT_MAX) != NULL, 1),
        R(strcmp(fo_strerror(-(FO_ERRBASE + 999)), "unknown error"), 0), R(fo_cpu_count() >= 1, 1),
        R(fo_info_get(NULL), -EINVAL));
  /* the refused table did not replace the test allocator */
  void *p = NULL;
  ck_assert_int_eq(fo_shm_create((fo_shm **)&p, 1), 0);
  ck_assert_int_gt(ta_attempts(), before);
  fo_shm_destroy(p);
}
END_TEST

/* ------------------------------------------------------------------ ipc.h */

START_TEST(mq) {
  fo_mq *q = NULL, *q2 = (fo_mq *)&q2;
  ck_assert_int_eq(fo_mq_create(&q, 16, 2, 0), 0);
  char buf[64];
  size_t len;
  size_t big = (size_t)INT_MAX + 1;
  TABLE(R(fo_mq_create(NULL, 16, 2, 0), -EINVAL), R(fo_mq_create(&q2, 0, 2, 0), -EINVAL),
        R(fo_mq_create(&q2, big, 2, 0), -EINVAL), R(fo_mq_create(&q2, SIZE_MAX, 2, 0), -EINVAL),
        R(fo_mq_create(&q2, 16, 0, 0), -EINVAL), R(fo_mq_create(&q2, 16, 2, 2), -EINVAL),
        R(fo_mq_create(&q2, 16, 2, ~0u), -EINVAL), R((fo_mq_destroy(NULL), 0), 0),
        R(fo_mq_msg_size(NULL), 0), R(fo_mq_depth(NULL), 0),
        R(fo_mq_send(NULL, "x", 1, 0), -EINVAL), R(fo_mq_send(q, NULL, 1, 0), -EINVAL),
        R(fo_mq_send(q, buf, 17, 0), FO_ETOOBIG), R(fo_mq_send(q, buf, SIZE_MAX, 0), FO_ETOOBIG),
        R(fo_mq_send(q, "x", 1, -2), -EINVAL), R(fo_mq_send(q, "x", 1, INT_MIN), -EINVAL),
        R(fo_mq_recv(NULL, buf, sizeof buf, &len, 0), -EINVAL),
        R(fo_mq_recv(q, NULL, sizeof buf, &len, 0), -EINVAL),
        R(fo_mq_recv(q, buf, sizeof buf, NULL, 0), -EINVAL),
        R(fo_mq_recv(q, buf, 15, &len, 0), FO_ETOOBIG), R(fo_mq_send_end(NULL, 0), -EINVAL),
        R(fo_mq_send_end(q, -2), -EINVAL), R(fo_mq_fd(NULL), -EINVAL),
        R(fo_mq_recv(q, buf, sizeof buf, &len, -2), -EINVAL));
  ck_assert_ptr_null(q2); /* a refused create says so in *q too */
  /* nothing was sent by the refused calls */
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), -EAGAIN);
  fo_mq_destroy(q);
}
END_TEST

START_TEST(pipe_ends) {
  fo_pipe *r, *w, *x = (fo_pipe *)&x;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  char buf[8];
  size_t len, sent;
  char x1[] = "x";
  struct iovec one[] = {{x1, 1}}, nullbase[] = {{x1, 1}, {NULL, 1}},
               huge[] = {{x1, SIZE_MAX / 2}, {x1, SIZE_MAX / 2}};
  TABLE(R(fo_pipe_create(NULL, &x), -EINVAL), R(fo_pipe_create(&x, NULL), -EINVAL),
        R(fo_pipe_create(NULL, NULL), -EINVAL), R((fo_pipe_destroy(NULL), 0), 0),
        R(fo_pipe_send(NULL, "x", 1, 0), -EINVAL), R(fo_pipe_send(r, "x", 1, 0), -EINVAL),
        R(fo_pipe_send(w, NULL, 1, 0), -EINVAL), R(fo_pipe_send(w, "x", 1, -2), -EINVAL),
        R(fo_pipe_recv(NULL, buf, sizeof buf, &len, 0), -EINVAL),
        R(fo_pipe_recv(w, buf, sizeof buf, &len, 0), -EINVAL),
        R(fo_pipe_recv(r, buf, sizeof buf, NULL, 0), -EINVAL),
        R(fo_pipe_recv(r, NULL, 4, &len, 0), -EINVAL),
        R(fo_pipe_recv(r, buf, sizeof buf, &len, -2), -EINVAL),
        R(fo_pipe_send(w, "x", SIZE_MAX - 7, 0), FO_ETOOBIG),
        R(fo_pipe_sendv(NULL, one, 1, &sent, 0), -EINVAL),
        R(fo_pipe_sendv(r, one, 1, &sent, 0), -EINVAL),
        R(fo_pipe_sendv(w, NULL, 1, &sent, 0), -EINVAL),
        R(fo_pipe_sendv(w, one, 1, NULL, 0), -EINVAL),
        R(fo_pipe_sendv(w, nullbase, 2, &sent, 0), -EINVAL),
        R(fo_pipe_sendv(w, one, 1, &sent, -2), -EINVAL),
        R(fo_pipe_sendv(w, one, SIZE_MAX, &sent, 0), FO_ETOOBIG),
        R(fo_pipe_sendv(w, huge, 2, &sent, 0), FO_ETOOBIG));
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), -EAGAIN);
  fo_pipe_destroy(r);
  fo_pipe_destroy(w);
}
END_TEST

START_TEST(shm) {
  fo_shm *s = (fo_shm *)&s;
  char long_name[300] = "/";
  memset(long_name + 1, 'a', 251);
  long_name[252] = '\0';
  char missing[64];
  snprintf(missing, sizeof missing, "/fanout-badargs-missing-%ld", (long)getpid());
  TABLE(R(fo_shm_create(NULL, 1), -EINVAL), R(fo_shm_create(&s, 0), -EINVAL),
        R(fo_shm_create(&s, SIZE_MAX), -EINVAL),
        R(fo_shm_create(&s, (size_t)PTRDIFF_MAX + 1), -EINVAL),
        R(fo_shm_create_named(NULL, "/x", 1), -EINVAL),
        R(fo_shm_create_named(&s, NULL, 1), -EINVAL), R(fo_shm_create_named(&s, "x", 1), -EINVAL),
        R(fo_shm_create_named(&s, "/", 1), -EINVAL), R(fo_shm_create_named(&s, "/a/b", 1), -EINVAL),
        R(fo_shm_create_named(&s, long_name, 1), -EINVAL),
        R(fo_shm_create_named(&s, missing, 0), -EINVAL),
        R(fo_shm_create_named(&s, missing, SIZE_MAX), -EINVAL),
        R(fo_shm_open_named(NULL, missing), -EINVAL), R(fo_shm_open_named(&s, NULL), -EINVAL),
        R(fo_shm_open_named(&s, "x"), -EINVAL), R(fo_shm_open_named(&s, missing), -ENOENT),
        R(fo_shm_unlink_named(NULL), -EINVAL), R(fo_shm_unlink_named("/a/b"), -EINVAL),
        R(fo_shm_unlink_named(missing), -ENOENT), R((fo_shm_destroy(NULL), 0), 0),
        R(fo_shm_addr(NULL), 0), R(fo_shm_size(NULL), 0));
  ck_assert_ptr_null(s);
}
END_TEST

/* ------------------------------------------------------------------ shmdict.h */

static int count_one(const char *key, int64_t value, void *arg) {
  (void)key;
  (void)value;
  ++*(int *)arg;
  return 0;
}

START_TEST(shmdict) {
  fo_shmdict *d, *x = (fo_shmdict *)&x;
  TP_DICT_OR_SKIP(&d, 4, 8);
  ck_assert_int_eq(fo_shmdict_set(d, "max", INT64_MAX), 0);
  int64_t v;
  int n = 0;
  TABLE(R(fo_shmdict_create(NULL, 4, 8), -EINVAL), R(fo_shmdict_create(&x, 0, 8), -EINVAL),
        R(fo_shmdict_create(&x, FO_SHMDICT_CAPACITY_MAX + 1, 8), -EINVAL),
        R(fo_shmdict_create(&x, SIZE_MAX, 8), -EINVAL), R(fo_shmdict_create(&x, 4, 0), -EINVAL),
        R(fo_shmdict_create(&x, 4, FO_SHMDICT_KEY_MAX + 1), -EINVAL),
        R(fo_shmdict_create(&x, 4, SIZE_MAX), -EINVAL), R((fo_shmdict_destroy(NULL), 0), 0),
        R(fo_shmdict_capacity(NULL), 0), R(fo_shmdict_get(NULL, "k", &v), -EINVAL),
        R(fo_shmdict_get(d, NULL, &v), -EINVAL), R(fo_shmdict_get(d, "k", NULL), -EINVAL),
        R(fo_shmdict_get(d, "123456789", &v), FO_ETOOBIG),
        R(fo_shmdict_get(d, "absent", &v), FO_ENOTFOUND), R(fo_shmdict_set(NULL, "k", 1), -EINVAL),
        R(fo_shmdict_set(d, NULL, 1), -EINVAL), R(fo_shmdict_set(d, "123456789", 1), FO_ETOOBIG),
        R(fo_shmdict_add(NULL, "k", 1, NULL), -EINVAL),
        R(fo_shmdict_add(d, NULL, 1, NULL), -EINVAL),
        R(fo_shmdict_add(d, "123456789", 1, NULL), FO_ETOOBIG),
        R(fo_shmdict_add(d, "max", 1, &v), -ERANGE), R(fo_shmdict_delete(NULL, "k"), -EINVAL),
        R(fo_shmdict_delete(d, NULL), -EINVAL), R(fo_shmdict_delete(d, "123456789"), FO_ETOOBIG),
        R(fo_shmdict_delete(d, "absent"), FO_ENOTFOUND), R(fo_shmdict_count(NULL), -EINVAL),
        R(fo_shmdict_foreach(NULL, count_one, &n), -EINVAL),
        R(fo_shmdict_foreach(d, NULL, &n), -EINVAL));
  ck_assert_ptr_null(x);
  ck_assert_int_eq(n, 0);
  /* nothing changed */
  ck_assert_int_eq(fo_shmdict_count(d), 1);
  ck_assert_int_eq(fo_shmdict_get(d, "max", &v), 0);
  ck_assert(v == INT64_MAX);
  fo_shmdict_destroy(d);
}
END_TEST

/* ------------------------------------------------------------------ tpool.h */

START_TEST(tpool) {
  fo_tpool *p, *x = (fo_tpool *)&x;
  ck_assert_int_eq(fo_tpool_create(&p, &(fo_tpool_opts){.threads = 1}), 0);
  fo_tpool_group *g, *gx = (fo_tpool_group *)&gx;
  ck_assert_int_eq(fo_tpool_group_create(p, &g), 0);
  TABLE(R(fo_tpool_create(NULL, NULL), -EINVAL),
        R(fo_tpool_create(&x, &(fo_tpool_opts){.threads = FO_TPOOL_THREADS_MAX + 1}), -EINVAL),
        R(fo_tpool_create(&x, &(fo_tpool_opts){.threads = UINT_MAX}), -EINVAL),
        R(fo_tpool_create(&x, &(fo_tpool_opts){.queue = FO_TPOOL_QUEUE_MAX + 1}), -EINVAL),
        R(fo_tpool_create(&x, &(fo_tpool_opts){.queue = UINT_MAX}), -EINVAL),
        R(fo_tpool_submit(NULL, nop, NULL), -EINVAL), R(fo_tpool_submit(p, NULL, NULL), -EINVAL),
        R(fo_tpool_try_submit(NULL, nop, NULL), -EINVAL),
        R(fo_tpool_try_submit(p, NULL, NULL), -EINVAL),
        R(fo_tpool_submit_timed(NULL, nop, NULL, 1), -EINVAL),
        R(fo_tpool_submit_timed(p, NULL, NULL, 1), -EINVAL),
        R(fo_tpool_submit_timed(p, nop, NULL, -2), -EINVAL),
        R(fo_tpool_submit_timed(p, nop, NULL, INT_MIN), -EINVAL), R(fo_tpool_wait(NULL), -EINVAL),
        R(fo_tpool_cancel(NULL), -EINVAL), R(fo_tpool_destroy(NULL), 0),
        R(fo_tpool_group_create(NULL, &gx), -EINVAL), R(fo_tpool_group_create(p, NULL), -EINVAL),
        R(fo_tpool_group_submit(NULL, nop, NULL, 0), -EINVAL),
        R(fo_tpool_group_submit(g, NULL, NULL, 0), -EINVAL),
        R(fo_tpool_group_submit(g, nop, NULL, FO_FOREVER - 1), -EINVAL),
        R(fo_tpool_group_submit(g, nop, NULL, INT_MIN), -EINVAL),
        R(fo_tpool_group_wait(NULL), -EINVAL), R(fo_tpool_group_destroy(NULL), 0));
  ck_assert_ptr_eq(x, (fo_tpool *)&x); /* untouched, as documented */
  ck_assert_int_eq(fo_tpool_group_wait(g), 0);
  ck_assert_int_eq(fo_tpool_group_destroy(g), 0);
  ck_assert_int_eq(fo_tpool_destroy(p), 0);
  /* a stack no system can give: refused by the options check, not a crash */
  ck_assert_int_eq(fo_tpool_create(&x, &(fo_tpool_opts){.threads = 1, .stack_size = SIZE_MAX}),
                   -EINVAL);
  /* the largest accepted stack is the system's to refuse, if it must */
  int rc = fo_tpool_create(&x, &(fo_tpool_opts){.threads = 1, .stack_size = FO_TPOOL_STACK_MAX});
  ck_assert_msg(rc == 0 || rc == -ENOMEM || rc == -EAGAIN, "%d %s", rc, fo_strerror(rc));
  if (rc == 0)
    ck_assert_int_eq(fo_tpool_destroy(x), 0);
}
END_TEST

/* An -EINVAL from an options struct names the field, its range and the value: one row per
 * field a check refuses, and the create call refuses the same options. */
typedef struct {
  const char *field;
  long long min, max, value;
} why_row;

static void check_why(int rc, const fo_opt_error *got, const why_row *want) {
  ck_assert_int_eq(rc, -EINVAL);
  ck_assert_ptr_nonnull(got->field);
  ck_assert_msg(strcmp(got->field, want->field) == 0 && got->min == want->min &&
                    got->max == want->max && got->value == want->value,
                "%s %lld..%lld %lld, want %s %lld..%lld %lld", got->field, got->min, got->max,
                got->value, want->field, want->min, want->max, want->value);
  char line[128];
  ck_assert_int_gt(fo_opt_error_format(got, line, sizeof line), 0);
  ck_assert_ptr_nonnull(strstr(line, want->field));
}

START_TEST(tpool_opts_explained) {
  static const struct {
    fo_tpool_opts o;
    why_row why;
  } rows[] = {
      {{.threads = FO_TPOOL_THREADS_MAX + 1}, {"threads", 0, FO_TPOOL_THREADS_MAX, 257}},
      {{.queue = FO_TPOOL_QUEUE_MAX + 1}, {"queue", 0, FO_TPOOL_QUEUE_MAX, FO_TPOOL_QUEUE_MAX + 1}},
      {{.threads = 2, .stack_size = FO_TPOOL_STACK_MAX + 1},
       {"stack_size", 0, FO_TPOOL_STACK_MAX, FO_TPOOL_STACK_MAX + 1LL}},
      {{.threads = 300, .queue = UINT_MAX}, {"threads", 0, FO_TPOOL_THREADS_MAX, 300}},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    fo_opt_error why = {NULL, 0, 0, 0};
    check_why(fo_tpool_opts_check(&rows[i].o, &why), &why, &rows[i].why);
    ck_assert_int_eq(fo_tpool_opts_check(&rows[i].o, NULL), -EINVAL);
    fo_tpool *x = (fo_tpool *)&x;
    ck_assert_int_eq(fo_tpool_create(&x, &rows[i].o), -EINVAL);
    ck_assert_ptr_eq(x, (fo_tpool *)&x);
  }
  fo_opt_error untouched = {"sentinel", 1, 2, 3};
  ck_assert_int_eq(fo_tpool_opts_check(NULL, &untouched), 0);
  ck_assert_int_eq(fo_tpool_opts_check(&(fo_tpool_opts){.threads = FO_TPOOL_THREADS_MAX,
                                                        .queue = FO_TPOOL_QUEUE_MAX,
                                                        .stack_size = FO_TPOOL_STACK_MAX},
                                       &untouched),
                   0);
  ck_assert_str_eq(untouched.field, "sentinel");
}
END_TEST

/* ------------------------------------------------------------------ ppool.h */

static int exit_3(void *arg) {
  (void)arg;
  return 3;
}

static int copy8(const void *ctx, size_t index, const void *in, void *out) {
  (void)index;
  (void)ctx;
  memcpy(out, in, 8);
  return 0;
}

START_TEST(proc) {
  fo_proc *c, *x = (fo_proc *)&x;
  ck_assert_int_eq(fo_proc_spawn(&c, exit_3, NULL, 0), 0);
  fo_proc_status st;
  ck_assert_int_eq(fo_proc_join(c, (int)(10000 * tp_scaled(1)), &st), 0);
  TABLE(R(fo_proc_spawn(NULL, exit_3, NULL, 0), -EINVAL),
        R(fo_proc_spawn(&x, NULL, NULL, 0), -EINVAL),
        R(fo_proc_spawn(&x, exit_3, NULL, 2), -EINVAL),
        R(fo_proc_spawn(&x, exit_3, NULL, ~0u), -EINVAL), R(fo_proc_join(NULL, 0, &st), -EINVAL),
        R(fo_proc_join(c, -2, &st), -EINVAL), R(fo_proc_kill(NULL, SIGTERM), -EINVAL),
        R(fo_proc_kill(c, SIGTERM), -ESRCH), R(fo_proc_pid(NULL), 0),
        R((fo_proc_destroy(NULL), 0), 0));
  ck_assert_ptr_null(x);
  /* reaped: join answers again at once, with the same status */
  ck_assert_int_eq(fo_proc_join(c, 0, NULL), 0);
  ck_assert_int_eq(st.code, 3);
  fo_proc_destroy(c);
  /* a live child: a signal number that does not exist is the system's -EINVAL */
  ck_assert_int_eq(fo_proc_spawn(&c, exit_3, NULL, 0), 0);
  ck_assert_int_eq(fo_proc_kill(c, 100000), -EINVAL);
  fo_proc_destroy(c);
}
END_TEST

START_TEST(ppool) {
  fo_ppool *p, *x = (fo_ppool *)&x;
  ck_assert_int_eq(fo_ppool_create(&p, &(fo_ppool_opts){1, FO_PPOOL_ARENA_MIN}), 0);
  int64_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8];
  char big_ctx[FO_PPOOL_ARENA_MIN];
  TABLE(
      R(fo_ppool_create(NULL, NULL), -EINVAL),
      R(fo_ppool_create(&x, &(fo_ppool_opts){FO_PPOOL_WORKERS_MAX + 1, 0}), -EINVAL),
      R(fo_ppool_create(&x, &(fo_ppool_opts){UINT_MAX, 0}), -EINVAL),
      R(fo_ppool_create(&x, &(fo_ppool_opts){1, FO_PPOOL_ARENA_MIN - 1}), -EINVAL),
      R((fo_ppool_destroy(NULL), 0), 0), R(fo_ppool_workers(NULL), 0),
      R(fo_ppool_worker_pid(NULL, 0), 0), R(fo_ppool_worker_pid(p, 1), 0),
      R(fo_ppool_worker_pid(p, UINT_MAX), 0),
      R(tp_map(NULL, copy8, NULL, 0, a, 8, b, 8, 8, NULL, NULL), -EINVAL),
      R(tp_map(p, NULL, NULL, 0, a, 8, b, 8, 8, NULL, NULL), -EINVAL),
      R(tp_map(p, copy8, NULL, 0, NULL, 8, b, 8, 8, NULL, NULL), -EINVAL),
      R(tp_map(p, copy8, NULL, 0, a, 8, NULL, 8, 8, NULL, NULL), -EINVAL),
      R(tp_map(p, copy8, NULL, 4, a, 8, b, 8, 8, NULL, NULL), -EINVAL),
      R(tp_map(p, copy8, NULL, 0, a, 8, b, 8, SIZE_MAX, NULL, NULL), -EINVAL),
      R(tp_map(p, copy8, NULL, 0, a, SIZE_MAX, b, 8, 2, NULL, NULL), -EINVAL),
      R(tp_map(p, copy8, NULL, 0, a, 8, a + 1, 8, 4, NULL, NULL), -EINVAL),
      R(tp_map(p, copy8, big_ctx, sizeof big_ctx, a, 8, b, 8, 8, NULL, NULL), FO_ETOOBIG),
      R(tp_map(p, copy8, NULL, 0, big_ctx, sizeof big_ctx, b, 8, 1, NULL, NULL), FO_ETOOBIG),
      R(tp_map(p, copy8, NULL, 0, a, 8, b, 8, 0, NULL, NULL), 0),
      R(tp_map(p, copy8, a, 0, a, 8, b, 8, 8, NULL, NULL), -EINVAL),
      R(fo_ppool_map(p, NULL, NULL), -EINVAL), R(fo_ppool_map(NULL, NULL, NULL), -EINVAL),
      R(fo_ppool_job_check(NULL, NULL, NULL), -EINVAL),
      R(fo_ppool_job_check(p, NULL, NULL), -EINVAL), R(fo_ppool_opts_check(NULL, NULL), 0),
      R(fo_ppool_opts_check(&(fo_ppool_opts){UINT_MAX, 0}, NULL), -EINVAL),
      R((fo_ppool_job_init(NULL), 0), 0));
  ck_assert_ptr_null(x);
  /* the pool still works after all that */
  ck_assert_int_eq(tp_map(p, copy8, NULL, 0, a, 8, b, 8, 8, NULL, NULL), 0);
  ck_assert(b[7] == 8);
  fo_ppool_destroy(p);
}
END_TEST

/* ------------------------------------------------------------------ json.h, sat.h */

static int each_nop(const fo_json *doc, int v, size_t i, void *arg) {
  (void)doc, (void)v, (void)i, (void)arg;
  return 0;
}

static int sat_nop(const fo_sat_record *rec, size_t i, void *arg) {
  (void)rec, (void)i, (void)arg;
  return 0;
}

START_TEST(json) {
  static const char text[] = "{\"a\":[1,2],\"s\":\"x\",\"t\":true,\"n\":null}";
  fo_json *d, *x = (fo_json *)&x;
  ck_assert_int_eq(fo_json_parse(text, sizeof text - 1, NULL, &d, NULL), 0);
  int root = fo_json_root(d), a = fo_json_get(d, root, "a"), s = fo_json_get(d, root, "s");
  int key = fo_json_first(d, root), it = 0, bad_it = -1;
  int one = fo_json_index(d, a, 0), t = fo_json_get(d, root, "t");
  const char *k;
  size_t kl, len;
  double num;
  int64_t i64;
  int b;
  char buf[8];
  TABLE(R(fo_json_parse(NULL, 1, NULL, &x, NULL), -EINVAL),
        R(fo_json_parse(text, 3, NULL, NULL, NULL), -EINVAL),
        R(fo_json_parse(NULL, 0, NULL, &x, NULL), FO_EJSONTRUNC),
        R(fo_json_parse(text, (size_t)INT_MAX + 1, NULL, &x, NULL), FO_ETOOBIG),
        R(fo_json_parse(text, SIZE_MAX, NULL, &x, NULL), FO_ETOOBIG), R((fo_json_free(NULL), 0), 0),
        R(fo_json_each(text, sizeof text - 1, NULL, NULL, NULL, NULL), -EINVAL),
        R(fo_json_each(NULL, 1, NULL, each_nop, NULL, NULL), -EINVAL),
        R(fo_json_each(text, sizeof text - 1, NULL, each_nop, NULL, NULL), FO_EJSONTYPE),
        R(fo_json_root(NULL), -EINVAL), R(fo_json_typeof(NULL, 0), -EINVAL),
        R(fo_json_typeof(d, 10000), -EINVAL), R(fo_json_typeof(d, INT_MAX), -EINVAL),
        R(fo_json_typeof(d, -7), -7), R(fo_json_size(NULL, 0), -EINVAL),
        R(fo_json_size(d, s), FO_EJSONTYPE), R(fo_json_size(d, 10000), -EINVAL),
        R(fo_json_first(NULL, 0), -EINVAL), R(fo_json_first(d, s), FO_EJSONTYPE),
        R(fo_json_next(NULL, 0), -EINVAL), R(fo_json_next(d, a), -EINVAL),
        R(fo_json_next(d, INT_MAX), -EINVAL), R(fo_json_member(NULL, root, &it, &k, &kl), -EINVAL),
        R(fo_json_member(d, root, NULL, &k, &kl), -EINVAL),
        R(fo_json_member(d, root, &it, NULL, &kl), -EINVAL),
        R(fo_json_member(d, root, &it, &k, NULL), -EINVAL),
        R(fo_json_member(d, root, &bad_it, &k, &kl), -EINVAL),
        R(fo_json_member(d, a, &it, &k, &kl), FO_EJSONTYPE), R(fo_json_value(NULL, key), -EINVAL),
        R(fo_json_value(d, a), FO_EJSONTYPE), R(fo_json_get(NULL, root, "a"), -EINVAL),
        R(fo_json_get(d, root, NULL), -EINVAL), R(fo_json_get(d, a, "a"), FO_EJSONTYPE),
        R(fo_json_index(NULL, a, 0), -EINVAL), R(fo_json_index(d, a, 2), FO_ENOTFOUND),
        R(fo_json_index(d, a, SIZE_MAX), FO_ENOTFOUND), R(fo_json_index(d, s, 0), FO_EJSONTYPE),
        R(fo_json_path(NULL, root, "a"), -EINVAL), R(fo_json_path(d, root, NULL), -EINVAL),
        R(fo_json_path(d, root, "a..0"), -EINVAL),
        R(fo_json_path(d, root, "a.99999999999999999999"), FO_ENOTFOUND),
        R(fo_json_equals(NULL, s, "x", 1), -EINVAL), R(fo_json_equals(d, s, NULL, 1), -EINVAL),
        R(fo_json_equals(d, a, "x", 1), FO_EJSONTYPE),
        R(fo_json_string(NULL, s, buf, sizeof buf, &len), -EINVAL),
        R(fo_json_string(d, s, NULL, 4, NULL), 0) /* a length query: buf is not touched */,
        R(fo_json_string(d, a, buf, sizeof buf, &len), FO_EJSONTYPE),
        R(fo_json_has_escapes(NULL), -EINVAL), R(fo_json_raw(NULL, s, &k, &len), -EINVAL),
        R(fo_json_raw(d, s, NULL, &len), -EINVAL), R(fo_json_raw(d, s, &k, NULL), -EINVAL),
        R(fo_json_number(NULL, s, &num), -EINVAL), R(fo_json_number(d, one, NULL), -EINVAL),
        R(fo_json_number(d, s, &num), FO_EJSONTYPE), R(fo_json_int64(d, one, NULL), -EINVAL),
        R(fo_json_int64(NULL, s, &i64), -EINVAL), R(fo_json_bool(d, t, NULL), -EINVAL),
        R(fo_json_bool(NULL, s, &b), -EINVAL), R(fo_json_bool(d, s, &b), FO_EJSONTYPE),
        R(fo_json_is_null(NULL, s), -EINVAL), R(fo_json_is_null(d, 10000), -EINVAL));
  ck_assert_ptr_null(x);
  fo_json_free(d);
}
END_TEST

START_TEST(sat) {
  static const char list[] = "[{\"id\":\"5eed7714096e590006985634\"}]";
  static const char one[] = "{\"id\":\"5eed7714096e590006985634\"}";
  fo_json *d;
  ck_assert_int_eq(fo_json_parse(one, sizeof one - 1, NULL, &d, NULL), 0);
  fo_sat_record rec;
  fo_sat_time t;
  char ids[1][FO_SAT_ID_LEN + 1];
  size_t n = 7;
  TABLE(R(fo_sat_check_id(NULL, FO_SAT_ID_LEN), FO_EBADID),
        R(fo_sat_check_id("5eed7714096e590006985634", 23), FO_EBADID),
        R(fo_sat_check_id("5eed7714096e590006985634", SIZE_MAX), FO_EBADID),
        R(fo_sat_check_id("5EED7714096E590006985634", FO_SAT_ID_LEN), FO_EBADID),
        R(fo_sat_check_id("../../../../etc/passwd%2", FO_SAT_ID_LEN), FO_EBADID),
        R(fo_sat_parse_date(NULL, 10, &t), -EINVAL),
        R(fo_sat_parse_date("2020-01-01", 10, NULL), -EINVAL),
        R(fo_sat_parse_date("2020-01-01", SIZE_MAX, &t), FO_EDATE),
        R(fo_sat_parse_date("2021-05-17T13:49:59.123456789Z", 30, &t), 0) /* the longest */,
        R(fo_sat_parse_date("2021-05-17T13:49:59.1234567890Z", 31, &t), FO_EDATE),
        R(fo_sat_from_json(NULL, 0, &rec), -EINVAL),
        R(fo_sat_from_json(d, fo_json_root(d), NULL), -EINVAL),
        R(fo_sat_from_json(d, -9, &rec), -9), R(fo_sat_from_json(d, 10000, &rec), -EINVAL),
        R(fo_sat_parse(NULL, 5, NULL, &rec, NULL), -EINVAL),
        R(fo_sat_parse(one, sizeof one - 1, NULL, NULL, NULL), -EINVAL),
        R(fo_sat_list_parse(list, sizeof list - 1, NULL, NULL, NULL, NULL), -EINVAL),
        R(fo_sat_list_parse(NULL, 4, NULL, sat_nop, NULL, NULL), -EINVAL),
        R(fo_sat_list_parse(one, sizeof one - 1, NULL, sat_nop, NULL, NULL), FO_EJSONTYPE),
        R(fo_sat_list_ids(list, sizeof list - 1, NULL, NULL, 1, &n, NULL), -EINVAL),
        R(fo_sat_list_ids(NULL, 4, NULL, ids, 1, &n, NULL), -EINVAL),
        R(fo_sat_list_ids(list, sizeof list - 1, NULL, NULL, 0, NULL, NULL), 0));
  fo_json_free(d);
  /* count only */
  ck_assert_int_eq(fo_sat_list_ids(list, sizeof list - 1, NULL, NULL, 0, &n, NULL), 0);
  ck_assert_uint_eq(n, 1);
}
END_TEST

/* ------------------------------------------------------------------ fetch.h */
#ifdef FO_HAVE_CURL

#define FETCHER(...) fo_fetcher_create(&x, &(fo_fetch_opts){__VA_ARGS__})

START_TEST(fetch) {
  fo_fetcher *f, *x = (fo_fetcher *)&x;
  ck_assert_int_eq(fo_fetcher_create(&f, &(fo_fetch_opts){.threads = 1}), 0);
  const char *url = "http://127.0.0.1:1/";
  const char *urls[] = {url};
  fo_fetch_result r;
  TABLE(R(fo_fetcher_create(NULL, NULL), -EINVAL),
        R(FETCHER(.threads = FO_TPOOL_THREADS_MAX + 1), -EINVAL),
        R(FETCHER(.threads = UINT_MAX), -EINVAL),
        R(FETCHER(.stack_size = FO_FETCH_STACK_MAX + 1), -EINVAL),
        R(FETCHER(.stack_size = SIZE_MAX), -EINVAL), R(FETCHER(.connect_timeout_ms = -1), -EINVAL),
        R(FETCHER(.connect_timeout_ms = FO_FETCH_MS_MAX + 1), -EINVAL),
        R(FETCHER(.timeout_ms = -1), -EINVAL), R(FETCHER(.timeout_ms = LONG_MAX), -EINVAL),
        R(FETCHER(.retries = FO_FETCH_RETRIES_MAX + 1), -EINVAL),
        R(FETCHER(.backoff_ms = -1), -EINVAL), R(FETCHER(.backoff_max_ms = LONG_MIN), -EINVAL),
        R(FETCHER(.rate = -1), -EINVAL), R(FETCHER(.rate = NAN), -EINVAL),
        R(FETCHER(.rate = INFINITY), -EINVAL), R(FETCHER(.rate = FO_FETCH_RATE_MAX * 2), -EINVAL),
        R(FETCHER(.max_body = SIZE_MAX), -EINVAL), R(FETCHER(.ca_file = ""), -EINVAL),
        R(FETCHER(.ca_path = ""), -EINVAL), R(FETCHER(.user_agent = ""), -EINVAL),
        R(FETCHER(.accept_type = ""), -EINVAL), R(FETCHER(.http_version = 2), -EINVAL),
        R(FETCHER(.max_host_connections = UINT_MAX), -EINVAL), R((fo_fetcher_destroy(NULL), 0), 0),
        R(fo_fetch_many(NULL, urls, NULL, 1, &r, NULL, NULL), -EINVAL),
        R(fo_fetch_many(f, NULL, NULL, 1, &r, NULL, NULL), -EINVAL),
        R(fo_fetch_many(f, urls, NULL, 1, NULL, NULL, NULL), -EINVAL),
        R(fo_fetch_many(f, NULL, NULL, 0, NULL, NULL, NULL), 0),
        R(fo_fetch_one(NULL, url, NULL, &r), -EINVAL), R(fo_fetch_one(f, url, NULL, NULL), -EINVAL),
        R((fo_fetch_result_free(NULL), 0), 0), R((fo_fetch_results_free(NULL, 3), 0), 0));
  ck_assert_ptr_eq(x, (fo_fetcher *)&x); /* untouched, as documented */
  /* URLs and ETags a fetch refuses before any connection: each result says why */
  static const struct {
    const char *url, *etag;
  } refused[] = {{NULL, NULL},
                 {"", NULL},
                 {"not a url", NULL},
                 {"file:///etc/passwd", NULL},
                 {"ftp://127.0.0.1/", NULL},
                 {"http://127.0.0.1:1/", ""},
                 {"http://127.0.0.1:1/", "\"a\"\r\nX-Injected: 1"}};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    ck_assert_int_eq(fo_fetch_one(f, refused[i].url, refused[i].etag, &r), -EINVAL);
    ck_assert_msg(r.err == -EINVAL && r.attempts <= 1 && r.body == NULL && r.message[0] != '\0',
                  "%zu: err %d attempts %u: %s", i, r.err, r.attempts, r.message);
    fo_fetch_result_free(&r);
  }
  fo_fetcher_destroy(f);
}
END_TEST

START_TEST(fetch_opts_explained) {
  static const struct {
    fo_fetch_opts o;
    why_row why;
  } rows[] = {
      {{.threads = 300}, {"threads", 0, FO_TPOOL_THREADS_MAX, 300}},
      {{.stack_size = FO_FETCH_STACK_MAX + 1},
       {"stack_size", 0, FO_FETCH_STACK_MAX, FO_FETCH_STACK_MAX + 1LL}},
      {{.connect_timeout_ms = -5}, {"connect_timeout_ms", 0, FO_FETCH_MS_MAX, -5}},
      {{.timeout_ms = FO_FETCH_MS_MAX + 1},
       {"timeout_ms", 0, FO_FETCH_MS_MAX, FO_FETCH_MS_MAX + 1}},
      {{.retries = 21}, {"retries", 0, FO_FETCH_RETRIES_MAX, 21}},
      {{.backoff_ms = -1}, {"backoff_ms", 0, FO_FETCH_MS_MAX, -1}},
      {{.backoff_max_ms = LONG_MIN}, {"backoff_max_ms", 0, FO_FETCH_MS_MAX, LONG_MIN}},
      {{.rate = -2.5}, {"rate", 0, (long long)FO_FETCH_RATE_MAX, -2}},
      {{.rate = FO_FETCH_RATE_MAX + 0.5}, {"rate", 0, (long long)FO_FETCH_RATE_MAX, 1000000}},
      {{.rate = NAN}, {"rate", 0, (long long)FO_FETCH_RATE_MAX, LLONG_MIN}},
      {{.max_body = SIZE_MAX / 4 + 1},
       {"max_body", 0, (long long)(SIZE_MAX / 4), (long long)(SIZE_MAX / 4 + 1)}},
      {{.ca_file = ""}, {"ca_file", 1, LLONG_MAX, 0}},
      {{.ca_path = ""}, {"ca_path", 1, LLONG_MAX, 0}},
      {{.user_agent = ""}, {"user_agent", 1, LLONG_MAX, 0}},
      {{.accept_type = ""}, {"accept_type", 1, LLONG_MAX, 0}},
      {{.http_version = 2}, {"http_version", 0, FO_FETCH_HTTP_1_1, 2}},
      {{.max_host_connections = FO_FETCH_HOST_CONNECTIONS_MAX + 1},
       {"max_host_connections", 0, FO_FETCH_HOST_CONNECTIONS_MAX,
        FO_FETCH_HOST_CONNECTIONS_MAX + 1}},
      /* several refused: the first in the struct's order is named */
      {{.retry_window_ms = -1, .http_version = 7},
       {"retry_window_ms", 0, FO_FETCH_MS_MAX, -1}},
      {{.threads = 300, .rate = NAN, .ca_file = ""}, {"threads", 0, FO_TPOOL_THREADS_MAX, 300}},
      {{.backoff_ms = -1, .rate = -1}, {"backoff_ms", 0, FO_FETCH_MS_MAX, -1}},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    fo_opt_error why = {NULL, 0, 0, 0};
    check_why(fo_fetch_opts_check(&rows[i].o, &why), &why, &rows[i].why);
    fo_fetcher *x = (fo_fetcher *)&x;
    ck_assert_int_eq(fo_fetcher_create(&x, &rows[i].o), -EINVAL);
    ck_assert_ptr_eq(x, (fo_fetcher *)&x);
  }
  fo_opt_error untouched = {"sentinel", 1, 2, 3};
  ck_assert_int_eq(fo_fetch_opts_check(NULL, &untouched), 0);
  ck_assert_int_eq(
      fo_fetch_opts_check(&(fo_fetch_opts){.threads = 2, .rate = 10, .ca_file = "x"}, &untouched),
      0);
  ck_assert_str_eq(untouched.field, "sentinel");
}
END_TEST

#endif

Suite *badargs_suite(void) {
  Suite *s = suite_create("badargs");
  TCase *tc = fo_tcase("every_function", 20);
  tcase_add_test(tc, core);
  tcase_add_test(tc, mq);
  tcase_add_test(tc, pipe_ends);
  tcase_add_test(tc, shm);
  tcase_add_test(tc, shmdict);
  tcase_add_test(tc, tpool);
  tcase_add_test(tc, tpool_opts_explained);
  tcase_add_test(tc, proc);
  tcase_add_test(tc, ppool);
  tcase_add_test(tc, json);
  tcase_add_test(tc, sat);
  suite_add_tcase(s, tc);
#ifdef FO_HAVE_CURL
  tc = fo_tcase("fetch", 20);
  inject_curl_fixture(tc);
  tcase_add_test(tc, fetch);
  tcase_add_test(tc, fetch_opts_explained);
  suite_add_tcase(s, tc);
#endif
  return s;
}
