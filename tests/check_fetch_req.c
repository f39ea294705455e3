/* Requests against a real nginx: methods, the caller's headers, bodies from memory, a file, a
 * descriptor and a callback (Content-Length and chunked), WebDAV PUT read back, refused
 * requests failing alone, redirects (off, bounded, never https to http, credentials kept from
 * other hosts) and which methods are retried. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "helpers/fixture.h"
#include "helpers/nginx.h"
#include "suites.h"

static fo_fetcher *make(const test_nginx *e, unsigned redirs, unsigned retries) {
  fo_fetcher *f = NULL;
  fo_fetch_opts o = {.threads = 4,
                     .ca_file = e ? e->ca : NULL,
                     .timeout_ms = 10000,
                     .max_redirs = redirs,
                     .retries = retries,
                     .backoff_ms = 5,
                     .backoff_max_ms = 20};
  int rc = fo_fetcher_create(&f, &o);
  ck_assert_msg(rc == 0, "%s", fo_strerror(rc));
  return f;
}

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

START_TEST(bad_requests_are_refused_with_the_field) {
  const char *crlf[] = {"X-Test: a\r\nX-Evil: b", NULL};
  const char *lf[] = {"X-Ok: 1", "X-Test: a\nb", NULL};
  const char *nocolon[] = {"Authorization Bearer x", NULL};
  const char *noname[] = {": value", NULL};
  const char *space[] = {"X Test: v", NULL};
  const char *good[] = {"Authorization: Bearer t", "Content-Type: application/json", NULL};
  struct {
    fo_fetch_req r;
    const char *field;
    long long value;
  } cases[] = {
      {{.url = NULL}, "url", 0},
      {{.url = ""}, "url", 0},
      {{.url = "http://x/", .method = "FETCH"}, "method", 5},
      {{.url = "http://x/", .method = "get"}, "method", 3},
      {{.url = "http://x/", .headers = crlf}, "headers", 0},
      {{.url = "http://x/", .headers = lf}, "headers", 1},
      {{.url = "http://x/", .headers = nocolon}, "headers", 0},
      {{.url = "http://x/", .headers = noname}, "headers", 0},
      {{.url = "http://x/", .headers = space}, "headers", 0},
      {{.url = "http://x/", .etag = "\"a\"\r\n"}, "etag", 5},
      {{.url = "http://x/", .body_from = FO_FETCH_BODY_MEMORY, .body = "x", .body_len = 1},
       "body_from", FO_FETCH_BODY_MEMORY},
      {{.url = "http://x/", .method = "POST", .body_from = FO_FETCH_BODY_MEMORY, .body_len = 3},
       "body", 3},
      {{.url = "http://x/", .method = "PUT", .body_from = FO_FETCH_BODY_FILE}, "body_path", 0},
      {{.url = "http://x/", .method = "PUT", .body_from = FO_FETCH_BODY_FD, .body_fd = -2},
       "body_fd", -2},
      {{.url = "http://x/", .method = "PUT", .body_from = FO_FETCH_BODY_READ}, "body_read", 0},
      {{.url = "http://x/", .method = "PUT", .body_from = (fo_fetch_body_from)9}, "body_from", 9},
      {{.url = "http://x/", .output = "dir/"}, "output", 4},
      {{.url = "http://x/", .sha256 = "abc"}, "sha256", 3},
      {{.url = "http://x/", .flags = 0x10}, "flags", 0x10},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fo_opt_error why = {0};
    ck_assert_msg(fo_fetch_req_check(&cases[i].r, &why) == -EINVAL, "case %zu accepted", i);
    ck_assert_msg(why.field != NULL && strcmp(why.field, cases[i].field) == 0,
                  "case %zu: field %s, not %s", i, why.field ? why.field : "(null)",
                  cases[i].field);
    ck_assert_int_eq(why.value, cases[i].value);
  }
  fo_fetch_req ok = {.url = "http://x/", .method = "DELETE", .headers = good};
  ck_assert_int_eq(fo_fetch_req_check(&ok, NULL), 0);
  ck_assert_int_eq(fo_fetch_req_check(NULL, NULL), -EINVAL);
  fo_fetch_opts o = {.max_redirs = FO_FETCH_REDIRS_MAX + 1};
  fo_opt_error why;
  ck_assert_int_eq(fo_fetch_opts_check(&o, &why), -EINVAL);
  ck_assert_str_eq(why.field, "max_redirs");
  /* the call itself refuses the bad item alone, before any network */
  fo_fetcher *f = make(NULL, 0, 0);
  fo_fetch_result res[2];
  fo_fetch_req reqs[2] = {{.url = "http://127.0.0.1:9/", .headers = crlf}, {.url = NULL}};
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 2, res, NULL, NULL), 2);
  ck_assert_int_eq(res[0].err, -EINVAL);
  ck_assert_ptr_nonnull(strstr(res[0].message, "headers"));
  ck_assert_uint_eq(res[0].attempts, 0);
  ck_assert_int_eq(res[1].err, -EINVAL);
  fo_fetch_results_free(res, 2);
  ck_assert_int_eq(fo_fetch_requests(NULL, reqs, 2, res, NULL, NULL), -EINVAL);
  ck_assert_int_eq(fo_fetch_requests(f, NULL, 2, res, NULL, NULL), -EINVAL);
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 0, NULL, NULL, NULL), 0);
  fo_fetcher_destroy(f);
}
END_TEST

