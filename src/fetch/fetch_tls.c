/* Credentials: the options check of the credential fields, their copies in the fetcher, the
 * libcurl options of each handle, the pins of each item, and the message of a failed handshake.
 * libcurl 7.88 on mbedTLS does the work itself: the client certificate and key from a file
 * (CURLOPT_SSLCERT, CURLOPT_SSLKEY, CURLOPT_KEYPASSWD) or from memory (CURLOPT_SSLCERT_BLOB,
 * CURLOPT_SSLKEY_BLOB), PEM or DER either way (mbedTLS tells them apart by content; the
 * CERTTYPE options are ignored on mbedTLS), the CA bundle from memory (CURLOPT_CAINFO_BLOB),
 * the CRL (CURLOPT_CRLFILE), the pins (CURLOPT_PINNEDPUBLICKEY) and the hook
 * (CURLOPT_SSL_CTX_FUNCTION, which gets the mbedtls_ssl_config). What it lacks is done here:
 * a PEM key blob is handed over with its NUL counted (mbedtls_pk_parse_key needs it and libcurl
 * passes the length as given), and fetch_tls_read.c checks the credentials before the first
 * connection, so a bad one fails with its field's name. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* ------------------------------------------------------------------ pins */

/* The value of a base64 digit, or -1. */
static int b64(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* One pin: "sha256//", then the 32-byte digest in canonical base64 (43 digits, the last with
 * its two low bits clear, and one '='). libcurl compares the text with its own encoding of the
 * server's digest, so a pin in any other spelling of the same bytes could never match. */
#define PIN_LEN 52
static int pin_ok(const char *p, size_t n) {
  if (n != PIN_LEN || memcmp(p, "sha256//", 8) != 0 || p[51] != '=')
    return 0;
  for (size_t i = 8; i < 51; i++)
    if (b64(p[i]) < 0)
      return 0;
  return (b64(p[50]) & 3) == 0;
}

int fo__tls_pins_ok(const char *pins, size_t *bad) {
  for (const char *p = pins;;) {
    size_t n = strcspn(p, ";");
    if (!pin_ok(p, n)) {
      *bad = n;
      return 0;
    }
    if (p[n] == '\0')
      return 1;
    p += n + 1;
  }
}

static int pins_count(const char *pins) {
  int n = 1;
  for (; *pins; pins++)
    n += *pins == ';';
  return n;
}

/* ------------------------------------------------------------------ options */

/* Fill why and return 0 (refused), whatever the value: a malformed pin may have the right
 * length. */
static int refuse(const char *field, long long value, long long min, long long max,
                  fo_opt_error *why) {
  if (why != NULL)
    *why = (fo_opt_error){field, min, max, value};
  return 0;
}

/* NULL or not empty, as every string option. */
static int text_ok(const char *field, const char *s, fo_opt_error *why) {
  return s == NULL || s[0] != '\0' || refuse(field, 0, 1, LLONG_MAX, why);
}

/* A blob from memory: absent (NULL, length 0), or not with its file, and of a sane length. */
static int blob_ok(const char *field, const char *len_field, const void *blob, size_t len,
                   const char *file, fo_opt_error *why) {
  unsigned long long u = len; /* a size_t passes LLONG_MAX only on 64-bit targets */
  long long l = u > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)u;
  if (blob == NULL)
    return len == 0 || refuse(len_field, l, 0, 0, why);
  if (file != NULL)
    return refuse(field, l, 0, 0, why);
  return fo__opt_range(len_field, l, 1, FO_FETCH_TLS_BLOB_MAX, why);
}

