/* Real forward proxies for the fetcher's tests: see proxy.h. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nginx.h"
#include "proxy.h"

static const char *find_bin(const char *name) {
  static const char *const dirs[] = {"/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"};
  static char path[4][64];
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    snprintf(path[i], sizeof path[i], "%s/%s", dirs[i], name);
    if (access(path[i], X_OK) == 0)
      return path[i];
  }
  return NULL;
}

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A port free right now; the proxy takes it a moment later (a clash fails the start). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
  close(fd);
  return ntohs(sa.sin_port);
}

static int port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

static void write_conf(const test_proxy *p, test_proxy_kind kind, const char *user,
                       const char *password, char *conf, size_t cap) {
  char text[2048];
  if (kind == TEST_PROXY_HTTP) {
    char auth[256] = "";
    if (user != NULL)
      snprintf(auth, sizeof auth, "BasicAuth %s %s\n", user, password);
    snprintf(text, sizeof text,
             "Port %d\nListen 127.0.0.1\nTimeout 30\nLogFile \"%s\"\nLogLevel Connect\n"
             "MaxClients 64\nAllow 127.0.0.1\n%s",
             p->port, p->log, auth);
  } else {
    /* as root, danted insists on users to switch to; it stays root here (it warns), because a
     * change of user would clear the parent-death signal that stops it with a failed test */
    const char *users = geteuid() == 0 ? "user.privileged: root\nuser.unprivileged: root\n" : "";
    snprintf(text, sizeof text,
             "logoutput: %s\ninternal: 127.0.0.1 port = %d\nexternal: 127.0.0.2\n"
             "clientmethod: none\nsocksmethod: none\n%s"
             "client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}\n"
             "socks block {\n  from: 0.0.0.0/0 to: 127.0.0.3/32\n  log: connect\n}\n"
             "socks pass {\n  from: 127.0.0.0/8 to: 127.0.0.0/8\n  command: connect\n"
             "  log: connect disconnect\n}\n",
             p->log, p->port, users);
  }
  snprintf(conf, cap, "%s/proxy.conf", p->dir);
  test_write_file(conf, text);
}

int proxy_up(test_proxy *p, const char *who, test_proxy_kind kind, const char *user,
             const char *password) {
  const char *name = kind == TEST_PROXY_HTTP ? "tinyproxy" : "danted";
  const char *bin = find_bin(name);
  if (bin == NULL) {
    const char *req = getenv("FO_REQUIRE_PROXY");
    ck_assert_msg(req == NULL || strcmp(req, "1") != 0, "%s not found and FO_REQUIRE_PROXY=1",
                  name);
    fprintf(stderr, "%s: SKIPPED: %s not found (install tinyproxy and dante-server; "
                    "./quickstart deps --layer=check does)\n",
            who, name);
    return 0;
  }
  memset(p, 0, sizeof *p);
  snprintf(p->dir, sizeof p->dir, "/tmp/fo-proxy-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(p->dir));
  snprintf(p->log, sizeof p->log, "%s/proxy.log", p->dir);
  char conf[128], out[128];
  snprintf(out, sizeof out, "%s/stderr.txt", p->dir);
  for (int tries = 0; tries < 5; tries++) {
    p->port = free_port();
    write_conf(p, kind, user, password, conf, sizeof conf);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      setpgid(0, 0); /* danted forks helpers: proxy_down() stops the whole group */
      /* a test that fails never reaches proxy_down(): the proxy goes with the test process
       * (SIGTERM, so danted's mother takes its helpers down with it) */
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      if (kind == TEST_PROXY_HTTP)
        execl(bin, bin, "-d", "-c", conf, (char *)NULL);
      else
        execl(bin, bin, "-f", conf, "-N", "1", (char *)NULL);
      _exit(127);
    }
    setpgid(pid, pid);
    p->pid = pid;
    for (int i = 0; i < 100; i++) { /* up to 5 s */
      if (port_open(p->port))
        return 1;
      if (waitpid(pid, NULL, WNOHANG) == pid) {
        p->pid = 0;
        break;
      }
      nap_ms(50);
    }
    if (p->pid > 0) {
      kill(-p->pid, SIGKILL);
      waitpid(p->pid, NULL, 0);
      p->pid = 0;
    }
  }
  test_run("cat %s >&2", out);
  ck_abort_msg("%s did not start on loopback", name);
  return 0;
}

void proxy_down(test_proxy *p) {
  if (p->pid > 0) {
    kill(-p->pid, SIGTERM);
    int reaped = 0;
    for (int i = 0; i < 100 && !reaped; i++) {
      reaped = waitpid(p->pid, NULL, WNOHANG) == p->pid;
      if (!reaped)
        nap_ms(20);
    }
    kill(-p->pid, SIGKILL); /* the group's helpers, and the leader if it did not go */
    if (!reaped)
      waitpid(p->pid, NULL, 0);
    p->pid = 0;
  }
  if (p->dir[0])
    test_run("rm -rf %s", p->dir);
  p->dir[0] = '\0';
}

int proxy_log_count(const test_proxy *p, const char *needle, int min) {
  int n = 0;
  for (int i = 0; i < 100; i++) {
    n = 0;
    FILE *f = fopen(p->log, "r");
    char line[2048];
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
      n += strstr(line, needle) != NULL;
    if (f != NULL)
      fclose(f);
    if (n >= min)
      break;
    nap_ms(20);
  }
  return n;
}
