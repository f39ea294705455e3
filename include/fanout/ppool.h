/**
 * @file ppool.h
 * Processes: run a function in a child process (fo_proc_*), and a pool of worker processes that
 * maps a function over an array (fo_ppool_*), with results in input order.
 *
 * How a map moves data. The pool owns one shared-memory arena, mapped before the workers are
 * forked, and two small message queues. A map copies the context blob into the arena, then cuts
 * the inputs into chunks: each chunk's inputs are copied into a free slot of the arena and a
 * descriptor ("slot 3: items 4096-4351") goes on the work queue. A worker takes a descriptor,
 * claims the slot in shared memory, runs the function over the chunk writing outputs in place,
 * marks the slot done and sends a "done" message; the parent copies the outputs to their place
 * and reuses the slot. Inputs and outputs larger than the arena flow through it slot by slot, so
 * the arena's size bounds memory, not the map's size.
 *
 * Failures. The function names an item's own failure by returning a code; the item is reported
 * with it and the map goes on. A worker that dies in a chunk (a signal, exit() in the function)
 * is seen at once: each worker holds the write end of a pipe whose read end the parent polls, so
 * the kernel closing it is the news. The item it was running is the culprit: it is run again on
 * another worker up to max_attempts times in all, then reported failed; the items of the chunk it
 * had finished are kept and the rest are run as usual. A dead worker is replaced at once. With
 * FO_PPOOL_FAIL_FAST the first failure ends the map instead. The map returns with a report of
 * every item it could not produce and why.
 *
 * Threads and processes. A pool belongs to the process that created it: map and destroy must be
 * called there, by one thread at a time (a pool is not thread-safe; use one pool per thread).
 * The pool notices the cheap cases of breaking this rule: a second map while one runs returns
 * -EBUSY, and destroy while a map runs stops the program with a message (abort()) rather than
 * free memory the map is using.
 * Workers are forked from the thread that calls create or map, and on the linux port they die
 * with that thread (PR_SET_PDEATHSIG), so use a pool from a thread that outlives it. Workers
 * never outlive the process that created the pool: on the linux port the kernel kills them with
 * it; on the posix port they look between items and while idle, within a quarter of a second
 * (see ports/port.h), so there a worker stuck inside one item outlives its parent until the item
 * returns.
 * The calling process must not ignore SIGCHLD or reap children it did not fork (waitpid(-1)):
 * the pool reaps its workers itself to learn why they died.
 * Workers inherit what a fork() passes on: open descriptors, memory as it was at the fork.
 * Memory written by the parent after a worker was forked is invisible to it, and a worker forked
 * later to replace a dead one sees more than the others: pass what the function needs in the
 * context blob (copied into the arena for every map) or in shared memory mapped before
 * fo_ppool_create; the pool never passes the parent's pointers on as they are. The worker function
 * runs in a child of a process that may have had threads, so it must not rely on locks another
 * thread of the parent may have held at the fork (malloc is safe with glibc and musl; stdio output
 * should be flushed by the function itself, since workers leave with _exit).
 */
#ifndef FANOUT_PPOOL_H
#define FANOUT_PPOOL_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "fanout/fanout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * One child process
 */

/** A child process running one function. */
typedef struct fo_proc fo_proc;

/** The function a child runs; its return value (0-255) becomes the child's exit code. */
typedef int (*fo_proc_fn)(void *arg);

/** fo_proc_spawn flag: kill the child when the parent dies (linux port only: -ENOTSUP on posix,
 * which has no way to do it for a child running arbitrary code). */
#define FO_PROC_DIE_WITH_PARENT 1u

/** How a child ended. */
typedef struct fo_proc_status {
  int signal; /**< the signal that ended it, or 0 when it exited */
  int code;   /**< its exit code when signal is 0 */
} fo_proc_status;

/**
 * Fork a child that runs fn(arg) and leaves with _exit(its return value). arg is the parent's
 * pointer, valid in the child because the child is a copy of the parent.
 * @param flags 0 or FO_PROC_DIE_WITH_PARENT.
 * @return 0, -EINVAL (NULL proc or fn, unknown flag), -ENOTSUP (FO_PROC_DIE_WITH_PARENT on a port
 *         without it), -ENOMEM, -EAGAIN (process limit), -EMFILE.
 */
int fo_proc_spawn(fo_proc **proc, fo_proc_fn fn, void *arg, unsigned flags);

/**
 * Wait for the child to end and reap it. Once reaped, later calls return the same status at once.
 * @param timeout_ms FO_FOREVER (-1), 0 to look without waiting, or milliseconds.
 * @param status receives how it ended (may be NULL).
 * @return 0, -EINVAL (NULL proc, timeout_ms below FO_FOREVER), -EAGAIN (timeout_ms 0 and still
 *         running), -ETIMEDOUT (waited timeout_ms and still running),
 *         -ECHILD (called from another process than the one that spawned it, or the child was
 *         reaped by someone else).
 */
