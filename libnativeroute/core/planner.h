/* The planner: a pure function from the model, one reachability answer per
 * node IP and the tunnel device to the desired kernel state (sorted, so the
 * reconciler can diff it with one merge pass) plus a report of what was left
 * out and why.
 *
 * Per remote node and family with a pod CIDR:
 *  - native: one nexthop object (id NR_NH_ID_BASE + index*2 + v6) via the
 *    node IP on the device reachability reported, and `<cidr> nhid N src
 *    <local node IP>`; with NR_PLAN_CLASSIC_ROUTES the route carries gw +
 *    ifindex itself. Native routes are made only under auto_direct_node_routes
 *    (as Cilium: without it the underlay network routes pod CIDRs), and only
 *    for directly reachable nodes: a node behind a gateway is an error
 *    (-EHOSTUNREACH) unless direct_routing_skip_unreachable, then it is
 *    skipped and reported. Unknown reachability is skipped and reported.
 *  - tunnel: `<cidr> via <VTEP ip> onlink dev <vxlan> mtu <vxlan mtu>`, a
 *    permanent neighbour VTEP ip -> VTEP MAC and an fdb entry VTEP MAC ->
 *    node IP (one per node). VTEP ip = network address of the remote CIDR
 *    (IPv4) or the link-local EUI-64 address of the VTEP MAC (IPv6).
 *  - hybrid: native when directly reachable, tunnel otherwise (also while
 *    reachability is unknown).
 * The local node's own CIDR is never routed; every local endpoint with a
 * known ifindex gets a /32 (/128) scope-link route to its host device. */
#ifndef NR_CORE_PLANNER_H
#define NR_CORE_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kstate.h"
#include "core/model.h"
#include "util/addr.h"
#include "util/err.h"

enum nr_reach_kind {
	NR_REACH_UNKNOWN = 0, /* not asked yet, or no route at all */
	NR_REACH_DIRECT = 1,  /* RTM_GETROUTE answer without RTA_GATEWAY */
	NR_REACH_GATEWAY = 2, /* the answer has RTA_GATEWAY: not on a shared link */
};

/* One RTM_GETROUTE answer for a node IP: kind from RTA_GATEWAY's presence,
 * ifindex = RTA_OIF, gw = RTA_GATEWAY (only for messages). */
struct nr_reach {
	struct nr_addr ip;
	uint8_t kind; /* enum nr_reach_kind */
	uint32_t ifindex;
	struct nr_addr gw;
};

/* The VXLAN device. ifindex 0: none (tunnelled nodes are skipped and
 * reported). mtu: the device's MTU (underlay - 50), put on tunnel routes.
 * underlay_family: AF_INET/AF_INET6, or 0 for "IPv4 when both ends have it". */
struct nr_tunnel_info {
	uint32_t ifindex;
	uint32_t mtu;
	uint8_t underlay_family;
};

#define NR_PLAN_CLASSIC_ROUTES (1u << 0) /* no nexthop objects (kernel < 5.3) */

/* A nexthop id another owner holds: our nexthop that would have `want`
 * uses `got` instead. */
struct nr_nh_remap {
	uint32_t want, got;
};

/* Where a sliced plan (nr_plan_slices_*) gets a node IP's answer instead
 * of the reach array. NULL: nobody asked yet - the node joined after the
 * answers were gathered; its objects are left out of this plan, without a
 * report (the controller plans it again in its next pass). */
typedef const struct nr_reach *(*nr_plan_reach_fn)(void *data, const struct nr_addr *ip);

struct nr_plan_input {
	const struct nr_model *model;
	const struct nr_reach *reach; /* any order; looked up by node IP */
	size_t n_reach;
	nr_plan_reach_fn reach_fn;    /* nr_plan_slices only: instead of reach[] */
	void *reach_data;
	struct nr_tunnel_info tunnel;
	unsigned flags; /* NR_PLAN_* */
	const struct nr_nh_remap *nh_remap; /* sorted by want; may be NULL */
	size_t n_nh_remap;
	/* nr_plan_slices only: frees an array of len bytes its sort no
	 * longer needs (NULL: free) - a caller on a loop frees large ones
	 * elsewhere */
	void (*release)(void *ctx, void *p, size_t len);
	void *release_ctx;
};

