/* fanout-demo internals: one function per subcommand and the small helpers they share. */
#ifndef FO_DEMO_DEMO_H
#define FO_DEMO_DEMO_H

#include <stddef.h>
#include <stdio.h>

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

/* What demo_parse() returns after printing a subcommand's help: the subcommand then exits 0. */
#define DEMO_HELP (-1)

/* How a flag's value is read. Every kind reports a bad value on stderr naming the subcommand,
 * the flag and what it accepts. */
typedef enum {
  DEMO_UINT,   /* a whole number in [umin, umax] into unsigned long *out */
  DEMO_DOUBLE, /* a decimal number in [dmin, dmax] into double *out */
  DEMO_TEXT,   /* text that is not empty (a URL, a file name) into const char **out */
  DEMO_CHOICE, /* one of the NULL-terminated choices: its index into int *out */
  DEMO_SET,    /* no value: int *out = set */
  DEMO_CALL    /* text that is not empty, handed to call (flags with rules of their own) */
} demo_flag_kind;

/* One flag of a subcommand: a table of these, with designated initializers, is its command line.
 * Flags take their value as "--flag VALUE" or "--flag=VALUE". */
typedef struct demo_flag {
  const char *name; /* "--count" */
  demo_flag_kind kind;
  void *out;
  unsigned long umin, umax;
  double dmin, dmax;
  const char *const *choices;
  int set;
  /* DEMO_CALL: DEMO_OK, or DEMO_USAGE after reporting */
  int (*call)(const char *cmd, const char *flag, const char *value, void *ctx);
} demo_flag;

/* A subcommand's command line. */
typedef struct demo_cli {
  const char *help; /* printed for --help or -h */
  const demo_flag *flags;
  size_t n_flags;
  /* arguments that do not start with '-' (NULL: none are taken); DEMO_OK or DEMO_USAGE */
  int (*positional)(const char *arg, void *ctx);
  void *ctx; /* for call and positional */
} demo_cli;

/* Read argv (argv[0] is the subcommand's name) by the table: DEMO_OK with every flag given
 * stored, DEMO_HELP after printing the help, or DEMO_USAGE after reporting a stray argument, an
 * unknown flag, a missing or bad value, or "=VALUE" on a flag that takes none. */
int demo_parse(int argc, char **argv, const demo_cli *cli);

/* Options the library refused (an *_opts_check() call gave -EINVAL and filled why): reported as
 * "fanout-demo CMD: FLAG: <the library's explanation>", naming the flag that set the field;
 * returns DEMO_USAGE. The library holds the ranges, so the demo does not repeat them. */
int demo_opt_refused(const char *cmd, const char *flag, const fo_opt_error *why);

/* Seconds on CLOCK_MONOTONIC, for wall times. */
double demo_now(void);

/* Text that came from elsewhere (a server, through the library's messages) on an error line:
 * every control byte as \xNN, so it cannot move the cursor, set the title or clear the screen. */
void demo_put_text(FILE *out, const char *text);
/* A URL on an error line, fit to be pasted in a bug report: a password as "user:***@", a query
 * as "?***", no fragment, and every byte outside printable ASCII as \xNN. */
void demo_put_url(FILE *out, const char *url);

/* Subcommands. */
/* get: SIGINT and SIGTERM cancel fetcher f (fo_fetcher_cancel) from begin to end, which puts
 * the old handlers (old: two, SIGINT then SIGTERM) back and returns the signal that came (0:
 * none). demo/get_cancel.c. */
struct fo_fetcher;
struct sigaction;
void demo_cancel_begin(struct fo_fetcher *f, struct sigaction *old);
int demo_cancel_end(struct sigaction *old);
/* A signal came since demo_cancel_begin(); async-signal-safe to read, from any thread. */
int demo_cancel_seen(void);

int demo_cpus(int argc, char **argv);
int demo_map(int argc, char **argv);
int demo_counter(int argc, char **argv);
int demo_queue(int argc, char **argv);
int demo_threads(int argc, char **argv);
int demo_starlink(int argc, char **argv);
int demo_get(int argc, char **argv);

#endif /* FO_DEMO_DEMO_H */
