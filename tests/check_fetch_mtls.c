/* Credentials against a real nginx that asks for a client certificate (ssl_verify_client on),
 * with a CA, server and client certificates, keys and CRLs made by the openssl command at test
 * time (tests/helpers/nginx.c): the client certificate and key as PEM and DER files, from
 * memory, encrypted with a password; the CA from memory; what the server says without a
 * certificate or with a revoked or foreign one; every bad credential failing its item with a
 * message that names the field, before any request (nginx's access log stays empty); pins per
 * fetcher and per request; a CRL on the client's side; and the TLS hook signing the handshake
 * with a key mbedTLS never holds. Skipped, with a message, where nginx or openssl is missing. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef FO_CURL_MBEDTLS
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#endif

#include "fanout/fetch.h"
#include "helpers/fixture.h"
#include "helpers/nginx.h"
#include "helpers/testalloc.h"
#include "suites.h"

/* A pin of the right form that no key has (the digest of nothing in particular). */
#define PIN_NONE "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void mtls_global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void mtls_global_cleanup(void) {
  fo_fetch_global_cleanup();
}

static char *mtls_slurp(const test_nginx *e, const char *name, size_t *len) {
  char path[160];
  nginx_file(e, name, path, sizeof path);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "%s", path);
  char *buf = malloc(1 << 20);
  ck_assert_ptr_nonnull(buf);
  *len = fread(buf, 1, (1 << 20) - 1, f);
  buf[*len] = '\0';
  fclose(f);
  return buf;
}

static int mtls_get(const fo_fetch_opts *o, const char *url, const char *pins, fo_fetch_result *r) {
  fo_fetcher *f = NULL;
  int rc = fo_fetcher_create(&f, o);
  ck_assert_msg(rc == 0, "create: %s", fo_strerror(rc));
  fo_fetch_req req = {.url = url, .pinned_pubkey = pins};
  rc = fo_fetch_requests(f, &req, 1, r, NULL, NULL);
  ck_assert_int_ge(rc, 0);
  fo_fetcher_destroy(f);
  return r->err;
}

/* DIR/name, in a buffer of the test's (paths live as long as the test). */
#define FILE_OF(e, name, buf) (nginx_file((e), (name), (buf), sizeof(buf)), (buf))

