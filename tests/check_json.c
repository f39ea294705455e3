/* The JSON layer: strict acceptance, truncation told apart from garbage, typed reads, string
 * and number decoding, hostile input within bounded time and memory, streaming, OOM. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/json.h"
#include "json/json_internal.h"
#include "gen/starlink_gen.h"
#include "helpers/files.h"
#include "helpers/fixture.h"
#include "helpers/testalloc.h"
#include "suites.h"

static int parse_rc(const char *s, size_t n) {
  fo_json *doc = NULL;
  int rc = fo_json_parse(s, n, NULL, &doc, NULL);
  ck_assert(rc == 0 ? doc != NULL : doc == NULL);
  fo_json_free(doc);
  return rc;
}

static fo_json *parse_ok(const char *s) {
  fo_json *doc = NULL;
  int rc = fo_json_parse(s, strlen(s), NULL, &doc, NULL);
  ck_assert_msg(rc == 0, "parse of %s: %s", s, fo_strerror(rc));
  return doc;
}

/* ---------------------------------------------------------------- acceptance */

typedef struct {
  const char *text;
  int rc;
} verdict;

static const verdict verdicts[] = {
    /* valid, in every form RFC 8259 allows */
    {"{}", 0},
    {"[]", 0},
    {" \t\r\n[ ] \n", 0},
    {"0", 0},
    {"-0", 0},
    {"-0.000064871", 0},
    {"1.5e-7", 0},
    {"1E+400", 0},
    {"12e0", 0},
    {"true", 0},
    {"false ", 0},
    {"null", 0},
    {"\"\"", 0},
    {"\"\\ud83d\\ude00\\u00e9\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 0},
    {"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"", 0},
    {"{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":true}", 0},
    {"[1,[2,[3,[4]]],{\"\":\"\"}]", 0},
    {"{\"a\":1,\"a\":2}", 0},
    /* cut short: a valid beginning */
    {"", FO_EJSONTRUNC},
    {"   ", FO_EJSONTRUNC},
    {"[", FO_EJSONTRUNC},
    {"[1,", FO_EJSONTRUNC},
    {"[1 ", FO_EJSONTRUNC},
    {"{\"a\"", FO_EJSONTRUNC},
    {"{\"a\" :", FO_EJSONTRUNC},
    {"{\"a\":[1,{", FO_EJSONTRUNC},
    {"\"abc", FO_EJSONTRUNC},
    {"[\"a\\", FO_EJSONTRUNC},
    {"[\"\\u12", FO_EJSONTRUNC},
    {"[\"\\ud83d", FO_EJSONTRUNC},
    {"[\"\\ud83d\\", FO_EJSONTRUNC},
    {"[\"\\ud83d\\ude", FO_EJSONTRUNC},
    {"[\"\xf0\x9f\x98", FO_EJSONTRUNC},
    {"tru", FO_EJSONTRUNC},
    {"-", FO_EJSONTRUNC},
    {"[1.", FO_EJSONTRUNC},
    {"[1e+", FO_EJSONTRUNC},
    {"[-", FO_EJSONTRUNC},
    {"[nul", FO_EJSONTRUNC},
    /* malformed: what jsmn's strict mode lets through, and the rest */
    {"[1 2]", FO_EJSON},
    {"{\"a\" \"b\"}", FO_EJSON},
    {"{\"a\":1 \"b\":2}", FO_EJSON},
    {"{\"a\":\"b\" \"c\"}", FO_EJSON},
    {"[1:2]", FO_EJSON},
    {"[\"a\":1]", FO_EJSON},
    {"{\"a\":1,}", FO_EJSON},
    {"[1,]", FO_EJSON},
    {"[,1]", FO_EJSON},
    {"{,}", FO_EJSON},
    {"{\"a\"}", FO_EJSON},
    {"{\"a\":}", FO_EJSON},
    {"{\"a\",\"b\"}", FO_EJSON},
    {"{1:2}", FO_EJSON},
    {"[1]]", FO_EJSON},
    {"{}}", FO_EJSON},
    {"[}", FO_EJSON},
    {"{}{}", FO_EJSON},
    {"1 2", FO_EJSON},
    {"\"a\" \"b\"", FO_EJSON},
    {"\"a\":1", FO_EJSON},
    {"[01]", FO_EJSON},
    {"[-]", FO_EJSON},
    {"[1.]", FO_EJSON},
    {"[.5]", FO_EJSON},
    {"[+1]", FO_EJSON},
    {"[1e]", FO_EJSON},
    {"[0x10]", FO_EJSON},
    {"[1x]", FO_EJSON},
    {"[tru]", FO_EJSON},
    {"[nullx]", FO_EJSON},
    {"[True]", FO_EJSON},
    {"[NaN]", FO_EJSON},
    {"[Infinity]", FO_EJSON},
    {"[-Infinity]", FO_EJSON},
    {"nul l", FO_EJSON},
    {"- 1", FO_EJSON},
    {"[1.x", FO_EJSON},
    {"'a'", FO_EJSON},
    {"[\"a\tb\"]", FO_EJSON},
    {"[\"a\nb\"]", FO_EJSON},
    {"[\"\\x\"]", FO_EJSON},
    {"[\"\\u12G4\"]", FO_EJSON},
    {"[\"\\U0041\"]", FO_EJSON},
    {"[\"\\ud800\"]", FO_EJSON},
    {"[\"\\udc00\"]", FO_EJSON},
    {"[\"\\ud800\\u0041\"]", FO_EJSON},
    {"[\"\\ud800\\ud800\"]", FO_EJSON},
    {"[\"\\ud800x\"]", FO_EJSON},
    {"[\"\xc0\x80\"]", FO_EJSON},         /* overlong NUL */
    {"[\"\xe0\x80\xaf\"]", FO_EJSON},     /* overlong '/' */
    {"[\"\xed\xa0\x80\"]", FO_EJSON},     /* an encoded surrogate */
    {"[\"\xf4\x90\x80\x80\"]", FO_EJSON}, /* above U+10FFFF */
    {"[\"\xf5\x80\x80\x80\"]", FO_EJSON},
    {"[\"\x80\"]", FO_EJSON},     /* a lone continuation byte */
    {"[\"\xc3\"]", FO_EJSON},     /* a sequence cut by the quote */
    {"[\"\xe2\x82\"]", FO_EJSON}, /* likewise */
    {"[\xc3\xa9]", FO_EJSON},     /* non-ASCII outside a string */
    {"\xef\xbb\xbf[]", FO_EJSON}, /* a byte-order mark is not JSON */
    {"[1,\"a\xff", FO_EJSON},     /* garbage in a cut-off string is still garbage */
    {"[\"\\q", FO_EJSON},
    {"{\"a\":1 x", FO_EJSON},
    {"[] x", FO_EJSON},
    {"[]\"", FO_EJSON},
};

START_TEST(verdicts_on_valid_truncated_and_malformed_input) {
  for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
    const verdict *v = &verdicts[i];
    guard_buf g;
    guard_copy(&g, v->text, strlen(v->text));
    int rc = parse_rc(g.data, strlen(v->text));
    guard_free(&g);
    ck_assert_msg(rc == v->rc, "%s: expected %d (%s), got %d (%s)", v->text, v->rc,
                  fo_strerror(v->rc), rc, fo_strerror(rc));
  }
}
END_TEST

START_TEST(nul_bytes_are_malformed_wherever_they_are) {
  static const struct {
    const char *s;
    size_t n;
  } cases[] = {
      {"[1,\0 2]", 7}, {"{}\0", 3}, {"[\"a\0b\"]", 7}, {"[\"a\0", 4}, {"\0", 1}, {"[1\0", 3},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ck_assert_int_eq(parse_rc(cases[i].s, cases[i].n), FO_EJSON);
}
END_TEST

/* A document with every kind of token, escapes, nesting and number forms. */
static const char rich[] =
    "{\"spaceTrack\":{\"OBJECT_NAME\":\"STARLINK-30\",\"BSTAR\":-0.000064871,\"E\":1.5e-7,"
    "\"K\":\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"DECAY_DATE\":null},"
    " \"list\" : [ 0 , -0 , 12E+2 , true , false , null , [ ] , { } , [[[\"deep\"]]] ],"
    "\"\\u0069d\":\"5eed770f096e59000698560d\"}";

START_TEST(every_prefix_is_truncated_and_never_read_past) {
  char doc[GEN_DOC_MAX];
  const char *texts[] = {rich, doc};
  size_t lens[] = {strlen(rich), gen_starlink_doc(doc, 3)};
  for (size_t t = 0; t < 2; t++) {
    for (size_t n = 0; n < lens[t]; n++) {
      guard_buf g;
      guard_copy(&g, texts[t], n);
      int rc = parse_rc(g.data, n);
      guard_free(&g);
      ck_assert_msg(rc == FO_EJSONTRUNC, "text %zu cut at %zu: %s", t, n, fo_strerror(rc));
    }
    ck_assert_int_eq(parse_rc(texts[t], lens[t]), 0);
  }
}
END_TEST

/* ---------------------------------------------------------------- walking and typed reads */

START_TEST(types_and_navigation) {
  fo_json *doc = parse_ok(rich);
  int root = fo_json_root(doc);
  ck_assert_int_eq(root, 0);
  ck_assert_int_eq(fo_json_typeof(doc, root), FO_JSON_OBJECT);
  ck_assert_int_eq(fo_json_size(doc, root), 3);
  int list = fo_json_get(doc, root, "list");
  ck_assert_int_eq(fo_json_size(doc, list), 9);
  static const int types[] = {FO_JSON_NUMBER, FO_JSON_NUMBER, FO_JSON_NUMBER,
                              FO_JSON_TRUE,   FO_JSON_FALSE,  FO_JSON_NULL,
                              FO_JSON_ARRAY,  FO_JSON_OBJECT, FO_JSON_ARRAY};
  int n = 0;
  for (int v = fo_json_first(doc, list); v >= 0; v = fo_json_next(doc, v), n++) {
    ck_assert_int_eq(fo_json_typeof(doc, v), types[n]);
    ck_assert_int_eq(fo_json_index(doc, list, (size_t)n), v);
  }
  ck_assert_int_eq(n, 9);
  ck_assert_int_eq(fo_json_index(doc, list, 9), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_first(doc, fo_json_index(doc, list, 6)), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_first(doc, fo_json_index(doc, list, 0)), FO_EJSONTYPE);
  /* keys, in order, with values reached through them; an escaped key counts decoded */
  static const char *const keys[] = {"spaceTrack", "list", "id"};
  n = 0;
  for (int k = fo_json_first(doc, root); k >= 0; k = fo_json_next(doc, k), n++) {
    ck_assert_int_eq(fo_json_equals(doc, k, keys[n], strlen(keys[n])), 1);
    ck_assert_int_eq(fo_json_get(doc, root, keys[n]), fo_json_value(doc, k));
    ck_assert_int_eq(fo_json_next(doc, fo_json_value(doc, k)), -EINVAL);
  }
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(fo_json_value(doc, list), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_next(doc, root), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_get(doc, root, "missing"), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_get(doc, list, "x"), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_get(doc, root, NULL), -EINVAL);
  ck_assert_int_eq(fo_json_typeof(NULL, 0), -EINVAL);
  ck_assert_int_eq(fo_json_typeof(doc, 10000), -EINVAL);
  const char *raw;
  size_t rn;
  ck_assert_int_eq(fo_json_raw(doc, fo_json_index(doc, list, 7), &raw, &rn), 0);
  ck_assert_int_eq((int)rn, 3);
  ck_assert(memcmp(raw, "{ }", 3) == 0);
  fo_json_free(doc);
}
END_TEST

START_TEST(members_in_one_call_each) {
  fo_json *doc = parse_ok("{\"a\":[1,{\"x\":2}],\"b\":{},\"c\":\"s\"} ");
  static const char *const keys[] = {"a", "b", "c"};
  const char *key;
  size_t n;
  int it = 0, v, count = 0;
  while ((v = fo_json_member(doc, 0, &it, &key, &n)) >= 0) {
    ck_assert(n == 1 && key[0] == keys[count][0]);
    ck_assert_int_eq(v, fo_json_get(doc, 0, keys[count]));
    count++;
  }
  ck_assert_int_eq(v, FO_ENOTFOUND);
  ck_assert_int_eq(count, 3);
  ck_assert_int_eq(fo_json_member(doc, 0, &it, &key, &n), FO_ENOTFOUND); /* stays at the end */
  it = 0;
  ck_assert_int_eq(fo_json_member(doc, fo_json_get(doc, 0, "b"), &it, &key, &n), FO_ENOTFOUND);
  it = 0;
  ck_assert_int_eq(fo_json_member(doc, fo_json_get(doc, 0, "a"), &it, &key, &n), FO_EJSONTYPE);
  it = 2; /* not a key of the root */
  ck_assert_int_eq(fo_json_member(doc, 0, &it, &key, &n), -EINVAL);
  ck_assert_int_eq(fo_json_member(doc, 0, NULL, &key, &n), -EINVAL);
  ck_assert_int_eq(fo_json_member(doc, FO_ENOTFOUND, &it, &key, &n), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_has_escapes(doc), 0);
  ck_assert_int_eq(fo_json_has_escapes(NULL), -EINVAL);
  fo_json_free(doc);
  /* an escaped key: raw text differs from the decoded one, and the document says so */
  doc = parse_ok("{\"\\u0061\":1}");
  ck_assert_int_eq(fo_json_has_escapes(doc), 1);
  it = 0;
  v = fo_json_member(doc, 0, &it, &key, &n);
  ck_assert_int_eq(v, 2);
  ck_assert_uint_eq(n, 6);
  ck_assert_int_eq(fo_json_equals(doc, v - 1, "a", 1), 1);
  ck_assert_int_eq(fo_json_get(doc, 0, "a"), v);
  fo_json_free(doc);
}
END_TEST

START_TEST(paths_and_chained_errors) {
  fo_json *doc = parse_ok(rich);
  int root = fo_json_root(doc);
  char name[16];
  size_t n;
  ck_assert_int_eq(
      fo_json_string(doc, fo_json_path(doc, root, "spaceTrack.OBJECT_NAME"), name, sizeof name, &n),
      0);
  ck_assert_str_eq(name, "STARLINK-30");
  ck_assert_uint_eq(n, 11);
  ck_assert_int_eq(fo_json_is_null(doc, fo_json_path(doc, root, "spaceTrack.DECAY_DATE")), 1);
  ck_assert_int_eq(fo_json_is_null(doc, fo_json_path(doc, root, "spaceTrack.BSTAR")), 0);
  ck_assert_int_eq(fo_json_typeof(doc, fo_json_path(doc, root, "list.8.0.0.0")), FO_JSON_STRING);
  ck_assert_int_eq(fo_json_path(doc, root, ""), root);
  ck_assert_int_eq(fo_json_path(doc, root, "list.9"), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_path(doc, root, "list.x"), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_path(doc, root, "list.99999999999999999999999"), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_path(doc, root, "spaceTrack.BSTAR.x"), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_path(doc, root, "nothing.at.all"), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_path(doc, root, "a..b"), -EINVAL);
  ck_assert_int_eq(fo_json_path(doc, root, ".a"), -EINVAL);
  ck_assert_int_eq(fo_json_path(doc, root, "list."), -EINVAL);
  ck_assert_int_eq(fo_json_path(doc, root, NULL), -EINVAL);
  /* an error handle flows through every reader unchanged */
  int missing = fo_json_path(doc, root, "spaceTrack.NOPE");
  double d;
  int64_t i;
  int b;
  ck_assert_int_eq(fo_json_string(doc, missing, name, sizeof name, NULL), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_number(doc, missing, &d), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_int64(doc, missing, &i), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_bool(doc, missing, &b), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_is_null(doc, missing), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_get(doc, missing, "x"), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_size(doc, missing), FO_ENOTFOUND);
  ck_assert_int_eq(fo_json_path(doc, missing, "x"), FO_ENOTFOUND);
  fo_json_free(doc);

  /* a digit segment is a key in an object */
  doc = parse_ok("{\"0\":{\"1\":[10,11]}}");
  ck_assert_int_eq(fo_json_int64(doc, fo_json_path(doc, 0, "0.1.1"), &i), 0);
  ck_assert_int_eq((int)i, 11);
  fo_json_free(doc);
}
END_TEST

START_TEST(typed_reads_refuse_other_types) {
  fo_json *doc = parse_ok("[\"s\", 1, true, false, null, [], {}]");
  char buf[8];
  double d;
  int64_t i;
  int b;
  for (int k = 0; k < 7; k++) {
    int v = fo_json_index(doc, 0, (size_t)k);
    int t = fo_json_typeof(doc, v);
    ck_assert_int_eq(fo_json_string(doc, v, buf, sizeof buf, NULL),
                     t == FO_JSON_STRING ? 0 : FO_EJSONTYPE);
    ck_assert_int_eq(fo_json_number(doc, v, &d), t == FO_JSON_NUMBER ? 0 : FO_EJSONTYPE);
    ck_assert_int_eq(fo_json_int64(doc, v, &i), t == FO_JSON_NUMBER ? 0 : FO_EJSONTYPE);
    ck_assert_int_eq(fo_json_bool(doc, v, &b),
                     t == FO_JSON_TRUE || t == FO_JSON_FALSE ? 0 : FO_EJSONTYPE);
    if (t == FO_JSON_TRUE || t == FO_JSON_FALSE)
      ck_assert_int_eq(b, t == FO_JSON_TRUE);
    ck_assert_int_eq(fo_json_is_null(doc, v), t == FO_JSON_NULL);
    ck_assert_int_eq(fo_json_size(doc, v),
                     t == FO_JSON_ARRAY || t == FO_JSON_OBJECT ? 0 : FO_EJSONTYPE);
  }
  fo_json_free(doc);
}
END_TEST

/* ---------------------------------------------------------------- strings */

START_TEST(strings_decode_escapes_and_surrogates) {
  fo_json *doc = parse_ok(
      "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\\ud83d\\ude00\\uDBFF\\uDFFF\","
      " \"x\\u0000y\", \"\xc3\xa9 plain\", \"\"]");
  char buf[64];
  size_t n;
  ck_assert_int_eq(fo_json_string(doc, fo_json_index(doc, 0, 0), buf, sizeof buf, &n), 0);
  ck_assert_uint_eq(n, 12);
  ck_assert(memcmp(buf, "a\"b\\c/d\b\f\n\r\t", 13) == 0);
  ck_assert_int_eq(fo_json_string(doc, fo_json_index(doc, 0, 1), buf, sizeof buf, &n), 0);
  ck_assert_str_eq(buf, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
  ck_assert_uint_eq(n, 13);
  /* \u0000 is a byte like any other: the length tells */
  ck_assert_int_eq(fo_json_string(doc, fo_json_index(doc, 0, 2), buf, sizeof buf, &n), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert(memcmp(buf, "x\0y", 4) == 0);
  ck_assert_int_eq(fo_json_equals(doc, fo_json_index(doc, 0, 2), "x\0y", 3), 1);
  ck_assert_int_eq(fo_json_equals(doc, fo_json_index(doc, 0, 2), "x", 1), 0);
  ck_assert_int_eq(fo_json_string(doc, fo_json_index(doc, 0, 3), buf, sizeof buf, NULL), 0);
  ck_assert_str_eq(buf, "\xc3\xa9 plain");
  ck_assert_int_eq(fo_json_string(doc, fo_json_index(doc, 0, 4), buf, sizeof buf, &n), 0);
  ck_assert_uint_eq(n, 0);
  ck_assert_str_eq(buf, "");
  ck_assert_int_eq(fo_json_equals(doc, fo_json_index(doc, 0, 1), "\xc3\xa9\xe2\x82\xac", 5), 0);
  ck_assert_int_eq(fo_json_equals(doc, fo_json_index(doc, 0, 0), "a\"b\\c/d\b\f\n\r\t", 12), 1);
  fo_json_free(doc);
}
END_TEST

START_TEST(strings_never_truncate) {
  fo_json *doc = parse_ok("[\"STARLINK-30\", \"\\u00e9t\\u00e9\"]");
  char buf[16];
  size_t n = 0;
  int v = fo_json_index(doc, 0, 0);
  ck_assert_int_eq(fo_json_string(doc, v, NULL, 0, &n), 0); /* size query */
  ck_assert_uint_eq(n, 11);
  memset(buf, 'x', sizeof buf);
  ck_assert_int_eq(fo_json_string(doc, v, buf, 11, &n), FO_ETOOBIG); /* no room for the NUL */
  ck_assert_uint_eq(n, 11);
  ck_assert_str_eq(buf, "");
  ck_assert_int_eq(fo_json_string(doc, v, buf, 12, &n), 0);
  ck_assert_str_eq(buf, "STARLINK-30");
  /* the decoded length counts, not the raw one */
  v = fo_json_index(doc, 0, 1);
  ck_assert_int_eq(fo_json_string(doc, v, NULL, 0, &n), 0);
  ck_assert_uint_eq(n, 5);
  ck_assert_int_eq(fo_json_string(doc, v, buf, 5, &n), FO_ETOOBIG);
  ck_assert_int_eq(fo_json_string(doc, v, buf, 6, &n), 0);
  ck_assert_str_eq(buf, "\xc3\xa9t\xc3\xa9");
  ck_assert_int_eq(fo_json_string(doc, v, buf, 0, NULL), FO_ETOOBIG);
  fo_json_free(doc);
}
END_TEST

/* ---------------------------------------------------------------- numbers */

/* The same text through strtod (correctly rounded in glibc and musl) in the C locale. */
static void check_number(const char *text) {
  char doc[2048];
  snprintf(doc, sizeof doc, "[%s]", text);
  fo_json *d = parse_ok(doc);
  double got, want = strtod(text, NULL);
  int rc = fo_json_number(d, fo_json_index(d, 0, 0), &got);
  fo_json_free(d);
  if (isinf(want)) {
    ck_assert_msg(rc == -ERANGE && got == want, "%s: expected -ERANGE", text);
    return;
  }
  ck_assert_msg(rc == 0, "%s: %s", text, fo_strerror(rc));
  ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "%s: got %.17g, want %.17g", text, got, want);
}

START_TEST(numbers_in_every_form_round_correctly) {
  static const char *const texts[] = {"0",
                                      "-0",
                                      "1",
                                      "-1",
                                      "0.5",
                                      "44244",
                                      "16.43170483",
                                      "0.000012426",
                                      "-0.000064871",
                                      "1.5e-7",
                                      "1E+2",
                                      "1e-2",
                                      "12E0",
                                      "0.1",
                                      "0.3",
                                      "123456789012345",
                                      "1234567890123456",
                                      "9007199254740993",
                                      "18446744073709551616",
                                      "123456789012345678901234567890",
                                      "0.1000000000000000055511151231257827021181583404541015625",
                                      "2.2250738585072011e-308",
                                      "2.2250738585072012e-308",
                                      "4.9e-324",
                                      "2.4703282292062327e-324",
                                      "1e-400",
                                      "1.7976931348623157e308",
                                      "1.7976931348623159e308",
                                      "1e400",
                                      "-1e400",
                                      "398.16973111329935",
                                      "-108.09237781249814",
                                      "7.676266787209534",
                                      "1e23",
                                      "8.5e-22",
                                      "0.00000000000000000000000000000000000000000000000000001",
                                      "1e99999999999999999999",
                                      "1e-99999999999999999999"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    check_number(texts[i]);
  /* more digits than a double can tell apart, with the deciding digit far down (sticky tail) */
  char big[1600];
  memset(big, '0', sizeof big);
  big[0] = '1';
  big[1] = '.';
  big[1200] = '1';
  big[1201] = '\0';
  check_number(big);
  memcpy(big, "9007199254740993", 16);
  big[16] = '.';
  big[1300] = '\0';
  check_number(big);
}
END_TEST

/* Many numbers of every length and scale around the fast path's edges (16 digits, 2^53,
 * 10^22), in one document, each against strtod. Plain comparisons: a Check assertion per number
 * would cost more than the conversions. */
START_TEST(numbers_agree_with_strtod_on_random_input) {
  enum { N = 20000 };
  char *doc = malloc((size_t)N * 40 + 2), (*texts)[40] = malloc((size_t)N * 40);
  ck_assert(doc != NULL && texts != NULL);
  size_t at = 0;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  doc[at++] = '[';
  for (int i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: the same numbers every run */
    int digits = 1 + (int)(x % 19), point = (int)((x >> 8) % (uint64_t)(digits + 1));
    int exp = (int)((x >> 16) % 61) - 30, use_exp = (int)((x >> 24) % 3) == 0;
    char *t = texts[i];
    size_t k = 0;
    if ((x >> 30) & 1)
      t[k++] = '-';
    uint64_t y = x;
    for (int d = 0; d < digits; d++) {
      if (d == point && d > 0)
        t[k++] = '.';
      t[k++] = (char)('0' + (d == 0 ? 1 + y % 9 : y % 10));
      y = y / 10 ^ (y << 7);
    }
    if (use_exp)
      k += (size_t)snprintf(t + k, 12, "e%d", exp);
    t[k] = '\0';
    at += (size_t)sprintf(doc + at, "%s%s", i > 0 ? "," : "", t);
  }
  doc[at++] = ']';
  fo_json *d;
  ck_assert_int_eq(fo_json_parse(doc, at, NULL, &d, NULL), 0);
  int v = fo_json_first(d, 0);
  for (int i = 0; i < N; i++, v = fo_json_next(d, v)) {
    double got, want = strtod(texts[i], NULL);
    if (fo_json_number(d, v, &got) != 0 || memcmp(&got, &want, sizeof got) != 0)
      ck_abort_msg("%s: got %.17g, want %.17g", texts[i], got, want);
  }
  fo_json_free(d);
  free(doc);
  free(texts);
}
END_TEST

/* The digits a printed double needs (17) up to what a 64-bit significand holds (19), at every
 * power of ten the fast table covers and a few beyond, and integers up to 2^64 where halfway
 * cases between doubles are common (round to even), each against strtod. */
START_TEST(long_significands_agree_with_strtod) {
  enum { N = 200000 };
  uint64_t x = 0x2545F4914F6CDD1Dull;
  long bad = 0;
  char first[64] = "";
  for (int i = 0; i < N; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    char t[64];
    int k;
    if (i % 4 == 0) /* an integer, often odd beyond 2^53 */
      k = snprintf(t, sizeof t, "%llu", (unsigned long long)(x >> (x % 11)));
    else if (i % 4 == 1) /* a double printed to 17 digits */
      k = snprintf(t, sizeof t, "%.17g", (double)(x >> 11) * 0x1p-53 * 1e3);
    else { /* 17 to 19 digits at 10^-45 .. 10^45 */
      int digits = 17 + (int)((x >> 3) % 3), exp = (int)((x >> 40) % 91) - 45;
      uint64_t m = x % 10000000000000000000ull;
      k = snprintf(t, sizeof t, "%0*llue%d", digits, (unsigned long long)m, exp);
      t[0] = (char)('1' + (x >> 50) % 9); /* no leading zero */
    }
    ck_assert(k > 0 && (size_t)k < sizeof t);
    double got, want = strtod(t, NULL);
    if (fo__json_to_double(t, (size_t)k, &got) != 0 || memcmp(&got, &want, sizeof got) != 0)
      if (bad++ == 0)
        snprintf(first, sizeof first, "%s", t);
  }
  ck_assert_msg(bad == 0, "%ld of %d differ from strtod, first %s", bad, N, first);
}
END_TEST

START_TEST(numbers_ignore_the_locale) {
  static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8",  "fr_FR.UTF-8",
                                        "fr_FR.utf8",  "nl_NL.UTF-8", "ru_RU.UTF-8"};
  const char *found = NULL;
  for (size_t i = 0; i < sizeof locales / sizeof locales[0] && found == NULL; i++)
    if (setlocale(LC_NUMERIC, locales[i]) != NULL)
      found = locales[i];
  if (found == NULL) {
    fprintf(stderr, "SKIP numbers_ignore_the_locale: no locale with a decimal comma installed\n");
    return;
  }
  fo_json *doc = parse_ok("[1.5, 0.1000000000000000055511151231257827, -6.4871e-5]");
  double d;
  ck_assert_int_eq(fo_json_number(doc, fo_json_index(doc, 0, 0), &d), 0);
  ck_assert(d == 1.5);
  ck_assert_int_eq(fo_json_number(doc, fo_json_index(doc, 0, 1), &d), 0);
  ck_assert(d == 0.1);
  ck_assert_int_eq(fo_json_number(doc, fo_json_index(doc, 0, 2), &d), 0);
  ck_assert(d == -6.4871e-5);
  fo_json_free(doc);
  setlocale(LC_NUMERIC, "C");
}
END_TEST

START_TEST(integers_are_exact_or_refused) {
  fo_json *doc = parse_ok("[44244, -9223372036854775808, 9223372036854775807, "
                          "9223372036854775808, -9223372036854775809, 1.0, 1e3, -0]");
  int64_t v;
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 0), &v), 0);
  ck_assert(v == 44244);
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 1), &v), 0);
  ck_assert(v == INT64_MIN);
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 2), &v), 0);
  ck_assert(v == INT64_MAX);
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 3), &v), -ERANGE);
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 4), &v), -ERANGE);
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 5), &v), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 6), &v), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 7), &v), 0);
  ck_assert(v == 0);
  fo_json_free(doc);
}
END_TEST

