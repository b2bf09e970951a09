#include "netlink/nl_event.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stddef.h>

#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

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

	for (int reads = 0; reads < NR_NL_EVENT_READS; reads++) {
		int n = event_recv(nl, buf, sizeof(buf));

		if (n <= 0)
			return n < 0 ? n : total;
		n = event_dispatch(buf, n, cb, data);
		if (n < 0)
			return n;
		total += n;
	}
	return total; /* more may be queued: the fd still polls readable */
}

/* A classic BPF socket filter: a notification whose nlmsg_pid is one of
 * the given ports and whose type is a change of routes, nexthops,
 * neighbours or addresses is dropped before it is queued. Loads of the
 * packet are big-endian, so the constants are compared byte-swapped. */
int nr_nl_event_ignore_echoes(struct nr_nl *nl, const uint32_t *portids, size_t n)
{
	static const uint16_t types[] = { RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWNEXTHOP,
					  RTM_DELNEXTHOP, RTM_NEWNEIGH, RTM_DELNEIGH,
					  RTM_NEWADDR, RTM_DELADDR };
	const size_t nt = sizeof(types) / sizeof(types[0]);
	struct sock_filter prog[32];
	struct sock_fprog fprog = { .filter = prog };
	size_t k = 0;

	if (n > 8)
		return -E2BIG;
	/* A = nlmsg_pid; a match on port i jumps to the type checks */
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct nlmsghdr, nlmsg_pid));
	for (size_t i = 0; i < n; i++) /* jt: past the other ports and the accept */
		prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(portids[i]),
							 (uint8_t)(n - i), 0);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu); /* accept */
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
						 offsetof(struct nlmsghdr, nlmsg_type));
	for (size_t i = 0; i < nt; i++) /* jt: to the drop after the last check */
		prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohs(types[i]),
							 (uint8_t)(nt - i), 0);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu); /* accept */
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);           /* drop */
	fprog.len = (unsigned short)k;
	if (setsockopt(nr_nl_fd(nl), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0)
		return -errno;
	return 0;
}
