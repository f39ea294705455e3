/* The fetcher's private parts: Retry-After parsing, backoff, the retry rule and the rate limiter
 * (which the tests reach directly), then the engine's state shared by fetch.c (fetcher, handles,
 * loops), fetch_job.c (calls), fetch_engine.c (a worker's multi loop), fetch_item.c (an item's
 * state machine), fetch_transfer.c (an attempt's hops), fetch_request.c (methods, headers,
 * bodies), fetch_decode.c (the body's way in), fetch_sink.c (memory, callback, file, digest) and
 * fetch_resume.c. The module exists only where libcurl is. Not installed. */
#ifndef FO_SRC_FETCH_INTERNAL_H
#define FO_SRC_FETCH_INTERNAL_H

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <mbedtls/ecp.h>
#include <mbedtls/sha256.h>
#include <zlib.h>

#include "base/base_internal.h"
#include "fanout/fetch.h"

/* ---- fetch_retry.c */

/* Parse a Retry-After value (RFC 9110 10.2.3): delta-seconds, or an HTTP-date (IMF-fixdate,
 * also RFC 850 and asctime forms) taken relative to now (seconds since the epoch). value need not
 * be NUL-terminated; surrounding blanks are ignored. A date in the past gives 0.
 * Returns 0 and sets *ms, or -EINVAL. Delays are capped at one day. */
int fo__retry_after_parse(const char *value, size_t len, time_t now, unsigned long *ms);

/* The delay before retry number `retry` (1 = the first retry): base * 2^(retry-1), capped at
 * max, then drawn uniformly from its upper half so workers that failed together spread out. */
unsigned long fo__backoff_delay(unsigned long base_ms, unsigned long max_ms, unsigned retry,
                                uint64_t *rng);

/* A small per-worker generator (xorshift64*); state must be nonzero. */
uint64_t fo__rng_next(uint64_t *state);

/* Whether an attempt that ended with err (and HTTP status) is worth repeating: transport
 * errors, timeouts, 5xx and 429. */
int fo__fetch_retryable(int err, long status);

/* ---- fetch_rate.c */

/* Requests spaced evenly at `rate` per second across every thread that shares the limiter: a
 * caller reserves the next free slot under the lock and sleeps outside it until the slot. */
typedef struct fo__rate {
  pthread_mutex_t mu;
  uint64_t interval_ns; /* 0: no limit */
  uint64_t next_ns;     /* CLOCK_MONOTONIC time of the next free slot */
} fo__rate;

/* rate 0 means no limit. Returns 0, -EINVAL (negative, not finite or above 1e9), or a
 * pthread_mutex_init error negated. */
int fo__rate_init(fo__rate *r, double rate);
void fo__rate_destroy(fo__rate *r);
/* The slot for a request made at now_ns: the returned time is >= now_ns and at least one
 * interval after the previous slot handed out. */
uint64_t fo__rate_reserve(fo__rate *r, uint64_t now_ns);

/* A sleep that resumes after signals (fetch_job.c's wait for a task on its way out; the engine
 * never sleeps). The clock, fo__now_ns, is the base module's. */
void fo__sleep_ns(uint64_t ns);

/* Bytes spaced evenly at `rate` per second across every worker of a fetcher (its
 * max_recv_speed_total): each piece books its time after the previous booking, and its transfer
 * is paused until the booking ends (fetch_rate.c says how far the schedule may lag the clock). */
typedef struct fo__flow {
  pthread_mutex_t mu;      /* only when shared */
  unsigned long long rate; /* bytes per second; 0: no limit (an own flow unused) */
  uint64_t next_ns;        /* CLOCK_MONOTONIC time at which the bytes booked so far are paid */
  int shared;              /* several workers book on it: under mu */
} fo__flow;

/* A shared flow: 0, -EINVAL (rate 0 or over FO_FETCH_SPEED_MAX), or a pthread_mutex_init error
 * negated. fo__flow_destroy() undoes it. */
int fo__flow_init(fo__flow *fl, unsigned long long rate);
void fo__flow_destroy(fo__flow *fl);
/* A flow of one transfer's, without a lock (nothing to destroy); rate 0: no limit. */
void fo__flow_init_own(fo__flow *fl, unsigned long long rate);
/* Book n bytes taken at now_ns; returns when they are paid for (the caller waits until then). */
uint64_t fo__flow_reserve(fo__flow *fl, size_t n, uint64_t now_ns);
/* Book n bytes taken at now_ns on both flows (either may be NULL): when both are paid. */
uint64_t fo__flows_book(fo__flow *own, fo__flow *shared, size_t n, uint64_t now_ns);

/* ---- the engine */

