/* Range checks for the *_opts_check() calls: each fills a fo_opt_error (fanout.h) when a field
 * is refused, so every options struct explains itself the same way. Not installed. */
#ifndef FO_SRC_OPT_H
#define FO_SRC_OPT_H

#include "fanout/fanout.h"

/* 1 when min <= value <= max; otherwise 0, with *why (if not NULL) naming field. */
int fo__opt_range(const char *field, long long value, long long min, long long max,
                  fo_opt_error *why);

/* The same for an unsigned field (a count or a size) accepted from 0 to max; a value beyond
 * LLONG_MAX is reported as LLONG_MAX. */
int fo__opt_urange(const char *field, unsigned long long value, unsigned long long max,
                   fo_opt_error *why);

#endif /* FO_SRC_OPT_H */
