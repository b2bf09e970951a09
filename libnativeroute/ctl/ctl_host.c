/* The host side of the node: forwarding, the address pods use as their
 * gateway, and the VXLAN device of tunnel and hybrid mode.
 *
 * Gateway: the first host address of the local pod CIDR (10.0.0.1 for
 * 10.0.0.0/24) is put, as a /32 (/128), on each endpoint's host-side
 * interface. The pod's ARP/NDP request for its gateway is then answered by
 * the kernel on that very link, with no proxy-ARP guessing, and the address
 * is the same for every pod of the node, so a CNI plugin can configure the
 * pod before it knows anything else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_link.h"
#include "netlink/nl_sysctl.h"
#include "netlink/nl_vxlan.h"

int nr_ctl_host_prepare(struct nr_ctl *ctl, struct nr_err *err)
{
	const struct nr_node *self = nr_model_local_node(ctl->model);
	bool v4 = self->cidr4.addr.family || self->ip4.family;
	bool v6 = self->cidr6.addr.family || self->ip6.family;
	int rc = 0, was4 = 1;

	if (v4)
		rc = was4 = ctl->k->sysctl_forwarding(ctl->k_ctx, ctl->netns, AF_INET, true, err);
	if (rc >= 0 && v6) {
		rc = ctl->k->sysctl_forwarding(ctl->k_ctx, ctl->netns, AF_INET6, true, err);
		/* a refused start changes nothing: IPv4 forwarding goes back off
		 * when IPv6's cannot be switched on */
		if (rc < 0 && v4 && was4 == 0)
			ctl->k->sysctl_forwarding(ctl->k_ctx, ctl->netns, AF_INET, false, NULL);
	}
	return rc < 0 ? rc : 0;
}

int nr_ctl_host_endpoint_up(struct nr_ctl *ctl, const struct nr_endpoint *ep,
			    struct nr_ep_host_undo *undo, struct nr_err *err)
{
	const uint8_t fams[2] = { AF_INET, AF_INET6 };
	const struct nr_addr *ips[2] = { &ep->ip4, &ep->ip6 };
	struct nr_nl_link link;
	struct nr_addr added[2];
	int n_added = 0;
	bool raised = false;
	int rc;

	rc = ctl->k->link_get(ctl->query, NULL, ep->ifindex, &link, err);
	if (rc == 0 && !link.up) {
		rc = ctl->k->link_set_up(ctl->query, ep->ifindex, true, err);
		raised = rc == 0;
	}
	for (int i = 0; rc == 0 && i < 2; i++) {
		struct nr_addr gw;

		if (!ips[i]->family || nr_model_gateway(ctl->model, fams[i], &gw) < 0)
			continue;
		rc = ctl->k->addr_present(ctl->query, ep->ifindex, &gw, err);
		if (rc == 0) {
			rc = ctl->k->addr_add(ctl->query, ep->ifindex, &gw, nr_addr_bits(fams[i]), err);
			if (rc == 0)
				added[n_added++] = gw;
		} else if (rc > 0) {
			rc = 0;
		}
	}
	/* a refused endpoint add changes nothing: addresses we added go, and a
	 * link we brought up goes down again (the caller takes the endpoint
	 * out of the model) */
	if (rc < 0) {
		for (int i = 0; i < n_added; i++)
			ctl->k->addr_del(ctl->query, ep->ifindex, &added[i], nr_addr_bits(added[i].family), NULL);
		if (raised)
			ctl->k->link_set_up(ctl->query, ep->ifindex, false, NULL);
	} else if (undo) {
		memset(undo, 0, sizeof(*undo));
		undo->ifindex = ep->ifindex;
		undo->raised = raised;
		undo->n_added = (uint8_t)n_added;
		memcpy(undo->added, added, (size_t)n_added * sizeof(added[0]));
	}
	/* the per-interface forwarding switch of IPv6 follows "all" only at
	 * creation; set it for links made before forwarding was on */
	return rc;
}

static bool link_has_endpoint(const struct nr_ctl *ctl, uint32_t ifindex)
{
	for (const struct nr_endpoint *ep = nr_model_endpoint_next(ctl->model, NULL); ep;
	     ep = nr_model_endpoint_next(ctl->model, ep))
		if (ep->ifindex == ifindex)
			return true;
	return false;
}