int fo__tls_opts_ok(const fo_fetch_opts *o, fo_opt_error *why) {
  int cert = o->client_cert != NULL || o->client_cert_blob != NULL;
  int key = o->client_key != NULL || o->client_key_blob != NULL;
  if (!text_ok("client_cert", o->client_cert, why) || !text_ok("client_key", o->client_key, why))
    return 0;
  if (!blob_ok("client_cert_blob", "client_cert_blob_len", o->client_cert_blob,
               o->client_cert_blob_len, o->client_cert, why) ||
      !blob_ok("client_key_blob", "client_key_blob_len", o->client_key_blob, o->client_key_blob_len,
               o->client_key, why))
    return 0;
  /* one without the other would be a connection without a client certificate */
  if (key && !cert)
    return refuse("client_cert", 0, 1, LLONG_MAX, why);
  if (cert && !key)
    return refuse("client_key", 0, 1, LLONG_MAX, why);
  if (!text_ok("key_password", o->key_password, why))
    return 0;
  if (o->key_password != NULL && !key)
    return refuse("key_password", (long long)strlen(o->key_password), 0, 0, why);
  /* libcurl would drop ca_file for ca_blob without a word */
  if (!blob_ok("ca_blob", "ca_blob_len", o->ca_blob, o->ca_blob_len, o->ca_file, why))
    return 0;
  if (!text_ok("crl_file", o->crl_file, why) || !text_ok("pinned_pubkey", o->pinned_pubkey, why))
    return 0;
  size_t bad;
  if (o->pinned_pubkey != NULL && !fo__tls_pins_ok(o->pinned_pubkey, &bad))
    return refuse("pinned_pubkey", (long long)bad, PIN_LEN, PIN_LEN, why);
  return 1;
}

/* ------------------------------------------------------------------ the fetcher's copies */

static int copy_text(const char *s, char **out) {
  *out = NULL;
  if (s == NULL)
    return 0;
  *out = fo__strdup(s);
  return *out != NULL ? 0 : -ENOMEM;
}

static int copy_blob(const void *b, size_t n, unsigned char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  if (b == NULL)
    return 0;
  if ((*out = fo__malloc(n + 1)) == NULL)
    return -ENOMEM;
  memcpy(*out, b, n);
  (*out)[n] = '\0';
  *len = n;
  return 0;
}

/* Whether libcurl runs on mbedTLS: the hook's argument is an mbedtls_ssl_config only there. */
static int curl_on_mbedtls(void) {
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  return v != NULL && v->ssl_version != NULL && strstr(v->ssl_version, "mbedTLS") != NULL;
}

/* The key exchange curves a client offers, in its order of preference: mbedTLS 2 offers
 * P-521 first and a server that follows the client (OpenSSL's default, nginx's) takes it, for an
 * ECDH that costs three times P-256's (a mutual handshake: 24 ms against 9 on a PC, more on a
 * board). P-256, then P-384, then the rest as mbedTLS lists them: every curve stays offered.
 * mbedTLS 3 puts X25519 and P-256 first itself. */
static void curves_order(fo__tls *t) {
  size_t n = 0, cap = sizeof t->curves / sizeof t->curves[0] - 1;
#if MBEDTLS_VERSION_NUMBER < 0x03000000
  static const mbedtls_ecp_group_id first[] = {MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1};
  const mbedtls_ecp_group_id *all = mbedtls_ecp_grp_id_list();
  for (size_t f = 0; f < sizeof first / sizeof first[0]; f++)
    for (size_t i = 0; all[i] != MBEDTLS_ECP_DP_NONE; i++)
      if (all[i] == first[f] && n < cap)
        t->curves[n++] = all[i];
  for (size_t i = 0; all[i] != MBEDTLS_ECP_DP_NONE && n < cap; i++)
    if (all[i] != first[0] && all[i] != first[1])
      t->curves[n++] = all[i];
#else
  (void)cap;
#endif
  t->curves[n] = MBEDTLS_ECP_DP_NONE;
}