/* A reader that hands out a fixed text in small pieces and does not know its length. */
typedef struct {
  const char *text;
  size_t at, piece;
  int fail_at; /* fail with -EIO once at >= this (0: never) */
} reader;

static long read_text(void *buf, size_t len, void *arg) {
  reader *r = arg;
  if (r->fail_at > 0 && r->at >= (size_t)r->fail_at)
    return -EIO;
  size_t left = strlen(r->text) - r->at;
  size_t n = left < len ? left : len;
  n = n < r->piece ? n : r->piece;
  memcpy(buf, r->text + r->at, n);
  r->at += n;
  return (long)n;
}

static void big_files(const char *html, void *arg) {
  (void)arg;
  char path[256];
  snprintf(path, sizeof path, "%s/big.json", html);
  test_make_text_file(path, 300000);
}

START_TEST(methods_headers_and_bodies_reach_nginx) {
  test_nginx e;
  if (!nginx_up(&e, "fetch_req", big_files, NULL))
    return;
  fo_fetcher *f = make(&e, 0, 0);
  char echo[128], up[128], upc[128], upfd[128], big[128], bigfile[256], shrink[256];
  nginx_url(&e, 1, "/echo", echo, sizeof echo);
  nginx_url(&e, 1, "/dav/sub/up.json", up, sizeof up);
  nginx_url(&e, 0, "/dav/chunked.txt", upc, sizeof upc);
  nginx_url(&e, 1, "/dav/fd.json", upfd, sizeof upfd);
  nginx_url(&e, 1, "/big.json", big, sizeof big);
  snprintf(bigfile, sizeof bigfile, "%s/html/big.json", e.dir);
  snprintf(shrink, sizeof shrink, "%s/short.txt", e.dir);
  test_write_file(shrink, "only a few bytes");
  const char *hdrs[] = {"X-Test: hello", "Authorization: Bearer tok", NULL};
  reader rd = {.text = "a chunked body of unknown length", .piece = 5};
  reader bad = {.text = "never finished", .piece = 3, .fail_at = 6};
  int fd = open(bigfile, O_RDONLY);
  int sfd = open(shrink, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  fo_fetch_req reqs[] = {
      {.url = echo, .headers = hdrs},
      {.url = echo, .method = "POST", .body_from = FO_FETCH_BODY_MEMORY, .body = "abc",
       .body_len = 3},
      {.url = echo, .method = "PATCH", .body_from = FO_FETCH_BODY_READ, .body_read = read_text,
       .body_arg = &rd},
      {.url = up, .method = "PUT", .body_from = FO_FETCH_BODY_FILE, .body_path = bigfile},
      {.url = upc, .method = "PUT", .body_from = FO_FETCH_BODY_READ, .body_read = read_text,
       .body_arg = &(reader){.text = "chunks to a file", .piece = 4}},
      {.url = upfd, .method = "PUT", .body_from = FO_FETCH_BODY_FD, .body_fd = fd},
      {.url = big, .method = "HEAD"},
      /* bad bodies: each fails alone */
      {.url = echo, .method = "POST", .body_from = FO_FETCH_BODY_FILE, .body_path = "/nonexistent/x"},
      {.url = echo, .method = "POST", .body_from = FO_FETCH_BODY_FD, .body_fd = sfd,
       .body_size = 1000},
      {.url = echo, .method = "POST", .body_from = FO_FETCH_BODY_READ, .body_read = read_text,
       .body_arg = &bad},
  };
  enum { N = sizeof reqs / sizeof reqs[0] };
  fo_fetch_result res[N];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N, res, NULL, NULL), 3);
  for (int i = 0; i < 7; i++)
    ck_assert_msg(res[i].err == 0, "%d: %s", i, res[i].message);
  ck_assert_ptr_nonnull(strstr(res[0].body, "m=GET a=Bearer tok c= x=hello len= te= "));
  ck_assert_ptr_nonnull(strstr(res[0].body, "ae=gzip, deflate"));
  ck_assert_ptr_nonnull(strstr(res[1].body, "m=POST a= c= x= len=3 te= "));
  /* (nginx fills $content_length itself once it has read a chunked body) */
  ck_assert_ptr_nonnull(strstr(res[2].body, "m=PATCH a= c= x= len="));
  ck_assert_ptr_nonnull(strstr(res[2].body, " te=chunked "));
  ck_assert_int_eq(res[3].status, 201);
  ck_assert_int_eq(res[4].status, 201);
  ck_assert_int_eq(res[5].status, 201);
  ck_assert_int_eq(res[6].status, 200);
  ck_assert_uint_eq(res[6].body_len, 0);
  for (int i = 7; i < N; i++) {
    ck_assert_msg(res[i].err == FO_EBODY, "%d: %d %s", i, res[i].err, res[i].message);
    ck_assert_ptr_null(res[i].body);
  }
  ck_assert_ptr_nonnull(strstr(res[7].message, "cannot open the body file"));
  ck_assert_ptr_nonnull(strstr(res[8].message, "ended after 16 of 1000 bytes"));
  ck_assert_ptr_nonnull(strstr(res[9].message, "reader failed"));
  fo_fetch_results_free(res, N);
  close(fd);
  close(sfd);
  /* what PUT stored is what was sent, byte for byte */
  char stored[256];
  snprintf(stored, sizeof stored, "%s/html/dav/sub/up.json", e.dir);
  ck_assert(test_files_equal(stored, bigfile));
  snprintf(stored, sizeof stored, "%s/html/dav/fd.json", e.dir);
  ck_assert(test_files_equal(stored, bigfile));
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_one(f, upc, NULL, &r), 0);
  ck_assert_str_eq(r.body, "chunks to a file");
  fo_fetch_result_free(&r);
  /* DELETE, then the file is gone */
  fo_fetch_req del = {.url = up, .method = "DELETE"};
  ck_assert_int_eq(fo_fetch_requests(f, &del, 1, &r, NULL, NULL), 0);
  ck_assert_int_eq(r.status, 204);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(fo_fetch_one(f, up, NULL, &r), FO_EHTTP);
  ck_assert_int_eq(r.status, 404);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  nginx_down(&e);
}
END_TEST

