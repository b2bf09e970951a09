/* Kernel events. Our own changes echo back and match the plan, so they cost
 * a lookup and nothing else; anything else that touches our objects is
 * drift, repaired by a dump-and-diff pass a few milliseconds later (a burst
 * of events costs one pass). Changes of routes covering node IPs and of the
 * links node IPs are reached through make reachability answers stale. An
 * overflowing event socket means we lost track: full resync. */
#include <errno.h>
#include <stdlib.h>

#include <linux/rtnetlink.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_event.h"
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

	if (own_echo(ctl, nlh) || nr_nl_parse_nexthop(nlh, &nh, &info) < 0 || nh.id < NR_NH_ID_BASE)
		return;
	planned = nexthop_planned(ctl, &nh, &same);
	snprintf(buf, sizeof(buf), "nexthop %u", nh.id);
	if (nlh->nlmsg_type == RTM_DELNEXTHOP && planned)
		drift(ctl, buf, "was deleted");
	else if (nlh->nlmsg_type == RTM_NEWNEXTHOP && (!planned || !same))
		drift(ctl, buf, "was changed");
}

static void on_neigh(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);

	if (own_echo(ctl, nlh) || !ctl->vxlan_ifindex || (uint32_t)nd->ndm_ifindex != ctl->vxlan_ifindex)
		return;
	/* only our device: any removal of a permanent entry is drift */
	if (nlh->nlmsg_type == RTM_DELNEIGH && (nd->ndm_state & NUD_PERMANENT))
		drift(ctl, "VXLAN neighbour/FDB entry", "was deleted");
}

static void on_link(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_DELLINK && ctl->vxlan_ifindex &&
	    (uint32_t)ifi->ifi_index == ctl->vxlan_ifindex) {
		ctl->vxlan_ifindex = 0;
		drift(ctl, "VXLAN device", "was deleted");
		return;
	}
	/* only a link node IPs are reached through (up/down, gone); a new pod
	 * veth reaches nothing until it gets routes, which come as events */
	if (nr_reach_cache_affected(ctl, NULL, (uint32_t)ifi->ifi_index)) {
		ctl->reach_stale = true;
		nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
	}
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
		/* an address changes reachability only through the connected
		 * route it adds or removes, which arrives as a route event (and
		 * our own pod gateway addresses must not force full passes) */
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
	rc = nr_nl_event_read(ctl->events, on_event, ctl);
	if (rc == -ENOBUFS) {
		ctl->need_dump = true;
		ctl->reach_stale = true;
		ctl->resyncs++;
		nr_ctl_emit(ctl, NR_EVENT_RESYNC, NULL, NULL,
			    "kernel event queue overflowed; full resync");
		nr_ctl_schedule(ctl, 0);
	}
}
