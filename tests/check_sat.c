/* The satellite layer: the real documents and list against values read from the files by other
 * means, the generated full-size list against the generator's own values, the forms a document
 * may take, every kind of bad field, and OOM. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/sat.h"
#include "gen/starlink_gen.h"
#include "helpers/files.h"
#include "helpers/fixture.h"
#include "helpers/testalloc.h"
#include "suites.h"

static const char list_file[] = "starlink_list_first55_2021-05-19.json";

/* ---------------------------------------------------------------- independent readings */

/* A field read by plain string search, the way one would by eye: "null", or the string's text
 * (the real files have no escapes). Good enough for these files, and shares no code with the
 * parser. */
static void naive_field(const char *doc, const char *key, char *out, size_t size) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(doc, pat);
  ck_assert_msg(p != NULL, "no %s", key);
  p += strlen(pat);
  if (strncmp(p, "null", 4) == 0) {
    snprintf(out, size, "null");
    return;
  }
  ck_assert(*p == '"');
  const char *e = strchr(p + 1, '"');
  ck_assert_ptr_nonnull(e);
  snprintf(out, size, "%.*s", (int)(e - p - 1), p + 1);
}

/* The README's table of the 55 documents: id, name, launch and decay as its author read them. */
typedef struct {
  char id[25], name[48], launch[16], decay[16];
} readme_row;

static size_t readme_rows(const char *dir, readme_row *rows, size_t cap) {
  size_t len, n = 0;
  char *text = fx_read(dir, "README.md", &len);
  ck_assert_ptr_nonnull(text);
  for (char *line = strtok(text, "\n"); line != NULL && n < cap; line = strtok(NULL, "\n")) {
    readme_row r;
    unsigned bytes;
    if (sscanf(line, "| `%24[0-9a-f]` | %u | %47[^|]| %15[^ |] | %15[^ |] |", r.id, &bytes, r.name,
               r.launch, r.decay) != 5)
      continue;
    size_t l = strlen(r.name);
    while (l > 0 && r.name[l - 1] == ' ')
      r.name[--l] = '\0';
    rows[n++] = r;
  }
  free(text);
  return n;
}

static void check_against(const fo_sat_record *rec, const char *name, const char *launch,
                          const char *decay) {
  ck_assert_str_eq(rec->object_name, name);
  ck_assert_str_eq(rec->launch_date, launch);
  if (strcmp(decay, "null") == 0) {
    ck_assert(!(rec->has & FO_SAT_HAS_DECAY_DATE));
    ck_assert_str_eq(rec->decay_date, "");
    ck_assert_int_eq(rec->decayed, 0);
    ck_assert(rec->has & FO_SAT_HAS_LONGITUDE);
  } else {
    ck_assert(rec->has & FO_SAT_HAS_DECAY_DATE);
    ck_assert_str_eq(rec->decay_date, decay);
    ck_assert_int_eq(rec->decayed, 1);
    ck_assert(!(rec->has & (FO_SAT_HAS_LONGITUDE | FO_SAT_HAS_LATITUDE | FO_SAT_HAS_HEIGHT_KM |
                            FO_SAT_HAS_VELOCITY_KMS)));
  }
}

/* ---------------------------------------------------------------- real data */

typedef struct {
  fo_sat_record recs[64];
  size_t count;
} collect;

static int collect_record(const fo_sat_record *rec, size_t index, void *arg) {
  collect *c = arg;
  ck_assert_uint_eq(index, c->count);
  ck_assert_uint_lt(c->count, 64);
  memcpy(&c->recs[c->count++], rec, sizeof *rec); /* padding too: the test compares bytes */
  return 0;
}

