/* fo_ppool_map(): a map set up in the shared arena, run (ppool.c's loop), and tidied after; the
 * report's failure runs sorted. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "ppool/ppool_internal.h"

/* Sort the report's runs by first item (shell sort: no allocation, runs are few and mostly in
 * order already). */
static void sort_failures(fo_ppool_report *r) {
  static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
  for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
    size_t gap = gaps[g];
    for (size_t i = gap; i < r->nfailures; i++) {
      fo_ppool_failure t = r->failures[i];
      size_t j = i;
      for (; j >= gap && r->failures[j - gap].first > t.first; j -= gap)
        r->failures[j] = r->failures[j - gap];
      r->failures[j] = t;
    }
  }
}

/* Set the arena up for the job, run the map, tidy up after it. */
static int run(fo__ppool_mapper *m, const fo_ppool_job *job, const fo__ppool_layout *l) {
  fo_ppool *p = m->p;
  /* "done" messages left from an earlier map would only be dropped later; drop them now. */
  fo__ppool_done stale;
  while (fo__port_mq_recv(&p->done, &stale, sizeof stale, 0) >= 0)
    ;

  /* No worker owns a slot between maps, so none reads the header while it changes. */
  fo__ppool_hdr *h = m->h;
  h->fn = job->fn;
  if (job->ctx_size > 0) {
    memcpy(p->arena + l->ctx_off, job->ctx, job->ctx_size);
    h->ctx = p->arena + l->ctx_off;
  } else {
    h->ctx = NULL;
  }
  h->in_size = job->in_size;
  h->out_size = job->out_size;
  h->data_off = l->data_off;
  h->slot_bytes = l->slot_bytes;
  h->out_off = l->out_off;
  h->timed = m->item_limit_ns > 0;
  h->t0_ns = fo__now_ns();
  fo__st(&h->cancel, 0u, FO__RELAXED);
  for (unsigned s = 0; s < p->nslots; s++)
    p->ps[s].busy = p->ps[s].unsent = 0;
  for (unsigned i = 0; i < p->nworkers; i++)
    p->w[i].killed = 0;

  m->progress_due = fo__now_ns() + m->progress_every;
  fo__ppool_run_map(m);
  if (m->cancelled) {
    /* Descriptors of the chunks taken back are stale; take them off the queue. */
    fo__ppool_desc d;
    while (fo__port_mq_recv(&p->todo, &d, sizeof d, 0) >= 0)
      ;
  }
  /* Replace the workers killed at the end; a failure is retried at the next map. */
  if (fo__ppool_live_workers(p) < p->nworkers)
    fo__ppool_ensure_workers(p);

  if (m->run_items > 0) {
    p->est_fn = job->fn;
    p->est_ns = m->run_ns / m->run_items;
  }
  if (m->progress != NULL)
    m->progress(m->progress_arg, m->resolved, m->count);
  if (m->rc != 0)
    return m->rc;
  return m->rep->failed > 0 ? FO_EPARTIAL : 0;
}

int fo_ppool_map(fo_ppool *p, const fo_ppool_job *job, fo_ppool_report *report) {
  if (p == NULL || job == NULL)
    return -EINVAL;
  if (p->owner != getpid())
    return FO_ETASK;
  fo__ppool_layout l;
  int rc = fo__ppool_job_layout(p, job, NULL, &l);
  if (rc != 0)
    return rc;
  int idle = 0;
  if (!__atomic_compare_exchange_n(&p->busy, &idle, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    return -EBUSY;
  fo_ppool_report scratch;
  memset(&scratch, 0, sizeof scratch);
  fo_ppool_report *rep = report != NULL ? report : &scratch;
  rep->nfailures = rep->failed = 0;
  rep->deaths = 0;
  if (rep->failures == NULL)
    rep->cap = 0;

  fo__ppool_mapper m;
  memset(&m, 0, sizeof m);
  m.p = p;
  m.h = (fo__ppool_hdr *)(void *)p->arena;
  m.fn = job->fn;
  m.in = job->in;
  m.out = job->out;
  m.in_size = job->in_size;
  m.out_size = job->out_size;
  m.count = job->count;
  m.rep = rep;
  m.nslots = l.nslots;
  m.fixed = job->chunk;
  m.fail_fast = (job->flags & FO_PPOOL_FAIL_FAST) != 0;
  m.max_attempts = m.fail_fast ? 1 : job->max_attempts;
  m.item_limit_ns = job->item_timeout_ms > 0 ? (int64_t)job->item_timeout_ms * 1000000 : 0;
  m.deadline = job->timeout_ms > 0 ? fo__deadline(job->timeout_ms) : FO__FOREVER;
  m.chunk_cap = l.slot_items;
  if (m.chunk_cap > FO__PPOOL_CHUNK_MAX)
    m.chunk_cap = FO__PPOOL_CHUNK_MAX;
  if (m.item_limit_ns > 0 && m.chunk_cap > FO__PPOOL_TIMED_CHUNK_MAX)
    m.chunk_cap = FO__PPOOL_TIMED_CHUNK_MAX;
  m.progress = job->count > 0 ? job->progress : NULL;
  m.progress_arg = job->progress_arg;
  m.progress_every = (int64_t)job->progress_ms * 1000000;

  if (job->count == 0) {
    rc = 0;
  } else if (job->timeout_ms == 0) {
    fo__ppool_fail(&m, 0, job->count, FO_PPOOL_NOT_RUN, 0, 0); /* would have to wait for the workers */
    rc = -EAGAIN;
  } else {
    rc = fo__ppool_refresh_workers(p);
    if (rc < 0)
      fo__ppool_fail(&m, 0, job->count, FO_PPOOL_NOT_RUN, 0, 0);
    else
      rc = run(&m, job, &l);
  }
  sort_failures(rep);
  __atomic_store_n(&p->busy, 0, __ATOMIC_RELEASE);
  return rc;
}
