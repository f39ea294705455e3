/* Satellite records: one pass over the members of a document and of its spaceTrack, matching
 * each key once, instead of one lookup per field. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fanout/sat.h"
#include "json_internal.h"

int fo_sat_check_id(const char *s, size_t n) {
  if (s == NULL || n != FO_SAT_ID_LEN)
    return FO_EBADID;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return FO_EBADID;
  return 0;
}

/* The fields this layer reads, found by key. */
enum field {
  F_NONE,
  F_ID,
  F_SPACETRACK,
  F_LONGITUDE,
  F_LATITUDE,
  F_HEIGHT_KM,
  F_VELOCITY_KMS,
  F_OBJECT_NAME,
  F_OBJECT_ID,
  F_EPOCH,
  F_LAUNCH_DATE,
  F_DECAY_DATE,
  F_NORAD_CAT_ID,
  F_DECAYED
};

/* Which field a key names: by length first, then constant comparisons the compiler turns into
 * a few integer compares. Most keys of a document are ones this layer skips. */
static enum field top_field(const char *s, size_t n) {
  switch (n) {
  case 2:
    return memcmp(s, "id", 2) == 0 ? F_ID : F_NONE;
  case 8:
    return memcmp(s, "latitude", 8) == 0 ? F_LATITUDE : F_NONE;
  case 9:
    return memcmp(s, "longitude", 9) == 0   ? F_LONGITUDE
           : memcmp(s, "height_km", 9) == 0 ? F_HEIGHT_KM
                                            : F_NONE;
  case 10:
    return memcmp(s, "spaceTrack", 10) == 0 ? F_SPACETRACK : F_NONE;
  case 12:
    return memcmp(s, "velocity_kms", 12) == 0 ? F_VELOCITY_KMS : F_NONE;
  default:
    return F_NONE;
  }
}

static enum field track_field(const char *s, size_t n) {
  switch (n) {
  case 5:
    return memcmp(s, "EPOCH", 5) == 0 ? F_EPOCH : F_NONE;
  case 7:
    return memcmp(s, "DECAYED", 7) == 0 ? F_DECAYED : F_NONE;
  case 9:
    return memcmp(s, "OBJECT_ID", 9) == 0 ? F_OBJECT_ID : F_NONE;
  case 10:
    return memcmp(s, "DECAY_DATE", 10) == 0 ? F_DECAY_DATE : F_NONE;
  case 11:
    return memcmp(s, "OBJECT_NAME", 11) == 0   ? F_OBJECT_NAME
           : memcmp(s, "LAUNCH_DATE", 11) == 0 ? F_LAUNCH_DATE
                                               : F_NONE;
  case 12:
    return memcmp(s, "NORAD_CAT_ID", 12) == 0 ? F_NORAD_CAT_ID : F_NONE;
  default:
    return F_NONE;
  }
}

typedef enum field (*field_fn)(const char *s, size_t n);

/* Which field a member's key names. Keys in the API's output hold no escape, so the raw text is
 * tried first; a key that does not match raw is decoded only if it has a backslash (then
 * "OBJECT\u005fNAME" still counts). A raw match is never wrong: no name here has a backslash. */
static enum field lookup(const fo_json *doc, int key, const char *raw, size_t n, field_fn fn) {
  enum field f = fn(raw, n);
  if (f != F_NONE || !fo_json_has_escapes(doc) || memchr(raw, '\\', n) == NULL)
    return f;
  char decoded[16];
  if (fo_json_string(doc, key, decoded, sizeof decoded, &n) != 0)
    return F_NONE; /* longer than any key we know */
  return fn(decoded, n);
}

/* A text field: a string (possibly empty) sets the bit, null clears it. */
static int read_text(const fo_json *doc, int v, char *buf, size_t size, unsigned bit,
                     fo_sat_record *rec) {
  buf[0] = '\0';
  rec->has &= ~bit;
  int type = fo_json_typeof(doc, v);
  if (type == FO_JSON_NULL)
    return 0;
  if (type != FO_JSON_STRING)
    return type < 0 ? type : FO_EJSONTYPE;
  size_t n, rawlen;
  const char *raw;
  int rc = fo_json_string(doc, v, buf, size, &n);
  if (rc == 0)
    rc = fo_json_raw(doc, v, &raw, &rawlen);
  if (rc != 0)
    return rc;
  /* A NUL inside (only \u0000 can make one, and only escapes shorten a string) would cut the
   * C string short without a word: refuse it. */
  if (n < rawlen && memchr(buf, '\0', n) != NULL) {
    buf[0] = '\0';
    return FO_EJSONTYPE;
  }
  rec->has |= bit;
  return 0;
}

