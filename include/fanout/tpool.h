/**
 * @file tpool.h
 * A fixed-size pool of POSIX threads for work that waits (network, files, devices).
 *
 * Threads. Every function here is thread-safe on a live pool except fo_tpool_destroy() and
 * fo_tpool_group_destroy(), which, like free(), must be the last call on their object: no other
 * thread may be calling into it or about to. (A submit already blocked on a full queue when
 * destroy begins is the one exception: it is woken, returns -ESHUTDOWN and has left the pool
 * before destroy frees anything.) Pools are independent: nothing is shared between two pools and
 * the library keeps no state of its own about them.
 *
 * From inside a task. A task may submit to its own pool (or any other), cancel its own pool and
 * create or destroy groups. A blocking submit from a task never waits for queue space: when the
 * queue is full it runs the new task inline, on the calling worker's stack, before returning (a
 * worker that waited for space could wait forever once every worker does the same). The calls
 * that wait for tasks to finish, fo_tpool_wait(), fo_tpool_group_wait() and fo_tpool_destroy(),
 * return FO_ETASK when called from a task of the same pool instead of deadlocking on themselves.
 *
 * Signals. Workers run with every signal blocked, so a signal sent to the process goes to a
 * thread of the program's own choosing; the pool installs no signal handler.
 *
 * fork(). Only the forking thread exists in the child: a pool created before fork() must not be
 * used in the child (not even destroyed). Create pools after forking.
 */
#ifndef FANOUT_TPOOL_H
#define FANOUT_TPOOL_H

#include <errno.h>
#include <stddef.h>

#include "fanout/fanout.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Worker threads when the options leave it 0: enough to overlap a few slow requests, and a
 * fixed count so the memory a pool takes does not depend on the board it runs on. */
#ifndef FO_TPOOL_THREADS_DEFAULT
#define FO_TPOOL_THREADS_DEFAULT 4
#endif
/** The most worker threads a pool may have; a larger request is almost certainly a bug. */
#ifndef FO_TPOOL_THREADS_MAX
#define FO_TPOOL_THREADS_MAX 256
#endif
/** Queue capacity when the options leave it 0 (32 bytes a slot). */
#ifndef FO_TPOOL_QUEUE_DEFAULT
#define FO_TPOOL_QUEUE_DEFAULT 256
#endif
/** The largest queue capacity, so the slot array's size cannot overflow on 32-bit boards. */
#ifndef FO_TPOOL_QUEUE_MAX
#define FO_TPOOL_QUEUE_MAX (1u << 20)
#endif
/**
 * Worker stack size when the options leave it 0: 256 KiB, room for a task with a 100 KiB local
 * array or a TLS handshake. On boards with an MMU (all that Linux runs on) a thread's stack is
 * address space whose pages are committed only when touched, so a bigger default costs RAM only
 * for tasks that use it; what it does cost is address space, which a 32-bit board has little of:
 * 4 threads take 1 MiB, FO_TPOOL_THREADS_MAX threads 64 MiB, both far inside 3 GiB. (glibc's
 * default would be 8 MiB a thread, 2 GiB for 256 threads.)
 * The limit is a hard one: a task that uses more stack than its pool's stack_size runs into the
 * guard page below the stack and the process dies with SIGSEGV, with nothing to report it
 * first. A task with large locals allocates them, or its pool sets stack_size (or a build
 * defines FO_TPOOL_STACK_DEFAULT); the test suite checks that a 100 KiB local array fits in
 * the default.
 */
#ifndef FO_TPOOL_STACK_DEFAULT
#define FO_TPOOL_STACK_DEFAULT (256 * 1024)
#endif
/** The largest stack_size accepted: beyond this a 32-bit board runs out of address space after a
 * few threads, and a request this large is almost certainly a unit mistake. */
#ifndef FO_TPOOL_STACK_MAX
#define FO_TPOOL_STACK_MAX (64u * 1024 * 1024)
#endif

/** A pool. Opaque. */
typedef struct fo_tpool fo_tpool;
/** A set of tasks in one pool that can be waited for together. Opaque. */
typedef struct fo_tpool_group fo_tpool_group;
/** A task: called once on a worker thread with the argument given at submit. */
typedef void (*fo_tpool_fn)(void *arg);

/** Options for fo_tpool_create(). Zero (or NULL) in any field means its default; the ranges are
 * checked by fo_tpool_opts_check(). */
typedef struct fo_tpool_opts {
  unsigned threads;  /**< worker threads, 1..FO_TPOOL_THREADS_MAX; 0: FO_TPOOL_THREADS_DEFAULT */
  unsigned queue;    /**< queued tasks before submit blocks, up to FO_TPOOL_QUEUE_MAX, rounded
                          up to a power of two (2 at least); 0: FO_TPOOL_QUEUE_DEFAULT */
  size_t stack_size; /**< bytes of stack per worker, up to FO_TPOOL_STACK_MAX, rounded up to
                          PTHREAD_STACK_MIN and to whole pages; 0: FO_TPOOL_STACK_DEFAULT
                          (see there: a task must fit in it) */
  const char *name;  /**< thread name prefix, shown as "name-N" where the system supports
                          thread names (15 characters at most, so a long name is cut);
                          copied; NULL or "": "fo-tpool" */
} fo_tpool_opts;

