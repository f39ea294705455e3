/* One attempt of an item: a chain of redirect hops, each a transfer of the item's easy handle in
 * its worker's multi handle, then what the server's answer means for the result. The item's
 * state machine (fetch_item.c) starts an attempt and hands each hop's end back here; nothing
 * here waits: a hop is added to the multi and the worker's loop (fetch_engine.c) drives it. */
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

/* libcurl's write callback: the body's way in (fetch_decode.c), then a pause when its bytes are
 * paid for in the future (the byte rates): libcurl reads nothing more for this transfer until the
 * worker's loop unpauses it at x->pause_until. A pause asked for in a callback lets libcurl hand
 * over the rest of the buffer in hand all the same: it is given back (CURL_WRITEFUNC_PAUSE),
 * and libcurl keeps it for after the pause. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp) {
  fo__xfer *x = userp;
  if (x->pause_until != 0)
    return CURL_WRITEFUNC_PAUSE;
  size_t n = fo__decode_on_body(data, size, nmemb, userp);
  if (x->pause_until != 0 && curl_easy_pause(x->curl, CURLPAUSE_RECV) != CURLE_OK)
    x->pause_until = 0; /* not paused: the next piece books after this one all the same */
  return n;
}

void fo__transfer_setup(fo_fetcher *f, fo__handle *h, const fo_fetch_req *req) {
  fo__xfer *x = &h->x;
  /* libcurl's own size check sees the length on the wire (compressed); the header callback
   * refuses an announced identity length over the cap and the sink counts decoded bytes. */
  curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)0);
  /* A file takes a larger receive buffer: a quarter of the write calls on a long download,
   * for 48 KiB more while it runs; API answers keep libcurl's 16 KiB (both less when many
   * transfers share a worker: fo__net_buffer_size). */
  curl_easy_setopt(h->curl, CURLOPT_BUFFERSIZE,
                   fo__net_buffer_size(f, req->output ? 65536L : (long)CURL_MAX_WRITE_SIZE));
  curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, x);
  x->curl = h->curl;
  x->pause_until = 0;
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

