/* `make soak`: a long run that proves nothing grows. 10,000 fetches against the local mirror and
 * 1,000 process-pool maps, in ten phases; after each phase it samples the open descriptors
 * (/proc/self/fd), the threads (/proc/self/status Threads), the child processes, the resident
 * memory (VmRSS) and the bytes held through fanout's allocator hook, and prints them as a table.
 *
 * The first phase warms up (libcurl's and the C library's one-time state, connections); from its
 * end to the last phase's end nothing may grow beyond the tolerances below, and once everything is
 * destroyed the descriptors, threads and children must be back to what they were before the first
 * object was made, with no byte held by the hook. Each phase also creates and destroys one fetcher
 * and one pool, so a leak in either path shows. Every fetch and every map is checked, not just
 * counted. Exit status 0 only when all holds.
 *
 * Without libcurl it runs the maps alone and says so. For a longer run, build it with other
 * counts: make soak CFLAGS='-O2 -DFETCHES=100000 -DMAPS=4000 -DPHASES=40'. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fanout/fanout.h"
#include "fanout/ppool.h"
#include "fanout/sat.h"
#include "helpers/mirror_proc.h"
#ifdef FO_HAVE_CURL
#include "fanout/fetch.h"
#endif

#ifndef PHASES
#define PHASES 10
#endif
#ifndef FETCHES
#define FETCHES 10000 /* in all */
#endif
#ifndef MAPS
#define MAPS 1000 /* in all */
#endif
#define BATCH 100   /* URLs per fo_fetch_many() */
#define ITEMS 10000 /* items per map */
#define WORKERS 2
#define DOCS 100
#define LIMIT_S 300 /* the whole run; beyond it the soak fails */

/* Growth allowed from the warmed-up start to the end. Descriptors, threads, children and the
 * hook's bytes are exact. Resident memory, with one malloc arena and the free heap trimmed
 * before each sample (see main and take), moves by a few dozen KiB over the run; a leak of 64
 * bytes per fetch adds about 1 MB and fails it. */
#define TOL_FDS 0
#define TOL_THREADS 0
#define TOL_CHILDREN 0
#define TOL_RSS_KB 256
#define TOL_LIB_BYTES 0

/* A sanitizer's allocator keeps freed memory (quarantine, per-thread caches, allocation stacks)
 * by design, so VmRSS measures it, not the code: the check is off there, and LeakSanitizer
 * looks for leaks at exit instead. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* ---------------------------------------------------------------- counting allocator */

/* Live bytes allocated through the hook: what the library holds, libcurl's own excluded. */
static atomic_long lib_bytes;

typedef union {
  size_t size;
  max_align_t align;
} header;

static void *count_malloc(size_t size, void *ctx) {
  (void)ctx;
  header *h = malloc(sizeof *h + size);
  if (h == NULL)
    return NULL;
  h->size = size;
  atomic_fetch_add(&lib_bytes, (long)size);
  return h + 1;
}

static void *count_realloc(void *p, size_t size, void *ctx) {
  (void)ctx;
  header *h = (header *)p - 1;
  size_t old = h->size;
  header *n = realloc(h, sizeof *n + size);
  if (n == NULL)
    return NULL;
  n->size = size;
  atomic_fetch_add(&lib_bytes, (long)size - (long)old);
  return n + 1;
}

static void count_free(void *p, void *ctx) {
  (void)ctx;
  header *h = (header *)p - 1;
  atomic_fetch_sub(&lib_bytes, (long)h->size);
  free(h);
}

/* ---------------------------------------------------------------- samples */

typedef struct {
  char label[16];
  long fetches, maps;
  long fds, threads, children, rss_kb, lib;
} sample;

/* A "Name:   value" line of /proc/self/status. */
static long status_field(const char *name) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(name);
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, name, n) == 0 && line[n] == ':')
      v = strtol(line + n + 1, NULL, 10);
  if (f != NULL)
    fclose(f);
  return v;
}

