/* A NETLINK_ROUTE socket (libmnl) opened in a chosen network namespace.
 * Two uses: a command socket (requests, dumps, batches; replies come back
 * to it) and an event socket (bound to the rtnetlink groups we react to).
 * Keep them separate: events interleaved with ACKs would complicate both. */
#ifndef NR_NETLINK_NL_SOCKET_H
#define NR_NETLINK_NL_SOCKET_H

#include <stdbool.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "util/err.h"

/* Receive buffer size for one recvmsg: the kernel fills dump replies up to
 * 32 KiB per skb (libmnl's later MNL_SOCKET_DUMP_SIZE). */
#define NR_NL_RECV_SIZE 32768

/* How long a synchronous exchange waits for the kernel before giving up. */
#define NR_NL_TIMEOUT_MS 10000

enum nr_nl_flags {
	NR_NL_NONBLOCK = 1u << 0, /* O_NONBLOCK; for a caller's poll loop */
	NR_NL_EVENTS = 1u << 1,   /* join the route/nexthop/link/addr/neigh groups */
};

struct nr_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq; /* last sequence number handed out */
	unsigned int flags; /* enum nr_nl_flags it was opened with */
	/* an asynchronous batch is out (nr_nl_batch_begin until its last
	 * answer): a request here would read and drop its ACKs, and with one
	 * ACK per sendmsg a dropped error reads as success - refused instead */
	bool batch_out;
};

/* Open a socket in network namespace `netns` (see nr_nl_netns_run; NULL =
 * the current one). The socket stays bound to that namespace. Always sets
 * NETLINK_EXT_ACK (kernel error text), NETLINK_CAP_ACK (ACKs without the
 * echoed request) and a large receive buffer, so thousands of ACKs or a
 * burst of events do not overflow it. Command sockets also get
 * NETLINK_GET_STRICT_CHK so dump filters (table, protocol) apply in the
 * kernel. On success *ret owns the socket; free with nr_nl_close. */
int nr_nl_open(const char *netns, unsigned int flags, struct nr_nl **ret,
	       struct nr_err *err);

/* Close and free. NULL is fine. */
void nr_nl_close(struct nr_nl *nl);

/* The file descriptor, for a poll loop (uv_poll_t). */
int nr_nl_fd(const struct nr_nl *nl);

/* A fresh sequence number for the next request. Never 0: 0 marks events. */
uint32_t nr_nl_next_seq(struct nr_nl *nl);

/* The receive buffer the kernel actually granted, in bytes. */
int nr_nl_rcvbuf(const struct nr_nl *nl);

/* Send `len` bytes (one or more messages). -errno on failure. */
int nr_nl_send(struct nr_nl *nl, const void *buf, size_t len);

/* Wait up to timeout_ms for the socket to be readable (a worker between
 * two reads of a dump or of pipelined answers). 0: readable, or a signal
 * came (read again); -ETIMEDOUT; -errno when poll failed. */
int nr_nl_wait_readable(struct nr_nl *nl, int timeout_ms);

/* Receive one datagram into buf, waiting up to timeout_ms (poll on a
 * non-blocking socket; a blocking command socket carries a fixed receive
 * timeout of NR_NL_TIMEOUT_MS) so a reply that never comes cannot hang the
 * caller: -ETIMEDOUT then. Returns the byte count or -errno
 * (-ENOBUFS: the kernel dropped messages for us). */
int nr_nl_recv(struct nr_nl *nl, void *buf, size_t len, int timeout_ms);

/* What a caller's loop reads when the socket polls readable: the answers
 * already queued, without waiting, while *pending is not 0, at most
 * NR_NL_READS_PER_CALL receives (a backlog as large as the receive buffer
 * must not hold the loop; the socket stays readable for the rest). on_msg
 * runs per message and lowers *pending for each answer it settles.
 * 0, or -errno when the socket failed. */
#define NR_NL_READS_PER_CALL 256
int nr_nl_read_queued(struct nr_nl *nl, const size_t *pending,
		      void (*on_msg)(const struct nlmsghdr *nlh, void *data), void *data);

#endif
