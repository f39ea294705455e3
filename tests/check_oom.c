/* Out of memory, for the public operations that allocate and whose module has no loop of its own
 * (the others are in tests/check_<module>.c: grep ta_oom_loop): each runs with the 1st, 2nd, ...
 * allocation failing until it succeeds, and must return -ENOMEM with nothing held every time.
 * Then the converse, which makes "every operation that allocates has a loop" checkable: the
 * operations that do not allocate are called with every allocation failing, and must work. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
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
#include "helpers/mirror_proc.h"
#endif

/* ------------------------------------------------------------------ shared memory */

typedef struct {
  char name[64];
  fo_shm *s;
} named_arg;

static int open_op(void *arg) {
  named_arg *a = arg;
  a->s = (fo_shm *)a; /* a refused open must say so in *shm */
  int rc = fo_shm_open_named(&a->s, a->name);
  if (rc != 0)
    ck_assert_ptr_null(a->s);
  else
    ck_assert_uint_eq(fo_shm_size(a->s), 8192);
  return rc;
}

static void open_undo(void *arg) {
  fo_shm_destroy(((named_arg *)arg)->s);
}

START_TEST(shm_open_named) {
  named_arg a;
  snprintf(a.name, sizeof a.name, "/fanout-oom-open-%ld", (long)getpid());
  fo_shm *creator;
  ck_assert_int_eq(fo_shm_create_named(&creator, a.name, 8192), 0);
  ck_assert_int_eq(ta_oom_loop(open_op, open_undo, &a), 1);
  fo_shm_destroy(creator);
  ck_assert_int_eq(fo_shm_unlink_named(a.name), 0);
}
END_TEST

/* ------------------------------------------------------------------ satellites */

static const char sat_list[] =
    "[{\"id\":\"5eed770f096e59000698560d\",\"version\":\"v0.9\",\"height_km\":318.3},"
    "{\"id\":\"5eed770f096e59000698560e\",\"latitude\":-26.4},"
    "{\"id\":\"5eed770f096e59000698560f\",\"longitude\":null}]";

typedef struct {
  char ids[4][FO_SAT_ID_LEN + 1];
  size_t count;
} ids_arg;

static int ids_op(void *arg) {
  ids_arg *a = arg;
  memset(a, 0, sizeof *a);
  int rc = fo_sat_list_ids(sat_list, sizeof sat_list - 1, NULL, a->ids, 4, &a->count, NULL);
  if (rc == 0) {
    ck_assert_uint_eq(a->count, 3);
    ck_assert_str_eq(a->ids[2], "5eed770f096e59000698560f");
  }
  return rc;
}

START_TEST(sat_list_ids) {
  ids_arg a;
  ck_assert_int_ge(ta_oom_loop(ids_op, NULL, &a), 1);
}
END_TEST

/* ------------------------------------------------------------------ fetch one */
#ifdef FO_HAVE_CURL

typedef struct {
  char url[128];
  const char *etag;
  int status; /* what a run that works must get */
  fo_fetch_result r;
} one_arg;

/* A fetcher, one fetch, the fetcher gone: every allocation of the three is in the loop. */
static int one_op(void *arg) {
  one_arg *a = arg;
  fo_fetcher *f;
  int rc = fo_fetcher_create(&f, &(fo_fetch_opts){.threads = 1});
  if (rc != 0)
    return rc;
  rc = fo_fetch_one(f, a->url, a->etag, &a->r);
  fo_fetcher_destroy(f);
  ck_assert_int_eq(rc, a->r.err); /* as documented: the result's error */
  if (rc != 0) {
    ck_assert_ptr_null(a->r.body);
    ck_assert_str_ne(a->r.message, "");
    fo_fetch_result_free(&a->r);
    return rc;
  }
  ck_assert_msg(a->r.status == a->status, "status %ld: %s", a->r.status, a->r.message);
  ck_assert_ptr_nonnull(a->r.etag);
  return 0;
}

static void one_undo(void *arg) {
  fo_fetch_result_free(&((one_arg *)arg)->r);
}

