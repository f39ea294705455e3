/* A counting malloc for the benchmarks: bytes held now and at most, so "extra memory" can be
 * compared with the input's size. Each program that includes it gets its own counters. */
#ifndef FO_TESTS_MEMTRACK_H
#define FO_TESTS_MEMTRACK_H

#include <stdlib.h>

#define MT_HDR 16 /* keeps the alignment malloc gives */

static size_t mt_now, mt_peak;

static inline void mt_reset(void) {
  mt_now = mt_peak = 0;
}

static inline void *mt_malloc(size_t n) {
  char *p = malloc(n + MT_HDR);
  if (p == NULL)
    return NULL;
  *(size_t *)(void *)p = n;
  mt_now += n;
  if (mt_now > mt_peak)
    mt_peak = mt_now;
  return p + MT_HDR;
}

static inline void mt_free(void *q) {
  if (q == NULL)
    return;
  char *p = (char *)q - MT_HDR;
  mt_now -= *(size_t *)(void *)p;
  free(p);
}

static inline void *mt_realloc(void *q, size_t n) {
  if (q == NULL)
    return mt_malloc(n);
  char *p = (char *)q - MT_HDR;
  size_t old = *(size_t *)(void *)p;
  p = realloc(p, n + MT_HDR);
  if (p == NULL)
    return NULL;
  *(size_t *)(void *)p = n;
  mt_now = mt_now - old + n;
  if (mt_now > mt_peak)
    mt_peak = mt_now;
  return p + MT_HDR;
}

#endif /* FO_TESTS_MEMTRACK_H */
