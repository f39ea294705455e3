/* fo_ppool's life: create and destroy, and the places of its workers (fork, reap, replace).
 * The map itself is in ppool.c. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/base_internal.h"
#include "ppool/ppool_internal.h"

/* Messages each queue holds: the default kernel limit, which unprivileged users cannot raise. */
#define QUEUE_DEPTH 10

static size_t ctx_offset(const fo_ppool *p) {
  return fo__ppool_ctx_offset(p->nslots);
}

/* ------------------------------------------------------------------------------------------------
 * Workers
 */

/* Fork the worker for place i. */
static int spawn(fo_ppool *p, unsigned i) {
  int fd;
  pid_t pid = fo__proc_fork(&fd);
  if (pid < 0)
    return (int)pid;
  if (pid == 0) {
    if (fo__port_die_with_parent(p->owner) != 0)
      _exit(0);
    for (unsigned j = 0; j < p->nworkers; j++) {
      if (p->w[j].fd >= 0)
        close(p->w[j].fd); /* the parent's ends of the other watch pipes */
      p->w[j].fd = -1;
    }
    fo__ppool_worker_run(p, i); /* keeps fd, the write end of its own pipe, until it dies */
  }
  p->w[i].pid = pid;
  p->w[i].fd = fd;
  p->w[i].killed = 0;
  return 0;
}

/* Reap the worker in place i, whose watch pipe ended, and free the place. */
void fo__ppool_bury(fo_ppool *p, unsigned i, int *sig, int *code) {
  int st = 0;
  if (fo__proc_reap_exiting(p->w[i].pid, &st) == 0) {
    fo__proc_decode(st, sig, code);
  } else {
    *sig = 0;
    *code = -1; /* reaped by someone else: the status is lost */
  }
  close(p->w[i].fd);
  p->w[i].fd = -1;
  p->w[i].pid = 0;
}

unsigned fo__ppool_live_workers(const fo_ppool *p) {
  unsigned n = 0;
  for (unsigned i = 0; i < p->nworkers; i++)
    n += p->w[i].pid > 0;
  return n;
}

/* Fill every empty place. Returns 0 when at least one worker lives, else the fork error. */
int fo__ppool_ensure_workers(fo_ppool *p) {
  int err = 0;
  for (unsigned i = 0; i < p->nworkers; i++) {
    if (p->w[i].pid == 0) {
      int rc = spawn(p, i);
      if (rc < 0)
        err = rc;
    }
  }
  return fo__ppool_live_workers(p) > 0 ? 0 : (err != 0 ? err : -EAGAIN);
}

static void stop_workers(fo_ppool *p) {
  for (unsigned i = 0; i < p->nworkers; i++)
    if (p->w[i].pid > 0)
      kill(p->w[i].pid, SIGKILL);
  for (unsigned i = 0; i < p->nworkers; i++) {
    if (p->w[i].pid > 0) {
      int st;
      fo__proc_waitpid(p->w[i].pid, &st, 0);
      p->w[i].pid = 0;
    }
  }
}

/* ------------------------------------------------------------------------------------------------
 * Create and destroy
 */

static void release_pool(fo_ppool *p) {
  for (unsigned i = 0; p->w != NULL && i < p->nworkers; i++)
    if (p->w[i].fd >= 0)
      close(p->w[i].fd);
  fo__port_mq_close(&p->todo);
  fo__port_mq_close(&p->done);
  if (p->arena != NULL)
    munmap(p->arena, p->arena_size);
  fo__free(p->w);
  fo__free(p->ps);
  fo__free(p->pfd);
  fo__free(p);
}

static int open_queue(fo__port_mq *q, size_t msg_size) {
  int rc = fo__port_mq_create(q, msg_size, QUEUE_DEPTH, FO__PORT_MQ_CLAMP);
  if (rc == 0 && q->msg_size < msg_size) {
    fo__port_mq_close(q);
    rc = FO_EMQLIMIT;
  }
  return rc;
}

