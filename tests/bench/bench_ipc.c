/* Moving data between two processes: fo_mq and fo_pipe against the raw calls they wrap and a
 * unix socket (1,000,000 messages of 64 bytes, then ping-pong latency), and fo_shmdict adds
 * from two processes against Python's multiprocessing Manager().dict() on the same machine.
 * Ours and theirs alternate round by round, so load from elsewhere hits both alike; the best
 * round of each counts. Besides the wall-clock rate, the streams report the CPU time both
 * processes spent per message: on a shared machine that is the steadier measure of what a
 * wrapper adds to the raw calls.
 * The pipe lines, each against a raw pipe (one write(2) and one read(2) of 64 bytes a message,
 * no framing), over PIPE_ROUNDS alternating rounds:
 * - ipc_pipe_1M_64B: what a program streaming the messages writes with fo_pipe, fo_pipe_sendv()
 *   in batches of BATCH messages, each taken by one fo_pipe_recv();
 * - ipc_pipe_1M_64B_single: one fo_pipe_send() per message, as a program that has one message at
 *   a time must;
 * the _cpu lines are the same runs' CPU time per message;
 * - ipc_pipe_send_64B: one fo_pipe_send() against one write(2), the sender alone (send_cost). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "fanout/ipc.h"
#include "fanout/shmdict.h"
#include "raw.h"

#define MSG 64
#define MESSAGES 1000000
#define ROUNDS 3
#define PIPE_ROUNDS 5
#define BATCH 64 /* messages per fo_pipe_sendv() */
#define PINGS 20000
#define DICT_ADDS 2000000 /* per process */

/* ------------------------------------------------------------------ channels */

/* One transport, opened before fork() and used from both sides. */
typedef struct chan chan;
struct chan {
  const char *name;
  int (*open)(chan *c);
  int (*send)(chan *c, const void *m, size_t len);
  int (*sendv)(chan *c, const struct iovec *m, size_t n); /* NULL: one send per message */
  long (*recv)(chan *c, void *b, size_t cap);
  void (*close)(chan *c);
  fo_mq *mq;
  fo_pipe *rd, *wr;
  raw_q *raw;
  int fd[2];
};

static int die(const char *what) {
  fprintf(stderr, "bench_ipc: %s failed: %s\n", what, strerror(errno));
  exit(1);
}

static int ours_mq_open(chan *c) {
  return fo_mq_create(&c->mq, MSG, 10, 0);
}
static int ours_mq_send(chan *c, const void *m, size_t len) {
  return fo_mq_send(c->mq, m, len, FO_FOREVER);
}
static long ours_mq_recv(chan *c, void *b, size_t cap) {
  size_t len;
  int rc = fo_mq_recv(c->mq, b, cap, &len, FO_FOREVER);
  return rc == 0 ? (long)len : -1;
}
static void ours_mq_close(chan *c) {
  fo_mq_destroy(c->mq);
}

static int ours_pipe_open(chan *c) {
  return fo_pipe_create(&c->rd, &c->wr);
}
static int ours_pipe_send(chan *c, const void *m, size_t len) {
  return fo_pipe_send(c->wr, m, len, FO_FOREVER);
}
static int ours_pipe_sendv(chan *c, const struct iovec *m, size_t n) {
  size_t sent;
  int rc = fo_pipe_sendv(c->wr, m, n, &sent, FO_FOREVER);
  return rc == 0 && sent == n ? 0 : -1;
}
static long ours_pipe_recv(chan *c, void *b, size_t cap) {
  size_t len;
  int rc = fo_pipe_recv(c->rd, b, cap, &len, FO_FOREVER);
  return rc == 0 ? (long)len : -1;
}
static void ours_pipe_close(chan *c) {
  fo_pipe_destroy(c->rd);
  fo_pipe_destroy(c->wr);
}

static int raw_open(chan *c) {
  return raw_q_open(&c->raw, MSG, 10);
}
static int raw_send(chan *c, const void *m, size_t len) {
  return raw_q_send(c->raw, m, len);
}
static long raw_recv(chan *c, void *b, size_t cap) {
  return raw_q_recv(c->raw, b, cap);
}
static void raw_close(chan *c) {
  raw_q_close(c->raw);
}

/* Raw pipe: fixed 64-byte records, one write(2) and one read(2) each, as a program would do
 * without framing. */
