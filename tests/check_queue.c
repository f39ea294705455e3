/* fo_mq: arguments, order, sizes, deadlines, limits, and many producers and consumers across
 * fork() with every message delivered exactly once. Runs on whichever port is built. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "fanout/ipc.h"
#include "helpers/fixture.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "suites.h"

static int is_linux_port(void) {
  return strcmp(FO_PORT_NAME, "linux") == 0;
}

START_TEST(arguments_are_checked) {
  fo_mq *q = (fo_mq *)&q;
  char buf[64];
  size_t len;
  ck_assert_int_eq(fo_mq_create(NULL, 64, 4, 0), -EINVAL);
  ck_assert_int_eq(fo_mq_create(&q, 0, 4, 0), -EINVAL);
  ck_assert_ptr_null(q); /* cleared even on failure */
  ck_assert_int_eq(fo_mq_create(&q, 64, 0, 0), -EINVAL);
  ck_assert_int_eq(fo_mq_create(&q, (size_t)INT_MAX + 1, 4, 0), -EINVAL);
  ck_assert_int_eq(fo_mq_create(&q, 64, 4, 0x80), -EINVAL);
  ck_assert_int_eq(fo_mq_send(NULL, "x", 1, 0), -EINVAL);
  ck_assert_int_eq(fo_mq_recv(NULL, buf, sizeof buf, &len, 0), -EINVAL);
  ck_assert_int_eq(fo_mq_create(&q, 64, 4, 0), 0);
  ck_assert_int_eq(fo_mq_send(q, NULL, 1, 0), -EINVAL);
  ck_assert_int_eq(fo_mq_recv(q, NULL, 64, &len, 0), -EINVAL);
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, NULL, 0), -EINVAL);
  /* could not hold a full message: refused with the size it needs, and nothing taken */
  ck_assert_int_eq(fo_mq_send(q, "kept", 4, 0), 0);
  len = 0;
  ck_assert_int_eq(fo_mq_recv(q, buf, 63, &len, 0), FO_ETOOBIG);
  ck_assert_uint_eq(len, fo_mq_msg_size(q));
  ck_assert_uint_eq(len, 64);
  ck_assert_int_eq(fo_mq_recv(q, buf, 64, &len, 0), 0);
  ck_assert_uint_eq(len, 4);
  ck_assert_int_eq(fo_mq_send_end(NULL, 0), -EINVAL);
  ck_assert_int_eq(fo_mq_send_end(q, -2), -EINVAL);
  ck_assert_int_eq(fo_mq_fd(NULL), -EINVAL);
  ck_assert_uint_eq(fo_mq_msg_size(NULL), 0);
  ck_assert_uint_eq(fo_mq_depth(NULL), 0);
  fo_mq_destroy(q);
  fo_mq_destroy(NULL);
}
END_TEST

START_TEST(messages_come_out_whole_and_in_order) {
  fo_mq *q;
  ck_assert_int_eq(fo_mq_create(&q, 32, 8, 0), 0);
  ck_assert_uint_eq(fo_mq_msg_size(q), 32);
  ck_assert_uint_eq(fo_mq_depth(q), 8);
  const char *msgs[] = {"alpha", "", "gamma gamma", "0123456789abcdef0123456789abcdef"};
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(fo_mq_send(q, msgs[i], strlen(msgs[i]), 0), 0);
  ck_assert_int_eq(fo_mq_send(q, NULL, 0, 0), 0); /* an empty message needs no buffer */
  char buf[32];
  size_t len;
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), 0);
    ck_assert_uint_eq(len, strlen(msgs[i]));
    ck_assert(memcmp(buf, msgs[i], len) == 0);
  }
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), 0);
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), -EAGAIN);
  fo_mq_destroy(q);
}
END_TEST

START_TEST(oversize_is_refused_never_truncated) {
  fo_mq *q;
  ck_assert_int_eq(fo_mq_create(&q, 16, 4, 0), 0);
  char big[17] = "0123456789abcdefX", buf[16];
  size_t len;
  ck_assert_int_eq(fo_mq_send(q, big, 17, 0), FO_ETOOBIG);
  ck_assert_int_eq(fo_mq_send(q, big, 16, 0), 0);
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), 0);
  ck_assert_uint_eq(len, 16);
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), -EAGAIN); /* nothing else went in */
  ck_assert_str_eq(fo_strerror(FO_ETOOBIG), "message or value larger than its buffer or limit");
  fo_mq_destroy(q);
}
END_TEST

