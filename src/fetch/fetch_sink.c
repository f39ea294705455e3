/* Sinks: where a response body goes as it streams (decoded), and its SHA-256.
 *
 * Memory grows a buffer up to the cap. A write callback sees each piece. A file is written under
 * a temporary name in the destination's own directory, so the final rename is atomic and never
 * crosses a file system; it is fsync'ed (file, then directory) before and after the rename so a
 * power cut leaves either the old file or the whole new one. The temporary is unlinked on every
 * failure path, so nothing but the finished file is ever left. The files themselves are made,
 * checked, named and moved by fetch_files.c; resume (fetch_resume.c) is this sink's alone: the
 * transfer asks the sink (fo__sink_answer, fo__sink_range_refused), never resume itself. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* A first body buffer: most API documents fit, and small enough for a board. */
#define BODY_FIRST 16384

/* Remove the file being written (if it is still at its name) and close it. */
static void tmp_remove(fo__sink *s) {
  if (s->fd >= 0) {
    if (s->tmp[0] != '\0')
      fo__files_remove(s, s->tmp, s->fd);
    close(s->fd);
  }
  s->fd = -1;
  s->tmp[0] = '\0';
}

/* Parse 64 hex digits into 32 bytes; 0 or -1. */
int fo__sha256_parse(const char *hex, unsigned char out[32]) {
  if (hex == NULL || strlen(hex) != 64)
    return -1;
  for (int i = 0; i < 64; i++) {
    char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0)
      return -1;
    if (i % 2 == 0)
      out[i / 2] = (unsigned char)(v << 4);
    else
      out[i / 2] |= (unsigned char)v;
  }
  return 0;
}

int fo__sink_open(fo__sink *s, const fo_fetch_req *req, size_t cap, unsigned mode) {
  memset(s, 0, sizeof *s);
  s->fd = -1;
  s->dirfd = -1;
  s->tag_fd = -1;
  s->mode = mode;
  s->req = req;
  s->cap = cap;
  s->kind = req->output ? FO__SINK_FILE : req->write ? FO__SINK_WRITE : FO__SINK_MEMORY;
  s->digest = req->sha256 != NULL;
  if (s->digest)
    mbedtls_sha256_init(&s->sha);
  if (s->kind != FO__SINK_FILE)
    return 0;
  int rc = fo__files_open(s);
  if (rc != 0)
    return rc;
  s->resume = (req->flags & FO_FETCH_RESUME) != 0;
  return s->resume ? fo__resume_open(s) : fo__files_temp(s);
}

int fo__sink_answer(fo__xfer *x) {
  return x->sink.resume ? fo__resume_decide(x) : 0;
}

void fo__sink_range_refused(fo__sink *s) {
  if (s->resume)
    fo__resume_forget(s);
}

int fo__sink_restart(fo__sink *s) {
  s->bytes = 0;
  s->expect = 0;
  s->err = 0;
  s->discard = 0;
  if (s->digest && SHA_START(&s->sha) != 0)
    return FO_EINTERNAL;
  if (s->resume)
    return fo__resume_restart(s);
  if (s->kind == FO__SINK_MEMORY) {
    fo__free(s->buf);
    s->buf = NULL;
    s->buf_cap = 0;
  } else if (s->kind == FO__SINK_FILE) {
    if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0) {
      s->sys_errno = errno;
      return -s->sys_errno;
    }
  }
  return 0;
}

static int memory_take(fo__sink *s, const char *data, size_t n) {
  if (s->bytes + n + 1 > s->buf_cap) {
    /* The announced length first: one allocation of the right size, where a fixed first size
     * would waste most of itself on small documents and grow in steps on large ones. */
    size_t len = (size_t)s->bytes;
    size_t cap = s->buf_cap ? s->buf_cap : s->expect >= n ? (size_t)s->expect + 1 : BODY_FIRST;
    while (cap < len + n + 1)
      cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (s->cap > 0 && cap > s->cap + 1)
      cap = s->cap + 1;
    char *p = fo__realloc(s->buf, cap);
    if (p == NULL)
      return -ENOMEM;
    s->buf = p;
    s->buf_cap = cap;
  }
  memcpy(s->buf + s->bytes, data, n);
  s->buf[s->bytes + n] = '\0';
  return 0;
}