/* mbedTLS 3 renamed the digest calls that return a code. */
#if defined(MBEDTLS_VERSION_NUMBER) && MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA_START(c) mbedtls_sha256_starts((c), 0)
#define SHA_UPDATE(c, d, n) mbedtls_sha256_update((c), (d), (n))
#define SHA_FINISH(c, out) mbedtls_sha256_finish((c), (out))
#else
#define SHA_START(c) mbedtls_sha256_starts_ret((c), 0)
#define SHA_UPDATE(c, d, n) mbedtls_sha256_update_ret((c), (d), (n))
#define SHA_FINISH(c, out) mbedtls_sha256_finish_ret((c), (out))
#endif

/* The request body as it is read for one attempt. */
typedef struct fo__body {
  const fo_fetch_req *req;
  int fd;          /* the descriptor read, or -1 */
  int own_fd;      /* opened here from body_path: closed after the item */
  long long start; /* the fd's offset when the item began, for a rewind; -1: cannot seek */
  unsigned long long size, sent; /* size 0 with known 0: unknown (chunked) */
  int known;       /* size is the Content-Length */
  int err;         /* FO_EBODY when a read failed or the body ran short */
  char why[96];    /* what went wrong, for the message */
} fo__body;

enum fo__sink_kind { FO__SINK_MEMORY, FO__SINK_WRITE, FO__SINK_FILE };

/* Where the response body of one attempt goes, with its digest. */
typedef struct fo__sink {
  int kind;
  size_t cap;                 /* 0: no cap */
  unsigned long long bytes;   /* decoded bytes taken */
  unsigned long long expect;  /* Content-Length when the body is not encoded, else 0 */
  char *buf;                  /* memory */
  size_t buf_cap;
  const fo_fetch_req *req;
  int digest;                 /* a SHA-256 is computed */
  mbedtls_sha256_context sha;
  int err;                    /* why a callback stopped the transfer */
  int sys_errno;              /* the errno behind a file error, for the message */
  int discard;                /* the response is no 2xx: its body is not the file's */
  /* file (fetch_files.c): every name below is an entry of dirfd, the output's directory, opened
   * once so the files of one item stay in one directory whatever happens to its path */
  int dirfd;
  const char *base;           /* the output's last component, inside req->output */
  unsigned mode;              /* the finished file's: 0666 & ~umask */
  char prefix[NAME_MAX + 1];  /* "." + base, or base cut and hashed to leave room for suffixes */
  char tmp[NAME_MAX + 1];     /* the file written (a temporary or the partial); "" none */
  int fd;                     /* tmp's descriptor, locked (flock) while it is in use */
  char bad[NAME_MAX + 1];     /* the entry an error is about; "" the output */
  /* resume (fetch_resume.c): tmp is ".NAME.part", its validator in ".NAME.part.tag" */
  int resume;
  char tag[NAME_MAX + 1];     /* "" none */
  int tag_fd;
  unsigned long long part_dev, part_ino; /* the partial file, which the validator file names */
  char validator[256];        /* the partial file's ETag or Last-Modified; "" none */
  unsigned long long have;    /* bytes on disk when the attempt started */
  int ranged;                 /* this attempt asked for bytes from `have` */
  unsigned long long resumed; /* bytes the last attempt did not fetch again */
  char digest_got[65];        /* the SHA-256 of a body that did not match, in hex; "" */
} fo__sink;

/* Decoding of a gzip or deflate body as it streams (fetch_decode.c). */
typedef struct fo__decode {
  int on;    /* inflating: the response said gzip or deflate */
  int ended; /* the compressed stream reached its end */
  int raw;   /* raw deflate (no zlib header), tried when a "deflate" body lacks one */
  z_stream z;
} fo__decode;

/* The state of one transfer, reached from libcurl's callbacks. */
typedef struct fo__xfer {
  fo__sink sink;
  fo__body body;
  fo__decode dec;
  int encoded; /* the response has a Content-Encoding: 1 gzip or deflate, 2 another */
  long status;  /* of the response whose headers are arriving */
  long long range_start; /* its Content-Range's first byte; -1 none */
  char last_modified[64];
  struct curl_slist *hdrs; /* the header list of the hop being made, owned */
  /* fetch_header.c: the answer as the server describes it, checked against the request */
  long long range_from;             /* the byte this request's Range starts at; -1: no Range */
  long long range_end, range_total; /* Content-Range's last byte and total; -1 none or '*' */
  long long length;                 /* Content-Length; -1 none */
  size_t header_bytes;              /* header bytes of this request's responses so far */
  int headers_done;                 /* the final response's headers have all arrived */
  const char *why;                  /* what the server did wrong, for the message; NULL */
  char *etag;
  int has_retry_after;
  unsigned long retry_after_ms;
  fo__flow *flow; /* the fetcher's byte rate, paid for each piece of body; NULL: none */
  fo__flow own;   /* this transfer's byte rate (max_recv_speed); rate 0: none */
  uint64_t pause_until; /* the bytes taken are paid at this time: paused till then; 0 not */
  CURL *curl;     /* the handle the callbacks run for (to pause it) */
} fo__xfer;

