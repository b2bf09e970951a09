/* The controller's one way to the kernel: every read and change of kernel
 * state the controller makes goes through a table of operations, so that
 * the controller logic (passes, failure attribution, close ordering, drift
 * repair, adoption) runs against an in-memory fake in the unit tests
 * (tests/unit/fake_kernel.c), without root or a namespace.
 *
 * The default table, nr_kernel_netlink (ctl_kernel.c), is the libmnl code
 * of libnativeroute/netlink/ itself: its entries ARE those functions (no
 * wrapper, no allocation, one indirect call per operation - a batch of 10k
 * routes is one begin and a few dozen pumps, not 10k calls).
 *
 * The operations take the channel they work on, a struct nr_nl: the
 * controller keeps three (ctl->nl: batches, dumps, pipelined lookups;
 * ctl->query: single requests outside a pass; ctl->events: notifications),
 * all made by `open`. A fake's channels are struct nr_nl values it
 * allocates itself (with sock NULL, so a call that bypasses the table
 * crashes instead of touching the real kernel).
 *
 * Internal: not installed, not ABI. A controller is given another table
 * with nr_ctl_new_with_kernel(). */
#ifndef NR_CTL_KERNEL_H
#define NR_CTL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "nativeroute/controller.h"

#include "core/kstate.h"
#include "netlink/nl_batch.h"
#include "netlink/nl_dump.h"
#include "netlink/nl_event.h"
#include "netlink/nl_link.h"
#include "netlink/nl_reach.h"
#include "netlink/nl_socket.h"
#include "netlink/nl_vxlan.h"
#include "nft/nft_run.h"
#include "util/err.h"

struct nr_kernel_ops {
	/* ---- channels (ctx: the table's own state, see struct nr_kernel) ---- */
	/* as nr_nl_open: flags NR_NL_NONBLOCK, NR_NL_EVENTS */
	int (*open)(void *ctx, const char *netns, unsigned int flags, struct nr_nl **ret,
		    struct nr_err *err);
	void (*close)(struct nr_nl *nl);
	/* what the loop polls: readable = events (event channel) or ACKs (a
	 * batch in flight on the command channel) */
	int (*fd)(const struct nr_nl *nl);

	/* ---- the observed state --------------------------------------------- */
	int (*dump_kstate)(struct nr_nl *nl, const struct nr_nl_dump_filter *f,
			   struct nr_kstate *out, struct nr_err *err);
	int (*dump_nexthops)(struct nr_nl *nl, uint8_t protocol, struct nr_knexthop **nhs,
			     size_t *n, struct nr_err *err);
	int (*dump_nexthops_foreign)(struct nr_nl *nl, uint8_t protocol,
				     struct nr_knexthop **nhs, size_t *n, struct nr_err *err);
	/* the same in steps from the loop (nl_dump.h: nr_nl_dumper; a full
	 * pass's read of the kernel, ctl_gather.c); a table without them
	 * (NULL) has a full pass use dump_kstate and dump_nexthops_foreign */
	int (*dumper_new)(struct nr_nl *nl, const struct nr_nl_dump_filter *f, bool foreign_nexthops,
			  bool no_nexthops, struct nr_nl_dumper **ret, struct nr_err *err);
	int (*dumper_step)(struct nr_nl_dumper *d, struct nr_err *err);
	/* the steps to the end on a worker thread (ctl_gather.c, from libuv's
	 * thread pool); NULL: the loop steps */
	int (*dumper_run)(struct nr_nl_dumper *d, struct nr_err *err);
	int (*dumper_take)(struct nr_nl_dumper *d, struct nr_kstate *out,
			   struct nr_knexthop **foreign, size_t *n_foreign, struct nr_err *err);
	void (*dumper_free)(struct nr_nl_dumper *d);
	/* between the last step and take, in slices; NULL: take does it all */
	int (*dumper_finish)(struct nr_nl_dumper *d, size_t budget, struct nr_err *err);
	/* 1 when the kernel has nexthop objects, 0 if not (nl_dump.h); NULL:
	 * asked with dump_nexthops */
	int (*nexthops_supported)(struct nr_nl *nl);

	/* ---- changes: a batch (nl_batch.h) built with nr_nl_batch_new on the
	 * command channel, committed asynchronously (begin, then pump whenever
	 * fd polls readable) or synchronously (commit) ------------------------ */
	int (*batch_begin)(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb, void *data,
			   struct nr_err *err);
	int (*batch_pump)(struct nr_nl_batch *b, uint64_t budget_ns);
	int (*batch_commit)(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb, void *data,
			    struct nr_err *err);
	/* the sends of an asynchronous commit on libuv's thread pool, the
	 * ACKs read on the loop (nl_batch.h: nr_nl_batch_claim/claim_end are
	 * bookkeeping, not I/O): batch_send runs on a worker thread. A table
	 * without them (NULL) has the loop pump the batch (batch_pump). */
	int (*batch_send)(struct nr_nl_batch *b, size_t first, size_t n, size_t *sent);
	int (*batch_read)(struct nr_nl_batch *b);