/* ---------------------------------------------------------------- hostile input */

START_TEST(deep_nesting_stops_at_the_cap) {
  size_t n;
  /* a million brackets: refused after at most a few hundred tokens, not after a quadratic walk */
  char *s = fx_repeat("", "[", 1000000, "", &n);
  ck_assert_int_eq(parse_rc(s, n), FO_EJSONDEPTH);
  free(s);
  s = fx_repeat("", "{\"a\":", 100000, "1", &n);
  ck_assert_int_eq(parse_rc(s, n), FO_EJSONDEPTH);
  free(s);
  /* at the cap exactly, and one past it */
  char *open = fx_repeat("", "[", FO_JSON_MAX_DEPTH, "", &n);
  char *close = fx_repeat("", "]", FO_JSON_MAX_DEPTH, "", &n);
  char doc[4 * FO_JSON_MAX_DEPTH];
  snprintf(doc, sizeof doc, "%s%s", open, close);
  ck_assert_int_eq(parse_rc(doc, strlen(doc)), 0);
  snprintf(doc, sizeof doc, "[%s%s]", open, close);
  ck_assert_int_eq(parse_rc(doc, strlen(doc)), FO_EJSONDEPTH);
  fo_json_limits lim = {0, FO_JSON_MAX_DEPTH + 1};
  fo_json *d;
  ck_assert_int_eq(fo_json_parse(doc, strlen(doc), &lim, &d, NULL), 0);
  fo_json_free(d);
  lim.max_depth = 3;
  ck_assert_int_eq(fo_json_parse("[[[1]]]", 7, &lim, &d, NULL), 0);
  fo_json_free(d);
  ck_assert_int_eq(fo_json_parse("[[[[1]]]]", 9, &lim, &d, NULL), FO_EJSONDEPTH);
  free(open);
  free(close);
}
END_TEST

