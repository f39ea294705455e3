/* A deterministic generator of SpaceX API v4 Starlink documents, written exactly as the API
 * writes them: the schema's key order, compact, numbers as JavaScript prints them, and the null
 * patterns of decayed (DECAY_DATE set, DECAYED 1, position null) and orbiting satellites
 * (DECAY_DATE null, DECAYED 0, position set). Document i is the same on every machine: values
 * come from integer hashing and exact binary fractions, never from platform floating point.
 * Tests, benchmarks and the fuzz corpus use it instead of copies of real data. */
#ifndef FO_TESTS_STARLINK_GEN_H
#define FO_TESTS_STARLINK_GEN_H

#include <stddef.h>

/* No generated document is longer than this. */
#define GEN_DOC_MAX 2048

/* What document i says, for checking a parser against it. */
typedef struct gen_sat {
  char id[25];
  char object_name[32];
  char object_id[16];
  char epoch[32];
  char launch_date[16];
  char decay_date[16]; /* "" when null */
  int decayed;         /* 1: DECAY_DATE set, position null */
  long norad_cat_id;
  double longitude, latitude, height_km, velocity_kms; /* when !decayed */
} gen_sat;

/* The values of document i. */
void gen_starlink_truth(unsigned long i, gen_sat *out);

/* Write document i to buf (size >= GEN_DOC_MAX); returns its length. No NUL is added. */
size_t gen_starlink_doc(char *buf, unsigned long i);

/* The list of documents 0..n-1 ("[doc,doc,...]") in memory from malloc(); *len is its length.
 * NULL when out of memory. */
char *gen_starlink_list(unsigned long n, size_t *len);

/* x as JavaScript's Number.prototype.toString writes it: the shortest text that reads back as
 * x, in exponent form below 1e-6 and from 1e21. out needs 32 bytes. Returns the length. */
size_t gen_js_number(char *out, double x);

#endif /* FO_TESTS_STARLINK_GEN_H */
