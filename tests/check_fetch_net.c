/* Network policy and per-request options against real parts: tinyproxy (HTTP) and danted
 * (SOCKS5) started on loopback (tests/helpers/proxy.h), the local mirror's /peer route (the
 * address a connection came from and the Via header a proxy adds) and /blob (bodies of any size,
 * with ranges), a second loopback address (127.0.0.2) for binding, and `localhost`, which
 * libcurl resolves to both 127.0.0.1 and ::1, against a mirror that listens on 127.0.0.1 only.
 * Rates are measured on transfers of a few MiB: within 10 % of the cap. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/nginx.h"
#include "helpers/proxy.h"
#include "helpers/testalloc.h"
#include "mirror/blob.h"
#include "suites.h"

static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";

static fo_fetcher *make(const fo_fetch_opts *o) {
  fo_fetcher *f = NULL;
  int rc = fo_fetcher_create(&f, o);
  ck_assert_msg(rc == 0, "fo_fetcher_create: %s", fo_strerror(rc));
  return f;
}

/* GET path from the mirror (or from url when path starts with "http") through a fetcher made
 * with o; the result in r. */
static int get(const fo_fetch_opts *o, const mirror_proc *m, const char *path,
               fo_fetch_result *r) {
  char url[300];
  if (strncmp(path, "http", 4) == 0)
    snprintf(url, sizeof url, "%s", path);
  else
    mirror_url(m, path, url, sizeof url);
  fo_fetcher *f = make(o);
  fo_fetch_req req = {.url = url};
  int rc = fo_fetch_requests(f, &req, 1, r, NULL, NULL);
  fo_fetcher_destroy(f);
  return rc;
}

/* The body of /peer through o: "peer ADDRESS\nvia VIA\n" (the test fails on an error). */
static void peer(const fo_fetch_opts *o, const mirror_proc *m, const char *url, char *out,
                 size_t cap) {
  fo_fetch_result r;
  get(o, m, url ? url : "/peer", &r);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_ptr_nonnull(r.body);
  snprintf(out, cap, "%s", r.body);
  fo_fetch_result_free(&r);
}

static void mirror_up(mirror_proc *m) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
  int rc = mirror_start(m, NULL);
  ck_assert_msg(rc == 0, "mirror: %s", fo_strerror(rc));
}

static void mirror_down(mirror_proc *m) {
  mirror_stop(m);
  fo_fetch_global_cleanup();
}

/* ------------------------------------------------------------------ options */

