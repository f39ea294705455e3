/**
 * @file sat.h
 * Satellite records from the SpaceX API v4 Starlink answers: one document
 * (GET /v4/starlink/{id}) and the list (GET /v4/starlink, every document in one array).
 *
 * Threads and processes. No shared state: every function may run concurrently with any other
 * on different records; all are safe after fork(). The list callback runs on the caller's
 * thread, inside fo_sat_list_parse(); it may call any fanout function except the allocator
 * switch. Memory comes from the allocator hook (fanout.h): tokens only, never per record, and
 * none at all for fo_sat_parse() and the lists when every record is good (they are then read
 * straight from the text; an error sends the input through the token parser, which places it).
 *
 * Reading is by key, not by position: keys may come in any order, with whitespace, among keys
 * this layer does not know. A key that repeats counts by its last occurrence, as in JSON.parse.
 * A missing field reads like null: its FO_SAT_HAS_ bit stays clear. A field present with a
 * value of the wrong type is FO_EJSONTYPE; text longer than its buffer is FO_ETOOBIG, never a
 * truncated copy.
 */
#ifndef FANOUT_SAT_H
#define FANOUT_SAT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "fanout/fanout.h"
#include "fanout/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Digits in a document id (a MongoDB ObjectId: 24 lowercase hex). */
#define FO_SAT_ID_LEN 24
/** Buffer sizes, NUL included. Space-Track names run to 25 characters, international
 * designators to 11 ("2019-029BL"), and dates to 26 ("2020-10-13T02:56:59.566560"). */
#define FO_SAT_NAME_SIZE 48
#define FO_SAT_OBJECT_ID_SIZE 16
#define FO_SAT_DATE_SIZE 32

/** Which fields held a value (bit set) rather than null or nothing (bit clear). */
enum fo_sat_field {
  FO_SAT_HAS_OBJECT_NAME = 1u << 0,
  FO_SAT_HAS_OBJECT_ID = 1u << 1,
  FO_SAT_HAS_EPOCH = 1u << 2,
  FO_SAT_HAS_LAUNCH_DATE = 1u << 3,
  FO_SAT_HAS_DECAY_DATE = 1u << 4,
  FO_SAT_HAS_NORAD_CAT_ID = 1u << 5,
  FO_SAT_HAS_DECAYED = 1u << 6,
  FO_SAT_HAS_LONGITUDE = 1u << 7,
  FO_SAT_HAS_LATITUDE = 1u << 8,
  FO_SAT_HAS_HEIGHT_KM = 1u << 9,
  FO_SAT_HAS_VELOCITY_KMS = 1u << 10
};

/** A date as the API writes it, in either style: "2019-05-24", "2020-06-19 21:46:09",
 * "2020-10-13T04:16:08", "2020-10-13T02:56:59.566560" (UTC, no zone). */
typedef struct fo_sat_time {
  int year, month, day;
  int hour, minute, second; /**< 0 for a date alone */
  long nanosecond;          /**< the fraction of the second */
  int has_time;             /**< 0 for a date alone */
} fo_sat_time;

/** One satellite. Text fields are NUL-terminated UTF-8; they are "" when null or missing (the
 * FO_SAT_HAS_ bits tell that apart from an empty string). A date's fo_sat_time is zero unless
 * its text is a non-empty date. */
typedef struct fo_sat_record {
  char id[FO_SAT_ID_LEN + 1];            /**< id; always present */
  unsigned has;                          /**< FO_SAT_HAS_ bits */
  char object_name[FO_SAT_NAME_SIZE];    /**< spaceTrack.OBJECT_NAME, "STARLINK-30" */
  char object_id[FO_SAT_OBJECT_ID_SIZE]; /**< spaceTrack.OBJECT_ID, "2019-029K" */
  char epoch[FO_SAT_DATE_SIZE];          /**< spaceTrack.EPOCH */
  char launch_date[FO_SAT_DATE_SIZE];    /**< spaceTrack.LAUNCH_DATE */
  char decay_date[FO_SAT_DATE_SIZE];     /**< spaceTrack.DECAY_DATE; null while in orbit */
  fo_sat_time epoch_time, launch_time, decay_time;
  int64_t norad_cat_id;           /**< spaceTrack.NORAD_CAT_ID */
  int decayed;                    /**< spaceTrack.DECAYED, 0 or 1 */
  double longitude, latitude;     /**< degrees; null once decayed */
  double height_km, velocity_kms; /**< null once decayed */
} fo_sat_record;

