/* What may go out with a request: which caller header lines are accepted, which of them go to
 * which origin, and where a redirect may lead.
 *
 * A caller's header may not frame the message (Host, Content-Length, Transfer-Encoding,
 * Connection, Upgrade, TE, Expect): libcurl frames it from the body it sends, and a second,
 * different framing is what a keep-alive server or a proxy reads as a smuggled request. Nor may
 * it hold a control byte but HTAB: CR and LF would start a header of the caller's making, the
 * rest are not HTTP. After a redirect to another origin only the headers the caller named in
 * forward_headers go along, and never Authorization, Cookie or Proxy-Authorization: the new
 * host was chosen by the server, not by the caller. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

static const char *const framing[] = {"Host",    "Content-Length", "Transfer-Encoding",
                                      "Connection", "Upgrade",     "TE",
                                      "Expect"};
static const char *const secrets[] = {"Authorization", "Cookie", "Proxy-Authorization"};

/* RFC 9110 token characters: a header name is one or more of these. */
static int is_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int name_is(const char *name, size_t n, const char *want) {
  return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static int name_in(const char *name, size_t n, const char *const *list, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (name_is(name, n, list[i]))
      return 1;
  return 0;
}

/* The length of line's name (before the colon), or 0 when it has none. */
static size_t name_len(const char *line) {
  const char *colon = strchr(line, ':');
  return colon != NULL ? (size_t)(colon - line) : 0;
}

const char *fo__header_refusal(const char *h) {
  size_t n = strnlen(h, FO_FETCH_HEADER_MAX + 1);
  if (n > FO_FETCH_HEADER_MAX)
    return "longer than FO_FETCH_HEADER_MAX";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)h[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return c == '\r' || c == '\n' ? "a CR or LF" : "a control byte";
  }
  size_t nl = name_len(h);
  if (nl == 0)
    return "no name before a colon";
  for (size_t i = 0; i < nl; i++)
    if (!is_tchar((unsigned char)h[i]))
      return "a name that is not a token";
  if (name_in(h, nl, framing, sizeof framing / sizeof framing[0]))
    return "a header the fetcher frames the request with";
  return NULL;
}

int fo__forward_names_ok(const char *const *names) {
  for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
    size_t n = strnlen(names[i], FO_FETCH_HEADER_MAX + 1);
    if (n == 0 || n > FO_FETCH_HEADER_MAX)
      return 0;
    for (size_t j = 0; j < n; j++)
      if (!is_tchar((unsigned char)names[i][j]))
        return 0;
  }
  return 1;
}

/* Whether a caller's line goes on a hop: to another origin only when forwardable, and no
 * Content-Type once the body is dropped. */
static int line_goes(const fo_fetch_req *r, const char *line, int flags) {
  size_t n = name_len(line);
  if ((flags & FO__HOP_GET) != 0 && name_is(line, n, "Content-Type"))
    return 0;
  if ((flags & FO__HOP_CROSS) == 0)
    return 1;
  if (name_in(line, n, secrets, sizeof secrets / sizeof secrets[0]))
    return 0;
  for (size_t i = 0; r->forward_headers != NULL && r->forward_headers[i] != NULL; i++)
    if (name_is(line, n, r->forward_headers[i]))
      return 1;
  return 0;
}

static int append(struct curl_slist **list, const char *line) {
  struct curl_slist *l = curl_slist_append(*list, line);
  if (l == NULL)
    return -ENOMEM;
  *list = l;
  return 0;
}

int fo__headers_build(const fo_fetch_req *r, int flags, struct curl_slist **out) {
  struct curl_slist *list = NULL;
  int typed = 0, rc = 0;
  if (r->etag != NULL) {
    char line[1100];
    snprintf(line, sizeof line, "If-None-Match: %s", r->etag);
    rc = append(&list, line);
  }
  for (size_t i = 0; rc == 0 && r->headers != NULL && r->headers[i] != NULL; i++) {
    typed |= name_is(r->headers[i], name_len(r->headers[i]), "Content-Type");
    if (line_goes(r, r->headers[i], flags))
      rc = append(&list, r->headers[i]);
  }
  /* libcurl labels a body it posts as a form (application/x-www-form-urlencoded): bytes of
   * unknown kind are octets. */
  if (rc == 0 && !typed && r->body_from != FO_FETCH_BODY_NONE && (flags & FO__HOP_GET) == 0)
    rc = append(&list, "Content-Type: application/octet-stream");
  if (rc != 0) {
    curl_slist_free_all(list);
    return rc;
  }
  *out = list;
  return 0;
}

/* The scheme, host and port of url (the default port when none is written). */
typedef struct {
  char *scheme, *host, *port;
} origin;

static void origin_free(origin *o) {
  curl_free(o->scheme);
  curl_free(o->host);
  curl_free(o->port);
}

static int origin_of(const char *url, origin *o) {
  *o = (origin){NULL, NULL, NULL};
  CURLU *u = curl_url();
  if (u == NULL)
    return -ENOMEM;
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
  if (rc == CURLUE_OK)
    rc = curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0);
  if (rc == CURLUE_OK)
    rc = curl_url_get(u, CURLUPART_HOST, &o->host, 0);
  if (rc == CURLUE_OK)
    rc = curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT);
  curl_url_cleanup(u);
  if (rc != CURLUE_OK)
    origin_free(o);
  return rc == CURLUE_OK ? 0 : rc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : FO_EREDIRECT;
}

int fo__redirect_origin(const char *from, const char *to) {
  origin a, b;
  int rc = origin_of(from, &a);
  if (rc != 0)
    return rc;
  if ((rc = origin_of(to, &b)) != 0) {
    origin_free(&a);
    return rc;
  }
  int https = strcasecmp(a.scheme, "https") == 0;
  if (strcasecmp(b.scheme, "https") != 0 && (https || strcasecmp(b.scheme, "http") != 0))
    rc = FO_EREDIRECT;
  else
    rc = strcasecmp(a.scheme, b.scheme) != 0 || strcasecmp(a.host, b.host) != 0 ||
         strcmp(a.port, b.port) != 0;
  origin_free(&a);
  origin_free(&b);
  return rc;
}
