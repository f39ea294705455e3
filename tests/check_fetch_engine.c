/* The engine: many transfers on one worker through a libcurl multi handle, against the local
 * mirror. One thread with 64 in flight takes about one latency for 64 URLs; one item's backoff
 * does not hold up the others of its worker; the request rate and the fetcher's byte rate hold
 * with many transfers on one worker; receive buffers shrink when many share a worker; one item
 * cancelled, the others go on; connections outlive a call; many calls leave no descriptor or
 * memory behind. Loopback only, every wait bounded. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "fetch/fetch_internal.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "suites.h"

/* ------------------------------------------------------------------ helpers */

static void start(mirror_proc *m, const char *const *args) {
  int rc = mirror_start(m, args);
  ck_assert_msg(rc == 0, "could not start the mirror %s: %s", mirror_bin(), fo_strerror(rc));
}

static char **doc_urls(const mirror_proc *m, size_t n, size_t ndocs, const char *query) {
  char **urls = mirror_doc_urls(m, n, ndocs, query);
  ck_assert_msg(urls != NULL, "the mirror lists fewer than %zu documents", ndocs);
  return urls;
}

static fo_fetcher *fetcher(const fo_fetch_opts *o) {
  fo_fetcher *f = NULL;
  int rc = fo_fetcher_create(&f, o);
  ck_assert_msg(rc == 0, "fo_fetcher_create: %s", fo_strerror(rc));
  return f;
}

static double now_s(void) {
  return (double)fo__now_ns() * 1e-9;
}

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

static void ck_all_ok(const fo_fetch_result *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(r[i].err == 0 && r[i].status == 200, "%zu: %d %s", i, r[i].err, r[i].message);
}

/* ------------------------------------------------------------------ many in flight */

START_TEST(one_thread_with_64_in_flight_takes_about_one_latency) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "64", "--latency-ms", "300", NULL});
  enum { N = 64 };
  char **urls = doc_urls(&m, N, N, NULL);
  /* one request alone, on a fetcher of its own: the latency as this machine serves it */
  fo_fetcher *one = fetcher(&(fo_fetch_opts){.threads = 1});
  fo_fetch_result r1;
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_one(one, urls[0], NULL, &r1), 0);
  double latency = now_s() - t0;
  fo_fetch_result_free(&r1);
  fo_fetcher_destroy(one);
  ck_assert_msg(latency >= 0.29, "one request took %.3f s at 300 ms latency", latency);

  ck_assert_int_eq(mirror_reset(&m), 0);
  fo_fetcher *f = fetcher(&(fo_fetch_opts){.threads = 1, .max_inflight = N});
  fo_fetch_result r[N];
  t0 = now_s();
  ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, N, r, NULL, NULL), 0);
  double took = now_s() - t0;
  ck_all_ok(r, N);
  /* one after another would be 64 latencies; together they are one, plus the connections and
   * the scheduling of 64 transfers: four latencies is far from either */
  ck_assert_msg(took < 4 * latency, "64 requests on one thread took %.2f s, one takes %.3f s",
                took, latency);
  long most = mirror_stat(&m, "max_active", 0);
  ck_assert_msg(most >= N / 2, "the server saw at most %ld requests at once", most);
  fo_fetch_results_free(r, N);
  fo_fetcher_destroy(f);
  mirror_free_urls(urls, N);
  mirror_stop(&m);
}
END_TEST

typedef struct {
  double t0;
  double at[16];
} done_times;

static void note_done(size_t index, const fo_fetch_result *r, void *arg) {
  (void)r;
  done_times *d = arg;
  d->at[index] = now_s() - d->t0;
}

START_TEST(a_backoff_does_not_hold_up_the_other_items_of_its_worker) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "8", NULL});
  enum { N = 12 };
  char **urls = doc_urls(&m, N, 8, NULL);
  /* item 0 fails once with a 500, then waits its backoff (1 to 2 s) before the retry */
  char path[128];
  char(*ids)[25] = malloc(sizeof *ids);
  ck_assert_uint_eq(mirror_ids(&m, ids, 1), 1);
  snprintf(path, sizeof path, "/v4/starlink/%s?fault=500&n=1", ids[0]);
  free(ids);
  mirror_url(&m, path, urls[0], 300);
  fo_fetcher *f = fetcher(&(fo_fetch_opts){
      .threads = 1, .max_inflight = 3, .retries = 2, .backoff_ms = 2000, .backoff_max_ms = 2000});
  fo_fetch_result r[N];
  done_times d = {.t0 = now_s()};
  ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, N, r, note_done, &d), 0);
  ck_all_ok(r, N);
  ck_assert_uint_eq(r[0].attempts, 2);
  ck_assert_msg(d.at[0] >= 1.0, "the retry came after %.3f s, before its backoff", d.at[0]);
  /* the other 11 went through the worker's two other slots while item 0 waited */
  for (size_t i = 1; i < N; i++)
    ck_assert_msg(d.at[i] < d.at[0] && d.at[i] < tp_scaled(0.9),
                  "item %zu done at %.3f s, item 0 at %.3f s", i, d.at[i], d.at[0]);
  fo_fetch_results_free(r, N);
  fo_fetcher_destroy(f);
  mirror_free_urls(urls, N);
  mirror_stop(&m);
}
END_TEST

