/* One item: its attempts (each a chain of redirect hops) and retries, with what the server's
 * answer means for the result. The engine (fetch_engine.c) hands items to it, one worker
 * thread and one easy handle at a time. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* ------------------------------------------------------------------ headers */

/* libcurl's header callback: each line into fetch_header.c, then, at the end of a response's
 * headers, whether its body is the item's and whether the answer fits the request. */
static size_t on_header(char *line, size_t size, size_t nitems, void *userp) {
  fo__xfer *x = userp;
  size_t len = size * nitems;
  int rc = fo__header_line(x, line, len);
  if (rc == FO__HDR_NEW) {
    fo__decode_free(&x->dec);
  } else if (rc == FO__HDR_END) {
    const char *why;
    if ((rc = fo__header_answer_check(x, &why)) != 0) {
      x->why = why;
      if (x->range_from >= 0)
        fo__sink_range_refused(&x->sink); /* the next attempt asks for the whole body */
    } else if (x->status >= 200 && x->status <= 299) {
      x->headers_done = 1;
      x->sink.discard = 0;
      rc = fo__sink_answer(x);
    } else {
      x->headers_done = x->status >= 200;
      x->sink.discard = x->sink.kind != FO__SINK_MEMORY;
    }
  }
  if (rc < 0) {
    x->sink.err = rc;
    return 0;
  }
  return len;
}

/* ------------------------------------------------------------------ one attempt */

static int is_tls_error(CURLcode rc) {
  switch ((int)rc) {
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_USE_SSL_FAILED:
    return 1;
  default:
    return 0;
  }
}

/* What a finished curl_easy_perform() means for the item. sent: the request went out, so an
 * error about the reply is the server's. */
static int classify(CURLcode rc, const fo__xfer *x, int sent) {
  /* libcurl refuses a header line over its own bound (100 KiB) as out of memory, and a status
   * line that is not HTTP's as an unsupported protocol or a weird reply. */
  if (sent && !x->headers_done && rc == CURLE_OUT_OF_MEMORY)
    return FO_EHEADER;
#if LIBCURL_VERSION_NUM >= 0x080600
  if (sent && !x->headers_done && rc == CURLE_TOO_LARGE)
    return FO_EHEADER;
#endif
  /* A Transfer-Encoding the request did not ask for: libcurl 8 refuses it itself (7.88 passes it
   * on, and the fetcher's own header check refuses it). */
  if (sent && (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_WEIRD_SERVER_REPLY ||
               rc == CURLE_BAD_CONTENT_ENCODING))
    return x->sink.err != 0 ? x->sink.err : FO_EPROTOCOL;
  switch ((int)rc) {
  case CURLE_OK:
    return 0;
  case CURLE_WRITE_ERROR:
  case CURLE_ABORTED_BY_CALLBACK: /* the read callback's abort too */
    return x->sink.err != 0 ? x->sink.err : x->body.err != 0 ? x->body.err : FO_ETRANSPORT;
  case CURLE_READ_ERROR:
  case CURLE_SEND_FAIL_REWIND:
    return x->body.err != 0 ? x->body.err : FO_EBODY;
  case CURLE_FILESIZE_EXCEEDED:
    return FO_ETOOBIG;
  case CURLE_OPERATION_TIMEDOUT:
    return -ETIMEDOUT;
  case CURLE_OUT_OF_MEMORY:
    return -ENOMEM;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_BAD_FUNCTION_ARGUMENT:
    return -EINVAL;
  default:
    /* A header callback's refusal (a size over the cap) surfaces as a generic error. */
    if (x->sink.err != 0)
      return x->sink.err;
    return is_tls_error(rc) ? FO_ETLS : FO_ETRANSPORT;
  }
}

static int type_matches(const char *ctype, const char *want) {
  return ctype != NULL && strncasecmp(ctype, want, strlen(want)) == 0;
}

