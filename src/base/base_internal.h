/* The base module's private parts, which every other module and the ports may use: the allocator
 * hook's internal calls, deadlines, option range checks, fault points and atomics on shared
 * memory. The base sits below the ports: nothing here asks the operating system for more than a
 * clock. Not installed. */
#ifndef FO_SRC_BASE_INTERNAL_H
#define FO_SRC_BASE_INTERNAL_H

#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "fanout/fanout.h"

/* Internal allocation API: every allocation in fanout goes through these, so the hook set by
 * fo_set_allocator() sees all of it. */

/* size 0 is treated as 1, so a non-NULL result always means success. */
void *fo__malloc(size_t size);
/* Zeroed; NULL on overflow of n * size. */
void *fo__calloc(size_t n, size_t size);
/* ptr NULL acts as fo__malloc; on failure returns NULL and ptr stays valid. */
void *fo__realloc(void *ptr, size_t size);
/* NULL is a no-op. */
void fo__free(void *ptr);
/* A copy of s through the hook; NULL on failure. */
char *fo__strdup(const char *s);

/* Deadlines: a caller's timeout turned into an absolute point on the monotonic clock, so a wait
 * that is interrupted (EINTR) or woken for nothing resumes with the time left, never with the
 * full timeout again. The core and the ports pass deadlines, not timeouts. */

/* No deadline: wait as long as it takes. */
#define FO__FOREVER INT64_MAX

/* Nanoseconds on CLOCK_MONOTONIC. */
int64_t fo__now_ns(void);

/* The deadline for a public timeout_ms argument: < 0 is FO__FOREVER, 0 is now (try once, do not
 * wait), > 0 that many milliseconds from now. */
int64_t fo__deadline(int timeout_ms);

/* Whether the deadline has passed (never for FO__FOREVER). */
int fo__deadline_passed(int64_t deadline);

/* The time left as a poll(2) timeout: -1 for FO__FOREVER, 0 once passed, otherwise milliseconds
 * rounded up (a wait that ends early only loops once more instead of spinning). */
int fo__deadline_poll_ms(int64_t deadline);

/* The deadline on CLOCK_REALTIME, for calls such as mq_timedsend() that take no other clock. A
 * passed deadline gives a time in the past, which those calls treat as "do not wait". */
struct timespec fo__deadline_realtime(int64_t deadline);

/* The code a public call returns for rc, which a wait with timeout_ms gave: a wait that was not
 * to wait at all (timeout_ms 0) and found nothing ready "would have to wait" (-EAGAIN), while
 * -ETIMEDOUT is kept for a wait whose time ran out (fanout.h, "Waiting"). */
static inline int fo__timeout_rc(int rc, int timeout_ms) {
  return rc == -ETIMEDOUT && timeout_ms == 0 ? -EAGAIN : rc;
}

/* Range checks for the *_opts_check() calls: each fills a fo_opt_error (fanout.h) when a field
 * is refused, so every options struct explains itself the same way. */

/* 1 when min <= value <= max; otherwise 0, with *why (if not NULL) naming field. */
int fo__opt_range(const char *field, long long value, long long min, long long max,
                  fo_opt_error *why);

/* The same for an unsigned field (a count or a size) accepted from 0 to max; a value beyond
 * LLONG_MAX is reported as LLONG_MAX. */
int fo__opt_urange(const char *field, unsigned long long value, unsigned long long max,
                   fo_opt_error *why);

/* Fault points: the system calls that create an object fanout cannot do without, and that a test
 * cannot make fail on demand (a queue, a shared region, a process, a thread, a libcurl handle).
 *
 * Each such call is written `fo__fault_at(KIND) ? <failure> : call(...)`. In the library as
 * shipped fo__fault_at() is the constant 0, so the compiler drops it: no code, no state. Built
 * with FO_FAULT_INJECTION (only the test library libfanout_inject.a is), it asks fo__fault(),
 * which the *test program* defines, whether to fail this call and with which errno; the test
 * counts calls per kind and fails the Nth, so it can check that every failure comes back as a
 * clean negative errno with nothing left behind. The library itself never defines fo__fault().
 */

/* What a fault point creates. A kind covers the calls that fill one role on either port. */
enum fo__fault_kind {
  FO__FAULT_MQ,     /* a queue: mq_open (linux port), socketpair (posix port) */
  FO__FAULT_SHM,    /* a shared region: memfd_create, shm_open, anonymous mmap (posix port) */
  FO__FAULT_FORK,   /* fork */
  FO__FAULT_THREAD, /* pthread_create */
  FO__FAULT_CURL,   /* curl_share_init, curl_easy_init */
  FO__FAULT_ROBUST, /* a robust process-shared mutex (pthread_mutexattr_setrobust) */
  FO__FAULT_CURLM,  /* curl_multi_init */
  FO__FAULT_KINDS
};

#ifdef FO_FAULT_INJECTION
/* Defined by the test program: 0 to make the call, or the errno to fail it with. Called from any
 * thread. */
int fo__fault(int kind);
#endif

/* 1 (errno set) when this call is to fail; always 0 outside test builds. */
static inline int fo__fault_at(int kind) {
#ifdef FO_FAULT_INJECTION
  int e = fo__fault(kind);
  if (e != 0) {
    errno = e;
    return 1;
  }
#else
  (void)kind;
#endif
  return 0;
}

/* Atomics on memory shared between processes.
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

#endif /* FO_SRC_BASE_INTERNAL_H */
