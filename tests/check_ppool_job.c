/* fo_ppool_job: what a map is told and what it tells back. The checks of a job and of the pool's
 * options and how they explain a refusal; the item index; the function's own failure codes;
 * fail-fast; progress; timeouts that follow the IPC rule (FO_FOREVER, 0 = do not wait); a
 * context that cannot be a raw pointer; and misuse from a second thread (a second map is
 * refused, destroy during a map stops the program with a message). Part of the ppool suite. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fanout/ipc.h"
#include "fanout/ppool.h"
#include "helpers/fixture.h"
#include "helpers/procs.h"
#include "suites.h"

void ppool_job_cases(Suite *s);

static void nap_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static fo_ppool *pool_of(unsigned workers, size_t arena) {
  fo_ppool *p;
  fo_ppool_opts o = {workers, arena};
  int rc = fo_ppool_create(&p, &o);
  ck_assert_msg(rc == 0, "create: %s", fo_strerror(rc));
  return p;
}

/* What the test functions share with the parent. Mapped before the pool, so every worker, the
 * first ones and their replacements alike, sees the same memory. */
typedef struct {
  uint32_t runs;       /* atomic: items started */
  uint32_t fired[256]; /* atomic: an item's one-time action happened */
} board;

typedef struct {
  board *b;
  int64_t fail_every; /* items i with i % fail_every == fail_at return -EDOM */
  int64_t fail_at;
  int64_t crash_at; /* this item kills its worker (once when crash_once), -1 for none */
  int64_t crash_once;
  int64_t sleep_us; /* every item sleeps this long */
} jctx;

/* out[i] = in[i] * 10 + the index the pool gave, so a wrong index shows in every output. */
static int indexed(const void *c, size_t index, const void *in, void *out) {
  const jctx *ctx = c;
  int64_t x;
  memcpy(&x, in, sizeof x);
  if (ctx != NULL && ctx->b != NULL)
    __atomic_fetch_add(&ctx->b->runs, 1u, __ATOMIC_RELAXED);
  if (ctx != NULL && ctx->sleep_us > 0)
    nap_us((long)ctx->sleep_us);
  if (ctx != NULL && (int64_t)index == ctx->crash_at &&
      (!ctx->crash_once ||
       __atomic_exchange_n(&ctx->b->fired[index % 256], 1u, __ATOMIC_SEQ_CST) == 0))
    kill(getpid(), SIGKILL);
  if (ctx != NULL && ctx->fail_every > 0 && (int64_t)index % ctx->fail_every == ctx->fail_at)
    return -EDOM;
  int64_t y = x * 10 + (int64_t)index;
  memcpy(out, &y, sizeof y);
  return 0;
}

static fo_ppool_job job_over(const jctx *ctx, const int64_t *in, int64_t *out, size_t n) {
  fo_ppool_job j;
  fo_ppool_job_init(&j);
  j.fn = indexed;
  j.ctx = ctx;
  j.ctx_size = ctx != NULL ? sizeof *ctx : 0;
  j.in = in;
  j.in_size = sizeof *in;
  j.out = out;
  j.out_size = sizeof *out;
  j.count = n;
  return j;
}

static int64_t *numbers(size_t n) {
  int64_t *a = calloc(n, sizeof *a);
  ck_assert_ptr_nonnull(a);
  for (size_t i = 0; i < n; i++)
    a[i] = (int64_t)i + 1000;
  return a;
}

static board *shared_board(fo_shm **shm) {
  ck_assert_int_eq(fo_shm_create(shm, sizeof(board)), 0);
  board *b = fo_shm_addr(*shm);
  memset(b, 0, sizeof *b);
  return b;
}

/* ------------------------------------------------------------------------------------------------
 * Checks and their explanations
 */

/* The largest size a refusal names: SIZE_MAX where long long holds it (32-bit targets), else
 * LLONG_MAX. */
static long long size_ceiling(void) {
  return (unsigned long long)SIZE_MAX > (unsigned long long)LLONG_MAX ? LLONG_MAX
                                                                       : (long long)SIZE_MAX;
}

