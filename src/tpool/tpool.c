/* The thread pool: workers, the sleep and wake-up protocol, submit, wait, cancel, destroy.
 *
 * Tasks travel through a lock-free ring (tpool_internal.h). The mutex is taken only to go to sleep
 * or to wake someone, and a thread wakes another only when that one is known to be asleep, so on
 * a busy pool submitters and workers never touch it. A sleeping worker waits on a semaphore of
 * its own, not on a condition variable shared by all: the waker picks the worker from the list
 * of sleepers kept under the mutex (a submitter the newest, a worker passing a wake-up on the
 * oldest; see enum fo__whom) and posts it, and the woken worker runs without taking the mutex
 * again. Three counters carry the sleep decisions; they are read
 * without the mutex after a store they must be ordered with (the Dekker pattern: "I published
 * work, is anyone asleep?" against "I am going to sleep, is there work?"; one side always sees
 * the other):
 *   sleepers       workers on the list of sleepers (asleep, or about to be), that nobody has
 *                  promised to wake; written under the mutex;
 *   tokens         wake-ups promised but not yet taken: while one is outstanding a submitter
 *                  does not wake a second worker; the woken one gives its token back before it
 *                  looks for work (the one write without the mutex) and wakes the next if work
 *                  is left;
 *   space_waiters  submitters waiting for room, woken once half the queue is free; written
 *                  under the mutex.
 * There is no spinning before sleep: a worker that finds the ring empty goes to sleep at once,
 * which costs nothing on a board with one CPU and keeps an idle pool at zero CPU everywhere.
 * fo_tpool_wait() adds nothing to the submit path: the ring's tail already counts tasks queued,
 * workers count tasks finished or cancelled in `retired`, and the pool is idle when the two are
 * equal; a worker looks at the waiter count (idle_waiters) only after counting. */
#include "config.h"

#include "fanout/tpool.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "tpool/tpool_internal.h"

/* ------------------------------------------------------------------------------------------------
 * Small helpers
 */

int fo__tpool_is_worker(const fo_tpool *p) {
  pthread_t self = pthread_self();
  for (unsigned i = 0; i < p->nthreads; i++)
    if (pthread_equal(p->workers[i].tid, self))
      return 1;
  return 0;
}

static int stopping(fo_tpool *p) {
  return __atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE);
}

static void deadline_after(struct timespec *ts, int ms) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

/* ------------------------------------------------------------------------------------------------
 * Finishing tasks
 */

/* n more tasks finished or were dropped: wake fo_tpool_wait() callers if that made the pool idle.
 * The waiter registers before it compares the counters, and we compare after counting, so one
 * of us sees the other. */
static void retire(fo_tpool *p, size_t n) {
  size_t r = __atomic_add_fetch(&p->retired, n, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&p->idle_waiters, __ATOMIC_SEQ_CST) == 0)
    return;
  if (r != __atomic_load_n(&p->tail, __ATOMIC_SEQ_CST))
    return;
  pthread_mutex_lock(&p->lock);
  pthread_cond_broadcast(&p->idle_cv);
  pthread_mutex_unlock(&p->lock);
}

static void run(fo_tpool *p, const fo__task *t) {
  t->fn(t->arg);
  /* The group first, so that once fo_tpool_wait() returns every group is settled too. */
  if (t->group != NULL)
    fo__tpool_group_done(t->group, 1);
  retire(p, 1);
}

/* A slot was freed: wake waiting submitters once half the queue is free, not at every slot, so
 * a submitter that fills the queue sleeps once per half queue instead of once per task.
 * Consumers finish out of order, so the one that frees the slot a submitter waits for may come
 * after all the others: the depth is taken from the shared head, not from our own position, or
 * that last consumer would still see a full queue and nobody would wake the submitter. The head
 * is read after our seq_cst free and every claim before it was seq_cst, so it includes them;
 * the tail may be stale and the difference even negative, which errs towards waking. */
static void space_freed(fo_tpool *p, int locked) {
  if (__atomic_load_n(&p->space_waiters, __ATOMIC_SEQ_CST) == 0)
    return;
  intptr_t depth = (intptr_t)(__atomic_load_n(&p->tail, __ATOMIC_RELAXED) -
                              __atomic_load_n(&p->head, __ATOMIC_SEQ_CST));
  if (depth > (intptr_t)(p->mask + 1) / 2)
    return;
  if (!locked)
    pthread_mutex_lock(&p->lock);
  pthread_cond_broadcast(&p->space_cv);
  if (!locked)
    pthread_mutex_unlock(&p->lock);
}

