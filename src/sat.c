/* Satellite records: one pass over the members of a document and of its spaceTrack, matching
 * each key once, instead of one lookup per field. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fanout/sat.h"
#include "json_internal.h"
#include "sat_internal.h"

int fo_sat_check_id(const char *s, size_t n) {
  if (s == NULL || n != FO_SAT_ID_LEN)
    return FO_EBADID;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return FO_EBADID;
  return 0;
}

/* Which field a key names: by length first, then constant comparisons the compiler turns into
 * a few integer compares. Most keys of a document are ones this layer skips. */
static enum fo__sat_field top_field(const char *s, size_t n) {
  switch (n) {
  case 2:
    return memcmp(s, "id", 2) == 0 ? FO__SAT_ID : FO__SAT_NONE;
  case 8:
    return memcmp(s, "latitude", 8) == 0 ? FO__SAT_LATITUDE : FO__SAT_NONE;
  case 9:
    return memcmp(s, "longitude", 9) == 0   ? FO__SAT_LONGITUDE
           : memcmp(s, "height_km", 9) == 0 ? FO__SAT_HEIGHT_KM
                                            : FO__SAT_NONE;
  case 10:
    return memcmp(s, "spaceTrack", 10) == 0 ? FO__SAT_SPACETRACK : FO__SAT_NONE;
  case 12:
    return memcmp(s, "velocity_kms", 12) == 0 ? FO__SAT_VELOCITY_KMS : FO__SAT_NONE;
  default:
    return FO__SAT_NONE;
  }
}

static enum fo__sat_field track_field(const char *s, size_t n) {
  switch (n) {
  case 5:
    return memcmp(s, "EPOCH", 5) == 0 ? FO__SAT_EPOCH : FO__SAT_NONE;
  case 7:
    return memcmp(s, "DECAYED", 7) == 0 ? FO__SAT_DECAYED : FO__SAT_NONE;
  case 9:
    return memcmp(s, "OBJECT_ID", 9) == 0 ? FO__SAT_OBJECT_ID : FO__SAT_NONE;
  case 10:
    return memcmp(s, "DECAY_DATE", 10) == 0 ? FO__SAT_DECAY_DATE : FO__SAT_NONE;
  case 11:
    return memcmp(s, "OBJECT_NAME", 11) == 0   ? FO__SAT_OBJECT_NAME
           : memcmp(s, "LAUNCH_DATE", 11) == 0 ? FO__SAT_LAUNCH_DATE
                                               : FO__SAT_NONE;
  case 12:
    return memcmp(s, "NORAD_CAT_ID", 12) == 0 ? FO__SAT_NORAD_CAT_ID : FO__SAT_NONE;
  default:
    return FO__SAT_NONE;
  }
}

/* Keys in the API's output hold no escape, so the raw text is tried first; a key that does not
 * match raw is decoded only if it has a backslash (then "OBJECT\u005fNAME" still counts). A raw
 * match is never wrong: no name here has a backslash. */
enum fo__sat_field fo__sat_key(const char *raw, size_t n, int escaped, int track) {
  enum fo__sat_field f = track ? track_field(raw, n) : top_field(raw, n);
  if (f != FO__SAT_NONE || !escaped)
    return f;
  char decoded[16];
  size_t need = fo__json_unescape(raw, n, NULL);
  if (need >= sizeof decoded)
    return FO__SAT_NONE; /* longer than any key we know */
  fo__json_unescape(raw, n, decoded);
  return track ? track_field(decoded, need) : top_field(decoded, need);
}

/* A text field: a string (possibly empty) sets the bit, null clears it. */
static int read_text(const fo__sat_value *v, char *buf, size_t size, unsigned bit,
                     fo_sat_record *rec) {
  buf[0] = '\0';
  rec->has &= ~bit;
  if (v->type == FO_JSON_NULL)
    return 0;
  if (v->type != FO_JSON_STRING)
    return v->type < 0 ? v->type : FO_EJSONTYPE;
  /* No escape: the decoded text is the raw text, and its length is known without a pass. */
  size_t n = v->escaped ? fo__json_unescape(v->s, v->n, NULL) : v->n;
  if (size <= n)
    return FO_ETOOBIG;
  if (v->escaped)
    fo__json_unescape(v->s, v->n, buf);
  else
    memcpy(buf, v->s, n);
  buf[n] = '\0';
  /* A NUL inside (only \u0000 can make one, and only escapes shorten a string) would cut the
   * C string short without a word: refuse it. */
  if (n < v->n && memchr(buf, '\0', n) != NULL) {
    buf[0] = '\0';
    return FO_EJSONTYPE;
  }
  rec->has |= bit;
  return 0;
}

