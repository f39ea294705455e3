/* What the JSON files share: the document layout, jsmn's token type, and the text checks and
 * conversions that work on a span of bytes. Not installed. */
#ifndef FO_SRC_JSON_INTERNAL_H
#define FO_SRC_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fanout/json.h"

/* Only json_parse.c compiles jsmn's functions (static there, so no jsmn_ symbol leaves the
 * library); everywhere else the header gives the token type alone. */
#ifndef JSMN_H
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_HEADER
#include "jsmn/jsmn.h" /* vendored, pinned: src/jsmn/README */
#undef JSMN_HEADER
#endif
#ifndef JSMN_PARENT_LINKS
#error "the JSON layer needs jsmn's parent links (linear-time closing and skipping)"
#endif

/* A document, or a view of one array element lent by fo_json_each(). Tokens are jsmn's, in
 * document order; handles first..end-1 are valid. A key's value is the token after it (jsmn
 * makes it the key's child). */
struct fo_json {
  const char *buf;
  size_t len;
  jsmntok_t *tok;
  int first;
  int end;
  int escapes; /* some string holds a backslash (for a view: somewhere in the input so far) */
};

/* Outcome of checking a span of text. */
enum { FO__TEXT_BAD = -1, FO__TEXT_OK = 0, FO__TEXT_PREFIX = 1, FO__TEXT_ESCAPED = 2 };

/* String contents (between the quotes): no raw control bytes, valid escapes, paired surrogates,
 * valid UTF-8. OK, or ESCAPED when valid and holding an escape. partial: the span may stop
 * inside an escape or a sequence (PREFIX). */
int fo__json_check_string(const char *s, size_t n, int partial);
/* Whether n bytes hold no control byte, no backslash and nothing above 0x7f. Then every string
 * in them is valid as it stands and decodes to itself, which is what API answers look like. */
int fo__json_plain(const char *s, size_t n);
/* A number or literal. Returns PREFIX for a proper beginning of one ("-", "1e", "tr"). */
int fo__json_check_primitive(const char *s, size_t n);
/* Decode checked string contents; out NULL only counts. Returns the decoded length (<= n). */
size_t fo__json_unescape(const char *s, size_t n, char *out);
/* Checked string contents against plain bytes: 1 equal, 0 not. */
int fo__json_text_equals(const char *s, size_t n, const char *key, size_t keylen);
/* Checked number text to double: 0 or -ERANGE. */
int fo__json_to_double(const char *s, size_t n, double *out);
/* Checked number text to int64: 0, -ERANGE, or FO_EJSONTYPE (fraction or exponent). */
int fo__json_to_int64(const char *s, size_t n, int64_t *out);

/* The token after v's whole value (for a key: after its value), found by the spans of the
 * tokens in O(log size); limit bounds the search. */
int fo__json_skip(const jsmntok_t *tok, int v, int limit);

/* Set err's offset to at (at most len), and its line and column, counted over buf. */
void fo__json_locate(const char *buf, size_t len, size_t at, fo_json_error *err);

#endif /* FO_SRC_JSON_INTERNAL_H */