static void sink_message(fo_fetch_result *r, const fo__sink *s, int err) {
  if (err == FO_ETOOBIG)
    fo__msgf(r, 0, "body larger than the cap of %zu bytes", s->cap);
  else if (err == FO_EABORTED)
    fo__msgf(r, 0, "the write callback stopped the transfer after %llu bytes", s->bytes);
  else if (err == FO_EENCODING)
    fo__msgf(r, 0, "the compressed body is corrupt, cut short or in an encoding not asked for");
  else if (err == FO_EDIGEST && s->digest_got[0] != '\0')
    fo__msgf(r, 0, "the body's SHA-256 is %s, not the expected %s", s->digest_got,
             s->req->sha256);
  else if (err == FO_EDIGEST)
    fo__msgf(r, 0, "the body's SHA-256 is not %s", s->req->sha256);
  else if (err == -ENOMEM)
    fo__msgf(r, 0, "out of memory for the response");
  else if (fo__sink_file_message(r, s, err))
    ;
  else
    fo__msgf(r, 0, "%s", fo_strerror(err));
}

/* curl_easy_perform() of one hop, asking for the rest of a resumed file: Range from the bytes
 * kept and If-Range with their validator, on a copy of the hop's header list. */
static CURLcode perform(fo__handle *h) {
  fo__xfer *x = &h->x;
  x->status = 0;
  x->range_start = x->range_end = x->range_total = -1;
  x->length = -1;
  x->header_bytes = 0;
  x->headers_done = 0;
  x->why = NULL;
  x->range_from = x->sink.ranged ? (long long)x->sink.have : -1;
  fo__time_hop(h->watch.f, h);
  if (!x->sink.ranged) {
    curl_easy_setopt(h->curl, CURLOPT_RANGE, (char *)NULL);
    return curl_easy_perform(h->curl);
  }
  char range[32], ifr[300];
  snprintf(range, sizeof range, "%llu-", x->sink.have);
  snprintf(ifr, sizeof ifr, "If-Range: %s", x->sink.validator);
  struct curl_slist *list = NULL;
  for (const struct curl_slist *l = x->hdrs; l != NULL; l = l->next) {
    struct curl_slist *n = curl_slist_append(list, l->data);
    if (n == NULL) {
      curl_slist_free_all(list);
      return CURLE_OUT_OF_MEMORY;
    }
    list = n;
  }
  struct curl_slist *n = curl_slist_append(list, ifr);
  if (n == NULL) {
    curl_slist_free_all(list);
    return CURLE_OUT_OF_MEMORY;
  }
  list = n;
  CURLcode rc = curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
  if (rc == CURLE_OK)
    rc = curl_easy_setopt(h->curl, CURLOPT_RANGE, range);
  if (rc == CURLE_OK)
    rc = curl_easy_perform(h->curl);
  curl_easy_setopt(h->curl, CURLOPT_RANGE, (char *)NULL);
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, x->hdrs);
  curl_slist_free_all(list);
  return rc;
}

static int is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The next hop after a redirect answer, or 1 when the answer is final. 0: the handle points at
 * the Location; FO_EREDIRECT (x->why says why), or the error of a sink or a setopt. */
static int next_hop(fo_fetcher *f, fo__handle *h, const fo_fetch_req *req, unsigned hops) {
  fo__xfer *x = &h->x;
  char *loc = NULL;
  if (f->max_redirs == 0 || !is_redirect(x->status) ||
      curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || loc == NULL)
    return 1;
  if (hops >= f->max_redirs) {
    x->why = "more redirects than max_redirs";
    return FO_EREDIRECT;
  }
  /* The origin is the item's first URL's: a hop back there after a detour gets every header. */
  int other = fo__redirect_origin(req->url, loc);
  if (other < 0) {
    x->why = other == FO_EREDIRECT ? "a redirect from https to http, or to another scheme"
                                   : NULL;
    return other;
  }
  int flags = (other ? FO__HOP_CROSS : 0) | (x->status == 303 ? FO__HOP_GET : 0);
  int body = req->body_from != FO_FETCH_BODY_NONE && (flags & FO__HOP_GET) == 0;
  if (body && other && (req->flags & FO_FETCH_BODY_CROSS_HOST) == 0) {
    x->why = "a redirect that would send the request body to another host";
    return FO_EREDIRECT;
  }
  if (body && fo__body_rewind(&x->body) != 0) {
    x->why = "a redirect that needs the request body again, which cannot be read again";
    return FO_EREDIRECT;
  }
  int rc = fo__sink_restart(&x->sink); /* the redirect's own body is not the answer */
  if (rc == 0)
    rc = fo__request_hop(h, req, loc, flags);
  return rc;
}

/* The item's request and the redirects it is given, hop by hop: *rc is the last hop's. Returns
 * 0, or what refused a hop. */
