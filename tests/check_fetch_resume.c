/* Resume against the local mirror's /blob route (tests/mirror/blob.h): a body cut at a chosen
 * byte continues from the bytes on disk, in the same call (a retry) or the next run (a new
 * fetcher finding ".NAME.part" and its validator); a server that ignores Range, or whose
 * validator changed, starts the file from zero; the mirror's count of body bytes served shows
 * that no byte crossed twice. Then nginx over HTTPS at limit_rate: a download cut by its timeout
 * resumes with nginx's ETag and ranges. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/nginx.h"
#include "mirror/blob.h"
#include "suites.h"

#define SIZE (1024 * 1024 + 77)
#define CUT 400000

typedef struct {
  mirror_proc m;
  char dir[64], out[128], want1[128], want2[128], sha1[65];
} env;

static void write_blob(const char *path, const char *tag) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  for (long long i = 0; i < SIZE; i++)
    fputc(mirror_blob_byte(i, tag), f);
  ck_assert_int_eq(fclose(f), 0);
}

static void up(env *e) {
  ck_assert_int_eq(fo_fetch_global_init(), 0);
  int rc = mirror_start(&e->m, NULL);
  ck_assert_msg(rc == 0, "mirror: %s", fo_strerror(rc));
  snprintf(e->dir, sizeof e->dir, "/tmp/fo-resume-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(e->dir));
  snprintf(e->out, sizeof e->out, "%s/out/image.bin", e->dir);
  snprintf(e->want1, sizeof e->want1, "%s/want1", e->dir);
  snprintf(e->want2, sizeof e->want2, "%s/want2", e->dir);
  char d[128];
  snprintf(d, sizeof d, "%s/out", e->dir);
  mkdir(d, 0700);
  write_blob(e->want1, "1");
  write_blob(e->want2, "2");
  test_sha256_of(e->want1, e->sha1);
}

static void down(env *e) {
  mirror_stop(&e->m);
  test_run("rm -rf %s", e->dir);
  fo_fetch_global_cleanup();
}

static fo_fetcher *make(unsigned retries) {
  fo_fetcher *f = NULL;
  fo_fetch_opts o = {.threads = 2, .retries = retries, .backoff_ms = 5, .timeout_ms = 20000};
  ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
  return f;
}

static int fetch(env *e, unsigned retries, const char *query, const char *sha,
                 fo_fetch_result *r) {
  char path[256], url[300];
  snprintf(path, sizeof path, "/blob?size=%d&%s", SIZE, query);
  mirror_url(&e->m, path, url, sizeof url);
  fo_fetcher *f = make(retries);
  fo_fetch_req req = {.url = url, .output = e->out, .flags = FO_FETCH_RESUME, .sha256 = sha};
  int rc = fo_fetch_requests(f, &req, 1, r, NULL, NULL);
  fo_fetcher_destroy(f);
  return rc;
}

static long long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

START_TEST(cut_transfer_resumes_in_the_same_call_without_a_byte_twice) {
  env e;
  up(&e);
  mirror_reset(&e.m);
  fo_fetch_result r;
  ck_assert_int_eq(fetch(&e, 1, "cut=" "400000" "&n=1", e.sha1, &r), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.attempts, 2);
  ck_assert_uint_eq(r.resumed, CUT);
  ck_assert_uint_eq(r.bytes, SIZE);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want1));
  ck_assert_int_eq(mirror_stat(&e.m, "blob_bytes", 0), SIZE);
  char d[128];
  snprintf(d, sizeof d, "%s/out", e.dir);
  ck_assert_int_eq(test_dir_entries(d), 1); /* no .part, no .tag */
  /* a server whose 206 starts before the byte asked for: nothing of it is appended; the partial
   * file is dropped and the retry fetches the whole body */
  unlink(e.out);
  mirror_reset(&e.m);
  ck_assert_int_eq(fetch(&e, 2, "cut=400000&n=1&skew=1000", e.sha1, &r), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.attempts, 3);
  ck_assert_uint_eq(r.resumed, 0);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want1));
  ck_assert_int_eq(test_dir_entries(d), 1);
  down(&e);
}
END_TEST

