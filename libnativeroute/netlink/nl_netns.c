#include "netlink/nl_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int netns_open(const char *netns, struct nr_err *err)
{
	char path[PATH_MAX];
	int fd;

	if (strchr(netns, '/'))
		snprintf(path, sizeof(path), "%s", netns);
	else if (!*netns || !strcmp(netns, ".") || !strcmp(netns, ".."))
		return nr_err_set(err, -EINVAL, "netns \"%s\": not a valid name", netns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nr_err_set(err, -errno, "netns %s: open %s: %s", netns, path,
				  strerror(errno));
	return fd;
}

int nr_nl_netns_run(const char *netns, int (*fn)(void *arg), void *arg,
		    struct nr_err *err)
{
	int orig, target, ret;

	if (!netns)
		return fn(arg);
	target = netns_open(netns, err);
	if (target < 0)
		return target;
	/* thread-self, not self: namespaces are per thread and only this
	 * thread moves. */
	orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0) {
		ret = nr_err_set(err, -errno, "netns %s: cannot open own netns: %s",
				 netns, strerror(errno));
		close(target);
		return ret;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		ret = nr_err_set(err, -errno, "netns %s: setns: %s", netns,
				 strerror(errno));
	} else {
		ret = fn(arg);
		if (setns(orig, CLONE_NEWNET) < 0) {
			fprintf(stderr, "libnativeroute: cannot leave netns %s: %s\n",
				netns, strerror(errno));
			abort();
		}
	}
	close(orig);
	close(target);
	return ret;
}
