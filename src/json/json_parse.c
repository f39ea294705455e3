/* Tokenizing with jsmn, made strict, bounded and linear.
 *
 * jsmn is compiled here only, with JSMN_STATIC (no jsmn_ symbol leaves the library),
 * JSMN_PARENT_LINKS and JSMN_STRICT. What it does not give us, and how we get it:
 *
 * - Linear time. Without parent links jsmn looks for the open container by scanning back over
 *   every token on each ',' and closing bracket, which is quadratic on wide objects (jsmn issue
 *   #36). With parent links a ',' is O(1), but a closing bracket still walks up from the last
 *   token, so it costs up to the nesting depth. We therefore let jsmn fill at most STEP tokens
 *   per call and check the depth between calls: nesting never gets more than STEP past the cap,
 *   and the work stays O(n * depth cap) even for hostile input.
 * - Strictness. Strict mode still accepts [1 2], {"a" "b"}, [1:2], {"a":1,}, "1x", "tru", raw
 *   control bytes and bad UTF-8 in strings, and several top-level values. A validator walks the
 *   tokens as they come, checks the bytes between them (only whitespace and the one expected
 *   separator), each string and each number or literal, and the depth, so the first error in
 *   the text is the one reported however jsmn's work was split. Strings are checked one by one
 *   only when a first pass over the whole input (fo__json_plain, a few instructions per eight
 *   bytes) finds anything but printable ASCII without escapes: API answers never do, and the
 *   per-string check was a third of the validator's cost.
 * - Bounded memory. Tokens grow through the allocator hook up to the caller's cap.
 * - Truncation told apart from garbage: when jsmn stops for want of input, the text after the
 *   last good token must be a valid beginning of what comes next for FO_EJSONTRUNC.
 * - Streaming: fo_json_each() hands each complete element of the top-level array to its callback
 *   and drops its tokens, so memory follows the largest element, not the input.
 */
#include "config.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include "json/jsmn/jsmn.h" /* vendored, pinned: src/json/jsmn/README */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "base/base_internal.h"
#include "fanout/json.h"
#include "json/json_internal.h"

/* Tokens jsmn may add per call; see the depth argument above. 256 tokens are about 3 KB of
 * typical input, so the calls cost nothing measurable. */
#define STEP 256u

/* What the open container needs next. */
enum { EXPECT_FIRST, EXPECT_MORE, EXPECT_VALUE };

typedef struct {
  const char *buf;
  size_t len;
  jsmn_parser p;
  jsmntok_t *tok;
  unsigned cap;
  unsigned max_tokens;
  size_t max_depth;
  /* the validator: bytes before pos and tokens before next are checked */
  size_t pos;
  int next;
  int cur;    /* innermost open array or object, -1 at the top level */
  int expect; /* what cur needs next */
  int key;    /* the key waiting for its value when expect == EXPECT_VALUE */
  size_t depth;
  int roots;
  int escapes; /* a string with a backslash was seen */
  int plain;   /* the whole input passed fo__json_plain(): strings need no check */
  /* streaming */
  fo_json_each_fn fn;
  void *arg;
  int delivered; /* tokens before this were handed out */
  size_t index;
  int stopped;   /* fn returned nonzero: it must not be called again */
  size_t err_at; /* where the error was found, when a check knows better than pos; or SIZE_MAX */
} pstate;

static int is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int scan_gap_loop(const char *buf, size_t from, size_t to, char sep) {
  int seps = 0;
  for (size_t i = from; i < to; i++) {
    if (is_ws(buf[i]))
      continue;
    if (sep == 0 || buf[i] != sep || seps > 0)
      return -1;
    seps = 1;
  }
  return seps;
}

/* Bytes [from, to) between two tokens: whitespace with at most one sep in it.
 * Returns the number of separators (0 or 1), or -1 for anything else. Inline for compact input,
 * where every gap is empty or just the separator. */
