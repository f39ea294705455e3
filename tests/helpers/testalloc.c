#include "config.h"

#include "testalloc.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/fanout.h"

/* Each block carries a header so a free of something the hook never handed out is caught. */
#define TA_MAGIC 0x66616e6f75740a00ull
typedef struct {
  uint64_t magic;
  size_t size;
} ta_header;
#define TA_HDR ((sizeof(ta_header) + 15) & ~(size_t)15)

static long outstanding, attempts, failures, fail_at, fail_sticky;
/* Bytes handed out and not yet freed, and the most there ever were (ta_peak_bytes). */
static size_t live_bytes, peak_bytes;

static void count_bytes(size_t add, size_t sub) {
  size_t now = __atomic_add_fetch(&live_bytes, add - sub, __ATOMIC_SEQ_CST);
  size_t peak = __atomic_load_n(&peak_bytes, __ATOMIC_SEQ_CST);
  while (now > peak && !__atomic_compare_exchange_n(&peak_bytes, &peak, now, 0, __ATOMIC_SEQ_CST,
                                                    __ATOMIC_SEQ_CST))
    ;
}

static int should_fail(void) {
  long n = __atomic_add_fetch(&attempts, 1, __ATOMIC_SEQ_CST);
  long at = __atomic_load_n(&fail_at, __ATOMIC_SEQ_CST);
  if (at > 0 && (n == at || (n > at && __atomic_load_n(&fail_sticky, __ATOMIC_SEQ_CST)))) {
    __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
    return 1;
  }
  return 0;
}

static void *ta_malloc(size_t size, void *ctx) {
  (void)ctx;
  /* ck_abort_msg on the failing branch only: every ck_assert is a write to Check's pipe, which
   * would make each allocation a system call. */
  if (size == 0)
    ck_abort_msg("the hook was asked for 0 bytes");
  if (should_fail())
    return NULL;
  ta_header *h = malloc(TA_HDR + size);
  if (h == NULL)
    return NULL;
  h->magic = TA_MAGIC;
  h->size = size;
  count_bytes(size, 0);
  __atomic_add_fetch(&outstanding, 1, __ATOMIC_SEQ_CST);
  /* Fill with garbage so code that relies on fresh memory being zero fails visibly. */
  memset((char *)h + TA_HDR, 0xa5, size);
  return (char *)h + TA_HDR;
}

static ta_header *header_of(void *ptr) {
  ta_header *h = (ta_header *)(void *)((char *)ptr - TA_HDR);
  if (h->magic != TA_MAGIC)
    ck_abort_msg("block %p was not allocated through the hook", ptr);
  return h;
}

static void *ta_realloc(void *ptr, size_t size, void *ctx) {
  (void)ctx;
  if (ptr == NULL || size == 0)
    ck_abort_msg("realloc hook called with NULL or 0");
  ta_header *h = header_of(ptr);
  if (should_fail())
    return NULL;
  size_t old = h->size;
  ta_header *n = realloc(h, TA_HDR + size);
  if (n == NULL)
    return NULL;
  n->size = size;
  count_bytes(size, old);
  return (char *)n + TA_HDR;
}

static void ta_free(void *ptr, void *ctx) {
  (void)ctx;
  if (ptr == NULL)
    ck_abort_msg("free hook called with NULL");
  ta_header *h = header_of(ptr);
  h->magic = 0;
  count_bytes(0, h->size);
  __atomic_sub_fetch(&outstanding, 1, __ATOMIC_SEQ_CST);
  free(h);
}

void ta_install(void) {
  static const fo_allocator a = {ta_malloc, ta_realloc, ta_free, NULL};
  outstanding = attempts = failures = fail_at = fail_sticky = 0;
  live_bytes = peak_bytes = 0;
  ck_assert_int_eq(fo_set_allocator(&a), 0);
}

void ta_uninstall(void) {
  ck_assert_int_eq(fo_set_allocator(NULL), 0);
}

long ta_outstanding(void) {
  return __atomic_load_n(&outstanding, __ATOMIC_SEQ_CST);
}

long ta_attempts(void) {
  return __atomic_load_n(&attempts, __ATOMIC_SEQ_CST);
}

long ta_failures(void) {
  return __atomic_load_n(&failures, __ATOMIC_SEQ_CST);
}

void ta_fail_at(long n, int sticky) {
  __atomic_store_n(&fail_sticky, (long)sticky, __ATOMIC_SEQ_CST);
  __atomic_store_n(&fail_at, n > 0 ? ta_attempts() + n : 0, __ATOMIC_SEQ_CST);
}

long ta_oom_loop(int (*op)(void *arg), void (*undo)(void *arg), void *arg) {
  long before = ta_outstanding();
  for (long n = 1; n < 100000; n++) {
    ta_fail_at(n, 0);
    long failed_before = ta_failures();
    int rc = op(arg);
    int injected = ta_failures() > failed_before;
    ta_fail_at(0, 0);
    if (rc == 0) {
      ck_assert_msg(!injected, "allocation %ld failed but the operation reported success", n);
      if (undo != NULL)
        undo(arg);
      ck_assert_msg(ta_outstanding() == before, "%ld allocations outstanding after undo",
                    ta_outstanding() - before);
      return n - 1;
    }
    ck_assert_msg(rc == -ENOMEM, "allocation %ld failed: expected -ENOMEM, got %d (%s)", n, rc,
                  fo_strerror(rc));
    ck_assert_msg(ta_outstanding() == before, "allocation %ld failed: %ld allocations leaked", n,
                  ta_outstanding() - before);
  }
  ck_abort_msg("operation never succeeded within 100000 allocations");
  return -1;
}

size_t ta_peak_bytes(void) {
  return __atomic_load_n(&peak_bytes, __ATOMIC_SEQ_CST);
}

void ta_reset_peak(void) {
  __atomic_store_n(&peak_bytes, __atomic_load_n(&live_bytes, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
}
