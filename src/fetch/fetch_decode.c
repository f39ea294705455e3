/* Compressed bodies (Content-Encoding gzip or deflate) inflated as they stream, with zlib.
 *
 * libcurl could decode them itself, but libcurl 7.88 takes a gzip stream that stops part-way
 * as a complete body: here a stream that has not reached its end when the transfer does is
 * FO_EENCODING. The output goes out in pieces of DECODE_PIECE bytes, so a body that inflates a
 * thousandfold (a zip bomb) meets the sink's cap after one piece too many at most, whatever the
 * ratio: memory is bounded by the cap plus this piece, and time by the cap. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fetch/fetch_internal.h"

/* Decoded bytes handed to the sink at a time: on the worker's stack. */
#define DECODE_PIECE 16384

static int start(fo__decode *d, int raw) {
  memset(&d->z, 0, sizeof d->z);
  /* 15 + 32: a zlib or a gzip header, found by zlib; -15: raw deflate */
  if (inflateInit2(&d->z, raw ? -15 : 15 + 32) != Z_OK)
    return -ENOMEM;
  d->on = 1;
  d->raw = raw;
  d->ended = 0;
  return 0;
}

int fo__decode_body(fo__xfer *x, const char *data, size_t n) {
  fo__decode *d = &x->dec;
  if (!d->on) {
    int rc = start(d, 0);
    if (rc != 0)
      return rc;
  }
  unsigned char out[DECODE_PIECE];
  const unsigned char *in = (const unsigned char *)data;
  int first = x->sink.bytes == 0 && d->z.total_in == 0;
  while (n > 0) {
    if (d->ended) {
      /* gzip allows members one after another; anything else after the end is not a body */
      if (d->raw || inflateReset(&d->z) != Z_OK)
        return FO_EENCODING;
      d->ended = 0;
    }
    uInt chunk = n > (1u << 30) ? 1u << 30 : (uInt)n;
    d->z.next_in = (Bytef *)(uintptr_t)in;
    d->z.avail_in = chunk;
    int zr;
    do {
      d->z.next_out = out;
      d->z.avail_out = sizeof out;
      zr = inflate(&d->z, Z_NO_FLUSH);
      if (zr == Z_DATA_ERROR && first && !d->raw) {
        /* some servers send "deflate" without the zlib header it calls for */
        inflateEnd(&d->z);
        d->on = 0;
        int rc = start(d, 1);
        if (rc != 0)
          return rc;
        first = 0;
        d->z.next_in = (Bytef *)(uintptr_t)in;
        d->z.avail_in = chunk;
        continue;
      }
      if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
        return zr == Z_MEM_ERROR ? -ENOMEM : FO_EENCODING;
      size_t got = sizeof out - d->z.avail_out;
      if (got > 0) {
        int rc = fo__sink_take(x, (const char *)out, got);
        if (rc != 0)
          return rc;
      }
      first = 0;
      if (zr == Z_STREAM_END) {
        d->ended = 1;
        break;
      }
    } while (d->z.avail_in > 0 || d->z.avail_out == 0);
    size_t used = chunk - d->z.avail_in;
    in += used;
    n -= used;
    if (used == 0 && !d->ended)
      return FO_EENCODING; /* no progress: cannot happen with a sound stream */
  }
  return 0;
}

int fo__decode_finish(fo__xfer *x) {
  return x->dec.on && !x->dec.ended ? FO_EENCODING : 0;
}

void fo__decode_free(fo__decode *d) {
  if (d->on)
    inflateEnd(&d->z);
  d->on = 0;
  d->ended = 0;
}

/* libcurl's write callback, the body's way in: an announced size over the cap is refused before
 * a byte is kept, an encoded body is inflated here, and every decoded byte goes on to the sink
 * (fo__sink_take). */
size_t fo__decode_on_body(char *data, size_t size, size_t nmemb, void *userp) {
  fo__xfer *x = userp;
  size_t n = size * nmemb;
  if (x->sink.bytes == 0 && x->encoded == 0 && x->sink.cap > 0 && x->sink.expect > x->sink.cap)
    x->sink.err = FO_ETOOBIG; /* an announced size over the cap: refused before a byte is kept */
  else if (x->encoded == 2)
    x->sink.err = FO_EENCODING;
  else
    x->sink.err = x->encoded ? fo__decode_body(x, data, n) : fo__sink_take(x, data, n);
  /* The byte rates count what crossed the link: these bytes, before decoding, whatever became
   * of them. They are booked here; when they are paid in the future, the transfer pauses until
   * then (fetch_transfer.c's write callback, which wraps this one, pauses it). */
  if ((x->flow != NULL || x->own.rate > 0) && x->sink.err == 0) {
    uint64_t now = (uint64_t)fo__now_ns();
    uint64_t until = fo__flows_book(x->own.rate > 0 ? &x->own : NULL, x->flow, n, now);
    x->pause_until = until > now ? until : 0;
  }
  return x->sink.err == 0 ? n : 0;
}
