/* Real forward proxies from Debian for the fetcher's tests, started on loopback in a private
 * directory (/tmp/fo-proxy-XXXXXX) and stopped with their process group:
 *   tinyproxy (HTTP): listens on 127.0.0.1, adds "Via: 1.1 HOST (tinyproxy/VERSION)" to what it
 *     forwards, logs each request line ("GET http://..."), asks for Basic credentials when the
 *     test gives some (a 407 without them);
 *   danted (SOCKS5, no authentication): listens on 127.0.0.1 and connects out from 127.0.0.2,
 *     so the mirror's /peer shows it carried the request; refuses any connection to 127.0.0.3
 *     (a SOCKS "not allowed" reply).
 * A missing program skips the test (proxy_up() returns 0 after saying why), except with
 * FO_REQUIRE_PROXY=1 (set by CI, which installs both): then the test fails. */
#ifndef FO_TESTS_PROXY_H
#define FO_TESTS_PROXY_H

#include <sys/types.h>

typedef enum { TEST_PROXY_HTTP, TEST_PROXY_SOCKS } test_proxy_kind;

typedef struct {
  char dir[64], log[96];
  int port;
  pid_t pid; /* also its process group */
} test_proxy;

/* Start a proxy; user and password (both NULL for none) are tinyproxy's Basic credentials.
 * Returns 1 when it listens, 0 when its program is missing (the caller returns: skipped). */
int proxy_up(test_proxy *p, const char *who, test_proxy_kind kind, const char *user,
             const char *password);
void proxy_down(test_proxy *p);
/* Lines of the proxy's log that hold needle, waiting (bounded) until at least min do. */
int proxy_log_count(const test_proxy *p, const char *needle, int min);

#endif /* FO_TESTS_PROXY_H */
