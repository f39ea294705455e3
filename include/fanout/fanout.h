/**
 * @file fanout.h
 * fanout: move work out of one thread and one process.
 *
 * This header holds what every module shares: the conventions below, the error codes, the
 * allocator hook, the CPU count and the version. Module headers (tpool.h, ipc.h, ...) include it.
 *
 * Conventions. They hold for every public header; each is written here once.
 * - Errors. Every function that can fail returns an int: 0 (or a count, or a handle) on success,
 *   a negative errno on failure (-ENOMEM, -EINVAL, -ETIMEDOUT, ...). Conditions that no errno
 *   describes have codes of fanout's own, listed in FO_ERRNO_MAP below; they lie below
 *   -FO_ERRBASE, outside the errno range. fo_strerror() describes every code and fo_errname()
 *   names it ("ENOMEM", "FO_ETOOBIG"). A positive value is never an error code: fo_strerror()
 *   says so rather than describe the errno of the same number.
 * - Waiting. Every call that can wait takes int timeout_ms: FO_FOREVER (-1) waits as long as it
 *   takes, 0 does not wait, a positive value bounds the whole call (signals and spurious wake-ups
 *   included); any other negative value is -EINVAL. -EAGAIN means "would have to wait" (timeout
 *   0 and not ready); -ETIMEDOUT means "waited, and the time ran out" (timeout > 0). Interrupted
 *   system calls are resumed, never reported as -EINTR.
 * - Options. An options struct (fo_tpool_opts, fo_fetch_opts, ...) may be NULL for every
 *   default, and a zero field takes that field's default (a time limit in an options struct is a
 *   limit on work, not a wait of the caller's). Each struct has a check call,
 *   fo_MODULE_opts_check(), which the create call uses itself: on -EINVAL it fills a
 *   fo_opt_error naming the field, its accepted range and the value passed, which
 *   fo_opt_error_format() turns into a sentence.
 * - Sizes. A call that fills a caller's buffer never truncates: a buffer too small gives
 *   FO_ETOOBIG and, where the caller could not know it, the size needed (a size query).
 * - Positions. A JSON error comes with its byte offset, line and column (fo_json_error, json.h).
 *
 * Threads and processes. fo_strerror(), fo_errname(), fo_opt_error_format(), fo_version() and
 * fo_cpu_count() are thread-safe and safe in a child after fork(). fo_set_allocator() is not:
 * call it once, before any other fanout call and before the program starts threads that use
 * fanout.
 */
#ifndef FANOUT_FANOUT_H
#define FANOUT_FANOUT_H

#include <errno.h>
#include <stddef.h>

#include "fanout/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Wait as long as it takes: the timeout_ms of any call that can wait. */
#define FO_FOREVER (-1)

/** fanout's own codes start here, well above any errno value (Linux's largest is about 133). */
#define FO_ERRBASE 4000

/**
 * fanout's own error codes: XX(name, offset, message). The code is -(FO_ERRBASE + offset).
 * Offsets are never reused, so a code keeps its meaning across versions.
 */
