/* fo_pipe: framing, size queries, streaming past the pipe buffer, deadlines that resume,
 * end-of-stream and a writer that dies mid-message; batches (fo_pipe_sendv) with the same
 * framing, deadlines, resumption and counts of what was sent. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fanout/ipc.h"
#include "helpers/fixture.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "suites.h"

/* A recognisable byte at every offset of message number n. */
static unsigned char pattern(size_t n, size_t i) {
  return (unsigned char)(i * 31 + n * 7 + (i >> 12));
}

static void fill_pattern(unsigned char *b, size_t len, size_t n) {
  for (size_t i = 0; i < len; i++)
    b[i] = pattern(n, i);
}

static int check_pattern(const unsigned char *b, size_t len, size_t n) {
  for (size_t i = 0; i < len; i++)
    if (b[i] != pattern(n, i))
      return 0;
  return 1;
}

static int ten_s(void) {
  return (int)(tp_scaled(10) * 1000);
}

START_TEST(arguments_are_checked) {
  fo_pipe *r, *w;
  char buf[8];
  size_t len;
  ck_assert_int_eq(fo_pipe_create(NULL, &w), -EINVAL);
  ck_assert_int_eq(fo_pipe_create(&r, NULL), -EINVAL);
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  ck_assert_int_eq(fo_pipe_send(NULL, "x", 1, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_send(r, "x", 1, 0), -EINVAL); /* not a writer */
  ck_assert_int_eq(fo_pipe_send(w, NULL, 1, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_recv(NULL, buf, sizeof buf, &len, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_recv(w, buf, sizeof buf, &len, 0), -EINVAL); /* not a reader */
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, NULL, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_recv(r, NULL, 4, &len, 0), -EINVAL);
  fo_pipe_destroy(r);
  fo_pipe_destroy(w);
  fo_pipe_destroy(NULL);
}
END_TEST

START_TEST(messages_in_order_then_end_of_stream) {
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  ck_assert_int_eq(fo_pipe_send(w, "one", 3, 0), 0);
  ck_assert_int_eq(fo_pipe_send(w, NULL, 0, 0), 0);
  ck_assert_int_eq(fo_pipe_send(w, "three!", 6, 0), 0);
  fo_pipe_destroy(w);
  char buf[16];
  size_t len;
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), 0);
  ck_assert_uint_eq(len, 3);
  ck_assert(memcmp(buf, "one", 3) == 0);
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), 0);
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), 0);
  ck_assert_uint_eq(len, 6);
  ck_assert(memcmp(buf, "three!", 6) == 0);
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), FO_EEOF);
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 1000), FO_EEOF); /* and stays so */
  fo_pipe_destroy(r);
}
END_TEST

START_TEST(size_query_and_short_buffer) {
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  ck_assert_int_eq(fo_pipe_send(w, "0123456789", 10, 0), 0);
  char buf[16];
  size_t len = 0;
  ck_assert_int_eq(fo_pipe_recv(r, NULL, 0, &len, 0), 0);
  ck_assert_uint_eq(len, 10);
  ck_assert_int_eq(fo_pipe_recv(r, NULL, 0, &len, 0), 0); /* still there */
  len = 0;
  ck_assert_int_eq(fo_pipe_recv(r, buf, 4, &len, 0), FO_ETOOBIG);
  ck_assert_uint_eq(len, 10);
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), 0);
  ck_assert_uint_eq(len, 10);
  ck_assert(memcmp(buf, "0123456789", 10) == 0);
  ck_assert_int_eq(fo_pipe_recv(r, NULL, 0, &len, 0), -EAGAIN);
  fo_pipe_destroy(w);
  fo_pipe_destroy(r);
}
END_TEST

