/* Resume: a file sink whose partial body survives a cut transfer, with its validator beside it.
 *
 * The partial file is ".NAME.part" beside the final name and its validator (a strong ETag, else
 * Last-Modified) ".NAME.part.tag". An attempt asks for bytes from the partial file's size with
 * Range and If-Range. At the end of the response's headers the sink decides, before any body
 * byte is written: a 206 whose Content-Range starts at that size appends; a 200 (the server
 * ignored Range, or If-Range did not match: the resource changed) truncates the file and starts
 * again; a 206 from any other byte fails the attempt and drops the partial file. The validator is
 * rewritten before the first body byte of each 2xx, so a process killed mid-body leaves a
 * partial file and the validator of exactly those bytes. No byte is ever appended twice.
 *
 * Trust. Both files are made by fetch_files.c (O_EXCL, checked with fstat, locked while in use)
 * and the validator file is bound to the partial file: its first line,
 * "fanout-part 1 DEV INO", names the partial's device and inode. A partial file is resumed only
 * when both are the effective user's regular files with one link and the binding holds, so a
 * file someone else put at either name (a symlink, a hard link, a FIFO, another user's file with
 * the resource's public ETag beside it) is never taken for the first part of the body: it is left
 * alone and the item is written through a fresh temporary instead, without resume for this run.
 * Why a second file rather than the partial's own metadata: extended attributes are missing on
 * many boards' file systems (tmpfs before Linux 6.6, vfat), and the inode number binds the pair
 * as well. The validator file is written through its descriptor only, never opened again by
 * name; an ours-but-unbound partial (a run killed before its validator was written, or one of
 * an older version) is emptied and reused. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

#define TAG_MAGIC "fanout-part 1 "

/* A validator goes back into a request header: printable ASCII only. */
static int printable(const char *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
      return 0;
  return 1;
}