/* The fetcher's credentials (fetch_tls.c): copies of the options, each blob followed by a NUL
 * byte that is not counted (mbedTLS parses PEM only with it). */
typedef struct fo__tls {
  char *client_cert, *client_key, *key_password, *crl_file, *pinned_pubkey;
  unsigned char *cert_blob, *key_blob, *ca_blob;
  size_t cert_len, key_len, ca_len;
  fo_fetch_tls_fn hook;
  void *hook_arg;
  int no_default_capath, no_default_cainfo; /* the caller named its CAs: libcurl's go */
  int mbedtls;   /* libcurl runs on mbedTLS: its SSL context callback gets mbedtls_ssl_config */
  mbedtls_ecp_group_id curves[24]; /* mbedTLS 2's curves, P-256 first, NONE-ended */
} fo__tls;
/* The fetcher's network policy (fetch_net.c), copied from its options. */
typedef struct fo__net {
  char *proxy, *noproxy, *proxy_user, *proxy_password, *interface;
  int proxy_env;
  int ip_version;
  unsigned long long max_recv_speed;
  fo__flow flow; /* max_recv_speed_total */
  int flow_ok;
  unsigned http_version;         /* FO_FETCH_HTTP_* as given */
  unsigned max_host_connections; /* 0: no limit */
  int h2;                        /* HTTP/2 is offered over TLS: asked for and libcurl has it */
} fo__net;
/* fetch_time.c: what libcurl's progress callback checks for one transfer (cancel, the request's
 * watch, the stall limit) and the bounds of the call it belongs to. */
#define FO__STALL_SLOTS 32
/* One item handed to the engine by the call it works for. */
typedef struct fo__claim {
  size_t index;
  const fo_fetch_req *req; /* the item's request: for fo_fetch_many(), &own */
  fo_fetch_req own;
  fo_fetch_result *result;
  int final;               /* the result is final already (refused before the call began) */
} fo__claim;

/* A call's work as the engine sees it (fetch_job.c makes it, fetch_engine.c runs it). The
 * engine reaches the call only through these pointers, never by name, so calls between the
 * files go one way. Read-only for the engine but the atomic flags. */
typedef struct fo__work {
  int (*claim)(void *call, fo__claim *c); /* 1: c is the next item; 0: none is left */
  void (*done)(void *call, size_t index); /* the item's result is final (exactly once each) */
  void *call;
  unsigned long gen;       /* fo_fetcher.cancel_gen at the call's start */
  uint64_t deadline_ns;    /* the call's deadline (fo__now_ns clock); 0: none */
  const int *cancel;       /* atomic: nonzero once fo_fetch_job_cancel() stopped the whole call */
  const unsigned char *item_cancel; /* atomic, one per item: fo_fetch_job_cancel() of one */
} fo__work;

typedef struct fo__watch {
  fo_fetcher *f;
  const fo__work *work;    /* the call the item belongs to: its cancel flags and deadline */
  size_t index;            /* the item's index in it */
  const fo_fetch_req *req; /* the item's (its watch callback) */
  int limit;               /* what this hop's CURLOPT_TIMEOUT_MS is: FO__LIMIT_* */
  int stop;                /* why the progress callback stopped the transfer: FO__STOP_* */
  uint64_t checked_ns;     /* when the checks of a running hop last ran (fetch_time.c) */
  /* the stall limit: bytes moved per slot of stall_time_ms / FO__STALL_SLOTS, this hop */
  uint64_t t0_ns, slot_ns, slot; /* hop start, slot length, index of the current slot */
  unsigned long long moved;      /* bytes received and sent by this hop at the last check */
  unsigned long long slots[FO__STALL_SLOTS];
} fo__watch;
#define FO__LIMIT_NONE 0
#define FO__LIMIT_ATTEMPT 1  /* timeout_ms */
#define FO__LIMIT_DEADLINE 2 /* the call's deadline came first */
#define FO__STOP_CANCEL 1    /* fo_fetcher_cancel() */
#define FO__STOP_WATCH 2     /* the request's watch callback */
#define FO__STOP_STALL 3     /* the stall limit */
#define FO__STOP_JOB 4       /* fo_fetch_job_cancel(), of the call or of the item */

/* The item a handle runs, as the state machine of fetch_item.c sees it: waiting for its backoff
 * or its rate slot (a timer of the worker's loop), in a transfer (in the worker's multi
 * handle, maybe paused), or done. */
