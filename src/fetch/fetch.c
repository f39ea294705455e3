/* The fetcher: libcurl multi handles driven by the thread pool, each running many easy handles.
 * This file holds the fetcher itself (options, create, destroy), libcurl's global state, the
 * share object, the pool of idle easy handles and the stack of idle loops (multi handles with
 * their connections). Calls are jobs (fetch_job.c), run by the engine (fetch_engine.c) as items
 * (fetch_item.c) of attempts (fetch_transfer.c); requests are set up in fetch_request.c and
 * bodies land in fetch_sink.c. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

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
/* ------------------------------------------------------------------ handles */

int fo__setopt_rc(CURLcode rc) {
  if (rc == CURLE_OK)
    return 0;
  return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : FO_EINTERNAL;
}

#define SETOPT(h, opt, val)                                                                        \
  do {                                                                                             \
    int rc_ = fo__setopt_rc(curl_easy_setopt((h), (opt), (val)));                                      \
    if (rc_ != 0)                                                                                  \
      return rc_;                                                                                  \
  } while (0)

static int handle_setup(fo_fetcher *f, fo__handle *h) {
  CURL *c = h->curl;
  SETOPT(c, CURLOPT_NOSIGNAL, 1L);
  SETOPT(c, CURLOPT_SHARE, f->share);
  SETOPT(c, CURLOPT_ERRORBUFFER, h->errbuf);
  SETOPT(c, CURLOPT_WRITEFUNCTION, fo__decode_on_body);
  SETOPT(c, CURLOPT_WRITEDATA, &h->x);
  SETOPT(c, CURLOPT_PRIVATE, (void *)h); /* the engine finds the handle of a finished transfer */
  SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, f->connect_timeout_ms);
  SETOPT(c, CURLOPT_TIMEOUT_MS, f->timeout_ms);
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
  int rc = fo__net_setup(f, h);
  if (rc != 0)
    return rc;
  int trc = fo__time_handle_setup(f, h);
  if (trc != 0)
    return trc;
#if LIBCURL_VERSION_NUM >= 0x075500
  SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SETOPT(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  return fo__tls_handle_setup(&f->tls, h);
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
  h->x.curl = h->curl;
  int rc = handle_setup(f, h);
  if (rc != 0) {
    handle_free(h);
    return rc;
  }
  *out = h;
  return 0;
}

int fo__handle_take(fo_fetcher *f, fo__handle **out) {
  pthread_mutex_lock(&f->idle_mu);
  fo__handle *h = f->n_idle > 0 ? f->idle[--f->n_idle] : NULL;
  pthread_mutex_unlock(&f->idle_mu);
  if (h != NULL) {
    *out = h;
    return 0;
  }
  return handle_new(f, out);
}

void fo__handle_put(fo_fetcher *f, fo__handle *h) {
  pthread_mutex_lock(&f->idle_mu);
  if (f->n_idle < f->max_inflight) {
    f->idle[f->n_idle++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&f->idle_mu);
  handle_free(h); /* one made for a concurrent call, beyond the pool's size */
}

/* ------------------------------------------------------------------ loops */

static void loop_free(fo__loop *l) {
  if (l == NULL)
    return;
  if (l->multi != NULL)
    curl_multi_cleanup(l->multi); /* closes the connections it kept */
  fo__free(l->h);
  fo__free(l->fds); /* after the cleanup, which reports the sockets it closes */
  fo__free(l);
}

static int loop_new(fo_fetcher *f, fo__loop **out) {
  fo__loop *l = fo__calloc(1, sizeof *l);
  if (l == NULL)
    return -ENOMEM;
  l->cap = (f->max_inflight + f->threads - 1) / f->threads;
  /* one block: the slots, then the stack of the idle ones */
  l->h = fo__calloc(2 * (size_t)l->cap, sizeof *l->h);
  if (l->h != NULL)
    l->spare = l->h + l->cap;
  l->multi = fo__fault_at(FO__FAULT_CURLM) ? NULL : curl_multi_init();
  int rc = l->h == NULL || l->multi == NULL ? -ENOMEM : 0;
  /* Idle connections kept: as many as the loop may have transfers, and at least the five
   * (CURLOPT_MAXCONNECTS's default) an easy handle's own cache kept for a worker before, so a
   * worker that goes between an API and a download host keeps both. A multi's default keeps
   * four per easy handle added and shrinks as they leave, so a call's connections would mostly
   * be closed by the time the next call comes. */
  long keep = l->cap > 5 ? (long)l->cap : 5;
  if (rc == 0 && curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, keep) != CURLM_OK)
    rc = FO_EINTERNAL;
  if (rc == 0)
    rc = fo__net_multi_setup(f, l->multi);
  if (rc != 0) {
    loop_free(l);
    return rc;
  }
  *out = l;
  return 0;
}

