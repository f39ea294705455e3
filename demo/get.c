/* fanout-demo get: the fetcher for real transfers, one request per URL, all at once: a method,
 * headers, a body from a file, the answer to stdout, a file or a directory, verified, resumed,
 * compressed on the wire. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "fanout/fetch.h"
#include "get.h"

#define HEADERS_MAX 64
#define URLS_FILES_MAX 16

static const char help[] =
    "usage: fanout-demo get [--threads N] [--header 'Name: value']... [--method M]\n"
    "         [--data-file F] [--output F | --output-dir D] [--sha256 HEX]\n"
    "         [--resume] [--max-redirs N] [--max-bytes N] [--no-compressed]\n"
    "         [--timeout S] [--retries N]\n"
    "         [--cert F --key F [--key-password-file F]] [--cacert F]\n"
    "         [--pinnedpubkey 'sha256//B64[;sha256//B64]...'] [--crlfile F]\n"
    "         [--proxy URL] [--noproxy LIST] [--http1.1]\n"
    "         [--interface NAME|ADDRESS] [-4 | -6] [--limit-rate BYTES[k|M|G]]\n"
    "         [--skip-existing] [--stall-time S] [--stall-speed BYTES] [--deadline S]\n"
    "         [--parallel N] [--urls-file F]... [--discard] [URL...]\n"
    "\n"
    "Send one request per URL, all at once, and keep each answer's body.\n"
    "\n"
    "  --threads N        worker threads (default 8)\n"
    "  --parallel N       transfers in flight across the threads (default:\n"
    "                     one per thread)\n"
    "  --urls-file F      more URLs, one a line, after those of the command\n"
    "                     line ('-': stdin); blank lines and lines starting\n"
    "                     with '#' skipped; at most 100000 URLs in all, 8192\n"
    "                     bytes a URL, 16 MiB of URLs (usage error past them)\n"
    "  --discard          read each body and drop it, as -o /dev/null: bytes\n"
    "                     still counted (and checked by --sha256)\n"
    "  --header 'N: v'    an extra request header; repeat for more\n"
    "  --method M         GET (default; POST with --data-file), HEAD, POST,\n"
    "                     PUT, PATCH or DELETE\n"
    "  --data-file F      send the file F as the request body\n"
    "  --output F         write the body to F (one URL only)\n"
    "  --output-dir D     write each body to D/NAME, NAME the URL's last segment\n"
    "  --sha256 HEX       the body's expected SHA-256 (one URL only)\n"
    "  --resume           continue a cut download from the bytes on disk\n"
    "                     (with --output or --output-dir)\n"
    "  --max-redirs N     follow up to N redirects (default 0: none)\n"
    "  --max-bytes N      fail a body larger than N bytes\n"
    "  --no-compressed    do not ask for gzip or deflate\n"
    "  --timeout S        seconds per attempt (default: no limit)\n"
    "  --retries N        retries after a failed attempt (default 0)\n"
    "  --cert F           client certificate, PEM or DER (with --key)\n"
    "  --key F            its private key, PEM or DER, maybe encrypted\n"
    "  --key-password-file F\n"
    "                     the key's password: the first line of F\n"
    "  --cacert F         trust the CAs in F instead of the system's\n"
    "  --pinnedpubkey P   the server's public key must be one of the pins P\n"
    "                     (sha256//BASE64 of its SubjectPublicKeyInfo; ';')\n"
    "  --crlfile F        fail a server whose certificate the CRL F revokes\n"
    "  --proxy URL        go through this proxy: http://, https:// or\n"
    "                     socks5h://HOST[:PORT] (USER:PASSWORD@ if it asks);\n"
    "                     proxy variables of the environment are ignored\n"
    "  --noproxy LIST     hosts reached without the proxy (comma-separated\n"
    "                     names, addresses, CIDR ranges, or *)\n"
    "  --interface I      connect from interface or local address I\n"
    "                     (if!NAME, host!ADDRESS, or either)\n"
    "  -4, -6             IPv4 or IPv6 addresses only\n"
    "  --http1.1          HTTP/1.1 only (default: HTTP/2 over https when the\n"
    "                     library has it, see --version; HTTP/1.1 over http)\n"
    "  --limit-rate R     receive at most R bytes per second, all URLs\n"
    "                     together (k, M, G: 1024, 1024^2, 1024^3)\n"
    "  --skip-existing    with --sha256: no request when the output file\n"
    "                     already holds that digest\n"
    "  --stall-time S     fail an attempt that moves fewer than --stall-speed\n"
    "                     bytes a second for S seconds (default 300; 0: never)\n"
    "  --stall-speed B    bytes a second for --stall-time (default 8)\n"
    "  --deadline S       end the whole run after S seconds, retries included\n"
    "\n"
    "Without --output or --output-dir the bodies go to stdout, in URL order,\n"
    "each as soon as the URLs before it are done; with --sha256, only once\n"
    "verified (held in memory up to --max-bytes, else in a private file).\n"
    "Files are written whole or not at all. Errors go to stderr as\n"
    "'error: URL: REASON'; a progress line shows on a terminal.\n"
    "SIGINT or SIGTERM cancels the run within a second: an error line for each\n"
    "unfinished URL, partial files kept for --resume.\n"
    "Exit status: 0 all succeeded, 1 some failed, 2 usage, 130 SIGINT, 143 SIGTERM.\n";

typedef struct {
  unsigned long threads, max_redirs, max_bytes, retries;
  double timeout_s;
  double stall_time_s, deadline_s; /* -1: not given */
  unsigned long stall_speed;
  const char *headers[HEADERS_MAX + 1];
  size_t n_headers;
  const char *method, *data_file, *output, *output_dir, *sha256;
  int resume, no_compressed;
  const char *cert, *key, *key_password_file, *cacert, *pins, *crlfile;
  char key_password[1024]; /* the first line of --key-password-file; wiped after the run */
  /* network policy */
  const char *proxy, *noproxy, *interface;
  int ipv4, ipv6, skip_existing, http1_1;
  unsigned long long limit_rate;
  /* many transfers */
  unsigned long parallel;
  int discard;
  const char *urls_files[URLS_FILES_MAX];
  size_t n_urls_files;
  get_urls urls; /* the command line's, then each file's */
} get_opts;