static int pipe_open(chan *c) {
  return pipe(c->fd);
}
static int pipe_send(chan *c, const void *m, size_t len) {
  return write(c->fd[1], m, len) == (ssize_t)len ? 0 : -1;
}
static long pipe_recv(chan *c, void *b, size_t cap) {
  size_t got = 0;
  while (got < MSG) {
    ssize_t n = read(c->fd[0], (char *)b + got, cap - got < MSG ? cap - got : MSG - got);
    if (n <= 0)
      return -1;
    got += (size_t)n;
  }
  return (long)got;
}
static void fd_close(chan *c) {
  close(c->fd[0]);
  close(c->fd[1]);
}

static int sock_open(chan *c) {
  return socketpair(AF_UNIX, SOCK_SEQPACKET, 0, c->fd);
}
static int sock_send(chan *c, const void *m, size_t len) {
  return send(c->fd[0], m, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}
static long sock_recv(chan *c, void *b, size_t cap) {
  return (long)recv(c->fd[1], b, cap, 0);
}

static const chan kinds[] = {
    {"fo_mq", ours_mq_open, ours_mq_send, NULL, ours_mq_recv, ours_mq_close},
    {"raw_q", raw_open, raw_send, NULL, raw_recv, raw_close},
    {"fo_pipe", ours_pipe_open, ours_pipe_send, ours_pipe_sendv, ours_pipe_recv, ours_pipe_close},
    {"fo_pipe_single", ours_pipe_open, ours_pipe_send, NULL, ours_pipe_recv, ours_pipe_close},
    {"raw_pipe", pipe_open, pipe_send, NULL, pipe_recv, fd_close},
    {"unix_socket", sock_open, sock_send, NULL, sock_recv, fd_close},
};
enum { K_MQ, K_RAWQ, K_PIPE, K_PIPE_SINGLE, K_RAWPIPE, K_SOCK, K_COUNT };

/* ------------------------------------------------------------------ processes */

/* Reap pid; returns the CPU time (user + system) it used, in seconds. */
static double wait_child(pid_t pid) {
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR)
      die("wait4");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_ipc: child failed (status %d)\n", status);
    exit(1);
  }
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* The child tells the parent it is ready over a plain pipe, so start-up is not timed. */
static void ready_wait(int fd) {
  char c;
  if (read(fd, &c, 1) != 1)
    die("ready");
}

typedef struct {
  double rate;   /* messages per second, wall clock */
  double cpu_ns; /* CPU nanoseconds per message, sender and receiver together */
} stream;

/* MESSAGES from one child process to another; the parent only starts and times them. A kind
 * with sendv sends them BATCH at a time, from BATCH iovecs over the same buffer.
 * fo_pipe's reader takes every message waiting in one read(2) (fewer system calls than the raw
 * reader's one per message), so it empties the pipe more often: sent one at a time, nearly every
 * message then pays for waking it (the _single line); sent in batches, one wake-up serves a
 * batch. */
static stream throughput(int kind) {
  chan c = kinds[kind];
  int ready[2], go[2];
  if (c.open(&c) != 0 || pipe(ready) != 0 || pipe(go) != 0)
    die(c.name);
  pid_t pids[2];
  for (int side = 0; side < 2; side++) {
    if ((pids[side] = fork()) < 0)
      die("fork");
    if (pids[side] != 0)
      continue;
    char buf[MSG], g;
    struct iovec batch[BATCH];
    memset(buf, 'm', sizeof buf);
    for (int k = 0; k < BATCH; k++)
      batch[k] = (struct iovec){buf, MSG};
    if (write(ready[1], "r", 1) != 1 || read(go[0], &g, 1) != 1)
      _exit(1);
    if (side == 1 && c.sendv != NULL) {
      for (long i = 0; i < MESSAGES; i += BATCH)
        if (c.sendv(&c, batch, MESSAGES - i < BATCH ? (size_t)(MESSAGES - i) : BATCH) != 0)
          _exit(2);
      _exit(0);
    }
    for (long i = 0; i < MESSAGES; i++)
      if (side == 0 ? c.recv(&c, buf, sizeof buf) != MSG : c.send(&c, buf, MSG) != 0)
        _exit(2);
    _exit(0);
  }
  ready_wait(ready[0]);
  ready_wait(ready[0]);
  double t = bench_now();
  if (write(go[1], "gg", 2) != 2)
    die("go");
  double cpu = wait_child(pids[1]);
  cpu += wait_child(pids[0]);
  stream st = {MESSAGES / (bench_now() - t), cpu * 1e9 / MESSAGES};
  c.close(&c);
  close(ready[0]);
  close(ready[1]);
  close(go[0]);
  close(go[1]);
  return st;
}

/* The sender's cost alone, in one process: nanoseconds per send of SEND_BURST messages into a
 * pipe nobody waits on (so no wake-up is paid), drained between bursts and not timed; best of
 * SEND_ROUNDS. Steadier than the streams on a shared machine. */
