/* The calls that do not wait (fo_fetch_submit and the job calls) against the local mirror,
 * whose ?delay=MS holds an answer back: submit returns before the answers, the three waits
 * (FO_FOREVER, 0, a bound), completions handed over through the descriptor in a poll() loop
 * exactly once each, cancel of one item and of a whole job while another job on the same
 * fetcher goes on, a job freed while it runs, calls from a task of the fetcher's pool, bad
 * arguments, and nothing left behind (memory, descriptors). Upper bounds on time
 * stretch with CK_TIMEOUT_MULTIPLIER (tp_scaled). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "fanout/tpool.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "suites.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

static fo_fetcher *fetcher(unsigned threads) {
  fo_fetcher *f = NULL;
  int rc = fo_fetcher_create(&f, &(fo_fetch_opts){.threads = threads});
  ck_assert_msg(rc == 0, "fo_fetcher_create: %s", fo_strerror(rc));
  return f;
}

typedef struct {
  mirror_proc m;
  char url[16][160];
  fo_fetch_req req[16];
} env;

/* The mirror and n requests for /latest/starlink held back delay_ms[i] (0: none). */
static void env_start(env *e, size_t n, const long *delay_ms) {
  ck_assert_int_eq(mirror_start(&e->m, (const char *const[]){"--docs", "3", NULL}), 0);
  memset(e->req, 0, sizeof e->req);
  for (size_t i = 0; i < n; i++) {
    char path[64];
    snprintf(path, sizeof path, "/latest/starlink?delay=%ld&i=%zu", delay_ms ? delay_ms[i] : 0L,
             i);
    mirror_url(&e->m, path, e->url[i], sizeof e->url[i]);
    e->req[i].url = e->url[i];
  }
}

/* Whether fd is readable now. */
static int readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

/* ------------------------------------------------------------------ waiting */

START_TEST(submit_returns_at_once_and_the_three_waits) {
  env e;
  env_start(&e, 4, (const long[]){600, 600, 600, 600});
  fo_fetcher *f = fetcher(4);
  fo_fetch_result r[4];
  fo_fetch_job *job = NULL;
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_submit(f, e.req, 4, r, NULL, NULL, &job), 0);
  double took = now_s() - t0;
  ck_assert_ptr_nonnull(job);
  ck_assert_msg(took < tp_scaled(0.3), "submit took %.3f s: it waited for the answers", took);
  ck_assert_int_eq(fo_fetch_job_wait(job, 0), -EAGAIN);
  t0 = now_s();
  ck_assert_int_eq(fo_fetch_job_wait(job, 100), -ETIMEDOUT);
  took = now_s() - t0;
  ck_assert_msg(took >= 0.09 && took < tp_scaled(0.4), "a 100 ms wait took %.3f s", took);
  ck_assert_int_eq(fo_fetch_job_wait(job, FO_FOREVER), 0);
  took = now_s() - t0;
  ck_assert_msg(took >= 0.4, "the wait returned after %.3f s, before the answers", took);
  for (int i = 0; i < 4; i++)
    ck_assert_msg(r[i].err == 0 && r[i].status == 200 && r[i].body_len > 0, "%d: %s", i,
                  r[i].message);
  /* repeatable, and a bounded or zero wait on a finished job says so at once */
  ck_assert_int_eq(fo_fetch_job_wait(job, 0), 0);
  ck_assert_int_eq(fo_fetch_job_wait(job, 5000), 0);
  ck_assert_int_eq(fo_fetch_job_free(job), 0);
  fo_fetch_results_free(r, 4);
  fo_fetcher_destroy(f);
  mirror_stop(&e.m);
}
END_TEST

START_TEST(wait_counts_failed_items) {
  env e;
  env_start(&e, 3, NULL);
  mirror_url(&e.m, "/no/such/route", e.url[1], sizeof e.url[1]);
  fo_fetcher *f = fetcher(2);
  fo_fetch_result r[3];
  fo_fetch_job *job;
  ck_assert_int_eq(fo_fetch_submit(f, e.req, 3, r, NULL, NULL, &job), 0);
  ck_assert_int_eq(fo_fetch_job_wait(job, FO_FOREVER), 1);
  ck_assert_int_eq(r[1].err, FO_EHTTP);
  ck_assert_int_eq(r[0].err, 0);
  ck_assert_int_eq(r[2].err, 0);
  ck_assert_int_eq(fo_fetch_job_free(job), 0);
  fo_fetch_results_free(r, 3);
  fo_fetcher_destroy(f);
  mirror_stop(&e.m);
}
END_TEST