static void refused(const fo_ppool *p, const fo_ppool_job *j, const char *field, long long min,
                    long long max, long long value) {
  fo_opt_error why = {NULL, -7, -7, -7};
  ck_assert_int_eq(fo_ppool_job_check(p, j, &why), -EINVAL);
  ck_assert_ptr_nonnull(why.field);
  ck_assert_str_eq(why.field, field);
  ck_assert_int_eq(why.min, min);
  ck_assert_int_eq(why.max, max);
  ck_assert_int_eq(why.value, value);
  ck_assert_int_eq(fo_ppool_job_check(p, j, NULL), -EINVAL); /* why may be NULL */
  ck_assert_int_eq(fo_ppool_map((fo_ppool *)p, j, NULL), -EINVAL);
}

START_TEST(options_and_jobs_explain_a_refusal) {
  fo_opt_error why;
  fo_ppool_opts o = {FO_PPOOL_WORKERS_MAX + 1, 0};
  ck_assert_int_eq(fo_ppool_opts_check(&o, &why), -EINVAL);
  ck_assert_str_eq(why.field, "workers");
  ck_assert_int_eq(why.max, FO_PPOOL_WORKERS_MAX);
  ck_assert_int_eq(why.value, FO_PPOOL_WORKERS_MAX + 1);
  o.workers = 2;
  o.arena_size = 1000;
  ck_assert_int_eq(fo_ppool_opts_check(&o, &why), -EINVAL);
  ck_assert_str_eq(why.field, "arena_size");
  ck_assert_int_eq(why.min, (long long)FO_PPOOL_ARENA_MIN);
  ck_assert_int_eq(why.value, 1000);
  fo_ppool *none = (fo_ppool *)&none;
  ck_assert_int_eq(fo_ppool_create(&none, &o), -EINVAL); /* create applies the same rule */
  ck_assert_ptr_null(none);
  o.arena_size = 0;
  ck_assert_int_eq(fo_ppool_opts_check(&o, NULL), 0);
  ck_assert_int_eq(fo_ppool_opts_check(NULL, NULL), 0);

  fo_ppool *p = pool_of(1, 0);
  int64_t in[4] = {1, 2, 3, 4}, out[4];
  jctx ctx = {0};
  fo_ppool_job j = job_over(&ctx, in, out, 4);
  ck_assert_int_eq(fo_ppool_job_check(p, &j, NULL), 0);

  fo_ppool_job zero;
  memset(&zero, 0, sizeof zero);
  refused(p, &zero, "fn", 0, 0, 0);
  zero.fn = indexed;
  refused(p, &zero, "max_attempts", 1, UINT_MAX, 0); /* a zeroed job is not a default one */

  fo_ppool_job k = j;
  k.timeout_ms = -2;
  refused(p, &k, "timeout_ms", FO_FOREVER, INT_MAX, -2);
  k = j;
  k.item_timeout_ms = 0; /* "no waiting" makes no sense for an item: refused, not "no limit" */
  refused(p, &k, "item_timeout_ms", 1, INT_MAX, 0);
  k = j;
  k.flags = 2;
  refused(p, &k, "flags", 0, FO_PPOOL_FAIL_FAST, 2);
  k = j;
  k.progress = (fo_ppool_progress_fn)1; /* never called: refused first */
  k.progress_ms = 0;
  refused(p, &k, "progress_ms", 1, INT_MAX, 0);
  k = j;
  k.ctx_size = 0;
  refused(p, &k, "ctx_size", 1, size_ceiling(), 0);
  k = j;
  k.ctx = NULL;
  refused(p, &k, "ctx", 0, 0, 0);
  k = j;
  k.in = NULL;
  refused(p, &k, "in", 0, 0, 0);
  k = j;
  k.out = in + 1; /* overlapping, and not in itself */
  k.count = 3;
  refused(p, &k, "out", 0, 0, 0);
  k = j;
  k.count = SIZE_MAX / 4;
  refused(p, &k, "count", 0, (long long)(SIZE_MAX / 8), (long long)(SIZE_MAX / 4));
  ck_assert_int_eq(fo_ppool_job_check(NULL, &j, NULL), -EINVAL);
  ck_assert_int_eq(fo_ppool_job_check(p, NULL, NULL), -EINVAL);
  ck_assert_int_eq(fo_ppool_map(p, NULL, NULL), -EINVAL);
  fo_ppool_job_init(NULL);
  fo_ppool_destroy(p);
}
END_TEST

