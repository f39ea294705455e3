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
  ck_assert_msg(size > 0, "the hook was asked for 0 bytes");
  if (should_fail())
    return NULL;
  ta_header *h = malloc(TA_HDR + size);
  if (h == NULL)
    return NULL;
  h->magic = TA_MAGIC;
  h->size = size;
  __atomic_add_fetch(&outstanding, 1, __ATOMIC_SEQ_CST);
  /* Fill with garbage so code that relies on fresh memory being zero fails visibly. */
  memset((char *)h + TA_HDR, 0xa5, size);
  return (char *)h + TA_HDR;
}

static ta_header *header_of(void *ptr) {
  ta_header *h = (ta_header *)(void *)((char *)ptr - TA_HDR);
  ck_assert_msg(h->magic == TA_MAGIC, "block %p was not allocated through the hook", ptr);
  return h;
}

static void *ta_realloc(void *ptr, size_t size, void *ctx) {
  (void)ctx;
  ck_assert_msg(ptr != NULL && size > 0, "realloc hook called with NULL or 0");
  ta_header *h = header_of(ptr);
  if (should_fail())
    return NULL;
  ta_header *n = realloc(h, TA_HDR + size);
  if (n == NULL)
    return NULL;
  n->size = size;
  return (char *)n + TA_HDR;
}

static void ta_free(void *ptr, void *ctx) {
  (void)ctx;
  ck_assert_msg(ptr != NULL, "free hook called with NULL");
  ta_header *h = header_of(ptr);
  h->magic = 0;
  __atomic_sub_fetch(&outstanding, 1, __ATOMIC_SEQ_CST);
  free(h);
}

void ta_install(void) {
  static const fo_allocator a = {ta_malloc, ta_realloc, ta_free, NULL};
  outstanding = attempts = failures = fail_at = fail_sticky = 0;
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
