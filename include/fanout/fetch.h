/**
 * @file fetch.h
 * Many HTTP(S) requests at once on a thread pool, with libcurl.
 *
 * A fetcher runs on a fixed pool of threads, each worker driving many transfers at once through a
 * libcurl multi handle: up to max_inflight transfers in flight across its workers (by default one
 * per worker). Each worker's multi handle is kept from call to call with its connections, and
 * easy handles are reused from an idle pool; one share object lets every handle share DNS
 * answers and TLS sessions (behind a real mutex per kind of data; connections are not shared
 * between workers, libcurl does not support that between threads). fo_fetch_requests() spreads a
 * list of requests (fo_fetch_req: method, headers, body, where the answer goes) over the pool's
 * workers: each worker takes the next item whenever it has room for one, runs it (with retries,
 * whose waits are timers of its loop, never sleeps that hold up its other transfers) and writes
 * the result into the caller's array at the item's index, so the caller needs no lock to gather
 * results. Every item gets a result, whatever happens to the others. fo_fetch_many() and
 * fo_fetch_one() are the simple form: GETs into memory.
 *
 * Compression. Unless fo_fetch_opts.no_compress, every request but a resumed one sends
 * "Accept-Encoding: gzip, deflate" and the fetcher inflates the body as it streams (with zlib),
 * so caps, files, digests and progress count decoded bytes and a small body that inflates
 * without end stops at the cap.
 *
 * Network policy. By default requests go straight to the server, whatever proxy variables the
 * environment holds (fo_fetch_opts.proxy_env turns them on), from the address and interface the
 * system picks, over IPv4 or IPv6, at full speed; proxy, noproxy, interface, ip_version,
 * max_recv_speed and max_recv_speed_total change that per fetcher.
 *
 * HTTP/2. Over https the fetcher offers HTTP/2 by ALPN when the libcurl in use has it (built
 * with nghttp2: fo_info_get()'s http2), and takes HTTP/1.1 from a server that does not answer
 * with it; the transfers to one host then share one connection, multiplexed: when a worker
 * runs more than one transfer (max_inflight above threads), a call's https items to one host
 * all go to the worker that took the first of them.
 * Cleartext http:// is HTTP/1.1. fo_fetch_opts.http_version asks for HTTP/1.1 only,
 * max_host_connections bounds the connections to a host, and fo_fetch_result.http_version says
 * what each answer came over.
 *
 * TLS. Peers and host names are always verified; there is no option to turn verification off.
 * The CAs are libcurl's default bundle and directory unless ca_file, ca_blob or ca_path is set;
 * then they are the only ones trusted (a libcurl built with a default directory would otherwise
 * keep it beside a CA file, and on mbedTLS parse all of it at each connection). On libcurl built
 * with mbedTLS 2.x, certificates are matched against DNS names only, never IP addresses: use a
 * host name (https://localhost:PORT for local tests), and the fetcher offers the P-256 and
 * P-384 key exchanges before P-521, which mbedTLS 2 lists first (three times the cost of P-256).
 * Credentials (fo_fetch_opts, "credentials"): a client certificate and key, from files or memory,
 * PEM or DER, the key possibly encrypted; a CA bundle from memory; a CRL; public keys the server
 * must have (pins, also per request); and tls_hook, which sees each connection's mbedTLS
 * configuration before its handshake, for a key that never leaves a secure element, TPM or PSA
 * driver. Each is added to verification, none replaces it. The fetcher reads the certificate, the
 * key and the CRL once per worker before its first request, and again after a failure, so a missing
 * file, a wrong password or a key that does not match its certificate fails the item with FO_ETLS
 * and a message that names the field; it never falls back to a connection without the client
 * certificate.
 *
 * Threads. fo_fetch_global_init() (below) must come first. After that, fo_fetch_many() and
 * fo_fetch_one() may be called concurrently on one fetcher; fo_fetcher_destroy() must be the last
 * call on a fetcher, like free(), after every job is freed. fo_fetch_many() waits for its work on
 * the pool: it must not be called from a task of the pool the fetcher runs on (it returns
 * FO_ETASK), nor from a done callback. Done callbacks run on the workers, concurrently with each
 * other. Every callback of a request (write, body_read, watch) and the done callback runs on the
 * worker that drives the transfer, between its other transfers: one that takes long holds up
 * every transfer of that worker, not only its own.
 *
 * Without waiting. fo_fetch_submit() starts a set of requests and returns a job at once; the
 * blocking calls are submit, fo_fetch_job_wait() and fo_fetch_job_free(). A job is followed by
 * callback, by a bounded or unbounded wait, or from an event loop: fo_fetch_job_fd() becomes
 * readable while finished items wait to be handed over by fo_fetch_job_take() on the loop's
 * thread. fo_fetch_job_cancel() stops one item or the whole job, leaving other calls alone.
 *
 * Time limits. Each bounds one thing and is documented where it is set (fo_fetch_opts): the
 * connect timeout (connect_timeout_ms); the stall limit (an attempt fails with -ETIMEDOUT when
 * fewer than stall_speed bytes a second move for stall_time_ms; on by default); TCP keep-alive
 * (keepalive_s, on by default); the whole-attempt limit (timeout_ms: none by default, so a
 * healthy download takes as long as it takes); the whole call's deadline (deadline_ms: items,
 * retries and backoff included); and the time one item may spend retrying (retry_window_ms). A
 * stalled or cut attempt is retried (retries) and resumes (FO_FETCH_RESUME) as any cut transfer.
 *
 * Cancel. fo_fetcher_cancel() stops the calls running on a fetcher, from another thread or a
 * signal handler: items not started end at once with -ECANCELED, running transfers within about
 * a second. A request's watch callback (fo_fetch_req.watch) stops its own item the same way.
 * fo_tpool_cancel() on a pool the fetcher shares (fo_fetch_opts.pool) drops only tasks still
 * queued; see fo_fetcher_cancel() for what that does to a call.
 *
 * Signals. Every handle is set CURLOPT_NOSIGNAL: libcurl neither raises nor catches SIGALRM or
 * SIGPIPE (writes use MSG_NOSIGNAL), so the fetcher is safe in a program with threads.
 *
 * fork(). A fetcher created before fork() must not be used in the child.
 */
#ifndef FANOUT_FETCH_H
#define FANOUT_FETCH_H

#include <errno.h>
#include <stddef.h>

#include "fanout/fanout.h"
#include "fanout/tpool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Worker threads when the options leave it 0. */
#ifndef FO_FETCH_THREADS_DEFAULT
#define FO_FETCH_THREADS_DEFAULT 8
#endif
/** Stack of each thread of the fetcher's own pool when the options leave it 0. A transfer with
 * a TLS handshake runs through libcurl's and mbedTLS's call chains (certificate parsing, key
 * exchange), which this holds with a margin; it is kept apart from FO_TPOOL_STACK_DEFAULT (the
 * same figure today) so a build that shrinks the pool's default keeps the fetcher safe. Only the
 * pages touched cost memory. */
