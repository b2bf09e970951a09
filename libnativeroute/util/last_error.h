/* The thread-local "why did the last call fail" text behind nr_last_errmsg().
 * Public entry points that refuse input call nr_last_error_set_from() with the
 * nr_err the lower layer filled, or nr_last_error_set() directly. */
#ifndef NR_UTIL_LAST_ERROR_H
#define NR_UTIL_LAST_ERROR_H

#include "util/err.h"

/* Store err's text (or nr_strerror(code) when it has none) and return
 * err->code, or `code` when err carries none. */
int nr_last_error_set_from(const struct nr_err *err, int code);
int nr_last_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nr_last_error_clear(void);

#endif
