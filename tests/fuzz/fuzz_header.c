/* libFuzzer harness over what a server sends the fetcher before and as its body: response header
 * lines (fetch_header.c: status, validators, lengths, Content-Range, encodings, Retry-After, the
 * bounds) and the gzip/deflate decoder (fetch_decode.c), with no network and no libcurl call.
 * The first input byte picks the part; the rest is the server's bytes. Besides "no crash, no
 * leak, no read past the input", it checks what the fetcher promises its callers:
 * - every result is a documented code;
 * - a kept ETag or Last-Modified is printable ASCII within its bound (it goes back in a header);
 * - a status line accepted has a status from 100 to 599;
 * - a Content-Range kept is ordered, and a 206 the check accepts starts where asked and ends at
 *   the total's last byte;
 * - the decoder never hands the sink more than the cap plus one piece, nor anything after an
 *   error.
 * The sink is a counter here (fo__sink_take below), so the decoder runs alone.
 * Build and run: make fuzz FUZZ_SECONDS=60 (tests/fuzz/run.sh). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fetch/fetch_internal.h"
#include "require.h"

/* The decoder's next stage: count, refuse over a small cap as the real sink does. */
int fo__sink_take(fo__xfer *x, const char *data, size_t n) {
  (void)data;
  if (x->sink.cap > 0 && n > x->sink.cap - x->sink.bytes)
    return FO_ETOOBIG;
  x->sink.bytes += n;
  return 0;
}

static int printable(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      return 0;
  return 1;
}

static void headers(const uint8_t *data, size_t size) {
  fo__xfer x;
  memset(&x, 0, sizeof x);
  x.range_start = x.range_end = x.range_total = x.length = -1;
  /* the byte after the selector: whether a Range was asked, and from where */
  x.range_from = size > 0 && data[0] & 1 ? (long long)(data[0] >> 1) * 100 : -1;
  if (size > 0)
    data++, size--;
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    int rc = fo__header_line(&x, p, len);
    REQUIRE(rc == 0 || rc == FO__HDR_NEW || rc == FO__HDR_END || rc == FO_EHEADER ||
            rc == FO_EPROTOCOL || rc == -ENOMEM);
    if (rc == FO__HDR_NEW)
      REQUIRE(x.status >= 100 && x.status <= 599);
    if (x.etag != NULL)
      REQUIRE(strlen(x.etag) <= FO_FETCH_VALIDATOR_MAX && printable(x.etag));
    REQUIRE(printable(x.last_modified));
    if (x.range_start >= 0)
      REQUIRE(x.range_end >= 0);
    if (rc == FO__HDR_END) {
      const char *why;
      int ok = fo__header_answer_check(&x, &why);
      REQUIRE(ok == 0 || (ok == FO_EPROTOCOL && why != NULL));
      if (ok == 0 && x.status == 206) {
        REQUIRE(x.range_from >= 0 && x.range_start == x.range_from);
        REQUIRE(x.range_end >= x.range_start);
        REQUIRE(x.range_total < 0 || x.range_end == x.range_total - 1);
      }
    }
    if (rc < 0)
      break; /* libcurl stops the transfer here */
    p += len;
  }
  fo__free(x.etag);
}

static void decode(const uint8_t *data, size_t size) {
  static fo__xfer x; /* the inflater's window is large for a stack frame */
  memset(&x, 0, sizeof x);
  x.encoded = 1;
  x.sink.cap = size > 0 ? (size_t)data[0] * 97 + 1 : 1;
  if (size > 0)
    data++, size--;
  int rc = 0;
  /* pieces of varying size, as a network delivers them */
  for (size_t at = 0, piece = 1; at < size && rc == 0; at += piece, piece = piece * 3 + 1) {
    size_t n = size - at < piece ? size - at : piece;
    unsigned long long before = x.sink.bytes;
    rc = fo__decode_body(&x, (const char *)data + at, n);
    REQUIRE(rc == 0 || rc == FO_ETOOBIG || rc == FO_EENCODING || rc == -ENOMEM);
    REQUIRE(x.sink.bytes <= x.sink.cap);
    if (rc != 0)
      REQUIRE(x.sink.bytes >= before);
  }
  if (rc == 0) {
    int fin = fo__decode_finish(&x);
    REQUIRE(fin == 0 || fin == FO_EENCODING);
  }
  fo__decode_free(&x.dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  if (data[0] & 1)
    decode(data + 1, size - 1);
  else
    headers(data + 1, size - 1);
  return 0;
}
