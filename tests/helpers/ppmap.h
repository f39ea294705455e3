/* Maps over arrays in one call, for tests whose subject is not the job itself (deaths, kills,
 * faults, sizes): the job is built here, every field the call does not name at its default.
 * tests/check_ppool_job.c exercises the job's own fields. */
#ifndef FO_TESTS_HELPERS_PPMAP_H
#define FO_TESTS_HELPERS_PPMAP_H

#include <stddef.h>

#include "fanout/ppool.h"

/* The fields such tests vary; 0 leaves a field at its default (no limit, FO_PPOOL_ATTEMPTS). */
typedef struct tp_map_opts {
  size_t chunk;
  int item_timeout_ms;
  int timeout_ms;
  unsigned max_attempts;
} tp_map_opts;

static inline int tp_map(fo_ppool *p, fo_ppool_fn fn, const void *ctx, size_t ctx_size,
                         const void *in, size_t in_size, void *out, size_t out_size, size_t count,
                         const tp_map_opts *o, fo_ppool_report *rep) {
  fo_ppool_job j;
  fo_ppool_job_init(&j);
  j.fn = fn;
  j.ctx = ctx;
  j.ctx_size = ctx_size;
  j.in = in;
  j.in_size = in_size;
  j.out = out;
  j.out_size = out_size;
  j.count = count;
  if (o != NULL) {
    j.chunk = o->chunk;
    if (o->item_timeout_ms > 0)
      j.item_timeout_ms = o->item_timeout_ms;
    if (o->timeout_ms > 0)
      j.timeout_ms = o->timeout_ms;
    if (o->max_attempts > 0)
      j.max_attempts = o->max_attempts;
  }
  return fo_ppool_map(p, &j, rep);
}

#endif /* FO_TESTS_HELPERS_PPMAP_H */
