/* Atomics on memory shared between processes. Not installed.
 *
 * A word that two processes touch at once must be lock-free on the target: where the compiler
 * cannot do an access in instructions it calls libatomic, whose locks are private to each
 * process, so the access is not atomic against another process at all (32-bit MIPS, for one,
 * has no 8-byte atomic instructions). So every shared field goes through these helpers:
 *
 * - fo__word (32 bits) is lock-free on every target fanout builds for; configure refuses a
 *   compiler where it is not, and the assertion below fails the build if that ever changes.
 * - 64-bit helpers exist only where configure found 8-byte atomics lock-free (FO_HAVE_ATOMIC_8,
 *   a compile-only probe); elsewhere code that needs 64 bits uses fo__split64 (below) or keeps
 *   the value under its lock. Code that calls a 64-bit helper without the guard does not build.
 *
 * In-process atomics (the thread pool's counters) may use the builtins directly: libatomic's
 * locks are right within one process. tests/symbols.sh checks that libfanout.a calls no
 * libatomic function at all, so nothing slips through on a target that needs them. */
#ifndef FO_SRC_ATOMIC_H
#define FO_SRC_ATOMIC_H

#include <stdint.h>

typedef uint32_t fo__word;

_Static_assert(__atomic_always_lock_free(sizeof(fo__word), 0),
               "32-bit atomics must be lock-free to be shared between processes");

#define FO__RELAXED __ATOMIC_RELAXED
#define FO__ACQUIRE __ATOMIC_ACQUIRE
#define FO__RELEASE __ATOMIC_RELEASE
#define FO__ACQ_REL __ATOMIC_ACQ_REL

static inline fo__word fo__ld(const fo__word *p, int order) {
  return __atomic_load_n(p, order);
}
static inline void fo__st(fo__word *p, fo__word v, int order) {
  __atomic_store_n(p, v, order);
}
/* Strong compare-and-swap; on failure *want gets the value found. */
static inline int fo__cas(fo__word *p, fo__word *want, fo__word v, int order, int fail_order) {
  return __atomic_compare_exchange_n(p, want, v, 0, order, fail_order);
}
static inline void fo__fence(int order) {
  __atomic_thread_fence(order);
}

#ifdef FO_HAVE_ATOMIC_8
_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
               "configure found 8-byte atomics lock-free, this compiler does not agree");
static inline uint64_t fo__ld64(const uint64_t *p, int order) {
  return __atomic_load_n(p, order);
}
static inline void fo__st64(uint64_t *p, uint64_t v, int order) {
  __atomic_store_n(p, v, order);
}
#endif

/* A 64-bit value read without a lock while another process may write it, where the reader has
 * its own way to notice a write in progress (a sequence counter) and throws such a read away.
 * With lock-free 8-byte atomics it is one word; without, two 32-bit halves, which a racing
 * read may see torn: only the reader's check makes that harmless. */
typedef struct {
#ifdef FO_HAVE_ATOMIC_8
  uint64_t v;
#else
  fo__word lo, hi;
#endif
} fo__split64;

/* 1 where a fo__split64 is one atomic word (a lone store needs no sequence bump). */
#ifdef FO_HAVE_ATOMIC_8
#define FO__SPLIT64_ATOMIC 1
#else
#define FO__SPLIT64_ATOMIC 0
#endif

static inline uint64_t fo__split64_ld(const fo__split64 *p) {
#ifdef FO_HAVE_ATOMIC_8
  return fo__ld64(&p->v, FO__RELAXED);
#else
  return (uint64_t)fo__ld(&p->hi, FO__RELAXED) << 32 | fo__ld(&p->lo, FO__RELAXED);
#endif
}
static inline void fo__split64_st(fo__split64 *p, uint64_t v) {
#ifdef FO_HAVE_ATOMIC_8
  fo__st64(&p->v, v, FO__RELAXED);
#else
  fo__st(&p->lo, (fo__word)v, FO__RELAXED);
  fo__st(&p->hi, (fo__word)(v >> 32), FO__RELAXED);
#endif
}

/* A 64-bit value with one writer (the process that owns it) and readers in other processes,
 * with no sequence counter of its own: without 8-byte atomics it carries one, odd while a write
 * runs. A reader gets 0 and the value, or -1 when a write was running every time it looked (or
 * the writer died mid-write); the caller treats that as "not known yet". */
typedef struct {
#ifdef FO_HAVE_ATOMIC_8
  uint64_t v;
#else
  fo__word gen;
  fo__split64 v;
#endif
} fo__owned64;

static inline void fo__owned64_st(fo__owned64 *p, uint64_t v) {
#ifdef FO_HAVE_ATOMIC_8
  fo__st64(&p->v, v, FO__RELEASE);
#else
  /* Odd whatever the word held: a writer that died mid-write left it odd, and the next one
   * (the parent resetting the slot) must not turn the parity round. */
  fo__word g = fo__ld(&p->gen, FO__RELAXED) | 1;
  fo__st(&p->gen, g, FO__RELAXED);
  fo__fence(FO__RELEASE);
  fo__split64_st(&p->v, v);
  fo__st(&p->gen, g + 1, FO__RELEASE);
#endif
}

static inline int fo__owned64_ld(const fo__owned64 *p, uint64_t *v) {
#ifdef FO_HAVE_ATOMIC_8
  *v = fo__ld64(&p->v, FO__ACQUIRE);
  return 0;
#else
  for (int tries = 0; tries < 64; tries++) {
    fo__word g = fo__ld(&p->gen, FO__ACQUIRE);
    if (g & 1)
      continue;
    uint64_t got = fo__split64_ld(&p->v);
    fo__fence(FO__ACQUIRE);
    if (fo__ld(&p->gen, FO__RELAXED) == g) {
      *v = got;
      return 0;
    }
  }
  return -1;
#endif
}

#endif /* FO_SRC_ATOMIC_H */
