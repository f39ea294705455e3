/**
 * @file json.h
 * A thin, strict JSON reader over jsmn, built to pull a few fields out of large API answers.
 *
 * Threads and processes. There is no shared state: fo_json_parse() and fo_json_each() may run
 * concurrently on any inputs. A parsed document is never changed by the read functions, so many
 * threads may read one document at once; fo_json_free() must not race with them. All of it is
 * safe in a child after fork() (no locks are held). Memory comes from the allocator hook
 * (fanout.h).
 *
 * The input is a pointer and a length; it need not end in a NUL, and nothing past the length is
 * read. A document keeps pointing into that buffer, so the buffer must outlive the document.
 * Input is checked against RFC 8259 in full: structure, string escapes (\\uXXXX surrogate pairs
 * must pair up), UTF-8, number syntax and the literals true, false and null. Anything else is
 * FO_EJSON; input that stops early but is a valid beginning of a document is FO_EJSONTRUNC.
 *
 * Values are named by an int handle. Negative numbers are errors, and every function that takes
 * a handle returns a negative handle unchanged, so lookups chain without a check at each step:
 * @code
 *   char name[32];
 *   int rc = fo_json_string(doc, fo_json_path(doc, fo_json_root(doc), "spaceTrack.OBJECT_NAME"),
 *                           name, sizeof name, NULL);
 * @endcode
 * Time: parsing is linear in the input: at most O(n * max_depth) for hostile input, since jsmn
 * walks up the open containers at each closing bracket (json_parse.c says why jsmn alone is
 * worse). Skipping a value costs O(log n) in its size, so walking the members of an object is
 * linear in the object. Memory: the tokens, 20 bytes each (a typical API answer needs one per
 * 12 bytes of input); fo_json_each() holds one element's.
 */
#ifndef FANOUT_JSON_H
#define FANOUT_JSON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "fanout/fanout.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default cap on tokens (one per value and per key): 1 Mi tokens, 20 MiB, about 12 MB of input.
 */
#ifndef FO_JSON_MAX_TOKENS
#define FO_JSON_MAX_TOKENS (1024u * 1024u)
#endif

/** Default cap on nesting: the documents fanout reads are 3 deep. Each closing bracket costs up
 * to the depth in jsmn, so the cap also bounds the time of hostile input. */
#ifndef FO_JSON_MAX_DEPTH
#define FO_JSON_MAX_DEPTH 64u
#endif

/** A parsed document (opaque). */
typedef struct fo_json fo_json;

/** What a value is. */
typedef enum fo_json_type {
  FO_JSON_OBJECT = 1,
  FO_JSON_ARRAY,
  FO_JSON_STRING,
  FO_JSON_NUMBER,
  FO_JSON_TRUE,
  FO_JSON_FALSE,
  FO_JSON_NULL
} fo_json_type;

/** Caps that bound what hostile input can cost. A zero field takes the default. */
typedef struct fo_json_limits {
  size_t max_tokens; /**< tokens held at once; default FO_JSON_MAX_TOKENS */
  size_t max_depth;  /**< arrays and objects open at once; default FO_JSON_MAX_DEPTH */
} fo_json_limits;

/**
 * Where a parse failed, for a program (offset) and for a person (line and column). Every call
 * that takes one fills it (when it is not NULL) whatever it returns.
 * The position is that of the first byte the parser could not accept: the error lies in the
 * token or separator that starts there (a bad escape: in the string that starts there). For
 * FO_EJSONTRUNC it is the input's length; for FO_ETOOBIG from the token cap, where the tokens ran
 * out. Lines end at '\n'; the column counts bytes, not characters.
 */
