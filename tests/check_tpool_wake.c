/* The thread pool's sleep and wake-up protocol (src/tpool/tpool.c, "Sleeping and waking workers"):
 * no wake-up is lost when submitters race workers that are going to sleep, and the worker woken
 * is the last one to have gone to sleep. Part of the tpool suite. Every wait is bounded, so a
 * lost wake-up fails a test instead of hanging it. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>

#include "fanout/tpool.h"
#include "helpers/fixture.h"
#include "helpers/tpoolcheck.h"
#include "suites.h"

#define MAX_SUBMITTERS 4
#define ROUNDS 3000

typedef struct {
  fo_tpool *pool;
  int *failed; /* shared: once set, every submitter stops */
  unsigned seed;
  unsigned spin; /* how long the task keeps its worker after saying it is done */
  int done;
} submitter;

static void spin(unsigned n) {
  for (volatile unsigned i = n; i > 0; i--)
    ;
}

/* Says it is done, then keeps the worker a little longer: the submitter, woken by the post,
 * submits again while the worker is somewhere between this task and its next sleep. */
static void post_task(void *arg) {
  submitter *s = arg;
  unsigned n = s->spin;
  __atomic_store_n(&s->done, 1, __ATOMIC_SEQ_CST);
  spin(n);
}

/* The submitter polls (yielding, so one CPU is enough) rather than sleeping on a semaphore: a
 * thread woken by a post is often placed on the poster's CPU and runs only once the worker
 * sleeps, which would close the window this test is after. 0, or -1 when the bound passes. */
static int wait_done(submitter *s) {
  double give_up = now_s() + 5 * slowness();
  while (!__atomic_load_n(&s->done, __ATOMIC_SEQ_CST)) {
    if (now_s() > give_up)
      return -1;
    sched_yield();
  }
  __atomic_store_n(&s->done, 0, __ATOMIC_SEQ_CST);
  return 0;
}

/* Submit, wait for the task, submit again: the next task comes while the worker that ran the
 * last one is on its way to sleep, the window where a wake-up is lost if the protocol has a
 * hole. How long the task holds its worker after the post, and the pause before the next
 * submit (none, a short spin, a yield, long enough for the workers to fall asleep), differ from
 * task to task so the submits sweep that window. With one submitter a lost wake-up is never
 * made up for: nobody submits again and the wait's bound expires. */
static void *submit_rounds(void *arg) {
  submitter *s = arg;
  for (int r = 0; r < ROUNDS && !__atomic_load_n(s->failed, __ATOMIC_SEQ_CST); r++) {
    s->spin = (unsigned)rand_r(&s->seed) % 4000;
    if (fo_tpool_submit(s->pool, post_task, s) != 0 ||
        wait_done(s) != 0) {
      __atomic_store_n(s->failed, 1, __ATOMIC_SEQ_CST);
      break;
    }
    unsigned pause = (unsigned)rand_r(&s->seed) % 8;
    if (pause <= 4) {
      spin(pause * 200);
    } else if (pause == 5) {
      sched_yield();
    } else {
      sleep_us(pause == 6 ? 20 : 200);
    }
  }
  return NULL;
}

static void race_submitters_against_sleepers(int submitters, unsigned threads, unsigned queue) {
  fo_tpool *p = make_pool(threads, queue);
  int failed = 0;
  submitter s[MAX_SUBMITTERS];
  pthread_t t[MAX_SUBMITTERS];
  for (int i = 0; i < submitters; i++) {
    s[i] = (submitter){p, &failed, 12345u + (unsigned)i * 7919u, 0, 0};
    ck_assert_int_eq(pthread_create(&t[i], NULL, submit_rounds, &s[i]), 0);
  }
  for (int i = 0; i < submitters; i++)
    pthread_join(t[i], NULL);
  ck_assert_msg(!failed, "a task on %u workers, %d submitters, never started: wake-up lost",
                threads, submitters);
  ck_assert_uint_gt(stats_of(p).parks, 0); /* the workers did fall asleep in between */
  ck_assert_int_eq(fo_tpool_wait(p), 0);
  ck_assert_int_eq(fo_tpool_destroy(p), 0);
}

START_TEST(no_wake_up_is_lost_when_submitters_race_sleeping_workers) {
  race_submitters_against_sleepers(1, 1, 2);
  race_submitters_against_sleepers(1, 3, 8); /* several sleepers: which one is woken */
  race_submitters_against_sleepers(4, 2, 2); /* tokens outstanding, full waits */
  race_submitters_against_sleepers(4, 4, 8);
  race_submitters_against_sleepers(2, 8, 8); /* workers contend for the lock going to sleep */
}
END_TEST

typedef struct {
  pthread_t tid;
  sem_t done;
} whoami;

static void record_thread(void *arg) {
  whoami *w = arg;
  w->tid = pthread_self();
  sem_post(&w->done);
}

/* Waits until the pool's workers have gone to sleep `parks` times in all; 0 after a while. */
static int parks_reach(fo_tpool *p, unsigned long parks) {
  for (int i = 0; i < (int)(2000 * slowness()); i++) {
    if (stats_of(p).parks >= parks)
      return 1;
    sleep_ms(1);
  }
  return 0;
}

START_TEST(the_worker_woken_is_the_last_one_to_fall_asleep) {
  /* One task at a time on an idle pool of 4, each after the worker that ran the one before is
   * asleep again: that worker is woken every time, where a queue of sleepers would take turns. */
  fo_tpool *p = make_pool(4, 8);
  ck_assert(parks_reach(p, 4));
  whoami w;
  sem_init(&w.done, 0, 0);
  pthread_t first = {0};
  for (int i = 0; i < 20; i++) {
    unsigned long parks = stats_of(p).parks;
    ck_assert_int_eq(fo_tpool_submit(p, record_thread, &w), 0);
    ck_assert_int_eq(sem_wait_s(&w.done, 10), 0);
    ck_assert(parks_reach(p, parks + 1));
    if (i == 0)
      first = w.tid;
    ck_assert_msg(pthread_equal(w.tid, first), "task %d ran on another worker", i);
  }
  ck_assert_int_eq(fo_tpool_destroy(p), 0);
  sem_destroy(&w.done);
}
END_TEST

void tpool_wake_cases(Suite *s) {
  TCase *tc = fo_tcase("wake", 60);
  tcase_add_test(tc, no_wake_up_is_lost_when_submitters_race_sleeping_workers);
  tcase_add_test(tc, the_worker_woken_is_the_last_one_to_fall_asleep);
  suite_add_tcase(s, tc);
}