#ifndef FO_FETCH_STACK_DEFAULT
#define FO_FETCH_STACK_DEFAULT (256 * 1024)
#endif
/** Connect timeout when the options leave it 0: long enough for a slow mobile link. */
#ifndef FO_FETCH_CONNECT_TIMEOUT_DEFAULT
#define FO_FETCH_CONNECT_TIMEOUT_DEFAULT 10000
#endif
/** Timeout of one whole attempt, connect included, when the options leave it 0: 0 is no limit.
 * (It was 30 s, which no download longer than 30 s could pass; the stall limit below now ends a
 * dead transfer instead. A build that wants the old bound may define this to 30000.) */
#ifndef FO_FETCH_TIMEOUT_DEFAULT
#define FO_FETCH_TIMEOUT_DEFAULT 0
#endif
/** Stall limit when the options leave it 0: an attempt that moves fewer than
 * FO_FETCH_STALL_SPEED_DEFAULT bytes a second over this many milliseconds fails. Five minutes,
 * as SWUpdate (8 bytes/s for 300 s) and Mender (a 5-minute read stall) ship: a board on a mobile
 * link rides out a handover, a tunnel or a congested cell that far, and a dead peer still ends. */
#ifndef FO_FETCH_STALL_TIME_DEFAULT
#define FO_FETCH_STALL_TIME_DEFAULT 300000
#endif
/** Stall speed when the options leave it 0, in bytes per second: SWUpdate's 8, "almost nothing":
 * any link that works at all passes it, a connection that delivers nothing does not. */
#ifndef FO_FETCH_STALL_SPEED_DEFAULT
#define FO_FETCH_STALL_SPEED_DEFAULT 8
#endif
/** The fastest stall speed accepted, in bytes per second (1 GiB/s). */
#ifndef FO_FETCH_STALL_SPEED_MAX
#define FO_FETCH_STALL_SPEED_MAX (1ul << 30)
#endif
/** TCP keep-alive when the options leave it 0: seconds idle before the first probe, and between
 * probes. curl's own figure for --keepalive-time: one small probe a minute on an idle connection
 * keeps a carrier's NAT mapping alive and finds a dead peer of a kept connection. */
#ifndef FO_FETCH_KEEPALIVE_DEFAULT
#define FO_FETCH_KEEPALIVE_DEFAULT 60
#endif
/** The longest keep-alive period accepted, in seconds (two hours, the kernel's own default). */
#ifndef FO_FETCH_KEEPALIVE_MAX
#define FO_FETCH_KEEPALIVE_MAX 7200
#endif
/** First retry delay when the options leave it 0; it doubles with each retry. */
#ifndef FO_FETCH_BACKOFF_DEFAULT
#define FO_FETCH_BACKOFF_DEFAULT 200
#endif
/** Longest retry delay when the options leave it 0, Retry-After included. */
#ifndef FO_FETCH_BACKOFF_MAX_DEFAULT
#define FO_FETCH_BACKOFF_MAX_DEFAULT 10000
#endif
/** Body size cap when the options leave it 0: the whole real Starlink list (about 4.5 MB) fits
 * with room to spare, and a board still bounds what one response may take. */
#ifndef FO_FETCH_MAX_BODY_DEFAULT
#define FO_FETCH_MAX_BODY_DEFAULT (16u * 1024 * 1024)
#endif
/** The most retries one URL may be given: beyond this a retry loop is a bug, not resilience. */
#ifndef FO_FETCH_RETRIES_MAX
#define FO_FETCH_RETRIES_MAX 20
#endif
/** The largest stack_size accepted: a stack this big is a unit mistake, not a need. */
#ifndef FO_FETCH_STACK_MAX
#define FO_FETCH_STACK_MAX (64u * 1024 * 1024)
#endif
/** The longest timeout or backoff the options accept, in milliseconds (one hour). */
#ifndef FO_FETCH_MS_MAX
#define FO_FETCH_MS_MAX 3600000L
#endif
/** The fastest rate limit accepted, in requests per second. */
#ifndef FO_FETCH_RATE_MAX
#define FO_FETCH_RATE_MAX 1e6
#endif

/** The fastest byte rate the options accept (max_recv_speed, max_recv_speed_total), in bytes
 * per second (1 TiB/s): above it the value is a unit mistake. */
#ifndef FO_FETCH_SPEED_MAX
#define FO_FETCH_SPEED_MAX (1ull << 40)
#endif

/** The most redirects the options accept (max_redirs). */
/** The most transfers a fetcher may have in flight (fo_fetch_opts.max_inflight): each takes a
 * libcurl easy handle and its buffers, so a larger number is almost certainly a unit mistake. */
#ifndef FO_FETCH_INFLIGHT_MAX
#define FO_FETCH_INFLIGHT_MAX 65536
#endif

#ifndef FO_FETCH_REDIRS_MAX
#define FO_FETCH_REDIRS_MAX 20
#endif
/** The longest extra header line a request may carry, in bytes. */
#ifndef FO_FETCH_HEADER_MAX
#define FO_FETCH_HEADER_MAX 8192
#endif

/** The longest response header line a server may send, CRLF included, in bytes: a longer one
 * fails the attempt with FO_EHEADER (libcurl itself would hold up to 100 KiB). */
#ifndef FO_FETCH_RESP_LINE_MAX
#define FO_FETCH_RESP_LINE_MAX (16u * 1024)
#endif
/** The most header bytes one request's answer may carry (interim 1xx responses included): more
 * fails the attempt with FO_EHEADER. */
#ifndef FO_FETCH_RESP_HEADERS_MAX
#define FO_FETCH_RESP_HEADERS_MAX (64u * 1024)
#endif
/** The longest ETag kept from a response, sent back in If-None-Match or If-Range and returned
 * in fo_fetch_result.etag. */
#ifndef FO_FETCH_VALIDATOR_MAX
#define FO_FETCH_VALIDATOR_MAX 255
#endif

/** The largest certificate, key or CA bundle given from memory (fo_fetch_opts *_blob), bytes. */
#ifndef FO_FETCH_TLS_BLOB_MAX
#define FO_FETCH_TLS_BLOB_MAX (4u * 1024 * 1024)
#endif

/** fo_fetch_opts.http_version: HTTP/2 over TLS, agreed by ALPN, where the libcurl in use has it
 * (fo_info.http2), else HTTP/1.1; cleartext http:// stays HTTP/1.1 (no upgrade is offered). */
#define FO_FETCH_HTTP_DEFAULT 0
/** fo_fetch_opts.http_version: HTTP/1.1 only, over TLS too (a server or middlebox that
 * mishandles HTTP/2; one connection per transfer in flight). */
#define FO_FETCH_HTTP_1_1 1

/** The most connections to one host the options accept (max_host_connections): more is a
 * mistake, not a need (a server limits one client far below it). */
#ifndef FO_FETCH_HOST_CONNECTIONS_MAX
#define FO_FETCH_HOST_CONNECTIONS_MAX 1024
#endif

/** A fetcher. Opaque. */
typedef struct fo_fetcher fo_fetcher;