START_TEST(network_options_are_checked) {
  fo_opt_error why;
  static const char *const good_proxies[] = {"http://127.0.0.1:3128", "HTTPS://proxy:443",
                                             "socks5h://u:p@127.0.0.1:1080"};
  for (size_t i = 0; i < 3; i++)
    ck_assert_msg(fo_fetch_opts_check(&(fo_fetch_opts){.proxy = good_proxies[i]}, &why) == 0,
                  "%s refused", good_proxies[i]);
  static const char *const bad_proxies[] = {"127.0.0.1:3128", "socks5://127.0.0.1:1080",
                                            "socks4://h:1", "ftp://h:21", "http://", ""};
  for (size_t i = 0; i < 6; i++) {
    ck_assert_msg(fo_fetch_opts_check(&(fo_fetch_opts){.proxy = bad_proxies[i]}, &why) == -EINVAL,
                  "%s accepted", bad_proxies[i]);
    ck_assert_str_eq(why.field, "proxy");
  }
  static const char *const good_ifs[] = {"eth0", "if!lo", "host!127.0.0.2", "127.0.0.2",
                                         "if!123456789012345"};
  for (size_t i = 0; i < 5; i++)
    ck_assert_int_eq(fo_fetch_opts_check(&(fo_fetch_opts){.interface = good_ifs[i]}, &why), 0);
  static const char *const bad_ifs[] = {"", "if!", "host!", "if!1234567890123456"};
  for (size_t i = 0; i < 4; i++) {
    ck_assert_int_eq(fo_fetch_opts_check(&(fo_fetch_opts){.interface = bad_ifs[i]}, &why),
                     -EINVAL);
    ck_assert_str_eq(why.field, "interface");
  }
  ck_assert_int_eq(fo_fetch_opts_check(&(fo_fetch_opts){.ip_version = 5}, &why), -EINVAL);
  ck_assert_str_eq(why.field, "ip_version");
  ck_assert_int_eq(fo_fetch_opts_check(&(fo_fetch_opts){.ip_version = 6}, NULL), 0);
  ck_assert_int_eq(
      fo_fetch_opts_check(&(fo_fetch_opts){.max_recv_speed = FO_FETCH_SPEED_MAX + 1}, &why),
      -EINVAL);
  ck_assert_str_eq(why.field, "max_recv_speed");
  ck_assert_int_eq(
      fo_fetch_opts_check(&(fo_fetch_opts){.max_recv_speed_total = FO_FETCH_SPEED_MAX + 1}, &why),
      -EINVAL);
  ck_assert_str_eq(why.field, "max_recv_speed_total");
  ck_assert_int_eq(fo_fetch_opts_check(&(fo_fetch_opts){.noproxy = ""}, &why), -EINVAL);
  ck_assert_str_eq(why.field, "noproxy");
  ck_assert_int_eq(fo_fetch_opts_check(&(fo_fetch_opts){.proxy_user = ""}, &why), -EINVAL);
  ck_assert_str_eq(why.field, "proxy_user");
  fo_fetcher *f = NULL;
  ck_assert_int_eq(fo_fetcher_create(&f, &(fo_fetch_opts){.proxy = "gopher://h"}), -EINVAL);
  ck_assert_ptr_null(f);

  /* per request */
  fo_fetch_req r = {.url = "http://h/", .accept_type = ""};
  ck_assert_int_eq(fo_fetch_req_check(&r, &why), -EINVAL);
  ck_assert_str_eq(why.field, "accept_type");
  r = (fo_fetch_req){.url = "http://h/", .flags = FO_FETCH_SKIP_EXISTING, .output = "/tmp/x"};
  ck_assert_int_eq(fo_fetch_req_check(&r, &why), -EINVAL); /* no sha256 */
  ck_assert_str_eq(why.field, "flags");
  r = (fo_fetch_req){.url = "http://h/", .flags = FO_FETCH_SKIP_EXISTING, .sha256 = zeros};
  ck_assert_int_eq(fo_fetch_req_check(&r, &why), -EINVAL); /* no output */
  ck_assert_str_eq(why.field, "flags");
  r.output = "/tmp/x";
  ck_assert_int_eq(fo_fetch_req_check(&r, &why), 0);
}
END_TEST

static int create_destroy(void *arg) {
  fo_fetcher *f = NULL;
  int rc = fo_fetcher_create(&f, arg);
  if (rc == 0)
    fo_fetcher_destroy(f);
  return rc;
}

START_TEST(network_options_create_out_of_memory) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
  fo_fetch_opts o = {.threads = 2,
                     .proxy = "http://127.0.0.1:3128",
                     .noproxy = "localhost,10.0.0.0/8",
                     .proxy_user = "u",
                     .proxy_password = "p",
                     .interface = "host!127.0.0.2",
                     .ip_version = 4,
                     .max_recv_speed = 1000,
                     .max_recv_speed_total = 5000};
  ck_assert_int_gt(ta_oom_loop(create_destroy, NULL, &o), 5);
  fo_fetch_global_cleanup();
}
END_TEST

/* ------------------------------------------------------------------ proxies */

