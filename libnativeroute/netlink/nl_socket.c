#include "netlink/nl_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netlink/nl_netns.h"

/* 32 MiB: 10,000 ACKs or a route-churn burst fit without ENOBUFS. */
#define NR_NL_RCVBUF (32 * 1024 * 1024)

static const unsigned int nr_nl_event_groups[] = {
	RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP, RTNLGRP_LINK,
	RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_NEIGH,
};

struct nr_nl_open_args {
	unsigned int flags;
	struct mnl_socket *sock;
	int error;
};

/* Runs inside the target namespace: only socket creation needs to. */
static int nl_open_in_ns(void *arg)
{
	struct nr_nl_open_args *a = arg;

	a->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC |
				   ((a->flags & NR_NL_NONBLOCK) ? SOCK_NONBLOCK : 0));
	a->error = a->sock ? 0 : -errno;
	return a->error;
}

static void nl_set_rcvbuf(struct mnl_socket *sock)
{
	int fd = mnl_socket_get_fd(sock);
	int size = NR_NL_RCVBUF;

	/* FORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; without it
	 * take what rmem_max allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* A blocking command socket must not wait forever for an answer. */
static void nl_set_timeout(struct mnl_socket *sock)
{
	struct timeval tv = { .tv_sec = NR_NL_TIMEOUT_MS / 1000,
			      .tv_usec = (NR_NL_TIMEOUT_MS % 1000) * 1000 };

	setsockopt(mnl_socket_get_fd(sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int nl_configure(struct mnl_socket *sock, unsigned int flags,
			struct nr_err *err)
{
	int one = 1;

	/* Old kernels lack these; we only lose error text / ACK trimming. */
	mnl_socket_setsockopt(sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (!(flags & NR_NL_EVENTS))
		mnl_socket_setsockopt(sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	nl_set_rcvbuf(sock);
	if (!(flags & NR_NL_EVENTS))
		nl_set_timeout(sock);
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return nr_err_set(err, -errno, "netlink bind: %s", strerror(errno));
	if (!(flags & NR_NL_EVENTS))
		return 0;
	for (size_t i = 0; i < sizeof(nr_nl_event_groups) / sizeof(nr_nl_event_groups[0]); i++) {
		int group = (int)nr_nl_event_groups[i];

		if (mnl_socket_setsockopt(sock, NETLINK_ADD_MEMBERSHIP, &group,
					  sizeof(group)) < 0)
			return nr_err_set(err, -errno, "netlink join group %d: %s",
					  group, strerror(errno));
	}
	return 0;
}

int nr_nl_open(const char *netns, unsigned int flags, struct nr_nl **ret,
	       struct nr_err *err)
{
	struct nr_nl_open_args a = { .flags = flags };
	struct nr_nl *nl;
	int r;

	r = nr_nl_netns_run(netns, nl_open_in_ns, &a, err);
	if (r < 0)
		return a.error ? nr_err_set(err, a.error, "netlink socket in netns %s: %s",
					    netns ? netns : "(current)", strerror(-a.error))
			       : r;
	r = nl_configure(a.sock, flags, err);
	nl = calloc(1, sizeof(*nl));
	if (r >= 0 && !nl)
		r = nr_err_set(err, -ENOMEM, "netlink socket: out of memory");
	if (r < 0) {
		free(nl);
		mnl_socket_close(a.sock);
		return r;
	}
	nl->sock = a.sock;
	nl->portid = mnl_socket_get_portid(a.sock);
	nl->flags = flags;
	*ret = nl;
	return 0;
}

void nr_nl_close(struct nr_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

int nr_nl_fd(const struct nr_nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

uint32_t nr_nl_next_seq(struct nr_nl *nl)
{
	if (++nl->seq == 0)
		nl->seq = 1;
	return nl->seq;
}

int nr_nl_rcvbuf(const struct nr_nl *nl)
{
	int size = 0;
	socklen_t len = sizeof(size);

	if (getsockopt(nr_nl_fd(nl), SOL_SOCKET, SO_RCVBUF, &size, &len) < 0)
		return -errno;
	return size;
}

int nr_nl_send(struct nr_nl *nl, const void *buf, size_t len)
{
	ssize_t n = mnl_socket_sendto(nl->sock, buf, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

int nr_nl_wait_readable(struct nr_nl *nl, int timeout_ms)
{
	struct pollfd pfd = { .fd = nr_nl_fd(nl), .events = POLLIN };
	int n = poll(&pfd, 1, timeout_ms);

	if (n == 0)
		return -ETIMEDOUT;
	return n < 0 && errno != EINTR ? -errno : 0;
}

int nr_nl_recv(struct nr_nl *nl, void *buf, size_t len, int timeout_ms)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, len);

		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (!(nl->flags & NR_NL_NONBLOCK))
			return -ETIMEDOUT; /* SO_RCVTIMEO expired */
		n = nr_nl_wait_readable(nl, timeout_ms);
		if (n < 0)
			return (int)n;
	}
}

int nr_nl_read_queued(struct nr_nl *nl, const size_t *pending,
		      void (*on_msg)(const struct nlmsghdr *nlh, void *data), void *data)
{
	char buf[NR_NL_RECV_SIZE];

	for (int reads = 0; *pending && reads < NR_NL_READS_PER_CALL; reads++) {
		int n = nr_nl_recv(nl, buf, sizeof(buf), 0);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;

		if (n == -ETIMEDOUT || n == -EAGAIN)
			return 0; /* nothing more for now */
		if (n < 0)
			return n;
		for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
			on_msg(nlh, data);
	}
	return 0;
}