START_TEST(client_certificate_in_every_form) {
  test_nginx e;
  if (!nginx_up_mtls(&e, "fetch_mtls", NULL, NULL))
    return;
  char ca[160], cert[160], key[160], der[160], kder[160], enc[160], p8[160], url[128];
  FILE_OF(&e, "ca.pem", ca);
  FILE_OF(&e, "client.pem", cert);
  FILE_OF(&e, "client.key", key);
  FILE_OF(&e, "client.der", der);
  FILE_OF(&e, "client-key.der", kder);
  FILE_OF(&e, "client-enc.key", enc);
  FILE_OF(&e, "client-p8.key", p8);
  snprintf(url, sizeof url, "https://localhost:%d/whoami", e.mtls_port);
  size_t cl, kl, cdl, kdl, el, cal;
  char *cert_b = mtls_slurp(&e, "client.pem", &cl), *key_b = mtls_slurp(&e, "client.key", &kl);
  char *cder_b = mtls_slurp(&e, "client.der", &cdl),
       *kder_b = mtls_slurp(&e, "client-key.der", &kdl);
  char *enc_b = mtls_slurp(&e, "client-enc.key", &el), *ca_b = mtls_slurp(&e, "ca.pem", &cal);
  const char *pw = NGINX_KEY_PASSWORD;
  const fo_fetch_opts cases[] = {
      {.ca_file = ca, .client_cert = cert, .client_key = key},
      {.ca_file = ca, .client_cert = der, .client_key = kder},
      {.ca_file = ca, .client_cert = cert, .client_key = enc, .key_password = pw},
      {.ca_file = ca, .client_cert = der, .client_key = p8, .key_password = pw},
      {.ca_file = ca,
       .client_cert_blob = cert_b,
       .client_cert_blob_len = cl,
       .client_key_blob = key_b,
       .client_key_blob_len = kl},
      {.ca_file = ca,
       .client_cert_blob = cder_b,
       .client_cert_blob_len = cdl,
       .client_key_blob = kder_b,
       .client_key_blob_len = kdl},
      {.ca_file = ca,
       .client_cert_blob = cert_b,
       .client_cert_blob_len = cl,
       .client_key_blob = enc_b,
       .client_key_blob_len = el,
       .key_password = pw},
      /* the CA from memory */
      {.ca_blob = ca_b, .ca_blob_len = cal, .client_cert = cert, .client_key = key},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fo_fetch_result r;
    int rc = mtls_get(&cases[i], url, NULL, &r);
    ck_assert_msg(rc == 0 && r.status == 200, "case %zu: %d %ld %s", i, rc, r.status, r.message);
    ck_assert_msg(strstr(r.body, "CN=device-1") && strstr(r.body, "verify=SUCCESS"), "case %zu: %s",
                  i, r.body);
    /* the key exchange on P-256 (or X25519), not the P-521 mbedTLS 2 would offer first */
    ck_assert_msg(strstr(r.body, "curve=prime256v1") || strstr(r.body, "curve=X25519"),
                  "case %zu: %s", i, r.body);
    fo_fetch_result_free(&r);
  }
  /* the same CA in memory is not a CA for another server's certificate */
  size_t ol;
  char *other_b = mtls_slurp(&e, "other.pem", &ol);
  fo_fetch_result r;
  fo_fetch_opts o = {.ca_blob = other_b, .ca_blob_len = ol, .client_cert = cert, .client_key = key};
  ck_assert_int_eq(mtls_get(&o, url, NULL, &r), FO_ETLS);
  fo_fetch_result_free(&r);
  /* connections stay alive with a client certificate: 24 requests on two workers */
  enum { N = 24 };
  fo_fetcher *f;
  ck_assert_int_eq(fo_fetcher_create(&f, &cases[0]), 0);
  fo_fetch_req reqs[N];
  fo_fetch_result res[N];
  for (int i = 0; i < N; i++)
    reqs[i] = (fo_fetch_req){.url = url};
  fo_fetch_opts two = cases[0];
  two.threads = 2;
  fo_fetcher_destroy(f);
  ck_assert_int_eq(fo_fetcher_create(&f, &two), 0);
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N, res, NULL, NULL), 0);
  fo_fetch_results_free(res, N);
  fo_fetcher_destroy(f);
  int conns, nreq;
  nginx_log_counts(&e, (int)(sizeof cases / sizeof cases[0]) + N, &conns, &nreq);
  ck_assert_int_eq(nreq, (int)(sizeof cases / sizeof cases[0]) + N);
  ck_assert_msg(conns <= (int)(sizeof cases / sizeof cases[0]) + 2, "%d connections", conns);
  free(cert_b), free(key_b), free(cder_b), free(kder_b), free(enc_b), free(ca_b), free(other_b);
  nginx_down(&e);
}
END_TEST

START_TEST(server_refuses_a_missing_revoked_or_foreign_certificate) {
  test_nginx e;
  if (!nginx_up_mtls(&e, "fetch_mtls", NULL, NULL))
    return;
  char ca[160], url[128], c[3][2][160];
  FILE_OF(&e, "ca.pem", ca);
  snprintf(url, sizeof url, "https://localhost:%d/whoami", e.mtls_port);
  static const char *const names[3][2] = {
      {NULL, NULL}, {"revoked.pem", "revoked.key"}, {"stranger.pem", "stranger.key"}};
  /* nginx ends the handshake and answers 400 with its reason in the body */
  static const char *const why[3] = {"No required SSL certificate", "SSL certificate error",
                                     "SSL certificate error"};
  for (int i = 0; i < 3; i++) {
    fo_fetch_opts o = {.ca_file = ca};
    if (names[i][0] != NULL) {
      o.client_cert = FILE_OF(&e, names[i][0], c[i][0]);
      o.client_key = FILE_OF(&e, names[i][1], c[i][1]);
    }
    fo_fetch_result r;
    ck_assert_int_eq(mtls_get(&o, url, NULL, &r), FO_EHTTP);
    ck_assert_int_eq(r.status, 400);
    ck_assert_msg(r.body && strstr(r.body, why[i]), "case %d: %s", i, r.body);
    fo_fetch_result_free(&r);
  }
  nginx_down(&e);
}
END_TEST