START_TEST(deadlines_bound_waits_on_empty_and_full) {
  fo_mq *q;
  ck_assert_int_eq(fo_mq_create(&q, 64, 4, 0), 0);
  char buf[64] = "payload";
  size_t len;
  double t = tp_now_ms();
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), -EAGAIN);
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 80), -ETIMEDOUT);
  ck_assert_double_ge(tp_now_ms() - t, 75);
  int sent = 0;
  while (sent < 100000 && fo_mq_send(q, buf, sizeof buf, 0) == 0)
    sent++;
  ck_assert_int_ge(sent, 1);
  ck_assert_int_lt(sent, 100000);
  if (is_linux_port())
    ck_assert_int_eq(sent, 4); /* exactly the depth; posix: the socket layer decides */
  /* full, timeout 0: "would have to wait" (-EAGAIN); with a bound that passes: -ETIMEDOUT */
  ck_assert_int_eq(fo_mq_send(q, buf, sizeof buf, 0), -EAGAIN);
  t = tp_now_ms();
  ck_assert_int_eq(fo_mq_send(q, buf, sizeof buf, 60), -ETIMEDOUT);
  ck_assert_double_ge(tp_now_ms() - t, 55);
  /* a passed deadline still goes through when there is room */
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), 0);
  ck_assert_int_eq(fo_mq_send(q, buf, sizeof buf, 0), 0);
  fo_mq_destroy(q);
}
END_TEST

static void on_alarm(int sig) {
  (void)sig;
}

/* Signals arrive every 10 ms without SA_RESTART; the wait must still end at its deadline with
 * -ETIMEDOUT, not -EINTR and not early. In a child, so the timer disturbs nothing else. */
START_TEST(deadline_holds_through_signals) {
  fo_mq *q;
  ck_assert_int_eq(fo_mq_create(&q, 64, 4, 0), 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_REAL, &it, NULL);
    char buf[64] = "tick";
    size_t len;
    double t = tp_now_ms();
    TP_CHECK(fo_mq_recv(q, buf, sizeof buf, &len, 150) == -ETIMEDOUT, 1);
    TP_CHECK(tp_now_ms() - t >= 145, 2);
    t = tp_now_ms();
    for (int i = 0; i < 4; i++)
      TP_CHECK(fo_mq_send(q, buf, 8, 0) == 0, 3);
    TP_CHECK(is_linux_port() ? fo_mq_send(q, buf, 8, 120) == -ETIMEDOUT : 1, 4);
    TP_CHECK(tp_now_ms() - t >= (is_linux_port() ? 115 : 0), 5);
    fo_mq_destroy(q);
    _exit(0);
  }
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  fo_mq_destroy(q);
}
END_TEST

/* One producer, one consumer in another process: strict order. */
START_TEST(order_is_kept_across_fork) {
  fo_mq *q;
  ck_assert_int_eq(fo_mq_create(&q, 8, 10, 0), 0);
  enum { N = 5000 };
  pid_t pid = tp_fork();
  if (pid == 0) {
    for (uint32_t i = 0; i < N; i++)
      TP_CHECK(fo_mq_send(q, &i, sizeof i, (int)(tp_scaled(10) * 1000)) == 0, 1);
    fo_mq_destroy(q);
    _exit(0);
  }
  for (uint32_t i = 0; i < N; i++) {
    uint32_t got[2];
    size_t len;
    ck_assert_int_eq(fo_mq_recv(q, got, sizeof got, &len, (int)(tp_scaled(10) * 1000)), 0);
    ck_assert_uint_eq(len, sizeof(uint32_t));
    ck_assert_uint_eq(got[0], i);
  }
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  fo_mq_destroy(q);
}
END_TEST