/* The progress line: totals over every item, redrawn at most ten times a second. */
typedef struct {
  pthread_mutex_t mu;
  unsigned long long *bytes; /* per item */
  size_t n;
  double last;
} progress;

typedef struct {
  progress *p;
  size_t index;
} progress_item;

static void on_progress(unsigned long long bytes, unsigned long long total, void *arg) {
  (void)total;
  progress_item *it = arg;
  progress *p = it->p;
  pthread_mutex_lock(&p->mu);
  p->bytes[it->index] = bytes;
  double now = demo_now();
  if (now - p->last >= 0.1) {
    unsigned long long sum = 0;
    for (size_t i = 0; i < p->n; i++)
      sum += p->bytes[i];
    p->last = now;
    fprintf(stderr, "\rget: %.1f MiB received", (double)sum / (1024.0 * 1024.0));
  }
  pthread_mutex_unlock(&p->mu);
}

static int add_url(const char *arg, void *ctx) {
  get_opts *o = ctx;
  return get_urls_add(&o->urls, arg);
}

/* Files are read once the whole command line is known good (a --help after `--urls-file -`
 * must not wait on stdin). */
static int add_urls_file(const char *cmd, const char *flag, const char *value, void *ctx) {
  get_opts *o = ctx;
  if (o->n_urls_files == URLS_FILES_MAX) {
    fprintf(stderr, "fanout-demo %s: at most %d %s flags\n", cmd, URLS_FILES_MAX, flag);
    return DEMO_USAGE;
  }
  o->urls_files[o->n_urls_files++] = value;
  return DEMO_OK;
}

static int add_header(const char *cmd, const char *flag, const char *value, void *ctx) {
  get_opts *o = ctx;
  if (o->n_headers == HEADERS_MAX) {
    fprintf(stderr, "fanout-demo %s: at most %d %s flags\n", cmd, HEADERS_MAX, flag);
    return DEMO_USAGE;
  }
  o->headers[o->n_headers++] = value;
  return DEMO_OK;
}