static int copy_item(const void *c, size_t index, const void *in, void *out) {
  (void)c;
  (void)index;
  (void)in;
  ((unsigned char *)out)[0] = 7;
  return 0;
}

/* An item too big for the arena names the arena size that would hold it, and that size does. */
START_TEST(an_item_too_big_names_the_arena_it_needs) {
  size_t big = 200000;
  unsigned char *in = calloc(1, big), out[1];
  fo_ppool *p = pool_of(1, 0);
  fo_ppool_job j;
  fo_ppool_job_init(&j);
  j.fn = copy_item;
  j.in = in;
  j.in_size = big;
  j.out = out;
  j.out_size = 1;
  j.count = 1;
  /* fits the default arena */
  ck_assert_int_eq(fo_ppool_job_check(p, &j, NULL), 0);
  fo_ppool_destroy(p);

  p = pool_of(1, FO_PPOOL_ARENA_MIN);
  fo_opt_error why = {NULL, 0, 0, 0};
  ck_assert_int_eq(fo_ppool_job_check(p, &j, &why), FO_ETOOBIG);
  ck_assert_int_eq(fo_ppool_map(p, &j, NULL), FO_ETOOBIG);
  ck_assert_str_eq(why.field, "arena_size");
  ck_assert_int_eq(why.value, (long long)FO_PPOOL_ARENA_MIN);
  ck_assert_int_gt(why.min, (long long)big);
  ck_assert_int_eq(why.max, LLONG_MAX);
  long long need = why.min;
  fo_ppool_destroy(p);

  /* exactly the size named: it runs; one alignment unit less: refused, naming the same size */
  p = pool_of(1, (size_t)need);
  out[0] = 0;
  ck_assert_int_eq(fo_ppool_map(p, &j, NULL), 0);
  ck_assert_int_eq(out[0], 7);
  fo_ppool_destroy(p);
  p = pool_of(1, (size_t)need - 64);
  ck_assert_int_eq(fo_ppool_job_check(p, &j, &why), FO_ETOOBIG);
  ck_assert_int_eq(why.min, need);
  fo_ppool_destroy(p);
  free(in);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * Index, failure codes, fail-fast
 */

START_TEST(the_function_learns_its_index) {
  fo_shm *shm;
  board *b = shared_board(&shm);
  fo_ppool *p = pool_of(3, 0);
  size_t n = 5000;
  int64_t *in = numbers(n), *out = calloc(n, sizeof *out);
  const size_t chunks[] = {0, 1, 7, 100000};
  for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
    /* one worker death on the way: the rest of its chunk is re-queued from the middle */
    jctx ctx = {b, 0, 0, 1234, 1, 0};
    memset(b, 0, sizeof *b);
    fo_ppool_job j = job_over(&ctx, in, out, n);
    j.chunk = chunks[c];
    fo_ppool_report rep = {NULL, 0, 0, 0, 0};
    ck_assert_int_eq(fo_ppool_map(p, &j, &rep), 0);
    ck_assert_uint_eq(rep.deaths, 1);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
      bad += out[i] != in[i] * 10 + (int64_t)i;
    ck_assert_msg(bad == 0, "chunk %zu: %zu items saw a wrong index", chunks[c], bad);
  }
  free(in);
  free(out);
  fo_ppool_destroy(p);
  fo_shm_destroy(shm);
}
END_TEST

