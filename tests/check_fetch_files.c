/* The files beside an output, as a hostile local user would meet them: the download directory is
 * mode 1777 (as /tmp), a child process that drops to uid/gid 65534 plants symlinks, FIFOs and
 * files of its own at the names the fetcher uses, and the fetcher runs as root (these cases skip,
 * saying why, when the tests do not run as root). Against the local mirror's /blob route
 * (tests/mirror/blob.h). Also: outputs that are no regular file, two items with one output,
 * output names of 248 to 255 bytes, the finished file's mode under two umasks, and the leftovers
 * of dead and live runs. */
#define _GNU_SOURCE
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fanout/fetch.h"
#include "helpers/fixture.h"
#include "helpers/mirror_proc.h"
#include "helpers/nginx.h"
#include "mirror/blob.h"
#include "suites.h"

#define SIZE 200003
#define CUT 80000
#define NOBODY 65534

typedef struct {
  mirror_proc m;
  char dir[64], secret[96], out[160], part[160], tag[160], want[160], url[256], cut_url[256];
} env;

static int is_root(const char *what) {
  if (geteuid() == 0)
    return 1;
  fprintf(stderr, "fetch_files: %s SKIPPED: needs root to act as a second user\n", what);
  return 0;
}

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
  snprintf(e->dir, sizeof e->dir, "/tmp/fo-files-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(e->dir));
  ck_assert_int_eq(chmod(e->dir, 01777), 0); /* as /tmp: anyone may plant a file */
  snprintf(e->secret, sizeof e->secret, "%s/secret", e->dir);
  ck_assert_int_eq(mkdir(e->secret, 0700), 0); /* root's alone */
  snprintf(e->out, sizeof e->out, "%s/image.bin", e->dir);
  snprintf(e->part, sizeof e->part, "%s/.image.bin.part", e->dir);
  snprintf(e->tag, sizeof e->tag, "%s/.image.bin.part.tag", e->dir);
  snprintf(e->want, sizeof e->want, "%s/want", e->secret);
  write_blob(e->want, "1");
  char path[128];
  snprintf(path, sizeof path, "/blob?size=%d", SIZE);
  mirror_url(&e->m, path, e->url, sizeof e->url);
  snprintf(path, sizeof path, "/blob?size=%d&cut=%d&n=1", SIZE, CUT);
  mirror_url(&e->m, path, e->cut_url, sizeof e->cut_url);
}

static void down(env *e) {
  mirror_stop(&e->m);
  test_run("rm -rf %s", e->dir);
  fo_fetch_global_cleanup();
}

static int fetch_to(const char *url, const char *out, unsigned flags, fo_fetch_result *r) {
  fo_fetcher *f = NULL;
  fo_fetch_opts o = {.threads = 1, .timeout_ms = 20000, .connect_timeout_ms = 2000};
  ck_assert_int_eq(fo_fetcher_create(&f, &o), 0);
  fo_fetch_req req = {.url = url, .output = out, .flags = flags};
  int rc = fo_fetch_requests(f, &req, 1, r, NULL, NULL);
  fo_fetcher_destroy(f);
  return rc;
}

/* Run plant(e) in a child that is uid and gid 65534; its exit status 0 means it did it all. */
static void as_nobody(env *e, int (*plant)(env *)) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) != 0)
      _exit(90);
    _exit(plant(e));
  }
  int st = 0;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the second user's child: status %d", st);
}

static void write_text(const char *path, const char *text) {
  test_write_file(path, text);
}

static int file_is(const char *path, const char *text) {
  char buf[256] = "";
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strcmp(buf, text) == 0;
}

static int is_link_to(const char *path, const char *target) {
  char buf[256];
  ssize_t n = readlink(path, buf, sizeof buf - 1);
  if (n < 0)
    return 0;
  buf[n] = '\0';
  return strcmp(buf, target) == 0;
}

static int owner(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? (int)st.st_uid : -1;
}

/* ------------------------------------------------------------------ links at the side names */

static char victim[160];

static int plant_part_link(env *e) {
  return symlink(victim, e->part) == 0 ? 0 : 1;
}

