/* Calls: a job is one set of items on the fetcher's workers. fo_fetch_submit() starts one and
 * returns; fo_fetch_job_wait(), _cancel(), _fd(), _take() and _free() follow it from the
 * caller's side. fo_fetch_requests(), fo_fetch_many() and fo_fetch_one() are submit, wait and
 * free.
 *
 * A job queues min(n, threads) worker tasks on the fetcher's pool, each running the engine
 * (fetch_engine.c) over its own copy of the job's fo__work: claim() hands out item indices in
 * order (an atomic flag per item), done() reports a final result. Where HTTP/2 would multiplex
 * them, a host's https items go to the worker that claimed the first of them (host groups). Each result is written only by the worker that
 * claimed its index and read by the caller after done() counted it under the job's mutex, which
 * orders the two: results need no lock of their own.
 *
 * Completions. done() calls the job's callback (on the worker), then, under the mutex, counts
 * the item and puts its index on a ring of n slots that fo_fetch_job_take() empties on the
 * caller's thread. The descriptor of fo_fetch_job_fd() is the read end of a pipe made at its
 * first call, holding one byte exactly while the ring is not empty (written when it stops being
 * empty, read back when take() empties it), so poll() sees it readable while completions wait.
 *
 * The end. A job is over when every item is done and every worker task has ended or was dropped
 * from the pool's queue (fo_tpool_cancel() on a shared pool). A worker that ends while others
 * still run leaves its unclaimed items to them; the last to end (or, when tasks were dropped,
 * the wait that finds them gone) fails the items nobody claimed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* Host groups of https items, each run by one worker so that HTTP/2 carries a host's transfers
 * over one connection. Hosts that share a group share a worker, nothing else. */
#define FO__JOB_GROUPS 64

struct fo_fetch_job {
  fo_fetcher *f;
  const fo_fetch_req *reqs;
  const char *const *urls; /* fo_fetch_many(): requests are made from these */
  const char *const *etags;
  size_t n;
  fo_fetch_result *results;
  fo_fetch_done_fn done;
  void *done_arg;
  fo__work work;
  unsigned char *claimed;     /* atomic, n of them: the item was handed to a worker */
  unsigned char *group;       /* n of them, or NULL: the host group of an https item */
  int owner[FO__JOB_GROUPS];  /* atomic: the worker (its index in ws) that took a group's first
                                 item; -1 */
  struct fo__jw *ws;          /* one per worker task queued */
  int cancel;                 /* atomic: fo_fetch_job_cancel(job, FO_FETCH_JOB_ALL) */
  unsigned char *item_cancel; /* atomic, n of them */
  fo_tpool_group *g;
  unsigned workers;           /* worker tasks queued */
  /* -- under mu */
  pthread_mutex_t mu;
  pthread_cond_t cv;          /* CLOCK_MONOTONIC: a change of ndone or ended */
  size_t ndone;               /* items with a final result */
  unsigned ended;             /* worker tasks that ran and returned */
  unsigned no_handle;         /* of them, those that could not get an easy handle */
  size_t *ring;               /* done, not yet taken: ring[(head + k) % n] for k < ready */
  size_t head, ready;
  int rfd, wfd;               /* the pipe of fo_fetch_job_fd(); -1 until then */
};

/* ------------------------------------------------------------------ the engine's side */

/* What one worker task claims through: its own copy of the job's fo__work (call points here),
 * and how far its scan has gone. Its index in the job's ws[] names it as a group's owner. */
typedef struct fo__jw {
  fo__work work;
  fo_fetch_job *j;
  size_t pos;              /* items before this one are taken or another worker's */
} fo__jw;

#define NO_GROUP 0xffu

static int take(fo_fetch_job *j, size_t i) {
  unsigned char no = 0;
  return __atomic_compare_exchange_n(&j->claimed[i], &no, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED);
}

/* Whether worker `me` may run item i: an item without a group, or one whose group is this
 * worker's, or no worker's yet (it becomes this one's). A group's owner claims until none of its
 * items is left, so an item it leaves to its owner is never left behind. */
