/* The /blob route of the mirror: see blob.h. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "blob.h"

static long long sent_total; /* atomic */

long long mirror_blob_bytes(int reset) {
  if (reset)
    return __atomic_exchange_n(&sent_total, 0, __ATOMIC_RELAXED);
  return __atomic_load_n(&sent_total, __ATOMIC_RELAXED);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A stall: nothing more is sent, the connection stays open until the client gives up (closes)
 * or hold_ms pass; then it is closed. */
static int hold(int fd, long hold_ms) {
  double end = now_s() + (double)(hold_ms > 0 ? hold_ms : 30000) / 1000.0;
  char sink[4096];
  for (double left; (left = end - now_s()) > 0;) {
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, (int)(left * 1000.0) + 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    ssize_t k = recv(fd, sink, sizeof sink, 0);
    if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
      break; /* the client closed */
  }
  return -1;
}

/* Pace the body at rate bytes a second: sleep until `sent` bytes are due since t0. */
static void pace(long long rate, double t0, long long sent) {
  double due = t0 + (double)sent / (double)rate, d = due - now_s();
  if (d > 0) {
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
  }
}

int mirror_blob_serve(int fd, const mirror_blob_req *rq) {
  char etag[64], validator[64], head[512];
  snprintf(etag, sizeof etag, "\"blob-%lld-%s\"", rq->size, rq->tag);
  /* a Last-Modified per version: the tag's first byte picks the day */
  snprintf(validator, sizeof validator, "Sat, %02d Nov 2025 08:49:37 GMT",
           1 + (unsigned char)rq->tag[0] % 28);
  const char *v = rq->lastmod ? validator : etag;
  int ranged = rq->range_from >= 0 && !rq->norange &&
               (rq->if_range[0] == '\0' || strcmp(rq->if_range, v) == 0);
  char vline[128];
  if (rq->lastmod)
    snprintf(vline, sizeof vline, "Last-Modified: %s\r\n", validator);
  else
    snprintf(vline, sizeof vline, "ETag: %s\r\n", etag);
  const char *conn = rq->keep_alive ? "keep-alive" : "close";
  if (ranged && rq->range_from >= rq->size) {
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%lld\r\n"
                     "Content-Length: 0\r\n%sConnection: %s\r\n\r\n",
                     rq->size, vline, conn);
    return mirror_send_all(fd, head, (size_t)n) == 0 && rq->keep_alive ? 0 : -1;
  }
  long long from = ranged ? rq->range_from : 0;
  if (ranged && rq->skew > 0)
    from = rq->skew < from ? from - rq->skew : 0;
  int n;
  if (ranged)
    n = snprintf(head, sizeof head,
                 "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\n"
                 "Content-Range: bytes %lld-%lld/%lld\r\nContent-Length: %lld\r\n"
                 "Accept-Ranges: bytes\r\n%sConnection: %s\r\n\r\n",
                 from, rq->size - 1, rq->size, rq->size - from, vline, conn);
  else
    n = snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                 "Content-Length: %lld\r\n%s%sConnection: %s\r\n\r\n",
                 rq->size, rq->norange ? "" : "Accept-Ranges: bytes\r\n", vline, conn);
  if (mirror_send_all(fd, head, (size_t)n) != 0)
    return -1;
  long long end = rq->cut_now && rq->cut >= 0 && rq->cut < rq->size ? rq->cut : rq->size;
  long long stall = rq->cut_now && rq->stall >= 0 && rq->stall < end ? rq->stall : -1;
  char buf[65536];
  double t0 = now_s();
  /* a paced body goes in pieces of a twentieth of a second, so its rate is even */
  long long piece = rq->rate > 0 && rq->rate / 20 < (long long)sizeof buf ? rq->rate / 20 + 1
                                                                         : (long long)sizeof buf;
  for (long long at = from; at < end;) {
    if (at == stall)
      return hold(fd, rq->hold_ms);
    long long stop = stall > at ? stall : end;
    size_t k = stop - at < piece ? (size_t)(stop - at) : (size_t)piece;
    if (rq->rate > 0)
      pace(rq->rate, t0, at - from);
    for (size_t i = 0; i < k; i++)
      buf[i] = (char)mirror_blob_byte(at + (long long)i, rq->tag);
    if (mirror_send_all(fd, buf, k) != 0)
      return -1;
    __atomic_fetch_add(&sent_total, (long long)k, __ATOMIC_RELAXED);
    at += (long long)k;
  }
  if (end < rq->size)
    return -1; /* the cut: close with the body unfinished */
  return rq->keep_alive ? 0 : -1;
}