START_TEST(symlink_at_the_partial_name_is_never_followed) {
  if (!is_root("symlink at the partial name"))
    return;
  env e;
  up(&e);
  snprintf(victim, sizeof victim, "%s/victim", e.secret);
  write_text(victim, "root's own file\n");
  as_nobody(&e, plant_part_link);
  fo_fetch_result r;
  /* an unreachable URL: before, the link's target was emptied before any network I/O */
  ck_assert_int_eq(fetch_to("http://127.0.0.1:1/x", e.out, FO_FETCH_RESUME, &r), 1);
  ck_assert_int_eq(r.err, FO_ETRANSPORT);
  fo_fetch_result_free(&r);
  ck_assert(file_is(victim, "root's own file\n"));
  ck_assert(is_link_to(e.part, victim));
  /* a reachable one: the item goes through a temporary of its own, and resumes nothing */
  ck_assert_int_eq(fetch_to(e.url, e.out, FO_FETCH_RESUME, &r), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.resumed, 0);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want));
  ck_assert(file_is(victim, "root's own file\n"));
  ck_assert(is_link_to(e.part, victim));
  ck_assert_int_eq(owner(e.part), NOBODY); /* left alone */
  down(&e);
}
END_TEST

static int plant_tag_link(env *e) {
  return symlink(victim, e->tag) == 0 ? 0 : 1;
}

START_TEST(symlink_at_the_validator_name_is_never_followed) {
  if (!is_root("symlink at the validator name"))
    return;
  env e;
  up(&e);
  snprintf(victim, sizeof victim, "%s/shadow", e.secret);
  write_text(victim, "root:secret-hash\n");
  as_nobody(&e, plant_tag_link);
  mirror_reset(&e.m);
  fo_fetch_result r;
  /* a cut transfer: no validator may be written through the link, so nothing is kept */
  ck_assert_int_eq(fetch_to(e.cut_url, e.out, FO_FETCH_RESUME, &r), 1);
  ck_assert_int_eq(r.err, FO_ETRANSPORT);
  fo_fetch_result_free(&r);
  ck_assert(file_is(victim, "root:secret-hash\n")); /* no server line in it */
  ck_assert_int_eq(access(e.part, F_OK), -1);
  /* the next run reads nothing through it either: the whole body, no If-Range */
  ck_assert_int_eq(fetch_to(e.url, e.out, FO_FETCH_RESUME, &r), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.resumed, 0);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(mirror_stat(&e.m, "blob_bytes", 0), CUT + SIZE);
  ck_assert(test_files_equal(e.out, e.want));
  ck_assert(file_is(victim, "root:secret-hash\n"));
  ck_assert(is_link_to(e.tag, victim));
  down(&e);
}
END_TEST

/* ------------------------------------------------------------------ partial files of others */

static char public_etag[128];

/* The second user's own partial file, full of its bytes, and a validator file that binds it by
 * its device and inode with the resource's public ETag: everything but the owner is right. */
static int plant_foreign_partial(env *e) {
  int fd = open(e->part, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    return 1;
  char evil[CUT];
  memset(evil, 'E', sizeof evil);
  if (write(fd, evil, sizeof evil) != (ssize_t)sizeof evil)
    return 2;
  struct stat st;
  if (fstat(fd, &st) != 0 || close(fd) != 0)
    return 3;
  FILE *t = fopen(e->tag, "w");
  if (t == NULL)
    return 4;
  fprintf(t, "fanout-part 1 %llu %llu\n%s\n", (unsigned long long)st.st_dev,
          (unsigned long long)st.st_ino, public_etag);
  return fclose(t) == 0 ? 0 : 5;
}

static void learn_etag(env *e) {
  fo_fetcher *f = NULL;
  ck_assert_int_eq(fo_fetcher_create(&f, NULL), 0);
  fo_fetch_result r;
  ck_assert_int_eq(fo_fetch_one(f, e->url, NULL, &r), 0);
  ck_assert_ptr_nonnull(r.etag);
  snprintf(public_etag, sizeof public_etag, "%s", r.etag);
  fo_fetch_result_free(&r);
  fo_fetcher_destroy(f);
}

START_TEST(a_partial_file_of_another_user_is_not_taken) {
  if (!is_root("another user's partial file"))
    return;
  env e;
  up(&e);
  learn_etag(&e);
  as_nobody(&e, plant_foreign_partial);
  fo_fetch_result r;
  ck_assert_int_eq(fetch_to(e.url, e.out, FO_FETCH_RESUME, &r), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.resumed, 0);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want)); /* only the server's bytes */
  ck_assert_int_eq(owner(e.out), 0);
  ck_assert_int_eq(owner(e.part), NOBODY); /* left alone */
  ck_assert_int_eq(owner(e.tag), NOBODY);
  down(&e);
}
END_TEST

/* A root-owned file with a second link at the partial name, bound by a validator file as the
 * fetcher would write it: a hard link is no file the fetcher made. */
