/* Extensible option structs, in the libbpf style.
 *
 * Every options struct starts with `size_t sz` (set to sizeof the struct the
 * caller was compiled with) and ends with `size_t :0;` so that the struct's
 * size covers its padding. The library reads only the fields the caller's
 * `sz` covers and uses defaults for the rest, so a program built against older
 * headers keeps working with a newer library; a program built against newer
 * headers is refused with -EINVAL only if it sets (non-zero) a field this
 * library does not know. Always declare options with NR_OPTS:
 *
 *     NR_OPTS(nr_ctl_opts, opts, .node_name = "node-1");
 */
#ifndef NATIVEROUTE_OPTS_H
#define NATIVEROUTE_OPTS_H

#include <string.h>

#if defined(__GNUC__) && !defined(__cplusplus)
/* Zero the whole object first (padding included: the library checks that
 * unknown trailing bytes are zero), then apply the designated initializers.
 * A comma expression, not a statement expression: compound literals in the
 * initializers (`.pod_cidrs = (const char *[]){ "10.0.0.0/24", NULL }`)
 * then live as long as NAME, not only until the end of a ({ }) block. */
#define NR_OPTS(TYPE, NAME, ...)                                          \
	struct TYPE NAME = ((void)memset(&NAME, 0, sizeof(struct TYPE)),  \
			    __extension__(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ })
#else
#define NR_OPTS(TYPE, NAME, ...) \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }
#endif

#endif