/* The descriptor polls: readable exactly while something waits in the queue. */
START_TEST(descriptor_polls_for_messages) {
  fo_mq *q;
  ck_assert_int_eq(fo_mq_create(&q, 16, 4, 0), 0);
  int fd = fo_mq_fd(q);
  ck_assert_int_ge(fd, 0);
  struct pollfd p = {fd, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 0), 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    usleep(50 * 1000); /* the parent is in poll() by now, most likely */
    TP_CHECK(fo_mq_send(q, "ping", 4, 1000) == 0, 1);
    fo_mq_destroy(q);
    _exit(0);
  }
  p.revents = 0;
  ck_assert_int_eq(poll(&p, 1, (int)(tp_scaled(10) * 1000)), 1);
  ck_assert(p.revents & POLLIN);
  char buf[16];
  size_t len;
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), 0);
  ck_assert_uint_eq(len, 4);
  p.revents = 0;
  ck_assert_int_eq(poll(&p, 1, 0), 0); /* taken: nothing waits */
  ck_assert_int_eq(fo_mq_send_end(q, 0), 0);
  ck_assert_int_eq(poll(&p, 1, 0), 1); /* a marker wakes a poller too */
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), FO_EEOF);
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  fo_mq_destroy(q);
}
END_TEST

/* End of stream with several producers: each sends its messages and then one marker; the
 * consumer stops after one FO_EEOF per producer, having seen every message, each producer's in
 * order. Zero-length messages stay messages. */
enum { EOS_PRODUCERS = 4, EOS_PER = 400 };

START_TEST(end_of_stream_from_several_producers) {
  fo_mq *q;
  ck_assert_int_eq(fo_mq_create(&q, 8, 8, 0), 0);
  pid_t pids[EOS_PRODUCERS];
  for (uint32_t p = 0; p < EOS_PRODUCERS; p++) {
    pids[p] = tp_fork();
    if (pids[p] == 0) {
      for (uint32_t i = 0; i < EOS_PER; i++) {
        uint32_t m[2] = {p, i};
        /* every tenth message is empty: it must not read as the end */
        TP_CHECK(fo_mq_send(q, m, i % 10 == 9 ? 0 : sizeof m, (int)(tp_scaled(10) * 1000)) == 0,
                 1);
      }
      TP_CHECK(fo_mq_send_end(q, (int)(tp_scaled(10) * 1000)) == 0, 2);
      fo_mq_destroy(q);
      _exit(0);
    }
  }
  uint32_t next[EOS_PRODUCERS] = {0};
  int ends = 0, empty = 0;
  unsigned total = 0;
  while (ends < EOS_PRODUCERS) {
    uint32_t m[2];
    size_t len;
    int rc = fo_mq_recv(q, m, sizeof m, &len, (int)(tp_scaled(10) * 1000));
    if (rc == FO_EEOF) {
      ends++;
      continue;
    }
    ck_assert_int_eq(rc, 0);
    total++;
    if (len == 0) {
      empty++;
      continue;
    }
    ck_assert_uint_eq(len, sizeof m);
    ck_assert_uint_lt(m[0], EOS_PRODUCERS);
    ck_assert_uint_ge(m[1], next[m[0]]); /* in order (the empty ones are skipped over) */
    next[m[0]] = m[1] + 1;
  }
  ck_assert_uint_eq(total, EOS_PRODUCERS * EOS_PER);
  ck_assert_int_eq(empty, EOS_PRODUCERS * EOS_PER / 10);
  for (int p = 0; p < EOS_PRODUCERS; p++) {
    ck_assert_uint_eq(next[p], EOS_PER - 1); /* the last one (399) was empty */
    ck_assert_int_eq(tp_wait(pids[p], 10), 0);
  }
  size_t len;
  char buf[8];
  ck_assert_int_eq(fo_mq_recv(q, buf, sizeof buf, &len, 0), -EAGAIN); /* nothing after */
  fo_mq_destroy(q);
}
END_TEST

/* Producers and consumers all in their own processes. Each consumer marks every message it
 * gets in a shared table, and checks that each producer's messages reach it in order. */
enum { PRODUCERS = 3, CONSUMERS = 3, PER_PRODUCER = 3000 };

typedef struct {
  uint32_t producer, seq;
} item;

