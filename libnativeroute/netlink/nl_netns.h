/* Running code inside a named network namespace. Netlink sockets and
 * /proc/sys/net files belong to the namespace of the thread that opens them,
 * so "work on netns X" means: enter X on this thread, open, come back. The
 * opened object stays bound to X afterwards. */
#ifndef NR_NETLINK_NL_NETNS_H
#define NR_NETLINK_NL_NETNS_H

#include "util/err.h"

/* Run fn(arg) with the calling thread inside network namespace `netns` and
 * return the thread to its original namespace afterwards. `netns` is a name
 * under /run/netns (as `ip netns add` creates), a path containing '/' (e.g.
 * /proc/PID/ns/net), or NULL for "the current namespace" (fn runs in place).
 * Returns fn's result; -errno (with text in err) when the namespace cannot be
 * entered. Only the calling thread moves. If the thread cannot return to its
 * original namespace the process aborts: continuing would silently program
 * the wrong namespace. */
int nr_nl_netns_run(const char *netns, int (*fn)(void *arg), void *arg,
		    struct nr_err *err);

#endif