START_TEST(fetch_one) {
  mirror_proc m;
  ck_assert_int_eq(mirror_start(&m, (const char *const[]){"--docs", "3", NULL}), 0);
  one_arg a = {.status = 200};
  mirror_url(&m, "/latest/starlink", a.url, sizeof a.url);
  ck_assert_int_gt(ta_oom_loop(one_op, one_undo, &a), 3);
  ck_assert_int_eq(one_op(&a), 0);
  char etag[128];
  ck_assert_uint_lt(strlen(a.r.etag), sizeof etag);
  strcpy(etag, a.r.etag);
  one_undo(&a);
  /* a conditional fetch answered 304 Not Modified: no body, the ETag kept */
  a.etag = etag, a.status = 304;
  ck_assert_int_gt(ta_oom_loop(one_op, one_undo, &a), 3);
  mirror_stop(&m);
}
END_TEST

#endif

/* ------------------------------------------------------------------ operations that do not
 * allocate */

static void nop(void *arg) {
  (void)arg;
}

static int twice(const void *ctx, size_t index, const void *in, void *out) {
  (void)index;
  (void)ctx;
  *(long *)out = 2 * *(const long *)in;
  return 0;
}

static int count_entry(const char *key, int64_t value, void *arg) {
  (void)key, (void)value;
  ++*(int *)arg;
  return 0;
}

/* Made before allocations start failing; used by the calls that must not allocate. */
typedef struct {
  fo_mq *q;
  fo_pipe *r, *w;
  fo_shmdict *d;
  fo_tpool *tp;
  fo_tpool_group *g;
  fo_ppool *pp;
  fo_proc *pr;
  fo_json *doc;
} objects;

static int exit_5(void *arg) {
  (void)arg;
  return 5;
}

