/* libFuzzer harness: the selective satellite reader against the tree path as its oracle.
 *
 * A hash of the input picks the limits (a depth cap and a token cap inside what the reader
 * takes on) and where a list callback stops, so the generator's documents stay whole seeds.
 * For one document and for a list it requires:
 * - what the reader alone decides, the tree path accepts, with the same records (every field,
 *   every presence bit); on texts too short to hold more tokens than the reader's bound, the
 *   two accept exactly the same texts;
 * - the public calls (the reader, and the tree path when it gives up) return what the tree
 *   path alone returns: the same code, the same error offset, line and column, the same
 *   records handed out in the same order, and a stop by the callback at the same element.
 * Build and run: make fuzz (tests/fuzz/run.sh), beside the JSON harness. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout/json.h"
#include "fanout/sat.h"
#include "json/json_internal.h"
#include "sat/sat_internal.h"
#include "require.h"

static int same_time(const fo_sat_time *a, const fo_sat_time *b) {
  return a->year == b->year && a->month == b->month && a->day == b->day && a->hour == b->hour &&
         a->minute == b->minute && a->second == b->second && a->nanosecond == b->nanosecond &&
         a->has_time == b->has_time;
}

#define SAME(f) (memcmp(&a->f, &b->f, sizeof a->f) == 0)
static int same_record(const fo_sat_record *a, const fo_sat_record *b) {
  return SAME(id) && SAME(has) && SAME(object_name) && SAME(object_id) && SAME(epoch) &&
         SAME(launch_date) && SAME(decay_date) && same_time(&a->epoch_time, &b->epoch_time) &&
         same_time(&a->launch_time, &b->launch_time) &&
         same_time(&a->decay_time, &b->decay_time) && SAME(norad_cat_id) && SAME(decayed) &&
         SAME(longitude) && SAME(latitude) && SAME(height_km) && SAME(velocity_kms);
}

/* The records a list walk handed out, kept whole for the first few, counted after. */
#define KEEP 16
typedef struct {
  fo_sat_record rec[KEEP];
  size_t count;
  size_t stop_at; /* the callback returns 5 at this index */
} seen;

static int take(const fo_sat_record *r, size_t index, void *arg) {
  seen *s = arg;
  REQUIRE(index == s->count);
  if (index < KEEP)
    s->rec[index] = *r;
  s->count++;
  return index == s->stop_at ? 5 : 0;
}

static void same_error(const fo_json_error *a, const fo_json_error *b) {
  REQUIRE(a->code == b->code && a->offset == b->offset && a->line == b->line &&
          a->column == b->column);
}

static void same_seen(const seen *a, const seen *b) {
  REQUIRE(a->count == b->count);
  for (size_t i = 0; i < a->count && i < KEEP; i++)
    REQUIRE(same_record(&a->rec[i], &b->rec[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* depth 1..8 or the default; tokens 4096.. (the reader's lower bound) or the default */
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < size; i++)
    hash = (hash ^ data[i]) * 16777619u;
  unsigned pick = (hash ^ hash >> 8 ^ hash >> 16) & 0xff;
  fo_json_limits lim = {(pick & 0x10) ? 4096u + (pick & 0x0f) * 64u : 0,
                        (pick & 0x08) ? 1u + (pick & 0x07) : 0};
  size_t stop_at = (pick & 0x80) ? (size_t)(pick >> 5 & 3) : SIZE_MAX;
  const char *buf = (const char *)data;
  size_t len = size;
  /* Each token takes a byte at least, so below these lengths the reader never runs out. */
  int small_one = len <= (4096 - 1024) / 2, small_list = len <= (4096 - 1024) / 3;

  /* one document */
  fo_sat_record a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  fo_json_error ea, eb;
  int reader = fo__sat_read_one(buf, len, &lim, &a);
  int tree = fo__sat_tree_one(buf, len, &lim, &b, &eb);
  REQUIRE(reader == 0 || reader == FO__SAT_FALLBACK);
  REQUIRE(reader != 0 || tree == 0);
  REQUIRE(!small_one || (reader == 0) == (tree == 0));
  if (reader == 0)
    REQUIRE(same_record(&a, &b));
  memset(&a, 0, sizeof a);
  int pub = fo_sat_parse(buf, len, &lim, &a, &ea);
  REQUIRE(pub == tree);
  same_error(&ea, &eb);
  if (pub == 0)
    REQUIRE(same_record(&a, &b));

  /* a list */
  static seen sr, st, sp;
  memset(&sr, 0, sizeof sr);
  memset(&st, 0, sizeof st);
  memset(&sp, 0, sizeof sp);
  sr.stop_at = st.stop_at = sp.stop_at = stop_at;
  size_t delivered;
  int stopped;
  reader = fo__sat_read_list(buf, len, &lim, take, &sr, &delivered, &stopped);
  tree = fo__sat_tree_list(buf, len, &lim, take, &st, 0, &eb);
  REQUIRE(delivered == sr.count);
  if (stopped) {
    REQUIRE(reader == 5 && tree == 5);
    same_seen(&sr, &st);
  } else if (reader == 0) {
    REQUIRE(tree == 0);
    same_seen(&sr, &st);
  } else {
    REQUIRE(reader == FO__SAT_FALLBACK && (!small_list || tree != 0));
    REQUIRE(sr.count <= st.count); /* the tree path hands out at least those */
  }
  pub = fo_sat_list_parse(buf, len, &lim, take, &sp, &ea);
  REQUIRE(pub == tree);
  same_error(&ea, &eb);
  same_seen(&sp, &st);
  return 0;
}
