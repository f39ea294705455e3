/* fanout-demo internals: one function per subcommand and the small helpers they share. */
#ifndef FO_DEMO_DEMO_H
#define FO_DEMO_DEMO_H

#include <stddef.h>

#include "fanout/fanout.h"

/* Exit statuses, the same for every subcommand. */
enum {
  DEMO_OK = 0,      /* everything done */
  DEMO_PARTIAL = 1, /* some items failed; the others were printed */
  DEMO_USAGE = 2,   /* bad command line */
  DEMO_SOURCE = 3   /* the input itself (the list of satellites) could not be had */
};

/* A subcommand: argv[0] is its name, the rest its arguments. Returns an exit status above. */
typedef int (*demo_cmd_fn)(int argc, char **argv);

/* Walks a subcommand's arguments. Flags take their value as "--flag VALUE" or "--flag=VALUE". */
typedef struct demo_args {
  int argc;
  char **argv;
  int next;         /* index of the next argument */
  const char *cmd;  /* subcommand name, for messages */
  const char *flag; /* the flag just taken, without any "=VALUE" (points into flag_buf) */
  const char *inline_value; /* VALUE of "--flag=VALUE", else NULL */
  char flag_buf[32];
} demo_args;

void demo_args_init(demo_args *a, int argc, char **argv);

/* The next flag, or NULL when the arguments are done. A stray non-flag argument is reported and
 * makes this return NULL with *status set to DEMO_USAGE; otherwise *status is left alone. */
const char *demo_next_flag(demo_args *a, int *status);

/* True when the flag just taken is name (e.g. "--count"). */
int demo_is(const demo_args *a, const char *name);

/* The value of the flag just taken, or NULL (reported, *status = DEMO_USAGE) when it is missing. */
const char *demo_value(demo_args *a, int *status);

/* The flag's value as a whole number in [min, max]; reports a bad one, naming the flag and the
 * accepted range, and returns DEMO_USAGE; otherwise stores it and returns DEMO_OK. */
int demo_uint(demo_args *a, unsigned long min, unsigned long max, unsigned long *out);

/* The flag's value as a decimal number in [min, max] (e.g. seconds), same reporting. */
int demo_double(demo_args *a, double min, double max, double *out);

/* The flag's value as one of the NULL-terminated choices; stores its index. */
int demo_choice(demo_args *a, const char *const *choices, int *out);

/* The flag's value as text that is not empty (a URL, a file name), same reporting. */
int demo_text(demo_args *a, const char **out);

/* A flag this subcommand does not know: reported with a pointer to --help; returns DEMO_USAGE. */
int demo_unknown(const demo_args *a);

/* A flag that takes no value was given "=VALUE": reported; returns DEMO_USAGE. */
int demo_no_value(const demo_args *a);

/* Options the library refused (an *_opts_check() call gave -EINVAL and filled why): reported as
 * "fanout-demo CMD: FLAG: <the library's explanation>", naming the flag that set the field;
 * returns DEMO_USAGE. The library holds the ranges, so the demo does not repeat them. */
int demo_opt_refused(const char *cmd, const char *flag, const fo_opt_error *why);

/* Seconds on CLOCK_MONOTONIC, for wall times. */
double demo_now(void);

/* Subcommands. */
int demo_cpus(int argc, char **argv);
int demo_map(int argc, char **argv);
int demo_counter(int argc, char **argv);
int demo_queue(int argc, char **argv);
int demo_threads(int argc, char **argv);
int demo_starlink(int argc, char **argv);
int demo_get(int argc, char **argv);

#endif /* FO_DEMO_DEMO_H */
