/* The endpoint mutations: add (host side set up at once, route at the next
 * pass) and remove. Same contract as the node mutations (ctl_node_ops.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_ep_device.h"
#include "ctl/ctl_internal.h"
#include "ctl/ctl_pending.h"
#include "store/etcd.h"
#include "netlink/nl_link.h"
#include "util/last_error.h"
#include "util/opts_internal.h"

static void endpoint_snapshot(struct nr_ctl *ctl, struct nr_pending *p, const struct nr_endpoint *ep)
{
	struct nr_pending_ep *e = nr_pending_ep_of(p);
	struct nr_addr gw;

	snprintf(e->ep.ifname, sizeof(e->ep.ifname), "%s", ep->ifname);
	e->ep.ifindex = ep->ifindex;
	nr_addr_str(&ep->ip4, e->ep.ipv4, sizeof(e->ep.ipv4));
	nr_addr_str(&ep->ip6, e->ep.ipv6, sizeof(e->ep.ipv6));
	if (ep->ip4.family && nr_model_gateway(ctl->model, AF_INET, &gw) == 0)
		nr_addr_str(&gw, e->ep.gw4, sizeof(e->ep.gw4));
	if (ep->ip6.family && nr_model_gateway(ctl->model, AF_INET6, &gw) == 0)
		nr_addr_str(&gw, e->ep.gw6, sizeof(e->ep.gw6));
	e->ep.mtu = nr_ctl_pod_mtu(ctl);
	e->dst[0] = (struct nr_prefix){ .addr = ep->ip4, .len = 32 };
	e->dst[1] = (struct nr_prefix){ .addr = ep->ip6, .len = 128 };
}

/* Whether the model's endpoint is the one this add request made: same id
 * and the addresses it was given (a remove and a new add of the same id in
 * between would have been given its own). */
static bool endpoint_is_this_add(struct nr_pending *p, const struct nr_endpoint *ep)
{
	const struct nr_pending_ep *e = nr_pending_ep_of(p);

	return nr_addr_eq(&ep->ip4, &e->dst[0].addr) && nr_addr_eq(&ep->ip6, &e->dst[1].addr);
}

/* The add failed after the call (p->on_fail): the kernel refused its route
 * in the pass, or the save ahead failed. An error means nothing changed, so
 * the endpoint this call added leaves the model - its address goes back to
 * the IPAM, its routes and eBPF entry leave the plan, and the next save
 * writes the state without it - and its host side is taken back. Only a new
 * endpoint can get here: an add of an existing id is refused at the call
 * (-EEXIST). After a failed save the model is back already; on close or
 * purge the model is going away, and is left alone. */
static void endpoint_add_failed(struct nr_ctl *ctl, struct nr_pending *p)
{
	const struct nr_endpoint *ep = NULL;
	struct nr_kstate old;

	if (ctl->model && !ctl->closing && !ctl->purged && !ctl->purge_req && p->id)
		ep = nr_model_endpoint_get(ctl->model, p->id);
	if (ep && endpoint_is_this_add(p, ep)) {
		nr_ctl_before_change(ctl, true, p->id, &old);
		nr_model_endpoint_remove(ctl->model, p->id, NULL);
		nr_ctl_after_change(ctl, true, p->id, &old);
		ctl->store_dirty = true; /* a state saved with it is saved again */
		if (ctl->started)
			nr_ctl_schedule(ctl, 0);
	}
	nr_ctl_host_endpoint_undo(ctl, p);
}

static int endpoint_req_from_spec(struct nr_ctl *ctl, const struct nr_endpoint_spec *spec,
				  struct nr_endpoint_req *req, struct nr_err *err)
{
	const char *ip4 = OPTS_GET(spec, ipv4, NULL), *ip6 = OPTS_GET(spec, ipv6, NULL);

	memset(req, 0, sizeof(*req));
	req->id = OPTS_GET(spec, id, NULL);
	req->ifname = OPTS_GET(spec, ifname, NULL);
	req->ifindex = OPTS_GET(spec, ifindex, 0);
	if (!req->id)
		return nr_err_set(err, -EINVAL, "endpoint id is required");
	if (ip4 && *ip4 && (nr_addr_parse(ip4, &req->ip4, err) < 0 || req->ip4.family != AF_INET))
		return nr_err_set(err, -EINVAL, "endpoint %s: ipv4 %s is not an IPv4 address", req->id, ip4);
	if (ip6 && *ip6 && (nr_addr_parse(ip6, &req->ip6, err) < 0 || req->ip6.family != AF_INET6))
		return nr_err_set(err, -EINVAL, "endpoint %s: ipv6 %s is not an IPv6 address", req->id, ip6);
	if (!req->ifname && !req->ifindex)
		return nr_err_set(err, -EINVAL, "endpoint %s: give ifname or ifindex", req->id);
	/* The host-side device must exist: its index is what the route uses. */
	if (req->ifname) {
		uint32_t ifindex;

		if (ctl->k->link_index(ctl->query, req->ifname, &ifindex, err) < 0)
			return nr_err_set(err, -ENODEV, "endpoint %s: interface %s does not exist%s%s",
					  req->id, req->ifname, ctl->netns ? " in " : "",
					  ctl->netns ? ctl->netns : "");
		if (req->ifindex && req->ifindex != ifindex)
			return nr_err_set(err, -EINVAL, "endpoint %s: %s has index %u, not %u", req->id,
					  req->ifname, ifindex, req->ifindex);
		req->ifindex = ifindex;
	} else {
		struct nr_nl_link link;

		if (ctl->k->link_get(ctl->query, NULL, req->ifindex, &link, err) < 0)
			return nr_err_set(err, -ENODEV, "endpoint %s: no interface with index %u",
					  req->id, req->ifindex);
	}
	return nr_ctl_endpoint_device_check(ctl, req->id, req->ifindex, err);
}