/* locked: the caller holds p->lock (a worker about to sleep). */
static int pop(fo_tpool *p, fo__task *t, int locked) {
  if (!fo__ring_pop(p->slots, p->mask, &p->head, t))
    return 0;
  space_freed(p, locked);
  return 1;
}

/* ------------------------------------------------------------------------------------------------
 * Sleeping and waking workers
 */

/* The list of sleepers, under the lock: a worker joins at the newest end. */
static void sleeper_add(fo_tpool *p, fo__worker *w) {
  w->older = p->newest;
  w->newer = NULL;
  if (p->newest != NULL)
    p->newest->newer = w;
  else
    p->oldest = w;
  p->newest = w;
}

static void sleeper_remove(fo_tpool *p, fo__worker *w) {
  if (w->newer != NULL)
    w->newer->older = w->older;
  else
    p->newest = w->older;
  if (w->older != NULL)
    w->older->newer = w->newer;
  else
    p->oldest = w->newer;
}

/* Which sleeper a wake-up goes to. A submitter's wake-up starts work on an idle pool, where
 * latency counts: it goes to the newest sleeper, the worker that ran the task before, whose cache
 * is warm and which the scheduler usually starts at once on the submitter's CPU (the oldest is
 * often started on another, idle CPU, whose wake-up from halt made the submit-to-start tail). A
 * wake-up passed on by a woken worker adds parallelism for tasks queued behind: it goes to the
 * oldest sleeper, truly asleep. The newest has often not even reached its semaphore yet: woken,
 * it is back at the ring at once and passes a wake-up on to the next newest as soon as it sees
 * one more task queued, which the workers still awake take before that one gets there. Such a
 * chain keeps every worker cycling through the lock when tasks are short: with 8 workers on 2
 * CPUs running a million empty tasks, 4 wake-ups in 10 found nothing and the rate halved. */
enum fo__whom { FO__NEWEST, FO__OLDEST };

/* With the lock held: promise the wake-up to one sleeping worker, unless one is already on its
 * way (it will pass the wake-up on if there is more work than it can take). Returns the worker
 * the caller must then post, or NULL: one, never all, since the other workers are busy or have
 * nothing to do. The worker is off the list from now on and blocked in (or on its way to)
 * sem_wait() on its own semaphore, which keeps the post until it gets there, so posting late
 * loses nothing: the caller posts after unlocking when it can, so the woken worker never runs
 * into a lock still held. */
static fo__worker *promise_wake_locked(fo_tpool *p, enum fo__whom whom) {
  fo__worker *w = whom == FO__NEWEST ? p->newest : p->oldest;
  if (w == NULL || __atomic_load_n(&p->tokens, __ATOMIC_SEQ_CST) != 0)
    return NULL;
  sleeper_remove(p, w);
  __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&p->tokens, 1, __ATOMIC_SEQ_CST);
  p->wakeups++;
  return w;
}

static void post(fo__worker *w) {
  if (w != NULL)
    sem_post(&w->wake); /* cannot fail: the semaphore is valid and holds at most 1 */
}

/* After queueing a task. The ring's store that filled the slot is sequentially consistent, so
 * these loads cannot pass it: a worker that said it sleeps before we filled the slot is seen
 * here, and one that says so later finds the task. Sleepers is read before tokens because a
 * woken worker is off the sleeper count before it gives its token back. */
static void wake_for_work(fo_tpool *p) {
  if (__atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) == 0)
    return;
  if (__atomic_load_n(&p->tokens, __ATOMIC_SEQ_CST) != 0)
    return;
  pthread_mutex_lock(&p->lock);
  fo__worker *w = promise_wake_locked(p, FO__NEWEST);
  pthread_mutex_unlock(&p->lock);
  post(w);
}

/* The ring was empty: sleep until there is work (1, task in *t) or the pool stops (0). A worker
 * goes to sleep under the lock (on the list of sleepers, counted, then one more look at the
 * ring) and wakes without it: whoever posted its semaphore already took it off the list and
 * the count, so a woken worker with a task in hand runs it at once. */
