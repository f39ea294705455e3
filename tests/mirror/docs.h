/* The documents the mirror serves, behind a small interface so the server does not depend on how
 * they are made. docs.c takes them from the project's generator (tests/gen/), which writes the
 * API's exact format: compact JSON, keys in the API's order, numbers the way JavaScript prints
 * them, nulls where the real data has them. */
#ifndef FO_MIRROR_DOCS_H
#define FO_MIRROR_DOCS_H

#include <stddef.h>
#include <stdint.h>

typedef struct mirror_docs mirror_docs;

/* Generator documents first .. first+n-1: the same arguments give the same bytes on every
 * machine. NULL on allocation failure. */
mirror_docs *mirror_docs_new(size_t n, uint64_t first);
void mirror_docs_free(mirror_docs *d);

size_t mirror_docs_count(const mirror_docs *d);
/* Document i: its 24-hex id, its JSON and its ETag (a quoted, weak validator). */
const char *mirror_docs_id(const mirror_docs *d, size_t i);
const char *mirror_docs_json(const mirror_docs *d, size_t i, size_t *len);
const char *mirror_docs_etag(const mirror_docs *d, size_t i);
/* The index of the document with this id (len bytes, need not be NUL-terminated), or -1. */
long mirror_docs_find(const mirror_docs *d, const char *id, size_t len);
/* The list route's body: every document in one JSON array, and its ETag. */
const char *mirror_docs_list(const mirror_docs *d, size_t *len);
const char *mirror_docs_list_etag(const mirror_docs *d);

#endif /* FO_MIRROR_DOCS_H */
