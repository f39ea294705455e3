/* fo_info_get: the build and the libcurl the library runs on. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "fanout/fanout.h"
#include "helpers/fixture.h"
#include "suites.h"
#ifdef FO_HAVE_CURL
#include <curl/curl.h>
#endif

START_TEST(names_this_build) {
  fo_info info;
  memset(&info, 0, sizeof info);
  ck_assert_int_eq(fo_info_get(&info), 0);
  ck_assert_str_eq(info.version, FO_VERSION_STRING);
  ck_assert_str_eq(info.port, FO_PORT_NAME);
#ifdef FO_HAVE_CURL
  ck_assert_int_eq(info.fetch, 1);
  /* the libcurl the program runs on is the one it was compiled against: libcurl is linked in,
   * not taken from whatever libcurl.so the machine has */
  ck_assert_str_eq(info.curl_version, LIBCURL_VERSION);
  ck_assert_str_eq(info.curl_version, curl_version_info(CURLVERSION_NOW)->version);
  /* configure read the TLS library from libcurl's build; the running one must be the same */
  size_t n = strlen(FO_CURL_TLS_NAME);
  if (strcmp(FO_CURL_TLS_NAME, "unknown") != 0)
    ck_assert_msg(strncmp(info.tls_backend, FO_CURL_TLS_NAME "/", n + 1) == 0,
                  "libcurl runs on '%s', configure found %s", info.tls_backend, FO_CURL_TLS_NAME);
  else
    ck_assert_int_gt((int)strlen(info.tls_backend), 0);
  /* configure read HTTP/2 from libcurl's build too; the libcurl linked in must have it (or not)
   * the same, so a libcurl that lost nghttp2 fails here instead of skipping the HTTP/2 suite */
#ifdef FO_CURL_HTTP2
  ck_assert_msg(info.http2 == 1, "configure found libcurl with HTTP/2, the running one has none");
#else
  ck_assert_msg(info.http2 == 0, "configure found libcurl without HTTP/2, the running one has it");
#endif
  int h2 = (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2) != 0;
  ck_assert_int_eq(info.http2, h2);
#else
  ck_assert_int_eq(info.fetch, 0);
  ck_assert_str_eq(info.curl_version, "");
  ck_assert_str_eq(info.tls_backend, "");
  ck_assert_int_eq(info.http2, 0);
#endif
}
END_TEST

START_TEST(null_is_refused) {
  ck_assert_int_eq(fo_info_get(NULL), -EINVAL);
}
END_TEST

static void *read_info(void *arg) {
  fo_info *out = arg;
  return (void *)(long)fo_info_get(out);
}

/* The first calls race to read libcurl's version (ThreadSanitizer runs this in CI). */
START_TEST(many_threads_read_the_same) {
  enum { N = 8 };
  pthread_t t[N];
  fo_info got[N];
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, read_info, &got[i]), 0);
  for (int i = 0; i < N; i++) {
    void *rc;
    ck_assert_int_eq(pthread_join(t[i], &rc), 0);
    ck_assert_ptr_null(rc);
  }
  for (int i = 1; i < N; i++) {
    ck_assert_str_eq(got[i].curl_version, got[0].curl_version);
    ck_assert_str_eq(got[i].tls_backend, got[0].tls_backend);
    ck_assert_int_eq(got[i].http2, got[0].http2);
  }
}
END_TEST

Suite *info_suite(void) {
  Suite *s = suite_create("info");
  TCase *tc = fo_tcase("info", 5);
  tcase_add_test(tc, many_threads_read_the_same);
  tcase_add_test(tc, names_this_build);
  tcase_add_test(tc, null_is_refused);
  suite_add_tcase(s, tc);
  return s;
}