START_TEST(http_proxy_carries_requests_with_credentials_and_noproxy_bypasses) {
  test_proxy p;
  if (!proxy_up(&p, "fetch_net", TEST_PROXY_HTTP, "fo", "s3cret"))
    return;
  mirror_proc m;
  mirror_up(&m);
  char proxy[128], body[512];
  snprintf(proxy, sizeof proxy, "http://fo:s3cret@127.0.0.1:%d", p.port);
  peer(&(fo_fetch_opts){.proxy = proxy}, &m, NULL, body, sizeof body);
  ck_assert_msg(strstr(body, "via 1.1 ") != NULL && strstr(body, "tinyproxy") != NULL, "%s", body);
  char line[128];
  snprintf(line, sizeof line, "GET http://127.0.0.1:%d/peer", m.port);
  ck_assert_int_eq(proxy_log_count(&p, line, 1), 1);

  /* the credentials as fields, over none in the URL */
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", p.port);
  peer(&(fo_fetch_opts){.proxy = proxy, .proxy_user = "fo", .proxy_password = "s3cret"}, &m,
       NULL, body, sizeof body);
  ck_assert_msg(strstr(body, "tinyproxy") != NULL, "%s", body);
  ck_assert_int_eq(proxy_log_count(&p, line, 2), 2);

  /* without them: the proxy's 407 is the answer */
  fo_fetch_result r;
  ck_assert_int_eq(get(&(fo_fetch_opts){.proxy = proxy}, &m, "/peer", &r), 1);
  ck_assert_int_eq(r.err, FO_EHTTP);
  ck_assert_int_eq(r.status, 407);
  fo_fetch_result_free(&r);

  /* a host in noproxy goes straight to the server, past the proxy */
  peer(&(fo_fetch_opts){.proxy = proxy, .noproxy = "example.org,127.0.0.1"}, &m, NULL, body,
       sizeof body);
  ck_assert_msg(strstr(body, "via -") != NULL, "%s", body);
  ck_assert_int_eq(proxy_log_count(&p, line, 3), 3); /* the 407's request, no other */
  mirror_down(&m);
  proxy_down(&p);
}
END_TEST

