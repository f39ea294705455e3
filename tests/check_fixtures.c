/* The document generator: deterministic, and shaped like the real API output (key order, types,
 * null patterns, compact form, JavaScript number style, date styles), checked against the real
 * files when they are there. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/json.h"
#include "fanout/sat.h"
#include "gen/starlink_gen.h"
#include "helpers/files.h"
#include "helpers/fixture.h"
#include "suites.h"

#define MAX_KEYS 48

/* FNV-1a 64 of gen_starlink_list(3500): pins the generator's output byte for byte. */
#define GEN_LIST_3500_FNV 0x1309f9453f06982eull

/* Type bits, so a key's types over many documents fold into one mask. */
enum { T_STRING = 1, T_NUMBER = 2, T_NULL = 4, T_OBJECT = 8, T_OTHER = 16 };

static int type_bit(const fo_json *doc, int v) {
  switch (fo_json_typeof(doc, v)) {
  case FO_JSON_STRING:
    return T_STRING;
  case FO_JSON_NUMBER:
    return T_NUMBER;
  case FO_JSON_NULL:
    return T_NULL;
  case FO_JSON_OBJECT:
    return T_OBJECT;
  default:
    return T_OTHER;
  }
}

/* The shape of a set of documents: the key order (which must be the same in all of them), the
 * types each key took, and counts of the two satellite states. */
typedef struct {
  char top[MAX_KEYS][24], track[MAX_KEYS][24];
  int top_types[MAX_KEYS], track_types[MAX_KEYS];
  int ntop, ntrack, docs, decayed, orbiting;
} shape;

static void keys_of(const fo_json *doc, int obj, shape *sh, int track) {
  char(*names)[24] = track ? sh->track : sh->top;
  int *types = track ? sh->track_types : sh->top_types;
  int *count = track ? &sh->ntrack : &sh->ntop;
  int n = 0;
  for (int k = fo_json_first(doc, obj); k >= 0; k = fo_json_next(doc, k), n++) {
    char name[24];
    ck_assert_int_eq(fo_json_string(doc, k, name, sizeof name, NULL), 0);
    ck_assert_int_lt(n, MAX_KEYS);
    if (sh->docs == 0)
      strcpy(names[n], name);
    else
      ck_assert_msg(n < *count && strcmp(names[n], name) == 0, "key %d is %s, not %s", n, name,
                    n < *count ? names[n] : "(none)");
    types[n] |= type_bit(doc, fo_json_value(doc, k));
  }
  if (sh->docs == 0)
    *count = n;
  ck_assert_int_eq(n, *count);
}

/* The null patterns of the two states, as API-NOTES.md and the real files show them. */
static void state_of(const fo_json *doc, shape *sh) {
  static const char *const position[] = {"longitude", "latitude", "height_km", "velocity_kms"};
  int64_t decayed;
  ck_assert_int_eq(fo_json_int64(doc, fo_json_path(doc, 0, "spaceTrack.DECAYED"), &decayed), 0);
  ck_assert(decayed == 0 || decayed == 1);
  int decay = fo_json_typeof(doc, fo_json_path(doc, 0, "spaceTrack.DECAY_DATE"));
  ck_assert_int_eq(decay, decayed ? FO_JSON_STRING : FO_JSON_NULL);
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(fo_json_typeof(doc, fo_json_get(doc, 0, position[i])),
                     decayed ? FO_JSON_NULL : FO_JSON_NUMBER);
  if (decayed)
    sh->decayed++;
  else
    sh->orbiting++;
}

/* Compact, ASCII, numbers exactly as JavaScript prints them, dates in the API's styles. */
static void style_of(const fo_json *doc, const char *text, size_t len) {
  int in_string = 0;
  for (size_t i = 0; i < len; i++) {
    /* per byte: plain tests, since every Check assertion costs a message to the runner */
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 || c >= 0x7f)
      ck_abort_msg("byte %zu is not printable ASCII", i);
    if (in_string && c == '\\')
      i++;
    else if (c == '"')
      in_string = !in_string;
    else if (!in_string && c == ' ')
      ck_abort_msg("whitespace outside strings at %zu", i);
  }
  for (int o = 0; o < 2; o++) {
    int obj = o == 0 ? 0 : fo_json_get(doc, 0, "spaceTrack");
    for (int k = fo_json_first(doc, obj); k >= 0; k = fo_json_next(doc, k)) {
      int v = fo_json_value(doc, k);
      if (fo_json_typeof(doc, v) != FO_JSON_NUMBER)
        continue;
      const char *raw;
      size_t n;
      char copy[64], js[32];
      ck_assert_int_eq(fo_json_raw(doc, v, &raw, &n), 0);
      ck_assert_uint_lt(n, sizeof copy);
      memcpy(copy, raw, n);
      copy[n] = '\0';
      gen_js_number(js, strtod(copy, NULL));
      ck_assert_msg(strcmp(js, copy) == 0, "%s is not how JavaScript writes it (%s)", copy, js);
    }
  }
  static const struct {
    const char *path;
    size_t len;
  } dates[] = {{"spaceTrack.LAUNCH_DATE", 10},
               {"spaceTrack.DECAY_DATE", 10},
               {"spaceTrack.EPOCH", 26},
               {"spaceTrack.CREATION_DATE", 19}};
  for (size_t i = 0; i < 4; i++) {
    char s[40];
    size_t n;
    fo_sat_time t;
    int v = fo_json_path(doc, 0, dates[i].path);
    if (fo_json_is_null(doc, v) == 1)
      continue;
    ck_assert_int_eq(fo_json_string(doc, v, s, sizeof s, &n), 0);
    ck_assert_msg(n == dates[i].len && fo_sat_parse_date(s, n, &t) == 0, "%s: %s", dates[i].path,
                  s);
    if (i == 2)
      ck_assert(s[10] == 'T');
  }
}