START_TEST(a_hard_linked_partial_file_is_not_taken) {
  if (!is_root("a hard-linked partial file"))
    return;
  env e;
  up(&e);
  learn_etag(&e);
  char other[160];
  snprintf(other, sizeof other, "%s/config", e.secret);
  test_run("head -c %d /dev/zero | tr '\\0' R > %s", CUT, other);
  ck_assert_int_eq(link(other, e.part), 0);
  struct stat st;
  ck_assert_int_eq(stat(other, &st), 0);
  FILE *t = fopen(e.tag, "w");
  ck_assert_ptr_nonnull(t);
  fprintf(t, "fanout-part 1 %llu %llu\n%s\n", (unsigned long long)st.st_dev,
          (unsigned long long)st.st_ino, public_etag);
  fclose(t);
  fo_fetch_result r;
  ck_assert_int_eq(fetch_to(e.url, e.out, FO_FETCH_RESUME, &r), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  ck_assert_uint_eq(r.resumed, 0);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want));
  ck_assert_int_eq(stat(other, &st), 0);
  ck_assert_int_eq(st.st_size, CUT); /* untouched, still linked */
  ck_assert_int_eq(st.st_nlink, 2);
  down(&e);
}
END_TEST

/* ------------------------------------------------------------------ the output name */

