/* What a process holds besides memory: open descriptors, threads, child processes (zombies
 * included). A snapshot before an operation and a comparison after it find what the operation
 * left behind. Linux /proc; where it is missing a count is -1 and not compared. */
#ifndef FO_TESTS_LEAKS_H
#define FO_TESTS_LEAKS_H

typedef struct {
  int fds;
  int threads;
  int children;
} lk_snapshot;

void lk_snap(lk_snapshot *s);

/* Fail the current Check test, naming what, unless the counts are back to before. Threads and
 * children may take a moment to vanish after a join or a reap returned, so this looks again
 * for up to a second (scaled) before failing. */
void lk_assert_same(const lk_snapshot *before, const char *what);

#endif /* FO_TESTS_LEAKS_H */
