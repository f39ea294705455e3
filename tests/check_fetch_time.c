/* Time limits and cancel against the local mirror's /blob route (tests/mirror/blob.h), which
 * can stall mid-body (stall=B, the connection left open) and send at a set rate (rate=R): the
 * stall limit ends a silent transfer on time and the retry resumes it; TCP keep-alive is on the
 * connection itself (read back from the socket); no whole-attempt limit by default, while a
 * caller's timeout_ms still cuts; the call's deadline and the retry window; fo_fetcher_cancel()
 * from another thread and from a signal handler, timed; a watch callback stopping a file
 * download that the next run resumes; and what fo_tpool_cancel() on a shared pool does to a
 * call. Upper bounds on time stretch with CK_TIMEOUT_MULTIPLIER (tp_scaled) for slow runs. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "fanout/tpool.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/nginx.h"
#include "helpers/procs.h"
#include "mirror/blob.h"
#include "suites.h"

_Static_assert(FO_FETCH_TIMEOUT_DEFAULT == 0,
               "the default whole-attempt limit must not cut a long download");

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

static long long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

typedef struct {
  mirror_proc m;
  char dir[64], out[128], part[160], tag[160], want[128];
} env;

static void write_blob(const char *path, long long size) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  for (long long i = 0; i < size; i++)
    fputc(mirror_blob_byte(i, "1"), f);
  ck_assert_int_eq(fclose(f), 0);
}

static void up(env *e, long long size) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
  int rc = mirror_start(&e->m, NULL);
  ck_assert_msg(rc == 0, "mirror: %s", fo_strerror(rc));
  snprintf(e->dir, sizeof e->dir, "/tmp/fo-time-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(e->dir));
  snprintf(e->out, sizeof e->out, "%s/image.bin", e->dir);
  snprintf(e->part, sizeof e->part, "%s/.image.bin.part", e->dir);
  snprintf(e->tag, sizeof e->tag, "%s/.image.bin.part.tag", e->dir);
  snprintf(e->want, sizeof e->want, "%s/want", e->dir);
  if (size > 0)
    write_blob(e->want, size);
}

static void down(env *e) {
  mirror_stop(&e->m);
  test_run("rm -rf %s", e->dir);
  fo_fetch_global_cleanup();
}

static void url_of(env *e, const char *query, char *url, size_t cap) {
  char path[256];
  snprintf(path, sizeof path, "/blob?%s", query);
  mirror_url(&e->m, path, url, cap);
}

static fo_fetcher *make(const fo_fetch_opts *o) {
  fo_fetcher *f = NULL;
  int rc = fo_fetcher_create(&f, o);
  ck_assert_msg(rc == 0, "create: %s", fo_strerror(rc));
  return f;
}

/* ------------------------------------------------------------------ options */

START_TEST(options_are_checked_and_zero_is_the_default) {
  fo_opt_error why;
  ck_assert_int_eq(fo_fetch_opts_check(&(fo_fetch_opts){.stall_time_ms = -1, .keepalive_s = -1},
                                       &why),
                   0);
  struct {
    fo_fetch_opts o;
    const char *field;
  } bad[] = {{{.stall_time_ms = -2}, "stall_time_ms"},
             {{.stall_time_ms = FO_FETCH_MS_MAX + 1}, "stall_time_ms"},
             {{.stall_speed = FO_FETCH_STALL_SPEED_MAX + 1}, "stall_speed"},
             {{.keepalive_s = -2}, "keepalive_s"},
             {{.keepalive_s = FO_FETCH_KEEPALIVE_MAX + 1}, "keepalive_s"},
             {{.deadline_ms = -1}, "deadline_ms"},
             {{.retry_window_ms = -1}, "retry_window_ms"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(fo_fetch_opts_check(&bad[i].o, &why), -EINVAL);
    ck_assert_str_eq(why.field, bad[i].field);
    fo_fetcher *f = (fo_fetcher *)&why;
    ck_assert_int_eq(fo_fetcher_create(&f, &bad[i].o), -EINVAL);
  }
  ck_assert_int_eq(fo_fetcher_cancel(NULL), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ keep-alive */

typedef struct {
  int port;
  int found, on, idle, intvl;
} ka_probe;

/* The watch runs on the worker during the transfer: the connection to the mirror is open, so
 * its socket options are read back from the socket itself. */
static int read_keepalive(unsigned long long bytes, unsigned long long total, void *arg) {
  (void)bytes;
  (void)total;
  ka_probe *p = arg;
  for (int fd = 3; fd < 1024 && !p->found; fd++) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
        getpeername(fd, (struct sockaddr *)&peer, &len) != 0 || peer.sin_family != AF_INET ||
        ntohs(peer.sin_port) != p->port)
      continue;
    socklen_t l = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &p->on, &l);
    l = sizeof(int);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &p->idle, &l);
    l = sizeof(int);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &p->intvl, &l);
    p->found = 1;
  }
  return 0;
}

