/* gen_starlink: the generator from the command line, for the benchmark's peers (jq, Python) and
 * the fuzz seed corpus.
 *   gen_starlink list N         the list of documents 0..N-1 on stdout
 *   gen_starlink one I          document I on stdout
 *   gen_starlink corpus DIR     seed files for the fuzzer in DIR (which must exist) */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "starlink_gen.h"

/* Inputs the generator cannot produce but the fuzzer should start near: every JSON form the
 * parser must accept or refuse, and the satellite layer's odd cases. */
static const char *const extra_seeds[] = {
    "[]",
    "{}",
    "0",
    "-0.000064871",
    "1.5e-7",
    "1E+400",
    "true",
    "null",
    "\"\\ud83d\\ude00 \\u00e9 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"",
    "[1, [2, [3, {\"a\": [4, {\"b\": null}]}]], false]",
    "{\"a\":1,\"a\":2}",
    "{\"id\":\"5eed770f096e59000698560d\"}",
    ("{ \"id\" : \"5eed770f096e59000698560d\" , \"spaceTrack\" : { \"DECAY_DATE\" : \"\" ,"
     " \"OBJECT\\u005fNAME\" : \"TINTIN A\" , \"EPOCH\" : \"2020-06-19 21:46:09\" } }"),
    "[{\"id\":\"5eed770f096e59000698560d\",\"spaceTrack\":null,\"longitude\":null}]",
    "{\"a\":[1,2,",
    "[\"\\ud800\"]",
};

static int write_file(const char *dir, const char *name, const char *data, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "gen_starlink: %s: %s\n", path, strerror(errno));
    return 1;
  }
  return 0;
}

static int corpus(const char *dir) {
  char doc[GEN_DOC_MAX], name[64];
  int rc = 0;
  for (unsigned long i = 0; i < 12; i++) {
    snprintf(name, sizeof name, "doc-%lu.json", i * 89);
    rc |= write_file(dir, name, doc, gen_starlink_doc(doc, i * 89));
  }
  size_t len;
  char *list = gen_starlink_list(4, &len);
  if (list == NULL)
    return 1;
  rc |= write_file(dir, "list-4.json", list, len);
  free(list);
  for (size_t i = 0; i < sizeof extra_seeds / sizeof extra_seeds[0]; i++) {
    snprintf(name, sizeof name, "edge-%02zu.json", i);
    rc |= write_file(dir, name, extra_seeds[i], strlen(extra_seeds[i]));
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "list") == 0) {
    size_t len;
    char *list = gen_starlink_list(strtoul(argv[2], NULL, 10), &len);
    if (list == NULL || fwrite(list, 1, len, stdout) != len)
      return 1;
    free(list);
    return fflush(stdout) != 0;
  }
  if (argc == 3 && strcmp(argv[1], "one") == 0) {
    char doc[GEN_DOC_MAX];
    size_t len = gen_starlink_doc(doc, strtoul(argv[2], NULL, 10));
    return fwrite(doc, 1, len, stdout) != len || fflush(stdout) != 0;
  }
  if (argc == 3 && strcmp(argv[1], "corpus") == 0)
    return corpus(argv[2]);
  fprintf(stderr, "usage: gen_starlink list N | one I | corpus DIR\n");
  return 2;
}
