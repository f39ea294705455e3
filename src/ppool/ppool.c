/* fo_ppool: the parent's side of the process pool, the map's loop. ppool_internal.h describes what
 * the parent and the workers share; ppool_map.c is fo_ppool_map(), which sets a map up and tidies
 * after this loop; ppool_life.c creates and destroys the pool and keeps its workers' places
 * filled; ppool_worker.c is the workers' loop; ppool_sched.c picks chunk sizes; ppool_job.c
 * checks jobs and lays them out in the arena.
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
#include <unistd.h>

#include "base/base_internal.h"
#include "ppool/ppool_internal.h"

/* Why the pool killed a worker. */
enum { KILLED_ITEM = 1, KILLED_MAP = 2 };

/* A map gives up with FO_EWORKER after this many deaths of workers that held no chunk (per
 * worker), rather than fork replacements forever when workers cannot even start. */
#define IDLE_DEATHS_PER_WORKER 4

/* ------------------------------------------------------------------------------------------------
 * One map
 */

typedef fo__ppool_mapper mapper;

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
void fo__ppool_fail(mapper *m, size_t first, size_t n, int cause, int code, unsigned attempts) {
  if (n == 0)
    return;
  fo_ppool_report *r = m->rep;
  r->failed += n;
  m->resolved += n;
  if (m->fail_fast && cause != FO_PPOOL_NOT_RUN)
    m->cancel_wanted = 1;
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
  r->code = 0;
  fo__st(&r->progress, (fo__word)ps->start, FO__RELAXED);
  fo__owned64_st(&r->stamp, 0);
  ps->ticket = next_ticket(m->p);
  fo__st(&r->state, fo__slot_state(ps->ticket, 0, FO__SLOT_QUEUED), FO__RELEASE);
  ps->busy = ps->unsent = 1;
}

/* Slot s's chunk is DONE: all of it, or up to an item whose function returned an error, or up
 * to where a cancel stopped it. Report the failed item and re-queue the rest, or, when nothing
 * more may start, report the rest not run. */