/**
 * The TLS hook (fo_fetch_opts.tls_hook): called on a worker for each new TLS connection, after
 * libcurl has set the connection's mbedTLS configuration up (the CA, the CRL, and client_cert
 * with client_key when they are set) and before the handshake; not for a connection reused.
 * @param ssl_config the connection's `mbedtls_ssl_config *`, from libcurl's SSL context
 *        callback, of the mbedTLS libcurl is built on (the caller compiles against the same
 *        mbedTLS headers). A client key the TLS library must not hold goes in with
 *        mbedtls_ssl_conf_own_cert() and a key whose signing is a callback: an RSA_ALT key
 *        (mbedtls_pk_setup_rsa_alt(), PKCS#1 v1.5 only: on mbedTLS 3 cap the version to TLS 1.2
 *        with it), or an opaque PSA key on mbedTLS 3. What the hook hands the configuration
 *        must stay valid until fo_fetcher_destroy() returns. With client_cert set, the
 *        configuration holds that certificate already and a client sends the first one given:
 *        a hook that brings its own key leaves client_cert and client_key unset.
 * @return 0 to go on; any other value stops the connection: the item fails with FO_ETLS and its
 *         message names tls_hook and the value.
 * Called concurrently from every worker; it must not call the fetcher.
 */
typedef int (*fo_fetch_tls_fn)(void *ssl_config, void *arg);

/** Options for fo_fetcher_create(). Zero (or NULL) in any field means its default; the ranges
 * are checked by fo_fetch_opts_check(). The time limits here bound the work of a request, they
 * are not waits of the caller's: 0 is their default, not "do not wait". A string field is NULL
 * or not empty. */
