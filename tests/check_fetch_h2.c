/* HTTP/2 against a real nginx on loopback (nginx_up_h2: its HTTPS port speaks HTTP/2 by ALPN,
 * its plain port HTTP/1.1), each answer's version checked twice: in fo_fetch_result.http_version
 * and in nginx's access log ($server_protocol, $connection):
 *   - over TLS with the default options HTTP/2 (20), with FO_FETCH_HTTP_1_1 HTTP/1.1 (11), over
 *     cleartext HTTP/1.1; no answer, 0;
 *   - many requests on one worker share one connection;
 *   - a multi handle set up by fo__net_multi_setup() multiplexes its transfers over one connection,
 *     and with HTTP/1.1 only holds them to max_host_connections connections;
 *   - bodies (gzip on the wire, empty, a POST's), a 404, a redirect and a resumed file over HTTP/2;
 *   - http_version and max_host_connections out of range are refused, naming the field.
 * Skipped, with the reason, where nginx or openssl is missing or the libcurl in use has no HTTP/2
 * (fo_info_get(); check_info asserts that configure found the same). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "fetch/fetch_internal.h"
#include "helpers/fixture.h"
#include "helpers/nginx.h"
#include "suites.h"

#define BODY_SIZE (200 * 1024) /* html/body.json: JSON-like text, gzipped by nginx */
#define PART_SIZE (512 * 1024) /* html/slow/part.bin: sent at 256 KiB/s, for resume */

static void make_files(const char *html, void *arg) {
  (void)arg;
  char path[256];
  snprintf(path, sizeof path, "%s/body.json", html);
  test_make_text_file(path, BODY_SIZE);
  snprintf(path, sizeof path, "%s/empty.json", html);
  test_write_file(path, "");
  snprintf(path, sizeof path, "%s/slow/part.bin", html);
  test_make_text_file(path, PART_SIZE);
}

/* 1 when the test can run: libcurl has HTTP/2 and nginx started; else the reason on stderr. */
static int env_up(test_nginx *n, const char *test) {
  fo_info info;
  ck_assert_int_eq(fo_info_get(&info), 0);
  if (!info.http2) {
    fprintf(stderr, "%s: SKIPPED: the libcurl in use (%s) has no HTTP/2: built without nghttp2\n",
            test, info.curl_version);
    return 0;
  }
  return nginx_up_h2(n, test, make_files, NULL);
}

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

static fo_fetcher *fetcher(const test_nginx *n, unsigned threads, unsigned http_version,
                           unsigned max_host) {
  fo_fetcher *f = NULL;
  fo_fetch_opts o = {.threads = threads,
                     .ca_file = n->ca,
                     .timeout_ms = 20000,
                     .max_redirs = 2,
                     .http_version = http_version,
                     .max_host_connections = max_host};
  int rc = fo_fetcher_create(&f, &o);
  ck_assert_msg(rc == 0, "%s", fo_strerror(rc));
  return f;
}

/* ------------------------------------------------------------------ nginx's access log */

typedef struct {
  long conn;
  int status;
  char uri[256];
  char proto[16];
} log_line;

/* The access log's lines, waiting (bounded) until at least min are there: nginx writes a line
 * after the answer is sent, so the client can be done before the last one is. */
static int read_log(const test_nginx *n, int min, log_line *out, int cap) {
  char path[160], line[1024];
  int got = 0;
  nginx_file(n, "access.log", path, sizeof path);
  for (int tries = 0; tries < 300; tries++) {
    FILE *f = fopen(path, "r");
    got = 0;
    while (f != NULL && got < cap && fgets(line, sizeof line, f) != NULL) {
      log_line *l = &out[got];
      long reqs;
      long long sent;
      char method[16];
      if (sscanf(line, "%ld %ld %d %255s %lld %15s %15s", &l->conn, &reqs, &l->status, l->uri,
                 &sent, method, l->proto) == 7)
        got++;
    }
    if (f != NULL)
      fclose(f);
    if (got >= min)
      break;
    usleep(10000);
  }
  return got;
}

