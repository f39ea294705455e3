/* The files the fetcher writes beside an output, in a directory others may write too (/tmp, a
 * data partition a web UI shares), when the caller may be root.
 *
 * Every such file is made here, never opened by name and trusted: O_CREAT|O_EXCL|O_NOFOLLOW
 * (an entry already there, a symlink included, is EEXIST), mode 0600, then checked with fstat on
 * the descriptor (a regular file of the effective user with one link). A file a run left behind
 * is taken over only when lstat and fstat agree that it is such a file: a symlink, a FIFO, a
 * device, a hard link or another user's file is left alone. All names are entries of one
 * directory descriptor, opened once per item.
 *
 * Live or dead. While a run uses a file it holds an flock() on it; the kernel drops the lock when
 * the process dies, so a file whose lock can be taken was left by a dead run and may be removed,
 * and one whose lock cannot is a live run's and is kept. No pid or boot id is needed in the name,
 * and a reused pid cannot fool it. A file is locked before it is used, and a run that took the
 * lock on a file a remover unlinked meanwhile sees no link left (fstat) and takes another name.
 *
 * Names. Temporaries are ".NAME.tmp-K" for K in 0..f: a slot name, so the next run for the same
 * output finds (and removes) a dead run's temporary by trying sixteen names, without reading the
 * directory; up to sixteen runs may write one output at once. The partial file of a resumed
 * output is ".NAME.part" and its validator ".NAME.part.tag" (fetch_resume.c). When "." + NAME +
 * the longest suffix would pass NAME_MAX, NAME is cut (at a UTF-8 character's start) and followed
 * by "~" and a 64-bit hash of the whole name, so every valid output name has side names that fit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* The longest suffix a side name takes: ".part.tag". */
#define SUFFIX_MAX 9
/* Temporary slots per output: concurrent runs for one output beyond this fail with -EBUSY. */
#define TEMP_SLOTS 16

unsigned fo__file_mode(void) {
  unsigned mask = 022;
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
      len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    const char *u = strstr(buf, "\nUmask:");
    if (u != NULL)
      mask = (unsigned)strtoul(u + 7, NULL, 8) & 0777;
  }
  return 0666u & ~mask;
}