START_TEST(an_output_that_is_no_regular_file_stays_untouched) {
  if (!is_root("outputs on a device node"))
    return;
  env e;
  up(&e);
  char fifo[160], dev[160], dir[160];
  snprintf(fifo, sizeof fifo, "%s/fifo", e.dir);
  snprintf(dev, sizeof dev, "%s/null", e.dir);
  snprintf(dir, sizeof dir, "%s/adir", e.dir);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  ck_assert_int_eq(mknod(dev, S_IFCHR | 0666, makedev(1, 3)), 0); /* as /dev/null */
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  mirror_reset(&e.m);
  const char *outs[] = {fifo, dev, dir};
  int want[] = {FO_EUNSAFE, FO_EUNSAFE, -EISDIR};
  for (int flags = 0; flags <= (int)FO_FETCH_RESUME; flags += (int)FO_FETCH_RESUME)
    for (int i = 0; i < 3; i++) {
      fo_fetch_result r;
      ck_assert_int_eq(fetch_to(e.url, outs[i], (unsigned)flags, &r), 1);
      ck_assert_msg(r.err == want[i], "%s: %s", fo_errname(r.err), r.message);
      ck_assert_msg(strstr(r.message, outs[i]) != NULL, "%s", r.message); /* names the file */
      fo_fetch_result_free(&r);
    }
  struct stat st;
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  ck_assert_int_eq(lstat(dev, &st), 0);
  ck_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
  ck_assert_int_eq(lstat(dir, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert_int_eq(mirror_stat(&e.m, "requests", 0), 0); /* refused before the transfer */
  /* a symlink at the output is replaced, never followed */
  char link_out[160];
  snprintf(link_out, sizeof link_out, "%s/linked", e.dir);
  ck_assert_int_eq(symlink(dev, link_out), 0);
  fo_fetch_result r;
  ck_assert_int_eq(fetch_to(e.url, link_out, 0, &r), 0);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(lstat(link_out, &st), 0);
  ck_assert(S_ISREG(st.st_mode));
  ck_assert_int_eq(lstat(dev, &st), 0);
  ck_assert(S_ISCHR(st.st_mode));
  down(&e);
}
END_TEST

START_TEST(two_items_with_one_output_are_refused_before_anything_starts) {
  env e;
  up(&e);
  char other[160], same[160];
  snprintf(other, sizeof other, "%s/other.bin", e.dir);
  snprintf(same, sizeof same, "%s//./image.bin", e.dir); /* the same file, spelt otherwise */
  fo_fetcher *f = NULL;
  ck_assert_int_eq(fo_fetcher_create(&f, NULL), 0);
  fo_fetch_req reqs[] = {{.url = e.url, .output = e.out},
                         {.url = e.url, .output = other},
                         {.url = e.url},
                         {.url = e.url, .output = same, .flags = FO_FETCH_RESUME}};
  fo_fetch_result res[4];
  mirror_reset(&e.m);
  ck_assert_int_eq(fo_fetch_requests(f, reqs, 4, res, NULL, NULL), 2);
  ck_assert_int_eq(res[0].err, -EINVAL);
  ck_assert_int_eq(res[3].err, -EINVAL);
  ck_assert_msg(strstr(res[0].message, "item 0") && strstr(res[0].message, "item 3"), "%s",
                res[0].message);
  ck_assert_msg(strstr(res[3].message, "item 3") && strstr(res[3].message, "item 0"), "%s",
                res[3].message);
  ck_assert_uint_eq(res[0].attempts, 0);
  ck_assert_uint_eq(res[3].attempts, 0);
  ck_assert_int_eq(res[1].err, 0);
  ck_assert_int_eq(res[2].err, 0);
  ck_assert_int_eq(mirror_stat(&e.m, "requests", 0), 2); /* the other two only */
  ck_assert_int_eq(access(e.out, F_OK), -1);
  fo_fetch_results_free(res, 4);
  fo_fetcher_destroy(f);
  down(&e);
}
END_TEST

/* ------------------------------------------------------------------ names, modes, leftovers */

START_TEST(output_names_up_to_name_max_work_with_and_without_resume) {
  env e;
  up(&e);
  char sub[160];
  snprintf(sub, sizeof sub, "%s/long", e.dir);
  ck_assert_int_eq(mkdir(sub, 0700), 0);
  static const int lens[] = {246, 248, 250, 254, 255};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    char out[512];
    int n = snprintf(out, sizeof out, "%s/", sub);
    memset(out + n, 'a' + (int)i, (size_t)lens[i]);
    out[n + lens[i]] = '\0';
    for (unsigned flags = 0; flags <= FO_FETCH_RESUME; flags += FO_FETCH_RESUME) {
      fo_fetch_result r;
      ck_assert_int_eq(fetch_to(e.url, out, flags, &r), 0);
      ck_assert_msg(r.err == 0, "%d bytes: %s", lens[i], r.message);
      fo_fetch_result_free(&r);
      ck_assert(test_files_equal(out, e.want));
      ck_assert_int_eq(unlink(out), 0);
      ck_assert_int_eq(test_dir_entries(sub), 0);
    }
    /* a cut run keeps its partial under a cut and hashed name, and the next run finds it */
    char path[128], url[256];
    snprintf(path, sizeof path, "/blob?size=%d&cut=%d&n=1&x=%zu", SIZE, CUT, i);
    mirror_url(&e.m, path, url, sizeof url);
    fo_fetch_result r;
    ck_assert_int_eq(fetch_to(url, out, FO_FETCH_RESUME, &r), 1);
    fo_fetch_result_free(&r);
    ck_assert_int_eq(test_dir_entries(sub), 2);
    ck_assert_int_eq(fetch_to(e.url, out, FO_FETCH_RESUME, &r), 0);
    ck_assert_uint_eq(r.resumed, CUT);
    fo_fetch_result_free(&r);
    ck_assert(test_files_equal(out, e.want));
    ck_assert_int_eq(unlink(out), 0);
    ck_assert_int_eq(test_dir_entries(sub), 0);
  }
  /* one byte more is no file name: refused before the transfer */
  char out[512];
  int n = snprintf(out, sizeof out, "%s/", sub);
  memset(out + n, 'z', 256);
  out[n + 256] = '\0';
  fo_fetch_req req = {.url = e.url, .output = out};
  fo_opt_error why;
  ck_assert_int_eq(fo_fetch_req_check(&req, &why), -EINVAL);
  ck_assert_str_eq(why.field, "output");
  down(&e);
}
END_TEST

typedef struct {
  const env *e;
  int seen, bad;
} mode_probe;

/* While the body arrives, the temporary is the fetcher's alone. */
static void probe_mode(unsigned long long bytes, unsigned long long total, void *arg) {
  (void)bytes;
  (void)total;
  mode_probe *p = arg;
  char tmp[160];
  struct stat st;
  snprintf(tmp, sizeof tmp, "%s/.image.bin.tmp-0", p->e->dir);
  if (stat(tmp, &st) == 0 || stat(p->e->part, &st) == 0) {
    p->seen++;
    p->bad += (st.st_mode & 07777) != 0600;
  }
}

START_TEST(the_finished_file_takes_the_umask_and_temporaries_stay_private) {
  env e;
  up(&e);
  static const mode_t masks[] = {022, 077, 002};
  for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++)
    for (unsigned flags = 0; flags <= FO_FETCH_RESUME; flags += FO_FETCH_RESUME) {
      mode_t old = umask(masks[i]);
      fo_fetcher *f = NULL;
      ck_assert_int_eq(fo_fetcher_create(&f, NULL), 0); /* reads the umask */
      umask(old);
      mode_probe p = {&e, 0, 0};
      fo_fetch_req req = {.url = e.url, .output = e.out, .flags = flags, .progress = probe_mode,
                          .progress_arg = &p};
      fo_fetch_result r;
      ck_assert_int_eq(fo_fetch_requests(f, &req, 1, &r, NULL, NULL), 0);
      fo_fetch_result_free(&r);
      fo_fetcher_destroy(f);
      struct stat st;
      ck_assert_int_eq(stat(e.out, &st), 0);
      ck_assert_uint_eq(st.st_mode & 07777, 0666 & ~masks[i]);
      ck_assert_int_gt(p.seen, 0);
      ck_assert_int_eq(p.bad, 0);
      unlink(e.out);
    }
  down(&e);
}
END_TEST