START_TEST(real_documents_match_the_files) {
  const char *dir = fx_dir("real_documents_match_the_files");
  if (dir == NULL)
    return;
  readme_row rows[64];
  size_t nrows = readme_rows(dir, rows, 64);
  ck_assert_uint_eq(nrows, 55);
  size_t len;
  char *list = fx_read(dir, list_file, &len);
  ck_assert_ptr_nonnull(list);
  collect *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(fo_sat_list_parse(list, len, NULL, collect_record, c, NULL), 0);
  ck_assert_uint_eq(c->count, 55);
  for (size_t i = 0; i < nrows; i++) {
    char path[64], name[64], launch[32], decay[32], id[32];
    snprintf(path, sizeof path, "one/%.24s.json", rows[i].id);
    size_t n;
    char *one = fx_read(dir, path, &n);
    ck_assert_ptr_nonnull(one);
    fo_sat_record rec;
    ck_assert_int_eq(fo_sat_parse(one, n, NULL, &rec, NULL), 0);
    ck_assert_str_eq(rec.id, rows[i].id);
    /* the README's reading */
    check_against(&rec, rows[i].name, rows[i].launch, rows[i].decay);
    /* a plain text search of the file */
    naive_field(one, "OBJECT_NAME", name, sizeof name);
    naive_field(one, "LAUNCH_DATE", launch, sizeof launch);
    naive_field(one, "DECAY_DATE", decay, sizeof decay);
    naive_field(one, "id", id, sizeof id);
    ck_assert_str_eq(rec.id, id);
    check_against(&rec, name, launch, decay);
    /* the list holds the same documents in the same order */
    ck_assert(memcmp(&rec, &c->recs[i], sizeof rec) == 0);
    ck_assert(rec.has & FO_SAT_HAS_NORAD_CAT_ID);
    ck_assert(rec.epoch_time.has_time && rec.epoch_time.year >= 2020);
    free(one);
  }
  free(c);
  free(list);
}
END_TEST

START_TEST(the_three_checked_satellites) {
  const char *dir = fx_dir("the_three_checked_satellites");
  if (dir == NULL)
    return;
  static const struct {
    const char *id, *name, *launch, *decay;
  } checked[] = {
      {"5eed770f096e59000698560d", "STARLINK-30", "2019-05-24", "2020-10-13"},
      {"5eed770f096e590006985610", "STARLINK-76", "2019-05-24", "null"},
      {"5eed770f096e590006985616", "TINTIN A", "2018-02-22", "2020-08-29"},
  };
  size_t len;
  char *list = fx_read(dir, list_file, &len);
  ck_assert_ptr_nonnull(list);
  collect *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(fo_sat_list_parse(list, len, NULL, collect_record, c, NULL), 0);
  for (size_t i = 0; i < 3; i++) {
    char path[64];
    snprintf(path, sizeof path, "one/%s.json", checked[i].id);
    size_t n;
    char *one = fx_read(dir, path, &n);
    ck_assert_ptr_nonnull(one);
    fo_sat_record rec;
    ck_assert_int_eq(fo_sat_parse(one, n, NULL, &rec, NULL), 0);
    check_against(&rec, checked[i].name, checked[i].launch, checked[i].decay);
    ck_assert_str_eq(rec.id, checked[i].id);
    size_t found = 0;
    for (size_t k = 0; k < c->count; k++)
      if (strcmp(c->recs[k].id, checked[i].id) == 0) {
        check_against(&c->recs[k], checked[i].name, checked[i].launch, checked[i].decay);
        found++;
      }
    ck_assert_uint_eq(found, 1);
    free(one);
  }
  /* STARLINK-76 is in orbit: its position is there */
  fo_sat_record rec;
  char *one = fx_read(dir, "one/5eed770f096e590006985610.json", &len);
  ck_assert_int_eq(fo_sat_parse(one, len, NULL, &rec, NULL), 0);
  ck_assert(rec.longitude == -70.61521741360424 && rec.height_km == 398.16973111329935);
  ck_assert(rec.norad_cat_id == 44287);
  ck_assert_str_eq(rec.object_id, "2019-029BE");
  ck_assert_str_eq(rec.epoch, "2021-05-19T00:26:47.139360");
  ck_assert_int_eq(rec.epoch_time.nanosecond, 139360000);
  free(one);
  free(c);
  free(list);
}
END_TEST

