/* A counting, failure-injecting allocator installed through fo_set_allocator(), so every test can
 * assert "no allocation outstanding" and run out-of-memory loops. Thread-safe. */
#ifndef FO_TESTS_TESTALLOC_H
#define FO_TESTS_TESTALLOC_H

#include <stddef.h>

/* Install the allocator and zero its counters; ta_uninstall() restores the C library's. */
void ta_install(void);
void ta_uninstall(void);

/* Blocks currently allocated through the hook and not yet freed. */
long ta_outstanding(void);
/* Allocations (malloc and realloc) attempted since install. */
long ta_attempts(void);

/* Make allocation number n (1 = the next one) from now fail, and every one after it when
 * sticky is nonzero. n = 0 turns injection off. */
void ta_fail_at(long n, int sticky);
/* Allocations refused by injection since install. */
long ta_failures(void);

/*
 * The out-of-memory loop (curl's torture mode): run op(arg) with the 1st, 2nd, 3rd, ...
 * allocation failing in turn, until it succeeds. Each failing run must return -ENOMEM and leave
 * no allocation outstanding; after the successful run, undo(arg) (may be NULL) must release
 * everything. Fails the current Check test on any breach. Returns the number of failing runs.
 */
long ta_oom_loop(int (*op)(void *arg), void (*undo)(void *arg), void *arg);

/* The most bytes held through the hook at once since install or the last ta_reset_peak(), which
 * restarts it from what is held now: a bound on what one operation allocated. */
size_t ta_peak_bytes(void);
void ta_reset_peak(void);

#endif /* FO_TESTS_TESTALLOC_H */