static int read_date(const fo__sat_value *v, char *buf, fo_sat_time *t, unsigned bit,
                     fo_sat_record *rec) {
  memset(t, 0, sizeof *t);
  int rc = read_text(v, buf, FO_SAT_DATE_SIZE, bit, rec);
  if (rc != 0 || buf[0] == '\0')
    return rc;
  return fo_sat_parse_date(buf, strlen(buf), t);
}

/* A number, or null (which leaves the field null). */
static int number_or_null(const fo__sat_value *v, unsigned bit, fo_sat_record *rec) {
  rec->has &= ~bit;
  if (v->type == FO_JSON_NULL)
    return 1;
  if (v->type != FO_JSON_NUMBER)
    return v->type < 0 ? v->type : FO_EJSONTYPE;
  return 0;
}

static int read_double(const fo__sat_value *v, double *out, unsigned bit, fo_sat_record *rec) {
  *out = 0;
  int rc = number_or_null(v, bit, rec);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  rc = fo__json_to_double(v->s, v->n, out);
  if (rc == 0)
    rec->has |= bit;
  return rc;
}

static int read_int(const fo__sat_value *v, int64_t *out, unsigned bit, fo_sat_record *rec) {
  *out = 0;
  int rc = number_or_null(v, bit, rec);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  rc = fo__json_to_int64(v->s, v->n, out);
  if (rc == 0)
    rec->has |= bit;
  return rc;
}

int fo__sat_track_value(const fo__sat_value *v, enum fo__sat_field f, fo_sat_record *r) {
  int64_t i64;
  int rc;
  switch (f) {
  case FO__SAT_OBJECT_NAME:
    return read_text(v, r->object_name, sizeof r->object_name, FO_SAT_HAS_OBJECT_NAME, r);
  case FO__SAT_OBJECT_ID:
    return read_text(v, r->object_id, sizeof r->object_id, FO_SAT_HAS_OBJECT_ID, r);
  case FO__SAT_EPOCH:
    return read_date(v, r->epoch, &r->epoch_time, FO_SAT_HAS_EPOCH, r);
  case FO__SAT_LAUNCH_DATE:
    return read_date(v, r->launch_date, &r->launch_time, FO_SAT_HAS_LAUNCH_DATE, r);
  case FO__SAT_DECAY_DATE:
    return read_date(v, r->decay_date, &r->decay_time, FO_SAT_HAS_DECAY_DATE, r);
  case FO__SAT_NORAD_CAT_ID:
    return read_int(v, &r->norad_cat_id, FO_SAT_HAS_NORAD_CAT_ID, r);
  case FO__SAT_DECAYED:
    rc = read_int(v, &i64, FO_SAT_HAS_DECAYED, r);
    if (rc == 0 && (i64 < 0 || i64 > 1))
      return -ERANGE;
    r->decayed = (int)i64;
    return rc;
  case FO__SAT_NONE:
  case FO__SAT_ID:
  case FO__SAT_SPACETRACK:
  case FO__SAT_LONGITUDE:
  case FO__SAT_LATITUDE:
  case FO__SAT_HEIGHT_KM:
  case FO__SAT_VELOCITY_KMS:
    break;
  }
  return 0;
}

void fo__sat_track_reset(fo_sat_record *rec) {
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
}

static int read_id(const fo__sat_value *v, fo_sat_record *rec) {
  if (v->type != FO_JSON_STRING)
    return v->type < 0 ? v->type : FO_EJSONTYPE;
  /* Hex digits need no escape, so an id with a backslash is not an id. */
  int rc = fo_sat_check_id(v->s, v->n);
  if (rc != 0)
    return rc;
  memcpy(rec->id, v->s, FO_SAT_ID_LEN);
  rec->id[FO_SAT_ID_LEN] = '\0';
  return 0;
}

