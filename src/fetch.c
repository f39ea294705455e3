/* The fetcher: libcurl easy handles driven by the thread pool.
 *
 * fo_fetch_many() submits min(n, threads) worker tasks to the pool. A worker takes an idle easy
 * handle (or makes one), then claims URL indices from an atomic counter until none is left, so a
 * slow URL holds up one worker, never a fixed share of the list. Each result is written only by
 * the worker that claimed its index, and read by the caller after the group wait, whose mutex
 * orders the two: no lock is needed around results. Handles go back to the idle stack, keeping
 * their connections alive for the next call. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "alloc.h"
#include "fanout/fetch.h"
#include "fetch_internal.h"
#include "opt.h"
#include "sys.h"

/* A first body buffer: most API documents fit, and small enough for a board. */
#define BODY_FIRST 16384

/* The state of one transfer, reached from libcurl's callbacks. */
typedef struct fo__xfer {
  size_t max_body;
  char *buf;
  size_t len, cap;
  size_t expect; /* Content-Length when it was sent and fits the cap, else 0 */
  int err;       /* 0, -ENOMEM or FO_ETOOBIG: why a callback stopped the transfer */
  char *etag;
  int has_retry_after;
  unsigned long retry_after_ms;
} fo__xfer;

typedef struct fo__handle {
  CURL *curl;
  fo__xfer x;
  uint64_t rng;
  char errbuf[CURL_ERROR_SIZE];
} fo__handle;

struct fo_fetcher {
  fo_tpool *pool;
  int own_pool;
  unsigned threads;
  long connect_timeout_ms, timeout_ms;
  unsigned retries;
  unsigned long backoff_ms, backoff_max_ms;
  size_t max_body;
  char *ca_file, *ca_path, *user_agent, *accept_type;
  fo__rate rate;
  int rate_ok;
  CURLSH *share;
  pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
  int share_mu_n;
  pthread_mutex_t idle_mu;
  int idle_mu_ok;
  fo__handle **idle; /* a stack of up to `threads` handles with live connections */
  unsigned n_idle;
};

/* One fo_fetch_many() call, shared by its workers. */
typedef struct fo__batch {
  fo_fetcher *f;
  const char *const *urls;
  const char *const *etags;
  size_t n;
  fo_fetch_result *results;
  fo_fetch_done_fn done;
  void *done_arg;
  size_t next; /* the next unclaimed index; atomic */
} fo__batch;

/* ------------------------------------------------------------------ global */

int fo_fetch_global_init(void) {
  CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc == CURLE_OK)
    return 0;
  return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : FO_EINTERNAL;
}

void fo_fetch_global_cleanup(void) {
  curl_global_cleanup();
}

