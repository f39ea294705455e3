/* Where a JSON error is: the offset, line and column that fo_json_parse(), fo_json_each() and the
 * satellite calls report with each verdict. Part of the json and sat suites. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <string.h>

#include "fanout/json.h"
#include "fanout/sat.h"
#include "helpers/fixture.h"
#include "suites.h"

static int nop_element(const fo_json *doc, int v, size_t index, void *arg) {
  (void)doc;
  (void)v;
  (void)index;
  (void)arg;
  return 0;
}

typedef struct {
  const char *text;
  size_t len; /* 0: strlen(text) */
  size_t max_tokens, max_depth;
  int code;
  size_t offset, line, column;
} pos_row;

/* Each row is checked through the whole-document parse and, where it applies, the streaming
 * walk, which must agree. Offsets point at the first byte the parser could not take. */
static const pos_row rows[] = {
    {"[1 2]", 0, 0, 0, FO_EJSON, 3, 1, 4},              /* no comma before 2 */
    {"{\n  \"a\": tru\n}", 0, 0, 0, FO_EJSON, 9, 2, 8}, /* the bad literal */
    {"[1,2", 0, 0, 0, FO_EJSONTRUNC, 4, 1, 5},          /* cut off: the end */
    {"[\n[\n[1]]]", 0, 0, 2, FO_EJSONDEPTH, 4, 3, 1},   /* the bracket too deep */
    {"\"a\x01z\"", 0, 0, 0, FO_EJSON, 0, 1, 1},         /* raw control byte: the string */
    {"[1]\n x", 0, 0, 0, FO_EJSON, 5, 2, 2},            /* a second value */
    {"[1,\0]", 5, 0, 0, FO_EJSON, 3, 1, 4},             /* the NUL byte */
    {"{\"a\":1,}", 0, 0, 0, FO_EJSON, 6, 1, 7},         /* the trailing comma */
    {"  \n ", 0, 0, 0, FO_EJSONTRUNC, 4, 2, 2},         /* only whitespace */
    {"[{\"a\":1},\n {\"b\":2},]", 0, 0, 0, FO_EJSON, 18, 2, 9},
    {"[1,2,3,4,5,6]", 0, 4, 0, FO_ETOOBIG, 7, 1, 8},              /* the fifth token: parse only */
    {"[[{\"b\":null}]{\"id\":1}]", 0, 0, 0, FO_EJSON, 13, 1, 14}, /* past the closed ones */
    {"[1,2,3]", 0, 0, 0, 0, 0, 0, 0},                             /* success has no position */
};

START_TEST(errors_carry_offset_line_and_column) {
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const pos_row *r = &rows[i];
    size_t len = r->len ? r->len : strlen(r->text);
    fo_json_limits lim = {r->max_tokens, r->max_depth};
    fo_json *doc = NULL;
    fo_json_error e = {1, 99, 99, 99};
    int rc = fo_json_parse(r->text, len, &lim, &doc, &e);
    fo_json_free(doc);
    ck_assert_msg(rc == r->code && e.code == rc && e.offset == r->offset && e.line == r->line &&
                      e.column == r->column,
                  "row %zu: rc %d code %d at %zu (%zu:%zu), want %d at %zu (%zu:%zu)", i, rc,
                  e.code, e.offset, e.line, e.column, r->code, r->offset, r->line, r->column);
    if (r->max_tokens != 0 || r->text[0] != '[')
      continue; /* streaming holds one element's tokens, and wants an array */
    fo_json_error w = {1, 99, 99, 99};
    rc = fo_json_each(r->text, len, &lim, nop_element, NULL, &w);
    ck_assert_msg(rc == r->code && w.code == rc && w.offset == e.offset && w.line == e.line &&
                      w.column == e.column,
                  "row %zu each: rc %d at %zu (%zu:%zu)", i, rc, w.offset, w.line, w.column);
  }
}
END_TEST

static int stop_at_second(const fo_json *doc, int v, size_t index, void *arg) {
  (void)doc;
  (void)v;
  (void)arg;
  return index == 1 ? 42 : 0;
}