static inline int scan_gap(const char *buf, size_t from, size_t to, char sep) {
  if (to == from)
    return 0;
  if (to - from == 1)
    return buf[from] == sep && sep != 0 ? 1 : is_ws(buf[from]) ? 0 : -1;
  return scan_gap_loop(buf, from, to, sep);
}

/* Leave the innermost open container: only whitespace may stand before its closing bracket,
 * and an object must not end after a key. */
static int close_cur(pstate *st) {
  const jsmntok_t *c = &st->tok[st->cur];
  if (c->end < 0 || st->expect == EXPECT_VALUE)
    return FO_EJSON;
  if ((size_t)c->end - 1 < st->pos || scan_gap(st->buf, st->pos, (size_t)c->end - 1, 0) != 0)
    return FO_EJSON;
  st->pos = (size_t)c->end;
  st->depth--;
  int up = c->parent;
  if (up >= 0 && st->tok[up].type == JSMN_STRING)
    up = st->tok[up].parent; /* a member's value: its key's object is the container */
  st->cur = up;
  st->expect = EXPECT_MORE;
  return 0;
}

/* Check token i and the bytes before it. */
static int check_token(pstate *st, int i) {
  const jsmntok_t *t = &st->tok[i];
  int parent = t->parent, container = parent, member_value = 0;
  if (parent >= 0 && st->tok[parent].type == JSMN_STRING) {
    /* jsmn makes a member's value the child of its key; it must directly follow the key
     * the object is waiting on ({"a" "b"} or {"a":1 "b"} put a second child under a key). */
    if (st->expect != EXPECT_VALUE || parent != st->key || i != parent + 1)
      return FO_EJSON;
    container = st->tok[parent].parent;
    member_value = 1;
  } else if (parent >= 0 && st->tok[parent].type == JSMN_PRIMITIVE) {
    return FO_EJSON; /* [1:2] */
  }
  while (st->cur != container) {
    if (st->cur < 0)
      return FO_EJSON;
    int rc = close_cur(st);
    if (rc != 0)
      return rc;
  }
  char sep = 0;
  if (container < 0) {
    if (st->roots++ > 0)
      return FO_EJSON; /* a second top-level value */
  } else if (member_value) {
    sep = ':';
  } else if (st->expect == EXPECT_VALUE) {
    return FO_EJSON; /* a key without ':' and value */
  } else {
    if (st->tok[container].type == JSMN_OBJECT && t->type != JSMN_STRING)
      return FO_EJSON;
    if (st->expect == EXPECT_MORE)
      sep = ',';
  }
  /* A string token starts after its opening quote. */
  size_t start = (size_t)t->start - (t->type == JSMN_STRING ? 1 : 0);
  if (start < st->pos || scan_gap(st->buf, st->pos, start, sep) != (sep != 0))
    return FO_EJSON;
  switch (t->type) {
  case JSMN_STRING: {
    int r = st->plain ? FO__TEXT_OK
                      : fo__json_check_string(st->buf + t->start, (size_t)(t->end - t->start), 0);
    if (r != FO__TEXT_OK && r != FO__TEXT_ESCAPED) {
      st->err_at = start; /* the string's opening quote */
      return FO_EJSON;
    }
    st->escapes |= r == FO__TEXT_ESCAPED;
    st->pos = (size_t)t->end + 1;
    if (container >= 0 && !member_value && st->tok[container].type == JSMN_OBJECT) {
      st->expect = EXPECT_VALUE;
      st->key = i;
    } else {
      st->expect = EXPECT_MORE;
    }
    return 0;
  }
  case JSMN_PRIMITIVE:
    if (fo__json_check_primitive(st->buf + t->start, (size_t)(t->end - t->start)) != FO__TEXT_OK) {
      st->err_at = start;
      return FO_EJSON;
    }
    st->pos = (size_t)t->end;
    st->expect = EXPECT_MORE;
    return 0;
  case JSMN_OBJECT:
  case JSMN_ARRAY:
    if (++st->depth > st->max_depth) {
      st->err_at = (size_t)t->start;
      return FO_EJSONDEPTH;
    }
    st->cur = i;
    st->expect = EXPECT_FIRST;
    st->pos = (size_t)t->start + 1;
    return 0;
  case JSMN_UNDEFINED:
    break;
  }
  return FO_EJSON;
}

