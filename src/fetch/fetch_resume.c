/* Resume: a file sink whose partial body survives a cut transfer, with its validator beside it.
 *
 * The partial file is ".NAME.part" beside the final name and its validator (a strong ETag, else
 * Last-Modified) ".NAME.part.tag". An attempt asks for bytes from the partial file's size with
 * Range and If-Range. At the end of the response's headers the sink decides, before any body
 * byte is written: a 206 whose Content-Range starts at that size appends; a 200 (the server
 * ignored Range, or If-Range did not match: the resource changed) truncates the file and starts
 * again; a 206 from any other byte fails the attempt and drops the partial file. The validator is
 * rewritten before the first body byte of each 2xx, so a process killed mid-body leaves a
 * partial file and the validator of exactly those bytes. No byte is ever appended twice. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* dir/.NAME + suffix */
static char *side_name(const char *path, const char *suffix) {
  const char *slash = strrchr(path, '/');
  size_t dir = slash ? (size_t)(slash - path + 1) : 0;
  size_t n = strlen(path), sl = strlen(suffix);
  char *t = fo__malloc(n + sl + 2);
  if (t == NULL)
    return NULL;
  memcpy(t, path, dir);
  t[dir] = '.';
  memcpy(t + dir + 1, path + dir, n - dir);
  memcpy(t + n + 1, suffix, sl + 1);
  return t;
}

static void read_tag(fo__sink *s) {
  s->validator[0] = '\0';
  int fd = open(s->tag_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read(fd, s->validator, sizeof s->validator - 1);
  close(fd);
  /* one line, no CR or LF inside: it goes back into a header */
  if (n <= 0 || memchr(s->validator, '\r', (size_t)n) != NULL) {
    s->validator[0] = '\0';
    return;
  }
  s->validator[n] = '\0';
  char *nl = strchr(s->validator, '\n');
  if (nl != NULL)
    *nl = '\0';
}

static int write_tag(fo__sink *s, const char *v) {
  snprintf(s->validator, sizeof s->validator, "%s", v);
  int fd = open(s->tag_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  size_t n = strlen(v);
  int rc = write(fd, v, n) == (ssize_t)n && write(fd, "\n", 1) == 1 ? 0 : -(errno ? errno : EIO);
  close(fd);
  return rc;
}

void fo__resume_forget(fo__sink *s) {
  s->validator[0] = '\0';
  if (s->tag_path != NULL)
    unlink(s->tag_path);
  if (s->fd >= 0 && ftruncate(s->fd, 0) == 0)
    s->have = 0;
}

int fo__resume_open(fo__sink *s) {
  s->tmp = side_name(s->req->output, ".part");
  s->tag_path = side_name(s->req->output, ".part.tag");
  if (s->tmp == NULL || s->tag_path == NULL)
    return -ENOMEM;
  s->fd = open(s->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->fd < 0) {
    s->sys_errno = errno;
    fo__free(s->tmp);
    s->tmp = NULL;
    return -s->sys_errno;
  }
  read_tag(s);
  /* bytes without their validator cannot be matched to a version: start from zero */
  if (s->validator[0] == '\0')
    fo__resume_forget(s);
  return 0;
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
  if (v[0] == '\0') {
    s->validator[0] = '\0';
    unlink(s->tag_path);
    return 0;
  }
  int rc = write_tag(s, v);
  if (rc != 0)
    s->sys_errno = -rc;
  return rc;
}

int fo__resume_keep(const fo__sink *s, int err, long status) {
  if (!s->resume || s->fd < 0 || s->validator[0] == '\0')
    return 0;
  off_t end = lseek(s->fd, 0, SEEK_END);
  return end > 0 && fo__fetch_retryable(err, status);
}
