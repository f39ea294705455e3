/* What a server sends before the body: one response header line at a time into the transfer's
 * state, and the check, at the end of the headers, that the answer fits the request.
 *
 * Everything here is the server's text, so nothing is trusted: a line or a response's headers
 * over their bound stop the transfer (FO_EHEADER), a status line that is not HTTP's (a status
 * outside 100-599, two or four digits) or a Transfer-Encoding other than chunked stops it
 * (FO_EPROTOCOL), and ETag and Last-Modified are kept only as printable ASCII within a bound,
 * since they go back to the server in If-None-Match and If-Range and into files beside the
 * output. No libcurl call is made here, so the fuzzer (tests/fuzz/fuzz_header.c) drives these
 * functions with nothing but bytes. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* The value of header `name` in line, or NULL; *vlen gets its length without CRLF and blanks. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen) {
  size_t nl = strlen(name);
  if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
    return NULL;
  const char *v = line + nl + 1;
  const char *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
    end--;
  *vlen = (size_t)(end - v);
  return v;
}

/* Printable ASCII and spaces only: no control byte (a bare CR, an escape) and no byte above
 * 0x7e can come back out of the fetcher in a header, a file or a message. */
static int printable(const char *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
      return 0;
  return 1;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

/* Digits at *p (up to end) as a number below 2^60; advances *p. -1 when there are none or
 * more than that (no size on a board comes near it). */
static long long number(const char **p, const char *end) {
  const char *s = *p;
  long long v = 0;
  while (s < end && is_digit(*s) && v < (1ll << 60) / 10)
    v = v * 10 + (*s++ - '0');
  if (s == *p || (s < end && is_digit(*s)))
    return -1;
  *p = s;
  return v;
}

/* "HTTP/1.1 200 OK": a version, a space, exactly three digits, then a space or the end. */
static long status_of(const char *line, size_t len) {
  const char *p = line + 5, *end = line + len;
  while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
    end--;
  while (p < end && (is_digit(*p) || *p == '.'))
    p++;
  if (p == line + 5 || p >= end || *p != ' ')
    return -1;
  p++;
  if (end - p < 3 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) ||
      (end - p > 3 && p[3] != ' '))
    return -1;
  return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* "bytes FIRST-LAST/TOTAL" (TOTAL may be "*"); the parts go to x, -1 for what is missing. */
static void content_range(fo__xfer *x, const char *v, size_t n) {
  const char *p = v, *end = v + n;
  x->range_start = x->range_end = x->range_total = -1;
  if (n < 6 || strncasecmp(v, "bytes ", 6) != 0)
    return;
  p += 6;
  long long first = number(&p, end);
  if (first < 0 || p >= end || *p++ != '-')
    return;
  long long last = number(&p, end);
  if (last < 0 || p >= end || *p++ != '/')
    return;
  long long total = -1;
  if (p < end && *p == '*')
    p++;
  else if ((total = number(&p, end)) < 0)
    return;
  if (p != end)
    return;
  x->range_start = first;
  x->range_end = last;
  x->range_total = total;
}

/* A new response begins (the first, or the one after a 100 Continue): forget the last one's. */
static void response_reset(fo__xfer *x) {
  fo__free(x->etag);
  x->etag = NULL;
  x->sink.expect = 0;
  x->length = -1;
  x->encoded = 0;
  x->last_modified[0] = '\0';
  x->range_start = x->range_end = x->range_total = -1;
  x->has_retry_after = 0;
  x->retry_after_ms = 0;
}

int fo__header_line(fo__xfer *x, const char *line, size_t len) {
  size_t vlen;
  const char *v;
  /* libcurl holds a line of up to 100 KiB before it calls back: the bounds here are tighter, so
   * a server cannot make every worker hold that much, and so the fault is named as the
   * server's. */
  x->header_bytes += len;
  if (len > FO_FETCH_RESP_LINE_MAX || x->header_bytes > FO_FETCH_RESP_HEADERS_MAX) {
    x->why = len > FO_FETCH_RESP_LINE_MAX ? "a response header line over its bound"
                                          : "response headers over their bound";
    return FO_EHEADER;
  }
  if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    response_reset(x);
    x->status = status_of(line, len);
    if (x->status < 100 || x->status > 599) {
      x->why = "a status line without a status from 100 to 599";
      return FO_EPROTOCOL;
    }
    return FO__HDR_NEW;
  }
  if (len <= 2 && (line[0] == '\r' || line[0] == '\n'))
    return FO__HDR_END;
  if ((v = header_value(line, len, "Content-Range", &vlen)) != NULL) {
    content_range(x, v, vlen);
  } else if ((v = header_value(line, len, "Last-Modified", &vlen)) != NULL) {
    if (vlen < sizeof x->last_modified && printable(v, vlen)) {
      memcpy(x->last_modified, v, vlen);
      x->last_modified[vlen] = '\0';
    } else {
      x->last_modified[0] = '\0';
    }
  } else if ((v = header_value(line, len, "ETag", &vlen)) != NULL) {
    /* A later bad ETag drops an earlier one: the response has no validator to trust. */
    fo__free(x->etag);
    x->etag = NULL;
    if (vlen == 0 || vlen > FO_FETCH_VALIDATOR_MAX || !printable(v, vlen))
      return 0;
    char *e = fo__malloc(vlen + 1);
    if (e == NULL)
      return -ENOMEM;
    memcpy(e, v, vlen);
    e[vlen] = '\0';
    x->etag = e;
  } else if ((v = header_value(line, len, "Content-Length", &vlen)) != NULL) {
    const char *p = v;
    long long cl = number(&p, v + vlen);
    x->length = p == v + vlen ? cl : -1;
    x->sink.expect = x->length > 0 ? (unsigned long long)x->length : 0;
  } else if ((v = header_value(line, len, "Transfer-Encoding", &vlen)) != NULL) {
    /* Only chunked was asked for (HTTP/1.1 says a client that sends no TE gets no other); a
     * gzip or an unknown coding here would reach the file raw. */
    if (vlen != 7 || strncasecmp(v, "chunked", 7) != 0) {
      x->why = "a Transfer-Encoding other than chunked";
      return FO_EPROTOCOL;
    }
  } else if ((v = header_value(line, len, "Content-Encoding", &vlen)) != NULL) {
    /* Bodies are decoded by fetch_decode.c, not by libcurl, so a stream cut short is seen
     * (libcurl 7.88 accepts one silently). Anything but gzip and deflate was not asked for. */
    if ((vlen == 4 && strncasecmp(v, "gzip", 4) == 0) ||
        (vlen == 6 && strncasecmp(v, "x-gzip", 6) == 0) ||
        (vlen == 7 && strncasecmp(v, "deflate", 7) == 0))
      x->encoded = 1;
    else if (vlen > 0 && !(vlen == 8 && strncasecmp(v, "identity", 8) == 0))
      x->encoded = 2;
  } else if ((v = header_value(line, len, "Retry-After", &vlen)) != NULL) {
    unsigned long ms;
    if (fo__retry_after_parse(v, vlen, time(NULL), &ms) == 0) {
      x->has_retry_after = 1;
      x->retry_after_ms = ms;
    }
  }
  return 0;
}

int fo__header_answer_check(const fo__xfer *x, const char **why) {
  *why = NULL;
  if (x->status != 206)
    return 0;
  if (x->range_from < 0) {
    *why = "206 Partial Content to a request without Range";
    return FO_EPROTOCOL;
  }
  /* Asked "bytes=FROM-": the answer must start there and run to the end of the resource (the
   * check Mender's resumer makes), and carry exactly that many bytes. */
  if (x->range_start != x->range_from) {
    *why = x->range_start < 0 ? "206 without a single-range Content-Range"
                              : "206 whose Content-Range does not start at the byte asked for";
    return FO_EPROTOCOL;
  }
  if (x->range_end < x->range_start ||
      (x->range_total >= 0 && x->range_end != x->range_total - 1)) {
    *why = "206 whose Content-Range does not end at the resource's last byte";
    return FO_EPROTOCOL;
  }
  if (x->length >= 0 && x->length != x->range_end - x->range_start + 1) {
    *why = "206 whose Content-Length differs from its Content-Range";
    return FO_EPROTOCOL;
  }
  return 0;
}
