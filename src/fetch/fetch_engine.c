/* The engine: what a worker thread of the fetcher runs for a call. The worker takes an idle loop
 * (a libcurl multi handle that kept its connections from the calls before) and drives up to
 * ceil(max_inflight / threads) items at once through it, each on an easy handle of its own from
 * the fetcher's idle pool. It claims an item whenever one of its handles is free (the loop keeps
 * a stack of its free handles, so a claim does not search them), and a slow item holds up one
 * slot of one worker, never a fixed share of the list.
 *
 * The multi is driven through libcurl's socket interface: libcurl tells the loop which sockets
 * to watch for what (CURLMOPT_SOCKETFUNCTION, kept in a pollfd array) and when its next timeout
 * is (CURLMOPT_TIMERFUNCTION), and the loop tells libcurl which socket is ready
 * (curl_multi_socket_action()). So a wake-up costs one poll() over the loop's sockets and work
 * for the transfers whose sockets are ready. curl_multi_perform() with curl_multi_poll(), as
 * before, went through every transfer at every wake-up, and in libcurl 7.88 each receiving
 * transfer polled its own socket again: a syscall per transfer per wake-up, up to 500 of them
 * with 500 transfers a worker. poll(), not epoll or kqueue: it is POSIX, and over a few hundred
 * sockets its one call is cheap beside what it replaces.
 *
 * One turn of the loop: libcurl's timeout handled when it is due; each transfer that ended goes
 * to its item's state machine (fetch_item.c), which starts the next hop, the next attempt's
 * wait, or finishes the item; then every item gets its turn for what no socket tells: a backoff
 * or rate slot that ends, a byte-rate pause that ends, a cancel. Finished items are reported
 * through the call's done() and their handles claim the next. poll() then waits for the
 * sockets, libcurl's timeout and the nearest of the items' timers, never longer than
 * TURN_MAX_MS: that bound is how a cancel (an atomic add, fo_fetcher_cancel(), which may come
 * from a signal handler and so wakes nobody) is seen within 50 ms. What poll() found goes to
 * libcurl socket by socket.
 *
 * The handles go back to the idle pool at the end and the loop to the idle stack, its
 * connections alive for the next call. The call (fetch_job.c) is reached only through its
 * fo__work. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

/* The longest the loop sleeps: a cancel is seen within this; 20 wake-ups a second per worker
 * with transfers in flight, nothing beside them. */
#define TURN_MAX_MS 50
#define NS_PER_MS 1000000u
/* The first size of a loop's socket array, which doubles as libcurl asks for more; it lives as
 * long as the loop, so a loop grows it a few times in its life. */
#define FDS_FIRST 8

/* ------------------------------------------------------------------ what libcurl asks for */

/* A slot's socket: a slot parked after POLLNVAL (poll_sockets) holds it as -1 - s, which
 * poll() skips. */
static curl_socket_t slot_socket(const struct pollfd *p) {
  return p->fd >= 0 ? p->fd : -1 - p->fd;
}

/* A slot at the end of the array, for socket s; its index + 1, or 0 when the array cannot
 * grow. */
static uintptr_t slot_add(fo__loop *l, curl_socket_t s) {
  if (l->n_fds == l->fds_cap) {
    unsigned cap = l->fds_cap ? 2 * l->fds_cap : FDS_FIRST;
    struct pollfd *fds = fo__realloc(l->fds, cap * sizeof *fds);
    if (fds == NULL)
      return 0;
    l->fds = fds;
    l->fds_cap = cap;
  }
  l->fds[l->n_fds] = (struct pollfd){.fd = s};
  return ++l->n_fds;
}

/* The last slot takes the place of slot i; its socket learns its new index. */
static void slot_remove(fo__loop *l, unsigned i) {
  unsigned last = --l->n_fds;
  if (i == last)
    return;
  l->fds[i] = l->fds[last];
  curl_multi_assign(l->multi, slot_socket(&l->fds[i]), (void *)(uintptr_t)(i + 1));
}