int fo_ppool_create(fo_ppool **pool, const fo_ppool_opts *opts) {
  if (pool == NULL)
    return -EINVAL;
  *pool = NULL;
  int rc = fo_ppool_opts_check(opts, NULL);
  if (rc != 0)
    return rc;
  unsigned workers = opts != NULL ? opts->workers : 0;
  size_t arena = opts != NULL && opts->arena_size > 0 ? opts->arena_size : FO_PPOOL_ARENA_DEFAULT;
  if (workers == 0) {
    int n = fo_cpu_count();
    workers = n > FO_PPOOL_WORKERS_MAX ? FO_PPOOL_WORKERS_MAX : (unsigned)n;
  }
  fo_ppool *p = fo__calloc(1, sizeof *p);
  if (p == NULL)
    return -ENOMEM;
  p->todo.send_fd = p->todo.recv_fd = p->done.send_fd = p->done.recv_fd = -1;
  p->nworkers = workers;
  p->nslots = workers + 2;
  p->arena_size = arena;
  p->owner = getpid();
  p->check_ms = fo__port_orphan_check_ms();
  p->w = fo__calloc(workers, sizeof *p->w);
  p->ps = fo__calloc(p->nslots, sizeof *p->ps);
  p->pfd = fo__calloc((size_t)workers + 2, sizeof *p->pfd);
  if (p->w == NULL || p->ps == NULL || p->pfd == NULL) {
    release_pool(p);
    return -ENOMEM;
  }
  for (unsigned i = 0; i < workers; i++)
    p->w[i].fd = -1;
  void *addr;
  rc = ctx_offset(p) + FO__PPOOL_ALIGN > arena ? -EINVAL : fo__port_shm_anon(arena, &addr);
  if (rc == 0) {
    p->arena = addr;
    ((fo__ppool_hdr *)addr)->magic = FO__PPOOL_MAGIC;
    rc = open_queue(&p->todo, sizeof(fo__ppool_desc));
  }
  if (rc == 0)
    rc = open_queue(&p->done, sizeof(fo__ppool_done));
  for (unsigned i = 0; rc == 0 && i < workers; i++)
    rc = spawn(p, i);
  if (rc != 0) {
    stop_workers(p);
    release_pool(p);
    return rc;
  }
  *pool = p;
  return 0;
}

/* A rule broken in a way that cannot be answered with a code: say which, and stop. write(2),
 * not stdio: the program may be in any state. */
static void contract_violated(const char *msg) {
  size_t n = strlen(msg);
  while (n > 0) {
    ssize_t w = write(2, msg, n);
    if (w <= 0)
      break;
    msg += w;
    n -= (size_t)w;
  }
  abort();
}

void fo_ppool_destroy(fo_ppool *p) {
  if (p == NULL)
    return;
  if (p->owner == getpid()) {
    if (__atomic_load_n(&p->busy, __ATOMIC_ACQUIRE) != 0)
      contract_violated("fanout: fo_ppool_destroy called while a map runs on the pool: a pool is "
                        "used by one thread at a time, and destroyed after its map returns\n");
    stop_workers(p);
  }
  release_pool(p);
}

unsigned fo_ppool_workers(const fo_ppool *p) {
  return p != NULL ? p->nworkers : 0;
}

pid_t fo_ppool_worker_pid(const fo_ppool *p, unsigned i) {
  return p != NULL && i < p->nworkers ? p->w[i].pid : 0;
}

/* Settle workers that died since the last map (nobody watched them between maps). */
int fo__ppool_refresh_workers(fo_ppool *p) {
  for (unsigned i = 0; i < p->nworkers; i++) {
    if (p->w[i].pid > 0 && fo__proc_watch_ended(p->w[i].fd)) {
      int sig, code;
      fo__ppool_bury(p, i, &sig, &code);
    }
  }
  return fo__ppool_ensure_workers(p);
}
