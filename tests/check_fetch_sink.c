/* Sinks against a real nginx: a file put in place only when whole and verified (never a
 * temporary left, the old file untouched on failure), a write callback that can stop the
 * transfer, the memory cap, SHA-256, progress, a full disk (a small tmpfs in a private mount
 * namespace), and compression: gzip on the wire, decoded bytes everywhere, a zip bomb stopped
 * at the cap, a truncated gzip stream refused. */
#define _GNU_SOURCE
#include "config.h"

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "helpers/fixture.h"
#include "helpers/nginx.h"
#include "suites.h"

#define BIG (1024 * 1024 + 4321)

static fo_fetcher *make_n(const test_nginx *e, int no_compress, int threads) {
  fo_fetcher *f = NULL;
  fo_fetch_opts o = {.threads = threads, .ca_file = e->ca, .timeout_ms = 20000,
                     .no_compress = no_compress};
  int rc = fo_fetcher_create(&f, &o);
  ck_assert_msg(rc == 0, "%s", fo_strerror(rc));
  return f;
}

static fo_fetcher *make(const test_nginx *e, int no_compress) {
  return make_n(e, no_compress, 4);
}

static void global_init(void) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
}

static void global_cleanup(void) {
  fo_fetch_global_cleanup();
}

/* html/big.json (text, compressible), html/gz/bomb.json (gzip of 64 MiB of zeros, served as
 * Content-Encoding: gzip) and html/gz/cut.json (a gzip stream cut in half). */
static void files(const char *html, void *arg) {
  (void)arg;
  char path[256];
  snprintf(path, sizeof path, "%s/big.json", html);
  test_make_text_file(path, BIG);
  test_run("head -c 67108864 /dev/zero | gzip -9 > %s/gz/bomb.json", html);
  test_run("gzip -9 -c %s/big.json > %s/cut.gz && head -c $(( $(stat -c %%s %s/cut.gz) / 2 )) "
           "%s/cut.gz > %s/gz/cut.json && rm %s/cut.gz",
           html, html, html, html, html, html);
}

typedef struct {
  size_t bytes, calls, stop_after;
  unsigned long long last, total;
} counter;

static int count_write(const void *data, size_t len, void *arg) {
  (void)data;
  counter *c = arg;
  c->bytes += len;
  c->calls++;
  return c->stop_after > 0 && c->bytes >= c->stop_after;
}

static void count_progress(unsigned long long bytes, unsigned long long total, void *arg) {
  counter *c = arg;
  ck_assert_uint_ge(bytes, c->last);
  c->last = bytes;
  c->total = total;
  c->calls++;
}