START_TEST(redirects_are_off_bounded_and_careful) {
  test_nginx e;
  if (!nginx_up(&e, "fetch_req", NULL, NULL))
    return;
  char same[128], other[128], tohttp[128], loop[128];
  nginx_url(&e, 0, "/to-echo", same, sizeof same);
  nginx_url(&e, 0, "/to-other", other, sizeof other);
  nginx_url(&e, 1, "/to-http", tohttp, sizeof tohttp);
  nginx_url(&e, 0, "/loop", loop, sizeof loop);
  const char *creds[] = {"Authorization: Bearer secret", "Cookie: s=1", "X-Test: kept", NULL};
  const char *fwd[] = {"x-test", "Authorization", "Cookie", NULL};
  fo_fetch_req reqs[] = {{.url = same, .headers = creds},
                         {.url = other, .headers = creds, .forward_headers = fwd},
                         {.url = tohttp, .headers = creds},
                         {.url = loop},
                         {.url = other, .headers = creds}};
  enum { N = sizeof reqs / sizeof reqs[0] };
  fo_fetch_result res[N];
  /* off by default: the 302 is the answer */
  fo_fetcher *f = make(&e, 0, 0);
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N, res, NULL, NULL), N);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(res[i].err, FO_EHTTP);
    ck_assert_int_eq(res[i].status, 302);
  }
  fo_fetch_results_free(res, N);
  fo_fetcher_destroy(f);

  f = make(&e, 5, 0);
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N, res, NULL, NULL), 2);
  ck_assert_msg(res[0].err == 0, "%s", res[0].message);
  ck_assert_ptr_nonnull(strstr(res[0].body, "a=Bearer secret c=s=1 x=kept"));
  /* another host: only the header marked forwardable arrives, never the credentials */
  ck_assert_msg(res[1].err == 0, "%s", res[1].message);
  ck_assert_ptr_nonnull(strstr(res[1].body, "m=GET a= c= x=kept"));
  ck_assert_msg(res[4].err == 0, "%s", res[4].message);
  ck_assert_ptr_nonnull(strstr(res[4].body, "m=GET a= c= x= "));
  /* https never leads to http */
  ck_assert_int_eq(res[2].err, FO_EREDIRECT);
  ck_assert_ptr_null(res[2].body);
  /* a loop stops at the bound */
  ck_assert_int_eq(res[3].err, FO_EREDIRECT);
  ck_assert_ptr_nonnull(strstr(res[3].message, "redirect"));
  fo_fetch_results_free(res, N);
  fo_fetcher_destroy(f);
  int conns, n;
  nginx_log_counts(&e, 18, &conns, &n);
  /* 6 hops of /loop: the first and 5 redirects */
  ck_assert_int_eq(n, 5 + 2 + 2 + 1 + 6 + 2);
  nginx_down(&e);
}
END_TEST