START_TEST(the_function_names_a_failure_and_the_map_goes_on) {
  fo_shm *shm;
  board *b = shared_board(&shm);
  fo_ppool *p = pool_of(2, 0);
  size_t n = 700;
  int64_t *in = numbers(n), *out = calloc(n, sizeof *out);
  jctx ctx = {b, 7, 3, -1, 0, 0};
  fo_ppool_job j = job_over(&ctx, in, out, n);
  j.chunk = 50;
  fo_ppool_failure f[200];
  fo_ppool_report rep = {f, 200, 0, 0, 0};
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), FO_EPARTIAL);
  ck_assert_uint_eq(rep.failed, n / 7);
  ck_assert_uint_eq(rep.nfailures, n / 7);
  ck_assert_uint_eq(rep.deaths, 0); /* nobody dies for an error */
  for (size_t k = 0; k < rep.nfailures; k++) {
    ck_assert_uint_eq(f[k].first, 7 * k + 3);
    ck_assert_uint_eq(f[k].count, 1);
    ck_assert_int_eq(f[k].cause, FO_PPOOL_ERROR);
    ck_assert_int_eq(f[k].code, -EDOM);
    ck_assert_uint_eq(f[k].attempts, 1);
  }
  ck_assert_uint_eq(__atomic_load_n(&b->runs, __ATOMIC_RELAXED), n); /* each ran once */
  size_t bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += i % 7 != 3 && out[i] != in[i] * 10 + (int64_t)i;
  ck_assert_uint_eq(bad, 0);
  ck_assert_str_eq(fo_strerror(f[0].code), fo_strerror(-EDOM));
  free(in);
  free(out);
  fo_ppool_destroy(p);
  fo_shm_destroy(shm);
}
END_TEST

/* The report accounts for every item: produced, or in a run of the report. */
static size_t not_run(const fo_ppool_report *r) {
  size_t n = 0;
  for (size_t k = 0; k < r->nfailures; k++)
    n += r->failures[k].cause == FO_PPOOL_NOT_RUN ? r->failures[k].count : 0;
  return n;
}

START_TEST(fail_fast_stops_at_the_first_failure) {
  fo_shm *shm;
  board *b = shared_board(&shm);
  fo_ppool *p = pool_of(2, 0);
  size_t n = 400;
  int64_t *in = numbers(n), *out = calloc(n, sizeof *out);
  fo_ppool_failure f[16];
  fo_ppool_report rep = {f, 16, 0, 0, 0};

  /* an error at item 20 of 400 items of 2 ms: the map ends long before the 800 ms of work */
  jctx ctx = {b, 1000, 20, -1, 0, 2000};
  fo_ppool_job j = job_over(&ctx, in, out, n);
  j.flags = FO_PPOOL_FAIL_FAST;
  j.chunk = 4;
  double t = tp_now_ms();
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), FO_EPARTIAL);
  ck_assert_double_lt(tp_now_ms() - t, 400 * tp_scaled(1));
  ck_assert_uint_eq(rep.deaths, 0); /* stopping kills nobody */
  ck_assert_uint_ge(rep.nfailures, 2);
  size_t errors = 0;
  for (size_t k = 0; k < rep.nfailures; k++) {
    if (f[k].cause == FO_PPOOL_ERROR) {
      errors++;
      ck_assert_uint_eq(f[k].first, 20);
      ck_assert_int_eq(f[k].code, -EDOM);
    } else {
      ck_assert_int_eq(f[k].cause, FO_PPOOL_NOT_RUN);
    }
  }
  ck_assert_uint_eq(errors, 1);
  ck_assert_uint_gt(not_run(&rep), n / 2);
  uint32_t runs = __atomic_load_n(&b->runs, __ATOMIC_RELAXED);
  ck_assert_uint_eq(runs, n - not_run(&rep)); /* what was not reported not run did run */
  ck_assert_uint_eq(rep.failed, 1 + not_run(&rep));

  /* a deterministic crash: one death, not max_attempts of them */
  memset(b, 0, sizeof *b);
  jctx crash = {b, 0, 0, 30, 0, 0};
  j = job_over(&crash, in, out, n);
  j.flags = FO_PPOOL_FAIL_FAST;
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), FO_EPARTIAL);
  ck_assert_uint_eq(rep.deaths, 1);
  for (size_t k = 0; k < rep.nfailures; k++) {
    if (f[k].cause == FO_PPOOL_SIGNAL) {
      ck_assert_uint_eq(f[k].first, 30);
      ck_assert_int_eq(f[k].code, SIGKILL);
      ck_assert_uint_eq(f[k].attempts, 1);
    } else {
      ck_assert_int_eq(f[k].cause, FO_PPOOL_NOT_RUN);
    }
  }

  /* without fail-fast, max_attempts 1 costs one death too, and the map goes on */
  memset(b, 0, sizeof *b);
  j.flags = 0;
  j.max_attempts = 1;
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), FO_EPARTIAL);
  ck_assert_uint_eq(rep.deaths, 1);
  ck_assert_uint_eq(rep.failed, 1);
  ck_assert_uint_eq(f[0].first, 30);
  ck_assert_uint_eq(f[0].attempts, 1);

  /* and the pool is whole */
  jctx plain = {NULL, 0, 0, -1, 0, 0};
  j = job_over(&plain, in, out, n);
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), 0);
  ck_assert(out[n - 1] == in[n - 1] * 10 + (int64_t)(n - 1));
  free(in);
  free(out);
  fo_ppool_destroy(p);
  fo_shm_destroy(shm);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * Progress and timeouts
 */