typedef struct fo_fetch_opts {
  unsigned threads;        /**< worker threads, each running up to max_inflight / threads
                                transfers (rounded up), 1..FO_TPOOL_THREADS_MAX; 0:
                                FO_FETCH_THREADS_DEFAULT */
  fo_tpool *pool;          /**< run on this pool (not owned; must outlive the fetcher);
                                NULL: the fetcher makes its own pool of `threads` threads */
  size_t stack_size;       /**< stack per thread of the own pool (ignored with `pool`), up
                                to FO_FETCH_STACK_MAX; 0: FO_FETCH_STACK_DEFAULT */
  long connect_timeout_ms; /**< 1..FO_FETCH_MS_MAX; 0: FO_FETCH_CONNECT_TIMEOUT_DEFAULT */
  long timeout_ms;         /**< whole attempt (connect, request, every byte of the answer),
                                1..FO_FETCH_MS_MAX; 0: FO_FETCH_TIMEOUT_DEFAULT, which is no
                                limit (it was 30 s before 0.4: see stall_time_ms); the attempt
                                fails with -ETIMEDOUT */
  unsigned retries;        /**< extra attempts after a transport error, a timeout, a 5xx or a 429,
                                0..FO_FETCH_RETRIES_MAX; 0: no retry */
  long backoff_ms;         /**< first retry delay; doubles each retry, with jitter (each delay
                                is drawn from its upper half); 0: FO_FETCH_BACKOFF_DEFAULT */
  long backoff_max_ms;     /**< cap on one delay; a Retry-After longer than this is not waited
                                for: the URL fails with its 429 or 503; 0:
                                FO_FETCH_BACKOFF_MAX_DEFAULT */
  double rate;             /**< requests per second for the whole fetcher (every attempt counts),
                                spaced evenly; 0: no limit */
  size_t max_body;         /**< bytes; a larger body fails the URL with FO_ETOOBIG, and no more
                                than this is ever held; 0: FO_FETCH_MAX_BODY_DEFAULT */
  const char *ca_file;     /**< PEM bundle of trusted CAs; copied; NULL: libcurl's default.
                                Set, it and ca_path are the only CAs (see "TLS" above) */
  const char *ca_path;     /**< directory of hashed CA certificates; copied; NULL: default */
  const char *user_agent;  /**< copied; NULL: "fanout/VERSION" */
  const char *accept_type; /**< when set, a 2xx whose Content-Type does not start with this
                                (compared without case) fails with FO_ECONTENTTYPE: a CDN's HTML
                                challenge page is not data; copied */
  int no_compress;         /**< nonzero: no Accept-Encoding is sent and bodies arrive as the server
                                stores them; 0: "Accept-Encoding: gzip, deflate" (when libcurl
                                has zlib), decoded as it streams; caps, files and digests always
                                see decoded bytes */
  unsigned max_redirs;     /**< follow up to this many redirects (301, 302, 303, 307, 308 with
                                a Location), 0..FO_FETCH_REDIRS_MAX; 0: none (a 3xx is the
                                answer). One more fails the item with FO_EREDIRECT, as does a
                                redirect from https to http or to another scheme. A 303 turns
                                the request into a GET without body; the others keep method and
                                body. To another origin (scheme, host or port) go only the
                                caller's headers named in fo_fetch_req.forward_headers (never
                                Authorization, Cookie, Proxy-Authorization), and a body only
                                with FO_FETCH_BODY_CROSS_HOST (else FO_EREDIRECT) */
  /* -- credentials */
  const char *client_cert;      /**< the client certificate's file: PEM (the certificate, then
                                     any intermediates) or DER, told apart by content; needs
                                     a key (client_key or client_key_blob); copied. libcurl reads
                                     it at each new connection */
  const char *client_key;       /**< its private key's file: RSA or EC, PKCS#1, SEC1 or PKCS#8,
                                     PEM or DER, encrypted (with key_password) or not; needs a
                                     certificate; copied */
  const void *client_cert_blob; /**< the client certificate in memory instead of a file (PEM or
                                     DER); copied at create */
  size_t client_cert_blob_len;  /**< its bytes, 1..FO_FETCH_TLS_BLOB_MAX */
  const void *client_key_blob;  /**< the key in memory instead of a file; copied at create and
                                     wiped at destroy */
  size_t client_key_blob_len;   /**< its bytes, 1..FO_FETCH_TLS_BLOB_MAX */
  const char *key_password;     /**< the password of an encrypted key (PEM with DEK-Info, or
                                     PKCS#8 with the ciphers the mbedTLS build knows); only with a
                                     key; copied, wiped at destroy */
  const void *ca_blob;          /**< trusted CAs in memory (PEM certificates or one DER), in
                                     place of ca_file (not with it); ca_path still adds; copied */
  size_t ca_blob_len;           /**< its bytes, 1..FO_FETCH_TLS_BLOB_MAX */
  const char *crl_file;         /**< a CRL file (PEM or DER) from the issuer of the server's
                                     certificate (or of a CA above it): a certificate of the
                                     server's chain it lists fails the item with FO_ETLS; an
                                     expired CRL fails every item of that issuer; copied */
  const char *pinned_pubkey;    /**< "sha256//BASE64" pins separated by ';': the server's public
                                     key (the SHA-256 of its DER SubjectPublicKeyInfo, in
                                     standard base64, 44 characters) must be one of them, on top
                                     of verification, else FO_ETLS; fo_fetch_req.pinned_pubkey
                                     replaces it for one request; copied */
  fo_fetch_tls_fn tls_hook;     /**< NULL, or called with each new connection's mbedTLS
                                     configuration (see fo_fetch_tls_fn); libcurl on mbedTLS
                                     only */
  void *tls_hook_arg;           /**< its argument */
  /* -- network policy */
  const char *proxy;       /**< the proxy every request goes through: "http://", "https://" or
                                "socks5h://" HOST[:PORT] (default port 1080 for socks5h, else
                                80 or 443), with "USER:PASSWORD@" before HOST if the proxy asks
                                (%-encoded); a socks5h proxy resolves host names itself, so
                                the device's resolver sees none. Any other scheme, or none, is
                                refused ("proxy"). An https proxy is verified like a server
                                (ca_file, ca_path). copied; NULL: no proxy (but see proxy_env) */
  const char *noproxy;     /**< hosts reached without the proxy: comma-separated names (each
                                matches itself and its subdomains), IP addresses, CIDR ranges
                                ("10.0.0.0/8"), or "*" for every host; copied; NULL: none */
  const char *proxy_user;     /**< the proxy's user name (over one in proxy's URL); copied */
  const char *proxy_password; /**< the proxy's password; copied */
  int proxy_env;           /**< nonzero: when proxy is NULL, the environment's http_proxy,
                                HTTPS_PROXY/https_proxy, ALL_PROXY/all_proxy and
                                NO_PROXY/no_proxy apply as libcurl reads them (any proxy
                                scheme libcurl knows); noproxy, when set, replaces no_proxy.
                                libcurl reads them on the workers at each request: the
                                program must not change its environment while a fetch runs.
                                0 (the default): the environment is ignored, so a variable a
                                shell, a sudo or a CGI left behind never moves a root program's
                                downloads through a proxy the caller did not name */
  const char *interface;   /**< the local end of every connection: "if!NAME" an interface
                                (NAME at most 15 bytes), "host!ADDRESS" a local address or a
                                host name, or a bare word tried as an interface, then as an
                                address or host name; copied; NULL: the system's choice. One
                                that cannot be bound (no such interface, no such local
                                address) fails each item with FO_ETRANSPORT and a message
                                naming "interface" */
  int ip_version;          /**< 4: IPv4 addresses only, 6: IPv6 only, 0: either (libcurl tries
                                both, IPv6 first, and takes the first that connects) */
  unsigned long long max_recv_speed;       /**< bytes per second one transfer may receive,
                                counted on the wire like max_recv_speed_total (the fetcher
                                paces it; libcurl 7.88's own limit overshoots); up to
                                FO_FETCH_SPEED_MAX; 0: no limit */
  unsigned long long max_recv_speed_total; /**< bytes per second the fetcher's transfers may
                                receive together, whatever their number (a cap on the link the
                                device shares); counted on the wire (before decoding), every
                                response's body included; up to FO_FETCH_SPEED_MAX; 0: no limit.
                                Both rates hold within 1 % over 10 s: a transfer over its
                                budget is paused until the bytes are paid for, while its
                                worker's other transfers go on (the attempt's time limits run
                                on while it is paused) */
  /* -- time limits and cancel */
  long stall_time_ms;        /**< the stall limit: an attempt that moves (receives and sends)
                                  fewer than stall_speed bytes a second on average over this
                                  long fails with -ETIMEDOUT (its message says "stalled"),
                                  and is retried and resumed like any timeout. Checked at
                                  least once a second over the last stall_time_ms (in 32
                                  slots: it may end up to 1/32 of it early, never late by more
                                  than a second); waiting for the connection or the answer
                                  counts. 1..FO_FETCH_MS_MAX; 0: FO_FETCH_STALL_TIME_DEFAULT
                                  (5 minutes); -1: no stall limit */
  unsigned long stall_speed; /**< bytes a second, 1..FO_FETCH_STALL_SPEED_MAX; 0:
                                  FO_FETCH_STALL_SPEED_DEFAULT (8) */
  long keepalive_s;          /**< TCP keep-alive on every connection: seconds idle before the
                                  first probe and between probes (the probe count is the
                                  system's), 1..FO_FETCH_KEEPALIVE_MAX; 0:
                                  FO_FETCH_KEEPALIVE_DEFAULT (60); -1: off */
  long deadline_ms;          /**< a bound on each fo_fetch_requests(), fo_fetch_many() and
                                  fo_fetch_one() call, counted from its start: items, retries,
                                  backoff and rate-limit waits included. When it passes, the
                                  running attempts are cut and every item not done fails with
                                  -ETIMEDOUT (the message says "deadline"); a file under
                                  FO_FETCH_RESUME keeps its partial body for the next run.
                                  1..FO_FETCH_MS_MAX; 0: none */
  long retry_window_ms;      /**< the time one item may spend retrying, from the start of its
                                  first attempt: no retry (nor its backoff) starts past it, and
                                  the item ends with its last attempt's error (the message says
                                  so). The attempt running then is not cut. 1..FO_FETCH_MS_MAX;
                                  0: none (retries alone bound the attempts) */
  /* -- the engine */
  unsigned max_inflight;     /**< transfers in flight at once across the fetcher's workers,
                                  whatever their number: each worker drives up to
                                  max_inflight / threads (rounded up) of them through its
                                  libcurl multi handle, and keeps as many connections idle
                                  between calls (at least five). Below threads, each worker
                                  still runs one: the pool's busy workers bound it then. Each
                                  costs memory while in flight and each kept connection while
                                  idle: fo_fetcher_create(3) gives the measured figures.
                                  1..FO_FETCH_INFLIGHT_MAX; 0: threads (one per worker) */
  /* -- HTTP version and connections */
  unsigned http_version;     /**< FO_FETCH_HTTP_DEFAULT (0): HTTP/2 over TLS where libcurl has
                                  it, many transfers to a host multiplexed over one connection;
                                  HTTP/1.1 otherwise and over cleartext. FO_FETCH_HTTP_1_1 (1):
                                  HTTP/1.1 only. fo_fetch_result.http_version tells what each
                                  answer came over */
  unsigned max_host_connections; /**< the most connections open at once to one host (scheme,
                                  host and port) from one worker thread's transfers; more
                                  transfers to it wait for a free one, or share one over
                                  HTTP/2. 1..FO_FETCH_HOST_CONNECTIONS_MAX; 0: no limit */
} fo_fetch_opts;