static void add_document(shape *sh, const char *text, size_t len) {
  fo_json *doc;
  ck_assert_int_eq(fo_json_parse(text, len, NULL, &doc, NULL), 0);
  keys_of(doc, 0, sh, 0);
  keys_of(doc, fo_json_get(doc, 0, "spaceTrack"), sh, 1);
  state_of(doc, sh);
  style_of(doc, text, len);
  sh->docs++;
  fo_json_free(doc);
}

/* Keys the API notes report as null in real data beyond these 55 documents. */
static int may_be_null(const char *key) {
  return strcmp(key, "RCS_SIZE") == 0 || strcmp(key, "version") == 0 || strcmp(key, "launch") == 0;
}

static void same_types(const char (*names)[24], const int *real, const int *gen, int n) {
  for (int i = 0; i < n; i++) {
    ck_assert_msg((real[i] & ~T_NULL) == (gen[i] & ~T_NULL), "%s: real types %d, generated %d",
                  names[i], real[i], gen[i]);
    if (gen[i] & T_NULL)
      ck_assert_msg((real[i] & T_NULL) || may_be_null(names[i]), "%s is null only when generated",
                    names[i]);
    if (real[i] & T_NULL)
      ck_assert_msg(gen[i] & T_NULL, "%s is null in real data, never when generated", names[i]);
  }
}

START_TEST(generated_shape_matches_the_real_files) {
  const char *dir = fx_dir("generated_shape_matches_the_real_files");
  if (dir == NULL)
    return;
  static shape real, gen;
  size_t count;
  char **names = fx_names(dir, "one", ".json", &count);
  ck_assert_uint_eq(count, 55);
  for (size_t i = 0; i < count; i++) {
    char path[256];
    size_t n;
    snprintf(path, sizeof path, "one/%s", names[i]);
    char *text = fx_read(dir, path, &n);
    ck_assert_ptr_nonnull(text);
    add_document(&real, text, n);
    free(text);
  }
  fx_free_names(names);
  char doc[GEN_DOC_MAX];
  for (unsigned long i = 0; i < 3500; i += 7)
    add_document(&gen, doc, gen_starlink_doc(doc, i));
  ck_assert_int_eq(real.ntop, 8);
  ck_assert_int_eq(real.ntrack, 41);
  ck_assert_int_eq(gen.ntop, real.ntop);
  ck_assert_int_eq(gen.ntrack, real.ntrack);
  for (int i = 0; i < real.ntop; i++)
    ck_assert_str_eq(gen.top[i], real.top[i]);
  for (int i = 0; i < real.ntrack; i++)
    ck_assert_str_eq(gen.track[i], real.track[i]);
  same_types((const char(*)[24])real.top, real.top_types, gen.top_types, real.ntop);
  same_types((const char(*)[24])real.track, real.track_types, gen.track_types, real.ntrack);
  ck_assert(real.decayed > 0 && real.orbiting > 0);
  ck_assert(gen.decayed > 0 && gen.orbiting > 0);
}
END_TEST

START_TEST(generated_list_is_full_size_and_well_formed) {
  size_t len;
  char *list = gen_starlink_list(3500, &len);
  ck_assert_ptr_nonnull(list);
  /* "about 4.5 MB" for the real list of about 3,500 */
  ck_assert_msg(len > 4300000 && len < 4800000, "%zu bytes", len);
  fo_json *doc;
  ck_assert_int_eq(fo_json_parse(list, len, NULL, &doc, NULL), 0);
  ck_assert_int_eq(fo_json_size(doc, 0), 3500);
  fo_json_free(doc);
  /* Document i is the same text on every machine and in every run: FNV-1a of the whole list.
   * A deliberate change of the generator changes this number. */
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)list[i]) * 0x100000001b3ull;
  ck_assert_msg(h == GEN_LIST_3500_FNV, "generator output changed: %016llx", (unsigned long long)h);
  char a[GEN_DOC_MAX];
  size_t n = gen_starlink_doc(a, 1234);
  ck_assert(memmem(list, len, a, n) != NULL);
  free(list);
}
END_TEST

START_TEST(numbers_as_javascript_writes_them) {
  static const struct {
    double x;
    const char *js;
  } cases[] = {{0, "0"},
               {-0.0, "0"},
               {1, "1"},
               {100, "100"},
               {44244, "44244"},
               {0.5, "0.5"},
               {16.43170483, "16.43170483"},
               {0.000012426, "0.000012426"},
               {-0.000064871, "-0.000064871"},
               {0.000001, "0.000001"},
               {0.0000001, "1e-7"},
               {1.5e-7, "1.5e-7"},
               {-6.4871e-8, "-6.4871e-8"},
               {1e21, "1e+21"},
               {1.5e21, "1.5e+21"},
               {123456789012345680000.0, "123456789012345680000"},
               {-70.61521741360424, "-70.61521741360424"},
               {398.16973111329935, "398.16973111329935"},
               {5e-324, "5e-324"},
               {1.7976931348623157e308, "1.7976931348623157e+308"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[32];
    gen_js_number(out, cases[i].x);
    ck_assert_str_eq(out, cases[i].js);
  }
}
END_TEST

Suite *fixtures_suite(void) {
  Suite *s = suite_create("fixtures");
  TCase *tc = fo_tcase("generator", 60);
  tcase_add_test(tc, generated_shape_matches_the_real_files);
  tcase_add_test(tc, generated_list_is_full_size_and_well_formed);
  tcase_add_test(tc, numbers_as_javascript_writes_them);
  suite_add_tcase(s, tc);
  return s;
}