static const log_line *by_uri(const log_line *l, int n, const char *uri) {
  for (int i = 0; i < n; i++)
    if (strcmp(l[i].uri, uri) == 0)
      return &l[i];
  ck_abort_msg("no access log line for %s", uri);
  return NULL;
}

/* The distinct connections of the lines whose URI starts with prefix, and how many lines. */
static int conns_of(const log_line *l, int n, const char *prefix, int *lines) {
  long seen[256];
  int conns = 0;
  *lines = 0;
  for (int i = 0; i < n; i++) {
    if (strncmp(l[i].uri, prefix, strlen(prefix)) != 0)
      continue;
    (*lines)++;
    int known = 0;
    for (int k = 0; k < conns; k++)
      known |= seen[k] == l[i].conn;
    if (!known && conns < 256)
      seen[conns++] = l[i].conn;
  }
  return conns;
}

/* The bytes of a file under html/, NUL-terminated (malloc'ed; the test frees it). */
static char *html_file(const test_nginx *n, const char *name, size_t *len) {
  char path[256];
  snprintf(path, sizeof path, "%s/html/%s", n->dir, name);
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
  long size = ftell(f);
  rewind(f);
  char *b = malloc((size_t)size + 1);
  ck_assert_uint_eq(fread(b, 1, (size_t)size, f), (size_t)size);
  b[size] = '\0';
  fclose(f);
  *len = (size_t)size;
  return b;
}

/* ------------------------------------------------------------------ the version */

START_TEST(tls_is_http2_http1_1_option_and_cleartext_are_not) {
  test_nginx n;
  if (!env_up(&n, "fetch_h2"))
    return;
  size_t len;
  char *want = html_file(&n, "body.json", &len);
  char url[160];
  fo_fetch_result r;
  static const struct {
    int https;
    unsigned version;
    const char *path;
    int want;
    const char *proto;
  } cases[] = {{1, FO_FETCH_HTTP_DEFAULT, "/body.json?v=default", 20, "HTTP/2.0"},
               {1, FO_FETCH_HTTP_1_1, "/body.json?v=1.1", 11, "HTTP/1.1"},
               {0, FO_FETCH_HTTP_DEFAULT, "/body.json?v=plain", 11, "HTTP/1.1"},
               {0, FO_FETCH_HTTP_1_1, "/body.json?v=plain-1.1", 11, "HTTP/1.1"}};
  enum { NCASES = sizeof cases / sizeof cases[0] };
  for (size_t c = 0; c < NCASES; c++) {
    fo_fetcher *f = fetcher(&n, 1, cases[c].version, 0);
    nginx_url(&n, cases[c].https, cases[c].path, url, sizeof url);
    ck_assert_msg(fo_fetch_one(f, url, NULL, &r) == 0, "%s: %s", url, r.message);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(r.http_version == cases[c].want, "%s: http_version %d, expected %d", url,
                  r.http_version, cases[c].want);
    /* gzip on the wire (nginx's gzip_types), the whole text after the fetcher inflates it */
    ck_assert_uint_eq(r.body_len, len);
    ck_assert(memcmp(r.body, want, len) == 0);
    fo_fetch_result_free(&r);
    fo_fetcher_destroy(f);
  }
  log_line lines[16];
  int nl = read_log(&n, NCASES, lines, 16);
  ck_assert_int_eq(nl, NCASES);
  for (size_t c = 0; c < NCASES; c++) {
    const log_line *l = by_uri(lines, nl, cases[c].path);
    ck_assert_msg(strcmp(l->proto, cases[c].proto) == 0, "%s went over %s, expected %s",
                  cases[c].path, l->proto, cases[c].proto);
  }
  /* no answer: no version */
  fo_fetcher *f = fetcher(&n, 1, FO_FETCH_HTTP_DEFAULT, 0);
  ck_assert_int_eq(fo_fetch_one(f, "https://localhost:1/", NULL, &r), FO_ETRANSPORT);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(r.http_version, 0);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  free(want);
  nginx_down(&n);
}
END_TEST

