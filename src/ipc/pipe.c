/* fo_pipe: framed messages over pipe(2). Each message is an 8-byte length (native byte order:
 * both ends run on one machine) followed by the payload. A call with a deadline switches its end
 * to O_NONBLOCK and waits in poll(2) with the time left; a call without one switches it back and
 * blocks in read or write, so it costs one system call like the raw call (the switch happens
 * only when a caller changes habits). The writer sends a batch as header and payload pairs in
 * few writev(2) calls and keeps nothing back; fo_pipe_send is a batch of one. The reader
 * buffers, so small messages cost it a fraction of a read(2) each. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fanout/ipc.h"

/* The reader's buffer: large enough to take many small messages per read(2), small enough for a
 * board; payloads longer than this are read straight into the caller's buffer. */
#ifndef FO_PIPE_READ_BUF
#define FO_PIPE_READ_BUF 4096
#endif

/* Messages one writev(2) carries at most. Their headers and iovecs live on the stack, 40 bytes
 * a message (2.5 KiB at 64), which bounds what a send takes of a small thread stack; IOV_MAX
 * (1,024 on Linux) would take 20 KiB, and past a few dozen messages a call's fixed cost is small
 * next to the copies anyway. */
#ifndef FO_PIPE_BATCH
#define FO_PIPE_BATCH 64
#endif
#if defined(IOV_MAX) && 2 * FO_PIPE_BATCH > IOV_MAX
#define FO__PIPE_BATCH (IOV_MAX / 2)
#else
#define FO__PIPE_BATCH FO_PIPE_BATCH
#endif

/* A lone message of up to this many bytes, header included, is copied behind its header on the
 * stack and sent with write(2) instead of a two-part writev(2). */
#ifndef FO_PIPE_SMALL
#define FO_PIPE_SMALL 256
#endif

#define HDR ((size_t)sizeof(uint64_t))

struct fo_pipe {
  int fd;
  int writer;
  int nonblock; /* whether fd has O_NONBLOCK now (one process uses each end, so this is true) */
  /* writer: the message part-way sent, if any (same msg and len must come back) */
  const void *part_msg;
  size_t part_len, part_done; /* part_done counts header and payload bytes written */
  int part_active;
  /* reader: buffered bytes are rbuf[rpos, rend); the current message's header has been taken
   * when have_hdr, and msg_got of its msg_len payload bytes are in the caller's buffer */
  int eof, broken, have_hdr;
  uint64_t msg_len;
  size_t msg_got, rpos, rend;
  unsigned char rbuf[]; /* FO_PIPE_READ_BUF bytes, reader only */
};

static int set_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFD);
  return fl >= 0 && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == 0 ? 0 : -errno;
}

/* Blocking for calls without a deadline, non-blocking for the others. */
static int set_mode(fo_pipe *p, int64_t deadline) {
  int want = deadline != FO__FOREVER;
  if (p->nonblock == want)
    return 0;
  int fl = fcntl(p->fd, F_GETFL);
  if (fl < 0 || fcntl(p->fd, F_SETFL, want ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) != 0)
    return -errno;
  p->nonblock = want;
  return 0;
}

static fo_pipe *new_end(int fd, int writer) {
  fo_pipe *p = fo__malloc(sizeof *p + (writer ? 0 : FO_PIPE_READ_BUF));
  if (p != NULL) {
    memset(p, 0, sizeof *p);
    p->fd = fd;
    p->writer = writer;
  }
  return p;
}

int fo_pipe_create(fo_pipe **reader, fo_pipe **writer) {
  if (reader == NULL || writer == NULL)
    return -EINVAL;
  *reader = *writer = NULL;
  int fds[2];
  if (pipe(fds) != 0)
    return -errno;
  int rc = set_cloexec(fds[0]);
  if (rc == 0)
    rc = set_cloexec(fds[1]);
  fo_pipe *r = NULL, *w = NULL;
  if (rc == 0) {
    r = new_end(fds[0], 0);
    w = new_end(fds[1], 1);
    if (r == NULL || w == NULL)
      rc = -ENOMEM;
  }
  if (rc != 0) {
    fo__free(r);
    fo__free(w);
    close(fds[0]);
    close(fds[1]);
    return rc;
  }
  *reader = r;
  *writer = w;
  return 0;
}

void fo_pipe_destroy(fo_pipe *end) {
  if (end == NULL)
    return;
  close(end->fd);
  fo__free(end);
}

/* Wait until fd is ready for events or the deadline passes. 0: try again; -ETIMEDOUT. */
static int wait_fd(int fd, short events, int64_t deadline) {
  int ms = fo__deadline_poll_ms(deadline);
  if (ms == 0)
    return -ETIMEDOUT;
  struct pollfd pfd = {fd, events, 0};
  if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
    return -errno;
  return 0;
}