/* ------------------------------------------------------------------ the descriptor */

typedef struct {
  size_t calls[16];
} seen;

static void on_done(size_t index, const fo_fetch_result *r, void *arg) {
  seen *s = arg;
  (void)r;
  __atomic_add_fetch(&s->calls[index], 1, __ATOMIC_RELAXED);
}

START_TEST(a_poll_loop_gets_every_completion_once_on_its_thread) {
  enum { N = 12 };
  env e;
  long delay[N];
  for (int i = 0; i < N; i++)
    delay[i] = 100 + 60 * (i % 6); /* completions spread over about half a second */
  env_start(&e, N, delay);
  fo_fetcher *f = fetcher(3);
  fo_fetch_result r[N];
  fo_fetch_job *job;
  seen s = {{0}};
  ck_assert_int_eq(fo_fetch_submit(f, e.req, N, r, on_done, &s, &job), 0);
  int fd = fo_fetch_job_fd(job);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fo_fetch_job_fd(job), fd); /* the same one each time */
  ck_assert(!readable(fd));                    /* nothing has finished yet */
  size_t taken[N] = {0}, got = 0;
  int wakeups = 0;
  double end = now_s() + tp_scaled(10);
  while (got < N && now_s() < end) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int pr = poll(&p, 1, 1000);
    ck_assert_int_ge(pr, 0);
    if (pr == 0)
      continue;
    wakeups++;
    size_t idx[4];
    size_t k = fo_fetch_job_take(job, idx, 4); /* a small array: several takes a wake-up */
    ck_assert_msg(k > 0, "the descriptor was readable with nothing to take");
    for (size_t j = 0; j < k; j++) {
      ck_assert_uint_lt(idx[j], N);
      taken[idx[j]]++;
      /* handed over: the result is final and the done callback has run */
      ck_assert_int_eq(r[idx[j]].err, 0);
      ck_assert_uint_eq(__atomic_load_n(&s.calls[idx[j]], __ATOMIC_RELAXED), 1);
    }
    got += k;
    /* readable exactly while completions wait */
    size_t more[N];
    size_t m = fo_fetch_job_take(job, more, 0);
    ck_assert_uint_eq(m, 0);
  }
  ck_assert_uint_eq(got, N);
  for (int i = 0; i < N; i++)
    ck_assert_msg(taken[i] == 1, "index %d handed over %zu times", i, taken[i]);
  ck_assert(!readable(fd));
  size_t idx[2];
  ck_assert_uint_eq(fo_fetch_job_take(job, idx, 2), 0);
  ck_assert_int_gt(wakeups, 1); /* completions came over time, not all at the end */
  ck_assert_int_eq(fo_fetch_job_wait(job, 0), 0);
  ck_assert_int_eq(fo_fetch_job_free(job), 0);
  fo_fetch_results_free(r, N);
  fo_fetcher_destroy(f);
  mirror_stop(&e.m);
}
END_TEST

START_TEST(a_descriptor_asked_for_late_is_readable_for_what_already_finished) {
  env e;
  env_start(&e, 2, NULL);
  fo_fetcher *f = fetcher(2);
  fo_fetch_result r[2];
  fo_fetch_job *job;
  ck_assert_int_eq(fo_fetch_submit(f, e.req, 2, r, NULL, NULL, &job), 0);
  ck_assert_int_eq(fo_fetch_job_wait(job, FO_FOREVER), 0);
  int fd = fo_fetch_job_fd(job);
  ck_assert_int_ge(fd, 0);
  ck_assert(readable(fd));
  size_t idx[1];
  ck_assert_uint_eq(fo_fetch_job_take(job, idx, 1), 1);
  ck_assert(readable(fd)); /* one more waits */
  ck_assert_uint_eq(fo_fetch_job_take(job, idx, 1), 1);
  ck_assert(!readable(fd));
  ck_assert_int_eq(fo_fetch_job_free(job), 0);
  fo_fetch_results_free(r, 2);
  fo_fetcher_destroy(f);
  mirror_stop(&e.m);
}
END_TEST

