/* Network policy: the proxy, the local end of connections, the IP version and the byte rates of
 * a fetcher, checked with its options and set on each easy handle once, when it is made.
 *
 * The environment's proxy variables are off unless the caller turns them on: libcurl reads
 * http_proxy, HTTPS_PROXY, ALL_PROXY and NO_PROXY whenever CURLOPT_PROXY is unset, so an
 * explicit "" is what keeps them out; the same goes for NO_PROXY once a proxy is named. A root
 * program started from a shell, by sudo or from a CGI (where HTTP_PROXY comes from a request's
 * "Proxy:" header) would otherwise send its downloads wherever that environment says.
 *
 * The byte rates (fetch_rate.c, fo__flow) are paid in the body's way in (fetch_decode.c): the
 * handle's transfer state points at the fetcher's shared flow and holds its own.
 *
 * The HTTP version: HTTP/2 is offered by ALPN over TLS only (CURL_HTTP_VERSION_2TLS), never as
 * an upgrade of cleartext, and only when the libcurl in use has nghttp2 (one without it refuses
 * the setopt, which would fail every new handle). A multi handle is told to multiplex and how
 * many connections one host may have (fo__net_multi_setup). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* The longest interface name Linux takes (IFNAMSIZ - 1). */
#define IFNAME_MAX 15

/* A refused form: the value is the string's length and no length fits (1 to 0). */
static int bad_form(const char *field, const char *s, fo_opt_error *why) {
  if (why != NULL)
    *why = (fo_opt_error){field, 1, 0, (long long)strlen(s)};
  return 0;
}

static int has_prefix(const char *s, const char *p) {
  return strncasecmp(s, p, strlen(p)) == 0;
}

/* http, https or socks5h, and something after "://": libcurl would take a URL without a scheme
 * as http and a socks4 one as a proxy that cannot resolve names, neither of which the caller
 * asked for. */
static int proxy_ok(const char *p, fo_opt_error *why) {
  static const char *const schemes[] = {"http://", "https://", "socks5h://"};
  if (p == NULL)
    return 1;
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
    if (has_prefix(p, schemes[i]) && p[strlen(schemes[i])] != '\0')
      return 1;
  return bad_form("proxy", p, why);
}

static int interface_ok(const char *s, fo_opt_error *why) {
  if (s == NULL)
    return 1;
  const char *rest = has_prefix(s, "if!") ? s + 3 : has_prefix(s, "host!") ? s + 5 : s;
  size_t n = strlen(rest);
  if (n == 0 || (rest == s + 3 && n > IFNAME_MAX))
    return bad_form("interface", s, why);
  return 1;
}

static int text_ok(const char *field, const char *s, fo_opt_error *why) {
  return s == NULL || fo__opt_range(field, s[0] != '\0', 1, LLONG_MAX, why);
}

/* 0, 4 or 6: the range reported is 0 to 6, the value the one passed. */
static int ip_ok(int ip, fo_opt_error *why) {
  if (ip == 0 || ip == 4 || ip == 6)
    return 1;
  if (why != NULL)
    *why = (fo_opt_error){"ip_version", 0, 6, ip};
  return 0;
}

int fo__net_opts_check(const fo_fetch_opts *o, fo_opt_error *why) {
  int ip = o->ip_version;
  return proxy_ok(o->proxy, why) && text_ok("noproxy", o->noproxy, why) &&
         text_ok("proxy_user", o->proxy_user, why) &&
         text_ok("proxy_password", o->proxy_password, why) && interface_ok(o->interface, why) &&
         ip_ok(ip, why) &&
         fo__opt_urange("max_recv_speed", o->max_recv_speed, FO_FETCH_SPEED_MAX, why) &&
         fo__opt_urange("max_recv_speed_total", o->max_recv_speed_total, FO_FETCH_SPEED_MAX,
                        why);
}