START_TEST(wide_and_long_input_within_caps) {
  /* A wide object is what makes jsmn without parent links quadratic. */
  size_t n;
  char *s = fx_repeat("{", "\"key\":[1,{}],", 200000, "\"last\":\"found\"}", &n);
  fo_json *doc;
  ck_assert_int_eq(fo_json_parse(s, n, NULL, &doc, NULL), 0);
  ck_assert_int_eq(fo_json_size(doc, 0), 200001);
  ck_assert_int_eq(fo_json_equals(doc, fo_json_get(doc, 0, "last"), "found", 5), 1);
  fo_json_free(doc);
  free(s);
  s = fx_repeat("[", "0,", 1000000, "1]", &n);
  ck_assert_int_eq(fo_json_parse(s, n, NULL, &doc, NULL), 0);
  ck_assert_int_eq(fo_json_size(doc, 0), 1000001);
  int64_t v;
  ck_assert_int_eq(fo_json_int64(doc, fo_json_index(doc, 0, 1000000), &v), 0);
  ck_assert(v == 1);
  fo_json_free(doc);
  /* the token cap: bounded memory whatever the input */
  fo_json_limits lim = {1000, 0};
  ck_assert_int_eq(fo_json_parse(s, n, &lim, &doc, NULL), FO_ETOOBIG);
  free(s);
  s = fx_repeat("[\"", "x", 3000000, "\"]", &n); /* one long string: two tokens */
  ck_assert_int_eq(fo_json_parse(s, n, &lim, &doc, NULL), 0);
  size_t len;
  ck_assert_int_eq(fo_json_string(doc, fo_json_index(doc, 0, 0), NULL, 0, &len), 0);
  ck_assert_uint_eq(len, 3000000);
  fo_json_free(doc);
  free(s);
}
END_TEST

