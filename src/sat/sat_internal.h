/* What the two satellite readers share: the tree walk (sat.c, over a parsed document) and the
 * selective reader (sat_reader.c, straight over the text). Both find a field by its key and
 * convert its value with the same functions (sat_field.c), so they extract the same record. Not installed. */
#ifndef FO_SRC_SAT_INTERNAL_H
#define FO_SRC_SAT_INTERNAL_H

#include <stddef.h>

#include "fanout/sat.h"

/* The fields this layer reads, found by key. */
enum fo__sat_field {
  FO__SAT_NONE,
  FO__SAT_ID,
  FO__SAT_SPACETRACK,
  FO__SAT_LONGITUDE,
  FO__SAT_LATITUDE,
  FO__SAT_HEIGHT_KM,
  FO__SAT_VELOCITY_KMS,
  FO__SAT_OBJECT_NAME,
  FO__SAT_OBJECT_ID,
  FO__SAT_EPOCH,
  FO__SAT_LAUNCH_DATE,
  FO__SAT_DECAY_DATE,
  FO__SAT_NORAD_CAT_ID,
  FO__SAT_DECAYED
};

/* A checked value: its fo_json_type (or a negative code), and for a string its contents between
 * the quotes (escaped: they hold a backslash), for a number or literal its text. */
typedef struct {
  int type;
  const char *s;
  size_t n;
  int escaped;
} fo__sat_value;

/* The field a member's key names, at the top level (track 0) or in spaceTrack (track 1). The
 * raw text is tried first; a key that does not match raw is decoded only if escaped. */
enum fo__sat_field fo__sat_key(const char *raw, size_t n, int escaped, int track);

/* Convert the value of a top-level field other than spaceTrack (have_id set for "id"), or of a
 * spaceTrack field. 0 or the code fo_sat_from_json() returns for it. */
int fo__sat_top_value(const fo__sat_value *v, enum fo__sat_field f, fo_sat_record *rec,
                      int *have_id);
int fo__sat_track_value(const fo__sat_value *v, enum fo__sat_field f, fo_sat_record *rec);
/* A spaceTrack member begins: its fields become null (a second one replaces the first whole). */
void fo__sat_track_reset(fo_sat_record *rec);

/* The selective readers over the text (sat_reader.c). fo__sat_read_one: 0 with *rec filled as
 * the tree path would, or FO__SAT_FALLBACK (*rec untouched) when the tree path must decide: any
 * error, anything unusual. fo__sat_read_list: 0 when every element went to fn, fn's nonzero
 * result with *stopped set, or FO__SAT_FALLBACK; in every case *delivered elements went to fn,
 * which the tree path must not hand out again. Neither allocates. */
#define FO__SAT_FALLBACK 1
int fo__sat_read_one(const char *buf, size_t len, const fo_json_limits *limits,
                     fo_sat_record *rec);
int fo__sat_read_list(const char *buf, size_t len, const fo_json_limits *limits,
                      fo_sat_list_fn fn, void *arg, size_t *delivered, int *stopped);

/* The tree path (sat.c), which has the last word when the readers give up: jsmn's tokens and
 * fo_sat_from_json(), with the codes and positions of fo_sat_parse() and fo_sat_list_parse().
 * fo__sat_tree_list hands out the elements from index skip on (those before went out from the
 * reader). The differential fuzzer takes them, with skip 0, as its oracle. */
int fo__sat_tree_one(const char *buf, size_t len, const fo_json_limits *limits,
                     fo_sat_record *rec, fo_json_error *err);
int fo__sat_tree_list(const char *buf, size_t len, const fo_json_limits *limits,
                      fo_sat_list_fn fn, void *arg, size_t skip, fo_json_error *err);

#endif /* FO_SRC_SAT_INTERNAL_H */
