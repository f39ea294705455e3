/* fo_strerror: names for negative errno values and fanout's own codes. */
#include "config.h"

#include <string.h>

#include "fanout/fanout.h"

const char *fo_strerror(int err) {
  if (err == 0)
    return "success";
  if (err > 0)
    err = -err;
  switch (err) {
#define FO__ERR_CASE(name, off, msg)                                                               \
  case FO_##name:                                                                                  \
    return msg;
    FO_ERRNO_MAP(FO__ERR_CASE)
#undef FO__ERR_CASE
  default:
    break;
  }
  if (err > -FO_ERRBASE) {
    /* glibc and musl return constant strings for every errno they know, and a per-thread
     * buffer for the rest; either way the pointer stays valid for this thread. */
    return strerror(-err);
  }
  return "unknown error";
}