START_TEST(repeated_keys_take_the_last) {
  fo_json *doc = parse_ok("{\"a\":1,\"b\":2,\"a\":3,\"a\\u0000\":4}");
  int64_t v;
  ck_assert_int_eq(fo_json_int64(doc, fo_json_get(doc, 0, "a"), &v), 0);
  ck_assert(v == 3);
  ck_assert_int_eq(fo_json_size(doc, 0), 4);
  fo_json_free(doc);
}
END_TEST

static int count_element(const fo_json *view, int v, size_t index, void *arg) {
  (void)view;
  (void)v;
  (void)index;
  ++*(size_t *)arg;
  return 0;
}

START_TEST(the_first_error_wins_however_the_work_is_split) {
  /* Too deep, and later a mismatched bracket: the depth comes first in the text, whether jsmn
   * meets the bracket in the same call (fo_json_each starts with room for 512 tokens) or not
   * (fo_json_parse starts small). Found by the fuzzer. */
  size_t n;
  char *s = fx_repeat("{\"longitude\":", "[", 118, "-81.5,\"x\"}", &n);
  ck_assert_int_eq(parse_rc(s, n), FO_EJSONDEPTH);
  size_t count = 0;
  ck_assert_int_eq(fo_json_each(s, n, NULL, count_element, &count, NULL), FO_EJSONDEPTH);
  free(s);
  s = fx_repeat("[", "[", 100, "]}", &n);
  ck_assert_int_eq(parse_rc(s, n), FO_EJSONDEPTH);
  ck_assert_int_eq(fo_json_each(s, n, NULL, count_element, &count, NULL), FO_EJSONDEPTH);
  free(s);
  /* a key that is an object: jsmn takes a token it never fills */
  ck_assert_int_eq(parse_rc("{{}:1}", 6), FO_EJSON);
  ck_assert_int_eq(fo_json_each("[{[]:1}]", 8, NULL, count_element, &count, NULL), FO_EJSON);
}
END_TEST