/* The nexthop id of node index `index` and family v6 under `in`'s remap. */
uint32_t nr_plan_nh_id(const struct nr_plan_input *in, uint32_t index, bool v6);

enum nr_plan_skip_reason {
	NR_SKIP_UNREACHABLE = 1,   /* behind a gateway, skip_unreachable set */
	NR_SKIP_REACH_UNKNOWN = 2, /* no reachability answer yet */
	NR_SKIP_NO_CIDR = 3,       /* the node has no pod CIDR at all */
	NR_SKIP_NO_NODE_IP = 4,    /* no node IP of the family the route needs */
	NR_SKIP_NO_TUNNEL = 5,     /* needs the tunnel, no tunnel device */
	NR_SKIP_NO_IFINDEX = 6,    /* endpoint whose host device is unknown */
};

struct nr_plan_skip {
	char name[NR_NODE_NAME_MAX + 1]; /* node name or endpoint id (truncated) */
	uint8_t family;                  /* of the route that was not made; 0 = all */
	uint8_t reason;                  /* enum nr_plan_skip_reason */
	struct nr_addr ip;               /* node IP concerned, family 0 = none */
};

struct nr_plan_report {
	struct nr_plan_skip *skipped;
	size_t n_skipped;
	size_t n_native;   /* remote CIDRs routed natively */
	size_t n_tunnel;   /* remote CIDRs routed over the tunnel */
	size_t n_endpoint; /* endpoint routes */
	/* Native mode without auto_direct_node_routes: remote CIDRs are left to
	 * the underlay network, nothing was planned for them. */
	bool remote_routes_unmanaged;
};

/* Plan. `out` and `report` (may be NULL) are overwritten; free them with
 * nr_kstate_free / nr_plan_report_free, also after an error.
 * Errors: -EHOSTUNREACH (a node behind a gateway under auto direct node
 * routes without skip; the message names the node, its IP and the gateway),
 * -ENOMEM, -EINVAL. */
int nr_plan(const struct nr_plan_input *in, struct nr_kstate *out,
	    struct nr_plan_report *report, struct nr_err *err);
/* The same plan restricted to one node's objects (nexthops, routes, neigh
 * and fdb entries; nothing for the local node) or to one local endpoint's
 * routes: the union of every node's and endpoint's part is exactly nr_plan's
 * output, so a controller can keep its desired state up to date per change
 * instead of re-planning the whole cluster (O(1) per node event instead of
 * O(nodes)). The reach array needs only the node's own IPs. */
int nr_plan_node(const struct nr_plan_input *in, const struct nr_node *node,
		 struct nr_kstate *out, struct nr_plan_report *report, struct nr_err *err);
int nr_plan_endpoint(const struct nr_plan_input *in, const struct nr_endpoint *ep,
		     struct nr_kstate *out, struct nr_plan_report *report, struct nr_err *err);

/* nr_plan in slices, for a caller's loop that must not stall: each step
 * plans at most `budget` nodes (or sorts about that many entries x 16) and
 * returns 1 while there is more, 0 when the plan is complete, < 0 on an
 * error as nr_plan's. The model may change between steps (the caller's
 * loop runs): nodes are visited in index order, each planned as it is
 * then; a node added behind the cursor waits for the next plan, one
 * removed behind it stays in this one - the caller plans again after any
 * change (nr_ctl: a change during a pass asks for a full pass). The model
 * itself and `in`'s arrays must outlive the slices; `in` is copied. */
struct nr_plan_slices;
int nr_plan_slices_new(const struct nr_plan_input *in, struct nr_plan_slices **ret, struct nr_err *err);
int nr_plan_slices_step(struct nr_plan_slices *s, size_t budget, struct nr_err *err);
/* After step returned 0: the plan and its report move to out and report. */
void nr_plan_slices_take(struct nr_plan_slices *s, struct nr_kstate *out, struct nr_plan_report *report);
/* NULL is fine; frees whatever was not taken. */
void nr_plan_slices_free(struct nr_plan_slices *s);

/* NULL is fine. */
void nr_plan_report_free(struct nr_plan_report *r);
const char *nr_plan_skip_reason_str(uint8_t reason);

#endif
