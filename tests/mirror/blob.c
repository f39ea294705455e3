/* The /blob route of the mirror: see blob.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "blob.h"

static long long sent_total; /* atomic */

long long mirror_blob_bytes(int reset) {
  if (reset)
    return __atomic_exchange_n(&sent_total, 0, __ATOMIC_RELAXED);
  return __atomic_load_n(&sent_total, __ATOMIC_RELAXED);
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
  char buf[65536];
  for (long long at = from; at < end;) {
    size_t k = end - at < (long long)sizeof buf ? (size_t)(end - at) : sizeof buf;
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
