/* The process module's private parts: children watched through a pipe (proc.c, shared by fo_proc
 * and the pool), the pool's shared arena and its messages, and the internals shared by the parent
 * side (ppool.c, ppool_life.c), the worker loop (ppool_worker.c), jobs (ppool_job.c) and the chunk
 * policy (ppool_sched.c); tests include it to reach the policy. Not installed. */
#ifndef FO_SRC_PPOOL_INTERNAL_H
#define FO_SRC_PPOOL_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>
#include <poll.h>
#include <stddef.h>

#include "base/base_internal.h"
#include "fanout/ppool.h"
#include "ports/port.h"

/* Children watched through a pipe: the helpers fo_proc and the process pool share. Not
 * installed.
 *
 * A child holds the write end of a pipe whose read end only its parent keeps. Nobody writes to
 * it: when the child dies the kernel closes the write end, and the parent's poll(2) on the read
 * end wakes with end-of-file, with no signal handler, no SIGCHLD and no polling of waitpid. The
 * end-of-file comes as the child's descriptors are closed, a moment before it can be reaped, so
 * fo__proc_reap_exiting() waits that moment out. A child that closes its end itself (or execs:
 * both ends are close-on-exec) looks dead early; a grandchild that inherits the end delays the
 * news until it exits too. */

/* fork() with a watch pipe. In the parent: the child's pid (> 0), *fd the read end. In the
 * child: 0, *fd the write end. On failure a negative errno, with nothing left open. */
pid_t fo__proc_fork(int *fd);

/* waitpid() with EINTR retried: pid, 0 (WNOHANG and still running) or a negative errno. */
pid_t fo__proc_waitpid(pid_t pid, int *status, int flags);

/* Reap a child whose watch pipe reported end-of-file: it is exiting, so this waits (with growing
 * naps) up to about a fifth of a second for it to become reapable; a child still running then
 * closed its end by itself and is killed (SIGKILL) and reaped. Returns 0 or a negative errno
 * (-ECHILD: someone else reaped it, e.g. SIGCHLD is ignored). */
int fo__proc_reap_exiting(pid_t pid, int *status);

/* Whether fd, the read end of a watch pipe, is at end-of-file (or broken) now. */
int fo__proc_watch_ended(int fd);

/* Split a wait status into the ending signal (0 when it exited) and the exit code. */
void fo__proc_decode(int status, int *signal, int *code);

/* The process pool's shared arena and its messages: everything the parent and the workers agree
 * on.
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
 * every target, 32-bit MIPS included: see src/base/base_internal.h):
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

/* The process pool's internals shared by the parent side (ppool.c), the worker loop
 * (ppool_worker.c) and the chunk policy (ppool_sched.c); tests include it to reach the policy.
 * */

/* What a chunk should cost a worker once the cost of an item is known: enough that the queue
 * messages and wake-ups around it (tens of microseconds) are noise, little enough that the last
 * chunks still finish together. */
#ifndef FO_PPOOL_CHUNK_NS
#define FO_PPOOL_CHUNK_NS 500000
#endif

/* Items per chunk when item deadlines are on: the item's index within its chunk shares a word
 * with its start time (see fo__ppool_slot.stamp). */
#define FO__PPOOL_TIMED_CHUNK_MAX ((size_t)1 << 20)

/* A worker's place in the pool, as the parent sees it. */
typedef struct fo__ppool_worker {
  pid_t pid;  /* 0: nobody in this place right now */
  int fd;     /* read end of its watch pipe, -1 when none */
  int killed; /* the pool killed it: 1 for an item deadline, 2 for the map's deadline */
  int kill_slot;
  uint64_t kill_item; /* the item (within the chunk) that was overdue */
} fo__ppool_worker;

/* The parent's own record of a slot during a map. */
typedef struct fo__ppool_pslot {
  int busy;        /* holds a chunk of the current map */
  int unsent;      /* QUEUED in the arena, but its descriptor is not on the queue yet */
  uint32_t ticket; /* the ticket it was last queued under */
  size_t first;    /* the chunk: items [first, first + count) of the map */
  size_t count;    /* items in the chunk */
  size_t start;    /* items before this (within the chunk) are resolved */
  size_t culprit;  /* the item (within the chunk) whose deaths tries counts */
  unsigned tries;  /* deaths while culprit ran */
} fo__ppool_pslot;

struct fo_ppool {
  pid_t owner;       /* the creating process: the workers' parent */
  unsigned nworkers; /* places for workers */
  unsigned nslots;   /* slots in the arena: nworkers + 2 */
  int check_ms;      /* fo__port_orphan_check_ms(), read once */
  size_t arena_size;
  unsigned char *arena; /* header, slot records, context, data */
  fo__port_mq todo;     /* descriptors, parent to workers */
  fo__port_mq done;     /* "done" messages, workers to parent */
  uint32_t ticket;      /* the last ticket given out */
  fo__ppool_worker *w;  /* nworkers */
  fo__ppool_pslot *ps;  /* nslots */
  struct pollfd *pfd;   /* nworkers + 2 */
  fo_ppool_fn est_fn;   /* the last map's function and what an item of it cost (ns) */
  double est_ns;
  int busy; /* atomic: a map runs (1); how map and destroy notice a second thread */
};

