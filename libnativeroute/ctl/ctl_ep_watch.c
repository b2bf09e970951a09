/* Host-side repair of endpoints.
 *
 * What the controller sets up for an endpoint outside the plan (the gateway
 * address on its host interface) is watched like routes: an address or link
 * event on an endpoint's interface sets host_check, and the next pass
 * (nr_ctl_host_sync, run first) looks at every endpoint's interface. A
 * deleted gateway address is put back. A vanished interface (the pod went
 * away without endpoint.remove) is reported at once, its route is no longer
 * planned (no ENODEV retried every second), and the endpoint and its
 * addresses are released after endpoint_grace_ms, unless a link of the same
 * name appears before (a restarted sandbox), which re-attaches it.
 *
 * Apart from ctl_host.c because it sits above the mutations: releasing an
 * endpoint is nr_ctl_endpoint_remove, which itself uses ctl_host.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_link.h"

static const struct nr_endpoint *endpoint_by_ifindex(const struct nr_ctl *ctl, uint32_t ifindex)
{
	if (!ifindex)
		return NULL;
	for (const struct nr_endpoint *ep = nr_model_endpoint_next(ctl->model, NULL); ep;
	     ep = nr_model_endpoint_next(ctl->model, ep))
		if (ep->ifindex == ifindex)
			return ep;
	return NULL;
}

bool nr_ctl_host_is_endpoint_link(const struct nr_ctl *ctl, uint32_t ifindex)
{
	return endpoint_by_ifindex(ctl, ifindex) != NULL;
}

static void gone_drop(struct nr_ctl_gone **g)
{
	struct nr_ctl_gone *dead = *g;

	*g = dead->next;
	free(dead->id);
	free(dead);
}

void nr_ctl_host_free(struct nr_ctl *ctl)
{
	while (ctl->gone)
		gone_drop(&ctl->gone);
}

void nr_ctl_host_link_event(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nr_nl_link link;

	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (endpoint_by_ifindex(ctl, (uint32_t)ifi->ifi_index)) {
			ctl->host_check = true;
			nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
		}
		return;
	}
	if (!ctl->gone || nr_nl_link_parse(nlh, &link) < 0)
		return;
	for (struct nr_ctl_gone *g = ctl->gone; g; g = g->next) {
		if (g->ifname[0] && !strcmp(g->ifname, link.name)) {
			ctl->host_check = true;
			nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
		}
	}
}

void nr_ctl_host_addr_event(struct nr_ctl *ctl, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_DELADDR && endpoint_by_ifindex(ctl, ifa->ifa_index)) {
		ctl->host_check = true;
		nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
	}
}

/* Point the endpoint's plan at a new ifindex (0: none), keeping the
 * incremental desired state in step. */
static void endpoint_move(struct nr_ctl *ctl, const char *id, uint32_t ifindex)
{
	struct nr_kstate old;

	nr_ctl_before_change(ctl, true, id, &old);
	nr_model_endpoint_set_ifindex(ctl->model, id, ifindex, NULL);
	nr_ctl_after_change(ctl, true, id, &old);
	ctl->store_dirty = true;
}

static void endpoint_gone(struct nr_ctl *ctl, const struct nr_endpoint *ep)
{
	uint64_t now = uv_now(ctl->loop);
	struct nr_ctl_gone *g = calloc(1, sizeof(*g));
	char *id = g ? strdup(ep->id) : NULL;

	if (!id) { /* no memory to wait: release now rather than leak */
		free(g);
		nr_ctl_endpoint_remove(ctl, ep->id, NULL, NULL);
		return;
	}
	g->id = id;
	g->deadline_ms = now + ctl->endpoint_grace_ms;
	snprintf(g->ifname, sizeof(g->ifname), "%s", ep->ifname);
	g->next = ctl->gone;
	ctl->gone = g;
	nr_ctl_emit(ctl, NR_EVENT_ENDPOINT_GONE, nr_model_local_name(ctl->model), ep->id,
		    "endpoint %s: host interface %s (#%u) disappeared; its route is withdrawn and "
		    "the endpoint is released in %u s unless %s comes back",
		    ep->id, ep->ifname[0] ? ep->ifname : "?", ep->ifindex,
		    (ctl->endpoint_grace_ms + 999) / 1000, ep->ifname[0] ? ep->ifname : "it");
	endpoint_move(ctl, id, 0);
}

