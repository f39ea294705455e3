/* A hostile HTTP server for the fetcher's tests: each path answers the way a broken or
 * malicious server would, and /echo sends back exactly what arrived, so a test can see which
 * headers and body a redirect carried.
 *   fo-hostile [--idle-exit S]
 * It binds 127.0.0.1 on a port of its own, prints "PORT <n>" once it listens, serves one
 * connection at a time (one request each, then close) and exits after S idle seconds (default
 * 30) should its test die first. Never installed.
 *
 * Paths (the query after '?' picks variants):
 *   /ctype         200 whose Content-Type holds escape sequences (title, clear screen)
 *   /ctype404      the same type on a 404
 *   /etag-cr       200 whose ETag holds a bare CR and whose Last-Modified holds an escape
 *   /etag-long     200 whose ETag is 300 bytes long
 *   /bighdr        a 1 MiB header line;  /longline a 20 KiB one;  /manyhdr 100 lines of 1 KiB
 *   /status2000, /status99, /status600   status lines outside 100-599
 *   /partial       206 with Content-Range to a request without Range
 *   /te-gzip       Transfer-Encoding: gzip
 *   /range?bad=K   a 1000-byte resource with ETag "r1": without Range, 200 cut after 500 bytes;
 *                  with one, a 206 wrong in K: start, end, len (Content-Length), or none
 *   /cut?etag=E    200 of 1000 bytes cut after 500, with ETag E (cr: one with a bare CR)
 *   /redir?code=C&to=T   a redirect with status C to T: other (http://localhost:PORT/echo,
 *                  another origin), same (/echo), ftp (ftp://127.0.0.1:PORT/echo)
 *   /echo          200 text/plain: the request line, headers and body as received
 *   /stats         "requests=N echo=N ifrange=N range=N"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define HEAD_MAX 65536
#define BODY_MAX (1 << 20)

static int port_no;
static long n_requests, n_echo, n_ifrange, n_range;

static void send_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
    if (w <= 0)
      return;
    c += w;
    n -= (size_t)w;
  }
}

static void sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sendf(int fd, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0)
    send_all(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* The value of header name in the request head, or NULL (copied into out). */
static const char *req_header(const char *head, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
    const char *l = p + 2;
    if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
      l += nl + 1;
      while (*l == ' ')
        l++;
      const char *e = strstr(l, "\r\n");
      size_t n = e ? (size_t)(e - l) : strlen(l);
      n = n < cap - 1 ? n : cap - 1;
      memcpy(out, l, n);
      out[n] = '\0';
      return out;
    }
  }
  return NULL;
}

static void filler(int fd, size_t n, char c) {
  char buf[8192];
  memset(buf, c, sizeof buf);
  while (n > 0) {
    size_t k = n < sizeof buf ? n : sizeof buf;
    send_all(fd, buf, k);
    n -= k;
  }
}

static const char *query(const char *target, const char *key, char *out, size_t cap) {
  const char *q = strchr(target, '?');
  size_t kl = strlen(key);
  for (q = q ? q + 1 : NULL; q != NULL && *q; q = strchr(q, '&') ? strchr(q, '&') + 1 : NULL) {
    if (strncmp(q, key, kl) == 0 && q[kl] == '=') {
      size_t n = strcspn(q + kl + 1, "& ");
      n = n < cap - 1 ? n : cap - 1;
      memcpy(out, q + kl + 1, n);
      out[n] = '\0';
      return out;
    }
  }
  return NULL;
}

