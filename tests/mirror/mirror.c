/* fo-mirror: a local stand-in for the SpaceX API's Starlink routes, for tests, benchmarks and
 * the demo. HTTP/1.1 with keep-alive, one thread per connection, loopback only.
 *
 *   fo-mirror [--port N] [--docs N] [--first I] [--latency-ms N] [--idle-exit S]
 *             [--fault-rate P --fault KIND|mixed [--seed S]] [--max-conns N] [--port-file FILE]
 *   fo-mirror --dump DIR [--docs N] [--first I]    write the documents as files and exit
 *   fo-mirror --blob B      write the body of /blob?size=B (tag 1) to stdout and exit
 *
 * The documents are the generator's (tests/gen/) numbers I .. I+N-1 (default 0 .. 99).
 *
 * It prints "PORT <n>" on stdout once it listens, and exits by itself after --idle-exit seconds
 * (default 30) with no connection open and no request.
 *
 * Many connections: each has a thread (a 256 KiB stack reserved, of which a plain request
 * touches a few pages) and a 16 KiB request buffer, so 2,000 connections each waiting out
 * --latency-ms cost some 40 MiB; --max-conns (default 1024) refuses more, by closing them.
 *
 * Routes: GET /v4/starlink and /latest/starlink (the list), /v4/starlink/{id} (one document, or
 * 404 "Not Found" for unknown and malformed ids), /stats (counters as JSON; ?window=MS adds the
 * most requests seen in any window of that length), /stats/reset, and /blob (blob.h: a body of
 * size=B deterministic bytes with an ETag, or Last-Modified with lastmod=1, tag=T its version,
 * Range and If-Range honoured unless norange=1 (skew=K: a 206 from K bytes too early), cut=B
 * closing the connection after body byte B for the first n=K requests of the target; stall=B
 * sending nothing after body byte B, the connection open for hold=MS (default 30000) or until
 * the client closes, also for the first n=K; rate=R sending the body at R bytes a second; /stats
 * counts its body bytes as blob_bytes);
 * /peer (text: "peer ADDRESS\nvia VIA\n", the connection's remote address and the request's Via
 * header, "-" when none: which local address a client bound, whether a proxy carried it).
 *
 * Faults, per request through the query string, on any starlink route:
 *   fault=500|503|429|reset|trunc|drip|challenge|challenge200|big|bigchunked|close
 *   n=K        only the first K requests for this exact target fail (then it answers normally)
 *   ra=S       Retry-After seconds for 429 and 503 (default 1); radate=1 sends it as a date
 *   delay=MS   extra latency for this request
 *   size=B     body size for big and bigchunked (default 64 MiB)
 *   drip=MS    pause between the bytes of a drip (default 100)
 * or at random with --fault-rate P --fault KIND on requests for one existing document (seeded,
 * repeatable; the list route stays clean so tests can always read the ids). KIND "mixed" draws
 * one of the kinds above for each faulty request, from the same seeded generator; the query's
 * ra, size and drip still apply. /stats counts the faults served of each kind ("fault_drip").
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "docs.h"

#define REQ_MAX 16384
#define KEEPALIVE_MS 15000
#define TIMES_MAX (1u << 18) /* request arrival times kept for the window statistic */
#define TARGETS_MAX 65536    /* distinct targets counted for n=K faults */

typedef struct {
  mirror_docs *docs;
  long latency_ms;
  double fault_rate;
  char fault_kind[32];
  int max_conns;
  long idle_exit_ms;
  uint64_t t0_ns;

  pthread_mutex_t mu; /* guards everything below */
  uint64_t rng;
  long requests, connections, active, max_active, faults, not_modified;
  uint64_t last_activity_ns;
  uint32_t *times; /* ms since t0 of each counted request, in order */
  size_t n_times;
  struct target {
    uint64_t hash;
    long count;
  } * targets;
  size_t n_targets;
} server;

static server S;