/** The outcome for one URL. Filled by fo_fetch_many(); release with fo_fetch_result_free(). */
typedef struct fo_fetch_result {
  int err;           /**< 0, or why the URL failed: FO_EHTTP (status not 2xx/304; see
                          status), FO_ETRANSPORT, FO_ETLS (verification, a pin, the client
                          certificate, key, key_password, CRL or tls_hook; the message names the
                          field), -ETIMEDOUT, FO_ETOOBIG, FO_ECONTENTTYPE, -EINVAL (URL NULL
                          or malformed), -ENOMEM, -ECANCELED (fo_fetcher_cancel(),
                          fo_fetch_job_cancel(), or the request's watch callback);
                          -ETIMEDOUT covers timeout_ms, a stall and the deadline; the
                          server's faults: FO_EHEADER (headers over FO_FETCH_RESP_LINE_MAX or
                          FO_FETCH_RESP_HEADERS_MAX), FO_EREDIRECT (a redirect refused: see
                          max_redirs), FO_EPROTOCOL (a status outside 100-599, a reply that is
                          not HTTP, a Transfer-Encoding other than chunked, a 206 to a request
                          without Range or whose Content-Range is not the range asked for);
                          from fo_fetch_requests() also the codes it lists */
  long status;       /**< HTTP status of the last attempt; 0 when no answer came */
  char *body;        /**< the body, NUL-terminated (the NUL is not counted in body_len); set
                          for any status (a 404's "Not Found" too) but NULL on 304 and on
                          errors before or during the body */
  size_t body_len;   /**< bytes in body */
  char *etag;        /**< the response's ETag, or NULL (also when it was not printable ASCII
                          or longer than FO_FETCH_VALIDATOR_MAX); give it back as
                          If-None-Match */
  unsigned attempts; /**< requests made for this URL (1 + retries used); 0 if none was */
  unsigned long retry_after_ms; /**< the last Retry-After the server sent, or 0 */
  double elapsed;        /**< seconds from the first attempt's start to the end, backoff included */
  char content_type[64]; /**< the response's Content-Type, cut to fit; "" when none. A byte
                              outside printable ASCII appears as \xNN */
  char message[192];     /**< a human sentence for err, "" on success; never holds a control
                              byte (one appears as \xNN) */
  unsigned long long bytes; /**< body bytes (decoded) given to the request's sink by the last
                                 attempt: the body's length for memory, what the write callback
                                 or the file received (resumed bytes included) */
  unsigned long long resumed; /**< with FO_FETCH_RESUME: bytes already on disk that the last
                                   attempt did not fetch again (0: it fetched all) */
  /* -- network policy */
  int skipped;        /**< 1: FO_FETCH_SKIP_EXISTING found output already complete and made no
                           request (err 0, attempts 0, status 0, bytes 0); else 0 */
  /* -- HTTP version */
  int http_version;   /**< the HTTP version of the last attempt's answer: 10 (HTTP/1.0), 11
                           (HTTP/1.1), 20 (HTTP/2), 30 (HTTP/3); 0 when no answer came (as
                           status) */
} fo_fetch_result;

/** Where a request's body comes from (fo_fetch_req.body_from). */
typedef enum fo_fetch_body_from {
  FO_FETCH_BODY_NONE = 0, /**< no body */
  FO_FETCH_BODY_MEMORY,   /**< body, body_len bytes (Content-Length) */
  FO_FETCH_BODY_FILE,     /**< the file body_path, opened for each attempt; a regular file goes
                               with Content-Length (its size at open); one that shrinks while
                               sent fails with FO_EBODY */
  FO_FETCH_BODY_FD,       /**< read from body_fd (not closed); body_size bytes (Content-Length),
                               or 0: a regular file's size from its current offset, anything
                               else chunked; retried only if the descriptor can seek back */
  FO_FETCH_BODY_READ      /**< body_read(); body_size bytes, or 0: unknown (chunked); never
                               retried nor redirected (a callback cannot be rewound) */
} fo_fetch_body_from;

/**
 * A request body reader: fill up to len bytes of buf.
 * @return bytes written (1..len), 0 at the end of the body, or a negative code: the item fails
 *         with FO_EBODY (its message names the code).
 */
typedef long (*fo_fetch_read_fn)(void *buf, size_t len, void *arg);

/**
 * A response body consumer, called as the body streams (decoded), in order, on the worker.
 * @return 0 to go on; anything else stops the item with FO_EABORTED.
 */
typedef int (*fo_fetch_write_fn)(const void *data, size_t len, void *arg);

/**
 * Progress of one request, on the worker, after each piece of body reaches the sink.
 * @param bytes decoded body bytes the sink holds so far, counted from the body's first byte:
 *        an attempt that resumes a partial file (FO_FETCH_RESUME) starts from the bytes already
 *        on disk (fo_fetch_result.resumed), not from 0; an attempt that starts over (any retry
 *        without resume, or a server that ignores the Range) starts again from 0. bytes / total
 *        is therefore the share of the whole body, on every attempt
 * @param total the whole body's length when known and the body is not compressed (a resumed
 *        attempt's Content-Length plus the bytes on disk), else 0
 */
typedef void (*fo_fetch_progress_fn)(unsigned long long bytes, unsigned long long total,
                                     void *arg);

/**
 * A request's watch: called on the worker while its transfer runs, after each piece of body
 * reaches the sink and at least once a second in between (while it connects, waits for the
 * answer, or gets nothing), whatever the sink. Unlike fo_fetch_progress_fn it may stop the item.
 * @param bytes, total as fo_fetch_progress_fn
 * @return 0 to go on; anything else stops the item at once with -ECANCELED (not retried; the
 *         message says the watch stopped it). A file under FO_FETCH_RESUME keeps what arrived
 *         for the next run, as after fo_fetcher_cancel(); any other temporary is removed.
 */
typedef int (*fo_fetch_watch_fn)(unsigned long long bytes, unsigned long long total, void *arg);

/** fo_fetch_req.flags: POST and PATCH are retried like the other methods (the caller knows
 * repeating them is harmless). */
#define FO_FETCH_RETRY_UNSAFE 0x1u
/** fo_fetch_req.flags, with output only: a cut transfer keeps what arrived in ".NAME.part" and
 * its validator (a strong ETag, else Last-Modified) in ".NAME.part.tag", beside output; the next
 * attempt, or the next run, asks for the rest with Range and If-Range. Both files are made and
 * locked like temporaries (see fo_fetch_req), and the validator file names the partial file's
 * device and inode: a partial file is resumed only when both are the fetcher's own and bound, so
 * a file someone else put at either name is never taken for part of the body. It is left alone
 * and the item goes through a fresh temporary without resume for that run; so is a partial file
 * a live run holds. A server that answers 200
 * (Range ignored, or the validator changed) starts the file again from byte 0; a 206 from
 * another byte fails the attempt and drops the partial file. No byte is appended twice. The
 * partial file is kept only after a failure worth retrying (transport error, timeout, stall,
 * the call's deadline, 5xx, 429) or a cancel (-ECANCELED) when a validator is known; every other failure removes both files. Resumed requests send no
 * Accept-Encoding: a range of a compressed body is no range of the file. */
#define FO_FETCH_RESUME 0x2u

/** fo_fetch_req.flags: a redirect to another origin may carry the request body (a 307 or
 * 308 after PUT or POST); without it such a redirect fails the item with FO_EREDIRECT before
 * anything is sent there. */
#define FO_FETCH_BODY_CROSS_HOST 0x4u

