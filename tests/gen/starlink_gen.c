#include "config.h"

#include "starlink_gen.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* snprintf for fields whose values are bounded by construction (dates, TLE columns); the
 * compiler cannot see those bounds and would warn about every call. */
static void fmt(char *out, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t size, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  vsnprintf(out, size, f, ap);
  va_end(ap);
}

/* ---------------------------------------------------------------- numbers as JavaScript */

size_t gen_js_number(char *out, double x) {
  if (x == 0)
    return (size_t)snprintf(out, 32, "0"); /* JavaScript prints -0 as 0 too */
  /* The shortest digits that read back as x; %.*e rounds correctly, so among texts of that
   * length it is the closest to x, which is the one ECMAScript's Number::toString picks.
   * Starting at 15 digits loses nothing: distinct decimals of up to 15 digits are distinct
   * doubles, so if 15 digits read back, the shortest form is those digits without trailing
   * zeros (stripped below). Subnormals hold fewer digits: they search from one. */
  char e[40];
  for (int p = fabs(x) < DBL_MIN ? 1 : 15; p <= 17; p++) {
    snprintf(e, sizeof e, "%.*e", p - 1, x);
    if (strtod(e, NULL) == x)
      break;
  }
  char digits[24];
  size_t k = 0;
  const char *s = e;
  int neg = *s == '-';
  if (neg)
    s++;
  for (; *s != 'e'; s++)
    if (*s != '.')
      digits[k++] = *s;
  while (k > 1 && digits[k - 1] == '0')
    k--;
  digits[k] = '\0';
  int n = atoi(s + 1) + 1; /* x = 0.d1d2...dk * 10^n */
  size_t len = 0;
  if (neg)
    out[len++] = '-';
  if ((int)k <= n && n <= 21) {
    memcpy(out + len, digits, k);
    len += k;
    for (int i = (int)k; i < n; i++)
      out[len++] = '0';
  } else if (0 < n && n <= 21) {
    memcpy(out + len, digits, (size_t)n);
    len += (size_t)n;
    out[len++] = '.';
    memcpy(out + len, digits + n, k - (size_t)n);
    len += k - (size_t)n;
  } else if (-6 < n && n <= 0) {
    out[len++] = '0';
    out[len++] = '.';
    for (int i = 0; i < -n; i++)
      out[len++] = '0';
    memcpy(out + len, digits, k);
    len += k;
  } else {
    out[len++] = digits[0];
    if (k > 1) {
      out[len++] = '.';
      memcpy(out + len, digits + 1, k - 1);
      len += k - 1;
    }
    len += (size_t)snprintf(out + len, 16, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
  }
  out[len] = '\0';
  return len;
}

/* ---------------------------------------------------------------- deterministic values */

static uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A value in [0, n) for field salt of document i. */
static uint64_t pick(unsigned long i, unsigned salt, uint64_t n) {
  return mix(((uint64_t)i << 8) ^ salt) % n;
}

/* Days since 1970-01-01 to a civil date, and back (Howard Hinnant's algorithms). */
static long days_from_civil(long y, long m, long d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

static void format_day(char *out, size_t size, long day) {
  long y, m, d;
  civil_from_days(day, &y, &m, &d);
  fmt(out, size, "%04ld-%02ld-%02ld", y, m, d);
}

/* Everything about document i; the writer and gen_starlink_truth() both read it. */
typedef struct {
  gen_sat t;
  int tintin, no_launch, rcs_null, space_style, west;
  long launch_day, epoch_day, creation_day;
  long epoch_frac;      /* the epoch's fraction of its day, in 1e-8 days (TLE resolution) */
  long creation_second; /* of its day */
  long mean_motion;     /* 1e-8 rev/day */
  long eccentricity;    /* 1e-7 */
  long incl, raan, argp, anomaly; /* 1e-4 degrees */
  long rev;
  long bstar_m, bstar_x, ddot_m, ddot_x; /* TLE's m * 10^-(5 + x) */
  int bstar_neg;
  long mmdot;                                  /* 1e-8 rev/day^2 */
  long semimajor, period, apoapsis, periapsis; /* 1e-3 */
  long file, gp_id;
  char launch_id[25];
  const char *version;
} gen_doc;

static const char piece_letters[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"; /* no I, no O */

static void build(unsigned long i, gen_doc *g) {
  memset(g, 0, sizeof *g);
  unsigned long group = i / 60, piece = i % 60;
  g->tintin = i % 997 == 9;
  g->no_launch = i % 211 == 100;
  g->rcs_null = i % 13 == 6;
  g->space_style = pick(i, 1, 9) == 4;
  g->west = pick(i, 2, 5) == 0;

  gen_sat *t = &g->t;
  fmt(t->id, sizeof t->id, "%08lx096e590006%06lx", 0x5eed770fUL + i / 23,
      (0x98560dUL + i) & 0xffffffUL);
  if (g->tintin)
    fmt(t->object_name, sizeof t->object_name, "TINTIN %c", (int)('A' + (i / 997) % 2));
  else
    fmt(t->object_name, sizeof t->object_name, "STARLINK-%lu",
        group == 0 ? 21 + piece : 1000 + i - 60);
  t->norad_cat_id = 44235 + (long)i;

  g->launch_day = g->tintin    ? days_from_civil(2018, 2, 22)
                  : group == 0 ? days_from_civil(2019, 5, 24)
                               : days_from_civil(2019, 11, 11) + (long)(group - 1) * 12;
  format_day(t->launch_date, sizeof t->launch_date, g->launch_day);
  long ly, lm, ld;
  civil_from_days(g->launch_day, &ly, &lm, &ld);
  char letters[3] = {0};
  if (piece < 24) {
    letters[0] = piece_letters[piece];
  } else {
    letters[0] = piece_letters[(piece - 24) / 24];
    letters[1] = piece_letters[(piece - 24) % 24];
  }
  fmt(t->object_id, sizeof t->object_id, "%04ld-%03lu%s", ly,
      group == 0 ? 29UL : 1 + (group * 7) % 120, letters);

  long snapshot = days_from_civil(2021, 5, 19);
  t->decayed = group == 0 ? pick(i, 3, 55) < 45 : pick(i, 3, 100) < 12;
  if (t->decayed) {
    long decay = g->launch_day + 90 + (long)pick(i, 4, 600);
    if (decay > snapshot)
      decay = snapshot - (long)pick(i, 5, 30);
    format_day(t->decay_date, sizeof t->decay_date, decay);
    g->epoch_day = decay - (long)pick(i, 6, 2);
  } else {
    g->epoch_day = snapshot - (long)pick(i, 6, 3);
    /* Exact binary fractions: the same double everywhere, printed with 15 to 17 digits like
     * the API's positions. */
    t->longitude = ldexp((double)(int64_t)pick(i, 7, 360ull << 44), -44) - 180.0;
    t->latitude = ldexp((double)(int64_t)pick(i, 8, 106ull << 46), -46) - 53.0;
    t->height_km = ldexp((double)(int64_t)pick(i, 9, 300ull << 43), -43) + 300.0;
    t->velocity_kms = ldexp((double)(int64_t)pick(i, 10, 1ull << 49), -50) + 7.4;
  }
  g->epoch_frac = (long)pick(i, 11, 100000000);
  /* 1e-8 day = 864 microseconds: the TLE epoch, exactly. 64-bit: a day holds 8.64e10 of them,
   * beyond a 32-bit long. */
  long long us = (long long)g->epoch_frac * 864;
  long ey, em, ed;
  civil_from_days(g->epoch_day, &ey, &em, &ed);
  fmt(t->epoch, sizeof t->epoch, "%04ld-%02ld-%02ldT%02lld:%02lld:%02lld.%06lld", ey, em, ed,
      us / 3600000000LL, us / 60000000LL % 60, us / 1000000LL % 60, us % 1000000LL);
  g->creation_day = g->epoch_day + (long)pick(i, 12, 2);
  g->creation_second = (long)pick(i, 13, 86400);

  g->mean_motion = t->decayed ? 1620000000 + (long)pick(i, 14, 40000000)
                              : 1505000000 + (long)pick(i, 14, 60000000);
  g->eccentricity = 1 + (long)pick(i, 15, 9999);
  g->incl = 529700 + (long)pick(i, 16, 900);
  g->raan = (long)pick(i, 17, 3600000);
  g->argp = (long)pick(i, 18, 3600000);
  g->anomaly = (long)pick(i, 19, 3600000);
  g->rev = 1000 + (long)pick(i, 20, 11000);
  g->bstar_m = 10000 + (long)pick(i, 21, 90000);
  g->bstar_x = 1 + (long)pick(i, 22, 4);
  g->bstar_neg = pick(i, 23, 7) == 0;
  /* Below 1e-6 JavaScript switches to exponent form: some documents carry such values. */
  if (pick(i, 24, 17) == 3)
    g->bstar_x = 7;
  g->mmdot = t->decayed ? 10000000 + (long)pick(i, 25, 40000000) : (long)pick(i, 25, 100000);
  if (!t->decayed && pick(i, 26, 3) == 0)
    g->mmdot = -g->mmdot;
  if (pick(i, 27, 23) == 5)
    g->mmdot = 1 + (long)pick(i, 28, 99); /* 1e-8 .. 9.9e-7 */
  if (t->decayed || pick(i, 29, 4) == 0) {
    g->ddot_m = 10000 + (long)pick(i, 30, 90000);
    g->ddot_x = 4 + (long)pick(i, 31, 3);
  }
  g->semimajor = 6500000 + (long)pick(i, 32, 450000);
  g->period = 87000 + (long)pick(i, 33, 9000);
  g->periapsis = 130000 + (long)pick(i, 34, 430000);
  g->apoapsis = g->periapsis + (long)pick(i, 35, 12000);
  g->file = 2800000 + (long)pick(i, 36, 250000);
  g->gp_id = 160000000 + (long)pick(i, 37, 18000000);

  if (g->tintin)
    g->version = "prototype";
  else
    g->version = group == 0 ? "v0.9" : "v1.0";
  if (g->no_launch)
    g->version = NULL;
  else if (g->tintin)
    fmt(g->launch_id, sizeof g->launch_id, "5eb87d14ffd86e000604b361");
  else
    fmt(g->launch_id, sizeof g->launch_id, "5eb87d%02lxffd86e000604b%03lx", 0x30 + group % 0xc0,
        0x378 + group % 0xc00);
}

void gen_starlink_truth(unsigned long i, gen_sat *out) {
  gen_doc g;
  build(i, &g);
  *out = g.t;
}

/* ---------------------------------------------------------------- writing */

typedef struct {
  char *p;
  size_t len;
} out_buf;

static void put(out_buf *o, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void put(out_buf *o, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  int n = vsnprintf(o->p + o->len, GEN_DOC_MAX - o->len, f, ap);
  va_end(ap);
  o->len += (size_t)n;
}

static void put_num(out_buf *o, const char *key, double x) {
  char n[32];
  gen_js_number(n, x);
  put(o, "\"%s\":%s,", key, n);
}

static void put_str(out_buf *o, const char *key, const char *s) {
  if (s == NULL)
    put(o, "\"%s\":null,", key);
  else
    put(o, "\"%s\":\"%s\",", key, s);
}

static double scaled(long k, int decimals) {
  static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
  return (double)k / p10[decimals]; /* one correctly rounded division: the same everywhere */
}

/* The TLE's "mmmmm-x" exponent field with its sign column. */
static void tle_exp(char *out, long m, long x, int neg) {
  if (m == 0)
    fmt(out, 9, " 00000-0");
  else
    fmt(out, 9, "%c%05ld-%ld", neg ? '-' : ' ', m, x);
}

static int tle_checksum(const char *line) {
  int sum = 0;
  for (int k = 0; k < 68 && line[k] != '\0'; k++) {
    if (line[k] >= '0' && line[k] <= '9')
      sum += line[k] - '0';
    else if (line[k] == '-')
      sum++;
  }
  return sum % 10;
}

static void tle_lines(const gen_doc *g, char *l1, char *l2) {
  const gen_sat *t = &g->t;
  long ey, em, ed;
  civil_from_days(g->epoch_day, &ey, &em, &ed);
  long doy = g->epoch_day - days_from_civil(ey, 1, 1) + 1;
  char intl[9];
  fmt(intl, sizeof intl, "%.2s%.4s", t->object_id + 2, t->object_id + 5);
  char dot[12], ddot[9], bstar[9];
  long mm = labs(g->mmdot);
  fmt(dot, sizeof dot, "%c.%08ld", g->mmdot < 0 ? '-' : ' ', mm);
  tle_exp(ddot, g->ddot_m, g->ddot_x, 0);
  tle_exp(bstar, g->bstar_m, g->bstar_x, g->bstar_neg);
  fmt(l1, 70, "1 %05ldU %-8s %02ld%03ld.%08ld %s %s %s 0  999", t->norad_cat_id, intl, ey % 100,
      doy, g->epoch_frac, dot, ddot, bstar);
  fmt(l1 + 68, 2, "%d", tle_checksum(l1));
  fmt(l2, 70, "2 %05ld %3ld.%04ld %3ld.%04ld %07ld %3ld.%04ld %3ld.%04ld %2ld.%08ld%5ld",
      t->norad_cat_id, g->incl / 10000, g->incl % 10000, g->raan / 10000, g->raan % 10000,
      g->eccentricity, g->argp / 10000, g->argp % 10000, g->anomaly / 10000, g->anomaly % 10000,
      g->mean_motion / 100000000, g->mean_motion % 100000000, g->rev % 100000);
  fmt(l2 + 68, 2, "%d", tle_checksum(l2));
}

size_t gen_starlink_doc(char *buf, unsigned long i) {
  gen_doc g;
  build(i, &g);
  const gen_sat *t = &g.t;
  out_buf o = {buf, 0};
  char creation[32], tle0[40], tle1[70], tle2[70];
  long cy, cm, cd, s = g.creation_second;
  civil_from_days(g.creation_day, &cy, &cm, &cd);
  fmt(creation, sizeof creation, "%04ld-%02ld-%02ld%c%02ld:%02ld:%02ld", cy, cm, cd,
      g.space_style ? ' ' : 'T', s / 3600, s / 60 % 60, s % 60);
  fmt(tle0, sizeof tle0, "0 %s", t->object_name);
  tle_lines(&g, tle1, tle2);

  put(&o, "{\"spaceTrack\":{");
  put_str(&o, "CCSDS_OMM_VERS", "2.0");
  put_str(&o, "COMMENT", "GENERATED VIA SPACE-TRACK.ORG API");
  put_str(&o, "CREATION_DATE", creation);
  put_str(&o, "ORIGINATOR", "18 SPCS");
  put_str(&o, "OBJECT_NAME", t->object_name);
  put_str(&o, "OBJECT_ID", t->object_id);
  put_str(&o, "CENTER_NAME", "EARTH");
  put_str(&o, "REF_FRAME", "TEME");
  put_str(&o, "TIME_SYSTEM", "UTC");
  put_str(&o, "MEAN_ELEMENT_THEORY", "SGP4");
  put_str(&o, "EPOCH", t->epoch);
  put_num(&o, "MEAN_MOTION", scaled(g.mean_motion, 8));
  put_num(&o, "ECCENTRICITY", scaled(g.eccentricity, 7));
  put_num(&o, "INCLINATION", scaled(g.incl, 4));
  put_num(&o, "RA_OF_ASC_NODE", scaled(g.raan, 4));
  put_num(&o, "ARG_OF_PERICENTER", scaled(g.argp, 4));
  put_num(&o, "MEAN_ANOMALY", scaled(g.anomaly, 4));
  put_num(&o, "EPHEMERIS_TYPE", 0);
  put_str(&o, "CLASSIFICATION_TYPE", "U");
  put_num(&o, "NORAD_CAT_ID", (double)t->norad_cat_id);
  put_num(&o, "ELEMENT_SET_NO", 999);
  put_num(&o, "REV_AT_EPOCH", (double)g.rev);
  double bstar = scaled(g.bstar_m, (int)(5 + g.bstar_x));
  put_num(&o, "BSTAR", g.bstar_neg ? -bstar : bstar);
  put_num(&o, "MEAN_MOTION_DOT", scaled(g.mmdot, 8));
  put_num(&o, "MEAN_MOTION_DDOT", scaled(g.ddot_m, (int)(5 + g.ddot_x)));
  put_num(&o, "SEMIMAJOR_AXIS", scaled(g.semimajor, 3));
  put_num(&o, "PERIOD", scaled(g.period, 3));
  put_num(&o, "APOAPSIS", scaled(g.apoapsis, 3));
  put_num(&o, "PERIAPSIS", scaled(g.periapsis, 3));
  put_str(&o, "OBJECT_TYPE", "PAYLOAD");
  put_str(&o, "RCS_SIZE", g.rcs_null ? NULL : "LARGE");
  put_str(&o, "COUNTRY_CODE", "US");
  put_str(&o, "LAUNCH_DATE", t->launch_date);
  put_str(&o, "SITE", g.west ? "AFWTR" : "AFETR");
  put_str(&o, "DECAY_DATE", t->decayed ? t->decay_date : NULL);
  put_num(&o, "DECAYED", t->decayed);
  put_num(&o, "FILE", (double)g.file);
  put_num(&o, "GP_ID", (double)g.gp_id);
  put_str(&o, "TLE_LINE0", tle0);
  put_str(&o, "TLE_LINE1", tle1);
  put(&o, "\"TLE_LINE2\":\"%s\"},", tle2);
  put_str(&o, "version", g.version);
  put_str(&o, "launch", g.no_launch ? NULL : g.launch_id);
  if (t->decayed) {
    put(&o, "\"longitude\":null,\"latitude\":null,\"height_km\":null,\"velocity_kms\":null,");
  } else {
    put_num(&o, "longitude", t->longitude);
    put_num(&o, "latitude", t->latitude);
    put_num(&o, "height_km", t->height_km);
    put_num(&o, "velocity_kms", t->velocity_kms);
  }
  put(&o, "\"id\":\"%s\"}", t->id);
  return o.len;
}

char *gen_starlink_list(unsigned long n, size_t *len) {
  size_t cap = 2 + (size_t)n * (GEN_DOC_MAX + 1);
  char *buf = malloc(cap);
  if (buf == NULL)
    return NULL;
  size_t at = 0;
  buf[at++] = '[';
  for (unsigned long i = 0; i < n; i++) {
    if (i > 0)
      buf[at++] = ',';
    at += gen_starlink_doc(buf + at, i);
  }
  buf[at++] = ']';
  /* Give back the worst-case reserve: callers measure memory against the input's size. */
  char *shrunk = realloc(buf, at);
  *len = at;
  return shrunk != NULL ? shrunk : buf;
}