static int park(fo_tpool *p, fo__worker *w, fo__task *t) {
  pthread_mutex_lock(&p->lock);
  for (;;) {
    sleeper_add(p, w);
    __atomic_add_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    /* Orders "I sleep" before "is there work?" (the other half of wake_for_work). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    int got = pop(p, t, 1);
    if (got || stopping(p)) {
      /* Still listed: only a holder of the lock takes a worker off, and we held it throughout. */
      sleeper_remove(p, w);
      __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
      pthread_mutex_unlock(&p->lock);
      return got;
    }
    p->parks++;
    pthread_mutex_unlock(&p->lock);
    /* Workers block every signal, so EINTR would come only from a debugger or a stop. */
    while (sem_wait(&w->wake) != 0 && errno == EINTR)
      ;
    /* The poster promised this wake-up with a token; give it back before looking for work, so
     * that a submitter which saw the token (and so woke nobody) queued its task before we look:
     * then we find that task, or pass the wake-up on below when it is still queued behind ours. */
    __atomic_sub_fetch(&p->tokens, 1, __ATOMIC_SEQ_CST);
    if (pop(p, t, 0)) {
      if (fo__ring_maybe_nonempty(p->slots, p->mask, &p->head) &&
          __atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) != 0) {
        pthread_mutex_lock(&p->lock);
        fo__worker *next = promise_wake_locked(p, FO__OLDEST);
        pthread_mutex_unlock(&p->lock);
        post(next);
      }
      return 1;
    }
    if (stopping(p))
      return 0;
    pthread_mutex_lock(&p->lock); /* woken for a task another worker took first: sleep again */
  }
}

static void name_thread(const fo_tpool *p, unsigned index) {
#ifdef HAVE_PTHREAD_SETNAME_NP
  /* Linux allows 15 characters: keep room for "-N" by cutting the prefix, not the number. */
  char digits[12], name[16];
  int nd = snprintf(digits, sizeof digits, "-%u", index);
  int keep = (int)sizeof name - 1 - nd;
  snprintf(name, sizeof name, "%.*s%s", keep, p->name, digits);
  (void)pthread_setname_np(pthread_self(), name); /* a name is a nicety: ignore failure */
#else
  (void)p;
  (void)index;
#endif
}

static void *worker_main(void *arg) {
  fo__worker *w = arg;
  fo_tpool *p = w->pool;
  name_thread(p, w->index);
  fo__task t = {NULL, NULL, NULL};
  while (pop(p, &t, 0) || park(p, w, &t))
    run(p, &t);
  return NULL;
}

/* ------------------------------------------------------------------------------------------------
 * Submitting
 */

/* The queue was full: wait for room until the deadline (NULL: forever). Returns with the task
 * queued and a worker woken (0), or with the task's group membership undone (-ETIMEDOUT,
 * -ESHUTDOWN, a pthread error). All of that happens before we stop counting as a waiter:
 * destroy waits only for the count to drop, so afterwards we must not touch the pool. */
static int push_wait(fo_tpool *p, const fo__task *t, const struct timespec *deadline) {
  int rc = 0, expired = 0;
  pthread_mutex_lock(&p->lock);
  __atomic_add_fetch(&p->space_waiters, 1, __ATOMIC_SEQ_CST);
  p->full_waits++;
  for (;;) {
    /* Orders "I wait for room" before "is there room?" (the other half of space_freed). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (stopping(p)) {
      rc = -ESHUTDOWN;
      break;
    }
    if (fo__ring_push(p->slots, p->mask, &p->tail, t))
      break;
    if (expired) {
      rc = -ETIMEDOUT;
      break;
    }
    int e = deadline != NULL ? pthread_cond_timedwait(&p->space_cv, &p->lock, deadline)
                             : pthread_cond_wait(&p->space_cv, &p->lock);
    if (e == ETIMEDOUT)
      expired = 1; /* one last look: room may have come with the deadline */
    else if (e != 0) {
      rc = -e;
      break;
    }
  }
  if (rc == 0) {
    /* Posted under the lock: once space_waiters drops, destroy may free the pool. */
    post(promise_wake_locked(p, FO__NEWEST));
  } else if (t->group != NULL) {
    fo__tpool_group_done_locked(t->group, 1);
  }
  if (__atomic_sub_fetch(&p->space_waiters, 1, __ATOMIC_SEQ_CST) == 0 && stopping(p))
    pthread_cond_broadcast(&p->idle_cv);
  pthread_mutex_unlock(&p->lock);
  return rc;
}