/* ------------------------------------------------------------------ cancel */

START_TEST(cancel_one_item_and_the_others_go_on) {
  env e;
  /* item 0 waits 3 s at the server; items 1-3 answer after 400 ms */
  env_start(&e, 4, (const long[]){3000, 400, 400, 400});
  fo_fetcher *f = fetcher(4);
  fo_fetch_result r[4];
  fo_fetch_job *job;
  ck_assert_int_eq(fo_fetch_submit(f, e.req, 4, r, NULL, NULL, &job), 0);
  usleep(200 * 1000);
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_job_cancel(job, 0), 0);
  ck_assert_int_eq(fo_fetch_job_cancel(job, 0), 0); /* twice does nothing more */
  ck_assert_int_eq(fo_fetch_job_wait(job, FO_FOREVER), 1);
  double took = now_s() - t0;
  /* libcurl calls the progress callback at least once a second */
  ck_assert_msg(took < tp_scaled(1.6), "the cancelled item ended %.3f s after the cancel", took);
  ck_assert_int_eq(r[0].err, -ECANCELED);
  ck_assert_msg(strstr(r[0].message, "fo_fetch_job_cancel") != NULL, "%s", r[0].message);
  for (int i = 1; i < 4; i++)
    ck_assert_msg(r[i].err == 0 && r[i].status == 200, "%d: %s", i, r[i].message);
  ck_assert_int_eq(fo_fetch_job_free(job), 0);
  fo_fetch_results_free(r, 4);
  fo_fetcher_destroy(f);
  mirror_stop(&e.m);
}
END_TEST

START_TEST(cancel_a_job_leaves_another_job_alone) {
  enum { N = 8 };
  env e;
  long delay[N];
  for (int i = 0; i < N; i++)
    delay[i] = i < 6 ? 2000 : 800; /* 0-5: job a (cancelled); 6-7: job b */
  env_start(&e, N, delay);
  fo_fetcher *f = fetcher(4);
  fo_fetch_result ra[6], rb[2];
  fo_fetch_job *a, *b;
  ck_assert_int_eq(fo_fetch_submit(f, e.req, 6, ra, NULL, NULL, &a), 0);
  ck_assert_int_eq(fo_fetch_submit(f, e.req + 6, 2, rb, NULL, NULL, &b), 0);
  usleep(200 * 1000);
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_job_cancel(a, FO_FETCH_JOB_ALL), 0);
  ck_assert_int_eq(fo_fetch_job_wait(a, FO_FOREVER), 6);
  double took = now_s() - t0;
  ck_assert_msg(took < tp_scaled(1.6), "the job ended %.3f s after its cancel", took);
  int before_start = 0;
  for (int i = 0; i < 6; i++) {
    ck_assert_msg(ra[i].err == -ECANCELED, "%d: %s", i, ra[i].message);
    before_start += strstr(ra[i].message, "before it started") != NULL;
  }
  /* 4 workers shared by two jobs: some of a's items never started */
  ck_assert_int_gt(before_start, 0);
  ck_assert_int_eq(fo_fetch_job_wait(b, FO_FOREVER), 0);
  for (int i = 0; i < 2; i++)
    ck_assert_msg(rb[i].err == 0 && rb[i].status == 200, "b %d: %s", i, rb[i].message);
  ck_assert_int_eq(fo_fetch_job_free(a), 0);
  ck_assert_int_eq(fo_fetch_job_free(b), 0);
  fo_fetch_results_free(ra, 6);
  fo_fetch_results_free(rb, 2);
  fo_fetcher_destroy(f);
  mirror_stop(&e.m);
}
END_TEST

/* ------------------------------------------------------------------ the end of a job */