static int perform_hops(fo_fetcher *f, fo__handle *h, const fo_fetch_req *req, CURLcode *rc) {
  int err = fo__request_hop(h, req, req->url, 0);
  *rc = CURLE_OK;
  for (unsigned hops = 0; err == 0; hops++) {
    *rc = perform(h);
    if (*rc != CURLE_OK)
      break;
    err = next_hop(f, h, req, hops);
    if (err == 1)
      return 0;
  }
  return err;
}

/* Server text into a result field: every byte outside printable ASCII as \xNN, cut to fit. */
static void copy_escaped(char *out, size_t cap, const char *in) {
  size_t o = 0;
  for (; *in != '\0'; in++) {
    unsigned char c = (unsigned char)*in;
    size_t need = c >= 0x20 && c <= 0x7e ? 1 : 4;
    if (o + need >= cap)
      break;
    if (need == 1)
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
  }
  out[o] = '\0';
}

/* One attempt: perform, then turn what happened into err, status, content type and message. */
static int attempt(fo_fetcher *f, fo__handle *h, const fo_fetch_req *req, fo_fetch_result *r) {
  fo__xfer *x = &h->x;
  fo__free(x->etag);
  x->etag = NULL;
  x->encoded = 0;
  x->has_retry_after = 0;
  h->errbuf[0] = '\0';
  r->status = 0;
  r->content_type[0] = '\0';
  int err = fo__sink_restart(&x->sink);
  if (err != 0) {
    sink_message(r, &x->sink, err);
    return err;
  }
  if (fo__body_rewind(&x->body) != 0) {
    fo__msgf(r, 0, "the request body cannot be sent again");
    return FO_EBODY;
  }
  CURLcode rc;
  int refused = perform_hops(f, h, req, &rc);
  if (refused == 0 && rc == CURLE_OK && x->sink.ranged && x->status == 416) {
    /* the server has no bytes past ours: the partial file is not of this resource */
    fo__sink_range_refused(&x->sink);
    if ((err = fo__sink_restart(&x->sink)) != 0) {
      sink_message(r, &x->sink, err);
      return err;
    }
    refused = perform_hops(f, h, req, &rc);
  }
  long sent = 0; /* CURLINFO_REQUEST_SIZE is a long: 32 bits on 32-bit targets */
  if (curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &sent) != CURLE_OK)
    sent = 0;
  err = refused != 0 ? refused : classify(rc, x, sent > 0);
  if (err == 0 && (err = fo__decode_finish(x)) != 0)
    x->sink.err = err;
  fo__decode_free(&x->dec);
  r->bytes = x->sink.bytes;
  r->resumed = x->sink.resumed;
  long status = 0;
  if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
    r->status = status;
  r->http_version = fo__net_http_version(h->curl); /* HTTP/2: fo_fetch_result.http_version */
  char *ctype = NULL;
  if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != NULL)
    copy_escaped(r->content_type, sizeof r->content_type, ctype);
  if (x->has_retry_after)
    r->retry_after_ms = x->retry_after_ms;
  const char *accept = req->accept_type != NULL ? req->accept_type : f->accept_type;
  const char *net = err != 0 && refused == 0 ? fo__net_field(rc) : NULL;
  char why[sizeof r->message];

  if (err == 0 && !(status >= 200 && status <= 299) && status != 304) {
    err = FO_EHTTP;
    fo__msgf(r, 0, "HTTP status %ld%s%s%s", status, r->content_type[0] ? " (" : "",
             r->content_type, r->content_type[0] ? ")" : "");
  } else if (err == 0 && status != 304 && accept != NULL && !type_matches(ctype, accept)) {
    err = FO_ECONTENTTYPE;
    fo__msgf(r, 0, "HTTP status %ld with Content-Type '%s', not '%s'", status, r->content_type,
             accept);
  } else if (fo__time_message(f, h, err, why, sizeof why)) {
    fo__msgf(r, 0, "%s", why);
  } else if (err == FO_EHEADER) {
    fo__msgf(r, 0, "the server sent %s (%u bytes a line, %u in all)",
             x->why ? x->why : "a response header over libcurl's bound", FO_FETCH_RESP_LINE_MAX,
             FO_FETCH_RESP_HEADERS_MAX);
  } else if (err == FO_EPROTOCOL && x->why != NULL) {
    fo__msgf(r, 0, "the server sent %s", x->why);
  } else if (err == FO_EPROTOCOL) {
    fo__msgf(r, 0, "the server's reply is not HTTP: %s%s%s", curl_easy_strerror(rc),
             h->errbuf[0] ? ": " : "", h->errbuf);
  } else if (err == FO_EREDIRECT) {
    fo__msgf(r, 0, "refused %s", x->why ? x->why : "a redirect");
  } else if (refused != 0) {
    fo__msgf(r, 0, "%s", fo_strerror(err));
  } else if (err == FO_EBODY && x->body.why[0] != '\0') {
    fo__msgf(r, 0, "%s", x->body.why);
  } else if (err != 0 && x->sink.err == err) {
    sink_message(r, &x->sink, err);
  } else if (err == FO_ETOOBIG) {
    fo__msgf(r, 0, "body larger than the cap of %zu bytes", x->sink.cap);
  } else if (net != NULL && strcmp(net, "interface") == 0) {
    fo__msgf(r, 0, "interface '%s' cannot be bound (no such interface or local address): %s",
             f->net.interface, h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
  } else if (net != NULL) {
    /* the proxy's URL may hold its password: named by the field, not quoted */
    fo__msgf(r, 0, "proxy: %s%s%s", curl_easy_strerror(rc), h->errbuf[0] ? ": " : "", h->errbuf);
  } else if (err == FO_ETLS && fo__tls_message(h, rc, h->tls_why, sizeof h->tls_why)) {
    fo__msgf(r, 0, "%s", h->tls_why);
  } else if (err != 0) {
    fo__msgf(r, 0, "%s%s%s", curl_easy_strerror(rc), h->errbuf[0] ? ": " : "", h->errbuf);
  } else {
    r->message[0] = '\0';
  }
  return err;
}