typedef struct fo__run {
  int phase;              /* FO__RUN_* */
  fo__claim claim;        /* the item; claim.req points at claim.own for fo_fetch_many() */
  CURLM *multi;           /* the worker's, where the transfers of the item run */
  uint64_t t0_ns;         /* the item's start, for its elapsed time */
  uint64_t first_ns;      /* its first attempt's wait, for the retry window */
  uint64_t wake_ns;       /* FO__RUN_BACKOFF, FO__RUN_RATE: when the wait ends */
  unsigned attempt;       /* the attempt under way or waited for; 1 = the first */
  unsigned hops;          /* redirects followed by the attempt */
  int redone;             /* the attempt asked again for the whole body after a 416 */
  int err;                /* the last attempt's result */
  struct curl_slist *range_hdrs; /* the hop's headers with If-Range, while it is in flight */
} fo__run;
#define FO__RUN_IDLE 0    /* no item: the worker may start one */
#define FO__RUN_BACKOFF 1 /* waiting before a retry */
#define FO__RUN_RATE 2    /* waiting for the rate limiter's slot */
#define FO__RUN_XFER 3    /* a hop in the multi handle */
#define FO__RUN_DONE 4    /* the result is final: the worker reports it */

typedef struct fo__handle {
  CURL *curl;
  fo__xfer x;
  fo__watch watch;
  fo__run run;
  uint64_t rng;
  char errbuf[CURL_ERROR_SIZE];
  /* -- credentials (fetch_tls.c) */
  const fo__tls *tls;
  int tls_ok;        /* the credentials were read and checked once on this handle */
  int tls_hook_rc;   /* what the TLS hook returned for the last connection; 0 none */
  int tls_req_pins;  /* the pins in force are the request's, not the fetcher's */
  int tls_pins_n;    /* how many pins are in force */
  char tls_why[160]; /* why the credentials were refused */
} fo__handle;

struct fo_fetcher {
  fo_tpool *pool;
  int own_pool;
  unsigned threads;
  unsigned max_inflight; /* transfers in flight across the workers (fo_fetch_opts) */
  long connect_timeout_ms, timeout_ms;
  unsigned retries;
  unsigned long backoff_ms, backoff_max_ms;
  size_t max_body;
  int compress; /* Accept-Encoding is sent: asked for and libcurl has zlib */
  unsigned max_redirs;
  char *ca_file, *ca_path, *user_agent, *accept_type;
  fo__rate rate;
  int rate_ok;
  CURLSH *share;
  pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
  int share_mu_n;
  pthread_mutex_t idle_mu;
  int idle_mu_ok;
  fo__handle **idle; /* a stack of up to max_inflight easy handles, under idle_mu */
  unsigned n_idle;
  struct fo__loop **loops; /* a stack of up to `threads` idle loops (multi handles with live
                              connections), under idle_mu */
  unsigned n_loops;
  unsigned file_mode; /* of finished output files: 0666 & ~umask at create (fo__file_mode) */
  fo__tls tls;        /* -- credentials */
  fo__net net;
  /* -- time limits and cancel (fetch_time.c) */
  long stall_time_ms; /* 0: no stall limit */
  unsigned long stall_speed;
  long keepalive_s;   /* 0: off */
  long deadline_ms, retry_window_ms; /* 0: none */
  unsigned long cancel_gen; /* atomic: fo_fetcher_cancel() adds one */
};

/* What a worker runs its transfers in: a multi handle, kept with its connections between calls,
 * and room for the easy handles of its transfers in flight. The sockets and the timer are what
 * libcurl's socket interface told the loop (fetch_engine.c); they stay with the multi, which
 * keeps its sockets registered while the loop sits idle, whichever worker takes it next. */
typedef struct fo__loop {
  CURLM *multi;
  fo__handle **h;     /* cap of them; the first n taken for the call being run */
  fo__handle **spare; /* the idle ones among those n, a stack (in h's block, after its cap) */
  unsigned cap, n, n_spare;
  struct pollfd *fds; /* the sockets libcurl wants watched, n_fds of fds_cap; each knows its
                         slot through curl_multi_assign() */
  unsigned n_fds, fds_cap;
  uint64_t timer_ns;  /* libcurl's next timeout (fo__now_ns clock); 0: none */
  int watched;        /* the multi reports its sockets and timer here (set at the first call) */
  int nomem;          /* a socket could not be watched: libcurl fails the multi's transfers */
} fo__loop;

/* fetch.c */
int fo__setopt_rc(CURLcode rc);
int fo__handle_take(fo_fetcher *f, fo__handle **out);
void fo__handle_put(fo_fetcher *f, fo__handle *h);
/* A loop with room for ceil(max_inflight / threads) transfers: an idle one, or a new one (its
 * multi set up by fo__net_multi_setup). 0 or -ENOMEM. */