/* One worker, many requests: one connection, every stream on it HTTP/2. */
/* Two rounds of N GETs over HTTP/2 on one fetcher (threads workers, max_inflight in flight, 0:
 * one a worker): every answer HTTP/2, and the connections nginx saw for them. */
static int h2_rounds(test_nginx *n, unsigned threads, unsigned inflight) {
  enum { N = 24 };
  char *urls[N];
  for (int i = 0; i < N; i++) {
    urls[i] = malloc(160);
    char path[64];
    snprintf(path, sizeof path, "/empty.json?t=%u&i=%d", threads, i);
    nginx_url(n, 1, path, urls[i], 160);
  }
  fo_fetcher *f = NULL;
  fo_fetch_opts o = {.threads = threads, .max_inflight = inflight, .ca_file = n->ca,
                     .timeout_ms = 20000};
  ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
  fo_fetch_result res[N];
  for (int round = 0; round < 2; round++) {
    ck_assert_int_eq(fo_fetch_many(f, (const char *const *)urls, NULL, N, res, NULL, NULL), 0);
    for (int i = 0; i < N; i++) {
      ck_assert_msg(res[i].err == 0, "%s: %s", urls[i], res[i].message);
      ck_assert_int_eq(res[i].http_version, 20);
      ck_assert_uint_eq(res[i].body_len, 0);
    }
    fo_fetch_results_free(res, N);
  }
  fo_fetcher_destroy(f);
  for (int i = 0; i < N; i++)
    free(urls[i]);
  log_line lines[4 * N];
  int nl = read_log(n, 4 * N, lines, 4 * N);
  char prefix[48];
  snprintf(prefix, sizeof prefix, "/empty.json?t=%u&i=", threads);
  int reqs, conns = conns_of(lines, nl, prefix, &reqs);
  ck_assert_int_eq(reqs, 2 * N);
  for (int i = 0; i < nl; i++)
    ck_assert_str_eq(lines[i].proto, "HTTP/2.0");
  return conns;
}

START_TEST(one_worker_keeps_one_connection) {
  test_nginx n;
  if (!env_up(&n, "fetch_h2"))
    return;
  int conns = h2_rounds(&n, 1, 0);
  ck_assert_msg(conns == 1, "%d connections for 48 requests on one worker", conns);
  nginx_down(&n);
}
END_TEST

/* With several transfers a worker, a host's https items go to the worker that took its first
 * one: four workers, one connection. */
START_TEST(a_hosts_items_share_one_workers_connection) {
  test_nginx n;
  if (!env_up(&n, "fetch_h2"))
    return;
  int conns = h2_rounds(&n, 4, 64);
  ck_assert_msg(conns == 1, "%d connections for 48 requests on four workers", conns);
  nginx_down(&n);
}
END_TEST

/* ------------------------------------------------------------------ the multi handle */

static size_t discard(char *data, size_t size, size_t nmemb, void *arg) {
  (void)data;
  (void)arg;
  return size * nmemb;
}

/* K transfers of /body.json?TAG=k at once on one multi handle set up by fo__net_multi_setup(),
 * each easy handle set up by fo__net_setup() as the fetcher sets its own; every one must end with
 * a 200 over want_version (CURL_HTTP_VERSION_*). */