/* ------------------------------------------------------------------ one item */

void fo__fail_result(fo_fetch_result *r, int err, const char *msg) {
  r->err = err;
  fo__msgf(r, 0, "%s", msg);
}

/* Whether the item may be tried again after err. */
static int may_retry(const fo_fetch_req *req, const fo__xfer *x, int err, long status) {
  /* A wrong answer to a Range is the one protocol fault worth a retry: the partial file was
   * dropped, so the next attempt asks for the whole body, to which no 206 fits. */
  int wrong_range = err == FO_EPROTOCOL && x->range_from >= 0;
  if ((!fo__fetch_retryable(err, status) && !wrong_range) || !fo__body_retryable(&x->body))
    return 0;
  /* The server may have acted on a POST or PATCH it never answered: repeating one is the
   * caller's call. */
  return fo__method_safe(req->method) || (req->flags & FO_FETCH_RETRY_UNSAFE) != 0;
}

static void retry_loop(fo_fetcher *f, fo__handle *h, const fo_fetch_req *req,
                       fo_fetch_result *r) {
  unsigned max_attempts = f->retries + 1;
  uint64_t t0 = (uint64_t)fo__now_ns();
  int err = 0;
  h->watch.req = req;
  for (unsigned a = 1;; a++) {
    unsigned long delay = 0;
    if (a > 1) {
      delay = fo__backoff_delay(f->backoff_ms, f->backoff_max_ms, a - 1, &h->rng);
      if (h->x.has_retry_after && h->x.retry_after_ms > delay)
        delay = h->x.retry_after_ms;
    }
    /* backoff and rate slot (fetch_time.c): cut short by a cancel, the deadline or the window */
    int go = fo__time_before_attempt(f, h, a, t0, delay);
    if (go == 1) {
      fo__msgf(r, 1, "; no retry: the retry window of %ld ms is spent", f->retry_window_ms);
      break;
    } else if (go != 0) {
      err = go;
      fo__msgf(r, 0, "%s %s",
               go != -ECANCELED                 ? "the call's deadline passed"
               : h->watch.stop == FO__STOP_JOB ? "cancelled (fo_fetch_job_cancel)"
                                                : "cancelled (fo_fetcher_cancel)",
               a > 1 ? "while waiting to retry" : "before the first attempt");
      break;
    }
    r->attempts = a;
    err = attempt(f, h, req, r);
    if (err == 0 || a >= max_attempts || !may_retry(req, &h->x, err, r->status))
      break;
    if (h->x.has_retry_after && h->x.retry_after_ms > f->backoff_max_ms) {
      fo__msgf(r, 1, "; Retry-After %lu ms is over the %lu ms cap", h->x.retry_after_ms,
               f->backoff_max_ms);
      break;
    }
  }
  if (err != 0 && r->attempts > 1)
    fo__msgf(r, 1, " (after %u attempts)", r->attempts);
  r->err = err;
}