static int check_new_tokens(pstate *st) {
  /* On a copy nothing else can see, for the reason given at jsmn_parse() in run(): the
   * validator's fields stay in registers across the calls to the text checks. */
  pstate v = *st;
  int n = (int)v.p.toknext, rc = 0;
  for (; v.next < n && rc == 0; v.next++)
    rc = check_token(&v, v.next);
  if (rc != 0)
    v.next--;
  *st = v;
  return rc;
}

/* jsmn stopped for want of input. It is truncation only if what follows the last good token
 * could still become a document; otherwise it is garbage. */
static int classify_end(pstate *st) {
  const char *nul = memchr(st->buf + st->pos, '\0', st->len - st->pos);
  if (nul != NULL) {
    st->err_at = (size_t)(nul - st->buf);
    return FO_EJSON; /* jsmn stops at a NUL byte as if the input ended there */
  }
  while (st->cur >= 0 && st->tok[st->cur].end >= 0) {
    int rc = close_cur(st);
    if (rc != 0)
      return rc;
  }
  size_t tail = st->p.pos < st->len ? st->p.pos : st->len; /* start of a cut-off token */
  char sep = 0;
  int need_sep = 0;
  if (st->cur < 0) {
    if (st->roots > 0)
      return FO_EJSON; /* the document was complete: nothing may follow */
  } else if (st->expect == EXPECT_VALUE) {
    sep = ':';
    need_sep = 1;
  } else if (st->expect == EXPECT_MORE) {
    sep = ',';
    need_sep = 1;
  }
  if (tail < st->pos)
    return FO_EJSON;
  int seps = scan_gap(st->buf, st->pos, tail, sep);
  if (seps < 0)
    return FO_EJSON;
  if (tail == st->len)
    return FO_EJSONTRUNC;
  if (seps != need_sep)
    return FO_EJSON;
  const char *s = st->buf + tail;
  size_t n = st->len - tail;
  int r = s[0] == '"' ? fo__json_check_string(s + 1, n - 1, 1) : fo__json_check_primitive(s, n);
  return r == FO__TEXT_BAD ? FO_EJSON : FO_EJSONTRUNC;
}

/* A document that is one number or literal: jsmn's strict mode wants a delimiter after a
 * primitive, which a top-level one at the very end of the input does not have. */
static int parse_scalar(pstate *st, size_t at) {
  size_t e = at;
  while (e < st->len && !is_ws(st->buf[e]))
    e++;
  int r = fo__json_check_primitive(st->buf + at, e - at);
  if (r == FO__TEXT_PREFIX && e == st->len)
    return FO_EJSONTRUNC;
  if (r != FO__TEXT_OK || scan_gap(st->buf, e, st->len, 0) != 0)
    return FO_EJSON;
  jsmntok_t *t = &st->tok[0];
  t->type = JSMN_PRIMITIVE;
  t->start = (int)at;
  t->end = (int)e;
  t->size = 0;
  t->parent = -1;
  st->p.toknext = 1;
  return 0;
}

/* More room for tokens. A whole document grows by the token density seen so far, so a large
 * uniform input ends close to its real need instead of up to twice it. */
static int grow(pstate *st) {
  if (st->cap >= st->max_tokens) {
    st->err_at = st->p.pos; /* where the tokens ran out */
    return FO_ETOOBIG;
  }
  double want = (double)st->cap * 1.5 + 16;
  if (st->fn == NULL && st->p.pos > 0) {
    double est = (double)st->p.toknext * ((double)st->len / (double)st->p.pos) * 1.05 + 16;
    if (est > want)
      want = est;
  }
  unsigned ncap = want >= (double)st->max_tokens ? st->max_tokens : (unsigned)want;
  jsmntok_t *t = fo__realloc(st->tok, (size_t)ncap * sizeof *t);
  if (t == NULL)
    return -ENOMEM;
  st->tok = t;
  st->cap = ncap;
  return 0;
}