static void env_set(const char *proxy, const char *no_proxy) {
  static const char *const names[] = {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                                      "all_proxy", "NO_PROXY", "no_proxy"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    unsetenv(names[i]);
  if (proxy != NULL)
    setenv("http_proxy", proxy, 1);
  if (no_proxy != NULL)
    setenv("no_proxy", no_proxy, 1);
}

START_TEST(environment_proxy_applies_only_when_asked) {
  test_proxy p;
  if (!proxy_up(&p, "fetch_net", TEST_PROXY_HTTP, NULL, NULL))
    return;
  mirror_proc m;
  mirror_up(&m);
  char proxy[128], body[512];
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", p.port);
  env_set(proxy, NULL);
  /* the default: the environment is not read */
  peer(&(fo_fetch_opts){0}, &m, NULL, body, sizeof body);
  ck_assert_msg(strstr(body, "via -") != NULL, "%s", body);
  /* asked for: it is */
  peer(&(fo_fetch_opts){.proxy_env = 1}, &m, NULL, body, sizeof body);
  ck_assert_msg(strstr(body, "tinyproxy") != NULL, "%s", body);
  /* the caller's noproxy replaces the environment's */
  peer(&(fo_fetch_opts){.proxy_env = 1, .noproxy = "127.0.0.1"}, &m, NULL, body, sizeof body);
  ck_assert_msg(strstr(body, "via -") != NULL, "%s", body);
  /* a named proxy: the environment's no_proxy is not read either */
  env_set(NULL, "127.0.0.1");
  peer(&(fo_fetch_opts){.proxy = proxy}, &m, NULL, body, sizeof body);
  ck_assert_msg(strstr(body, "tinyproxy") != NULL, "%s", body);
  env_set(NULL, NULL);
  mirror_down(&m);
  proxy_down(&p);
}
END_TEST

START_TEST(socks5h_proxy_carries_requests_and_its_refusal_names_the_proxy) {
  test_proxy p;
  if (!proxy_up(&p, "fetch_net", TEST_PROXY_SOCKS, NULL, NULL))
    return;
  mirror_proc m;
  mirror_up(&m);
  char proxy[128], body[512], url[128];
  snprintf(proxy, sizeof proxy, "socks5h://127.0.0.1:%d", p.port);
  /* the proxy resolves localhost and connects from its external address */
  snprintf(url, sizeof url, "http://localhost:%d/peer", m.port);
  peer(&(fo_fetch_opts){.proxy = proxy}, &m, url, body, sizeof body);
  ck_assert_msg(strstr(body, "peer 127.0.0.2\n") != NULL, "%s", body);
  ck_assert_int_ge(proxy_log_count(&p, "): tcp/connect [: ", 1), 1);
  peer(&(fo_fetch_opts){0}, &m, url, body, sizeof body);
  ck_assert_msg(strstr(body, "peer 127.0.0.1\n") != NULL, "%s", body); /* without it */
  /* a destination the proxy's rules refuse */
  fo_fetch_result r;
  snprintf(url, sizeof url, "http://127.0.0.3:%d/peer", m.port);
  ck_assert_int_eq(get(&(fo_fetch_opts){.proxy = proxy}, &m, url, &r), 1);
  ck_assert_int_eq(r.err, FO_ETRANSPORT);
  ck_assert_msg(strncmp(r.message, "proxy: ", 7) == 0, "%s", r.message);
  fo_fetch_result_free(&r);
  ck_assert_int_ge(proxy_log_count(&p, "block(", 1), 1);
  mirror_down(&m);
  proxy_down(&p);
}
END_TEST

/* ------------------------------------------------------------------ the local end, IP version */

START_TEST(interface_binds_the_local_end_and_an_unknown_one_fails_naming_it) {
  mirror_proc m;
  mirror_up(&m);
  char body[512];
  static const char *const second[] = {"127.0.0.2", "host!127.0.0.2"};
  for (size_t i = 0; i < 2; i++) {
    peer(&(fo_fetch_opts){.interface = second[i]}, &m, NULL, body, sizeof body);
    ck_assert_msg(strstr(body, "peer 127.0.0.2\n") != NULL, "%s: %s", second[i], body);
  }
  peer(&(fo_fetch_opts){0}, &m, NULL, body, sizeof body);
  ck_assert_msg(strstr(body, "peer 127.0.0.1\n") != NULL, "%s", body);
  fo_fetch_result r;
  ck_assert_int_eq(get(&(fo_fetch_opts){.interface = "if!fo-nosuch0"}, &m, "/peer", &r), 1);
  ck_assert_int_eq(r.err, FO_ETRANSPORT);
  ck_assert_msg(strstr(r.message, "interface 'if!fo-nosuch0'") != NULL, "%s", r.message);
  ck_assert_uint_eq(r.attempts, 1);
  fo_fetch_result_free(&r);
  /* a local address this machine does not have */
  ck_assert_int_eq(get(&(fo_fetch_opts){.interface = "host!192.0.2.1"}, &m, "/peer", &r), 1);
  ck_assert_int_eq(r.err, FO_ETRANSPORT);
  ck_assert_msg(strstr(r.message, "interface 'host!192.0.2.1'") != NULL, "%s", r.message);
  fo_fetch_result_free(&r);
  mirror_down(&m);
}
END_TEST

static int ipv6_loopback(void) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 sa = {0};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  if (fd >= 0)
    close(fd);
  return ok;
}

START_TEST(ip_version_picks_the_address_family) {
  mirror_proc m;
  mirror_up(&m);
  char url[128], body[512];
  snprintf(url, sizeof url, "http://localhost:%d/peer", m.port); /* 127.0.0.1 and ::1 */
  peer(&(fo_fetch_opts){.ip_version = 4}, &m, url, body, sizeof body);
  ck_assert_msg(strstr(body, "peer 127.0.0.1\n") != NULL, "%s", body);
  peer(&(fo_fetch_opts){0}, &m, url, body, sizeof body); /* either: falls back to IPv4 */
  if (!ipv6_loopback()) {
    fprintf(stderr, "fetch_net: SKIPPED the IPv6 half: no IPv6 loopback (::1) here\n");
  } else {
    fo_fetch_result r;
    /* the mirror listens on 127.0.0.1 only: over IPv6 nothing answers */
    ck_assert_int_eq(get(&(fo_fetch_opts){.ip_version = 6}, &m, url, &r), 1);
    ck_assert_msg(r.err == FO_ETRANSPORT, "%s", r.message);
    fo_fetch_result_free(&r);
  }
  mirror_down(&m);
}
END_TEST

