/* The process pool's shared arena and its messages: everything the parent and the workers agree
 * on. Not installed.
 *
 * Layout of the arena (one anonymous shared mapping, made before the workers fork, at the same
 * address in every process):
 *
 *   [ header | slot records (one per slot, 64 bytes each) | context copy | data slots ... ]
 *
 * A data slot holds one chunk: its inputs, then (64-byte aligned) its outputs. The parent writes
 * the header and the context at the start of a map, while no worker runs anything of the pool, and
 * leaves them alone until the map is over.
 *
 * A slot record's state word says who owns the slot, in one atomic 32-bit value (lock-free on
 * every target, 32-bit MIPS included: see src/atomic.h):
 *   ticket (22 bits) | owner worker (8 bits) | state (2 bits)
 * Tickets wrap at 2^22; a stale descriptor is read off the FIFO queue long before that many
 * chunks could be queued behind it, so a wrapped ticket never meets one.
 * The parent gives every chunk it queues a fresh ticket and puts the ticket in the descriptor. A
 * worker owns a chunk only by swapping QUEUED(ticket) for TAKEN(ticket, itself): a descriptor that
 * went stale (the map ended, or the chunk was re-queued under a new ticket after a death) fails
 * the swap and is dropped. So no message can make a worker touch a slot it does not own, and a
 * "done" message counts only if the slot still holds DONE under the same ticket.
 *
 * A chunk can end DONE before its last item: at an item whose function returned an error (the
 * record's code says which, progress points at it), or after the parent set the header's cancel
 * flag (code 0). The parent reports or re-queues what is left. */
#ifndef FO_SRC_PPOOL_ARENA_H
#define FO_SRC_PPOOL_ARENA_H

#include <stdint.h>

#include "atomic.h"
#include "fanout/ppool.h"

#define FO__PPOOL_MAGIC 0x666f2d70706f6f6cull /* "fo-ppool" */

/* Alignment of every region in the arena: a cache line, so slots never share one. */
#define FO__PPOOL_ALIGN 64u

enum { FO__SLOT_FREE = 0, FO__SLOT_QUEUED = 1, FO__SLOT_TAKEN = 2, FO__SLOT_DONE = 3 };

#define FO__TICKET_MASK 0x3fffffu
_Static_assert(FO_PPOOL_WORKERS_MAX <= 256, "the slot state word holds an 8-bit worker index");

/* Items in one chunk at most: the progress word is 32 bits. */
#define FO__PPOOL_CHUNK_MAX ((size_t)1 << 30)

static inline fo__word fo__slot_state(uint32_t ticket, unsigned owner, unsigned state) {
  return (fo__word)(ticket & FO__TICKET_MASK) << 10 | (fo__word)(owner & 0xffu) << 2 |
         (state & 3u);
}
static inline uint32_t fo__slot_ticket(fo__word s) {
  return s >> 10;
}
static inline unsigned fo__slot_owner(fo__word s) {
  return (unsigned)(s >> 2) & 0xffu;
}
static inline unsigned fo__slot_st(fo__word s) {
  return (unsigned)(s & 3u);
}

/* Written by the parent at the start of each map; read-only for workers during it but for
 * cancel. */
typedef struct fo__ppool_hdr {
  uint64_t magic;
  fo_ppool_fn fn;      /* a plain function pointer: the same in every process after fork() */
  const void *ctx;     /* the arena's copy of the context, or NULL */
  uint64_t in_size;    /* bytes per input item */
  uint64_t out_size;   /* bytes per output item */
  uint64_t data_off;   /* offset of data slot 0 */
  uint64_t slot_bytes; /* distance between data slots */
  uint64_t out_off;    /* offset of the outputs within a data slot */
  uint64_t timed;      /* nonzero: workers stamp each item's start (item deadlines) */
  int64_t t0_ns;       /* when the map began (monotonic ns): stamps count from here */
  uint32_t cancel;     /* atomic, set by the parent mid-map: stop after the item in progress */
  uint32_t reserved;
} fo__ppool_hdr;

/* One per slot, one cache line each. first, count and start are written by the parent before it
 * publishes QUEUED; progress and stamp by the owning worker. */
typedef struct fo__ppool_slot {
  fo__word state;    /* atomic: see above */
  fo__word progress; /* atomic: items of the chunk finished (within the chunk), released after
                        each item's output is written */
  uint64_t first;    /* the chunk's first item in the map */
  uint64_t count;    /* items in the chunk (at most FO__PPOOL_CHUNK_MAX) */
  uint64_t start;    /* first item (within the chunk) still to run: > 0 after a re-queue */
  fo__owned64 stamp; /* only when the header says timed, written by the owner: the item in
                        progress, as (microseconds since t0_ns + 1) << 20 | its index within the
                        chunk; 0 until the owner stamps its first item */
  int32_t code;      /* nonzero: the function returned it for the item at progress, which
                        ended the chunk there (written before DONE is published) */
  unsigned char reserved[64 - 36 - sizeof(fo__owned64)];
} fo__ppool_slot;

_Static_assert(sizeof(fo__ppool_slot) == 64, "a slot record is one cache line");

/* On the work queue: "slot 3 under ticket 812: items 4096-4351". */
typedef struct fo__ppool_desc {
  uint32_t ticket;
  uint32_t slot;
  uint64_t first; /* for the reader's benefit: the slot record is what counts */
  uint64_t count;
} fo__ppool_desc;

/* On the done queue. */
typedef struct fo__ppool_done {
  uint32_t ticket;
  uint32_t slot;
  uint64_t ns; /* how long the worker spent on the chunk, for the chunk-size estimate */
} fo__ppool_done;

#endif /* FO_SRC_PPOOL_ARENA_H */
