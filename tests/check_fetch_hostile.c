/* The fetcher against a hostile server (tests/hostile/fo-hostile): server text that would reach
 * a terminal or go back in a header, headers over their bound, status lines outside 100-599,
 * answers that do not match the request (a 206 to no Range, a wrong Content-Range, a
 * Transfer-Encoding other than chunked), each failing with a code that names the server, and
 * nothing written under the final name. The redirect cases are in check_fetch_redirect.c. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "helpers/files.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/hostile_env.h"
#include "helpers/nginx.h"
#include "suites.h"

/* The hostile server, by FO_HOSTILE when set: under an emulator the test runner is the target's,
 * and the servers it starts must be the build machine's (as FO_MIRROR does for the mirror). */
static const char *hostile_bin(void) {
  const char *e = getenv("FO_HOSTILE");
  return e && *e ? e : FO_HOSTILE_BIN;
}

int hostile_up(hostile_env *e, unsigned retries, unsigned redirs) {
  const char *args[] = {"--idle-exit", "20", NULL};
  int rc = server_start(&e->srv, hostile_bin(), args);
  ck_assert_msg(rc == 0, "fo-hostile did not start: %s", strerror(-rc));
  fo_fetch_opts o = {.threads = 2,
                     .timeout_ms = 10000,
                     .retries = retries,
                     .max_redirs = redirs,
                     .backoff_ms = 5,
                     .backoff_max_ms = 20};
  ck_assert_int_eq(fo_fetcher_create(&e->f, &o), 0);
  snprintf(e->dir, sizeof e->dir, "/tmp/fo-hostile-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(e->dir));
  return 0;
}

void hostile_down(hostile_env *e) {
  fo_fetcher_destroy(e->f);
  mirror_stop(&e->srv);
  test_run("rm -rf %s", e->dir);
}

void hostile_url(const hostile_env *e, const char *path, char *buf, size_t cap) {
  mirror_url(&e->srv, path, buf, cap);
}

long hostile_stat(const hostile_env *e, const char *key) {
  char body[256];
  if (mirror_get(&e->srv, "/stats", body, sizeof body) != 200)
    return -1;
  char want[64];
  snprintf(want, sizeof want, "%s=", key);
  const char *p = strstr(body, want);
  return p ? strtol(p + strlen(want), NULL, 10) : -1;
}

/* One GET of path into memory (or into dir/out when to_file). */
static int get(hostile_env *e, const char *path, int to_file, fo_fetch_result *r) {
  char url[256], out[300];
  hostile_url(e, path, url, sizeof url);
  snprintf(out, sizeof out, "%s/out", e->dir);
  fo_fetch_req req = {.url = url, .output = to_file ? out : NULL};
  int n = fo_fetch_requests(e->f, &req, 1, r, NULL, NULL);
  ck_assert_int_ge(n, 0);
  return r->err;
}

static int has_control(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 1;
  return 0;
}

static int exists(const hostile_env *e, const char *name) {
  char p[300];
  snprintf(p, sizeof p, "%s/%s", e->dir, name);
  return access(p, F_OK) == 0;
}

START_TEST(server_text_never_carries_control_bytes) {
  hostile_env e;
  hostile_up(&e, 0, 0);
  fo_fetch_result r;
  ck_assert_int_eq(get(&e, "/ctype", 0, &r), 0);
  ck_assert_msg(!has_control(r.content_type), "content_type: %s", r.content_type);
  ck_assert_ptr_nonnull(strstr(r.content_type, "text/plain\\x1b]0;owned\\x07\\x1b[2J"));
  fo_fetch_result_free(&r);
  ck_assert_int_eq(get(&e, "/ctype404", 0, &r), FO_EHTTP);
  ck_assert_msg(!has_control(r.message), "message: %s", r.message);
  ck_assert_ptr_nonnull(strstr(r.message, "404 (text/plain\\x1b]0;owned"));
  fo_fetch_result_free(&r);
  /* an ETag with a bare CR, or too long, is not kept; a printable one is */
  ck_assert_int_eq(get(&e, "/etag-cr", 0, &r), 0);
  ck_assert_ptr_null(r.etag);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(get(&e, "/etag-long", 0, &r), 0);
  ck_assert_ptr_null(r.etag);
  fo_fetch_result_free(&r);
  hostile_down(&e);
}
END_TEST

/* A resumed download cut short keeps a validator only when it is printable: an ETag with a bare
 * CR is never sent back in If-Range, where a printable one is. */
START_TEST(a_bad_etag_never_goes_back_in_if_range) {
  hostile_env e;
  hostile_up(&e, 1, 0);
  const char *paths[] = {"/cut?etag=cr", "/cut?etag=ok"};
  long want[] = {0, 1};
  for (int i = 0; i < 2; i++) {
    char url[256], out[300];
    hostile_url(&e, paths[i], url, sizeof url);
    snprintf(out, sizeof out, "%s/out%d", e.dir, i);
    fo_fetch_req req = {.url = url, .output = out, .flags = FO_FETCH_RESUME};
    fo_fetch_result r;
    ck_assert_int_eq(fo_fetch_requests(e.f, &req, 1, &r, NULL, NULL), 1);
    ck_assert_uint_eq(r.attempts, 2);
    fo_fetch_result_free(&r);
    ck_assert_int_eq(access(out, F_OK), -1);
  }
  ck_assert_int_eq(hostile_stat(&e, "ifrange"), want[0] + want[1]);
  hostile_down(&e);
}
END_TEST

START_TEST(oversized_headers_are_the_servers_fault) {
  hostile_env e;
  hostile_up(&e, 2, 0);
  const char *paths[] = {"/bighdr", "/longline", "/manyhdr"};
  for (int i = 0; i < 3; i++) {
    fo_fetch_result r;
    int err = get(&e, paths[i], 1, &r);
    ck_assert_msg(err == FO_EHEADER, "%s: %s (%s)", paths[i], fo_errname(err), r.message);
    ck_assert_uint_eq(r.attempts, 1); /* not retried: the same request gets the same answer */
    ck_assert_ptr_null(r.body);
    fo_fetch_result_free(&r);
    ck_assert(!exists(&e, "out"));
  }
  ck_assert_int_eq(test_dir_entries(e.dir), 0);
  hostile_down(&e);
}
END_TEST

START_TEST(status_outside_100_to_599_is_a_protocol_error) {
  hostile_env e;
  hostile_up(&e, 2, 0);
  const char *paths[] = {"/status2000", "/status99", "/status600"};
  for (int i = 0; i < 3; i++) {
    fo_fetch_result r;
    int err = get(&e, paths[i], 1, &r);
    ck_assert_msg(err == FO_EPROTOCOL, "%s: %s (%s)", paths[i], fo_errname(err), r.message);
    ck_assert_uint_eq(r.attempts, 1);
    fo_fetch_result_free(&r);
  }
  ck_assert_int_eq(test_dir_entries(e.dir), 0);
  hostile_down(&e);
}
END_TEST

START_TEST(answers_that_do_not_fit_the_request_write_nothing) {
  hostile_env e;
  hostile_up(&e, 0, 0);
  fo_fetch_result r;
  /* a 206 to a request without Range: not the whole file */
  int err = get(&e, "/partial", 1, &r);
  ck_assert_msg(err == FO_EPROTOCOL, "%s (%s)", fo_errname(err), r.message);
  ck_assert_ptr_nonnull(strstr(r.message, "without Range"));
  fo_fetch_result_free(&r);
  err = get(&e, "/partial", 0, &r);
  ck_assert_int_eq(err, FO_EPROTOCOL);
  ck_assert_ptr_null(r.body);
  fo_fetch_result_free(&r);
  /* a Transfer-Encoding the fetcher did not ask for: raw gzip is not the file */
  err = get(&e, "/te-gzip", 1, &r);
  ck_assert_msg(err == FO_EPROTOCOL, "%s (%s)", fo_errname(err), r.message);
  ck_assert_ptr_nonnull(strstr(r.message, "Transfer-Encoding"));
  fo_fetch_result_free(&r);
  ck_assert_int_eq(test_dir_entries(e.dir), 0);
  hostile_down(&e);
}
END_TEST

/* A resumed download whose second attempt gets a 206 wrong in its start, its end or its length:
 * the attempt fails, nothing is appended and no file appears under the final name. The control
 * case (a right 206) succeeds, so the test sees the difference. */
START_TEST(a_wrong_content_range_fails_the_attempt) {
  hostile_env e;
  hostile_up(&e, 1, 0);
  const char *bad[] = {"start", "end", "len", "none"};
  for (int i = 0; i < 4; i++) {
    char url[256], path[64], out[300];
    snprintf(path, sizeof path, "/range?bad=%s", bad[i]);
    hostile_url(&e, path, url, sizeof url);
    snprintf(out, sizeof out, "%s/%s", e.dir, bad[i]);
    fo_fetch_req req = {.url = url, .output = out, .flags = FO_FETCH_RESUME};
    fo_fetch_result r;
    fo_fetch_requests(e.f, &req, 1, &r, NULL, NULL);
    ck_assert_uint_eq(r.attempts, 2);
    if (i < 3) {
      ck_assert_msg(r.err == FO_EPROTOCOL, "%s: %s (%s)", bad[i], fo_errname(r.err), r.message);
      ck_assert_ptr_nonnull(strstr(r.message, "206"));
      ck_assert_int_eq(access(out, F_OK), -1);
    } else {
      ck_assert_msg(r.err == 0, "%s", r.message);
      ck_assert_uint_eq(r.resumed, 500);
      struct stat st;
      ck_assert_int_eq(stat(out, &st), 0);
      ck_assert_int_eq(st.st_size, 1000);
    }
    fo_fetch_result_free(&r);
  }
  ck_assert_int_eq(hostile_stat(&e, "range"), 4);
  hostile_down(&e);
}
END_TEST

START_TEST(the_server_codes_are_named_and_not_retried) {
  const int codes[] = {FO_EHEADER, FO_EREDIRECT, FO_EPROTOCOL};
  const char *names[] = {"FO_EHEADER", "FO_EREDIRECT", "FO_EPROTOCOL"};
  for (int i = 0; i < 3; i++) {
    ck_assert_str_eq(fo_errname(codes[i]), names[i]);
    ck_assert_ptr_nonnull(strstr(fo_strerror(codes[i]), "server"));
  }
  ck_assert_int_eq(FO_EHEADER, -(FO_ERRBASE + 65));
  ck_assert_int_eq(FO_EREDIRECT, -(FO_ERRBASE + 66));
  ck_assert_int_eq(FO_EPROTOCOL, -(FO_ERRBASE + 67));
}
END_TEST

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

Suite *fetch_hostile_suite(void) {
  Suite *s = suite_create("fetch_hostile");
  TCase *tc = fo_tcase("server", 60);
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
  tcase_add_test(tc, server_text_never_carries_control_bytes);
  tcase_add_test(tc, a_bad_etag_never_goes_back_in_if_range);
  tcase_add_test(tc, oversized_headers_are_the_servers_fault);
  tcase_add_test(tc, status_outside_100_to_599_is_a_protocol_error);
  tcase_add_test(tc, answers_that_do_not_fit_the_request_write_nothing);
  tcase_add_test(tc, a_wrong_content_range_fails_the_attempt);
  tcase_add_test(tc, the_server_codes_are_named_and_not_retried);
  suite_add_tcase(s, tc);
  fetch_redirect_cases(s);
  return s;
}
