/* The hostile server (tests/hostile/fo-hostile) and a fetcher, for the fetch_hostile suite
 * (tests/check_fetch_hostile.c, tests/check_fetch_redirect.c). */
#ifndef FO_TESTS_HOSTILE_ENV_H
#define FO_TESTS_HOSTILE_ENV_H

#include <stddef.h>

#include "fanout/fetch.h"
#include "mirror_proc.h"

typedef struct {
  mirror_proc srv;
  fo_fetcher *f;
  char dir[64]; /* a fresh directory for output files */
} hostile_env;

/* Start the server and a fetcher with these retries and max_redirs; fails the test if either
 * cannot start. */
int hostile_up(hostile_env *e, unsigned retries, unsigned redirs);
void hostile_down(hostile_env *e);
/* "http://127.0.0.1:PORT" followed by path. */
void hostile_url(const hostile_env *e, const char *path, char *buf, size_t cap);
/* A counter of the server's /stats (requests, echo, ifrange, range), or -1. */
long hostile_stat(const hostile_env *e, const char *key);

#endif /* FO_TESTS_HOSTILE_ENV_H */
