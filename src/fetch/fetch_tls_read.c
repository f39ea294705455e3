/* Credentials read once as libcurl will read them (the same mbedTLS parsers), so that a missing
 * file, a wrong password or a key that is not the certificate's fails with a sentence naming the
 * field. libcurl 7.88 on mbedTLS says "Error reading private key" for a bad certificate blob,
 * never checks that the key is the certificate's (the server then refuses a handshake signed by
 * the wrong key, for a reason no one can see), and ignores a certificate given without a key. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#if defined(MBEDTLS_USE_PSA_CRYPTO)
#include <psa/crypto.h>
#endif
#endif

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* mbedTLS 3 parses and checks keys with a random generator (RSA blinding); 2.x takes none. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
typedef struct {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
} rng_ctx;
static int rng_init(rng_ctx *r) {
#if defined(MBEDTLS_USE_PSA_CRYPTO)
  /* keys are parsed through PSA in such a build; idempotent */
  if (psa_crypto_init() != PSA_SUCCESS)
    return -1;
#endif
  mbedtls_entropy_init(&r->entropy);
  mbedtls_ctr_drbg_init(&r->drbg);
  return mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy, NULL, 0);
}
static void rng_free(rng_ctx *r) {
  mbedtls_ctr_drbg_free(&r->drbg);
  mbedtls_entropy_free(&r->entropy);
}
#define PARSE_KEYFILE(pk, path, pw, r)                                                             \
  mbedtls_pk_parse_keyfile((pk), (path), (pw), mbedtls_ctr_drbg_random, &(r)->drbg)
#define PARSE_KEY(pk, buf, len, pw, pwlen, r)                                                      \
  mbedtls_pk_parse_key((pk), (buf), (len), (pw), (pwlen), mbedtls_ctr_drbg_random, &(r)->drbg)
#define CHECK_PAIR(pub, prv, r)                                                                    \
  mbedtls_pk_check_pair((pub), (prv), mbedtls_ctr_drbg_random, &(r)->drbg)
#else
typedef struct {
  int unused;
} rng_ctx;
static int rng_init(rng_ctx *r) {
  r->unused = 0;
  return 0;
}
static void rng_free(rng_ctx *r) {
  (void)r;
}
#define PARSE_KEYFILE(pk, path, pw, r) ((void)(r), mbedtls_pk_parse_keyfile((pk), (path), (pw)))
#define PARSE_KEY(pk, buf, len, pw, pwlen, r)                                                      \
  ((void)(r), mbedtls_pk_parse_key((pk), (buf), (len), (pw), (pwlen)))
#define CHECK_PAIR(pub, prv, r) ((void)(r), mbedtls_pk_check_pair((pub), (prv)))
#endif

int fo__tls_is_pem(const unsigned char *b, size_t n) {
  static const char tag[] = "-----BEGIN ";
  for (size_t i = 0; i + sizeof tag - 1 <= n; i++)
    if (memcmp(b + i, tag, sizeof tag - 1) == 0)
      return 1;
  return 0;
}

/* Whether the file can be opened for reading; else why names the field and the errno. mbedTLS
 * says only "file I/O error". */
static int readable(const char *field, const char *path, char *why, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return 1;
  }
  snprintf(why, cap, "%s: cannot read '%.64s': %s", field, path, strerror(errno));
  return 0;
}

static void mbed_text(int ret, char *buf, size_t cap) {
  mbedtls_strerror(ret, buf, cap);
}

static int read_cert(const fo__tls *t, mbedtls_x509_crt *crt, char *why, size_t cap) {
  char m[96];
  int ret;
  if (t->client_cert != NULL) {
    if (!readable("client_cert", t->client_cert, why, cap))
      return FO_ETLS;
    ret = mbedtls_x509_crt_parse_file(crt, t->client_cert);
  } else {
    ret = mbedtls_x509_crt_parse(crt, t->cert_blob, t->cert_len + 1);
  }
  if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED)
    return -ENOMEM;
  /* libcurl refuses a positive count (certificates of the file it could not parse) too */
  if (ret != 0) {
    mbed_text(ret, m, sizeof m);
    if (t->client_cert != NULL)
      snprintf(why, cap, "client_cert: no certificate in '%.48s' (%s)", t->client_cert, m);
    else
      snprintf(why, cap, "client_cert_blob: not a certificate (%s)", m);
    return FO_ETLS;
  }
  return 0;
}