/* ------------------------------------------------------------------ limits on one worker */

START_TEST(request_rate_holds_with_many_transfers_on_one_worker) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "10", NULL});
  enum { N = 40 };
  char **urls = doc_urls(&m, N, 10, NULL);
  ck_assert_int_eq(mirror_reset(&m), 0);
  fo_fetcher *f = fetcher(&(fo_fetch_opts){.threads = 1, .max_inflight = 32, .rate = 20});
  fo_fetch_result r[N];
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, N, r, NULL, NULL), 0);
  double took = now_s() - t0;
  ck_all_ok(r, N);
  /* 40 slots 50 ms apart: the last starts 1.95 s after the first */
  ck_assert_msg(took >= 1.9, "40 requests at 20/s took only %.2f s", took);
  long most = mirror_stat(&m, "max_in_window", 1000);
  ck_assert_msg(most >= 8 && most <= 22, "%ld requests in one second at 20/s", most);
  fo_fetch_results_free(r, N);
  fo_fetcher_destroy(f);
  mirror_free_urls(urls, N);
  mirror_stop(&m);
}
END_TEST

#define RATE_SIZE (3 * 1024 * 1024)

START_TEST(byte_rate_holds_with_many_transfers_on_one_worker) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "1", NULL});
  enum { N = 12 };
  char urls[N][128];
  fo_fetch_req reqs[N];
  mirror_blob_reqs(&m, N, RATE_SIZE / N, urls, reqs);
  double cap = 1.5 * 1024 * 1024;
  fo_fetcher *f = fetcher(&(fo_fetch_opts){.threads = 1, .max_inflight = N,
                                           .max_recv_speed_total = (unsigned long long)cap,
                                           .max_body = RATE_SIZE});
  fo_fetch_result r[N];
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N, r, NULL, NULL), 0);
  double took = now_s() - t0;
  double total = 0, shortest = took;
  for (int i = 0; i < N; i++) {
    total += (double)r[i].bytes;
    shortest = r[i].elapsed < shortest ? r[i].elapsed : shortest;
  }
  ck_assert_int_eq((long)total, RATE_SIZE);
  double got = total / took;
  ck_assert_msg(got > cap * 0.9 && got < cap * 1.1, "%.0f B/s against a cap of %.0f B/s", got,
                cap);
  /* all in flight at once and paced together: none is through long before the end (one after
   * another, the first would take a twelfth of the time) */
  ck_assert_msg(shortest > 0.25 * took, "one transfer took %.2f s of %.2f s", shortest, took);
  fo_fetch_results_free(r, N);
  fo_fetcher_destroy(f);
  mirror_stop(&m);
}
END_TEST

/* The largest piece a write callback was handed: libcurl hands over at most its receive buffer. */
static int note_piece(const void *data, size_t len, void *arg) {
  (void)data;
  size_t *largest = arg;
  if (len > *largest)
    *largest = len;
  return 0;
}

/* n bodies of size bytes on one worker with `inflight` slots: the largest piece handed over */
static size_t largest_piece(const mirror_proc *m, unsigned inflight, int n, int size) {
  char urls[4][128];
  fo_fetch_req reqs[4];
  size_t largest[4] = {0};
  mirror_blob_reqs(m, n, size, urls, reqs);
  for (int i = 0; i < n; i++) {
    reqs[i].write = note_piece;
    reqs[i].write_arg = &largest[i];
  }
  fo_fetcher *f = fetcher(&(fo_fetch_opts){.threads = 1, .max_inflight = inflight});
  fo_fetch_result r[4];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, (size_t)n, r, NULL, NULL), 0);
  size_t most = 0;
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq((long)r[i].bytes, size);
    most = largest[i] > most ? largest[i] : most;
  }
  fo_fetch_results_free(r, (size_t)n);
  fo_fetcher_destroy(f);
  return most;
}

/* A worker's receive buffers share a budget: alone a transfer reads up to libcurl's 16 KiB at a
 * time, with 256 slots on the worker a page, and the bodies arrive whole either way. */
