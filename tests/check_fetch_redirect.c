/* Redirects and caller headers against the hostile server: a redirect to another origin
 * (localhost after 127.0.0.1) carries only the headers the caller marked forwardable and a
 * body only when the caller allows it, a 303 drops the body, a redirect to another scheme is
 * refused; caller headers that would frame the message or carry control bytes are refused
 * before anything is sent (Content-Length: 0 on a PUT cannot smuggle its body past a
 * keep-alive server as a second request), and a body without a type goes as octets. /echo
 * sends back what arrived, so each case asserts what the server saw. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fanout/fetch.h"
#include "helpers/fixture.h"
#include "helpers/hostile_env.h"
#include "suites.h"

/* The request the echo saw: its head and body, as the body of r (NULL when none came). */
static const char *seen(const fo_fetch_result *r) {
  return r->err == 0 && r->body != NULL ? r->body : NULL;
}

START_TEST(another_origin_gets_only_forwardable_headers) {
  hostile_env e;
  hostile_up(&e, 0, 5);
  const char *hdrs[] = {"Authorization: Bearer secret", "X-Api-Key: k1", "X-Trace: t1",
                        "Cookie: s=1", NULL};
  const char *fwd[] = {"x-trace", "Authorization", NULL};
  char other[256], other307[256], same[256];
  hostile_url(&e, "/redir?code=302&to=other", other, sizeof other);
  hostile_url(&e, "/redir?code=307&to=other", other307, sizeof other307);
  hostile_url(&e, "/redir?code=302&to=same", same, sizeof same);
  fo_fetch_req reqs[] = {{.url = other, .headers = hdrs},
                         {.url = other, .headers = hdrs, .forward_headers = fwd},
                         {.url = other307, .headers = hdrs, .forward_headers = fwd},
                         {.url = same, .headers = hdrs}};
  enum { N = sizeof reqs / sizeof reqs[0] };
  fo_fetch_result res[N];
  ck_assert_int_eq(fo_fetch_requests(e.f, reqs, N, res, NULL, NULL), 0);
  for (int i = 0; i < N; i++) {
    const char *s = seen(&res[i]);
    ck_assert_msg(s != NULL, "%d: %s", i, res[i].message);
    ck_assert_ptr_nonnull(strstr(s, "GET /echo HTTP/1.1\r\n"));
    int cross = i < 3;
    ck_assert_msg(cross == (strstr(s, "Host: localhost:") != NULL), "%d: %s", i, s);
    /* deny by default; a name in forward_headers goes; credentials never go elsewhere */
    ck_assert_msg((strstr(s, "X-Trace: t1") != NULL) == (i != 0), "%d: %s", i, s);
    ck_assert_msg((strstr(s, "X-Api-Key: k1") != NULL) == !cross, "%d: %s", i, s);
    ck_assert_msg((strstr(s, "Authorization:") != NULL) == !cross, "%d: %s", i, s);
    ck_assert_msg((strstr(s, "Cookie:") != NULL) == !cross, "%d: %s", i, s);
  }
  fo_fetch_results_free(res, N);
  ck_assert_int_eq(hostile_stat(&e, "echo"), N);
  hostile_down(&e);
}
END_TEST

START_TEST(a_body_goes_to_another_origin_only_when_allowed) {
  hostile_env e;
  hostile_up(&e, 0, 5);
  char other307[256], other308[256], same307[256], other303[256], ftp[256];
  hostile_url(&e, "/redir?code=307&to=other", other307, sizeof other307);
  hostile_url(&e, "/redir?code=308&to=other", other308, sizeof other308);
  hostile_url(&e, "/redir?code=307&to=same", same307, sizeof same307);
  hostile_url(&e, "/redir?code=303&to=other", other303, sizeof other303);
  hostile_url(&e, "/redir?code=302&to=ftp", ftp, sizeof ftp);
  const char *json[] = {"Content-Type: application/json", NULL};
#define BODY .body_from = FO_FETCH_BODY_MEMORY, .body = "payload-1", .body_len = 9
  fo_fetch_req reqs[] = {
      {.url = other307, .method = "PUT", BODY},
      {.url = other308, .method = "POST", BODY},
      {.url = other307, .method = "PUT", BODY, .flags = FO_FETCH_BODY_CROSS_HOST},
      {.url = same307, .method = "PUT", BODY},
      {.url = other303, .method = "POST", BODY, .headers = json},
      {.url = ftp},
  };
#undef BODY
  enum { N = sizeof reqs / sizeof reqs[0] };
  fo_fetch_result res[N];
  ck_assert_int_eq(fo_fetch_requests(e.f, reqs, N, res, NULL, NULL), 3);
  for (int i = 0; i < 2; i++) {
    ck_assert_msg(res[i].err == FO_EREDIRECT, "%d: %s", i, fo_errname(res[i].err));
    ck_assert_ptr_nonnull(strstr(res[i].message, "another host"));
    ck_assert_ptr_null(res[i].body);
  }
  ck_assert_int_eq(res[5].err, FO_EREDIRECT);
  /* allowed: the body goes along, labelled as octets */
  ck_assert_msg(seen(&res[2]) != NULL, "%s", res[2].message);
  ck_assert_ptr_nonnull(strstr(res[2].body, "PUT /echo HTTP/1.1\r\n"));
  ck_assert_ptr_nonnull(strstr(res[2].body, "Host: localhost:"));
  ck_assert_ptr_nonnull(strstr(res[2].body, "Content-Type: application/octet-stream\r\n"));
  ck_assert_ptr_nonnull(strstr(res[2].body, "\r\n\r\npayload-1"));
  /* the same origin needs no permission */
  ck_assert_msg(seen(&res[3]) != NULL, "%s", res[3].message);
  ck_assert_ptr_nonnull(strstr(res[3].body, "PUT /echo HTTP/1.1\r\n"));
  ck_assert_ptr_nonnull(strstr(res[3].body, "\r\n\r\npayload-1"));
  /* 303: a GET without the body, nor its type */
  ck_assert_msg(seen(&res[4]) != NULL, "%s", res[4].message);
  ck_assert_ptr_nonnull(strstr(res[4].body, "GET /echo HTTP/1.1\r\n"));
  ck_assert_ptr_null(strstr(res[4].body, "payload"));
  ck_assert_ptr_null(strstr(res[4].body, "Content-Type"));
  fo_fetch_results_free(res, N);
  /* the refused hops never reached the echo */
  ck_assert_int_eq(hostile_stat(&e, "echo"), 3);
  hostile_down(&e);
}
END_TEST

