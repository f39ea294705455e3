/* The allocator hook: the only mutable global state in fanout. */
#include "config.h"

#include "base/base_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/fanout.h"

static void *std_malloc(size_t size, void *ctx) {
  (void)ctx;
  return malloc(size);
}

static void *std_realloc(void *ptr, size_t size, void *ctx) {
  (void)ctx;
  return realloc(ptr, size);
}

static void std_free(void *ptr, void *ctx) {
  (void)ctx;
  free(ptr);
}

static fo_allocator fo__alloc = {std_malloc, std_realloc, std_free, NULL};

int fo_set_allocator(const fo_allocator *alloc) {
  if (alloc == NULL) {
    fo_allocator std = {std_malloc, std_realloc, std_free, NULL};
    fo__alloc = std;
    return 0;
  }
  if (alloc->malloc == NULL || alloc->realloc == NULL || alloc->free == NULL)
    return -EINVAL;
  fo__alloc = *alloc;
  return 0;
}

void *fo__malloc(size_t size) {
  return fo__alloc.malloc(size ? size : 1, fo__alloc.ctx);
}

void *fo__calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  size_t total = n * size;
  void *p = fo__malloc(total);
  if (p != NULL)
    memset(p, 0, total > 0 ? total : 1);
  return p;
}

void *fo__realloc(void *ptr, size_t size) {
  if (ptr == NULL)
    return fo__malloc(size);
  return fo__alloc.realloc(ptr, size ? size : 1, fo__alloc.ctx);
}

void fo__free(void *ptr) {
  if (ptr != NULL)
    fo__alloc.free(ptr, fo__alloc.ctx);
}

char *fo__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = fo__malloc(n);
  if (p != NULL)
    memcpy(p, s, n);
  return p;
}
