/* fo_mq: argument checks and deadlines over the port's message queue (ports/port.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>

#include "base/base_internal.h"
#include "fanout/ipc.h"
#include "ports/port.h"

struct fo_mq {
  fo__port_mq port;
};

int fo_mq_create(fo_mq **q, size_t msg_size, unsigned depth, unsigned flags) {
  if (q == NULL)
    return -EINVAL;
  *q = NULL;
  if (msg_size == 0 || msg_size > INT_MAX || depth == 0 || (flags & ~FO_MQ_CLAMP) != 0)
    return -EINVAL;
  fo_mq *mq = fo__malloc(sizeof *mq);
  if (mq == NULL)
    return -ENOMEM;
  int rc =
      fo__port_mq_create(&mq->port, msg_size, depth, (flags & FO_MQ_CLAMP) ? FO__PORT_MQ_CLAMP : 0);
  if (rc < 0) {
    fo__free(mq);
    return rc;
  }
  *q = mq;
  return 0;
}

void fo_mq_destroy(fo_mq *q) {
  if (q == NULL)
    return;
  fo__port_mq_close(&q->port);
  fo__free(q);
}

size_t fo_mq_msg_size(const fo_mq *q) {
  return q != NULL ? q->port.msg_size : 0;
}

unsigned fo_mq_depth(const fo_mq *q) {
  return q != NULL ? q->port.depth : 0;
}

int fo_mq_send(fo_mq *q, const void *msg, size_t len, int timeout_ms) {
  if (q == NULL || (msg == NULL && len > 0) || timeout_ms < FO_FOREVER)
    return -EINVAL;
  if (len > q->port.msg_size)
    return FO_ETOOBIG;
  static const char empty[1];
  return fo__timeout_rc(
      fo__port_mq_send(&q->port, msg != NULL ? msg : empty, len, fo__deadline(timeout_ms)),
      timeout_ms);
}

int fo_mq_send_end(fo_mq *q, int timeout_ms) {
  if (q == NULL || timeout_ms < FO_FOREVER)
    return -EINVAL;
  return fo__timeout_rc(fo__port_mq_send_end(&q->port, fo__deadline(timeout_ms)), timeout_ms);
}

int fo_mq_fd(const fo_mq *q) {
  return q != NULL ? q->port.recv_fd : -EINVAL;
}

int fo_mq_recv(fo_mq *q, void *buf, size_t cap, size_t *len, int timeout_ms) {
  if (q == NULL || buf == NULL || len == NULL || timeout_ms < FO_FOREVER)
    return -EINVAL;
  if (cap < q->port.msg_size) {
    /* Refused before taking anything: a smaller buffer could cut a message short. */
    *len = q->port.msg_size;
    return FO_ETOOBIG;
  }
  int n = fo__port_mq_recv(&q->port, buf, cap, fo__deadline(timeout_ms));
  if (n < 0)
    return fo__timeout_rc(n, timeout_ms);
  *len = (size_t)n;
  return 0;
}