#define SEND_BURST 800 /* 800 frames of 72 bytes fit the default 64 KiB pipe */
#define SEND_ROUNDS 200
static double send_cost(int kind) {
  chan c = kinds[kind];
  if (c.open(&c) != 0)
    die(c.name);
  char buf[MSG];
  memset(buf, 's', sizeof buf);
  double best = 1e9;
  for (int r = 0; r < SEND_ROUNDS; r++) {
    double t = bench_now();
    for (int i = 0; i < SEND_BURST; i++)
      if (c.send(&c, buf, MSG) != 0)
        die(c.name);
    t = bench_now() - t;
    best = t < best ? t : best;
    for (int i = 0; i < SEND_BURST; i++)
      if (c.recv(&c, buf, sizeof buf) != MSG)
        die(c.name);
  }
  c.close(&c);
  return best * 1e9 / SEND_BURST;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Round-trip times in microseconds: median and 99th percentile. */
static void pingpong(int kind, double *median, double *p99) {
  chan there = kinds[kind], back = kinds[kind];
  int ready[2];
  if (there.open(&there) != 0 || back.open(&back) != 0 || pipe(ready) != 0)
    die(there.name);
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    char buf[MSG];
    if (write(ready[1], "r", 1) != 1)
      _exit(1);
    for (int i = 0; i < PINGS; i++)
      if (there.recv(&there, buf, sizeof buf) != MSG || back.send(&back, buf, MSG) != 0)
        _exit(2);
    _exit(0);
  }
  ready_wait(ready[0]);
  static double rtt[PINGS];
  char msg[MSG] = "ping";
  for (int i = 0; i < PINGS; i++) {
    double t = bench_now();
    if (there.send(&there, msg, MSG) != 0 || back.recv(&back, msg, sizeof msg) != MSG)
      die(there.name);
    rtt[i] = (bench_now() - t) * 1e6;
  }
  wait_child(pid);
  qsort(rtt, PINGS, sizeof rtt[0], cmp_double);
  *median = rtt[PINGS / 2];
  *p99 = rtt[PINGS * 99 / 100];
  there.close(&there);
  back.close(&back);
  close(ready[0]);
  close(ready[1]);
}

/* ------------------------------------------------------------------ shared dict */

/* Adds per second from two processes, on one shared key or on a key each. */
static double dict_adds(int distinct) {
  fo_shmdict *d;
  int go[2];
  if (fo_shmdict_create(&d, 16, 16) != 0 || pipe(go) != 0)
    die("fo_shmdict_create");
  pid_t pids[2];
  for (int p = 0; p < 2; p++) {
    if ((pids[p] = fork()) < 0)
      die("fork");
    if (pids[p] == 0) {
      char c, key[16] = "shared";
      if (distinct)
        snprintf(key, sizeof key, "k%d", p);
      if (read(go[0], &c, 1) != 1)
        _exit(1);
      for (long i = 0; i < DICT_ADDS; i++)
        if (fo_shmdict_add(d, key, 1, NULL) != 0)
          _exit(2);
      _exit(0);
    }
  }
  double t = bench_now();
  if (write(go[1], "gg", 2) != 2)
    die("go");
  wait_child(pids[0]);
  wait_child(pids[1]);
  double rate = 2.0 * DICT_ADDS / (bench_now() - t);
  int64_t total = 0, v;
  if (distinct) {
    if (fo_shmdict_get(d, "k0", &v) == 0)
      total += v;
    if (fo_shmdict_get(d, "k1", &v) == 0)
      total += v;
  } else if (fo_shmdict_get(d, "shared", &v) == 0) {
    total = v;
  }
  if (total != 2 * DICT_ADDS) {
    fprintf(stderr, "bench_ipc: dict total %lld, expected %d\n", (long long)total, 2 * DICT_ADDS);
    exit(1);
  }
  fo_shmdict_destroy(d);
  close(go[0]);
  close(go[1]);
  return rate;
}

/* Python's rates, from tests/bench/peer_shmdict.py: "one_key R" and "distinct_keys R". */
static int python_rates(double *one, double *distinct) {
  char cmd[1024];
  if (BENCH_PYTHON[0] == '\0')
    return -1;
  snprintf(cmd, sizeof cmd, "'%s' '%s/peer_shmdict.py'", BENCH_PYTHON, BENCH_PEER_DIR);
  FILE *f = popen(cmd, "r");
  if (f == NULL)
    return -1;
  char line[256];
  int got = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    got += sscanf(line, "one_key %lf", one) == 1;
    got += sscanf(line, "distinct_keys %lf", distinct) == 1;
  }
  return pclose(f) == 0 && got == 2 ? 0 : -1;
}

