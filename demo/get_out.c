/* fanout-demo get: where a body goes when no file is named for it: streamed to stdout, held and
 * written in URL order, held in a private file until verified, or dropped (--discard). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "get.h"

int get_to_stdout(const void *data, size_t len, void *arg) {
  (void)arg;
  return fwrite(data, 1, len, stdout) == len ? 0 : 1;
}

int get_discard(const void *data, size_t len, void *arg) {
  (void)data, (void)len, (void)arg;
  return 0;
}

void get_print_in_order(size_t index, const fo_fetch_result *result, void *arg) {
  (void)result;
  get_in_order *o = arg;
  pthread_mutex_lock(&o->mu);
  o->done[index] = 1;
  for (; o->next < o->n && o->done[o->next]; o->next++) {
    fo_fetch_result *r = &o->res[o->next];
    if (r->err == 0 && r->body != NULL && fwrite(r->body, 1, r->body_len, stdout) != r->body_len)
      o->werr = errno ? errno : EIO;
    /* keep what the summary reads (err, message, bytes), release the body */
    fo_fetch_result keep = *r;
    keep.body = NULL;
    keep.body_len = 0;
    keep.etag = NULL;
    fo_fetch_result_free(r);
    *r = keep;
  }
  if (fflush(stdout) != 0 && o->werr == 0)
    o->werr = errno;
  pthread_mutex_unlock(&o->mu);
}

int get_held_open(get_held_file *h) {
  const char *t = getenv("TMPDIR");
  snprintf(h->dir, sizeof h->dir, "%s/fanout-get-XXXXXX", t && t[0] ? t : "/tmp");
  if (mkdtemp(h->dir) == NULL)
    return -errno;
  snprintf(h->file, sizeof h->file, "%s/body", h->dir);
  return 0;
}

int get_held_copy(const get_held_file *h) {
  FILE *f = fopen(h->file, "rb");
  if (f == NULL)
    return errno;
  char buf[65536];
  size_t n;
  int e = 0;
  while (e == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
    if (fwrite(buf, 1, n, stdout) != n)
      e = errno ? errno : EIO;
  if (e == 0 && ferror(f))
    e = EIO;
  fclose(f);
  return e;
}

void get_held_close(get_held_file *h) {
  if (h->dir[0] == '\0')
    return;
  unlink(h->file);
  rmdir(h->dir);
}
