/* fanout-demo starlink: the rows on stdout as an aligned table, CSV (RFC 4180) or JSON. Failed
 * rows are left out here; their errors went to stderr. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "starlink.h"

#define NCOLS 4

static const char *const headers[NCOLS] = {"ID", "OBJECT_NAME", "LAUNCH_DATE", "DECAY_DATE"};
static const char *const keys[NCOLS] = {"id", "object_name", "launch_date", "decay_date"};

/* A row's field as text, or NULL for a null. */
static const char *field(const starlink_row *r, int col) {
  switch (col) {
  case 0:
    return r->id;
  case 1:
    return r->has & FO_SAT_HAS_OBJECT_NAME ? r->object_name : NULL;
  case 2:
    return r->has & FO_SAT_HAS_LAUNCH_DATE ? r->launch_date : NULL;
  default:
    return r->has & FO_SAT_HAS_DECAY_DATE ? r->decay_date : NULL;
  }
}

/* Characters on screen, near enough: UTF-8 continuation bytes take no column. */
static size_t columns(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* A table cell: a control character (a line break in a name) would tear the table apart, so it
 * shows as '?'; CSV and JSON carry the text as it is. */
static void table_cell(const char *v) {
  for (; *v; v++)
    putchar((unsigned char)*v < 0x20 || *v == 0x7f ? '?' : *v);
}

static void print_table(const starlink_row *rows, size_t n) {
  size_t width[NCOLS];
  for (int c = 0; c < NCOLS; c++)
    width[c] = strlen(headers[c]);
  for (size_t i = 0; i < n; i++) {
    for (int c = 0; c < NCOLS && !rows[i].failed; c++) {
      const char *v = field(&rows[i], c);
      size_t w = v ? columns(v) : 1;
      if (w > width[c])
        width[c] = w;
    }
  }
  for (size_t i = 0; i <= n; i++) {
    if (i > 0 && rows[i - 1].failed)
      continue;
    /* Padding is written only before a cell that has text: no trailing blanks. */
    size_t pad = 0;
    for (int c = 0; c < NCOLS; c++) {
      const char *v = i == 0 ? headers[c] : field(&rows[i - 1], c);
      if (!v)
        v = "-";
      if (v[0] != '\0') {
        printf("%*s", (int)pad, "");
        table_cell(v);
        pad = 0;
      }
      pad += width[c] - columns(v) + 2;
    }
    putchar('\n');
  }
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break, quotes doubled. An empty
 * string is quoted too, so that it reads differently from a null (an empty field). */
static void csv_field(const char *v) {
  if (!v)
    return;
  if (v[0] != '\0' && strpbrk(v, ",\"\r\n") == NULL) {
    fputs(v, stdout);
    return;
  }
  putchar('"');
  for (; *v; v++) {
    if (*v == '"')
      putchar('"');
    putchar(*v);
  }
  putchar('"');
}

static void print_csv(const starlink_row *rows, size_t n) {
  for (int c = 0; c < NCOLS; c++)
    printf("%s%s", c ? "," : "", keys[c]);
  fputs("\r\n", stdout);
  for (size_t i = 0; i < n; i++) {
    if (rows[i].failed)
      continue;
    for (int c = 0; c < NCOLS; c++) {
      if (c)
        putchar(',');
      csv_field(field(&rows[i], c));
    }
    fputs("\r\n", stdout);
  }
}

/* A JSON string: the text as it was sent, with only what JSON requires escaped again. */
static void json_string(const char *v) {
  if (!v) {
    fputs("null", stdout);
    return;
  }
  putchar('"');
  for (; *v; v++) {
    unsigned char ch = (unsigned char)*v;
    if (ch == '"' || ch == '\\')
      printf("\\%c", ch);
    else if (ch == '\n')
      fputs("\\n", stdout);
    else if (ch == '\r')
      fputs("\\r", stdout);
    else if (ch == '\t')
      fputs("\\t", stdout);
    else if (ch < 0x20)
      printf("\\u%04x", ch);
    else
      putchar(ch);
  }
  putchar('"');
}

static void print_json(const starlink_row *rows, size_t n) {
  int first = 1;
  putchar('[');
  for (size_t i = 0; i < n; i++) {
    if (rows[i].failed)
      continue;
    fputs(first ? "\n  {" : ",\n  {", stdout);
    first = 0;
    for (int c = 0; c < NCOLS; c++) {
      printf("%s\"%s\": ", c ? ", " : "", keys[c]);
      json_string(field(&rows[i], c));
    }
    putchar('}');
  }
  fputs(first ? "]\n" : "\n]\n", stdout);
}

int starlink_print(const starlink_row *rows, size_t n, int format) {
  if (format == STARLINK_CSV)
    print_csv(rows, n);
  else if (format == STARLINK_JSON)
    print_json(rows, n);
  else
    print_table(rows, n);
  return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
}
