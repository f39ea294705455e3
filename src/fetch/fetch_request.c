/* Requests: the checks of fo_fetch_req_check(), and setting an easy handle up for one item
 * (method, the caller's headers, the request body, redirects). A reused handle keeps every
 * option of the item before, so each item sets every request option it could have changed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};

static int method_known(const char *m) {
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (strcmp(m, methods[i]) == 0)
      return 1;
  return 0;
}

int fo__method_safe(const char *m) {
  return m == NULL || (strcmp(m, "POST") != 0 && strcmp(m, "PATCH") != 0);
}

/* Fill why for a refused field; value is what the field held, cut to a number. */
static int refuse(const char *field, long long value, fo_opt_error *why) {
  if (why != NULL)
    *why = (fo_opt_error){field, 0, 0, value};
  return -EINVAL;
}

int fo_fetch_req_check(const fo_fetch_req *r, fo_opt_error *why) {
  if (r == NULL)
    return -EINVAL;
  if (r->url == NULL || r->url[0] == '\0')
    return refuse("url", 0, why);
  if (r->method != NULL && !method_known(r->method))
    return refuse("method", (long long)strlen(r->method), why);
  if (r->headers != NULL)
    for (size_t i = 0; r->headers[i] != NULL; i++)
      if (fo__header_refusal(r->headers[i]) != NULL)
        return refuse("headers", (long long)i, why);
  if (r->etag != NULL &&
      (r->etag[0] == '\0' || strpbrk(r->etag, "\r\n") != NULL || strlen(r->etag) > 1024))
    return refuse("etag", (long long)strlen(r->etag), why);
  int bodyless = r->method == NULL || strcmp(r->method, "GET") == 0 ||
                 strcmp(r->method, "HEAD") == 0;
  switch (r->body_from) {
  case FO_FETCH_BODY_NONE:
    break;
  case FO_FETCH_BODY_MEMORY:
    if (r->body == NULL && r->body_len > 0)
      return refuse("body", (long long)r->body_len, why);
    break;
  case FO_FETCH_BODY_FILE:
    if (r->body_path == NULL || r->body_path[0] == '\0')
      return refuse("body_path", 0, why);
    break;
  case FO_FETCH_BODY_FD:
    if (r->body_fd < 0)
      return refuse("body_fd", r->body_fd, why);
    break;
  case FO_FETCH_BODY_READ:
    if (r->body_read == NULL)
      return refuse("body_read", 0, why);
    break;
  default:
    return refuse("body_from", (long long)r->body_from, why);
  }
  if (r->body_from != FO_FETCH_BODY_NONE && bodyless)
    return refuse("body_from", (long long)r->body_from, why);
  if (r->output != NULL) {
    /* the last component must be a file name: the side names are made from it (fetch_files.c),
     * and HEAD has no body to put in a file (an empty one would replace the output) */
    size_t n = strlen(r->output);
    const char *slash = strrchr(r->output, '/');
    const char *base = slash ? slash + 1 : r->output;
    if (n == 0 || base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
        strlen(base) > NAME_MAX || (r->method != NULL && strcmp(r->method, "HEAD") == 0))
      return refuse("output", (long long)n, why);
  }
  unsigned char d[32];
  if (r->sha256 != NULL && fo__sha256_parse(r->sha256, d) != 0)
    return refuse("sha256", (long long)strlen(r->sha256), why);
  if (!fo__forward_names_ok(r->forward_headers))
    return refuse("forward_headers", 0, why);
  size_t bad;
  if (r->pinned_pubkey != NULL && !fo__tls_pins_ok(r->pinned_pubkey, &bad))
    return refuse("pinned_pubkey", (long long)bad, why);
  unsigned known = FO_FETCH_RETRY_UNSAFE | FO_FETCH_RESUME | FO_FETCH_BODY_CROSS_HOST |
                   FO_FETCH_SKIP_EXISTING;
  if ((r->flags & ~known) != 0 || ((r->flags & FO_FETCH_RESUME) != 0 && r->output == NULL) ||
      ((r->flags & FO_FETCH_SKIP_EXISTING) != 0 && (r->output == NULL || r->sha256 == NULL)))
    return refuse("flags", (long long)r->flags, why);
  if (r->accept_type != NULL && r->accept_type[0] == '\0')
    return refuse("accept_type", 0, why);
  return 0;
}

/* ------------------------------------------------------------------ the request body */

