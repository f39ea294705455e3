/* fo_strerror and fo_errname: descriptions and names for negative errno values and fanout's own
 * codes; fo_opt_error_format: the sentence for a refused option. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fanout/fanout.h"
#include "base/base_internal.h"

const char *fo_strerror(int err) {
  if (err == 0)
    return "success";
  if (err > 0)
    return "not an error code (a positive value: a count or a handle)";
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

/* Names in fixed arrays rather than pointers: the table then needs no relocations and stays in
 * read-only data of a static firmware image. The longest name is 15 characters. */
static const struct {
  int code;
  char name[16];
} errno_names[] = {
#define FO__ERRNO_NAME(e) {e, #e},
#include "errno_names.def"
#undef FO__ERRNO_NAME
};

const char *fo_errname(int err) {
  if (err == 0)
    return "OK";
  if (err > 0)
    return "POSITIVE";
  switch (err) {
#define FO__ERR_NAME(name, off, msg)                                                               \
  case FO_##name:                                                                                  \
    return "FO_" #name;
    FO_ERRNO_MAP(FO__ERR_NAME)
#undef FO__ERR_NAME
  default:
    break;
  }
  if (err < -FO_ERRBASE)
    return "E?";
  for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
    if (errno_names[i].code == -err)
      return errno_names[i].name;
  return "E?";
}

int fo_opt_error_format(const fo_opt_error *e, char *buf, size_t n) {
  if (e == NULL || e->field == NULL || (buf == NULL && n > 0))
    return -EINVAL;
  char dummy[1];
  /* A string option's range is of its length, 1 to LLONG_MAX: "1 or more" reads better. */
  int len = e->max == LLONG_MAX
                ? snprintf(n > 0 ? buf : dummy, n > 0 ? n : sizeof dummy,
                           "%s = %lld: accepted %lld or more", e->field, e->value, e->min)
                : snprintf(n > 0 ? buf : dummy, n > 0 ? n : sizeof dummy,
                           "%s = %lld: accepted %lld to %lld", e->field, e->value, e->min, e->max);
  return len < 0 ? -EINVAL : len;
}

int fo__opt_range(const char *field, long long value, long long min, long long max,
                  fo_opt_error *why) {
  if (value >= min && value <= max)
    return 1;
  if (why != NULL) {
    why->field = field;
    why->min = min;
    why->max = max;
    why->value = value;
  }
  return 0;
}

int fo__opt_urange(const char *field, unsigned long long value, unsigned long long max,
                   fo_opt_error *why) {
  if (value <= max)
    return 1;
  return fo__opt_range(field, value > LLONG_MAX ? LLONG_MAX : (long long)value, 0,
                       max > LLONG_MAX ? LLONG_MAX : (long long)max, why);
}
