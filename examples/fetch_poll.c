/* The fetcher inside an event loop: one poll() waits on standard input, on a one-second timer
 * (poll's own timeout) and on a descriptor per fetch job, and every completion is printed on the
 * loop's thread. fo_fetch_submit() starts a job and returns at once; fo_fetch_job_fd() becomes
 * readable when an item of it ends; fo_fetch_job_take() hands the finished index over. A daemon
 * on OpenWrt's uloop, GLib or libuv watches the same descriptor.
 *
 *   fetch_poll           then type, one a line:
 *     URL                fetch it: job N, numbered from 1 in the order typed
 *     cancel N           cancel job N (it ends within about a second, as "cancelled")
 *     # ...              a comment
 *
 * Prints "job N: URL" as each starts, "tick T: R running" each second, "done N: STATUS, BYTES
 * bytes, S s" or "failed N: REASON" as each ends, and at the end of input, once every job has
 * ended, "end: J jobs, K ok, F failed". Exits 0 when each job was handed over exactly once.
 *
 *   cc fetch_poll.c $(pkg-config --static --cflags --libs fanout)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fanout/fetch.h>

#define JOBS 64
#define LINE 4096

struct job {
  char url[LINE];
  fo_fetch_req req;
  fo_fetch_result res; /* the job's one result: ours to read once taken */
  fo_fetch_job *job;   /* NULL once ended and freed */
  int fd;
  int taken;           /* completions handed over: must end at exactly 1 */
};

static struct job jobs[JOBS];
static int njobs, running, ok, failed;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void start(fo_fetcher *f, const char *url)
{
  if (njobs == JOBS) {
    fprintf(stderr, "at most %d jobs\n", JOBS);
    return;
  }
  struct job *j = &jobs[njobs];
  size_t n = strlen(url);
  if (n >= sizeof j->url) {
    fprintf(stderr, "a URL over %zu bytes\n", sizeof j->url - 1);
    return;
  }
  memcpy(j->url, url, n + 1);
  j->req = (fo_fetch_req){.url = j->url};
  /* reqs and results stay where they are (a static array) until the job is freed */
  int rc = fo_fetch_submit(f, &j->req, 1, &j->res, NULL, NULL, &j->job);
  if (rc == 0 && (j->fd = fo_fetch_job_fd(j->job)) < 0) {
    rc = j->fd;
    fo_fetch_job_cancel(j->job, FO_FETCH_JOB_ALL);
    fo_fetch_job_free(j->job);
    j->job = NULL;
  }
  if (rc != 0) {
    fprintf(stderr, "job for %s not started: %s\n", url, fo_strerror(rc));
    fo_fetch_result_free(&j->res);
    return;
  }
  njobs++;
  running++;
  printf("job %d: %s\n", njobs, url);
}

/* The descriptor of job j was readable: take its completion and print it, here, on the loop. */
static void finish(struct job *j)
{
  size_t index;
  if (fo_fetch_job_take(j->job, &index, 1) != 1)
    return; /* nothing yet (another reader would have taken it; there is none here) */
  j->taken++;
  int n = (int)(j - jobs) + 1;
  if (j->res.err == 0) {
    ok++;
    printf("done %d: %ld, %zu bytes, %.3f s\n", n, j->res.status, j->res.body_len,
           j->res.elapsed);
  } else {
    failed++;
    printf("failed %d: %s\n", n, j->res.message);
  }
  fo_fetch_job_free(j->job); /* its item has ended: this does not wait for a transfer */
  j->job = NULL;
  fo_fetch_result_free(&j->res);
  running--;
}

static void command(fo_fetcher *f, char *line)
{
  int n;
  char extra;
  line[strcspn(line, "\r")] = '\0';
  while (*line == ' ')
    line++;
  if (*line == '\0' || *line == '#')
    return;
  if (strncmp(line, "cancel", 6) == 0) {
    if (sscanf(line, "cancel %d %c", &n, &extra) != 1)
      printf("%s: expected cancel N, N a job's number\n", line);
    else if (n < 1 || n > njobs || jobs[n - 1].job == NULL)
      printf("cancel %d: no such job running\n", n);
    else
      fo_fetch_job_cancel(jobs[n - 1].job, FO_FETCH_JOB_ALL); /* its completion says the rest */
    return;
  }
  start(f, line);
}

int main(void)
{
  static char buf[LINE + 1];
  size_t len = 0;
  fo_fetcher *f;
  int in_open = 1, ticks = 0;

  if (fo_fetch_global_init() != 0)
    return 2;
  int rc = fo_fetcher_create(&f, &(fo_fetch_opts){.threads = 4, .max_body = 16 << 20});
  if (rc != 0) {
    fprintf(stderr, "fo_fetcher_create: %s\n", fo_strerror(rc));
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  double next_tick = now() + 1.0;
  while (in_open || running > 0) {
    struct pollfd p[JOBS + 1];
    struct job *who[JOBS + 1];
    nfds_t np = 0;
    if (in_open)
      p[np] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN}, who[np++] = NULL;
    for (int i = 0; i < njobs; i++)
      if (jobs[i].job != NULL)
        p[np] = (struct pollfd){.fd = jobs[i].fd, .events = POLLIN}, who[np++] = &jobs[i];
    /* the timer: poll's timeout runs to the next whole second of the loop, not a second per
     * wake-up, so a busy loop still ticks on time */
    double wait = next_tick - now();
    int r = poll(p, np, wait > 0 ? (int)(wait * 1000.0) + 1 : 0);
    if (r < 0 && errno != EINTR) {
      perror("poll");
      break;
    }
    if (now() >= next_tick) {
      printf("tick %d: %d running\n", ++ticks, running);
      while (next_tick <= now())
        next_tick += 1.0;
    }
    for (nfds_t i = 0; r > 0 && i < np; i++) {
      if (p[i].revents == 0)
        continue;
      if (who[i] != NULL) {
        finish(who[i]);
        continue;
      }
      ssize_t got = read(STDIN_FILENO, buf + len, LINE - len);
      if (got <= 0) {
        in_open = got < 0 && (errno == EINTR || errno == EAGAIN);
        if (!in_open && len > 0) { /* a last line without its end */
          buf[len] = '\0';
          command(f, buf);
        }
        continue;
      }
      len += (size_t)got;
      char *nl;
      while ((nl = memchr(buf, '\n', len)) != NULL) {
        *nl = '\0';
        command(f, buf);
        len -= (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, len);
      }
      if (len == LINE) {
        fprintf(stderr, "a line over %d bytes: dropped\n", LINE);
        len = 0;
      }
    }
  }
  int once = 1;
  for (int i = 0; i < njobs; i++)
    once &= jobs[i].taken == 1;
  printf("end: %d jobs, %d ok, %d failed\n", njobs, ok, failed);
  fo_fetcher_destroy(f);
  fo_fetch_global_cleanup();
  return once ? 0 : 1;
}
