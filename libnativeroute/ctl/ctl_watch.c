/* Kernel events. Our own changes echo back and match the plan, so they cost
 * a lookup and nothing else; anything else that touches our objects is
 * drift, repaired by a dump-and-diff pass a few milliseconds later (a burst
 * of events costs one pass). Changes of routes covering node IPs and of the
 * links node IPs are reached through make reachability answers stale. An
 * overflowing event socket means we lost track: full resync. */
#include <errno.h>
#include <stdlib.h>

#include <linux/rtnetlink.h>
#include <net/if.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_event.h"
#include "netlink/nl_link.h"
#include "netlink/nl_parse.h"

static bool route_planned(const struct nr_ctl *ctl, const struct nr_kroute *r, bool *same)
{
	/* no plan yet (before the first pass): bsearch must not see NULL */
	const struct nr_kroute *hit = !ctl->desired.n_routes ? NULL :
		bsearch(r, ctl->desired.routes, ctl->desired.n_routes,
			sizeof(*r), (int (*)(const void *, const void *))nr_kroute_cmp_key);

	*same = hit && nr_kroute_same(hit, r);
	return hit != NULL;
}

static bool nexthop_planned(const struct nr_ctl *ctl, const struct nr_knexthop *nh, bool *same)
{
	const struct nr_knexthop *hit = !ctl->desired.n_nexthops ? NULL :
		bsearch(nh, ctl->desired.nexthops, ctl->desired.n_nexthops, sizeof(*nh),
			(int (*)(const void *, const void *))nr_knexthop_cmp_key);

	*same = hit && nr_knexthop_same(hit, nh);
	return hit != NULL;
}

/* The kernel's echo of a change made through our command socket carries
 * its port id. Compared with the plan it may look like drift: the plan can
 * have moved on since (a callback removed the node it just added). */
static bool own_echo(const struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_pid &&
	       (nlh->nlmsg_pid == ctl->nl->portid || nlh->nlmsg_pid == ctl->query->portid);
}

static void drift(struct nr_ctl *ctl, const char *what, const char *how)
{
	ctl->drift_repairs++;
	ctl->need_dump = true;
	nr_ctl_emit(ctl, NR_EVENT_DRIFT_REPAIRED, NULL, what, "%s %s outside the controller; restoring",
		    what, how);
	nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
}

static void on_route(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	struct nr_kroute r;
	struct nr_nl_route_info info;
	char buf[NR_ADDR_STRLEN];
	bool planned, same;

	if (own_echo(ctl, nlh) || nr_nl_parse_route(nlh, &r, &info) < 0 ||
	    info.table != ctl->owner.table)
		return;
	planned = route_planned(ctl, &r, &same);
	nr_prefix_str(&r.dst, buf, sizeof(buf));
	if (info.protocol != ctl->owner.protocol) {
		/* someone else's route on one of our prefixes replaced ours (the
		 * kernel keeps one per prefix and metric): re-read and report */
		if (planned && nlh->nlmsg_type == RTM_NEWROUTE)
			drift(ctl, buf, "was replaced by another owner's route");
		/* elsewhere it may change how node IPs are reached */
		else if (nr_reach_cache_affected(ctl, &r.dst, 0)) {
			ctl->reach_stale = true;
			nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
		}
		return;
	}
	if (nlh->nlmsg_type == RTM_DELROUTE && planned)
		drift(ctl, buf, "was deleted");
	else if (nlh->nlmsg_type == RTM_NEWROUTE && (!planned || !same))
		drift(ctl, buf, "was changed");
}