/* A worker of this pool must not wait for room: if every worker did, no one would make it. It
 * runs the task itself instead, which also slows its own submitting down as waiting would. */
static void run_inline(fo_tpool *p, const fo__task *t) {
  __atomic_add_fetch(&p->inline_runs, 1, __ATOMIC_RELAXED);
  t->fn(t->arg);
  if (t->group != NULL)
    fo__tpool_group_done(t->group, 1);
}

int fo__tpool_submit(fo_tpool *p, fo_tpool_group *g, fo_tpool_fn fn, void *arg, enum fo__wait how,
                     int timeout_ms) {
  if (stopping(p))
    return -ESHUTDOWN;
  fo__task t = {fn, arg, g};
  if (g != NULL)
    fo__tpool_group_add(g);
  if (fo__ring_push(p->slots, p->mask, &p->tail, &t)) {
    wake_for_work(p);
    return 0;
  }
  if (how == FO__WAIT_FOREVER && fo__tpool_is_worker(p)) {
    run_inline(p, &t);
    return 0;
  }
  if (how == FO__WAIT_FOREVER)
    return push_wait(p, &t, NULL);
  if (how == FO__WAIT_TIMED) {
    struct timespec deadline;
    deadline_after(&deadline, timeout_ms);
    return push_wait(p, &t, &deadline);
  }
  if (g != NULL)
    fo__tpool_group_done(g, 1);
  return -EAGAIN;
}

int fo_tpool_submit(fo_tpool *pool, fo_tpool_fn fn, void *arg) {
  if (pool == NULL || fn == NULL)
    return -EINVAL;
  return fo__tpool_submit(pool, NULL, fn, arg, FO__WAIT_FOREVER, 0);
}

int fo_tpool_try_submit(fo_tpool *pool, fo_tpool_fn fn, void *arg) {
  if (pool == NULL || fn == NULL)
    return -EINVAL;
  return fo__tpool_submit(pool, NULL, fn, arg, FO__WAIT_NONE, 0);
}

int fo_tpool_submit_timed(fo_tpool *pool, fo_tpool_fn fn, void *arg, int timeout_ms) {
  if (pool == NULL || fn == NULL || timeout_ms < FO_FOREVER)
    return -EINVAL;
  return fo__tpool_submit(pool, NULL, fn, arg, fo__tpool_wait_of(timeout_ms), timeout_ms);
}

/* ------------------------------------------------------------------------------------------------
 * Waiting, cancelling
 */

int fo_tpool_wait(fo_tpool *pool) {
  if (pool == NULL)
    return -EINVAL;
  if (fo__tpool_is_worker(pool))
    return FO_ETASK;
  pthread_mutex_lock(&pool->lock);
  __atomic_add_fetch(&pool->idle_waiters, 1, __ATOMIC_SEQ_CST);
  /* retired first: every task it counts was queued before, so tail read after it is at least
   * as large, and equality means nothing queued is unfinished. */
  while (__atomic_load_n(&pool->retired, __ATOMIC_SEQ_CST) !=
         __atomic_load_n(&pool->tail, __ATOMIC_SEQ_CST))
    pthread_cond_wait(&pool->idle_cv, &pool->lock);
  __atomic_sub_fetch(&pool->idle_waiters, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&pool->lock);
  return 0;
}

int fo_tpool_cancel(fo_tpool *pool) {
  if (pool == NULL)
    return -EINVAL;
  /* At most one queue's worth, so a submitter that keeps refilling cannot keep us here. */
  size_t n = 0, capacity = pool->mask + 1;
  fo__task t;
  while (n < capacity && fo__ring_pop(pool->slots, pool->mask, &pool->head, &t)) {
    if (t.group != NULL)
      fo__tpool_group_done(t.group, 1);
    n++;
  }
  if (n == 0)
    return 0;
  retire(pool, n);
  if (__atomic_load_n(&pool->space_waiters, __ATOMIC_SEQ_CST) != 0) {
    pthread_mutex_lock(&pool->lock);
    pthread_cond_broadcast(&pool->space_cv);
    pthread_mutex_unlock(&pool->lock);
  }
  return (int)n;
}