int fo_proc_join(fo_proc *proc, int timeout_ms, fo_proc_status *status);

/** Send sig to the child. @return 0, -EINVAL (NULL proc), -ESRCH (already reaped). */
int fo_proc_kill(fo_proc *proc, int sig);

/** The child's process id; 0 for NULL. */
pid_t fo_proc_pid(const fo_proc *proc);

/** Release the handle. A child still running is killed (SIGKILL) and reaped first, so no zombie
 * is left; in another process than the spawner only the handle is released. NULL is a no-op. */
void fo_proc_destroy(fo_proc *proc);

/* ---------------------------------------------------------------------------------------------
 * Process pool
 */

/** Largest number of workers: the parent polls one descriptor per worker. */
#ifndef FO_PPOOL_WORKERS_MAX
#define FO_PPOOL_WORKERS_MAX 256
#endif

/** Default arena size. 2 MiB gives a two-core board four slots of 32 Ki items of 8 bytes in and
 * 8 out, which keeps the queue messages and wake-ups around each chunk to a few percent of a map
 * of tiny items. */
#ifndef FO_PPOOL_ARENA_DEFAULT
#define FO_PPOOL_ARENA_DEFAULT ((size_t)2 << 20)
#endif

/** Smallest arena accepted: its bookkeeping plus some room for data. */
#define FO_PPOOL_ARENA_MIN ((size_t)64 << 10)

/** What fo_ppool_job_init() puts in max_attempts: an item whose worker dies is started three
 * times in all before it is reported failed. */
#ifndef FO_PPOOL_ATTEMPTS
#define FO_PPOOL_ATTEMPTS 3
#endif

/** What fo_ppool_job_init() puts in progress_ms: the least time between two progress calls. */
#ifndef FO_PPOOL_PROGRESS_MS
#define FO_PPOOL_PROGRESS_MS 100
#endif

/** A pool of worker processes. */
typedef struct fo_ppool fo_ppool;

/**
 * The function a worker runs for each item: read the item at in (the job's in_size bytes), write
 * its result at out (out_size bytes). ctx is the worker's view of the job's context (NULL when
 * the job has none); index is the item's place in the map, 0 to count - 1. When in_size or
 * out_size is 0 the pointer is valid but points to nothing. None of the pointers is aligned
 * beyond a byte: copy rather than cast.
 * @return 0 when the item is produced; any other value reports the item failed with cause
 *         FO_PPOOL_ERROR and that code (a negative errno or a fanout code keeps the report
 *         readable with fo_strerror). An item that returned an error is not run again.
 */
typedef int (*fo_ppool_fn)(const void *ctx, size_t index, const void *in, void *out);

/** Progress of a map, called in the parent (the thread running fo_ppool_map, from its wait
 * loop): done items (produced or reported failed) of total. Called at most once per progress_ms,
 * and once more at the end with the final count. It must not call fo_ppool_map or
 * fo_ppool_destroy on the pool (refused with -EBUSY, and a stop with a message, respectively). */
typedef void (*fo_ppool_progress_fn)(void *arg, size_t done, size_t total);

/** Pool options; a zeroed struct (or NULL) means every default. */
typedef struct fo_ppool_opts {
  unsigned workers;  /**< worker processes, 0 to FO_PPOOL_WORKERS_MAX; 0 = fo_cpu_count() */
  size_t arena_size; /**< bytes of shared memory for context, inputs and outputs in flight:
                          FO_PPOOL_ARENA_MIN or more; 0 = FO_PPOOL_ARENA_DEFAULT */
} fo_ppool_opts;

/** fo_ppool_job flag: stop the map at the first item that fails (see fo_ppool_map). */
#define FO_PPOOL_FAIL_FAST 1u

/**
 * One map: out[i] = fn(ctx, i, in[i]) for i in [0, count). Start from fo_ppool_job_init() and
 * set what you need: a zeroed struct is refused (max_attempts 0, and a map timeout of 0 means
 * "do not wait").
 */