static void multi_run(fo_fetcher *f, const test_nginx *n, const char *tag, int k,
                      long want_version) {
  CURLM *m = curl_multi_init();
  ck_assert_ptr_nonnull(m);
  ck_assert_int_eq(fo__net_multi_setup(f, m), 0);
  fo__handle *h[16];
  ck_assert_int_le(k, 16);
  for (int i = 0; i < k; i++) {
    h[i] = calloc(1, sizeof *h[i]);
    h[i]->curl = curl_easy_init();
    ck_assert_ptr_nonnull(h[i]->curl);
    ck_assert_int_eq(fo__net_setup(f, h[i]), 0);
    char path[64], url[160];
    snprintf(path, sizeof path, "/body.json?%s=%d", tag, i);
    nginx_url(n, 1, path, url, sizeof url);
    curl_easy_setopt(h[i]->curl, CURLOPT_URL, url);
    curl_easy_setopt(h[i]->curl, CURLOPT_CAINFO, n->ca);
    curl_easy_setopt(h[i]->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h[i]->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h[i]->curl, CURLOPT_TIMEOUT_MS, 20000L);
    ck_assert_int_eq(curl_multi_add_handle(m, h[i]->curl), CURLM_OK);
  }
  int running = 1, done = 0;
  for (int spins = 0; running > 0 && spins < 20000; spins++) {
    ck_assert_int_eq(curl_multi_perform(m, &running), CURLM_OK);
    if (running > 0)
      ck_assert_int_eq(curl_multi_poll(m, NULL, 0, 100, NULL), CURLM_OK);
  }
  ck_assert_int_eq(running, 0);
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    ck_assert_msg(msg->data.result == CURLE_OK, "%s", curl_easy_strerror(msg->data.result));
    long status = 0, version = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(msg->easy_handle, CURLINFO_HTTP_VERSION, &version);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(version, want_version);
    done++;
  }
  ck_assert_int_eq(done, k);
  for (int i = 0; i < k; i++) {
    curl_multi_remove_handle(m, h[i]->curl);
    curl_easy_cleanup(h[i]->curl);
    free(h[i]);
  }
  curl_multi_cleanup(m);
}

START_TEST(multi_multiplexes_and_limits_host_connections) {
  test_nginx n;
  if (!env_up(&n, "fetch_h2"))
    return;
  enum { K = 8 };
  /* HTTP/2: every transfer waits for the first connection (PIPEWAIT) and shares it */
  fo_fetcher *f = fetcher(&n, 1, FO_FETCH_HTTP_DEFAULT, 0);
  multi_run(f, &n, "h2", K, CURL_HTTP_VERSION_2_0);
  fo_fetcher_destroy(f);
  /* HTTP/1.1 only: one transfer per connection, at most max_host_connections of them */
  f = fetcher(&n, 1, FO_FETCH_HTTP_1_1, 2);
  multi_run(f, &n, "limit", K, CURL_HTTP_VERSION_1_1);
  fo_fetcher_destroy(f);
  /* and without the limit they open more: the limit above is what held them */
  f = fetcher(&n, 1, FO_FETCH_HTTP_1_1, 0);
  multi_run(f, &n, "free", K, CURL_HTTP_VERSION_1_1);
  fo_fetcher_destroy(f);
  log_line lines[3 * K];
  int nl = read_log(&n, 3 * K, lines, 3 * K);
  int reqs, conns = conns_of(lines, nl, "/body.json?h2=", &reqs);
  ck_assert_int_eq(reqs, K);
  ck_assert_msg(conns == 1, "HTTP/2: %d connections for %d transfers at once", conns, reqs);
  conns = conns_of(lines, nl, "/body.json?limit=", &reqs);
  ck_assert_int_eq(reqs, K);
  ck_assert_msg(conns >= 1 && conns <= 2, "max_host_connections 2: %d connections", conns);
  conns = conns_of(lines, nl, "/body.json?free=", &reqs);
  ck_assert_int_eq(reqs, K);
  ck_assert_msg(conns > 2, "HTTP/1.1 without a limit: only %d connections", conns);
  for (int i = 0; i < nl; i++)
    ck_assert_str_eq(lines[i].proto,
                     strncmp(lines[i].uri, "/body.json?h2=", 14) == 0 ? "HTTP/2.0" : "HTTP/1.1");
  nginx_down(&n);
}
END_TEST

/* ------------------------------------------------------------------ what goes over it */