/* Messages far larger than the pipe's buffer, mixed with small ones, from another process. */
START_TEST(large_messages_stream_across_fork) {
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  const size_t sizes[] = {1 << 20, 5, 70000, 0, 4089, 3 << 20, 1};
  const size_t n = sizeof sizes / sizeof sizes[0];
  pid_t pid = tp_fork();
  if (pid == 0) {
    fo_pipe_destroy(r);
    unsigned char *b = malloc(3 << 20);
    TP_CHECK(b != NULL, 1);
    for (size_t k = 0; k < n; k++) {
      fill_pattern(b, sizes[k], k);
      TP_CHECK(fo_pipe_send(w, b, sizes[k], ten_s()) == 0, 2);
    }
    free(b);
    fo_pipe_destroy(w);
    _exit(0);
  }
  fo_pipe_destroy(w);
  unsigned char *b = malloc(3 << 20);
  ck_assert_ptr_nonnull(b);
  for (size_t k = 0; k < n; k++) {
    size_t len;
    ck_assert_int_eq(fo_pipe_recv(r, b, 3 << 20, &len, ten_s()), 0);
    ck_assert_uint_eq(len, sizes[k]);
    ck_assert_msg(check_pattern(b, len, k), "message %zu corrupted", k);
  }
  size_t len;
  ck_assert_int_eq(fo_pipe_recv(r, b, 3 << 20, &len, ten_s()), FO_EEOF);
  free(b);
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  fo_pipe_destroy(r);
}
END_TEST

START_TEST(many_small_messages_across_fork) {
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  enum { N = 100000 };
  pid_t pid = tp_fork();
  if (pid == 0) {
    fo_pipe_destroy(r);
    for (uint32_t i = 0; i < N; i++) {
      uint32_t m[16] = {i};
      TP_CHECK(fo_pipe_send(w, m, 4 * (1 + (i % 16)), ten_s()) == 0, 1);
    }
    fo_pipe_destroy(w);
    _exit(0);
  }
  fo_pipe_destroy(w);
  for (uint32_t i = 0; i < N; i++) {
    uint32_t m[16];
    size_t len;
    ck_assert_int_eq(fo_pipe_recv(r, m, sizeof m, &len, ten_s()), 0);
    ck_assert_uint_eq(len, 4 * (1 + (i % 16)));
    ck_assert_uint_eq(m[0], i);
  }
  uint32_t m[16];
  size_t len;
  ck_assert_int_eq(fo_pipe_recv(r, m, sizeof m, &len, ten_s()), FO_EEOF);
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  fo_pipe_destroy(r);
}
END_TEST

START_TEST(deadlines_on_empty_and_full) {
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  unsigned char buf[1000];
  size_t len;
  double t = tp_now_ms();
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 60), -ETIMEDOUT);
  ck_assert_double_ge(tp_now_ms() - t, 55);
  /* Fill the pipe with small (atomic) messages until one would block. */
  int sent = 0;
  for (; sent < 100000; sent++) {
    fill_pattern(buf, sizeof buf, (size_t)sent);
    int rc = fo_pipe_send(w, buf, sizeof buf, 0);
    if (rc != 0) {
      ck_assert_int_eq(rc, -EAGAIN); /* full, timeout 0: would have to wait */
      break;
    }
  }
  ck_assert_int_gt(sent, 0);
  ck_assert_int_lt(sent, 100000);
  t = tp_now_ms();
  fill_pattern(buf, sizeof buf, (size_t)sent);
  ck_assert_int_eq(fo_pipe_send(w, buf, sizeof buf, 50), -ETIMEDOUT);
  ck_assert_double_ge(tp_now_ms() - t, 45);
  for (int k = 0; k < sent; k++) {
    ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), 0);
    ck_assert_uint_eq(len, sizeof buf);
    ck_assert(check_pattern(buf, len, (size_t)k));
  }
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), -EAGAIN); /* nothing half-sent */
  fo_pipe_destroy(w);
  fo_pipe_destroy(r);
}
END_TEST

/* A deadline that passes in the middle of a message: the writer resumes it, and so does a
 * reader whose own deadline passes part-way. */
