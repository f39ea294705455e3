/* JSON path lookup: pull a few fields out of one Starlink document.
 *
 * Handles chain: a failed lookup returns a negative code that the next call passes through, so
 * a path of several steps needs one check at the end. A parse error says where it is.
 *
 *   cc json_path.c $(pkg-config --static --cflags --libs fanout)
 */
#include <stdio.h>
#include <string.h>
#include <fanout/json.h>

static const char doc_text[] =
    "{\"id\": \"5eed7714096e590006985634\",\n"
    " \"spaceTrack\": {\"OBJECT_NAME\": \"STARLINK-30\", \"NORAD_CAT_ID\": 44244,\n"
    "                \"DECAYED\": 0, \"DECAY_DATE\": null},\n"
    " \"latitude\": -36.1, \"launch\": \"5eb87d30ffd86e000604b378\",\n"
    " \"tags\": [\"v0.9\", \"shell-1\"]}";

int main(void)
{
  fo_json *doc;
  fo_json_error where;
  char name[32], tag[16];
  int64_t norad = 0;
  double lat = 0;

  int rc = fo_json_parse(doc_text, strlen(doc_text), NULL, &doc, &where);
  if (rc != 0) {
    fprintf(stderr, "line %zu, column %zu: %s\n", where.line, where.column, fo_strerror(rc));
    return 1;
  }
  int root = fo_json_root(doc);
  int r1 = fo_json_string(doc, fo_json_path(doc, root, "spaceTrack.OBJECT_NAME"), name,
                          sizeof name, NULL);
  int r2 = fo_json_int64(doc, fo_json_path(doc, root, "spaceTrack.NORAD_CAT_ID"), &norad);
  int r3 = fo_json_number(doc, fo_json_get(doc, root, "latitude"), &lat);
  int r4 = fo_json_string(doc, fo_json_path(doc, root, "tags.1"), tag, sizeof tag, NULL);
  int decayed = fo_json_is_null(doc, fo_json_path(doc, root, "spaceTrack.DECAY_DATE"));
  int missing = fo_json_path(doc, root, "spaceTrack.NO_SUCH_FIELD");
  printf("%s (NORAD %lld) at latitude %.1f, tag %s; decay date null: %d; missing: %s\n", name,
         (long long)norad, lat, tag, decayed, fo_errname(missing));
  fo_json_free(doc);

  /* A broken document: the error names the line and column. */
  const char *broken = "{\"a\": 1,\n \"b\": tru}";
  rc = fo_json_parse(broken, strlen(broken), NULL, &doc, &where);
  printf("broken: %s at line %zu, column %zu\n", fo_errname(rc), where.line, where.column);

  return r1 == 0 && r2 == 0 && r3 == 0 && r4 == 0 && strcmp(name, "STARLINK-30") == 0 &&
                 norad == 44244 && lat == -36.1 && strcmp(tag, "shell-1") == 0 &&
                 decayed == 1 && missing == FO_ENOTFOUND && rc == FO_EJSON && where.line == 2
             ? 0
             : 1;
}