typedef struct {
  uint32_t seen[PRODUCERS][PER_PRODUCER];
  uint32_t out_of_order;
} tally;

static int consume(fo_mq *q, tally *t) {
  uint32_t next[PRODUCERS] = {0};
  for (;;) {
    item it;
    size_t len;
    int rc = fo_mq_recv(q, &it, sizeof it, &len, (int)(tp_scaled(20) * 1000));
    if (rc != 0 || len != sizeof it)
      return 1;
    if (it.producer == UINT32_MAX)
      return 0;
    if (it.producer >= PRODUCERS || it.seq >= PER_PRODUCER)
      return 2;
    if (it.seq < next[it.producer])
      __atomic_add_fetch(&t->out_of_order, 1, __ATOMIC_RELAXED);
    next[it.producer] = it.seq + 1;
    __atomic_add_fetch(&t->seen[it.producer][it.seq], 1, __ATOMIC_RELAXED);
  }
}

START_TEST(many_producers_many_consumers_exactly_once) {
  fo_mq *q;
  fo_shm *shm;
  ck_assert_int_eq(fo_mq_create(&q, sizeof(item), 10, 0), 0);
  ck_assert_int_eq(fo_shm_create(&shm, sizeof(tally)), 0);
  tally *t = fo_shm_addr(shm);
  pid_t cons[CONSUMERS], prod[PRODUCERS];
  for (int c = 0; c < CONSUMERS; c++) {
    if ((cons[c] = tp_fork()) == 0) {
      int rc = consume(q, t);
      fo_shm_destroy(shm); /* each process lets go of its own copies */
      fo_mq_destroy(q);
      _exit(rc);
    }
  }
  for (uint32_t p = 0; p < PRODUCERS; p++) {
    if ((prod[p] = tp_fork()) == 0) {
      for (uint32_t s = 0; s < PER_PRODUCER; s++) {
        item it = {p, s};
        TP_CHECK(fo_mq_send(q, &it, sizeof it, (int)(tp_scaled(20) * 1000)) == 0, 1);
      }
      fo_shm_destroy(shm);
      fo_mq_destroy(q);
      _exit(0);
    }
  }
  for (int p = 0; p < PRODUCERS; p++)
    ck_assert_int_eq(tp_wait(prod[p], 30), 0);
  for (int c = 0; c < CONSUMERS; c++) {
    item stop = {UINT32_MAX, 0};
    ck_assert_int_eq(fo_mq_send(q, &stop, sizeof stop, 10000), 0);
  }
  for (int c = 0; c < CONSUMERS; c++)
    ck_assert_int_eq(tp_wait(cons[c], 30), 0);
  for (int p = 0; p < PRODUCERS; p++)
    for (int s = 0; s < PER_PRODUCER; s++)
      ck_assert_msg(t->seen[p][s] == 1, "producer %d message %d seen %u times", p, s,
                    t->seen[p][s]);
  ck_assert_uint_eq(t->out_of_order, 0);
  fo_shm_destroy(shm);
  fo_mq_destroy(q);
}
END_TEST

static long proc_limit(const char *name) {
  char path[64];
  long v = 0;
  snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", name);
  FILE *f = fopen(path, "r");
  if (f != NULL) {
    if (fscanf(f, "%ld", &v) != 1)
      v = 0;
    fclose(f);
  }
  return v;
}

