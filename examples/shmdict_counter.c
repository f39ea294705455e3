/* A counter shared by four processes, the lesson's Manager().dict() without a manager process.
 *
 * fo_shmdict_add() adds under a process-shared lock, so every increment of every process counts
 * (Python's d[k] += 1 on a Manager dict is a read and a write: two processes can lose updates).
 *
 *   cc shmdict_counter.c $(pkg-config --static --cflags --libs fanout)
 */
#include <stdio.h>
#include <fanout/ppool.h>
#include <fanout/shmdict.h>

#define WORKERS 4
#define ROUNDS 1000

static fo_shmdict *counts; /* created before the children: each inherits the handle */

static int count(void *arg)
{
  const char *key = arg;
  for (int i = 0; i < ROUNDS; i++)
    if (fo_shmdict_add(counts, "total", 1, NULL) != 0 || fo_shmdict_add(counts, key, 1, NULL) != 0)
      return 1;
  return 0;
}

static int show(const char *key, int64_t value, void *arg)
{
  (void)arg;
  printf("  %-8s %lld\n", key, (long long)value);
  return 0;
}

int main(void)
{
  const char *names[WORKERS] = {"worker-0", "worker-1", "worker-2", "worker-3"};
  fo_proc *kids[WORKERS];
  int ok = 1;

  int rc = fo_shmdict_create(&counts, 16, 16);
  if (rc != 0) {
    fprintf(stderr, "fo_shmdict_create: %s\n", fo_strerror(rc));
    return 1;
  }
  fflush(stdout);
  for (int w = 0; w < WORKERS; w++)
    if (fo_proc_spawn(&kids[w], count, (void *)names[w], 0) != 0)
      return 1;
  for (int w = 0; w < WORKERS; w++) {
    fo_proc_status st;
    ok &= fo_proc_join(kids[w], 30000, &st) == 0 && st.signal == 0 && st.code == 0;
    fo_proc_destroy(kids[w]);
  }

  int64_t total = 0;
  rc = fo_shmdict_get(counts, "total", &total);
  printf("%d entries:\n", fo_shmdict_count(counts));
  fo_shmdict_foreach(counts, show, NULL);
  ok &= rc == 0 && total == WORKERS * ROUNDS && fo_shmdict_count(counts) == WORKERS + 1;
  fo_shmdict_destroy(counts);
  return ok ? 0 : 1;
}
