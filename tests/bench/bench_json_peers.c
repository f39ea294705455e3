#include "config.h"

#include "bench_json_peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "memtrack.h"

double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#ifdef FO_BENCH_CJSON
#include <cjson/cJSON.h>

static void copy_item(const cJSON *item, char *out, size_t size) {
  const char *s = cJSON_IsString(item) ? item->valuestring : "null";
  size_t n = strlen(s);
  if (n >= size)
    n = size - 1;
  memcpy(out, s, n);
  out[n] = '\0';
}

static int cjson_once(const char *buf, size_t len, bench_fields *out) {
  cJSON *root = cJSON_ParseWithLength(buf, len);
  if (root == NULL)
    return -1;
  const cJSON *e;
  size_t i = 0;
  cJSON_ArrayForEach(e, root) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "spaceTrack");
    copy_item(cJSON_GetObjectItemCaseSensitive(e, "id"), out[i].id, sizeof out[i].id);
    copy_item(cJSON_GetObjectItemCaseSensitive(st, "OBJECT_NAME"), out[i].name, sizeof out[i].name);
    copy_item(cJSON_GetObjectItemCaseSensitive(st, "LAUNCH_DATE"), out[i].launch,
              sizeof out[i].launch);
    copy_item(cJSON_GetObjectItemCaseSensitive(st, "DECAY_DATE"), out[i].decay,
              sizeof out[i].decay);
    i++;
  }
  cJSON_Delete(root);
  return 0;
}

double peer_cjson(const char *buf, size_t len, bench_fields *out, int rounds, size_t *peak) {
  double best = 1e30;
  for (int r = 0; r < rounds; r++) {
    double t = cpu_now();
    if (cjson_once(buf, len, out) != 0)
      return -1;
    t = cpu_now() - t;
    best = t < best ? t : best;
  }
  /* once more, counting: cJSON takes malloc and free hooks (and then no realloc) */
  cJSON_Hooks hooks = {mt_malloc, mt_free};
  cJSON_InitHooks(&hooks);
  mt_reset();
  cjson_once(buf, len, out);
  *peak = mt_peak;
  cJSON_InitHooks(NULL);
  return best;
}
#else
double peer_cjson(const char *buf, size_t len, bench_fields *out, int rounds, size_t *peak) {
  (void)buf;
  (void)len;
  (void)out;
  (void)rounds;
  (void)peak;
  return -1;
}
#endif

double peer_jq(const char *file, int rounds) {
  const char *jq = FO_BENCH_JQ;
  if (jq[0] == '\0')
    return -1;
  double best = 1e30;
  for (int r = 0; r < rounds; r++) {
    pid_t pid = fork();
    if (pid < 0)
      return -1;
    if (pid == 0) {
      execl("/bin/sh", "sh", FO_BENCH_DIR "/peer_jq.sh", jq, file, (char *)NULL);
      _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return -1;
    double t = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    best = t < best ? t : best;
  }
  return best;
}

double peer_python(const char *file, int rounds) {
  const char *python = FO_BENCH_PYTHON;
  if (python[0] == '\0')
    return -1;
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' '%s/peer_python.py' '%s' %d", python, FO_BENCH_DIR, file, rounds);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return -1;
  double best = -1;
  if (fscanf(p, "%lf", &best) != 1)
    best = -1;
  if (pclose(p) != 0)
    return -1;
  return best;
}

double peer_simdjson(const char *file, const char *kernel, const char *fields, int rounds,
                     unsigned long long *hash) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "sh '%s/peer_simdjson.sh' '%s' '%s' '%s' %d '%s' 2>/dev/null",
           FO_BENCH_DIR, FO_BENCH_DIR, file, kernel, rounds, fields);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return -1;
  double best = -1;
  char name[64];
  if (fscanf(p, "%lf %llx %63s", &best, hash, name) != 3)
    best = -1;
  if (pclose(p) != 0)
    return -1;
  return best;
}

unsigned long long bench_mix(unsigned long long h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull;
}

static unsigned long long mix(unsigned long long h, const char *s) {
  return bench_mix(h, s, strlen(s));
}

unsigned long long bench_fields_hash(const bench_fields *f, size_t n) {
  unsigned long long h = BENCH_HASH_START;
  for (size_t i = 0; i < n; i++) {
    h = mix(h, f[i].id);
    h = mix(h, f[i].name);
    h = mix(h, f[i].launch);
    h = mix(h, f[i].decay);
  }
  return h;
}