static void finish(mapper *m, unsigned s, uint64_t ns) {
  fo__ppool_pslot *ps = &m->p->ps[s];
  fo__ppool_slot *r = rec(m, s);
  size_t k = (size_t)fo__ld(&r->progress, FO__ACQUIRE);
  if (k >= ps->count) {
    complete(m, s, ns);
    return;
  }
  if (k < ps->start)
    k = ps->start;
  m->resolved += k - ps->start;
  ps->start = k;
  if (r->code != 0) {
    fo__ppool_fail(m, ps->first + k, 1, FO_PPOOL_ERROR, (int)r->code, ps->culprit == k ? ps->tries + 1 : 1);
    ps->start = k + 1;
    ps->culprit = k + 1;
    ps->tries = 0;
  }
  if (ps->start >= ps->count) {
    release(m, s, ps->count);
  } else if (m->aborting || m->cancelled || m->cancel_wanted) {
    fo__ppool_fail(m, ps->first + ps->start, ps->count - ps->start, FO_PPOOL_NOT_RUN, 0, 0);
    release(m, s, ps->start);
  } else {
    queue(m, s);
  }
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
      finish(m, msg.slot, msg.ns);
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
  if (m->aborting || m->cancelled) {
    /* The map is over: this item ran out of time with it (or died), the rest never ran. */
    unsigned attempts = ps->tries + 1;
    if (killed)
      fo__ppool_fail(m, ps->first + k, 1, FO_PPOOL_TIMEOUT, 0, attempts);
    else
      fo__ppool_fail(m, ps->first + k, 1, cause, code, attempts);
    fo__ppool_fail(m, ps->first + k + 1, ps->count - k - 1, FO_PPOOL_NOT_RUN, 0, 0);
    release(m, s, k);
    return;
  }
  if (killed == KILLED_ITEM && kill_slot == (int)s && kill_item == k) {
    fo__ppool_fail(m, ps->first + k, 1, FO_PPOOL_TIMEOUT, 0, ps->tries + 1);
    ps->start = k + 1;
    ps->tries = 0;
  } else if (!killed) {
    if (++ps->tries >= m->max_attempts) {
      fo__ppool_fail(m, ps->first + k, 1, cause, code, ps->tries);
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
  fo__ppool_bury(p, i, &sig, &code);
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
      finish(m, s, 0); /* finished, but died before its message went out */
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
  if (!m->aborting && !m->cancelled)
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

/* Take back busy slot s if its chunk is still queued (no worker took it): its items are
 * reported not run and the slot freed; returns 1. Otherwise *st holds the slot's state (TAKEN or
 * DONE under its ticket) and it returns 0. */
static int take_back(mapper *m, unsigned s, fo__word *st) {
  fo__ppool_pslot *ps = &m->p->ps[s];
  *st = fo__slot_state(ps->ticket, 0, FO__SLOT_QUEUED);
  if (!fo__cas(&rec(m, s)->state, st, 0, FO__ACQ_REL, FO__ACQUIRE))
    return 0;
  fo__ppool_fail(m, ps->first + ps->start, ps->count - ps->start, FO_PPOOL_NOT_RUN, 0, 0);
  release(m, s, ps->start);
  return 1;
}

/* Fail-fast: start nothing more. Chunks still queued are taken back and reported not run; the
 * workers in the others see the header's flag after their current item and hand back the rest,
 * so nobody is killed for it. */
static void cancel_map(mapper *m) {
  fo_ppool *p = m->p;
  m->cancelled = 1;
  fo__st(&m->h->cancel, 1u, FO__RELAXED);
  for (unsigned s = 0; s < m->nslots; s++) {
    fo__ppool_pslot *ps = &p->ps[s];
    if (!ps->busy)
      continue;
    fo__word st;
    take_back(m, s, &st);
  }
  fo__ppool_fail(m, m->next, m->count - m->next, FO_PPOOL_NOT_RUN, 0, 0);
  m->next = m->count;
}

/* Items done so far, counting those finished inside chunks still running. */
static size_t items_done(const mapper *m) {
  size_t done = m->resolved;
  for (unsigned s = 0; s < m->nslots; s++) {
    const fo__ppool_pslot *ps = &m->p->ps[s];
    if (!ps->busy)
      continue;
    fo__word st = fo__ld(&rec(m, s)->state, FO__ACQUIRE);
    if (fo__slot_ticket(st) != ps->ticket || fo__slot_st(st) < FO__SLOT_TAKEN)
      continue;
    size_t k = (size_t)fo__ld(&rec(m, s)->progress, FO__ACQUIRE);
    if (k > ps->start && k <= ps->count)
      done += k - ps->start;
  }
  return done < m->count ? done : m->count;
}

/* Tell the caller how far the map is, at most once per progress_ms; returns the next wake-up. */
static int64_t tell_progress(mapper *m, int64_t now) {
  if (now < m->progress_due)
    return m->progress_due;
  size_t done = items_done(m);
  if (done < m->progress_told)
    done = m->progress_told; /* an item finished twice (its worker died after) counts once */
  m->progress_told = done;
  m->progress(m->progress_arg, done, m->count);
  m->progress_due = now + m->progress_every;
  return m->progress_due;
}

/* End the map now: cancel queued chunks, kill the workers in the others, report the rest. */
static void abort_map(mapper *m) {
  fo_ppool *p = m->p;
  m->aborting = 1;
  for (unsigned s = 0; s < m->nslots; s++) {
    fo__ppool_pslot *ps = &p->ps[s];
    if (!ps->busy)
      continue;
    fo__word want;
    if (take_back(m, s, &want))
      continue;
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
      finish(m, s, 0);
  }
  fo__ppool_fail(m, m->next, m->count - m->next, FO_PPOOL_NOT_RUN, 0, 0);
  m->next = m->count;
  /* Descriptors left on the queue are stale now; take them off so no worker wakes for them. */
  fo__ppool_desc d;
  while (fo__port_mq_recv(&p->todo, &d, sizeof d, 0) >= 0)
    ;
}

static int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

void fo__ppool_run_map(mapper *m) {
  fo_ppool *p = m->p;
  unsigned nfds = p->nworkers + 2;
  while (m->resolved < m->count) {
    if (m->cancel_wanted && !m->cancelled && !m->aborting)
      cancel_map(m);
    if (m->resolved >= m->count)
      break;
    if (m->rc == 0 && !m->cancelled)
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
    if (m->progress != NULL)
      wake = min64(wake, tell_progress(m, now));
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
    if (m->rc == 0 && fo__ppool_live_workers(p) < p->nworkers) {
      int rc = fo__ppool_ensure_workers(p);
      if (rc < 0)
        stop(m, rc);
    }
  }
}