/* Hand out every complete element of the top-level array, then drop their tokens when that
 * frees at least as many as it moves (so moving stays linear overall). */
static int deliver(pstate *st, int complete_upto) {
  if (st->tok[0].type != JSMN_ARRAY)
    return FO_EJSONTYPE;
  while (st->delivered < complete_upto) {
    int i = st->delivered;
    int end = fo__json_skip(st->tok, i, complete_upto);
    fo_json view = {st->buf, st->len, st->tok, i, end, st->escapes};
    st->delivered = end;
    int rc = st->fn(&view, i, st->index++, st->arg);
    if (rc != 0) {
      st->stopped = 1;
      return rc;
    }
  }
  int drop = st->delivered - 1, keep = (int)st->p.toknext - st->delivered;
  if (drop > 0 && drop >= keep) {
    memmove(st->tok + 1, st->tok + st->delivered, (size_t)keep * sizeof *st->tok);
    for (int i = 1; i <= keep; i++)
      if (st->tok[i].parent > 0)
        st->tok[i].parent -= drop;
    if (st->p.toksuper > 0)
      st->p.toksuper -= drop;
    if (st->cur > 0)
      st->cur -= drop;
    if (st->key > 0)
      st->key -= drop;
    st->p.toknext -= (unsigned)drop;
    st->next -= drop;
    st->delivered = 1;
  }
  return 0;
}

/* The first element not yet complete: the top-level child that holds the open container. */
static int open_element(pstate *st) {
  while (st->cur > 0 && st->tok[st->cur].end >= 0) {
    int rc = close_cur(st);
    if (rc != 0)
      return rc;
  }
  if (st->cur <= 0)
    return (int)st->p.toknext;
  int e = st->cur;
  while (st->tok[e].parent > 0)
    e = st->tok[e].parent;
  return e;
}

static int finish(pstate *st) {
  while (st->cur >= 0) {
    int rc = close_cur(st);
    if (rc != 0)
      return rc;
  }
  if (st->roots == 0)
    return FO_EJSONTRUNC; /* empty or only whitespace */
  if (scan_gap(st->buf, st->pos, st->len, 0) != 0)
    return FO_EJSON;
  if (st->fn != NULL)
    return deliver(st, (int)st->p.toknext);
  return 0;
}

/* After an error, hand out the elements that end before it, as the caller was promised:
 * elements whose tokens were all checked and whose containers closed cleanly. The last jsmn
 * call may have completed several that were waiting for the next delivery. */
static int deliver_before_error(pstate *st, int err) {
  if (st->fn == NULL || st->stopped || st->p.toknext <= 1 || st->tok[0].type != JSMN_ARRAY)
    return err;
  int upto = open_element(st);
  if (upto < 0) {
    /* the open container's closing bracket is itself bad: its element is not complete */
    upto = st->cur;
    while (upto > 0 && st->tok[upto].parent > 0)
      upto = st->tok[upto].parent;
  }
  if (upto > st->next)
    upto = st->next; /* the token that failed, and what follows, were never checked */
  if (upto <= st->delivered)
    return err;
  /* jsmn counted the tokens it made from there on as children of their parents; a parent inside
   * a complete element (as after "},:9", where ':' makes the element's last token a parent)
   * must not seem to have them, or the element would read wrong. */
  for (int j = st->next; j < (int)st->p.toknext; j++) {
    int up = st->tok[j].parent;
    if (up >= st->delivered && up < upto && st->tok[up].size > 0)
      st->tok[up].size--;
  }
  int rc = deliver(st, upto);
  return rc != 0 ? rc : err;
}