START_TEST(files_are_whole_verified_or_absent) {
  test_nginx e;
  if (!nginx_up(&e, "fetch_sink", files, NULL))
    return;
  char src[256], out[256], dir[128], big[128], missing[128], sha[65], wrong[65], plain[256];
  snprintf(src, sizeof src, "%s/html/big.json", e.dir);
  snprintf(dir, sizeof dir, "%s/out", e.dir);
  snprintf(out, sizeof out, "%s/out/big.json", e.dir);
  snprintf(plain, sizeof plain, "%s/out/plainfile", e.dir);
  mkdir(dir, 0700);
  test_write_file(out, "the old file");
  test_write_file(plain, "x");
  nginx_url(&e, 1, "/big.json", big, sizeof big);
  nginx_url(&e, 1, "/missing.json", missing, sizeof missing);
  test_sha256_of(src, sha);
  memcpy(wrong, sha, sizeof wrong);
  wrong[10] = wrong[10] == '0' ? '1' : '0';
  char under_file[300], no_dir[300];
  snprintf(under_file, sizeof under_file, "%s/x.json", plain);
  snprintf(no_dir, sizeof no_dir, "%s/nope/x.json", dir);
  fo_fetcher *f = make(&e, 0);
  /* every failure first: the old file stays as it was, and no temporary is left */
  fo_fetch_req bad[] = {
      {.url = big, .output = out, .sha256 = wrong},
      {.url = missing, .output = out},
      {.url = big, .output = out, .max_bytes = 1000},
      {.url = big, .output = under_file},
      {.url = big, .output = no_dir},
  };
  int want[] = {FO_EDIGEST, FO_EHTTP, FO_ETOOBIG, -ENOTDIR, -ENOENT};
  enum { NB = sizeof bad / sizeof bad[0] };
  fo_fetch_result res[NB];
  /* one call per item: items of one call that write one output are refused together */
  for (int i = 0; i < NB; i++)
    ck_assert_int_eq(fo_fetch_requests(f, &bad[i], 1, &res[i], NULL, NULL), 1);
  for (int i = 0; i < NB; i++) {
    ck_assert_msg(res[i].err == want[i], "%d: %s (%s)", i, fo_errname(res[i].err),
                  res[i].message);
    ck_assert_ptr_null(res[i].body);
  }
  ck_assert_ptr_nonnull(strstr(res[0].message, "SHA-256"));
  ck_assert_ptr_nonnull(strstr(res[4].message, "No such file"));
  fo_fetch_results_free(res, NB);
  FILE *fp = fopen(out, "r");
  char old[32] = "";
  ck_assert_ptr_nonnull(fgets(old, sizeof old, fp));
  fclose(fp);
  ck_assert_str_eq(old, "the old file");
  ck_assert_int_eq(test_dir_entries(dir), 2); /* big.json and plainfile: no .big.json.XXXXXX */

  long long wire0 = nginx_bytes_sent(&e, "/big.json", NB);
  /* then the good download, compressed on the wire, checked against the decoded bytes */
  counter prog = {0};
  fo_fetch_req good = {.url = big, .output = out, .sha256 = sha, .progress = count_progress,
                       .progress_arg = &prog};
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_requests(f, &good, 1, &r, NULL, NULL), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_ptr_null(r.body);
  ck_assert_uint_eq(r.bytes, BIG);
  ck_assert(test_files_equal(src, out));
  ck_assert_int_eq(test_dir_entries(dir), 2);
  ck_assert_uint_eq(prog.last, BIG);
  ck_assert_uint_eq(prog.total, 0); /* compressed: the decoded length is not announced */
  ck_assert_uint_gt(prog.calls, 1);
  fo_fetch_result_free(&r);
  long long wire = nginx_bytes_sent(&e, "/big.json", NB + 1) - wire0;
  ck_assert_msg(wire > 0 && wire * 4 < BIG, "%lld bytes on the wire for %d", wire, BIG);
  fo_fetcher_destroy(f);

  /* without compression: the whole size crosses, and progress knows the total */
  f = make(&e, 1);
  prog = (counter){0};
  good.progress_arg = &prog;
  ck_assert_int_eq(fo_fetch_requests(f, &good, 1, &r, NULL, NULL), 0);
  ck_assert_uint_eq(prog.total, BIG);
  fo_fetch_result_free(&r);
  long long wire2 = nginx_bytes_sent(&e, "/big.json", NB + 2) - wire - wire0;
  ck_assert_int_gt(wire2, BIG);
  ck_assert(test_files_equal(src, out));
  fo_fetcher_destroy(f);
  nginx_down(&e);
}
END_TEST

START_TEST(callbacks_memory_caps_and_digests) {
  test_nginx e;
  if (!nginx_up(&e, "fetch_sink", files, NULL))
    return;
  char src[256], big[128], sha[65];
  snprintf(src, sizeof src, "%s/html/big.json", e.dir);
  nginx_url(&e, 0, "/big.json", big, sizeof big);
  test_sha256_of(src, sha);
  fo_fetcher *f = make(&e, 0);
  counter all = {0}, stop = {.stop_after = 1};
  fo_fetch_req reqs[] = {
      {.url = big, .write = count_write, .write_arg = &all, .sha256 = sha},
      {.url = big, .write = count_write, .write_arg = &stop},
      {.url = big, .max_bytes = BIG - 1},
      {.url = big, .max_bytes = BIG, .sha256 = sha},
  };
  fo_fetch_result res[4];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 4, res, NULL, NULL), 2);
  ck_assert_msg(res[0].err == 0, "%s", res[0].message);
  ck_assert_uint_eq(all.bytes, BIG);
  ck_assert_ptr_null(res[0].body);
  ck_assert_int_eq(res[1].err, FO_EABORTED);
  ck_assert_uint_eq(stop.calls, 1);
  ck_assert_ptr_nonnull(strstr(res[1].message, "write callback"));
  ck_assert_int_eq(res[2].err, FO_ETOOBIG);
  ck_assert_ptr_null(res[2].body);
  ck_assert_int_eq(res[3].err, 0);
  ck_assert_uint_eq(res[3].body_len, BIG);
  fo_fetch_results_free(res, 4);
  fo_fetcher_destroy(f);
  nginx_down(&e);
}
END_TEST