/* Every fault kind, in the order /stats lists them. */
static const char *const kinds[] = {"500",   "503",        "429",       "reset",
                                    "trunc", "drip",       "challenge", "challenge200",
                                    "big",   "bigchunked", "close"};
#define NKINDS (sizeof kinds / sizeof kinds[0])
static long kind_count[NKINDS]; /* guarded by S.mu */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms) {
  if (ms <= 0)
    return;
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

static uint64_t hash_str(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return h | 1;
}

/* ------------------------------------------------------------------ output */

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int mirror_send_all(int fd, const char *p, size_t n) {
  return send_all(fd, p, n);
}

/* Headers and body in one writev, so a response leaves in as few packets as it can. */
static int send_response(int fd, const char *head, size_t hlen, const char *body, size_t blen) {
  struct iovec iov[2] = {{(void *)head, hlen}, {(void *)body, blen}};
  int cnt = blen ? 2 : 1;
  size_t total = hlen + blen;
  while (total > 0) {
    ssize_t w = writev(fd, iov, cnt);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    total -= (size_t)w;
    for (int i = 0; i < cnt && w > 0; i++) {
      size_t take = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + take;
      iov[i].iov_len -= take;
      w -= (ssize_t)take;
    }
  }
  return 0;
}

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 304:
    return "Not Modified";
  case 400:
    return "Bad Request";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return "Unknown";
  }
}

