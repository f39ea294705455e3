/* The fetcher against every fault of the mirror at once: thousands of URLs, a third of the
 * requests answered with a fault drawn at random (500, 503, 429 with Retry-After, reset,
 * truncated, drip past the timeout, HTML challenge with 403 and with 200, oversized with and
 * without a length, close). Every URL must come back exactly once, as the document the mirror
 * serves or as the error its fault class calls for, and the mirror's own counts must agree with
 * what the results say. Seeded (FO_TEST_SEED replays the faults' sequence; which request meets
 * which fault still depends on the threads' timing); the count shrinks with
 * CK_TIMEOUT_MULTIPLIER. Two calls share the fetcher at once, as its header allows. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/fetch.h"
#include "fanout/sat.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/procs.h"
#include "suites.h"

#define DOCS 40
#define RETRIES 2
#define MAX_BODY 200000

typedef struct {
  size_t n;
  unsigned *calls; /* per URL */
} tally;

static void on_done(size_t i, const fo_fetch_result *r, void *arg) {
  tally *t = arg;
  (void)r;
  if (i < t->n)
    __atomic_add_fetch(&t->calls[i], 1, __ATOMIC_RELAXED);
}

/* One of two fo_fetch_many calls that share the fetcher at once. */
typedef struct {
  fo_fetcher *f;
  const char *const *urls;
  fo_fetch_result *res;
  tally t;
  int failed;
} half;

static void *fetch_half(void *arg) {
  half *h = arg;
  h->failed = fo_fetch_many(h->f, h->urls, NULL, h->t.n, h->res, on_done, &h->t);
  return NULL;
}

/* What the results say, by outcome. */
typedef struct {
  long ok, s500, s503, s429, s403, ctype, toobig, transport, timeout, attempts;
  double slowest; /* of the answers right the first time: the margin under timeout_ms */
} outcomes;

/* Check one result against the fault classes; returns 0 or a line number to report. */
static int classify(const fo_fetch_result *r, const char *id, long ra, const char *list,
                    size_t list_len, outcomes *o) {
  const unsigned all = RETRIES + 1;
  o->attempts += r->attempts;
  if (r->attempts < 1 || r->attempts > all || (r->err != 0 && r->message[0] == '\0'))
    return __LINE__;
  switch (r->err) {
  case 0: { /* the document, whole: it parses, is the one asked for, and is what is served */
    fo_sat_record rec;
    const char *at = r->body != NULL ? memmem(list, list_len, r->body, r->body_len) : NULL;
    o->ok++;
    if (r->attempts == 1 && r->elapsed > o->slowest)
      o->slowest = r->elapsed;
    if (r->status != 200 || at == NULL || (at[-1] != '[' && at[-1] != ',') ||
        (at[r->body_len] != ']' && at[r->body_len] != ','))
      return __LINE__;
    if (fo_sat_parse(r->body, r->body_len, NULL, &rec, NULL) != 0 || strcmp(rec.id, id) != 0)
      return __LINE__;
    return 0;
  }
  case FO_EHTTP:
    if (r->status == 500) {
      o->s500++;
      return r->attempts == all ? 0 : __LINE__; /* retried to the end */
    }
    if (r->status == 503 || r->status == 429) {
      *(r->status == 503 ? &o->s503 : &o->s429) += 1;
      /* a Retry-After longer than backoff_max ends the URL at once; a short one is retried */
      if (r->retry_after_ms != (unsigned long)ra * 1000 || (ra == 0 && r->attempts != all))
        return __LINE__;
      return 0;
    }
    if (r->status == 403) {
      o->s403++;
      return strncmp(r->content_type, "text/html", 9) == 0 ? 0 : __LINE__;
    }
    return __LINE__;
  case FO_ECONTENTTYPE: /* the challenge page with status 200 */
    o->ctype++;
    return r->status == 200 && strncmp(r->content_type, "text/html", 9) == 0 ? 0 : __LINE__;
  case FO_ETOOBIG: /* nothing of it kept */
    o->toobig++;
    return r->status == 200 && r->body == NULL ? 0 : __LINE__;
  case FO_ETRANSPORT: /* reset or truncated, every time */
    o->transport++;
    return r->attempts == all && r->body == NULL ? 0 : __LINE__;
  case -ETIMEDOUT: /* a drip, the last time */
    o->timeout++;
    return r->attempts == all && r->body == NULL ? 0 : __LINE__;
  default:
    return __LINE__;
  }
}

