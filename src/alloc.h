/* Internal allocation API: every allocation in fanout goes through these, so the hook set by
 * fo_set_allocator() sees all of it. Not installed. */
#ifndef FO_SRC_ALLOC_H
#define FO_SRC_ALLOC_H

#include <stddef.h>

/* size 0 is treated as 1, so a non-NULL result always means success. */
void *fo__malloc(size_t size);
/* Zeroed; NULL on overflow of n * size. */
void *fo__calloc(size_t n, size_t size);
/* ptr NULL acts as fo__malloc; on failure returns NULL and ptr stays valid. */
void *fo__realloc(void *ptr, size_t size);
/* NULL is a no-op. */
void fo__free(void *ptr);
/* A copy of s through the hook; NULL on failure. */
char *fo__strdup(const char *s);

#endif /* FO_SRC_ALLOC_H */
