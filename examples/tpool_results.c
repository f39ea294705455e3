/* The thread pool: five tasks, each computing one result, gathered by index without a lock.
 *
 * Python's lesson starts five threading.Thread objects and protects print() with a Lock. Here
 * each task writes only its own slot of an array the caller owns, so no two tasks ever touch
 * the same memory and no lock is needed; the main thread prints once every task is done.
 *
 *   cc tpool_results.c $(pkg-config --static --cflags --libs fanout)
 */
#include <stdio.h>
#include <fanout/tpool.h>

#define TASKS 5

struct job {
  int num;     /* what the task is given */
  long square; /* what it produces: written by this task only */
};

static void work(void *arg)
{
  struct job *j = arg;
  j->square = (long)j->num * j->num;
}

int main(void)
{
  struct job jobs[TASKS];
  fo_tpool *pool;
  fo_tpool_opts opts = {.threads = TASKS, .name = "example"};

  int rc = fo_tpool_create(&pool, &opts);
  if (rc != 0) {
    fprintf(stderr, "fo_tpool_create: %s\n", fo_strerror(rc));
    return 1;
  }
  for (int i = 0; i < TASKS; i++) {
    jobs[i].num = i;
    jobs[i].square = -1;
    rc = fo_tpool_submit(pool, work, &jobs[i]);
    if (rc != 0) {
      fprintf(stderr, "fo_tpool_submit: %s\n", fo_strerror(rc));
      break;
    }
  }
  /* Wait for every task; after this the results are ours to read. */
  int wrc = fo_tpool_wait(pool);
  fo_tpool_destroy(pool);
  if (rc != 0 || wrc != 0)
    return 1;

  int ok = 1;
  for (int i = 0; i < TASKS; i++) {
    printf("task %d: %d squared is %ld\n", i, jobs[i].num, jobs[i].square);
    ok &= jobs[i].square == (long)i * i;
  }
  return ok ? 0 : 1;
}