static size_t on_read(char *buf, size_t size, size_t nitems, void *userp) {
  fo__body *b = &((fo__xfer *)userp)->body;
  size_t want = size * nitems;
  if (b->known && want > b->size - b->sent)
    want = (size_t)(b->size - b->sent);
  if (want == 0)
    return 0;
  const fo_fetch_req *r = b->req;
  long got;
  if (r->body_from == FO_FETCH_BODY_MEMORY) {
    memcpy(buf, (const char *)r->body + b->sent, want);
    got = (long)want;
  } else if (r->body_from == FO_FETCH_BODY_READ) {
    got = r->body_read(buf, want, r->body_arg);
    if (got < 0) {
      b->err = FO_EBODY;
      snprintf(b->why, sizeof b->why, "the body reader failed: %s", fo_strerror((int)got));
      return CURL_READFUNC_ABORT;
    }
    if ((size_t)got > want)
      got = (long)want;
  } else {
    ssize_t n;
    do
      n = read(b->fd, buf, want);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      b->err = FO_EBODY;
      snprintf(b->why, sizeof b->why, "reading the body: %s", strerror(errno));
      return CURL_READFUNC_ABORT;
    }
    got = (long)n;
  }
  if (got == 0 && b->known) {
    /* A file that shrank after its size was announced: the server would wait for the rest. */
    b->err = FO_EBODY;
    snprintf(b->why, sizeof b->why, "the body ended after %llu of %llu bytes", b->sent, b->size);
    return CURL_READFUNC_ABORT;
  }
  b->sent += (unsigned long long)got;
  return (size_t)got;
}

/* libcurl rewinds the body for a redirect or an authentication round; the same as a retry. */
static int on_seek(void *userp, curl_off_t offset, int origin) {
  fo__body *b = &((fo__xfer *)userp)->body;
  if (offset != 0 || origin != SEEK_SET)
    return CURL_SEEKFUNC_CANTSEEK;
  return fo__body_rewind(b) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_CANTSEEK;
}

int fo__body_rewind(fo__body *b) {
  if (b->sent == 0 && b->err == 0)
    return 0; /* nothing consumed yet: the first attempt, or one that sent nothing */
  b->sent = 0;
  b->err = 0;
  b->why[0] = '\0';
  if (b->req == NULL || b->req->body_from == FO_FETCH_BODY_MEMORY)
    return 0;
  if (b->req->body_from == FO_FETCH_BODY_READ || b->start < 0)
    return -1;
  return lseek(b->fd, (off_t)b->start, SEEK_SET) == (off_t)b->start ? 0 : -1;
}

int fo__body_retryable(const fo__body *b) {
  if (b->req == NULL || b->req->body_from == FO_FETCH_BODY_NONE ||
      b->req->body_from == FO_FETCH_BODY_MEMORY)
    return 1;
  return b->req->body_from != FO_FETCH_BODY_READ && b->start >= 0;
}

void fo__body_close(fo__body *b) {
  if (b->own_fd && b->fd >= 0)
    close(b->fd);
  memset(b, 0, sizeof *b);
  b->fd = -1;
}

