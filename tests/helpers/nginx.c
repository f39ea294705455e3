/* A real nginx for the fetcher's tests: see nginx.h. */
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
#include <time.h>
#include <unistd.h>

#include "nginx.h"

const char *nginx_bin(void) {
  static const char *const where[] = {"/usr/sbin/nginx", "/usr/local/sbin/nginx",
                                      "/usr/local/nginx/sbin/nginx"};
  const char *e = getenv("FO_NGINX");
  if (e && *e)
    return access(e, X_OK) == 0 ? e : NULL;
  for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
    if (access(where[i], X_OK) == 0)
      return where[i];
  return NULL;
}

static int have_openssl(void) {
  return system("openssl version >/dev/null 2>&1") == 0;
}

void test_run(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
}

void test_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  ck_assert_int_eq(fclose(f), 0);
}

/* A port free right now (nginx takes it a moment later; a clash only fails the start). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
  close(fd);
  return ntohs(sa.sin_port);
}

static int port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

static void make_certs(test_nginx *e) {
  const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  test_run("cd %s && openssl req -x509 %s -keyout ca.key -out ca.pem -days 2 "
           "-subj /CN=fanout-test-CA -addext basicConstraints=critical,CA:TRUE "
           "-addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1",
           e->dir, ec);
  test_run("cd %s && openssl req -x509 %s -keyout other.key -out other.pem -days 2 "
           "-subj /CN=fanout-other-CA -addext basicConstraints=critical,CA:TRUE >/dev/null 2>&1",
           e->dir, ec);
  char ext[256];
  snprintf(ext, sizeof ext, "%s/ext.cnf", e->dir);
  test_write_file(ext, "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
  test_run("cd %s && openssl req %s -keyout srv.key -out srv.csr -subj /CN=localhost "
           ">/dev/null 2>&1 && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
           "-CAcreateserial -out srv.pem -days 2 -extfile ext.cnf >/dev/null 2>&1",
           e->dir, ec);
  test_run("mkdir -p %s/capath && cp %s/ca.pem %s/capath/ && openssl rehash %s/capath "
           ">/dev/null 2>&1",
           e->dir, e->dir, e->dir, e->dir);
  snprintf(e->ca, sizeof e->ca, "%s/ca.pem", e->dir);
  snprintf(e->other_ca, sizeof e->other_ca, "%s/other.pem", e->dir);
  snprintf(e->capath, sizeof e->capath, "%s/capath", e->dir);
}

/* The client side: certificates, keys in every form the fetcher reads, CRLs (openssl ca keeps
 * its list of revoked certificates in an index file: one per CRL). */