int fo__tls_copy(fo__tls *t, const fo_fetch_opts *o) {
  memset(t, 0, sizeof *t);
  t->mbedtls = curl_on_mbedtls();
  if (o->tls_hook != NULL && !t->mbedtls)
    return -ENOTSUP;
  if (t->mbedtls)
    curves_order(t);
  t->hook = o->tls_hook;
  t->hook_arg = o->tls_hook_arg;
  t->no_default_capath = (o->ca_file != NULL || o->ca_blob != NULL) && o->ca_path == NULL;
  t->no_default_cainfo = o->ca_path != NULL && o->ca_file == NULL && o->ca_blob == NULL;
  int rc = copy_text(o->client_cert, &t->client_cert);
  if (rc == 0)
    rc = copy_text(o->client_key, &t->client_key);
  if (rc == 0)
    rc = copy_text(o->key_password, &t->key_password);
  if (rc == 0)
    rc = copy_text(o->crl_file, &t->crl_file);
  if (rc == 0)
    rc = copy_text(o->pinned_pubkey, &t->pinned_pubkey);
  if (rc == 0)
    rc = copy_blob(o->client_cert_blob, o->client_cert_blob_len, &t->cert_blob, &t->cert_len);
  if (rc == 0)
    rc = copy_blob(o->client_key_blob, o->client_key_blob_len, &t->key_blob, &t->key_len);
  if (rc == 0)
    rc = copy_blob(o->ca_blob, o->ca_blob_len, &t->ca_blob, &t->ca_len);
  return rc;
}

/* A secret's bytes cleared before the memory goes back; the volatile pointer keeps the
 * compiler from dropping stores it can see are never read. */
static void wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n-- > 0)
    *v++ = 0;
}