int fo__loop_take(fo_fetcher *f, fo__loop **out);
/* Back on the idle stack (every easy handle out of it, n 0), or freed beyond `threads`. */
void fo__loop_put(fo_fetcher *f, fo__loop *l);
void fo__msgf(fo_fetch_result *r, int append, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* fetch_request.c: set the handle up for req (method, headers, body) at its own URL; x->hdrs
 * gets the header list, freed by the next hop or after the item. Returns 0, -EINVAL with *what
 * naming the problem, FO_EBODY (the body file cannot be opened; body->why says why), -ENOMEM. */
int fo__request_apply(fo_fetcher *f, fo__handle *h, const fo_fetch_req *req, const char **what);
/* fo__request_hop() flags: the hop leads to another origin (only the headers the caller marked
 * forwardable go), or turns the request into a GET without its body (after a 303). */
#define FO__HOP_CROSS 0x1
#define FO__HOP_GET 0x2
/* Point the handle at url for one hop of the item (the first, or a redirect's): URL, method,
 * body and a new header list. 0, -ENOMEM, FO_EINTERNAL. */
int fo__request_hop(fo__handle *h, const fo_fetch_req *req, const char *url, int flags);
/* fetch_policy.c */
/* Why a caller's header line is refused, or NULL when it is accepted. */
const char *fo__header_refusal(const char *line);
/* Whether every name of a forward_headers list is a token (NULL is an empty list). */
int fo__forward_names_ok(const char *const *names);
/* The header list of one hop (fo__request_hop() flags): If-None-Match, the caller's lines that
 * go there, and a Content-Type for a body without one. 0 or -ENOMEM. */
int fo__headers_build(const fo_fetch_req *req, int flags, struct curl_slist **out);
/* Where a redirect from `from` (the item's first URL) to `to` leads: 0 the same origin (scheme,
 * host, port), 1 another origin, or FO_EREDIRECT (https to http, not http or https, not a URL
 * libcurl can parse), -ENOMEM. */
int fo__redirect_origin(const char *from, const char *to);
/* Rewind the body before an attempt; 0, or -1 when it cannot be (no retry then). */
int fo__body_rewind(fo__body *b);
int fo__body_retryable(const fo__body *b);
void fo__body_close(fo__body *b);
/* Whether the method may be repeated without the caller's word. */
int fo__method_safe(const char *method);

/* fetch_item.c: the state machine of one item on handle h (h->run): its attempts, the waits
 * between them and its end. Each call leaves h->run.phase at FO__RUN_DONE once the result is
 * final (the caller reports it and sets the phase back to FO__RUN_IDLE). */
/* Start the claimed item c (h idle, h->run.multi and h->watch.work set). */
void fo__item_start(fo_fetcher *f, fo__handle *h, const fo__claim *c);
/* A hop of h ended (curl_multi_info_read's CURLMSG_DONE, h taken out of the multi first). */
void fo__item_xfer_done(fo_fetcher *f, fo__handle *h, CURLcode rc);
/* The loop's turn at now: a wait that ends, a pause that ends, a cancel seen. */
void fo__item_tick(fo_fetcher *f, fo__handle *h, uint64_t now);
/* When h needs its next turn though nothing happens on the network; 0: no timer. */
uint64_t fo__item_wake(const fo__handle *h);

/* fetch_transfer.c: one attempt of an item, a chain of redirect hops in the worker's multi. */
/* What attempt_* return while a hop is in flight (a result is <= 0). */
#define FO__INFLIGHT 1
/* Per item, before its first attempt: the callbacks and sizes of its transfers. */
void fo__transfer_setup(fo_fetcher *f, fo__handle *h, const fo_fetch_req *req);
/* Begin an attempt: sink and body back to the start, the first hop added to the multi.
 * FO__INFLIGHT, or the attempt's err (0 or negative) with r's message written. */
int fo__attempt_start(fo_fetcher *f, fo__handle *h, fo_fetch_result *r);
/* A hop ended with rc (h out of the multi): the next hop (FO__INFLIGHT), or the attempt's err
 * with status, type, bytes and message in r. */
int fo__attempt_hop_done(fo_fetcher *f, fo__handle *h, fo_fetch_result *r, CURLcode rc);
/* The message of a sink's error (cap, digest, file) into r. */
void fo__sink_message(fo_fetch_result *r, const fo__sink *s, int err);
/* A result that failed without a transfer: err and msg, nothing else. */
void fo__fail_result(fo_fetch_result *r, int err, const char *msg);

/* fetch_engine.c: run a call's items on the calling worker thread until w->claim() has none
 * left, up to ceil(max_inflight / threads) at once in the worker's multi handle, each reported
 * through w->done(). 0, or -ENOMEM when the worker could get no loop or no easy handle (it
 * claimed nothing: the call's other workers, or the call, see to its items). */
int fo__engine_run(fo_fetcher *f, const fo__work *w);

/* fetch_sink.c */
/* Parse 64 hex digits into 32 bytes; 0 or -1. */
int fo__sha256_parse(const char *hex, unsigned char out[32]);
/* Make the sink for req (for an output: its directory checked, its temporary or partial file
 * created); mode is the finished file's. 0 or a negative errno, FO_EUNSAFE, -EBUSY. */
int fo__sink_open(fo__sink *s, const fo_fetch_req *req, size_t cap, unsigned mode);
/* Start an attempt over: empty buffer or file, fresh digest. 0 or a negative errno. */
int fo__sink_restart(fo__sink *s);
/* At the end of a 2xx response's headers, before its body: a resumed file decides whether the
 * body appends or starts again (fo__resume_decide). 0 or the code that stops the attempt. */
int fo__sink_answer(fo__xfer *x);
/* The server has no bytes past the partial file's (416): forget them. */
void fo__sink_range_refused(fo__sink *s);
/* After the last attempt: for a success, check the digest and move the file into place;
 * returns 0, FO_EDIGEST or a negative errno. Releases the temporary, but a resumed file's
 * partial body stays after a failure (err, status) worth retrying. */
int fo__sink_finish(fo__sink *s, int ok, int err, long status);
/* Free what remains (the buffer, the temporary) after fo__sink_finish(). */
void fo__sink_free(fo__sink *s);
/* Take decoded bytes: cap, store, digest, progress. 0, or the code that stops the item. */
int fo__sink_take(fo__xfer *x, const char *data, size_t n);
/* Write the message of a file error (err FO_EUNSAFE, -EBUSY, or one with sys_errno set), naming
 * the file; 1, or 0 when err is no file error. */
int fo__sink_file_message(fo_fetch_result *r, const fo__sink *s, int err);

/* fetch_resume.c: called by fetch_sink.c alone, which owns the resume state */
/* The partial file and its validator for a resumed output; 0 or a negative errno. When the names
 * are held by files the fetcher did not make, or by a live run, it falls back to a temporary
 * (fo__files_temp) and clears s->resume. */
int fo__resume_open(fo__sink *s);
/* Before an attempt: the bytes kept, hashed again when a digest is asked for; 0 or an error. */
int fo__resume_restart(fo__sink *s);
/* At the end of a 2xx response's headers: append (206 from `have`), or start again (200), and
 * keep the new validator; 0 or the code that stops the attempt. */
int fo__resume_decide(fo__xfer *x);
/* Whether a failed item keeps its partial file for the next run. */
int fo__resume_keep(const fo__sink *s, int err, long status);
/* Forget the partial file: truncate it and clear its validator. */
void fo__resume_forget(fo__sink *s);
/* Release the validator file; remove it first when `remove`. */
void fo__resume_close(fo__sink *s, int remove);

/* fetch_files.c: the files beside an output, made so no one else's file is ever taken for one */
/* 0666 & ~umask, the umask read from /proc/self/status (no umask() call: that would race with
 * other threads); 0644 when it cannot be read. */
unsigned fo__file_mode(void);
/* Open the output's directory, refuse an output name that is no regular file or symlink, and
 * remove the temporaries dead runs left for it. 0, -ENAMETOOLONG, -EISDIR, FO_EUNSAFE (s->bad
 * names the entry), or an errno of the directory. */
int fo__files_open(fo__sink *s);
/* Whether the output name may be replaced now: 0, -EISDIR, FO_EUNSAFE or an errno. */
int fo__files_output_ok(fo__sink *s);
/* The side name prefix + suffix in out; it fits NAME_MAX (checked in fo__files_open). */
void fo__files_name(const fo__sink *s, const char *suffix, char out[NAME_MAX + 1]);
/* Create name with O_EXCL (mode 0600), lock it and check it with fstat: the descriptor, or
 * -EEXIST (the name is taken), -EAGAIN (it was removed or linked under us), another errno. */
int fo__files_create(fo__sink *s, const char *name);
/* Take over a file a run of the fetcher left at name: a regular file of the effective user with
 * one link, whose lock no live run holds. The descriptor (locked), or FO_EUNSAFE (anything
 * else: left alone), -EBUSY (a live run holds it), -ENOENT. st gets its fstat. */
int fo__files_adopt(fo__sink *s, const char *name, struct stat *st);
/* Remove name if it is still fd's file. */
void fo__files_remove(const fo__sink *s, const char *name, int fd);
/* A fresh temporary in s->tmp and s->fd: 0, or FO_EUNSAFE / -EBUSY (every slot held), or an
 * errno. */
int fo__files_temp(fo__sink *s);
/* Move the finished tmp into place as the output: mode, fsync, the output name checked again,
 * rename, close, the directory fsync'ed. 0 or an error (s->bad names the file). */
int fo__files_commit(fo__sink *s);
/* Refuse, before anything starts, the items of one call that write one output: each result
 * gets -EINVAL and a message naming both indexes. Returns 0 or -ENOMEM. */
int fo__files_outputs_check(const fo_fetch_req *reqs, size_t n, fo_fetch_result *results);

/* fetch_tls.c: credentials, from the options check to the message of a failed handshake */
/* Whether pins is a well-formed "sha256//BASE64[;sha256//BASE64]..." list; on failure *bad gets
 * the length of the first malformed pin. */
int fo__tls_pins_ok(const char *pins, size_t *bad);
/* fo_fetch_opts_check()'s part for the credential fields: 1 accepted, 0 refused (why filled). */
int fo__tls_opts_ok(const fo_fetch_opts *o, fo_opt_error *why);
/* Copy the credential options into t: 0, -ENOMEM, -ENOTSUP (a hook, libcurl not on mbedTLS). */
int fo__tls_copy(fo__tls *t, const fo_fetch_opts *o);
/* Free the copies, wiping the key and its password first. */
void fo__tls_free(fo__tls *t);
/* A new handle's TLS options (client certificate, key, CA blob, CRL, hook): 0, -ENOMEM,
 * FO_EINTERNAL (libcurl refused one). */
int fo__tls_handle_setup(const fo__tls *t, fo__handle *h);
/* Before an item: the credentials read and checked (until they pass once on this handle), then
 * the item's pins. 0, FO_ETLS (h->tls_why names the field), -ENOMEM, FO_EINTERNAL. */
int fo__tls_item(fo__handle *h, const fo_fetch_req *req);
/* The message of an attempt that failed with FO_ETLS (libcurl's rc), naming the field at fault
 * when one is: 1 written to out, 0 nothing to say (the caller uses libcurl's text). */
int fo__tls_message(fo__handle *h, CURLcode rc, char *out, size_t cap);
/* fetch_tls_read.c: read every credential as libcurl will, and check that they fit: 0, or
 * FO_ETLS with a sentence naming the field in why, -ENOMEM. */
int fo__tls_read_check(const fo__tls *t, char *why, size_t cap);
/* Whether a blob is PEM text (which mbedTLS parses only with its NUL counted) rather than DER. */
int fo__tls_is_pem(const unsigned char *b, size_t n);

/* fetch_header.c */
/* fo__header_line()'s events besides 0 (an ordinary line) */
#define FO__HDR_NEW 1 /* a status line: a new response begins */
#define FO__HDR_END 2 /* the blank line that ends a response's headers */
/* One header line as libcurl hands it over (CRLF included), into x: status, validators,
 * lengths, Content-Range, encodings, Retry-After. Returns 0, FO__HDR_NEW, FO__HDR_END, or the
 * code that stops the transfer: FO_EHEADER, FO_EPROTOCOL, -ENOMEM. */
int fo__header_line(fo__xfer *x, const char *line, size_t len);
/* At the end of a response's headers: whether the answer fits the request (a 206 only to a
 * Range, from the byte asked for, to the end). 0, or FO_EPROTOCOL with *why saying what. */
int fo__header_answer_check(const fo__xfer *x, const char **why);

/* fetch_time.c: time limits and cancel, checked where libcurl and the retry loop wait */
/* The options of this part with their defaults filled in (fo_fetch_opts_check() accepted them). */
void fo__time_options(fo_fetcher *f, const fo_fetch_opts *o);
/* fo_fetch_opts_check() of this part's fields, in the struct's order: 1 accepted, 0 refused. */
int fo__time_opts_ok(const fo_fetch_opts *o, fo_opt_error *why);
/* A new handle: keep-alive and the progress callback. 0, -ENOMEM, FO_EINTERNAL. */
int fo__time_handle_setup(fo_fetcher *f, fo__handle *h);
/* The work's generation and deadline, read once at the call's start. */
void fo__time_call_start(const fo_fetcher *f, fo__work *w);
/* Before an item starts: 0, -ECANCELED (the call or the item was cancelled: *stop says by whom,
 * FO__STOP_CANCEL or FO__STOP_JOB) or -ETIMEDOUT (the call's deadline passed). */
int fo__time_item_check(const fo_fetcher *f, const fo__work *w, size_t index, int *stop);
/* Before each hop is added to the multi: the stall window starts over and CURLOPT_TIMEOUT_MS
 * is the nearer of timeout_ms and the call's deadline. */
void fo__time_hop(fo_fetcher *f, fo__handle *h);
/* Before attempt a (1 = the first) of an item whose first attempt was asked for at item_t0_ns:
 * when its backoff (delay_ms, a > 1) ends, in *until. 0 to wait until then; -ECANCELED,
 * -ETIMEDOUT (the deadline would pass first: not waited for), or 1 (the retry window would
 * pass first: no retry). */
int fo__time_backoff(fo_fetcher *f, fo__handle *h, unsigned a, uint64_t item_t0_ns,
                     unsigned long delay_ms, uint64_t *until);
/* After the backoff: the rate limiter's slot for the attempt in *slot (now without a limiter).
 * 0, -ECANCELED, or -ETIMEDOUT (the slot is past the deadline). */
int fo__time_rate_slot(fo_fetcher *f, fo__handle *h, uint64_t *slot);
/* Whether the call or h's item is cancelled: 0, or the watch's stop (FO__STOP_CANCEL or
 * FO__STOP_JOB), which is then set. Checked by the loop at every turn. */
int fo__time_cancelled(fo_fetcher *f, fo__handle *h);
/* The checks of libcurl's progress callback (cancel, the request's watch, the stall limit) for
 * h's hop, made by the loop at now when libcurl has not called it for 50 ms: libcurl calls it
 * only for a transfer that it runs. 0, or nonzero to stop the hop (as the callback would). */
int fo__time_quiet(fo_fetcher *f, fo__handle *h, uint64_t now);
/* The message for an attempt that a time limit or a cancel ended with err: 1 with msg filled,
 * or 0 when err is not theirs. */
int fo__time_message(const fo_fetcher *f, const fo__handle *h, int err, char *msg, size_t cap);

/* fetch_decode.c */
/* Inflate a piece of a compressed body into fo__sink_take(); 0 or the code that stops it. */
int fo__decode_body(fo__xfer *x, const char *data, size_t n);
/* After the transfer: 0, or FO_EENCODING when a started stream did not reach its end. */
int fo__decode_finish(fo__xfer *x);
/* Release the inflater (safe when none was started). */
void fo__decode_free(fo__decode *d);
/* libcurl's write callback, the first stage of the body: decode, then fo__sink_take(); userp is
 * the fo__xfer. */
size_t fo__decode_on_body(char *data, size_t size, size_t nmemb, void *userp);

/* fetch_net.c: the network policy (proxy, interface, IP version, byte rates) */
/* The network fields of fo_fetch_opts_check(): 1 when accepted, else 0 with *why filled. */
int fo__net_opts_check(const fo_fetch_opts *o, fo_opt_error *why);
/* Copy the policy from checked options; 0 or -ENOMEM (or a mutex error). fo__net_free() undoes a
 * partial init too. */
int fo__net_init(fo__net *n, const fo_fetch_opts *o);
void fo__net_free(fo__net *n);
/* Set the policy on a new handle (an https proxy is checked against the fetcher's CAs);
 * 0, -ENOMEM or FO_EINTERNAL. */
int fo__net_setup(const fo_fetcher *f, fo__handle *h);
/* The receive buffer for a transfer that would take `size`: smaller under a shared byte rate,
 * and when a worker runs so many transfers that their buffers would pass its budget. */
long fo__net_buffer_size(const fo_fetcher *f, long size);
/* The option a failed transfer's code points at ("interface", "proxy"), or NULL. */
const char *fo__net_field(CURLcode rc);
/* fo_fetch_opts_check() of http_version and max_host_connections (after the time limits, in
 * the struct's order): 1 when accepted, else 0 with *why filled. */
int fo__net_http_check(const fo_fetch_opts *o, fo_opt_error *why);
/* Set a multi handle of the fetcher up: the per-host connection limit
 * (CURLMOPT_MAX_HOST_CONNECTIONS) and multiplexing (CURLMOPT_PIPELINING: CURLPIPE_MULTIPLEX, or
 * none when HTTP/1.1 only). Call once on each new multi handle before adding transfers;
 * 0, -ENOMEM or FO_EINTERNAL. */
int fo__net_multi_setup(const fo_fetcher *f, CURLM *m);
/* The HTTP version of the answer the handle's last transfer got: 10, 11, 20, 30, or 0 when none
 * came (fo_fetch_result.http_version). */
int fo__net_http_version(CURL *c);

/* fetch_skip.c: FO_FETCH_SKIP_EXISTING */
/* 1 when req->output is a regular file (not followed through a symlink) whose SHA-256 is
 * req->sha256; 0 otherwise (absent, another kind of file, unreadable, another digest). */
int fo__skip_present(const fo_fetch_req *req);


#endif /* FO_SRC_FETCH_INTERNAL_H */