START_TEST(keepalive_is_on_the_connection_by_default) {
  env e;
  up(&e, 0);
  char url[256];
  url_of(&e, "size=400000&rate=400000", url, sizeof url);
  long settings[] = {0, 17, -1};
  for (int c = 0; c < 3; c++) {
    fo_fetcher *f = make(&(fo_fetch_opts){.threads = 1, .keepalive_s = settings[c]});
    ka_probe p = {.port = e.m.port};
    fo_fetch_req req = {.url = url, .watch = read_keepalive, .watch_arg = &p};
    fo_fetch_result r;
    ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 0);
    fo_fetch_result_free(&r);
    fo_fetcher_destroy(f);
    ck_assert_msg(p.found, "case %d: no socket to the mirror seen", c);
    if (settings[c] < 0) {
      ck_assert_int_eq(p.on, 0);
    } else {
      int want = settings[c] ? (int)settings[c] : FO_FETCH_KEEPALIVE_DEFAULT;
      ck_assert_int_ne(p.on, 0);
      ck_assert_int_eq(p.idle, want);
      ck_assert_int_eq(p.intvl, want);
    }
  }
  down(&e);
}
END_TEST

/* ------------------------------------------------------------------ stall, attempt limit */

#define STALL_SIZE 600000
#define STALL_AT 100000

START_TEST(stall_ends_the_attempt_on_time_and_the_retry_resumes) {
  env e;
  up(&e, STALL_SIZE);
  char url[256];
  url_of(&e, "size=600000&stall=100000&hold=20000&n=1", url, sizeof url);
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 1, .stall_time_ms = 1000});
  fo_fetch_req req = {.url = url, .output = e.out, .flags = FO_FETCH_RESUME};
  fo_fetch_result r;
  /* no retry: the stalled attempt fails with -ETIMEDOUT a second into the silence, and the
   * bytes that came stay for the next run */
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 1);
  double took = now_s() - t0;
  ck_assert_int_eq(r.err, -ETIMEDOUT);
  ck_assert_msg(strstr(r.message, "stalled") != NULL, "%s", r.message);
  ck_assert_msg(took >= 0.9 && took < tp_scaled(2.6), "a 1 s stall limit took %.2f s", took);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  ck_assert_int_eq(file_size(e.part), STALL_AT);
  ck_assert_int_gt(file_size(e.tag), 2);
  /* the next run resumes from the partial file (the mirror stalls only the first request) */
  f = make(&(fo_fetch_opts){.threads = 1, .stall_time_ms = 1000});
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.resumed, STALL_AT);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want));
  /* in one call: a retry after the stall resumes */
  unlink(e.out);
  url_of(&e, "size=600000&stall=100000&hold=20000&n=1&tag=1&x=2", url, sizeof url);
  fo_fetcher_destroy(f);
  f = make(&(fo_fetch_opts){.threads = 1, .stall_time_ms = 800, .retries = 1, .backoff_ms = 5});
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.attempts, 2);
  ck_assert_uint_eq(r.resumed, STALL_AT);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want));
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

