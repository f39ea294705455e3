/* Reading a parsed document: walking, lookup by key, index and path, and typed reads. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fanout/json.h"
#include "json/json_internal.h"

/* 0 if v names a token of doc; v itself if it is already an error, so lookups chain. */
static int check(const fo_json *doc, int v) {
  if (v < 0)
    return v;
  if (doc == NULL || v < doc->first || v >= doc->end)
    return -EINVAL;
  return 0;
}

static int is_key(const fo_json *doc, int v) {
  const jsmntok_t *t = &doc->tok[v];
  return t->type == JSMN_STRING && t->size == 1;
}

int fo__json_skip(const jsmntok_t *tok, int v, int limit) {
  while (tok[v].type == JSMN_STRING && tok[v].size == 1)
    v++; /* a key: skip its value */
  if (tok[v].type != JSMN_OBJECT && tok[v].type != JSMN_ARRAY)
    return v + 1;
  /* Tokens are in document order, so the value's descendants are exactly the tokens that
   * start before its end: gallop, then bisect, for the first one that does not. */
  int end = tok[v].end;
  int lo = v + 1, hi = lo, step = 1;
  while (hi < limit && tok[hi].start < end) {
    lo = hi + 1;
    hi = step > limit - lo ? limit : lo + step;
    step = step < (1 << 29) ? step * 2 : step;
  }
  if (hi > limit)
    hi = limit;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (tok[mid].start < end)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int fo_json_root(const fo_json *doc) {
  return doc != NULL ? doc->first : -EINVAL;
}

int fo_json_typeof(const fo_json *doc, int v) {
  int rc = check(doc, v);
  if (rc != 0)
    return rc;
  const jsmntok_t *t = &doc->tok[v];
  switch (t->type) {
  case JSMN_OBJECT:
    return FO_JSON_OBJECT;
  case JSMN_ARRAY:
    return FO_JSON_ARRAY;
  case JSMN_STRING:
    return FO_JSON_STRING;
  case JSMN_PRIMITIVE:
  case JSMN_UNDEFINED:
    break;
  }
  switch (doc->buf[t->start]) {
  case 't':
    return FO_JSON_TRUE;
  case 'f':
    return FO_JSON_FALSE;
  case 'n':
    return FO_JSON_NULL;
  default:
    return FO_JSON_NUMBER;
  }
}

static int container(const fo_json *doc, int v) {
  int rc = check(doc, v);
  if (rc != 0)
    return rc;
  jsmntype_t t = doc->tok[v].type;
  return t == JSMN_OBJECT || t == JSMN_ARRAY ? 0 : FO_EJSONTYPE;
}

int fo_json_size(const fo_json *doc, int v) {
  int rc = container(doc, v);
  return rc != 0 ? rc : doc->tok[v].size;
}

int fo_json_first(const fo_json *doc, int v) {
  int rc = container(doc, v);
  if (rc != 0)
    return rc;
  return doc->tok[v].size > 0 ? v + 1 : FO_ENOTFOUND;
}

int fo_json_next(const fo_json *doc, int v) {
  int rc = check(doc, v);
  if (rc != 0)
    return rc;
  int parent = doc->tok[v].parent;
  if (parent >= 0 && doc->tok[parent].type == JSMN_STRING)
    return -EINVAL; /* a member's value: walk the keys instead */
  int n = fo__json_skip(doc->tok, v, doc->end);
  if (n < doc->end && doc->tok[n].parent == parent)
    return n;
  return FO_ENOTFOUND;
}

int fo_json_value(const fo_json *doc, int key) {
  int rc = check(doc, key);
  if (rc != 0)
    return rc;
  int parent = doc->tok[key].parent;
  if (!is_key(doc, key) || parent < 0 || doc->tok[parent].type != JSMN_OBJECT)
    return FO_EJSONTYPE;
  return key + 1;
}

int fo_json_member(const fo_json *doc, int obj, int *it, const char **key, size_t *keylen) {
  int rc = check(doc, obj);
  if (rc != 0)
    return rc;
  if (it == NULL || key == NULL || keylen == NULL || *it < 0)
    return -EINVAL;
  const jsmntok_t *o = &doc->tok[obj];
  if (o->type != JSMN_OBJECT)
    return FO_EJSONTYPE;
  /* *it is the next key's handle (0: the first); one past the object's last token ends. */
  int k = *it == 0 ? obj + 1 : *it;
  if (o->size == 0 || (k < doc->end && doc->tok[k].start >= o->end) || k >= doc->end) {
    *it = k;
    return FO_ENOTFOUND;
  }
  if (k <= obj || !is_key(doc, k) || doc->tok[k].parent != obj)
    return -EINVAL;
  const jsmntok_t *t = &doc->tok[k];
  *key = doc->buf + t->start;
  *keylen = (size_t)(t->end - t->start);
  *it = fo__json_skip(doc->tok, k, doc->end);
  return k + 1;
}

/* The value of the last member named key[0..n), or FO_ENOTFOUND. */
static int get_n(const fo_json *doc, int obj, const char *key, size_t n) {
  int rc = check(doc, obj);
  if (rc != 0)
    return rc;
  const jsmntok_t *o = &doc->tok[obj];
  if (o->type != JSMN_OBJECT)
    return FO_EJSONTYPE;
  int found = FO_ENOTFOUND;
  int k = obj + 1;
  for (int i = 0; i < o->size; i++) {
    const jsmntok_t *t = &doc->tok[k];
    size_t tn = (size_t)(t->end - t->start);
    if (doc->escapes ? fo__json_text_equals(doc->buf + t->start, tn, key, n)
                     : tn == n && memcmp(doc->buf + t->start, key, n) == 0)
      found = k + 1;
    k = fo__json_skip(doc->tok, k, doc->end);
  }
  return found;
}

int fo_json_get(const fo_json *doc, int obj, const char *key) {
  if (key == NULL && obj >= 0)
    return -EINVAL;
  return get_n(doc, obj, key, key != NULL ? strlen(key) : 0);
}

int fo_json_index(const fo_json *doc, int arr, size_t i) {
  int rc = check(doc, arr);
  if (rc != 0)
    return rc;
  const jsmntok_t *a = &doc->tok[arr];
  if (a->type != JSMN_ARRAY)
    return FO_EJSONTYPE;
  if (i >= (size_t)a->size)
    return FO_ENOTFOUND;
  int v = arr + 1;
  for (size_t k = 0; k < i; k++)
    v = fo__json_skip(doc->tok, v, doc->end);
  return v;
}

int fo_json_path(const fo_json *doc, int from, const char *path) {
  int rc = check(doc, from);
  if (rc != 0)
    return rc;
  if (path == NULL)
    return -EINVAL;
  /* A malformed path is the caller's error whatever the document holds: check it first. */
  size_t plen = strlen(path);
  if (plen > 0 && (path[0] == '.' || path[plen - 1] == '.' || strstr(path, "..") != NULL))
    return -EINVAL;
  int v = from;
  const char *s = path;
  while (*s != '\0') {
    const char *dot = strchr(s, '.');
    size_t n = dot != NULL ? (size_t)(dot - s) : strlen(s);
    jsmntype_t t = doc->tok[v].type;
    if (t == JSMN_OBJECT) {
      v = get_n(doc, v, s, n);
    } else if (t == JSMN_ARRAY) {
      size_t idx = 0;
      for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
          return FO_EJSONTYPE;
        if (idx > ((size_t)-1 - 9) / 10)
          return FO_ENOTFOUND;
        idx = idx * 10 + (size_t)(s[i] - '0');
      }
      v = fo_json_index(doc, v, idx);
    } else {
      return FO_EJSONTYPE;
    }
    if (v < 0)
      return v;
    s += n;
    if (*s == '.')
      s++;
  }
  return v;
}