/* Read one request: its head (to the blank line) and its body (Content-Length or chunked). */
static int read_request(int fd, char *head, size_t *head_len, char *body, size_t *body_len) {
  size_t n = 0;
  char *end = NULL;
  while (end == NULL) {
    if (n >= HEAD_MAX - 1)
      return -1;
    ssize_t r = recv(fd, head + n, HEAD_MAX - 1 - n, 0);
    if (r <= 0)
      return -1;
    n += (size_t)r;
    head[n] = '\0';
    end = strstr(head, "\r\n\r\n");
  }
  *head_len = (size_t)(end - head) + 4;
  size_t have = n - *head_len;
  memcpy(body, end + 4, have);
  char v[64];
  if (req_header(head, "Content-Length", v, sizeof v) != NULL) {
    size_t want = strtoul(v, NULL, 10);
    if (want > BODY_MAX)
      return -1;
    while (have < want) {
      ssize_t r = recv(fd, body + have, want - have, 0);
      if (r <= 0)
        return -1;
      have += (size_t)r;
    }
  } else if (req_header(head, "Transfer-Encoding", v, sizeof v) != NULL) {
    /* chunked: read until the last chunk, then decode in place */
    while (have < 5 || memcmp(body + have - 5, "0\r\n\r\n", 5) != 0) {
      if (have >= BODY_MAX)
        return -1;
      ssize_t r = recv(fd, body + have, BODY_MAX - have, 0);
      if (r <= 0)
        return -1;
      have += (size_t)r;
    }
    size_t in = 0, out = 0;
    for (;;) {
      size_t len = strtoul(body + in, NULL, 16);
      char *crlf = memmem(body + in, have - in, "\r\n", 2);
      if (crlf == NULL || len == 0)
        break;
      in = (size_t)(crlf - body) + 2;
      memmove(body + out, body + in, len);
      out += len;
      in += len + 2;
    }
    have = out;
  }
  *body_len = have;
  return 0;
}