/* Open the body for an item: its size and whether it can be sent again. */
static int body_open(fo__body *b, const fo_fetch_req *r) {
  fo__body_close(b);
  b->req = r;
  b->start = -1;
  if (r->body_from == FO_FETCH_BODY_NONE)
    return 0;
  if (r->body_from == FO_FETCH_BODY_MEMORY) {
    b->size = r->body_len;
    b->known = 1;
    return 0;
  }
  if (r->body_from == FO_FETCH_BODY_READ) {
    b->size = r->body_size;
    b->known = r->body_size > 0;
    return 0;
  }
  if (r->body_from == FO_FETCH_BODY_FILE) {
    b->fd = open(r->body_path, O_RDONLY | O_CLOEXEC);
    if (b->fd < 0) {
      b->err = FO_EBODY;
      snprintf(b->why, sizeof b->why, "cannot open the body file: %s", strerror(errno));
      return FO_EBODY;
    }
    b->own_fd = 1;
  } else {
    b->fd = r->body_fd;
  }
  off_t at = lseek(b->fd, 0, SEEK_CUR);
  b->start = at >= 0 ? (long long)at : -1;
  struct stat st;
  if (r->body_size > 0) {
    b->size = r->body_size;
    b->known = 1;
  } else if (fstat(b->fd, &st) == 0 && S_ISREG(st.st_mode) && b->start >= 0) {
    b->size = st.st_size > at ? (unsigned long long)(st.st_size - at) : 0;
    b->known = 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ the handle */

#define SET(opt, val)                                                                              \
  do {                                                                                             \
    int rc_ = fo__setopt_rc(curl_easy_setopt(c, (opt), (val)));                                    \
    if (rc_ != 0)                                                                                  \
      return rc_;                                                                                  \
  } while (0)

/* The method and its body; FO__HOP_GET makes it a GET (a HEAD stays HEAD) without body. */
static int set_method(fo__handle *h, const fo_fetch_req *r, int flags) {
  CURL *c = h->curl;
  fo__body *b = &h->x.body;
  /* Back to a plain GET first: it clears the POST, upload and no-body state of the last item. */
  SET(CURLOPT_HTTPGET, 1L);
  SET(CURLOPT_CUSTOMREQUEST, (char *)NULL);
  const char *m = r->method ? r->method : "GET";
  if (strcmp(m, "HEAD") == 0) {
    SET(CURLOPT_NOBODY, 1L);
  } else if ((flags & FO__HOP_GET) != 0) {
    return 0;
  } else if (r->body_from != FO_FETCH_BODY_NONE) {
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_READFUNCTION, on_read);
    SET(CURLOPT_READDATA, &h->x);
    SET(CURLOPT_SEEKFUNCTION, on_seek);
    SET(CURLOPT_SEEKDATA, &h->x);
    /* -1: unknown length, which libcurl sends chunked on HTTP/1.1. */
    SET(CURLOPT_POSTFIELDSIZE_LARGE, b->known ? (curl_off_t)b->size : (curl_off_t)-1);
    if (strcmp(m, "POST") != 0)
      SET(CURLOPT_CUSTOMREQUEST, m);
  } else if (strcmp(m, "GET") != 0) {
    SET(CURLOPT_CUSTOMREQUEST, m);
  }
  return 0;
}

int fo__request_hop(fo__handle *h, const fo_fetch_req *r, const char *url, int flags) {
  CURL *c = h->curl;
  struct curl_slist *list = NULL;
  int rc = fo__headers_build(r, flags, &list);
  if (rc != 0)
    return rc;
  rc = fo__setopt_rc(curl_easy_setopt(c, CURLOPT_HTTPHEADER, list));
  curl_slist_free_all(h->x.hdrs);
  h->x.hdrs = list;
  if (rc != 0)
    return rc;
  SET(CURLOPT_URL, url);
  /* PIPEWAIT (fetch_net.c) only where HTTP/2 may come, over TLS: to a cleartext host libcurl
   * would hold every transfer that starts beside the first until that one ends, before it
   * learns the connection cannot multiplex, so a worker's first wave to a host would go one at
   * a time. */
  if (h->watch.f->net.h2)
    SET(CURLOPT_PIPEWAIT, strncasecmp(url, "https:", 6) == 0 ? 1L : 0L);
  return set_method(h, r, flags);
}

int fo__request_apply(fo_fetcher *f, fo__handle *h, const fo_fetch_req *r, const char **what) {
  CURL *c = h->curl;
  fo__body *b = &h->x.body;
  *what = NULL;
  fo_opt_error why;
  if (fo_fetch_req_check(r, &why) != 0) {
    *what = why.field;
    return -EINVAL;
  }
  int rc = fo__tls_item(h, r); /* before the body and the sink: nothing to undo */
  if (rc != 0)
    return rc;
  rc = body_open(b, r);
  if (rc != 0)
    return rc;
  if ((rc = fo__request_hop(h, r, r->url, 0)) != 0)
    return rc;
  int compress = f->compress && (r->flags & FO_FETCH_RESUME) == 0;
  SET(CURLOPT_ACCEPT_ENCODING, compress ? "gzip, deflate" : (char *)NULL);
  SET(CURLOPT_HTTP_CONTENT_DECODING, 0L); /* fetch_decode.c decodes, and sees a cut stream */
  /* Redirects are followed by fetch_transfer.c, hop by hop, so each hop gets the headers and
   * the body its origin may see (fetch_policy.c); libcurl would send every custom header but
   * Authorization and Cookie to any host. */
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_UNRESTRICTED_AUTH, 0L);
  return 0;
}