START_TEST(framing_headers_and_control_bytes_are_refused) {
  const char *cl0[] = {"Content-Length: 0", NULL};
  const char *te[] = {"X-Ok: 1", "transfer-encoding: chunked", NULL};
  const char *host[] = {"Host:", NULL};
  const char *conn[] = {"CONNECTION: close", NULL};
  const char *upg[] = {"Upgrade: h2c", NULL};
  const char *te2[] = {"TE: trailers", NULL};
  const char *expect[] = {"Expect: 100-continue", NULL};
  const char *ctl[] = {"X-A: a\x01" "b", NULL};
  const char *del[] = {"X-A: a\x7f", NULL};
  const char *esc[] = {"X-A: \x1b[2J", NULL};
  const char *sp[] = {" : v", NULL};
  const char *const *bad[] = {cl0, te, host, conn, upg, te2, expect, ctl, del, esc, sp};
  long long index[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fo_fetch_req r = {.url = "http://x/", .method = "PUT", .headers = bad[i],
                      .body_from = FO_FETCH_BODY_MEMORY, .body = "x", .body_len = 1};
    fo_opt_error why = {0};
    ck_assert_msg(fo_fetch_req_check(&r, &why) == -EINVAL, "case %zu accepted", i);
    ck_assert_str_eq(why.field, "headers");
    ck_assert_int_eq(why.value, index[i]);
  }
  const char *tab[] = {"X-A: a\tb", "Content-Type: text/plain", NULL};
  const char *fwd_bad[] = {"X-A", "", NULL};
  const char *fwd_sp[] = {"X A", NULL};
  const char *fwd_ok[] = {"X-A", NULL};
  fo_fetch_req ok = {.url = "http://x/", .headers = tab, .forward_headers = fwd_ok,
                     .flags = FO_FETCH_BODY_CROSS_HOST};
  ck_assert_int_eq(fo_fetch_req_check(&ok, NULL), 0);
  fo_opt_error why;
  ok.forward_headers = fwd_bad;
  ck_assert_int_eq(fo_fetch_req_check(&ok, &why), -EINVAL);
  ck_assert_str_eq(why.field, "forward_headers");
  ok.forward_headers = fwd_sp;
  ck_assert_int_eq(fo_fetch_req_check(&ok, &why), -EINVAL);
}
END_TEST

/* Content-Length: 0 on a PUT would put the body on the wire after a request the server thinks
 * complete: a keep-alive server reads it as a second request. The call refuses the item before
 * connecting: the server sees nothing at all. */
START_TEST(content_length_zero_cannot_smuggle_a_request) {
  hostile_env e;
  hostile_up(&e, 0, 0);
  char url[256];
  hostile_url(&e, "/echo", url, sizeof url);
  const char *cl0[] = {"Content-Length: 0", NULL};
  static const char smuggled[] = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  fo_fetch_req reqs[] = {{.url = url, .method = "PUT", .headers = cl0,
                          .body_from = FO_FETCH_BODY_MEMORY, .body = smuggled,
                          .body_len = sizeof smuggled - 1},
                         {.url = url, .method = "PUT", .body_from = FO_FETCH_BODY_MEMORY,
                          .body = "octets", .body_len = 6}};
  fo_fetch_result res[2];
  ck_assert_int_eq(fo_fetch_requests(e.f, reqs, 2, res, NULL, NULL), 1);
  ck_assert_int_eq(res[0].err, -EINVAL);
  ck_assert_uint_eq(res[0].attempts, 0);
  ck_assert_msg(strstr(res[0].message, "headers [0]: a header the fetcher frames") != NULL, "%s",
                res[0].message);
  /* a body without a type goes as octets, not as a form */
  ck_assert_msg(seen(&res[1]) != NULL, "%s", res[1].message);
  ck_assert_ptr_nonnull(strstr(res[1].body, "Content-Type: application/octet-stream\r\n"));
  ck_assert_ptr_null(strstr(res[1].body, "x-www-form-urlencoded"));
  ck_assert_ptr_nonnull(strstr(res[1].body, "Content-Length: 6\r\n"));
  fo_fetch_results_free(res, 2);
  ck_assert_int_eq(hostile_stat(&e, "requests"), 1);
  hostile_down(&e);
}
END_TEST

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

void fetch_redirect_cases(Suite *s) {
  TCase *tc = fo_tcase("redirects_and_headers", 60);
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
  tcase_add_test(tc, another_origin_gets_only_forwardable_headers);
  tcase_add_test(tc, a_body_goes_to_another_origin_only_when_allowed);
  tcase_add_test(tc, framing_headers_and_control_bytes_are_refused);
  tcase_add_test(tc, content_length_zero_cannot_smuggle_a_request);
  suite_add_tcase(s, tc);
}