int fo__sat_top_value(const fo__sat_value *v, enum fo__sat_field f, fo_sat_record *r,
                      int *have_id) {
  switch (f) {
  case FO__SAT_ID:
    *have_id = 1;
    return read_id(v, r);
  case FO__SAT_LONGITUDE:
    return read_double(v, &r->longitude, FO_SAT_HAS_LONGITUDE, r);
  case FO__SAT_LATITUDE:
    return read_double(v, &r->latitude, FO_SAT_HAS_LATITUDE, r);
  case FO__SAT_HEIGHT_KM:
    return read_double(v, &r->height_km, FO_SAT_HAS_HEIGHT_KM, r);
  case FO__SAT_VELOCITY_KMS:
    return read_double(v, &r->velocity_kms, FO_SAT_HAS_VELOCITY_KMS, r);
  case FO__SAT_NONE:
  case FO__SAT_SPACETRACK:
  case FO__SAT_OBJECT_NAME:
  case FO__SAT_OBJECT_ID:
  case FO__SAT_EPOCH:
  case FO__SAT_LAUNCH_DATE:
  case FO__SAT_DECAY_DATE:
  case FO__SAT_NORAD_CAT_ID:
  case FO__SAT_DECAYED:
    break;
  }
  return 0;
}

/* A value of a parsed document as the conversions take it. */
static fo__sat_value tree_value(const fo_json *doc, int v) {
  fo__sat_value out = {fo_json_typeof(doc, v), NULL, 0, 0};
  if (out.type > 0 && fo_json_raw(doc, v, &out.s, &out.n) == 0)
    out.escaped = fo_json_has_escapes(doc) == 1 && memchr(out.s, '\\', out.n) != NULL;
  return out;
}

/* The field a member of a parsed document names. */
static enum fo__sat_field tree_key(const fo_json *doc, const char *key, size_t n, int track) {
  int escaped = fo_json_has_escapes(doc) == 1 && memchr(key, '\\', n) != NULL;
  return fo__sat_key(key, n, escaped, track);
}

static int read_track(const fo_json *doc, int obj, fo_sat_record *rec) {
  /* A second spaceTrack replaces the first whole, as in JSON.parse; null leaves its fields
   * null. */
  fo__sat_track_reset(rec);
  int type = fo_json_typeof(doc, obj);
  if (type == FO_JSON_NULL)
    return 0;
  if (type != FO_JSON_OBJECT)
    return type < 0 ? type : FO_EJSONTYPE;
  const char *key;
  size_t n;
  for (int it = 0, v; (v = fo_json_member(doc, obj, &it, &key, &n)) >= 0;) {
    enum fo__sat_field f = tree_key(doc, key, n, 1);
    if (f == FO__SAT_NONE)
      continue;
    fo__sat_value val = tree_value(doc, v);
    int rc = fo__sat_track_value(&val, f, rec);
    if (rc != 0)
      return rc;
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
    enum fo__sat_field f = tree_key(doc, key, n, 0);
    if (f == FO__SAT_NONE)
      continue;
    int rc;
    if (f == FO__SAT_SPACETRACK) {
      rc = read_track(doc, m, rec);
    } else {
      fo__sat_value val = tree_value(doc, m);
      rc = fo__sat_top_value(&val, f, rec, &have_id);
    }
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
  /* The selective reader decides documents that are good; anything else (an error to place, a
   * record to refuse) goes the way of the tree, which has the last word. */
  if (fo__sat_read_one(buf, len, limits, rec) == 0)
    return no_position(0, err);
  return fo__sat_tree_one(buf, len, limits, rec, err);
}

int fo__sat_tree_one(const char *buf, size_t len, const fo_json_limits *limits,
                     fo_sat_record *rec, fo_json_error *err) {
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
  size_t skip;     /* elements the selective reader already handed out */
  const char *bad; /* where the record that fo_sat_from_json() refused starts, or NULL */
  int bad_rc;
} list_ctx;

static int list_element(const fo_json *doc, int v, size_t index, void *arg) {
  list_ctx *c = arg;
  if (index < c->skip)
    return 0; /* good and handed out already: the reader checked it as the tree path would */
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
  size_t delivered = 0;
  int stopped = 0;
  int rc = fo__sat_read_list(buf, len, limits, fn, arg, &delivered, &stopped);
  if (stopped || rc == 0)
    return no_position(rc, err);
  /* The tree path goes over the input again from its start, past the elements handed out. */
  return fo__sat_tree_list(buf, len, limits, fn, arg, delivered, err);
}

int fo__sat_tree_list(const char *buf, size_t len, const fo_json_limits *limits,
                      fo_sat_list_fn fn, void *arg, size_t skip, fo_json_error *err) {
  list_ctx c = {fn, arg, skip, NULL, 0};
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