/* ------------------------------------------------------------------ main */

static void keep_best(stream *best, stream s) {
  if (s.rate > best->rate)
    best->rate = s.rate;
  if (best->cpu_ns == 0 || s.cpu_ns < best->cpu_ns)
    best->cpu_ns = s.cpu_ns;
}

/* Rounds alternate between the two sides. */
static void best_of(int ours, int theirs, int rounds, stream *a, stream *b) {
  memset(a, 0, sizeof *a);
  memset(b, 0, sizeof *b);
  for (int r = 0; r < rounds; r++) {
    keep_best(a, throughput(ours));
    keep_best(b, throughput(theirs));
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  alarm(600); /* a wedged peer ends the run instead of hanging it */
  stream mq, raw, pipe_ours, pipe_raw, single, single_raw, sock = {0, 0};
  best_of(K_MQ, K_RAWQ, ROUNDS, &mq, &raw);
  bench_line("ipc_queue_1M_64B", raw_q_name(), mq.rate, raw.rate, "msg/s", 0);
  bench_line("ipc_queue_1M_64B_cpu", raw_q_name(), mq.cpu_ns, raw.cpu_ns, "ns/msg", 1);
  best_of(K_PIPE, K_RAWPIPE, PIPE_ROUNDS, &pipe_ours, &pipe_raw);
  bench_line("ipc_pipe_1M_64B", "raw_pipe", pipe_ours.rate, pipe_raw.rate, "msg/s", 0);
  bench_line("ipc_pipe_1M_64B_cpu", "raw_pipe", pipe_ours.cpu_ns, pipe_raw.cpu_ns, "ns/msg", 1);
  best_of(K_PIPE_SINGLE, K_RAWPIPE, PIPE_ROUNDS, &single, &single_raw);
  bench_line("ipc_pipe_1M_64B_single", "raw_pipe", single.rate, single_raw.rate, "msg/s", 0);
  bench_line("ipc_pipe_1M_64B_single_cpu", "raw_pipe", single.cpu_ns, single_raw.cpu_ns, "ns/msg",
             1);
  double send_ours = 1e9, send_raw = 1e9;
  for (int r = 0; r < PIPE_ROUNDS; r++) {
    double a = send_cost(K_PIPE_SINGLE), b = send_cost(K_RAWPIPE);
    send_ours = a < send_ours ? a : send_ours;
    send_raw = b < send_raw ? b : send_raw;
  }
  bench_line("ipc_pipe_send_64B", "raw_pipe", send_ours, send_raw, "ns/msg", 1);
  for (int r = 0; r < ROUNDS; r++)
    keep_best(&sock, throughput(K_SOCK));
  bench_line("ipc_queue_1M_64B", "unix_socket", mq.rate, sock.rate, "msg/s", 0);
  bench_line("ipc_pipe_1M_64B", "unix_socket", pipe_ours.rate, sock.rate, "msg/s", 0);

  double m1, p1, m2, p2;
  pingpong(K_MQ, &m1, &p1);
  pingpong(K_RAWQ, &m2, &p2);
  bench_line("ipc_queue_pingpong_median", raw_q_name(), m1, m2, "us", 1);
  bench_line("ipc_queue_pingpong_p99", raw_q_name(), p1, p2, "us", 1);
  pingpong(K_PIPE, &m1, &p1);
  pingpong(K_RAWPIPE, &m2, &p2);
  bench_line("ipc_pipe_pingpong_median", "raw_pipe", m1, m2, "us", 1);
  bench_line("ipc_pipe_pingpong_p99", "raw_pipe", p1, p2, "us", 1);

  double one = 0, distinct = 0;
  for (int r = 0; r < ROUNDS; r++) {
    double a = dict_adds(0), b = dict_adds(1);
    one = a > one ? a : one;
    distinct = b > distinct ? b : distinct;
  }
  double py_one, py_distinct;
  if (python_rates(&py_one, &py_distinct) != 0) {
    fprintf(stderr,
            "bench_ipc: python3 peer unavailable; shared dict rates only: "
            "one key %.0f adds/s, distinct keys %.0f adds/s\n",
            one, distinct);
    return 0;
  }
  bench_line("shmdict_add_2proc_one_key", "python_manager_dict", one, py_one, "adds/s", 0);
  bench_line("shmdict_add_2proc_distinct_keys", "python_manager_dict", distinct, py_distinct,
             "adds/s", 0);
  return 0;
}