static void on_nexthop(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	struct nr_knexthop nh;
	struct nr_nl_nexthop_info info;
	char buf[32];
	bool planned, same;

	if (own_echo(ctl, nlh) || nr_nl_parse_nexthop(nlh, &nh, &info) < 0)
		return;
	planned = nexthop_planned(ctl, &nh, &same);
	/* ownership is the protocol: another owner's nexthop is none of our
	 * business, except that its id is taken (a delete event may carry
	 * only the id: judged by the plan) */
	if (nlh->nlmsg_type == RTM_NEWNEXTHOP && info.protocol != ctl->owner.protocol) {
		if (!info.group)
			nr_ctl_nh_taken(ctl, nh.id);
		return;
	}
	snprintf(buf, sizeof(buf), "nexthop %u", nh.id);
	if (nlh->nlmsg_type == RTM_DELNEXTHOP && planned)
		drift(ctl, buf, "was deleted");
	else if (nlh->nlmsg_type == RTM_NEWNEXTHOP && (!planned || !same))
		drift(ctl, buf, "was changed");
}

static bool neigh_planned(const struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct nr_nl_neigh_info info;

	if (nd->ndm_family == AF_BRIDGE) {
		struct nr_kfdb f;

		return nr_nl_parse_fdb(nlh, &f, &info) == 0 && ctl->desired.n_fdbs &&
		       bsearch(&f, ctl->desired.fdbs, ctl->desired.n_fdbs, sizeof(f),
			       (int (*)(const void *, const void *))nr_kfdb_cmp_key);
	}
	struct nr_kneigh n;

	return nr_nl_parse_neigh(nlh, &n, &info) == 0 && ctl->desired.n_neighs &&
	       bsearch(&n, ctl->desired.neighs, ctl->desired.n_neighs, sizeof(n),
		       (int (*)(const void *, const void *))nr_kneigh_cmp_key);
}

static void on_neigh(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);

	if (own_echo(ctl, nlh) || !ctl->vxlan_ifindex || (uint32_t)nd->ndm_ifindex != ctl->vxlan_ifindex)
		return;
	/* The delete event of a permanent entry does not say NUD_PERMANENT
	 * (the kernel reports the state it is leaving for NUD_NONE... or not):
	 * judge it by the plan instead, like routes. */
	if (nlh->nlmsg_type == RTM_DELNEIGH && neigh_planned(ctl, nlh))
		drift(ctl, nd->ndm_family == AF_BRIDGE ? "VXLAN FDB entry" : "VXLAN neighbour entry",
		      "was deleted");
}

/* Whether any object of the plan sits on link ifindex. O(plan), but link
 * events are rare next to route events. */
static bool plan_uses_link(const struct nr_ctl *ctl, uint32_t ifindex)
{
	if (ifindex == ctl->vxlan_ifindex && (ctl->desired.n_neighs || ctl->desired.n_fdbs))
		return true; /* the tunnel's neighbour and FDB entries */
	for (size_t i = 0; i < ctl->desired.n_nexthops; i++)
		if (ctl->desired.nexthops[i].ifindex == ifindex)
			return true;
	for (size_t i = 0; i < ctl->desired.n_routes; i++)
		if (ctl->desired.routes[i].ifindex == ifindex)
			return true;
	return false;
}

static bool link_used(const struct nr_ctl *ctl, uint32_t ifindex)
{
	return ifindex == ctl->vxlan_ifindex || ifindex == ctl->vxlan_under_ifindex ||
	       plan_uses_link(ctl, ifindex);
}

/* An event of the VXLAN device that needs nothing from us: the device
 * carries no object of ours (native mode keeps it only as the receive
 * side), and the event announces its creation - ours: a device someone
 * re-created has a new ifindex - or shows it up with the MTU we know. Its
 * creation used to cost two more full passes with a dump and every node's
 * lookup (the announcement, the up, and the carrier event that follows
 * later): ~100 ms at 10,000 nodes that a node added after start waited
 * behind. Down, or another MTU, still goes through link_changed below
 * (the full pass puts the device back up; vxlan_sync). */
