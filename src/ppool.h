/* The process pool's internals shared by the parent side (ppool.c), the worker loop
 * (ppool_worker.c) and the chunk policy (ppool_sched.c); tests include it to reach the policy.
 * Not installed. */
#ifndef FO_SRC_PPOOL_H
#define FO_SRC_PPOOL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fanout/ppool.h"
#include "port.h"
#include "ppool_arena.h"

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

#endif /* FO_SRC_PPOOL_H */
