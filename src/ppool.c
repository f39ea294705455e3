/* fo_ppool: the parent's side of the process pool. ppool_arena.h describes what the parent and
 * the workers share; ppool_worker.c is the workers' loop; ppool_sched.c picks chunk sizes.
 *
 * A map is one loop in the parent: fill free slots with chunks and queue their descriptors, then
 * sleep in poll(2) on the done queue, the workers' watch pipes and (while a descriptor waits for
 * room) the work queue, until the nearest deadline. Every wake-up has a reason: a chunk done, a
 * worker dead, room on the queue, or a deadline due. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "deadline.h"
#include "ppool.h"
#include "proc.h"

/* Messages each queue holds: the default kernel limit, which unprivileged users cannot raise. */
#define QUEUE_DEPTH 10

/* Why the pool killed a worker. */
enum { KILLED_ITEM = 1, KILLED_MAP = 2 };

/* A map gives up with FO_EWORKER after this many deaths of workers that held no chunk (per
 * worker), rather than fork replacements forever when workers cannot even start. */
#define IDLE_DEATHS_PER_WORKER 4

static size_t align_up(size_t n) {
  return (n + FO__PPOOL_ALIGN - 1) & ~(size_t)(FO__PPOOL_ALIGN - 1);
}

static size_t ctx_offset(const fo_ppool *p) {
  return align_up(FO__PPOOL_HDR_SPACE + (size_t)p->nslots * sizeof(fo__ppool_slot));
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
static void bury(fo_ppool *p, unsigned i, int *sig, int *code) {
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

static unsigned live_workers(const fo_ppool *p) {
  unsigned n = 0;
  for (unsigned i = 0; i < p->nworkers; i++)
    n += p->w[i].pid > 0;
  return n;
}

/* Fill every empty place. Returns 0 when at least one worker lives, else the fork error. */
static int ensure_workers(fo_ppool *p) {
  int err = 0;
  for (unsigned i = 0; i < p->nworkers; i++) {
    if (p->w[i].pid == 0) {
      int rc = spawn(p, i);
      if (rc < 0)
        err = rc;
    }
  }
  return live_workers(p) > 0 ? 0 : (err != 0 ? err : -EAGAIN);
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
  unsigned workers = opts != NULL ? opts->workers : 0;
  size_t arena = opts != NULL && opts->arena_size > 0 ? opts->arena_size : FO_PPOOL_ARENA_DEFAULT;
  if (workers > FO_PPOOL_WORKERS_MAX || arena < FO_PPOOL_ARENA_MIN)
    return -EINVAL;
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
  int rc = ctx_offset(p) + FO__PPOOL_ALIGN > arena ? -EINVAL : fo__port_shm_anon(arena, &addr);
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

void fo_ppool_destroy(fo_ppool *p) {
  if (p == NULL)
    return;
  if (p->owner == getpid())
    stop_workers(p);
  release_pool(p);
}

unsigned fo_ppool_workers(const fo_ppool *p) {
  return p != NULL ? p->nworkers : 0;
}

pid_t fo_ppool_worker_pid(const fo_ppool *p, unsigned i) {
  return p != NULL && i < p->nworkers ? p->w[i].pid : 0;
}

/* ------------------------------------------------------------------------------------------------
 * One map
 */

typedef struct mapper {
  fo_ppool *p;
  fo__ppool_hdr *h;
  fo_ppool_fn fn;
  const unsigned char *in;
  unsigned char *out;
  size_t in_size, out_size, count;
  size_t fixed;     /* the caller's chunk size, 0 = automatic */
  size_t chunk_cap; /* what a slot holds (and the stamp allows) */
  unsigned nslots;  /* slots this map uses */
  unsigned max_attempts;
  int64_t item_limit_ns; /* 0: no item deadline */
  int64_t deadline;      /* the map's, FO__FOREVER for none */
  size_t next;           /* first item not yet in a chunk */
  size_t resolved;       /* items produced or reported */
  unsigned idle_deaths;  /* deaths of workers that held no chunk */
  double run_ns, run_items;
  int aborting;
  int rc; /* why the map ends early; 0 while it runs */
  fo_ppool_report *rep;
} mapper;

static fo__ppool_slot *rec(const mapper *m, unsigned s) {
  return fo__ppool_slot_rec(m->p, s);
}

static unsigned char *slot_data(const mapper *m, unsigned s) {
  return m->p->arena + m->h->data_off + (size_t)s * m->h->slot_bytes;
}

static void stop(mapper *m, int rc) {
  if (m->rc == 0)
    m->rc = rc;
}

static uint32_t next_ticket(fo_ppool *p) {
  p->ticket = (p->ticket + 1) & FO__TICKET_MASK; /* the width of the slot state's ticket */
  if (p->ticket == 0)
    p->ticket = 1; /* 0 never names a chunk */
  return p->ticket;
}

/* Report items [first, first + n) failed; contiguous runs of one cause share an entry. */
static void fail(mapper *m, size_t first, size_t n, int cause, int code, unsigned attempts) {
  if (n == 0)
    return;
  fo_ppool_report *r = m->rep;
  r->failed += n;
  m->resolved += n;
  if (r->failures == NULL)
    return;
  if (r->nfailures > 0) {
    fo_ppool_failure *last = &r->failures[r->nfailures - 1];
    if (last->first + last->count == first && last->cause == cause && last->code == code &&
        last->attempts == attempts) {
      last->count += n;
      return;
    }
  }
  if (r->nfailures < r->cap) {
    fo_ppool_failure *f = &r->failures[r->nfailures++];
    f->first = first;
    f->count = n;
    f->cause = cause;
    f->code = code;
    f->attempts = attempts;
  }
}

/* Copy outputs [0, upto) of slot s to their places and free the slot. */
static void release(mapper *m, unsigned s, size_t upto) {
  fo__ppool_pslot *ps = &m->p->ps[s];
  if (m->out_size > 0 && upto > 0)
    memcpy(m->out + ps->first * m->out_size, slot_data(m, s) + m->h->out_off, upto * m->out_size);
  fo__st(&rec(m, s)->state, 0, FO__RELEASE);
  ps->busy = ps->unsent = 0;
}

/* Slot s's chunk finished: the worker spent ns on its last run. */
static void complete(mapper *m, unsigned s, uint64_t ns) {
  fo__ppool_pslot *ps = &m->p->ps[s];
  size_t ran = ps->count - ps->start;
  m->resolved += ran;
  if (ns > 0 && ran > 0) {
    m->run_ns += (double)ns;
    m->run_items += (double)ran;
  }
  release(m, s, ps->count);
}

/* Publish slot s's chunk (from its start) under a fresh ticket; its descriptor is not sent yet. */
static void queue(mapper *m, unsigned s) {
  fo__ppool_pslot *ps = &m->p->ps[s];
  fo__ppool_slot *r = rec(m, s);
  r->first = ps->first;
  r->count = ps->count;
  r->start = ps->start;
  fo__st(&r->progress, (fo__word)ps->start, FO__RELAXED);
  fo__owned64_st(&r->stamp, 0);
  ps->ticket = next_ticket(m->p);
  fo__st(&r->state, fo__slot_state(ps->ticket, 0, FO__SLOT_QUEUED), FO__RELEASE);
  ps->busy = ps->unsent = 1;
}

/* Send slot s's descriptor without waiting. 1: sent; 0: the queue is full; < 0: it failed. */
static int send_desc(mapper *m, unsigned s) {
  fo__ppool_pslot *ps = &m->p->ps[s];
  fo__ppool_desc d;
  memset(&d, 0, sizeof d);
  d.ticket = ps->ticket;
  d.slot = s;
  d.first = ps->first + ps->start;
  d.count = ps->count - ps->start;
  int rc = fo__port_mq_send(&m->p->todo, &d, sizeof d, 0);
  if (rc == 0) {
    ps->unsent = 0;
    return 1;
  }
  return rc == -ETIMEDOUT ? 0 : rc;
}

static int any_unsent(const mapper *m) {
  for (unsigned s = 0; s < m->nslots; s++)
    if (m->p->ps[s].busy && m->p->ps[s].unsent)
      return 1;
  return 0;
}

static double ns_per_item(const mapper *m) {
  if (m->run_items > 0)
    return m->run_ns / m->run_items;
  return m->p->est_fn == m->fn ? m->p->est_ns : 0;
}

/* Send what waits, then cut new chunks into free slots while the queue takes them. */
static void fill(mapper *m) {
  fo_ppool *p = m->p;
  for (unsigned s = 0; s < m->nslots; s++) {
    if (p->ps[s].busy && p->ps[s].unsent) {
      int rc = send_desc(m, s);
      if (rc <= 0) {
        if (rc < 0)
          stop(m, rc);
        return;
      }
    }
  }
  for (unsigned s = 0; s < m->nslots && m->next < m->count; s++) {
    fo__ppool_pslot *ps = &p->ps[s];
    if (ps->busy)
      continue;
    size_t c = fo__ppool_chunk_items(m->count - m->next, p->nworkers, ns_per_item(m), m->chunk_cap,
                                     m->fixed);
    if (m->in_size > 0)
      memcpy(slot_data(m, s), m->in + m->next * m->in_size, c * m->in_size);
    ps->first = m->next;
    ps->count = c;
    ps->start = ps->culprit = 0;
    ps->tries = 0;
    m->next += c;
    queue(m, s);
    int rc = send_desc(m, s);
    if (rc <= 0) {
      if (rc < 0)
        stop(m, rc);
      return;
    }
  }
}

/* Take every "done" message waiting. */
static void on_done(mapper *m) {
  for (;;) {
    fo__ppool_done msg;
    int n = fo__port_mq_recv(&m->p->done, &msg, sizeof msg, 0);
    if (n < 0) {
      if (n != -ETIMEDOUT)
        stop(m, n);
      return;
    }
    if ((size_t)n != sizeof msg || msg.slot >= m->nslots)
      continue;
    fo__ppool_pslot *ps = &m->p->ps[msg.slot];
    if (!ps->busy || ps->ticket != msg.ticket)
      continue; /* stale: from before a re-queue, or from an earlier map */
    fo__word st = fo__ld(&rec(m, msg.slot)->state, FO__ACQUIRE);
    if (fo__slot_ticket(st) == msg.ticket && fo__slot_st(st) == FO__SLOT_DONE)
      complete(m, msg.slot, msg.ns);
  }
}

/* A descriptor the dead worker had taken but not yet claimed is gone with it: every chunk still
 * QUEUED gets a new ticket and a new descriptor; the old descriptors go stale. */
static void requeue_waiting(mapper *m) {
  for (unsigned s = 0; s < m->nslots; s++) {
    fo__ppool_pslot *ps = &m->p->ps[s];
    if (!ps->busy || ps->unsent)
      continue;
    uint32_t t = next_ticket(m->p);
    fo__word want = fo__slot_state(ps->ticket, 0, FO__SLOT_QUEUED);
    if (fo__cas(&rec(m, s)->state, &want, fo__slot_state(t, 0, FO__SLOT_QUEUED), FO__ACQ_REL,
                FO__RELAXED)) {
      ps->ticket = t;
      ps->unsent = 1;
    }
  }
}

/* The worker of slot s died in item k of its chunk (k < count); items before k are resolved. */
static void died_in_item(mapper *m, unsigned s, size_t k, int killed, int kill_slot,
                         uint64_t kill_item, int cause, int code) {
  fo__ppool_pslot *ps = &m->p->ps[s];
  if (ps->culprit != k) {
    ps->culprit = k;
    ps->tries = 0;
  }
  if (m->aborting) {
    /* The map is over: this item ran out of time with it (or died), the rest never ran. */
    unsigned attempts = ps->tries + 1;
    if (killed)
      fail(m, ps->first + k, 1, FO_PPOOL_TIMEOUT, 0, attempts);
    else
      fail(m, ps->first + k, 1, cause, code, attempts);
    fail(m, ps->first + k + 1, ps->count - k - 1, FO_PPOOL_NOT_RUN, 0, 0);
    release(m, s, k);
    return;
  }
  if (killed == KILLED_ITEM && kill_slot == (int)s && kill_item == k) {
    fail(m, ps->first + k, 1, FO_PPOOL_TIMEOUT, 0, ps->tries + 1);
    ps->start = k + 1;
    ps->tries = 0;
  } else if (!killed) {
    if (++ps->tries >= m->max_attempts) {
      fail(m, ps->first + k, 1, cause, code, ps->tries);
      ps->start = k + 1;
      ps->tries = 0;
    }
  } /* else: the overdue item ended just before the kill landed; the next one is not to blame */
  if (ps->start >= ps->count)
    release(m, s, ps->count);
  else
    queue(m, s);
}

/* The worker in place i has died (its watch pipe ended): settle what it held, free the place. */
static void on_death(mapper *m, unsigned i) {
  fo_ppool *p = m->p;
  fo__ppool_worker w = p->w[i];
  int sig, code;
  bury(p, i, &sig, &code);
  m->rep->deaths++;
  int cause = sig != 0 ? FO_PPOOL_SIGNAL : FO_PPOOL_EXIT;
  if (sig != 0)
    code = sig;
  int held = 0;
  for (unsigned s = 0; s < m->nslots; s++) {
    fo__ppool_pslot *ps = &p->ps[s];
    if (!ps->busy)
      continue;
    fo__word st = fo__ld(&rec(m, s)->state, FO__ACQUIRE);
    if (fo__slot_ticket(st) != ps->ticket || fo__slot_owner(st) != i)
      continue;
    if (fo__slot_st(st) == FO__SLOT_DONE) {
      held = 1;
      complete(m, s, 0); /* finished, but died before its message went out */
      continue;
    }
    if (fo__slot_st(st) != FO__SLOT_TAKEN)
      continue;
    held = 1;
    size_t k = fo__ld(&rec(m, s)->progress, FO__ACQUIRE);
    if (k > ps->count)
      k = ps->count;
    if (k < ps->start)
      k = ps->start;
    m->resolved += k - ps->start;
    ps->start = k;
    if (k >= ps->count)
      release(m, s, ps->count);
    else
      died_in_item(m, s, k, w.killed, w.kill_slot, w.kill_item, cause, code);
  }
  if (!held)
    m->idle_deaths++;
  if (!m->aborting)
    requeue_waiting(m);
}

/* Kill workers still in an item past the item deadline; returns when the next one can fall due.
 * A chunk not started yet (queued, or claimed but not stamped) cannot start an item before now,
 * so it is looked at again one limit from now: a worker that takes it meanwhile sends nothing
 * until it finishes, and nothing else would wake the parent. */
static int64_t watch_items(mapper *m, int64_t now) {
  fo_ppool *p = m->p;
  int64_t wake = FO__FOREVER, unstarted = now + m->item_limit_ns;
  for (unsigned s = 0; s < m->nslots; s++) {
    fo__ppool_pslot *ps = &p->ps[s];
    if (!ps->busy)
      continue;
    fo__word st = fo__ld(&rec(m, s)->state, FO__ACQUIRE);
    if (fo__slot_ticket(st) != ps->ticket || fo__slot_st(st) != FO__SLOT_TAKEN) {
      if (fo__slot_st(st) != FO__SLOT_DONE && unstarted < wake)
        wake = unstarted;
      continue;
    }
    fo__ppool_worker *w = &p->w[fo__slot_owner(st)];
    if (w->killed || w->pid <= 0)
      continue; /* its death is on the way */
    uint64_t stamp;
    if (fo__owned64_ld(&rec(m, s)->stamp, &stamp) < 0 || stamp == 0) {
      wake = unstarted < wake ? unstarted : wake;
      continue;
    }
    int64_t due = m->h->t0_ns + (int64_t)((stamp >> 20) - 1) * 1000 + m->item_limit_ns;
    if (now >= due) {
      w->killed = KILLED_ITEM;
      w->kill_slot = (int)s;
      w->kill_item = stamp & 0xfffff;
      kill(w->pid, SIGKILL);
    } else if (due < wake) {
      wake = due;
    }
  }
  return wake;
}

/* End the map now: cancel queued chunks, kill the workers in the others, report the rest. */
static void abort_map(mapper *m) {
  fo_ppool *p = m->p;
  m->aborting = 1;
  for (unsigned s = 0; s < m->nslots; s++) {
    fo__ppool_pslot *ps = &p->ps[s];
    if (!ps->busy)
      continue;
    fo__word want = fo__slot_state(ps->ticket, 0, FO__SLOT_QUEUED);
    if (fo__cas(&rec(m, s)->state, &want, 0, FO__ACQ_REL, FO__ACQUIRE)) {
      fail(m, ps->first + ps->start, ps->count - ps->start, FO_PPOOL_NOT_RUN, 0, 0);
      release(m, s, ps->start);
      continue;
    }
    /* want now holds the state: TAKEN or DONE under this ticket */
    if (fo__slot_st(want) == FO__SLOT_TAKEN) {
      fo__ppool_worker *w = &p->w[fo__slot_owner(want)];
      if (w->pid > 0 && w->killed != KILLED_MAP) {
        w->killed = KILLED_MAP;
        kill(w->pid, SIGKILL);
      }
    }
  }
  /* Settle every killed worker (reaping waits for each to die) and chunks finished meanwhile. */
  for (unsigned i = 0; i < p->nworkers; i++)
    if (p->w[i].pid > 0 && p->w[i].killed == KILLED_MAP)
      on_death(m, i);
  for (unsigned s = 0; s < m->nslots; s++) {
    fo__ppool_pslot *ps = &p->ps[s];
    fo__word st = fo__ld(&rec(m, s)->state, FO__ACQUIRE);
    if (ps->busy && fo__slot_ticket(st) == ps->ticket && fo__slot_st(st) == FO__SLOT_DONE)
      complete(m, s, 0);
  }
  fail(m, m->next, m->count - m->next, FO_PPOOL_NOT_RUN, 0, 0);
  m->next = m->count;
  /* Descriptors left on the queue are stale now; take them off so no worker wakes for them. */
  fo__ppool_desc d;
  while (fo__port_mq_recv(&p->todo, &d, sizeof d, 0) >= 0)
    ;
}

static int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

static void run_map(mapper *m) {
  fo_ppool *p = m->p;
  unsigned nfds = p->nworkers + 2;
  while (m->resolved < m->count) {
    if (m->rc == 0)
      fill(m);
    int64_t now = fo__now_ns();
    if (m->rc == 0 && m->deadline != FO__FOREVER && now >= m->deadline)
      stop(m, -ETIMEDOUT);
    if (m->rc != 0) {
      abort_map(m);
      break;
    }
    int64_t wake = m->deadline;
    if (m->item_limit_ns > 0)
      wake = min64(wake, watch_items(m, now));
    p->pfd[0].fd = p->done.recv_fd;
    p->pfd[0].events = POLLIN;
    p->pfd[1].fd = any_unsent(m) ? p->todo.send_fd : -1;
    p->pfd[1].events = POLLOUT;
    for (unsigned i = 0; i < p->nworkers; i++) {
      p->pfd[2 + i].fd = p->w[i].fd;
      p->pfd[2 + i].events = POLLIN;
    }
    for (unsigned i = 0; i < nfds; i++)
      p->pfd[i].revents = 0;
    int n = poll(p->pfd, nfds, fo__deadline_poll_ms(wake));
    if (n < 0) {
      if (errno != EINTR)
        stop(m, -errno);
      continue;
    }
    if (p->pfd[0].revents != 0)
      on_done(m);
    for (unsigned i = 0; i < p->nworkers; i++)
      if (p->pfd[2 + i].revents != 0 && p->w[i].pid > 0)
        on_death(m, i);
    if (m->idle_deaths > IDLE_DEATHS_PER_WORKER * p->nworkers)
      stop(m, FO_EWORKER);
    if (m->rc == 0 && live_workers(p) < p->nworkers) {
      int rc = ensure_workers(p);
      if (rc < 0)
        stop(m, rc);
    }
  }
}

/* Sort the report's runs by first item (shell sort: no allocation, runs are few and mostly in
 * order already). */
static void sort_failures(fo_ppool_report *r) {
  static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
  for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
    size_t gap = gaps[g];
    for (size_t i = gap; i < r->nfailures; i++) {
      fo_ppool_failure t = r->failures[i];
      size_t j = i;
      for (; j >= gap && r->failures[j - gap].first > t.first; j -= gap)
        r->failures[j] = r->failures[j - gap];
      r->failures[j] = t;
    }
  }
}

static int overlaps(const void *a, size_t alen, const void *b, size_t blen) {
  uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return alen > 0 && blen > 0 && x < y + blen && y < x + alen;
}

/* Settle workers that died since the last map (nobody watched them between maps). */
static int refresh_workers(fo_ppool *p) {
  for (unsigned i = 0; i < p->nworkers; i++) {
    if (p->w[i].pid > 0 && fo__proc_watch_ended(p->w[i].fd)) {
      int sig, code;
      bury(p, i, &sig, &code);
    }
  }
  return ensure_workers(p);
}

int fo_ppool_map(fo_ppool *p, fo_ppool_fn fn, const void *ctx, size_t ctx_size, const void *in,
                 size_t in_size, void *out, size_t out_size, size_t count,
                 const fo_ppool_map_opts *opts, fo_ppool_report *report) {
  if (p == NULL || fn == NULL)
    return -EINVAL;
  if (p->owner != getpid())
    return FO_ETASK;
  if ((count > 0 && ((in_size > 0 && in == NULL) || (out_size > 0 && out == NULL))) ||
      (ctx_size > 0 && ctx == NULL) || (in_size > 0 && count > SIZE_MAX / in_size) ||
      (out_size > 0 && count > SIZE_MAX / out_size))
    return -EINVAL;
  if (!(in == out && in_size == out_size) && overlaps(in, count * in_size, out, count * out_size))
    return -EINVAL;
  fo_ppool_report scratch;
  memset(&scratch, 0, sizeof scratch);
  fo_ppool_report *rep = report != NULL ? report : &scratch;
  rep->nfailures = rep->failed = 0;
  rep->deaths = 0;
  if (rep->failures == NULL)
    rep->cap = 0;

  size_t ctx_off = ctx_offset(p);
  size_t data_off = align_up(ctx_off + ctx_size);
  size_t slot_items = 0, slot_bytes = 0, out_off = 0;
  unsigned nslots = 0;
  if (ctx_size < p->arena_size && data_off < p->arena_size)
    nslots = fo__ppool_geometry(p->arena_size - data_off, p->nslots, in_size, out_size, &slot_items,
                                &slot_bytes, &out_off);
  if (nslots == 0)
    return FO_ETOOBIG;
  if (count == 0)
    return 0;

  mapper m;
  memset(&m, 0, sizeof m);
  m.p = p;
  m.h = (fo__ppool_hdr *)(void *)p->arena;
  m.fn = fn;
  m.in = in;
  m.out = out;
  m.in_size = in_size;
  m.out_size = out_size;
  m.count = count;
  m.rep = rep;
  m.nslots = nslots;
  m.fixed = opts != NULL ? opts->chunk : 0;
  m.max_attempts = opts != NULL && opts->max_attempts > 0 ? opts->max_attempts : FO_PPOOL_ATTEMPTS;
  m.item_limit_ns =
      opts != NULL && opts->item_timeout_ms > 0 ? (int64_t)opts->item_timeout_ms * 1000000 : 0;
  m.deadline = opts != NULL && opts->timeout_ms > 0 ? fo__deadline(opts->timeout_ms) : FO__FOREVER;
  m.chunk_cap = slot_items;
  if (m.chunk_cap > FO__PPOOL_CHUNK_MAX)
    m.chunk_cap = FO__PPOOL_CHUNK_MAX;
  if (m.item_limit_ns > 0 && m.chunk_cap > FO__PPOOL_TIMED_CHUNK_MAX)
    m.chunk_cap = FO__PPOOL_TIMED_CHUNK_MAX;

  int rc = refresh_workers(p);
  if (rc < 0) {
    fail(&m, 0, count, FO_PPOOL_NOT_RUN, 0, 0);
    sort_failures(rep);
    return rc;
  }
  /* "done" messages left from an earlier map would only be dropped later; drop them now. */
  fo__ppool_done stale;
  while (fo__port_mq_recv(&p->done, &stale, sizeof stale, 0) >= 0)
    ;

  /* No worker owns a slot between maps, so none reads the header while it changes. */
  fo__ppool_hdr *h = m.h;
  h->fn = fn;
  if (ctx_size > 0) {
    memcpy(p->arena + ctx_off, ctx, ctx_size);
    h->ctx = p->arena + ctx_off;
  } else {
    h->ctx = ctx;
  }
  h->in_size = in_size;
  h->out_size = out_size;
  h->data_off = data_off;
  h->slot_bytes = slot_bytes;
  h->out_off = out_off;
  h->timed = m.item_limit_ns > 0;
  h->t0_ns = fo__now_ns();
  for (unsigned s = 0; s < p->nslots; s++)
    p->ps[s].busy = p->ps[s].unsent = 0;
  for (unsigned i = 0; i < p->nworkers; i++)
    p->w[i].killed = 0;

  run_map(&m);
  if (live_workers(p) < p->nworkers)
    ensure_workers(p); /* replace the workers killed at the end; a failure is retried next map */

  if (m.run_items > 0) {
    p->est_fn = fn;
    p->est_ns = m.run_ns / m.run_items;
  }
  sort_failures(rep);
  if (m.rc != 0)
    return m.rc;
  return rep->failed > 0 ? FO_EPARTIAL : 0;
}
