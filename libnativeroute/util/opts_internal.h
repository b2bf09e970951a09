/* Reading caller-supplied option structs (see include/nativeroute/opts.h).
 * Each public opts type `struct nr_foo_opts` has a companion macro
 * `nr_foo_opts__last_field` naming its last known field, so the library knows
 * where "its" part of the struct ends. */
#ifndef NR_UTIL_OPTS_INTERNAL_H
#define NR_UTIL_OPTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define nr_offsetofend(TYPE, FIELD) \
	(offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))

/* True when a caller's options struct of size `user_sz` may be used by a
 * library that knows `known_sz` bytes of it: sz must be at least sizeof(size_t)
 * and any bytes past what we know must be zero. */
bool nr_opts_valid(const void *opts, size_t known_sz, size_t user_sz,
		   const char *type_name, struct nr_err *err);

#define OPTS_VALID(opts, type, err)                                      \
	(!(opts) || nr_opts_valid((opts),                                \
				  nr_offsetofend(struct type, type##__last_field), \
				  (opts)->sz, #type, (err)))

/* Whether the caller's struct is large enough to contain FIELD. */
#define OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= nr_offsetofend(__typeof__(*(opts)), field))

/* FIELD's value, or `fallback` when the caller's struct predates FIELD or
 * opts is NULL. */
#define OPTS_GET(opts, field, fallback) \
	(OPTS_HAS(opts, field) ? (opts)->field : (fallback))

#endif
