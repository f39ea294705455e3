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

# FO_CURL_HTTP2_CHECK
# -------------------
# Whether the libcurl found by pkg-config has HTTP/2 (nghttp2), without running target code: the
# HTTP2 feature of the curl-config script beside it, else -lnghttp2 in its static link line.
# Sets fo_curl_http2 to yes or no; the tests expect the running libcurl to say the same.
AC_DEFUN([FO_CURL_HTTP2_CHECK], [
  AC_MSG_CHECKING([whether libcurl has HTTP/2])
  fo_curl_http2=no
  fo_curl_prefix=`$PKG_CONFIG --variable=prefix libcurl 2>/dev/null`
  fo_curl_config="$fo_curl_prefix/bin/curl-config"
  AS_IF([test -n "$fo_curl_prefix" && test -f "$fo_curl_config"],
    [AS_IF([sh "$fo_curl_config" --features 2>/dev/null | grep -qx HTTP2], [fo_curl_http2=yes])],
    [AS_CASE([" `$PKG_CONFIG --static --libs libcurl 2>/dev/null` "],
      [*" -lnghttp2 "*], [fo_curl_http2=yes])])
  AC_MSG_RESULT([$fo_curl_http2])
])

# FO_MBEDTLS_VERSION
# ------------------
# The version of the mbedTLS headers the fetcher compiles against (2.28 from Debian 12, 3.6 built
# from Debian 13's source, or a board's own), read by the preprocessor alone so cross builds
# configure too: MBEDTLS_VERSION_STRING is in mbedtls/version.h in 2.x and in
# mbedtls/build_info.h, which version.h includes, in 3.x. libcurl's -I comes first, as for the
# fetcher's own compiles (a build machine may also hold other mbedTLS headers in /usr/include).
# Sets fo_mbedtls_version ("unknown" when the headers say nothing this probe can read).
AC_DEFUN([FO_MBEDTLS_VERSION], [
  AC_MSG_CHECKING([which mbedTLS version the fetcher compiles against])
  AC_LANG_CONFTEST([AC_LANG_SOURCE([[#include <mbedtls/version.h>
fo_mbedtls_version=MBEDTLS_VERSION_STRING]])])
  fo_save_CPPFLAGS=$CPPFLAGS
  CPPFLAGS="$CURL_CFLAGS $CPPFLAGS"
  dnl the string may come out on a line of its own, after a line marker: join the lines first
  fo_mbedtls_version=`(eval "$ac_cpp conftest.$ac_ext") 2>/dev/null | sed '/^#/d' | tr -d '\n' |
    sed -n 's/.*fo_mbedtls_version= *"\([[0-9.]]*\)".*/\1/p'`
  CPPFLAGS=$fo_save_CPPFLAGS
  rm -f conftest.$ac_ext
  AS_IF([test "x$fo_mbedtls_version" = x], [fo_mbedtls_version=unknown])
  AC_MSG_RESULT([$fo_mbedtls_version])
])