typedef struct {
  size_t calls, last, total, backwards;
  double first_ms, last_ms;
  fo_ppool *pool;
  int nested_rc;
} watch;

static void on_progress(void *arg, size_t done, size_t total) {
  watch *w = arg;
  double now = tp_now_ms();
  if (w->calls == 0)
    w->first_ms = now;
  w->last_ms = now;
  w->backwards += done < w->last;
  w->last = done;
  w->total = total;
  w->calls++;
  if (w->pool != NULL) {
    /* the callback runs inside the map: a map on the same pool from here is refused */
    int64_t x = 1, y;
    jctx c = {NULL, 0, 0, -1, 0, 0};
    fo_ppool_job j = job_over(&c, &x, &y, 1);
    w->nested_rc = fo_ppool_map(w->pool, &j, NULL);
    w->pool = NULL;
  }
}

START_TEST(progress_is_told_in_the_parent_at_a_bounded_rate) {
  fo_ppool *p = pool_of(2, 0);
  size_t n = 200;
  int64_t *in = numbers(n), *out = calloc(n, sizeof *out);
  jctx ctx = {NULL, 0, 0, -1, 0, 3000}; /* 200 x 3 ms on 2 workers: about 300 ms */
  fo_ppool_job j = job_over(&ctx, in, out, n);
  watch w;
  memset(&w, 0, sizeof w);
  w.pool = p;
  j.progress = on_progress;
  j.progress_arg = &w;
  j.progress_ms = 40;
  double t = tp_now_ms();
  ck_assert_int_eq(fo_ppool_map(p, &j, NULL), 0);
  double took = tp_now_ms() - t;
  ck_assert_int_eq(w.nested_rc, -EBUSY);
  ck_assert_uint_eq(w.total, n);
  ck_assert_uint_eq(w.last, n); /* the last call says everything is done */
  ck_assert_uint_eq(w.backwards, 0);
  ck_assert_uint_ge(w.calls, 3); /* told along the way, not only at the end */
  ck_assert_msg((double)w.calls <= took / 40 + 2, "%zu calls in %.0f ms at most one per 40 ms",
                w.calls, took);
  /* and the pool took nothing from the nested attempt */
  ck_assert(out[n - 1] == in[n - 1] * 10 + (int64_t)(n - 1));
  free(in);
  free(out);
  fo_ppool_destroy(p);
}
END_TEST