static bool vxlan_event_moot(const struct nr_ctl *ctl, const struct nlmsghdr *nlh,
			     uint32_t ifindex)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nr_nl_link link;

	if (!ctl->vxlan_ifindex || ifindex != ctl->vxlan_ifindex || nlh->nlmsg_type != RTM_NEWLINK ||
	    nr_nl_link_parse(nlh, &link) < 0 || link.mtu != ctl->vxlan_mtu)
		return false;
	return (link.up || ifi->ifi_change == ~0u) && !plan_uses_link(ctl, ifindex);
}

/* A link our objects use went down, up, lost or got its carrier, or
 * changed MTU or addresses: the kernel flushes the nexthops and routes on a
 * link that goes down (or loses its carrier) without a notification for
 * each, so our record of the kernel is no longer trusted; the next pass
 * dumps and re-adds what is missing (failing, and retried, while the link
 * is down; back within milliseconds of it coming up). An MTU change of the
 * VXLAN device or its underlay changes the tunnel routes' MTU: re-plan. */
static void link_changed(struct nr_ctl *ctl)
{
	ctl->need_dump = true;
	ctl->reach_stale = true;
	nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
}

/* Whether a link event says something new about what decides the kernel
 * keeping our objects on the link: up or down (IFF_UP), carrier (a lost
 * one flushes nexthops: IFF_LOWER_UP), the MTU; and the link's record of
 * it is brought up to date. The kernel also sends RTM_NEWLINK when none of
 * that changed - the operational state settling a moment after a link
 * comes up (linkwatch), IPv6 per-link settings, statistics - and each used
 * to cost a dump of every route and a lookup of every node IP again (the
 * VXLAN device we create at start sent three, the last 13 ms later, in the
 * middle of 10,000 node adds). A link without a record, or deleted, is a
 * change. */
#ifndef IFF_LOWER_UP /* linux/if.h, which clashes with net/if.h */
#define IFF_LOWER_UP 0x10000
#endif
#define LINK_STATE_FLAGS (IFF_UP | IFF_LOWER_UP)
static bool link_state_changed(struct nr_ctl *ctl, const struct nlmsghdr *nlh, uint32_t ifindex)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nr_link_seen *seen = NULL;
	struct nr_nl_link link;
	uint32_t flags = ifi->ifi_flags & LINK_STATE_FLAGS, mtu;

	for (size_t i = 0; i < ctl->n_links_seen; i++)
		if (ctl->links_seen[i].ifindex == ifindex)
			seen = &ctl->links_seen[i];
	if (nlh->nlmsg_type != RTM_NEWLINK || nr_nl_link_parse(nlh, &link) < 0) {
		if (seen) /* deleted (or unreadable): forget it */
			*seen = ctl->links_seen[--ctl->n_links_seen];
		return true;
	}
	mtu = link.mtu;
	if (seen && seen->flags == flags && (!mtu || seen->mtu == mtu))
		return false;
	if (!seen && ctl->n_links_seen == ctl->cap_links_seen) {
		size_t cap = ctl->cap_links_seen ? 2 * ctl->cap_links_seen : 8;
		struct nr_link_seen *grown = realloc(ctl->links_seen, cap * sizeof(*grown));

		if (!grown)
			return true; /* no record: every event counts, as before */
		ctl->links_seen = grown;
		ctl->cap_links_seen = cap;
	}
	if (!seen)
		seen = &ctl->links_seen[ctl->n_links_seen++];
	*seen = (struct nr_link_seen){ .ifindex = ifindex, .flags = flags,
				       .mtu = mtu ? mtu : seen->mtu };
	return true;
}

