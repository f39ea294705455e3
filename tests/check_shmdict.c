/* fo_shmdict: the operations against a reference model, a full map, the seed's counter across
 * eight processes, lock-free readers under writes, and recovery after a lock holder is killed. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanout/shmdict.h"
#include "helpers/fixture.h"
#include "helpers/procs.h"
#include "helpers/testalloc.h"
#include "shmdict/shmdict_internal.h"
#include "suites.h"

START_TEST(arguments_are_checked) {
  fo_shmdict *d = (fo_shmdict *)&d;
  int64_t v;
  ck_assert_int_eq(fo_shmdict_create(NULL, 8, 8), -EINVAL);
  ck_assert_int_eq(fo_shmdict_create(&d, 0, 8), -EINVAL);
  ck_assert_ptr_null(d);
  ck_assert_int_eq(fo_shmdict_create(&d, FO_SHMDICT_CAPACITY_MAX + 1, 8), -EINVAL);
  ck_assert_int_eq(fo_shmdict_create(&d, 8, 0), -EINVAL);
  ck_assert_int_eq(fo_shmdict_create(&d, 8, FO_SHMDICT_KEY_MAX + 1), -EINVAL);
  ck_assert_int_eq(fo_shmdict_get(NULL, "k", &v), -EINVAL);
  ck_assert_int_eq(fo_shmdict_set(NULL, "k", 1), -EINVAL);
  ck_assert_int_eq(fo_shmdict_add(NULL, "k", 1, NULL), -EINVAL);
  ck_assert_int_eq(fo_shmdict_delete(NULL, "k"), -EINVAL);
  ck_assert_int_eq(fo_shmdict_count(NULL), -EINVAL);
  ck_assert_int_eq(fo_shmdict_foreach(NULL, NULL, NULL), -EINVAL);
  ck_assert_uint_eq(fo_shmdict_capacity(NULL), 0);
  TP_DICT_OR_SKIP(&d, 8, 8);
  ck_assert_uint_eq(fo_shmdict_capacity(d), 8);
  ck_assert_int_eq(fo_shmdict_get(d, NULL, &v), -EINVAL);
  ck_assert_int_eq(fo_shmdict_get(d, "k", NULL), -EINVAL);
  ck_assert_int_eq(fo_shmdict_set(d, NULL, 1), -EINVAL);
  ck_assert_int_eq(fo_shmdict_add(d, NULL, 1, NULL), -EINVAL);
  ck_assert_int_eq(fo_shmdict_delete(d, NULL), -EINVAL);
  ck_assert_int_eq(fo_shmdict_foreach(d, NULL, NULL), -EINVAL);
  fo_shmdict_destroy(d);
  fo_shmdict_destroy(NULL);
}
END_TEST

START_TEST(get_set_add_delete_count) {
  fo_shmdict *d;
  int64_t v = 0;
  TP_DICT_OR_SKIP(&d, 16, 32);
  ck_assert_int_eq(fo_shmdict_count(d), 0);
  ck_assert_int_eq(fo_shmdict_get(d, "sat", &v), FO_ENOTFOUND);
  ck_assert_int_eq(fo_shmdict_set(d, "sat", 42), 0);
  ck_assert_int_eq(fo_shmdict_get(d, "sat", &v), 0);
  ck_assert_int_eq(v, 42);
  ck_assert_int_eq(fo_shmdict_set(d, "sat", -7), 0);
  ck_assert_int_eq(fo_shmdict_count(d), 1);
  ck_assert_int_eq(fo_shmdict_add(d, "sat", 10, &v), 0);
  ck_assert_int_eq(v, 3);
  ck_assert_int_eq(fo_shmdict_add(d, "new", 5, &v), 0); /* a missing key starts at 0 */
  ck_assert_int_eq(v, 5);
  ck_assert_int_eq(fo_shmdict_add(d, "new", 1, NULL), 0);
  ck_assert_int_eq(fo_shmdict_set(d, "", 99), 0); /* the empty string is a key like any other */
  ck_assert_int_eq(fo_shmdict_count(d), 3);
  ck_assert_int_eq(fo_shmdict_delete(d, "sat"), 0);
  ck_assert_int_eq(fo_shmdict_delete(d, "sat"), FO_ENOTFOUND);
  ck_assert_int_eq(fo_shmdict_get(d, "sat", &v), FO_ENOTFOUND);
  ck_assert_int_eq(fo_shmdict_get(d, "new", &v), 0);
  ck_assert_int_eq(v, 6);
  ck_assert_int_eq(fo_shmdict_get(d, "", &v), 0);
  ck_assert_int_eq(v, 99);
  ck_assert_int_eq(fo_shmdict_count(d), 2);
  fo_shmdict_destroy(d);
}
END_TEST