START_TEST(real_list_ids) {
  const char *dir = fx_dir("real_list_ids");
  if (dir == NULL)
    return;
  size_t len, count = 0;
  char *list = fx_read(dir, list_file, &len);
  ck_assert_ptr_nonnull(list);
  char ids[55][FO_SAT_ID_LEN + 1];
  ck_assert_int_eq(fo_sat_list_ids(list, len, NULL, NULL, 0, &count, NULL), 0);
  ck_assert_uint_eq(count, 55);
  ck_assert_int_eq(fo_sat_list_ids(list, len, NULL, ids, 10, &count, NULL), FO_ETOOBIG);
  ck_assert_uint_eq(count, 55);
  ck_assert_int_eq(fo_sat_list_ids(list, len, NULL, ids, 55, &count, NULL), 0);
  /* README: ids run without gaps from ...98560d to ...985643 */
  ck_assert_str_eq(ids[0], "5eed770f096e59000698560d");
  ck_assert_str_eq(ids[54], "5eed7714096e590006985643");
  for (size_t i = 0; i < 55; i++)
    ck_assert_uint_eq(strtoul(ids[i] + 18, NULL, 16), 0x98560d + i);
  free(list);
}
END_TEST

/* ---------------------------------------------------------------- generated data */

static int check_generated(const fo_sat_record *rec, size_t index, void *arg) {
  (void)arg;
  gen_sat t;
  gen_starlink_truth(index, &t);
  ck_assert_str_eq(rec->id, t.id);
  ck_assert_str_eq(rec->object_name, t.object_name);
  ck_assert_str_eq(rec->object_id, t.object_id);
  ck_assert_str_eq(rec->epoch, t.epoch);
  ck_assert_str_eq(rec->launch_date, t.launch_date);
  ck_assert_str_eq(rec->decay_date, t.decay_date);
  ck_assert_int_eq(rec->decayed, t.decayed);
  ck_assert(rec->norad_cat_id == t.norad_cat_id);
  ck_assert_int_eq(!!(rec->has & FO_SAT_HAS_DECAY_DATE), t.decayed);
  if (!t.decayed) {
    /* JavaScript's shortest form reads back as the very same double */
    ck_assert(rec->longitude == t.longitude && rec->latitude == t.latitude);
    ck_assert(rec->height_km == t.height_km && rec->velocity_kms == t.velocity_kms);
  }
  return 0;
}

START_TEST(generated_full_list_matches_the_generator) {
  size_t len;
  char *list = gen_starlink_list(3500, &len);
  ck_assert_ptr_nonnull(list);
  ck_assert_int_eq(fo_sat_list_parse(list, len, NULL, check_generated, NULL, NULL), 0);
  size_t count;
  ck_assert_int_eq(fo_sat_list_ids(list, len, NULL, NULL, 0, &count, NULL), 0);
  ck_assert_uint_eq(count, 3500);
  free(list);
  char doc[GEN_DOC_MAX];
  for (unsigned long i = 0; i < 3500; i += 499) {
    fo_sat_record rec;
    ck_assert_int_eq(fo_sat_parse(doc, gen_starlink_doc(doc, i), NULL, &rec, NULL), 0);
    check_generated(&rec, i, NULL);
  }
}
END_TEST

/* ---------------------------------------------------------------- forms a document may take */

static int parse_text(const char *s, fo_sat_record *rec) {
  return fo_sat_parse(s, strlen(s), NULL, rec, NULL);
}