START_TEST(half_sent_message_resumes) {
  enum { BIG = 256 * 1024 };
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  tp_bell go, done;
  tp_bell_init(&go);
  tp_bell_init(&done);
  pid_t pid = tp_fork();
  if (pid == 0) {
    fo_pipe_destroy(w);
    unsigned char *b = malloc(BIG);
    size_t len = 0;
    TP_CHECK(b != NULL && tp_bell_wait(&go, 10) == 'g', 1);
    /* The pipe holds only part of the message, and the writer is waiting for us. */
    TP_CHECK(fo_pipe_recv(r, b, BIG, &len, 50) == -ETIMEDOUT, 2);
    TP_CHECK(len == BIG, 3);
    tp_bell_ring(&done, 'd');
    TP_CHECK(fo_pipe_recv(r, b, BIG, &len, ten_s()) == 0, 4);
    TP_CHECK(len == BIG && check_pattern(b, BIG, 9), 5);
    TP_CHECK(fo_pipe_recv(r, b, BIG, &len, ten_s()) == FO_EEOF, 6);
    free(b);
    fo_pipe_destroy(r);
    _exit(0);
  }
  fo_pipe_destroy(r);
  unsigned char *b = malloc(BIG);
  ck_assert_ptr_nonnull(b);
  fill_pattern(b, BIG, 9);
  ck_assert_int_eq(fo_pipe_send(w, b, BIG, 30), -ETIMEDOUT); /* part-way: the pipe filled */
  ck_assert_int_eq(fo_pipe_send(w, "other", 5, 0), -EINVAL); /* must finish the first */
  tp_bell_ring(&go, 'g');
  ck_assert_int_eq(tp_bell_wait(&done, 10), 'd');
  ck_assert_int_eq(fo_pipe_send(w, b, BIG, ten_s()), 0);
  fo_pipe_destroy(w);
  free(b);
  ck_assert_int_eq(tp_wait(pid, 15), 0);
  tp_bell_close(&go);
  tp_bell_close(&done);
}
END_TEST

START_TEST(writer_killed_mid_message_is_broken) {
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    fo_pipe_destroy(r);
    unsigned char *b = calloc(1, 1 << 20);
    TP_CHECK(b != NULL, 1);
    fo_pipe_send(w, b, 1 << 20, ten_s()); /* blocks once the pipe is full, until killed */
    _exit(2);
  }
  fo_pipe_destroy(w);
  size_t len;
  ck_assert_int_eq(fo_pipe_recv(r, NULL, 0, &len, ten_s()), 0); /* the message has begun */
  ck_assert_uint_eq(len, 1 << 20);
  ck_assert_int_eq(tp_kill(pid), 128 + SIGKILL);
  unsigned char *b = malloc(1 << 20);
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(fo_pipe_recv(r, b, 1 << 20, &len, ten_s()), FO_EBROKEN);
  ck_assert_int_eq(fo_pipe_recv(r, b, 1 << 20, &len, 0), FO_EBROKEN);
  free(b);
  fo_pipe_destroy(r);
}
END_TEST

START_TEST(reader_gone_is_epipe) {
  signal(SIGPIPE, SIG_IGN); /* this test's process only (Check forks per test) */
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  fo_pipe_destroy(r);
  ck_assert_int_eq(fo_pipe_send(w, "x", 1, 0), -EPIPE);
  ck_assert_int_eq(fo_pipe_send(w, "y", 1, 0), -EPIPE); /* not stuck on the first message */
  fo_pipe_destroy(w);
  signal(SIGPIPE, SIG_DFL);
}
END_TEST

/* ------------------------------------------------------------------ batches */

/* A batch of count messages of the given sizes (one size for all when sizes has one entry),
 * message k holding pattern k, in one allocation that free_batch() releases. */
static struct iovec *make_batch(const size_t *sizes, size_t nsizes, size_t count) {
  size_t total = 0;
  for (size_t k = 0; k < count; k++)
    total += sizes[nsizes == 1 ? 0 : k];
  struct iovec *v = malloc(count * sizeof *v + total);
  ck_assert_ptr_nonnull(v);
  unsigned char *at = (unsigned char *)(v + count);
  for (size_t k = 0; k < count; k++) {
    v[k].iov_len = sizes[nsizes == 1 ? 0 : k];
    v[k].iov_base = v[k].iov_len > 0 ? at : NULL; /* a NULL base for the empty ones */
    fill_pattern(at, v[k].iov_len, k);
    at += v[k].iov_len;
  }
  return v;
}