START_TEST(key_length_is_bounded) {
  fo_shmdict *d;
  int64_t v;
  TP_DICT_OR_SKIP(&d, 4, 8);
  ck_assert_int_eq(fo_shmdict_set(d, "12345678", 1), 0); /* exactly key_max */
  ck_assert_int_eq(fo_shmdict_set(d, "123456789", 2), FO_ETOOBIG);
  ck_assert_int_eq(fo_shmdict_add(d, "123456789", 2, NULL), FO_ETOOBIG);
  ck_assert_int_eq(fo_shmdict_get(d, "123456789", &v), FO_ETOOBIG);
  ck_assert_int_eq(fo_shmdict_delete(d, "123456789"), FO_ETOOBIG);
  ck_assert_int_eq(fo_shmdict_get(d, "1234567", &v), FO_ENOTFOUND); /* a prefix is another key */
  ck_assert_int_eq(fo_shmdict_get(d, "12345678", &v), 0);
  ck_assert_int_eq(v, 1);
  fo_shmdict_destroy(d);
}
END_TEST

START_TEST(full_map_is_an_error_not_corruption) {
  fo_shmdict *d;
  int64_t v;
  char k[16];
  TP_DICT_OR_SKIP(&d, 5, 8);
  for (int i = 0; i < 5; i++) {
    snprintf(k, sizeof k, "k%d", i);
    ck_assert_int_eq(fo_shmdict_set(d, k, i), 0);
  }
  ck_assert_int_eq(fo_shmdict_set(d, "extra", 1), FO_EFULL);
  ck_assert_int_eq(fo_shmdict_add(d, "extra", 1, NULL), FO_EFULL);
  ck_assert_int_eq(fo_shmdict_add(d, "k3", 100, &v), 0); /* existing keys still update */
  ck_assert_int_eq(v, 103);
  ck_assert_int_eq(fo_shmdict_count(d), 5);
  ck_assert_int_eq(fo_shmdict_get(d, "extra", &v), FO_ENOTFOUND);
  ck_assert_int_eq(fo_shmdict_delete(d, "k0"), 0);
  ck_assert_int_eq(fo_shmdict_set(d, "extra", 7), 0);
  for (int i = 1; i < 5; i++) {
    snprintf(k, sizeof k, "k%d", i);
    ck_assert_int_eq(fo_shmdict_get(d, k, &v), 0);
    ck_assert_int_eq(v, i == 3 ? 103 : i);
  }
  fo_shmdict_destroy(d);
}
END_TEST

START_TEST(add_refuses_overflow) {
  fo_shmdict *d;
  int64_t v;
  TP_DICT_OR_SKIP(&d, 4, 8);
  ck_assert_int_eq(fo_shmdict_set(d, "big", INT64_MAX - 1), 0);
  ck_assert_int_eq(fo_shmdict_add(d, "big", 1, &v), 0);
  ck_assert_int_eq(v, INT64_MAX);
  ck_assert_int_eq(fo_shmdict_add(d, "big", 1, &v), -ERANGE);
  ck_assert_int_eq(fo_shmdict_get(d, "big", &v), 0);
  ck_assert_int_eq(v, INT64_MAX);
  ck_assert_int_eq(fo_shmdict_set(d, "small", INT64_MIN), 0);
  ck_assert_int_eq(fo_shmdict_add(d, "small", -1, NULL), -ERANGE);
  fo_shmdict_destroy(d);
}
END_TEST

/* Random operations on a few dozen keys against a plain array: exercises tombstones, reuse of
 * slots, a full map, and foreach's snapshot. */
enum { KEYS = 48, CAP = 32 };

typedef struct {
  int present[KEYS];
  int64_t value[KEYS];
  int seen;
  int bad;
} model;