START_TEST(bodies_404_and_redirect_over_http2) {
  test_nginx n;
  if (!env_up(&n, "fetch_h2"))
    return;
  size_t len;
  char *want = html_file(&n, "body.json", &len);
  static const char hello[] = "hello, h2";
  enum { N = 5 };
  char url[N][160];
  static const char *const paths[N] = {"/body.json?b=gzip", "/empty.json?b=empty", "/nope?b=404",
                                       "/to-echo", "/echo"};
  fo_fetch_req req[N];
  memset(req, 0, sizeof req);
  for (int i = 0; i < N; i++) {
    nginx_url(&n, 1, paths[i], url[i], sizeof url[i]);
    req[i].url = url[i];
  }
  req[4].method = "POST";
  req[4].body_from = FO_FETCH_BODY_MEMORY;
  req[4].body = hello;
  req[4].body_len = sizeof hello - 1;
  fo_fetcher *f = fetcher(&n, 2, FO_FETCH_HTTP_DEFAULT, 0);
  fo_fetch_result res[N];
  ck_assert_int_eq(fo_fetch_requests(f, req, N, res, NULL, NULL), 1); /* the 404 */
  for (int i = 0; i < N; i++)
    ck_assert_msg(res[i].http_version == 20, "%s: http_version %d", paths[i], res[i].http_version);
  ck_assert_int_eq(res[0].err, 0);
  ck_assert_uint_eq(res[0].body_len, len);
  ck_assert(memcmp(res[0].body, want, len) == 0);
  ck_assert_int_eq(res[1].err, 0);
  ck_assert_int_eq(res[1].status, 200);
  ck_assert_uint_eq(res[1].body_len, 0);
  ck_assert_int_eq(res[2].err, FO_EHTTP);
  ck_assert_int_eq(res[2].status, 404);
  ck_assert_int_eq(res[3].err, 0); /* followed to /echo */
  ck_assert_ptr_nonnull(strstr(res[3].body, "m=GET "));
  ck_assert_int_eq(res[4].err, 0);
  ck_assert_msg(strstr(res[4].body, "m=POST ") && strstr(res[4].body, " len=9 "), "%s",
                res[4].body);
  fo_fetch_results_free(res, N);
  fo_fetcher_destroy(f);
  /* nginx saw each over HTTP/2, and sent the text gzipped */
  log_line lines[8];
  int nl = read_log(&n, N + 1, lines, 8);
  ck_assert_int_eq(nl, N + 1);
  for (int i = 0; i < nl; i++)
    ck_assert_msg(strcmp(lines[i].proto, "HTTP/2.0") == 0, "%s over %s", lines[i].uri,
                  lines[i].proto);
  ck_assert_int_eq(by_uri(lines, nl, "/nope?b=404")->status, 404);
  ck_assert_int_eq(by_uri(lines, nl, "/to-echo")->status, 302);
  long long wire = nginx_bytes_sent(&n, "/body.json?b=gzip", 1);
  ck_assert_msg(wire > 0 && wire < (long long)len / 2, "%lld bytes on the wire for %zu", wire, len);
  free(want);
  nginx_down(&n);
}
END_TEST

static int stop_after(unsigned long long bytes, unsigned long long total, void *arg) {
  (void)total;
  return bytes >= *(unsigned long long *)arg;
}

/* A file cut on purpose (the watch stops it) and resumed over HTTP/2: Range and If-Range on a
 * stream, a 206, every byte once. */
START_TEST(resume_over_http2) {
  test_nginx n;
  if (!env_up(&n, "fetch_h2"))
    return;
  char url[160], out[160], part[160], src[160];
  nginx_url(&n, 1, "/slow/part.bin", url, sizeof url);
  snprintf(out, sizeof out, "%s/out.bin", n.dir);
  snprintf(part, sizeof part, "%s/.out.bin.part", n.dir);
  snprintf(src, sizeof src, "%s/html/slow/part.bin", n.dir);
  fo_fetcher *f = NULL;
  fo_fetch_opts o = {.threads = 1, .ca_file = n.ca, .timeout_ms = 20000, .no_compress = 1};
  ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
  unsigned long long cut = 64 * 1024;
  fo_fetch_req req = {
      .url = url, .output = out, .flags = FO_FETCH_RESUME, .watch = stop_after, .watch_arg = &cut};
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 1);
  ck_assert_msg(r.err == -ECANCELED, "%d %s", r.err, r.message);
  ck_assert_int_eq(r.http_version, 20);
  fo_fetch_result_free(&r);
  struct stat st;
  ck_assert_int_eq(stat(part, &st), 0);
  ck_assert_int_gt(st.st_size, 0);
  ck_assert_int_lt(st.st_size, PART_SIZE);
  req.watch = NULL;
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_int_eq(r.status, 206);
  ck_assert_int_eq(r.http_version, 20);
  ck_assert_uint_eq(r.resumed, (unsigned long long)st.st_size);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(out, src));
  ck_assert_int_ne(access(part, F_OK), 0);
  fo_fetcher_destroy(f);
  /* the cut request and the ranged one, both streams of HTTP/2 */
  log_line lines[4];
  int nl = read_log(&n, 2, lines, 4);
  ck_assert_int_eq(nl, 2);
  ck_assert_int_eq(lines[0].status == 206 || lines[1].status == 206, 1);
  ck_assert_str_eq(lines[0].proto, "HTTP/2.0");
  ck_assert_str_eq(lines[1].proto, "HTTP/2.0");
  nginx_down(&n);
}
END_TEST