START_TEST(receive_buffers_shrink_when_many_transfers_share_a_worker) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "1", NULL});
  size_t alone = largest_piece(&m, 1, 1, 1 << 20);
  ck_assert_msg(alone > 4096 && alone <= 16384, "alone: pieces up to %zu bytes", alone);
  size_t shared = largest_piece(&m, 256, 4, 256 << 10);
  ck_assert_msg(shared > 0 && shared <= 4096, "256 slots: pieces up to %zu bytes", shared);
  mirror_stop(&m);
}
END_TEST

/* ------------------------------------------------------------------ cancel */

START_TEST(cancel_of_one_item_leaves_the_others_of_its_worker_running) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "4", NULL});
  enum { N = 4 };
  char **urls = doc_urls(&m, N, 4, "?delay=600");
  char path[128];
  /* item 0: headers and a first byte, then nothing for 5 s */
  snprintf(path, sizeof path, "/blob?size=100000&stall=1&hold=5000");
  mirror_url(&m, path, urls[0], 300);
  fo_fetcher *f = fetcher(&(fo_fetch_opts){.threads = 1, .max_inflight = N, .stall_time_ms = -1});
  fo_fetch_req reqs[N];
  for (int i = 0; i < N; i++)
    reqs[i] = (fo_fetch_req){.url = urls[i]};
  fo_fetch_result r[N];
  fo_fetch_job *job;
  double t0 = now_s();
  ck_assert_int_eq(fo_fetch_submit(f, reqs, N, r, NULL, NULL, &job), 0);
  usleep(200 * 1000);
  ck_assert_int_eq(fo_fetch_job_cancel(job, 0), 0);
  size_t idx[N];
  size_t got = 0;
  double cancelled_at = 0;
  /* the cancelled item is reported first, within the loop's bound, while the others still wait
   * for their answers */
  for (int k = 0; k < 100 * (int)tp_scaled(1) && got == 0; k++) {
    got = fo_fetch_job_take(job, idx, N);
    if (got == 0)
      usleep(5 * 1000);
  }
  cancelled_at = now_s() - t0;
  ck_assert_uint_ge(got, 1);
  ck_assert_uint_eq(idx[0], 0);
  ck_assert_msg(cancelled_at < 0.2 + tp_scaled(0.3), "the cancel was seen after %.3f s",
                cancelled_at - 0.2);
  ck_assert_int_eq(fo_fetch_job_wait(job, 10000), 1);
  ck_assert_int_eq(fo_fetch_job_free(job), 0);
  ck_assert_int_eq(r[0].err, -ECANCELED);
  ck_assert_msg(strstr(r[0].message, "fo_fetch_job_cancel") != NULL, "%s", r[0].message);
  ck_all_ok(r + 1, N - 1);
  fo_fetch_results_free(r, N);
  fo_fetcher_destroy(f);
  mirror_free_urls(urls, N);
  mirror_stop(&m);
}
END_TEST

/* ------------------------------------------------------------------ connections and leaks */

START_TEST(connections_outlive_a_call) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "8", "--latency-ms", "100", NULL});
  enum { N = 4 };
  char **urls = doc_urls(&m, N, 8, NULL);
  ck_assert_int_eq(mirror_reset(&m), 0);
  fo_fetcher *f = fetcher(&(fo_fetch_opts){.threads = 1, .max_inflight = N});
  fo_fetch_result r[N];
  for (int call = 0; call < 3; call++) {
    ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, N, r, NULL, NULL), 0);
    ck_all_ok(r, N);
    fo_fetch_results_free(r, N);
  }
  /* four at once make four connections; the next calls find them in the worker's multi (the
   * question for the count comes on a connection of its own, counted too) */
  long conns = mirror_stat(&m, "connections", 0) - 1;
  ck_assert_int_eq(mirror_stat(&m, "requests", 0), 3 * N);
  ck_assert_msg(conns == N, "%ld connections for %d requests, %d at a time", conns, 3 * N, N);
  fo_fetcher_destroy(f);
  mirror_free_urls(urls, N);
  mirror_stop(&m);
}
END_TEST

/* Each allocation of a call that runs 16 transfers on one worker fails in turn, on a fetcher
 * whose loop was made by a call of 4 (so its socket array grows during the call of 16): every
 * item gets a result, fetched or -ENOMEM with a message, and the next call on the same fetcher
 * fetches everything. When the socket array cannot grow, libcurl fails every transfer of the
 * multi, which stays usable for the next call. */
