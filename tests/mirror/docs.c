/* A deterministic generator of Starlink documents in the API's format (see docs.h). The values
 * are plausible orbital elements, not real ones: what matters to the fetcher and the parser is
 * the shape, the key order, the number style and where nulls appear. */
#include "config.h"

#include "docs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char id[25];
  char etag[40];
  size_t off, len; /* in the list body, after its '[' */
} doc;

struct mirror_docs {
  size_t n;
  doc *docs;
  char *list; /* "[doc,doc,...]" : every document is a slice of it */
  size_t list_len;
  char list_etag[40];
  long *table; /* open addressing by id hash: document index or -1 */
  size_t table_size;
};

/* splitmix64: a bijection on 64-bit values, so ids made from distinct indices are distinct. */
static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

typedef struct {
  uint64_t s;
} rng;

static uint64_t next(rng *r) {
  r->s += 0x9e3779b97f4a7c15ull;
  return mix(r->s);
}

static double unit(rng *r) {
  return (double)(next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double uniform(rng *r, double lo, double hi) {
  return lo + (hi - lo) * unit(r);
}

/* Round to `digits` decimals, as the API's numbers carry no more. */
static double round_to(double v, int digits) {
  double p = pow(10.0, digits);
  return round(v * p) / p;
}

static uint64_t fnv1a(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return h;
}

/* A growing output buffer. */
typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} out;

static void put(out *o, const char *s, size_t n) {
  if (o->oom)
    return;
  if (o->len + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 65536;
    while (cap < o->len + n + 1)
      cap *= 2;
    char *p = realloc(o->p, cap);
    if (p == NULL) {
      o->oom = 1;
      return;
    }
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
  o->p[o->len] = '\0';
}

static void puts_(out *o, const char *s) {
  put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(out *o, const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0)
    put(o, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A number as JavaScript's Number.prototype.toString writes it: the shortest digits that read
 * back to the same double, fixed notation from 1e-6 up to 1e21, exponent form outside. */
static void put_num(out *o, double v) {
  if (v == 0) {
    puts_(o, "0");
    return;
  }
  char e[40];
  for (int p = 1; p <= 17; p++) {
    snprintf(e, sizeof e, "%.*e", p - 1, v);
    if (strtod(e, NULL) == v)
      break;
  }
  char digits[24];
  size_t k = 0;
  const char *c = e;
  int neg = *c == '-';
  if (neg)
    c++;
  for (; *c && *c != 'e'; c++)
    if (*c >= '0' && *c <= '9')
      digits[k++] = *c;
  while (k > 1 && digits[k - 1] == '0')
    k--;
  digits[k] = '\0';
  int n = atoi(c + 1) + 1; /* the decimal point sits after n digits */
  char buf[64];
  size_t b = 0;
  if (neg)
    buf[b++] = '-';
  if ((int)k <= n && n <= 21) {
    memcpy(buf + b, digits, k), b += k;
    for (int i = (int)k; i < n; i++)
      buf[b++] = '0';
  } else if (0 < n && n <= 21) {
    memcpy(buf + b, digits, (size_t)n), b += (size_t)n;
    buf[b++] = '.';
    memcpy(buf + b, digits + n, k - (size_t)n), b += k - (size_t)n;
  } else if (-6 < n && n <= 0) {
    buf[b++] = '0', buf[b++] = '.';
    for (int i = 0; i < -n; i++)
      buf[b++] = '0';
    memcpy(buf + b, digits, k), b += k;
  } else {
    buf[b++] = digits[0];
    if (k > 1) {
      buf[b++] = '.';
      memcpy(buf + b, digits + 1, k - 1), b += k - 1;
    }
    b += (size_t)snprintf(buf + b, sizeof buf - b, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
  }
  put(o, buf, b);
}

static void key(out *o, const char *k) {
  putf(o, "\"%s\":", k);
}

static void kstr(out *o, const char *k, const char *v) {
  key(o, k);
  if (v == NULL)
    puts_(o, "null,");
  else
    putf(o, "\"%s\",", v);
}

static void knum(out *o, const char *k, double v) {
  key(o, k);
  put_num(o, v);
  puts_(o, ",");
}

static void knull(out *o, const char *k) {
  key(o, k);
  puts_(o, "null,");
}

/* Writes one document; the id goes to id[25]. */
static void gen_doc(out *o, size_t i, uint64_t seed, char id[25]) {
  rng r = {mix(seed ^ mix(i + 1))};
  uint64_t idv = mix(i ^ mix(seed));
  snprintf(id, 25, "%08x%016llx", (unsigned)(mix(seed) >> 32), (unsigned long long)idv);
  int norad = 44235 + (int)i;
  int decayed = next(&r) % 10 == 0;
  int launched = next(&r) % 20 != 0;
  int year = 2019 + (int)(i % 5), yday = 1 + (int)(next(&r) % 360);
  int mon = 1 + (yday - 1) / 31 % 12, day = 1 + (yday - 1) % 28;
  char name[32], objid[16], created[32], epoch[40], launch_date[16], tle0[40], tle1[80], tle2[80],
      decay[16];
  snprintf(name, sizeof name, "STARLINK-%zu", 1000 + i);
  snprintf(objid, sizeof objid, "%d-%03dA", year, (int)(1 + i % 180));
  /* the two date styles the API mixes */
  if (next(&r) % 2)
    snprintf(created, sizeof created, "%d-%02d-%02d %02d:%02d:%02d", year + 1, mon, day,
             (int)(next(&r) % 24), (int)(next(&r) % 60), (int)(next(&r) % 60));
  else
    snprintf(created, sizeof created, "%d-%02d-%02dT%02d:%02d:%02d", year + 1, mon, day,
             (int)(next(&r) % 24), (int)(next(&r) % 60), (int)(next(&r) % 60));
  snprintf(epoch, sizeof epoch, "%d-%02d-%02dT%02d:%02d:%02d.%06d", year + 1, mon, day,
           (int)(next(&r) % 24), (int)(next(&r) % 60), (int)(next(&r) % 60),
           (int)(next(&r) % 1000000));
  snprintf(launch_date, sizeof launch_date, "%d-%02d-%02d", year, mon, day);
  snprintf(decay, sizeof decay, "%d-%02d-%02d", year + 2, mon, day);
  double mm = round_to(uniform(&r, 15.0, 15.9), 8);
  double ecc = round_to(uniform(&r, 0.00001, 0.0009), 7);
  double inc = round_to(uniform(&r, 52.9, 53.2), 4);
  double raan = round_to(uniform(&r, 0, 360), 4), argp = round_to(uniform(&r, 0, 360), 4);
  double ma = round_to(uniform(&r, 0, 360), 4);
  double bstar = next(&r) % 4 == 0 ? round_to(uniform(&r, 1, 9), 2) * 1e-7
                                   : round_to(uniform(&r, 0.00001, 0.0009), 9);
  double mmdot = round_to(uniform(&r, -0.00002, 0.00009), 8);
  double sma = round_to(uniform(&r, 6900, 6930), 3), period = round_to(1440.0 / mm, 3);
  double apo = round_to(sma - 6378.135 + uniform(&r, 0, 3), 3);
  double peri = round_to(sma - 6378.135 - uniform(&r, 0, 3), 3);
  snprintf(tle0, sizeof tle0, "0 %s", name);
  snprintf(tle1, sizeof tle1, "1 %05dU %02d%03dA   %02d%012.8f  .%08d  00000-0  %05d-4 0  999%d",
           norad, year % 100, (int)(1 + i % 180), (year + 1) % 100, yday + unit(&r),
           (int)(next(&r) % 100000), (int)(next(&r) % 100000), (int)(i % 10));
  snprintf(tle2, sizeof tle2, "2 %05d %8.4f %8.4f %07d %8.4f %8.4f %11.8f%5d%d", norad, inc, raan,
           (int)(ecc * 1e7), argp, ma, mm, (int)(next(&r) % 99999), (int)(i % 10));

  puts_(o, "{\"spaceTrack\":{");
  kstr(o, "CCSDS_OMM_VERS", "2.0");
  kstr(o, "COMMENT", "GENERATED VIA SPACE-TRACK.ORG API");
  kstr(o, "CREATION_DATE", created);
  kstr(o, "ORIGINATOR", "18 SPCS");
  kstr(o, "OBJECT_NAME", name);
  kstr(o, "OBJECT_ID", objid);
  kstr(o, "CENTER_NAME", "EARTH");
  kstr(o, "REF_FRAME", "TEME");
  kstr(o, "TIME_SYSTEM", "UTC");
  kstr(o, "MEAN_ELEMENT_THEORY", "SGP4");
  kstr(o, "EPOCH", epoch);
  knum(o, "MEAN_MOTION", mm);
  knum(o, "ECCENTRICITY", ecc);
  knum(o, "INCLINATION", inc);
  knum(o, "RA_OF_ASC_NODE", raan);
  knum(o, "ARG_OF_PERICENTER", argp);
  knum(o, "MEAN_ANOMALY", ma);
  knum(o, "EPHEMERIS_TYPE", 0);
  kstr(o, "CLASSIFICATION_TYPE", "U");
  knum(o, "NORAD_CAT_ID", norad);
  knum(o, "ELEMENT_SET_NO", 999);
  knum(o, "REV_AT_EPOCH", (double)(next(&r) % 20000));
  knum(o, "BSTAR", bstar);
  knum(o, "MEAN_MOTION_DOT", mmdot);
  knum(o, "MEAN_MOTION_DDOT", 0);
  knum(o, "SEMIMAJOR_AXIS", sma);
  knum(o, "PERIOD", period);
  knum(o, "APOAPSIS", apo);
  knum(o, "PERIAPSIS", peri);
  kstr(o, "OBJECT_TYPE", "PAYLOAD");
  kstr(o, "RCS_SIZE", next(&r) % 3 ? "LARGE" : NULL);
  kstr(o, "COUNTRY_CODE", "US");
  kstr(o, "LAUNCH_DATE", launch_date);
  kstr(o, "SITE", "AFETR");
  kstr(o, "DECAY_DATE", decayed ? decay : NULL);
  knum(o, "DECAYED", decayed);
  knum(o, "FILE", (double)(2700000 + next(&r) % 900000));
  knum(o, "GP_ID", (double)(150000000 + next(&r) % 90000000));
  kstr(o, "TLE_LINE0", tle0);
  kstr(o, "TLE_LINE1", tle1);
  key(o, "TLE_LINE2");
  putf(o, "\"%s\"},", tle2);
  if (launched) {
    kstr(o, "version", next(&r) % 2 ? "v1.0" : "v0.9");
    char lid[25];
    snprintf(lid, sizeof lid, "5eb87d%018llx", (unsigned long long)(mix(i / 60) >> 8));
    kstr(o, "launch", lid);
  } else {
    knull(o, "version");
    knull(o, "launch");
  }
  if (decayed) {
    knull(o, "longitude");
    knull(o, "latitude");
    knull(o, "height_km");
    knull(o, "velocity_kms");
  } else {
    knum(o, "longitude", round_to(uniform(&r, -180, 180), 13));
    knum(o, "latitude", round_to(uniform(&r, -53, 53), 13));
    knum(o, "height_km", round_to(uniform(&r, 540, 560), 12));
    knum(o, "velocity_kms", round_to(uniform(&r, 7.58, 7.61), 14));
  }
  putf(o, "\"id\":\"%s\"}", id);
}

static void make_etag(char etag[40], const char *s, size_t n) {
  snprintf(etag, 40, "W/\"%zx-%016llx\"", n, (unsigned long long)fnv1a(s, n));
}

mirror_docs *mirror_docs_new(size_t n, uint64_t seed) {
  mirror_docs *d = calloc(1, sizeof *d);
  if (d == NULL)
    return NULL;
  d->n = n;
  d->docs = calloc(n ? n : 1, sizeof *d->docs);
  d->table_size = 16;
  while (d->table_size < 2 * n)
    d->table_size *= 2;
  d->table = malloc(d->table_size * sizeof *d->table);
  if (d->docs == NULL || d->table == NULL) {
    mirror_docs_free(d);
    return NULL;
  }
  for (size_t t = 0; t < d->table_size; t++)
    d->table[t] = -1;
  out o = {0};
  puts_(&o, "[");
  for (size_t i = 0; i < n; i++) {
    if (i)
      puts_(&o, ",");
    d->docs[i].off = o.len;
    gen_doc(&o, i, seed, d->docs[i].id);
    d->docs[i].len = o.len - d->docs[i].off;
    size_t t = fnv1a(d->docs[i].id, 24) & (d->table_size - 1);
    while (d->table[t] >= 0)
      t = (t + 1) & (d->table_size - 1);
    d->table[t] = (long)i;
  }
  puts_(&o, "]");
  if (o.oom) {
    free(o.p);
    mirror_docs_free(d);
    return NULL;
  }
  d->list = o.p;
  d->list_len = o.len;
  for (size_t i = 0; i < n; i++)
    make_etag(d->docs[i].etag, d->list + d->docs[i].off, d->docs[i].len);
  make_etag(d->list_etag, d->list, d->list_len);
  return d;
}

void mirror_docs_free(mirror_docs *d) {
  if (d == NULL)
    return;
  free(d->docs);
  free(d->list);
  free(d->table);
  free(d);
}

size_t mirror_docs_count(const mirror_docs *d) {
  return d->n;
}

const char *mirror_docs_id(const mirror_docs *d, size_t i) {
  return d->docs[i].id;
}

const char *mirror_docs_json(const mirror_docs *d, size_t i, size_t *len) {
  *len = d->docs[i].len;
  return d->list + d->docs[i].off;
}

const char *mirror_docs_etag(const mirror_docs *d, size_t i) {
  return d->docs[i].etag;
}

long mirror_docs_find(const mirror_docs *d, const char *id, size_t len) {
  if (len != 24)
    return -1;
  size_t t = fnv1a(id, 24) & (d->table_size - 1);
  while (d->table[t] >= 0) {
    if (memcmp(d->docs[d->table[t]].id, id, 24) == 0)
      return d->table[t];
    t = (t + 1) & (d->table_size - 1);
  }
  return -1;
}

const char *mirror_docs_list(const mirror_docs *d, size_t *len) {
  *len = d->list_len;
  return d->list;
}

const char *mirror_docs_list_etag(const mirror_docs *d) {
  return d->list_etag;
}