START_TEST(a_slow_body_is_not_a_stall_and_only_a_callers_timeout_cuts_it) {
  env e;
  up(&e, 0);
  char url[256];
  /* 300 kB at 100 kB/s: three seconds of steady body */
  url_of(&e, "size=300000&rate=100000", url, sizeof url);
  fo_fetch_req req = {.url = url};
  fo_fetch_result r;
  /* every default but a stall window shorter than the body: the transfer is slow, not stalled */
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 1, .stall_time_ms = 1000});
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.bytes, 300000);
  ck_assert_double_ge(now_s() - t0, 2.5);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  /* the same body at a speed limit above its rate: a stall */
  f = make(&(fo_fetch_opts){.threads = 1, .stall_time_ms = 1000, .stall_speed = 200000});
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 1);
  ck_assert_int_eq(r.err, -ETIMEDOUT);
  ck_assert_msg(strstr(r.message, "stalled") != NULL, "%s", r.message);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  /* a caller's timeout_ms still bounds the whole attempt */
  f = make(&(fo_fetch_opts){.threads = 1, .timeout_ms = 1000});
  t0 = now_s();
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 1);
  double took = now_s() - t0;
  ck_assert_int_eq(r.err, -ETIMEDOUT);
  ck_assert_msg(strstr(r.message, "stalled") == NULL, "%s", r.message);
  ck_assert_msg(took >= 0.9 && took < tp_scaled(1.8), "timeout_ms 1000 took %.2f s", took);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

/* ------------------------------------------------------------------ deadline, retry window */

START_TEST(deadline_ends_the_call_and_leaves_files_resumable) {
  env e;
  up(&e, 400000);
  char slow[256], other[256];
  url_of(&e, "size=400000&rate=100000&n=1", slow, sizeof slow);
  url_of(&e, "size=1000", other, sizeof other);
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 1, .deadline_ms = 1000});
  fo_fetch_req reqs[3] = {{.url = slow, .output = e.out, .flags = FO_FETCH_RESUME},
                          {.url = other},
                          {.url = other}};
  fo_fetch_result r[3];
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 3, r, NULL, NULL), 3);
  double took = now_s() - t0;
  ck_assert_msg(took >= 0.9 && took < tp_scaled(1.6), "a 1 s deadline took %.2f s", took);
  ck_assert_int_eq(r[0].err, -ETIMEDOUT);
  ck_assert_msg(strstr(r[0].message, "deadline") != NULL, "%s", r[0].message);
  for (int i = 1; i < 3; i++) {
    ck_assert_int_eq(r[i].err, -ETIMEDOUT);
    ck_assert_uint_eq(r[i].attempts, 0);
    ck_assert_msg(strstr(r[i].message, "before it started") != NULL, "%s", r[i].message);
  }
  fo_fetch_results_free(r, 3);
  long long kept = file_size(e.part);
  ck_assert_msg(kept > 50000 && kept < 400000, "partial file of %lld bytes", kept);
  ck_assert_int_gt(file_size(e.tag), 2);
  /* a later call on the same fetcher has its own deadline, and resumes */
  fo_fetcher_destroy(f);
  f = make(&(fo_fetch_opts){.threads = 1, .deadline_ms = 10000});
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 1, r, NULL, NULL), 0);
  ck_assert_msg(r[0].err == 0, "%s", r[0].message);
  ck_assert_uint_eq(r[0].resumed, (unsigned long long)kept);
  fo_fetch_result_free(&r[0]);
  ck_assert(test_files_equal(e.out, e.want));
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

