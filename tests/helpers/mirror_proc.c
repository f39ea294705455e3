#include "config.h"

#include "mirror_proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *mirror_bin(void) {
  const char *e = getenv("FO_MIRROR");
  return e && *e ? e : FO_MIRROR_BIN;
}

int mirror_start(mirror_proc *m, const char *const *args) {
  return server_start(m, mirror_bin(), args);
}

int server_start(mirror_proc *m, const char *bin, const char *const *args) {
  const char *argv[32];
  int argc = 0;
  argv[argc++] = bin;
  for (; args && *args && argc < 30; args++)
    argv[argc++] = *args;
  argv[argc] = NULL;
  m->pid = 0;
  m->port = 0;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0)
    return -errno;
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return -e;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* no mirror outlives its test */
    dup2(p[1], STDOUT_FILENO);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(p[1]);
  char line[64];
  size_t len = 0;
  /* The mirror prints "PORT n\n" once it listens; give it a few seconds (valgrind is slow). */
  for (int waited = 0; waited < 200 && len < sizeof line - 1 && !memchr(line, '\n', len);) {
    struct pollfd pf = {p[0], POLLIN, 0};
    if (poll(&pf, 1, 100) <= 0) {
      waited++;
      continue;
    }
    ssize_t r = read(p[0], line + len, sizeof line - 1 - len);
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  close(p[0]);
  line[len] = '\0';
  m->pid = pid;
  if (sscanf(line, "PORT %d", &m->port) != 1 || m->port <= 0) {
    mirror_stop(m);
    return -EIO;
  }
  return 0;
}

void mirror_stop(mirror_proc *m) {
  if (m->pid <= 0)
    return;
  kill(m->pid, SIGTERM);
  for (int i = 0; i < 100; i++) {
    if (waitpid(m->pid, NULL, WNOHANG) == m->pid) {
      m->pid = 0;
      return;
    }
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  kill(m->pid, SIGKILL);
  waitpid(m->pid, NULL, 0);
  m->pid = 0;
}

void mirror_url(const mirror_proc *m, const char *path, char *buf, size_t cap) {
  snprintf(buf, cap, "http://127.0.0.1:%d%s", m->port, path);
}

void mirror_blob_reqs(const mirror_proc *m, int n, int size, char (*urls)[128],
                      fo_fetch_req *reqs) {
  for (int i = 0; i < n; i++) {
    char path[64];
    snprintf(path, sizeof path, "/blob?size=%d&tag=%d", size, i + 1);
    mirror_url(m, path, urls[i], sizeof urls[i]);
    reqs[i] = (fo_fetch_req){.url = urls[i]};
  }
}

int mirror_get(const mirror_proc *m, const char *path, char *buf, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)m->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
    close(fd);
    return -1;
  }
  size_t len = 0, big = 1 << 22;
  char *all = malloc(big);
  for (ssize_t r; all && len < big - 1 && (r = recv(fd, all + len, big - 1 - len, 0)) > 0;)
    len += (size_t)r;
  close(fd);
  if (all == NULL)
    return -1;
  all[len] = '\0';
  int status = -1;
  sscanf(all, "HTTP/1.1 %d", &status);
  const char *body = strstr(all, "\r\n\r\n");
  if (buf && cap) {
    snprintf(buf, cap, "%s", body ? body + 4 : "");
  }
  free(all);
  return status;
}

long mirror_stat(const mirror_proc *m, const char *key, long window_ms) {
  char path[64], body[1024], k[64];
  snprintf(path, sizeof path, "/stats?window=%ld", window_ms);
  if (mirror_get(m, path, body, sizeof body) != 200)
    return -1;
  snprintf(k, sizeof k, "\"%s\":", key);
  const char *p = strstr(body, k);
  return p ? strtol(p + strlen(k), NULL, 10) : -1;
}

int mirror_reset(const mirror_proc *m) {
  return mirror_get(m, "/stats/reset", NULL, 0) == 200 ? 0 : -1;
}

size_t mirror_ids(const mirror_proc *m, char (*ids)[25], size_t n) {
  size_t cap = 1 << 22;
  char *body = malloc(cap);
  size_t found = 0;
  if (body == NULL || mirror_get(m, "/v4/starlink", body, cap) != 200) {
    free(body);
    return 0;
  }
  /* every document ends with "id":"<24 hex>"} */
  for (const char *p = body; found < n && (p = strstr(p, "\"id\":\"")) != NULL; p += 6) {
    if (strlen(p) >= 6 + 24 && p[6 + 24] == '"') {
      memcpy(ids[found], p + 6, 24);
      ids[found][24] = '\0';
      found++;
    }
  }
  free(body);
  return found;
}

int open_fd_count(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

char **mirror_doc_urls(const mirror_proc *m, size_t n, size_t ndocs, const char *query) {
  char(*ids)[25] = malloc(ndocs * sizeof *ids);
  char **urls = malloc(n * sizeof *urls);
  if (ids == NULL || urls == NULL || mirror_ids(m, ids, ndocs) != ndocs) {
    free(ids);
    free(urls);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    char path[256];
    snprintf(path, sizeof path, "/v4/starlink/%s%s", ids[i % ndocs], query ? query : "");
    urls[i] = malloc(300);
    if (urls[i] != NULL)
      mirror_url(m, path, urls[i], 300);
  }
  free(ids);
  return urls;
}

void mirror_free_urls(char **urls, size_t n) {
  for (size_t i = 0; urls != NULL && i < n; i++)
    free(urls[i]);
  free(urls);
}