static int tokenize(pstate *st) {
  size_t at = 0;
  while (at < st->len && is_ws(st->buf[at]))
    at++;
  if (at < st->len && st->buf[at] != '{' && st->buf[at] != '[' && st->buf[at] != '"') {
    int rc = parse_scalar(st, at);
    return rc != 0 ? rc : st->fn != NULL ? FO_EJSONTYPE : 0;
  }
  for (;;) {
    unsigned quota = st->p.toknext + STEP < st->cap ? st->p.toknext + STEP : st->cap;
    /* jsmn on a copy of its state that nothing else can see: the compiler may then keep the
     * position in a register instead of storing and reloading it at every input byte (st
     * escapes to callbacks, so st->p must live in memory). That loop is a third of the time. */
    jsmn_parser p = st->p;
    int r = jsmn_parse(&p, st->buf, st->len, st->tok, quota);
    st->p = p;
    /* On bad input jsmn may have taken a token it never filled (start still -1, type unset):
     * drop it. The tokens before it are whole and are checked first, so the verdict is the
     * first error in document order, however the work was split into calls. */
    if (r == JSMN_ERROR_INVAL && st->p.toknext > 0 && st->tok[st->p.toknext - 1].start < 0)
      st->p.toknext--;
    int rc = check_new_tokens(st);
    if (rc != 0)
      return rc;
    if (r == JSMN_ERROR_INVAL) {
      /* Every token jsmn made is good: the fault is where jsmn stopped (the character it could
       * not take, or the start of the string or number it could not finish). */
      st->err_at = st->p.pos > st->pos ? st->p.pos : st->pos;
      return FO_EJSON;
    }
    if (r >= 0)
      return finish(st);
    if (r == JSMN_ERROR_PART)
      return classify_end(st);
    /* JSMN_ERROR_NOMEM: our quota or the array is used up */
    if (st->fn != NULL && st->p.toknext > 1) {
      int upto = open_element(st);
      if (upto < 0)
        return upto;
      rc = deliver(st, upto);
      if (rc != 0)
        return rc;
    }
    if (st->p.toknext == st->cap) {
      rc = grow(st);
      if (rc != 0)
        return rc;
    }
  }
}

/* Fill err for the result rc of a parse over st (set up or not). Only the parser's own verdicts
 * carry a position; a callback's result and errors before parsing do not. */
static void locate(const pstate *st, int rc, int parsed, fo_json_error *err) {
  if (err == NULL)
    return;
  *err = (fo_json_error){rc, 0, 0, 0};
  if (!parsed || st->stopped ||
      (rc != FO_EJSON && rc != FO_EJSONTRUNC && rc != FO_EJSONDEPTH && rc != FO_ETOOBIG))
    return;
  size_t at = st->err_at;
  if (rc == FO_EJSONTRUNC) {
    at = st->len;
  } else if (at == SIZE_MAX) {
    /* Everything before pos was checked and found good, and so are the closing brackets of
     * containers jsmn closed, which the validator leaves open until the next token comes (on
     * a copy: this is only a look). The error starts at the next byte that is not whitespace. */
    pstate v = *st;
    while (v.cur >= 0 && v.tok[v.cur].end >= 0 && close_cur(&v) == 0) {
    }
    at = v.pos < v.len ? v.pos : v.len;
    while (at < st->len && is_ws(st->buf[at]))
      at++;
  }
  fo__json_locate(st->buf, st->len, at, err);
}

void fo__json_locate(const char *buf, size_t len, size_t at, fo_json_error *err) {
  if (at > len)
    at = len;
  size_t line = 1, line_start = 0;
  for (const char *p = buf, *end = buf + at; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;) {
    line++;
    line_start = (size_t)(++p - buf);
  }
  err->offset = at;
  err->line = line;
  err->column = at - line_start + 1;
}

static int run(pstate *st) {
  int rc = tokenize(st);
  return rc != 0 ? deliver_before_error(st, rc) : 0;
}

