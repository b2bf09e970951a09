/* How the kernel would reach an address right now (RTM_GETROUTE): the
 * input of auto-direct-node-routes, which may install `<pod CIDR> via
 * <node IP>` only when the node IP is on a directly connected link. */
#ifndef NR_NETLINK_NL_REACH_H
#define NR_NETLINK_NL_REACH_H

#include <stdbool.h>
#include <stdint.h>

#include "netlink/nl_socket.h"
#include "util/addr.h"

enum nr_nl_reach_kind {
	NR_NL_REACH_DIRECT = 1,  /* on a connected link: no gateway */
	NR_NL_REACH_GATEWAY = 2, /* only through a router */
	NR_NL_REACH_LOCAL = 3,   /* it is one of our own addresses */
};

struct nr_nl_reach {
	enum nr_nl_reach_kind kind;
	uint32_t ifindex;   /* output device */
	struct nr_addr gw;  /* the router, for NR_NL_REACH_GATEWAY */
	struct nr_addr src; /* the source address the kernel would pick */
};

/* Ask the kernel's full lookup (policy rules included) for `ip`. Returns 0
 * with *out filled, or -errno: -ENETUNREACH (no route, or an unreachable/
 * blackhole/prohibit route; text "node 10.1.2.3: Network is unreachable
 * (ENETUNREACH)"). The answer reflects the routing state at call time:
 * re-ask when links or addresses change. Our own routes never match a
 * node IP (node IPs are outside pod CIDRs), so they cannot distort it. */
int nr_nl_reach(struct nr_nl *nl, const struct nr_addr *ip,
		struct nr_nl_reach *out, struct nr_err *err);

/* The same for n addresses at once, pipelined: the requests go out many
 * per sendmsg and the answers are matched by sequence number, so 10,000
 * lookups cost a few dozen syscalls instead of 20,000 round trips. rc[i]
 * is 0 with out[i] filled, or -errno (-ENETUNREACH: no usable route) for
 * address i. Returns 0, or -errno when the socket itself fails (err says
 * why; answers not received by then have rc[i] = -EIO). */
int nr_nl_reach_many(struct nr_nl *nl, const struct nr_addr *ips, size_t n,
		     struct nr_nl_reach *out, int *rc, struct nr_err *err);

/* nr_nl_reach_many driven by a caller's poll loop on a non-blocking
 * socket, so 10,000 lookups never hold the loop: begin reserves one
 * sequence number per address (ips, out and rc must outlive the
 * exchange); each pump reads the answers that arrived and sends more
 * lookups, for at most `budget_ns` of work, and returns
 * NR_NL_REACH_WAIT (answers outstanding: call again when the socket is
 * readable), NR_NL_REACH_MORE (more to send: call again soon), 0 when
 * every address has its answer in rc/out as nr_nl_reach_many's, or -errno
 * when the socket failed (then call end: the unanswered get -EIO). Only
 * pump does I/O (begin, begin_open, ready and end are bookkeeping), so a
 * kernel seam replaces just pump (ctl/ctl_kernel.h). */
enum { NR_NL_REACH_WAIT = 1, NR_NL_REACH_MORE = 2 };
struct nr_nl_reach_async {
	struct nr_nl *nl;
	const struct nr_addr *ips;
	struct nr_nl_reach *out;
	int *rc;
	uint32_t base_seq; /* seq of ips[0] */
	size_t n, inflight, next, max_inflight;
	size_t ready;      /* ips[0..ready) may be sent */
	bool complete;     /* no more addresses will be added */
};
void nr_nl_reach_begin(struct nr_nl_reach_async *a, struct nr_nl *nl, const struct nr_addr *ips,
		       size_t n, struct nr_nl_reach *out, int *rc);
/* The same with the addresses still to come: up to n of them, added with
 * nr_nl_reach_ready (ips[0..ready) filled; complete: no more follow). Until
 * complete, pump returns NR_NL_REACH_MORE when it has sent them all. */
void nr_nl_reach_begin_open(struct nr_nl_reach_async *a, struct nr_nl *nl, const struct nr_addr *ips,
			    size_t n, struct nr_nl_reach *out, int *rc);
void nr_nl_reach_ready(struct nr_nl_reach_async *a, size_t ready, bool complete);
int nr_nl_reach_pump(struct nr_nl_reach_async *a, uint64_t budget_ns);
/* The same to the end, on a thread that may wait (libuv's thread pool):
 * every address ready (complete), answers waited for NR_NL_TIMEOUT_MS at
 * most; the CPU yielded between two sends. 0 or -errno (then end). */
int nr_nl_reach_run(struct nr_nl_reach_async *a);
/* Answers never received (the socket failed, or the exchange was given up
 * on) become -EIO. */
void nr_nl_reach_end(struct nr_nl_reach_async *a);

#endif