/* Arguments of a send, all checked before anything is written, so that a refused batch sends
 * none of its messages. */
static int check_batch(const fo_pipe *w, const struct iovec *msgs, size_t count, int timeout_ms) {
  if (w == NULL || !w->writer || (msgs == NULL && count > 0) || timeout_ms < FO_FOREVER)
    return -EINVAL;
  if (count > SIZE_MAX / sizeof *msgs)
    return FO_ETOOBIG; /* no array is that long: the count itself is wrong */
  size_t total = 0;
  for (size_t i = 0; i < count; i++) {
    size_t len = msgs[i].iov_len;
    if (msgs[i].iov_base == NULL && len > 0)
      return -EINVAL;
    if (total > SIZE_MAX - HDR || len > SIZE_MAX - HDR - total)
      return FO_ETOOBIG;
    total += HDR + len;
  }
  if (w->part_active &&
      (count == 0 || msgs[0].iov_base != w->part_msg || msgs[0].iov_len != w->part_len))
    return -EINVAL; /* the half-sent message must come first, or the stream loses its framing */
  return 0;
}

/* One system call writing what it can of msgs[0, count), the first from byte off (header
 * included): header and payload pairs of up to FO_PIPE_BATCH messages in one writev(2), or a
 * small lone message copied behind its header for one write(2), which the kernel handles with
 * less work than a vector. Either way a total of up to PIPE_BUF bytes is one atomic write. */
static ssize_t write_some(int fd, const struct iovec *msgs, size_t count, size_t off) {
  uint64_t hdr[FO__PIPE_BATCH];
  if (count == 1 && off == 0 && msgs[0].iov_len <= FO_PIPE_SMALL - HDR) {
    unsigned char b[FO_PIPE_SMALL];
    hdr[0] = (uint64_t)msgs[0].iov_len;
    memcpy(b, &hdr[0], HDR);
    if (msgs[0].iov_len > 0)
      memcpy(b + HDR, msgs[0].iov_base, msgs[0].iov_len);
    return write(fd, b, HDR + msgs[0].iov_len);
  }
  struct iovec iov[2 * FO__PIPE_BATCH];
  int cnt = 0;
  size_t room = SSIZE_MAX; /* writev(2) refuses a vector whose total passes SSIZE_MAX */
  for (size_t k = 0; k < count && k < FO__PIPE_BATCH && room >= HDR; k++, off = 0) {
    hdr[k] = (uint64_t)msgs[k].iov_len;
    if (off < HDR) {
      iov[cnt].iov_base = (unsigned char *)&hdr[k] + off;
      iov[cnt++].iov_len = HDR - off;
      room -= HDR - off;
      off = HDR;
    }
    size_t done = off - HDR, len = msgs[k].iov_len - done;
    if (len > room)
      len = room;
    if (len > 0) {
      iov[cnt].iov_base = (unsigned char *)msgs[k].iov_base + done;
      iov[cnt++].iov_len = len;
      room -= len;
    }
  }
  return writev(fd, iov, cnt);
}

/* Move the position (message *i, byte *off of it) past n bytes written. */
static void advance(const struct iovec *msgs, size_t *i, size_t *off, size_t n) {
  while (n > 0) {
    size_t left = HDR + msgs[*i].iov_len - *off;
    if (n < left) {
      *off += n;
      return;
    }
    n -= left;
    ++*i;
    *off = 0;
  }
}