/** fo_fetch_req.flags, with output and sha256 (fo_fetch_req_check() refuses it without both):
 * when output already is a regular file whose SHA-256 is sha256, no request is made and the item
 * succeeds with fo_fetch_result.skipped set (attempts 0). The file is opened without following
 * a symlink (O_NOFOLLOW) and checked with fstat: a symlink, a device, a FIFO or a file that
 * cannot be read is not trusted and the item is fetched as usual (and a symlink replaced). The
 * whole file is read to hash it, on the worker. */
#define FO_FETCH_SKIP_EXISTING 0x8u

/**
 * One request for fo_fetch_requests(). Zero means "not used" or the default in every field, so
 * `fo_fetch_req r = {.url = u};` is a plain GET into memory. The caller keeps everything the
 * struct points to alive until the call returns.
 *
 * Sinks: with output set the body goes to that file; else with write set, to the callback; else
 * into result->body (capped; the body of any status, as fo_fetch_many() keeps it). A file or a
 * callback gets only a 2xx body. A file is written under a temporary name in the same directory
 * (".NAME.tmp-K", K a hex digit), fsync'ed and renamed over output only when the whole body
 * arrived with a 2xx status and matched sha256; on any failure output is untouched and the
 * temporary is removed. output must be absent, a regular file or a symlink (replaced, never
 * followed): a device, FIFO or socket is FO_EUNSAFE, a directory -EISDIR, checked before the
 * request and again before the rename, and left untouched. The finished file gets
 * 0666 & ~umask (the umask at fo_fetcher_create()); the temporary stays 0600 until the rename.
 *
 * Files beside output, in a directory others may write, for a caller that may be root: each is
 * created by the fetcher (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), checked with fstat (a regular file of
 * the effective user with one link) before use, and flock()ed while in use. A temporary whose
 * lock is free was left by a dead process and is removed by the next run for the same output; one
 * whose lock is held is a live run's and is kept (up to 16 runs per output, then -EBUSY).
 * Anything else at those names is left alone. When "." NAME ".part.tag" would pass NAME_MAX,
 * NAME is cut and followed by "~" and a hash of the whole name: every valid output name works.
 */
typedef struct fo_fetch_req {
  const char *url;                /**< http:// or https:// URL (required) */
  const char *method;             /**< GET, HEAD, POST, PUT, PATCH or DELETE; NULL: GET */
  const char *const *headers;     /**< NULL, or a NULL-terminated list of "Name: value" lines
                                       (a token before the colon, no control byte but HTAB, at
                                       most FO_FETCH_HEADER_MAX bytes each; not Host,
                                       Content-Length, Transfer-Encoding, Connection, Upgrade,
                                       TE or Expect, in any case: the fetcher frames the
                                       message); they replace libcurl's header of the same
                                       name. A body without a Content-Type line goes as
                                       application/octet-stream */
  const char *etag;               /**< NULL, or sent as If-None-Match */
  fo_fetch_body_from body_from;   /**< where the request body comes from */
  const void *body;               /**< FO_FETCH_BODY_MEMORY: the bytes */
  size_t body_len;                /**< FO_FETCH_BODY_MEMORY: their count */
  const char *body_path;          /**< FO_FETCH_BODY_FILE: the file */
  int body_fd;                    /**< FO_FETCH_BODY_FD: the descriptor */
  fo_fetch_read_fn body_read;     /**< FO_FETCH_BODY_READ: the reader */
  void *body_arg;                 /**< its argument */
  unsigned long long body_size;   /**< FO_FETCH_BODY_FD and _READ: see fo_fetch_body_from */
  const char *output;             /**< NULL, or the file the body goes to */
  fo_fetch_write_fn write;        /**< NULL, or the callback the body of a 2xx goes to (not
                                       called for other statuses; ignored with output) */
  void *write_arg;                /**< its argument */
  size_t max_bytes;               /**< decoded body cap; over it the item fails with
                                       FO_ETOOBIG. 0: the fetcher's max_body for memory, no cap
                                       for a file or a callback */
  const char *sha256;             /**< NULL, or 64 hexadecimal digits: the body's expected
                                       SHA-256; a mismatch fails the item with FO_EDIGEST */
  fo_fetch_progress_fn progress;  /**< NULL, or called as the body arrives */
  void *progress_arg;             /**< its argument */
  unsigned flags;                 /**< FO_FETCH_RETRY_UNSAFE, FO_FETCH_RESUME,
                                       FO_FETCH_BODY_CROSS_HOST, FO_FETCH_SKIP_EXISTING, or 0 */
  const char *const *forward_headers; /**< NULL, or a NULL-terminated list of header names
                                       (tokens, compared without case) whose lines in headers
                                       may follow a redirect to another origin; NULL: none does
                                       (Authorization, Cookie and Proxy-Authorization never do) */
  /* -- credentials */
  const char *pinned_pubkey;      /**< NULL: the fetcher's pins (fo_fetch_opts.pinned_pubkey);
                                       else the pins of this request in the same form, in place
                                       of the fetcher's. A connection is reused only by requests
                                       with the same pins */
  /* -- network policy */
  const char *accept_type;        /**< NULL: the fetcher's accept_type; else this request's,
                                       in its place (see fo_fetch_opts.accept_type); not empty */
  /* -- time limits and cancel */
  fo_fetch_watch_fn watch;        /**< NULL, or called as the transfer runs; may stop the item */
  void *watch_arg;                /**< its argument */
} fo_fetch_req;

/**
 * Called on a worker as each URL completes (after its last attempt), for progress; for a URL that
 * no worker could take (no memory for an easy handle), on the calling thread at the end.
 * @param index the URL's index in the input; result is results[index], complete.
 * Runs concurrently with other callbacks; keep it short. It may read the result; the caller still
 * owns it.
 */
typedef void (*fo_fetch_done_fn)(size_t index, const fo_fetch_result *result, void *arg);

/**
 * Initialise libcurl for the whole program: curl_global_init(), which is not thread-safe on
 * every libcurl. Call once at start, before any thread that uses fanout or libcurl exists, and
 * before any fo_fetcher_create(). Repeated calls are counted by libcurl.
 * @return 0, -ENOMEM, FO_EINTERNAL (libcurl refused for another reason).
 * Not thread-safe.
 */
int fo_fetch_global_init(void);

/**
 * Undo one fo_fetch_global_init(); the last one releases libcurl's global state. Call after every
 * fetcher is destroyed, when no other thread uses libcurl. Not thread-safe.
 */
void fo_fetch_global_cleanup(void);