NR_API int nr_ctl_endpoint_add(struct nr_ctl *ctl, const struct nr_endpoint_spec *spec,
			       nr_ctl_endpoint_cb cb, void *data)
{
	struct nr_err err = { 0 };
	struct nr_endpoint_req req;
	const struct nr_endpoint *ep;
	struct nr_kstate old;
	struct nr_pending *p;
	const struct nr_ep_snapshot *snap;
	int rc;

	nr_last_error_clear();
	if (!ctl || ctl->closing || !spec)
		return nr_last_error_set(-EINVAL, "endpoint add: no controller (or closing), or no spec");
	if ((rc = nr_ctl_check_usable(ctl)) < 0)
		return rc;
	if (!OPTS_VALID(spec, nr_endpoint_spec, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	if ((rc = nr_etcd_check_endpoint_call(ctl->etcd, &err)) < 0)
		return nr_last_error_set_from(&err, rc);
	rc = endpoint_req_from_spec(ctl, spec, &req, &err);
	if (rc < 0)
		return nr_last_error_set_from(&err, rc);
	p = nr_ctl_pending_new(NR_OP_ENDPOINT, NULL, data);
	if (!p || !(p->id = strdup(req.id))) {
		nr_ctl_pending_free(p);
		return nr_last_error_set(-ENOMEM, "out of memory");
	}
	p->ep_cb = cb;
	nr_ctl_before_change(ctl, true, req.id, &old);
	rc = nr_model_endpoint_add(ctl->model, &req, &ep, &err);
	if (rc == 0) {
		rc = nr_ctl_host_endpoint_up(ctl, ep, &nr_pending_ep_of(p)->host_undo, &err);
		if (rc < 0) /* undo: a refused call changes nothing */
			nr_model_endpoint_remove(ctl->model, req.id, NULL);
	}
	nr_ctl_after_change(ctl, true, req.id, &old);
	if (rc < 0) {
		nr_ctl_pending_free(p);
		return nr_last_error_set_from(&err, rc);
	}
	endpoint_snapshot(ctl, p, ep);
	p->on_fail = endpoint_add_failed; /* its route refused, or the save ahead failed */
	snap = &nr_pending_ep_of(p)->ep;
	nr_ctl_emit(ctl, NR_EVENT_ENDPOINT_ADDED, nr_model_local_name(ctl->model),
		    snap->ipv4[0] ? snap->ipv4 : snap->ipv6, "endpoint %s added on %s", req.id,
		    snap->ifname);
	nr_ctl_pending_queue(ctl, p);
	return 0;
}

NR_API int nr_ctl_endpoint_remove(struct nr_ctl *ctl, const char *id, nr_ctl_done_cb cb, void *data)
{
	struct nr_err err = { 0 };
	const struct nr_endpoint *ep;
	struct nr_kstate old;
	struct nr_pending *p;
	int rc;

	nr_last_error_clear();
	if (!ctl || ctl->closing || !id)
		return nr_last_error_set(-EINVAL, "endpoint remove: no controller (or closing), or no id");
	if ((rc = nr_ctl_check_usable(ctl)) < 0)
		return rc;
	ep = nr_model_endpoint_get(ctl->model, id);
	if (!ep)
		return nr_last_error_set(-ENOENT, "endpoint %s: no such endpoint", id);
	p = nr_ctl_pending_new(NR_OP_REMOVE_EP, cb, data);
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	endpoint_snapshot(ctl, p, ep);
	nr_ctl_host_endpoint_down(ctl, ep);
	nr_ctl_before_change(ctl, true, id, &old);
	rc = nr_model_endpoint_remove(ctl->model, id, &err);
	nr_ctl_after_change(ctl, true, id, &old);
	if (rc < 0) {
		nr_ctl_pending_free(p);
		return nr_last_error_set_from(&err, rc);
	}
	nr_ctl_emit(ctl, NR_EVENT_ENDPOINT_REMOVED, nr_model_local_name(ctl->model), NULL,
		    "endpoint %s removed", id);
	nr_ctl_pending_queue(ctl, p);
	return 0;
}
