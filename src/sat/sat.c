/* Satellite records: the public calls, which try the selective reader (sat_reader.c) and leave
 * the last word to the tree path here, one pass over the members of a parsed document and of
 * its spaceTrack, matching each key once, instead of one lookup per field. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fanout/sat.h"
#include "json/json_internal.h"
#include "sat/sat_internal.h"

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