static int read_date(const fo_json *doc, int v, char *buf, fo_sat_time *t, unsigned bit,
                     fo_sat_record *rec) {
  memset(t, 0, sizeof *t);
  int rc = read_text(doc, v, buf, FO_SAT_DATE_SIZE, bit, rec);
  if (rc != 0 || buf[0] == '\0')
    return rc;
  return fo_sat_parse_date(buf, strlen(buf), t);
}

static int read_double(const fo_json *doc, int v, double *out, unsigned bit, fo_sat_record *rec) {
  *out = 0;
  rec->has &= ~bit;
  int rc = fo_json_is_null(doc, v);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  rc = fo_json_number(doc, v, out);
  if (rc == 0)
    rec->has |= bit;
  return rc;
}

static int read_int(const fo_json *doc, int v, int64_t *out, unsigned bit, fo_sat_record *rec) {
  *out = 0;
  rec->has &= ~bit;
  int rc = fo_json_is_null(doc, v);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  rc = fo_json_int64(doc, v, out);
  if (rc == 0)
    rec->has |= bit;
  return rc;
}

static int read_track_field(const fo_json *doc, int v, enum field f, fo_sat_record *r) {
  int64_t i64;
  int rc;
  switch (f) {
  case F_OBJECT_NAME:
    return read_text(doc, v, r->object_name, sizeof r->object_name, FO_SAT_HAS_OBJECT_NAME, r);
  case F_OBJECT_ID:
    return read_text(doc, v, r->object_id, sizeof r->object_id, FO_SAT_HAS_OBJECT_ID, r);
  case F_EPOCH:
    return read_date(doc, v, r->epoch, &r->epoch_time, FO_SAT_HAS_EPOCH, r);
  case F_LAUNCH_DATE:
    return read_date(doc, v, r->launch_date, &r->launch_time, FO_SAT_HAS_LAUNCH_DATE, r);
  case F_DECAY_DATE:
    return read_date(doc, v, r->decay_date, &r->decay_time, FO_SAT_HAS_DECAY_DATE, r);
  case F_NORAD_CAT_ID:
    return read_int(doc, v, &r->norad_cat_id, FO_SAT_HAS_NORAD_CAT_ID, r);
  case F_DECAYED:
    rc = read_int(doc, v, &i64, FO_SAT_HAS_DECAYED, r);
    if (rc == 0 && (i64 < 0 || i64 > 1))
      return -ERANGE;
    r->decayed = (int)i64;
    return rc;
  case F_NONE:
  case F_ID:
  case F_SPACETRACK:
  case F_LONGITUDE:
  case F_LATITUDE:
  case F_HEIGHT_KM:
  case F_VELOCITY_KMS:
    break;
  }
  return 0;
}

