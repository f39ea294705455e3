/* The mirror's documents from the project's Starlink generator (tests/gen/starlink_gen.h): the
 * list body is built once, each document is a slice of it, ids are indexed for lookup. */
#include "config.h"

#include "docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../gen/starlink_gen.h"

typedef struct {
  char id[25];
  char etag[40];
  size_t off, len; /* in the list body */
} doc;

struct mirror_docs {
  size_t n;
  doc *docs;
  char *list; /* "[doc,doc,...]" */
  size_t list_len;
  char list_etag[40];
  long *table; /* open addressing by id hash: document index or -1 */
  size_t table_size;
};

static uint64_t fnv1a(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return h;
}

/* A weak validator from the length and a hash of the bytes, as the API's server makes them. */
static void make_etag(char etag[40], const char *s, size_t n) {
  snprintf(etag, 40, "W/\"%zx-%016llx\"", n, (unsigned long long)fnv1a(s, n));
}

mirror_docs *mirror_docs_new(size_t n, uint64_t first) {
  mirror_docs *d = calloc(1, sizeof *d);
  if (d == NULL)
    return NULL;
  d->n = n;
  d->docs = calloc(n ? n : 1, sizeof *d->docs);
  d->table_size = 16;
  while (d->table_size < 2 * n)
    d->table_size *= 2;
  d->table = malloc(d->table_size * sizeof *d->table);
  d->list = malloc(2 + n * (GEN_DOC_MAX + 1));
  if (d->docs == NULL || d->table == NULL || d->list == NULL) {
    mirror_docs_free(d);
    return NULL;
  }
  for (size_t t = 0; t < d->table_size; t++)
    d->table[t] = -1;
  size_t at = 0;
  d->list[at++] = '[';
  for (size_t i = 0; i < n; i++) {
    if (i)
      d->list[at++] = ',';
    d->docs[i].off = at;
    d->docs[i].len = gen_starlink_doc(d->list + at, (unsigned long)(first + i));
    at += d->docs[i].len;
    gen_sat truth;
    gen_starlink_truth((unsigned long)(first + i), &truth);
    memcpy(d->docs[i].id, truth.id, sizeof d->docs[i].id);
    make_etag(d->docs[i].etag, d->list + d->docs[i].off, d->docs[i].len);
    size_t t = fnv1a(d->docs[i].id, 24) & (d->table_size - 1);
    while (d->table[t] >= 0)
      t = (t + 1) & (d->table_size - 1);
    d->table[t] = (long)i;
  }
  d->list[at++] = ']';
  d->list_len = at;
  make_etag(d->list_etag, d->list, d->list_len);
  return d;
}

void mirror_docs_free(mirror_docs *d) {
  if (d == NULL)
    return;
  free(d->docs);
  free(d->list);
  free(d->table);
  free(d);
}

size_t mirror_docs_count(const mirror_docs *d) {
  return d->n;
}

const char *mirror_docs_id(const mirror_docs *d, size_t i) {
  return d->docs[i].id;
}

const char *mirror_docs_json(const mirror_docs *d, size_t i, size_t *len) {
  *len = d->docs[i].len;
  return d->list + d->docs[i].off;
}

const char *mirror_docs_etag(const mirror_docs *d, size_t i) {
  return d->docs[i].etag;
}

long mirror_docs_find(const mirror_docs *d, const char *id, size_t len) {
  if (len != 24)
    return -1;
  size_t t = fnv1a(id, 24) & (d->table_size - 1);
  while (d->table[t] >= 0) {
    if (memcmp(d->docs[d->table[t]].id, id, 24) == 0)
      return d->table[t];
    t = (t + 1) & (d->table_size - 1);
  }
  return -1;
}

const char *mirror_docs_list(const mirror_docs *d, size_t *len) {
  *len = d->list_len;
  return d->list;
}

const char *mirror_docs_list_etag(const mirror_docs *d) {
  return d->list_etag;
}