/* The body of any answer, 2xx or not (a 404 says "Not Found"), unless the transfer broke. */
static void keep_body(fo__sink *s, fo_fetch_result *r) {
  int keep = (r->err == 0 || r->err == FO_EHTTP || r->err == FO_ECONTENTTYPE) && r->status != 304;
  if (!keep || s->kind != FO__SINK_MEMORY)
    return;
  if (s->buf == NULL) {
    s->buf = fo__malloc(1);
    if (s->buf == NULL) {
      fo__fail_result(r, -ENOMEM, "out of memory for the response");
      return;
    }
    s->buf[0] = '\0';
  }
  r->body = s->buf;
  r->body_len = (size_t)s->bytes;
  s->buf = NULL;
}

void fo__fetch_item(fo_fetcher *f, fo__handle *h, const fo_fetch_req *req,
                    fo_fetch_result *r) {
  uint64_t t0 = fo__now_ns();
  fo__xfer *x = &h->x;
  const char *what = NULL;
  if ((req->flags & FO_FETCH_SKIP_EXISTING) != 0 && fo_fetch_req_check(req, NULL) == 0 &&
      fo__skip_present(req)) {
    r->skipped = 1; /* err 0, attempts 0: nothing was asked of the network */
    r->elapsed = (double)(fo__now_ns() - t0) * 1e-9;
    return;
  }
  int err = fo__request_apply(f, h, req, &what);
  if (err == -EINVAL) {
    r->err = err;
    fo__msgf(r, 0, "request refused: bad %s", what ? what : "URL");
    for (size_t i = 0; what != NULL && strcmp(what, "headers") == 0 && req->headers[i]; i++)
      if (fo__header_refusal(req->headers[i]) != NULL) {
        fo__msgf(r, 1, " [%zu]: %s", i, fo__header_refusal(req->headers[i]));
        break;
      }
  } else if (err == FO_EBODY) {
    fo__fail_result(r, err, x->body.why);
  } else if (err == FO_ETLS) {
    fo__fail_result(r, err, h->tls_why);
  } else if (err != 0) {
    fo__fail_result(r, err, err == -ENOMEM ? "out of memory for the request" : "request refused");
  }
  size_t cap = req->max_bytes ? req->max_bytes : req->output || req->write ? 0 : f->max_body;
  if (err == 0) {
    err = fo__sink_open(&x->sink, req, cap, f->file_mode);
    if (err != 0) {
      r->err = err;
      if (err == -ENOMEM)
        fo__msgf(r, 0, "out of memory for the request");
      else if (!fo__sink_file_message(r, &x->sink, err))
        fo__msgf(r, 0, "cannot create a file beside %s: %s", req->output, fo_strerror(err));
      fo__sink_free(&x->sink);
    }
  }
  if (err == 0) {
    /* libcurl's own size check sees the length on the wire (compressed); the header callback
     * refuses an announced identity length over the cap and the sink counts decoded bytes. */
    curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)0);
    /* A file takes a larger receive buffer: a quarter of the write calls on a long download,
     * for 48 KiB more while it runs; API answers keep libcurl's 16 KiB. */
    curl_easy_setopt(h->curl, CURLOPT_BUFFERSIZE,
                     fo__net_buffer_size(f, req->output ? 65536L : (long)CURL_MAX_WRITE_SIZE));
    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, x);
    retry_loop(f, h, req, r);
    int ok = r->err == 0 && r->status >= 200 && r->status <= 299;
    int ferr = fo__sink_finish(&x->sink, ok, r->err, r->status);
    if (ok && ferr != 0) {
      r->err = ferr;
      sink_message(r, &x->sink, ferr);
    }
    keep_body(&x->sink, r);
    if (r->err == 0 || r->err == FO_EHTTP || r->err == FO_ECONTENTTYPE) {
      r->etag = x->etag;
      x->etag = NULL;
    }
    fo__sink_free(&x->sink);
  }
  fo__free(x->etag);
  x->etag = NULL;
  fo__body_close(&x->body);
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
  r->elapsed = (double)(fo__now_ns() - t0) * 1e-9;
}
