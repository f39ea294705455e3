/* FO_FETCH_SKIP_EXISTING: an output that already holds the expected body is not fetched again.
 *
 * The file is trusted only for what it holds, read through one descriptor: opened without
 * following a symlink (a link someone planted could point at any file of root's) and without
 * blocking (a FIFO at the name would otherwise hang the worker), then checked with fstat to be a
 * regular file before a byte is read. Anything else is not "present", and the item is fetched
 * as usual, where the sink decides what to do with the name (fetch_files.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch/fetch_internal.h"

/* Read at a time: on the worker's stack, like fetch_resume.c's rehash. */
#define SKIP_PIECE 16384

int fo__skip_present(const fo_fetch_req *req) {
  unsigned char want[32], got[32];
  if (req->output == NULL || fo__sha256_parse(req->sha256, want) != 0)
    return 0;
  int fd = open(req->output, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return 0;
  struct stat st;
  int same = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    unsigned char buf[SKIP_PIECE];
    int ok = SHA_START(&sha) == 0;
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        ok = ok && n == 0;
        break;
      }
      ok = ok && SHA_UPDATE(&sha, buf, (size_t)n) == 0;
    }
    same = ok && SHA_FINISH(&sha, got) == 0 && memcmp(got, want, sizeof want) == 0;
    mbedtls_sha256_free(&sha);
  }
  close(fd);
  return same;
}