/* ------------------------------------------------------------------------------------------------
 * Creating and destroying
 */

static int sync_init(fo_tpool *p) {
  pthread_condattr_t mono;
  int rc = pthread_condattr_init(&mono);
  if (rc != 0)
    return -rc;
  /* Timed submits measure their deadline on the monotonic clock: a clock step must not cut a
   * wait short or stretch it. */
  rc = pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
  if (rc == 0 && (rc = pthread_mutex_init(&p->lock, NULL)) == 0) {
    if ((rc = pthread_cond_init(&p->space_cv, &mono)) == 0) {
      if ((rc = pthread_cond_init(&p->idle_cv, NULL)) == 0) {
        pthread_condattr_destroy(&mono);
        return 0;
      }
      pthread_cond_destroy(&p->space_cv);
    }
    pthread_mutex_destroy(&p->lock);
  }
  pthread_condattr_destroy(&mono);
  return -rc;
}

/* After stop_workers(): each started worker's semaphore goes with the rest. */
static void sync_fini(fo_tpool *p) {
  for (unsigned i = 0; i < p->nthreads; i++)
    sem_destroy(&p->workers[i].wake);
  pthread_cond_destroy(&p->idle_cv);
  pthread_cond_destroy(&p->space_cv);
  pthread_mutex_destroy(&p->lock);
}

/* Tell every started worker to finish the queue and exit, and join them. */
static void stop_workers(fo_tpool *p) {
  pthread_mutex_lock(&p->lock);
  __atomic_store_n(&p->stopping, 1, __ATOMIC_RELEASE);
  /* Every sleeper, each with a token as any woken worker has; the ones awake see stopping. */
  for (fo__worker *w; (w = p->newest) != NULL;) {
    sleeper_remove(p, w);
    __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&p->tokens, 1, __ATOMIC_SEQ_CST);
    post(w);
  }
  pthread_cond_broadcast(&p->space_cv);
  while (__atomic_load_n(&p->space_waiters, __ATOMIC_SEQ_CST) != 0)
    pthread_cond_wait(&p->idle_cv, &p->lock);
  pthread_mutex_unlock(&p->lock);
  for (unsigned i = 0; i < p->nthreads; i++)
    pthread_join(p->workers[i].tid, NULL);
}

static int default_spawn(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                         void *arg, void *ctx) {
  (void)ctx;
  return fo__fault_at(FO__FAULT_THREAD) ? errno : pthread_create(thread, attr, start, arg);
}

/* Start every worker with all signals blocked: a new thread inherits its creator's mask, so
 * the workers never run a signal handler and never take a signal meant for the program. */
