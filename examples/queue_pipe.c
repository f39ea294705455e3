/* A queue and a pipe between processes: two producer children put numbers on a queue and the
 * parent sums them; then one child sends a message larger than the kernel's pipe buffer.
 *
 * Python's Queue and Pipe pickle objects; here messages are bytes. A queue takes many senders
 * and many receivers, but its messages are bounded (on Linux 10 messages of 8,192 bytes unless
 * root raises /proc/sys/fs/mqueue). A pipe has one writer and one reader and no size limit.
 *
 *   cc queue_pipe.c $(pkg-config --static --cflags --libs fanout)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fanout/ipc.h>
#include <fanout/ppool.h>

#define PRODUCERS 2
#define PER_PRODUCER 100
#define BIG (200 * 1024) /* far above PIPE_BUF: streamed as the reader takes it */

static fo_mq *queue;
static fo_pipe *reader, *writer;

static int produce(void *arg) /* runs in a child: a copy of the parent, handles included */
{
  int base = *(int *)arg;
  for (int i = 1; i <= PER_PRODUCER; i++) {
    int n = base + i;
    if (fo_mq_send(queue, &n, sizeof n, FO_FOREVER) != 0)
      return 1;
  }
  return fo_mq_send_end(queue, FO_FOREVER) == 0 ? 0 : 1; /* "this producer is done" */
}

static int send_big(void *arg)
{
  (void)arg;
  static char msg[BIG];
  fo_pipe_destroy(reader); /* the writer's process keeps only the writer end */
  memset(msg, 'x', sizeof msg);
  return fo_pipe_send(writer, msg, sizeof msg, FO_FOREVER) == 0 ? 0 : 1;
}

int main(void)
{
  fo_proc *kids[PRODUCERS + 1];
  int bases[PRODUCERS] = {0, 1000};
  long sum = 0, want = 0;
  int ends = 0, rc;

  if (fo_mq_create(&queue, sizeof(int), 10, 0) != 0 || fo_pipe_create(&reader, &writer) != 0)
    return 1;
  fflush(stdout); /* nothing buffered may be copied into the children */
  for (int p = 0; p < PRODUCERS; p++)
    if (fo_proc_spawn(&kids[p], produce, &bases[p], 0) != 0)
      return 1;

  /* One end-of-stream marker per producer: stop after as many as there are producers. */
  while (ends < PRODUCERS) {
    int n;
    size_t len;
    rc = fo_mq_recv(queue, &n, sizeof n, &len, 10000);
    if (rc == FO_EEOF)
      ends++;
    else if (rc == 0)
      sum += n;
    else {
      fprintf(stderr, "fo_mq_recv: %s\n", fo_strerror(rc));
      return 1;
    }
  }
  for (int p = 0; p < PRODUCERS; p++)
    for (int i = 1; i <= PER_PRODUCER; i++)
      want += bases[p] + i;
  printf("queue: sum %ld from %d producers (expected %ld)\n", sum, PRODUCERS, want);

  fflush(stdout);
  if (fo_proc_spawn(&kids[PRODUCERS], send_big, NULL, 0) != 0)
    return 1;
  fo_pipe_destroy(writer); /* so that the child's exit is the end of the stream */
  size_t len = 0;
  rc = fo_pipe_recv(reader, NULL, 0, &len, 10000); /* how long is the next message? */
  char *buf = rc == 0 ? malloc(len) : NULL;
  if (buf != NULL)
    rc = fo_pipe_recv(reader, buf, len, &len, 10000);
  int end = fo_pipe_recv(reader, NULL, 0, &(size_t){0}, 10000);
  printf("pipe: %zu bytes, then %s\n", len, fo_errname(end));
  int ok = sum == want && buf != NULL && rc == 0 && len == BIG && buf[BIG - 1] == 'x' &&
           end == FO_EEOF;

  for (int p = 0; p <= PRODUCERS; p++) {
    fo_proc_status st;
    ok &= fo_proc_join(kids[p], 10000, &st) == 0 && st.signal == 0 && st.code == 0;
    fo_proc_destroy(kids[p]);
  }
  free(buf);
  fo_pipe_destroy(reader);
  fo_mq_destroy(queue);
  return ok ? 0 : 1;
}
