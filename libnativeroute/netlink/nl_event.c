#include "netlink/nl_event.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

/* One datagram, MSG_DONTWAIT so this works on a blocking socket too.
 * Returns bytes, 0 when nothing is queued, or -errno. */
static int event_recv(struct nr_nl *nl, void *buf, size_t len)
{
	struct sockaddr_nl addr;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_name = &addr, .msg_namelen = sizeof(addr),
			      .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	for (;;) {
		msg.msg_namelen = sizeof(addr);
		n = recvmsg(nr_nl_fd(nl), &msg, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (msg.msg_flags & MSG_TRUNC)
			return -ENOBUFS; /* lost part of a message: as bad as a drop */
		/* Only the kernel (port 0) speaks for the kernel. */
		if (addr.nl_pid == 0)
			return (int)n;
	}
}

static int event_dispatch(const void *buf, int n, nr_nl_event_cb cb, void *data)
{
	const struct nlmsghdr *nlh = buf;
	int count = 0;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		int r;

		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		r = cb(nlh, data);
		if (r < 0)
			return r;
		count++;
	}
	return count;
}

int nr_nl_event_read(struct nr_nl *nl, nr_nl_event_cb cb, void *data)
{
	char buf[NR_NL_RECV_SIZE];
	int total = 0;

	for (;;) {
		int n = event_recv(nl, buf, sizeof(buf));

		if (n <= 0)
			return n < 0 ? n : total;
		n = event_dispatch(buf, n, cb, data);
		if (n < 0)
			return n;
		total += n;
	}
}
