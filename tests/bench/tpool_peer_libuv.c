/* libuv's uv_queue_work as a peer. libuv has one thread pool per process, sized once from
 * UV_THREADPOOL_SIZE when it is first used, so each measurement runs in a child process of its
 * own that sets the size first and reports through a pipe. Completion callbacks run on the
 * loop thread (the submitting one) in uv_run(), which is how libuv waits for work. */
#include "config.h"

#include "tpool_peers.h"

#ifdef BENCH_HAVE_LIBUV
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

static void empty_work(uv_work_t *req) {
  (void)req;
}

static void after_work(uv_work_t *req, int status) {
  (void)req;
  (void)status;
}

/* Start libuv's threads before the clock runs: they are created on first use. */
static void warm_up(uv_loop_t *loop) {
  uv_work_t req;
  uv_queue_work(loop, &req, empty_work, after_work);
  uv_run(loop, UV_RUN_DEFAULT);
}

static double child_throughput(long n) {
  uv_loop_t loop;
  uv_work_t *reqs = calloc((size_t)n, sizeof *reqs);
  if (reqs == NULL || uv_loop_init(&loop) != 0)
    return -1;
  warm_up(&loop);
  double t0 = tpool_bench_now();
  for (long i = 0; i < n; i++)
    uv_queue_work(&loop, &reqs[i], empty_work, after_work);
  uv_run(&loop, UV_RUN_DEFAULT);
  double rate = (double)n / (tpool_bench_now() - t0);
  uv_loop_close(&loop);
  free(reqs);
  return rate;
}

typedef struct {
  uv_work_t req;
  double started;
  sem_t done;
} probe;

static void probe_work(uv_work_t *req) {
  probe *p = (probe *)req;
  p->started = tpool_bench_now();
  sem_post(&p->done);
}

static int child_latency(int n, double out[2]) {
  uv_loop_t loop;
  probe pr;
  double *us = malloc((size_t)n * sizeof *us);
  if (us == NULL || uv_loop_init(&loop) != 0)
    return -1;
  sem_init(&pr.done, 0, 0);
  warm_up(&loop);
  for (int i = 0; i < n; i++) {
    tpool_bench_sleep_us(TPOOL_BENCH_IDLE_US);
    double t0 = tpool_bench_now();
    uv_queue_work(&loop, &pr.req, probe_work, after_work);
    sem_wait(&pr.done);
    us[i] = (pr.started - t0) * 1e6;
    uv_run(&loop, UV_RUN_DEFAULT); /* collect the completion, off the clock */
  }
  uv_loop_close(&loop);
  sem_destroy(&pr.done);
  tpool_bench_percentiles(us, n, &out[0], &out[1]);
  free(us);
  return 0;
}

/* Run one measurement in a child with the pool sized to `threads`; 0 or -1. */
static int in_child(int threads, long n, int latency, double out[2]) {
  int fd[2];
  if (pipe(fd) != 0)
    return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    char size[16];
    snprintf(size, sizeof size, "%d", threads);
    setenv("UV_THREADPOOL_SIZE", size, 1);
    double r[2] = {-1, -1};
    if (latency)
      child_latency((int)n, r);
    else
      r[0] = child_throughput(n);
    _exit(write(fd[1], r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
  }
  close(fd[1]);
  ssize_t got = read(fd[0], out, 2 * sizeof *out);
  close(fd[0]);
  int status;
  waitpid(pid, &status, 0);
  return got == (ssize_t)(2 * sizeof *out) && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                 out[0] >= 0
             ? 0
             : -1;
}

static double libuv_throughput(int threads, long n) {
  double r[2];
  return in_child(threads, n, 0, r) == 0 ? r[0] : -1;
}

static int libuv_latency(int threads, int n, double *median, double *p99) {
  double r[2];
  if (in_child(threads, n, 1, r) != 0)
    return -1;
  *median = r[0];
  *p99 = r[1];
  return 0;
}

const tpool_peer tpool_peer_libuv = {"libuv_queue_work", NULL, libuv_throughput, libuv_latency,
                                     1000000};
#else
const tpool_peer tpool_peer_libuv = {
    "libuv_queue_work", "libuv not found at configure time (libuv1-dev)", NULL, NULL, 0};
#endif
