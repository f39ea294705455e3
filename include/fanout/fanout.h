/**
 * @file fanout.h
 * fanout: move work out of one thread and one process.
 *
 * This header holds what every module shares: the error convention, the allocator hook and the
 * CPU count. Module headers (tpool.h, ipc.h, ...) include it.
 *
 * Errors. Every function that can fail returns an int: 0 (or a count) on success, a negative
 * errno on failure (-ENOMEM, -EINVAL, -ETIMEDOUT, ...). Conditions that no errno describes have
 * codes of fanout's own, listed in FO_ERRNO_MAP below; they lie below -FO_ERRBASE, outside the
 * errno range. fo_strerror() names every code.
 *
 * Threads and processes. fo_strerror() and fo_cpu_count() are thread-safe and safe in a child
 * after fork(). fo_set_allocator() is not: call it once, before any other fanout call and before
 * the program starts threads that use fanout.
 */
#ifndef FANOUT_FANOUT_H
#define FANOUT_FANOUT_H

#include <stddef.h>

#include "fanout/version.h"

#ifdef __cplusplus
extern "C" {
#endif

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
  XX(EEOF, 30, "end of stream: the writer closed its end")                                         \
  XX(EBROKEN, 31, "stream cut off in the middle of a message (the writer died or closed)")         \
  XX(EFULL, 32, "fixed-capacity container is full")                                                \
  XX(EJSONTRUNC, 40, "JSON input ends before the value is complete")                               \
  XX(EJSONDEPTH, 41, "JSON nesting deeper than the limit")                                         \
  XX(EBADID, 42, "record id is not 24 lowercase hexadecimal digits")                               \
  XX(EDATE, 43, "date is neither YYYY-MM-DD nor YYYY-MM-DD[T ]hh:mm:ss[.fraction]")                \
  XX(EPARTIAL, 80, "some items of a map failed: its report says which and why") \
  XX(ECONTENTTYPE, 60, "response has an unexpected content type")

#define FO__ERR_ENUM(name, off, msg) FO_##name = -(FO_ERRBASE + (off)),
/** fanout's own error codes, all negative. */
enum fo_error { FO_ERRNO_MAP(FO__ERR_ENUM) FO__ERR_END = -(FO_ERRBASE + 1000) };
#undef FO__ERR_ENUM

/**
 * Describe an error code.
 * @param err 0, a negative errno, or one of fanout's codes. A positive errno (a caller that
 *            forgot the sign) is described like its negation.
 * @return a constant string, never NULL; "unknown error" for a code nobody defined.
 * Thread-safe.
 */
const char *fo_strerror(int err);

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

/** What this library was built with and runs on. Every string is static and never NULL. */
typedef struct fo_info {
  const char *version;      /**< fanout's version, FO_VERSION_STRING */
  const char *port;         /**< operating-system port: "linux" or "posix" */
  int fetch;                /**< 1 when built with libcurl (fetch.h usable), else 0 */
  const char *curl_version; /**< libcurl's version at run time, "" without fetch */
  const char *tls_backend;  /**< libcurl's TLS library at run time, e.g. "mbedTLS/2.28.3"; "" without fetch */
} fo_info;
/** Fill *out. @return 0, -EINVAL (out is NULL). Thread-safe; no allocation. */
int fo_info_get(fo_info *out);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_FANOUT_H */
