/* A firmware image streamed to disk, cut halfway, resumed and verified: the file sink writes
 * under a temporary name and renames only a whole body whose SHA-256 matches; FO_FETCH_RESUME
 * keeps a cut transfer's bytes in ".NAME.part" so the next attempt (or run) asks for the rest.
 *
 *   download URL SHA256 DIR    e.g. download 'http://localhost:PORT/blob?cut=300000&n=1' HEX /tmp
 *
 * The URL's first answer must be cut (the local mirror's cut=B&n=1 does it); the program then
 * checks that the first attempt left only the partial file, and that the second resumed it into
 * DIR/firmware.bin with the expected digest.
 *
 *   cc download.c $(pkg-config --static --cflags --libs fanout)
 */
#include <stdio.h>
#include <sys/stat.h>
#include <fanout/fetch.h>

static long long size_of(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

int main(int argc, char **argv)
{
  char out[512], part[512], tag[512];
  fo_fetch_result res;
  fo_fetcher *f;
  int ok = 1;

  if (argc != 4 || fo_fetch_global_init() != 0)
    return 2;
  snprintf(out, sizeof out, "%s/firmware.bin", argv[3]);
  snprintf(part, sizeof part, "%s/.firmware.bin.part", argv[3]);
  snprintf(tag, sizeof tag, "%s/.firmware.bin.part.tag", argv[3]);
  fo_fetch_req req = {.url = argv[1], .output = out, .sha256 = argv[2], .flags = FO_FETCH_RESUME};
  fo_opt_error why;
  if (fo_fetch_req_check(&req, &why) != 0) {
    fprintf(stderr, "request refused: %s\n", why.field);
    return 2;
  }
  /* No retries, so the cut ends the call: as if the board lost power or link here. */
  int rc = fo_fetcher_create(&f, &(fo_fetch_opts){.retries = 0});
  if (rc != 0) {
    fprintf(stderr, "fo_fetcher_create: %s\n", fo_strerror(rc));
    return 1;
  }
  /* First run: cut. Nothing at out; what arrived waits in the partial file. */
  fo_fetch_requests(f, &req, 1, &res, NULL, NULL);
  long long kept = size_of(part);
  printf("first:  %s, %llu bytes kept\n", res.message, (unsigned long long)(kept > 0 ? kept : 0));
  ok &= res.err != 0 && size_of(out) < 0 && kept > 0 && size_of(tag) > 0;
  fo_fetch_result_free(&res);

  /* Second run: Range and If-Range ask for the rest; the digest covers the whole file. */
  fo_fetch_requests(f, &req, 1, &res, NULL, NULL);
  printf("second: status %ld, %llu bytes, %llu resumed %s\n", res.status, res.bytes, res.resumed,
         res.err != 0 ? res.message : "");
  ok &= res.err == 0 && res.status == 206 && (long long)res.resumed == kept &&
        size_of(out) == (long long)res.bytes && size_of(part) < 0 && size_of(tag) < 0;
  fo_fetch_result_free(&res);

  /* A wrong digest leaves the good file alone and fails with FO_EDIGEST. */
  req.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
  fo_fetch_requests(f, &req, 1, &res, NULL, NULL);
  printf("wrong digest: %s\n", fo_errname(res.err));
  ok &= res.err == FO_EDIGEST && size_of(out) == (long long)res.bytes;
  fo_fetch_result_free(&res);

  fo_fetcher_destroy(f);
  fo_fetch_global_cleanup();
  puts(ok ? "download: checked" : "download: WRONG");
  return ok ? 0 : 1;
}