static void make_client_certs(test_nginx *e) {
  const char *d = e->dir;
  const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  char path[256];
  snprintf(path, sizeof path, "%s/cli.cnf", d);
  test_write_file(path, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=clientAuth\n");
  static const struct {
    const char *name, *cn, *ca, *key;
  } certs[] = {{"client", "device-1", "ca", NULL},
               {"revoked", "device-revoked", "ca", NULL},
               {"stranger", "device-stranger", "other", NULL},
               {"rsa", "device-rsa", "ca", "-newkey rsa:2048 -nodes"}};
  for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
    test_run("cd %s && openssl req %s -keyout %s.key -out %s.csr -subj /CN=%s >/dev/null 2>&1 && "
             "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -out %s.pem "
             "-days 2 -extfile cli.cnf >/dev/null 2>&1",
             d, certs[i].key ? certs[i].key : ec, certs[i].name, certs[i].name, certs[i].cn,
             certs[i].name, certs[i].ca, certs[i].ca, certs[i].name);
  test_run("cd %s && openssl x509 -in client.pem -outform DER -out client.der && "
           "openssl pkey -in client.key -outform DER -out client-key.der && "
           "openssl pkey -in client.key -traditional -aes256 -passout pass:%s "
           "-out client-enc.key && "
           "openssl pkcs8 -topk8 -in client.key -v2 des3 -passout pass:%s -out client-p8.key",
           d, NGINX_KEY_PASSWORD, NGINX_KEY_PASSWORD);
  static const struct {
    const char *crl, *revoke;
  } crls[] = {{"crl-client", "revoked.pem"}, {"crl-srv", "srv.pem"}, {"crl-empty", NULL}};
  for (size_t i = 0; i < sizeof crls / sizeof crls[0]; i++) {
    const char *c = crls[i].crl;
    char cnf[512];
    snprintf(path, sizeof path, "%s/%s.cnf", d, c);
    snprintf(cnf, sizeof cnf,
             "[ca]\ndefault_ca=d\n[d]\ndatabase=%s/%s.idx\ndefault_md=sha256\n"
             "default_crl_days=2\n",
             d, c);
    test_write_file(path, cnf);
    test_run("cd %s && : >%s.idx", d, c);
    if (crls[i].revoke != NULL)
      test_run("cd %s && openssl ca -config %s.cnf -keyfile ca.key -cert ca.pem -revoke %s "
               ">/dev/null 2>&1",
               d, c, crls[i].revoke);
    test_run("cd %s && openssl ca -config %s.cnf -keyfile ca.key -cert ca.pem -gencrl -out %s.pem "
             ">/dev/null 2>&1",
             d, c, c);
  }
  test_run("cd %s && openssl x509 -in srv.pem -pubkey -noout | openssl pkey -pubin -outform DER | "
           "openssl dgst -sha256 -binary | openssl base64 -A | sed 's,^,sha256//,' >srv.pin",
           d);
}

/* The server that asks for a client certificate, or "" without nginx_up_mtls(). */
static void mtls_server(const test_nginx *e, char *out, size_t cap) {
  const char *d = e->dir;
  if (e->mtls_port == 0) {
    out[0] = '\0';
    return;
  }
  snprintf(out, cap,
           "  server {\n"
           "    listen 127.0.0.1:%d ssl;\n"
           "    server_name localhost;\n"
           "    ssl_certificate %s/srv.pem; ssl_certificate_key %s/srv.key;\n"
           "    ssl_verify_client on; ssl_client_certificate %s/ca.pem;\n"
           "    ssl_crl %s/crl-client.pem;\n"
           "    root %s/html;\n"
           "    location = /whoami { default_type text/plain; "
           "return 200 \"dn=$ssl_client_s_dn verify=$ssl_client_verify curve=$ssl_curve\\n\"; "
           "}\n"
           "  }\n",
           e->mtls_port, d, d, d, d, d);
}

static void write_conf(const test_nginx *e) {
  char conf[10240], path[128], mtls[1024];
  mtls_server(e, mtls, sizeof mtls);
  const char *d = e->dir;
  snprintf(
      conf, sizeof conf,
      "daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\n%s"
      "events { worker_connections 256; }\n"
      "http {\n"
      "  log_format conn '$connection $connection_requests $status $request_uri $bytes_sent "
      "$request_method $server_protocol';\n"
      "  access_log %s/access.log conn;\n"
      "  client_body_temp_path %s/tmp; proxy_temp_path %s/tmp; fastcgi_temp_path %s/tmp;\n"
      "  uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;\n"
      "  keepalive_requests 100000; keepalive_timeout 60s;\n"
      "  gzip on; gzip_min_length 256; gzip_comp_level 6;\n"
      "  gzip_types application/json text/plain application/octet-stream;\n"
      "  server {\n"
      "    listen 127.0.0.1:%d ssl%s; listen 127.0.0.1:%d;\n"
      "    server_name localhost;\n"
      "    ssl_certificate %s/srv.pem; ssl_certificate_key %s/srv.key;\n"
      "    root %s/html;\n"
      "    default_type application/json;\n"
      "    client_max_body_size 0;\n"
      "    location = /v4/starlink { try_files /v4/starlink.json =404; }\n"
      "    location /dav/ { dav_methods PUT DELETE; create_full_put_path on; }\n"
      "    location /slow/ { limit_rate 256k; }\n"
      "    location /gz/ { gzip off; add_header Content-Encoding gzip; }\n"
      "    location = /echo { gzip off; default_type text/plain; return 200 \"m=$request_method "
      "a=$http_authorization c=$http_cookie x=$http_x_test len=$content_length "
      "te=$http_transfer_encoding ae=$http_accept_encoding\\n\"; }\n"
      "    location = /to-echo { return 302 /echo; }\n"
      "    location = /to-other { return 302 http://127.0.0.1:%d/echo; }\n"
      "    location = /to-http { return 302 http://localhost:%d/echo; }\n"
      "    location = /loop { return 302 /loop; }\n"
      "    location = /fail { return 503; }\n"
      "  }\n"
      "%s"
      "}\n",
      d, d, geteuid() == 0 ? "user root root;\n" : "", d, d, d, d, d, d, e->port,
      e->h2 ? " http2" : "", e->http_port, d, d, d, e->http_port, e->http_port, mtls);
  snprintf(path, sizeof path, "%s/nginx.conf", d);
  test_write_file(path, conf);
}

static void start(test_nginx *e, const char *bin, int mtls) {
  char path[128];
  for (int tries = 0; tries < 5; tries++) {
    e->port = free_port();
    e->http_port = free_port();
    e->mtls_port = mtls ? free_port() : 0;
    if (e->http_port == e->port ||
        (mtls && (e->mtls_port == e->port || e->mtls_port == e->http_port)))
      continue;
    write_conf(e);
    snprintf(path, sizeof path, "%s/tmp", e->dir);
    mkdir(path, 0700);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      /* nginx dies with the test process, even one killed by Check's timeout */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      char errlog[128], cfg[128];
      snprintf(errlog, sizeof errlog, "%s/error.log", e->dir);
      snprintf(cfg, sizeof cfg, "%s/nginx.conf", e->dir);
      execl(bin, bin, "-p", e->dir, "-c", cfg, "-e", errlog, (char *)NULL);
      _exit(127);
    }
    e->pid = pid;
    for (int i = 0; i < 100; i++) {
      if (port_open(e->port) && port_open(e->http_port) && (!mtls || port_open(e->mtls_port)))
        return;
      if (waitpid(pid, NULL, WNOHANG) == pid)
        break; /* it exited: a port was taken meanwhile, or the config is wrong */
      struct timespec ts = {0, 50000000};
      nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    e->pid = 0;
  }
  char log[4096] = "";
  snprintf(path, sizeof path, "%s/error.log", e->dir);
  FILE *f = fopen(path, "r");
  if (f) {
    size_t n = fread(log, 1, sizeof log - 1, f);
    log[n] = '\0';
    fclose(f);
  }
  ck_abort_msg("nginx did not start: %s", log);
}

static int up(test_nginx *e, const char *who, void (*before)(const char *html, void *arg),
              void *arg, int mtls, int h2) {
  const char *bin = nginx_bin();
  if (bin == NULL || !have_openssl()) {
    /* CI installs both and sets FO_REQUIRE_NGINX, so there a missing server fails the test */
    const char *req = getenv("FO_REQUIRE_NGINX");
    ck_assert_msg(req == NULL || strcmp(req, "1") != 0, "%s not found and FO_REQUIRE_NGINX=1",
                  bin == NULL ? "nginx" : "openssl");
    fprintf(stderr, "%s: SKIPPED: %s not found (install nginx-light and openssl; .ci/run does)\n",
            who, bin == NULL ? "nginx" : "openssl");
    return 0;
  }
  memset(e, 0, sizeof *e);
  e->h2 = h2;
  snprintf(e->dir, sizeof e->dir, "/tmp/fo-nginx-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(e->dir));
  make_certs(e);
  if (mtls)
    make_client_certs(e);
  char html[128];
  snprintf(html, sizeof html, "%s/html", e->dir);
  test_run("mkdir -p %s/dav %s/slow %s/gz", html, html, html);
  if (before != NULL)
    before(html, arg);
  start(e, bin, mtls);
  return 1;
}

int nginx_up(test_nginx *e, const char *who, void (*before)(const char *html, void *arg),
             void *arg) {
  return up(e, who, before, arg, 0, 0);
}

int nginx_up_h2(test_nginx *e, const char *who, void (*before)(const char *html, void *arg),
                void *arg) {
  return up(e, who, before, arg, 0, 1);
}

int nginx_up_mtls(test_nginx *e, const char *who, void (*before)(const char *html, void *arg),
                  void *arg) {
  return up(e, who, before, arg, 1, 0);
}

void nginx_file(const test_nginx *e, const char *name, char *buf, size_t cap) {
  snprintf(buf, cap, "%s/%s", e->dir, name);
}

void nginx_down(test_nginx *e) {
  if (e->pid > 0) {
    kill(e->pid, SIGTERM);
    waitpid(e->pid, NULL, 0);
    e->pid = 0;
  }
  if (e->dir[0])
    test_run("rm -rf %s", e->dir);
  e->dir[0] = '\0';
}

/* Walk the access log: count lines and connections, and sum bytes_sent for a URI prefix. */
static void log_scan(const test_nginx *e, const char *prefix, int *conns, int *reqs,
                     long long *bytes) {
  char path[128], line[1024];
  snprintf(path, sizeof path, "%s/access.log", e->dir);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  static long seen[4096]; /* only the test thread reads the log */
  *conns = *reqs = 0;
  *bytes = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    long c, n;
    int status;
    char uri[512];
    long long sent;
    if (sscanf(line, "%ld %ld %d %511s %lld", &c, &n, &status, uri, &sent) != 5)
      continue;
    (*reqs)++;
    if (prefix != NULL && strncmp(uri, prefix, strlen(prefix)) == 0)
      *bytes += sent;
    int known = 0;
    for (int i = 0; i < *conns; i++)
      known |= seen[i] == c;
    if (!known && *conns < 4096)
      seen[(*conns)++] = c;
  }
  fclose(f);
}

void nginx_log_counts(const test_nginx *e, int min_reqs, int *conns, int *reqs) {
  long long bytes;
  for (int i = 0; i < 200; i++) {
    log_scan(e, NULL, conns, reqs, &bytes);
    if (*reqs >= min_reqs)
      return;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

long long nginx_bytes_sent(const test_nginx *e, const char *uri_prefix, int min_reqs) {
  int conns, reqs;
  long long bytes = 0;
  for (int i = 0; i < 200; i++) {
    log_scan(e, uri_prefix, &conns, &reqs, &bytes);
    if (reqs >= min_reqs)
      break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return bytes;
}

void nginx_url(const test_nginx *e, int https, const char *path, char *buf, size_t cap) {
  snprintf(buf, cap, "%s://localhost:%d%s", https ? "https" : "http",
           https ? e->port : e->http_port, path);
}

void test_make_text_file(const char *path, size_t size) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  size_t n = 0;
  for (unsigned i = 0; n < size; i++) {
    char line[96];
    int l = snprintf(line, sizeof line, "{\"id\":%u,\"name\":\"STARLINK-%u\",\"v\":%u.%03u},\n", i,
                     i * 7 % 5000, i % 97, i * 13 % 1000);
    size_t take = (size_t)l < size - n ? (size_t)l : size - n;
    ck_assert_uint_eq(fwrite(line, 1, take, f), take);
    n += take;
  }
  ck_assert_int_eq(fclose(f), 0);
}

void test_sha256_of(const char *path, char hex[65]) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(fscanf(p, "%64s", hex), 1);
  ck_assert_int_eq(pclose(p), 0);
}

int test_files_equal(const char *a, const char *b) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
  return system(cmd) == 0;
}

int test_dir_entries(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  int n = -1;
  ck_assert_int_eq(fscanf(p, "%d", &n), 1);
  pclose(p);
  return n;
}