static int check_entry(const char *key, int64_t value, void *arg) {
  model *m = arg;
  int i = atoi(key + 3);
  if (strncmp(key, "key", 3) != 0 || i < 0 || i >= KEYS || !m->present[i] || m->value[i] != value)
    m->bad++;
  m->seen++;
  return 0;
}

START_TEST(random_operations_match_a_model) {
  fo_shmdict *d;
  model m;
  memset(&m, 0, sizeof m);
  TP_DICT_OR_SKIP(&d, CAP, 12);
  unsigned seed = 12345;
  int live = 0;
  for (int step = 0; step < 20000; step++) {
    seed = seed * 1103515245u + 12345u;
    int i = (int)((seed >> 8) % KEYS), op = (int)((seed >> 20) % 4);
    char k[16];
    snprintf(k, sizeof k, "key%d", i);
    int64_t v = (int64_t)(seed >> 4) - 100000;
    int rc;
    switch (op) {
    case 0:
      rc = fo_shmdict_set(d, k, v);
      if (!m.present[i] && live == CAP) {
        ck_assert_int_eq(rc, FO_EFULL);
      } else {
        ck_assert_int_eq(rc, 0);
        live += !m.present[i];
        m.present[i] = 1;
        m.value[i] = v;
      }
      break;
    case 1:
      rc = fo_shmdict_add(d, k, 3, NULL);
      if (!m.present[i] && live == CAP) {
        ck_assert_int_eq(rc, FO_EFULL);
      } else {
        ck_assert_int_eq(rc, 0);
        m.value[i] = m.present[i] ? m.value[i] + 3 : 3;
        live += !m.present[i];
        m.present[i] = 1;
      }
      break;
    case 2:
      rc = fo_shmdict_delete(d, k);
      ck_assert_int_eq(rc, m.present[i] ? 0 : FO_ENOTFOUND);
      live -= m.present[i];
      m.present[i] = 0;
      break;
    default:
      rc = fo_shmdict_get(d, k, &v);
      ck_assert_int_eq(rc, m.present[i] ? 0 : FO_ENOTFOUND);
      if (rc == 0)
        ck_assert_int_eq(v, m.value[i]);
      break;
    }
    ck_assert_int_eq(fo_shmdict_count(d), live);
    if (step % 1000 == 0) {
      m.seen = m.bad = 0;
      ck_assert_int_eq(fo_shmdict_foreach(d, check_entry, &m), 0);
      ck_assert_int_eq(m.seen, live);
      ck_assert_int_eq(m.bad, 0);
    }
  }
  fo_shmdict_destroy(d);
}
END_TEST

static int stop_at_second(const char *key, int64_t value, void *arg) {
  (void)key;
  (void)value;
  return ++*(int *)arg == 2 ? 77 : 0;
}

/* The callback runs without the lock: it may update the dict it walks. */
static int delete_each(const char *key, int64_t value, void *arg) {
  (void)value;
  return fo_shmdict_delete(arg, key);
}

START_TEST(foreach_stops_and_may_update) {
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 8, 8);
  ck_assert_int_eq(fo_shmdict_foreach(d, stop_at_second, &(int){0}), 0); /* empty */
  for (int i = 0; i < 5; i++) {
    char k[16];
    snprintf(k, sizeof k, "%d", i);
    ck_assert_int_eq(fo_shmdict_set(d, k, i), 0);
  }
  int calls = 0;
  ck_assert_int_eq(fo_shmdict_foreach(d, stop_at_second, &calls), 77);
  ck_assert_int_eq(calls, 2);
  ck_assert_int_eq(fo_shmdict_foreach(d, delete_each, d), 0);
  ck_assert_int_eq(fo_shmdict_count(d), 0);
  fo_shmdict_destroy(d);
}
END_TEST

/* The seed's counter: 8 processes each add 1 ten times under their own pid, and all of them
 * also hammer one shared key. Every add must land. */