#define FO_ERRNO_MAP(XX)                                                                           \
  XX(EINTERNAL, 1, "internal error in fanout (a bug: please report it)")                           \
  XX(ETASK, 2, "not allowed from inside a task of the same pool")                                  \
  XX(EMQLIMIT, 3, "message queue request exceeds the kernel limit (/proc/sys/fs/mqueue)")          \
  XX(EMQCOUNT, 4, "too many message queues for this user (RLIMIT_MSGQUEUE)")                       \
  XX(ETOOBIG, 5, "message or value larger than its buffer or limit")                               \
  XX(EWORKER, 6, "a worker process died")                                                          \
  XX(EJSON, 7, "malformed JSON")                                                                   \
  XX(EJSONTYPE, 8, "JSON value has the wrong type")                                                \
  XX(ENOTFOUND, 9, "no such key or path")                                                          \
  XX(EHTTP, 10, "HTTP status was not 2xx")                                                         \
  XX(ETRANSPORT, 11, "network transport error")                                                    \
  XX(ETLS, 12, "TLS error (handshake or certificate verification)")                                \
  XX(EEOF, 30, "end of stream: the writer closed its end, or a sender marked it")                  \
  XX(EBROKEN, 31, "stream cut off in the middle of a message (the writer died or closed)")         \
  XX(EFULL, 32, "fixed-capacity container is full")                                                \
  XX(EJSONTRUNC, 40, "JSON input ends before the value is complete")                               \
  XX(EJSONDEPTH, 41, "JSON nesting deeper than the limit")                                         \
  XX(EBADID, 42, "record id is not 24 lowercase hexadecimal digits")                               \
  XX(EDATE, 43, "date is neither YYYY-MM-DD nor YYYY-MM-DD[T ]hh:mm:ss[.fraction]")                \
  XX(EPARTIAL, 80, "some items of a map failed: its report says which and why") \
  XX(ECONTENTTYPE, 60, "response has an unexpected content type")                                  \
  XX(EDIGEST, 61, "body does not match its expected SHA-256 digest")                               \
  XX(EABORTED, 62, "a callback of the caller stopped the transfer")                                \
  XX(EBODY, 63, "request body could not be read, or ended before its announced length")          \
  XX(EENCODING, 64, "compressed response body is corrupt, cut short or in an unknown encoding") \
  XX(EHEADER, 65, "the server's response headers are over the size bound")                        \
  XX(EREDIRECT, 66, "the server's redirect was refused (to http, to another scheme, too many)")    \
  XX(EPROTOCOL, 67, "the server's answer does not match the request or HTTP")                      \
  XX(EUNSAFE, 68, "a file in the way is not one fanout created, or not a regular file: left alone")

#define FO__ERR_ENUM(name, off, msg) FO_##name = -(FO_ERRBASE + (off)),
/** fanout's own error codes, all negative. */
enum fo_error { FO_ERRNO_MAP(FO__ERR_ENUM) FO__ERR_END = -(FO_ERRBASE + 1000) };
#undef FO__ERR_ENUM

/**
 * Why an options struct was refused. The *_opts_check() calls fill it when they return -EINVAL,
 * so a program can say which field was wrong and what it accepts.
 */
typedef struct fo_opt_error {
  const char *field; /**< the field's name as spelled in the header, e.g. "threads" */
  long long min;     /**< smallest accepted value */
  long long max;     /**< largest accepted value */
  long long value;   /**< the value that was passed */
} fo_opt_error;

/**
 * Describe an error code.
 * @param err 0, a negative errno, or one of fanout's codes.
 * @return a constant string, never NULL: "success" for 0; "not an error code (a positive value:
 *         a count or a handle)" for any err > 0, so that a count such as fo_fetch_many()'s is
 *         never described as the errno of the same number; "unknown error" for a negative code
 *         nobody defined.
 * Thread-safe.
 */
const char *fo_strerror(int err);

/**
 * The symbolic name of an error code, for logs: "ENOMEM" for -ENOMEM, "FO_ETOOBIG" for
 * FO_ETOOBIG. Every code fo_strerror() describes has a name: the errno values Linux defines
 * (where two names share a value, as EAGAIN and EWOULDBLOCK, the first POSIX name) and every
 * entry of FO_ERRNO_MAP.
 * @return a constant string, never NULL: "OK" for 0, "POSITIVE" for any err > 0 (not an error
 *         code), "E?" for a negative code with no name on this system.
 * Thread-safe.
 */
const char *fo_errname(int err);

/**
 * Write why an options struct was refused as one line, "threads = 300: accepted 0 to 256", into
 * buf, always NUL-terminated when n > 0, like snprintf().
 * @param e a fo_opt_error filled by a *_opts_check() call.
 * @param buf, n where to write; buf may be NULL when n is 0 (to learn the length).
 * @return the length the whole line needs, without the NUL (a return >= n means it was cut);
 *         -EINVAL (NULL e or e->field, NULL buf with n > 0).
 * Thread-safe.
 */