	/* ---- lookups ---------------------------------------------------------- */
	int (*reach)(struct nr_nl *nl, const struct nr_addr *ip, struct nr_nl_reach *out,
		     struct nr_err *err);
	int (*reach_many)(struct nr_nl *nl, const struct nr_addr *ips, size_t n,
			  struct nr_nl_reach *out, int *rc, struct nr_err *err);
	/* the same from the loop, in steps: nr_nl_reach_pump (begin, ready
	 * and end are bookkeeping, not I/O: see nl_reach.h) */
	int (*reach_pump)(struct nr_nl_reach_async *a, uint64_t budget_ns);
	/* the same to the end on a worker thread (a full pass's lookups, from
	 * libuv's thread pool: ctl_send.c); NULL: the loop pumps them */
	int (*reach_run)(struct nr_nl_reach_async *a);

	/* ---- links and addresses (nl_link.h, nl_vxlan.h) ---------------------- */
	int (*link_get)(struct nr_nl *nl, const char *name, uint32_t ifindex,
			struct nr_nl_link *out, struct nr_err *err);
	int (*link_index)(struct nr_nl *nl, const char *name, uint32_t *ifindex,
			  struct nr_err *err);
	int (*link_set_up)(struct nr_nl *nl, uint32_t ifindex, bool up, struct nr_err *err);
	int (*link_delete)(struct nr_nl *nl, uint32_t ifindex, struct nr_err *err);
	int (*addr_add)(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
			uint8_t prefixlen, struct nr_err *err);
	int (*addr_del)(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
			uint8_t prefixlen, struct nr_err *err);
	int (*addr_present)(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
			    struct nr_err *err);
	int (*addr_restore)(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
			    uint8_t prefixlen, struct nr_err *err);
	int (*addr_find)(struct nr_nl *nl, const struct nr_addr *addr, uint32_t *ifindex,
			 struct nr_err *err);
	int (*vxlan_get)(struct nr_nl *nl, const char *name, struct nr_nl_vxlan *out,
			 uint32_t *ifindex, struct nr_err *err);
	int (*vxlan_ensure)(struct nr_nl *nl, const struct nr_nl_vxlan *want, uint32_t *ifindex,
			    struct nr_err *err);

	/* ---- events: as nr_nl_event_read (-ENOBUFS: events were lost) --------- */
	int (*event_read)(struct nr_nl *nl, nr_nl_event_cb cb, void *data);
	/* as nr_nl_event_ignore_echoes (NULL: the watch skips them itself) */
	int (*event_ignore_echoes)(struct nr_nl *nl, const uint32_t *portids, size_t n);

	/* ---- outside rtnetlink -------------------------------------------------- */
	/* net.ipv4.ip_forward / net.ipv6.conf.all.forwarding = on in netns;
	 * returns the value before (0 or 1), so a failed start can set it
	 * back, or -errno */
	int (*sysctl_forwarding)(void *ctx, const char *netns, int family, bool on,
				 struct nr_err *err);
	/* one nftables synchronisation (nft_run.h), run in the namespace
	 * netns_fd; called on libuv's thread pool, so it must be thread-safe */
	void (*nft_sync)(void *ctx, int netns_fd, struct nr_nft_sync *sync, struct nr_err *err);
	/* nr_ctl_purge's part of the eBPF datapath: our tc filters on every
	 * link, the clsact qdiscs we made, the pinned maps (bpf/bpf_ctl.c) -
	 * done even when the controller runs without eBPF (an earlier run may
	 * have had it) */
	int (*bpf_purge)(struct nr_ctl *ctl, struct nr_err *err);
	/* the eBPF fast path's tc work (bpf/bpf_tc.c: clsact qdiscs, filters
	 * attached and detached; fn(arg) makes libbpf's netlink calls) run
	 * inside the namespace netns_fd; called on libuv's thread pool, so it
	 * must be thread-safe. Returns fn's result, or -errno when the
	 * namespace cannot be entered. NULL: no eBPF fast path (-ENOTSUP). */
	int (*tc_run)(void *ctx, int netns_fd, int (*fn)(void *arg), void *arg, struct nr_err *err);
};

/* A table and its state, as the controller holds it. */
struct nr_kernel {
	const struct nr_kernel_ops *ops;
	void *ctx;
};

/* The real kernel: libmnl (netlink/), libnftables (nft/). ctx is unused. */
extern const struct nr_kernel_ops nr_kernel_netlink;

/* nr_ctl_new with another kernel (tests/unit/fake_kernel.c). The table and
 * its ctx must outlive the controller (until close_cb). */
int nr_ctl_new_with_kernel(uv_loop_t *loop, const struct nr_ctl_opts *opts,
			   const struct nr_kernel *kernel, struct nr_ctl **ret);

#endif