int fo__loop_take(fo_fetcher *f, fo__loop **out) {
  pthread_mutex_lock(&f->idle_mu);
  fo__loop *l = f->n_loops > 0 ? f->loops[--f->n_loops] : NULL;
  pthread_mutex_unlock(&f->idle_mu);
  if (l != NULL) {
    *out = l;
    return 0;
  }
  return loop_new(f, out);
}

void fo__loop_put(fo_fetcher *f, fo__loop *l) {
  pthread_mutex_lock(&f->idle_mu);
  if (f->n_loops < f->threads) {
    f->loops[f->n_loops++] = l;
    l = NULL;
  }
  pthread_mutex_unlock(&f->idle_mu);
  loop_free(l); /* one made for a concurrent call on a shared pool, beyond the stack's size */
}

/* Write (or append to) a result's message; cut to fit. vsnprintf keeps the compiler from
 * flagging each cut as a possible truncation: cutting is intended. A message may quote the
 * server (libcurl's error text, a content type), so control bytes leave as \xNN: a program
 * that prints it does not print the server's escape sequences. */
void fo__msgf(fo_fetch_result *r, int append, const char *fmt, ...) {
  char raw[sizeof r->message];
  size_t l = append ? strlen(r->message) : 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  for (const char *p = raw; *p != '\0' && l + 1 < sizeof r->message; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 0x20 && c != 0x7f) {
      r->message[l++] = (char)c;
    } else if (l + 4 < sizeof r->message) {
      snprintf(r->message + l, 5, "\\x%02x", c);
      l += 4;
    } else {
      break;
    }
  }
  r->message[l] = '\0';
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
           fo__opt_urange("max_inflight", o->max_inflight, FO_FETCH_INFLIGHT_MAX, why) &&
           fo__opt_urange("stack_size", o->stack_size, FO_FETCH_STACK_MAX, why) &&
           fo__opt_range("connect_timeout_ms", o->connect_timeout_ms, 0, FO_FETCH_MS_MAX, why) &&
           fo__opt_range("timeout_ms", o->timeout_ms, 0, FO_FETCH_MS_MAX, why) &&
           fo__opt_urange("retries", o->retries, FO_FETCH_RETRIES_MAX, why) &&
           fo__opt_range("backoff_ms", o->backoff_ms, 0, FO_FETCH_MS_MAX, why) &&
           fo__opt_range("backoff_max_ms", o->backoff_max_ms, 0, FO_FETCH_MS_MAX, why) &&
           rate_ok(o->rate, why) && fo__opt_urange("max_body", o->max_body, SIZE_MAX / 4, why) &&
           string_ok("ca_file", o->ca_file, why) && string_ok("ca_path", o->ca_path, why) &&
           string_ok("user_agent", o->user_agent, why) &&
           string_ok("accept_type", o->accept_type, why) &&
           fo__opt_urange("max_redirs", o->max_redirs, FO_FETCH_REDIRS_MAX, why) &&
           fo__tls_opts_ok(o, why) &&
           fo__net_opts_check(o, why) &&
           fo__time_opts_ok(o, why) && fo__net_http_check(o, why);
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
  f->max_inflight = o->max_inflight ? o->max_inflight : f->threads;
  f->retries = o->retries;
  f->backoff_ms = (unsigned long)bo;
  f->backoff_max_ms = (unsigned long)(bomax < bo ? bo : bomax);
  f->max_body = o->max_body ? o->max_body : FO_FETCH_MAX_BODY_DEFAULT;
  f->max_redirs = o->max_redirs;
  f->compress = !o->no_compress;
  fo__time_options(f, o);
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
  f->file_mode = fo__file_mode();
  int rc = copy_opt(o->ca_file, &f->ca_file);
  if (rc == 0)
    rc = copy_opt(o->ca_path, &f->ca_path);
  if (rc == 0)
    rc = copy_opt(o->user_agent ? o->user_agent : "fanout/" FO_VERSION_STRING, &f->user_agent);
  if (rc == 0)
    rc = copy_opt(o->accept_type, &f->accept_type);
  if (rc == 0)
    rc = fo__tls_copy(&f->tls, o);
  if (rc == 0)
    rc = fo__net_init(&f->net, o);
  if (rc == 0 && (f->idle = fo__calloc(f->max_inflight, sizeof *f->idle)) == NULL)
    rc = -ENOMEM;
  if (rc == 0 && (f->loops = fo__calloc(f->threads, sizeof *f->loops)) == NULL)
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
  /* the loops first: closing their connections may still use the share's locks */
  for (unsigned i = 0; i < f->n_loops; i++)
    loop_free(f->loops[i]);
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
  fo__free(f->loops);
  fo__free(f->ca_file);
  fo__free(f->ca_path);
  fo__free(f->user_agent);
  fo__free(f->accept_type);
  fo__tls_free(&f->tls);
  fo__net_free(&f->net);
  fo__free(f);
}