typedef struct {
  fo_fetch_opts o;
  const char *field; /* the message names it */
} bad_case;

START_TEST(bad_credentials_fail_before_any_request_naming_the_field) {
  test_nginx e;
  if (!nginx_up_mtls(&e, "fetch_mtls", NULL, NULL))
    return;
  char ca[160], cert[160], key[160], enc[160], p8[160], rkey[160], junk[160], url[128];
  FILE_OF(&e, "ca.pem", ca);
  FILE_OF(&e, "client.pem", cert);
  FILE_OF(&e, "client.key", key);
  FILE_OF(&e, "client-enc.key", enc);
  FILE_OF(&e, "client-p8.key", p8);
  FILE_OF(&e, "revoked.key", rkey);
  FILE_OF(&e, "junk.pem", junk);
  test_write_file(junk, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
                        "-----END CERTIFICATE-----\n");
  snprintf(url, sizeof url, "https://localhost:%d/whoami", e.mtls_port);
  static const char garbage[] = "not a certificate, not a key";
  const bad_case cases[] = {
      {{.client_cert = "/nonexistent/client.pem", .client_key = key}, "client_cert: cannot read"},
      {{.client_cert = cert, .client_key = "/nonexistent/client.key"}, "client_key: cannot read"},
      {{.client_cert = junk, .client_key = key}, "client_cert: no certificate"},
      {{.client_cert = cert, .client_key = junk}, "client_key: not a private key"},
      {{.client_cert = cert, .client_key = enc}, "key_password is not set"},
      {{.client_cert = cert, .client_key = enc, .key_password = "wrong"}, "key_password: wrong"},
      {{.client_cert = cert, .client_key = p8, .key_password = "wrong"}, "key_password: wrong"},
      {{.client_cert = cert, .client_key = rkey}, "client_key is not the key of client_cert"},
      {{.client_cert_blob = garbage, .client_cert_blob_len = sizeof garbage - 1, .client_key = key},
       "client_cert_blob: not a certificate"},
      {{.client_cert = cert, .client_key = key, .crl_file = "/nonexistent/crl.pem"},
       "crl_file: cannot read"},
      {{.client_cert = cert, .client_key = key, .crl_file = key}, "crl_file: no CRL"},
      {{.ca_blob = garbage,
        .ca_blob_len = sizeof garbage - 1,
        .client_cert = cert,
        .client_key = key},
       "ca_blob: no certificate"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fo_fetch_opts o = cases[i].o;
    if (o.ca_blob == NULL)
      o.ca_file = ca;
    o.retries = 2;
    fo_fetch_result r;
    ck_assert_int_eq(mtls_get(&o, url, NULL, &r), FO_ETLS);
    ck_assert_msg(strstr(r.message, cases[i].field) != NULL, "case %zu: '%s' lacks '%s'", i,
                  r.message, cases[i].field);
    ck_assert_uint_eq(r.attempts, 0); /* refused before any attempt */
    ck_assert_ptr_null(r.body);
    fo_fetch_result_free(&r);
  }
  /* a file the fetcher's user cannot read (root reads every file: then nothing to see) */
  if (geteuid() != 0) {
    char locked[160];
    FILE_OF(&e, "locked.key", locked);
    test_run("cp %s %s && chmod 000 %s", key, locked, locked);
    fo_fetch_opts o = {.ca_file = ca, .client_cert = cert, .client_key = locked};
    fo_fetch_result r;
    ck_assert_int_eq(mtls_get(&o, url, NULL, &r), FO_ETLS);
    ck_assert_msg(strstr(r.message, "client_key: cannot read") && strstr(r.message, "denied"), "%s",
                  r.message);
    fo_fetch_result_free(&r);
  }
  /* not one request reached the server: no silent fallback to no client certificate */
  int conns, nreq;
  nginx_log_counts(&e, 0, &conns, &nreq);
  ck_assert_int_eq(nreq, 0);
  /* a fetcher whose key file appears later picks it up at the next item */
  char later[160];
  FILE_OF(&e, "later.key", later);
  fo_fetch_opts o = {.ca_file = ca, .client_cert = cert, .client_key = later, .threads = 1};
  fo_fetcher *f;
  ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_one(f, url, NULL, &r), FO_ETLS);
  fo_fetch_result_free(&r);
  test_run("cp %s %s", key, later);
  ck_assert_int_eq(fo_fetch_one(f, url, NULL, &r), 0);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  nginx_down(&e);
}
END_TEST