/* A run that made a temporary (and locked it, as the fetcher does) and then died, or lives. */
static pid_t leave_temp(const char *path, int live, int *release) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0 || write(fd, "half", 4) != 4)
      _exit(1);
    if (write(fds[1], "r", 1) != 1)
      _exit(1);
    if (live)
      pause();
    _exit(0);
  }
  close(fds[1]);
  char c;
  ck_assert_int_eq(read(fds[0], &c, 1), 1);
  *release = fds[0];
  if (!live) {
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  }
  return pid;
}

static int plant_squat(env *e) {
  char path[160];
  snprintf(path, sizeof path, "%s/.image.bin.tmp-1", e->dir);
  return mkfifo(path, 0600) == 0 ? 0 : 1;
}

START_TEST(leftovers_of_dead_runs_go_and_those_of_live_runs_stay) {
  env e;
  up(&e);
  char t0[160], t3[160], t1[160];
  snprintf(t0, sizeof t0, "%s/.image.bin.tmp-0", e.dir);
  snprintf(t1, sizeof t1, "%s/.image.bin.tmp-1", e.dir);
  snprintf(t3, sizeof t3, "%s/.image.bin.tmp-3", e.dir);
  int p0, p3;
  pid_t live = leave_temp(t0, 1, &p0);
  leave_temp(t3, 0, &p3);
  int squat = geteuid() == 0;
  if (squat)
    as_nobody(&e, plant_squat); /* another user's FIFO in a slot: skipped, left alone */
  fo_fetch_result r;
  ck_assert_int_eq(fetch_to(e.url, e.out, 0, &r), 0);
  ck_assert_msg(r.err == 0, "%s", r.message);
  fo_fetch_result_free(&r);
  ck_assert(test_files_equal(e.out, e.want));
  ck_assert_int_eq(access(t3, F_OK), -1); /* the dead run's */
  ck_assert(file_is(t0, "half"));         /* the live run's */
  if (squat)
    ck_assert_int_eq(owner(t1), NOBODY);
  /* once its run is gone, the next run for the output removes it */
  kill(live, SIGKILL);
  ck_assert_int_eq(waitpid(live, NULL, 0), live);
  ck_assert_int_eq(fetch_to(e.url, e.out, 0, &r), 0);
  fo_fetch_result_free(&r);
  ck_assert_int_eq(access(t0, F_OK), -1);
  close(p0);
  close(p3);
  down(&e);
}
END_TEST

START_TEST(head_with_an_output_is_refused) {
  fo_fetch_req req = {.url = "http://127.0.0.1:1/", .method = "HEAD", .output = "/tmp/x"};
  fo_opt_error why;
  ck_assert_int_eq(fo_fetch_req_check(&req, &why), -EINVAL);
  ck_assert_str_eq(why.field, "output");
  req.output = NULL;
  ck_assert_int_eq(fo_fetch_req_check(&req, &why), 0);
  static const char *const bad[] = {"dir/.", "dir/..", ".."};
  for (size_t i = 0; i < 3; i++) {
    fo_fetch_req g = {.url = "http://127.0.0.1:1/", .output = bad[i]};
    ck_assert_int_eq(fo_fetch_req_check(&g, &why), -EINVAL);
    ck_assert_str_eq(why.field, "output");
  }
}
END_TEST

void fetch_files_cases(Suite *s) {
  TCase *tc = fo_tcase("files", 60);
  tcase_add_test(tc, symlink_at_the_partial_name_is_never_followed);
  tcase_add_test(tc, symlink_at_the_validator_name_is_never_followed);
  tcase_add_test(tc, a_partial_file_of_another_user_is_not_taken);
  tcase_add_test(tc, a_hard_linked_partial_file_is_not_taken);
  tcase_add_test(tc, an_output_that_is_no_regular_file_stays_untouched);
  tcase_add_test(tc, two_items_with_one_output_are_refused_before_anything_starts);
  tcase_add_test(tc, output_names_up_to_name_max_work_with_and_without_resume);
  tcase_add_test(tc, the_finished_file_takes_the_umask_and_temporaries_stay_private);
  tcase_add_test(tc, leftovers_of_dead_runs_go_and_those_of_live_runs_stay);
  tcase_add_test(tc, head_with_an_output_is_refused);
  suite_add_tcase(s, tc);
}