START_TEST(next_run_resumes_and_changed_or_ignored_ranges_restart) {
  env e;
  up(&e);
  char part[160], tag[160];
  snprintf(part, sizeof part, "%s/out/.image.bin.part", e.dir);
  snprintf(tag, sizeof tag, "%s/out/.image.bin.part.tag", e.dir);
  const char *queries[] = {"n=1&cut=400000", "n=1&cut=400000&lastmod=1",
                           "n=1&cut=400000&norange=1", "n=1&cut=400000&x=changed"};
  const char *second[] = {"", "lastmod=1", "norange=1", "tag=2"};
  for (int c = 0; c < 4; c++) {
    unlink(e.out);
    mirror_reset(&e.m);
    fo_fetch_result r;
    /* the first run is cut and has no retry: it keeps the partial file and its validator */
    ck_assert_int_eq(fetch(&e, 0, queries[c], NULL, &r), 1);
    ck_assert_int_eq(r.err, FO_ETRANSPORT);
    fo_fetch_result_free(&r);
    ck_assert_int_eq(access(e.out, F_OK), -1);
    ck_assert_int_eq(file_size(part), CUT);
    ck_assert_int_gt(file_size(tag), 2);
    /* the next run, with a fetcher of its own */
    ck_assert_int_eq(fetch(&e, 0, second[c], c == 3 ? NULL : e.sha1, &r), 0);
    ck_assert_msg(r.err == 0, "case %d: %s", c, r.message);
    ck_assert_uint_eq(r.bytes, SIZE);
    ck_assert(test_files_equal(e.out, c == 3 ? e.want2 : e.want1));
    long long served = mirror_stat(&e.m, "blob_bytes", 0);
    if (c < 2) {
      ck_assert_uint_eq(r.resumed, CUT);
      ck_assert_int_eq(served, SIZE); /* the cut part and the rest, nothing twice */
    } else {
      ck_assert_uint_eq(r.resumed, 0); /* whole again: the file restarted from zero */
      ck_assert_int_eq(served, CUT + SIZE);
    }
    fo_fetch_result_free(&r);
    ck_assert_int_eq(access(part, F_OK), -1);
    ck_assert_int_eq(access(tag, F_OK), -1);
  }
  /* a failure not worth retrying drops the partial file */
  fo_fetch_result r;
  ck_assert_int_eq(fetch(&e, 0, "n=1&cut=400000", NULL, &r), 1);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(file_size(part), CUT);
  ck_assert_int_eq(fetch(&e, 0, "", "0000000000000000000000000000000000000000000000000000000000000000",
                         &r), 1);
  ck_assert_int_eq(r.err, FO_EDIGEST);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(access(part, F_OK), -1);
  ck_assert_int_eq(access(tag, F_OK), -1);
  ck_assert(test_files_equal(e.out, e.want2)); /* the old final file, untouched */
  /* a resumed output in a directory that does not exist fails alone, leaking nothing */
  char url[300], nodir[160];
  mirror_url(&e.m, "/blob", url, sizeof url);
  snprintf(nodir, sizeof nodir, "%s/none/image.bin", e.dir);
  fo_fetch_req req = {.url = url, .output = nodir, .flags = FO_FETCH_RESUME};
  fo_fetcher *f = make(0);
  ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 1);
  ck_assert_int_eq(r.err, -ENOENT);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

static void slow_file(const char *html, void *arg) {
  char path[256];
  snprintf(path, sizeof path, "%s/slow/image.bin", html);
  write_blob(path, (const char *)arg);
}

/* nginx over HTTPS at limit_rate: a timeout cuts the download, the next run resumes it with
 * nginx's own ETag and byte ranges. */
START_TEST(nginx_slow_download_cut_by_timeout_resumes) {
  test_nginx n;
  static char tag[] = "7";
  if (!nginx_up(&n, "fetch_resume", slow_file, tag))
    return;
  ck_assert_int_eq(fo_fetch_global_init(), 0);
  char url[128], out[128], part[128], src[256];
  nginx_url(&n, 1, "/slow/image.bin", url, sizeof url);
  snprintf(out, sizeof out, "%s/image.bin", n.dir);
  snprintf(part, sizeof part, "%s/.image.bin.part", n.dir);
  snprintf(src, sizeof src, "%s/html/slow/image.bin", n.dir);
  fo_fetch_req req = {.url = url, .output = out, .flags = FO_FETCH_RESUME};
  fo_fetch_result r;
  for (int run = 0; run < 2; run++) {
    fo_fetcher *f = NULL;
    fo_fetch_opts o = {.threads = 1, .ca_file = n.ca, .timeout_ms = run == 0 ? 3000 : 20000};
    ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
    fo_fetch_requests(f, &req, 1, &r, NULL, NULL);
    fo_fetcher_destroy(f);
    if (run == 0) {
      ck_assert_msg(r.err == -ETIMEDOUT, "%s", r.message);
      long long kept = file_size(part);
      ck_assert_msg(kept > 50000 && kept < SIZE, "kept %lld", kept);
    } else {
      ck_assert_msg(r.err == 0, "%s", r.message);
      ck_assert_uint_gt(r.resumed, 50000);
      ck_assert_uint_eq(r.bytes, SIZE);
      ck_assert_int_eq(r.status, 206);
    }
    fo_fetch_result_free(&r);
  }
  ck_assert(test_files_equal(out, src));
  ck_assert_int_eq(access(part, F_OK), -1);
  fo_fetch_global_cleanup();
  nginx_down(&n);
}
END_TEST

void fetch_resume_cases(Suite *s) {
  TCase *tc = fo_tcase("resume", 60);
  tcase_add_test(tc, cut_transfer_resumes_in_the_same_call_without_a_byte_twice);
  tcase_add_test(tc, next_run_resumes_and_changed_or_ignored_ranges_restart);
  tcase_add_test(tc, nginx_slow_download_cut_by_timeout_resumes);
  suite_add_tcase(s, tc);
}