static long stat_of(const mirror_proc *m, const char *key) {
  long v = mirror_stat(m, key, 0);
  ck_assert_msg(v >= 0, "the mirror has no count %s", key);
  return v;
}

START_TEST(every_fault_at_random_every_url_accounted_for) {
  unsigned seed = tp_seed("chaos"), pick = seed;
  size_t n = (size_t)tp_rounds(5000, 200);
  char seed_arg[16];
  snprintf(seed_arg, sizeof seed_arg, "%u", seed);
  mirror_proc m;
  const char *args[] = {"--docs", "40",     "--fault-rate", "0.3", "--fault",
                        "mixed",  "--seed", seed_arg,       NULL};
  int rc = mirror_start(&m, args);
  ck_assert_msg(rc == 0, "could not start the mirror %s: %s", mirror_bin(), fo_strerror(rc));
  char(*ids)[25] = malloc(DOCS * sizeof *ids);
  ck_assert_uint_eq(mirror_ids(&m, ids, DOCS), DOCS);
  size_t cap = 1 << 20;
  char *list = malloc(cap);
  ck_assert_int_eq(mirror_get(&m, "/v4/starlink", list, cap), 200); /* the list is never faulty */
  size_t list_len = strlen(list);
  ck_assert_uint_lt(list_len, cap - 1);

  /* Per URL: a Retry-After of 0 (retried) or 30 s (beyond backoff_max: final), oversized bodies
   * above the cap, and a drip slow enough to pass the timeout. */
  char **urls = malloc(n * sizeof *urls);
  long *ra = malloc(n * sizeof *ra);
  for (size_t i = 0; i < n; i++) {
    char path[160];
    ra[i] = rand_r(&pick) % 2 ? 30 : 0;
    snprintf(path, sizeof path, "/v4/starlink/%s?ra=%ld&size=%d&drip=20&u=%zu", ids[i % DOCS],
             ra[i], 3 * MAX_BODY / 2, i);
    urls[i] = malloc(200);
    mirror_url(&m, path, urls[i], 200);
  }
  fo_fetch_opts o = {.threads = 16,
                        .retries = RETRIES,
                        .backoff_ms = 1,
                        .backoff_max_ms = 20,
                        .timeout_ms = (long)(tp_scaled(0.4) * 1000),
                        .max_body = MAX_BODY,
                        .accept_type = "application/json"};
  ck_assert_int_eq(fo_fetch_global_init(), 0);
  int fds = open_fd_count();
  fo_fetcher *f = NULL;
  ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
  ck_assert_int_eq(mirror_reset(&m), 0);
  fo_fetch_result *res = malloc(n * sizeof *res);
  tally t = {n, calloc(n, sizeof(unsigned))};
  /* two calls at once on the one fetcher, as the header allows: a third of the URLs, the rest */
  size_t cut = n / 3;
  half h[2] = {{f, (const char *const *)urls, res, {cut, t.calls}, 0},
               {f, (const char *const *)urls + cut, res + cut, {n - cut, t.calls + cut}, 0}};
  pthread_t other;
  double t0 = tp_now_ms();
  ck_assert_int_eq(pthread_create(&other, NULL, fetch_half, &h[1]), 0);
  fetch_half(&h[0]);
  ck_assert_int_eq(pthread_join(other, NULL), 0);
  double took = (tp_now_ms() - t0) / 1000;
  int failed = h[0].failed + h[1].failed;

  outcomes out;
  memset(&out, 0, sizeof out);
  long bad = 0;
  for (size_t i = 0; i < n; i++) {
    ck_assert_msg(t.calls[i] == 1, "seed %u: URL %zu reported %u times", seed, i, t.calls[i]);
    int line = classify(&res[i], ids[i % DOCS], ra[i], list, list_len, &out);
    ck_assert_msg(line == 0,
                  "seed %u: URL %zu (%s) fails the check at line %d: err %d (%s), status %ld, %u "
                  "attempts, %s",
                  seed, i, urls[i], line, res[i].err, fo_strerror(res[i].err), res[i].status,
                  res[i].attempts, res[i].message);
    bad += res[i].err != 0;
  }
  ck_assert_int_eq(failed, bad);

  /* The mirror's side: every attempt reached it, and each fault it served is in the results. */
  long requests = stat_of(&m, "requests"), faults = stat_of(&m, "faults");
  long kind[11];
  static const char *const names[] = {"fault_500",        "fault_503",          "fault_429",
                                      "fault_reset",      "fault_trunc",        "fault_drip",
                                      "fault_challenge",  "fault_challenge200", "fault_big",
                                      "fault_bigchunked", "fault_close"};
  long sum = 0;
  for (int k = 0; k < 11; k++) {
    kind[k] = stat_of(&m, names[k]);
    sum += kind[k];
    /* with thousands of requests every kind comes up */
    ck_assert_msg(n < 1000 || kind[k] > 0, "seed %u: no %s in %ld requests", seed, names[k],
                  requests);
  }
  ck_assert_int_eq(sum, faults);
  ck_assert_msg(requests == out.attempts,
                "seed %u: the mirror served %ld requests, results say %ld", seed, requests,
                out.attempts);
  /* a clean answer or a "close" one ends its URL well; nothing else does */
  ck_assert_msg(out.ok == requests - faults + kind[10],
                "seed %u: %ld successes, %ld clean and %ld "
                "close answers",
                seed, out.ok, requests - faults, kind[10]);
  /* faults that are final the first time are one URL each */
  ck_assert_int_eq(out.s403, kind[6]);
  ck_assert_int_eq(out.ctype, kind[7]);
  ck_assert_int_eq(out.toobig, kind[8] + kind[9]);
  /* retried ones end a URL only when the last attempt met them */
  ck_assert_int_le(out.s500, kind[0]);
  ck_assert_int_le(out.s503, kind[1]);
  ck_assert_int_le(out.s429, kind[2]);
  ck_assert_int_le(out.transport, kind[3] + kind[4]);
  ck_assert_int_le(out.timeout, kind[5]);
  fprintf(stderr,
          "chaos: %zu URLs, %ld requests in %.1f s; faults served: 500 %ld, 503 %ld, 429 %ld, "
          "reset %ld, trunc %ld, drip %ld, challenge %ld, challenge200 %ld, big %ld, "
          "bigchunked %ld, close %ld; results: %ld ok, 500 %ld, 503 %ld, 429 %ld, 403 %ld, "
          "content type %ld, too big %ld, transport %ld, timeout %ld; slowest clean answer "
          "%.0f ms\n",
          n, requests, took, kind[0], kind[1], kind[2], kind[3], kind[4], kind[5], kind[6], kind[7],
          kind[8], kind[9], kind[10], out.ok, out.s500, out.s503, out.s429, out.s403, out.ctype,
          out.toobig, out.transport, out.timeout, out.slowest * 1000);
  ck_assert_msg(took < tp_scaled(40), "seed %u: %zu URLs took %.1f s", seed, n, took);

  fo_fetch_results_free(res, n);
  fo_fetcher_destroy(f);
  ck_assert_int_eq(open_fd_count(), fds); /* every connection closed */
  fo_fetch_global_cleanup();
  free(res);
  free(t.calls);
  for (size_t i = 0; i < n; i++)
    free(urls[i]);
  free(urls);
  free(ra);
  free(list);
  free(ids);
  mirror_stop(&m);
}
END_TEST

Suite *chaos_suite(void) {
  Suite *s = suite_create("chaos");
  TCase *tc = fo_tcase("faults", 90);
  tcase_add_test(tc, every_fault_at_random_every_url_accounted_for);
  suite_add_tcase(s, tc);
  return s;
}