typedef struct fo_json_error {
  int code;      /**< what the call returned; 0 on success */
  size_t offset; /**< bytes from the start of the input; 0 when line is 0 */
  size_t line;   /**< 1-based; 0 when the code has no position (success, -EINVAL, -ENOMEM, a
                      callback's own result, an input too long to parse) */
  size_t column; /**< 1-based, in bytes from the start of the line; 0 when line is 0 */
} fo_json_error;
/**
 * Parse a whole document.
 * @param buf, len  the input; need not be NUL-terminated; must outlive *out.
 * @param limits    NULL for the defaults.
 * @param out       receives the document, or NULL on failure.
 * @param err       NULL, or receives the code and, for FO_EJSON, FO_EJSONTRUNC, FO_EJSONDEPTH
 *                  and FO_ETOOBIG (token cap), where the input went wrong.
 * @return 0, -EINVAL (NULL out, or NULL buf with len > 0), -ENOMEM, FO_EJSON (malformed),
 *         FO_EJSONTRUNC (ends early; includes empty input), FO_EJSONDEPTH (nested deeper than
 *         the cap), FO_ETOOBIG (more tokens than the cap, or len above INT_MAX).
 */
int fo_json_parse(const char *buf, size_t len, const fo_json_limits *limits, fo_json **out,
                  fo_json_error *err);

/** Free a document; NULL does nothing. Must not be called on the view fo_json_each() lends. */
void fo_json_free(fo_json *doc);

/**
 * Called by fo_json_each() for each element of the top-level array. doc is a view that holds
 * only this element: value is its handle and its root; both are valid only during the call.
 * Return 0 to go on; anything else stops the walk and becomes fo_json_each()'s result.
 */
typedef int (*fo_json_each_fn)(const fo_json *doc, int value, size_t index, void *arg);

/**
 * Walk the elements of a document that is an array, parsing one element at a time, so memory
 * is bounded by the largest element rather than by the whole input (a 4.5 MB list of 3,500
 * documents needs a few KiB of tokens). The whole input is still checked: an error in element
 * 1000 is found after elements 0..999 were handed to fn.
 * @param limits  NULL for the defaults; max_tokens caps the tokens held at once.
 * @param err     NULL, or receives the code and position as for fo_json_parse() (fn's own result
 *                has no position).
 * @return 0, fn's nonzero result, or the codes of fo_json_parse() (FO_ETOOBIG when one element
 *         needs more than max_tokens), -EINVAL (NULL fn), FO_EJSONTYPE (the root is not an
 *         array).
 */
int fo_json_each(const char *buf, size_t len, const fo_json_limits *limits, fo_json_each_fn fn,
                 void *arg, fo_json_error *err);

/** The handle of the root value (or, in a view from fo_json_each(), of the element).
 * @return a handle >= 0, -EINVAL (NULL doc). */
int fo_json_root(const fo_json *doc);

/**
 * The type of a value.
 * @return a fo_json_type (> 0), -EINVAL (NULL doc or handle not in doc), or v if v < 0.
 */
int fo_json_typeof(const fo_json *doc, int v);

/** Number of elements of an array or members of an object.
 * @return the count, FO_EJSONTYPE (not an array or object), -EINVAL, or v if v < 0. */
int fo_json_size(const fo_json *doc, int v);

/**
 * First element of an array, or first key of an object (fo_json_value() gives its value).
 * @return a handle, FO_ENOTFOUND (empty), FO_EJSONTYPE (not an array or object), -EINVAL, or v
 *         if v < 0.
 */
int fo_json_first(const fo_json *doc, int v);

/**
 * The element or key after v, skipping v's value however large it is.
 * @param v  an array element or an object key (not an object member's value).
 * @return a handle, FO_ENOTFOUND (v was the last), -EINVAL (v is a member's value, NULL doc, or
 *         bad handle), or v if v < 0.
 */
int fo_json_next(const fo_json *doc, int v);

/**
 * Walk the members of an object in one call each: the key's raw text (undecoded: compare it
 * directly when fo_json_has_escapes() is 0, else decode the key, whose handle is the value's
 * minus one) and the value's handle. For one-pass extraction of many fields.
 * @param it  set to 0 before the first call; the walk's position afterwards.
 * @return the value's handle, FO_ENOTFOUND after the last member, FO_EJSONTYPE (obj is not an
 *         object), -EINVAL (NULL argument, bad handle or it), or obj if obj < 0.
 */
int fo_json_member(const fo_json *doc, int obj, int *it, const char **key, size_t *keylen);

