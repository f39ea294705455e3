/* The thread pool's queue: a bounded many-producer many-consumer ring of task slots (Dmitry
 * Vyukov's design). Submitters and workers pass tasks without taking a lock, so a lock is only
 * ever taken to sleep or to wake someone, and the queue never allocates after creation.
 *
 * Each slot carries a sequence number that says whose turn it is: a slot at position pos is free
 * for the producer of pos when seq == pos, holds that producer's task when seq == pos + 1, and
 * becomes free for the producer of pos + capacity when the consumer sets seq = pos + capacity.
 * Positions only grow (size_t wraps harmlessly: only differences are compared), so `tail` also
 * counts every task ever queued, which fo_tpool_wait() relies on.
 *
 * Filling and freeing a slot are sequentially consistent stores, not just release stores: the
 * pool's sleep and wake-up decisions (a producer checking for sleeping workers after filling, a
 * worker checking for work after saying it sleeps) are Dekker-style and need them. Internal. */
#ifndef FO_SRC_TPOOL_RING_H
#define FO_SRC_TPOOL_RING_H

#include <stddef.h>
#include <stdint.h>

#include "fanout/tpool.h"

typedef struct fo__slot {
  size_t seq;
  fo_tpool_fn fn;
  void *arg;
  fo_tpool_group *group;
} fo__slot;

/* What a consumer takes out of a slot. */
typedef struct fo__task {
  fo_tpool_fn fn;
  void *arg;
  fo_tpool_group *group;
} fo__task;

/* Slots must number a power of two; slot i starts with seq = i. */
static inline void fo__ring_init(fo__slot *slots, size_t capacity) {
  for (size_t i = 0; i < capacity; i++)
    slots[i].seq = i;
}

/* 1 if queued, 0 if the ring is full. */
static inline int fo__ring_push(fo__slot *slots, size_t mask, size_t *tail, const fo__task *t) {
  size_t pos = __atomic_load_n(tail, __ATOMIC_RELAXED);
  for (;;) {
    fo__slot *s = &slots[pos & mask];
    intptr_t dif = (intptr_t)(__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) - pos);
    if (dif == 0) {
      /* The slot is ours once the CAS wins; the task data is published by the seq store. */
      if (__atomic_compare_exchange_n(tail, &pos, pos + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        s->fn = t->fn;
        s->arg = t->arg;
        s->group = t->group;
        __atomic_store_n(&s->seq, pos + 1, __ATOMIC_SEQ_CST);
        return 1;
      }
    } else if (dif < 0) {
      return 0; /* the slot still holds a task from one lap ago */
    } else {
      pos = __atomic_load_n(tail, __ATOMIC_RELAXED); /* another producer took pos */
    }
  }
}

/* 1 with the task in *t, 0 if nothing is ready. A slot that a producer has claimed but not yet
 * filled counts as empty: that producer wakes a worker after filling it. The CAS on head is
 * sequentially consistent so that a consumer which frees a slot later sees every claim made
 * before (the pool's "half the queue is free" decision reads head after freeing). */
static inline int fo__ring_pop(fo__slot *slots, size_t mask, size_t *head, fo__task *t) {
  size_t pos = __atomic_load_n(head, __ATOMIC_RELAXED);
  for (;;) {
    fo__slot *s = &slots[pos & mask];
    intptr_t dif = (intptr_t)(__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) - (pos + 1));
    if (dif == 0) {
      if (__atomic_compare_exchange_n(head, &pos, pos + 1, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
        t->fn = s->fn;
        t->arg = s->arg;
        t->group = s->group;
        __atomic_store_n(&s->seq, pos + mask + 1, __ATOMIC_SEQ_CST);
        return 1;
      }
    } else if (dif < 0) {
      return 0;
    } else {
      pos = __atomic_load_n(head, __ATOMIC_RELAXED);
    }
  }
}

/* Whether the slot at the head holds a task (or the head moved on meanwhile: a cheap "maybe"
 * that errs towards yes, used only to decide whether to wake one more worker). */
static inline int fo__ring_maybe_nonempty(fo__slot *slots, size_t mask, size_t *head) {
  size_t pos = __atomic_load_n(head, __ATOMIC_RELAXED);
  size_t seq = __atomic_load_n(&slots[pos & mask].seq, __ATOMIC_ACQUIRE);
  return (intptr_t)(seq - (pos + 1)) >= 0;
}

#endif /* FO_SRC_TPOOL_RING_H */