/* ------------------------------------------------------------------ options */

START_TEST(options_out_of_range_are_refused) {
  fo_opt_error why;
  fo_fetcher *f = NULL;
  static const struct {
    unsigned version, max_host;
    const char *field;
    long long max;
  } bad[] = {
      {2, 0, "http_version", FO_FETCH_HTTP_1_1},
      {UINT_MAX, 0, "http_version", FO_FETCH_HTTP_1_1},
      {0, FO_FETCH_HOST_CONNECTIONS_MAX + 1, "max_host_connections", FO_FETCH_HOST_CONNECTIONS_MAX},
      {FO_FETCH_HTTP_1_1, UINT_MAX, "max_host_connections", FO_FETCH_HOST_CONNECTIONS_MAX}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fo_fetch_opts o = {.http_version = bad[i].version, .max_host_connections = bad[i].max_host};
    memset(&why, 0, sizeof why);
    ck_assert_int_eq(fo_fetch_opts_check(&o, &why), -EINVAL);
    ck_assert_ptr_nonnull(why.field);
    ck_assert_str_eq(why.field, bad[i].field);
    ck_assert_int_eq(why.min, 0);
    ck_assert_int_eq(why.max, bad[i].max);
    ck_assert_int_eq(
        why.value,
        (long long)(strcmp(bad[i].field, "http_version") == 0 ? bad[i].version : bad[i].max_host));
    ck_assert_int_eq(fo_fetcher_create(&f, &o), -EINVAL);
    ck_assert_ptr_null(f);
  }
  /* the edges are accepted */
  static const unsigned good[][2] = {{FO_FETCH_HTTP_DEFAULT, 0},
                                     {FO_FETCH_HTTP_1_1, 1},
                                     {FO_FETCH_HTTP_DEFAULT, FO_FETCH_HOST_CONNECTIONS_MAX}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    fo_fetch_opts o = {
        .threads = 1, .http_version = good[i][0], .max_host_connections = good[i][1]};
    ck_assert_int_eq(fo_fetch_opts_check(&o, NULL), 0);
    ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
    CURLM *m = curl_multi_init();
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(fo__net_multi_setup(f, m), 0);
    curl_multi_cleanup(m);
    fo_fetcher_destroy(f);
    f = NULL;
  }
}
END_TEST

Suite *fetch_h2_suite(void) {
  Suite *s = suite_create("fetch_h2");
  TCase *tc = fo_tcase("nginx_h2", 60);
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
  tcase_add_test(tc, tls_is_http2_http1_1_option_and_cleartext_are_not);
  tcase_add_test(tc, one_worker_keeps_one_connection);
  tcase_add_test(tc, a_hosts_items_share_one_workers_connection);
  tcase_add_test(tc, multi_multiplexes_and_limits_host_connections);
  tcase_add_test(tc, bodies_404_and_redirect_over_http2);
  tcase_add_test(tc, resume_over_http2);
  suite_add_tcase(s, tc);
  TCase *opts = fo_tcase("options", 10);
  tcase_add_unchecked_fixture(opts, global_init, global_cleanup);
  tcase_add_test(opts, options_out_of_range_are_refused);
  suite_add_tcase(s, opts);
  return s;
}