int fo_opt_error_format(const fo_opt_error *e, char *buf, size_t n);

/**
 * The library's version as built, "0.2.0": the value of FO_VERSION_STRING in the library, which
 * may differ from the header a program was compiled with.
 * @return a constant string, never NULL. Thread-safe.
 */
const char *fo_version(void);

/**
 * The library's version as one number, FO_VERSION_NUMBER of the library: major * 10000 +
 * minor * 100 + patch (0.2.0 is 200), so `fo_version_number() >= 200` reads as "0.2 or later".
 * Thread-safe.
 */
unsigned fo_version_number(void);

/**
 * The allocator hook. Every allocation fanout makes goes through these three functions, so a
 * firmware tool can route them to its own heap and tests can count or fail them. calloc is built
 * on malloc (with an overflow check), so it needs no hook of its own.
 *
 * - malloc(size, ctx): size is never 0; return NULL on failure.
 * - realloc(ptr, size, ctx): ptr is never NULL and size never 0; on failure return NULL and
 *   leave ptr valid.
 * - free(ptr, ctx): ptr is never NULL.
 */
typedef struct fo_allocator {
  void *(*malloc)(size_t size, void *ctx);
  void *(*realloc)(void *ptr, size_t size, void *ctx);
  void (*free)(void *ptr, void *ctx);
  void *ctx; /**< passed to each function untouched */
} fo_allocator;

/**
 * Replace the allocator. The table is copied. NULL restores the C library's malloc/realloc/free.
 * @return 0, -EINVAL (a function pointer is NULL).
 * Not thread-safe: call before any other fanout call. Memory allocated before the switch must not
 * be outstanding when it happens (it would be freed by the wrong allocator).
 */
int fo_set_allocator(const fo_allocator *alloc);

/**
 * The number of CPUs this process may actually use: the smallest of the CPUs online, the CPUs in
 * its affinity mask and, on Linux, the cgroup CPU quota (cgroup v2 cpu.max or v1 cfs quota,
 * rounded up, the tightest limit along the cgroup path). This is the right default for the
 * number of worker processes; the online count alone over-subscribes containers and pinned tools.
 * @return the count, always >= 1 (1 when nothing can be read).
 * Thread-safe; safe after fork(). Reads /proc and /sys on each call: cache the result.
 */
int fo_cpu_count(void);

/**
 * The number of CPUs online in the machine, whatever this process may use (the kernel's list in
 * /sys/devices/system/cpu/online; sysconf(_SC_NPROCESSORS_ONLN) where /sys is not mounted). Not
 * sysconf alone: on musl that counts the affinity mask instead.
 * @return the count, always >= 1 (1 when nothing can be read).
 * Thread-safe; safe after fork().
 */
int fo_cpu_online(void);

/** What this library was built with and runs on. Every string is static and never NULL. */
typedef struct fo_info {
  const char *version;      /**< fanout's version, FO_VERSION_STRING */
  const char *port;         /**< operating-system port: "linux" or "posix" */
  int fetch;                /**< 1 when built with libcurl (fetch.h usable), else 0 */
  const char *curl_version; /**< libcurl's version at run time, "" without fetch */
  const char *tls_backend;  /**< libcurl's TLS library at run time, e.g. "mbedTLS/2.28.3"; "" without fetch */
  int http2;                /**< 1 when the libcurl in use speaks HTTP/2 (built with nghttp2:
                                 its CURL_VERSION_HTTP2 feature, read at run time), else 0 */
} fo_info;
/** Fill *out. @return 0, -EINVAL (out is NULL). Thread-safe; no allocation. */
int fo_info_get(fo_info *out);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_FANOUT_H */
