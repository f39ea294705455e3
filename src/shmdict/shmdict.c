/* fo_shmdict: an open-addressing hash table (linear probing) in one shared region.
 *
 * Crash safety decides the layout. Every update is a single visible step: a new entry is written
 * into a free slot and then published by one store of its state; an entry is deleted by one
 * store that turns it into a tombstone (tombstones only turn back into empty slots where no
 * probe chain can pass through them, one slot at a time). Entries never move. So a process that
 * dies mid-update leaves at worst a wrong entry count, which whoever next takes the robust mutex
 * recounts.
 *
 * Readers take no lock: a sequence counter, odd while an insert or delete runs, tells them to
 * retry (a seqlock), and every shared word is read and written with atomics so a racing read is
 * only ever discarded, never undefined. Shared words are 32 bits (lock-free on every target,
 * src/base/base_internal.h); the 64-bit value is one word where 8-byte atomics are lock-free, and there a
 * value update of an existing key is a single store that needs no sequence bump. Elsewhere the
 * value is two halves, and its update bumps the sequence like an insert so no reader keeps a
 * torn value. */
#include "config.h"

#include "shmdict/shmdict_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/base_internal.h"
#include "fanout/ipc.h"

#define MAGIC 0x666f2d6469637431ull /* "fo-dict1" */

enum { EMPTY = 0, FULL = 1, TOMB = 2 };

/* Lock-free attempts before a reader takes the lock: enough to ride over a running update,
 * few enough that a writer that died mid-update is noticed (and repaired) quickly. */
#define READ_TRIES 64

typedef struct {
  uint64_t magic;
  fo__word seq;   /* odd while an update runs */
  fo__word count; /* live entries (at most FO_SHMDICT_CAPACITY_MAX) */
  pthread_mutex_t lock;
} header;

/* A slot; key words follow, zero-padded, holding the key and its NUL. */
typedef struct {
  fo__word state;
  fo__word len;
  fo__word hash; /* the low half of the key's hash */
  fo__word pad;
  fo__split64 value;
  fo__word key[];
} slot;

struct fo_shmdict {
  fo_shm *shm;
  header *h;
  unsigned char *slots;
  /* Geometry, kept privately: a scribbled shared region cannot make this process index out of
   * bounds. */
  size_t nslots, mask, capacity, key_max, key_words, slot_size;
};

#define LOAD(p) fo__ld((p), FO__RELAXED)
#define STORE(p, v) fo__st((p), (v), FO__RELAXED)
#define LOAD_VALUE(s) ((int64_t)fo__split64_ld(&(s)->value))
#define STORE_VALUE(s, v) fo__split64_st(&(s)->value, (uint64_t)(v))

static slot *slot_at(const fo_shmdict *d, size_t i) {
  return (slot *)(void *)(d->slots + i * d->slot_size);
}