START_TEST(free_while_running_waits_and_leaves_nothing) {
  env e;
  env_start(&e, 3, (const long[]){300, 300, 300});
  fo_fetcher *f = fetcher(3);
  long mem = 0;
  int fds = 0;
  for (int round = 0; round < 4; round++) {
    if (round == 1) {
      /* after a first job the fetcher holds its handles and their connections */
      mem = ta_outstanding();
      fds = open_fd_count();
    }
    fo_fetch_result r[3];
    fo_fetch_job *job;
    ck_assert_int_eq(fo_fetch_submit(f, e.req, 3, r, NULL, NULL, &job), 0);
    ck_assert_int_ge(fo_fetch_job_fd(job), 0);
    if (round == 2)
      ck_assert_int_eq(fo_fetch_job_cancel(job, FO_FETCH_JOB_ALL), 0);
    double t0 = now_s();
    ck_assert_int_eq(fo_fetch_job_free(job), 0); /* never taken, never waited for */
    double took = now_s() - t0;
    if (round != 2) {
      /* free waited for the items: their results are final and the caller's */
      ck_assert_msg(took >= 0.2, "free returned after %.3f s", took);
      for (int i = 0; i < 3; i++)
        ck_assert_msg(r[i].err == 0, "%d: %s", i, r[i].message);
    }
    fo_fetch_results_free(r, 3);
  }
  /* the jobs left nothing behind them (a cancelled transfer closes its connection: the next
   * job opened another in its place) */
  ck_assert_int_eq(open_fd_count(), fds);
  ck_assert_int_eq(ta_outstanding(), mem);
  fo_fetcher_destroy(f);
  mirror_stop(&e.m);
}
END_TEST

typedef struct {
  fo_fetcher *f;
  const fo_fetch_req *req;
  int submit_rc, wait_forever_rc, wait_bounded_rc, free_rc;
} task_arg;

static void from_task(void *arg) {
  task_arg *t = arg;
  fo_fetch_result r[1];
  fo_fetch_job *job = NULL;
  t->submit_rc = fo_fetch_submit(t->f, t->req, 1, r, NULL, NULL, &job);
  if (t->submit_rc != 0)
    return;
  /* waiting for ever on the pool from the pool would wait for itself */
  t->wait_forever_rc = fo_fetch_job_wait(job, FO_FOREVER);
  t->wait_bounded_rc = fo_fetch_job_wait(job, 5000);
  t->free_rc = fo_fetch_job_free(job);
  fo_fetch_results_free(r, 1);
}

START_TEST(calls_from_a_task_of_the_fetchers_pool) {
  env e;
  env_start(&e, 1, NULL);
  fo_tpool *pool;
  ck_assert_int_eq(fo_tpool_create(&pool, &(fo_tpool_opts){.threads = 3}), 0);
  fo_fetcher *f = NULL;
  ck_assert_int_eq(fo_fetcher_create(&f, &(fo_fetch_opts){.threads = 2, .pool = pool}), 0);
  task_arg t = {f, e.req, 1, 1, 1, 1};
  ck_assert_int_eq(fo_tpool_submit(pool, from_task, &t), 0);
  ck_assert_int_eq(fo_tpool_wait(pool), 0);
  ck_assert_int_eq(t.submit_rc, 0);
  ck_assert_int_eq(t.wait_forever_rc, FO_ETASK);
  ck_assert_int_eq(t.wait_bounded_rc, 0); /* another thread of the pool ran the item */
  ck_assert_int_eq(t.free_rc, 0);
  fo_fetcher_destroy(f);
  ck_assert_int_eq(fo_tpool_destroy(pool), 0);
  mirror_stop(&e.m);
}
END_TEST

