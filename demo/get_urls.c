/* fanout-demo get: the run's URL list, from the command line and --urls-file, read whole and in
 * bounded memory (get.h gives the bounds). A line is read a byte at a time into a buffer of the
 * line bound, so neither a line without an end nor a NUL byte can make it grow or hide a byte. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "get.h"

/* Take one URL of len bytes; src is NULL for the command line, else the file it is on line line
 * of (named in a refusal). */
static int add(get_urls *u, const char *url, size_t len, const char *src, unsigned long line) {
  if (u->n == GET_URLS_MAX || len > GET_URLS_TEXT_MAX - u->text) {
    fprintf(stderr, "fanout-demo get: ");
    if (src != NULL)
      fprintf(stderr, "--urls-file %s: line %lu: ", src, line);
    if (u->n == GET_URLS_MAX)
      fprintf(stderr, "more than %d URLs in one run\n", GET_URLS_MAX);
    else
      fprintf(stderr, "more than %u MiB of URLs in one run\n", GET_URLS_TEXT_MAX >> 20);
    return DEMO_USAGE;
  }
  if (u->n == u->cap) {
    size_t cap = u->cap ? u->cap * 2 : 64;
    char **v = realloc(u->v, cap * sizeof *v);
    if (v == NULL)
      goto oom;
    u->v = v;
    u->cap = cap;
  }
  char *copy = malloc(len + 1);
  if (copy == NULL)
    goto oom;
  memcpy(copy, url, len);
  copy[len] = '\0';
  u->v[u->n++] = copy;
  u->text += len;
  return DEMO_OK;
oom:
  fputs("fanout-demo get: out of memory\n", stderr);
  return DEMO_PARTIAL;
}

int get_urls_add(get_urls *u, const char *url) {
  return add(u, url, strlen(url), NULL, 0);
}

/* One line of the file, its end excluded, into buf (GET_URL_LINE_MAX + 1 bytes): its length,
 * -1 at the end of the file, -2 when it is longer than the bound, -3 on a read error. */
static long read_line(FILE *f, char *buf) {
  size_t len = 0;
  int c;
  while ((c = getc(f)) != EOF && c != '\n') {
    if (len == GET_URL_LINE_MAX + 1)
      return -2; /* one byte past the bound is enough to know (a CR may still be dropped) */
    buf[len++] = (char)c;
  }
  if (ferror(f))
    return -3;
  if (c == EOF && len == 0)
    return -1;
  if (len > 0 && buf[len - 1] == '\r')
    len--;
  return len > GET_URL_LINE_MAX ? -2 : (long)len;
}

int get_urls_read(get_urls *u, const char *path) {
  int from_stdin = strcmp(path, "-") == 0;
  const char *name = from_stdin ? "- (stdin)" : path;
  FILE *f = from_stdin ? stdin : fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "fanout-demo get: --urls-file %s: %s\n", path, strerror(errno));
    return DEMO_USAGE;
  }
  char *buf = malloc(GET_URL_LINE_MAX + 1);
  int status = buf != NULL ? DEMO_OK : DEMO_PARTIAL;
  if (buf == NULL)
    fputs("fanout-demo get: out of memory\n", stderr);
  for (unsigned long line = 1; status == DEMO_OK; line++) {
    long len = read_line(f, buf);
    if (len == -1)
      break;
    if (len == -2)
      fprintf(stderr, "fanout-demo get: --urls-file %s: line %lu: longer than %d bytes\n", name,
              line, GET_URL_LINE_MAX);
    else if (len < 0)
      fprintf(stderr, "fanout-demo get: --urls-file %s: line %lu: %s\n", name, line,
              strerror(errno ? errno : EIO));
    if (len < 0) {
      status = DEMO_USAGE;
      break;
    }
    size_t a = 0, b = (size_t)len;
    while (a < b && buf[a] == ' ')
      a++;
    while (b > a && buf[b - 1] == ' ')
      b--;
    if (a == b || buf[a] == '#')
      continue;
    for (size_t i = a; i < b; i++) {
      unsigned char c = (unsigned char)buf[i];
      if (c < 0x20 || c == 0x7f) {
        fprintf(stderr, "fanout-demo get: --urls-file %s: line %lu: control byte \\x%02x at "
                        "byte %zu\n", name, line, c, i + 1);
        status = DEMO_USAGE;
        break;
      }
    }
    if (status == DEMO_OK)
      status = add(u, buf + a, b - a, name, line);
  }
  free(buf);
  if (!from_stdin)
    fclose(f);
  return status;
}

void get_urls_free(get_urls *u) {
  for (size_t i = 0; i < u->n; i++)
    free(u->v[i]);
  free(u->v);
  *u = (get_urls){0};
}