/* Above the kernel's limits: refused with the code that names /proc/sys/fs/mqueue, or clamped. */
START_TEST(limits_are_refused_or_clamped) {
  fo_mq *q;
  if (!is_linux_port()) {
    ck_assert_int_eq(fo_mq_create(&q, 65537, 4, 0), -EMSGSIZE);
    ck_assert_int_eq(fo_mq_create(&q, 65537, 4, FO_MQ_CLAMP), 0);
    ck_assert_uint_eq(fo_mq_msg_size(q), 65536);
    fo_mq_destroy(q);
    return;
  }
  long msg_max = proc_limit("msg_max"), size_max = proc_limit("msgsize_max");
  ck_assert_int_gt(msg_max, 0);
  ck_assert_int_gt(size_max, 0);
  ck_assert(strstr(fo_strerror(FO_EMQLIMIT), "/proc/sys/fs/mqueue") != NULL);
  /* Beyond the kernel's hard ceilings (65,536 messages, 16 MiB): refused even for root. */
  ck_assert_int_eq(fo_mq_create(&q, 64, 100000, 0), FO_EMQLIMIT);
  ck_assert_int_eq(fo_mq_create(&q, 32u << 20, 4, 0), FO_EMQLIMIT);
  /* Just above msg_max: refused unless this process may exceed it (CAP_SYS_RESOURCE). */
  int rc = fo_mq_create(&q, 64, (unsigned)msg_max + 1, 0);
  ck_assert_msg(rc == FO_EMQLIMIT || rc == 0, "got %d (%s)", rc, fo_strerror(rc));
  if (rc == 0)
    fo_mq_destroy(q);
  ck_assert_int_eq(fo_mq_create(&q, 32u << 20, 100000, FO_MQ_CLAMP), 0);
  ck_assert_uint_eq(fo_mq_msg_size(q), (size_t)size_max);
  ck_assert_uint_eq(fo_mq_depth(q), (unsigned)msg_max);
  fo_mq_destroy(q);
}
END_TEST

/* A spent RLIMIT_MSGQUEUE budget is FO_EMQCOUNT; a full descriptor table stays -EMFILE. */
START_TEST(queue_budget_and_descriptor_table) {
  if (!is_linux_port())
    return;
  pid_t pid = tp_fork();
  if (pid == 0) {
    struct rlimit none = {0, 0};
    fo_mq *q;
    TP_CHECK(setrlimit(RLIMIT_MSGQUEUE, &none) == 0, 1);
    TP_CHECK(fo_mq_create(&q, 64, 4, 0) == FO_EMQCOUNT, 2);
    _exit(0);
  }
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  pid = tp_fork();
  if (pid == 0) {
    struct rlimit few = {64, 64};
    fo_mq *q;
    if (setrlimit(RLIMIT_NOFILE, &few) != 0) { /* valgrind guards its own descriptors */
      fputs("note: cannot lower RLIMIT_NOFILE: descriptor-table case skipped\n", stderr);
      _exit(0);
    }
    int fd = open("/dev/null", O_RDONLY);
    while (fd >= 0 && dup(fd) >= 0)
      ;
    TP_CHECK(fo_mq_create(&q, 64, 4, 0) == -EMFILE, 2);
    _exit(0);
  }
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  ck_assert(strstr(fo_strerror(FO_EMQCOUNT), "RLIMIT_MSGQUEUE") != NULL);
}
END_TEST

static int create_op(void *arg) {
  return fo_mq_create(arg, 64, 4, 0);
}

static void destroy_op(void *arg) {
  fo_mq_destroy(*(fo_mq **)arg);
}

START_TEST(create_out_of_memory) {
  fo_mq *q;
  ck_assert_int_ge(ta_oom_loop(create_op, destroy_op, &q), 1);
}
END_TEST

Suite *queue_suite(void) {
  Suite *s = suite_create("queue");
  TCase *tc = fo_tcase("basics", 10);
  tcase_add_test(tc, arguments_are_checked);
  tcase_add_test(tc, messages_come_out_whole_and_in_order);
  tcase_add_test(tc, oversize_is_refused_never_truncated);
  tcase_add_test(tc, create_out_of_memory);
  suite_add_tcase(s, tc);
  tc = fo_tcase("deadlines", 10);
  tcase_add_test(tc, deadlines_bound_waits_on_empty_and_full);
  tcase_add_test(tc, deadline_holds_through_signals);
  suite_add_tcase(s, tc);
  tc = fo_tcase("processes", 60);
  tcase_add_test(tc, order_is_kept_across_fork);
  tcase_add_test(tc, many_producers_many_consumers_exactly_once);
  tcase_add_test(tc, descriptor_polls_for_messages);
  tcase_add_test(tc, end_of_stream_from_several_producers);
  suite_add_tcase(s, tc);
  tc = fo_tcase("limits", 10);
  tcase_add_test(tc, limits_are_refused_or_clamped);
  tcase_add_test(tc, queue_budget_and_descriptor_table);
  suite_add_tcase(s, tc);
  return s;
}