/**
 * Check options as fo_fetcher_create() does, without creating anything or needing libcurl.
 * @param opts the options; NULL (every default) is valid.
 * @param why NULL, or filled on -EINVAL with the first field refused (fo_opt_error_format()
 *        makes it a sentence): for a string field (an empty string) value is its length, 0, and
 *        the range 1 to LLONG_MAX; for rate, the value cut to an integer (LLONG_MIN for NaN).
 *        Credentials: client_cert or client_key when its partner is missing (value 0, range 1
 *        or more: a certificate without a key, or a key without a certificate);
 *        client_cert_blob, client_key_blob or ca_blob given beside client_cert, client_key or
 *        ca_file (value its length, range 0 to 0), or NULL with a length; a *_blob_len of 0 with
 *        its blob or over FO_FETCH_TLS_BLOB_MAX; key_password without a key (value its length,
 *        range 0 to 0); pinned_pubkey malformed (value the length of its first malformed pin,
 *        range 52 to 52: "sha256//" and 44 base64 characters of a 32-byte digest). Files are
 *        not opened here.
 *        the range 1 to LLONG_MAX; for rate, the value cut to an integer (LLONG_MIN for NaN);
 *        for proxy (a scheme other than http, https, socks5h, or none) and interface (empty,
 *        or "if!" / "host!" with nothing after it or a NAME over 15 bytes), value is the
 *        string's length and the range 1 to 0 (no length fits: the form is wrong).
 * @return 0, -EINVAL (a field out of its range).
 * Thread-safe.
 */
int fo_fetch_opts_check(const fo_fetch_opts *opts, fo_opt_error *why);
/**
 * Create a fetcher: its share object, its own pool when opts->pool is NULL, copies of the
 * strings. Easy handles are made on first use and then kept.
 * @param f receives the fetcher; untouched on failure.
 * @return 0, -EINVAL (f NULL, or opts refused by fo_fetch_opts_check()), -ENOTSUP (tls_hook
 *         set and libcurl not built on mbedTLS), -ENOMEM, or an error of fo_tpool_create(). A
 *         failed create leaves nothing behind.
 * Thread-safe once fo_fetch_global_init() has returned.
 */
int fo_fetcher_create(fo_fetcher **f, const fo_fetch_opts *opts);

/**
 * Close every connection, free every handle, the share, the own pool and the fetcher.
 * NULL does nothing. No fetch may be running on it.
 */
void fo_fetcher_destroy(fo_fetcher *f);

/**
 * Fetch n URLs with GET, on the pool, and wait for all of them.
 *
 * results[0..n-1] is overwritten first (old contents are not freed), then each is filled as its
 * URL completes. A failure of one URL (a non-2xx status, a transport error, a timeout, a body too
 * large, a NULL or malformed URL, no memory for its body) is recorded in its result and stops
 * nothing else. 304 Not Modified (after If-None-Match) is a success with no body.
 *
 * @param urls n URLs; an entry may be NULL (its result gets -EINVAL).
 * @param etags NULL, or n entries, each NULL or an ETag sent as If-None-Match for that URL.
 * @param done NULL, or called for each URL as it completes (see fo_fetch_done_fn).
 * @return the number of URLs whose result has err != 0 (0: all succeeded); or -EINVAL (f NULL,
 *         results NULL with n > 0, urls NULL with n > 0), FO_ETASK (called from a task of the
 *         fetcher's pool), -ENOMEM (nothing could start: every result then says -ENOMEM), or an
 *         error of the pool (-ESHUTDOWN). With a negative return for any reason but -EINVAL,
 *         results[] still holds n valid results to free.
 * Thread-safe; not from a task of the fetcher's pool nor from a done callback.
 */
int fo_fetch_many(fo_fetcher *f, const char *const *urls, const char *const *etags, size_t n,
                  fo_fetch_result *results, fo_fetch_done_fn done, void *done_arg);

/**
 * Check one request as fo_fetch_requests() does before sending it, without network or files.
 * @param why NULL, or filled on -EINVAL with the field refused: "url" (NULL or empty),
 *        "method" (not one of the six), "headers" (value: the index of the bad line; a control
 *        byte but HTAB, no colon, an empty or non-token name, a name the fetcher frames the
 *        request with: Host, Content-Length, Transfer-Encoding, Connection, Upgrade, TE, Expect,
 *        or longer than FO_FETCH_HEADER_MAX), "forward_headers" (a name empty, not a token or
 *        over FO_FETCH_HEADER_MAX), "pinned_pubkey" (malformed: see fo_fetch_opts; value the
 *        length of the first malformed pin), "etag" (empty,
 *        CR or LF, over 1024 bytes), "body_from" (unknown, or a body with GET or HEAD), "body"
 *        (NULL with a length), "body_path" (NULL or empty), "body_fd" (negative), "body_read"
 *        (NULL), "output" (empty, a directory path ending in '/', a last component "." or ".."
 *        or over NAME_MAX bytes, or method HEAD, which has no body), "sha256" (not 64 hex digits),
 *        "flags" (an unknown bit, FO_FETCH_RESUME without output, or FO_FETCH_SKIP_EXISTING
 *        without output and sha256), "accept_type" (empty).
 * @return 0, -EINVAL (req NULL, or a field refused).
 * Thread-safe.
 */
int fo_fetch_req_check(const fo_fetch_req *req, fo_opt_error *why);

/**
 * Run n requests on the pool and wait for all of them: fo_fetch_many() with a method, headers,
 * a body and a sink per item.
 *
 * results[0..n-1] is overwritten first, then each is filled as its request completes. Each item
 * fails alone: err is one of fo_fetch_result's codes or -EINVAL (fo_fetch_req_check() refused
 * it; the message names the field; or two items of the call have the same output, the same
 * directory and name: both are refused before anything starts and their messages name both
 * indexes), FO_EDIGEST (the body's SHA-256 differs from sha256),
 * FO_EABORTED (the write callback returned nonzero), FO_EBODY (the body file could not be opened,
 * a read failed, or the body ended before its length), or a negative errno of the output file
 * (-ENOENT or -EACCES: no such or no writable directory; -ENOSPC: the disk filled; -EISDIR: a
 * directory at output...), FO_EUNSAFE (a device, FIFO or socket at output, or files not the
 * fetcher's at every temporary name: left alone), -EBUSY (16 live runs write this output); the
 * message names the file.
 * A body is kept in result->body only for the memory sink. Retries follow fo_fetch_opts.retries
 * for GET, HEAD, PUT and DELETE; POST and PATCH only with FO_FETCH_RETRY_UNSAFE.
 * @param done NULL, or called for each item as it completes (see fo_fetch_done_fn).
 * @return as fo_fetch_many(): the number of failed items, or -EINVAL (f NULL, reqs or results
 *         NULL with n > 0), FO_ETASK, -ENOMEM, -ESHUTDOWN.
 * Thread-safe; not from a task of the fetcher's pool nor from a callback of this call.
 */
int fo_fetch_requests(fo_fetcher *f, const fo_fetch_req *reqs, size_t n, fo_fetch_result *results,
                      fo_fetch_done_fn done, void *done_arg);

/** A set of requests running on a fetcher's workers after fo_fetch_submit(). Opaque. */
typedef struct fo_fetch_job fo_fetch_job;

/** fo_fetch_job_cancel()'s index for every item of the job. */
#define FO_FETCH_JOB_ALL ((size_t)-1)