START_TEST(deadline_and_retry_window_cut_backoff_short) {
  env e;
  up(&e, 0);
  char url[256];
  mirror_url(&e.m, "/v4/starlink?fault=503&ra=0", url, sizeof url);
  fo_fetch_result r;
  /* a backoff that would end past the deadline is not waited for */
  fo_fetcher *f = make(&(fo_fetch_opts){
      .threads = 1, .retries = 5, .backoff_ms = 3000, .backoff_max_ms = 3000, .deadline_ms = 1000});
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_one(f, url, NULL, &r), -ETIMEDOUT);
  ck_assert_msg(now_s() - t0 < tp_scaled(0.8), "waited %.2f s for a backoff past the deadline", now_s() - t0);
  ck_assert_uint_eq(r.attempts, 1);
  ck_assert_msg(strstr(r.message, "deadline") != NULL, "%s", r.message);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  /* the retry window: retries stop once it is spent; the item keeps its last error */
  f = make(&(fo_fetch_opts){.threads = 1, .retries = 20, .backoff_ms = 100, .backoff_max_ms = 100,
                            .retry_window_ms = 450});
  t0 = now_s();
  ck_assert_int_eq(fo_fetch_one(f, url, NULL, &r), FO_EHTTP);
  double took = now_s() - t0;
  ck_assert_int_eq(r.status, 503);
  ck_assert_msg(r.attempts >= 3 && r.attempts <= 10, "%u attempts", r.attempts);
  ck_assert_msg(took < tp_scaled(0.8), "a 450 ms retry window took %.2f s", took);
  ck_assert_msg(strstr(r.message, "retry window") != NULL, "%s", r.message);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

/* ------------------------------------------------------------------ cancel */

typedef struct {
  fo_fetcher *f;
  double delay, at;
} canceller;

static void *cancel_later(void *arg) {
  canceller *c = arg;
  sleep_s(c->delay);
  c->at = now_s();
  ck_assert_int_eq(fo_fetcher_cancel(c->f), 0);
  return NULL;
}

#define N_CANCEL 6

/* 2 workers on 6 slow bodies: 2 run, 4 wait; a cancel ends the running ones within a second and
 * the waiting ones at once; the next call runs normally. */
START_TEST(cancel_from_another_thread_within_a_second) {
  env e;
  up(&e, 0);
  char slow[256], quick[256];
  url_of(&e, "size=4000000&rate=100000", slow, sizeof slow);
  url_of(&e, "size=5000", quick, sizeof quick);
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 2});
  fo_fetch_req reqs[N_CANCEL];
  for (int i = 0; i < N_CANCEL; i++)
    reqs[i] = (fo_fetch_req){.url = slow};
  fo_fetch_result r[N_CANCEL];
  canceller c = {f, 0.7, 0};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, &c), 0);
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N_CANCEL, r, NULL, NULL), N_CANCEL);
  double latency = now_s() - c.at;
  pthread_join(t, NULL);
  ck_assert_msg(latency < tp_scaled(1.1), "the call returned %.2f s after the cancel", latency);
  int running = 0;
  for (int i = 0; i < N_CANCEL; i++) {
    ck_assert_int_eq(r[i].err, -ECANCELED);
    if (r[i].attempts > 0) {
      running++;
      ck_assert_uint_gt(r[i].bytes, 0);
      ck_assert_msg(strstr(r[i].message, "cancelled") != NULL, "%s", r[i].message);
    } else {
      ck_assert_msg(strstr(r[i].message, "before it started") != NULL, "%s", r[i].message);
    }
  }
  ck_assert_int_eq(running, 2);
  fo_fetch_results_free(r, N_CANCEL);
  /* a cancel belongs to the calls running then: the next one completes */
  ck_assert_int_eq(fo_fetch_one(f, quick, NULL, r), 0);
  ck_assert_uint_eq(r[0].body_len, 5000);
  fo_fetch_result_free(&r[0]);
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

static fo_fetcher *signal_target; /* the handler's only way to the fetcher */

static void on_usr1(int sig) {
  (void)sig;
  fo_fetcher_cancel(signal_target);
}

static void *signal_later(void *arg) {
  canceller *c = arg;
  sleep_s(c->delay);
  c->at = now_s();
  kill(getpid(), SIGUSR1);
  return NULL;
}

