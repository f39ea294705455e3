/* The peers bench_json measures fanout against, each on the same task: every element's id,
 * OBJECT_NAME, LAUNCH_DATE and DECAY_DATE out of the list. A negative result means the peer
 * is missing or failed; the caller prints a skip line. */
#ifndef FO_TESTS_BENCH_JSON_PEERS_H
#define FO_TESTS_BENCH_JSON_PEERS_H

#include <stddef.h>

/* CPU time of the calling thread, in seconds. The benchmarks run on shared machines, where
 * wall time also counts the time spent waiting for a CPU; CPU time counts the work, for us and
 * for every peer alike (jq's from its rusage, Python's from time.process_time()). */
double cpu_now(void);

/* What each peer extracts from one element. */
typedef struct {
  char id[32], name[48], launch[32], decay[32];
} bench_fields;

/* cJSON: parse the whole list, look the fields up, free. Best of rounds, in seconds; *peak gets
 * the most memory cJSON held at once. -1 when built without cJSON. */
double peer_cjson(const char *buf, size_t len, bench_fields *out, int rounds, size_t *peak);

/* jq run on the list file; best CPU time (user and system, start-up included) of rounds. */
double peer_jq(const char *file, int rounds);

/* Python's json, timed inside the interpreter by peer_python.py; best of rounds, in seconds. */
double peer_python(const char *file, int rounds);

 /* simdjson's On-Demand API run by peer_simdjson.sh (built with g++ on first use); kernel
 * "native" or "fallback"; fields "record" (what a fo_sat_record holds) or "four" (the texts of
 * bench_fields). Best of rounds, in seconds; *hash gets what it extracted, hashed as
 * bench_fields_hash() does for "four" and as bench_json's records_hash() for "record". -1 when
 * g++ or libsimdjson-dev is missing. */
double peer_simdjson(const char *file, const char *kernel, const char *fields, int rounds,
                     unsigned long long *hash);

/* FNV-1a: the hash before anything, and h with the n bytes at p and then 0xff mixed in. */
#define BENCH_HASH_START 14695981039346656037ull
unsigned long long bench_mix(unsigned long long h, const void *p, size_t n);

/* bench_mix over every field of n elements, from BENCH_HASH_START. */
unsigned long long bench_fields_hash(const bench_fields *f, size_t n);

#endif /* FO_TESTS_BENCH_JSON_PEERS_H */