/* CURLMOPT_SOCKETFUNCTION: socket s is to be watched for `what`, or no more. socketp is what
 * curl_multi_assign() stored for s: its slot's index + 1, NULL when it has none. A socket that
 * cannot be watched gets -1, and libcurl marks the whole multi dead (7.88 and 8 alike), not only
 * the transfer at hand: fail_all() ends them. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  (void)e;
  fo__loop *l = userp;
  uintptr_t slot = (uintptr_t)socketp;
  if (slot > l->n_fds)
    slot = 0; /* not one of ours: never happens, but never an index out of the array */
  if (what == CURL_POLL_REMOVE) {
    if (slot != 0)
      slot_remove(l, (unsigned)slot - 1);
    return 0;
  }
  if (slot == 0) {
    slot = slot_add(l, s);
    if (slot == 0) {
      l->nomem = 1;
      return -1;
    }
    curl_multi_assign(l->multi, s, (void *)slot);
  }
  struct pollfd *p = &l->fds[slot - 1];
  p->fd = s; /* unparked: libcurl has a use for it again */
  p->events = (short)((what & CURL_POLL_IN ? POLLIN : 0) | (what & CURL_POLL_OUT ? POLLOUT : 0));
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl's next timeout, ms from now; -1 none. */
static int on_timer(CURLM *m, long ms, void *userp) {
  (void)m;
  fo__loop *l = userp;
  l->timer_ns = ms < 0 ? 0 : (uint64_t)fo__now_ns() + (uint64_t)ms * NS_PER_MS;
  return 0;
}

/* A loop's multi reports to the loop from its first call on (fetch.c makes loops and stays
 * below the engine). Before any transfer is added, so libcurl has told nothing elsewhere. */
static int watch_loop(fo__loop *l) {
  CURLM *m = l->multi;
  if (!l->watched &&
      (curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
       curl_multi_setopt(m, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
       curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
       curl_multi_setopt(m, CURLMOPT_TIMERDATA, l) != CURLM_OK))
    return -1;
  l->watched = 1;
  return 0;
}

/* libcurl's timeout, when it is due: the transfers whose timers expired move on (the ones just
 * added, unpaused, or waiting for a connect or a timeout). */
static void run_timer(fo__loop *l) {
  uint64_t now = (uint64_t)fo__now_ns();
  if (l->nomem || l->timer_ns == 0 || now < l->timer_ns)
    return;
  int running;
  curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  if (l->timer_ns != 0 && l->timer_ns <= now) {
    /* libcurl calls on_timer() only when its next timeout changes, so one that had not quite
     * come by libcurl's clock would stay due here and spin the loop: ask for it instead */
    long ms = -1;
    curl_multi_timeout(l->multi, &ms);
    l->timer_ns = ms < 0 ? 0 : (uint64_t)fo__now_ns() + (uint64_t)ms * NS_PER_MS;
  }
}

/* Sleep in poll() until a socket is ready or ms pass, then tell libcurl what happened. */
static void poll_sockets(fo__loop *l, int ms) {
  if (l->timer_ns != 0) {
    uint64_t now = (uint64_t)fo__now_ns();
    uint64_t d = l->timer_ns > now ? (l->timer_ns - now + NS_PER_MS - 1) / NS_PER_MS : 0;
    if (d < (uint64_t)ms)
      ms = (int)d;
  }
  int ready = poll(l->fds, (nfds_t)l->n_fds, ms);
  /* From the top down: on_socket() may add slots at the end (not polled, revents 0) and remove
   * any, moving the last into the gap. Every slot above i has been seen (or is new), so a move
   * never takes an unseen slot past i, and a seen slot's revents is cleared before it can move
   * below. */
  for (unsigned i = l->n_fds; ready > 0 && i-- > 0 && !l->nomem;) {
    if (i >= l->n_fds)
      continue;
    struct pollfd *p = &l->fds[i];
    short re = p->revents;
    if (re == 0)
      continue;
    p->revents = 0;
    ready--;
    curl_socket_t s = p->fd;
    /* as curl_multi_poll() reads them: a hang-up is read to its end, an error is told both ways */
    int ev = (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL) ? CURL_CSELECT_IN : 0) |
             (re & (POLLOUT | POLLERR | POLLNVAL) ? CURL_CSELECT_OUT : 0) |
             (re & (POLLERR | POLLNVAL) ? CURL_CSELECT_ERR : 0);
    int running;
    curl_multi_socket_action(l->multi, s, ev, &running);
    /* A descriptor closed behind libcurl's back that it still wants watched would wake every
     * poll(): parked until libcurl says something about it again. */
    if ((re & POLLNVAL) != 0 && i < l->n_fds && l->fds[i].fd == s)
      l->fds[i].fd = -1 - s;
  }
  run_timer(l);
}