/* One endpoint with a known interface: still there? gateway address on it? */
static void endpoint_check(struct nr_ctl *ctl, const struct nr_endpoint *ep)
{
	const uint8_t fams[2] = { AF_INET, AF_INET6 };
	const struct nr_addr *ips[2] = { &ep->ip4, &ep->ip6 };
	struct nr_nl_link link;
	struct nr_err err = { 0 };

	if (ctl->k->link_get(ctl->query, NULL, ep->ifindex, &link, &err) == -ENODEV) {
		endpoint_gone(ctl, ep);
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct nr_addr gw;
		char buf[NR_ADDR_STRLEN];
		int r;

		if (!ips[i]->family || nr_model_gateway(ctl->model, fams[i], &gw) < 0)
			continue;
		/* the gateway sits on every endpoint's link: ask this one by an
		 * exclusive add, which changes nothing when it is there */
		r = ctl->k->addr_restore(ctl->query, ep->ifindex, &gw, nr_addr_bits(fams[i]), &err);
		if (r < 0)
			nr_ctl_emit(ctl, NR_EVENT_ERROR, nr_model_local_name(ctl->model), ep->id,
				    "endpoint %s: %s", ep->id, err.msg);
		if (r <= 0)
			continue;
		ctl->drift_repairs++;
		nr_ctl_emit(ctl, NR_EVENT_DRIFT_REPAIRED, nr_model_local_name(ctl->model),
			    nr_addr_str(&gw, buf, sizeof(buf)),
			    "gateway address %s on %s (endpoint %s) was deleted outside the controller; restored", buf,
			    link.name, ep->id);
	}
}

/* A gone endpoint whose interface name exists again: attach it anew. */
static bool endpoint_back(struct nr_ctl *ctl, struct nr_ctl_gone *g)
{
	const struct nr_endpoint *ep = nr_model_endpoint_get(ctl->model, g->id);
	struct nr_err err = { 0 };
	uint32_t ifindex;

	if (!ep || !g->ifname[0] || ctl->k->link_index(ctl->query, g->ifname, &ifindex, NULL) < 0 ||
	    nr_ctl_host_is_endpoint_link(ctl, ifindex))
		return false;
	endpoint_move(ctl, g->id, ifindex);
	ep = nr_model_endpoint_get(ctl->model, g->id);
	if (nr_ctl_host_endpoint_up(ctl, ep, NULL, &err) < 0)
		nr_ctl_emit(ctl, NR_EVENT_ERROR, nr_model_local_name(ctl->model), g->id,
			    "endpoint %s: %s", g->id, err.msg);
	nr_ctl_emit(ctl, NR_EVENT_ENDPOINT_ADDED, nr_model_local_name(ctl->model), g->id,
		    "endpoint %s: host interface %s is back (#%u); route restored", g->id,
		    g->ifname, ifindex);
	return true;
}

void nr_ctl_host_sync(struct nr_ctl *ctl)
{
	uint64_t now = uv_now(ctl->loop), next = UINT64_MAX;
	struct nr_ctl_gone **g = &ctl->gone;

	if (ctl->host_check) {
		ctl->host_check = false;
		for (const struct nr_endpoint *ep = nr_model_endpoint_next(ctl->model, NULL), *nx;
		     ep; ep = nx) {
			nx = nr_model_endpoint_next(ctl->model, ep);
			if (ep->ifindex)
				endpoint_check(ctl, ep);
		}
	}
	while (*g) {
		const char *id = (*g)->id;

		if (!nr_model_endpoint_get(ctl->model, id) || endpoint_back(ctl, *g)) {
			gone_drop(g); /* removed meanwhile, or back */
		} else if ((*g)->deadline_ms <= now) {
			nr_ctl_endpoint_remove(ctl, id, NULL, NULL);
			gone_drop(g);
		} else {
			if ((*g)->deadline_ms < next)
				next = (*g)->deadline_ms;
			g = &(*g)->next;
		}
	}
	if (next != UINT64_MAX)
		nr_ctl_schedule(ctl, (unsigned int)(next - now));
}