START_TEST(timeout_zero_does_not_wait) {
  fo_shm *shm;
  board *b = shared_board(&shm);
  fo_ppool *p = pool_of(2, 0);
  size_t n = 50;
  int64_t *in = numbers(n), *out = calloc(n, sizeof *out);
  jctx ctx = {b, 0, 0, -1, 0, 0};
  fo_ppool_job j = job_over(&ctx, in, out, n);
  j.timeout_ms = 0;
  fo_ppool_failure f[4];
  fo_ppool_report rep = {f, 4, 0, 0, 0};
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), -EAGAIN);
  ck_assert_uint_eq(rep.failed, n);
  ck_assert_uint_eq(rep.nfailures, 1);
  ck_assert_int_eq(f[0].cause, FO_PPOOL_NOT_RUN);
  ck_assert_uint_eq(f[0].count, n);
  ck_assert_uint_eq(__atomic_load_n(&b->runs, __ATOMIC_RELAXED), 0);
  j.count = 0;
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), 0); /* nothing to wait for */
  /* FO_FOREVER: no limit */
  j.count = n;
  j.timeout_ms = FO_FOREVER;
  j.item_timeout_ms = FO_FOREVER;
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), 0);
  ck_assert_uint_eq(__atomic_load_n(&b->runs, __ATOMIC_RELAXED), n);
  free(in);
  free(out);
  fo_ppool_destroy(p);
  fo_shm_destroy(shm);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * The context, and misuse from another thread
 */

/* Reads through a pointer the parent put in the context. */
static int deref(const void *c, size_t index, const void *in, void *out) {
  (void)index;
  (void)in;
  const int64_t *const *pp = c;
  int64_t v = **pp;
  memcpy(out, &v, sizeof v);
  return 0;
}

/* The scenario that used to pass as success: a context pointer (ctx_size 0) to memory allocated
 * after the pool was created. The first workers crashed on it, the replacements forked later saw
 * it, and the map returned 0. Now such a context cannot be given at all. */
START_TEST(a_raw_context_pointer_is_refused) {
  fo_ppool *p = pool_of(2, 0);
  pid_t w0 = fo_ppool_worker_pid(p, 0), w1 = fo_ppool_worker_pid(p, 1);
  int64_t *late = malloc(1 << 20); /* large: a fresh mapping the workers do not have */
  ck_assert_ptr_nonnull(late);
  late[0] = 42;
  int64_t in[8] = {0}, out[8];
  fo_ppool_job j;
  fo_ppool_job_init(&j);
  j.fn = deref;
  j.ctx = late;
  j.ctx_size = 0;
  j.in = in;
  j.in_size = sizeof *in;
  j.out = out;
  j.out_size = sizeof *out;
  j.count = 8;
  fo_ppool_report rep = {NULL, 0, 0, 0, 0};
  fo_opt_error why;
  ck_assert_int_eq(fo_ppool_job_check(p, &j, &why), -EINVAL);
  ck_assert_str_eq(why.field, "ctx_size");
  ck_assert_int_eq(fo_ppool_map(p, &j, &rep), -EINVAL);
  ck_assert_int_eq(fo_ppool_worker_pid(p, 0), w0); /* nothing ran, nobody died */
  ck_assert_int_eq(fo_ppool_worker_pid(p, 1), w1);
  free(late);
  fo_ppool_destroy(p);
}
END_TEST

typedef struct {
  fo_ppool *p;
  watch *w;
  int rc;
} rival;

/* Waits until the map of the main thread has told progress, then maps on the same pool. */
static void *map_beside(void *arg) {
  rival *r = arg;
  double end = tp_now_ms() + tp_scaled(5) * 1000;
  while (__atomic_load_n(&r->w->calls, __ATOMIC_ACQUIRE) == 0 && tp_now_ms() < end)
    nap_us(1000);
  int64_t x = 1, y;
  jctx c = {NULL, 0, 0, -1, 0, 0};
  fo_ppool_job j = job_over(&c, &x, &y, 1);
  r->rc = fo_ppool_map(r->p, &j, NULL);
  return NULL;
}

static void count_progress(void *arg, size_t done, size_t total) {
  (void)done;
  (void)total;
  watch *w = arg;
  __atomic_fetch_add(&w->calls, 1, __ATOMIC_RELEASE);
}