START_TEST(the_rest_does_not_allocate) {
  objects o;
  ck_assert_int_eq(fo_mq_create(&o.q, 32, 4, 0), 0);
  ck_assert_int_eq(fo_pipe_create(&o.r, &o.w), 0);
  int rc = fo_shmdict_create(&o.d, 8, 16);
  if (rc == -EOPNOTSUPP) { /* no robust mutexes here (qemu-user): the rest without a dict */
    fprintf(stderr, "skip: no robust process-shared mutexes here; the dict's calls not run\n");
    o.d = NULL;
  } else {
    ck_assert_int_eq(rc, 0);
  }
  ck_assert_int_eq(fo_tpool_create(&o.tp, &(fo_tpool_opts){.threads = 2}), 0);
  ck_assert_int_eq(fo_tpool_group_create(o.tp, &o.g), 0);
  ck_assert_int_eq(fo_ppool_create(&o.pp, &(fo_ppool_opts){2, FO_PPOOL_ARENA_MIN}), 0);
  ck_assert_int_eq(fo_proc_spawn(&o.pr, exit_5, NULL, 0), 0);
  ck_assert_int_eq(fo_json_parse(sat_list, sizeof sat_list - 1, NULL, &o.doc, NULL), 0);

  long attempts = ta_attempts();
  ta_fail_at(1, 1); /* every allocation from here on fails */
  char buf[64];
  size_t len;
  int64_t v;
  int n = 0;
  /* queues, pipes, the dict */
  ck_assert_int_eq(fo_mq_send(o.q, "abc", 3, 0), 0);
  ck_assert_int_eq(fo_mq_recv(o.q, buf, sizeof buf, &len, 0), 0);
  ck_assert_int_eq(fo_pipe_send(o.w, "hello", 5, 0), 0);
  ck_assert_int_eq(fo_pipe_recv(o.r, buf, sizeof buf, &len, 0), 0);
  if (o.d != NULL) {
    ck_assert_int_eq(fo_shmdict_set(o.d, "a", 1), 0);
    ck_assert_int_eq(fo_shmdict_add(o.d, "a", 2, &v), 0);
    ck_assert_int_eq(fo_shmdict_get(o.d, "a", &v), 0);
    ck_assert(v == 3);
    ck_assert_int_eq(fo_shmdict_count(o.d), 1);
    ck_assert_int_eq(fo_shmdict_delete(o.d, "a"), 0);
    ck_assert_int_eq(fo_shmdict_foreach(o.d, count_entry, &n), 0); /* empty: nothing to copy */
  }
  /* threads */
  ck_assert_int_eq(fo_tpool_submit(o.tp, nop, NULL), 0);
  ck_assert_int_eq(fo_tpool_try_submit(o.tp, nop, NULL), 0);
  ck_assert_int_eq(fo_tpool_submit_timed(o.tp, nop, NULL, 1000), 0);
  ck_assert_int_eq(fo_tpool_group_submit(o.g, nop, NULL, FO_FOREVER), 0);
  ck_assert_int_eq(fo_tpool_group_wait(o.g), 0);
  ck_assert_int_eq(fo_tpool_wait(o.tp), 0);
  /* processes: a map, and one after a worker was killed (its replacement is forked) */
  long in[16], out[16];
  for (int i = 0; i < 16; i++)
    in[i] = i;
  ck_assert_int_eq(
      tp_map(o.pp, twice, NULL, 0, in, sizeof *in, out, sizeof *out, 16, NULL, NULL), 0);
  ck_assert_int_eq(kill(fo_ppool_worker_pid(o.pp, 0), SIGKILL), 0);
  ck_assert_int_eq(
      tp_map(o.pp, twice, NULL, 0, in, sizeof *in, out, sizeof *out, 16, NULL, NULL), 0);
  ck_assert(out[15] == 30);
  fo_proc_status st;
  ck_assert_int_eq(fo_proc_join(o.pr, (int)(10000 * tp_scaled(1)), &st), 0);
  ck_assert_int_eq(st.code, 5);
  /* JSON and satellites, on a parsed document */
  int root = fo_json_root(o.doc), first = fo_json_index(o.doc, root, 0);
  ck_assert_int_ge(first, 0);
  ck_assert_int_ge(fo_json_path(o.doc, root, "1.latitude"), 0);
  ck_assert_int_eq(fo_json_size(o.doc, root), 3);
  int it = 0, key = fo_json_first(o.doc, first);
  const char *k;
  size_t kl;
  ck_assert_int_ge(fo_json_member(o.doc, first, &it, &k, &kl), 0);
  int id = fo_json_value(o.doc, key), h = fo_json_get(o.doc, first, "height_km");
  ck_assert_int_eq(fo_json_equals(o.doc, id, "5eed770f096e59000698560d", 24), 1);
  ck_assert_int_eq(fo_json_string(o.doc, id, buf, sizeof buf, &len), 0);
  ck_assert_int_eq(fo_json_raw(o.doc, id, &k, &len), 0);
  double num;
  ck_assert_int_eq(fo_json_number(o.doc, h, &num), 0);
  ck_assert_int_eq(fo_json_is_null(o.doc, fo_json_path(o.doc, root, "2.longitude")), 1);
  ck_assert_int_ge(fo_json_next(o.doc, first), 0);
  ck_assert_int_eq(fo_json_has_escapes(o.doc), 0);
  ck_assert_int_ge(fo_json_typeof(o.doc, h), 0);
  ck_assert_int_ge(fo_cpu_count(), 1);
  ck_assert_ptr_nonnull(fo_strerror(FO_EMQLIMIT));
  fo_sat_record rec;
  ck_assert_int_eq(fo_sat_from_json(o.doc, first, &rec), 0);
  ck_assert_int_eq(fo_sat_check_id("5eed770f096e59000698560d", FO_SAT_ID_LEN), 0);
  fo_sat_time t;
  ck_assert_int_eq(fo_sat_parse_date("2021-05-17T13:49:59.934Z", 24, &t), 0);
  ck_assert_int_eq(ta_attempts(), attempts);
  ta_fail_at(0, 0);

  fo_json_free(o.doc);
  fo_proc_destroy(o.pr);
  fo_ppool_destroy(o.pp);
  ck_assert_int_eq(fo_tpool_group_destroy(o.g), 0);
  ck_assert_int_eq(fo_tpool_destroy(o.tp), 0);
  fo_shmdict_destroy(o.d);
  fo_pipe_destroy(o.r);
  fo_pipe_destroy(o.w);
  fo_mq_destroy(o.q);
}
END_TEST

Suite *oom_suite(void) {
  Suite *s = suite_create("oom");
  TCase *tc = fo_tcase("every_operation", 30);
  tcase_add_test(tc, shm_open_named);
  tcase_add_test(tc, sat_list_ids);
  tcase_add_test(tc, the_rest_does_not_allocate);
  suite_add_tcase(s, tc);
#ifdef FO_HAVE_CURL
  tc = fo_tcase("fetch", 60);
  inject_curl_fixture(tc);
  tcase_add_test(tc, fetch_one);
  suite_add_tcase(s, tc);
#endif
  return s;
}
