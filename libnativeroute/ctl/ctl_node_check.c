/* The checks of a node add/update that ask the kernel: the local node's
 * IPs, and the reachability auto-direct-node-routes needs, made at once or
 * left to the next full pass (which asks for every node IP at once). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "ctl/ctl_node_check.h"
#include "netlink/nl_link.h"
#include "netlink/nl_reach.h"

/* auto-direct-node-routes in native mode installs `<cidr> via <node IP>`,
 * which only works for an L2 neighbour: refuse the others up front (hybrid
 * tunnels them; skip_unreachable lets the planner report them instead). */
static bool direct_required(struct nr_ctl *ctl, const char *name)
{
	const struct nr_cluster_config *cfg = nr_model_config(ctl->model);

	return cfg->routing_mode == NR_MODE_NATIVE && cfg->auto_direct_node_routes &&
	       !cfg->direct_routing_skip_unreachable && strcmp(name, nr_model_local_name(ctl->model));
}

int nr_ctl_direct_refusal(const char *name, const struct nr_addr *ip, const struct nr_reach *r,
			  struct nr_err *err)
{
	char ipb[NR_ADDR_STRLEN], gwb[NR_ADDR_STRLEN];

	if (r->kind == NR_REACH_DIRECT)
		return 0;
	nr_addr_str(ip, ipb, sizeof(ipb));
	if (r->kind == NR_REACH_GATEWAY)
		return nr_err_set(err, -ENETUNREACH,
				  "node %s: %s is not directly reachable (only via gateway %s); "
				  "auto-direct-node-routes needs every node on a connected link: "
				  "use hybrid mode or direct_routing_skip_unreachable",
				  name, ipb, nr_addr_str(&r->gw, gwb, sizeof(gwb)));
	return nr_err_set(err, -ENETUNREACH, "node %s: %s is unreachable (no route)", name, ipb);
}

/* The check at once when the answer is known. A node add leaves an unknown
 * answer to the next pass, which asks for all of them at once (pipelined,
 * from the loop) and refuses the node there, before planning: an add never
 * waits for the kernel on the caller's loop, and 500 adds in one loop turn
 * cost no round trip each. *defer tells. */
int nr_ctl_check_direct(struct nr_ctl *ctl, const struct nr_node_req *req, bool may_defer,
			bool *defer, struct nr_err *err)
{
	const struct nr_addr *ips[2] = { &req->ip4, &req->ip6 };

	*defer = false;
	if (!direct_required(ctl, req->name))
		return 0;
	for (int i = 0; i < 2; i++) {
		const struct nr_reach *r;
		int rc;

		if (!ips[i]->family)
			continue;
		r = nr_reach_cache_peek(ctl, ips[i]);
		if (!r && may_defer) {
			*defer = true;
			continue;
		}
		if (!r)
			r = nr_reach_cache_get(ctl, ips[i]);
		rc = nr_ctl_direct_refusal(req->name, ips[i], r, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* In a full pass, once every node IP's answer is known: refuse the node
 * adds whose check was left to it. The node leaves the model again and its
 * request fails with the reason; nothing of it reached the kernel. */
void nr_ctl_deferred_checks(struct nr_ctl *ctl, struct nr_pending *reqs)
{
	for (struct nr_pending *p = reqs; p; p = p->next) {
		const struct nr_node *n;
		const struct nr_addr *ips[2];
		struct nr_err err = { 0 };
		int rc = 0;

		if (!p->check_reach || !p->id || !(n = nr_model_node_get(ctl->model, p->id)) ||
		    !direct_required(ctl, p->id))
			continue;
		ips[0] = &n->ip4;
		ips[1] = &n->ip6;
		for (int i = 0; i < 2 && rc == 0; i++)
			if (ips[i]->family)
				rc = nr_ctl_direct_refusal(p->id, ips[i], nr_reach_cache_get(ctl, ips[i]), &err);
		if (rc == 0)
			continue;
		p->status = rc;
		free(p->msg);
		p->msg = strdup(err.msg);
		nr_model_node_remove(ctl->model, p->id, NULL);
		nr_ctl_emit(ctl, NR_EVENT_NODE_REMOVED, p->id, NULL, "node %s refused: %s", p->id, err.msg);
	}
}

/* The local node's IPs are the routes' preferred source and the tunnel's
 * local address: like at start-up, each must be an address of a link here
 * (the kernel would refuse every route later, "Invalid prefsrc"). */
int nr_ctl_check_local_ips(struct nr_ctl *ctl, const struct nr_node_req *req, struct nr_err *err)
{
	const struct nr_addr *ips[2] = { &req->ip4, &req->ip6 };
	char buf[NR_ADDR_STRLEN];

	if (strcmp(req->name, nr_model_local_name(ctl->model)))
		return 0;
	for (int i = 0; i < 2; i++) {
		uint32_t ifindex;

		if (ips[i]->family && ctl->k->addr_find(ctl->query, ips[i], &ifindex, NULL) < 0)
			return nr_err_set(err, -EADDRNOTAVAIL,
					  "node %s (this node): IP %s is not an address of any link in %s%s",
					  req->name, nr_addr_str(ips[i], buf, sizeof(buf)),
					  ctl->netns ? "network namespace " : "this network namespace",
					  ctl->netns ? ctl->netns : "");
	}
	return 0;
}