START_TEST(eight_processes_count_exactly) {
  enum { PROCS = 8, ADDS = 10, SHARED_ADDS = 2000 };
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 64, 16);
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    if ((pids[p] = tp_fork()) == 0) {
      char k[16];
      snprintf(k, sizeof k, "%d", (int)getpid());
      for (int i = 0; i < ADDS; i++)
        TP_CHECK(fo_shmdict_add(d, k, 1, NULL) == 0, 1);
      for (int i = 0; i < SHARED_ADDS; i++)
        TP_CHECK(fo_shmdict_add(d, "total", 1, NULL) == 0, 2);
      fo_shmdict_destroy(d);
      _exit(0);
    }
  }
  for (int p = 0; p < PROCS; p++)
    ck_assert_int_eq(tp_wait(pids[p], 30), 0);
  for (int p = 0; p < PROCS; p++) {
    char k[16];
    int64_t v = 0;
    snprintf(k, sizeof k, "%d", (int)pids[p]);
    ck_assert_int_eq(fo_shmdict_get(d, k, &v), 0);
    ck_assert_int_eq(v, ADDS);
  }
  int64_t total = 0;
  ck_assert_int_eq(fo_shmdict_get(d, "total", &total), 0);
  ck_assert_int_eq(total, PROCS * SHARED_ADDS);
  ck_assert_int_eq(fo_shmdict_count(d), PROCS + 1);
  fo_shmdict_destroy(d);
}
END_TEST

/* Lock-free readers while another process inserts, deletes and adds: a counter never goes
 * backwards and a key that is always present is always found. */
START_TEST(readers_see_consistent_values_under_writes) {
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 256, 16);
  ck_assert_int_eq(fo_shmdict_set(d, "counter", 0), 0);
  pid_t pid = tp_fork();
  if (pid == 0) {
    for (int i = 0; i < 20000; i++) {
      char k[16];
      snprintf(k, sizeof k, "churn%d", i % 200);
      TP_CHECK(fo_shmdict_add(d, "counter", 1, NULL) == 0, 1);
      TP_CHECK(fo_shmdict_set(d, k, i) == 0, 2);
      if (i % 3 == 0)
        TP_CHECK(fo_shmdict_delete(d, k) == 0, 3);
    }
    fo_shmdict_destroy(d);
    _exit(0);
  }
  int64_t last = 0;
  for (int i = 0; i < 20000; i++) {
    int64_t v;
    ck_assert_int_eq(fo_shmdict_get(d, "counter", &v), 0);
    ck_assert_int_ge(v, last);
    last = v;
    int n = fo_shmdict_count(d);
    ck_assert_int_ge(n, 1);
    ck_assert_int_le(n, 201);
  }
  ck_assert_int_eq(tp_wait(pid, 30), 0);
  ck_assert_int_eq(fo_shmdict_get(d, "counter", &last), 0);
  ck_assert_int_eq(last, 20000);
  fo_shmdict_destroy(d);
}
END_TEST

/* A process takes the lock, begins an update, skews the count, and is killed with SIGKILL.
 * The others carry on: the robust mutex reports the death, the dict is repaired, and readers
 * that found the update still running fall back to the lock instead of spinning forever. */
START_TEST(killed_lock_holder_does_not_wedge_the_others) {
  if (!tp_robust_futexes("lock-holder recovery cannot be shown"))
    return;
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 16, 8);
  ck_assert_int_eq(fo_shmdict_set(d, "a", 1), 0);
  ck_assert_int_eq(fo_shmdict_set(d, "b", 2), 0);
  tp_bell held;
  tp_bell_init(&held);
  pid_t pid = tp_fork();
  if (pid == 0) {
    TP_CHECK(fo__shmdict_hold_mid_update(d, 5) == 0, 1);
    tp_bell_ring(&held, 'h');
    for (;;)
      pause();
  }
  ck_assert_int_eq(tp_bell_wait(&held, 10), 'h');
  ck_assert_int_eq(tp_kill(pid), 128 + SIGKILL);
  int64_t v;
  ck_assert_int_eq(fo_shmdict_get(d, "a", &v), 0); /* falls back to the lock and repairs */
  ck_assert_int_eq(v, 1);
  ck_assert_int_eq(fo_shmdict_count(d), 2); /* the skew is gone */
  ck_assert_int_eq(fo_shmdict_add(d, "b", 1, &v), 0);
  ck_assert_int_eq(v, 3);
  /* And again from another child, now that the lock is consistent. */
  pid = tp_fork();
  if (pid == 0) {
    TP_CHECK(fo_shmdict_add(d, "c", 1, NULL) == 0, 1);
    fo_shmdict_destroy(d);
    _exit(0);
  }
  ck_assert_int_eq(tp_wait(pid, 10), 0);
  ck_assert_int_eq(fo_shmdict_count(d), 3);
  tp_bell_close(&held);
  fo_shmdict_destroy(d);
}
END_TEST