/* Offsets in the arena. */
#define FO__PPOOL_HDR_SPACE                                                                        \
  ((sizeof(fo__ppool_hdr) + FO__PPOOL_ALIGN - 1) & ~(size_t)(FO__PPOOL_ALIGN - 1))

static inline fo__ppool_slot *fo__ppool_slot_rec(const fo_ppool *p, unsigned s) {
  return (fo__ppool_slot *)(void *)(p->arena + FO__PPOOL_HDR_SPACE) + s;
}

/* Where a job's data goes in the arena. */
typedef struct fo__ppool_layout {
  size_t ctx_off;    /* the context copy */
  size_t data_off;   /* data slot 0 */
  size_t slot_items; /* items a slot holds */
  size_t slot_bytes; /* distance between slots */
  size_t out_off;    /* outputs within a slot */
  unsigned nslots;   /* slots the job uses (1 to the pool's) */
} fo__ppool_layout;

/* Offset of the context in the arena of a pool with nslots slots. */
size_t fo__ppool_ctx_offset(unsigned nslots);

/* fo_ppool_job_check, filling the layout on success (ppool_job.c). */
int fo__ppool_job_layout(const fo_ppool *p, const fo_ppool_job *j, fo_opt_error *why,
                         fo__ppool_layout *l);

/* The workers' places (ppool_life.c). bury: reap the worker in place i, whose watch pipe ended,
 * and free the place, giving how it ended; live_workers: places with a worker; ensure_workers:
 * fill every empty place, 0 when at least one worker lives, else the fork error;
 * refresh_workers: settle the workers that died since the last map, then ensure_workers. */
void fo__ppool_bury(fo_ppool *p, unsigned i, int *sig, int *code);
unsigned fo__ppool_live_workers(const fo_ppool *p);
int fo__ppool_ensure_workers(fo_ppool *p);
int fo__ppool_refresh_workers(fo_ppool *p);

/* The worker's life: wait for descriptors, run chunks, report them done. Runs in the child
 * forked for place self; never returns. */
void fo__ppool_worker_run(const fo_ppool *p, unsigned self) __attribute__((noreturn));

/*
 * Items for the next chunk.
 * remaining: items not yet given to a chunk (>= 1); workers: the pool's workers;
 * ns_per_item: what an item has cost so far (0 when unknown); slot_items: what a slot holds;
 * fixed: the caller's chunk size (0 = automatic).
 * Automatic: about remaining / (2 * workers) (guided scheduling: large chunks first, smaller
 * towards the end so the last ones finish together), but never less than FO_PPOOL_CHUNK_NS worth
 * of items. Always between 1 and min(remaining, slot_items).
 */
size_t fo__ppool_chunk_items(size_t remaining, unsigned workers, double ns_per_item,
                             size_t slot_items, size_t fixed);

/*
 * Cut space bytes into at most nslots data slots for items of in_size + out_size bytes. Fills
 * the items a slot holds, the distance between slots, the offset of the outputs in a slot, and
 * returns the number of slots (fewer than asked when even one item per slot would not fit),
 * or 0 when one item does not fit in space at all.
 */
unsigned fo__ppool_geometry(size_t space, unsigned nslots, size_t in_size, size_t out_size,
                            size_t *slot_items, size_t *slot_bytes, size_t *out_off);

/* One map in the parent (ppool.c runs its loop, ppool_map.c sets it up and tidies after). */
typedef struct fo__ppool_mapper {
  fo_ppool *p;
  fo__ppool_hdr *h;
  fo_ppool_fn fn;
  const unsigned char *in;
  unsigned char *out;
  size_t in_size, out_size, count;
  size_t fixed;     /* the caller's chunk size, 0 = automatic */
  size_t chunk_cap; /* what a slot holds (and the stamp allows) */
  unsigned nslots;  /* slots this map uses */
  unsigned max_attempts;
  int64_t item_limit_ns; /* 0: no item deadline */
  int64_t deadline;      /* the map's, FO__FOREVER for none */
  size_t next;           /* first item not yet in a chunk */
  size_t resolved;       /* items produced or reported */
  unsigned idle_deaths;  /* deaths of workers that held no chunk */
  double run_ns, run_items;
  int aborting;
  int fail_fast;     /* FO_PPOOL_FAIL_FAST */
  int cancel_wanted; /* an item failed under fail-fast: cancel at the next turn of the loop */
  int cancelled;     /* nothing more starts; chunks in progress end after their current item */
  int rc; /* why the map ends early; 0 while it runs */
  fo_ppool_report *rep;
  fo_ppool_progress_fn progress;
  void *progress_arg;
  int64_t progress_every; /* ns between calls */
  int64_t progress_due;   /* the next call, at the earliest */
  size_t progress_told;   /* the last count passed on */
} fo__ppool_mapper;

/* ppool.c: the map's loop, until every item is produced or reported (or the map ends early with
 * m->rc); items [first, first + n) reported failed (contiguous runs of one cause share an entry). */
void fo__ppool_run_map(fo__ppool_mapper *m);
void fo__ppool_fail(fo__ppool_mapper *m, size_t first, size_t n, int cause, int code,
                    unsigned attempts);

#endif /* FO_SRC_PPOOL_INTERNAL_H */