static int start_workers(fo_tpool *p, unsigned threads, fo__tpool_spawn_fn spawn, void *ctx) {
  pthread_attr_t attr;
  int rc = pthread_attr_init(&attr);
  if (rc != 0)
    return -rc;
  rc = pthread_attr_setstacksize(&attr, p->stack_size);
  sigset_t all, old;
  sigfillset(&all);
  if (rc == 0 && (rc = pthread_sigmask(SIG_SETMASK, &all, &old)) == 0) {
    for (unsigned i = 0; i < threads && rc == 0; i++) {
      fo__worker *w = &p->workers[i];
      w->pool = p;
      w->index = i;
      if (sem_init(&w->wake, 0, 0) != 0) {
        rc = errno;
        break;
      }
      rc = spawn(&w->tid, &attr, worker_main, w, ctx);
      if (rc == 0)
        p->nthreads++;
      else
        sem_destroy(&w->wake);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  pthread_attr_destroy(&attr);
  return -rc;
}

static size_t round_up(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}

/* The stack size asked for, made acceptable to pthread_attr_setstacksize() everywhere. */
static size_t stack_bytes(size_t asked) {
  size_t n = asked != 0 ? asked : FO_TPOOL_STACK_DEFAULT;
  size_t min = PTHREAD_STACK_MIN;
  long page = sysconf(_SC_PAGESIZE);
  if (n < min)
    n = min;
  if (page > 0 && n <= SIZE_MAX - (size_t)page)
    n = round_up(n, (size_t)page);
  return n;
}

int fo_tpool_opts_check(const fo_tpool_opts *opts, fo_opt_error *why) {
  if (opts == NULL)
    return 0;
  if (!fo__opt_urange("threads", opts->threads, FO_TPOOL_THREADS_MAX, why) ||
      !fo__opt_urange("queue", opts->queue, FO_TPOOL_QUEUE_MAX, why) ||
      !fo__opt_urange("stack_size", opts->stack_size, FO_TPOOL_STACK_MAX, why))
    return -EINVAL;
  return 0;
}

int fo__tpool_create_with(fo_tpool **pool, const fo_tpool_opts *opts, fo__tpool_spawn_fn spawn,
                          void *ctx) {
  static const fo_tpool_opts defaults = {0};
  if (pool == NULL || fo_tpool_opts_check(opts, NULL) != 0)
    return -EINVAL;
  const fo_tpool_opts *o = opts != NULL ? opts : &defaults;
  unsigned threads = o->threads != 0 ? o->threads : FO_TPOOL_THREADS_DEFAULT;
  unsigned queue = o->queue != 0 ? o->queue : FO_TPOOL_QUEUE_DEFAULT;
  /* At least two slots: with one, a slot's "filled" and "free again" sequence numbers would be
   * the same (pos + 1) and the ring could not tell a full queue from an empty one. */
  size_t capacity = 2;
  while (capacity < queue)
    capacity <<= 1;

  /* One block: the pool, the worker records and the ring. The pool is aligned to a cache line
   * so its padding keeps the submitters' and the workers' counters on separate lines. */
  size_t pool_bytes = round_up(sizeof(fo_tpool), FO__CACHELINE);
  size_t worker_bytes = round_up(threads * sizeof(fo__worker), FO__CACHELINE);
  void *raw =
      fo__malloc(FO__CACHELINE - 1 + pool_bytes + worker_bytes + capacity * sizeof(fo__slot));
  if (raw == NULL)
    return -ENOMEM;
  fo_tpool *p =
      (fo_tpool *)(((uintptr_t)raw + FO__CACHELINE - 1) & ~(uintptr_t)(FO__CACHELINE - 1));
  memset(p, 0, pool_bytes + worker_bytes);
  p->raw = raw;
  p->workers = (fo__worker *)(void *)((char *)p + pool_bytes);
  p->slots = (fo__slot *)(void *)((char *)p + pool_bytes + worker_bytes);
  p->mask = capacity - 1;
  p->stack_size = stack_bytes(o->stack_size);
  snprintf(p->name, sizeof p->name, "%s",
           o->name != NULL && o->name[0] != '\0' ? o->name : "fo-tpool");
  fo__ring_init(p->slots, capacity);

  int rc = sync_init(p);
  if (rc != 0) {
    fo__free(raw);
    return rc;
  }
  rc = start_workers(p, threads, spawn != NULL ? spawn : default_spawn, ctx);
  if (rc != 0) {
    stop_workers(p);
    sync_fini(p);
    fo__free(raw);
    return rc;
  }
  *pool = p;
  return 0;
}

int fo_tpool_create(fo_tpool **pool, const fo_tpool_opts *opts) {
  return fo__tpool_create_with(pool, opts, NULL, NULL);
}

int fo_tpool_destroy(fo_tpool *pool) {
  if (pool == NULL)
    return 0;
  if (fo__tpool_is_worker(pool))
    return FO_ETASK;
  stop_workers(pool);
  sync_fini(pool);
  fo__free(pool->raw);
  return 0;
}

void fo__tpool_get_stats(fo_tpool *pool, fo__tpool_stats *stats) {
  pthread_mutex_lock(&pool->lock);
  stats->threads = pool->nthreads;
  stats->capacity = (unsigned)(pool->mask + 1);
  stats->stack_size = pool->stack_size;
  stats->parks = pool->parks;
  stats->wakeups = pool->wakeups;
  stats->full_waits = pool->full_waits;
  stats->inline_runs = __atomic_load_n(&pool->inline_runs, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&pool->lock);
}
