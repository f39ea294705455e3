/* Message queues on Linux: POSIX mq, created under an unpredictable name and unlinked at once. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fanout/fanout.h"
#include "linux.h"
#include "ports/port.h"

/* Read one number from /proc/sys/fs/mqueue; 0 when it cannot be read. */
static long mq_limit(const char *name) {
  char path[64], buf[32];
  snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  long v = 0;
  return sscanf(buf, "%ld", &v) == 1 && v > 0 ? v : 0;
}

/* EMFILE means either a full descriptor table or a full RLIMIT_MSGQUEUE byte budget; only the
 * first stops another open() from succeeding. */
static int emfile_cause(void) {
  int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == EMFILE ? -EMFILE : FO_EMQCOUNT;
  close(fd);
  return FO_EMQCOUNT;
}

/* mq_open(O_CREAT | O_EXCL) under a fresh random name, unlinked before returning. */
static int open_unlinked(struct mq_attr *attr) {
  for (int attempt = 0; attempt < 8; attempt++) {
    char name[48];
    int rc = fo__linux_random_name(name, sizeof name, "/fanout-mq-");
    if (rc < 0)
      return rc;
    mqd_t mq = fo__fault_at(FO__FAULT_MQ)
                   ? (mqd_t)-1
                   : mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, attr);
    if (mq == (mqd_t)-1) {
      if (errno == EEXIST)
        continue;
      return -errno;
    }
    if (mq_unlink(name) != 0) {
      rc = -errno;
      mq_close(mq);
      return rc;
    }
    return (int)mq;
  }
  return -EEXIST;
}

int fo__port_mq_create(fo__port_mq *q, size_t msg_size, unsigned depth, unsigned flags) {
  q->send_fd = q->recv_fd = -1;
  struct mq_attr attr = {0};
  attr.mq_maxmsg = (long)depth;
  attr.mq_msgsize = (long)msg_size;
  int fd = open_unlinked(&attr);
  if (fd == -EINVAL) {
    /* Above a kernel limit: the only EINVAL left, since the name and sizes are well-formed.
     * A privileged process may exceed msg_max, so the limits are read only now. */
    long max_msg = mq_limit("msg_max"), max_size = mq_limit("msgsize_max");
    if (!(flags & FO__PORT_MQ_CLAMP) || max_msg == 0 || max_size == 0)
      return FO_EMQLIMIT;
    if (attr.mq_maxmsg > max_msg)
      attr.mq_maxmsg = max_msg;
    if (attr.mq_msgsize > max_size)
      attr.mq_msgsize = max_size;
    fd = open_unlinked(&attr);
    if (fd == -EINVAL)
      return FO_EMQLIMIT;
  }
  if (fd == -EMFILE)
    return emfile_cause();
  if (fd == -ENOSPC) /* queues_max reached */
    return FO_EMQLIMIT;
  if (fd < 0)
    return fd;
  if (mq_getattr((mqd_t)fd, &attr) != 0) {
    int rc = -errno;
    mq_close((mqd_t)fd);
    return rc;
  }
  q->send_fd = q->recv_fd = fd;
  q->msg_size = (size_t)attr.mq_msgsize;
  q->depth = (unsigned)attr.mq_maxmsg;
  return 0;
}

/* What to do after a failed mq call: 1 to retry (EINTR, or a realtime clock step that ended the
 * wait before the monotonic deadline), or the negative code to return. */
static int after_failure(int err, int64_t deadline) {
  if (err == EINTR)
    return 1;
  if (err == ETIMEDOUT)
    return fo__deadline_passed(deadline) ? -ETIMEDOUT : 1;
  return -err;
}

/* Messages go at MSG_PRIO and end-of-stream markers at END_PRIO, lower: the kernel hands out the
 * highest priority first, so a marker never overtakes a message queued before it. */
#define MSG_PRIO 1u
#define END_PRIO 0u

static int send_prio(const fo__port_mq *q, const void *msg, size_t len, unsigned prio,
                     int64_t deadline) {
  for (;;) {
    int rc;
    if (deadline == FO__FOREVER) {
      rc = mq_send((mqd_t)q->send_fd, msg, len, prio);
    } else {
      struct timespec at = fo__deadline_realtime(deadline);
      rc = mq_timedsend((mqd_t)q->send_fd, msg, len, prio, &at);
    }
    if (rc == 0)
      return 0;
    if (errno == EMSGSIZE)
      return FO_ETOOBIG;
    rc = after_failure(errno, deadline);
    if (rc < 0)
      return rc;
  }
}

int fo__port_mq_send(const fo__port_mq *q, const void *msg, size_t len, int64_t deadline) {
  return send_prio(q, msg, len, MSG_PRIO, deadline);
}

int fo__port_mq_send_end(const fo__port_mq *q, int64_t deadline) {
  static const char none[1];
  return send_prio(q, none, 0, END_PRIO, deadline);
}

int fo__port_mq_recv(const fo__port_mq *q, void *buf, size_t cap, int64_t deadline) {
  for (;;) {
    ssize_t n;
    unsigned prio = MSG_PRIO;
    if (deadline == FO__FOREVER) {
      n = mq_receive((mqd_t)q->recv_fd, buf, cap, &prio);
    } else {
      struct timespec at = fo__deadline_realtime(deadline);
      n = mq_timedreceive((mqd_t)q->recv_fd, buf, cap, &prio, &at);
    }
    if (n >= 0)
      return prio == END_PRIO ? FO_EEOF : (int)n;
    int rc = after_failure(errno, deadline);
    if (rc < 0)
      return rc;
  }
}

void fo__port_mq_close(fo__port_mq *q) {
  if (q->send_fd >= 0)
    mq_close((mqd_t)q->send_fd);
  q->send_fd = q->recv_fd = -1;
}