static int file_take(fo__sink *s, const char *data, size_t n) {
  while (n > 0) {
    ssize_t w = write(s->fd, data, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      s->sys_errno = w < 0 ? errno : ENOSPC;
      return -s->sys_errno;
    }
    data += w;
    n -= (size_t)w;
  }
  return 0;
}

int fo__sink_take(fo__xfer *x, const char *data, size_t n) {
  fo__sink *s = &x->sink;
  /* The cap counts decoded bytes, so a small compressed body that inflates without end stops
   * here, within one decoded piece of the cap. */
  if (s->discard)
    return 0; /* the body of a 404 or a 503 is not the file's, nor the callback's */
  if (s->cap > 0 && n > s->cap - s->bytes)
    return FO_ETOOBIG;
  int rc = 0;
  if (s->kind == FO__SINK_MEMORY)
    rc = memory_take(s, data, n);
  else if (s->kind == FO__SINK_FILE)
    rc = file_take(s, data, n);
  else if (s->req->write(data, n, s->req->write_arg) != 0)
    rc = FO_EABORTED;
  if (rc == 0 && s->digest && SHA_UPDATE(&s->sha, (const unsigned char *)data, n) != 0)
    rc = FO_EINTERNAL;
  if (rc != 0)
    return rc;
  s->bytes += n;
  if (s->req->progress != NULL)
    s->req->progress(s->bytes, x->encoded ? 0 : s->expect, s->req->progress_arg);
  return 0;
}

int fo__sink_finish(fo__sink *s, int ok, int err, long status) {
  int rc = 0;
  if (ok && s->digest) {
    unsigned char got[32], want[32];
    if (SHA_FINISH(&s->sha, got) != 0)
      rc = FO_EINTERNAL;
    else if (fo__sha256_parse(s->req->sha256, want) != 0 || memcmp(got, want, 32) != 0)
      rc = FO_EDIGEST;
    for (int i = 0; rc == FO_EDIGEST && i < 32; i++) /* for the message: what did arrive */
      snprintf(s->digest_got + 2 * i, 3, "%02x", got[i]);
  }
  if (s->kind != FO__SINK_FILE || s->fd < 0)
    return rc;
  if (ok && rc == 0)
    rc = fo__files_commit(s);
  if (ok && rc == 0) {
    fo__resume_close(s, 1);
  } else if (!ok && fo__resume_keep(s, err, status)) {
    /* a cut transfer: the partial file and its validator stay for the next run */
    close(s->fd);
    s->fd = -1;
    s->tmp[0] = '\0';
    fo__resume_close(s, 0);
  } else {
    fo__resume_close(s, 1);
  }
  tmp_remove(s);
  return rc;
}

void fo__sink_free(fo__sink *s) {
  tmp_remove(s);
  fo__resume_close(s, 1);
  if (s->dirfd >= 0)
    close(s->dirfd);
  s->dirfd = -1;
  if (s->digest)
    mbedtls_sha256_free(&s->sha);
  s->digest = 0;
  fo__free(s->buf);
  s->buf = NULL;
}

/* fo__msgf's twin: fetch.c reaches this file through the decoder, so it may not be called back.
 * vsnprintf cuts to fit without a truncation warning; cutting is intended. */
static void message(fo_fetch_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message(fo_fetch_result *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
}

int fo__sink_file_message(fo_fetch_result *r, const fo__sink *s, int err) {
  if (s->kind != FO__SINK_FILE || (err != FO_EUNSAFE && err != -EBUSY && s->sys_errno == 0))
    return 0;
  const char *out = s->req->output;
  const char *name = s->bad[0] != '\0' ? s->bad : s->base ? s->base : out;
  int dir = s->base != NULL ? (int)(s->base - out) : 0;
  const char *why = err == -EBUSY ? "other runs are writing this output"
                    : err != FO_EUNSAFE ? strerror(s->sys_errno)
                    : s->base != NULL && strcmp(name, s->base) == 0
                        ? "not a regular file (a device, FIFO or socket): left alone"
                        : "in the way and not a file this fetcher made: left alone";
  message(r, "%.*s%s: %s", dir, out, name, why);
  return 1;
}