START_TEST(pins_per_fetcher_and_per_request) {
  test_nginx e;
  if (!nginx_up_mtls(&e, "fetch_mtls", NULL, NULL))
    return;
  char ca[160], url[128];
  FILE_OF(&e, "ca.pem", ca);
  size_t pl;
  char *pin = mtls_slurp(&e, "srv.pin", &pl);
  pin[strcspn(pin, "\n")] = '\0';
  ck_assert_uint_eq(strlen(pin), 52);
  char both[128];
  snprintf(both, sizeof both, "%s;%s", PIN_NONE, pin);
  snprintf(url, sizeof url, "https://localhost:%d/echo", e.port);
  const struct {
    const char *fetcher, *request;
    int err;
    const char *what; /* in the message of a failure */
  } cases[] = {
      {pin, NULL, 0, NULL},
      {both, NULL, 0, NULL},
      {PIN_NONE, NULL, FO_ETLS,
       "pinned_pubkey: the server's public key is none of the 1 pin of the fetcher"},
      {PIN_NONE, pin, 0, NULL},
      {pin, PIN_NONE ";" PIN_NONE, FO_ETLS, "none of the 2 pins of the request"},
      {NULL, PIN_NONE, FO_ETLS, "of the request"},
      {NULL, both, 0, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fo_fetch_opts o = {.ca_file = ca, .pinned_pubkey = cases[i].fetcher, .retries = 2};
    fo_fetch_result r;
    int rc = mtls_get(&o, url, cases[i].request, &r);
    ck_assert_msg(rc == cases[i].err, "case %zu: %d %s", i, rc, r.message);
    if (rc != 0) {
      ck_assert_msg(strstr(r.message, cases[i].what), "case %zu: %s", i, r.message);
      ck_assert_uint_eq(r.attempts, 1); /* a pin that does not match is not retried */
    }
    fo_fetch_result_free(&r);
  }
  /* one handle, pins changing from item to item: a connection made under one set of pins is
   * not reused under another */
  fo_fetcher *f;
  ck_assert_int_eq(fo_fetcher_create(&f, &(fo_fetch_opts){.ca_file = ca, .threads = 1}), 0);
  fo_fetch_req reqs[4] = {{.url = url, .pinned_pubkey = pin},
                          {.url = url, .pinned_pubkey = PIN_NONE},
                          {.url = url},
                          {.url = url, .pinned_pubkey = PIN_NONE}};
  fo_fetch_result res[4];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 4, res, NULL, NULL), 2);
  ck_assert_int_eq(res[0].err, 0);
  ck_assert_int_eq(res[1].err, FO_ETLS);
  ck_assert_int_eq(res[2].err, 0);
  ck_assert_int_eq(res[3].err, FO_ETLS);
  fo_fetch_results_free(res, 4);
  fo_fetcher_destroy(f);
  free(pin);
  nginx_down(&e);
}
END_TEST

