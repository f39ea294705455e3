/* The allocator hook, and the test allocator every other suite relies on. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base_internal.h"
#include "fanout/fanout.h"
#include "helpers/fixture.h"
#include "helpers/testalloc.h"
#include "suites.h"

/* A hook of the test's own, to see what reaches it. */
typedef struct {
  int mallocs, reallocs, frees;
  size_t last_size;
} spy;

static void *spy_malloc(size_t size, void *ctx) {
  spy *s = ctx;
  s->mallocs++;
  s->last_size = size;
  return malloc(size);
}
static void *spy_realloc(void *p, size_t size, void *ctx) {
  spy *s = ctx;
  s->reallocs++;
  s->last_size = size;
  return realloc(p, size);
}
static void spy_free(void *p, void *ctx) {
  spy *s = ctx;
  s->frees++;
  free(p);
}

START_TEST(hook_sees_every_call_with_its_context) {
  spy s = {0};
  fo_allocator a = {spy_malloc, spy_realloc, spy_free, &s};
  ck_assert_int_eq(fo_set_allocator(&a), 0);
  a.ctx = NULL; /* the table was copied: changing ours afterwards must not matter */
  char *p = fo__malloc(10);
  ck_assert_ptr_nonnull(p);
  p = fo__realloc(p, 100);
  ck_assert_ptr_nonnull(p);
  fo__free(p);
  fo__free(NULL);
  ck_assert_int_eq(fo_set_allocator(NULL), 0);
  ck_assert_int_eq(s.mallocs, 1);
  ck_assert_int_eq(s.reallocs, 1);
  ck_assert_int_eq(s.frees, 1);
  ck_assert_uint_eq(s.last_size, 100);
  ta_install(); /* the fixture's teardown expects it */
}
END_TEST

START_TEST(incomplete_table_is_refused_and_keeps_the_old_hook) {
  spy s = {0};
  fo_allocator a = {spy_malloc, NULL, spy_free, &s};
  ck_assert_int_eq(fo_set_allocator(&a), -EINVAL);
  a.realloc = spy_realloc;
  a.free = NULL;
  ck_assert_int_eq(fo_set_allocator(&a), -EINVAL);
  a.free = spy_free;
  a.malloc = NULL;
  ck_assert_int_eq(fo_set_allocator(&a), -EINVAL);
  void *p = fo__malloc(8); /* still the test allocator from the fixture */
  ck_assert_int_eq(ta_outstanding(), 1);
  fo__free(p);
  ck_assert_int_eq(s.mallocs, 0);
}
END_TEST

START_TEST(zero_size_is_one_byte_and_never_null) {
  void *p = fo__malloc(0);
  ck_assert_ptr_nonnull(p);
  void *q = fo__calloc(0, 16);
  ck_assert_ptr_nonnull(q);
  p = fo__realloc(p, 0);
  ck_assert_ptr_nonnull(p);
  fo__free(p);
  fo__free(q);
}
END_TEST

START_TEST(calloc_zeroes_and_refuses_overflow) {
  unsigned char *p = fo__calloc(7, 13); /* the test allocator fills fresh blocks with 0xa5 */
  ck_assert_ptr_nonnull(p);
  for (int i = 0; i < 7 * 13; i++)
    ck_assert_uint_eq(p[i], 0);
  fo__free(p);
  long before = ta_attempts();
  ck_assert_ptr_null(fo__calloc(SIZE_MAX / 2, 3));
  ck_assert_ptr_null(fo__calloc(3, SIZE_MAX / 2));
  ck_assert_int_eq(ta_attempts(), before); /* refused before reaching the hook */
}
END_TEST

START_TEST(realloc_failure_keeps_the_block) {
  char *p = fo__malloc(4);
  memcpy(p, "abc", 4);
  ta_fail_at(1, 0);
  ck_assert_ptr_null(fo__realloc(p, 1 << 20));
  ck_assert_str_eq(p, "abc");
  char *q = fo__realloc(NULL, 5); /* NULL acts as malloc, and the injection was one-shot */
  ck_assert_ptr_nonnull(q);
  fo__free(q);
  fo__free(p);
}
END_TEST

START_TEST(strdup_copies) {
  char *p = fo__strdup("satellite");
  ck_assert_str_eq(p, "satellite");
  fo__free(p);
  ta_fail_at(1, 0);
  ck_assert_ptr_null(fo__strdup("x"));
}
END_TEST

/* An operation with three allocations, for the out-of-memory loop's own test. */
typedef struct {
  char *a, *b, *c;
} three;

static int make_three(void *arg) {
  three *t = arg;
  t->a = fo__strdup("a");
  t->b = t->a ? fo__malloc(32) : NULL;
  t->c = t->b ? fo__calloc(4, 4) : NULL;
  if (t->c == NULL) {
    fo__free(t->b);
    fo__free(t->a);
    return -ENOMEM;
  }
  return 0;
}

static void free_three(void *arg) {
  three *t = arg;
  fo__free(t->a);
  fo__free(t->b);
  fo__free(t->c);
}

START_TEST(oom_loop_fails_each_allocation_in_turn) {
  three t;
  ck_assert_int_eq(ta_oom_loop(make_three, free_three, &t), 3);
}
END_TEST

START_TEST(sticky_injection_fails_everything_after) {
  ta_fail_at(2, 1);
  void *a = fo__malloc(1);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_null(fo__malloc(1));
  ck_assert_ptr_null(fo__malloc(1));
  ck_assert_int_eq(ta_failures(), 2);
  ta_fail_at(0, 0);
  fo__free(a);
}
END_TEST

Suite *alloc_suite(void) {
  Suite *s = suite_create("alloc");
  TCase *tc = fo_tcase("hook", 5);
  tcase_add_test(tc, hook_sees_every_call_with_its_context);
  tcase_add_test(tc, incomplete_table_is_refused_and_keeps_the_old_hook);
  tcase_add_test(tc, zero_size_is_one_byte_and_never_null);
  tcase_add_test(tc, calloc_zeroes_and_refuses_overflow);
  tcase_add_test(tc, realloc_failure_keeps_the_block);
  tcase_add_test(tc, strdup_copies);
  suite_add_tcase(s, tc);
  tc = fo_tcase("testalloc", 5);
  tcase_add_test(tc, oom_loop_fails_each_allocation_in_turn);
  tcase_add_test(tc, sticky_injection_fails_everything_after);
  suite_add_tcase(s, tc);
  return s;
}