/* FNV-1a, 64 bits: a cut name's hash needs spread, not secrecy (ownership decides trust). */
static unsigned long long name_hash(const char *s) {
  unsigned long long h = 0xcbf29ce484222325ull;
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

static void set_prefix(fo__sink *s) {
  size_t len = strlen(s->base);
  if (1 + len + SUFFIX_MAX <= NAME_MAX) {
    snprintf(s->prefix, sizeof s->prefix, ".%s", s->base);
    return;
  }
  size_t cut = NAME_MAX - SUFFIX_MAX - 1 - 1 - 16; /* ".", "~", 16 hex digits */
  while (cut > 0 && ((unsigned char)s->base[cut] & 0xc0) == 0x80)
    cut--;
  snprintf(s->prefix, sizeof s->prefix, ".%.*s~%016llx", (int)cut, s->base, name_hash(s->base));
}

void fo__files_name(const fo__sink *s, const char *suffix, char out[NAME_MAX + 1]) {
  size_t p = strlen(s->prefix), n = strlen(suffix);
  if (p + n > NAME_MAX) /* set_prefix() leaves room for SUFFIX_MAX: never */
    n = NAME_MAX - p;
  memcpy(out, s->prefix, p);
  memcpy(out + p, suffix, n);
  out[p + n] = '\0';
}

static int fail(fo__sink *s, const char *name, int err) {
  snprintf(s->bad, sizeof s->bad, "%s", name);
  if (err < 0 && err > -FO_ERRBASE)
    s->sys_errno = -err;
  return err;
}

static int ours(const struct stat *st) {
  return S_ISREG(st->st_mode) && st->st_nlink == 1 && st->st_uid == geteuid();
}

int fo__files_output_ok(fo__sink *s) {
  struct stat st;
  if (fstatat(s->dirfd, s->base, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? 0 : fail(s, s->base, -errno);
  /* a symlink is replaced by the rename, never followed */
  if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
    return 0;
  return fail(s, s->base, S_ISDIR(st.st_mode) ? -EISDIR : FO_EUNSAFE);
}

int fo__files_create(fo__sink *s, const char *name) {
  int fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                  0600);
  if (fd < 0)
    return -errno;
  struct stat st;
  int rc = 0;
  /* the lock first: a remover that saw the file unlocked has unlinked it by the time flock()
   * returns, which fstat then shows as no link */
  if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0)
    rc = -errno;
  else if (!ours(&st))
    rc = -EAGAIN; /* removed, or linked elsewhere, under us */
  else if (fchmod(fd, 0600) != 0) /* not the umask's: 0600 until the rename */
    rc = -errno;
  if (rc != 0) {
    fo__files_remove(s, name, fd);
    close(fd);
    return rc;
  }
  return fd;
}

int fo__files_adopt(fo__sink *s, const char *name, struct stat *st) {
  struct stat ls;
  if (fstatat(s->dirfd, name, &ls, AT_SYMLINK_NOFOLLOW) != 0)
    return -errno;
  /* never open what is no regular file: a FIFO would block, a device may act on open */
  if (!ours(&ls))
    return FO_EUNSAFE;
  int fd = openat(s->dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return errno == ELOOP || errno == ENXIO ? FO_EUNSAFE : -errno;
  int rc = 0;
  if (fstat(fd, st) != 0 || !ours(st) || st->st_dev != ls.st_dev || st->st_ino != ls.st_ino)
    rc = FO_EUNSAFE; /* replaced between lstat and open */
  else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
    rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
  else if (fstat(fd, st) != 0 || st->st_nlink != 1)
    rc = -ENOENT; /* a remover took it while we waited for the lock */
  else if (fcntl(fd, F_SETFL, 0) != 0)
    rc = -errno;
  if (rc != 0) {
    close(fd);
    return rc;
  }
  return fd;
}

void fo__files_remove(const fo__sink *s, const char *name, int fd) {
  struct stat a, b;
  if (fd >= 0 && fstat(fd, &a) == 0 && fstatat(s->dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
      a.st_dev == b.st_dev && a.st_ino == b.st_ino)
    unlinkat(s->dirfd, name, 0);
}

static void slot_name(const fo__sink *s, unsigned k, char out[NAME_MAX + 1]) {
  char suffix[8];
  snprintf(suffix, sizeof suffix, ".tmp-%x", k);
  fo__files_name(s, suffix, out);
}

/* Remove the temporaries of dead runs: sixteen lstat calls when there are none. */
static void sweep(fo__sink *s) {
  char name[NAME_MAX + 1];
  struct stat st;
  for (unsigned k = 0; k < TEMP_SLOTS; k++) {
    slot_name(s, k, name);
    int fd = fo__files_adopt(s, name, &st);
    if (fd >= 0) {
      fo__files_remove(s, name, fd);
      close(fd);
    }
  }
}

int fo__files_temp(fo__sink *s) {
  char name[NAME_MAX + 1];
  struct stat st;
  int last = -EBUSY;
  for (unsigned k = 0; k < TEMP_SLOTS; k++) {
    slot_name(s, k, name);
    int fd = fo__files_create(s, name);
    if (fd == -EEXIST) {
      int old = fo__files_adopt(s, name, &st);
      if (old >= 0) { /* a dead run's, left since the sweep */
        fo__files_remove(s, name, old);
        close(old);
        fd = fo__files_create(s, name);
      } else {
        last = old == FO_EUNSAFE ? FO_EUNSAFE : last;
      }
    }
    if (fd >= 0) {
      s->fd = fd;
      snprintf(s->tmp, sizeof s->tmp, "%s", name);
      return 0;
    }
    if (fd != -EEXIST && fd != -EAGAIN && fd != -ENOENT)
      return fail(s, name, fd);
  }
  slot_name(s, 0, name);
  return fail(s, name, last);
}

int fo__files_open(fo__sink *s) {
  const char *out = s->req->output;
  const char *slash = strrchr(out, '/');
  s->base = slash ? slash + 1 : out;
  if (strlen(s->base) > NAME_MAX)
    return fail(s, "", -ENAMETOOLONG);
  set_prefix(s);
  if (slash == NULL) {
    s->dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else {
    size_t n = slash == out ? 1 : (size_t)(slash - out);
    char *dir = fo__malloc(n + 1);
    if (dir == NULL)
      return -ENOMEM;
    memcpy(dir, out, n);
    dir[n] = '\0';
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    fo__free(dir);
  }
  if (s->dirfd < 0)
    return fail(s, "", -errno);
  int rc = fo__files_output_ok(s);
  if (rc != 0)
    return rc;
  sweep(s);
  return 0;
}

int fo__files_commit(fo__sink *s) {
  /* the final mode only now: until the rename no one else may open the file */
  if (fchmod(s->fd, s->mode) != 0 || fsync(s->fd) != 0)
    return fail(s, s->tmp, -errno);
  int rc = fo__files_output_ok(s);
  if (rc != 0)
    return rc;
  /* the lock is held through the rename, so no remover takes the file on its way */
  if (renameat(s->dirfd, s->tmp, s->dirfd, s->base) != 0)
    return fail(s, s->tmp, -errno);
  close(s->fd);
  s->fd = -1;
  s->tmp[0] = '\0';
  /* the data is in place; a directory that cannot be fsync'ed is fine */
  (void)fsync(s->dirfd);
  return 0;
}

/* ------------------------------------------------------------------ one output per item */

typedef struct {
  unsigned long long dev, ino; /* the output's directory; 0, 0 when it cannot be stat'ed */
  const char *dir;             /* its path as given, to compare when it cannot */
  size_t dir_len;
  const char *base;
  size_t index;
} out_key;

/* Order by output, then by index. */
static int key_cmp_output(const out_key *a, const out_key *b) {
  if (a->dev != b->dev)
    return a->dev < b->dev ? -1 : 1;
  if (a->ino != b->ino)
    return a->ino < b->ino ? -1 : 1;
  if (a->dev == 0 && a->ino == 0) {
    if (a->dir_len != b->dir_len)
      return a->dir_len < b->dir_len ? -1 : 1;
    int c = memcmp(a->dir, b->dir, a->dir_len);
    if (c != 0)
      return c;
  }
  return strcmp(a->base, b->base);
}

static int key_cmp(const void *pa, const void *pb) {
  const out_key *a = pa, *b = pb;
  int c = key_cmp_output(a, b);
  if (c != 0)
    return c;
  return a->index < b->index ? -1 : a->index > b->index;
}

static void key_make(out_key *k, const char *out, size_t index) {
  const char *slash = strrchr(out, '/');
  k->base = slash ? slash + 1 : out;
  k->dir = slash ? out : ".";
  k->dir_len = slash ? (slash == out ? 1 : (size_t)(slash - out)) : 1;
  k->index = index;
  k->dev = k->ino = 0;
  char *dir = fo__malloc(k->dir_len + 1);
  struct stat st;
  if (dir == NULL)
    return; /* compared by its spelling */
  memcpy(dir, k->dir, k->dir_len);
  dir[k->dir_len] = '\0';
  /* the directory the name will be opened in: "d/x", "d//x" and "./d/x" are one output */
  if (stat(dir, &st) == 0 && (st.st_dev != 0 || st.st_ino != 0)) {
    k->dev = (unsigned long long)st.st_dev;
    k->ino = (unsigned long long)st.st_ino;
  }
  fo__free(dir);
}

static void refuse_pair(fo_fetch_result *r, size_t self, size_t other) {
  r->err = -EINVAL;
  snprintf(r->message, sizeof r->message,
           "request refused: item %zu and item %zu write the same output", self, other);
}

int fo__files_outputs_check(const fo_fetch_req *reqs, size_t n, fo_fetch_result *results) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    m += reqs[i].output != NULL && reqs[i].output[0] != '\0';
  if (m < 2)
    return 0;
  out_key *keys = fo__calloc(m, sizeof *keys);
  if (keys == NULL)
    return -ENOMEM;
  m = 0;
  for (size_t i = 0; i < n; i++)
    if (reqs[i].output != NULL && reqs[i].output[0] != '\0')
      key_make(&keys[m++], reqs[i].output, i);
  qsort(keys, m, sizeof *keys, key_cmp);
  /* in each run of equal outputs, the first item names the second, every other the first */
  for (size_t i = 0; i + 1 < m;) {
    size_t j = i + 1;
    while (j < m && key_cmp_output(&keys[i], &keys[j]) == 0)
      j++;
    if (j > i + 1) {
      refuse_pair(&results[keys[i].index], keys[i].index, keys[i + 1].index);
      for (size_t k = i + 1; k < j; k++)
        refuse_pair(&results[keys[k].index], keys[k].index, keys[i].index);
    }
    i = j;
  }
  fo__free(keys);
  return 0;
}
