/* fanout-demo starlink: the list, then one document per satellite on the fetcher's threads.
 * Each document is parsed in the fetcher's done callback, on the worker that fetched it, into
 * the row at its own index: the lesson's dictionary needed a lock, these rows do not. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "starlink.h"

/* The documents' Content-Type; a CDN's HTML page in front of the API is not data. */
#define STARLINK_ACCEPT "application/json"
/* Width of the progress bar, in characters. */
#define PROGRESS_WIDTH 40

void starlink_fetch_opts(const starlink_opts *o, unsigned threads, fo_fetch_opts *out) {
  fo_fetch_opts fo = {0};
  fo.threads = threads;
  fo.timeout_ms = (long)(o->timeout_s * 1000.0 + 0.5);
  if (fo.timeout_ms < 1)
    fo.timeout_ms = 1;
  fo.connect_timeout_ms = fo.timeout_ms;
  fo.retries = (unsigned)o->retries;
  fo.rate = o->rate;
  fo.ca_file = o->cacert;
  fo.accept_type = STARLINK_ACCEPT;
  *out = fo;
}

int starlink_fetcher(const starlink_opts *o, unsigned threads, fo_fetcher **f) {
  fo_fetch_opts fo;
  starlink_fetch_opts(o, threads, &fo);
  return fo_fetcher_create(f, &fo);
}

/* "{api}/starlink" plus "/{id}" when id is set, with the base's trailing slashes dropped. */
static char *starlink_url(const char *api, const char *id) {
  size_t n = strlen(api);
  while (n > 0 && api[n - 1] == '/')
    n--;
  size_t size = n + sizeof "/starlink/" + FO_SAT_ID_LEN;
  char *url = malloc(size);
  if (url)
    snprintf(url, size, "%.*s/starlink%s%s", (int)n, api, id ? "/" : "", id ? id : "");
  return url;
}

/* Why a fetch failed, in words: the fetcher's own sentence (which counts the attempts). */
static void fetch_reason(const fo_fetch_result *r, char *buf, size_t size) {
  snprintf(buf, size, "%s", r->message[0] ? r->message : fo_strerror(r->err));
}

static void row_from_record(starlink_row *row, const fo_sat_record *rec) {
  memcpy(row->id, rec->id, sizeof row->id);
  row->has = rec->has & (FO_SAT_HAS_OBJECT_NAME | FO_SAT_HAS_LAUNCH_DATE | FO_SAT_HAS_DECAY_DATE);
  memcpy(row->object_name, rec->object_name, sizeof row->object_name);
  memcpy(row->launch_date, rec->launch_date, sizeof row->launch_date);
  memcpy(row->decay_date, rec->decay_date, sizeof row->decay_date);
}

typedef struct {
  starlink_row *rows;
  size_t n;
} list_rows;

static int list_row(const fo_sat_record *rec, size_t index, void *arg) {
  list_rows *l = arg;
  if (index < l->n)
    row_from_record(&l->rows[index], rec);
  return 0;
}

int starlink_list(fo_fetcher *f, const starlink_opts *o, starlink_row **rows, size_t *n) {
  *rows = NULL;
  *n = 0;
  char *url = starlink_url(o->api, NULL);
  if (!url) {
    fprintf(stderr, "fanout-demo starlink: %s\n", fo_strerror(-ENOMEM));
    return -1;
  }
  fo_fetch_result r;
  char reason[256];
  int rc = fo_fetch_one(f, url, NULL, &r);
  if (rc != 0) {
    fetch_reason(&r, reason, sizeof reason);
    fputs("fanout-demo starlink: the list ", stderr);
    demo_put_url(stderr, url);
    fputs(" could not be fetched: ", stderr);
    demo_put_text(stderr, reason);
    fputc('\n', stderr);
    goto out;
  }
  /* Counting first checks the whole list and sizes the rows to what is kept. */
  size_t total = 0;
  rc = fo_sat_list_ids(r.body, r.body_len, NULL, NULL, 0, &total, NULL);
  if (rc == 0) {
    size_t keep = total < o->count ? total : o->count;
    *rows = calloc(keep ? keep : 1, sizeof **rows);
    if (!*rows) {
      rc = -ENOMEM;
    } else if (o->from_list) {
      list_rows l = {*rows, keep};
      rc = fo_sat_list_parse(r.body, r.body_len, NULL, list_row, &l, NULL);
    } else {
      /* The ids go straight into the rows: each row's id field is the array the call wants. */
      char(*ids)[FO_SAT_ID_LEN + 1] = calloc(keep ? keep : 1, sizeof *ids);
      rc = ids ? fo_sat_list_ids(r.body, r.body_len, NULL, ids, keep, NULL, NULL) : -ENOMEM;
      if (rc == FO_ETOOBIG)
        rc = 0; /* the list is longer than --count: the first ids are filled */
      for (size_t i = 0; rc == 0 && i < keep; i++)
        memcpy((*rows)[i].id, ids[i], sizeof ids[i]);
      free(ids);
    }
    *n = keep;
  }
  if (rc != 0) {
    fputs("fanout-demo starlink: the list ", stderr);
    demo_put_url(stderr, url);
    fprintf(stderr, " could not be parsed: %s\n", fo_strerror(rc));
    free(*rows);
    *rows = NULL;
    *n = 0;
  }
out:
  fo_fetch_result_free(&r);
  free(url);
  return rc == 0 ? 0 : -1;
}