static int mine(fo_fetch_job *j, size_t i, int me) {
  if (j->group == NULL || j->group[i] == NO_GROUP)
    return 1;
  int *o = &j->owner[j->group[i]];
  int none = -1;
  return __atomic_compare_exchange_n(o, &none, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
         none == me;
}

/* The next item for worker w, in order; the scan only goes forward. */
static size_t next_item(fo__jw *w) {
  fo_fetch_job *j = w->j;
  int me = (int)(w - j->ws);
  for (; w->pos < j->n; w->pos++)
    if (!__atomic_load_n(&j->claimed[w->pos], __ATOMIC_ACQUIRE) && mine(j, w->pos, me) &&
        take(j, w->pos))
      return w->pos++;
  return SIZE_MAX;
}

static int claim(void *call, fo__claim *c) {
  fo__jw *w = call;
  fo_fetch_job *j = w->j;
  size_t i = next_item(w);
  if (i == SIZE_MAX)
    return 0;
  c->index = i;
  c->result = &j->results[i];
  c->final = 0;
  if (j->reqs != NULL) {
    c->req = &j->reqs[i];
    c->final = c->result->err != 0; /* refused before the start (fo__files_outputs_check) */
  } else {
    memset(&c->own, 0, sizeof c->own);
    c->own.url = j->urls[i];
    c->own.etag = j->etags != NULL ? j->etags[i] : NULL;
    c->req = &c->own;
    if (c->own.url == NULL) {
      fo__fail_result(c->result, -EINVAL, "URL is NULL");
      c->final = 1;
    }
  }
  return 1;
}

static void job_done(fo_fetch_job *j, size_t index) {
  if (j->done != NULL)
    j->done(index, &j->results[index], j->done_arg);
  pthread_mutex_lock(&j->mu);
  j->ring[(j->head + j->ready) % j->n] = index;
  if (j->ready++ == 0 && j->wfd >= 0) {
    char b = 1;
    /* the pipe holds at most this one byte, so the write cannot block or fail but for EINTR */
    while (write(j->wfd, &b, 1) < 0 && errno == EINTR)
      ;
  }
  j->ndone++;
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
}

/* The engine's done(): call is the worker's fo__jw. */
static void done(void *call, size_t index) {
  job_done(((fo__jw *)call)->j, index);
}

/* Fail every item no worker claimed, with err; the job's callback sees each. */
static void fail_unclaimed(fo_fetch_job *j, int err) {
  const char *why = err == -ENOMEM      ? "out of memory for an easy handle"
                    : err == -ECANCELED ? "its workers were dropped from the pool's queue"
                                          " (fo_tpool_cancel)"
                                        : fo_strerror(err);
  for (size_t i = 0; i < j->n; i++) {
    if (!take(j, i))
      continue;
    fo__fail_result(&j->results[i], err, why);
    job_done(j, i);
  }
}

static void worker(void *arg) {
  fo__jw *w = arg;
  fo_fetch_job *j = w->j;
  int rc = fo__engine_run(j->f, &w->work);
  pthread_mutex_lock(&j->mu);
  j->no_handle += rc == -ENOMEM;
  int last = ++j->ended == j->workers;
  unsigned no_handle = j->no_handle;
  pthread_mutex_unlock(&j->mu);
  /* The last worker: what is left unclaimed had no worker with a handle. The others still
   * running would have claimed it. */
  if (last)
    fail_unclaimed(j, no_handle == j->workers ? -ENOMEM : -ECANCELED);
  pthread_mutex_lock(&j->mu);
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
}

/* ------------------------------------------------------------------ start and end */

static void job_free(fo_fetch_job *j) {
  if (j->g != NULL)
    fo_tpool_group_destroy(j->g);
  if (j->rfd >= 0) {
    close(j->rfd);
    close(j->wfd);
  }
  pthread_cond_destroy(&j->cv);
  pthread_mutex_destroy(&j->mu);
  fo__free(j->ring);
  fo__free(j->item_cancel);
  fo__free(j->claimed);
  fo__free(j->group);
  fo__free(j->ws);
  fo__free(j);
}

static int cond_init_monotonic(pthread_cond_t *cv) {
  pthread_condattr_t a;
  int rc = pthread_condattr_init(&a);
  if (rc != 0)
    return -rc;
  rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  if (rc == 0)
    rc = pthread_cond_init(cv, &a);
  pthread_condattr_destroy(&a);
  return -rc;
}

/* The job's memory and results, before any worker exists. */
static int job_new(fo_fetcher *f, const fo_fetch_req *reqs, const char *const *urls,
                   const char *const *etags, size_t n, fo_fetch_result *results,
                   fo_fetch_done_fn done_fn, void *done_arg, fo_fetch_job **out) {
  for (size_t i = 0; i < n; i++)
    memset(&results[i], 0, sizeof results[i]);
  fo_fetch_job *j = fo__calloc(1, sizeof *j);
  if (j == NULL)
    return -ENOMEM;
  *j = (fo_fetch_job){.f = f, .reqs = reqs, .urls = urls, .etags = etags, .n = n,
                      .results = results, .done = done_fn, .done_arg = done_arg,
                      .rfd = -1, .wfd = -1};
  int rc = pthread_mutex_init(&j->mu, NULL);
  if (rc != 0) {
    fo__free(j);
    return -rc;
  }
  if ((rc = cond_init_monotonic(&j->cv)) != 0) {
    pthread_mutex_destroy(&j->mu);
    fo__free(j);
    return rc;
  }
  if (n > 0) {
    j->ring = fo__calloc(n, sizeof *j->ring);
    j->item_cancel = fo__calloc(n, 1);
    j->claimed = fo__calloc(n, 1);
    if (j->ring == NULL || j->item_cancel == NULL || j->claimed == NULL) {
      job_free(j);
      return -ENOMEM;
    }
  }
  j->work = (fo__work){.claim = claim, .done = done, .call = j, .cancel = &j->cancel,
                       .item_cancel = j->item_cancel};
  fo__time_call_start(f, &j->work);
  if (reqs != NULL && fo__files_outputs_check(reqs, n, results) != 0) {
    job_free(j);
    return -ENOMEM;
  }
  *out = j;
  return 0;
}

/* Whether a host's https items go to one worker: only where HTTP/2 would multiplex them over
 * one connection, with room for more than one transfer a worker and more than one worker (one
 * transfer a worker would run a host's items one after another). */
static int groups_wanted(const fo_fetcher *f, size_t workers) {
  return f->net.h2 && workers > 1 && (f->max_inflight + f->threads - 1) / f->threads > 1;
}

/* The host group of an https URL (its host and port, user info skipped, as bytes: the same
 * spelling in every URL is what a caller writes), or NO_GROUP. */
static unsigned char group_of(const char *url) {
  if (url == NULL || strncasecmp(url, "https://", 8) != 0)
    return NO_GROUP;
  const char *a = url + 8;
  size_t len = strcspn(a, "/?#");
  const char *at = memchr(a, '@', len);
  if (at != NULL) {
    len -= (size_t)(at + 1 - a);
    a = at + 1;
  }
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t k = 0; k < len; k++)
    h = (h ^ (unsigned char)a[k]) * 16777619u;
  return (unsigned char)(h % FO__JOB_GROUPS);
}