/* ---------------------------------------------------------------- streaming */

/* A canonical dump of a value, so a streamed element can be compared with the same element
 * of a whole parse. */
static void dump(const fo_json *doc, int v, char *out, size_t *at, size_t cap) {
  int t = fo_json_typeof(doc, v);
  ck_assert_int_gt(t, 0);
  ck_assert_uint_lt(*at + 64, cap);
  if (t == FO_JSON_ARRAY || t == FO_JSON_OBJECT) {
    out[(*at)++] = t == FO_JSON_ARRAY ? '[' : '{';
    for (int k = fo_json_first(doc, v); k >= 0; k = fo_json_next(doc, k)) {
      dump(doc, k, out, at, cap);
      if (t == FO_JSON_OBJECT)
        dump(doc, fo_json_value(doc, k), out, at, cap);
    }
    out[(*at)++] = t == FO_JSON_ARRAY ? ']' : '}';
    return;
  }
  const char *raw;
  size_t n;
  ck_assert_int_eq(fo_json_raw(doc, v, &raw, &n), 0);
  ck_assert_uint_lt(*at + n + 4, cap);
  out[(*at)++] = (char)('0' + t);
  memcpy(out + *at, raw, n);
  *at += n;
  out[(*at)++] = ';';
}

/* A list whose elements range from one token to a few thousand, so streaming both moves tokens
 * down and grows its array. */
