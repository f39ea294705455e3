/* Raw POSIX mq, as a program would use it without fanout: mq_open, unlink, mq_send/mq_receive. */
#include "config.h"

#include "raw.h"

#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct raw_q {
  mqd_t mq;
};

const char *raw_q_name(void) {
  return "raw_mq";
}

int raw_q_open(raw_q **q, size_t msg_size, unsigned depth) {
  char name[64];
  snprintf(name, sizeof name, "/fanout-bench-%d", (int)getpid());
  struct mq_attr attr = {0};
  attr.mq_maxmsg = depth;
  attr.mq_msgsize = (long)msg_size;
  mqd_t mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  if (mq == (mqd_t)-1)
    return -1;
  mq_unlink(name);
  *q = malloc(sizeof **q);
  if (*q == NULL) {
    mq_close(mq);
    return -1;
  }
  (*q)->mq = mq;
  return 0;
}

int raw_q_send(raw_q *q, const void *msg, size_t len) {
  return mq_send(q->mq, msg, len, 0);
}

long raw_q_recv(raw_q *q, void *buf, size_t cap) {
  return (long)mq_receive(q->mq, buf, cap, NULL);
}

void raw_q_close(raw_q *q) {
  mq_close(q->mq);
  free(q);
}