/* Codes that are not the parser's verdict on the text have no position. */
START_TEST(other_results_have_no_position) {
  fo_json_error e = {1, 9, 9, 9};
  fo_json *doc;
  ck_assert_int_eq(fo_json_parse("[1]", 3, NULL, NULL, &e), -EINVAL);
  ck_assert(e.code == -EINVAL && e.line == 0 && e.offset == 0 && e.column == 0);
  ck_assert_int_eq(fo_json_parse(NULL, 3, NULL, &doc, &e), -EINVAL);
  ck_assert(e.code == -EINVAL && e.line == 0);
  ck_assert_int_eq(fo_json_each("[1]", 3, NULL, NULL, NULL, &e), -EINVAL);
  ck_assert(e.code == -EINVAL && e.line == 0);
  e.line = 9;
  ck_assert_int_eq(fo_json_each("[1,2,3]", 7, NULL, stop_at_second, NULL, &e), 42);
  ck_assert(e.code == 42 && e.line == 0); /* the callback's own result */
  ck_assert_int_eq(fo_json_each("{}", 2, NULL, nop_element, NULL, &e), FO_EJSONTYPE);
  ck_assert(e.code == FO_EJSONTYPE && e.line == 0);
  /* err may be NULL everywhere */
  ck_assert_int_eq(fo_json_parse("[1 2]", 5, NULL, &doc, NULL), FO_EJSON);
}
END_TEST

static int count_record(const fo_sat_record *rec, size_t index, void *arg) {
  (void)rec;
  (void)index;
  ++*(int *)arg;
  return 0;
}

/* The satellite layer passes JSON positions on, and places a refused record at its start. */
START_TEST(satellite_errors_are_placed) {
  static const char good[] = "{\"id\":\"5eed770f096e590006985610\"}";
  static const char list[] = "[{\"id\":\"5eed770f096e590006985610\"},\n {\"id\":\"bad\"}]";
  fo_sat_record rec;
  fo_json_error e = {1, 9, 9, 9};
  ck_assert_int_eq(fo_sat_parse(good, strlen(good), NULL, &rec, &e), 0);
  ck_assert(e.code == 0 && e.line == 0);
  ck_assert_int_eq(fo_sat_parse("{\"id\" 1}", 8, NULL, &rec, &e), FO_EJSON);
  ck_assert(e.code == FO_EJSON && e.offset == 6 && e.line == 1 && e.column == 7);
  ck_assert_int_eq(fo_sat_parse("{\"id\":\"bad\"}", 12, NULL, &rec, &e), FO_EBADID);
  ck_assert(e.code == FO_EBADID && e.line == 0);
  int records = 0;
  ck_assert_int_eq(fo_sat_list_parse(list, strlen(list), NULL, count_record, &records, &e),
                   FO_EBADID);
  ck_assert_int_eq(records, 1);
  ck_assert_msg(e.code == FO_EBADID && e.offset == 37 && e.line == 2 && e.column == 2,
                "%d at %zu (%zu:%zu)", e.code, e.offset, e.line, e.column);
  size_t count = 0;
  static const char cut[] = "[{\"id\":\"5eed770f096e590006985610\"},";
  ck_assert_int_eq(fo_sat_list_ids(cut, strlen(cut), NULL, NULL, 0, &count, &e), FO_EJSONTRUNC);
  ck_assert(e.code == FO_EJSONTRUNC && e.offset == 35 && e.line == 1 && e.column == 36);
  char ids[1][FO_SAT_ID_LEN + 1];
  static const char two[] =
      "[{\"id\":\"5eed770f096e590006985610\"},{\"id\":\"5eed770f096e590006985611\"}]";
  ck_assert_int_eq(fo_sat_list_ids(two, strlen(two), NULL, ids, 1, &count, &e), FO_ETOOBIG);
  ck_assert(e.code == FO_ETOOBIG && e.line == 0 && count == 2); /* cap, not the text */
}
END_TEST

void json_error_cases(Suite *s) {
  TCase *tc = fo_tcase("error_positions", 10);
  tcase_add_test(tc, errors_carry_offset_line_and_column);
  tcase_add_test(tc, other_results_have_no_position);
  tcase_add_test(tc, satellite_errors_are_placed);
  suite_add_tcase(s, tc);
}