static char *mixed_list(size_t *len) {
  size_t cap = 1 << 20, at = 0;
  char *s = malloc(cap);
  ck_assert_ptr_nonnull(s);
  s[at++] = '[';
  for (int i = 0; i < 400; i++) {
    if (i > 0)
      s[at++] = ',';
    int width = (i * 7919) % 97 == 0 ? 2000 : (i * 31) % 13;
    if (i % 5 == 0) {
      at += (size_t)snprintf(s + at, cap - at, "%d", i);
      continue;
    }
    s[at++] = '{';
    for (int k = 0; k < width; k++)
      at += (size_t)snprintf(s + at, cap - at, "%s\"k%d\":[%d,{\"s\":\"v\\u00e9\"}]",
                             k > 0 ? "," : "", k, k);
    s[at++] = '}';
  }
  s[at++] = ']';
  *len = at;
  return s;
}

typedef struct {
  const fo_json *whole;
  size_t count;
  int stop_at;
} each_ctx;

static int compare_element(const fo_json *view, int v, size_t index, void *arg) {
  each_ctx *c = arg;
  static char a[200000], b[200000];
  size_t na = 0, nb = 0;
  ck_assert_int_eq(fo_json_root(view), v);
  ck_assert_int_eq(fo_json_next(view, v), FO_ENOTFOUND);
  dump(view, v, a, &na, sizeof a);
  dump(c->whole, fo_json_index(c->whole, 0, index), b, &nb, sizeof b);
  ck_assert_msg(na == nb && memcmp(a, b, na) == 0, "element %zu differs", index);
  ck_assert_uint_eq(index, c->count);
  c->count++;
  return (int)index == c->stop_at ? 42 : 0;
}