void fo__sink_message(fo_fetch_result *r, const fo__sink *s, int err) {
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

/* Put one hop in flight: asking for the rest of a resumed file with Range from the bytes kept
 * and If-Range with their validator, on a copy of the hop's header list that lives until the
 * hop ends (hop_end). CURLE_OK, or why it could not be added. */
static CURLcode hop_add(fo__handle *h) {
  fo__xfer *x = &h->x;
  x->status = 0;
  x->range_start = x->range_end = x->range_total = -1;
  x->length = -1;
  x->header_bytes = 0;
  x->headers_done = 0;
  x->why = NULL;
  x->pause_until = 0;
  x->range_from = x->sink.ranged ? (long long)x->sink.have : -1;
  fo__time_hop(h->watch.f, h);
  CURLcode rc = CURLE_OK;
  if (!x->sink.ranged) {
    curl_easy_setopt(h->curl, CURLOPT_RANGE, (char *)NULL);
  } else {
    char range[32], ifr[300];
    snprintf(range, sizeof range, "%llu-", x->sink.have);
    snprintf(ifr, sizeof ifr, "If-Range: %s", x->sink.validator);
    struct curl_slist *list = NULL;
    for (const struct curl_slist *l = x->hdrs; l != NULL && rc == CURLE_OK; l = l->next) {
      struct curl_slist *n = curl_slist_append(list, l->data);
      if (n == NULL)
        rc = CURLE_OUT_OF_MEMORY;
      else
        list = n;
    }
    struct curl_slist *n = rc == CURLE_OK ? curl_slist_append(list, ifr) : NULL;
    if (n == NULL) {
      curl_slist_free_all(list);
      return CURLE_OUT_OF_MEMORY;
    }
    h->run.range_hdrs = list = n;
    rc = curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
    if (rc == CURLE_OK)
      rc = curl_easy_setopt(h->curl, CURLOPT_RANGE, range);
  }
  if (rc == CURLE_OK) {
    CURLMcode mrc = curl_multi_add_handle(h->run.multi, h->curl);
    rc = mrc == CURLM_OK ? CURLE_OK : mrc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY
                                                                 : CURLE_FAILED_INIT;
  }
  return rc;
}

/* After a hop (out of the multi): its Range and header copy go. */
static void hop_end(fo__handle *h) {
  h->x.pause_until = 0;
  if (h->run.range_hdrs == NULL)
    return;
  curl_easy_setopt(h->curl, CURLOPT_RANGE, (char *)NULL);
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->x.hdrs);
  curl_slist_free_all(h->run.range_hdrs);
  h->run.range_hdrs = NULL;
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

/* The end of an attempt: what happened (refused: what stopped a hop before it went out, else
 * rc, the last hop's) turned into err, status, content type and message. */
static int attempt_end(fo_fetcher *f, fo__handle *h, fo_fetch_result *r, int refused,
                       CURLcode rc) {
  fo__xfer *x = &h->x;
  const fo_fetch_req *req = h->run.claim.req;
  int err;
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
    fo__sink_message(r, &x->sink, err);
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

/* The attempt's first hop (again, after a 416): FO__INFLIGHT or the attempt's end. */
static int hops_start(fo_fetcher *f, fo__handle *h, fo_fetch_result *r) {
  const fo_fetch_req *req = h->run.claim.req;
  h->run.hops = 0;
  int refused = fo__request_hop(h, req, req->url, 0);
  if (refused != 0)
    return attempt_end(f, h, r, refused, CURLE_OK);
  CURLcode rc = hop_add(h);
  if (rc != CURLE_OK) {
    hop_end(h);
    return attempt_end(f, h, r, 0, rc);
  }
  return FO__INFLIGHT;
}

int fo__attempt_start(fo_fetcher *f, fo__handle *h, fo_fetch_result *r) {
  fo__xfer *x = &h->x;
  fo__free(x->etag);
  x->etag = NULL;
  x->encoded = 0;
  x->has_retry_after = 0;
  h->errbuf[0] = '\0';
  h->run.redone = 0;
  r->status = 0;
  r->content_type[0] = '\0';
  int err = fo__sink_restart(&x->sink);
  if (err != 0) {
    fo__sink_message(r, &x->sink, err);
    return err;
  }
  if (fo__body_rewind(&x->body) != 0) {
    fo__msgf(r, 0, "the request body cannot be sent again");
    return FO_EBODY;
  }
  return hops_start(f, h, r);
}

int fo__attempt_hop_done(fo_fetcher *f, fo__handle *h, fo_fetch_result *r, CURLcode rc) {
  fo__xfer *x = &h->x;
  hop_end(h);
  if (rc != CURLE_OK)
    return attempt_end(f, h, r, 0, rc);
  int err = next_hop(f, h, h->run.claim.req, h->run.hops);
  if (err == 0) {
    h->run.hops++;
    if ((rc = hop_add(h)) == CURLE_OK)
      return FO__INFLIGHT;
    hop_end(h);
    return attempt_end(f, h, r, 0, rc);
  }
  if (err != 1)
    return attempt_end(f, h, r, err, CURLE_OK);
  if (!h->run.redone && x->sink.ranged && x->status == 416) {
    /* the server has no bytes past ours: the partial file is not of this resource */
    h->run.redone = 1;
    fo__sink_range_refused(&x->sink);
    if ((err = fo__sink_restart(&x->sink)) != 0) {
      fo__sink_message(r, &x->sink, err);
      return err;
    }
    return hops_start(f, h, r);
  }
  return attempt_end(f, h, r, 0, CURLE_OK);
}

void fo__fail_result(fo_fetch_result *r, int err, const char *msg) {
  r->err = err;
  fo__msgf(r, 0, "%s", msg);
}