/* --limit-rate: bytes per second, with curl's suffixes (k, M, G: powers of 1024). */
static int set_limit_rate(const char *cmd, const char *flag, const char *value, void *ctx) {
  get_opts *o = ctx;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(value, &end, 10);
  unsigned shift = 0;
  if (end != value && (*end == 'k' || *end == 'K'))
    shift = 10, end++;
  else if (end != value && (*end == 'm' || *end == 'M'))
    shift = 20, end++;
  else if (end != value && (*end == 'g' || *end == 'G'))
    shift = 30, end++;
  if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || v == 0 ||
      v > (FO_FETCH_SPEED_MAX >> shift)) {
    fprintf(stderr, "fanout-demo %s: %s '%s': expected bytes per second, 1 to 1T, with k, M or "
                    "G for 1024, 1024^2, 1024^3\n", cmd, flag, value);
    return DEMO_USAGE;
  }
  o->limit_rate = v << shift;
  return DEMO_OK;
}

static int parse(int argc, char **argv, get_opts *o) {
  const demo_flag table[] = {
      {"--resume", DEMO_SET, &o->resume, .set = 1},
      {"--no-compressed", DEMO_SET, &o->no_compressed, .set = 1},
      {"--threads", DEMO_UINT, &o->threads, .umin = 1, .umax = UINT_MAX},
      {"--header", DEMO_CALL, NULL, .call = add_header},
      {"--method", DEMO_TEXT, &o->method},
      {"--data-file", DEMO_TEXT, &o->data_file},
      {"--output", DEMO_TEXT, &o->output},
      {"--output-dir", DEMO_TEXT, &o->output_dir},
      {"--sha256", DEMO_TEXT, &o->sha256},
      {"--max-redirs", DEMO_UINT, &o->max_redirs, .umin = 0, .umax = UINT_MAX},
      {"--max-bytes", DEMO_UINT, &o->max_bytes, .umin = 1, .umax = ULONG_MAX},
      {"--timeout", DEMO_DOUBLE, &o->timeout_s, .dmin = 0.001, .dmax = FO_FETCH_MS_MAX / 1000.0},
      {"--retries", DEMO_UINT, &o->retries, .umin = 0, .umax = UINT_MAX},
      {"--cert", DEMO_TEXT, &o->cert},
      {"--key", DEMO_TEXT, &o->key},
      {"--key-password-file", DEMO_TEXT, &o->key_password_file},
      {"--cacert", DEMO_TEXT, &o->cacert},
      {"--pinnedpubkey", DEMO_TEXT, &o->pins},
      {"--crlfile", DEMO_TEXT, &o->crlfile},
      /* network policy */
      {"--proxy", DEMO_TEXT, &o->proxy},
      {"--noproxy", DEMO_TEXT, &o->noproxy},
      {"--interface", DEMO_TEXT, &o->interface},
      {"-4", DEMO_SET, &o->ipv4, .set = 1},
      {"-6", DEMO_SET, &o->ipv6, .set = 1},
      {"--http1.1", DEMO_SET, &o->http1_1, .set = 1},
      {"--limit-rate", DEMO_CALL, NULL, .call = set_limit_rate},
      {"--skip-existing", DEMO_SET, &o->skip_existing, .set = 1},
      {"--stall-time", DEMO_DOUBLE, &o->stall_time_s, .dmin = 0, .dmax = FO_FETCH_MS_MAX / 1000.0},
      {"--stall-speed", DEMO_UINT, &o->stall_speed, .umin = 1, .umax = FO_FETCH_STALL_SPEED_MAX},
      {"--deadline", DEMO_DOUBLE, &o->deadline_s, .dmin = 0.001, .dmax = FO_FETCH_MS_MAX / 1000.0},
      /* many transfers; --parallel's upper bound is the library's (max_inflight) */
      {"--parallel", DEMO_UINT, &o->parallel, .umin = 1, .umax = UINT_MAX},
      {"--urls-file", DEMO_CALL, NULL, .call = add_urls_file},
      {"--discard", DEMO_SET, &o->discard, .set = 1}};
  const demo_cli cli = {help, table, sizeof table / sizeof table[0], add_url, o};
  int status = demo_parse(argc, argv, &cli);
  if (status != DEMO_OK)
    return status;
  /* combinations that need no URL first: `--urls-file -` is not read for a refused line */
  const char *why = o->discard && o->output               ? "--discard and --output exclude each other"
                    : o->discard && o->output_dir         ? "--discard and --output-dir exclude each other"
                    : NULL;
  for (size_t i = 0; why == NULL && status == DEMO_OK && i < o->n_urls_files; i++)
    status = get_urls_read(&o->urls, o->urls_files[i]);
  if (status != DEMO_OK)
    return status;
  size_t n_urls = o->urls.n;
  if (why == NULL)
    why = n_urls == 0                                     ? "needs at least one URL"
                    : o->output && o->output_dir          ? "--output and --output-dir exclude each other"
                    : o->output && n_urls > 1             ? "--output takes one URL (use --output-dir)"
                    : o->sha256 && n_urls > 1             ? "--sha256 takes one URL"
                    : o->resume && !o->output && !o->output_dir ? "--resume needs --output or --output-dir"
                    : o->cert && !o->key                  ? "--cert needs --key"
                    : o->key && !o->cert                  ? "--key needs --cert"
                    : o->key_password_file && !o->key     ? "--key-password-file needs --key"
                    : o->ipv4 && o->ipv6                  ? "-4 and -6 exclude each other"
                    : o->skip_existing && (!o->sha256 || (!o->output && !o->output_dir))
                        ? "--skip-existing needs --sha256 and --output or --output-dir"
                        : NULL;
  if (why != NULL) {
    fprintf(stderr, "fanout-demo get: %s (see fanout-demo get --help)\n", why);
    return DEMO_USAGE;
  }
  return DEMO_OK;
}