/* Threads of one process share a dict too (the mutex works between threads as between
 * processes); under ThreadSanitizer this also checks that lock-free reads race with nothing. */
enum { THREAD_ADDS = 20000 };

static void *adder(void *arg) {
  for (int i = 0; i < THREAD_ADDS; i++)
    if (fo_shmdict_add(arg, "t", 1, NULL) != 0)
      return arg;
  return NULL;
}

static void *churner(void *arg) {
  for (int i = 0; i < THREAD_ADDS; i++) {
    char k[16];
    snprintf(k, sizeof k, "c%d", i % 50);
    if (fo_shmdict_set(arg, k, i) != 0 || (i % 2 && fo_shmdict_delete(arg, k) != 0))
      return arg;
  }
  return NULL;
}

START_TEST(threads_share_a_dict) {
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 128, 16);
  ck_assert_int_eq(fo_shmdict_set(d, "t", 0), 0);
  pthread_t th[3];
  ck_assert_int_eq(pthread_create(&th[0], NULL, adder, d), 0);
  ck_assert_int_eq(pthread_create(&th[1], NULL, adder, d), 0);
  ck_assert_int_eq(pthread_create(&th[2], NULL, churner, d), 0);
  int64_t last = 0, v;
  for (int i = 0; i < THREAD_ADDS; i++) {
    ck_assert_int_eq(fo_shmdict_get(d, "t", &v), 0);
    ck_assert_int_ge(v, last);
    last = v;
  }
  for (int i = 0; i < 3; i++) {
    void *res;
    ck_assert_int_eq(pthread_join(th[i], &res), 0);
    ck_assert_ptr_null(res);
  }
  ck_assert_int_eq(fo_shmdict_get(d, "t", &v), 0);
  ck_assert_int_eq(v, 2 * THREAD_ADDS);
  fo_shmdict_destroy(d);
}
END_TEST

static int create_op(void *arg) {
  return fo_shmdict_create(arg, 32, 16);
}

static void destroy_op(void *arg) {
  fo_shmdict_destroy(*(fo_shmdict **)arg);
}

static int count_entry(const char *key, int64_t value, void *arg) {
  (void)key;
  (void)value;
  ++*(int *)arg;
  return 0;
}

static fo_shmdict *oom_dict;

static int foreach_op(void *arg) {
  *(int *)arg = 0;
  return fo_shmdict_foreach(oom_dict, count_entry, arg);
}

START_TEST(out_of_memory) {
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 8, 8);
  fo_shmdict_destroy(d);
  ck_assert_int_ge(ta_oom_loop(create_op, destroy_op, &d), 1);
  TP_DICT_OR_SKIP(&oom_dict, 8, 8);
  ck_assert_int_eq(fo_shmdict_set(oom_dict, "x", 1), 0);
  ck_assert_int_eq(fo_shmdict_set(oom_dict, "y", 2), 0);
  int seen = 0;
  ck_assert_int_ge(ta_oom_loop(foreach_op, NULL, &seen), 1);
  ck_assert_int_eq(seen, 2);
  fo_shmdict_destroy(oom_dict);
}
END_TEST

Suite *shmdict_suite(void) {
  Suite *s = suite_create("shmdict");
  TCase *tc = fo_tcase("operations", 20);
  tcase_add_test(tc, arguments_are_checked);
  tcase_add_test(tc, get_set_add_delete_count);
  tcase_add_test(tc, key_length_is_bounded);
  tcase_add_test(tc, full_map_is_an_error_not_corruption);
  tcase_add_test(tc, add_refuses_overflow);
  tcase_add_test(tc, random_operations_match_a_model);
  tcase_add_test(tc, foreach_stops_and_may_update);
  tcase_add_test(tc, out_of_memory);
  suite_add_tcase(s, tc);
  tc = fo_tcase("processes", 60);
  tcase_add_test(tc, eight_processes_count_exactly);
  tcase_add_test(tc, readers_see_consistent_values_under_writes);
  tcase_add_test(tc, killed_lock_holder_does_not_wedge_the_others);
  tcase_add_test(tc, threads_share_a_dict);
  suite_add_tcase(s, tc);
  return s;
}