/* The request failed after its host side was set up: the save ahead of the
 * kernel failed (full disk, no descriptor left) and the model went back to
 * the last durable state without the endpoint. The kernel part (route, eBPF
 * entries) was never written; what endpoint_up did at once is taken back
 * here (also after a refused route: ctl_endpoint_ops.c removes the
 * endpoint from the model first). When the model still has an endpoint on
 * the link (another endpoint uses it), its host side stays. */
void nr_ctl_host_endpoint_undo(struct nr_ctl *ctl, struct nr_pending *p)
{
	struct nr_ep_host_undo *u = &nr_pending_ep_of(p)->host_undo;
	char buf[NR_ADDR_STRLEN];
	int failed = 0;

	if (!u->ifindex || !ctl->model || link_has_endpoint(ctl, u->ifindex))
		return;
	for (int i = 0; i < u->n_added; i++)
		if (ctl->k->addr_del(ctl->query, u->ifindex, &u->added[i],
				     nr_addr_bits(u->added[i].family), NULL) < 0)
			failed++;
	if (u->raised && ctl->k->link_set_up(ctl->query, u->ifindex, false, NULL) < 0)
		failed++;
	nr_ctl_emit(ctl, failed ? NR_EVENT_ERROR : NR_EVENT_ENDPOINT_REMOVED,
		    nr_model_local_name(ctl->model), p->id,
		    "endpoint %s: not added (%s); %s on %s%s%s", p->id ? p->id : "?",
		    p->msg ? p->msg : "failed",
		    failed ? "could not take back everything it set up" : "took back what it set up",
		    nr_pending_ep_of(p)->ep.ifname[0] ? nr_pending_ep_of(p)->ep.ifname : "its link",
		    u->n_added ? ", gateway " : "",
		    u->n_added ? nr_addr_str(&u->added[0], buf, sizeof(buf)) : "");
	memset(u, 0, sizeof(*u));
}

void nr_ctl_host_endpoint_down(struct nr_ctl *ctl, const struct nr_endpoint *ep)
{
	/* The host-side interface normally disappears with the pod, taking the
	 * gateway address with it; nothing else on the host refers to the
	 * endpoint once its route is gone. */
	(void)ctl;
	(void)ep;
}

/* The link carrying the node IP `local`: the one found last time when it
 * still carries it (a dump of that link's addresses only), else the one a
 * dump of every address of the namespace finds - O(addresses), and with a
 * gateway address per pod link that is O(pods): asked at every endpoint add
 * (nr_ctl_pod_mtu), the cache keeps the add O(1). A link that lost the IP,
 * or an index reused by another, is caught by the check. */
static int underlay_link(struct nr_ctl *ctl, struct nr_nl *nl, const struct nr_addr *local,
			 uint32_t *ifindex)
{
	int rc;

	if (ctl->underlay_ifindex && ctl->k->addr_present(nl, ctl->underlay_ifindex, local, NULL) > 0) {
		*ifindex = ctl->underlay_ifindex;
		return 0;
	}
	rc = ctl->k->addr_find(nl, local, ifindex, NULL);
	ctl->underlay_ifindex = rc == 0 ? *ifindex : 0;
	return rc;
}

/* The VXLAN device is kept in native mode too, as the receive side: a peer
 * that switches to tunnel (or hybrid) mode before this node, or has not yet
 * switched back, still sends encapsulated traffic here, and in a real
 * cluster nodes never switch at the same instant. Nothing is sent through
 * it in native mode: no route uses it and it has no FDB entry.
 * native_without_tunnel opts out (the device is deleted in native mode). */
static bool tunnel_wanted(const struct nr_ctl *ctl)
{
	return nr_model_config(ctl->model)->routing_mode != NR_MODE_NATIVE ||
	       !ctl->native_without_tunnel;
}

static bool tunnel_needed(const struct nr_ctl *ctl)
{
	return nr_model_config(ctl->model)->routing_mode != NR_MODE_NATIVE;
}