/* The send engine: fo_pipe_send is a batch of one. */
static int send_batch(fo_pipe *w, const struct iovec *msgs, size_t count, size_t *sent,
                      int timeout_ms) {
  int rc = check_batch(w, msgs, count, timeout_ms);
  int64_t deadline = fo__deadline(timeout_ms);
  if (rc == 0)
    rc = set_mode(w, deadline);
  if (rc < 0)
    return rc; /* nothing written: a half-sent message stays as it was */
  size_t i = 0, off = w->part_active ? w->part_done : 0;
  while (i < count) {
    ssize_t n = write_some(w->fd, msgs + i, count - i, off);
    if (n > 0) {
      advance(msgs, &i, &off, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    rc = n < 0 && errno != EAGAIN && errno != EWOULDBLOCK ? -errno
                                                          : wait_fd(w->fd, POLLOUT, deadline);
    if (rc < 0)
      break;
  }
  *sent = i;
  /* A message the deadline cut stays half sent; with the reader gone there is none to resume. */
  w->part_active = rc == -ETIMEDOUT && off > 0;
  if (w->part_active) {
    w->part_msg = msgs[i].iov_base;
    w->part_len = msgs[i].iov_len;
    w->part_done = off;
  }
  return rc;
}

/* Read more bytes into the reader's buffer. Returns > 0 bytes read, 0 at end of stream,
 * -ETIMEDOUT or another negative errno. */
static ssize_t fill(fo_pipe *r, int64_t deadline) {
  if (r->rpos > 0) {
    memmove(r->rbuf, r->rbuf + r->rpos, r->rend - r->rpos);
    r->rend -= r->rpos;
    r->rpos = 0;
  }
  for (;;) {
    ssize_t n = read(r->fd, r->rbuf + r->rend, FO_PIPE_READ_BUF - r->rend);
    if (n >= 0) {
      r->rend += (size_t)n;
      return n;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return -errno;
    if (errno != EINTR) {
      int rc = wait_fd(r->fd, POLLIN, deadline);
      if (rc < 0)
        return rc;
    }
  }
}

/* Read payload bytes straight into the caller's buffer, past the reader's own. */
static ssize_t read_direct(fo_pipe *r, unsigned char *dst, size_t want, int64_t deadline) {
  for (;;) {
    ssize_t n = read(r->fd, dst, want);
    if (n >= 0)
      return n;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return -errno;
    if (errno != EINTR) {
      int rc = wait_fd(r->fd, POLLIN, deadline);
      if (rc < 0)
        return rc;
    }
  }
}

/* Take the next message's header. 0, FO_EEOF, FO_EBROKEN, -ETIMEDOUT or a negative errno. */
static int take_header(fo_pipe *r, int64_t deadline) {
  while (r->rend - r->rpos < HDR) {
    if (r->eof && r->rend == r->rpos)
      return FO_EEOF;
    if (r->eof) {
      r->broken = 1; /* a header cut short */
      return FO_EBROKEN;
    }
    ssize_t n = fill(r, deadline);
    if (n < 0)
      return (int)n;
    if (n == 0)
      r->eof = 1;
  }
  memcpy(&r->msg_len, r->rbuf + r->rpos, HDR);
  r->rpos += HDR;
  r->have_hdr = 1;
  r->msg_got = 0;
  return 0;
}

static int pipe_recv(fo_pipe *r, void *buf, size_t cap, size_t *len, int timeout_ms) {
  if (r == NULL || r->writer || len == NULL || (buf == NULL && cap > 0) || timeout_ms < FO_FOREVER)
    return -EINVAL;
  if (r->broken)
    return FO_EBROKEN;
  int64_t deadline = fo__deadline(timeout_ms);
  int rc = set_mode(r, deadline);
  if (rc == 0 && !r->have_hdr)
    rc = take_header(r, deadline);
  if (rc < 0)
    return rc;
  *len = r->msg_len > SIZE_MAX ? SIZE_MAX : (size_t)r->msg_len;
  if (buf == NULL)
    return 0; /* size query: the message stays next */
  if (r->msg_len > cap)
    return FO_ETOOBIG;
  unsigned char *dst = buf;
  size_t total = (size_t)r->msg_len;
  while (r->msg_got < total) {
    size_t want = total - r->msg_got, have = r->rend - r->rpos;
    if (have > 0) {
      size_t n = have < want ? have : want;
      memcpy(dst + r->msg_got, r->rbuf + r->rpos, n);
      r->rpos += n;
      r->msg_got += n;
      continue;
    }
    ssize_t n = r->eof                     ? 0
                : want >= FO_PIPE_READ_BUF ? read_direct(r, dst + r->msg_got, want, deadline)
                                           : fill(r, deadline);
    if (n < 0)
      return (int)n; /* -ETIMEDOUT: the message resumes on the next call */
    if (n == 0) {
      r->eof = r->broken = 1;
      return FO_EBROKEN;
    }
    if (want >= FO_PIPE_READ_BUF)
      r->msg_got += (size_t)n;
  }
  r->have_hdr = 0;
  return 0;
}

int fo_pipe_send(fo_pipe *writer, const void *msg, size_t len, int timeout_ms) {
  struct iovec one = {(void *)(uintptr_t)msg, len};
  size_t sent;
  return fo__timeout_rc(send_batch(writer, &one, 1, &sent, timeout_ms), timeout_ms);
}

int fo_pipe_sendv(fo_pipe *writer, const struct iovec *msgs, size_t count, size_t *sent,
                  int timeout_ms) {
  if (sent == NULL)
    return -EINVAL;
  *sent = 0;
  return fo__timeout_rc(send_batch(writer, msgs, count, sent, timeout_ms), timeout_ms);
}

int fo_pipe_recv(fo_pipe *reader, void *buf, size_t cap, size_t *len, int timeout_ms) {
  return fo__timeout_rc(pipe_recv(reader, buf, cap, len, timeout_ms), timeout_ms);
}