START_TEST(zip_bomb_stops_at_the_cap_and_cut_gzip_fails) {
  test_nginx e;
  if (!nginx_up(&e, "fetch_sink", files, NULL))
    return;
  char bomb[128], cut[128], out[256], dir[128];
  nginx_url(&e, 0, "/gz/bomb.json", bomb, sizeof bomb);
  nginx_url(&e, 0, "/gz/cut.json", cut, sizeof cut);
  snprintf(dir, sizeof dir, "%s/out", e.dir);
  snprintf(out, sizeof out, "%s/out/cut.json", e.dir);
  mkdir(dir, 0700);
  fo_fetcher *f = make(&e, 0);
  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fo_fetch_req reqs[] = {{.url = bomb, .max_bytes = 4 * 1024 * 1024}, {.url = cut, .output = out}};
  fo_fetch_result res[2];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 2, res, NULL, NULL), 2);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  getrusage(RUSAGE_SELF, &ru1);
  ck_assert_msg(res[0].err == FO_ETOOBIG, "%s", res[0].message);
  ck_assert_ptr_null(res[0].body);
  ck_assert_uint_le(res[0].bytes, 4 * 1024 * 1024);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  ck_assert_msg(secs < 5.0, "the bomb took %.1f s", secs);
  /* peak memory grew by the cap and libcurl's buffers, far from the 64 MiB inside */
  ck_assert_msg(ru1.ru_maxrss - ru0.ru_maxrss < 24 * 1024, "peak RSS grew %ld KiB",
                ru1.ru_maxrss - ru0.ru_maxrss);
  ck_assert_msg(res[1].err == FO_EENCODING, "a cut gzip stream: %s", res[1].message);
  ck_assert_int_eq(test_dir_entries(dir), 0);
  fo_fetch_results_free(res, 2);
  fo_fetcher_destroy(f);
  nginx_down(&e);
}
END_TEST

START_TEST(full_disk_fails_the_item_and_leaves_nothing) {
  test_nginx e;
  if (!nginx_up(&e, "fetch_sink", files, NULL))
    return;
  char dir[128], out[256], small[256], big[128], echo[128];
  snprintf(dir, sizeof dir, "%s/tiny", e.dir);
  mkdir(dir, 0700);
  /* Check runs each test in its own process: the mount stays private to it */
  if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("fo-test", dir, "tmpfs", 0, "size=256k") != 0) {
    fprintf(stderr, "fetch_sink: full disk SKIPPED: no private tmpfs (%s)\n", strerror(errno));
    nginx_down(&e);
    return;
  }
  snprintf(out, sizeof out, "%s/big.json", dir);
  snprintf(small, sizeof small, "%s/echo.txt", dir);
  nginx_url(&e, 0, "/big.json", big, sizeof big);
  nginx_url(&e, 0, "/echo", echo, sizeof echo);
  /* one thread: the big body fills the disk and its temporary is gone before the small one is
   * written, which would otherwise race it for the last blocks */
  fo_fetcher *f = make_n(&e, 0, 1);
  fo_fetch_req reqs[] = {{.url = big, .output = out}, {.url = echo, .output = small}};
  fo_fetch_result res[2];
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 2, res, NULL, NULL), 1);
  ck_assert_msg(res[0].err == -ENOSPC, "%s: %s", fo_errname(res[0].err), res[0].message);
  ck_assert_ptr_nonnull(strstr(res[0].message, "No space"));
  ck_assert_int_eq(res[1].err, 0);
  ck_assert_int_eq(test_dir_entries(dir), 1); /* echo.txt only */
  ck_assert_int_eq(access(out, F_OK), -1);
  fo_fetch_results_free(res, 2);
  fo_fetcher_destroy(f);
  umount(dir);
  nginx_down(&e);
}
END_TEST

Suite *fetch_sink_suite(void) {
  Suite *s = suite_create("fetch_sink");
  TCase *tc = fo_tcase("sinks", 60);
  tcase_add_unchecked_fixture(tc, global_init, global_cleanup);
  tcase_add_test(tc, files_are_whole_verified_or_absent);
  tcase_add_test(tc, callbacks_memory_caps_and_digests);
  tcase_add_test(tc, zip_bomb_stops_at_the_cap_and_cut_gzip_fails);
  tcase_add_test(tc, full_disk_fails_the_item_and_leaves_nothing);
  suite_add_tcase(s, tc);
  fetch_resume_cases(s);
  fetch_files_cases(s);
  return s;
}