/* ------------------------------------------------------------------ byte rates */

#define RATE_SIZE (3 * 1024 * 1024)

static void ck_rate(double bytes, double seconds, double cap, const char *what) {
  double got = bytes / seconds;
  ck_assert_msg(got > cap * 0.9 && got < cap * 1.1, "%s: %.0f B/s against a cap of %.0f B/s",
                what, got, cap);
}

START_TEST(per_transfer_cap_holds_within_ten_percent) {
  mirror_proc m;
  mirror_up(&m);
  char path[64];
  snprintf(path, sizeof path, "/blob?size=%d", RATE_SIZE);
  fo_fetch_opts o = {.max_recv_speed = 1024 * 1024, .max_body = RATE_SIZE};
  fo_fetch_result r;
  ck_assert_int_eq(get(&o, &m, path, &r), 0);
  ck_assert_uint_eq(r.bytes, RATE_SIZE);
  ck_rate((double)r.bytes, r.elapsed, 1024 * 1024, "max_recv_speed");
  fo_fetch_result_free(&r);
  mirror_down(&m);
}
END_TEST

START_TEST(fetcher_wide_cap_is_shared_by_every_transfer) {
  mirror_proc m;
  mirror_up(&m);
  enum { N = 4 };
  char urls[N][128];
  fo_fetch_req reqs[N];
  mirror_blob_reqs(&m, N, RATE_SIZE / N, urls, reqs);
  double cap = 1.5 * 1024 * 1024;
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = N, .max_recv_speed_total = (unsigned long long)cap});
  fo_fetch_result r[N];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N, r, NULL, NULL), 0);
  double total = 0, longest = 0;
  for (int i = 0; i < N; i++) {
    total += (double)r[i].bytes;
    longest = r[i].elapsed > longest ? r[i].elapsed : longest;
    /* sharing is even: no transfer ends long before the others */
    ck_assert_msg(r[i].elapsed > 0.8 * (RATE_SIZE / cap), "item %d took %.2f s", i, r[i].elapsed);
  }
  ck_assert_int_eq((long)total, RATE_SIZE);
  ck_rate(total, longest, cap, "max_recv_speed_total, four transfers");
  fo_fetch_results_free(r, N);
  /* the same fetcher, one transfer alone: the whole cap is its */
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 1, r, NULL, NULL), 0);
  ck_rate((double)r[0].bytes, r[0].elapsed, cap, "max_recv_speed_total, one transfer");
  fo_fetch_result_free(&r[0]);
  fo_fetcher_destroy(f);
  mirror_down(&m);
}
END_TEST

/* ------------------------------------------------------------------ per request */

typedef struct {
  char dir[64], out[128], want[128], sha[65];
  char url[300];
} files_env;

#define BLOB_SIZE (256 * 1024 + 3)

static void files_up(files_env *e, const mirror_proc *m) {
  snprintf(e->dir, sizeof e->dir, "/tmp/fo-net-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(e->dir));
  snprintf(e->out, sizeof e->out, "%s/image.bin", e->dir);
  snprintf(e->want, sizeof e->want, "%s/want", e->dir);
  FILE *f = fopen(e->want, "w");
  ck_assert_ptr_nonnull(f);
  for (long long i = 0; i < BLOB_SIZE; i++)
    fputc(mirror_blob_byte(i, "1"), f);
  ck_assert_int_eq(fclose(f), 0);
  test_sha256_of(e->want, e->sha);
  char path[64];
  snprintf(path, sizeof path, "/blob?size=%d", BLOB_SIZE);
  mirror_url(m, path, e->url, sizeof e->url);
}

static int fetch_file(const files_env *e, unsigned flags, const char *sha, fo_fetch_result *r) {
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 1});
  fo_fetch_req req = {.url = e->url, .output = e->out, .sha256 = sha, .flags = flags};
  int rc = fo_fetch_requests(f, &req, 1, r, NULL, NULL);
  fo_fetcher_destroy(f);
  return rc;
}

