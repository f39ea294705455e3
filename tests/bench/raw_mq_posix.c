/* Raw SEQPACKET socket pair: what the posix port's queue is built on, called directly. */
#include "config.h"

#include "raw.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct raw_q {
  int fd[2];
};

const char *raw_q_name(void) {
  return "raw_seqpacket";
}

int raw_q_open(raw_q **q, size_t msg_size, unsigned depth) {
  (void)msg_size;
  (void)depth;
  *q = malloc(sizeof **q);
  if (*q == NULL)
    return -1;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, (*q)->fd) != 0) {
    free(*q);
    return -1;
  }
  return 0;
}

int raw_q_send(raw_q *q, const void *msg, size_t len) {
  return send(q->fd[0], msg, len, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

long raw_q_recv(raw_q *q, void *buf, size_t cap) {
  return (long)recv(q->fd[1], buf, cap, 0);
}

void raw_q_close(raw_q *q) {
  close(q->fd[0]);
  close(q->fd[1]);
  free(q);
}