static int string_span(const fo_json *doc, int v, const char **s, size_t *n) {
  int rc = check(doc, v);
  if (rc != 0)
    return rc;
  const jsmntok_t *t = &doc->tok[v];
  if (t->type != JSMN_STRING)
    return FO_EJSONTYPE;
  *s = doc->buf + t->start;
  *n = (size_t)(t->end - t->start);
  return 0;
}

int fo_json_equals(const fo_json *doc, int v, const char *str, size_t n) {
  const char *s;
  size_t sn;
  int rc = string_span(doc, v, &s, &sn);
  if (rc != 0)
    return rc;
  if (str == NULL && n > 0)
    return -EINVAL;
  return fo__json_text_equals(s, sn, str, n);
}

int fo_json_string(const fo_json *doc, int v, char *buf, size_t size, size_t *len) {
  const char *s;
  size_t n;
  int rc = string_span(doc, v, &s, &n);
  if (rc != 0)
    return rc;
  /* No escape: the decoded text is the raw text, and its length is known without a pass. */
  int plain = !doc->escapes || memchr(s, '\\', n) == NULL;
  size_t need = plain ? n : fo__json_unescape(s, n, NULL);
  if (len != NULL)
    *len = need;
  if (buf == NULL)
    return 0;
  if (size <= need) {
    if (size > 0)
      buf[0] = '\0';
    return FO_ETOOBIG;
  }
  if (plain)
    memcpy(buf, s, n);
  else
    fo__json_unescape(s, n, buf);
  buf[need] = '\0';
  return 0;
}

int fo_json_has_escapes(const fo_json *doc) {
  return doc != NULL ? doc->escapes : -EINVAL;
}

int fo_json_raw(const fo_json *doc, int v, const char **text, size_t *len) {
  int rc = check(doc, v);
  if (rc != 0)
    return rc;
  if (text == NULL || len == NULL)
    return -EINVAL;
  const jsmntok_t *t = &doc->tok[v];
  *text = doc->buf + t->start;
  *len = (size_t)(t->end - t->start);
  return 0;
}

static int primitive(const fo_json *doc, int v, int want, const char **s, size_t *n) {
  int type = fo_json_typeof(doc, v);
  if (type < 0)
    return type;
  if (type != want)
    return FO_EJSONTYPE;
  const jsmntok_t *t = &doc->tok[v];
  *s = doc->buf + t->start;
  *n = (size_t)(t->end - t->start);
  return 0;
}

int fo_json_number(const fo_json *doc, int v, double *out) {
  const char *s;
  size_t n;
  int rc = primitive(doc, v, FO_JSON_NUMBER, &s, &n);
  if (rc != 0)
    return rc;
  if (out == NULL)
    return -EINVAL;
  return fo__json_to_double(s, n, out);
}

int fo_json_int64(const fo_json *doc, int v, int64_t *out) {
  const char *s;
  size_t n;
  int rc = primitive(doc, v, FO_JSON_NUMBER, &s, &n);
  if (rc != 0)
    return rc;
  if (out == NULL)
    return -EINVAL;
  return fo__json_to_int64(s, n, out);
}

int fo_json_bool(const fo_json *doc, int v, int *out) {
  int type = fo_json_typeof(doc, v);
  if (type < 0)
    return type;
  if (type != FO_JSON_TRUE && type != FO_JSON_FALSE)
    return FO_EJSONTYPE;
  if (out == NULL)
    return -EINVAL;
  *out = type == FO_JSON_TRUE;
  return 0;
}

int fo_json_is_null(const fo_json *doc, int v) {
  int type = fo_json_typeof(doc, v);
  return type < 0 ? type : type == FO_JSON_NULL;
}