START_TEST(each_streams_the_same_elements_as_a_whole_parse) {
  size_t len;
  char *s = mixed_list(&len);
  fo_json *whole;
  ck_assert_int_eq(fo_json_parse(s, len, NULL, &whole, NULL), 0);
  each_ctx c = {whole, 0, -1};
  ck_assert_int_eq(fo_json_each(s, len, NULL, compare_element, &c, NULL), 0);
  ck_assert_uint_eq(c.count, 400);
  /* the callback's nonzero result stops the walk and comes back */
  c.count = 0;
  c.stop_at = 123;
  ck_assert_int_eq(fo_json_each(s, len, NULL, compare_element, &c, NULL), 42);
  ck_assert_uint_eq(c.count, 124);
  fo_json_free(whole);
  free(s);
}
END_TEST

START_TEST(each_holds_one_element_at_a_time) {
  size_t len, count = 0;
  char *list = gen_starlink_list(500, &len);
  ck_assert_ptr_nonnull(list);
  /* Each document is about 100 tokens: a cap of 300 is enough to stream, not to parse whole. */
  fo_json_limits lim = {300, 0};
  ck_assert_int_eq(fo_json_each(list, len, &lim, count_element, &count, NULL), 0);
  ck_assert_uint_eq(count, 500);
  fo_json *doc;
  ck_assert_int_eq(fo_json_parse(list, len, &lim, &doc, NULL), FO_ETOOBIG);
  lim.max_tokens = 50; /* smaller than one element */
  ck_assert_int_eq(fo_json_each(list, len, &lim, count_element, &count, NULL), FO_ETOOBIG);
  free(list);
}
END_TEST

START_TEST(each_wants_an_array_and_reports_errors) {
  size_t count = 0;
  ck_assert_int_eq(fo_json_each("{}", 2, NULL, count_element, &count, NULL), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_each("\"x\"", 3, NULL, count_element, &count, NULL), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_each("5", 1, NULL, count_element, &count, NULL), FO_EJSONTYPE);
  ck_assert_int_eq(fo_json_each("[]", 2, NULL, count_element, &count, NULL), 0);
  ck_assert_int_eq(fo_json_each("[1,2", 4, NULL, count_element, &count, NULL), FO_EJSONTRUNC);
  ck_assert_int_eq(fo_json_each("[1,2]]", 6, NULL, count_element, &count, NULL), FO_EJSON);
  ck_assert_int_eq(fo_json_each("[1]", 3, NULL, NULL, NULL, NULL), -EINVAL);
  ck_assert_int_eq(fo_json_each(NULL, 1, NULL, count_element, &count, NULL), -EINVAL);
  char doc[GEN_DOC_MAX + 2];
  size_t n = gen_starlink_doc(doc + 1, 0);
  doc[0] = '[';
  for (size_t cut = 0; cut <= n; cut++) {
    guard_buf g;
    guard_copy(&g, doc, cut + 1);
    ck_assert_int_eq(fo_json_each(g.data, cut + 1, NULL, count_element, &count, NULL), FO_EJSONTRUNC);
    guard_free(&g);
  }
}
END_TEST