int nr_ctl_vxlan_sync(struct nr_ctl *ctl, struct nr_err *err)
{
	const struct nr_node *self = nr_model_local_node(ctl->model);
	struct nr_nl_vxlan want = { .vni = ctl->vxlan_vni, .port = ctl->vxlan_port,
				    .mtu = ctl->vxlan_mtu_opt };
	struct nr_nl_link link;
	struct nr_err local = { 0 };
	uint32_t ifindex;
	int rc;

	if (!tunnel_wanted(ctl))
		return 0; /* kept until the pass moved routes off it (cleanup) */
	snprintf(want.name, sizeof(want.name), "%s", NR_VXLAN_NAME);
	want.local = self->ip4.family ? self->ip4 : self->ip6;
	nr_vtep_mac(&want.local, want.mac);
	rc = ctl->k->vxlan_ensure(ctl->query, &want, &ifindex, &local);
	if (rc >= 0)
		rc = ctl->k->link_get(ctl->query, NULL, ifindex, &link, &local);
	if (rc < 0) {
		if (tunnel_needed(ctl)) {
			*err = local;
			return rc;
		}
		/* native mode: only the receive side is missing; say so once */
		if (!ctl->vxlan_warned)
			nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NR_VXLAN_NAME,
				    "no VXLAN receive side in native mode (peers switching to "
				    "tunnel mode first cannot reach this node): %s", local.msg);
		ctl->vxlan_warned = true;
		return 0;
	}
	ctl->vxlan_warned = false;
	if (ctl->vxlan_ifindex != ifindex)
		ctl->need_dump = true; /* new device: learn what it holds */
	ctl->vxlan_ifindex = ifindex;
	ctl->vxlan_mtu = link.mtu;
	/* watched: its MTU is where the tunnel's comes from (ctl_watch.c) */
	if (underlay_link(ctl, ctl->query, &want.local, &ctl->vxlan_under_ifindex) == 0 &&
	    ctl->k->link_get(ctl->query, NULL, ctl->vxlan_under_ifindex, &link, NULL) == 0)
		ctl->vxlan_under_mtu = link.mtu;
	return 0;
}

/* With native_without_tunnel: once no route uses the device, remove it (if
 * it is ours), so nothing can send or receive encapsulated traffic. */
int nr_ctl_vxlan_cleanup(struct nr_ctl *ctl, struct nr_err *err)
{
	struct nr_nl_vxlan have;
	uint32_t ifindex;

	if (tunnel_wanted(ctl))
		return 0;
	if (ctl->k->vxlan_get(ctl->query, NR_VXLAN_NAME, &have, &ifindex, NULL) < 0 ||
	    !nr_nl_vxlan_owned(&have))
		return 0; /* none, not a VXLAN device or someone else's: not ours */
	ctl->vxlan_ifindex = 0;
	ctl->vxlan_mtu = 0;
	return ctl->k->link_delete(ctl->query, ifindex, err);
}

uint32_t nr_ctl_pod_mtu(struct nr_ctl *ctl)
{
	const struct nr_node *self = nr_model_local_node(ctl->model);
	const struct nr_addr *local = self->ip4.family ? &self->ip4 : &self->ip6;
	enum nr_routing_mode mode = nr_model_config(ctl->model)->routing_mode;
	struct nr_nl_link link;
	uint32_t ifindex;

	/* ctl->query: endpoint add and status ask this while a pass's batch
	 * may be out on ctl->nl */
	if (underlay_link(ctl, ctl->query, local, &ifindex) < 0 ||
	    ctl->k->link_get(ctl->query, NULL, ifindex, &link, NULL) < 0)
		return 0;
	/* tunnelled pod traffic carries the VXLAN header: the tunnel device's
	 * MTU (configured or derived) is what the pod may send */
	if (mode == NR_MODE_TUNNEL || (mode == NR_MODE_HYBRID && ctl->report.n_tunnel))
		return ctl->vxlan_mtu ? ctl->vxlan_mtu
			: link.mtu - (local->family == AF_INET ? NR_VXLAN_OVERHEAD4 : NR_VXLAN_OVERHEAD6);
	return link.mtu;
}
