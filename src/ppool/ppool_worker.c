/* A process pool worker: the loop a forked child runs until it is killed or orphaned. Everything
 * it reads comes from the arena and its own copy of the pool made at the fork; it allocates
 * nothing and calls only async-signal-safe functions besides the user's function, so it is sound
 * in a child of a process that had threads. */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "ppool/ppool_internal.h"

/* Exit code of a worker whose queue failed under it: the parent reports it like any death. */
#define EXIT_QUEUE_BROKEN 125

/* The deadline for one wait: forever where the system kills orphans, else the next check. */
static int64_t wait_deadline(const fo_ppool *p) {
  return p->check_ms < 0 ? FO__FOREVER : fo__now_ns() + (int64_t)p->check_ms * 1000000;
}

static void leave_if_orphaned(const fo_ppool *p) {
  if (p->check_ms >= 0 && getppid() != p->owner)
    _exit(0);
}

/* Work between two looks at getppid() on ports that need them (and the target length of a block
 * of items between two clock reads, which keeps those reads off the path of tiny items). */
#define BLOCK_NS 1000000

/* Run items [start, count) of the chunk in slot s, until one returns an error (its code goes
 * in the record, and progress stays at it) or the parent cancels the map (checked after each
 * item: one relaxed load of a line nobody writes meanwhile). Where the port cannot have the
 * system kill orphans, the items run in blocks that double while they take under BLOCK_NS, with
 * a look at getppid() every check interval, so an orphan leaves after at most one item and one
 * interval. */
static void run_chunk(const fo_ppool *p, const fo__ppool_hdr *h, unsigned s, fo__ppool_slot *r) {
  unsigned char *base = p->arena + h->data_off + (size_t)s * h->slot_bytes;
  const unsigned char *in = base;
  unsigned char *out = base + h->out_off;
  size_t in_size = (size_t)h->in_size, out_size = (size_t)h->out_size;
  size_t count = (size_t)r->count, i = (size_t)r->start, block = 1, first = (size_t)r->first;
  fo_ppool_fn fn = h->fn;
  const void *ctx = h->ctx;
  int checks = p->check_ms >= 0, timed = h->timed != 0;
  int64_t t_block = checks ? fo__now_ns() : 0, t_check = t_block;
  while (i < count) {
    size_t end = checks && count - i > block ? i + block : count;
    for (; i < end; i++) {
      if (timed) {
        /* Start time (us since the map began, plus one so 0 means "not yet") and item index in
         * one word, so the parent never pairs one item's index with another's time. */
        uint64_t us = (uint64_t)(fo__now_ns() - (int64_t)h->t0_ns) / 1000 + 1;
        fo__owned64_st(&r->stamp, us << 20 | (i & 0xfffff));
      }
      int rc = fn(ctx, first + i, in + i * in_size, out + i * out_size);
      if (rc != 0) {
        r->code = rc;
        return;
      }
      fo__st(&r->progress, (fo__word)(i + 1), FO__RELEASE);
      if (fo__ld(&h->cancel, FO__RELAXED) != 0)
        return;
    }
    if (checks) {
      int64_t t = fo__now_ns();
      if (t - t_check >= (int64_t)p->check_ms * 1000000) {
        leave_if_orphaned(p);
        t_check = t;
      }
      block = t - t_block < BLOCK_NS ? block * 2 : (block > 1 ? block / 2 : 1);
      t_block = t;
    }
  }
}

void fo__ppool_worker_run(const fo_ppool *p, unsigned self) {
  const fo__ppool_hdr *h = (const fo__ppool_hdr *)(const void *)p->arena;
  for (;;) {
    fo__ppool_desc d;
    int n = fo__port_mq_recv(&p->todo, &d, sizeof d, wait_deadline(p));
    if (n == -ETIMEDOUT) {
      leave_if_orphaned(p);
      continue;
    }
    if (n < 0)
      _exit(EXIT_QUEUE_BROKEN);
    if ((size_t)n != sizeof d || d.slot >= p->nslots)
      continue;
    fo__ppool_slot *r = fo__ppool_slot_rec(p, d.slot);
    fo__word want = fo__slot_state(d.ticket, 0, FO__SLOT_QUEUED);
    if (!fo__cas(&r->state, &want, fo__slot_state(d.ticket, self, FO__SLOT_TAKEN), FO__ACQUIRE,
                 FO__RELAXED))
      continue; /* stale: the chunk was re-queued, cancelled or finished */
    int64_t t0 = fo__now_ns();
    run_chunk(p, h, d.slot, r);
    fo__ppool_done m = {d.ticket, d.slot, (uint64_t)(fo__now_ns() - t0)};
    fo__st(&r->state, fo__slot_state(d.ticket, self, FO__SLOT_DONE), FO__RELEASE);
    for (;;) {
      int rc = fo__port_mq_send(&p->done, &m, sizeof m, wait_deadline(p));
      if (rc == 0)
        break;
      if (rc != -ETIMEDOUT)
        _exit(EXIT_QUEUE_BROKEN);
      leave_if_orphaned(p);
    }
    leave_if_orphaned(p);
  }
}
