/* libFuzzer harness over both layers. Besides "no crash, no leak, no read past the input"
 * (AddressSanitizer, UndefinedBehaviorSanitizer, LeakSanitizer), it checks properties a bug
 * would break without crashing:
 * - every result is a code the headers document;
 * - a whole parse and the streaming walk agree on every array: same verdict, same elements;
 * - tighter caps can only turn success into FO_ETOOBIG or FO_EJSONDEPTH, nothing else;
 * - decoding agrees with itself: the size query, the copy and the comparison;
 * - records hold what the presence bits say and ids are 24 lowercase hex.
 * Build and run: make fuzz FUZZ_SECONDS=60 (tests/fuzz/run.sh). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/json.h"
#include "fanout/sat.h"
#include "require.h"

static int documented(int rc) {
  switch (rc) {
  case 0:
  case -EINVAL:
  case -ENOMEM:
  case -ERANGE:
  case FO_EJSON:
  case FO_EJSONTRUNC:
  case FO_EJSONDEPTH:
  case FO_EJSONTYPE:
  case FO_ENOTFOUND:
  case FO_ETOOBIG:
  case FO_EBADID:
  case FO_EDATE:
    return 1;
  default:
    return 0;
  }
}

static void read_string(const fo_json *doc, int v) {
  size_t need = 0, got = 0;
  REQUIRE(fo_json_string(doc, v, NULL, 0, &need) == 0);
  const char *raw;
  size_t rawlen;
  REQUIRE(fo_json_raw(doc, v, &raw, &rawlen) == 0);
  REQUIRE(need <= rawlen); /* decoding never lengthens */
  char *buf = malloc(need + 1);
  REQUIRE(buf != NULL);
  REQUIRE(fo_json_string(doc, v, buf, need, &got) == FO_ETOOBIG);
  REQUIRE(fo_json_string(doc, v, buf, need + 1, &got) == 0 && got == need);
  REQUIRE(buf[need] == '\0');
  REQUIRE(fo_json_equals(doc, v, buf, need) == 1);
  /* no escape anywhere: every string is its own raw text */
  if (fo_json_has_escapes(doc) == 0)
    REQUIRE(need == rawlen && memcmp(buf, raw, rawlen) == 0);
  if (need > 0)
    REQUIRE(fo_json_equals(doc, v, buf, need - 1) == 0);
  free(buf);
}

/* Every reader on every value; returns the number of values seen. */
static size_t walk(const fo_json *doc, int v, int depth) {
  REQUIRE(depth <= (int)FO_JSON_MAX_DEPTH);
  int t = fo_json_typeof(doc, v);
  double d;
  int64_t i;
  int b;
  REQUIRE(t >= FO_JSON_OBJECT && t <= FO_JSON_NULL);
  REQUIRE(documented(fo_json_number(doc, v, &d)));
  REQUIRE(documented(fo_json_int64(doc, v, &i)));
  REQUIRE((fo_json_bool(doc, v, &b) == 0) == (t == FO_JSON_TRUE || t == FO_JSON_FALSE));
  REQUIRE(fo_json_is_null(doc, v) == (t == FO_JSON_NULL));
  if (t == FO_JSON_STRING)
    read_string(doc, v);
  if (t != FO_JSON_ARRAY && t != FO_JSON_OBJECT)
    return 1;
  size_t seen = 1;
  int n = 0, it = 0;
  for (int k = fo_json_first(doc, v); k >= 0; k = fo_json_next(doc, k), n++) {
    if (t == FO_JSON_OBJECT) {
      /* the one-call member walk meets the same keys and values */
      const char *mk, *raw;
      size_t mn, rn;
      REQUIRE(fo_json_member(doc, v, &it, &mk, &mn) == k + 1);
      REQUIRE(fo_json_raw(doc, k, &raw, &rn) == 0 && raw == mk && rn == mn);
      read_string(doc, k);
      int value = fo_json_value(doc, k);
      REQUIRE(value == k + 1);
      /* the last member with this key is what get() finds */
      size_t kn;
      REQUIRE(fo_json_string(doc, k, NULL, 0, &kn) == 0);
      char *key = malloc(kn + 1);
      REQUIRE(key != NULL);
      REQUIRE(fo_json_string(doc, k, key, kn + 1, NULL) == 0);
      if (strlen(key) == kn) {
        int found = fo_json_get(doc, v, key);
        REQUIRE(found >= value);
        REQUIRE(fo_json_equals(doc, found - 1, key, kn) == 1);
      }
      free(key);
      seen += walk(doc, value, depth + 1);
    } else {
      REQUIRE(fo_json_index(doc, v, (size_t)n) == k);
      seen += walk(doc, k, depth + 1);
    }
  }
  REQUIRE(n == fo_json_size(doc, v));
  if (t == FO_JSON_OBJECT) {
    const char *mk;
    size_t mn;
    REQUIRE(fo_json_member(doc, v, &it, &mk, &mn) == FO_ENOTFOUND);
  }
  return seen;
}

typedef struct {
  const fo_json *whole;
  size_t count;
} each_ctx;