START_TEST(post_and_patch_are_retried_only_when_asked) {
  test_nginx e;
  if (!nginx_up(&e, "fetch_req", NULL, NULL))
    return;
  char fail[128];
  nginx_url(&e, 0, "/fail", fail, sizeof fail);
  fo_fetcher *f = make(&e, 0, 2);
  fo_fetch_req reqs[] = {
      {.url = fail, .method = "POST", .body_from = FO_FETCH_BODY_MEMORY, .body = "x", .body_len = 1},
      {.url = fail, .method = "PATCH"},
      {.url = fail, .method = "POST", .flags = FO_FETCH_RETRY_UNSAFE},
      {.url = fail, .method = "PUT", .body_from = FO_FETCH_BODY_MEMORY, .body = "y", .body_len = 1},
      {.url = fail, .method = "DELETE"},
      {.url = fail},
      {.url = fail, .method = "HEAD"},
      {.url = fail, .method = "POST", .flags = FO_FETCH_RETRY_UNSAFE,
       .body_from = FO_FETCH_BODY_READ, .body_read = read_text,
       .body_arg = &(reader){.text = "once", .piece = 9}},
  };
  unsigned want[] = {1, 1, 3, 3, 3, 3, 3, 1};
  enum { N = sizeof reqs / sizeof reqs[0] };
  fo_fetch_result res[N];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N, res, NULL, NULL), N);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(res[i].status, 503);
    ck_assert_msg(res[i].attempts == want[i], "%d: %u attempts", i, res[i].attempts);
  }
  fo_fetch_results_free(res, N);
  fo_fetcher_destroy(f);
  int conns, n;
  nginx_log_counts(&e, 18, &conns, &n);
  ck_assert_int_eq(n, 18);
  nginx_down(&e);
}
END_TEST

Suite *fetch_req_suite(void) {
  Suite *s = suite_create("fetch_req");
  TCase *tc = fo_tcase("requests", 60);
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
  tcase_add_test(tc, bad_requests_are_refused_with_the_field);
  tcase_add_test(tc, methods_headers_and_bodies_reach_nginx);
  tcase_add_test(tc, redirects_are_off_bounded_and_careful);
  tcase_add_test(tc, post_and_patch_are_retried_only_when_asked);
  suite_add_tcase(s, tc);
  return s;
}
