/* Command-line helpers shared by the subcommands: every message names the subcommand, the flag
 * and what would have been accepted, on stderr, so stdout carries results only. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"

/* Walks a subcommand's arguments. */
typedef struct demo_args {
  int argc;
  char **argv;
  int next;         /* index of the next argument */
  const char *cmd;  /* subcommand name, for messages */
  const char *flag; /* the flag just taken, without any "=VALUE" (points into flag_buf) */
  const char *inline_value; /* VALUE of "--flag=VALUE", else NULL */
  char flag_buf[32];
} demo_args;

static void demo_args_init(demo_args *a, int argc, char **argv) {
  memset(a, 0, sizeof(*a));
  a->argc = argc;
  a->argv = argv;
  a->next = 1;
  a->cmd = argc > 0 ? argv[0] : "?";
}

static const char *demo_next_flag(demo_args *a, int *status) {
  if (a->next >= a->argc)
    return NULL;
  const char *arg = a->argv[a->next++];
  /* long flags, and single-letter ones ("-h", "-4") looked up like them */
  if (strncmp(arg, "--", 2) != 0 && !(arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0')) {
    fprintf(stderr, "fanout-demo %s: unexpected argument '%s' (see fanout-demo %s --help)\n",
            a->cmd, arg, a->cmd);
    *status = DEMO_USAGE;
    return NULL;
  }
  const char *eq = strchr(arg, '=');
  size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
  if (n >= sizeof(a->flag_buf))
    n = sizeof(a->flag_buf) - 1; /* no flag is this long: it is reported as unknown */
  memcpy(a->flag_buf, arg, n);
  a->flag_buf[n] = '\0';
  a->flag = a->flag_buf;
  a->inline_value = eq ? eq + 1 : NULL;
  return a->flag;
}

static int demo_is(const demo_args *a, const char *name) {
  return strcmp(a->flag, name) == 0;
}

static const char *demo_value(demo_args *a, int *status) {
  if (a->inline_value)
    return a->inline_value;
  if (a->next >= a->argc) {
    fprintf(stderr, "fanout-demo %s: %s needs a value\n", a->cmd, a->flag);
    *status = DEMO_USAGE;
    return NULL;
  }
  return a->argv[a->next++];
}

static int demo_uint(demo_args *a, unsigned long min, unsigned long max, unsigned long *out) {
  int status = DEMO_OK;
  const char *v = demo_value(a, &status);
  if (!v)
    return status;
  char *end;
  errno = 0;
  unsigned long x = strtoul(v, &end, 10);
  if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno || x < min || x > max) {
    fprintf(stderr, "fanout-demo %s: %s: expected a whole number from %lu to %lu, got '%s'\n",
            a->cmd, a->flag, min, max, v);
    return DEMO_USAGE;
  }
  *out = x;
  return DEMO_OK;
}

static int demo_double(demo_args *a, double min, double max, double *out) {
  int status = DEMO_OK;
  const char *v = demo_value(a, &status);
  if (!v)
    return status;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end != '\0' || errno || !isfinite(x) || x < min || x > max) {
    fprintf(stderr, "fanout-demo %s: %s: expected a number from %g to %g, got '%s'\n", a->cmd,
            a->flag, min, max, v);
    return DEMO_USAGE;
  }
  *out = x;
  return DEMO_OK;
}

static int demo_choice(demo_args *a, const char *const *choices, int *out) {
  int status = DEMO_OK;
  const char *v = demo_value(a, &status);
  if (!v)
    return status;
  for (int i = 0; choices[i]; i++) {
    if (strcmp(v, choices[i]) == 0) {
      *out = i;
      return DEMO_OK;
    }
  }
  fprintf(stderr, "fanout-demo %s: %s: expected one of", a->cmd, a->flag);
  for (int i = 0; choices[i]; i++)
    fprintf(stderr, "%s%s", i ? ", " : " ", choices[i]);
  fprintf(stderr, "; got '%s'\n", v);
  return DEMO_USAGE;
}

