/* Error model. Every function that can fail returns an int: >= 0 on success,
 * a negative errno value on failure (-EINVAL, -ENOSPC, ...), like libuv and
 * libbpf. Results come back through out-parameters. Objects that can explain
 * *why* something failed (which value was wrong) keep that text and expose it
 * through their own *_errmsg() call. */
#ifndef NATIVEROUTE_ERROR_H
#define NATIVEROUTE_ERROR_H

#include "common.h"

NR_BEGIN_DECLS

/* Human text for a (negative or positive) errno value, e.g. "No space left on
 * device". Never NULL; unknown codes give "Unknown error". Static storage,
 * thread-safe (does not use strerror's shared buffer). */
NR_API const char *nr_strerror(int err);

/* Symbolic name of an errno value, e.g. "ENOSPC" for -ENOSPC. Never NULL;
 * unknown codes give "EUNKNOWN". Static storage, thread-safe. */
NR_API const char *nr_err_name(int err);

NR_END_DECLS

#endif