START_TEST(cancel_from_a_signal_handler) {
  env e;
  up(&e, 0);
  char slow[256];
  url_of(&e, "size=4000000&rate=100000", slow, sizeof slow);
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 2});
  signal_target = f;
  struct sigaction sa = {0}, old;
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
  fo_fetch_req reqs[3] = {{.url = slow}, {.url = slow}, {.url = slow}};
  fo_fetch_result r[3];
  canceller c = {f, 0.6, 0};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, signal_later, &c), 0);
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 3, r, NULL, NULL), 3);
  double latency = now_s() - c.at;
  pthread_join(t, NULL);
  sigaction(SIGUSR1, &old, NULL);
  ck_assert_msg(latency < tp_scaled(1.1), "the call returned %.2f s after the signal", latency);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(r[i].err, -ECANCELED);
  fo_fetch_results_free(r, 3);
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

/* ------------------------------------------------------------------ the watch callback */

typedef struct {
  unsigned long long stop_at; /* stop once this many bytes arrived; 0 never */
  double stop_after;          /* or once this many seconds passed since the first call */
  double first;
  unsigned calls;
} watcher;

static int watch_fn(unsigned long long bytes, unsigned long long total, void *arg) {
  (void)total;
  watcher *w = arg;
  double now = now_s();
  if (w->calls++ == 0)
    w->first = now;
  if (w->stop_at > 0 && bytes >= w->stop_at)
    return 1;
  return w->stop_after > 0 && now - w->first >= w->stop_after;
}

START_TEST(watch_stops_a_file_download_that_the_next_run_resumes) {
  env e;
  up(&e, 1000000);
  char url[256];
  url_of(&e, "size=1000000&rate=1000000", url, sizeof url);
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 1, .retries = 3});
  watcher w = {.stop_at = 200000};
  fo_fetch_req req = {.url = url, .output = e.out, .flags = FO_FETCH_RESUME, .watch = watch_fn,
                      .watch_arg = &w};
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 1);
  ck_assert_int_eq(r.err, -ECANCELED);
  ck_assert_uint_eq(r.attempts, 1); /* a stop is not retried */
  ck_assert_msg(strstr(r.message, "watch") != NULL, "%s", r.message);
  fo_fetch_result_free(&r);
  long long kept = file_size(e.part);
  ck_assert_msg(kept >= 200000 && kept < 1000000, "partial file of %lld bytes", kept);
  ck_assert_int_gt(file_size(e.tag), 2);
  ck_assert_int_eq(access(e.out, F_OK), -1);
  /* the next run, without a watch, resumes */
  req.watch = NULL;
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.resumed, (unsigned long long)kept);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want));
  /* without resume the temporary goes: nothing is left beside the output */
  unlink(e.out);
  w = (watcher){.stop_at = 200000};
  req.watch = watch_fn;
  req.flags = 0;
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 1);
  ck_assert_int_eq(r.err, -ECANCELED);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(test_dir_entries(e.dir), 1); /* want */
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

/* The watch is called while nothing arrives (a stall): a caller's own policy can end it. */
START_TEST(watch_is_called_while_nothing_arrives) {
  env e;
  up(&e, 0);
  char url[256];
  url_of(&e, "size=100000&stall=1000&hold=10000", url, sizeof url);
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 1});
  watcher w = {.stop_after = 2.0};
  fo_fetch_req req = {.url = url, .watch = watch_fn, .watch_arg = &w};
  fo_fetch_result r;
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 1);
  double took = now_s() - t0;
  ck_assert_int_eq(r.err, -ECANCELED);
  ck_assert_msg(took >= 1.9 && took < tp_scaled(3.2), "took %.2f s", took);
  ck_assert_uint_ge(w.calls, 3);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

/* ------------------------------------------------------------------ fo_tpool_cancel */

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int started, release;
} gate;