/* The URL's last path segment, as a file name in dir; NULL when it has none. */
static char *name_in(const char *dir, const char *url) {
  const char *start = strstr(url, "://");
  start = start ? start + 3 : url;
  const char *end = start + strcspn(start, "?#");
  const char *slash = memchr(start, '/', (size_t)(end - start));
  if (slash == NULL)
    return NULL;
  const char *seg = end;
  while (seg > slash + 1 && seg[-1] != '/')
    seg--;
  size_t n = (size_t)(end - seg);
  if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
    return NULL;
  size_t dl = strlen(dir);
  char *p = malloc(dl + n + 2);
  if (p != NULL)
    snprintf(p, dl + n + 2, "%s%s%.*s", dir, dl && dir[dl - 1] == '/' ? "" : "/", (int)n, seg);
  return p;
}

/* Map a field the library refused to the flag that set it. */
static int refused(const char *field, const fo_opt_error *why) {
  /* forms, not ranges; the proxy's URL may hold a password: not repeated */
  if (strcmp(field, "proxy") == 0) {
    fputs("fanout-demo get: --proxy: expected http://, https:// or socks5h:// and a host\n",
          stderr);
    return DEMO_USAGE;
  }
  if (strcmp(field, "interface") == 0) {
    fputs("fanout-demo get: --interface: expected NAME, if!NAME (at most 15 bytes), ADDRESS or "
          "host!ADDRESS\n", stderr);
    return DEMO_USAGE;
  }
  static const char *const flags[][2] = {{"noproxy", "--noproxy"},
                                         {"max_recv_speed_total", "--limit-rate"},
                                         {"threads", "--threads"},
                                         {"max_inflight", "--parallel"},
                                         {"retries", "--retries"},
                                         {"timeout_ms", "--timeout"},
                                         {"connect_timeout_ms", "--timeout"},
                                         {"max_redirs", "--max-redirs"},
                                         {"client_cert", "--cert"},
                                         {"client_key", "--key"},
                                         {"key_password", "--key-password-file"},
                                         {"ca_file", "--cacert"},
                                         {"crl_file", "--crlfile"},
                                         {"stall_time_ms", "--stall-time"},
                                         {"stall_speed", "--stall-speed"},
                                         {"deadline_ms", "--deadline"}};
  if (strcmp(field, "pinned_pubkey") == 0) {
    fprintf(stderr, "fanout-demo get: --pinnedpubkey: expected sha256//BASE64 pins (44 base64 "
                    "characters of a SHA-256) separated by ';'\n");
    return DEMO_USAGE;
  }
  const char *flag = field;
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (strcmp(flags[i][0], field) == 0)
      flag = flags[i][1];
  return demo_opt_refused("get", flag, why);
}