static void on_link(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	uint32_t ifindex = (uint32_t)ifi->ifi_index;
	struct nr_nl_link link;

	if (nlh->nlmsg_type == RTM_DELLINK && ctl->vxlan_ifindex && ifindex == ctl->vxlan_ifindex) {
		ctl->vxlan_ifindex = 0;
		link_state_changed(ctl, nlh, ifindex); /* forgets it */
		drift(ctl, "VXLAN device", "was deleted");
		return;
	}
	nr_ctl_host_link_event(ctl, nlh);
	if (vxlan_event_moot(ctl, nlh, ifindex) || !link_state_changed(ctl, nlh, ifindex))
		return;
	if (link_used(ctl, ifindex)) {
		/* carrier changes come with ifi_change 0, like MTU and name
		 * changes: any change of a used link is worth one dump */
		if (nlh->nlmsg_type == RTM_NEWLINK && nr_nl_link_parse(nlh, &link) == 0 &&
		    ((ifindex == ctl->vxlan_ifindex && link.mtu != ctl->vxlan_mtu) ||
		     (ifindex == ctl->vxlan_under_ifindex && link.mtu != ctl->vxlan_under_mtu)))
			ctl->full_pass = true;
		link_changed(ctl);
		return;
	}
	/* only a link node IPs are reached through (up/down, gone); a new pod
	 * veth reaches nothing until it gets routes, which come as events */
	if (nr_reach_cache_affected(ctl, NULL, ifindex)) {
		ctl->reach_stale = true;
		nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
	}
}

/* An address added or removed on a link our objects use (not by us):
 * prefsrc and connected routes depend on it, and removing a link's last
 * IPv4 address flushes every route on it without a notification (an
 * endpoint's gateway address is often its only one). The host side checks
 * its gateway addresses. */
/* Whether an IPv6 link-local address can matter to us: only when a node
 * IP is one (this node's, the preferred source; or a remote node's, whose
 * reachability the cache holds). */
static bool link_local_in_use(struct nr_ctl *ctl)
{
	const struct nr_node *self = nr_model_local_node(ctl->model);
	struct nr_prefix ll;

	if (nr_prefix_parse("fe80::/10", &ll, NULL) < 0)
		return true;
	return (self && self->ip6.family && nr_prefix_contains_addr(&ll, &self->ip6)) ||
	       nr_reach_cache_affected(ctl, &ll, 0);
}

static void on_addr(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	if (own_echo(ctl, nlh))
		return;
	nr_ctl_host_addr_event(ctl, nlh);
	/* A link's IPv6 link-local address appears when the link comes up
	 * and again when its duplicate address detection ends, a second or
	 * two later: an added address flushes nothing, and none of our
	 * objects uses a link-local one. Taken for a change of a link our
	 * routes use, it cost a full pass with a dump (~100 ms at 10,000
	 * nodes, which a node add waited behind) whenever a link came up. */
	if (nlh->nlmsg_type == RTM_NEWADDR && ifa->ifa_family == AF_INET6 &&
	    ifa->ifa_scope == RT_SCOPE_LINK && !link_local_in_use(ctl))
		return;
	if (ifa->ifa_index != ctl->vxlan_ifindex && link_used(ctl, ifa->ifa_index) &&
	    (nlh->nlmsg_type == RTM_DELADDR || !nr_ctl_host_is_endpoint_link(ctl, ifa->ifa_index)))
		link_changed(ctl);
}

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	struct nr_ctl *ctl = data;

	switch (nlh->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		on_route(ctl, nlh);
		break;
	case RTM_NEWNEXTHOP:
	case RTM_DELNEXTHOP:
		on_nexthop(ctl, nlh);
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		on_neigh(ctl, nlh);
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		on_link(ctl, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		on_addr(ctl, nlh);
		break;
	}
	return 0;
}

void nr_ctl_watch_cb(uv_poll_t *handle, int status, int events)
{
	struct nr_ctl *ctl = handle->data;
	int rc;

	if (ctl->closing)
		return;
	rc = ctl->k->event_read(ctl->events, on_event, ctl);
	if (rc == -ENOBUFS) {
		ctl->need_dump = true;
		ctl->reach_stale = true;
		ctl->resyncs++;
		nr_ctl_emit(ctl, NR_EVENT_RESYNC, NULL, NULL,
			    "kernel event queue overflowed; full resync");
		nr_ctl_schedule(ctl, 0);
	}
}