/* Format the head of a response. extra: more header lines, each ending in CRLF, or "". */
static size_t head(char *buf, size_t cap, int status, const char *ctype, long long length,
                   const char *extra, int keep_alive) {
  char len_line[64];
  if (length >= 0)
    snprintf(len_line, sizeof len_line, "Content-Length: %lld\r\n", length);
  else
    snprintf(len_line, sizeof len_line, "Transfer-Encoding: chunked\r\n");
  int n =
      snprintf(buf, cap,
               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sAccess-Control-Allow-Origin: *\r\n"
               "%sConnection: %s\r\n\r\n",
               status, reason(status), ctype, len_line, extra, keep_alive ? "keep-alive" : "close");
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int simple(int fd, int status, const char *ctype, const char *body, const char *extra,
                  int keep_alive) {
  char h[1024];
  size_t blen = strlen(body);
  size_t hl = head(h, sizeof h, status, ctype, (long long)blen, extra, keep_alive);
  return send_response(fd, h, hl, body, blen);
}

/* ------------------------------------------------------------------ requests */

typedef struct {
  char path[2048];
  char query[2048];
  char target[4096];
  char if_none_match[256];
  char if_range[128];
  char via[128];
  long long range_from; /* "Range: bytes=N-"; -1: none */
  int keep_alive;
  int is_get;
} request;

/* The value of query parameter k, copied into v; 0 if absent. */
static int param(const request *rq, const char *k, char *v, size_t cap) {
  size_t kl = strlen(k);
  const char *q = rq->query;
  while (*q) {
    const char *amp = strchr(q, '&');
    size_t len = amp ? (size_t)(amp - q) : strlen(q);
    if (len > kl && strncmp(q, k, kl) == 0 && q[kl] == '=') {
      size_t vl = len - kl - 1 < cap - 1 ? len - kl - 1 : cap - 1;
      memcpy(v, q + kl + 1, vl);
      v[vl] = '\0';
      return 1;
    }
    if (!amp)
      break;
    q = amp + 1;
  }
  return 0;
}

static long param_long(const request *rq, const char *k, long dflt) {
  char v[32];
  return param(rq, k, v, sizeof v) ? strtol(v, NULL, 10) : dflt;
}

/* Parse the head in buf[0..len): request line and the headers we use. 0, or an HTTP status. */
static int parse(const char *buf, size_t len, request *rq) {
  memset(rq, 0, sizeof *rq);
  rq->range_from = -1;
  const char *eol = memchr(buf, '\r', len);
  if (eol == NULL)
    return 400;
  const char *sp1 = memchr(buf, ' ', (size_t)(eol - buf));
  const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
  if (sp1 == NULL || sp2 == NULL || (size_t)(sp2 - sp1 - 1) >= sizeof rq->target)
    return 400;
  rq->is_get = sp1 - buf == 3 && memcmp(buf, "GET", 3) == 0;
  memcpy(rq->target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
  int http11 = eol - sp2 - 1 == 8 && memcmp(sp2 + 1, "HTTP/1.1", 8) == 0;
  rq->keep_alive = http11;
  char *qm = strchr(rq->target, '?');
  size_t pl = qm ? (size_t)(qm - rq->target) : strlen(rq->target);
  if (pl >= sizeof rq->path)
    return 400;
  memcpy(rq->path, rq->target, pl);
  if (qm)
    snprintf(rq->query, sizeof rq->query, "%s", qm + 1);
  const char *p = eol + 2;
  const char *end = buf + len;
  while (p < end) {
    const char *e = memchr(p, '\r', (size_t)(end - p));
    if (e == NULL || e == p)
      break;
    size_t l = (size_t)(e - p);
    const char *colon = memchr(p, ':', l);
    if (colon) {
      size_t nl = (size_t)(colon - p);
      const char *v = colon + 1;
      while (v < e && (*v == ' ' || *v == '\t'))
        v++;
      size_t vl = (size_t)(e - v);
      if (nl == 10 && strncasecmp(p, "Connection", 10) == 0) {
        if (vl >= 5 && strncasecmp(v, "close", 5) == 0)
          rq->keep_alive = 0;
        else if (vl >= 10 && strncasecmp(v, "keep-alive", 10) == 0)
          rq->keep_alive = 1;
      } else if (nl == 8 && strncasecmp(p, "If-Range", 8) == 0) {
        vl = vl < sizeof rq->if_range - 1 ? vl : sizeof rq->if_range - 1;
        memcpy(rq->if_range, v, vl);
        rq->if_range[vl] = '\0';
      } else if (nl == 5 && strncasecmp(p, "Range", 5) == 0 && vl > 6 &&
                 strncmp(v, "bytes=", 6) == 0 && v[6] >= '0' && v[6] <= '9') {
        rq->range_from = strtoll(v + 6, NULL, 10);
      } else if (nl == 3 && strncasecmp(p, "Via", 3) == 0) {
        vl = vl < sizeof rq->via - 1 ? vl : sizeof rq->via - 1;
        memcpy(rq->via, v, vl);
        rq->via[vl] = '\0';
      } else if (nl == 13 && strncasecmp(p, "If-None-Match", 13) == 0) {
        vl = vl < sizeof rq->if_none_match - 1 ? vl : sizeof rq->if_none_match - 1;
        memcpy(rq->if_none_match, v, vl);
        rq->if_none_match[vl] = '\0';
      }
    }
    p = e + 2;
  }
  return 0;
}

/* Count a starlink request; returns how many times this exact target was asked for. */
static long count_request(const request *rq) {
  uint64_t h = hash_str(rq->target, strlen(rq->target));
  uint64_t t = now_ns();
  pthread_mutex_lock(&S.mu);
  S.requests++;
  S.last_activity_ns = t;
  if (S.n_times < TIMES_MAX)
    S.times[S.n_times++] = (uint32_t)((t - S.t0_ns) / 1000000u);
  long count = 1;
  size_t i = h & (TARGETS_MAX - 1);
  for (size_t probes = 0; probes < TARGETS_MAX; probes++, i = (i + 1) & (TARGETS_MAX - 1)) {
    if (S.targets[i].hash == h) {
      count = ++S.targets[i].count;
      break;
    }
    if (S.targets[i].hash == 0) {
      if (S.n_targets < TARGETS_MAX / 2) {
        S.targets[i].hash = h;
        S.targets[i].count = 1;
        S.n_targets++;
      }
      break;
    }
  }
  pthread_mutex_unlock(&S.mu);
  return count;
}

static int stats(int fd, const request *rq) {
  char body[1024];
  long window = param_long(rq, "window", 0);
  pthread_mutex_lock(&S.mu);
  if (strcmp(rq->path, "/stats/reset") == 0) {
    S.requests = S.connections = S.faults = S.not_modified = 0;
    S.max_active = S.active;
    S.n_times = 0;
    memset(S.targets, 0, TARGETS_MAX * sizeof *S.targets);
    S.n_targets = 0;
    memset(kind_count, 0, sizeof kind_count);
    mirror_blob_bytes(1);
  }
  long most = 0;
  if (window > 0) {
    size_t lo = 0;
    for (size_t hi = 0; hi < S.n_times; hi++) {
      while (S.times[hi] - S.times[lo] >= (uint32_t)window)
        lo++;
      if ((long)(hi - lo + 1) > most)
        most = (long)(hi - lo + 1);
    }
  }
  int n = snprintf(body, sizeof body,
                   "{\"requests\":%ld,\"connections\":%ld,\"active\":%ld,\"max_active\":%ld,"
                   "\"faults\":%ld,\"not_modified\":%ld,\"window_ms\":%ld,\"max_in_window\":%ld",
                   S.requests, S.connections, S.active, S.max_active, S.faults, S.not_modified,
                   window, most);
  for (size_t k = 0; k < NKINDS; k++)
    n += snprintf(body + n, sizeof body - (size_t)n, ",\"fault_%s\":%ld", kinds[k], kind_count[k]);
  snprintf(body + n, sizeof body - (size_t)n, ",\"blob_bytes\":%lld}", mirror_blob_bytes(0));
  pthread_mutex_unlock(&S.mu);
  return simple(fd, 200, "application/json; charset=utf-8", body, "", rq->keep_alive);
}

static const char challenge_page[] =
    "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>"
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">"
    "<meta name=\"robots\" content=\"noindex,nofollow\"></head><body>"
    "<div class=\"main-wrapper\" role=\"main\"><div class=\"main-content\">"
    "<h1>api.spacexdata.com</h1><h2>Checking if the site connection is secure</h2>"
    "<noscript>Enable JavaScript and cookies to continue</noscript></div></div></body></html>";

/* Filler for oversized bodies, set once in main() before any connection thread exists. */
static char fill[65536];

/* Stream `size` bytes of filler, with or without a length. */
static int send_big(int fd, long long size, int chunked) {
  char h[512];
  size_t hl = head(h, sizeof h, 200, "application/json; charset=utf-8", chunked ? -1 : size, "", 0);
  if (send_all(fd, h, hl) != 0)
    return -1;
  for (long long left = size; left > 0;) {
    size_t n = left < (long long)sizeof fill ? (size_t)left : sizeof fill;
    if (chunked) {
      char ch[32];
      int cl = snprintf(ch, sizeof ch, "%zx\r\n", n);
      if (send_all(fd, ch, (size_t)cl) != 0 || send_all(fd, fill, n) != 0 ||
          send_all(fd, "\r\n", 2) != 0)
        return -1;
    } else if (send_all(fd, fill, n) != 0) {
      return -1;
    }
    left -= (long long)n;
  }
  if (chunked)
    send_all(fd, "0\r\n\r\n", 5);
  return -1; /* close after a big body either way */
}

/* Send a document with a fault applied. Returns 0 to keep the connection, -1 to close it. */
static int faulty(int fd, const request *rq, const char *kind, const char *body, size_t blen) {
  char h[1024], extra[256];
  pthread_mutex_lock(&S.mu);
  S.faults++;
  for (size_t k = 0; k < NKINDS; k++)
    kind_count[k] += strcmp(kind, kinds[k]) == 0;
  pthread_mutex_unlock(&S.mu);
  if (strcmp(kind, "500") == 0)
    return simple(fd, 500, "text/plain; charset=utf-8", "Internal Server Error", "",
                  rq->keep_alive) == 0 &&
                   rq->keep_alive
               ? 0
               : -1;
  if (strcmp(kind, "429") == 0 || strcmp(kind, "503") == 0) {
    long ra = param_long(rq, "ra", 1);
    if (param_long(rq, "radate", 0)) {
      time_t t = time(NULL) + ra;
      struct tm tm;
      gmtime_r(&t, &tm);
      char date[64];
      strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      snprintf(extra, sizeof extra, "Retry-After: %s\r\n", date);
    } else {
      snprintf(extra, sizeof extra, "Retry-After: %ld\r\n", ra);
    }
    int st = kind[0] == '4' ? 429 : 503;
    return simple(fd, st, "text/plain; charset=utf-8", reason(st), extra, rq->keep_alive) == 0 &&
                   rq->keep_alive
               ? 0
               : -1;
  }
  if (strcmp(kind, "challenge") == 0 || strcmp(kind, "challenge200") == 0)
    return simple(fd, kind[9] ? 200 : 403, "text/html; charset=UTF-8", challenge_page, "",
                  rq->keep_alive) == 0 &&
                   rq->keep_alive
               ? 0
               : -1;
  if (strcmp(kind, "big") == 0 || strcmp(kind, "bigchunked") == 0)
    return send_big(fd, param_long(rq, "size", 64L << 20), kind[3] != '\0');
  size_t hl = head(h, sizeof h, 200, "application/json; charset=utf-8", (long long)blen, "", 1);
  if (strcmp(kind, "reset") == 0 || strcmp(kind, "trunc") == 0) {
    send_all(fd, h, hl);
    send_all(fd, body, blen / 2);
    if (kind[0] == 'r') {
      struct linger lg = {1, 0}; /* close with RST, not FIN */
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    return -1;
  }
  if (strcmp(kind, "drip") == 0) {
    long gap = param_long(rq, "drip", 100);
    if (send_all(fd, h, hl) != 0)
      return -1;
    uint64_t stop = now_ns() + 60ull * 1000000000u; /* a bounded drip, whoever is listening */
    for (size_t i = 0; i < blen && now_ns() < stop; i++) {
      sleep_ms(gap);
      if (send_all(fd, body + i, 1) != 0)
        return -1;
    }
    return -1;
  }
  if (strcmp(kind, "close") == 0) {
    hl = head(h, sizeof h, 200, "application/json; charset=utf-8", (long long)blen, "", 0);
    send_response(fd, h, hl, body, blen);
    return -1;
  }
  return simple(fd, 400, "text/plain; charset=utf-8", "unknown fault", "", 0) == 0 ? -1 : -1;
}

static uint64_t next_random(void) {
  S.rng ^= S.rng << 13, S.rng ^= S.rng >> 7, S.rng ^= S.rng << 17;
  return S.rng;
}

/* Whether this request gets a fault, and which kind (--fault, or one drawn for "mixed"). */
static const char *random_fault(void) {
  if (S.fault_rate <= 0)
    return NULL;
  pthread_mutex_lock(&S.mu);
  double u = (double)(next_random() >> 11) * (1.0 / 9007199254740992.0);
  const char *kind = S.fault_kind;
  if (u < S.fault_rate && strcmp(kind, "mixed") == 0)
    kind = kinds[next_random() % NKINDS];
  pthread_mutex_unlock(&S.mu);
  return u < S.fault_rate ? kind : NULL;
}

/* Answer one request. 0: keep the connection; -1: close it. */
static int serve(int fd, const request *rq) {
  if (strcmp(rq->path, "/stats") == 0 || strcmp(rq->path, "/stats/reset") == 0)
    return stats(fd, rq) == 0 && rq->keep_alive ? 0 : -1;
  if (!rq->is_get)
    return simple(fd, 405, "text/plain; charset=utf-8", "Method Not Allowed", "Allow: GET\r\n",
                  rq->keep_alive) == 0 &&
                   rq->keep_alive
               ? 0
               : -1;
  long count = count_request(rq);
  uint64_t t = now_ns();
  sleep_ms(S.latency_ms + param_long(rq, "delay", 0));

  if (strcmp(rq->path, "/peer") == 0) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char addr[INET6_ADDRSTRLEN] = "?", body[256];
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
      if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
      else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
    }
    snprintf(body, sizeof body, "peer %s\nvia %s\n", addr, rq->via[0] ? rq->via : "-");
    return simple(fd, 200, "text/plain; charset=utf-8", body, "", rq->keep_alive) == 0 &&
                   rq->keep_alive
               ? 0
               : -1;
  }
  if (strcmp(rq->path, "/blob") == 0) {
    mirror_blob_req b = {.size = param_long(rq, "size", 1L << 20),
                         .cut = param_long(rq, "cut", -1),
                         .norange = (int)param_long(rq, "norange", 0),
                         .lastmod = (int)param_long(rq, "lastmod", 0),
                         .skew = param_long(rq, "skew", 0),
                         .range_from = rq->range_from,
                         .keep_alive = rq->keep_alive,
                         .stall = param_long(rq, "stall", -1),
                         .hold_ms = param_long(rq, "hold", 30000),
                         .rate = param_long(rq, "rate", 0)};
    long n = param_long(rq, "n", 0);
    b.cut_now = n <= 0 || count <= n;
    if (!param(rq, "tag", b.tag, sizeof b.tag))
      snprintf(b.tag, sizeof b.tag, "1");
    snprintf(b.if_range, sizeof b.if_range, "%s", rq->if_range);
    return mirror_blob_serve(fd, &b);
  }
  const char *body = NULL, *etag = NULL;
  size_t blen = 0;
  int found = 0;
  if (strcmp(rq->path, "/v4/starlink") == 0 || strcmp(rq->path, "/latest/starlink") == 0) {
    body = mirror_docs_list(S.docs, &blen);
    etag = mirror_docs_list_etag(S.docs);
    found = 1;
  } else if (strncmp(rq->path, "/v4/starlink/", 13) == 0 ||
             strncmp(rq->path, "/latest/starlink/", 17) == 0) {
    const char *id = strchr(rq->path + 1, '/');
    id = strchr(id + 1, '/') + 1;
    long i = mirror_docs_find(S.docs, id, strlen(id));
    if (i >= 0) {
      body = mirror_docs_json(S.docs, (size_t)i, &blen);
      etag = mirror_docs_etag(S.docs, (size_t)i);
    }
    found = i >= 0;
  } else {
    return simple(fd, 404, "text/plain; charset=utf-8", "Not Found", "", rq->keep_alive) == 0 &&
                   rq->keep_alive
               ? 0
               : -1;
  }

  char kind[32];
  const char *drawn;
  if (param(rq, "fault", kind, sizeof kind)) {
    long n = param_long(rq, "n", 0);
    if (n <= 0 || count <= n)
      return faulty(fd, rq, kind, body ? body : "Not Found", body ? blen : 9);
  } else if (body != NULL && rq->path[12] == '/' && (drawn = random_fault()) != NULL) {
    return faulty(fd, rq, drawn, body, blen);
  }
  if (!found)
    return simple(fd, 404, "text/plain; charset=utf-8", "Not Found", "", rq->keep_alive) == 0 &&
                   rq->keep_alive
               ? 0
               : -1;

  char extra[384], h[1024];
  long ms = (long)((now_ns() - t) / 1000000u);
  int match = rq->if_none_match[0] && strcmp(rq->if_none_match, etag) == 0;
  snprintf(extra, sizeof extra,
           "Cache-Control: max-age=3600\r\nETag: %s\r\nspacex-api-cache: %s\r\n"
           "spacex-api-response-time: %ldms\r\n",
           etag, count > 1 ? "HIT" : "MISS", ms);
  if (match) {
    pthread_mutex_lock(&S.mu);
    S.not_modified++;
    pthread_mutex_unlock(&S.mu);
    int n = snprintf(h, sizeof h, "HTTP/1.1 304 Not Modified\r\n%sConnection: %s\r\n\r\n", extra,
                     rq->keep_alive ? "keep-alive" : "close");
    return send_all(fd, h, (size_t)n) == 0 && rq->keep_alive ? 0 : -1;
  }
  size_t hl = head(h, sizeof h, 200, "application/json; charset=utf-8", (long long)blen, extra,
                   rq->keep_alive);
  return send_response(fd, h, hl, body, blen) == 0 && rq->keep_alive ? 0 : -1;
}

/* ------------------------------------------------------------------ connections */

static void *connection(void *arg) {
  int fd = (int)(intptr_t)arg;
  char *buf = malloc(REQ_MAX);
  size_t len = 0;
  while (buf != NULL) {
    char *end = len >= 4 ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
    if (end == NULL) {
      if (len == REQ_MAX) {
        simple(fd, 431, "text/plain; charset=utf-8", "Request Header Fields Too Large", "", 0);
        break;
      }
      struct pollfd p = {fd, POLLIN, 0};
      int pr = poll(&p, 1, KEEPALIVE_MS);
      if (pr < 0 && errno == EINTR)
        continue;
      if (pr <= 0)
        break;
      ssize_t r = recv(fd, buf + len, REQ_MAX - len, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      len += (size_t)r;
      continue;
    }
    size_t used = (size_t)(end - buf) + 4;
    request rq;
    int st = parse(buf, used, &rq);
    memmove(buf, buf + used, len - used);
    len -= used;
    if (st != 0) {
      simple(fd, st, "text/plain; charset=utf-8", reason(st), "", 0);
      break;
    }
    if (serve(fd, &rq) != 0)
      break;
  }
  free(buf);
  close(fd);
  pthread_mutex_lock(&S.mu);
  S.active--;
  S.last_activity_ns = now_ns();
  pthread_mutex_unlock(&S.mu);
  return NULL;
}

/* ------------------------------------------------------------------ main */

static int dump(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/v4", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/v4/starlink", dir);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    perror(path);
    return 1;
  }
  size_t n = mirror_docs_count(S.docs), len;
  for (size_t i = 0; i <= n; i++) {
    const char *body;
    if (i < n) {
      body = mirror_docs_json(S.docs, i, &len);
      snprintf(path, sizeof path, "%s/v4/starlink/%s", dir, mirror_docs_id(S.docs, i));
      printf("%s\n", mirror_docs_id(S.docs, i));
    } else {
      body = mirror_docs_list(S.docs, &len);
      snprintf(path, sizeof path, "%s/v4/starlink.json", dir);
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(body, 1, len, f) != len || fclose(f) != 0) {
      perror(path);
      return 1;
    }
  }
  return 0;
}

