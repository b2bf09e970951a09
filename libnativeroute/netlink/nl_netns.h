/* Running code inside a named network namespace. Netlink sockets and
 * /proc/sys/net files belong to the namespace of the thread that opens them,
 * so "work on netns X" means: open them on a thread inside X. The opened
 * object stays bound to X afterwards. */
#ifndef NR_NETLINK_NL_NETNS_H
#define NR_NETLINK_NL_NETNS_H

#include "util/err.h"

/* Run fn(arg) inside network namespace `netns`, on a short-lived thread
 * that enters it (the calling thread never changes namespace), and wait for
 * it. `netns` is a name under /run/netns (as `ip netns add` creates), a
 * path containing '/' (e.g. /proc/PID/ns/net), or NULL for "the current
 * namespace" (fn runs in place, on the calling thread). Returns fn's
 * result; -errno (with text in err) when the namespace cannot be entered.
 * fn must not rely on the caller's thread-local state. */
int nr_nl_netns_run(const char *netns, int (*fn)(void *arg), void *arg,
		    struct nr_err *err);

#endif
