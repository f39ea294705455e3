/* The satellite list: every record of GET /v4/starlink in one pass, in constant memory.
 *
 *   sat_list              reads a small list written below
 *   sat_list FILE COUNT   reads FILE (a saved answer) and checks that it holds COUNT records
 *
 *   cc sat_list.c $(pkg-config --static --cflags --libs fanout)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fanout/sat.h>

static const char sample[] =
    "[{\"id\": \"5eed7714096e590006985634\", \"spaceTrack\": {\"OBJECT_NAME\": \"STARLINK-30\","
    "  \"LAUNCH_DATE\": \"2019-05-24\", \"DECAYED\": 1}, \"height_km\": null},"
    " {\"id\": \"5eed7714096e590006985635\", \"spaceTrack\": {\"OBJECT_NAME\": \"STARLINK-31\","
    "  \"LAUNCH_DATE\": \"2019-05-24\", \"DECAYED\": 0}, \"height_km\": 550.2}]";

struct tally {
  size_t records, in_orbit;
};

/* Called once per record, in list order; rec is valid during the call only. */
static int each(const fo_sat_record *rec, size_t index, void *arg)
{
  struct tally *t = arg;
  t->records++;
  if ((rec->has & FO_SAT_HAS_DECAYED) && !rec->decayed)
    t->in_orbit++;
  if (index < 3)
    printf("%zu: %s %-14s launched %04d-%02d-%02d\n", index, rec->id, rec->object_name,
           rec->launch_time.year, rec->launch_time.month, rec->launch_time.day);
  return 0;
}

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n)
    *len = (size_t)n;
  else {
    free(buf);
    buf = NULL;
  }
  if (f != NULL)
    fclose(f);
  return buf;
}

int main(int argc, char **argv)
{
  const char *text = sample;
  size_t len = strlen(sample), want = 2;
  char *file = NULL;

  if (argc == 3) {
    if ((file = slurp(argv[1], &len)) == NULL) {
      perror(argv[1]);
      return 1;
    }
    text = file;
    want = strtoul(argv[2], NULL, 10);
  }
  struct tally t = {0, 0};
  fo_json_error where;
  int rc = fo_sat_list_parse(text, len, NULL, each, &t, &where);
  if (rc != 0)
    fprintf(stderr, "record list: %s at line %zu, column %zu\n", fo_strerror(rc), where.line,
            where.column);
  else
    printf("%zu records, %zu in orbit\n", t.records, t.in_orbit);
  free(file);
  return rc == 0 && t.records == want && (file != NULL || t.in_orbit == 1) ? 0 : 1;
}
