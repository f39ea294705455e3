/* The selective reader again, built with its portable SWAR kernel whatever the CPU offers, so
 * bench_json can time the path every other target takes beside the one this CPU takes. */
#define FO_JSON_SCAN_SWAR 1
#define fo__sat_read_list fo__sat_read_list_swar
#define fo__sat_read_one fo__sat_read_one_swar
#include "sat/sat_reader.c"