/* Queue the workers. 0, or the pool's error when not one could be queued (nothing ran). */
static int job_start(fo_fetch_job *j) {
  if (j->n == 0)
    return 0;
  size_t want = j->n < j->f->threads ? j->n : j->f->threads;
  if ((j->ws = fo__calloc(want, sizeof *j->ws)) == NULL)
    return -ENOMEM;
  for (size_t k = 0; k < want; k++)
    j->ws[k] = (fo__jw){.work = j->work, .j = j};
  for (size_t k = 0; k < want; k++)
    j->ws[k].work.call = &j->ws[k];
  for (size_t g = 0; g < FO__JOB_GROUPS; g++)
    j->owner[g] = -1;
  /* without groups (no memory for them) items go to any worker: only the sharing is lost */
  if (groups_wanted(j->f, want) && (j->group = fo__calloc(j->n, 1)) != NULL)
    for (size_t i = 0; i < j->n; i++)
      j->group[i] = group_of(j->reqs != NULL ? j->reqs[i].url : j->urls[i]);
  int rc = fo_tpool_group_create(j->f->pool, &j->g);
  /* workers is read by each worker as it ends: set before the first is queued, then lowered
   * under the mutex if fewer could be queued */
  j->workers = (unsigned)want;
  unsigned queued = 0;
  for (; rc == 0 && queued < want; queued++) {
    int src = fo_tpool_group_submit(j->g, worker, &j->ws[queued], FO_FOREVER);
    if (src != 0) {
      if (queued == 0)
        rc = src;
      break;
    }
  }
  if (queued == 0)
    return rc != 0 ? rc : -ENOMEM;
  pthread_mutex_lock(&j->mu);
  j->workers = queued;
  int all_ended = j->ended == queued;
  int err = j->no_handle == queued ? -ENOMEM : -ECANCELED;
  pthread_mutex_unlock(&j->mu);
  if (all_ended && queued < want) /* the last of them ended before workers was lowered */
    fail_unclaimed(j, err);
  return 0;
}

