#include "config.h"

#include "files.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *fx_dir(const char *what) {
  static const char dir[] = FO_SHARED_FIXTURES;
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    return dir;
  fprintf(stderr, "SKIP %s: real fixtures not found at %s\n", what, dir);
  return NULL;
}

char *fx_read(const char *dir, const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  char *buf = NULL;
  size_t n = 0;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) {
      buf = malloc((size_t)size + 1);
      if (buf != NULL)
        n = fread(buf, 1, (size_t)size, f);
      if (buf != NULL && n != (size_t)size) {
        free(buf);
        buf = NULL;
      }
    }
  }
  fclose(f);
  if (buf != NULL) {
    buf[n] = '\0'; /* for strstr in tests; the parsers are given n */
    *len = n;
  }
  return buf;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

char **fx_names(const char *dir, const char *sub, const char *suffix, size_t *count) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, sub);
  DIR *d = opendir(path);
  ck_assert_msg(d != NULL, "cannot open %s", path);
  size_t n = 0, cap = 64, sl = strlen(suffix);
  char **names = malloc(cap * sizeof *names);
  ck_assert_ptr_nonnull(names);
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t l = strlen(e->d_name);
    if (l < sl || strcmp(e->d_name + l - sl, suffix) != 0)
      continue;
    if (n + 1 == cap) {
      cap *= 2;
      names = realloc(names, cap * sizeof *names);
      ck_assert_ptr_nonnull(names);
    }
    names[n] = strdup(e->d_name);
    ck_assert_ptr_nonnull(names[n]);
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  names[n] = NULL;
  *count = n;
  return names;
}

void fx_free_names(char **names) {
  for (char **p = names; *p != NULL; p++)
    free(*p);
  free(names);
}

void guard_copy(guard_buf *g, const char *data, size_t len) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t pages = (len + page - 1) / page + 1;
  g->maplen = pages * page;
  g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_msg(g->map != MAP_FAILED, "mmap failed");
  char *guard = (char *)g->map + (pages - 1) * page;
  ck_assert_int_eq(mprotect(guard, page, PROT_NONE), 0);
  g->data = guard - len;
  if (len > 0)
    memcpy(g->data, data, len);
}

void guard_free(guard_buf *g) {
  munmap(g->map, g->maplen);
}

char *fx_repeat(const char *head, const char *unit, size_t times, const char *tail, size_t *len) {
  size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
  char *s = malloc(hl + ul * times + tl + 1);
  ck_assert_ptr_nonnull(s);
  memcpy(s, head, hl);
  for (size_t i = 0; i < times; i++)
    memcpy(s + hl + i * ul, unit, ul);
  memcpy(s + hl + ul * times, tail, tl + 1);
  *len = hl + ul * times + tl;
  return s;
}
