/* The selective reader: satellite records straight from the text, without tokens.
 *
 * The tree path (json_parse.c) writes a jsmn token for every value, about forty per record,
 * while a record needs a dozen. This reader walks the text once, checks every byte as strictly
 * as the tree path does (whitespace and separators, each string's escapes, control bytes and
 * UTF-8, each number's grammar and literal's spelling, the nesting depth, nothing after the
 * document), skips the members it does not want by their structure, and converts only the
 * fields asked for, with the conversions the tree path uses (sat_field.c).
 *
 * It decides only the inputs it can decide the same way as the tree path: good documents whose
 * records convert cleanly and that stay well inside the token limit. Anything else -- a syntax
 * error, a cut-off text, a record refused, a depth limit above what it tracks -- makes it give
 * up, and the tree path goes over the input again and has the last word, with the same codes
 * and positions as ever. Given up or not, nothing is allocated here.
 *
 * Strings are scanned many bytes at a time for the bytes that need a look (json/json_internal.h); the
 * strict string check runs only on strings that hold an escape or a byte above 0x7f. */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "fanout/json.h"
#include "fanout/sat.h"
#include "json/json_internal.h"
#include "sat/sat_internal.h"

#define GIVE_UP FO__SAT_FALLBACK
#define DEPTH_CAP 1024u /* open containers the reader keeps track of */

typedef struct {
  const char *p, *end;
  size_t depth, max_depth;
  size_t tokens, max_tokens; /* tokens the tree path would write for the current unit; bound */
  uint64_t object[DEPTH_CAP / 64]; /* bit d: the container open at depth d is an object */
} reader;

static inline int is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next byte that is not whitespace (the reader stands on it), or -1 at the end. */
static inline int peek(reader *r) {
  while (r->p < r->end && is_ws(*r->p))
    r->p++;
  return r->p < r->end ? (unsigned char)*r->p : -1;
}

static inline int count_token(reader *r) {
  return ++r->tokens > r->max_tokens ? GIVE_UP : 0;
}

/* A string, the reader on its opening quote: its contents and whether they hold an escape. */
static inline __attribute__((always_inline)) int read_string(reader *r, fo__sat_value *v) {
  const char *start = ++r->p, *q = start;
  int escaped = 0, wide = 0;
  for (;;) {
    q = fo__json_scan_string(q, r->end);
    if (q >= r->end)
      return GIVE_UP; /* cut off */
    unsigned char c = (unsigned char)*q;
    if (c == '"')
      break;
    if (c == '\\') {
      if (r->end - q < 2)
        return GIVE_UP;
      escaped = 1;
      q += 2; /* the escaped byte is never the closing quote */
    } else if (c < 0x20) {
      return GIVE_UP;
    } else {
      wide = 1;
      q++;
    }
  }
  v->type = FO_JSON_STRING;
  v->s = start;
  v->n = (size_t)(q - start);
  v->escaped = escaped;
  r->p = q + 1;
  if (escaped || wide) {
    int t = fo__json_check_string(start, v->n, 0);
    if (t != FO__TEXT_OK && t != FO__TEXT_ESCAPED)
      return GIVE_UP;
  }
  return count_token(r);
}

static inline int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static inline const char *digits(const char *p, const char *end) {
  p = fo__json_scan_digits(p, end);
  while (p < end && is_digit(*p))
    p++;
  return p;
}

/* Past a number's text by the grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, checked
 * as it is read (one pass instead of a scan for its end and a check); NULL when there is none. */
static const char *number_end(const char *p, const char *end) {
  if (p < end && *p == '-')
    p++;
  if (p >= end)
    return NULL;
  if (*p == '0')
    p++;
  else if (*p >= '1' && *p <= '9')
    p = digits(p + 1, end);
  else
    return NULL;
  if (p < end && *p == '.') {
    if (++p >= end || !is_digit(*p))
      return NULL;
    p = digits(p + 1, end);
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    if (++p < end && (*p == '+' || *p == '-'))
      p++;
    if (p >= end || !is_digit(*p))
      return NULL;
    p = digits(p + 1, end);
  }
  return p;
}