/* A request the library refuses is a usage error: the same flags go into every request. */
static int request_refused(const get_opts *o, const fo_opt_error *why) {
  const char *f = why->field;
  if (strcmp(f, "headers") == 0)
    fprintf(stderr, "fanout-demo get: --header '%s': expected 'Name: value' without CR or LF\n",
            o->headers[why->value]);
  else if (strcmp(f, "method") == 0)
    fprintf(stderr, "fanout-demo get: --method '%s': expected GET, HEAD, POST, PUT, PATCH or "
                    "DELETE\n", o->method);
  else if (strcmp(f, "sha256") == 0)
    fprintf(stderr, "fanout-demo get: --sha256: expected 64 hexadecimal digits\n");
  else if (strcmp(f, "body_from") == 0)
    fprintf(stderr, "fanout-demo get: --data-file: %s sends no body\n", o->method);
  else
    fprintf(stderr, "fanout-demo get: %s refused\n", f);
  return DEMO_USAGE;
}

/* The key's password: the first line of the file, without its line end. */
static int read_password(get_opts *o) {
  FILE *f = fopen(o->key_password_file, "r");
  if (f == NULL || fgets(o->key_password, sizeof o->key_password, f) == NULL) {
    fprintf(stderr, "fanout-demo get: --key-password-file: cannot read %s: %s\n",
            o->key_password_file, f == NULL ? strerror(errno) : "no line in it");
    if (f != NULL)
      fclose(f);
    return DEMO_USAGE;
  }
  fclose(f);
  o->key_password[strcspn(o->key_password, "\r\n")] = '\0';
  return DEMO_OK;
}

/* Seconds from the command line as the library's milliseconds, at least 1. */
static long to_ms(double s) {
  long ms = (long)(s * 1000.0 + 0.5);
  return ms < 1 ? 1 : ms;
}

/* What makes the run's requests (fill), shared by the check before the run and the windows. */
typedef struct {
  const get_opts *o;
  const char *method;
  char **paths;          /* --output-dir: each URL's file, NULL when it has no name */
  progress_item *items;  /* NULL: no progress line */
  get_held_file *held;   /* --sha256 to stdout without --max-bytes */
  int to_memory;         /* bodies held in memory for stdout, in URL order */
  get_in_order *order;
} get_build;

static void fill(size_t i, fo_fetch_req *r, void *arg) {
  const get_build *b = arg;
  const get_opts *o = b->o;
  size_t n = o->urls.n;
  *r = (fo_fetch_req){.url = o->urls.v[i],
                      .method = b->method,
                      .headers = o->n_headers ? o->headers : NULL,
                      .sha256 = o->sha256,
                      .max_bytes = (size_t)o->max_bytes,
                      .flags = (o->resume ? FO_FETCH_RESUME : 0) |
                               (o->skip_existing ? FO_FETCH_SKIP_EXISTING : 0)};
  if (o->data_file) {
    r->body_from = FO_FETCH_BODY_FILE;
    r->body_path = o->data_file;
  }
  if (o->output_dir)
    r->output = b->paths[i];
  else if (o->output)
    r->output = o->output;
  else if (o->discard)
    r->write = get_discard; /* the fetcher counts and digests what it hands over */
  else if (n == 1 && o->sha256 == NULL)
    r->write = get_to_stdout; /* streamed: nothing to check first */
  else if (o->sha256 != NULL && o->max_bytes == 0)
    r->output = b->held->file;
  if (b->items != NULL) {
    r->progress = on_progress;
    r->progress_arg = &b->items[i];
  }
  if (o->output_dir && b->paths[i] == NULL)
    r->url = NULL; /* refused by the library at once: no request is sent */
}

static const char *missing(size_t i, void *arg) {
  const get_build *b = arg;
  return b->paths[i] == NULL ? "no file name in the URL for --output-dir" : NULL;
}

