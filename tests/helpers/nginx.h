/* A real nginx (the distribution's nginx-light) for the fetcher's tests: started on two loopback
 * ports (HTTPS with a `localhost` certificate from a CA made with the openssl command at test
 * time, and plain HTTP), in a private directory, killed with the test process. Its server:
 *   /            files under DIR/html (gzip on for JSON and text, byte ranges built in)
 *   /v4/starlink the file html/v4/starlink.json
 *   /dav/        WebDAV PUT and DELETE (create_full_put_path), no body size limit
 *   /slow/       files sent at limit_rate 256k
 *   /gz/         files sent as they are with Content-Encoding: gzip (pre-compressed bodies)
 *   /echo        "m=METHOD a=AUTHORIZATION c=COOKIE x=X-TEST len=CONTENT-LENGTH te=TRANSFER-ENCODING
 *                ae=ACCEPT-ENCODING" (any method; a body is read and dropped)
 *   /to-echo     302 to /echo on the same host; /to-other: 302 to http://127.0.0.1:HTTP/echo
 *                (another host); /to-http: 302 to http://localhost:HTTP/echo; /loop: 302 to itself
 *   /fail        503 for any method
 * The access log (DIR/access.log) has one line per request:
 *   $connection $connection_requests $status $request_uri $bytes_sent $request_method
 *   $server_protocol (HTTP/1.1, or HTTP/2.0 on the HTTPS port of nginx_up_h2())
 *
 * nginx_up_mtls() adds a third port, mtls_port (HTTPS), whose server asks every client for a
 * certificate from the test CA (ssl_verify_client on) and refuses those DIR/crl-client.pem
 * revokes with a 400: /whoami answers "dn=SUBJECT verify=SUCCESS curve=GROUP" (the key exchange's
 * curve), any other path serves html/.
 * The files it makes in DIR, with the openssl command:
 *   client.pem client.key        EC client certificate (CN=device-1) and key, PEM
 *   client.der client-key.der    the same in DER
 *   client-enc.key               the key encrypted (PEM, AES-256-CBC), password in PASSWORD
 *   client-p8.key                the key encrypted as PKCS#8 (PBES2, 3DES), same password
 *   revoked.pem revoked.key      a client (CN=device-revoked) that crl-client.pem revokes
 *   stranger.pem stranger.key    a client certificate of the other CA (other.pem)
 *   rsa.pem rsa.key              an RSA-2048 client (CN=device-rsa), for signing outside mbedTLS
 *   crl-client.pem               the test CA's CRL that revokes revoked.pem (nginx's)
 *   crl-srv.pem                  the test CA's CRL that revokes srv.pem, the server's certificate
 *   crl-empty.pem                the test CA's CRL that revokes nothing
 *   srv.pin                      "sha256//BASE64" of the server's public key */
#ifndef FO_TESTS_NGINX_H
#define FO_TESTS_NGINX_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
  char dir[64];
  char ca[128], other_ca[128], capath[128];
  int port;      /* HTTPS */
  int http_port; /* plain HTTP */
  int mtls_port; /* HTTPS asking for a client certificate (nginx_up_mtls), else 0 */
  int h2;        /* the HTTPS port offers HTTP/2 by ALPN (nginx_up_h2) */
  pid_t pid;
} test_nginx;

/* The password of client-enc.key and client-p8.key. */
#define NGINX_KEY_PASSWORD "fanout-pw"

/* The nginx binary ($FO_NGINX, or a usual place), or NULL. */
const char *nginx_bin(void);
/* Make the directory, the certificates and html/, and start nginx. Returns 0 when nginx or
 * openssl is missing (the caller skips the test; FO_REQUIRE_NGINX=1 makes that a failure), 1
 * when it runs. `before` (may be NULL) is called with html/'s path before nginx starts, to put
 * files there. */
int nginx_up(test_nginx *e, const char *who, void (*before)(const char *html, void *arg),
             void *arg);
/* nginx_up() whose HTTPS port also speaks HTTP/2 (`listen PORT ssl http2`, nginx 1.22's form),
 * agreed by ALPN; the plain HTTP port stays HTTP/1.1. */
int nginx_up_h2(test_nginx *e, const char *who, void (*before)(const char *html, void *arg),
                void *arg);
/* nginx_up() with the client certificates above and the server on mtls_port. */
int nginx_up_mtls(test_nginx *e, const char *who, void (*before)(const char *html, void *arg),
                  void *arg);
void nginx_down(test_nginx *e);
/* DIR/name in buf. */
void nginx_file(const test_nginx *e, const char *name, char *buf, size_t cap);
/* Requests and distinct connections in the access log so far, waiting (bounded) until at least
 * min_reqs lines are there: nginx logs a request after answering it. */
void nginx_log_counts(const test_nginx *e, int min_reqs, int *conns, int *reqs);
/* The sum of $bytes_sent over the log lines whose URI starts with uri_prefix. */
long long nginx_bytes_sent(const test_nginx *e, const char *uri_prefix, int min_reqs);

/* system() on a formatted command; the test fails when it does. */
void test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void test_write_file(const char *path, const char *text);

/* "http[s]://localhost:PORT" followed by path, in buf. */
void nginx_url(const test_nginx *e, int https, const char *path, char *buf, size_t cap);

/* A file of size bytes of JSON-like lines (compresses about tenfold). */
void test_make_text_file(const char *path, size_t size);
/* The file's SHA-256 in hex (from sha256sum, not the code under test). */
void test_sha256_of(const char *path, char hex[65]);
/* 1 when the two files have the same bytes. */
int test_files_equal(const char *a, const char *b);
/* Entries in a directory, hidden ones included. */
int test_dir_entries(const char *dir);

#endif /* FO_TESTS_NGINX_H */
