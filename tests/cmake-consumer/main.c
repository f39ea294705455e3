/* The CMake consumer: a few calls of the core, and with the fetcher a fetcher made and
 * destroyed, so libcurl is linked and started; prints what fo_info_get() says it runs on. */
#include <stdio.h>
#include <string.h>

#include <fanout/fanout.h>
#include <fanout/tpool.h>
#ifdef CONSUMER_FETCH
#include <fanout/fetch.h>
#endif

static void add_one(void *arg) {
  int *n = arg;
  __atomic_fetch_add(n, 1, __ATOMIC_RELAXED);
}

int main(void) {
  fo_info info;
  if (fo_info_get(&info) != 0 || strcmp(info.version, FO_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: fo_info_get: not %s\n", FO_VERSION_STRING);
    return 1;
  }

  fo_tpool *pool;
  int n = 0, rc = fo_tpool_create(&pool, NULL);
  if (rc != 0) {
    fprintf(stderr, "consumer: fo_tpool_create: %s\n", fo_strerror(rc));
    return 1;
  }
  for (int i = 0; i < 8 && rc == 0; i++)
    rc = fo_tpool_submit(pool, add_one, &n);
  if (rc == 0)
    rc = fo_tpool_wait(pool);
  fo_tpool_destroy(pool);
  if (rc != 0 || n != 8) {
    fprintf(stderr, "consumer: thread pool ran %d of 8 tasks (%s)\n", n, fo_strerror(rc));
    return 1;
  }

#ifdef CONSUMER_FETCH
  fo_fetcher *f;
  if (fo_fetch_global_init() != 0 || fo_fetcher_create(&f, NULL) != 0) {
    fprintf(stderr, "consumer: the fetcher does not start\n");
    return 1;
  }
  fo_fetcher_destroy(f);
  fo_fetch_global_cleanup();
#endif
  printf("fanout %s, %d cpus, fetch %d, libcurl '%s' on '%s'\n", info.version, fo_cpu_count(),
         info.fetch, info.curl_version, info.tls_backend);
  return 0;
}