typedef struct {
  starlink_row *rows;
  size_t n;
  int progress;
  pthread_mutex_t mu; /* guards done and drawn, and stderr's bar */
  size_t done;
  int drawn; /* characters of the bar filled so far */
} fetch_ctx;

static void draw_progress(fetch_ctx *c) {
  int fill = c->n ? (int)(c->done * PROGRESS_WIDTH / c->n) : PROGRESS_WIDTH;
  if (fill == c->drawn && c->done != c->n)
    return;
  c->drawn = fill;
  fprintf(stderr, "\r[%.*s%*s] %zu/%zu", fill, "########################################",
          PROGRESS_WIDTH - fill, "", c->done, c->n);
  fflush(stderr);
}

/* On a worker, as each document arrives: parse it into its own row. */
static void item_done(size_t index, const fo_fetch_result *r, void *arg) {
  fetch_ctx *c = arg;
  starlink_row *row = &c->rows[index];
  fo_sat_record rec;
  int rc;
  if (row->failed) {
    /* refused before it was asked for */
  } else if (r->err != 0) {
    row->failed = 1;
    fetch_reason(r, row->reason, sizeof row->reason);
  } else if ((rc = fo_sat_parse(r->body, r->body_len, NULL, &rec, NULL)) != 0) {
    row->failed = 1;
    snprintf(row->reason, sizeof row->reason, "bad document: %s", fo_strerror(rc));
  } else if (strcmp(rec.id, row->id) != 0) {
    row->failed = 1;
    snprintf(row->reason, sizeof row->reason, "the answer is for another id, %s", rec.id);
  } else {
    row_from_record(row, &rec);
  }
  if (c->progress) {
    pthread_mutex_lock(&c->mu);
    c->done++;
    draw_progress(c);
    pthread_mutex_unlock(&c->mu);
  }
}

int starlink_fetch(fo_fetcher *f, const starlink_opts *o, starlink_row *rows, size_t n,
                   int progress) {
  char **urls = calloc(n ? n : 1, sizeof *urls);
  fo_fetch_result *results = calloc(n ? n : 1, sizeof *results);
  int rc = urls && results ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rows[i].failed = 0;
    rows[i].reason[0] = '\0';
    /* The id came from the network: it goes into a URL only once it is known to be one. */
    if (fo_sat_check_id(rows[i].id, strlen(rows[i].id)) != 0) {
      rows[i].failed = 1; /* its URL stays NULL, which the fetcher skips */
      snprintf(rows[i].reason, sizeof rows[i].reason, "not a document id");
      continue;
    }
    urls[i] = starlink_url(o->api, rows[i].id);
    if (!urls[i])
      rc = -ENOMEM;
  }
  fetch_ctx c = {.rows = rows, .n = n, .progress = progress};
  if (rc == 0 && progress)
    rc = -pthread_mutex_init(&c.mu, NULL);
  if (rc == 0) {
    int got = fo_fetch_many(f, (const char *const *)urls, NULL, n, results, item_done, &c);
    if (got >= 0) {
      rc = 0;
      for (size_t i = 0; i < n; i++)
        rc += rows[i].failed; /* also counts documents that came but did not parse */
    } else {
      rc = got;
    }
    if (got != -EINVAL)
      fo_fetch_results_free(results, n);
    if (progress) {
      fprintf(stderr, "\r%*s\r", PROGRESS_WIDTH + 24, "");
      pthread_mutex_destroy(&c.mu);
    }
  }
  for (size_t i = 0; urls && i < n; i++)
    free(urls[i]);
  free(urls);
  free(results);
  return rc;
}