static void blocker(void *arg) {
  gate *g = arg;
  pthread_mutex_lock(&g->mu);
  g->started = 1;
  pthread_cond_broadcast(&g->cv);
  while (!g->release)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

typedef struct {
  fo_fetcher *f;
  const char *url;
  fo_fetch_result r[3];
  int rc;
} call;

static void *run_call(void *arg) {
  call *c = arg;
  const char *urls[3] = {c->url, c->url, c->url};
  c->rc = fo_fetch_many(c->f, urls, NULL, 3, c->r, NULL, NULL);
  return NULL;
}

/* A pool of `threads`, all but one held by blockers: a fetcher call of 2 workers queues what
 * cannot start, fo_tpool_cancel() drops it, and the count is those worker tasks. */
static void tpool_case(env *e, unsigned threads, int want_dropped, int want_err) {
  fo_tpool *pool = NULL;
  ck_assert_int_eq(fo_tpool_create(&pool, &(fo_tpool_opts){.threads = threads}), 0);
  gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  ck_assert_int_eq(fo_tpool_submit(pool, blocker, &g), 0);
  pthread_mutex_lock(&g.mu);
  while (!g.started)
    pthread_cond_wait(&g.cv, &g.mu);
  pthread_mutex_unlock(&g.mu);
  char url[256];
  url_of(e, "size=300000&rate=1000000", url, sizeof url);
  call c = {.f = make(&(fo_fetch_opts){.threads = 2, .pool = pool}), .url = url};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, run_call, &c), 0);
  sleep_s(0.3); /* the call has queued its workers */
  ck_assert_int_eq(fo_tpool_cancel(pool), want_dropped);
  pthread_mutex_lock(&g.mu);
  g.release = 1;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  pthread_join(t, NULL);
  ck_assert_int_eq(c.rc, want_err ? 3 : 0);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(c.r[i].err, want_err);
    if (want_err)
      ck_assert_msg(strstr(c.r[i].message, "fo_tpool_cancel") != NULL, "%s", c.r[i].message);
    else
      ck_assert_uint_eq(c.r[i].body_len, 300000);
  }
  fo_fetch_results_free(c.r, 3);
  fo_fetcher_destroy(c.f);
  ck_assert_int_eq(fo_tpool_destroy(pool), 0);
}

START_TEST(tpool_cancel_counts_worker_tasks_of_a_call) {
  env e;
  up(&e, 0);
  /* one thread, held: both workers queued and dropped; the items end with -ECANCELED */
  tpool_case(&e, 1, 2, -ECANCELED);
  /* two threads, one held: one worker runs every item, the other is dropped */
  tpool_case(&e, 2, 1, 0);
  down(&e);
}
END_TEST

Suite *fetch_time_suite(void) {
  Suite *s = suite_create("fetch_time");
  TCase *tc = fo_tcase("limits", 60);
  tcase_add_test(tc, options_are_checked_and_zero_is_the_default);
  tcase_add_test(tc, keepalive_is_on_the_connection_by_default);
  tcase_add_test(tc, stall_ends_the_attempt_on_time_and_the_retry_resumes);
  tcase_add_test(tc, a_slow_body_is_not_a_stall_and_only_a_callers_timeout_cuts_it);
  tcase_add_test(tc, deadline_ends_the_call_and_leaves_files_resumable);
  tcase_add_test(tc, deadline_and_retry_window_cut_backoff_short);
  suite_add_tcase(s, tc);
  tc = fo_tcase("cancel", 60);
  tcase_add_test(tc, cancel_from_another_thread_within_a_second);
  tcase_add_test(tc, cancel_from_a_signal_handler);
  tcase_add_test(tc, watch_stops_a_file_download_that_the_next_run_resumes);
  tcase_add_test(tc, watch_is_called_while_nothing_arrives);
  tcase_add_test(tc, tpool_cancel_counts_worker_tasks_of_a_call);
  suite_add_tcase(s, tc);
  return s;
}