static int job_submit(fo_fetcher *f, const fo_fetch_req *reqs, const char *const *urls,
                      const char *const *etags, size_t n, fo_fetch_result *results,
                      fo_fetch_done_fn done_fn, void *done_arg, fo_fetch_job **out) {
  fo_fetch_job *j;
  int rc = job_new(f, reqs, urls, etags, n, results, done_fn, done_arg, &j);
  if (rc == 0 && (rc = job_start(j)) != 0) {
    /* no worker runs: every item fails with the reason, as a blocking call reports it */
    for (size_t i = 0; i < n; i++)
      if (results[i].err == 0)
        fo__fail_result(&results[i], rc, rc == -ENOMEM ? "out of memory for a worker task"
                                                       : fo_strerror(rc));
    fo_tpool_group_destroy(j->g);
    j->g = NULL;
    job_free(j);
  } else if (rc != 0) {
    for (size_t i = 0; i < n; i++)
      fo__fail_result(&results[i], rc, "out of memory for the request");
  }
  if (rc == 0)
    *out = j;
  return rc;
}

/* Whether every item is done: the failed count then, else -1. Under mu. */
static int finished(const fo_fetch_job *j) {
  if (j->ndone < j->n)
    return -1;
  int failed = 0;
  for (size_t i = 0; i < j->n; i++)
    failed += j->results[i].err != 0;
  return failed;
}

/* After every queued task has ended or was dropped (the group is empty): items nobody claimed
 * had their workers dropped by fo_tpool_cancel(). */
static int settle(fo_fetch_job *j) {
  if (j->g != NULL) {
    int rc = fo_tpool_group_wait(j->g);
    if (rc != 0)
      return rc;
  }
  fail_unclaimed(j, -ECANCELED);
  return 0;
}

/* ------------------------------------------------------------------ the public calls */

int fo_fetch_submit(fo_fetcher *f, const fo_fetch_req *reqs, size_t n, fo_fetch_result *results,
                    fo_fetch_done_fn done_fn, void *done_arg, fo_fetch_job **job) {
  if (f == NULL || job == NULL || (n > 0 && (reqs == NULL || results == NULL)))
    return -EINVAL;
  *job = NULL;
  return job_submit(f, reqs, NULL, NULL, n, results, done_fn, done_arg, job);
}

int fo_fetch_job_wait(fo_fetch_job *job, int timeout_ms) {
  if (job == NULL || timeout_ms < FO_FOREVER)
    return -EINVAL;
  if (timeout_ms == FO_FOREVER) {
    int rc = settle(job);
    if (rc != 0)
      return rc;
  }
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  if (timeout_ms > 0) {
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
  }
  pthread_mutex_lock(&job->mu);
  int failed;
  int rc = 0;
  while ((failed = finished(job)) < 0 && rc == 0) {
    if (timeout_ms == 0)
      rc = -EAGAIN;
    else if (timeout_ms == FO_FOREVER)
      pthread_cond_wait(&job->cv, &job->mu);
    else if (pthread_cond_timedwait(&job->cv, &job->mu, &until) == ETIMEDOUT)
      rc = -ETIMEDOUT;
  }
  /* not one worker got an easy handle: the call could not start (every item says so) */
  if (failed >= 0)
    rc = job->workers > 0 && job->no_handle == job->workers ? -ENOMEM : failed;
  pthread_mutex_unlock(&job->mu);
  return rc;
}

int fo_fetch_job_cancel(fo_fetch_job *job, size_t index) {
  if (job == NULL || (index != FO_FETCH_JOB_ALL && index >= job->n))
    return -EINVAL;
  if (index == FO_FETCH_JOB_ALL)
    __atomic_store_n(&job->cancel, 1, __ATOMIC_RELEASE);
  else
    __atomic_store_n(&job->item_cancel[index], 1, __ATOMIC_RELEASE);
  return 0;
}

int fo_fetch_job_fd(fo_fetch_job *job) {
  if (job == NULL)
    return -EINVAL;
  pthread_mutex_lock(&job->mu);
  int rc = 0;
  if (job->rfd < 0) {
    int p[2];
    if (pipe(p) != 0) {
      rc = -errno;
    } else {
      for (int k = 0; k < 2; k++) {
        fcntl(p[k], F_SETFD, FD_CLOEXEC);
        fcntl(p[k], F_SETFL, fcntl(p[k], F_GETFL) | O_NONBLOCK);
      }
      job->rfd = p[0];
      job->wfd = p[1];
      char b = 1;
      if (job->ready > 0)
        while (write(job->wfd, &b, 1) < 0 && errno == EINTR)
          ;
    }
  }
  if (rc == 0)
    rc = job->rfd;
  pthread_mutex_unlock(&job->mu);
  return rc;
}