/** The value of an object member, given its key.
 * @return a handle, FO_EJSONTYPE (key is not an object key), -EINVAL, or key if key < 0. */
int fo_json_value(const fo_json *doc, int key);

/**
 * Look up a member by key (escapes in the document's keys are decoded before comparing). When a
 * key repeats, the last one counts, as in JavaScript's JSON.parse.
 * @return the value's handle, FO_ENOTFOUND, FO_EJSONTYPE (obj is not an object), -EINVAL (NULL
 *         doc or key, bad handle), or obj if obj < 0.
 */
int fo_json_get(const fo_json *doc, int obj, const char *key);

/** Element i of an array.
 * @return a handle, FO_ENOTFOUND (i out of range), FO_EJSONTYPE, -EINVAL, or arr if arr < 0. */
int fo_json_index(const fo_json *doc, int arr, size_t i);

/**
 * Follow a dotted path: "spaceTrack.OBJECT_NAME"; a segment of digits indexes an array
 * ("docs.3.id"). Keys holding a dot need fo_json_get(). "" is from itself.
 * @return a handle, FO_ENOTFOUND, FO_EJSONTYPE (a segment meets a value it cannot enter),
 *         -EINVAL (NULL doc or path, empty segment, bad handle), or from if from < 0.
 */
int fo_json_path(const fo_json *doc, int from, const char *path);

/**
 * Whether a string (or key) decodes to exactly the n bytes at s.
 * @return 1, 0, FO_EJSONTYPE (not a string), -EINVAL, or v if v < 0.
 */
int fo_json_equals(const fo_json *doc, int v, const char *s, size_t n);

/**
 * Decode a string (or key) into buf as UTF-8 and end it with a NUL. Escapes are decoded;
 * \\u0000 gives a NUL byte inside, which *len reports. Never truncates.
 * @param buf   NULL to ask for the length only.
 * @param size  bytes at buf; the string needs *len + 1.
 * @param len   receives the decoded length without the NUL (also on FO_ETOOBIG); may be NULL.
 * @return 0, FO_ETOOBIG (buf too small; buf[0] is set to NUL if size > 0), FO_EJSONTYPE (not a
 *         string), -EINVAL, or v if v < 0.
 */
int fo_json_string(const fo_json *doc, int v, char *buf, size_t size, size_t *len);

/**
 * Whether any string or key of the document holds an escape (for a view lent by
 * fo_json_each(): of the input read so far). When it is 0, the raw text of every string is its
 * decoded text, so a reader may compare keys with fo_json_raw() and memcmp, as API answers
 * (which never escape) allow.
 * @return 1, 0, -EINVAL (NULL doc).
 */
int fo_json_has_escapes(const fo_json *doc);

/**
 * The raw text of a value inside the input: a string without its quotes and undecoded, a
 * number or literal as written, an array or object with its brackets.
 * @return 0, -EINVAL, or v if v < 0.
 */
int fo_json_raw(const fo_json *doc, int v, const char **text, size_t *len);

/**
 * A number as the nearest double, for every JSON form (0, -0.000064871, 1.5e-7, 1E+400).
 * Independent of the C locale. Values too small for a double become 0 or a subnormal.
 * @return 0, -ERANGE (too large: *out is +-HUGE_VAL), FO_EJSONTYPE (not a number), -EINVAL, or v
 *         if v < 0.
 */
int fo_json_number(const fo_json *doc, int v, double *out);

/**
 * A number written as an integer (no fraction, no exponent) as an exact int64_t.
 * @return 0, -ERANGE (outside int64_t), FO_EJSONTYPE (not a number, or not written as an
 *         integer), -EINVAL, or v if v < 0.
 */
int fo_json_int64(const fo_json *doc, int v, int64_t *out);

/** true or false as 1 or 0.
 * @return 0, FO_EJSONTYPE (not true or false), -EINVAL, or v if v < 0. */
int fo_json_bool(const fo_json *doc, int v, int *out);

/** @return 1 if v is null, 0 if it is any other value, -EINVAL, or v if v < 0. */
int fo_json_is_null(const fo_json *doc, int v);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_JSON_H */