/**
 * Check an id: exactly 24 characters 0-9a-f.
 * @return 0, FO_EBADID.
 */
int fo_sat_check_id(const char *s, size_t n);

/**
 * Read a date in either of the API's styles (see fo_sat_time); a trailing 'Z' is accepted.
 * @return 0, FO_EDATE (any other form, or a field out of range: month 13, 24:00, Feb 30), or
 *         -EINVAL (NULL s or out).
 */
int fo_sat_parse_date(const char *s, size_t n, fo_sat_time *out);

/**
 * The record of one document that is already parsed: v is the document's object.
 * @return 0, -EINVAL (NULL doc or rec), FO_EJSONTYPE (v or spaceTrack not an object, a field of
 *         the wrong type, or text with a NUL in it), FO_ENOTFOUND (no id), FO_EBADID,
 *         FO_ETOOBIG (text longer than its buffer), FO_EDATE, -ERANGE (a position beyond a double,
 *         NORAD_CAT_ID beyond int64_t, DECAYED other than 0 or 1), or v if v < 0. On failure
 *         *rec is left half-filled.
 */
int fo_sat_from_json(const fo_json *doc, int v, fo_sat_record *rec);

/**
 * Parse one document (the body of GET /v4/starlink/{id}).
 * @param limits  NULL for the defaults (fo_json_limits).
 * @param err     NULL, or receives the code and, for a JSON error, where it is (fo_json_error).
 * @return 0, the codes of fo_json_parse(), or those of fo_sat_from_json().
 */
int fo_sat_parse(const char *buf, size_t len, const fo_json_limits *limits, fo_sat_record *rec,
                 fo_json_error *err);

/** Called once per record of the list, in list order. rec is valid during the call only.
 * Return 0 to go on; anything else stops the parse and becomes its result. */
typedef int (*fo_sat_list_fn)(const fo_sat_record *rec, size_t index, void *arg);

/**
 * Every record of the list (the body of GET /v4/starlink), in one pass over the input.
 *
 * A callback rather than an array: the list is unpaginated and grows (about 3,500 entries in
 * 2023), so a caller could not size an array without a first pass, and most callers keep a few
 * fields of each record rather than 200-byte records by the thousand. Memory stays at one
 * record on the stack, plus the tokens of one element when an error makes the token parser go
 * over the input again, whatever the list's length.
 * @param err  NULL, or receives the code and a position: for a JSON error, where it is
 *             (fo_json_error); for a record refused by fo_sat_from_json(), where that record
 *             (the array element) starts.
 * @return 0, fn's nonzero result, -EINVAL (NULL fn), FO_EJSONTYPE (the body is not an array),
 *         the codes of fo_json_each() and of fo_sat_from_json(). Records before the one that
 *         failed have been handed to fn.
 */
int fo_sat_list_parse(const char *buf, size_t len, const fo_json_limits *limits, fo_sat_list_fn fn,
                      void *arg, fo_json_error *err);

/**
 * Every id of the list into a caller's array, in list order, NUL-terminated. The whole list is
 * checked, including the records behind the ids.
 * @param ids    room for cap ids; NULL (with cap 0) to count only.
 * @param count  receives the number of ids in the list (also on FO_ETOOBIG); may be NULL.
 * @param err    NULL, or filled as by fo_sat_list_parse() (FO_ETOOBIG for cap has no position).
 * @return 0, FO_ETOOBIG (more than cap ids: the first cap are filled), -EINVAL (NULL ids with
 *         cap > 0), or the codes of fo_sat_list_parse().
 */
int fo_sat_list_ids(const char *buf, size_t len, const fo_json_limits *limits,
                    char (*ids)[FO_SAT_ID_LEN + 1], size_t cap, size_t *count, fo_json_error *err);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_SAT_H */
