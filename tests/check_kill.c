/* SIGKILL at random points, over and over: workers of a process pool killed mid-map, the process
 * that owns a pool killed, processes killed while they update a shared dict, producers and
 * consumers of a queue killed mid-stream. After each: every item and message accounted for, no
 * hang, no zombie, no orphan, and (the fixture's teardown) nothing left in /dev/shm or the
 * mqueue filesystem. Seeded: FO_TEST_SEED replays a run. Counts shrink with
 * CK_TIMEOUT_MULTIPLIER for sanitizer and valgrind runs. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fanout/ipc.h"
#include "fanout/ppool.h"
#include "fanout/shmdict.h"
#include "helpers/fixture.h"
#include "helpers/ipccheck.h"
#include "helpers/ppmap.h"
#include "helpers/procs.h"
#include "suites.h"

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* A random number in [0, n). */
static long pick(unsigned *seed, long n) {
  return n > 0 ? (long)(((unsigned long)rand_r(seed) << 15 ^ (unsigned long)rand_r(seed)) %
                        (unsigned long)n)
               : 0;
}

/* Kill pid with SIGKILL and reap it; returns 128 + signal or its exit code, as tp_wait. Used
 * where Check assertions must not run (a forked referee). */
static int kill_reap(pid_t pid) {
  int st;
  kill(pid, SIGKILL);
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ------------------------------------------------------------------------------------------------
 * Pool workers killed mid-map
 */

#define RING 16
#define KILLS_MAX 1024

/* Shared with the workers (mapped before the pool) and the killer. */
typedef struct {
  uint32_t next;      /* ring entries written */
  int32_t ring[RING]; /* pids of workers that lately started an item */
  uint32_t done;      /* the killer has finished */
  uint32_t kills;
  int32_t killed[KILLS_MAX];
} board;

typedef struct {
  int64_t mul;
  board *b;
} kctx;

typedef struct {
  int64_t x;
  int32_t us;
  int32_t pad;
} kitem;

typedef struct {
  int64_t y;
  int32_t pid;
  int32_t pad;
} kout;

static int work(const void *c, size_t index, const void *i, void *o) {
  (void)index;
  const kctx *ctx = c;
  const kitem *it = i;
  kout *r = o;
  uint32_t k = __atomic_fetch_add(&ctx->b->next, 1, __ATOMIC_RELAXED);
  __atomic_store_n(&ctx->b->ring[k % RING], (int32_t)getpid(), __ATOMIC_RELEASE);
  if (it->us > 0)
    sleep_us(it->us);
  r->y = it->x * ctx->mul;
  r->pid = (int32_t)getpid();
  return 0;
}

/* In a child: kill workers of parent that lately started an item, each once, at random moments,
 * until kills have been made; the board says which. */
static void killer(board *b, pid_t parent, long kills, long max_gap_us, unsigned seed) {
  long made = 0;
  double end = tp_now_ms() + tp_scaled(60) * 1000;
  while (made < kills && tp_now_ms() < end) {
    sleep_us(pick(&seed, max_gap_us));
    uint32_t n = __atomic_load_n(&b->next, __ATOMIC_ACQUIRE);
    if (n == 0)
      continue;
    pid_t pid =
        __atomic_load_n(&b->ring[(n - 1 - (uint32_t)pick(&seed, 3)) % RING], __ATOMIC_ACQUIRE);
    char st;
    pid_t pp;
    int again = 0;
    for (long k = 0; k < made; k++)
      again |= b->killed[k] == pid;
    /* only a live worker of this test, never twice: each kill is then exactly one death */
    if (pid <= 0 || again || tp_proc_stat(pid, &st, &pp) != 0 || pp != parent || st == 'Z' ||
        st == 'X')
      continue;
    if (kill(pid, SIGKILL) == 0)
      b->killed[made++] = pid;
  }
  __atomic_store_n(&b->kills, (uint32_t)made, __ATOMIC_RELEASE);
  __atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
  _exit(made == kills ? 0 : 1);
}

/* Every item of a map is either produced or reported killed, never both, never neither. */
static void account(const kitem *in, const kout *out, size_t n, int rc, const fo_ppool_report *rep,
                    unsigned attempts, unsigned seed, long map) {
  ck_assert_msg(rc == 0 || rc == FO_EPARTIAL, "seed %u map %ld: %s", seed, map, fo_strerror(rc));
  ck_assert_msg((rc == 0) == (rep->failed == 0), "seed %u map %ld: rc %d with %zu failed", seed,
                map, rc, rep->failed);
  ck_assert_uint_lt(rep->nfailures, rep->cap); /* all runs recorded */
  size_t sum = 0, wrong = 0, k = 0;
  for (size_t r = 0; r < rep->nfailures; r++) {
    const fo_ppool_failure *f = &rep->failures[r];
    /* adjacent items killed in their last attempt share a run */
    ck_assert_msg(f->cause == FO_PPOOL_SIGNAL && f->code == SIGKILL && f->count >= 1 &&
                      f->attempts == attempts && f->first + f->count <= n,
                  "seed %u map %ld: failure cause %d code %d count %zu attempts %u of %u", seed,
                  map, f->cause, f->code, f->count, f->attempts, attempts);
    ck_assert(r == 0 || f->first >= rep->failures[r - 1].first + rep->failures[r - 1].count);
    sum += f->count;
  }
  ck_assert_uint_eq(sum, rep->failed);
  for (size_t i = 0; i < n; i++) {
    while (k < rep->nfailures && rep->failures[k].first + rep->failures[k].count <= i)
      k++;
    int failed = k < rep->nfailures && rep->failures[k].first <= i;
    if (!failed && (out[i].y != in[i].x * 7 || out[i].pid <= 0))
      wrong++;
  }
  ck_assert_msg(wrong == 0, "seed %u map %ld: %zu items neither produced nor reported", seed, map,
                wrong);
}


START_TEST(workers_killed_mid_map_every_item_accounted_for) {
  const unsigned seed0 = tp_seed("kill/workers");
  unsigned seed = seed0, kseed = seed0 ^ 0x5bd1e995u;
  long kills = tp_rounds(120, 12);
  int children = tp_count_children();
  fo_shm *shm;
  ck_assert_int_eq(fo_shm_create(&shm, sizeof(board)), 0);
  board *b = fo_shm_addr(shm);
  fo_ppool *p;
  ck_assert_int_eq(fo_ppool_create(&p, &(fo_ppool_opts){3, 256 << 10}), 0);
  enum { N = 256 };
  kitem in[N];
  kout out[N];
  fo_ppool_failure fails[N + 1];
  kctx ctx = {7, b};
  pid_t k = tp_fork();
  if (k == 0)
    killer(b, getppid(), kills, 12000, kseed);
  long maps = 0, failed = 0;
  unsigned deaths = 0;
  while (!__atomic_load_n(&b->done, __ATOMIC_ACQUIRE) && maps < 100000) {
    size_t n = 1 + (size_t)pick(&seed, N);
    for (size_t i = 0; i < n; i++)
      in[i] = (kitem){(int64_t)pick(&seed, 1000000), (int32_t)pick(&seed, 100), 0};
    memset(out, 0xff, sizeof out);
    /* deadlines far off but kept, so their bookkeeping meets the deaths too */
    int far = (int)(tp_scaled(30) * 1000);
    tp_map_opts mo = {pick(&seed, 3) == 0 ? 0 : 1 + (size_t)pick(&seed, 16),
                            pick(&seed, 2) ? far : 0, pick(&seed, 2) ? far : 0,
                            1 + (unsigned)pick(&seed, 3)};
    fo_ppool_report rep = {fails, N + 1, 0, 0, 0};
    int rc =
        tp_map(p, work, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, &mo, &rep);
    account(in, out, n, rc, &rep, mo.max_attempts, seed0, maps);
    deaths += rep.deaths;
    failed += (long)rep.failed;
    maps++;
  }
  ck_assert_int_eq(tp_wait(k, 60), 0);
  for (uint32_t i = 0; i < b->kills; i++)
    tp_wait_ended(b->killed[i], 10);
  /* the pool is whole again; a worker killed after the last map is seen and replaced here */
  size_t n = N;
  for (size_t i = 0; i < n; i++)
    in[i] = (kitem){(int64_t)i, 0, 0};
  fo_ppool_report rep = {fails, N + 1, 0, 0, 0};
  int rc = tp_map(p, work, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL, &rep);
  ck_assert_msg(rc == 0, "seed %u: after the kills: %s", seed0, fo_strerror(rc));
  account(in, out, n, rc, &rep, FO_PPOOL_ATTEMPTS, seed0, maps);
  deaths += rep.deaths;
  /* deaths between maps are settled at the next map without counting in its report */
  ck_assert_msg(deaths > 0 && deaths <= b->kills, "seed %u: %u kills, %u deaths seen", seed0,
                b->kills, deaths);
  /* the pool reaped every killed worker and replaced it: no zombie waits for destroy */
  for (uint32_t i = 0; i < b->kills; i++)
    ck_assert_msg(kill(b->killed[i], 0) != 0 && errno == ESRCH, "seed %u: worker %d not reaped",
                  seed0, (int)b->killed[i]);
  for (unsigned i = 0; i < fo_ppool_workers(p); i++)
    ck_assert_int_gt(fo_ppool_worker_pid(p, i), 0);
  fo_ppool_destroy(p);
  ck_assert_int_eq(tp_count_children(), children);
  fprintf(stderr,
          "kill/workers: %u workers killed in %ld maps, %u deaths seen mid-map, %ld items "
          "reported killed\n",
          b->kills, maps, deaths, failed);
  fo_shm_destroy(shm);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * The process that owns a pool killed
 */

/* Runs until killed: pools made, used and destroyed in a loop, so a kill lands in any of them.
 * Writes a byte to ready once the first pool is up. */
static int owner(unsigned seed, int ready) {
  enum { N = 64 };
  kitem in[N];
  kout out[N];
  kctx ctx = {7, NULL};
  board b; /* the workers' copy of it is their own; nothing reads it */
  memset(&b, 0, sizeof b);
  ctx.b = &b;
  for (;;) {
    fo_ppool *p;
    if (fo_ppool_create(&p, &(fo_ppool_opts){1 + (unsigned)pick(&seed, 3), 128 << 10}) != 0)
      return 3;
    if (ready >= 0) {
      if (write(ready, "", 1) != 1)
        return 5;
      close(ready);
      ready = -1;
    }
    for (long m = pick(&seed, 4); m > 0; m--) {
      size_t n = 1 + (size_t)pick(&seed, N);
      for (size_t i = 0; i < n; i++)
        in[i] = (kitem){(int64_t)i, (int32_t)pick(&seed, 300), 0};
      if (tp_map(p, work, &ctx, sizeof ctx, in, sizeof *in, out, sizeof *out, n, NULL,
                       NULL) != 0)
        return 4;
    }
    fo_ppool_destroy(p);
  }
}

typedef struct {
  unsigned seed;
  long rounds;
  int batch;
} owners_arg;

/* The referee, in its own process so that adopting orphans and reaping whatever child ends
 * touch nothing of the test runner's. Reports through its exit code and stderr. */
static int referee(void *arg) {
  owners_arg *a = arg;
  unsigned seed = a->seed;
  int orphans = 0, named = 0;
  double slowest = 0;
  if (!tp_adopt_orphans("kill/owners"))
    return 0;
  for (long r = 0; r < a->rounds; r++) {
    pid_t o[8];
    int ready[8][2];
    for (int i = 0; i < a->batch; i++) {
      unsigned s = (unsigned)pick(&seed, 1 << 30);
      if (pipe(ready[i]) != 0 || (o[i] = fork()) < 0)
        return 10;
      if (o[i] == 0)
        _exit(owner(s, ready[i][1]));
      close(ready[i][1]);
    }
    for (int i = 0; i < a->batch; i++) {
      /* each owner has had workers (slow builds would otherwise kill many before their first) */
      struct pollfd pf = {ready[i][0], POLLIN, 0};
      char c;
      int up = poll(&pf, 1, (int)(tp_scaled(10) * 1000)) == 1 && read(ready[i][0], &c, 1) == 1;
      close(ready[i][0]);
      if (!up) {
        fprintf(stderr, "kill/owners: seed %u round %ld: no pool up\n", a->seed, r);
        return 15;
      }
      /* often within pool creation (its forks), otherwise anywhere in the loop */
      sleep_us(pick(&seed, 4) == 0 ? pick(&seed, 1500) : pick(&seed, 20000));
      int code = kill_reap(o[i]);
      if (code != 128 + SIGKILL) {
        fprintf(stderr, "kill/owners: seed %u round %ld: owner ended with %d\n", a->seed, r, code);
        return 11;
      }
      /* A POSIX queue has a name from mq_open to mq_unlink, two system calls apart; a kill
       * between them leaves it, under the owner's pid. Only the create in progress can. */
      int left = ipc_remove_of(o[i]);
      if (left > 1) {
        fprintf(stderr, "kill/owners: seed %u round %ld: %d IPC objects left by one owner\n",
                a->seed, r, left);
        return 13;
      }
      named += left;
    }
    double t = tp_now_ms();
    int reaped, late = tp_reap_children(3, &reaped);
    t = tp_now_ms() - t;
    if (late != 0) {
      fprintf(stderr, "kill/owners: seed %u round %ld: %d workers outlived their owner\n", a->seed,
              r, late);
      return 12;
    }
    orphans += reaped;
    slowest = t > slowest ? t : slowest;
  }
  if (named > 1 + a->rounds * a->batch / 10) {
    fprintf(stderr, "kill/owners: seed %u: %d queues left by %ld kills\n", a->seed, named,
            a->rounds * a->batch);
    return 14;
  }
  fprintf(stderr,
          "kill/owners: %ld pool owners killed, %d orphaned workers ended by themselves, "
          "the slowest round in %.0f ms; %d kills landed while a queue had its name\n",
          a->rounds * a->batch, orphans, slowest, named);
  return 0;
}

START_TEST(pool_owners_killed_leave_no_orphans) {
  /* posix workers look for their parent every quarter second: kill more owners per round */
  int linux_port = strcmp(FO_PORT_NAME, "linux") == 0;
  owners_arg a = {tp_seed("kill/owners"), 0, linux_port ? 2 : 6};
  a.rounds = tp_rounds(120 / a.batch, 4);
  ck_assert_int_eq(tp_run(referee, &a, 60), 0);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * Shared dict: processes killed mid-update
 */

#define DICT_PROCS_MAX 2048

/* Per process: adds begun and adds that returned. */
typedef struct {
  uint32_t begun[DICT_PROCS_MAX], landed[DICT_PROCS_MAX]; /* 32 bits: lock-free on every target */
} tally;

static int dict_user(fo_shmdict *d, tally *t, int me, unsigned seed) {
  for (int64_t i = 0;; i++) {
    char k[16];
    snprintf(k, sizeof k, "churn%ld", pick(&seed, 24));
    int rc;
    switch (pick(&seed, 3)) {
    case 0:
      __atomic_store_n(&t->begun[me], t->begun[me] + 1, __ATOMIC_SEQ_CST);
      if ((rc = fo_shmdict_add(d, "total", 1, NULL)) != 0)
        return 1;
      __atomic_store_n(&t->landed[me], t->landed[me] + 1, __ATOMIC_SEQ_CST);
      break;
    case 1:
      if (fo_shmdict_set(d, k, i) != 0)
        return 2;
      break;
    default:
      rc = fo_shmdict_delete(d, k);
      if (rc != 0 && rc != FO_ENOTFOUND)
        return 3;
    }
  }
}

static int count_entry(const char *key, int64_t value, void *arg) {
  (void)key;
  (void)value;
  ++*(int *)arg;
  return 0;
}

START_TEST(dict_users_killed_mid_update_lose_nothing) {
  if (!tp_robust_futexes("kill/dict not run"))
    return;
  const unsigned seed0 = tp_seed("kill/dict");
  unsigned seed = seed0;
  long kills = tp_rounds(150, 15);
  enum { LIVE = 3 };
  fo_shmdict *d;
  TP_DICT_OR_SKIP(&d, 64, 16);
  fo_shm *shm;
  ck_assert_int_eq(fo_shm_create(&shm, sizeof(tally)), 0);
  tally *t = fo_shm_addr(shm);
  pid_t live[LIVE];
  int slot[LIVE], used = 0;
  for (int i = 0; i < LIVE; i++) {
    slot[i] = used++;
    unsigned s = (unsigned)pick(&seed, 1 << 30);
    if ((live[i] = tp_fork()) == 0)
      _exit(dict_user(d, t, slot[i], s));
  }
  for (long k = 0; k < kills && used < DICT_PROCS_MAX; k++) {
    sleep_us(pick(&seed, 3000));
    int i = (int)pick(&seed, LIVE);
    int code = tp_kill(live[i]);
    ck_assert_msg(code == 128 + SIGKILL, "seed %u: a dict user failed with %d", seed0, code);
    int64_t v;
    int rc = fo_shmdict_get(d, "total", &v); /* the lock may have died with it: recovered here */
    ck_assert_msg(rc == 0 || rc == FO_ENOTFOUND, "seed %u kill %ld: %s", seed0, k, fo_strerror(rc));
    slot[i] = used++;
    unsigned s = (unsigned)pick(&seed, 1 << 30);
    if ((live[i] = tp_fork()) == 0)
      _exit(dict_user(d, t, slot[i], s));
  }
  for (int i = 0; i < LIVE; i++)
    ck_assert_int_eq(tp_kill(live[i]), 128 + SIGKILL);
  int64_t begun = 0, landed = 0, total = 0;
  for (int i = 0; i < used; i++) {
    begun += t->begun[i];
    landed += t->landed[i];
  }
  int rc = fo_shmdict_get(d, "total", &total);
  ck_assert_msg(rc == 0 || (rc == FO_ENOTFOUND && begun == 0), "%s", fo_strerror(rc));
  /* an add is whole or absent: every add that returned is in, none twice */
  ck_assert_msg(total >= landed && total <= begun,
                "seed %u: total %lld, %lld adds returned of "
                "%lld begun",
                seed0, (long long)total, (long long)landed, (long long)begun);
  int seen = 0;
  ck_assert_int_eq(fo_shmdict_foreach(d, count_entry, &seen), 0);
  ck_assert_int_eq(fo_shmdict_count(d), seen); /* a count skewed by a death is repaired */
  ck_assert_int_eq(fo_shmdict_add(d, "total", 1, &total), 0);
  fprintf(stderr, "kill/dict: %d users killed, %lld adds landed of %lld begun\n", used - LIVE,
          (long long)total - 1, (long long)begun);
  fo_shm_destroy(shm);
  fo_shmdict_destroy(d);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * Queue: producers and consumers killed mid-stream
 */

#define SENDERS_MAX 1024
#define SEQ_MAX 8192
#define MSG 64

typedef struct {
  int32_t trying[SENDERS_MAX]; /* the sequence number being sent, or -1 */
  int32_t sent[SENDERS_MAX];   /* messages whose send returned */
  uint8_t got[SENDERS_MAX][SEQ_MAX / 8];
  uint32_t dup, disorder, torn, received;
} ledger;

typedef struct {
  int32_t sender, seq;
  uint8_t fill[MSG - 8];
} msg;

static uint8_t fill_byte(int32_t sender, int32_t seq, size_t i) {
  return (uint8_t)(sender * 31 + seq * 7 + (int32_t)i);
}

static int producer(fo_mq *q, ledger *l, int32_t me) {
  l->trying[me] = -1;
  for (int32_t seq = 0; seq < SEQ_MAX; seq++) {
    msg m = {me, seq, {0}};
    for (size_t i = 0; i < sizeof m.fill; i++)
      m.fill[i] = fill_byte(me, seq, i);
    __atomic_store_n(&l->trying[me], seq, __ATOMIC_SEQ_CST);
    if (fo_mq_send(q, &m, sizeof m, FO_FOREVER) != 0)
      return 1;
    __atomic_store_n(&l->sent[me], seq + 1, __ATOMIC_SEQ_CST);
  }
  pause();
  return 0;
}

/* Record one message; last holds the last sequence number seen from each sender (or -1). */
static void record(ledger *l, const msg *m, size_t len, int32_t *last) {
  int ok = len == sizeof *m && m->sender >= 0 && m->sender < SENDERS_MAX && m->seq >= 0 &&
           m->seq < SEQ_MAX;
  for (size_t i = 0; ok && i < sizeof m->fill; i++)
    ok = m->fill[i] == fill_byte(m->sender, m->seq, i);
  if (!ok) {
    __atomic_add_fetch(&l->torn, 1, __ATOMIC_SEQ_CST);
    return;
  }
  if (last != NULL) {
    if (m->seq <= last[m->sender]) /* one sender's messages come out in order */
      __atomic_add_fetch(&l->disorder, 1, __ATOMIC_SEQ_CST);
    last[m->sender] = m->seq;
  }
  uint8_t bit = (uint8_t)(1u << (m->seq % 8));
  if (__atomic_fetch_or(&l->got[m->sender][m->seq / 8], bit, __ATOMIC_SEQ_CST) & bit)
    __atomic_add_fetch(&l->dup, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&l->received, 1, __ATOMIC_SEQ_CST);
}

static int consumer(fo_mq *q, ledger *l) {
  static int32_t last[SENDERS_MAX];
  memset(last, 0xff, sizeof last);
  for (;;) {
    msg m;
    size_t len;
    if (fo_mq_recv(q, &m, sizeof m, &len, FO_FOREVER) != 0)
      return 1;
    record(l, &m, len, last);
  }
}

START_TEST(queue_ends_killed_mid_stream_lose_only_what_they_held) {
  const unsigned seed0 = tp_seed("kill/queue");
  unsigned seed = seed0;
  long kills = tp_rounds(160, 16);
  enum { PRODUCERS = 2, CONSUMERS = 2, LIVE = PRODUCERS + CONSUMERS };
  fo_mq *q;
  ck_assert_int_eq(fo_mq_create(&q, MSG, 8, FO_MQ_CLAMP), 0);
  fo_shm *shm;
  ck_assert_int_eq(fo_shm_create(&shm, sizeof(ledger)), 0);
  ledger *l = fo_shm_addr(shm);
  pid_t live[LIVE];
  int32_t senders = 0;
  long consumer_kills = 0, producer_kills = 0;
  for (int i = 0; i < LIVE; i++) {
    int32_t me = senders;
    senders += i < PRODUCERS;
    if ((live[i] = tp_fork()) == 0)
      _exit(i < PRODUCERS ? producer(q, l, me) : consumer(q, l));
  }
  for (long k = 0; k < kills && senders < SENDERS_MAX; k++) {
    sleep_us(pick(&seed, 2000));
    int i = (int)pick(&seed, LIVE);
    int code = tp_kill(live[i]);
    ck_assert_msg(code == 128 + SIGKILL, "seed %u: a queue user failed with %d", seed0, code);
    int32_t me = senders;
    if (i < PRODUCERS) {
      producer_kills++;
      senders++;
    } else {
      consumer_kills++;
    }
    if ((live[i] = tp_fork()) == 0)
      _exit(i < PRODUCERS ? producer(q, l, me) : consumer(q, l));
  }
  for (int i = 0; i < LIVE; i++)
    ck_assert_int_eq(tp_kill(live[i]), 128 + SIGKILL);
  /* what is still queued is there to be read */
  msg m;
  size_t len;
  while (fo_mq_recv(q, &m, sizeof m, &len, 0) == 0)
    record(l, &m, len, NULL);
  ck_assert_uint_eq(l->torn, 0);
  ck_assert_uint_eq(l->dup, 0);
  ck_assert_uint_eq(l->disorder, 0);
  long sent = 0, missing = 0, phantom = 0;
  for (int32_t s = 0; s < senders; s++) {
    sent += l->sent[s];
    for (int32_t seq = 0; seq < SEQ_MAX; seq++) {
      int got = (l->got[s][seq / 8] >> (seq % 8)) & 1;
      missing += !got && seq < l->sent[s];
      phantom += got && seq > l->trying[s]; /* never sent */
    }
  }
  ck_assert_msg(phantom == 0, "seed %u: %ld messages received that were never sent", seed0,
                phantom);
  /* a consumer killed between taking a message and writing it down loses that one only */
  ck_assert_msg(missing <= consumer_kills, "seed %u: %ld sent messages lost, %ld consumers killed",
                seed0, missing, consumer_kills);
  /* and the queue goes on */
  m = (msg){0, 0, {0}};
  ck_assert_int_eq(fo_mq_send(q, &m, sizeof m, 0), 0);
  ck_assert_int_eq(fo_mq_recv(q, &m, sizeof m, &len, (int)(tp_scaled(5) * 1000)), 0);
  ck_assert_uint_eq(len, sizeof m);
  fprintf(stderr,
          "kill/queue: %ld producers and %ld consumers killed, %ld messages sent, %u "
          "received, %ld lost with a consumer\n",
          producer_kills, consumer_kills, sent, l->received, missing);
  fo_shm_destroy(shm);
  fo_mq_destroy(q);
}
END_TEST

/* ------------------------------------------------------------------------------------------------
 * The leak check itself: which objects it counts, and the clean-up after a killed creator
 */

static void named(char *buf, size_t size, const char *kind, pid_t pid) {
  snprintf(buf, size, "/fanout-%s-%ld-%ld", kind, (long)pid, (long)getpid());
  fo_shm *s;
  ck_assert_int_eq(fo_shm_create_named(&s, buf, 4096), 0);
  fo_shm_destroy(s);
}

START_TEST(leak_check_counts_what_this_run_or_the_dead_left) {
  ipc_snapshot before;
  ipc_snap(&before);
  pid_t dead = tp_fork();
  if (dead == 0)
    _exit(0);
  ck_assert_int_eq(tp_wait(dead, 10), 0);
  char other[64], mine[64], gone[64], queue[64];
  named(other, sizeof other, "test", 1); /* alive, not of this run: another program's */
  ck_assert_int_eq(ipc_count_new(&before), 0);
  named(mine, sizeof mine, "test", getpid());
  ck_assert_int_eq(ipc_count_new(&before), 1);
  named(gone, sizeof gone, "test", dead); /* nobody will remove it */
  ck_assert_int_eq(ipc_count_new(&before), 2);
  named(queue, sizeof queue, "shm", dead); /* as the library names its own */
  ck_assert_int_eq(ipc_count_new(&before), 3);
  ck_assert_int_eq(ipc_remove_of(dead), 1); /* the library's only */
  ck_assert_int_eq(fo_shm_unlink_named(queue), -ENOENT);
  ck_assert_int_eq(ipc_count_new(&before), 2);
  ck_assert_int_eq(fo_shm_unlink_named(other), 0);
  ck_assert_int_eq(fo_shm_unlink_named(mine), 0);
  ck_assert_int_eq(fo_shm_unlink_named(gone), 0);
  ck_assert_int_eq(ipc_count_new(&before), 0);
}
END_TEST

Suite *kill_suite(void) {
  Suite *s = suite_create("kill");
  TCase *tc = fo_tcase("sigkill", 60);
  tcase_add_test(tc, workers_killed_mid_map_every_item_accounted_for);
  tcase_add_test(tc, pool_owners_killed_leave_no_orphans);
  tcase_add_test(tc, dict_users_killed_mid_update_lose_nothing);
  tcase_add_test(tc, queue_ends_killed_mid_stream_lose_only_what_they_held);
  tcase_add_test(tc, leak_check_counts_what_this_run_or_the_dead_left);
  suite_add_tcase(s, tc);
  return s;
}