START_TEST(a_second_map_from_another_thread_is_refused) {
  fo_ppool *p = pool_of(1, 0);
  size_t n = 30;
  int64_t *in = numbers(n), *out = calloc(n, sizeof *out);
  jctx ctx = {NULL, 0, 0, -1, 0, 10000};
  fo_ppool_job j = job_over(&ctx, in, out, n);
  watch w;
  memset(&w, 0, sizeof w);
  j.progress = count_progress;
  j.progress_arg = &w;
  j.progress_ms = 5;
  rival r = {p, &w, 1};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, map_beside, &r), 0);
  ck_assert_int_eq(fo_ppool_map(p, &j, NULL), 0);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert_int_eq(r.rc, -EBUSY);
  ck_assert(out[n - 1] == in[n - 1] * 10 + (int64_t)(n - 1));
  /* once the map is over, the other thread may have its turn */
  map_beside(&r);
  ck_assert_int_eq(r.rc, 0);
  free(in);
  free(out);
  fo_ppool_destroy(p);
}
END_TEST

static void *destroy_beside(void *arg) {
  rival *r = arg;
  double end = tp_now_ms() + tp_scaled(5) * 1000;
  while (__atomic_load_n(&r->w->calls, __ATOMIC_ACQUIRE) == 0 && tp_now_ms() < end)
    nap_us(1000);
  fo_ppool_destroy(r->p);
  return NULL;
}

/* In a child, with stderr on a pipe: destroy from a second thread while the first maps. */
static int destroy_during_map(void *arg) {
  int fd = *(int *)arg;
  dup2(fd, 2);
  fo_ppool *p;
  fo_ppool_opts o = {1, 0};
  TP_CHECK(fo_ppool_create(&p, &o) == 0, 1);
  size_t n = 200;
  int64_t *in = numbers(n), *out = calloc(n, sizeof *out);
  jctx ctx = {NULL, 0, 0, -1, 0, 10000};
  fo_ppool_job j = job_over(&ctx, in, out, n);
  watch w;
  memset(&w, 0, sizeof w);
  j.progress = count_progress;
  j.progress_arg = &w;
  j.progress_ms = 5;
  rival r = {p, &w, 0};
  pthread_t t;
  TP_CHECK(pthread_create(&t, NULL, destroy_beside, &r) == 0, 2);
  fo_ppool_map(p, &j, NULL);
  return 3; /* not reached: the destroy stops the program */
}

START_TEST(destroy_during_a_map_stops_with_a_message) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  int st = tp_run(destroy_during_map, &fds[1], 20);
  close(fds[1]);
  char msg[512];
  size_t got = 0;
  ssize_t r;
  while (got < sizeof msg - 1 && (r = read(fds[0], msg + got, sizeof msg - 1 - got)) > 0)
    got += (size_t)r;
  msg[got] = '\0';
  close(fds[0]);
  ck_assert_msg(st == 128 + SIGABRT, "the child ended with %d, not SIGABRT; stderr: %s", st, msg);
  ck_assert_msg(strstr(msg, "fanout: fo_ppool_destroy called while a map runs on the pool") != NULL,
                "stderr: %s", msg);
}
END_TEST

void ppool_job_cases(Suite *s) {
  TCase *tc = fo_tcase("job", 60);
  tcase_add_test(tc, options_and_jobs_explain_a_refusal);
  tcase_add_test(tc, an_item_too_big_names_the_arena_it_needs);
  tcase_add_test(tc, the_function_learns_its_index);
  tcase_add_test(tc, the_function_names_a_failure_and_the_map_goes_on);
  tcase_add_test(tc, fail_fast_stops_at_the_first_failure);
  tcase_add_test(tc, progress_is_told_in_the_parent_at_a_bounded_rate);
  tcase_add_test(tc, timeout_zero_does_not_wait);
  tcase_add_test(tc, a_raw_context_pointer_is_refused);
  tcase_add_test(tc, a_second_map_from_another_thread_is_refused);
  tcase_add_test(tc, destroy_during_a_map_stops_with_a_message);
  suite_add_tcase(s, tc);
}