static int setup(pstate *st, const char *buf, size_t len, const fo_json_limits *limits,
                 unsigned initial) {
  memset(st, 0, sizeof *st);
  st->err_at = SIZE_MAX;
  if (buf == NULL && len > 0)
    return -EINVAL;
  /* jsmn keeps offsets in int */
  if (len >= (size_t)INT_MAX)
    return FO_ETOOBIG;
  size_t max_tokens =
      limits != NULL && limits->max_tokens > 0 ? limits->max_tokens : FO_JSON_MAX_TOKENS;
  /* jsmn counts tokens in int; and on a 32-bit board the array's size in bytes must not wrap */
  if (max_tokens > INT_MAX / 2)
    max_tokens = INT_MAX / 2;
  if (max_tokens > SIZE_MAX / sizeof(jsmntok_t))
    max_tokens = SIZE_MAX / sizeof(jsmntok_t);
  st->buf = buf != NULL ? buf : "";
  st->len = len;
  st->max_tokens = (unsigned)max_tokens;
  st->max_depth = limits != NULL && limits->max_depth > 0 ? limits->max_depth : FO_JSON_MAX_DEPTH;
  st->cap = initial < st->max_tokens ? initial : st->max_tokens;
  if (st->cap == 0)
    st->cap = 1;
  st->cur = -1;
  st->key = -1;
  st->delivered = 1;
  /* One pass over the input at memory speed spares a check of every string when, as in API
   * answers, there is nothing in it but printable ASCII without escapes. */
  st->plain = fo__json_plain(st->buf, len);
  jsmn_init(&st->p);
  st->tok = fo__malloc((size_t)st->cap * sizeof *st->tok);
  return st->tok != NULL ? 0 : -ENOMEM;
}

int fo_json_parse(const char *buf, size_t len, const fo_json_limits *limits, fo_json **out,
                  fo_json_error *err) {
  pstate st;
  st.stopped = 0;
  if (out == NULL) {
    locate(&st, -EINVAL, 0, err);
    return -EINVAL;
  }
  *out = NULL;
  fo_json *doc = fo__malloc(sizeof *doc);
  if (doc == NULL) {
    locate(&st, -ENOMEM, 0, err);
    return -ENOMEM;
  }
  /* Start at a third of a typical density (about 12 bytes a token in API answers) and let
   * grow() extrapolate: one regrowth on big inputs, little waste on string-heavy ones. There is
   * no shrink afterwards: the overshoot is at most 5%, and a shrink that may fail would be an
   * allocation failure the caller never hears of. */
  int rc = setup(&st, buf, len, limits, (unsigned)(len / 36 + 16));
  int parsed = rc == 0;
  if (rc == 0)
    rc = run(&st);
  locate(&st, rc, parsed, err);
  if (rc != 0) {
    fo__free(st.tok);
    fo__free(doc);
    return rc;
  }
  doc->buf = st.buf;
  doc->len = st.len;
  doc->tok = st.tok;
  doc->first = 0;
  doc->end = (int)st.p.toknext;
  doc->escapes = st.escapes;
  *out = doc;
  return 0;
}

void fo_json_free(fo_json *doc) {
  if (doc == NULL)
    return;
  fo__free(doc->tok);
  fo__free(doc);
}

int fo_json_each(const char *buf, size_t len, const fo_json_limits *limits, fo_json_each_fn fn,
                 void *arg, fo_json_error *err) {
  pstate st;
  st.stopped = 0;
  if (fn == NULL) {
    locate(&st, -EINVAL, 0, err);
    return -EINVAL;
  }
  int rc = setup(&st, buf, len, limits, 2 * STEP);
  int parsed = rc == 0;
  if (rc == 0) {
    st.fn = fn;
    st.arg = arg;
    rc = run(&st);
  }
  locate(&st, rc, parsed, err);
  fo__free(st.tok);
  return rc;
}