/* ------------------------------------------------------------------ items */

/* Report a finished item; its handle is free for the next. */
static void report(const fo__work *w, fo__loop *l, fo__handle *h) {
  h->run.phase = FO__RUN_IDLE;
  l->spare[l->n_spare++] = h;
  w->done(w->call, h->run.claim.index);
}

/* After on_socket() refused a socket the multi is dead, and libcurl 7.88 crashes when a dead
 * multi runs a transfer that has no connection yet (multi_done): so no transfer runs again (no
 * socket_action while l->nomem), each is taken out and ends as out of memory. With none left,
 * the next curl_multi_add_handle() brings the multi back, its connections kept. 1 when an item
 * ended. */
static int fail_all(fo_fetcher *f, const fo__work *w, fo__loop *l) {
  int freed = 0;
  l->nomem = 0;
  l->timer_ns = 0; /* libcurl keeps none for a dead multi; the next add sets one */
  for (unsigned i = 0; i < l->n; i++) {
    fo__handle *h = l->h[i];
    if (h->run.phase != FO__RUN_XFER)
      continue;
    curl_multi_remove_handle(l->multi, h->curl);
    if (h->x.sink.err == 0)
      h->x.sink.err = -ENOMEM;
    fo__item_xfer_done(f, h, CURLE_ABORTED_BY_CALLBACK);
    if (h->run.phase == FO__RUN_DONE) {
      report(w, l, h);
      freed = 1;
    }
  }
  return freed;
}

/* Start claimed item c on h; what is done at once (refused, cancelled, skipped, failed before
 * a transfer) is reported at once. */
static void start(fo_fetcher *f, const fo__work *w, fo__loop *l, fo__handle *h, fo__claim *c) {
  int stop = 0;
  int err = c->final ? 0 : fo__time_item_check(f, w, c->index, &stop);
  if (c->final) {
    /* refused before the start (fo__files_outputs_check, a NULL URL) */
  } else if (err != 0) {
    /* no file is touched: a partial file of an earlier run stays as it was */
    fo__fail_result(c->result, err,
                    err == -ETIMEDOUT        ? "the call's deadline passed before it started"
                    : stop == FO__STOP_JOB ? "cancelled (fo_fetch_job_cancel) before it started"
                                           : "cancelled (fo_fetcher_cancel) before it started");
  } else {
    fo__item_start(f, h, c);
    if (h->run.phase != FO__RUN_DONE)
      return;
  }
  h->run.claim.index = c->index;
  report(w, l, h);
}

/* Claim items for the loop's free handles, taking handles up to its cap. 0: the call has no
 * item left to claim; 1: more may come. -ENOMEM: no handle at all (nothing claimed). */