/**
 * Start n requests on the pool and return at once: fo_fetch_requests() without the wait, for a
 * program with other work (an event loop, a daemon's main thread). The job runs on the fetcher's
 * workers as fo_fetch_requests() would, under the same options, deadline and cancel.
 *
 * results[0..n-1] is overwritten first; result i is final, and may be read, once item i has been
 * handed over by fo_fetch_job_take(), reported to done, or fo_fetch_job_wait() returned 0 or
 * more. reqs, everything the requests point at, and results must stay valid until
 * fo_fetch_job_free() has returned. A job learns of its completions three ways, any of them or
 * none: done on the worker thread as each item ends; fo_fetch_job_fd() readable and
 * fo_fetch_job_take() on the caller's thread; fo_fetch_job_wait().
 * @param done NULL, or called on a worker for each item as it completes (fo_fetch_done_fn);
 *        it must not call fo_fetch_job_wait() or fo_fetch_job_free() on its own job.
 * @param job receives the job; fo_fetch_job_free() releases it, always.
 * @return 0, -EINVAL (f or job NULL, reqs or results NULL with n > 0), -ENOMEM, or an error of
 *         the pool (-ESHUTDOWN). On an error nothing runs, *job is NULL, and results[] holds
 *         n results that say why, to free (but for -EINVAL).
 * Thread-safe. May be called from a task of the fetcher's pool (it does not wait).
 */
int fo_fetch_submit(fo_fetcher *f, const fo_fetch_req *reqs, size_t n, fo_fetch_result *results,
                    fo_fetch_done_fn done, void *done_arg, fo_fetch_job **job);

/**
 * Wait until every item of a job has its final result.
 * @param timeout_ms FO_FOREVER, 0 (do not wait), or a bound in milliseconds.
 * @return the number of failed items (0: all succeeded) once all are done, and again at every
 *         later call; -EAGAIN (timeout_ms 0 and items still running), -ETIMEDOUT, -EINVAL (job
 *         NULL, timeout_ms below FO_FOREVER), FO_ETASK (FO_FOREVER from a task of the
 *         fetcher's pool), -ENOMEM (no worker could get an easy handle: every item says so).
 *         Items whose every worker task fo_tpool_cancel() dropped from a shared pool's queue end
 *         with -ECANCELED when the job is waited for with FO_FOREVER or freed; a bounded wait
 *         cannot tell a dropped task from a queued one.
 * Thread-safe: several threads may wait on one job.
 */
int fo_fetch_job_wait(fo_fetch_job *job, int timeout_ms);

/**
 * Cancel one item of a job, or all (index FO_FETCH_JOB_ALL): an item not started ends at once
 * with -ECANCELED ("cancelled (fo_fetch_job_cancel) before it started"); a backoff or rate-limit
 * wait ends within 50 ms; a running transfer ends the next time libcurl calls its progress
 * callback (as data moves, at least once a second). Items already done keep their results; other
 * jobs and calls on the fetcher go on. Under FO_FETCH_RESUME a partial file stays for the next
 * run. Cancelling twice, or a finished item, does nothing.
 * @return 0, -EINVAL (job NULL, index not below n and not FO_FETCH_JOB_ALL).
 * Thread-safe, and async-signal-safe (one atomic store); also from a callback of the job.
 */
int fo_fetch_job_cancel(fo_fetch_job *job, size_t index);

/**
 * A descriptor that poll(), select() or epoll report readable while the job has completions not
 * yet handed over by fo_fetch_job_take(): the way to follow a job from an event loop (OpenWrt's
 * uloop, GLib, libuv, a plain poll()). Made at the first call (a pipe, close-on-exec,
 * non-blocking) and owned by the job: do not read, write or close it; it stays valid until
 * fo_fetch_job_free(). Repeated calls return the same descriptor.
 * @return the descriptor, -EINVAL (job NULL), -EMFILE, -ENFILE.
 * Thread-safe.
 */
int fo_fetch_job_fd(fo_fetch_job *job);

/**
 * Hand over the indices of up to cap finished items, in the order they finished; each index is
 * handed over once. Their results are final and are the caller's to read (and to free with
 * fo_fetch_result_free() if it wishes; fo_fetch_job_free() never frees results). When the last
 * waiting completion is taken, fo_fetch_job_fd() stops being readable.
 * @return how many indices were written to index[] (0: none waiting, or job or index NULL).
 * Thread-safe; runs on the caller's thread and never waits for a transfer.
 */
size_t fo_fetch_job_take(fo_fetch_job *job, size_t *index, size_t cap);

/**
 * Release a job: waits for its items to end (call fo_fetch_job_cancel() first not to wait for
 * transfers), then frees it and its descriptor. The results stay the caller's.
 * @return 0 (also for job NULL), FO_ETASK (from a task of the fetcher's pool while an item or
 *         a worker task of the job is still running or queued: the job is left as it was;
 *         free it once fo_fetch_job_wait() with a bound has returned 0 or more, or from
 *         another thread).
 */
int fo_fetch_job_free(fo_fetch_job *job);

/**
 * Stop the calls running on a fetcher: every fo_fetch_requests(), fo_fetch_many() and
 * fo_fetch_one() call and every job (fo_fetch_submit()) on f that began before this one (in any
 * thread). fo_fetch_job_cancel() stops one job, or one item of it, instead. Their items not started
 * end at once with -ECANCELED ("cancelled before it started"); a backoff or rate-limit wait ends
 * within 50 ms; a running transfer ends the next time libcurl calls its progress callback, which
 * it does as data moves and at least once a second otherwise; each such item fails with
 * -ECANCELED (not retried), and the call returns as usual with every result filled. Under
 * FO_FETCH_RESUME a partial file with its validator stays for the next run; every other
 * temporary is removed. Calls that begin after fo_fetcher_cancel() has returned run normally (a
 * call beginning at the same time may go either way): a cancel is a generation count, never a
 * state to reset. Cancelling a fetcher with no call running does nothing.
 *
 * fo_tpool_cancel() on a pool the fetcher shares is not a cancel of the fetcher: a call queues
 * min(n, threads) worker tasks, each running the call's items one after another, and the count
 * fo_tpool_cancel() returns counts those tasks, not items. A dropped worker is one worker fewer:
 * the call's other workers run its items. Only when every worker of a call was dropped do its
 * items end with -ECANCELED ("its workers were dropped from the pool's queue").
 *
 * @return 0, -EINVAL (f NULL).
 * Async-signal-safe (one atomic add): may be called from a signal handler, another thread, or a
 * callback (done, write, progress, watch) of the call it stops. Not after fo_fetcher_destroy().
 */
int fo_fetcher_cancel(fo_fetcher *f);

/**
 * Fetch one URL and wait: the same engine, with one URL.
 * @param etag NULL, or an ETag to send as If-None-Match.
 * @return result->err (0 on success), or -EINVAL (f or result NULL), FO_ETASK as
 *         fo_fetch_many(). Free the result with fo_fetch_result_free().
 */
int fo_fetch_one(fo_fetcher *f, const char *url, const char *etag, fo_fetch_result *result);

/** Free a result's body and ETag and clear it. NULL does nothing. */
void fo_fetch_result_free(fo_fetch_result *result);

/** fo_fetch_result_free() on each of n results. NULL does nothing. */
void fo_fetch_results_free(fo_fetch_result *results, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_FETCH_H */