START_TEST(keys_in_any_order_with_whitespace_and_unknown_fields) {
  const char *doc = "{\n  \"id\" : \"5eed770f096e59000698560d\",\n  \"extra\": {\"x\": [1, 2]},\n"
                    "  \"velocity_kms\": 7.5, \"height_km\": 550, \"latitude\": -51.25,\n"
                    "  \"longitude\": 1e1,\n  \"spaceTrack\": {\n    \"DECAYED\": 0,\n"
                    "    \"UNKNOWN\": \"x\", \"DECAY_DATE\": null,\n"
                    "    \"LAUNCH_DATE\": \"2019-11-11\", \"EPOCH\": \"2020-06-19 21:46:09\",\n"
                    "    \"NORAD_CAT_ID\": 44715, \"OBJECT_ID\": \"2019-074C\",\n"
                    "    \"OBJECT_NAME\": \"STARLINK-1009\"\n  },\n  \"version\": null\n}\n";
  fo_sat_record rec;
  ck_assert_int_eq(parse_text(doc, &rec), 0);
  ck_assert_str_eq(rec.id, "5eed770f096e59000698560d");
  ck_assert_str_eq(rec.object_name, "STARLINK-1009");
  ck_assert_str_eq(rec.object_id, "2019-074C");
  ck_assert_str_eq(rec.launch_date, "2019-11-11");
  ck_assert(rec.norad_cat_id == 44715);
  ck_assert(rec.longitude == 10 && rec.latitude == -51.25 && rec.height_km == 550 &&
            rec.velocity_kms == 7.5);
  ck_assert_uint_eq(rec.has, FO_SAT_HAS_OBJECT_NAME | FO_SAT_HAS_OBJECT_ID | FO_SAT_HAS_EPOCH |
                                 FO_SAT_HAS_LAUNCH_DATE | FO_SAT_HAS_NORAD_CAT_ID |
                                 FO_SAT_HAS_DECAYED | FO_SAT_HAS_LONGITUDE | FO_SAT_HAS_LATITUDE |
                                 FO_SAT_HAS_HEIGHT_KM | FO_SAT_HAS_VELOCITY_KMS);
  /* the space style of date */
  ck_assert_int_eq(rec.epoch_time.hour, 21);
  ck_assert_int_eq(rec.epoch_time.second, 9);
  ck_assert_int_eq(rec.epoch_time.has_time, 1);
  ck_assert_int_eq(rec.launch_time.has_time, 0);
  ck_assert_int_eq(rec.launch_time.day, 11);
}
END_TEST

START_TEST(null_empty_and_missing_are_told_apart) {
  fo_sat_record rec;
  ck_assert_int_eq(parse_text("{\"id\":\"5eed770f096e59000698560d\"}", &rec), 0);
  ck_assert_uint_eq(rec.has, 0);
  ck_assert_str_eq(rec.object_name, "");
  ck_assert_int_eq(parse_text("{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":null,"
                              "\"longitude\":null}",
                              &rec),
                   0);
  ck_assert_uint_eq(rec.has, 0);
  ck_assert_int_eq(parse_text("{\"spaceTrack\":{\"DECAY_DATE\":\"\",\"OBJECT_NAME\":\"\"},"
                              "\"id\":\"5eed770f096e59000698560d\"}",
                              &rec),
                   0);
  ck_assert_uint_eq(rec.has, FO_SAT_HAS_DECAY_DATE | FO_SAT_HAS_OBJECT_NAME);
  ck_assert_str_eq(rec.decay_date, "");
  ck_assert_int_eq(parse_text("{\"spaceTrack\":{\"DECAY_DATE\":null},"
                              "\"id\":\"5eed770f096e59000698560d\"}",
                              &rec),
                   0);
  ck_assert_uint_eq(rec.has, 0);
}
END_TEST

START_TEST(escapes_decode_in_keys_and_values) {
  fo_sat_record rec;
  ck_assert_int_eq(parse_text("{\"\\u0069d\":\"5eed770f096e59000698560d\",\"spaceTrack\":"
                              "{\"OBJECT\\u005fNAME\":\"STARLINK\\u002d30 \\u00e9\"}}",
                              &rec),
                   0);
  ck_assert_str_eq(rec.object_name, "STARLINK-30 \xc3\xa9");
  /* an escaped id is no id: hex digits need no escape */
  ck_assert_int_eq(parse_text("{\"id\":\"5eed770f096e59000698560\\u0064\"}", &rec), FO_EBADID);
  /* a NUL would silently shorten the C string */
  ck_assert_int_eq(parse_text("{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":"
                              "{\"OBJECT_NAME\":\"A\\u0000B\"}}",
                              &rec),
                   FO_EJSONTYPE);
}
END_TEST

