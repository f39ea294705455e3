/* The mirror's /blob route: a large deterministic body with a validator and byte ranges, and a
 * cut at a chosen byte, so a client's resume can be tested exactly. */
#ifndef FO_MIRROR_BLOB_H
#define FO_MIRROR_BLOB_H

#include <stddef.h>

typedef struct {
  long long size;       /* body bytes (size=, default 1 MiB) */
  long long cut;        /* close after this byte of the body (cut=); -1: never */
  int cut_now;          /* this request is one of the first n= of its target */
  int norange;          /* norange=1: ignore Range, answer 200 */
  int lastmod;          /* lastmod=1: Last-Modified as the validator, no ETag */
  long long skew;       /* skew=K: a 206 starts K bytes before the byte asked for (a bad server) */
  char tag[32];         /* tag=: part of the validator (change it to change the body's version) */
  long long range_from; /* from "Range: bytes=N-"; -1: none */
  char if_range[128];   /* the If-Range header, or "" */
  int keep_alive;
  long long stall;      /* stall=B: after body byte B send nothing more, with the connection
                           open, for hold= ms (default 30000) or until the client closes; only
                           for the first n= requests, as cut; -1: never */
  long hold_ms;
  long long rate;       /* rate=R: send the body at R bytes a second; 0: as fast as it goes */
} mirror_blob_req;

/* The byte at offset i of a blob of version tag: depends on both, so a wrong offset or a mixed
 * version shows. Inline, so tests make the expected file without the server. */
static inline unsigned char mirror_blob_byte(long long i, const char *tag) {
  unsigned h = (unsigned char)tag[0] * 31u + (unsigned char)(tag[0] ? tag[1] : 0);
  return (unsigned char)((unsigned long long)i * 131u + ((unsigned long long)i >> 11) + h);
}
/* Answer one /blob request. 0 to keep the connection, -1 to close it. */
int mirror_blob_serve(int fd, const mirror_blob_req *rq);
/* Body bytes sent for /blob since the start or the last reset. */
long long mirror_blob_bytes(int reset);

/* mirror.c's writer: all of p, or -1. */
int mirror_send_all(int fd, const char *p, size_t n);

#endif /* FO_MIRROR_BLOB_H */
