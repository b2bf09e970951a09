/* Internal error detail: an errno code plus the human sentence that names the
 * offending value ("10.0.0.0/33: prefix length 33 > 32"). Every layer that can
 * refuse input fills one of these so the message survives up to the API, the
 * RPC error object and the CLI without being re-worded. */
#ifndef NR_UTIL_ERR_H
#define NR_UTIL_ERR_H

#include <stddef.h>

#define NR_ERR_MSG_MAX 256

struct nr_err {
	int code;                 /* negative errno, 0 when no error */
	char msg[NR_ERR_MSG_MAX]; /* NUL-terminated, empty when no error */
};

/* Record an error and return `code` (a negative errno) so callers can write
 * `return nr_err_set(err, -EINVAL, "...", ...);`. `err` may be NULL. */
int nr_err_set(struct nr_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put context in front of the message a lower layer left in err:
 * "node-2: " + "10.0.0.0/33: prefix length 33 > 32". Keeps err->code unless
 * it is 0 (then `code`). Returns the resulting code. */
int nr_err_prefix(struct nr_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Forget a previous error. `err` may be NULL. */
void nr_err_clear(struct nr_err *err);

#endif