static int same_element(const fo_json *view, int v, size_t index, void *arg) {
  each_ctx *c = arg;
  const char *a, *b;
  size_t an, bn;
  REQUIRE(fo_json_raw(view, v, &a, &an) == 0);
  REQUIRE(fo_json_raw(c->whole, fo_json_index(c->whole, 0, index), &b, &bn) == 0);
  REQUIRE(a == b && an == bn);
  REQUIRE(index == c->count);
  c->count++;
  walk(view, v, 1);
  return 0;
}

static int count_only(const fo_json *view, int v, size_t index, void *arg) {
  (void)view;
  (void)v;
  (void)index;
  ++*(size_t *)arg;
  return 0;
}

static void check_record(const fo_sat_record *r) {
  REQUIRE(fo_sat_check_id(r->id, strlen(r->id)) == 0);
  const struct {
    const char *text;
    size_t size;
    unsigned bit;
  } texts[] = {{r->object_name, sizeof r->object_name, FO_SAT_HAS_OBJECT_NAME},
               {r->object_id, sizeof r->object_id, FO_SAT_HAS_OBJECT_ID},
               {r->epoch, sizeof r->epoch, FO_SAT_HAS_EPOCH},
               {r->launch_date, sizeof r->launch_date, FO_SAT_HAS_LAUNCH_DATE},
               {r->decay_date, sizeof r->decay_date, FO_SAT_HAS_DECAY_DATE}};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    REQUIRE(memchr(texts[i].text, '\0', texts[i].size) != NULL);
    if (!(r->has & texts[i].bit))
      REQUIRE(texts[i].text[0] == '\0');
  }
  if (!(r->has & FO_SAT_HAS_LONGITUDE))
    REQUIRE(r->longitude == 0);
}

static int record_cb(const fo_sat_record *r, size_t index, void *arg) {
  (void)index;
  check_record(r);
  ++*(size_t *)arg;
  return 0;
}

/* A position is given exactly for the parser's own verdicts, and lies inside the input. */
static void check_position(const fo_json_error *e, int rc, const char *s, size_t size) {
  REQUIRE(e->code == rc);
  int placed = rc == FO_EJSON || rc == FO_EJSONTRUNC || rc == FO_EJSONDEPTH || rc == FO_ETOOBIG;
  if (!placed) {
    REQUIRE(e->line == 0 && e->offset == 0 && e->column == 0);
    return;
  }
  REQUIRE(e->line >= 1 && e->column >= 1 && e->offset <= size && e->column <= e->offset + 1);
  REQUIRE(rc != FO_EJSONTRUNC || e->offset == size);
  size_t lines = 1;
  for (size_t i = 0; i < e->offset; i++)
    lines += s[i] == '\n';
  REQUIRE(lines == e->line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  fo_json *doc = NULL;
  fo_json_error pe, ee;
  int rc = fo_json_parse(s, size, NULL, &doc, &pe);
  REQUIRE(documented(rc));
  check_position(&pe, rc, s, size);
  REQUIRE((rc == 0) == (doc != NULL));

  size_t at = 0;
  while (at < size && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r'))
    at++;
  int is_array = at < size && s[at] == '[';
  each_ctx c = {doc, 0};
  size_t n = 0;
  int each = doc != NULL && is_array ? fo_json_each(s, size, NULL, same_element, &c, &ee)
                                     : fo_json_each(s, size, NULL, count_only, &n, &ee);
  REQUIRE(documented(each));
  check_position(&ee, each, s, size);
  if (is_array) {
    REQUIRE(each == rc); /* the same checks, streamed, placed at the same byte */
    REQUIRE(each == FO_ETOOBIG || ee.offset == pe.offset);
  } else
    REQUIRE(each == (rc == 0 ? FO_EJSONTYPE : rc) || (rc != 0 && each == FO_EJSONTYPE));

  if (doc != NULL) {
    walk(doc, fo_json_root(doc), 1);
    if (is_array)
      REQUIRE(c.count == (size_t)fo_json_size(doc, 0));
    int v = fo_json_path(doc, 0, "spaceTrack.OBJECT_NAME");
    REQUIRE(v >= 0 || documented(v));
    v = fo_json_path(doc, 0, "0.id");
    REQUIRE(v >= 0 || documented(v));
    fo_json_free(doc);
  }

  fo_json_limits tight = {48, 4};
  rc = fo_json_parse(s, size, &tight, &doc, NULL);
  REQUIRE(documented(rc));
  fo_json_free(doc);

  fo_sat_record rec;
  rc = fo_sat_parse(s, size, NULL, &rec, NULL);
  REQUIRE(documented(rc));
  if (rc == 0)
    check_record(&rec);
  size_t records = 0, ids = 0;
  rc = fo_sat_list_parse(s, size, NULL, record_cb, &records, NULL);
  REQUIRE(documented(rc));
  int idrc = fo_sat_list_ids(s, size, NULL, NULL, 0, &ids, NULL);
  REQUIRE(idrc == rc && ids == records);
  return 0;
}
