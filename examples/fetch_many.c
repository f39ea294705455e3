/* Many GETs at once: the lesson's 50 Starlink calls, first one after another, then all at once
 * on a fetcher's threads, each result landing at its URL's index.
 *
 *   fetch_many BASE     e.g. fetch_many https://api.spacexdata.com (or a local mirror)
 *
 *   cc fetch_many.c $(pkg-config --static --cflags --libs fanout)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <fanout/fetch.h>
#include <fanout/sat.h>

#define CALLS 50

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every body must be the document of the id its URL asked for. */
static int check(const fo_fetch_result *res, const char *id)
{
  fo_sat_record rec;
  return res->err == 0 && fo_sat_parse(res->body, res->body_len, NULL, &rec, NULL) == 0 &&
         strcmp(rec.id, id) == 0;
}

int main(int argc, char **argv)
{
  static char ids[CALLS][FO_SAT_ID_LEN + 1], urls[CALLS][256];
  static fo_fetch_result one[CALLS], many[CALLS];
  const char *list[CALLS];
  char url[256];
  fo_fetch_result body;
  fo_fetcher *f;
  size_t n = 0;
  int ok = 1;

  if (argc != 2 || fo_fetch_global_init() != 0)
    return 2;
  fo_fetch_opts opts = {.threads = CALLS, .retries = 2};
  int rc = fo_fetcher_create(&f, &opts);
  if (rc != 0) {
    fprintf(stderr, "fo_fetcher_create: %s\n", fo_strerror(rc));
    return 1;
  }
  /* The list gives the ids; FO_ETOOBIG only says it holds more than we asked for. */
  snprintf(url, sizeof url, "%s/v4/starlink", argv[1]);
  rc = fo_fetch_one(f, url, NULL, &body);
  if (rc == 0)
    rc = fo_sat_list_ids(body.body, body.body_len, NULL, ids, CALLS, &n, NULL);
  fo_fetch_result_free(&body);
  if (rc != 0 && rc != FO_ETOOBIG) {
    fprintf(stderr, "%s: %s\n", url, fo_strerror(rc));
    return 1;
  }
  if (n > CALLS)
    n = CALLS;
  for (size_t i = 0; i < n; i++) {
    snprintf(urls[i], sizeof urls[i], "%s/v4/starlink/%s", argv[1], ids[i]);
    list[i] = urls[i];
  }

  double t0 = now();
  for (size_t i = 0; i < n; i++) /* in sequence: each call waits for the one before */
    fo_fetch_one(f, list[i], NULL, &one[i]);
  double t1 = now();
  int failed = fo_fetch_many(f, list, NULL, n, many, NULL, NULL); /* all at once */
  double t2 = now();

  for (size_t i = 0; i < n; i++) {
    ok &= check(&one[i], ids[i]) && check(&many[i], ids[i]);
    if (many[i].err != 0)
      fprintf(stderr, "%s: %s\n", list[i], many[i].message);
  }
  printf("%zu calls: %.3f s in sequence, %.3f s at once (%.1fx), %d failed\n", n, t1 - t0,
         t2 - t1, (t1 - t0) / (t2 - t1), failed);
  fo_fetch_results_free(one, n);
  fo_fetch_results_free(many, n);
  fo_fetcher_destroy(f);
  fo_fetch_global_cleanup();
  return ok && failed == 0 && n == CALLS ? 0 : 1;
}
