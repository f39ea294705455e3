/* The handshake benchmark's same-library peer: plain libcurl (the very build fanout links, on the
 * same mbedTLS) fetching each URL given on the command line in turn with one easy handle, a client
 * certificate and a CA file, writing each body to stdout as `fanout-demo get` does. With it beside
 * Debian's curl (on OpenSSL), tests/bench/fetch_field_tls.sh tells what fanout costs from what the
 * TLS library costs.
 *   peer_curl_mtls CERT KEY CAFILE URL...   exit 0 when every URL answered 200 */
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

static size_t out(char *data, size_t size, size_t n, void *arg) {
  (void)arg;
  return fwrite(data, size, n, stdout) * size;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: peer_curl_mtls CERT KEY CAFILE URL...\n");
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  CURL *c = curl_easy_init();
  if (c == NULL)
    return 1;
  curl_easy_setopt(c, CURLOPT_SSLCERT, argv[1]);
  curl_easy_setopt(c, CURLOPT_SSLKEY, argv[2]);
  curl_easy_setopt(c, CURLOPT_CAINFO, argv[3]);
  curl_easy_setopt(c, CURLOPT_CAPATH, NULL); /* the named CA only, as fanout's --cacert */
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, out);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  int bad = 0;
  for (int i = 4; i < argc; i++) {
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, argv[i]);
    if (curl_easy_perform(c) != CURLE_OK ||
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
      bad++;
  }
  curl_easy_cleanup(c);
  curl_global_cleanup();
  return bad == 0 ? 0 : 1;
}