static int demo_text(demo_args *a, const char **out) {
  int status = DEMO_OK;
  const char *v = demo_value(a, &status);
  if (!v)
    return status;
  if (v[0] == '\0') {
    fprintf(stderr, "fanout-demo %s: %s: expected a value, got an empty one\n", a->cmd, a->flag);
    return DEMO_USAGE;
  }
  *out = v;
  return DEMO_OK;
}

static int demo_unknown(const demo_args *a) {
  fprintf(stderr, "fanout-demo %s: unknown option '%s' (see fanout-demo %s --help)\n", a->cmd,
          a->flag, a->cmd);
  return DEMO_USAGE;
}

static int demo_no_value(const demo_args *a) {
  fprintf(stderr, "fanout-demo %s: %s takes no value\n", a->cmd, a->flag);
  return DEMO_USAGE;
}

/* The flag just taken, by its kind. */
static int take(demo_args *a, const demo_flag *f, void *ctx) {
  switch (f->kind) {
  case DEMO_UINT:
    return demo_uint(a, f->umin, f->umax, f->out);
  case DEMO_DOUBLE:
    return demo_double(a, f->dmin, f->dmax, f->out);
  case DEMO_TEXT:
    return demo_text(a, f->out);
  case DEMO_CHOICE:
    return demo_choice(a, f->choices, f->out);
  case DEMO_SET:
    if (a->inline_value != NULL)
      return demo_no_value(a);
    *(int *)f->out = f->set;
    return DEMO_OK;
  case DEMO_CALL: {
    const char *v;
    int status = demo_text(a, &v);
    return status == DEMO_OK ? f->call(a->cmd, a->flag, v, ctx) : status;
  }
  }
  return DEMO_USAGE;
}

int demo_parse(int argc, char **argv, const demo_cli *cli) {
  demo_args a;
  int status = DEMO_OK;
  demo_args_init(&a, argc, argv);
  while (status == DEMO_OK && a.next < a.argc) {
    const char *arg = a.argv[a.next];
    if (cli->positional != NULL && arg[0] != '-') {
      a.next++;
      status = cli->positional(arg, cli->ctx);
      continue;
    }
    if (demo_next_flag(&a, &status) == NULL)
      break;
    if (demo_is(&a, "--help") || demo_is(&a, "-h")) {
      fputs(cli->help, stdout);
      return DEMO_HELP;
    }
    const demo_flag *f = NULL;
    for (size_t i = 0; i < cli->n_flags && f == NULL; i++)
      if (demo_is(&a, cli->flags[i].name))
        f = &cli->flags[i];
    status = f != NULL ? take(&a, f, cli->ctx) : demo_unknown(&a);
  }
  return status;
}

double demo_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int demo_opt_refused(const char *cmd, const char *flag, const fo_opt_error *why) {
  char line[160];
  if (fo_opt_error_format(why, line, sizeof line) < 0)
    snprintf(line, sizeof line, "%s", fo_strerror(-EINVAL));
  fprintf(stderr, "fanout-demo %s: %s: %s\n", cmd, flag, line);
  return DEMO_USAGE;
}

/* n bytes of s, each control byte (and, when url, each byte above 0x7e) as \xNN. */
static void put_escaped(FILE *out, const char *s, size_t n, int url) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f || (url && c > 0x7e))
      fprintf(out, "\\x%02x", c);
    else
      fputc(c, out);
  }
}

void demo_put_text(FILE *out, const char *text) {
  put_escaped(out, text, strlen(text), 0);
}

void demo_put_url(FILE *out, const char *url) {
  const char *sep = strstr(url, "://");
  const char *auth = sep != NULL ? sep + 3 : url;
  size_t auth_len = strcspn(auth, "/?#");
  const char *at = NULL;
  for (size_t i = 0; i < auth_len; i++)
    if (auth[i] == '@')
      at = auth + i; /* the last one: a password may hold '@' */
  put_escaped(out, url, (size_t)(auth - url), 1);
  const char *rest = auth;
  if (at != NULL) {
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    put_escaped(out, auth, (size_t)((colon != NULL ? colon : at) - auth), 1);
    fputs(colon != NULL ? ":***@" : "@", out);
    rest = at + 1;
  }
  size_t path = strcspn(rest, "?#");
  put_escaped(out, rest, path, 1);
  if (rest[path] == '?')
    fputs("?***", out);
}
