/* fo_pipe: framing, size queries, streaming past the pipe buffer, deadlines that resume,
 * end-of-stream and a writer that dies mid-message. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
  suite_add_tcase(s, tc);
  tc = fo_tcase("processes", 60);
  tcase_add_test(tc, large_messages_stream_across_fork);
  tcase_add_test(tc, many_small_messages_across_fork);
  tcase_add_test(tc, writer_killed_mid_message_is_broken);
  suite_add_tcase(s, tc);
  tc = fo_tcase("deadlines", 20);
  tcase_add_test(tc, deadlines_on_empty_and_full);
  tcase_add_test(tc, half_sent_message_resumes);
  suite_add_tcase(s, tc);
  return s;
}