static int read_key(const fo__tls *t, mbedtls_pk_context *pk, rng_ctx *rng, char *why, size_t cap) {
  const char *pw = t->key_password;
  const char *field = t->client_key != NULL ? "client_key" : "client_key_blob";
  int ret;
  if (t->client_key != NULL) {
    if (!readable("client_key", t->client_key, why, cap))
      return FO_ETLS;
    ret = PARSE_KEYFILE(pk, t->client_key, pw, rng);
  } else {
    size_t n = fo__tls_is_pem(t->key_blob, t->key_len) ? t->key_len + 1 : t->key_len;
    ret = PARSE_KEY(pk, t->key_blob, n, (const unsigned char *)pw, pw ? strlen(pw) : 0, rng);
  }
  if (ret == MBEDTLS_ERR_PK_ALLOC_FAILED)
    return -ENOMEM;
  if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
    snprintf(why, cap, "%s is encrypted and key_password is not set", field);
  } else if (ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
    snprintf(why, cap, "key_password: wrong password for %s", field);
  } else if (ret != 0) {
    char m[96];
    mbed_text(ret, m, sizeof m);
    snprintf(why, cap, "%s: not a private key mbedTLS can read (%s)", field, m);
  } else if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_RSA) && !mbedtls_pk_can_do(pk, MBEDTLS_PK_ECKEY)) {
    snprintf(why, cap, "%s: neither an RSA nor an EC key", field);
    ret = -1;
  }
  return ret != 0 ? FO_ETLS : 0;
}

static int read_client(const fo__tls *t, char *why, size_t cap) {
  mbedtls_x509_crt crt;
  mbedtls_pk_context pk;
  rng_ctx rng;
  mbedtls_x509_crt_init(&crt);
  mbedtls_pk_init(&pk);
  int rc = 0;
  if (rng_init(&rng) != 0) {
    snprintf(why, cap, "client_key: no random generator to check it with");
    rc = FO_ETLS;
  }
  if (rc == 0)
    rc = read_cert(t, &crt, why, cap);
  if (rc == 0)
    rc = read_key(t, &pk, &rng, why, cap);
  if (rc == 0 && CHECK_PAIR(&crt.pk, &pk, &rng) != 0) {
    snprintf(why, cap, "%s is not the key of %s", t->client_key ? "client_key" : "client_key_blob",
             t->client_cert ? "client_cert" : "client_cert_blob");
    rc = FO_ETLS;
  }
  mbedtls_pk_free(&pk); /* wipes the key */
  mbedtls_x509_crt_free(&crt);
  rng_free(&rng);
  return rc;
}

static int read_crl(const fo__tls *t, char *why, size_t cap) {
  if (!readable("crl_file", t->crl_file, why, cap))
    return FO_ETLS;
  mbedtls_x509_crl crl;
  mbedtls_x509_crl_init(&crl);
  int ret = mbedtls_x509_crl_parse_file(&crl, t->crl_file);
  mbedtls_x509_crl_free(&crl);
  if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED)
    return -ENOMEM;
  if (ret != 0) {
    char m[96];
    mbed_text(ret, m, sizeof m);
    snprintf(why, cap, "crl_file: no CRL in '%.48s' (%s)", t->crl_file, m);
    return FO_ETLS;
  }
  return 0;
}

static int read_ca(const fo__tls *t, char *why, size_t cap) {
  mbedtls_x509_crt ca;
  mbedtls_x509_crt_init(&ca);
  int ret = mbedtls_x509_crt_parse(&ca, t->ca_blob, t->ca_len + 1);
  mbedtls_x509_crt_free(&ca);
  if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED)
    return -ENOMEM;
  /* as libcurl: a bundle of which some certificates parse is accepted */
  if (ret < 0) {
    char m[96];
    mbed_text(ret, m, sizeof m);
    snprintf(why, cap, "ca_blob: no certificate (%s)", m);
    return FO_ETLS;
  }
  return 0;
}

int fo__tls_read_check(const fo__tls *t, char *why, size_t cap) {
  int rc = 0;
  why[0] = '\0';
  if (t->client_cert != NULL || t->cert_blob != NULL)
    rc = read_client(t, why, cap);
  if (rc == 0 && t->crl_file != NULL)
    rc = read_crl(t, why, cap);
  if (rc == 0 && t->ca_blob != NULL)
    rc = read_ca(t, why, cap);
  if (rc == -ENOMEM)
    snprintf(why, cap, "out of memory reading the credentials");
  return rc;
}