/* The one window of bodies printed in URL order: the printer reads its results. */
static void window_start(fo_fetch_result *res, void *arg) {
  ((get_build *)arg)->order->res = res;
}

/* The one window of a held body: copied out once verified. */
static void window_end(int rc, size_t base, fo_fetch_result *res, void *arg) {
  const get_build *b = arg;
  if (rc >= 0 && base == 0 && res[0].err == 0)
    b->order->werr = get_held_copy(b->held);
}

static int run(const get_opts *o) {
  fo_fetch_opts fo = {.threads = (unsigned)o->threads,
                      .retries = (unsigned)o->retries,
                      .max_redirs = (unsigned)o->max_redirs,
                      .no_compress = o->no_compressed,
                      .client_cert = o->cert,
                      .client_key = o->key,
                      .key_password = o->key_password_file ? o->key_password : NULL,
                      .ca_file = o->cacert,
                      .crl_file = o->crlfile,
                      .pinned_pubkey = o->pins,
                      .proxy = o->proxy,
                      .noproxy = o->noproxy,
                      .interface = o->interface,
                      .ip_version = o->ipv4 ? 4 : o->ipv6 ? 6 : 0,
                      .max_recv_speed_total = o->limit_rate,
                      .http_version = o->http1_1 ? FO_FETCH_HTTP_1_1 : FO_FETCH_HTTP_DEFAULT};
  if (o->timeout_s > 0) {
    fo.timeout_ms = (long)(o->timeout_s * 1000.0 + 0.5);
    fo.timeout_ms = fo.timeout_ms < 1 ? 1 : fo.timeout_ms;
    fo.connect_timeout_ms = fo.timeout_ms < 10000 ? fo.timeout_ms : 10000;
  }
  if (o->stall_time_s == 0)
    fo.stall_time_ms = -1; /* --stall-time 0: no stall limit */
  else if (o->stall_time_s > 0)
    fo.stall_time_ms = to_ms(o->stall_time_s);
  fo.stall_speed = o->stall_speed;
  fo.max_inflight = (unsigned)o->parallel; /* 0 (no --parallel): one per thread */
  if (o->deadline_s > 0)
    fo.deadline_ms = to_ms(o->deadline_s);
  fo_opt_error why;
  if (o->threads > UINT_MAX || fo_fetch_opts_check(&fo, &why) != 0)
    return refused(why.field, &why);
  size_t n = o->urls.n;
  char **paths = calloc(n, sizeof *paths);
  progress_item *items = calloc(n, sizeof *items);
  progress p = {.bytes = calloc(n, sizeof *p.bytes), .n = n};
  int status = DEMO_OK, cancel_signal = 0;
  if (!paths || !items || !p.bytes || pthread_mutex_init(&p.mu, NULL) != 0) {
    fputs("fanout-demo get: out of memory\n", stderr);
    free(paths), free(items), free(p.bytes);
    return DEMO_PARTIAL;
  }
  get_held_file held = {0};
  get_in_order order = {.done = calloc(n, 1), .n = n};
  if (order.done == NULL || pthread_mutex_init(&order.mu, NULL) != 0) {
    fputs("fanout-demo get: out of memory\n", stderr);
    free(order.done);
    pthread_mutex_destroy(&p.mu);
    free(paths), free(items), free(p.bytes);
    return DEMO_PARTIAL;
  }
  get_build b = {.o = o,
                 .method = o->method ? o->method : o->data_file ? "POST" : NULL,
                 .paths = paths,
                 .items = isatty(STDERR_FILENO) ? items : NULL,
                 .held = &held,
                 .to_memory = !o->output && !o->output_dir && !o->discard &&
                              (n > 1 || o->sha256 != NULL),
                 .order = &order};
  /* Every request is made and checked before any is sent: a refusal is the command line's. */
  for (size_t i = 0; i < n && status == DEMO_OK; i++) {
    if (o->output_dir)
      paths[i] = name_in(o->output_dir, o->urls.v[i]);
    if (b.items != NULL)
      items[i] = (progress_item){&p, i};
    fo_fetch_req r;
    fill(i, &r, &b);
    if (o->sha256 != NULL && o->max_bytes == 0 && r.output == held.file && held.dir[0] == '\0') {
      int hrc = get_held_open(&held);
      if (hrc != 0) {
        fprintf(stderr, "fanout-demo get: no temporary directory: %s\n", strerror(-hrc));
        status = DEMO_PARTIAL;
      }
    }
    /* a URL without a file name fails alone, below; every other refusal is the command line's */
    if (fo_fetch_req_check(&r, &why) != 0 && strcmp(why.field, "url") != 0)
      status = request_refused(o, &why);
  }
  fo_fetcher *f = NULL;
  int rc = status == DEMO_OK ? fo_fetcher_create(&f, &fo) : 0;
  if (status == DEMO_OK && rc != 0) {
    fprintf(stderr, "fanout-demo get: no fetcher: %s\n", fo_strerror(rc));
    status = DEMO_PARTIAL;
  }
  if (status == DEMO_OK) {
    /* bodies in URL order to stdout, or one held to check: one window; else eight rounds of the
     * transfers in flight at once, at least 64 URLs (get_run.c says why) */
    size_t per = o->parallel > o->threads ? o->parallel : o->threads;
    size_t window = b.to_memory || held.dir[0] != '\0' ? n : per > 8 ? 8 * per : 64;
    get_run run = {.f = f,
                   .urls = (const char *const *)o->urls.v,
                   .n = n,
                   .window = window,
                   .bar = b.items != NULL,
                   .fill = fill,
                   .missing = o->output_dir ? missing : NULL,
                   .window_start = b.to_memory ? window_start : NULL,
                   .window_end = held.dir[0] != '\0' ? window_end : NULL,
                   .done = b.to_memory ? get_print_in_order : NULL,
                   .done_arg = &order,
                   .arg = &b};
    double t0 = demo_now();
    if (o->deadline_s > 0)
      run.deadline = t0 + o->deadline_s;
    struct sigaction old[2];
    demo_cancel_begin(f, old);
    int lrc = get_run_list(&run);
    cancel_signal = demo_cancel_end(old);
    if (b.items != NULL)
      fputs("\r\033[K", stderr);
    if (lrc != 0)
      fputs("fanout-demo get: out of memory\n", stderr);
    size_t failed = run.failed;
    if (fflush(stdout) != 0 || order.werr != 0) {
      fprintf(stderr, "fanout-demo get: writing stdout: %s\n",
              strerror(order.werr ? order.werr : errno));
      failed += failed == 0;
    }
    fprintf(stderr, "get: %zu ok, %zu failed, %llu bytes, %.3f s\n",
            lrc != 0 ? 0 : n - failed, lrc != 0 ? n : failed, run.bytes, demo_now() - t0);
    status = lrc != 0 || run.negative || failed > 0 ? DEMO_PARTIAL : DEMO_OK;
    if (cancel_signal != 0) {
      fprintf(stderr, "get: cancelled by %s\n", cancel_signal == SIGINT ? "SIGINT" : "SIGTERM");
      status = 128 + cancel_signal; /* what a shell reports for a program the signal ended */
    }
  }
  fo_fetcher_destroy(f);
  get_held_close(&held);
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  pthread_mutex_destroy(&order.mu);
  free(order.done);
  pthread_mutex_destroy(&p.mu);
  free(paths), free(items), free(p.bytes);
  return status;
}

int demo_get(int argc, char **argv) {
  get_opts o = {.stall_time_s = -1, .deadline_s = -1};
  int status = parse(argc, argv, &o);
  if (status == DEMO_HELP)
    status = DEMO_OK;
  else if (status == DEMO_OK) {
    if (fo_fetch_global_init() != 0) {
      fputs("fanout-demo get: libcurl could not start\n", stderr);
      status = DEMO_PARTIAL;
    } else {
      status = o.key_password_file ? read_password(&o) : DEMO_OK;
      if (status == DEMO_OK)
        status = run(&o);
      fo_fetch_global_cleanup();
    }
  }
  get_urls_free(&o.urls);
  /* the password goes no further than the fetcher, which wipes its copy */
  volatile char *pw = o.key_password;
  for (size_t i = 0; i < sizeof o.key_password; i++)
    pw[i] = 0;
  return status;
}
