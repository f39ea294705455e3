/* The fetcher against a real TLS server: nginx from the distribution, started here on a loopback
 * port with a test CA and a `localhost` certificate made with the openssl command at test time.
 * The fetcher must succeed with the right CA (as a file or a hashed directory), fail with FO_ETLS
 * with a wrong CA, with the default bundle and with an IP address in place of the name, and reuse
 * its connections (counted from nginx's access log). Skipped, with a message, where nginx or
 * openssl is missing. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/nginx.h"
#include "suites.h"

#define NDOCS 12

typedef struct {
  test_nginx n;
  char ids[NDOCS][25];
} tls_env;

/* The mirror's documents as files in html/, the ids from its --dump output. */
static void make_docs(const char *html, void *arg) {
  tls_env *e = arg;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "%s --dump %s --docs %d", mirror_bin(), html, NDOCS);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char line[64];
  int n = 0;
  while (n < NDOCS && fgets(line, sizeof line, p) != NULL)
    if (sscanf(line, "%24[0-9a-f]", e->ids[n]) == 1)
      n++;
  ck_assert_int_eq(pclose(p), 0);
  ck_assert_int_eq(n, NDOCS);
}

/* Returns 0 when nginx or openssl is missing (the caller skips), 1 when all is ready. */
static int env_up(tls_env *e) {
  memset(e, 0, sizeof *e);
  return nginx_up(&e->n, "fetch_tls", make_docs, e);
}

static void env_down(tls_env *e) {
  nginx_down(&e->n);
}

static fo_fetcher *tls_fetcher(const char *ca_file, const char *ca_path, unsigned threads) {
  fo_fetcher *f = NULL;
  fo_fetch_opts o = {
      .threads = threads, .ca_file = ca_file, .ca_path = ca_path, .timeout_ms = 10000};
  int rc = fo_fetcher_create(&f, &o);
  ck_assert_msg(rc == 0, "%s", fo_strerror(rc));
  return f;
}

static char **tls_urls(const tls_env *e, const char *host, size_t n) {
  char **urls = malloc(n * sizeof *urls);
  for (size_t i = 0; i < n; i++) {
    urls[i] = malloc(128);
    snprintf(urls[i], 128, "https://%s:%d/v4/starlink/%s", host, e->n.port, e->ids[i % NDOCS]);
  }
  return urls;
}

static void free_urls(char **urls, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(urls[i]);
  free(urls);
}

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

/* qemu's user-mode emulator, which runs the cross-built suite, answers ENOSYS to
 * get_robust_list; real kernels do not. */
static int under_user_emulator(void) {
  void *head;
  size_t len;
  return syscall(SYS_get_robust_list, 0, &head, &len) != 0 && errno == ENOSYS;
}

START_TEST(right_ca_succeeds_and_connections_are_reused) {
  tls_env e;
  if (!env_up(&e))
    return;
  enum { N = 60, THREADS = 4 };
  char **urls = tls_urls(&e, "localhost", N);
  fo_fetcher *f = tls_fetcher(e.n.ca, NULL, THREADS);
  fo_fetch_result *res = calloc(N, sizeof *res);
  int rc = fo_fetch_many(f, (const char *const *)urls, NULL, N, res, NULL, NULL);
  for (size_t i = 0; i < N; i++) {
    ck_assert_msg(res[i].err == 0, "%s: %s", urls[i], res[i].message);
    ck_assert_int_eq(res[i].status, 200);
    ck_assert_ptr_nonnull(strstr(res[i].body, e.ids[i % NDOCS]));
  }
  ck_assert_int_eq(rc, 0);
  fo_fetch_results_free(res, N);
  /* a second round on the same handles: still no new connection */
  ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, N, res, NULL, NULL), 0);
  fo_fetch_results_free(res, N);
  /* nginx writes a request's log line after sending the answer, so the client can be done
   * before the last line is: wait, bounded, for the log to catch up. */
  int conns, reqs;
  nginx_log_counts(&e.n, 2 * N, &conns, &reqs);
  ck_assert_int_eq(reqs, 2 * N);
  ck_assert_msg(conns >= 1 && conns <= THREADS, "%d TLS connections for %d requests", conns, reqs);
  /* the list route, and the CA given as a hashed directory */
  fo_fetcher_destroy(f);
  f = tls_fetcher(NULL, e.n.capath, 2);
  char list[128];
  snprintf(list, sizeof list, "https://localhost:%d/v4/starlink", e.n.port);
  fo_fetch_result r;
  int one = fo_fetch_one(f, list, NULL, &r);
  if (one == FO_ETLS && under_user_emulator()) {
    /* seen with the armhf build under qemu-arm only; the same test passes natively and on
     * aarch64 */
    fprintf(stderr, "skip: CA directory lookup fails under this user-mode emulator\n");
  } else {
    ck_assert_int_eq(one, 0);
    ck_assert_int_eq(r.body[0], '[');
    ck_assert_str_eq(r.content_type, "application/json");
  }
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  free(res);
  free_urls(urls, N);
  env_down(&e);
}
END_TEST

START_TEST(wrong_ca_no_ca_and_ip_address_fail_clearly) {
  tls_env e;
  if (!env_up(&e))
    return;
  enum { N = 6 };
  char **urls = tls_urls(&e, "localhost", N);
  char **by_ip = tls_urls(&e, "127.0.0.1", N);
  fo_fetch_result res[N];
  struct {
    const char *ca;
    char **urls;
  } cases[] = {{e.n.other_ca, urls}, {NULL, urls}, {e.n.ca, by_ip}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    fo_fetcher *f = tls_fetcher(cases[c].ca, NULL, 3);
    int rc = fo_fetch_many(f, (const char *const *)cases[c].urls, NULL, N, res, NULL, NULL);
    ck_assert_int_eq(rc, N);
    for (size_t i = 0; i < N; i++) {
      ck_assert_msg(res[i].err == FO_ETLS, "case %zu: %d %s", c, res[i].err, res[i].message);
      ck_assert_ptr_null(res[i].body);
      ck_assert_uint_eq(res[i].attempts, 1); /* certificate failures are not retried */
      ck_assert_int_gt((int)strlen(res[i].message), 10);
    }
    fo_fetch_results_free(res, N);
    fo_fetcher_destroy(f);
  }
  /* a CA file that does not exist is an error for each URL, not a silent fallback */
  fo_fetcher *f = tls_fetcher("/nonexistent/ca.pem", NULL, 1);
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_one(f, urls[0], NULL, &r), FO_ETLS);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  free_urls(urls, N);
  free_urls(by_ip, N);
  env_down(&e);
}
END_TEST

Suite *fetch_tls_suite(void) {
  Suite *s = suite_create("fetch_tls");
  TCase *tc = fo_tcase("nginx", 60);
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
  tcase_add_test(tc, right_ca_succeeds_and_connections_are_reused);
  tcase_add_test(tc, wrong_ca_no_ca_and_ip_address_fail_clearly);
  suite_add_tcase(s, tc);
  return s;
}
