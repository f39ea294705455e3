/* Start and stop the local API mirror (tests/mirror/fo-mirror) from a test, and ask it for its
 * counters. The mirror binds 127.0.0.1 on a port it chooses and reports; mirror_stop() kills and
 * reaps it, and the mirror exits by itself when idle should a test die first. */
#ifndef FO_TESTS_MIRROR_PROC_H
#define FO_TESTS_MIRROR_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "fanout/fetch.h"

typedef struct {
  pid_t pid;
  int port;
} mirror_proc;

/* The mirror binary: $FO_MIRROR if set, else the one built beside the tests. */
const char *mirror_bin(void);

/* Start the mirror with extra arguments (a NULL-terminated list, or NULL); 0 or -errno. */
int mirror_start(mirror_proc *m, const char *const *args);
/* Start another test server that speaks the same start-up line ("PORT n"), such as
 * tests/hostile/fo-hostile; 0 or -errno. */
int server_start(mirror_proc *m, const char *bin, const char *const *args);
/* Kill (SIGTERM, then SIGKILL after a second) and reap it. Safe on a mirror never started. */
void mirror_stop(mirror_proc *m);

/* "http://127.0.0.1:PORT" followed by path, in buf. */
void mirror_url(const mirror_proc *m, const char *path, char *buf, size_t cap);

/* n requests for distinct blobs of size bytes ("/blob?size=SIZE&tag=I", I from 1): the URLs go
 * to urls[i], reqs[i] is a GET of urls[i] and nothing else set. */
void mirror_blob_reqs(const mirror_proc *m, int n, int size, char (*urls)[128],
                      fo_fetch_req *reqs);

/* GET path with a plain socket (not the code under test); the body goes to buf, cut to fit.
 * Returns the HTTP status, or -1. */
int mirror_get(const mirror_proc *m, const char *path, char *buf, size_t cap);
/* A number from GET /stats (with ?window=MS when window_ms > 0), or -1. */
long mirror_stat(const mirror_proc *m, const char *key, long window_ms);
/* Zero the counters. */
int mirror_reset(const mirror_proc *m);

/* The ids of the first n documents, from the list route: ids must hold n * 25 bytes. Returns how
 * many were found. */
size_t mirror_ids(const mirror_proc *m, char (*ids)[25], size_t n);

/* n URLs over the mirror's first ndocs documents ("/v4/starlink/ID" and query, cycling), each
 * malloc'd, in a malloc'd array; NULL when the mirror lists fewer than ndocs. Free them with
 * mirror_free_urls(). */
char **mirror_doc_urls(const mirror_proc *m, size_t n, size_t ndocs, const char *query);
void mirror_free_urls(char **urls, size_t n);
/* File descriptors open in this process now (to find leaks). */
int open_fd_count(void);

#endif /* FO_TESTS_MIRROR_PROC_H */
