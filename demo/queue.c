/* fanout-demo queue: the lesson's square and cube producers. Two child processes put their
 * results on one message queue; the parent takes them off as they come and checks that every
 * square and every cube arrived exactly once. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"
#include "fanout/fanout.h"
#include "fanout/ipc.h"
#include "fanout/ppool.h"

/* The largest cube, (10^6 - 1)^3, is below 10^18: inside 64 bits. */
#define QUEUE_COUNT_MAX 1000000ul
/* Messages the queue holds: the default Linux limit, so no privilege is needed. */
#define QUEUE_DEPTH 10
/* How long a producer waits for room, and the consumer for the next message, before deciding
 * the other side is gone. */
#define QUEUE_WAIT_MS 10000

static const char help[] =
    "usage: fanout-demo queue [--count N]\n"
    "\n"
    "Two processes, a square producer and a cube producer, put i*i and i*i*i for\n"
    "i = 0 .. N-1 on one message queue; this process takes them off as they come.\n"
    "\n"
    "  --count N   numbers each producer sends, 1 to 1000000 (default 5)\n"
    "\n"
    "output (stdout), one line per message in the order received, then a summary:\n"
    "  square I V    from the square producer: V = I*I\n"
    "  cube I V      from the cube producer: V = I*I*I\n"
    "  received R    messages received (2N when none is lost)\n"
    "  failed F      squares and cubes missing, repeated or wrong\n"
    "\n"
    "exit status: 0 every item received once, 1 some missing (stderr says which\n"
    "producer failed), 2 bad command line\n";

enum { SQUARE, CUBE };
static const char *const producer_name[] = {"square", "cube"};

/* One message. Both sides are this same program, so the struct's layout is shared. */
typedef struct queue_msg {
  uint32_t producer; /* SQUARE or CUBE */
  uint32_t index;
  uint64_t value;
} queue_msg;

typedef struct producer_job {
  fo_mq *q;
  uint32_t producer;
  uint32_t count;
} producer_job;

/* Runs in each producer process, on its inherited copy of the queue handle. */
static int produce(void *arg) {
  const producer_job *job = arg;
  for (uint32_t i = 0; i < job->count; i++) {
    uint64_t x = i;
    queue_msg m = {job->producer, i, job->producer == SQUARE ? x * x : x * x * x};
    int rc = fo_mq_send(job->q, &m, sizeof m, QUEUE_WAIT_MS);
    if (rc != 0) {
      fprintf(stderr, "fanout-demo queue: %s producer: %s\n", producer_name[job->producer],
              fo_strerror(rc));
      return 1;
    }
  }
  return 0;
}

/* The consumer's books: which index each producer has delivered, and what went wrong. */
typedef struct tally {
  uint32_t count;
  unsigned char *seen[2];
  size_t received, bad;
} tally;

static void take(tally *t, const queue_msg *m, size_t len) {
  t->received++;
  if (len != sizeof *m || m->producer > CUBE || m->index >= t->count) {
    fprintf(stderr, "fanout-demo queue: malformed message\n");
    t->bad++;
    return;
  }
  uint64_t x = m->index, want = m->producer == SQUARE ? x * x : x * x * x;
  unsigned char *seen = &t->seen[m->producer][m->index];
  printf("%s %" PRIu32 " %" PRIu64 "\n", producer_name[m->producer], m->index, m->value);
  if (m->value != want || *seen) {
    fprintf(stderr, "fanout-demo queue: %s %" PRIu32 ": %s\n", producer_name[m->producer], m->index,
            m->value != want ? "wrong value" : "received twice");
    t->bad++;
  }
  *seen = 1;
}

/* Receives until the producers' messages are in: count from each one started, or fewer if a
 * producer gave up, which shows as a wait that runs out. */
static void consume(fo_mq *q, tally *t, size_t expected) {
  queue_msg m;
  size_t len;
  while (t->received < expected) {
    int rc = fo_mq_recv(q, &m, sizeof m, &len, QUEUE_WAIT_MS);
    if (rc != 0) {
      fprintf(stderr, "fanout-demo queue: waiting for the next message: %s\n", fo_strerror(rc));
      return;
    }
    take(t, &m, len);
  }
}

static int join_producer(fo_proc *p, uint32_t producer) {
  fo_proc_status st;
  int rc = fo_proc_join(p, QUEUE_WAIT_MS, &st);
  fo_proc_destroy(p); /* kills it first if it is still running */
  if (rc == 0 && st.signal == 0 && st.code == 0)
    return 0;
  fprintf(stderr, "fanout-demo queue: the %s producer failed\n", producer_name[producer]);
  return -1;
}

int demo_queue(int argc, char **argv) {
  unsigned long count = 5;
  const demo_flag table[] = {{"--count", DEMO_UINT, &count, .umin = 1, .umax = QUEUE_COUNT_MAX}};
  const demo_cli cli = {help, table, 1, NULL, NULL};
  int status = demo_parse(argc, argv, &cli);
  if (status != DEMO_OK)
    return status == DEMO_HELP ? DEMO_OK : status;

  tally t = {.count = (uint32_t)count};
  t.seen[SQUARE] = calloc(count, 1);
  t.seen[CUBE] = calloc(count, 1);
  fo_mq *q = NULL;
  int rc = t.seen[SQUARE] && t.seen[CUBE] ? fo_mq_create(&q, sizeof(queue_msg), QUEUE_DEPTH, 0)
                                          : -ENOMEM;
  if (rc != 0) {
    fprintf(stderr, "fanout-demo queue: cannot create the queue: %s\n", fo_strerror(rc));
    free(t.seen[SQUARE]);
    free(t.seen[CUBE]);
    return DEMO_PARTIAL;
  }

  /* The queue exists before the fork, so both producers inherit it. */
  producer_job jobs[2] = {{q, SQUARE, t.count}, {q, CUBE, t.count}};
  fo_proc *procs[2] = {NULL, NULL};
  size_t expected = 0;
  for (int i = 0; i < 2; i++) {
    rc = fo_proc_spawn(&procs[i], produce, &jobs[i], 0);
    if (rc == 0) {
      expected += t.count;
    } else {
      fprintf(stderr, "fanout-demo queue: cannot start the %s producer: %s\n", producer_name[i],
              fo_strerror(rc));
      procs[i] = NULL;
    }
  }
  consume(q, &t, expected);
  for (int i = 0; i < 2; i++)
    if (procs[i] != NULL && join_producer(procs[i], (uint32_t)i) != 0)
      status = DEMO_PARTIAL;

  /* Anything still queued came beyond what was expected: count it too. */
  queue_msg m;
  size_t len;
  while (fo_mq_recv(q, &m, sizeof m, &len, 0) == 0)
    take(&t, &m, len);
  fo_mq_destroy(q);

  size_t missing = 0;
  for (uint32_t i = 0; i < t.count; i++)
    missing += !t.seen[SQUARE][i] + !t.seen[CUBE][i];
  free(t.seen[SQUARE]);
  free(t.seen[CUBE]);
  printf("received %zu\nfailed %zu\n", t.received, missing + t.bad);
  return status == DEMO_OK && missing + t.bad == 0 ? DEMO_OK : DEMO_PARTIAL;
}
