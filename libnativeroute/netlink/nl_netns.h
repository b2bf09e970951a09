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

/* For work done later from another thread (libuv's thread pool): an fd of
 * `netns` as above, or with NULL of the calling thread's own namespace
 * (/proc/thread-self/ns/net: where the controller's sockets were opened).
 * Returns the fd (O_CLOEXEC) or -errno with text in err. */
int nr_nl_netns_open(const char *netns, struct nr_err *err);
/* nr_nl_netns_run on the namespace of an fd from nr_nl_netns_open: always
 * on a short-lived thread that enters it (the calling thread, a pool
 * thread, may be in any namespace and never changes it). The fd stays
 * open. */
int nr_nl_netns_run_fd(int netns_fd, int (*fn)(void *arg), void *arg, struct nr_err *err);

#endif