/* ------------------------------------------------------------------ share */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userp) {
  (void)h;
  (void)access;
  fo_fetcher *f = userp;
  if ((int)data >= 0 && (int)data < (int)CURL_LOCK_DATA_LAST)
    pthread_mutex_lock(&f->share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp) {
  (void)h;
  fo_fetcher *f = userp;
  if ((int)data >= 0 && (int)data < (int)CURL_LOCK_DATA_LAST)
    pthread_mutex_unlock(&f->share_mu[data]);
}

static int share_create(fo_fetcher *f) {
  for (; f->share_mu_n < (int)CURL_LOCK_DATA_LAST; f->share_mu_n++) {
    int rc = pthread_mutex_init(&f->share_mu[f->share_mu_n], NULL);
    if (rc != 0)
      return -rc;
  }
  f->share = fo__fault_at(FO__FAULT_CURL) ? NULL : curl_share_init();
  if (f->share == NULL)
    return -ENOMEM;
  /* DNS answers and TLS sessions only: sharing the connection cache between threads is a
   * documented limit of libcurl's share interface; each handle keeps its own connections. */
  if (curl_share_setopt(f->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
      curl_share_setopt(f->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
      curl_share_setopt(f->share, CURLSHOPT_USERDATA, f) != CURLSHE_OK)
    return FO_EINTERNAL;
  CURLSHcode rc = curl_share_setopt(f->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  if (rc == CURLSHE_OK)
    rc = curl_share_setopt(f->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  if (rc == CURLSHE_NOMEM)
    return -ENOMEM;
  return rc == CURLSHE_OK ? 0 : FO_EINTERNAL;
}

/* ------------------------------------------------------------------ callbacks */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp) {
  fo__xfer *x = userp;
  size_t n = size * nmemb;
  if (n > x->max_body - x->len) {
    x->err = FO_ETOOBIG;
    return 0;
  }
  if (x->len + n + 1 > x->cap) {
    /* The announced length first: one allocation of the right size, where a fixed first size
     * would waste most of itself on small documents and grow in steps on large ones. */
    size_t cap = x->cap ? x->cap : x->expect >= n ? x->expect + 1 : BODY_FIRST;
    while (cap < x->len + n + 1)
      cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > x->max_body + 1)
      cap = x->max_body + 1;
    char *p = fo__realloc(x->buf, cap);
    if (p == NULL) {
      x->err = -ENOMEM;
      return 0;
    }
    x->buf = p;
    x->cap = cap;
  }
  memcpy(x->buf + x->len, data, n);
  x->len += n;
  x->buf[x->len] = '\0';
  return n;
}

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

static size_t on_header(char *line, size_t size, size_t nitems, void *userp) {
  fo__xfer *x = userp;
  size_t len = size * nitems;
  size_t vlen;
  const char *v;
  if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    /* a new response (after a 100 Continue, say): forget the headers of the previous one */
    fo__free(x->etag);
    x->etag = NULL;
    x->expect = 0;
    x->has_retry_after = 0;
    x->retry_after_ms = 0;
  } else if ((v = header_value(line, len, "ETag", &vlen)) != NULL && vlen > 0) {
    char *e = fo__malloc(vlen + 1);
    if (e == NULL) {
      x->err = -ENOMEM;
      return 0;
    }
    memcpy(e, v, vlen);
    e[vlen] = '\0';
    fo__free(x->etag);
    x->etag = e;
  } else if ((v = header_value(line, len, "Content-Length", &vlen)) != NULL) {
    size_t cl = 0, i = 0;
    for (; i < vlen && v[i] >= '0' && v[i] <= '9' && cl <= x->max_body; i++)
      cl = cl * 10 + (size_t)(v[i] - '0');
    x->expect = i == vlen && cl <= x->max_body ? cl : 0;
  } else if ((v = header_value(line, len, "Retry-After", &vlen)) != NULL) {
    unsigned long ms;
    if (fo__retry_after_parse(v, vlen, time(NULL), &ms) == 0) {
      x->has_retry_after = 1;
      x->retry_after_ms = ms;
    }
  }
  return len;
}

/* ------------------------------------------------------------------ handles */

static int setopt_rc(CURLcode rc) {
  if (rc == CURLE_OK)
    return 0;
  return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : FO_EINTERNAL;
}

#define SETOPT(h, opt, val)                                                                        \
  do {                                                                                             \
    int rc_ = setopt_rc(curl_easy_setopt((h), (opt), (val)));                                      \
    if (rc_ != 0)                                                                                  \
      return rc_;                                                                                  \
  } while (0)

static int handle_setup(fo_fetcher *f, fo__handle *h) {
  CURL *c = h->curl;
  SETOPT(c, CURLOPT_NOSIGNAL, 1L);
  SETOPT(c, CURLOPT_SHARE, f->share);
  SETOPT(c, CURLOPT_ERRORBUFFER, h->errbuf);
  SETOPT(c, CURLOPT_WRITEFUNCTION, on_body);
  SETOPT(c, CURLOPT_WRITEDATA, &h->x);
  SETOPT(c, CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(c, CURLOPT_HEADERDATA, &h->x);
  SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, f->connect_timeout_ms);
  SETOPT(c, CURLOPT_TIMEOUT_MS, f->timeout_ms);
  SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_body);
  SETOPT(c, CURLOPT_USERAGENT, f->user_agent);
  SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
  /* Verification is libcurl's default; it is set here anyway so no default elsewhere (a
   * curlrc, a future libcurl) can turn it off behind the fetcher's back. */
  SETOPT(c, CURLOPT_SSL_VERIFYPEER, 1L);
  SETOPT(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (f->ca_file != NULL)
    SETOPT(c, CURLOPT_CAINFO, f->ca_file);
  if (f->ca_path != NULL)
    SETOPT(c, CURLOPT_CAPATH, f->ca_path);
#if LIBCURL_VERSION_NUM >= 0x075500
  SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SETOPT(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  return 0;
}

static void handle_free(fo__handle *h) {
  if (h == NULL)
    return;
  if (h->curl != NULL)
    curl_easy_cleanup(h->curl);
  fo__free(h);
}

static int handle_new(fo_fetcher *f, fo__handle **out) {
  fo__handle *h = fo__calloc(1, sizeof *h);
  if (h == NULL)
    return -ENOMEM;
  /* A seed that differs between handles and runs; jitter needs spread, not secrecy. */
  h->rng = (fo__now_ns() ^ (uint64_t)(uintptr_t)h) | 1;
  h->curl = fo__fault_at(FO__FAULT_CURL) ? NULL : curl_easy_init();
  if (h->curl == NULL) {
    fo__free(h);
    return -ENOMEM;
  }
  int rc = handle_setup(f, h);
  if (rc != 0) {
    handle_free(h);
    return rc;
  }
  *out = h;
  return 0;
}

static int handle_take(fo_fetcher *f, fo__handle **out) {
  pthread_mutex_lock(&f->idle_mu);
  fo__handle *h = f->n_idle > 0 ? f->idle[--f->n_idle] : NULL;
  pthread_mutex_unlock(&f->idle_mu);
  if (h != NULL) {
    *out = h;
    return 0;
  }
  return handle_new(f, out);
}

static void handle_put(fo_fetcher *f, fo__handle *h) {
  pthread_mutex_lock(&f->idle_mu);
  if (f->n_idle < f->threads) {
    f->idle[f->n_idle++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&f->idle_mu);
  handle_free(h); /* one made for a concurrent call, beyond the stack's size */
}

/* ------------------------------------------------------------------ one URL */

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

/* What a finished curl_easy_perform() means for the URL. */
static int classify(CURLcode rc, const fo__xfer *x) {
  switch ((int)rc) {
  case CURLE_OK:
    return 0;
  case CURLE_WRITE_ERROR:
  case CURLE_ABORTED_BY_CALLBACK:
    return x->err != 0 ? x->err : FO_ETRANSPORT;
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
    return is_tls_error(rc) ? FO_ETLS : FO_ETRANSPORT;
  }
}

static int type_matches(const char *ctype, const char *want) {
  return ctype != NULL && strncasecmp(ctype, want, strlen(want)) == 0;
}

static void xfer_reset(fo__xfer *x, size_t max_body) {
  fo__free(x->buf);
  fo__free(x->etag);
  memset(x, 0, sizeof *x);
  x->max_body = max_body;
}

/* Write (or append to) a result's message; cut to fit. vsnprintf keeps the compiler from
 * flagging each cut as a possible truncation: cutting is intended. */
__attribute__((format(printf, 3, 4))) static void msgf(fo_fetch_result *r, int append,
                                                       const char *fmt, ...) {
  size_t l = append ? strlen(r->message) : 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message + l, sizeof r->message - l, fmt, ap);
  va_end(ap);
}

/* One attempt: perform, then turn what happened into err, status, content type and message. */
static int attempt(fo_fetcher *f, fo__handle *h, fo_fetch_result *r) {
  xfer_reset(&h->x, f->max_body);
  h->errbuf[0] = '\0';
  r->status = 0;
  r->content_type[0] = '\0';
  CURLcode rc = curl_easy_perform(h->curl);
  int err = classify(rc, &h->x);
  long status = 0;
  if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
    r->status = status;
  char *ctype = NULL;
  if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != NULL) {
    size_t l = strlen(ctype);
    l = l < sizeof r->content_type - 1 ? l : sizeof r->content_type - 1;
    memcpy(r->content_type, ctype, l);
    r->content_type[l] = '\0';
  }
  if (h->x.has_retry_after)
    r->retry_after_ms = h->x.retry_after_ms;

  if (err == 0 && !(status >= 200 && status <= 299) && status != 304) {
    err = FO_EHTTP;
    msgf(r, 0, "HTTP status %ld%s%s%s", status, r->content_type[0] ? " (" : "", r->content_type,
         r->content_type[0] ? ")" : "");
  } else if (err == 0 && status != 304 && f->accept_type != NULL &&
             !type_matches(ctype, f->accept_type)) {
    err = FO_ECONTENTTYPE;
    msgf(r, 0, "HTTP status %ld with Content-Type '%s', not '%s'", status, r->content_type,
         f->accept_type);
  } else if (err == FO_ETOOBIG) {
    msgf(r, 0, "body larger than the cap of %zu bytes", f->max_body);
  } else if (err == -ENOMEM && rc != CURLE_OUT_OF_MEMORY) {
    msgf(r, 0, "out of memory for the response");
  } else if (err != 0) {
    msgf(r, 0, "%s%s%s", curl_easy_strerror(rc), h->errbuf[0] ? ": " : "", h->errbuf);
  } else {
    r->message[0] = '\0';
  }
  return err;
}

/* Build the If-None-Match header list; NULL etag gives *list NULL. */
static int etag_header(const char *etag, struct curl_slist **list) {
  *list = NULL;
  if (etag == NULL)
    return 0;
  size_t n = strlen(etag);
  if (n == 0 || strpbrk(etag, "\r\n") != NULL || n > 1024)
    return -EINVAL;
  char line[1100];
  snprintf(line, sizeof line, "If-None-Match: %s", etag);
  *list = curl_slist_append(NULL, line);
  return *list == NULL ? -ENOMEM : 0;
}

static void fail_result(fo_fetch_result *r, int err, const char *msg) {
  r->err = err;
  msgf(r, 0, "%s", msg);
}

static void fetch_url(fo_fetcher *f, fo__handle *h, const char *url, const char *etag,
                      fo_fetch_result *r) {
  uint64_t t0 = fo__now_ns();
  struct curl_slist *hdrs = NULL;
  if (url == NULL) {
    fail_result(r, -EINVAL, "URL is NULL");
    return;
  }
  int err = etag_header(etag, &hdrs);
  if (err != 0) {
    fail_result(r, err, err == -ENOMEM ? "out of memory for the request" : "malformed ETag");
    return;
  }
  err = setopt_rc(curl_easy_setopt(h->curl, CURLOPT_URL, url));
  if (err == 0)
    err = setopt_rc(curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs));
  if (err != 0) {
    curl_slist_free_all(hdrs);
    fail_result(r, err, err == -ENOMEM ? "out of memory for the request" : "URL refused");
    return;
  }

  unsigned max_attempts = f->retries + 1;
  for (unsigned a = 1;; a++) {
    if (a > 1) {
      unsigned long delay = fo__backoff_delay(f->backoff_ms, f->backoff_max_ms, a - 1, &h->rng);
      if (h->x.has_retry_after && h->x.retry_after_ms > delay)
        delay = h->x.retry_after_ms;
      fo__sleep_ns((uint64_t)delay * 1000000u);
    }
    if (f->rate_ok)
      fo__rate_wait(&f->rate);
    r->attempts = a;
    err = attempt(f, h, r);
    if (err == 0 || a >= max_attempts || !fo__fetch_retryable(err, r->status))
      break;
    if (h->x.has_retry_after && h->x.retry_after_ms > f->backoff_max_ms) {
      msgf(r, 1, "; Retry-After %lu ms is over the %lu ms cap", h->x.retry_after_ms,
           f->backoff_max_ms);
      break;
    }
  }
  if (err != 0 && r->attempts > 1) {
    msgf(r, 1, " (after %u attempts)", r->attempts);
  }

  r->err = err;
  /* The body of any answer, 2xx or not (a 404 says "Not Found"), unless the transfer broke. */
  int keep = (err == 0 || err == FO_EHTTP || err == FO_ECONTENTTYPE) && r->status != 304;
  if (keep && h->x.buf == NULL) {
    h->x.buf = fo__malloc(1);
    if (h->x.buf == NULL) {
      keep = 0;
      r->err = -ENOMEM;
      fail_result(r, -ENOMEM, "out of memory for the response");
    } else {
      h->x.buf[0] = '\0';
    }
  }
  if (keep) {
    r->body = h->x.buf;
    r->body_len = h->x.len;
    h->x.buf = NULL;
  }
  if (r->err == 0 || r->err == FO_EHTTP || r->err == FO_ECONTENTTYPE) {
    r->etag = h->x.etag;
    h->x.etag = NULL;
  }
  xfer_reset(&h->x, f->max_body);
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
  curl_slist_free_all(hdrs);
  r->elapsed = (double)(fo__now_ns() - t0) * 1e-9;
}

/* ------------------------------------------------------------------ batches */

static void worker(void *arg) {
  fo__batch *b = arg;
  fo__handle *h;
  if (handle_take(b->f, &h) != 0)
    return; /* the URLs go to workers that have a handle; if none has, the caller reports them */
  for (;;) {
    size_t i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
    if (i >= b->n)
      break;
    fetch_url(b->f, h, b->urls[i], b->etags ? b->etags[i] : NULL, &b->results[i]);
    if (b->done != NULL)
      b->done(i, &b->results[i], b->done_arg);
  }
  handle_put(b->f, h);
}

static void result_init(fo_fetch_result *r) {
  memset(r, 0, sizeof *r);
}

int fo_fetch_many(fo_fetcher *f, const char *const *urls, const char *const *etags, size_t n,
                  fo_fetch_result *results, fo_fetch_done_fn done, void *done_arg) {
  if (f == NULL || (n > 0 && (urls == NULL || results == NULL)))
    return -EINVAL;
  for (size_t i = 0; i < n; i++)
    result_init(&results[i]);
  if (n == 0)
    return 0;

  fo__batch b = {f, urls, etags, n, results, done, done_arg, 0};
  fo_tpool_group *g = NULL;
  int rc = fo_tpool_group_create(f->pool, &g);
  /* A wait on the empty group fails at once from a task of this pool: find out before any
   * worker holds a pointer to this stack frame. */
  if (rc == 0)
    rc = fo_tpool_group_wait(g);
  size_t workers = n < f->threads ? n : f->threads;
  size_t started = 0;
  for (; rc == 0 && started < workers; started++) {
    int src = fo_tpool_group_submit(g, worker, &b, FO_FOREVER);
    if (src != 0) {
      if (started == 0)
        rc = src;
      break;
    }
  }
  if (g != NULL) {
    int wrc = fo_tpool_group_wait(g);
    if (rc == 0 && wrc != 0)
      rc = wrc;
    fo_tpool_group_destroy(g);
  }

  /* Indices no worker claimed: no worker could get a handle (or none started). */
  size_t next = __atomic_load_n(&b.next, __ATOMIC_RELAXED);
  int unclaimed_err = rc != 0 ? rc : -ENOMEM;
  for (size_t i = next; i < n; i++) {
    fail_result(&results[i], unclaimed_err,
                unclaimed_err == -ENOMEM ? "out of memory for an easy handle"
                                         : fo_strerror(unclaimed_err));
    if (done != NULL && started > 0)
      done(i, &results[i], done_arg);
  }
  if (rc == 0 && next == 0)
    rc = -ENOMEM;
  if (rc != 0)
    return rc;
  int failed = 0;
  for (size_t i = 0; i < n; i++)
    failed += results[i].err != 0;
  return failed;
}

int fo_fetch_one(fo_fetcher *f, const char *url, const char *etag, fo_fetch_result *result) {
  if (f == NULL || result == NULL)
    return -EINVAL;
  int rc = fo_fetch_many(f, &url, etag ? &etag : NULL, 1, result, NULL, NULL);
  return rc < 0 ? rc : result->err;
}

void fo_fetch_result_free(fo_fetch_result *result) {
  if (result == NULL)
    return;
  fo__free(result->body);
  fo__free(result->etag);
  result_init(result);
}

void fo_fetch_results_free(fo_fetch_result *results, size_t n) {
  if (results == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    fo_fetch_result_free(&results[i]);
}

/* ------------------------------------------------------------------ create, destroy */

/* A string option is NULL (its default) or not empty; its "value" is its length. */
static int string_ok(const char *field, const char *s, fo_opt_error *why) {
  return s == NULL || fo__opt_range(field, s[0] != '\0', 1, LLONG_MAX, why);
}

/* The rate as a value for fo_opt_error: NaN has no integer, so it shows as LLONG_MIN. */
static long long rate_value(double rate) {
  if (!(rate == rate))
    return LLONG_MIN;
  return rate >= 9e18 ? LLONG_MAX : rate <= -9e18 ? LLONG_MIN : (long long)rate;
}

/* The rate, checked as a double: 1e6 + 0.5 is refused but cuts to an accepted integer, so why
 * is filled here rather than by fo__opt_range(). */
static int rate_ok(double rate, fo_opt_error *why) {
  if (rate >= 0.0 && rate <= FO_FETCH_RATE_MAX) /* false for NaN */
    return 1;
  if (why != NULL)
    *why = (fo_opt_error){"rate", 0, (long long)FO_FETCH_RATE_MAX, rate_value(rate)};
  return 0;
}

int fo_fetch_opts_check(const fo_fetch_opts *o, fo_opt_error *why) {
  if (o == NULL)
    return 0;
  /* In the struct's order, so why names the first field refused. A stack above
   * FO_FETCH_STACK_MAX is a unit mistake, not a need; SIZE_MAX / 4 is also at most INT64_MAX / 2,
   * so the body cap fits curl's 64-bit sizes on every board. */
  int ok = fo__opt_urange("threads", o->threads, FO_TPOOL_THREADS_MAX, why) &&
           fo__opt_urange("stack_size", o->stack_size, FO_FETCH_STACK_MAX, why) &&
           fo__opt_range("connect_timeout_ms", o->connect_timeout_ms, 0, FO_FETCH_MS_MAX, why) &&
           fo__opt_range("timeout_ms", o->timeout_ms, 0, FO_FETCH_MS_MAX, why) &&
           fo__opt_urange("retries", o->retries, FO_FETCH_RETRIES_MAX, why) &&
           fo__opt_range("backoff_ms", o->backoff_ms, 0, FO_FETCH_MS_MAX, why) &&
           fo__opt_range("backoff_max_ms", o->backoff_max_ms, 0, FO_FETCH_MS_MAX, why) &&
           rate_ok(o->rate, why) && fo__opt_urange("max_body", o->max_body, SIZE_MAX / 4, why) &&
           string_ok("ca_file", o->ca_file, why) && string_ok("ca_path", o->ca_path, why) &&
           string_ok("user_agent", o->user_agent, why) &&
           string_ok("accept_type", o->accept_type, why);
  return ok ? 0 : -EINVAL;
}

static int copy_opt(const char *s, char **out) {
  *out = NULL;
  if (s == NULL)
    return 0;
  *out = fo__strdup(s);
  return *out ? 0 : -ENOMEM;
}

/* The options with their defaults filled in; fo_fetch_opts_check() has accepted them. */
static void apply_options(fo_fetcher *f, const fo_fetch_opts *o) {
  long bo = o->backoff_ms ? o->backoff_ms : FO_FETCH_BACKOFF_DEFAULT;
  long bomax = o->backoff_max_ms ? o->backoff_max_ms : FO_FETCH_BACKOFF_MAX_DEFAULT;
  f->connect_timeout_ms =
      o->connect_timeout_ms ? o->connect_timeout_ms : FO_FETCH_CONNECT_TIMEOUT_DEFAULT;
  f->timeout_ms = o->timeout_ms ? o->timeout_ms : FO_FETCH_TIMEOUT_DEFAULT;
  f->threads = o->threads ? o->threads : FO_FETCH_THREADS_DEFAULT;
  f->retries = o->retries;
  f->backoff_ms = (unsigned long)bo;
  f->backoff_max_ms = (unsigned long)(bomax < bo ? bo : bomax);
  f->max_body = o->max_body ? o->max_body : FO_FETCH_MAX_BODY_DEFAULT;
}

int fo_fetcher_create(fo_fetcher **out, const fo_fetch_opts *opts) {
  static const fo_fetch_opts defaults;
  if (out == NULL || fo_fetch_opts_check(opts, NULL) != 0)
    return -EINVAL;
  const fo_fetch_opts *o = opts ? opts : &defaults;
  fo_fetcher *f = fo__calloc(1, sizeof *f);
  if (f == NULL)
    return -ENOMEM;
  apply_options(f, o);
  int rc = copy_opt(o->ca_file, &f->ca_file);
  if (rc == 0)
    rc = copy_opt(o->ca_path, &f->ca_path);
  if (rc == 0)
    rc = copy_opt(o->user_agent ? o->user_agent : "fanout/" FO_VERSION_STRING, &f->user_agent);
  if (rc == 0)
    rc = copy_opt(o->accept_type, &f->accept_type);
  if (rc == 0 && (f->idle = fo__calloc(f->threads, sizeof *f->idle)) == NULL)
    rc = -ENOMEM;
  if (rc == 0) {
    rc = -pthread_mutex_init(&f->idle_mu, NULL);
    f->idle_mu_ok = rc == 0;
  }
  if (rc == 0) {
    rc = fo__rate_init(&f->rate, o->rate);
    f->rate_ok = rc == 0;
  }
  if (rc == 0)
    rc = share_create(f);
  if (rc == 0 && o->pool != NULL) {
    f->pool = o->pool;
  } else if (rc == 0) {
    fo_tpool_opts po = {.threads = f->threads,
                        .stack_size = o->stack_size ? o->stack_size : FO_FETCH_STACK_DEFAULT,
                        .name = "fo-fetch"};
    rc = fo_tpool_create(&f->pool, &po);
    f->own_pool = rc == 0;
  }
  if (rc != 0) {
    fo_fetcher_destroy(f);
    return rc;
  }
  /* No limit: skip the limiter's lock on every request. */
  if (o->rate == 0.0) {
    fo__rate_destroy(&f->rate);
    f->rate_ok = 0;
  }
  *out = f;
  return 0;
}

void fo_fetcher_destroy(fo_fetcher *f) {
  if (f == NULL)
    return;
  if (f->own_pool)
    fo_tpool_destroy(f->pool);
  for (unsigned i = 0; i < f->n_idle; i++)
    handle_free(f->idle[i]);
  if (f->share != NULL)
    curl_share_cleanup(f->share);
  for (int i = 0; i < f->share_mu_n; i++)
    pthread_mutex_destroy(&f->share_mu[i]);
  if (f->idle_mu_ok)
    pthread_mutex_destroy(&f->idle_mu);
  if (f->rate_ok)
    fo__rate_destroy(&f->rate);
  fo__free(f->idle);
  fo__free(f->ca_file);
  fo__free(f->ca_path);
  fo__free(f->user_agent);
  fo__free(f->accept_type);
  fo__free(f);
}