START_TEST(skip_existing_makes_no_request_for_a_verified_file) {
  mirror_proc m;
  mirror_up(&m);
  files_env e;
  files_up(&e, &m);
  fo_fetch_result r;
  mirror_reset(&m);
  ck_assert_int_eq(fetch_file(&e, FO_FETCH_SKIP_EXISTING, e.sha, &r), 0);
  ck_assert_int_eq(r.skipped, 0);
  ck_assert_uint_eq(r.attempts, 1);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(mirror_stat(&m, "requests", 0), 1);
  /* again: the file is there and verified, nothing is asked */
  ck_assert_int_eq(fetch_file(&e, FO_FETCH_SKIP_EXISTING, e.sha, &r), 0);
  ck_assert_int_eq(r.skipped, 1);
  ck_assert_uint_eq(r.attempts, 0);
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_eq(r.message, "");
  fo_fetch_result_free(&r);
  ck_assert_int_eq(mirror_stat(&m, "requests", 0), 1);
  /* without the flag it is fetched again */
  ck_assert_int_eq(fetch_file(&e, 0, e.sha, &r), 0);
  ck_assert_int_eq(r.skipped, 0);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(mirror_stat(&m, "requests", 0), 2);
  /* a changed file is fetched again and replaced */
  test_run("printf x | dd of=%s bs=1 seek=1000 conv=notrunc 2>/dev/null", e.out);
  ck_assert_int_eq(fetch_file(&e, FO_FETCH_SKIP_EXISTING, e.sha, &r), 0);
  ck_assert_int_eq(r.skipped, 0);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(mirror_stat(&m, "requests", 0), 3);
  ck_assert(test_files_equal(e.out, e.want));
  /* a symlink to a good copy is not trusted: fetched, and the link replaced by a file */
  unlink(e.out);
  ck_assert_int_eq(symlink(e.want, e.out), 0);
  ck_assert_int_eq(fetch_file(&e, FO_FETCH_SKIP_EXISTING, e.sha, &r), 0);
  ck_assert_int_eq(r.skipped, 0);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(mirror_stat(&m, "requests", 0), 4);
  struct stat st;
  ck_assert_int_eq(lstat(e.out, &st), 0);
  ck_assert(S_ISREG(st.st_mode));
  /* a FIFO at output neither blocks the check nor is taken: the sink refuses it */
  unlink(e.out);
  ck_assert_int_eq(mkfifo(e.out, 0600), 0);
  ck_assert_int_eq(fetch_file(&e, FO_FETCH_SKIP_EXISTING, e.sha, &r), 1);
  ck_assert_int_eq(r.err, FO_EUNSAFE);
  ck_assert_int_eq(r.skipped, 0);
  fo_fetch_result_free(&r);
  test_run("rm -rf %s", e.dir);
  mirror_down(&m);
}
END_TEST

START_TEST(accept_type_per_request_overrides_the_fetcher) {
  mirror_proc m;
  mirror_up(&m);
  char url[128];
  mirror_url(&m, "/blob?size=100", url, sizeof url); /* application/octet-stream */
  fo_fetcher *f = make(&(fo_fetch_opts){.accept_type = "application/json"});
  fo_fetch_req reqs[3] = {{.url = url},
                          {.url = url, .accept_type = "application/octet-stream"},
                          {.url = url, .accept_type = "text/"}};
  fo_fetch_result r[3];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 3, r, NULL, NULL), 2);
  ck_assert_int_eq(r[0].err, FO_ECONTENTTYPE);
  ck_assert_msg(r[1].err == 0, "%s", r[1].message);
  ck_assert_int_eq(r[2].err, FO_ECONTENTTYPE);
  ck_assert_msg(strstr(r[2].message, "not 'text/'") != NULL, "%s", r[2].message);
  fo_fetch_results_free(r, 3);
  fo_fetcher_destroy(f);
  mirror_down(&m);
}
END_TEST

