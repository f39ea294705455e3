/* Message queues without mq_open: a socketpair(AF_UNIX, SOCK_SEQPACKET). Producers send on one
 * end and consumers receive on the other; SEQPACKET keeps message boundaries, delivers each
 * message to exactly one receiver and keeps order, which is all fo_mq promises. Each datagram
 * starts with one tag byte, gathered and scattered by sendmsg/recvmsg (no copy), which tells a
 * message from an end-of-stream marker: sockets have no priorities to tell them apart with. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fanout/fanout.h"
#include "ports/port.h"

/* Largest message accepted: a datagram must fit in the sender's socket buffer, whose size the
 * system caps (net.core.wmem_max on Linux, about 200 KiB by default). */
#ifndef FO_MQ_SOCK_MSG_MAX
#define FO_MQ_SOCK_MSG_MAX 65536
#endif

/* The tag byte before each datagram's payload. */
#define TAG_MSG 'M'
#define TAG_END 'E'

/* Per-message bookkeeping the kernel charges to the socket buffer (an skb on Linux). */
#define SOCK_MSG_OVERHEAD 1024

static int cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  return flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0 ? 0 : -errno;
}

int fo__port_mq_create(fo__port_mq *q, size_t msg_size, unsigned depth, unsigned flags) {
  q->send_fd = q->recv_fd = -1;
  if (msg_size > FO_MQ_SOCK_MSG_MAX) {
    if (!(flags & FO__PORT_MQ_CLAMP))
      return -EMSGSIZE;
    msg_size = FO_MQ_SOCK_MSG_MAX;
  }
  int sv[2];
  if (fo__fault_at(FO__FAULT_MQ) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
    return -errno;
  int rc = cloexec(sv[0]);
  if (rc == 0)
    rc = cloexec(sv[1]);
  /* Room for depth messages where the system allows it; the kernel's own queue-length limit
   * (net.unix.max_dgram_qlen) may block a sender earlier, which is why depth is only a hint. */
  size_t want = ((size_t)depth < 4096 ? (size_t)depth : 4096) * (msg_size + SOCK_MSG_OVERHEAD);
  int have = 0;
  socklen_t len = sizeof have;
  if (rc == 0 && getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &have, &len) == 0 && have >= 0 &&
      (size_t)have < want && want < (1u << 30)) {
    int w = (int)want;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &w, sizeof w); /* best effort: capped by the system */
  }
  if (rc == 0) {
    len = sizeof have;
    if (getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &have, &len) != 0)
      rc = -errno;
    else if ((size_t)have < msg_size + 1 + SOCK_MSG_OVERHEAD)
      rc = -EMSGSIZE; /* the system would refuse the largest message */
  }
  if (rc != 0) {
    close(sv[0]);
    close(sv[1]);
    return rc;
  }
  q->send_fd = sv[0];
  q->recv_fd = sv[1];
  q->msg_size = msg_size;
  q->depth = depth;
  return 0;
}

/* Wait for fd to become ready for events until the deadline. Returns 0 (ready, or worth another
 * try), or -ETIMEDOUT. */
static int wait_ready(int fd, short events, int64_t deadline) {
  struct pollfd p = {fd, events, 0};
  int ms = fo__deadline_poll_ms(deadline);
  if (ms == 0)
    return -ETIMEDOUT;
  int n = poll(&p, 1, ms);
  if (n < 0 && errno != EINTR)
    return -errno;
  return 0;
}

static int send_tagged(const fo__port_mq *q, char tag, const void *msg, size_t len,
                       int64_t deadline) {
  /* Without a deadline the blocking send sleeps in the kernel: one system call per message. */
  int dontwait = deadline == FO__FOREVER ? 0 : MSG_DONTWAIT;
  struct iovec iov[2] = {{&tag, 1}, {(void *)(uintptr_t)msg, len}};
  struct msghdr mh = {0};
  mh.msg_iov = iov;
  mh.msg_iovlen = len > 0 ? 2 : 1;
  for (;;) {
    ssize_t n = sendmsg(q->send_fd, &mh, MSG_NOSIGNAL | dontwait);
    if (n >= 0)
      return 0;
    if (errno == EMSGSIZE)
      return FO_ETOOBIG;
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
      return -errno;
    if (errno != EINTR) {
      int rc = wait_ready(q->send_fd, POLLOUT, deadline);
      if (rc < 0)
        return rc;
    }
  }
}

int fo__port_mq_send(const fo__port_mq *q, const void *msg, size_t len, int64_t deadline) {
  return send_tagged(q, TAG_MSG, msg, len, deadline);
}

int fo__port_mq_send_end(const fo__port_mq *q, int64_t deadline) {
  return send_tagged(q, TAG_END, NULL, 0, deadline);
}

int fo__port_mq_recv(const fo__port_mq *q, void *buf, size_t cap, int64_t deadline) {
  int dontwait = deadline == FO__FOREVER ? 0 : MSG_DONTWAIT;
  char tag = 0;
  struct iovec iov[2] = {{&tag, 1}, {buf, cap}};
  struct msghdr mh = {0};
  mh.msg_iov = iov;
  mh.msg_iovlen = 2;
  for (;;) {
    ssize_t n = recvmsg(q->recv_fd, &mh, dontwait);
    if (n > 0)
      return tag == TAG_END ? FO_EEOF : (int)(n - 1);
    if (n == 0)
      return FO_EEOF; /* no datagram at all: every sending end is closed */
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
      return -errno;
    if (errno != EINTR) {
      int rc = wait_ready(q->recv_fd, POLLIN, deadline);
      if (rc < 0)
        return rc;
    }
  }
}

void fo__port_mq_close(fo__port_mq *q) {
  if (q->send_fd >= 0)
    close(q->send_fd);
  if (q->recv_fd >= 0 && q->recv_fd != q->send_fd)
    close(q->recv_fd);
  q->send_fd = q->recv_fd = -1;
}