START_TEST(arguments_and_an_empty_job) {
  fo_fetcher *f = fetcher(1);
  fo_fetch_result r[1];
  fo_fetch_req req = {.url = "http://127.0.0.1:9/"};
  fo_fetch_job *job = (fo_fetch_job *)&job;
  ck_assert_int_eq(fo_fetch_submit(NULL, &req, 1, r, NULL, NULL, &job), -EINVAL);
  ck_assert_int_eq(fo_fetch_submit(f, &req, 1, r, NULL, NULL, NULL), -EINVAL);
  ck_assert_int_eq(fo_fetch_submit(f, NULL, 1, r, NULL, NULL, &job), -EINVAL);
  ck_assert_int_eq(fo_fetch_submit(f, &req, 1, NULL, NULL, NULL, &job), -EINVAL);
  ck_assert_int_eq(fo_fetch_job_wait(NULL, 0), -EINVAL);
  ck_assert_int_eq(fo_fetch_job_cancel(NULL, 0), -EINVAL);
  ck_assert_int_eq(fo_fetch_job_fd(NULL), -EINVAL);
  ck_assert_uint_eq(fo_fetch_job_take(NULL, (size_t[1]){0}, 1), 0);
  ck_assert_int_eq(fo_fetch_job_free(NULL), 0);
  /* n == 0: a job with nothing to do is done at once */
  ck_assert_int_eq(fo_fetch_submit(f, NULL, 0, NULL, NULL, NULL, &job), 0);
  ck_assert_int_eq(fo_fetch_job_wait(job, 0), 0);
  ck_assert_int_eq(fo_fetch_job_wait(job, -2), -EINVAL);
  ck_assert_int_eq(fo_fetch_job_cancel(job, 0), -EINVAL); /* no item 0 */
  ck_assert_int_eq(fo_fetch_job_cancel(job, FO_FETCH_JOB_ALL), 0);
  int fd = fo_fetch_job_fd(job);
  ck_assert_int_ge(fd, 0);
  ck_assert(!readable(fd));
  ck_assert_uint_eq(fo_fetch_job_take(job, (size_t[1]){0}, 1), 0);
  ck_assert_int_eq(fo_fetch_job_free(job), 0);
  fo_fetcher_destroy(f);
}
END_TEST

START_TEST(submit_out_of_memory_starts_nothing) {
  fo_fetcher *f = fetcher(1);
  fo_fetch_req req[2] = {{.url = "http://127.0.0.1:9/a"}, {.url = "http://127.0.0.1:9/b"}};
  fo_fetch_result r[2];
  long mem = ta_outstanding();
  int failed = 0;
  for (long n = 1; n < 50; n++) {
    fo_fetch_job *job = (fo_fetch_job *)&job;
    ta_fail_at(n, 0);
    int rc = fo_fetch_submit(f, req, 2, r, NULL, NULL, &job);
    ta_fail_at(0, 0);
    if (rc == 0) {
      fo_fetch_job_cancel(job, FO_FETCH_JOB_ALL);
      ck_assert_int_eq(fo_fetch_job_free(job), 0);
      fo_fetch_results_free(r, 2);
      break;
    }
    failed++;
    ck_assert_int_eq(rc, -ENOMEM);
    ck_assert_ptr_null(job);
    for (int i = 0; i < 2; i++)
      ck_assert_msg(r[i].err == -ENOMEM && r[i].message[0] != '\0', "%d: %d %s", i, r[i].err,
                    r[i].message);
    fo_fetch_results_free(r, 2);
    ck_assert_int_eq(ta_outstanding(), mem);
  }
  ck_assert_int_gt(failed, 0);
  fo_fetcher_destroy(f);
}
END_TEST

Suite *fetch_job_suite(void) {
  Suite *s = suite_create("fetch_job");
  TCase *tc = fo_tcase("job", 60);
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
  tcase_add_test(tc, submit_returns_at_once_and_the_three_waits);
  tcase_add_test(tc, wait_counts_failed_items);
  tcase_add_test(tc, a_poll_loop_gets_every_completion_once_on_its_thread);
  tcase_add_test(tc, a_descriptor_asked_for_late_is_readable_for_what_already_finished);
  tcase_add_test(tc, cancel_one_item_and_the_others_go_on);
  tcase_add_test(tc, cancel_a_job_leaves_another_job_alone);
  tcase_add_test(tc, free_while_running_waits_and_leaves_nothing);
  tcase_add_test(tc, calls_from_a_task_of_the_fetchers_pool);
  tcase_add_test(tc, arguments_and_an_empty_job);
  tcase_add_test(tc, submit_out_of_memory_starts_nothing);
  suite_add_tcase(s, tc);
  return s;
}
