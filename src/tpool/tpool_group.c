/* Task groups: a count of unfinished tasks per group, so a caller can wait for its own tasks
 * while others keep the pool busy. The count lives under the pool's lock rather than in an
 * atomic: the worker that finishes a group's last task must be done touching the group before
 * a waiter can see zero and free it, which the lock guarantees. */
#include "config.h"

#include "fanout/tpool.h"

#include <errno.h>
#include <pthread.h>

#include "base/base_internal.h"
#include "tpool/tpool_internal.h"

int fo_tpool_group_create(fo_tpool *pool, fo_tpool_group **group) {
  if (pool == NULL || group == NULL)
    return -EINVAL;
  fo_tpool_group *g = fo__malloc(sizeof *g);
  if (g == NULL)
    return -ENOMEM;
  int rc = pthread_cond_init(&g->done_cv, NULL);
  if (rc != 0) {
    fo__free(g);
    return -rc;
  }
  g->pool = pool;
  g->unfinished = 0;
  g->waiters = 0;
  *group = g;
  return 0;
}

int fo_tpool_group_submit(fo_tpool_group *group, fo_tpool_fn fn, void *arg, int timeout_ms) {
  if (group == NULL || fn == NULL || timeout_ms < FO_FOREVER)
    return -EINVAL;
  return fo__tpool_submit(group->pool, group, fn, arg, fo__tpool_wait_of(timeout_ms), timeout_ms);
}

int fo_tpool_group_wait(fo_tpool_group *group) {
  if (group == NULL)
    return -EINVAL;
  fo_tpool *p = group->pool;
  if (fo__tpool_is_worker(p))
    return FO_ETASK;
  pthread_mutex_lock(&p->lock);
  group->waiters++;
  while (group->unfinished != 0)
    pthread_cond_wait(&group->done_cv, &p->lock);
  group->waiters--;
  pthread_mutex_unlock(&p->lock);
  return 0;
}

int fo_tpool_group_destroy(fo_tpool_group *group) {
  if (group == NULL)
    return 0;
  fo_tpool *p = group->pool;
  pthread_mutex_lock(&p->lock);
  /* A waiter that was woken but has not yet left pthread_cond_wait() still uses done_cv. */
  int busy = group->unfinished != 0 || group->waiters != 0;
  pthread_mutex_unlock(&p->lock);
  if (busy)
    return -EBUSY;
  pthread_cond_destroy(&group->done_cv);
  fo__free(group);
  return 0;
}