size_t fo_fetch_job_take(fo_fetch_job *job, size_t *index, size_t cap) {
  if (job == NULL || index == NULL)
    return 0;
  pthread_mutex_lock(&job->mu);
  size_t k = 0;
  for (; k < cap && job->ready > 0; k++) {
    index[k] = job->ring[job->head];
    job->head = (job->head + 1) % job->n;
    job->ready--;
  }
  if (k > 0 && job->ready == 0 && job->rfd >= 0) {
    char b;
    while (read(job->rfd, &b, 1) < 0 && errno == EINTR)
      ;
  }
  pthread_mutex_unlock(&job->mu);
  return k;
}

int fo_fetch_job_free(fo_fetch_job *job) {
  if (job == NULL)
    return 0;
  int rc = settle(job);
  if (rc == FO_ETASK) {
    /* From a task of the pool the group cannot be waited for, but a job whose items are all
     * done and whose tasks have all returned (the group takes no new one) can be freed. */
    pthread_mutex_lock(&job->mu);
    int all_done = job->ndone == job->n;
    pthread_mutex_unlock(&job->mu);
    if (!all_done)
      return FO_ETASK;
    /* The last worker may still be on its way out of the task (a few instructions after its
     * last done()); a task still queued behind the caller's may take longer: not waited for. */
    for (int k = 0; fo_tpool_group_destroy(job->g) != 0; k++) {
      if (k == 1000)
        return FO_ETASK;
      fo__sleep_ns(1000000u);
    }
    job->g = NULL;
    rc = 0;
  }
  if (rc != 0)
    return rc;
  /* every task has ended, but the last may still be inside done() or worker()'s last lock */
  pthread_mutex_lock(&job->mu);
  while (job->ndone < job->n)
    pthread_cond_wait(&job->cv, &job->mu);
  pthread_mutex_unlock(&job->mu);
  job_free(job);
  return 0;
}

/* ------------------------------------------------------------------ the blocking calls */

/* Submit, wait, free. A wait from a task of the fetcher's pool would wait for itself: found out
 * (FO_ETASK) on an empty group before anything is queued. */
static int run_blocking(fo_fetcher *f, const fo_fetch_req *reqs, const char *const *urls,
                        const char *const *etags, size_t n, fo_fetch_result *results,
                        fo_fetch_done_fn done_fn, void *done_arg) {
  fo_tpool_group *g;
  int rc = fo_tpool_group_create(f->pool, &g);
  if (rc == 0) {
    rc = fo_tpool_group_wait(g);
    fo_tpool_group_destroy(g);
  }
  if (rc != 0) {
    for (size_t i = 0; i < n; i++)
      memset(&results[i], 0, sizeof results[i]);
    for (size_t i = 0; i < n; i++)
      fo__fail_result(&results[i], rc, fo_strerror(rc));
    return rc;
  }
  fo_fetch_job *j;
  if ((rc = job_submit(f, reqs, urls, etags, n, results, done_fn, done_arg, &j)) != 0)
    return rc;
  rc = fo_fetch_job_wait(j, FO_FOREVER);
  fo_fetch_job_free(j);
  return rc;
}

int fo_fetch_requests(fo_fetcher *f, const fo_fetch_req *reqs, size_t n, fo_fetch_result *results,
                      fo_fetch_done_fn done_fn, void *done_arg) {
  if (f == NULL || (n > 0 && (reqs == NULL || results == NULL)))
    return -EINVAL;
  return run_blocking(f, reqs, NULL, NULL, n, results, done_fn, done_arg);
}

int fo_fetch_many(fo_fetcher *f, const char *const *urls, const char *const *etags, size_t n,
                  fo_fetch_result *results, fo_fetch_done_fn done_fn, void *done_arg) {
  if (f == NULL || (n > 0 && (urls == NULL || results == NULL)))
    return -EINVAL;
  return run_blocking(f, NULL, urls, etags, n, results, done_fn, done_arg);
}

int fo_fetch_one(fo_fetcher *f, const char *url, const char *etag, fo_fetch_result *result) {
  if (f == NULL || result == NULL)
    return -EINVAL;
  int rc = fo_fetch_many(f, &url, etag ? &etag : NULL, 1, result, NULL, NULL);
  return rc < 0 ? rc : result->err;
}

void fo_fetch_result_free(fo_fetch_result *result) {
  if (result == NULL)
    return;
  fo__free(result->body);
  fo__free(result->etag);
  memset(result, 0, sizeof *result);
}

void fo_fetch_results_free(fo_fetch_result *results, size_t n) {
  if (results == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    fo_fetch_result_free(&results[i]);
}