START_TEST(crl_file_revokes_the_server) {
  test_nginx e;
  if (!nginx_up_mtls(&e, "fetch_mtls", NULL, NULL))
    return;
  char ca[160], url[128], crl[160];
  FILE_OF(&e, "ca.pem", ca);
  snprintf(url, sizeof url, "https://localhost:%d/echo", e.port);
  static const struct {
    const char *crl;
    int err;
  } cases[] = {{"crl-srv.pem", FO_ETLS}, {"crl-empty.pem", 0}, {"crl-client.pem", 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fo_fetch_opts o = {.ca_file = ca, .crl_file = FILE_OF(&e, cases[i].crl, crl)};
    fo_fetch_result r;
    int rc = mtls_get(&o, url, NULL, &r);
    ck_assert_msg(rc == cases[i].err, "%s: %d %s", cases[i].crl, rc, r.message);
    if (rc != 0)
      ck_assert_msg(strstr(r.message, "revoked by crl_file"), "%s", r.message);
    fo_fetch_result_free(&r);
  }
  /* the same CRL from DER */
  char der[160];
  FILE_OF(&e, "crl-srv.der", der);
  test_run("openssl crl -in %s -outform DER -out %s", FILE_OF(&e, "crl-srv.pem", crl), der);
  fo_fetch_result r;
  ck_assert_int_eq(mtls_get(&(fo_fetch_opts){.ca_file = ca, .crl_file = der}, url, NULL, &r),
                   FO_ETLS);
  fo_fetch_result_free(&r);
  nginx_down(&e);
}
END_TEST

/* ------------------------------------------------------------------ the options check */

START_TEST(options_check_refuses_credentials_up_front) {
  static const char b[] = "bytes";
  static const char good[] = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  static const struct {
    fo_fetch_opts o;
    fo_opt_error why;
  } rows[] = {
      {{.client_cert = "c"}, {"client_key", 1, LLONG_MAX, 0}},
      {{.client_key = "k"}, {"client_cert", 1, LLONG_MAX, 0}},
      {{.client_cert_blob = b, .client_cert_blob_len = 5}, {"client_key", 1, LLONG_MAX, 0}},
      {{.client_key_blob = b, .client_key_blob_len = 5}, {"client_cert", 1, LLONG_MAX, 0}},
      {{.client_cert = "", .client_key = "k"}, {"client_cert", 1, LLONG_MAX, 0}},
      {{.client_cert = "c", .client_key = ""}, {"client_key", 1, LLONG_MAX, 0}},
      {{.client_cert = "c", .client_cert_blob = b, .client_cert_blob_len = 5, .client_key = "k"},
       {"client_cert_blob", 0, 0, 5}},
      {{.client_cert = "c", .client_key = "k", .client_key_blob = b, .client_key_blob_len = 5},
       {"client_key_blob", 0, 0, 5}},
      {{.client_cert_blob_len = 7, .client_key = "k"}, {"client_cert_blob_len", 0, 0, 7}},
      {{.client_cert_blob = b, .client_key = "k"},
       {"client_cert_blob_len", 1, FO_FETCH_TLS_BLOB_MAX, 0}},
      {{.client_cert = "c", .client_key_blob = b, .client_key_blob_len = FO_FETCH_TLS_BLOB_MAX + 1},
       {"client_key_blob_len", 1, FO_FETCH_TLS_BLOB_MAX, FO_FETCH_TLS_BLOB_MAX + 1LL}},
      {{.key_password = "pw"}, {"key_password", 0, 0, 2}},
      {{.client_cert = "c", .client_key = "k", .key_password = ""},
       {"key_password", 1, LLONG_MAX, 0}},
      {{.ca_file = "ca", .ca_blob = b, .ca_blob_len = 5}, {"ca_blob", 0, 0, 5}},
      {{.ca_blob = b}, {"ca_blob_len", 1, FO_FETCH_TLS_BLOB_MAX, 0}},
      {{.crl_file = ""}, {"crl_file", 1, LLONG_MAX, 0}},
      {{.pinned_pubkey = ""}, {"pinned_pubkey", 1, LLONG_MAX, 0}},
      {{.pinned_pubkey = "sha256//abc"}, {"pinned_pubkey", 52, 52, 11}},
      {{.pinned_pubkey = "sha1//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=AA"},
       {"pinned_pubkey", 52, 52, 52}},
      /* the same bytes spelled with a last digit that is not canonical: libcurl compares text */
      {{.pinned_pubkey = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV="},
       {"pinned_pubkey", 52, 52, 52}},
      {{.pinned_pubkey = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF*="},
       {"pinned_pubkey", 52, 52, 52}},
      {{.pinned_pubkey = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"},
       {"pinned_pubkey", 52, 52, 0}},
      {{.pinned_pubkey = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; sha256//x"},
       {"pinned_pubkey", 52, 52, 10}},
      /* several refused: the first in the struct's order is named */
      {{.client_cert = "c", .crl_file = "", .pinned_pubkey = "x"}, {"client_key", 1, LLONG_MAX, 0}},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    fo_opt_error why = {NULL, 0, 0, 0};
    ck_assert_msg(fo_fetch_opts_check(&rows[i].o, &why) == -EINVAL, "row %zu accepted", i);
    ck_assert_msg(why.field && strcmp(why.field, rows[i].why.field) == 0 &&
                      why.min == rows[i].why.min && why.max == rows[i].why.max &&
                      why.value == rows[i].why.value,
                  "row %zu: %s %lld..%lld = %lld", i, why.field ? why.field : "(null)", why.min,
                  why.max, why.value);
    fo_fetcher *x = (fo_fetcher *)&x;
    ck_assert_int_eq(fo_fetcher_create(&x, &rows[i].o), -EINVAL);
    ck_assert_ptr_eq(x, (fo_fetcher *)&x);
  }
  char two[120];
  snprintf(two, sizeof two, "%s;%s", good, good);
  const fo_fetch_opts fine[] = {
      {.client_cert = "c", .client_key = "k"},
      {.client_cert_blob = b, .client_cert_blob_len = 5, .client_key = "k", .key_password = "p"},
      {.ca_blob = b, .ca_blob_len = 5, .ca_path = "/etc/ssl/certs", .crl_file = "crl"},
      {.pinned_pubkey = good},
      {.pinned_pubkey = two},
  };
  for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
    ck_assert_msg(fo_fetch_opts_check(&fine[i], NULL) == 0, "fine %zu", i);
  /* per request: the same pin syntax */
  fo_opt_error why;
  ck_assert_int_eq(
      fo_fetch_req_check(&(fo_fetch_req){.url = "https://x/", .pinned_pubkey = "sha256//"}, &why),
      -EINVAL);
  ck_assert_str_eq(why.field, "pinned_pubkey");
  ck_assert_int_eq(why.value, 8);
  ck_assert_int_eq(
      fo_fetch_req_check(&(fo_fetch_req){.url = "https://x/", .pinned_pubkey = two}, NULL), 0);
  /* a malformed request pin fails its item alone, with the field */
  fo_fetcher *f;
  ck_assert_int_eq(fo_fetcher_create(&f, &(fo_fetch_opts){.threads = 1}), 0);
  fo_fetch_req reqs[1] = {{.url = "https://localhost:1/", .pinned_pubkey = "sha256//x"}};
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 1, &r, NULL, NULL), 1);
  ck_assert_int_eq(r.err, -EINVAL);
  ck_assert_msg(strstr(r.message, "pinned_pubkey"), "%s", r.message);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
}
END_TEST

static int create_op(void *arg) {
  fo_fetcher *f;
  int rc = fo_fetcher_create(&f, arg);
  if (rc == 0)
    fo_fetcher_destroy(f);
  return rc;
}

START_TEST(create_out_of_memory_with_every_credential) {
  static const char b[] = "-----BEGIN X-----\n-----END X-----\n";
  fo_fetch_opts o = {.threads = 1,
                     .client_cert_blob = b,
                     .client_cert_blob_len = sizeof b - 1,
                     .client_key_blob = b,
                     .client_key_blob_len = sizeof b - 1,
                     .key_password = "pw",
                     .ca_blob = b,
                     .ca_blob_len = sizeof b - 1,
                     .crl_file = "crl.pem",
                     .pinned_pubkey = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="};
  ck_assert_int_gt(ta_oom_loop(create_op, NULL, &o), 5);
  o = (fo_fetch_opts){.threads = 1, .client_cert = "c.pem", .client_key = "k.pem"};
  ck_assert_int_gt(ta_oom_loop(create_op, NULL, &o), 2);
}
END_TEST

/* ------------------------------------------------------------------ the TLS hook */
#ifdef FO_CURL_MBEDTLS

/* A "secure element": it holds the RSA key and signs on request; mbedTLS sees only a key whose
 * signing is this callback (RSA_ALT), as with a key in a TPM or behind a PSA driver. */
typedef struct {
  mbedtls_pk_context key; /* inside the element */
  mbedtls_x509_crt crt;   /* its certificate, public */
  mbedtls_pk_context alt; /* what the TLS configuration holds */
  int signs, hooks;       /* atomic */
} element;

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
static int se_sign(void *ctx, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                   mbedtls_md_type_t md, unsigned int hashlen, const unsigned char *hash,
                   unsigned char *sig) {
  element *se = ctx;
  __atomic_add_fetch(&se->signs, 1, __ATOMIC_RELAXED);
  return mbedtls_rsa_pkcs1_sign(mbedtls_pk_rsa(se->key), f_rng, p_rng, md, hashlen, hash, sig);
}
static int se_decrypt(void *ctx, size_t *olen, const unsigned char *in, unsigned char *out,
                      size_t max) {
  (void)ctx, (void)olen, (void)in, (void)out, (void)max;
  return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE; /* a client never decrypts with its key (3.x has no
                                              * MBEDTLS_ERR_RSA_UNSUPPORTED_OPERATION) */
}
#else
static int se_sign(void *ctx, int (*f_rng)(void *, unsigned char *, size_t), void *p_rng, int mode,
                   mbedtls_md_type_t md, unsigned int hashlen, const unsigned char *hash,
                   unsigned char *sig) {
  element *se = ctx;
  __atomic_add_fetch(&se->signs, 1, __ATOMIC_RELAXED);
  return mbedtls_rsa_pkcs1_sign(mbedtls_pk_rsa(se->key), f_rng, p_rng, mode, md, hashlen, hash,
                                sig);
}
static int se_decrypt(void *ctx, int mode, size_t *olen, const unsigned char *in,
                      unsigned char *out, size_t max) {
  (void)ctx, (void)mode, (void)olen, (void)in, (void)out, (void)max;
  return MBEDTLS_ERR_RSA_UNSUPPORTED_OPERATION; /* a client never decrypts with its key */
}
#endif

static size_t se_len(void *ctx) {
  return mbedtls_pk_get_len(&((element *)ctx)->key);
}

static int se_rng(void *ctx, unsigned char *out, size_t n) {
  (void)ctx;
  for (size_t i = 0; i < n; i++)
    out[i] = (unsigned char)rand();
  return 0;
}

static void element_load(element *se, const test_nginx *e) {
  char crt[160], key[160];
  memset(se, 0, sizeof *se);
  mbedtls_pk_init(&se->key);
  mbedtls_pk_init(&se->alt);
  mbedtls_x509_crt_init(&se->crt);
  ck_assert_int_eq(mbedtls_x509_crt_parse_file(&se->crt, FILE_OF(e, "rsa.pem", crt)), 0);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
  ck_assert_int_eq(
      mbedtls_pk_parse_keyfile(&se->key, FILE_OF(e, "rsa.key", key), NULL, se_rng, NULL), 0);
#else
  (void)se_rng;
  ck_assert_int_eq(mbedtls_pk_parse_keyfile(&se->key, FILE_OF(e, "rsa.key", key), NULL), 0);
#endif
  ck_assert_int_eq(mbedtls_pk_setup_rsa_alt(&se->alt, se, se_decrypt, se_sign, se_len), 0);
}

static void element_free(element *se) {
  mbedtls_pk_free(&se->alt);
  mbedtls_pk_free(&se->key);
  mbedtls_x509_crt_free(&se->crt);
}

static int plug_element(void *ssl_config, void *arg) {
  element *se = arg;
  __atomic_add_fetch(&se->hooks, 1, __ATOMIC_RELAXED);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
  /* TLS 1.3 signs with RSA-PSS, which an RSA_ALT key cannot: such a key keeps TLS 1.2 (an
   * opaque PSA key would do both) */
  mbedtls_ssl_conf_max_tls_version(ssl_config, MBEDTLS_SSL_VERSION_TLS1_2);
#endif
  return mbedtls_ssl_conf_own_cert(ssl_config, &se->crt, &se->alt);
}

static int refuse_all(void *ssl_config, void *arg) {
  (void)ssl_config;
  __atomic_add_fetch(&((element *)arg)->hooks, 1, __ATOMIC_RELAXED);
  return 7;
}

START_TEST(tls_hook_signs_with_a_key_mbedtls_never_holds) {
  test_nginx e;
  if (!nginx_up_mtls(&e, "fetch_mtls", NULL, NULL))
    return;
  element se;
  element_load(&se, &e);
  char ca[160], url[128];
  FILE_OF(&e, "ca.pem", ca);
  snprintf(url, sizeof url, "https://localhost:%d/whoami", e.mtls_port);
  enum { N = 6 };
  fo_fetcher *f;
  fo_fetch_opts o = {.ca_file = ca, .threads = 2, .tls_hook = plug_element, .tls_hook_arg = &se};
  ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
  fo_fetch_req reqs[N];
  fo_fetch_result res[N];
  for (int i = 0; i < N; i++)
    reqs[i] = (fo_fetch_req){.url = url};
  ck_assert_int_eq(fo_fetch_requests(f, reqs, N, res, NULL, NULL), 0);
  for (int i = 0; i < N; i++)
    ck_assert_msg(res[i].body && strstr(res[i].body, "CN=device-rsa") &&
                      strstr(res[i].body, "verify=SUCCESS"),
                  "%d: %s %s", i, res[i].message, res[i].body);
  fo_fetch_results_free(res, N);
  fo_fetcher_destroy(f);
  /* one handshake per connection, each signed by the element: never more connections than
   * workers, since they stay alive */
  int hooks = __atomic_load_n(&se.hooks, __ATOMIC_RELAXED);
  int signs = __atomic_load_n(&se.signs, __ATOMIC_RELAXED);
  ck_assert_msg(hooks >= 1 && hooks <= 2 && signs == hooks, "%d hooks, %d signatures", hooks,
                signs);
  /* a hook that refuses: the item fails, naming the hook and its value */
  se.hooks = 0;
  o.tls_hook = refuse_all;
  fo_fetch_result r;
  ck_assert_int_eq(mtls_get(&o, url, NULL, &r), FO_ETLS);
  ck_assert_msg(strstr(r.message, "tls_hook") && strstr(r.message, "7"), "%s", r.message);
  ck_assert_int_eq(se.hooks, 1);
  fo_fetch_result_free(&r);
  element_free(&se);
  nginx_down(&e);
}
END_TEST
#endif

Suite *fetch_mtls_suite(void) {
  Suite *s = suite_create("fetch_mtls");
  TCase *tc = fo_tcase("nginx", 90);
  tcase_add_unchecked_fixture(tc, mtls_global_init, mtls_global_cleanup);
  tcase_add_test(tc, client_certificate_in_every_form);
  tcase_add_test(tc, server_refuses_a_missing_revoked_or_foreign_certificate);
  tcase_add_test(tc, bad_credentials_fail_before_any_request_naming_the_field);
  tcase_add_test(tc, pins_per_fetcher_and_per_request);
  tcase_add_test(tc, crl_file_revokes_the_server);
#ifdef FO_CURL_MBEDTLS
  tcase_add_test(tc, tls_hook_signs_with_a_key_mbedtls_never_holds);
#else
  fprintf(stderr, "fetch_mtls: tls hook test SKIPPED: libcurl is not built on mbedTLS\n");
#endif
  suite_add_tcase(s, tc);
  TCase *opts = fo_tcase("options", 30);
  tcase_add_unchecked_fixture(opts, mtls_global_init, mtls_global_cleanup);
  tcase_add_test(opts, options_check_refuses_credentials_up_front);
  tcase_add_test(opts, create_out_of_memory_with_every_credential);
  suite_add_tcase(s, opts);
  return s;
}
