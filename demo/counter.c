/* fanout-demo counter: the lesson's Manager().dict() counter. Several processes share one
 * dictionary; each adds 1 to the entry named after its own process id, --increments times, and
 * the parent prints the dictionary once they are all done. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "demo.h"
#include "fanout/fanout.h"
#include "fanout/ipc.h" /* FO_FOREVER */
#include "fanout/ppool.h"
#include "fanout/shmdict.h"

#define COUNTER_PROCS_MAX 256ul
#define COUNTER_INCREMENTS_MAX 1000000ul
/* A process id in decimal: 20 digits hold any 64-bit pid_t. */
#define COUNTER_KEY_MAX 20

static const char help[] =
    "usage: fanout-demo counter [--procs N] [--increments N]\n"
    "\n"
    "Start N processes sharing one dictionary (Manager().dict() in the lesson);\n"
    "each adds 1 to the entry named after its process id, --increments times.\n"
    "\n"
    "  --procs N        processes, 1 to 256 (default: the CPUs this process may\n"
    "                   use, as `fanout-demo cpus` prints)\n"
    "  --increments N   additions per process, 1 to 1000000 (default 10)\n"
    "\n"
    "output (stdout): the dictionary as one line of JSON, in no particular order:\n"
    "  {\"<pid>\": 10, \"<pid>\": 10}\n"
    "\n"
    "exit status: 0 every process counted to the end, 1 one did not (stderr says\n"
    "why), 2 bad command line\n";

typedef struct counter_job {
  fo_shmdict *dict;
  unsigned long increments;
} counter_job;

/* Runs in each child: the dict handle it inherited across fork() reaches the same memory. */
static int count_up(void *arg) {
  const counter_job *job = arg;
  char key[COUNTER_KEY_MAX + 1];
  snprintf(key, sizeof key, "%ld", (long)getpid());
  for (unsigned long i = 0; i < job->increments; i++) {
    /* One locked read-add-write, unlike d[k] = d[k] + 1, which two processes could interleave. */
    int rc = fo_shmdict_add(job->dict, key, 1, NULL);
    if (rc != 0) {
      fprintf(stderr, "fanout-demo counter: process %s: %s\n", key, fo_strerror(rc));
      return 1;
    }
  }
  return 0;
}

static int print_entry(const char *key, int64_t value, void *arg) {
  int *first = arg;
  printf("%s\"%s\": %" PRId64, *first ? "" : ", ", key, value);
  *first = 0;
  return 0;
}

/* Waits for every child, reports those that failed, and releases the handles. */
static int join_all(fo_proc **procs, unsigned long n) {
  int status = DEMO_OK;
  for (unsigned long i = 0; i < n; i++) {
    fo_proc_status st;
    int rc = fo_proc_join(procs[i], FO_FOREVER, &st);
    long pid = (long)fo_proc_pid(procs[i]);
    if (rc != 0) {
      fprintf(stderr, "fanout-demo counter: process %ld: %s\n", pid, fo_strerror(rc));
      status = DEMO_PARTIAL;
    } else if (st.signal != 0 || st.code != 0) {
      fprintf(stderr, "fanout-demo counter: process %ld was killed or failed\n", pid);
      status = DEMO_PARTIAL;
    }
    fo_proc_destroy(procs[i]);
  }
  return status;
}

int demo_counter(int argc, char **argv) {
  unsigned long nprocs = (unsigned long)fo_cpu_count(), increments = 10;
  if (nprocs > COUNTER_PROCS_MAX)
    nprocs = COUNTER_PROCS_MAX;
  const demo_flag table[] = {
      {"--procs", DEMO_UINT, &nprocs, .umin = 1, .umax = COUNTER_PROCS_MAX},
      {"--increments", DEMO_UINT, &increments, .umin = 1, .umax = COUNTER_INCREMENTS_MAX}};
  const demo_cli cli = {help, table, sizeof table / sizeof table[0], NULL, NULL};
  int status = demo_parse(argc, argv, &cli);
  if (status != DEMO_OK)
    return status == DEMO_HELP ? DEMO_OK : status;

  /* Made before the fork, so every child shares it; room for one entry per process. */
  fo_shmdict *dict;
  int rc = fo_shmdict_create(&dict, nprocs, COUNTER_KEY_MAX);
  if (rc != 0) {
    fprintf(stderr, "fanout-demo counter: cannot create the dict: %s%s\n", fo_strerror(rc),
            rc == -EOPNOTSUPP ? " (no robust process-shared mutexes on this system)" : "");
    return DEMO_PARTIAL;
  }
  counter_job job = {dict, increments};
  fo_proc *procs[COUNTER_PROCS_MAX];
  unsigned long started = 0;
  for (; started < nprocs; started++) {
    rc = fo_proc_spawn(&procs[started], count_up, &job, 0);
    if (rc != 0) {
      fprintf(stderr, "fanout-demo counter: cannot start process %lu: %s\n", started + 1,
              fo_strerror(rc));
      status = DEMO_PARTIAL;
      break;
    }
  }
  if (join_all(procs, started) != DEMO_OK)
    status = DEMO_PARTIAL;

  int first = 1;
  fputs("{", stdout);
  rc = fo_shmdict_foreach(dict, print_entry, &first);
  fputs("}\n", stdout);
  if (rc != 0) {
    fprintf(stderr, "fanout-demo counter: cannot read the dict: %s\n", fo_strerror(rc));
    status = DEMO_PARTIAL;
  }
  fo_shmdict_destroy(dict);
  return status;
}
