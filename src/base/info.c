/* fo_info_get: what the library was built with and the libcurl it runs on. */
#include "config.h"

#include <errno.h>
#include <stddef.h>

#include "fanout/fanout.h"

#ifdef FO_HAVE_CURL
#include <curl/curl.h>
#include <pthread.h>

/* Read once: libcurl's curl_version_info() rewrites a static buffer (the TLS version) on every
 * call, so two threads calling it at once would race. After the once, these are read-only. */
static pthread_once_t fo__info_once = PTHREAD_ONCE_INIT;
static const char *fo__curl_version = "";
static const char *fo__tls_backend = "";
static int fo__http2;

static void fo__info_read(void) {
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  if (v == NULL)
    return;
  if (v->version != NULL)
    fo__curl_version = v->version;
  if (v->ssl_version != NULL)
    fo__tls_backend = v->ssl_version;
  /* the libcurl linked in, not the headers built against: a program may be linked with another */
  fo__http2 = (v->features & CURL_VERSION_HTTP2) != 0;
}
#endif

int fo_info_get(fo_info *out) {
  if (out == NULL)
    return -EINVAL;
  out->version = FO_VERSION_STRING;
  out->port = FO_PORT_NAME;
#ifdef FO_HAVE_CURL
  (void)pthread_once(&fo__info_once, fo__info_read);
  out->fetch = 1;
  out->curl_version = fo__curl_version;
  out->tls_backend = fo__tls_backend;
  out->http2 = fo__http2;
#else
  out->fetch = 0;
  out->curl_version = "";
  out->tls_backend = "";
  out->http2 = 0;
#endif
  return 0;
}