START_TEST(dates_in_either_style_and_nothing_else) {
  static const struct {
    const char *s;
    int rc, y, mo, d, h, mi, sec;
    long ns;
  } dates[] = {
      {"2019-05-24", 0, 2019, 5, 24, 0, 0, 0, 0},
      {"2020-06-19 21:46:09", 0, 2020, 6, 19, 21, 46, 9, 0},
      {"2020-10-13T04:16:08", 0, 2020, 10, 13, 4, 16, 8, 0},
      {"2020-10-13T02:56:59.566560", 0, 2020, 10, 13, 2, 56, 59, 566560000},
      {"2020-10-13T02:56:59.5Z", 0, 2020, 10, 13, 2, 56, 59, 500000000},
      {"2020-02-29", 0, 2020, 2, 29, 0, 0, 0, 0},
      {"2016-12-31T23:59:60", 0, 2016, 12, 31, 23, 59, 60, 0},
      {"2019-02-29", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-13-01", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-00-10", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-01-32", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"20200101", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-1-01", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-01-01X12:00:00", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-01-01T24:00:00", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-01-01T12:00", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-01-01T12:00:00.", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-01-01T12:00:00.1234567890", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"2020-01-01 ", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
      {"yesterday", FO_EDATE, 0, 0, 0, 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
    fo_sat_time t;
    int rc = fo_sat_parse_date(dates[i].s, strlen(dates[i].s), &t);
    ck_assert_msg(rc == dates[i].rc, "%s: %s", dates[i].s, fo_strerror(rc));
    if (rc != 0)
      continue;
    ck_assert(t.year == dates[i].y && t.month == dates[i].mo && t.day == dates[i].d);
    ck_assert(t.hour == dates[i].h && t.minute == dates[i].mi && t.second == dates[i].sec);
    ck_assert(t.nanosecond == dates[i].ns);
  }
  fo_sat_record rec;
  ck_assert_int_eq(parse_text("{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":"
                              "{\"LAUNCH_DATE\":\"24/05/2019\"}}",
                              &rec),
                   FO_EDATE);
}
END_TEST

START_TEST(bad_ids_and_wrong_types) {
  static const struct {
    const char *doc;
    int rc;
  } bad[] = {
      {"{\"id\":\"5EED770F096E59000698560D\"}", FO_EBADID},
      {"{\"id\":\"5eed770f096e59000698560\"}", FO_EBADID},
      {"{\"id\":\"5eed770f096e59000698560d0\"}", FO_EBADID},
      {"{\"id\":\"5eed770f096e59000698560g\"}", FO_EBADID},
      {"{\"id\":\"\"}", FO_EBADID},
      {"{\"id\":12345}", FO_EJSONTYPE},
      {"{\"id\":null}", FO_EJSONTYPE},
      {"{\"spaceTrack\":{}}", FO_ENOTFOUND},
      {"[]", FO_EJSONTYPE},
      {"\"5eed770f096e59000698560d\"", FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":[]}", FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"OBJECT_NAME\":30}}", FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"DECAY_DATE\":false}}", FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"NORAD_CAT_ID\":\"44244\"}}",
       FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"NORAD_CAT_ID\":44244.5}}",
       FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"NORAD_CAT_ID\":1e99999}}",
       FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"DECAYED\":true}}", FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"DECAYED\":2}}", -ERANGE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"longitude\":\"-70.6\"}", FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"height_km\":1e999}", -ERANGE},
      {"{\"id\":\"5eed770f096e59000698560d\",\"latitude\":[1]}", FO_EJSONTYPE},
      {"{\"id\":\"5eed770f096e59000698560d\"", FO_EJSONTRUNC},
      {"{\"id\":\"5eed770f096e59000698560d\",}", FO_EJSON},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fo_sat_record rec;
    int rc = parse_text(bad[i].doc, &rec);
    ck_assert_msg(rc == bad[i].rc, "%s: expected %s, got %s", bad[i].doc, fo_strerror(bad[i].rc),
                  fo_strerror(rc));
  }
  ck_assert_int_eq(fo_sat_check_id("5eed770f096e59000698560d", 24), 0);
  ck_assert_int_eq(fo_sat_check_id(NULL, 24), FO_EBADID);
  ck_assert_int_eq(fo_sat_parse("{}", 2, NULL, NULL, NULL), -EINVAL);
  ck_assert_int_eq(fo_sat_from_json(NULL, 0, NULL), -EINVAL);
  ck_assert_int_eq(fo_sat_from_json(NULL, FO_ENOTFOUND, NULL), FO_ENOTFOUND);
}
END_TEST

START_TEST(text_longer_than_its_buffer_is_an_error) {
  char name[FO_SAT_NAME_SIZE + 1], doc[512];
  fo_sat_record rec;
  memset(name, 'N', sizeof name);
  name[FO_SAT_NAME_SIZE - 1] = '\0'; /* fits with its NUL */
  snprintf(doc, sizeof doc,
           "{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"OBJECT_NAME\":\"%s\"}}", name);
  ck_assert_int_eq(parse_text(doc, &rec), 0);
  ck_assert_str_eq(rec.object_name, name);
  name[FO_SAT_NAME_SIZE - 1] = 'N';
  name[FO_SAT_NAME_SIZE] = '\0'; /* one too many */
  snprintf(doc, sizeof doc,
           "{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"OBJECT_NAME\":\"%s\"}}", name);
  ck_assert_int_eq(parse_text(doc, &rec), FO_ETOOBIG);
  ck_assert_int_eq(parse_text("{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":"
                              "{\"OBJECT_ID\":\"2019-029BL-and-more\"}}",
                              &rec),
                   FO_ETOOBIG);
  /* escapes count decoded: 40 six-byte escapes are 40 characters */
  char esc[300] = "";
  for (int i = 0; i < 40; i++)
    strcat(esc, "\\u0041");
  snprintf(doc, sizeof doc,
           "{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":{\"OBJECT_NAME\":\"%s\"}}", esc);
  ck_assert_int_eq(parse_text(doc, &rec), 0);
  ck_assert_uint_eq(strlen(rec.object_name), 40);
}
END_TEST

START_TEST(repeated_keys_take_the_last) {
  fo_sat_record rec;
  ck_assert_int_eq(parse_text("{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":"
                              "{\"OBJECT_NAME\":\"FIRST\",\"OBJECT_NAME\":\"SECOND\","
                              "\"DECAY_DATE\":\"2020-01-01\",\"DECAY_DATE\":null},"
                              "\"id\":\"5eed770f096e59000698560e\"}",
                              &rec),
                   0);
  ck_assert_str_eq(rec.object_name, "SECOND");
  ck_assert_str_eq(rec.id, "5eed770f096e59000698560e");
  ck_assert(!(rec.has & FO_SAT_HAS_DECAY_DATE));
  ck_assert_str_eq(rec.decay_date, "");
  /* a second spaceTrack replaces the first whole */
  ck_assert_int_eq(parse_text("{\"spaceTrack\":{\"OBJECT_NAME\":\"FIRST\",\"NORAD_CAT_ID\":1},"
                              "\"spaceTrack\":{\"OBJECT_ID\":\"2019-029K\"},"
                              "\"id\":\"5eed770f096e59000698560d\"}",
                              &rec),
                   0);
  ck_assert_uint_eq(rec.has, FO_SAT_HAS_OBJECT_ID);
  ck_assert_str_eq(rec.object_name, "");
}
END_TEST

/* ---------------------------------------------------------------- the list */

static int stop_at_two(const fo_sat_record *rec, size_t index, void *arg) {
  (void)rec;
  *(size_t *)arg = index + 1;
  return index == 2 ? 7 : 0;
}

START_TEST(list_errors_and_early_stop) {
  size_t seen = 0;
  ck_assert_int_eq(fo_sat_list_parse("[]", 2, NULL, stop_at_two, &seen, NULL), 0);
  ck_assert_uint_eq(seen, 0);
  ck_assert_int_eq(fo_sat_list_parse("{}", 2, NULL, stop_at_two, &seen, NULL), FO_EJSONTYPE);
  ck_assert_int_eq(fo_sat_list_parse("[]", 2, NULL, NULL, NULL, NULL), -EINVAL);
  const char *l = "[{\"id\":\"5eed770f096e59000698560d\"},{\"id\":\"5eed770f096e59000698560e\"},"
                  "{\"id\":\"5eed770f096e59000698560f\"},{\"id\":\"5eed770f096e590006985610\"}]";
  ck_assert_int_eq(fo_sat_list_parse(l, strlen(l), NULL, stop_at_two, &seen, NULL), 7);
  ck_assert_uint_eq(seen, 3);
  const char *bad = "[{\"id\":\"5eed770f096e59000698560d\"},7]";
  seen = 0;
  ck_assert_int_eq(fo_sat_list_parse(bad, strlen(bad), NULL, stop_at_two, &seen, NULL), FO_EJSONTYPE);
  ck_assert_uint_eq(seen, 1);
  bad = "[{\"id\":\"5eed770f096e59000698560d\"},{\"id\":\"nope\"}]";
  ck_assert_int_eq(fo_sat_list_parse(bad, strlen(bad), NULL, stop_at_two, &seen, NULL), FO_EBADID);
  char ids[2][FO_SAT_ID_LEN + 1];
  size_t count;
  ck_assert_int_eq(fo_sat_list_ids(l, strlen(l), NULL, ids, 2, &count, NULL), FO_ETOOBIG);
  ck_assert_uint_eq(count, 4);
  ck_assert_str_eq(ids[1], "5eed770f096e59000698560e");
  ck_assert_int_eq(fo_sat_list_ids(l, strlen(l), NULL, NULL, 2, &count, NULL), -EINVAL);
}
END_TEST

/* Every record handed out once, in order, whoever reads it: good records are read straight
 * from the text, and when a later element is bad the tree path goes over the input again. */
typedef struct {
  size_t calls;
  char ids[8][FO_SAT_ID_LEN + 1];
} calls_arg;

static int count_calls(const fo_sat_record *r, size_t index, void *arg) {
  calls_arg *c = arg;
  ck_assert_uint_eq(index, c->calls);
  if (index < 8)
    memcpy(c->ids[index], r->id, sizeof c->ids[index]);
  c->calls++;
  return 0;
}

START_TEST(records_handed_out_once_before_an_error) {
  const char *cases[][2] = {
      {"[{\"id\":\"5eed770f096e59000698560d\"},{\"id\":\"5eed770f096e59000698560e\"},7]", "2"},
      {"[{\"id\":\"5eed770f096e59000698560d\"},{\"id\":\"5eed770f096e59000698560e\"} 1]", "2"},
      {"[{\"id\":\"5eed770f096e59000698560d\"},{\"id\":\"5eed770f096e59000698560e\",\"x\":tru}]",
       "1"},
      {"[{\"id\":\"5eed770f096e59000698560d\"},{\"id\":\"5eed770f096e59000698560e\"}", "2"},
      {"[{\"id\":\"5eed770f096e59000698560d\"},{\"id\":\"5eed770f096e59000698560e\"}]x", "2"},
  };
  const int want[] = {FO_EJSONTYPE, FO_EJSON, FO_EJSON, FO_EJSONTRUNC, FO_EJSON};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    calls_arg c = {0};
    fo_json_error err;
    int rc = fo_sat_list_parse(cases[i][0], strlen(cases[i][0]), NULL, count_calls, &c, &err);
    ck_assert_msg(rc == want[i], "case %zu: %d", i, rc);
    ck_assert_int_eq(err.code, rc);
    ck_assert_uint_gt(err.line, 0);
    ck_assert_uint_eq(c.calls, (size_t)(cases[i][1][0] - '0'));
    ck_assert_str_eq(c.ids[0], "5eed770f096e59000698560d");
  }
}
END_TEST

/* A record handed out by fo_json_each() before an error reads as it is written, whatever jsmn
 * made of the bad bytes after it: in "}:," the ':' makes the record's last token a parent. */
static int record_reads_whole(const fo_json *doc, int v, size_t index, void *arg) {
  (void)index;
  fo_sat_record rec;
  ck_assert_int_eq(fo_sat_from_json(doc, v, &rec), 0);
  ck_assert_str_eq(rec.id, "5eed770f096e59000698560e");
  ++*(size_t *)arg;
  return 0;
}

START_TEST(records_before_an_error_read_whole) {
  const char *l = "[{\"id\":\"5eed770f096e59000698560e\"}:,\"\"";
  size_t seen = 0;
  fo_json_error err;
  ck_assert_int_eq(fo_json_each(l, strlen(l), NULL, record_reads_whole, &seen, &err), FO_EJSON);
  ck_assert_uint_eq(seen, 1);
  ck_assert_uint_eq(err.offset, 34); /* the colon */
}
END_TEST

/* ---------------------------------------------------------------- out of memory */

typedef struct {
  const char *s;
  size_t n;
  const fo_json_limits *limits;
} text_arg;

static int op_parse_one(void *arg) {
  text_arg *a = arg;
  fo_sat_record rec;
  return fo_sat_parse(a->s, a->n, a->limits, &rec, NULL);
}

static int op_parse_list(void *arg) {
  text_arg *a = arg;
  size_t count;
  return fo_sat_list_ids(a->s, a->n, a->limits, NULL, 0, &count, NULL);
}

START_TEST(out_of_memory_fails_cleanly) {
  /* Good records are read straight from the text and need no memory at all. A depth limit
   * above what the selective reader tracks sends them the way of the tree, whose every
   * allocation must fail cleanly. */
  const fo_json_limits deep = {0, 100000};
  char doc[GEN_DOC_MAX];
  text_arg one = {doc, gen_starlink_doc(doc, 11), NULL};
  ck_assert_int_eq(ta_oom_loop(op_parse_one, NULL, &one), 0);
  one.limits = &deep;
  ck_assert_int_ge(ta_oom_loop(op_parse_one, NULL, &one), 2);
  size_t len;
  char *list = gen_starlink_list(20, &len);
  ck_assert_ptr_nonnull(list);
  text_arg all = {list, len, NULL};
  ck_assert_int_eq(ta_oom_loop(op_parse_list, NULL, &all), 0);
  all.limits = &deep;
  ck_assert_int_ge(ta_oom_loop(op_parse_list, NULL, &all), 1);
  free(list);
}
END_TEST

Suite *sat_suite(void) {
  Suite *s = suite_create("sat");
  TCase *tc = fo_tcase("real", 30);
  tcase_add_test(tc, real_documents_match_the_files);
  tcase_add_test(tc, the_three_checked_satellites);
  tcase_add_test(tc, real_list_ids);
  suite_add_tcase(s, tc);
  tc = fo_tcase("generated", 60);
  tcase_add_test(tc, generated_full_list_matches_the_generator);
  suite_add_tcase(s, tc);
  tc = fo_tcase("forms", 10);
  tcase_add_test(tc, keys_in_any_order_with_whitespace_and_unknown_fields);
  tcase_add_test(tc, null_empty_and_missing_are_told_apart);
  tcase_add_test(tc, escapes_decode_in_keys_and_values);
  tcase_add_test(tc, dates_in_either_style_and_nothing_else);
  tcase_add_test(tc, bad_ids_and_wrong_types);
  tcase_add_test(tc, text_longer_than_its_buffer_is_an_error);
  tcase_add_test(tc, repeated_keys_take_the_last);
  tcase_add_test(tc, list_errors_and_early_stop);
  tcase_add_test(tc, records_handed_out_once_before_an_error);
  tcase_add_test(tc, records_before_an_error_read_whole);
  suite_add_tcase(s, tc);
  tc = fo_tcase("oom", 60);
  tcase_add_test(tc, out_of_memory_fails_cleanly);
  suite_add_tcase(s, tc);
  return s;
}