typedef struct fo_ppool_job {
  /** The function the workers run (required). */
  fo_ppool_fn fn;
  /** The context, copied into the arena for each map, or NULL. */
  const void *ctx;
  /** Its bytes: > 0 with a context, 0 without (no pointer is passed on as it is). */
  size_t ctx_size;
  /** count inputs of in_size bytes (may be NULL when there is nothing to read). */
  const void *in;
  size_t in_size;
  /** count outputs of out_size bytes; may be in itself when the sizes match, else must not
   * overlap it. */
  void *out;
  size_t out_size;
  /** Items in the map. */
  size_t count;
  /** Items per chunk; 0 = chosen as the map runs (see fo_ppool_map). */
  size_t chunk;
  /** Longest one item may run: FO_FOREVER, or 1 to INT_MAX ms. */
  int item_timeout_ms;
  /** Longest the whole map may run: FO_FOREVER, 0 (do not wait: run nothing, -EAGAIN), or ms. */
  int timeout_ms;
  /** Times an item is started before its worker's death is final: 1 (no retry) or more. */
  unsigned max_attempts;
  /** 0 or FO_PPOOL_FAIL_FAST (which makes an item's first failure final). */
  unsigned flags;
  /** NULL, or called in the parent as the map runs. */
  fo_ppool_progress_fn progress;
  /** Passed to progress untouched. */
  void *progress_arg;
  /** Least time between two progress calls: 1 to INT_MAX ms (checked only with progress). */
  int progress_ms;
} fo_ppool_job;

/** Why an item failed. */
typedef enum fo_ppool_cause {
  FO_PPOOL_SIGNAL = 1, /**< its worker was killed by a signal (code: the signal) */
  FO_PPOOL_EXIT = 2,   /**< its worker exited, e.g. exit() in the function (code: exit status, or -1
                            when SIGCHLD set to SIG_IGN or another waitpid took the status) */
  FO_PPOOL_TIMEOUT = 3, /**< it was still running at its deadline (the item's, or the map's) and
                             its worker was killed */
  FO_PPOOL_NOT_RUN = 4, /**< the map ended before it ran (its deadline passed, fail-fast stopped
                             it, or no worker could be started) */
  FO_PPOOL_ERROR = 5    /**< the function returned nonzero (code: what it returned) */
} fo_ppool_cause;

/** A run of failed items with one cause. */
typedef struct fo_ppool_failure {
  size_t first;      /**< index of the first item */
  size_t count;      /**< items in the run (1 except for FO_PPOOL_NOT_RUN) */
  int cause;         /**< an fo_ppool_cause */
  int code;          /**< the signal, exit status or function's code; 0 for the other causes */
  unsigned attempts; /**< times the item was started */
} fo_ppool_failure;

/** What a map reports: the caller provides the failure array. */
typedef struct fo_ppool_report {
  fo_ppool_failure *failures; /**< in: room for cap runs (may be NULL with cap 0) */
  size_t cap;                 /**< in: its length */
  size_t nfailures;           /**< out: runs recorded, at most cap, sorted by first */
  size_t failed;              /**< out: items that failed in all, recorded or not */
  unsigned deaths;            /**< out: workers that died or were killed during the map */
} fo_ppool_report;

/**
 * Check pool options without creating anything: the rules fo_ppool_create applies.
 * @param why may be NULL; on -EINVAL receives the field ("workers", "arena_size"), the range it
 *            accepts and the value given.
 * @return 0 (NULL opts included), -EINVAL (workers above FO_PPOOL_WORKERS_MAX, arena_size
 *         nonzero and below FO_PPOOL_ARENA_MIN).
 */
int fo_ppool_opts_check(const fo_ppool_opts *opts, fo_opt_error *why);

/**
 * Start a pool: map the arena, create the queues, fork the workers. Workers wait on the work
 * queue using no CPU. The shared objects have no name anywhere (memfd or anonymous mapping,
 * queues unlinked at creation), so nothing is left in /dev/shm or /dev/mqueue whatever happens,
 * but for a SIGKILL landing between a queue's creation and its unlink, two system calls apart
 * (linux port): that queue stays in /dev/mqueue as "fanout-mq-<pid of the creator>-...".
 * The two queues hold 10 messages of a few dozen bytes each: within the default limits.
 * @return 0, -EINVAL (NULL pool, or options fo_ppool_opts_check refuses), -ENOMEM (also
 *         arena_size above the machine's physical memory, refused before anything is reserved),
 *         -ENOSPC (no room for the arena), FO_EMQLIMIT, FO_EMQCOUNT, -EMFILE, -EAGAIN (process
 *         limit reached while forking).
 *         A failed create leaves no process, descriptor or allocation behind.
 */
int fo_ppool_create(fo_ppool **pool, const fo_ppool_opts *opts);

/**
 * Stop every worker (SIGKILL: they hold nothing of their own between maps) and reap it, then
 * release the arena and the queues. No zombie is left. In a process other than the creator (a
 * child that inherited the handle), only this process's copy is released. NULL is a no-op.
 * Called while a map runs on the pool (from another thread, or from a progress callback) it
 * writes "fanout: fo_ppool_destroy while a map runs on the pool ..." to stderr and calls abort():
 * carrying on would free what the map is using.
 */
void fo_ppool_destroy(fo_ppool *pool);

