/* Checks that a test left no POSIX message queue or shared-memory object behind.
 *
 * Other programs (another test run on the same machine) create objects too. The library's own
 * names carry the creator's pid ("fanout-mq-<pid>-<random>"), as do the tests' named regions
 * ("fanout-test-<pid>"), so an object whose creator is
 * alive and neither this process nor one of its descendants is someone else's and is not
 * counted; one whose creator is dead is counted, since nobody will remove it.
 *
 * Shared memory objects are files in /dev/shm. Message queues live in the mqueue filesystem,
 * which is often not mounted (not at /dev/mqueue on the machines this was written on), so
 * ipc_init() mounts it on a private temporary directory when it can (root) and ipc_fini()
 * unmounts it. Without root the queue check is skipped with a note on stderr, once. */
#ifndef FO_TESTS_IPCCHECK_H
#define FO_TESTS_IPCCHECK_H

#include <sys/types.h>

#define IPC_MAX_NAMES 256

typedef struct {
  int n;
  char names[IPC_MAX_NAMES][272]; /* NAME_MAX plus the tag */ /* "shm:NAME" or "mq:NAME" */
} ipc_snapshot;

/* Once per test program, before any test runs (and before Check forks). */
void ipc_init(void);
void ipc_fini(void);

/* Whether message queues can be seen (the mqueue filesystem is mounted somewhere). */
int ipc_can_see_queues(void);

/* Record the objects present now. */
void ipc_snap(ipc_snapshot *s);
/* Fail the current Check test if an object exists now that was not in before. */
void ipc_assert_none_new(const ipc_snapshot *before);
/* Number of objects present now that were not in before (for tests that expect some). */
int ipc_count_new(const ipc_snapshot *before);

/* Remove the objects the library named for process pid (one killed in the instant an object had
 * a name); returns how many there were. */
int ipc_remove_of(pid_t pid);

#endif /* FO_TESTS_IPCCHECK_H */