START_TEST(digest_message_names_the_digest_that_arrived) {
  mirror_proc m;
  mirror_up(&m);
  files_env e;
  files_up(&e, &m);
  fo_fetch_result r;
  ck_assert_int_eq(fetch_file(&e, 0, zeros, &r), 1);
  ck_assert_int_eq(r.err, FO_EDIGEST);
  ck_assert_msg(strstr(r.message, e.sha) != NULL && strstr(r.message, zeros) != NULL, "%s",
                r.message);
  ck_assert_msg(strstr(r.message, e.sha) < strstr(r.message, zeros), "%s", r.message);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(access(e.out, F_OK), -1);
  test_run("rm -rf %s", e.dir);
  mirror_down(&m);
}
END_TEST

typedef struct {
  unsigned long long last, total, over, drops;
} progress_log;

static void on_progress(unsigned long long bytes, unsigned long long total, void *arg) {
  progress_log *p = arg;
  p->drops += bytes < p->last; /* an attempt that counted from 0 again */
  p->last = bytes;
  p->total = total;
  p->over += total > 0 && bytes > total;
}

/* As fetch.h documents it: a resumed attempt counts from the bytes on disk, toward the whole
 * body's length, so bytes / total never passes 1. */
START_TEST(progress_counts_the_whole_body_across_a_resume) {
  mirror_proc m;
  mirror_up(&m);
  files_env e;
  files_up(&e, &m);
  char path[96], url[300];
  snprintf(path, sizeof path, "/blob?size=%d&cut=100000&n=1", BLOB_SIZE);
  mirror_url(&m, path, url, sizeof url);
  progress_log p = {0};
  fo_fetcher *f = make(&(fo_fetch_opts){.threads = 1, .retries = 1, .backoff_ms = 5});
  fo_fetch_req req = {.url = url,
                      .output = e.out,
                      .flags = FO_FETCH_RESUME,
                      .progress = on_progress,
                      .progress_arg = &p};
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.attempts, 2);
  ck_assert_uint_eq(r.resumed, 100000);
  ck_assert_uint_eq(r.bytes, BLOB_SIZE);
  ck_assert_uint_eq(p.drops, 0); /* the resumed attempt went on from the bytes on disk */
  ck_assert_uint_eq(p.last, BLOB_SIZE);
  ck_assert_uint_eq(p.total, BLOB_SIZE);
  ck_assert_uint_eq(p.over, 0);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  test_run("rm -rf %s", e.dir);
  mirror_down(&m);
}
END_TEST

Suite *fetch_net_suite(void) {
  Suite *s = suite_create("fetch_net");
  TCase *tc = fo_tcase("options", 30);
  tcase_add_test(tc, network_options_are_checked);
  tcase_add_test(tc, network_options_create_out_of_memory);
  suite_add_tcase(s, tc);
  tc = fo_tcase("proxy", 60);
  tcase_add_test(tc, http_proxy_carries_requests_with_credentials_and_noproxy_bypasses);
  tcase_add_test(tc, environment_proxy_applies_only_when_asked);
  tcase_add_test(tc, socks5h_proxy_carries_requests_and_its_refusal_names_the_proxy);
  suite_add_tcase(s, tc);
  tc = fo_tcase("local_end", 30);
  tcase_add_test(tc, interface_binds_the_local_end_and_an_unknown_one_fails_naming_it);
  tcase_add_test(tc, ip_version_picks_the_address_family);
  suite_add_tcase(s, tc);
  tc = fo_tcase("rate", 60);
  tcase_add_test(tc, per_transfer_cap_holds_within_ten_percent);
  tcase_add_test(tc, fetcher_wide_cap_is_shared_by_every_transfer);
  suite_add_tcase(s, tc);
  tc = fo_tcase("per_request", 60);
  tcase_add_test(tc, skip_existing_makes_no_request_for_a_verified_file);
  tcase_add_test(tc, accept_type_per_request_overrides_the_fetcher);
  tcase_add_test(tc, digest_message_names_the_digest_that_arrived);
  tcase_add_test(tc, progress_counts_the_whole_body_across_a_resume);
  suite_add_tcase(s, tc);
  return s;
}