/* ---------------------------------------------------------------- real documents */

START_TEST(real_list_and_documents_parse) {
  const char *dir = fx_dir("real_list_and_documents_parse");
  if (dir == NULL)
    return;
  size_t len;
  char *list = fx_read(dir, "starlink_list_first55_2021-05-19.json", &len);
  ck_assert_ptr_nonnull(list);
  fo_json *doc;
  ck_assert_int_eq(fo_json_parse(list, len, NULL, &doc, NULL), 0);
  ck_assert_int_eq(fo_json_size(doc, 0), 55);
  size_t count;
  char **names = fx_names(dir, "one", ".json", &count);
  ck_assert_uint_eq(count, 55);
  for (size_t i = 0; i < count; i++) {
    char path[256], id[32];
    snprintf(path, sizeof path, "one/%s", names[i]);
    size_t n;
    char *one = fx_read(dir, path, &n);
    ck_assert_ptr_nonnull(one);
    fo_json *d;
    ck_assert_int_eq(fo_json_parse(one, n, NULL, &d, NULL), 0);
    /* each file is one element of the list, cut byte for byte: same id, same bytes */
    ck_assert_int_eq(fo_json_string(d, fo_json_get(d, 0, "id"), id, sizeof id, NULL), 0);
    ck_assert(strncmp(names[i], id, 24) == 0);
    const char *raw;
    size_t rn;
    ck_assert_int_eq(fo_json_raw(doc, fo_json_index(doc, 0, i), &raw, &rn), 0);
    ck_assert(rn == n && memcmp(raw, one, n) == 0);
    fo_json_free(d);
    free(one);
  }
  fo_json_free(doc);
  fx_free_names(names);
  free(list);
}
END_TEST

/* ---------------------------------------------------------------- out of memory */

typedef struct {
  const char *s;
  size_t n;
  fo_json *doc;
} parse_arg;

static int op_parse(void *arg) {
  parse_arg *a = arg;
  return fo_json_parse(a->s, a->n, NULL, &a->doc, NULL);
}

static void undo_parse(void *arg) {
  parse_arg *a = arg;
  fo_json_free(a->doc);
  a->doc = NULL;
}

static int op_each(void *arg) {
  parse_arg *a = arg;
  size_t count = 0;
  return fo_json_each(a->s, a->n, NULL, count_element, &count, NULL);
}

START_TEST(out_of_memory_fails_cleanly) {
  char doc[GEN_DOC_MAX];
  parse_arg a = {doc, gen_starlink_doc(doc, 7), NULL};
  ck_assert_int_ge(ta_oom_loop(op_parse, undo_parse, &a), 2);
  size_t len;
  char *list = gen_starlink_list(30, &len);
  ck_assert_ptr_nonnull(list);
  parse_arg l = {list, len, NULL};
  ck_assert_int_ge(ta_oom_loop(op_parse, undo_parse, &l), 2);
  ck_assert_int_ge(ta_oom_loop(op_each, NULL, &l), 1);
  free(list);
  size_t n;
  char *wide = fx_repeat("[", "0,", 5000, "1]", &n); /* grows its tokens several times */
  parse_arg w = {wide, n, NULL};
  ck_assert_int_ge(ta_oom_loop(op_parse, undo_parse, &w), 3);
  free(wide);
}
END_TEST

Suite *json_suite(void) {
  Suite *s = suite_create("json");
  TCase *tc = fo_tcase("accept", 30);
  tcase_add_test(tc, verdicts_on_valid_truncated_and_malformed_input);
  tcase_add_test(tc, nul_bytes_are_malformed_wherever_they_are);
  tcase_add_test(tc, every_prefix_is_truncated_and_never_read_past);
  suite_add_tcase(s, tc);
  json_error_cases(s);
  json_scan_cases(s);
  tc = fo_tcase("read", 10);
  tcase_add_test(tc, types_and_navigation);
  tcase_add_test(tc, members_in_one_call_each);
  tcase_add_test(tc, paths_and_chained_errors);
  tcase_add_test(tc, typed_reads_refuse_other_types);
  tcase_add_test(tc, strings_decode_escapes_and_surrogates);
  tcase_add_test(tc, strings_never_truncate);
  tcase_add_test(tc, numbers_in_every_form_round_correctly);
  tcase_add_test(tc, numbers_agree_with_strtod_on_random_input);
  tcase_add_test(tc, long_significands_agree_with_strtod);
  tcase_add_test(tc, numbers_ignore_the_locale);
  tcase_add_test(tc, integers_are_exact_or_refused);
  suite_add_tcase(s, tc);
  tc = fo_tcase("hostile", 60);
  tcase_add_test(tc, deep_nesting_stops_at_the_cap);
  tcase_add_test(tc, wide_and_long_input_within_caps);
  tcase_add_test(tc, repeated_keys_take_the_last);
  tcase_add_test(tc, the_first_error_wins_however_the_work_is_split);
  suite_add_tcase(s, tc);
  tc = fo_tcase("each", 60);
  tcase_add_test(tc, each_streams_the_same_elements_as_a_whole_parse);
  tcase_add_test(tc, each_holds_one_element_at_a_time);
  tcase_add_test(tc, each_wants_an_array_and_reports_errors);
  suite_add_tcase(s, tc);
  tc = fo_tcase("real", 30);
  tcase_add_test(tc, real_list_and_documents_parse);
  suite_add_tcase(s, tc);
  tc = fo_tcase("oom", 120);
  tcase_add_test(tc, out_of_memory_fails_cleanly);
  suite_add_tcase(s, tc);
  return s;
}