/* FNV-1a, then a finaliser so the low bits used as the index depend on every byte. */
static uint64_t hash_key(const char *key, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

/* A key prepared for probing: its hash, length and zero-padded words. */
typedef struct {
  uint64_t hash;
  size_t len, words;
  fo__word w[FO_SHMDICT_KEY_MAX / 4 + 1];
} qkey;

static int prepare(const fo_shmdict *d, const char *key, qkey *q) {
  if (d == NULL || key == NULL)
    return -EINVAL;
  q->len = strnlen(key, d->key_max + 1);
  if (q->len > d->key_max)
    return FO_ETOOBIG;
  q->words = q->len / 4 + 1;
  memset(q->w, 0, q->words * 4);
  memcpy(q->w, key, q->len);
  q->hash = hash_key(key, q->len);
  return 0;
}

static int matches(const slot *s, const qkey *q) {
  if (LOAD(&s->hash) != (fo__word)q->hash || LOAD(&s->len) != q->len)
    return 0;
  for (size_t i = 0; i < q->words; i++)
    if (LOAD(&s->key[i]) != q->w[i])
      return 0;
  return 1;
}

#define NONE ((size_t)-1)

/* The slot holding q, or NONE; *free_at (if not NULL) gets the slot an insert would use. */
static size_t find(const fo_shmdict *d, const qkey *q, size_t *free_at) {
  size_t i = q->hash & d->mask, first_free = NONE;
  for (size_t n = 0; n < d->nslots; n++, i = (i + 1) & d->mask) {
    slot *s = slot_at(d, i);
    fo__word st = fo__ld(&s->state, FO__ACQUIRE);
    if (st == EMPTY) {
      if (first_free == NONE)
        first_free = i;
      break;
    }
    if (st == FULL && matches(s, q))
      return i;
    if (st != FULL && first_free == NONE)
      first_free = i;
  }
  if (free_at != NULL)
    *free_at = first_free;
  return NONE;
}

/* After a holder died: recount, and end the update it may have left open. Slots need nothing:
 * each update published itself in one store (see the top of this file). */
static void repair(fo_shmdict *d) {
  fo__word live = 0;
  for (size_t i = 0; i < d->nslots; i++)
    live += LOAD(&slot_at(d, i)->state) == FULL;
  STORE(&d->h->count, live);
  fo__word seq = LOAD(&d->h->seq);
  if (seq & 1)
    fo__st(&d->h->seq, seq + 1, FO__RELEASE);
}

static int lock(fo_shmdict *d) {
  int rc = pthread_mutex_lock(&d->h->lock);
  if (rc == EOWNERDEAD) {
    repair(d);
    rc = pthread_mutex_consistent(&d->h->lock);
    if (rc != 0)
      pthread_mutex_unlock(&d->h->lock);
  }
  return -rc;
}

static void unlock(fo_shmdict *d) {
  pthread_mutex_unlock(&d->h->lock);
}

static void write_begin(fo_shmdict *d) {
  STORE(&d->h->seq, LOAD(&d->h->seq) + 1);
  fo__fence(FO__RELEASE);
}

static void write_end(fo_shmdict *d) {
  fo__st(&d->h->seq, LOAD(&d->h->seq) + 1, FO__RELEASE);
}

/* ---------------------------------------------------------------------------------- create */

int fo_shmdict_create(fo_shmdict **dp, size_t capacity, size_t key_max) {
  if (dp == NULL)
    return -EINVAL;
  *dp = NULL;
  if (capacity == 0 || capacity > FO_SHMDICT_CAPACITY_MAX || key_max == 0 ||
      key_max > FO_SHMDICT_KEY_MAX)
    return -EINVAL;
  fo_shmdict *d = fo__calloc(1, sizeof *d);
  if (d == NULL)
    return -ENOMEM;
  d->capacity = capacity;
  d->key_max = key_max;
  d->key_words = key_max / 4 + 1;
  /* Rounded to 8 bytes: the value of the next slot stays aligned for an 8-byte atomic. */
  d->slot_size = (sizeof(slot) + d->key_words * 4 + 7) & ~(size_t)7;
  /* At most half full: probe chains stay short, and an empty slot always ends a miss early. */
  d->nslots = 8;
  while (d->nslots < 2 * capacity)
    d->nslots *= 2;
  d->mask = d->nslots - 1;
  size_t head = (sizeof(header) + 63) & ~(size_t)63;
  if (d->nslots > (SIZE_MAX - head) / d->slot_size) { /* only with a 32-bit size_t */
    fo__free(d);
    return -ENOMEM;
  }
  int rc = fo_shm_create(&d->shm, head + d->nslots * d->slot_size);
  if (rc < 0) {
    fo__free(d);
    return rc;
  }
  d->h = fo_shm_addr(d->shm);
  d->slots = (unsigned char *)d->h + head;
  pthread_mutexattr_t attr;
  rc = pthread_mutexattr_init(&attr);
  if (rc == 0) {
    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
      rc = fo__fault_at(FO__FAULT_ROBUST) ? errno
                                          : pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
      rc = pthread_mutex_init(&d->h->lock, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  /* No robust mutex (a C library or kernel without robust futexes; glibc under qemu-user): a
   * process that died holding a plain lock would block every other one for good, so the dict is
   * refused rather than offered without its crash safety. */
  if (rc == ENOTSUP || rc == EOPNOTSUPP || rc == ENOSYS)
    rc = EOPNOTSUPP;
  if (rc != 0) {
    fo_shm_destroy(d->shm);
    fo__free(d);
    return -rc;
  }
  d->h->magic = MAGIC; /* the region is zero-filled: count, seq and every slot start at 0 */
  *dp = d;
  return 0;
}

void fo_shmdict_destroy(fo_shmdict *d) {
  if (d == NULL)
    return;
  /* The mutex is not destroyed: other processes may still use it, and a process-shared mutex
   * holds nothing outside the region. */
  fo_shm_destroy(d->shm);
  fo__free(d);
}

size_t fo_shmdict_capacity(const fo_shmdict *d) {
  return d != NULL ? d->capacity : 0;
}

/* ------------------------------------------------------------------------------------ reads */

int fo_shmdict_get(fo_shmdict *d, const char *key, int64_t *value) {
  qkey q;
  int rc = value == NULL ? -EINVAL : prepare(d, key, &q);
  if (rc < 0)
    return rc;
  for (int t = 0; t < READ_TRIES; t++) {
    fo__word s1 = fo__ld(&d->h->seq, FO__ACQUIRE);
    if (s1 & 1)
      continue;
    size_t i = find(d, &q, NULL);
    int64_t v = i != NONE ? LOAD_VALUE(slot_at(d, i)) : 0;
    fo__fence(FO__ACQUIRE);
    if (LOAD(&d->h->seq) == s1) {
      if (i == NONE)
        return FO_ENOTFOUND;
      *value = v;
      return 0;
    }
  }
  if ((rc = lock(d)) < 0)
    return rc;
  size_t i = find(d, &q, NULL);
  if (i != NONE)
    *value = LOAD_VALUE(slot_at(d, i));
  unlock(d);
  return i != NONE ? 0 : FO_ENOTFOUND;
}

int fo_shmdict_count(fo_shmdict *d) {
  if (d == NULL)
    return -EINVAL;
  for (int t = 0; t < READ_TRIES; t++) {
    fo__word s1 = fo__ld(&d->h->seq, FO__ACQUIRE);
    if (s1 & 1)
      continue;
    fo__word n = LOAD(&d->h->count);
    fo__fence(FO__ACQUIRE);
    if (LOAD(&d->h->seq) == s1)
      return (int)n;
  }
  int rc = lock(d);
  if (rc < 0)
    return rc;
  int n = (int)LOAD(&d->h->count);
  unlock(d);
  return n;
}

/* ---------------------------------------------------------------------------------- updates */

/* Publish q with value v in the free slot i (lock held, capacity checked). */
static void insert_at(fo_shmdict *d, size_t i, const qkey *q, int64_t v) {
  slot *s = slot_at(d, i);
  write_begin(d);
  STORE(&s->hash, (fo__word)q->hash);
  STORE(&s->len, (fo__word)q->len);
  STORE_VALUE(s, v);
  for (size_t k = 0; k < q->words; k++)
    STORE(&s->key[k], q->w[k]);
  fo__st(&s->state, FULL, FO__RELEASE);
  STORE(&d->h->count, LOAD(&d->h->count) + 1);
  write_end(d);
}

/* Set (add == 0) or add to (add != 0) the value of key, under the lock. */
static int update(fo_shmdict *d, const char *key, int64_t v, int add, int64_t *result) {
  qkey q;
  int rc = prepare(d, key, &q);
  if (rc < 0 || (rc = lock(d)) < 0)
    return rc;
  size_t free_at, i = find(d, &q, &free_at);
  int64_t now = v;
  if (i != NONE) {
    slot *s = slot_at(d, i);
    if (add && __builtin_add_overflow(LOAD_VALUE(s), v, &now)) {
      rc = -ERANGE;
    } else if (FO__SPLIT64_ATOMIC) {
      STORE_VALUE(s, now);
    } else {
      write_begin(d);
      STORE_VALUE(s, now);
      write_end(d);
    }
  } else if (LOAD(&d->h->count) >= d->capacity || free_at == NONE) {
    rc = FO_EFULL;
  } else {
    insert_at(d, free_at, &q, now);
  }
  unlock(d);
  if (rc == 0 && result != NULL)
    *result = now;
  return rc;
}

int fo_shmdict_set(fo_shmdict *d, const char *key, int64_t value) {
  return update(d, key, value, 0, NULL);
}

int fo_shmdict_add(fo_shmdict *d, const char *key, int64_t delta, int64_t *result) {
  return update(d, key, delta, 1, result);
}

int fo_shmdict_delete(fo_shmdict *d, const char *key) {
  qkey q;
  int rc = prepare(d, key, &q);
  if (rc < 0 || (rc = lock(d)) < 0)
    return rc;
  size_t i = find(d, &q, NULL);
  if (i == NONE) {
    unlock(d);
    return FO_ENOTFOUND;
  }
  write_begin(d);
  fo__st(&slot_at(d, i)->state, TOMB, FO__RELEASE);
  STORE(&d->h->count, LOAD(&d->h->count) - 1);
  /* A tombstone followed by an empty slot ends no probe chain that anything lies beyond, so it
   * can become empty, and so can the tombstones before it: misses stay short. */
  if (LOAD(&slot_at(d, (i + 1) & d->mask)->state) == EMPTY)
    for (size_t n = 0, j = i; n < d->nslots && LOAD(&slot_at(d, j)->state) == TOMB;
         n++, j = (j - 1) & d->mask)
      fo__st(&slot_at(d, j)->state, EMPTY, FO__RELEASE);
  write_end(d);
  unlock(d);
  return 0;
}

/* --------------------------------------------------------------------------------- iterate */

int fo_shmdict_foreach(fo_shmdict *d, fo_shmdict_fn fn, void *arg) {
  if (d == NULL || fn == NULL)
    return -EINVAL;
  int rc = lock(d);
  if (rc < 0)
    return rc;
  /* Each snapshot entry: the value, then the key and its NUL. */
  size_t n = LOAD(&d->h->count), esize = 8 + d->key_words * 4, got = 0;
  if (n == 0) { /* nothing to copy: an empty dict is walked even with no memory left */
    unlock(d);
    return 0;
  }
  unsigned char *snap = fo__malloc(n * esize);
  if (snap == NULL) {
    unlock(d);
    return -ENOMEM;
  }
  for (size_t i = 0; i < d->nslots && got < n; i++) {
    slot *s = slot_at(d, i);
    if (LOAD(&s->state) != FULL)
      continue;
    unsigned char *e = snap + got++ * esize;
    int64_t v = LOAD_VALUE(s);
    memcpy(e, &v, 8);
    for (size_t k = 0; k < d->key_words; k++) {
      fo__word w = LOAD(&s->key[k]);
      memcpy(e + 8 + k * 4, &w, 4);
    }
    size_t len = LOAD(&s->len);
    e[8 + (len <= d->key_max ? len : d->key_max)] = '\0';
  }
  unlock(d);
  rc = 0;
  for (size_t k = 0; k < got && rc == 0; k++) {
    int64_t v;
    memcpy(&v, snap + k * esize, 8);
    rc = fn((const char *)snap + k * esize + 8, v, arg);
  }
  fo__free(snap);
  return rc;
}

/* ----------------------------------------------------------------------------------- tests */

int fo__shmdict_hold_mid_update(fo_shmdict *d, int64_t skew) {
  int rc = lock(d);
  if (rc < 0)
    return rc;
  write_begin(d);
  STORE(&d->h->count, LOAD(&d->h->count) + (fo__word)skew);
  return 0;
}
