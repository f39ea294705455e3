/* Reading the shared real fixtures (../shared/fixtures/spacex from the project root), which
 * tests use when they exist and skip, with a note, when they do not; and buffers that end at an
 * unreadable page, so a parser that reads one byte past its input crashes the test. */
#ifndef FO_TESTS_FILES_H
#define FO_TESTS_FILES_H

#include <stddef.h>

/* The fixtures directory, or NULL after printing "SKIP <what>: ..." to stderr. */
const char *fx_dir(const char *what);

/* The whole of dir/name from malloc() (not the hook: the fixture's leak check is about the
 * library), or NULL. */
char *fx_read(const char *dir, const char *name, size_t *len);

/* The names of the files in dir/sub ending in suffix, sorted, from malloc(); NULL-terminated.
 * fx_free_names() releases them. */
char **fx_names(const char *dir, const char *sub, const char *suffix, size_t *count);
void fx_free_names(char **names);

/* A copy of data[0..len) whose last byte is the last readable one: a PROT_NONE page follows. */
typedef struct {
  char *data;
  void *map;
  size_t maplen;
} guard_buf;
void guard_copy(guard_buf *g, const char *data, size_t len);
void guard_free(guard_buf *g);

/* head, then unit `times` times, then tail, NUL-terminated, from malloc(): hostile input built
 * in code. *len receives the length without the NUL. */
char *fx_repeat(const char *head, const char *unit, size_t times, const char *tail, size_t *len);

#endif /* FO_TESTS_FILES_H */
