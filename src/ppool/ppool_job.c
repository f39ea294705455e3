/* The process pool's rules for options and jobs, in one place: fo_ppool_create and fo_ppool_map
 * apply them through the same calls a program can make beforehand, and the arena layout a job
 * gets is worked out here too, so "does it fit" has one answer. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "ppool/ppool_internal.h"

static size_t align_up(size_t n) {
  return (n + FO__PPOOL_ALIGN - 1) & ~(size_t)(FO__PPOOL_ALIGN - 1);
}

static long long as_ll(size_t v) {
  return v > (size_t)LLONG_MAX ? LLONG_MAX : (long long)v;
}

/* Fill why (when given) and refuse. */
static int refuse(fo_opt_error *why, const char *field, long long min, long long max,
                  long long value) {
  if (why != NULL) {
    why->field = field;
    why->min = min;
    why->max = max;
    why->value = value;
  }
  return -EINVAL;
}

int fo_ppool_opts_check(const fo_ppool_opts *o, fo_opt_error *why) {
  if (o == NULL)
    return 0;
  if (o->workers > FO_PPOOL_WORKERS_MAX)
    return refuse(why, "workers", 0, FO_PPOOL_WORKERS_MAX, o->workers);
  if (o->arena_size > 0 && o->arena_size < FO_PPOOL_ARENA_MIN)
    return refuse(why, "arena_size", as_ll(FO_PPOOL_ARENA_MIN), as_ll(SIZE_MAX),
                  as_ll(o->arena_size));
  return 0;
}

void fo_ppool_job_init(fo_ppool_job *job) {
  if (job == NULL)
    return;
  memset(job, 0, sizeof *job);
  job->item_timeout_ms = FO_FOREVER;
  job->timeout_ms = FO_FOREVER;
  job->max_attempts = FO_PPOOL_ATTEMPTS;
  job->progress_ms = FO_PPOOL_PROGRESS_MS;
}

size_t fo__ppool_ctx_offset(unsigned nslots) {
  return align_up(FO__PPOOL_HDR_SPACE + (size_t)nslots * sizeof(fo__ppool_slot));
}

static int overlaps(const void *a, size_t alen, const void *b, size_t blen) {
  uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return alen > 0 && blen > 0 && x < y + blen && y < x + alen;
}

/* The smallest arena that holds the context and one item for a pool of p's workers (saturating
 * at SIZE_MAX): the bookkeeping, the context, and one slot of one item plus its padding. */
static size_t arena_needed(const fo_ppool *p, size_t ctx_size, size_t item) {
  size_t ctx_off = fo__ppool_ctx_offset(p->nslots);
  if (ctx_size > SIZE_MAX / 4 || item > SIZE_MAX / 4)
    return SIZE_MAX;
  size_t need = align_up(ctx_off + ctx_size) + align_up(item + 2 * FO__PPOOL_ALIGN);
  return need < FO_PPOOL_ARENA_MIN ? FO_PPOOL_ARENA_MIN : need;
}

int fo__ppool_job_layout(const fo_ppool *p, const fo_ppool_job *j, fo_opt_error *why,
                         fo__ppool_layout *l) {
  if (p == NULL || j == NULL)
    return refuse(why, p == NULL ? "pool" : "job", 0, 0, 0);
  if (j->fn == NULL)
    return refuse(why, "fn", 0, 0, 0);
  if (j->ctx_size > 0 && j->ctx == NULL)
    return refuse(why, "ctx", 0, 0, 0);
  if (j->ctx != NULL && j->ctx_size == 0)
    return refuse(why, "ctx_size", 1, as_ll(SIZE_MAX), 0); /* no pointer is passed on as is */
  if (j->count > 0 && j->in_size > 0 && j->in == NULL)
    return refuse(why, "in", 0, 0, 0);
  if (j->count > 0 && j->out_size > 0 && j->out == NULL)
    return refuse(why, "out", 0, 0, 0);
  if (j->in_size > SIZE_MAX - j->out_size)
    return refuse(why, "in_size", 0, as_ll(SIZE_MAX - j->out_size), as_ll(j->in_size));
  size_t item = j->in_size > j->out_size ? j->in_size : j->out_size;
  if (item > 0 && j->count > SIZE_MAX / item)
    return refuse(why, "count", 0, as_ll(SIZE_MAX / item), as_ll(j->count));
  if (!(j->in == j->out && j->in_size == j->out_size) &&
      overlaps(j->in, j->count * j->in_size, j->out, j->count * j->out_size))
    return refuse(why, "out", 0, 0, 0); /* overlaps in without being it */
  if (j->max_attempts < 1)
    return refuse(why, "max_attempts", 1, UINT_MAX, j->max_attempts);
  if (j->item_timeout_ms != FO_FOREVER && j->item_timeout_ms < 1)
    return refuse(why, "item_timeout_ms", 1, INT_MAX, j->item_timeout_ms);
  if (j->timeout_ms < FO_FOREVER)
    return refuse(why, "timeout_ms", FO_FOREVER, INT_MAX, j->timeout_ms);
  if ((j->flags & ~FO_PPOOL_FAIL_FAST) != 0)
    return refuse(why, "flags", 0, FO_PPOOL_FAIL_FAST, j->flags);
  if (j->progress != NULL && j->progress_ms < 1)
    return refuse(why, "progress_ms", 1, INT_MAX, j->progress_ms);

  memset(l, 0, sizeof *l);
  l->ctx_off = fo__ppool_ctx_offset(p->nslots);
  l->data_off = align_up(l->ctx_off + j->ctx_size);
  if (j->ctx_size < p->arena_size && l->data_off < p->arena_size)
    l->nslots = fo__ppool_geometry(p->arena_size - l->data_off, p->nslots, j->in_size, j->out_size,
                                   &l->slot_items, &l->slot_bytes, &l->out_off);
  if (l->nslots == 0) {
    if (why != NULL) {
      why->field = "arena_size";
      why->min = as_ll(arena_needed(p, j->ctx_size, j->in_size + j->out_size));
      why->max = LLONG_MAX;
      why->value = as_ll(p->arena_size);
    }
    return FO_ETOOBIG;
  }
  return 0;
}

int fo_ppool_job_check(const fo_ppool *pool, const fo_ppool_job *job, fo_opt_error *why) {
  fo__ppool_layout l;
  return fo__ppool_job_layout(pool, job, why, &l);
}
