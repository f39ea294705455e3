/* fanout-demo threads: the lesson's threads that print their number, and why the print needs a
 * lock. Each line goes out in three writes ("thread ", the number, the newline) straight to the
 * file descriptor, as Python's print writes the text and its end separately. Under the lock a
 * line's pieces stay together; without it the threads' pieces can mix. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "fanout/fanout.h"
#include "fanout/tpool.h"

static const char help[] =
    "usage: fanout-demo threads [--count N] [--no-lock]\n"
    "\n"
    "Start N threads that each print their number, as the lesson does. Each line,\n"
    "\"thread <number>\", is written in three pieces (text, number, newline) with a\n"
    "yield between them, so that threads can run in between.\n"
    "\n"
    "  --count N   threads, 1 to 256 (default 5); numbers run from 0 to N-1\n"
    "  --no-lock   write without the lock: pieces of different lines may mix, e.g.\n"
    "              \"thread thread 1\\n0\\n\"; with the lock (the default) every line\n"
    "              comes out whole, in whatever order the threads ran\n"
    "\n"
    "output (stdout): one line per thread, \"thread <number>\"\n"
    "\n"
    "exit status: 0 done, 1 threads could not be started or output failed,\n"
    "2 bad command line\n";

/* What all the threads share. */
typedef struct printer {
  pthread_mutex_t lock;
  int use_lock;
} printer;

typedef struct task {
  printer *p;
  unsigned number;
  int failed; /* its write failed; read once the pool has joined its threads */
} task;

/* write(2) may take less than asked of a pipe or terminal: finish the piece. */
static int write_all(const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

static void print_number(void *arg) {
  task *t = arg;
  char num[16];
  int len = snprintf(num, sizeof num, "%u", t->number);
  if (t->p->use_lock)
    pthread_mutex_lock(&t->p->lock);
  int rc = write_all("thread ", 7);
  sched_yield(); /* give another thread the chance to write in between */
  rc |= write_all(num, (size_t)len);
  sched_yield();
  rc |= write_all("\n", 1);
  t->failed = rc != 0;
  if (t->p->use_lock)
    pthread_mutex_unlock(&t->p->lock);
}

int demo_threads(int argc, char **argv) {
  unsigned long count = 5;
  int use_lock = 1;
  const demo_flag table[] = {
      /* the pool says how many it takes */
      {"--count", DEMO_UINT, &count, .umin = 1, .umax = UINT_MAX},
      {"--no-lock", DEMO_SET, &use_lock, .set = 0}};
  const demo_cli cli = {help, table, sizeof table / sizeof table[0], NULL, NULL};
  int status = demo_parse(argc, argv, &cli);
  if (status != DEMO_OK)
    return status == DEMO_HELP ? DEMO_OK : status;
  fo_tpool_opts opts = {.threads = (unsigned)count, .name = "demo"};
  fo_opt_error why;
  if (fo_tpool_opts_check(&opts, &why) != 0)
    return demo_opt_refused("threads", "--count", &why);

  printer p = {.use_lock = use_lock};
  int rc = pthread_mutex_init(&p.lock, NULL);
  if (rc != 0) {
    fprintf(stderr, "fanout-demo threads: %s\n", strerror(rc));
    return DEMO_PARTIAL;
  }
  /* One thread per number, as the lesson starts one threading.Thread per number. (A thread that
   * is done early may also take a number queued for another; the lines are the same.) */
  fo_tpool *pool;
  rc = fo_tpool_create(&pool, &opts);
  if (rc != 0) {
    fprintf(stderr, "fanout-demo threads: cannot start %lu threads: %s\n", count, fo_strerror(rc));
    pthread_mutex_destroy(&p.lock);
    return DEMO_PARTIAL;
  }
  task tasks[FO_TPOOL_THREADS_MAX];
  for (unsigned i = 0; i < count; i++) {
    tasks[i] = (task){&p, i, 0};
    rc = fo_tpool_submit(pool, print_number, &tasks[i]);
    if (rc != 0) {
      fprintf(stderr, "fanout-demo threads: task %u: %s\n", i, fo_strerror(rc));
      status = DEMO_PARTIAL;
    }
  }
  fo_tpool_destroy(pool); /* runs what is queued, then joins every thread */
  pthread_mutex_destroy(&p.lock);
  for (unsigned i = 0; i < count; i++) {
    if (tasks[i].failed) {
      fprintf(stderr, "fanout-demo threads: thread %u could not write to stdout\n", i);
      status = DEMO_PARTIAL;
    }
  }
  return status;
}