int fo__net_http_check(const fo_fetch_opts *o, fo_opt_error *why) {
  return fo__opt_urange("http_version", o->http_version, FO_FETCH_HTTP_1_1, why) &&
         fo__opt_urange("max_host_connections", o->max_host_connections,
                        FO_FETCH_HOST_CONNECTIONS_MAX, why);
}

static int copy(const char *s, char **out) {
  *out = NULL;
  if (s == NULL)
    return 0;
  *out = fo__strdup(s);
  return *out ? 0 : -ENOMEM;
}

int fo__net_init(fo__net *n, const fo_fetch_opts *o) {
  memset(n, 0, sizeof *n);
  n->proxy_env = o->proxy_env != 0;
  n->ip_version = o->ip_version;
  n->max_recv_speed = o->max_recv_speed;
  n->http_version = o->http_version;
  n->max_host_connections = o->max_host_connections;
  fo_info info;
  n->h2 = o->http_version == FO_FETCH_HTTP_DEFAULT && fo_info_get(&info) == 0 && info.http2;
  int rc = copy(o->proxy, &n->proxy);
  if (rc == 0)
    rc = copy(o->noproxy, &n->noproxy);
  if (rc == 0)
    rc = copy(o->proxy_user, &n->proxy_user);
  if (rc == 0)
    rc = copy(o->proxy_password, &n->proxy_password);
  if (rc == 0)
    rc = copy(o->interface, &n->interface);
  if (rc == 0 && o->max_recv_speed_total > 0) {
    rc = fo__flow_init(&n->flow, o->max_recv_speed_total);
    n->flow_ok = rc == 0;
  }
  return rc;
}

void fo__net_free(fo__net *n) {
  if (n->flow_ok)
    fo__flow_destroy(&n->flow);
  n->flow_ok = 0;
  fo__free(n->proxy);
  fo__free(n->noproxy);
  fo__free(n->proxy_user);
  if (n->proxy_password != NULL) /* a secret: not left in freed memory */
    memset(n->proxy_password, 0, strlen(n->proxy_password));
  fo__free(n->proxy_password);
  fo__free(n->interface);
  memset(n, 0, sizeof *n);
}

/* fetch.c's fo__setopt_rc(), which this file may not call (fetch.c calls this one). */
static int setopt_rc(CURLcode rc) {
  return rc == CURLE_OK ? 0 : rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : FO_EINTERNAL;
}

#define SET(opt, val)                                                                              \
  do {                                                                                             \
    int rc_ = setopt_rc(curl_easy_setopt(c, (opt), (val)));                                        \
    if (rc_ != 0)                                                                                  \
      return rc_;                                                                                  \
  } while (0)

