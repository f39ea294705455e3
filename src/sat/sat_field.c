/* Satellite fields: which field a key names, and the conversion of its value into the record.
 * Both readers (the tree walk in sat.c and the selective reader in sat_reader.c) come here, so
 * they extract the same record. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fanout/sat.h"
#include "json/json_internal.h"
#include "sat/sat_internal.h"

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
