# FO_CURL_TLS_BACKEND
# -------------------
# Find which TLS library the libcurl found by pkg-config is built on, without running target code:
# ask the curl-config script installed beside that libcurl, else read the libraries a static link
# would need. Sets fo_curl_tls (a name, or "unknown") and fo_curl_tls_warn=yes when it is not
# mbedTLS, because the fetcher is built and tested against libcurl on mbedTLS.
AC_DEFUN([FO_CURL_TLS_BACKEND], [
  AC_MSG_CHECKING([which TLS library libcurl uses])
  fo_curl_tls=""
  fo_curl_prefix=`$PKG_CONFIG --variable=prefix libcurl 2>/dev/null`
  fo_curl_config="$fo_curl_prefix/bin/curl-config"
  AS_IF([test -n "$fo_curl_prefix" && test -f "$fo_curl_config"],
    [fo_curl_tls=`sh "$fo_curl_config" --ssl-backends 2>/dev/null`])
  AS_IF([test "x$fo_curl_tls" = x], [
    fo_curl_static=`$PKG_CONFIG --static --libs libcurl 2>/dev/null`
    AS_CASE([" $fo_curl_static "],
      [*" -lmbedtls "*], [fo_curl_tls=mbedTLS],
      [*" -lgnutls "*], [fo_curl_tls=GnuTLS],
      [*" -lssl "*], [fo_curl_tls=OpenSSL],
      [*" -lwolfssl "*], [fo_curl_tls=wolfSSL],
      [fo_curl_tls=unknown])])
  AC_MSG_RESULT([$fo_curl_tls])
  fo_curl_tls_warn=no
  AS_CASE([$fo_curl_tls], [mbedTLS], [], [fo_curl_tls_warn=yes])
])