static int dump_blob(long long size) {
  for (long long i = 0; i < size; i++)
    if (putchar(mirror_blob_byte(i, "1")) == EOF)
      return 1;
  return size >= 0 && fflush(stdout) == 0 ? 0 : 2;
}

static void usage(void) {
  fputs("usage: fo-mirror [--port N] [--docs N] [--first I] [--latency-ms N] [--idle-exit S]\n"
        "                 [--fault-rate P --fault KIND|mixed [--seed S]] [--max-conns N]\n"
        "                 [--port-file FILE]\n"
        "       fo-mirror --dump DIR [--docs N] [--first I]\n"
        "       fo-mirror --blob B\n",
        stderr);
}

int main(int argc, char **argv) {
  long port = 0, ndocs = 100, idle = 30, max_conns = 1024;
  unsigned long long first = 0, seed = 1;
  const char *dump_dir = NULL, *port_file = NULL;
  snprintf(S.fault_kind, sizeof S.fault_kind, "500");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) {
      usage();
      return 2;
    }
    i++;
    if (strcmp(a, "--port") == 0)
      port = strtol(v, NULL, 10);
    else if (strcmp(a, "--docs") == 0)
      ndocs = strtol(v, NULL, 10);
    else if (strcmp(a, "--first") == 0)
      first = strtoull(v, NULL, 10);
    else if (strcmp(a, "--seed") == 0) /* of the random faults */
      seed = strtoull(v, NULL, 10);
    else if (strcmp(a, "--latency-ms") == 0)
      S.latency_ms = strtol(v, NULL, 10);
    else if (strcmp(a, "--idle-exit") == 0)
      idle = strtol(v, NULL, 10);
    else if (strcmp(a, "--fault-rate") == 0)
      S.fault_rate = strtod(v, NULL);
    else if (strcmp(a, "--fault") == 0)
      snprintf(S.fault_kind, sizeof S.fault_kind, "%s", v);
    else if (strcmp(a, "--max-conns") == 0)
      max_conns = strtol(v, NULL, 10);
    else if (strcmp(a, "--port-file") == 0)
      port_file = v;
    else if (strcmp(a, "--dump") == 0)
      dump_dir = v;
    else if (strcmp(a, "--blob") == 0) /* the reference body, for a digest made without HTTP */
      return dump_blob(strtoll(v, NULL, 10));
    else {
      usage();
      return 2;
    }
  }
  if (port < 0 || port > 65535 || ndocs < 0 || ndocs > 1000000 || idle < 1 || max_conns < 1 ||
      S.latency_ms < 0 || !(S.fault_rate >= 0 && S.fault_rate <= 1)) {
    usage();
    return 2;
  }
  S.docs = mirror_docs_new((size_t)ndocs, first);
  if (S.docs == NULL) {
    fputs("fo-mirror: out of memory\n", stderr);
    return 1;
  }
  if (dump_dir != NULL)
    return dump(dump_dir);

  S.max_conns = (int)max_conns;
  S.idle_exit_ms = idle * 1000;
  S.rng = seed * 2654435761u + 1;
  S.times = calloc(TIMES_MAX, sizeof *S.times);
  S.targets = calloc(TARGETS_MAX, sizeof *S.targets);
  if (S.times == NULL || S.targets == NULL || pthread_mutex_init(&S.mu, NULL) != 0)
    return 1;
  signal(SIGPIPE, SIG_IGN);
  memset(fill, '0', sizeof fill);

  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, always */
  socklen_t sl = sizeof sa;
  /* A client that opens thousands of connections at once (the engine benchmarks: 2,000 in
   * flight) must not see a SYN dropped for a full accept queue, which costs it a second's
   * retransmission: the queue is as deep as the system allows (somaxconn caps it, 4096 by
   * default since Linux 5.4), and --max-conns above it is what limits connections. */
  if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 4096) != 0 ||
      getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
    perror("fo-mirror: listen");
    return 1;
  }
  if (port_file != NULL) {
    FILE *f = fopen(port_file, "w");
    if (f == NULL || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0) {
      perror(port_file);
      return 1;
    }
  }
  printf("PORT %d\n", ntohs(sa.sin_port));
  fflush(stdout);

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  S.t0_ns = S.last_activity_ns = now_ns();
  for (;;) {
    struct pollfd p = {ls, POLLIN, 0};
    int pr = poll(&p, 1, 200);
    if (pr <= 0) {
      pthread_mutex_lock(&S.mu);
      int idle_now =
          S.active == 0 && now_ns() - S.last_activity_ns > (uint64_t)S.idle_exit_ms * 1000000u;
      pthread_mutex_unlock(&S.mu);
      if (idle_now)
        return 0;
      continue;
    }
    int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_mutex_lock(&S.mu);
    int full = S.active >= S.max_conns;
    if (!full) {
      S.connections++;
      S.active++;
      if (S.active > S.max_active)
        S.max_active = S.active;
    }
    S.last_activity_ns = now_ns();
    pthread_mutex_unlock(&S.mu);
    pthread_t th;
    if (full || pthread_create(&th, &attr, connection, (void *)(intptr_t)fd) != 0) {
      if (!full) {
        pthread_mutex_lock(&S.mu);
        S.active--;
        pthread_mutex_unlock(&S.mu);
      }
      close(fd);
    }
  }
}