static int read_track(const fo_json *doc, int obj, fo_sat_record *rec) {
  /* A second spaceTrack replaces the first whole, as in JSON.parse; null leaves its fields
   * null. */
  rec->has &= ~(unsigned)(FO_SAT_HAS_OBJECT_NAME | FO_SAT_HAS_OBJECT_ID | FO_SAT_HAS_EPOCH |
                          FO_SAT_HAS_LAUNCH_DATE | FO_SAT_HAS_DECAY_DATE | FO_SAT_HAS_NORAD_CAT_ID |
                          FO_SAT_HAS_DECAYED);
  rec->object_name[0] = rec->object_id[0] = '\0';
  rec->epoch[0] = rec->launch_date[0] = rec->decay_date[0] = '\0';
  memset(&rec->epoch_time, 0, sizeof rec->epoch_time);
  memset(&rec->launch_time, 0, sizeof rec->launch_time);
  memset(&rec->decay_time, 0, sizeof rec->decay_time);
  rec->norad_cat_id = 0;
  rec->decayed = 0;
  int type = fo_json_typeof(doc, obj);
  if (type == FO_JSON_NULL)
    return 0;
  if (type != FO_JSON_OBJECT)
    return type < 0 ? type : FO_EJSONTYPE;
  const char *key;
  size_t n;
  for (int it = 0, v; (v = fo_json_member(doc, obj, &it, &key, &n)) >= 0;) {
    enum field f = lookup(doc, v - 1, key, n, track_field);
    if (f == F_NONE)
      continue;
    int rc = read_track_field(doc, v, f, rec);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int read_id(const fo_json *doc, int v, fo_sat_record *rec) {
  const char *raw;
  size_t n;
  int type = fo_json_typeof(doc, v);
  if (type != FO_JSON_STRING)
    return type < 0 ? type : FO_EJSONTYPE;
  /* Hex digits need no escape, so an id with a backslash is not an id. */
  int rc = fo_json_raw(doc, v, &raw, &n);
  if (rc == 0)
    rc = fo_sat_check_id(raw, n);
  if (rc != 0)
    return rc;
  memcpy(rec->id, raw, FO_SAT_ID_LEN);
  rec->id[FO_SAT_ID_LEN] = '\0';
  return 0;
}

static int read_top_field(const fo_json *doc, int v, enum field f, fo_sat_record *r, int *have_id) {
  switch (f) {
  case F_ID:
    *have_id = 1;
    return read_id(doc, v, r);
  case F_SPACETRACK:
    return read_track(doc, v, r);
  case F_LONGITUDE:
    return read_double(doc, v, &r->longitude, FO_SAT_HAS_LONGITUDE, r);
  case F_LATITUDE:
    return read_double(doc, v, &r->latitude, FO_SAT_HAS_LATITUDE, r);
  case F_HEIGHT_KM:
    return read_double(doc, v, &r->height_km, FO_SAT_HAS_HEIGHT_KM, r);
  case F_VELOCITY_KMS:
    return read_double(doc, v, &r->velocity_kms, FO_SAT_HAS_VELOCITY_KMS, r);
  case F_NONE:
  case F_OBJECT_NAME:
  case F_OBJECT_ID:
  case F_EPOCH:
  case F_LAUNCH_DATE:
  case F_DECAY_DATE:
  case F_NORAD_CAT_ID:
  case F_DECAYED:
    break;
  }
  return 0;
}

int fo_sat_from_json(const fo_json *doc, int v, fo_sat_record *rec) {
  if (v < 0)
    return v;
  if (doc == NULL || rec == NULL)
    return -EINVAL;
  memset(rec, 0, sizeof *rec);
  int type = fo_json_typeof(doc, v);
  if (type != FO_JSON_OBJECT)
    return type < 0 ? type : FO_EJSONTYPE;
  int have_id = 0;
  const char *key;
  size_t n;
  for (int it = 0, m; (m = fo_json_member(doc, v, &it, &key, &n)) >= 0;) {
    enum field f = lookup(doc, m - 1, key, n, top_field);
    if (f == F_NONE)
      continue;
    int rc = read_top_field(doc, m, f, rec, &have_id);
    if (rc != 0)
      return rc;
  }
  return have_id ? 0 : FO_ENOTFOUND;
}

/* The result rc with no position, for an error that is not the parser's. */
static int no_position(int rc, fo_json_error *err) {
  if (err != NULL)
    *err = (fo_json_error){rc, 0, 0, 0};
  return rc;
}

int fo_sat_parse(const char *buf, size_t len, const fo_json_limits *limits, fo_sat_record *rec,
                 fo_json_error *err) {
  if (rec == NULL)
    return no_position(-EINVAL, err);
  fo_json *doc;
  int rc = fo_json_parse(buf, len, limits, &doc, err);
  if (rc != 0)
    return rc;
  rc = fo_sat_from_json(doc, fo_json_root(doc), rec);
  fo_json_free(doc);
  return no_position(rc, err);
}

typedef struct {
  fo_sat_list_fn fn;
  void *arg;
  const char *bad; /* where the record that fo_sat_from_json() refused starts, or NULL */
  int bad_rc;
} list_ctx;

static int list_element(const fo_json *doc, int v, size_t index, void *arg) {
  list_ctx *c = arg;
  fo_sat_record rec;
  int rc = fo_sat_from_json(doc, v, &rec);
  if (rc != 0) {
    size_t n;
    if (fo_json_raw(doc, v, &c->bad, &n) != 0)
      c->bad = NULL;
    c->bad_rc = rc;
    return rc;
  }
  return c->fn(&rec, index, c->arg);
}

int fo_sat_list_parse(const char *buf, size_t len, const fo_json_limits *limits, fo_sat_list_fn fn,
                      void *arg, fo_json_error *err) {
  if (fn == NULL)
    return no_position(-EINVAL, err);
  list_ctx c = {fn, arg, NULL, 0};
  int rc = fo_json_each(buf, len, limits, list_element, &c, err);
  if (err != NULL && c.bad != NULL && rc == c.bad_rc)
    fo__json_locate(buf, len, (size_t)(c.bad - buf), err);
  return rc;
}

typedef struct {
  char (*ids)[FO_SAT_ID_LEN + 1];
  size_t cap, count;
} ids_ctx;

static int copy_id(const fo_sat_record *rec, size_t index, void *arg) {
  ids_ctx *c = arg;
  if (index < c->cap)
    memcpy(c->ids[index], rec->id, sizeof c->ids[index]);
  c->count = index + 1;
  return 0;
}

int fo_sat_list_ids(const char *buf, size_t len, const fo_json_limits *limits,
                    char (*ids)[FO_SAT_ID_LEN + 1], size_t cap, size_t *count, fo_json_error *err) {
  if (ids == NULL && cap > 0)
    return no_position(-EINVAL, err);
  ids_ctx c = {ids, cap, 0};
  int rc = fo_sat_list_parse(buf, len, limits, copy_id, &c, err);
  if (count != NULL)
    *count = c.count;
  if (rc == 0 && c.count > cap && ids != NULL)
    return no_position(FO_ETOOBIG, err);
  return rc;
}