int fo__net_setup(const fo_fetcher *f, fo__handle *h) {
  const fo__net *n = &f->net;
  CURL *c = h->curl;
  if (n->proxy != NULL) {
    SET(CURLOPT_PROXY, n->proxy);
  } else if (!n->proxy_env) {
    SET(CURLOPT_PROXY, ""); /* "": no proxy, and the environment's are not read */
  }
  /* A named proxy keeps the environment's NO_PROXY out too; with the environment on, the
   * caller's list replaces it. */
  if (n->noproxy != NULL)
    SET(CURLOPT_NOPROXY, n->noproxy);
  else if (!n->proxy_env)
    SET(CURLOPT_NOPROXY, "");
  if (n->proxy_user != NULL)
    SET(CURLOPT_PROXYUSERNAME, n->proxy_user);
  if (n->proxy_password != NULL)
    SET(CURLOPT_PROXYPASSWORD, n->proxy_password);
  /* An https proxy is a TLS peer like any server: verified, against the same CAs. */
  SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
  SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
  if (f->ca_file != NULL)
    SET(CURLOPT_PROXY_CAINFO, f->ca_file);
  if (f->ca_path != NULL)
    SET(CURLOPT_PROXY_CAPATH, f->ca_path);
  if (n->interface != NULL)
    SET(CURLOPT_INTERFACE, n->interface);
  SET(CURLOPT_IPRESOLVE, n->ip_version == 4   ? (long)CURL_IPRESOLVE_V4
                         : n->ip_version == 6 ? (long)CURL_IPRESOLVE_V6
                                              : (long)CURL_IPRESOLVE_WHATEVER);
  /* Set even where it is libcurl's default (2TLS since 7.62 with nghttp2), so the choice is the
   * fetcher's. PIPEWAIT: a transfer that starts while another to its host is connecting waits
   * to share that connection, rather than open one of its own before ALPN has said whether it
   * could. */
  SET(CURLOPT_HTTP_VERSION, n->h2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
  if (n->h2)
    SET(CURLOPT_PIPEWAIT, 1L);
  h->x.flow = n->flow_ok ? (fo__flow *)&n->flow : NULL;
  fo__flow_init_own(&h->x.own, n->max_recv_speed);
  return 0;
}

/* Receive buffers of one worker's transfers together: up to 16 transfers keep libcurl's 16 KiB
 * (or a file's 64 KiB up to 4), more share this, down to a page each. libcurl allocates the
 * buffer whole for each easy handle and keeps it with the handle in the idle pool, so at 500
 * transfers a worker it would be 8 MiB, most of it for answers of a few hundred bytes; with a
 * smaller one a long body costs more recv() calls, not more memory. */
#define RECV_BUDGET (256L * 1024)
#define RECV_MIN 4096L

long fo__net_buffer_size(const fo_fetcher *f, long size) {
  long per = (long)((f->max_inflight + f->threads - 1) / f->threads);
  long share = RECV_BUDGET / per;
  if (share < RECV_MIN)
    share = RECV_MIN;
  if (share < size)
    size = share;
  /* A receive buffer larger than a tenth of a second of the slower rate makes the flow bursty:
   * a whole buffer arrives, then the worker sleeps it off. libcurl takes 1 KiB at least. */
  const fo__net *n = &f->net;
  unsigned long long rate = n->flow_ok ? n->flow.rate : 0;
  if (n->max_recv_speed > 0 && (rate == 0 || n->max_recv_speed < rate))
    rate = n->max_recv_speed;
  if (rate == 0)
    return size;
  unsigned long long tenth = rate / 10;
  if (tenth < 1024)
    tenth = 1024;
  return tenth < (unsigned long long)size ? (long)tenth : size;
}

const char *fo__net_field(CURLcode rc) {
  switch ((int)rc) {
  case CURLE_INTERFACE_FAILED:
    return "interface";
  case CURLE_COULDNT_RESOLVE_PROXY:
#if LIBCURL_VERSION_NUM >= 0x074900
  case CURLE_PROXY:
#endif
    return "proxy";
  default:
    return NULL;
  }
}

int fo__net_multi_setup(const fo_fetcher *f, CURLM *m) {
  const fo__net *n = &f->net;
  /* Multiplexing is libcurl's default since 7.62; set anyway, and off for HTTP/1.1 only, where
   * there is nothing to multiplex. */
  long pipe =
      n->http_version == FO_FETCH_HTTP_1_1 ? (long)CURLPIPE_NOTHING : (long)CURLPIPE_MULTIPLEX;
  CURLMcode rc = curl_multi_setopt(m, CURLMOPT_PIPELINING, pipe);
  if (rc == CURLM_OK)
    rc = curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n->max_host_connections);
  return rc == CURLM_OK ? 0 : rc == CURLM_OUT_OF_MEMORY ? -ENOMEM : FO_EINTERNAL;
}

int fo__net_http_version(CURL *c) {
  long v = 0;
  if (curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &v) != CURLE_OK)
    return 0;
  switch (v) {
  case CURL_HTTP_VERSION_1_0:
    return 10;
  case CURL_HTTP_VERSION_1_1:
    return 11;
  case CURL_HTTP_VERSION_2_0:
    return 20;
#if LIBCURL_VERSION_NUM >= 0x074200
  case CURL_HTTP_VERSION_3:
    return 30;
#endif
  default:
    return 0;
  }
}