static int fill(fo_fetcher *f, const fo__work *w, fo__loop *l) {
  for (;;) {
    fo__handle *h = l->n_spare > 0 ? l->spare[--l->n_spare] : NULL;
    if (h == NULL && l->n < l->cap) {
      if (fo__handle_take(f, &h) != 0) {
        if (l->n == 0)
          return -ENOMEM;
        return 1; /* the handles it has go on; items wait for one of them */
      }
      h->run.phase = FO__RUN_IDLE;
      h->run.multi = l->multi;
      h->watch.work = w;
      l->h[l->n++] = h;
    }
    if (h == NULL)
      return 1;
    fo__claim c;
    if (!w->claim(w->call, &c)) {
      l->spare[l->n_spare++] = h;
      return 0;
    }
    start(f, w, l, h, &c);
  }
}

/* The transfers that ended in this turn, to their items; 1 when an item ended. */
static int collect(fo_fetcher *f, const fo__work *w, fo__loop *l) {
  CURLMsg *m;
  int left, freed = 0;
  while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE)
      continue;
    CURL *e = m->easy_handle;
    CURLcode rc = m->data.result;
    char *priv = NULL; /* CURLOPT_PRIVATE: the fo__handle (fetch.c's handle_setup) */
    if (curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv) != CURLE_OK || priv == NULL)
      continue;
    fo__handle *h = (fo__handle *)(void *)priv;
    curl_multi_remove_handle(l->multi, e); /* m is gone from here on */
    fo__item_xfer_done(f, h, rc);
    if (h->run.phase == FO__RUN_DONE) {
      report(w, l, h);
      freed = 1;
    }
  }
  return freed;
}

/* Every item's turn for its timers and a cancel; returns the nearest timer left (0: none) and
 * whether an item ended (*freed). */
static uint64_t tick(fo_fetcher *f, const fo__work *w, fo__loop *l, int *freed, int *busy) {
  uint64_t now = (uint64_t)fo__now_ns(), next = 0;
  *freed = 0;
  *busy = 0;
  for (unsigned i = 0; i < l->n; i++) {
    fo__handle *h = l->h[i];
    if (h->run.phase == FO__RUN_IDLE)
      continue;
    fo__item_tick(f, h, now);
    if (h->run.phase == FO__RUN_DONE) {
      report(w, l, h);
      *freed = 1;
      continue;
    }
    *busy = 1;
    uint64_t t = fo__item_wake(h);
    if (t != 0 && (next == 0 || t < next))
      next = t;
  }
  return next;
}

int fo__engine_run(fo_fetcher *f, const fo__work *w) {
  fo__loop *l;
  if (fo__loop_take(f, &l) != 0)
    return -ENOMEM;
  if (watch_loop(l) != 0) {
    fo__loop_put(f, l);
    return -ENOMEM;
  }
  int more = fill(f, w, l);
  if (more < 0) {
    fo__loop_put(f, l);
    return -ENOMEM;
  }
  for (;;) {
    int freed, busy;
    run_timer(l); /* after fill(), libcurl's timeout is due at once: the new transfers start */
    int collected = collect(f, w, l);
    if (l->nomem)
      collected |= fail_all(f, w, l);
    uint64_t next = tick(f, w, l, &freed, &busy);
    if (l->nomem) /* an unpause that could not watch its socket */
      collected |= fail_all(f, w, l);
    freed |= collected;
    if (more && freed) {
      more = fill(f, w, l);
      continue; /* the new items' transfers go out before the loop sleeps */
    }
    if (!busy) {
      if (!more)
        break;
      more = fill(f, w, l);
      continue;
    }
    int ms = TURN_MAX_MS;
    if (next != 0) {
      uint64_t now = (uint64_t)fo__now_ns();
      uint64_t d = next > now ? (next - now + NS_PER_MS - 1) / NS_PER_MS : 0;
      if (d < (uint64_t)ms)
        ms = (int)d;
    }
    poll_sockets(l, ms);
  }
  for (unsigned i = 0; i < l->n; i++) {
    l->h[i]->watch.work = NULL;
    l->h[i]->run.multi = NULL;
    fo__handle_put(f, l->h[i]);
  }
  l->n = 0;
  l->n_spare = 0;
  fo__loop_put(f, l);
  return 0;
}
