/* GLib's GThreadPool as a peer: an exclusive pool, so it starts exactly `threads` threads up
 * front and keeps them, as fanout's pool does. g_thread_pool_free(pool, FALSE, TRUE) is GLib's
 * only way to wait for every pushed task, so it is the "wait" here (it also joins the threads,
 * a few microseconds next to a million tasks). */
#include "config.h"

#include "tpool_peers.h"

#ifdef BENCH_HAVE_GLIB
#include <glib.h>
#include <semaphore.h>
#include <stdlib.h>

static void empty_task(gpointer data, gpointer user) {
  (void)data;
  (void)user;
}

static double glib_throughput(int threads, long n) {
  GThreadPool *pool = g_thread_pool_new(empty_task, NULL, threads, TRUE, NULL);
  if (pool == NULL)
    return -1;
  double t0 = tpool_bench_now();
  for (long i = 0; i < n; i++)
    g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL); /* GLib refuses NULL data */
  g_thread_pool_free(pool, FALSE, TRUE);
  return (double)n / (tpool_bench_now() - t0);
}

typedef struct {
  double started;
  sem_t done;
} probe;

static void probe_task(gpointer data, gpointer user) {
  probe *p = user;
  (void)data;
  p->started = tpool_bench_now();
  sem_post(&p->done);
}

static int glib_latency(int threads, int n, double *median, double *p99) {
  probe pr;
  sem_init(&pr.done, 0, 0);
  GThreadPool *pool = g_thread_pool_new(probe_task, &pr, threads, TRUE, NULL);
  double *us = malloc((size_t)n * sizeof *us);
  if (pool == NULL || us == NULL) {
    free(us);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    tpool_bench_sleep_us(TPOOL_BENCH_IDLE_US);
    double t0 = tpool_bench_now();
    g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL);
    sem_wait(&pr.done);
    us[i] = (pr.started - t0) * 1e6;
  }
  g_thread_pool_free(pool, FALSE, TRUE);
  sem_destroy(&pr.done);
  tpool_bench_percentiles(us, n, median, p99);
  free(us);
  return 0;
}

const tpool_peer tpool_peer_glib = {"glib_gthreadpool", NULL, glib_throughput, glib_latency,
                                    1000000};
#else
const tpool_peer tpool_peer_glib = {
    "glib_gthreadpool", "glib-2.0 not found at configure time (libglib2.0-dev)", NULL, NULL, 0};
#endif
