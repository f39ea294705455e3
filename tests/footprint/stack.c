/* For `make footprint`: the stack a worker thread really gets with the library's defaults, as
 * the thread itself reads it (pthread_getattr_np), on the machine it runs on. Prints
 *   tpool <default bytes> <bytes> <guard bytes>
 *   fetch <default bytes> <bytes> <guard bytes>
 * The fetcher's own pool is a thread pool made with FO_FETCH_STACK_DEFAULT, so a pool made the
 * same way shows what its threads get. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#include "fanout/fanout.h"
#include "fanout/fetch.h" /* its defaults only: nothing of libcurl is linked */
#include "fanout/tpool.h"

typedef struct {
  size_t size, guard;
} stack_info;

static void probe(void *arg) {
  stack_info *s = arg;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstacksize(&attr, &s->size);
    pthread_attr_getguardsize(&attr, &s->guard);
    pthread_attr_destroy(&attr);
  }
}

static int report(const char *name, size_t stack_size) {
  fo_tpool *pool;
  fo_tpool_opts o = {.threads = 1, .stack_size = stack_size};
  stack_info s = {0, 0};
  if (fo_tpool_create(&pool, &o) != 0 || fo_tpool_submit(pool, probe, &s) != 0 ||
      fo_tpool_wait(pool) != 0 || fo_tpool_destroy(pool) != 0 || s.size == 0)
    return 1;
  printf("%s %zu %zu %zu\n", name, stack_size, s.size, s.guard);
  return 0;
}

int main(void) {
  int bad = report("tpool", FO_TPOOL_STACK_DEFAULT);
  bad |= report("fetch", FO_FETCH_STACK_DEFAULT);
  return bad;
}