static void serve(int fd) {
  static char head[HEAD_MAX], body[BODY_MAX];
  size_t head_len, body_len;
  if (read_request(fd, head, &head_len, body, &body_len) != 0)
    return;
  n_requests++;
  char target[1024] = "", v[256];
  sscanf(head, "%*s %1023s", target);
  const char *range = req_header(head, "Range", v, sizeof v);
  long long from = range ? strtoll(v + strcspn(v, "0123456789"), NULL, 10) : -1;
  n_range += range != NULL;
  n_ifrange += req_header(head, "If-Range", v, sizeof v) != NULL;
  const char *close_ = "Connection: close\r\n";
  char q[64];
  if (strncmp(target, "/ctype", 6) == 0) {
    sendf(fd, "HTTP/1.1 %s\r\nContent-Type: text/plain\x1b]0;owned\x07\x1b[2J\r\n%s"
              "Content-Length: 2\r\n\r\nok", strncmp(target, "/ctype404", 9) == 0 ? "404 Not Found" : "200 OK",
          close_);
  } else if (strcmp(target, "/etag-cr") == 0) {
    sendf(fd, "HTTP/1.1 200 OK\r\nETag: \"a\rb\"\r\nLast-Modified: \x1b[2J\r\n%s"
              "Content-Length: 2\r\n\r\nok", close_);
  } else if (strcmp(target, "/etag-long") == 0) {
    sendf(fd, "HTTP/1.1 200 OK\r\nETag: \"%0298d\"\r\n%sContent-Length: 2\r\n\r\nok", 0, close_);
  } else if (strcmp(target, "/bighdr") == 0 || strcmp(target, "/longline") == 0) {
    sendf(fd, "HTTP/1.1 200 OK\r\n%sX-Big: ", close_);
    filler(fd, target[1] == 'b' ? (size_t)1 << 20 : 20 * 1024, 'a');
    sendf(fd, "\r\nContent-Length: 2\r\n\r\nok");
  } else if (strcmp(target, "/manyhdr") == 0) {
    sendf(fd, "HTTP/1.1 200 OK\r\n%s", close_);
    for (int i = 0; i < 100; i++) {
      sendf(fd, "X-Many-%d: ", i);
      filler(fd, 1024, 'm');
      sendf(fd, "\r\n");
    }
    sendf(fd, "Content-Length: 2\r\n\r\nok");
  } else if (strncmp(target, "/status", 7) == 0) {
    sendf(fd, "HTTP/1.1 %s OK\r\n%sContent-Length: 2\r\n\r\nok", target + 7, close_);
  } else if (strcmp(target, "/partial") == 0) {
    sendf(fd, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\n%s"
              "Content-Length: 5\r\n\r\nhello", close_);
  } else if (strcmp(target, "/te-gzip") == 0) {
    sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n%s\r\n", close_);
    send_all(fd, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  } else if (strncmp(target, "/range", 6) == 0 || strncmp(target, "/cut", 4) == 0) {
    const char *etag = target[1] == 'r' ? "\"r1\""
                       : query(target, "etag", q, sizeof q) && strcmp(q, "cr") == 0 ? "\"a\rb\""
                                                                                   : "\"c1\"";
    if (from < 0 || target[1] == 'c') {
      sendf(fd, "HTTP/1.1 200 OK\r\nETag: %s\r\n%sContent-Length: 1000\r\n\r\n", etag, close_);
      filler(fd, 500, 'x');
      return; /* cut */
    }
    const char *bad = query(target, "bad", q, sizeof q) ? q : "none";
    long long first = strcmp(bad, "start") == 0 ? 0 : from;
    long long last = strcmp(bad, "end") == 0 ? 998 : 999;
    long long len = last - first + 1 - (strcmp(bad, "len") == 0);
    sendf(fd, "HTTP/1.1 206 Partial Content\r\nETag: %s\r\nContent-Range: bytes %lld-%lld/1000\r\n"
              "%sContent-Length: %lld\r\n\r\n", etag, first, last, close_, len);
    filler(fd, (size_t)len, 'x');
  } else if (strncmp(target, "/redir", 6) == 0) {
    char code[8] = "302", to[16] = "other";
    query(target, "code", code, sizeof code);
    query(target, "to", to, sizeof to);
    if (strcmp(to, "ftp") == 0)
      sendf(fd, "HTTP/1.1 %s Moved\r\nLocation: ftp://127.0.0.1:%d/echo\r\n%s"
                "Content-Length: 0\r\n\r\n", code, port_no, close_);
    else if (strcmp(to, "same") == 0)
      sendf(fd, "HTTP/1.1 %s Moved\r\nLocation: /echo\r\n%sContent-Length: 0\r\n\r\n", code, close_);
    else
      sendf(fd, "HTTP/1.1 %s Moved\r\nLocation: http://localhost:%d/echo\r\n%s"
                "Content-Length: 0\r\n\r\n", code, port_no, close_);
  } else if (strcmp(target, "/echo") == 0) {
    n_echo++;
    sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n%sContent-Length: %zu\r\n\r\n",
          close_, head_len + body_len);
    send_all(fd, head, head_len);
    send_all(fd, body, body_len);
  } else if (strcmp(target, "/stats") == 0) {
    char s[128];
    int n = snprintf(s, sizeof s, "requests=%ld echo=%ld ifrange=%ld range=%ld\n", n_requests - 1,
                     n_echo, n_ifrange, n_range);
    n_requests--; /* asking is not a request under test */
    sendf(fd, "HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s", close_, n, s);
  } else {
    sendf(fd, "HTTP/1.1 404 Not Found\r\n%sContent-Length: 0\r\n\r\n", close_);
  }
}

int main(int argc, char **argv) {
  long idle = 30;
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "--idle-exit") == 0)
      idle = strtol(argv[i + 1], NULL, 10);
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 64) != 0 ||
      getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
    perror("fo-hostile");
    return 1;
  }
  port_no = ntohs(sa.sin_port);
  printf("PORT %d\n", port_no);
  fflush(stdout);
  for (;;) {
    struct pollfd pf = {ls, POLLIN, 0};
    if (poll(&pf, 1, (int)(idle * 1000)) == 0)
      return 0;
    int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    serve(fd);
    shutdown(fd, SHUT_WR);
    /* drain what the client still sends, so the close is not a reset that eats our answer */
    char sink[4096];
    struct pollfd cf = {fd, POLLIN, 0};
    while (poll(&cf, 1, 200) > 0 && recv(fd, sink, sizeof sink, 0) > 0)
      ;
    close(fd);
  }
}