static const char *literal_end(const char *p, const char *end, const char *word, size_t n) {
  return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

/* A number or literal, which a delimiter must follow: the tree path takes the bytes up to the
 * next one as the token and wants them to be exactly one number or literal. */
static int read_primitive(reader *r, fo__sat_value *v) {
  const char *s = r->p, *q;
  switch (*s) {
  case 't':
    v->type = FO_JSON_TRUE;
    q = literal_end(s, r->end, "true", 4);
    break;
  case 'f':
    v->type = FO_JSON_FALSE;
    q = literal_end(s, r->end, "false", 5);
    break;
  case 'n':
    v->type = FO_JSON_NULL;
    q = literal_end(s, r->end, "null", 4);
    break;
  default:
    v->type = FO_JSON_NUMBER;
    q = number_end(s, r->end);
    break;
  }
  /* cut off (inside a container nothing may end the input), or not one */
  if (q == NULL || q >= r->end || (*q != ',' && *q != ']' && *q != '}' && !is_ws(*q)))
    return GIVE_UP;
  v->s = s;
  v->n = (size_t)(q - s);
  v->escaped = 0;
  r->p = q;
  return count_token(r);
}

static int open_container(reader *r, int object) {
  if (r->depth >= r->max_depth)
    return GIVE_UP;
  size_t d = r->depth++;
  uint64_t bit = (uint64_t)1 << (d % 64);
  r->object[d / 64] = object ? r->object[d / 64] | bit : r->object[d / 64] & ~bit;
  r->p++;
  return count_token(r);
}

static int in_object(const reader *r) {
  size_t d = r->depth - 1;
  return (int)((r->object[d / 64] >> (d % 64)) & 1);
}

/* A member's key and the ':' after it. */
static int read_key(reader *r, fo__sat_value *key) {
  if (peek(r) != '"')
    return GIVE_UP;
  int rc = read_string(r, key);
  if (rc != 0)
    return rc;
  if (peek(r) != ':')
    return GIVE_UP;
  r->p++;
  return 0;
}

/* After a value inside the containers opened since depth base: a ',' and the next key if in an
 * object (0, a value follows), or closing brackets; 2 when the value at base is complete. */
static int after_value(reader *r, size_t base) {
  for (;;) {
    if (r->depth == base)
      return 2;
    int c = peek(r), object = in_object(r);
    if (c == ',') {
      r->p++;
      fo__sat_value key;
      return object ? read_key(r, &key) : 0;
    }
    if (c != (object ? '}' : ']'))
      return GIVE_UP;
    r->p++;
    r->depth--;
  }
}

/* Check and pass over the value the reader stands before, without converting anything. */
static int skip_value(reader *r) {
  size_t base = r->depth;
  for (;;) {
    fo__sat_value v;
    int c = peek(r), rc;
    if (c == '{' || c == '[') {
      rc = open_container(r, c == '{');
      if (rc != 0)
        return rc;
      if (peek(r) == (c == '{' ? '}' : ']')) {
        r->p++;
        r->depth--;
      } else {
        if (c == '{' && (rc = read_key(r, &v)) != 0)
          return rc;
        continue;
      }
    } else if (c == '"') {
      if ((rc = read_string(r, &v)) != 0)
        return rc;
    } else if (c < 0 || (rc = read_primitive(r, &v)) != 0) {
      return GIVE_UP;
    }
    rc = after_value(r, base);
    if (rc == 2)
      return 0;
    if (rc != 0)
      return rc;
  }
}

/* A value to convert: a string or primitive as it stands; a container is checked and skipped
 * and only its type is told (the conversions refuse it). */
static int read_value(reader *r, fo__sat_value *v) {
  int c = peek(r);
  if (c == '"')
    return read_string(r, v);
  if (c == '{' || c == '[') {
    *v = (fo__sat_value){c == '{' ? FO_JSON_OBJECT : FO_JSON_ARRAY, NULL, 0, 0};
    return skip_value(r);
  }
  return c < 0 ? GIVE_UP : read_primitive(r, v);
}

/* The members of a record (track 0) or of its spaceTrack (track 1), the reader on the '{'. */
static int read_members(reader *r, int track, fo_sat_record *rec, int *have_id) {
  int rc = open_container(r, 1);
  if (rc != 0)
    return rc;
  if (peek(r) == '}') {
    r->p++;
    r->depth--;
    return 0;
  }
  for (;;) {
    fo__sat_value key, v;
    if ((rc = read_key(r, &key)) != 0)
      return rc;
    enum fo__sat_field f = fo__sat_key(key.s, key.n, key.escaped, track);
    if (f == FO__SAT_NONE) {
      /* most members: a string or a number nobody asked for, passed over without the nesting
       * loop of skip_value() */
      int c = peek(r);
      rc = c == '"' ? read_string(r, &v) : c == '{' || c == '[' || c < 0 ? skip_value(r)
                                                                         : read_primitive(r, &v);
    } else if (f == FO__SAT_SPACETRACK) {
      fo__sat_track_reset(rec);
      if (peek(r) == '{')
        rc = read_members(r, 1, rec, have_id);
      else if ((rc = read_value(r, &v)) == 0 && v.type != FO_JSON_NULL)
        rc = GIVE_UP; /* refused: the tree path tells why and where */
    } else if ((rc = read_value(r, &v)) == 0) {
      rc = track ? fo__sat_track_value(&v, f, rec) : fo__sat_top_value(&v, f, rec, have_id);
    }
    if (rc != 0)
      return GIVE_UP;
    int c = peek(r);
    if (c == '}') {
      r->p++;
      r->depth--;
      return 0;
    }
    if (c != ',')
      return GIVE_UP;
    r->p++;
  }
}

static int read_record(reader *r, fo_sat_record *rec) {
  memset(rec, 0, sizeof *rec);
  r->tokens = 0;
  if (peek(r) != '{')
    return GIVE_UP;
  int have_id = 0;
  int rc = read_members(r, 0, rec, &have_id);
  return rc != 0 || !have_id ? GIVE_UP : 0;
}

/* units: how many units' tokens the tree path may hold at once (see fo_json_each()). */
static int start(reader *r, const char *buf, size_t len, const fo_json_limits *limits,
                 size_t units) {
  if (buf == NULL || len >= (size_t)INT_MAX)
    return GIVE_UP;
  size_t max_tokens =
      limits != NULL && limits->max_tokens > 0 ? limits->max_tokens : FO_JSON_MAX_TOKENS;
  size_t max_depth = limits != NULL && limits->max_depth > 0 ? limits->max_depth : FO_JSON_MAX_DEPTH;
  if (max_depth > DEPTH_CAP || max_tokens > INT_MAX / 2)
    return GIVE_UP;
  /* Stay well inside the limit, so that the tree path would not have run out of tokens for
   * anything this reader decides: it holds up to two elements and a step of jsmn's at once. */
  if (max_tokens < 4096)
    return GIVE_UP;
  r->max_tokens = (max_tokens - 1024) / units;
  r->max_depth = max_depth;
  r->depth = 0;
  r->tokens = 0;
  r->p = buf;
  r->end = buf + len;
  return 0;
}

int fo__sat_read_one(const char *buf, size_t len, const fo_json_limits *limits,
                     fo_sat_record *rec) {
  reader r;
  fo_sat_record got;
  if (start(&r, buf, len, limits, 2) != 0 || read_record(&r, &got) != 0 || peek(&r) != -1)
    return GIVE_UP;
  *rec = got;
  return 0;
}

int fo__sat_read_list(const char *buf, size_t len, const fo_json_limits *limits,
                      fo_sat_list_fn fn, void *arg, size_t *delivered, int *stopped) {
  reader r;
  *delivered = 0;
  *stopped = 0;
  if (start(&r, buf, len, limits, 3) != 0 || peek(&r) != '[' || open_container(&r, 0) != 0)
    return GIVE_UP;
  if (peek(&r) == ']') {
    r.p++;
  } else {
    for (size_t i = 0;; i++) {
      fo_sat_record rec;
      if (read_record(&r, &rec) != 0)
        return GIVE_UP;
      /* Handed out as soon as it is whole, as the tree path does: an error after it does not
       * take it back. */
      int rc = fn(&rec, i, arg);
      *delivered = i + 1;
      if (rc != 0) {
        *stopped = 1;
        return rc;
      }
      int c = peek(&r);
      if (c == ']') {
        r.p++;
        break;
      }
      if (c != ',')
        return GIVE_UP;
      r.p++;
    }
  }
  return peek(&r) == -1 ? 0 : GIVE_UP;
}