/* Processes whose parent is this one, zombies included (what a missed reap leaves). */
static long children(void) {
  DIR *d = opendir("/proc");
  if (d == NULL)
    return -1;
  long n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    char path[300], buf[512];
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue; /* gone meanwhile */
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* "pid (comm) state ppid ...": comm may hold anything, so parse from its last ')' */
    const char *rp = strrchr(buf, ')');
    int ppid;
    if (rp != NULL && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == (int)getpid())
      n++;
  }
  closedir(d);
  return n;
}

static void take(sample *s, const char *label, long fetches, long maps) {
  malloc_trim(0); /* free heap the C library keeps is not memory in use */
  snprintf(s->label, sizeof s->label, "%s", label);
  s->fetches = fetches;
  s->maps = maps;
  s->children = children();
  s->fds = open_fd_count();
  s->threads = status_field("Threads");
  s->rss_kb = status_field("VmRSS");
  s->lib = atomic_load(&lib_bytes);
  printf("%-10s %8ld %6ld %5ld %8ld %9ld %10ld %10ld\n", s->label, s->fetches, s->maps, s->fds,
         s->threads, s->children, s->rss_kb, s->lib);
  fflush(stdout);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static _Noreturn void die(const char *what, int rc) {
  fprintf(stderr, "soak: %s: %s\n", what, rc < 0 ? fo_strerror(rc) : "wrong result");
  exit(1);
}

/* ---------------------------------------------------------------- maps */

static int square(const void *ctx, size_t index, const void *in, void *out) {
  long k = *(const long *)ctx, x = *(const long *)in;
  if (x != (long)index + k)
    return FO_EINTERNAL; /* the pool gave the item under a wrong index */
  *(long *)out = x * x + k;
  return 0;
}

/* One map of ITEMS items on pool, every output checked; k varies so no stale output passes. */
static void one_map(fo_ppool *pool, long *in, long *out, long k) {
  for (long i = 0; i < ITEMS; i++) {
    in[i] = i + k;
    out[i] = -1;
  }
  fo_ppool_report rep = {0};
  fo_ppool_job job;
  fo_ppool_job_init(&job);
  job.fn = square;
  job.ctx = &k;
  job.ctx_size = sizeof k;
  job.in = in;
  job.in_size = sizeof *in;
  job.out = out;
  job.out_size = sizeof *out;
  job.count = ITEMS;
  int rc = fo_ppool_map(pool, &job, &rep);
  if (rc != 0 || rep.failed != 0 || rep.deaths != 0)
    die("fo_ppool_map", rc);
  for (long i = 0; i < ITEMS; i++)
    if (out[i] != (i + k) * (i + k) + k)
      die("fo_ppool_map output", 0);
}

static void maps(fo_ppool *pool, long n, long *in, long *out, long *done) {
  fo_ppool *fresh;
  fo_ppool_opts o = {.workers = WORKERS};
  int rc = fo_ppool_create(&fresh, &o);
  if (rc != 0)
    die("fo_ppool_create", rc);
  one_map(fresh, in, out, *done);
  fo_ppool_destroy(fresh);
  ++*done;
  for (long i = 1; i < n; i++, ++*done)
    one_map(pool, in, out, *done);
}

/* ---------------------------------------------------------------- fetches */

#ifdef FO_HAVE_CURL
typedef struct {
  mirror_proc mirror;
  char (*ids)[25];
  char *urls[BATCH];
  fo_fetch_result res[BATCH];
  char *etags[BATCH];
} fetch_state;

/* URL i of a batch: document (i + salt) % DOCS, and every 25th one an id the mirror lacks. */
static int url_missing(size_t i) {
  return i % 25 == 24;
}

static void make_urls(fetch_state *s, long salt) {
  for (size_t i = 0; i < BATCH; i++) {
    char path[64];
    if (url_missing(i))
      snprintf(path, sizeof path, "/v4/starlink/%024lx", (unsigned long)salt + i);
    else
      snprintf(path, sizeof path, "/v4/starlink/%s", s->ids[(i + (size_t)salt) % DOCS]);
    mirror_url(&s->mirror, path, s->urls[i], 128);
  }
}

/* One batch on f, every result checked: the right document, a 404 for a missing id, and with
 * etags a 304 without a body. */
static void one_batch(fetch_state *s, fo_fetcher *f, long salt, int with_etags) {
  if (!with_etags)
    make_urls(s, salt);
  int rc =
      fo_fetch_many(f, (const char *const *)s->urls,
                    with_etags ? (const char *const *)s->etags : NULL, BATCH, s->res, NULL, NULL);
  if (rc != BATCH / 25)
    die("fo_fetch_many", rc < 0 ? rc : 0);
  for (size_t i = 0; i < BATCH; i++) {
    fo_fetch_result *r = &s->res[i];
    if (url_missing(i)) {
      if (r->err != FO_EHTTP || r->status != 404)
        die("a missing id", r->err);
    } else if (with_etags) {
      if (r->err != 0 || r->status != 304 || r->body != NULL)
        die("a 304", r->err);
    } else {
      fo_sat_record rec;
      if (r->err != 0 || r->status != 200)
        die("a fetch", r->err);
      rc = fo_sat_parse(r->body, r->body_len, NULL, &rec, NULL);
      if (rc != 0 || strcmp(rec.id, s->ids[(i + (size_t)salt) % DOCS]) != 0)
        die("the document fetched", rc);
    }
    free(s->etags[i]);
    s->etags[i] = r->etag != NULL ? strdup(r->etag) : NULL;
  }
  fo_fetch_results_free(s->res, BATCH);
}

/* n fetches: the first batch on a fetcher made for it, the rest on f; every tenth batch asks
 * again with the ETags it was just given. */
static void fetches(fetch_state *s, fo_fetcher *f, long n, long *done) {
  fo_fetcher *fresh;
  int rc = fo_fetcher_create(&fresh, NULL);
  if (rc != 0)
    die("fo_fetcher_create", rc);
  one_batch(s, fresh, *done, 0);
  fo_fetcher_destroy(fresh);
  *done += BATCH;
  for (long b = 1; b < n / BATCH; b++, *done += BATCH)
    one_batch(s, f, *done, b % 10 == 9);
}

static void fetch_setup(fetch_state *s) {
  memset(s, 0, sizeof *s);
  const char *args[] = {"--docs", "100", "--idle-exit", "30", NULL};
  int rc = mirror_start(&s->mirror, args);
  if (rc != 0)
    die("starting the mirror", rc);
  s->ids = malloc(DOCS * sizeof *s->ids);
  if (s->ids == NULL || mirror_ids(&s->mirror, s->ids, DOCS) != DOCS)
    die("the mirror's ids", -EIO);
  for (size_t i = 0; i < BATCH; i++)
    if ((s->urls[i] = malloc(128)) == NULL)
      die("urls", -ENOMEM);
}

static void fetch_teardown(fetch_state *s) {
  for (size_t i = 0; i < BATCH; i++) {
    free(s->urls[i]);
    free(s->etags[i]);
  }
  free(s->ids);
  mirror_stop(&s->mirror);
}
#endif

/* ---------------------------------------------------------------- the run */

static int grew(const char *what, long from, long to, long tol) {
  int bad = to - from > tol;
  printf("  %-10s %+8ld (tolerance %+ld)%s\n", what, to - from, tol, bad ? "  GREW" : "");
  return bad;
}

static int differs(const char *what, long start, long end) {
  if (start == end)
    return 0;
  printf("  after destroying everything, %s is %ld, was %ld at the start\n", what, end, start);
  return 1;
}

int main(void) {
  static const fo_allocator counting = {count_malloc, count_realloc, count_free, NULL};
  double t0 = now_s();
  /* One malloc arena: glibc gives threads arenas of their own, up to eight per CPU, each
   * keeping the fragments of whatever its threads once allocated; as pools come and go their
   * threads spread over more arenas and VmRSS creeps up for a long while without a byte
   * leaked. With one arena a leak, ours or libcurl's, still shows; that creep does not. */
  mallopt(M_ARENA_MAX, 1);
  alarm(LIMIT_S + 60); /* a hang ends the run (and fails it) whatever hangs */
  fo_set_allocator(&counting);
  long *in = malloc(ITEMS * sizeof *in), *out = malloc(ITEMS * sizeof *out);
  if (in == NULL || out == NULL)
    return 1;
  long nfetch = 0, nmap = 0;
#ifdef FO_HAVE_CURL
  static fetch_state fs;
  int rc = fo_fetch_global_init();
  if (rc != 0)
    die("fo_fetch_global_init", rc);
  fetch_setup(&fs);
  printf("soak: %d fetches (%d URLs a call, %d threads, 1 in 25 a 404, 1 in 10 calls with "
         "ETags) against the local mirror, and %d maps (%d items, %d workers), in %d phases\n",
         FETCHES, BATCH, FO_FETCH_THREADS_DEFAULT, MAPS, ITEMS, WORKERS, PHASES);
#else
  printf("soak: built without libcurl: %d maps (%d items, %d workers) in %d phases, no "
         "fetches\n",
         MAPS, ITEMS, WORKERS, PHASES);
#endif
  printf("%-10s %8s %6s %5s %8s %9s %10s %10s\n", "point", "fetches", "maps", "fds", "threads",
         "children", "VmRSS_KiB", "lib_bytes");
  sample start, warm, s;
  take(&start, "start", 0, 0);

  fo_ppool *pool;
  fo_ppool_opts po = {.workers = WORKERS};
  int prc = fo_ppool_create(&pool, &po);
  if (prc != 0)
    die("fo_ppool_create", prc);
#ifdef FO_HAVE_CURL
  fo_fetcher *f;
  rc = fo_fetcher_create(&f, NULL);
  if (rc != 0)
    die("fo_fetcher_create", rc);
#endif
  for (int p = 1; p <= PHASES; p++) {
#ifdef FO_HAVE_CURL
    fetches(&fs, f, FETCHES / PHASES, &nfetch);
#endif
    maps(pool, MAPS / PHASES, in, out, &nmap);
    char label[16];
    snprintf(label, sizeof label, p == 1 ? "warm" : p == PHASES ? "end" : "phase %d", p);
    take(p == 1 ? &warm : &s, label, nfetch, nmap);
    if (now_s() - t0 > LIMIT_S) {
      fprintf(stderr, "soak: over %d s: failed\n", LIMIT_S);
      return 1;
    }
  }
  sample end = s;
#ifdef FO_HAVE_CURL
  fo_fetcher_destroy(f);
#endif
  fo_ppool_destroy(pool);
  take(&s, "destroyed", nfetch, nmap);

  printf("growth from warm to end:\n");
  int bad = grew("fds", warm.fds, end.fds, TOL_FDS);
  bad |= grew("threads", warm.threads, end.threads, TOL_THREADS);
  bad |= grew("children", warm.children, end.children, TOL_CHILDREN);
  if (SANITIZED)
    printf("  %-10s %+8ld (not checked: a sanitizer's allocator keeps freed memory)\n", "VmRSS_KiB",
           end.rss_kb - warm.rss_kb);
  else
    bad |= grew("VmRSS_KiB", warm.rss_kb, end.rss_kb, TOL_RSS_KB);
  bad |= grew("lib_bytes", warm.lib, end.lib, TOL_LIB_BYTES);
  bad |= differs("fds", start.fds, s.fds);
  bad |= differs("threads", start.threads, s.threads);
  bad |= differs("children", start.children, s.children);
  bad |= differs("lib_bytes", 0, s.lib);
#ifdef FO_HAVE_CURL
  fetch_teardown(&fs);
  fo_fetch_global_cleanup();
#endif
  free(in);
  free(out);
  printf("soak: %s in %.1f s\n", bad ? "FAILED" : "passed", now_s() - t0);
  return bad;
}