void fo__tls_free(fo__tls *t) {
  if (t->key_password != NULL)
    wipe(t->key_password, strlen(t->key_password));
  if (t->key_blob != NULL)
    wipe(t->key_blob, t->key_len);
  fo__free(t->client_cert);
  fo__free(t->client_key);
  fo__free(t->key_password);
  fo__free(t->crl_file);
  fo__free(t->pinned_pubkey);
  fo__free(t->cert_blob);
  fo__free(t->key_blob);
  fo__free(t->ca_blob);
  memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------ handles and items */

static int setopt_rc(CURLcode rc) {
  if (rc == CURLE_OK)
    return 0;
  return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : FO_EINTERNAL;
}

#define SET(c, opt, val)                                                                           \
  do {                                                                                             \
    int rc_ = setopt_rc(curl_easy_setopt((c), (opt), (val)));                                      \
    if (rc_ != 0)                                                                                  \
      return rc_;                                                                                  \
  } while (0)

/* libcurl's SSL context callback, on mbedTLS: the curves in the fetcher's order, then the
 * caller's hook, whose refusal is kept for the message. */
static CURLcode on_ssl_ctx(CURL *c, void *ssl_config, void *arg) {
  (void)c;
  fo__handle *h = arg;
#if MBEDTLS_VERSION_NUMBER < 0x03000000
  /* the list outlives the configuration: it is the fetcher's */
  if (h->tls->curves[0] != MBEDTLS_ECP_DP_NONE)
    mbedtls_ssl_conf_curves(ssl_config, h->tls->curves);
#endif
  if (h->tls->hook == NULL)
    return CURLE_OK;
  h->tls_hook_rc = h->tls->hook(ssl_config, h->tls->hook_arg);
  return h->tls_hook_rc == 0 ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

int fo__tls_handle_setup(const fo__tls *t, fo__handle *h) {
  CURL *c = h->curl;
  h->tls = t;
  /* The fetcher's copies outlive every handle: libcurl keeps pointers, not copies, of them. */
  if (t->client_cert != NULL)
    SET(c, CURLOPT_SSLCERT, t->client_cert);
  if (t->cert_blob != NULL) {
    struct curl_blob b = {t->cert_blob, t->cert_len, CURL_BLOB_NOCOPY};
    SET(c, CURLOPT_SSLCERT_BLOB, &b);
    SET(c, CURLOPT_SSLCERTTYPE, fo__tls_is_pem(t->cert_blob, t->cert_len) ? "PEM" : "DER");
  }
  if (t->client_key != NULL)
    SET(c, CURLOPT_SSLKEY, t->client_key);
  if (t->key_blob != NULL) {
    /* a PEM key reaches mbedtls_pk_parse_key() with its NUL counted, or it is refused */
    int der = !fo__tls_is_pem(t->key_blob, t->key_len);
    struct curl_blob b = {t->key_blob, der ? t->key_len : t->key_len + 1, CURL_BLOB_NOCOPY};
    SET(c, CURLOPT_SSLKEY_BLOB, &b);
    SET(c, CURLOPT_SSLKEYTYPE, der ? "DER" : "PEM");
  }
  if (t->key_password != NULL)
    SET(c, CURLOPT_KEYPASSWD, t->key_password);
  if (t->ca_blob != NULL) {
    struct curl_blob b = {t->ca_blob, t->ca_len, CURL_BLOB_NOCOPY};
    SET(c, CURLOPT_CAINFO_BLOB, &b);
  }
  /* A libcurl built with both a default bundle and a default directory (Debian's:
   * /etc/ssl/certs) keeps the other when one is set: with ca_file or ca_blob every system CA
   * would still be trusted, and on mbedTLS every certificate of the directory parsed again at
   * each connection (15 ms of a 20 ms handshake on a PC). The CAs the caller names are the
   * only ones. */
  if (t->no_default_capath)
    SET(c, CURLOPT_CAPATH, (char *)NULL);
  if (t->no_default_cainfo)
    SET(c, CURLOPT_CAINFO, (char *)NULL);
  if (t->crl_file != NULL)
    SET(c, CURLOPT_CRLFILE, t->crl_file);
  if (t->mbedtls) {
    SET(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    SET(c, CURLOPT_SSL_CTX_DATA, h);
  }
  return 0;
}

int fo__tls_item(fo__handle *h, const fo_fetch_req *req) {
  const fo__tls *t = h->tls;
  h->tls_hook_rc = 0;
  /* Read until they pass once: a file provisioned after the fetcher was made is picked up by
   * the next item; libcurl reads them again at each new connection. */
  if (!h->tls_ok) {
    int rc = fo__tls_read_check(t, h->tls_why, sizeof h->tls_why);
    if (rc != 0)
      return rc;
    h->tls_ok = 1;
  }
  /* A reused handle keeps the last item's pins: each item sets its own, or the fetcher's. */
  h->tls_req_pins = req->pinned_pubkey != NULL;
  const char *pins = h->tls_req_pins ? req->pinned_pubkey : t->pinned_pubkey;
  h->tls_pins_n = pins != NULL ? pins_count(pins) : 0;
  SET(h->curl, CURLOPT_PINNEDPUBLICKEY, pins);
  return 0;
}

int fo__tls_message(fo__handle *h, CURLcode rc, char *out, size_t cap) {
  const fo__tls *t = h->tls;
  const char *lib = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
  if (h->tls_hook_rc != 0) {
    snprintf(out, cap, "tls_hook refused the connection (it returned %d)", h->tls_hook_rc);
    return 1;
  }
  if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
    snprintf(out, cap, "pinned_pubkey: the server's public key is none of the %d pin%s of the %s",
             h->tls_pins_n, h->tls_pins_n == 1 ? "" : "s", h->tls_req_pins ? "request" : "fetcher");
    return 1;
  }
  if (rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CRL_BADFILE) {
    /* a file changed since it was checked: read them all again to name the one at fault */
    h->tls_ok = 0;
    if (fo__tls_read_check(t, out, cap) != 0)
      return 1;
    snprintf(out, cap, "%s: %s",
             rc == CURLE_SSL_CRL_BADFILE ? "crl_file" : "client_cert or client_key", lib);
    return 1;
  }
  /* Revoked: mbedTLS's verify flags, which libcurl keeps as the verify result; libcurl 7.88's
   * text says "REVOKED", 8's "revoked", so the flag decides where libcurl sets it. */
  long verify = 0;
  if (rc == CURLE_PEER_FAILED_VERIFICATION && t->crl_file != NULL &&
      ((curl_easy_getinfo(h->curl, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK &&
        (verify & MBEDTLS_X509_BADCERT_REVOKED) != 0) ||
       strstr(lib, "REVOKED") != NULL || strstr(lib, "revoked") != NULL)) {
    snprintf(out, cap, "the server's certificate is revoked by crl_file (%s)", lib);
    return 1;
  }
  return 0;
}