/* Take the next message and check it is message k of v, whole. 0 or what recv returned. */
static int recv_expect(fo_pipe *r, const struct iovec *v, size_t k, unsigned char *buf, size_t cap,
                       int timeout_ms) {
  size_t len = SIZE_MAX;
  int rc = fo_pipe_recv(r, buf, cap, &len, timeout_ms);
  if (rc != 0)
    return rc;
  return len == v[k].iov_len && check_pattern(buf, len, k) ? 0 : -EILSEQ;
}

/* The end of a single-process test: nothing more in the pipe, not even part of a message,
 * then end-of-stream once the writer is gone. */
static void expect_end(fo_pipe *r, fo_pipe *w, unsigned char *buf, size_t cap) {
  size_t len;
  ck_assert_int_eq(fo_pipe_recv(r, buf, cap, &len, 0), -EAGAIN);
  fo_pipe_destroy(w);
  ck_assert_int_eq(fo_pipe_recv(r, buf, cap, &len, 0), FO_EEOF);
  fo_pipe_destroy(r);
}

START_TEST(sendv_arguments_are_checked) {
  enum { BIG = 100 * 1024 }; /* more than the pipe holds */
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  char a[] = "a", bc[] = "bc"; /* the bytes of huge are never read: it is refused */
  struct iovec ok[] = {{a, 1}, {bc, 2}}, bad[] = {{a, 1}, {NULL, 1}},
               huge[] = {{a, SIZE_MAX / 2}, {bc, SIZE_MAX / 2}};
  size_t sent = 7;
  ck_assert_int_eq(fo_pipe_sendv(NULL, ok, 2, &sent, 0), -EINVAL);
  ck_assert_uint_eq(sent, 0); /* *sent is set even on a refusal */
  sent = 7;
  ck_assert_int_eq(fo_pipe_sendv(r, ok, 2, &sent, 0), -EINVAL); /* not a writer */
  ck_assert_uint_eq(sent, 0);
  ck_assert_int_eq(fo_pipe_sendv(w, NULL, 2, &sent, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_sendv(w, ok, 2, NULL, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_sendv(w, ok, 2, &sent, -2), -EINVAL);
  ck_assert_int_eq(fo_pipe_sendv(w, bad, 2, &sent, 0), -EINVAL); /* the 2nd is bad: none sent */
  ck_assert_int_eq(fo_pipe_sendv(w, ok, SIZE_MAX, &sent, 0), FO_ETOOBIG);
  ck_assert_int_eq(fo_pipe_sendv(w, huge, 2, &sent, 0), FO_ETOOBIG);
  ck_assert_int_eq(fo_pipe_send(w, a, SIZE_MAX - 7, 0), FO_ETOOBIG);
  char buf[8];
  size_t len;
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), -EAGAIN); /* nothing went */
  /* a message half sent: only it may come next, never another or an empty batch */
  unsigned char *big = calloc(1, BIG);
  ck_assert_ptr_nonnull(big);
  struct iovec half[] = {{big, BIG}, {a, 1}};
  ck_assert_int_eq(fo_pipe_sendv(w, half, 2, &sent, 0), -EAGAIN);
  ck_assert_uint_eq(sent, 0);
  ck_assert_int_eq(fo_pipe_sendv(w, ok, 2, &sent, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_sendv(w, half + 1, 1, &sent, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_sendv(w, NULL, 0, &sent, 0), -EINVAL);
  struct iovec shorter = {big, BIG - 1};
  ck_assert_int_eq(fo_pipe_sendv(w, &shorter, 1, &sent, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_send(w, a, 1, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_sendv(w, half, 2, &sent, 0), -EAGAIN); /* still full: kept */
  ck_assert_uint_eq(sent, 0);
  fo_pipe_destroy(w);
  ck_assert_int_eq(fo_pipe_recv(r, NULL, 0, &len, 0), 0);
  ck_assert_uint_eq(len, BIG); /* the half-sent one is next: nothing refused went */
  fo_pipe_destroy(r);
  free(big);
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  ck_assert_int_eq(fo_pipe_sendv(w, NULL, 0, &sent, 0), 0); /* an empty batch, nothing half sent */
  ck_assert_uint_eq(sent, 0);
  ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), -EAGAIN);
  fo_pipe_destroy(r);
  fo_pipe_destroy(w);
}
END_TEST

/* Sizes around every boundary the writer or the reader has: empty, PIPE_BUF, the reader's
 * 4 KiB buffer, the pipe's capacity, and runs of small ones longer than one writev. */
START_TEST(sendv_mixed_sizes_across_fork) {
  enum { SMALL_RUN = 300 };
  size_t sizes[SMALL_RUN + 16];
  const size_t big[] = {0,    1, 4087,  4088, 4089,    4095, 4096,  4097,
                        5000, 0, 70000, 3,    1 << 20, 0,    65536, 8};
  size_t n = 0;
  for (size_t k = 0; k < sizeof big / sizeof big[0]; k++)
    sizes[n++] = big[k];
  for (size_t k = 0; k < SMALL_RUN; k++)
    sizes[n++] = k % 70; /* zero-length ones among them */
  struct iovec *v = make_batch(sizes, n, n);
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    fo_pipe_destroy(r);
    size_t sent = 0;
    /* two calls, the second starting inside a writev's worth of small messages */
    TP_CHECK(fo_pipe_sendv(w, v, 10, &sent, ten_s()) == 0 && sent == 10, 1);
    TP_CHECK(fo_pipe_sendv(w, v + 10, n - 10, &sent, ten_s()) == 0 && sent == n - 10, 2);
    fo_pipe_destroy(w);
    _exit(0);
  }
  fo_pipe_destroy(w);
  unsigned char *b = malloc(1 << 20);
  ck_assert_ptr_nonnull(b);
  for (size_t k = 0; k < n; k++)
    ck_assert_msg(recv_expect(r, v, k, b, 1 << 20, ten_s()) == 0, "message %zu", k);
  size_t len;
  ck_assert_int_eq(fo_pipe_recv(r, b, 1 << 20, &len, ten_s()), FO_EEOF);
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  free(b);
  free(v);
  fo_pipe_destroy(r);
}
END_TEST

/* Reader and writer in one process, taking turns, so every count is exact: a batch far larger
 * than the pipe stops at the deadline, *sent messages are in the pipe whole, the next may be
 * there in part (3,008-byte frames do not divide the pipe's pages), and resuming from
 * msgs[*sent] delivers each message once, in order. */
START_TEST(sendv_deadline_counts_and_resumes) {
  enum { N = 400, LEN = 3000 };
  struct iovec *v = make_batch((const size_t[]){LEN}, 1, N);
  unsigned char buf[LEN];
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  size_t done = 0, got = 0, sent = 0;
  int turns = 0, halves = 0;
  while (done < N) {
    double t = tp_now_ms();
    sent = SIZE_MAX;
    int rc = fo_pipe_sendv(w, v + done, N - done, &sent, 20);
    ck_assert_uint_le(sent, N - done);
    done += sent;
    if (rc == 0) {
      ck_assert_uint_eq(done, N);
    } else {
      ck_assert_int_eq(rc, -ETIMEDOUT);
      ck_assert_double_ge(tp_now_ms() - t, 15); /* it waited for room, then gave up */
    }
    /* exactly the messages counted as sent are whole in the pipe */
    for (; got < done; got++)
      ck_assert_msg(recv_expect(r, v, got, buf, sizeof buf, 0) == 0, "message %zu", got);
    size_t len = 0;
    if (done < N && fo_pipe_recv(r, NULL, 0, &len, 0) == 0) {
      /* the next one has begun: it is not all there, and only it may be sent next */
      ck_assert_uint_eq(len, LEN);
      ck_assert_int_eq(fo_pipe_recv(r, buf, sizeof buf, &len, 0), -EAGAIN);
      if (done + 1 < N)
        ck_assert_int_eq(fo_pipe_sendv(w, v + done + 1, 1, &sent, 0), -EINVAL);
      halves++;
    }
    turns++;
  }
  ck_assert_int_gt(turns, 3);
  ck_assert_int_gt(halves, 0); /* some deadline fell inside a message */
  expect_end(r, w, buf, sizeof buf);
  free(v);
}
END_TEST

/* Take messages rx, rx+1, ... as far as they are there (timeout 0), up to count: the one
 * being sent may be taken in part, which makes room for the rest of it. */
static void drain(fo_pipe *r, const struct iovec *v, size_t *rx, size_t count, unsigned char *buf,
                  size_t cap) {
  int rc = 0;
  while (*rx < count && (rc = recv_expect(r, v, *rx, buf, cap, 0)) == 0)
    ++*rx;
  if (*rx < count)
    ck_assert_int_eq(rc, -EAGAIN);
}

/* Timeout 0: a batch goes as far as the pipe takes it (-EAGAIN, *sent exact), and on a pipe
 * already full nothing goes and the half-sent message stays as it was. */
START_TEST(sendv_timeout_zero_on_full_pipe) {
  enum { N = 300, LEN = 500 };
  struct iovec *v = make_batch((const size_t[]){LEN}, 1, N);
  unsigned char buf[LEN];
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  size_t sent = SIZE_MAX, again = SIZE_MAX, rx = 0;
  ck_assert_int_eq(fo_pipe_sendv(w, v, N, &sent, 0), -EAGAIN);
  ck_assert_uint_gt(sent, 0);
  ck_assert_uint_lt(sent, N);
  ck_assert_int_eq(fo_pipe_sendv(w, v + sent, N - sent, &again, 0), -EAGAIN); /* full */
  ck_assert_uint_eq(again, 0);
  drain(r, v, &rx, N, buf, sizeof buf);
  ck_assert_uint_eq(rx, sent); /* exactly those, whole; the next one is not all there */
  /* the rest, the half-sent one first */
  while (sent < N) {
    int rc = fo_pipe_sendv(w, v + sent, N - sent, &again, 0);
    sent += again;
    if (rc != 0)
      ck_assert_int_eq(rc, -EAGAIN);
    drain(r, v, &rx, N, buf, sizeof buf);
    ck_assert_uint_eq(rx, sent); /* never more than were counted */
  }
  expect_end(r, w, buf, sizeof buf);
  free(v);
}
END_TEST

/* Batches and single sends on one stream: a message fo_pipe_send left half sent is finished by
 * a batch, and one a batch left half sent by fo_pipe_send; neither accepts another message
 * first. Each half-sent state starts on an empty pipe, with a message larger than the pipe. */
START_TEST(sendv_and_send_mix) {
  enum { BIG = 200 * 1024 };
  const size_t sizes[] = {3, 0, BIG, 5, BIG, 7};
  struct iovec *v = make_batch(sizes, 6, 6);
  unsigned char *buf = malloc(BIG);
  ck_assert_ptr_nonnull(buf);
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  size_t sent = SIZE_MAX, rx = 0, at;
  ck_assert_int_eq(fo_pipe_sendv(w, v, 2, &sent, 0), 0);
  ck_assert_uint_eq(sent, 2);
  drain(r, v, &rx, 2, buf, BIG);
  ck_assert_uint_eq(rx, 2);
  ck_assert_int_eq(fo_pipe_send(w, v[2].iov_base, BIG, 0), -EAGAIN); /* half sent */
  ck_assert_int_eq(fo_pipe_sendv(w, v + 3, 1, &sent, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_send(w, v[3].iov_base, 5, 0), -EINVAL);
  for (at = 2; at < 4;) {
    int rc = fo_pipe_sendv(w, v + at, 4 - at, &sent, 0);
    at += sent;
    if (rc != 0)
      ck_assert_int_eq(rc, -EAGAIN);
    drain(r, v, &rx, 6, buf, BIG);
    ck_assert_uint_le(rx, at);
  }
  ck_assert_uint_eq(rx, 4);
  ck_assert_int_eq(fo_pipe_sendv(w, v + 4, 2, &sent, 0), -EAGAIN);
  ck_assert_uint_eq(sent, 0); /* message 4 half sent */
  ck_assert_int_eq(fo_pipe_send(w, v[5].iov_base, 7, 0), -EINVAL);
  ck_assert_int_eq(fo_pipe_sendv(w, v + 5, 1, &sent, 0), -EINVAL);
  int rc;
  while ((rc = fo_pipe_send(w, v[4].iov_base, BIG, 0)) == -EAGAIN)
    drain(r, v, &rx, 6, buf, BIG);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(fo_pipe_sendv(w, v + 5, 1, &sent, 0), 0);
  ck_assert_uint_eq(sent, 1);
  drain(r, v, &rx, 6, buf, BIG);
  ck_assert_uint_eq(rx, 6);
  expect_end(r, w, buf, BIG);
  free(buf);
  free(v);
}
END_TEST

/* A slow reader in another process, a writer with short deadlines resuming from msgs[*sent]:
 * every message arrives once, in order. */
START_TEST(sendv_slow_reader_across_fork) {
  enum { N = 3000, LEN = 700 };
  struct iovec *v = make_batch((const size_t[]){LEN}, 1, N);
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    fo_pipe_destroy(w);
    unsigned char buf[LEN];
    for (size_t k = 0; k < N; k++) {
      if (k % 50 == 0)
        usleep(1000);
      TP_CHECK(recv_expect(r, v, k, buf, sizeof buf, ten_s()) == 0, 1);
    }
    size_t len;
    TP_CHECK(fo_pipe_recv(r, buf, sizeof buf, &len, ten_s()) == FO_EEOF, 2);
    fo_pipe_destroy(r);
    _exit(0);
  }
  fo_pipe_destroy(r);
  size_t done = 0;
  int timeouts = 0;
  for (int calls = 0; done < N; calls++) {
    size_t sent = SIZE_MAX;
    int rc = fo_pipe_sendv(w, v + done, N - done, &sent, 5);
    ck_assert_uint_le(sent, N - done);
    done += sent;
    timeouts += rc == -ETIMEDOUT;
    ck_assert_msg(rc == 0 ? done == N : rc == -ETIMEDOUT, "rc %d at %zu", rc, done);
    ck_assert_int_lt(calls, 100000);
  }
  ck_assert_int_gt(timeouts, 0); /* the deadline did cut batches */
  fo_pipe_destroy(w);
  ck_assert_int_eq(tp_wait(pid, 30), 0);
  free(v);
}
END_TEST

/* The reader gone: -EPIPE, *sent counting what went before, and no message left half sent to
 * block the next call. */
START_TEST(sendv_reader_gone_is_epipe) {
  signal(SIGPIPE, SIG_IGN); /* this test's process only (Check forks per test) */
  enum { N = 400, LEN = 1000, READ = 100 };
  struct iovec *v = make_batch((const size_t[]){LEN}, 1, N);
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  size_t sent = SIZE_MAX, more = SIZE_MAX;
  ck_assert_int_eq(fo_pipe_sendv(w, v, N, &sent, 0), -EAGAIN); /* the pipe is full */
  ck_assert_uint_gt(sent, 0);
  pid_t pid = tp_fork();
  if (pid == 0) { /* takes READ messages, then goes */
    fo_pipe_destroy(w);
    unsigned char buf[LEN];
    for (size_t k = 0; k < READ; k++)
      TP_CHECK(recv_expect(r, v, k, buf, sizeof buf, ten_s()) == 0, 1);
    fo_pipe_destroy(r);
    _exit(0);
  }
  fo_pipe_destroy(r);
  ck_assert_int_eq(fo_pipe_sendv(w, v + sent, N - sent, &more, ten_s()), -EPIPE);
  /* the reader took READ whole ones, so at least those went (the first one half sent before) */
  ck_assert_uint_ge(sent + more, READ);
  ck_assert_uint_lt(sent + more, N);
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  more = SIZE_MAX;
  ck_assert_int_eq(fo_pipe_sendv(w, v + 1, 2, &more, 0), -EPIPE); /* any message now */
  ck_assert_uint_eq(more, 0);
  ck_assert_int_eq(fo_pipe_send(w, "x", 1, 0), -EPIPE);
  fo_pipe_destroy(w);
  free(v);
  signal(SIGPIPE, SIG_DFL);
}
END_TEST

/* The reader gone while a message is half sent: -EPIPE, and the message is forgotten, so the
 * calls after it say -EPIPE too instead of waiting for it. */
START_TEST(sendv_reader_gone_mid_message) {
  signal(SIGPIPE, SIG_IGN);
  enum { N = 100, LEN = 3000 };
  struct iovec *v = make_batch((const size_t[]){LEN}, 1, N);
  fo_pipe *r, *w;
  ck_assert_int_eq(fo_pipe_create(&r, &w), 0);
  size_t sent = SIZE_MAX, more = SIZE_MAX;
  ck_assert_int_eq(fo_pipe_sendv(w, v, N, &sent, 0), -EAGAIN);
  ck_assert_uint_lt(sent, N - 1);
  ck_assert_int_eq(fo_pipe_sendv(w, v + sent + 1, 1, &more, 0), -EINVAL); /* one is half sent */
  fo_pipe_destroy(r);
  ck_assert_int_eq(fo_pipe_sendv(w, v + sent, N - sent, &more, 0), -EPIPE);
  ck_assert_uint_eq(more, 0);
  more = SIZE_MAX;
  ck_assert_int_eq(fo_pipe_sendv(w, v + sent + 1, 1, &more, 0), -EPIPE);
  ck_assert_uint_eq(more, 0);
  ck_assert_int_eq(fo_pipe_send(w, "x", 1, 0), -EPIPE);
  fo_pipe_destroy(w);
  free(v);
  signal(SIGPIPE, SIG_DFL);
}
END_TEST

typedef struct {
  fo_pipe *r, *w;
} ends;

static int create_op(void *arg) {
  ends *e = arg;
  return fo_pipe_create(&e->r, &e->w);
}

static void destroy_op(void *arg) {
  ends *e = arg;
  fo_pipe_destroy(e->r);
  fo_pipe_destroy(e->w);
}

START_TEST(create_out_of_memory) {
  ends e;
  ck_assert_int_ge(ta_oom_loop(create_op, destroy_op, &e), 1);
}
END_TEST

Suite *pipe_suite(void) {
  Suite *s = suite_create("pipe");
  TCase *tc = fo_tcase("framing", 10);
  tcase_add_test(tc, arguments_are_checked);
  tcase_add_test(tc, messages_in_order_then_end_of_stream);
  tcase_add_test(tc, size_query_and_short_buffer);
  tcase_add_test(tc, reader_gone_is_epipe);
  tcase_add_test(tc, create_out_of_memory);
  tcase_add_test(tc, sendv_arguments_are_checked);
  tcase_add_test(tc, sendv_timeout_zero_on_full_pipe);
  tcase_add_test(tc, sendv_and_send_mix);
  tcase_add_test(tc, sendv_reader_gone_mid_message);
  suite_add_tcase(s, tc);
  tc = fo_tcase("processes", 60);
  tcase_add_test(tc, large_messages_stream_across_fork);
  tcase_add_test(tc, many_small_messages_across_fork);
  tcase_add_test(tc, writer_killed_mid_message_is_broken);
  tcase_add_test(tc, sendv_mixed_sizes_across_fork);
  tcase_add_test(tc, sendv_slow_reader_across_fork);
  tcase_add_test(tc, sendv_reader_gone_is_epipe);
  suite_add_tcase(s, tc);
  tc = fo_tcase("deadlines", 20);
  tcase_add_test(tc, deadlines_on_empty_and_full);
  tcase_add_test(tc, half_sent_message_resumes);
  tcase_add_test(tc, sendv_deadline_counts_and_resumes);
  suite_add_tcase(s, tc);
  return s;
}