/**
 * Check options as fo_tpool_create() does, without creating anything.
 * @param opts the options; NULL (every default) is valid.
 * @param why NULL, or filled on -EINVAL with the first field out of range (fo_opt_error_format()
 *        makes it a sentence); untouched on 0.
 * @return 0, -EINVAL (threads, queue or stack_size above its maximum).
 * Thread-safe.
 */
int fo_tpool_opts_check(const fo_tpool_opts *opts, fo_opt_error *why);

/**
 * Create a pool and start all of its threads.
 * @param pool receives the pool; untouched on failure.
 * @param opts options, or NULL for every default.
 * @return 0, -EINVAL (pool NULL, or opts refused by fo_tpool_opts_check()), -ENOMEM, or
 *         the error of pthread_create() or of a pthread object's init, negated (-EAGAIN:
 *         thread limit reached). On failure every thread already started has been joined and
 *         everything freed.
 * Thread-safe.
 */
int fo_tpool_create(fo_tpool **pool, const fo_tpool_opts *opts);

/**
 * Queue a task; blocks while the queue is full. Never allocates.
 * @return 0, -EINVAL (pool or fn NULL), -ESHUTDOWN (destroy has begun).
 * Thread-safe. From a task of the same pool it never blocks: with the queue full, it runs fn
 * inline before returning 0.
 */
int fo_tpool_submit(fo_tpool *pool, fo_tpool_fn fn, void *arg);

/**
 * Queue a task if there is room now; never blocks.
 * @return 0, -EAGAIN (queue full), -EINVAL (pool or fn NULL), -ESHUTDOWN (destroy has begun).
 * Thread-safe; may be called from a task.
 */
int fo_tpool_try_submit(fo_tpool *pool, fo_tpool_fn fn, void *arg);

/**
 * Queue a task, waiting at most timeout_ms (measured on CLOCK_MONOTONIC) for room: FO_FOREVER
 * as fo_tpool_submit(), 0 as fo_tpool_try_submit().
 * @return 0, -EAGAIN (full and timeout_ms 0), -ETIMEDOUT (still full at the deadline), -EINVAL
 *         (pool or fn NULL, timeout_ms below FO_FOREVER), -ESHUTDOWN (destroy has begun).
 * Thread-safe; may be called from a task, where it waits like anywhere else (for at most
 * timeout_ms; space frees only while some worker is not doing the same).
 */
int fo_tpool_submit_timed(fo_tpool *pool, fo_tpool_fn fn, void *arg, int timeout_ms);

/**
 * Wait until the pool is idle: no task queued or running. Every task submitted before the call
 * has then finished, and so has every task submitted meanwhile; while other threads keep
 * submitting, the call keeps waiting (use a group to wait for a set of tasks of one's own).
 * The pool stays usable; the call may be repeated. Sleeps; never polls.
 * @return 0, -EINVAL (pool NULL), FO_ETASK (called from a task of this pool).
 * Thread-safe.
 */
int fo_tpool_wait(fo_tpool *pool);

/**
 * Drop every queued task that has not started. Running tasks are not interrupted. Groups and
 * waiters see dropped tasks as finished; blocked submitters find room.
 * @return the number of tasks dropped (>= 0), -EINVAL (pool NULL).
 * Thread-safe; may be called from a task.
 */
int fo_tpool_cancel(fo_tpool *pool);

/**
 * Stop a pool: refuse new tasks (-ESHUTDOWN), run every task already queued, join every
 * thread, free everything. To drop the queue instead, call fo_tpool_cancel() first.
 * @return 0 (also for pool NULL, which does nothing), FO_ETASK (called from a task of this
 *         pool; the pool is left untouched).
 * Not concurrent with any other call on the pool (see the top of this file).
 */
int fo_tpool_destroy(fo_tpool *pool);

/**
 * Create a group of tasks in a pool, to wait for them apart from the rest of the pool's work.
 * @return 0, -EINVAL (pool or group NULL), -ENOMEM, or a pthread_cond_init() error negated.
 * Thread-safe; may be called from a task.
 */
int fo_tpool_group_create(fo_tpool *pool, fo_tpool_group **group);

/**
 * Queue a task in a group's pool as a member of the group.
 * @param timeout_ms FO_FOREVER to wait for room as fo_tpool_submit() does (inline run from a
 *        task included), 0 to return at once as fo_tpool_try_submit() does, > 0 to wait at most
 *        that long as fo_tpool_submit_timed() does.
 * @return 0, -EAGAIN (full and timeout_ms 0), -ETIMEDOUT, -EINVAL (group or fn NULL, timeout_ms
 *         below FO_FOREVER), -ESHUTDOWN (destroy of the pool has begun).
 * Thread-safe; may be called from a task.
 */
int fo_tpool_group_submit(fo_tpool_group *group, fo_tpool_fn fn, void *arg, int timeout_ms);

/**
 * Wait until every task of the group has finished (or been cancelled). Repeatable.
 * @return 0, -EINVAL (group NULL), FO_ETASK (called from a task of the group's pool).
 * Thread-safe.
 */
int fo_tpool_group_wait(fo_tpool_group *group);

/**
 * Free a group with no unfinished task.
 * @return 0 (also for group NULL), -EBUSY (a task of the group is queued or running, or a
 *         thread is still in fo_tpool_group_wait(); the group is left untouched).
 * Not concurrent with other calls on the group. The pool must still exist.
 */
int fo_tpool_group_destroy(fo_tpool_group *group);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_TPOOL_H */