/** The number of workers; 0 for NULL. */
unsigned fo_ppool_workers(const fo_ppool *pool);

/** The process id of worker i (0 <= i < fo_ppool_workers()), or 0 (NULL pool, i out of range, or
 * no worker in that place right now). Workers that die are replaced under new ids. */
pid_t fo_ppool_worker_pid(const fo_ppool *pool, unsigned i);

/** Fill job with the defaults: everything zero or NULL but item_timeout_ms and timeout_ms
 * (FO_FOREVER), max_attempts (FO_PPOOL_ATTEMPTS) and progress_ms (FO_PPOOL_PROGRESS_MS).
 * NULL is a no-op. */
void fo_ppool_job_init(fo_ppool_job *job);

/**
 * Check a job against a pool without running it: the rules fo_ppool_map applies.
 * @param why may be NULL. On -EINVAL it receives the field at fault as spelled in fo_ppool_job
 *            and the range it accepts (for a pointer: "fn", "ctx", "in", "out", with min, max and
 *            value 0). On FO_ETOOBIG: field "arena_size", min the smallest arena that would hold
 *            the context and one item, max LLONG_MAX, value the pool's arena size.
 * @return 0, -EINVAL (NULL pool, job or fn; ctx and ctx_size not both set or both unset; NULL in
 *         or out with a nonzero size and count; overlapping in and out; sizes that overflow;
 *         item_timeout_ms, timeout_ms, max_attempts, flags or progress_ms out of range),
 *         FO_ETOOBIG (the context and one item do not fit in the pool's arena).
 */
int fo_ppool_job_check(const fo_ppool *pool, const fo_ppool_job *job, fo_opt_error *why);

/**
 * Run a job: out[i] = fn(ctx, i, in[i]) for every item, on the workers; outputs land in input
 * order.
 *
 * The context: ctx_size bytes at ctx are copied into the arena for each map and fn receives the
 * copy. A pointer is never passed on as it is: memory the parent allocated after the pool was
 * created does not exist in workers forked before it, but does in workers forked later to replace
 * dead ones, so such a pointer would crash some workers and not others and could end in a map
 * that looks successful. Pointers inside the context are the caller's to keep valid: point them
 * only at data that existed before fo_ppool_create (static data, or shared memory mapped first).
 *
 * Chunks: with chunk 0 the size is chosen per chunk. Chunks start large and shrink as the map
 * nears its end (guided scheduling: a chunk is about the remaining items over twice the
 * workers), so uneven items still finish together; they never shrink below what a worker runs
 * in about half a millisecond (measured as the map runs, remembered for the next map of the same
 * function), so tiny items cost little beyond the copies. A chunk never exceeds what one slot
 * of the arena holds: about the arena over (workers + 2), divided by in_size + out_size.
 *
 * Failures: an item fails when fn returns nonzero (FO_PPOOL_ERROR, not retried), when its
 * worker dies in it max_attempts times (FO_PPOOL_SIGNAL or FO_PPOOL_EXIT: the item is started
 * again on another worker until then), or when it runs past item_timeout_ms (its worker is
 * killed: FO_PPOOL_TIMEOUT, not retried). With FO_PPOOL_FAIL_FAST the first failure of an item,
 * of any cause and at its first attempt, ends the map: nothing more is started, the items other
 * workers are running finish (or reach their item deadline), and every item not produced is
 * reported FO_PPOOL_NOT_RUN; a worker killed from outside counts as its item's failure too.
 * With timeout_ms, the map returns by then: the workers still busy are killed and replaced, and
 * every item not produced is reported.
 *
 * Outputs of failed items are unspecified (a worker may have written part of one).
 *
 * @param report may be NULL. Filled in on every return but -EINVAL, -EBUSY, FO_ETASK and
 *        FO_ETOOBIG.
 * @return 0 (every item produced), FO_EPARTIAL (some items failed: the report says which and
 *         why), -ETIMEDOUT (the map's deadline passed; the report lists what was not produced),
 *         -EAGAIN (timeout_ms 0 with count > 0: every item reported FO_PPOOL_NOT_RUN),
 *         -EINVAL and FO_ETOOBIG (the job fo_ppool_job_check refuses), -EBUSY (a map already
 *         runs on this pool: from another thread, or from the progress callback), FO_ETASK
 *         (called in another process than the pool's creator, e.g. from a worker function),
 *         FO_EWORKER (workers kept dying while they held no item, more than four deaths per
 *         worker: they cannot even start), or the negative errno of fork() when no worker
 *         could be started (the remaining items are reported FO_PPOOL_NOT_RUN).
 * Allocates nothing.
 */
int fo_ppool_map(fo_ppool *pool, const fo_ppool_job *job, fo_ppool_report *report);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_PPOOL_H */