START_TEST(allocation_failures_in_a_call_fail_items_with_enomem_and_the_next_call_works) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "16", "--latency-ms", "20", NULL});
  enum { N = 16, WARM = 4 };
  char **urls = doc_urls(&m, N, N, NULL);
  fo_fetch_result r[N];
  long before = ta_outstanding(), failed_runs = 0;
  for (long n = 1;; n++) {
    ck_assert_msg(n < 2000, "the call never ran without a failure");
    fo_fetcher *f = fetcher(&(fo_fetch_opts){.threads = 1, .max_inflight = N});
    ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, WARM, r, NULL, NULL), 0);
    fo_fetch_results_free(r, WARM);
    long failures = ta_failures();
    ta_fail_at(n, 0);
    int rc = fo_fetch_many(f, (const char *const *)urls, NULL, N, r, NULL, NULL);
    ta_fail_at(0, 0);
    int injected = ta_failures() > failures;
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
      if (r[i].err == 0 && r[i].status == 200)
        continue;
      ck_assert_msg(r[i].err == -ENOMEM, "allocation %ld: %zu: %d %s", n, i, r[i].err,
                    r[i].message);
      ck_assert_str_ne(r[i].message, "");
      bad++;
    }
    ck_assert_int_eq(rc, rc == -ENOMEM && bad == N ? -ENOMEM : (int)bad); /* or nothing began */
    ck_assert_msg(injected || bad == 0, "allocation %ld: %zu failed with none refused", n, bad);
    fo_fetch_results_free(r, N);
    ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, N, r, NULL, NULL), 0);
    ck_all_ok(r, N);
    fo_fetch_results_free(r, N);
    fo_fetcher_destroy(f);
    ck_assert_msg(ta_outstanding() == before, "allocation %ld: %ld allocations leaked", n,
                  ta_outstanding() - before);
    if (!injected)
      break;
    failed_runs += bad > 0;
  }
  ck_assert_int_gt(failed_runs, 0);
  mirror_free_urls(urls, N);
  mirror_stop(&m);
}
END_TEST

static size_t heap_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  return mallinfo2().uordblks;
#else
  return 0;
#endif
}

START_TEST(many_calls_leave_no_descriptor_or_memory_behind) {
  mirror_proc m;
  start(&m, (const char *const[]){"--docs", "32", NULL});
  enum { N = 64, CALLS = 30, THREADS = 2, INFLIGHT = 16 };
  char **urls = doc_urls(&m, N, 32, NULL);
  int fds = open_fd_count();
  fo_fetcher *f = fetcher(&(fo_fetch_opts){.threads = THREADS, .max_inflight = INFLIGHT});
  fo_fetch_result *r = calloc(N, sizeof *r);
  long ours_after_first = 0;
  size_t heap_after_first = 0;
  for (int call = 0; call < CALLS; call++) {
    ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, N, r, NULL, NULL), 0);
    ck_all_ok(r, N);
    fo_fetch_results_free(r, N);
    /* descriptors: a connection per transfer in flight, kept between calls, and each multi's
     * wake-up pair; after every call, so a descriptor lost per call shows within 30 */
    ck_assert_int_le(open_fd_count(), fds + INFLIGHT + 2 * THREADS);
    if (call == 2) {
      ours_after_first = ta_outstanding();
      heap_after_first = heap_in_use();
    }
  }
  /* memory: the fetcher's own blocks (loops, handles) and the C heap do not grow with calls;
   * a little slack for the heap, whose use moves with the sizes of what is cached */
  ck_assert_int_le(ta_outstanding(), ours_after_first);
  ck_assert_msg(heap_in_use() <= heap_after_first + 256 * 1024, "heap %zu after, %zu before",
                heap_in_use(), heap_after_first);
  fo_fetcher_destroy(f);
  ck_assert_int_eq(open_fd_count(), fds);
  free(r);
  mirror_free_urls(urls, N);
  mirror_stop(&m);
}
END_TEST

Suite *fetch_engine_suite(void) {
  Suite *s = suite_create("fetch_engine");
  TCase *tc = fo_tcase("multi", 60);
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
  tcase_add_test(tc, one_thread_with_64_in_flight_takes_about_one_latency);
  tcase_add_test(tc, a_backoff_does_not_hold_up_the_other_items_of_its_worker);
  tcase_add_test(tc, request_rate_holds_with_many_transfers_on_one_worker);
  tcase_add_test(tc, byte_rate_holds_with_many_transfers_on_one_worker);
  tcase_add_test(tc, receive_buffers_shrink_when_many_transfers_share_a_worker);
  tcase_add_test(tc, cancel_of_one_item_leaves_the_others_of_its_worker_running);
  tcase_add_test(tc, connections_outlive_a_call);
  tcase_add_test(tc, many_calls_leave_no_descriptor_or_memory_behind);
  tcase_add_test(tc, allocation_failures_in_a_call_fail_items_with_enomem_and_the_next_call_works);
  suite_add_tcase(s, tc);
  return s;
}