/* The validator the file holds for this partial file, or "" (unbound, unreadable, not one). */
static void read_tag(fo__sink *s) {
  char buf[400];
  s->validator[0] = '\0';
  ssize_t n = pread(s->tag_fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return;
  buf[n] = '\0';
  char *line2 = strchr(buf, '\n');
  if (line2 == NULL || strncmp(buf, TAG_MAGIC, strlen(TAG_MAGIC)) != 0)
    return;
  char *p = buf + strlen(TAG_MAGIC), *e;
  unsigned long long dev = strtoull(p, &e, 10);
  if (e == p || *e != ' ')
    return;
  unsigned long long ino = strtoull(e + 1, &e, 10);
  if (e != line2 || dev != s->part_dev || ino != s->part_ino)
    return;
  char *v = line2 + 1, *end = strchr(v, '\n');
  size_t len = end ? (size_t)(end - v) : 0;
  if (end == NULL || len >= sizeof s->validator || !printable(v, len))
    return;
  memcpy(s->validator, v, len);
  s->validator[len] = '\0';
}

/* The binding and v, through the descriptor: written whole, then cut to its length, so a crash
 * between the two leaves the new lines followed by ignored bytes. */
static int write_tag(fo__sink *s, const char *v) {
  char buf[400];
  size_t vl = strlen(v);
  if (vl >= sizeof s->validator || !printable(v, vl))
    v = ""; /* a validator that cannot go back is no validator */
  if (v != s->validator)
    snprintf(s->validator, sizeof s->validator, "%s", v);
  int n = snprintf(buf, sizeof buf, TAG_MAGIC "%llu %llu\n%s\n", s->part_dev, s->part_ino, v);
  if (n < 0 || (size_t)n >= sizeof buf)
    return FO_EINTERNAL;
  if (pwrite(s->tag_fd, buf, (size_t)n, 0) != n || ftruncate(s->tag_fd, n) != 0) {
    s->sys_errno = errno ? errno : EIO;
    snprintf(s->bad, sizeof s->bad, "%s", s->tag);
    return -s->sys_errno;
  }
  return 0;
}

void fo__resume_forget(fo__sink *s) {
  s->validator[0] = '\0';
  if (s->tag_fd >= 0)
    (void)write_tag(s, "");
  if (s->fd >= 0 && ftruncate(s->fd, 0) == 0)
    s->have = 0;
}

void fo__resume_close(fo__sink *s, int remove) {
  if (s->tag_fd < 0)
    return;
  if (remove)
    fo__files_remove(s, s->tag, s->tag_fd);
  close(s->tag_fd);
  s->tag_fd = -1;
  s->tag[0] = '\0';
}

/* The names are held by something the fetcher cannot use (another's file, a live run's): leave
 * them, and write through a temporary without resume. */
static int fall_back(fo__sink *s) {
  s->resume = 0;
  s->validator[0] = '\0';
  return fo__files_temp(s);
}

/* The validator file for the partial file in s->fd: a dead run's is taken over, else made. */
static int open_tag(fo__sink *s, const char *name, int fresh) {
  struct stat st;
  int fd = fo__files_create(s, name);
  if (fd == -EEXIST)
    fd = fo__files_adopt(s, name, &st);
  if (fd < 0)
    return fd;
  s->tag_fd = fd;
  snprintf(s->tag, sizeof s->tag, "%s", name);
  if (!fresh)
    read_tag(s);
  /* bytes without their validator cannot be matched to a version: start from zero */
  if (s->validator[0] == '\0' && ftruncate(s->fd, 0) != 0) {
    s->sys_errno = errno;
    snprintf(s->bad, sizeof s->bad, "%s", s->tmp);
    return -s->sys_errno;
  }
  return write_tag(s, s->validator); /* the binding, before any body byte */
}

int fo__resume_open(fo__sink *s) {
  char part[NAME_MAX + 1], tag[NAME_MAX + 1];
  struct stat st;
  fo__files_name(s, ".part", part);
  fo__files_name(s, ".part.tag", tag);
  int fd = fo__files_create(s, part);
  int fresh = fd >= 0;
  if (fd == -EEXIST)
    fd = fo__files_adopt(s, part, &st);
  else if (fd >= 0 && fstat(fd, &st) != 0)
    fd = -errno;
  if (fd == FO_EUNSAFE || fd == -EBUSY || fd == -ENOENT || fd == -EAGAIN)
    return fall_back(s);
  if (fd < 0) {
    s->sys_errno = -fd;
    snprintf(s->bad, sizeof s->bad, "%s", part);
    return fd;
  }
  s->fd = fd;
  snprintf(s->tmp, sizeof s->tmp, "%s", part);
  s->part_dev = (unsigned long long)st.st_dev;
  s->part_ino = (unsigned long long)st.st_ino;
  int rc = open_tag(s, tag, fresh);
  if (rc == FO_EUNSAFE || rc == -EBUSY || rc == -ENOENT || rc == -EAGAIN) {
    /* the partial cannot be bound to a validator: it goes, and a temporary takes its place */
    fo__files_remove(s, s->tmp, s->fd);
    close(s->fd);
    s->fd = -1;
    s->tmp[0] = '\0';
    return fall_back(s);
  }
  return rc;
}

int fo__resume_restart(fo__sink *s) {
  off_t end = lseek(s->fd, 0, SEEK_END);
  if (end < 0) {
    s->sys_errno = errno;
    return -s->sys_errno;
  }
  if (s->validator[0] == '\0' && end > 0) {
    fo__resume_forget(s);
    end = 0;
  }
  s->have = (unsigned long long)end;
  s->ranged = s->have > 0;
  s->resumed = 0;
  if (!s->digest || s->have == 0)
    return 0;
  /* the digest covers the whole file: the kept bytes first */
  unsigned char buf[16384];
  for (off_t at = 0; at < end;) {
    ssize_t n = pread(s->fd, buf, sizeof buf, at);
    if (n <= 0) {
      s->sys_errno = n < 0 ? errno : EIO;
      return -s->sys_errno;
    }
    if (SHA_UPDATE(&s->sha, buf, (size_t)n) != 0)
      return FO_EINTERNAL;
    at += n;
  }
  return 0;
}

int fo__resume_decide(fo__xfer *x) {
  fo__sink *s = &x->sink;
  /* a strong ETag, else Last-Modified: a weak ETag may not be used with If-Range */
  const char *v = x->etag != NULL && strncmp(x->etag, "W/", 2) != 0 ? x->etag
                  : x->last_modified[0] != '\0'                      ? x->last_modified
                                                                     : "";
  if (x->status == 206) {
    if (!s->ranged || x->range_start < 0 || (unsigned long long)x->range_start != s->have) {
      fo__resume_forget(s);
      return FO_ETRANSPORT; /* bytes from elsewhere: the next attempt starts from zero */
    }
    s->bytes = s->have;
    s->resumed = s->have;
    if (s->expect > 0)
      s->expect += s->have;
  } else {
    /* the whole body: what is on disk is of another version, or the server ignores ranges */
    if (s->have > 0) {
      if (ftruncate(s->fd, 0) != 0) {
        s->sys_errno = errno;
        return -s->sys_errno;
      }
      if (s->digest && SHA_START(&s->sha) != 0)
        return FO_EINTERNAL;
    }
    s->have = 0;
    s->bytes = 0;
  }
  if (lseek(s->fd, 0, SEEK_END) < 0) {
    s->sys_errno = errno;
    return -s->sys_errno;
  }
  return write_tag(s, v);
}

int fo__resume_keep(const fo__sink *s, int err, long status) {
  if (!s->resume || s->fd < 0 || s->validator[0] == '\0')
    return 0;
  off_t end = lseek(s->fd, 0, SEEK_END);
  /* a cancel (fo_fetcher_cancel, a watch callback) is the caller's stop, not the file's fault:
   * what arrived stays for the next run */
  return end > 0 && (fo__fetch_retryable(err, status) || err == -ECANCELED);
}
