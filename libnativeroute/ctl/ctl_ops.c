/* The asynchronous mutations. Each one checks and applies its change to the
 * model at once (a refusal returns < 0, changes nothing and never calls
 * back), then queues the caller's callback for the end of the next
 * reconcile pass, which programs the kernel. Calls made in one loop turn
 * share one pass, so 10,000 node adds cost one plan and one batch. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_ep_device.h"
#include "ctl/ctl_internal.h"
#include "ctl/ctl_masq.h"
#include "store/etcd.h"
#include "netlink/nl_link.h"
#include "netlink/nl_reach.h"
#include "util/last_error.h"
#include "util/opts_internal.h"

/* A persistent fault (a foreign route on a pod CIDR, retried every second)
 * must not flood the log: the same text once, then once a minute with the
 * count of repeats. 32 slots, the oldest reused. */
static bool fault_held_back(struct nr_ctl *ctl, char *msg, size_t len)
{
	uint64_t now = uv_now(ctl->loop);
	uint32_t h = 2166136261u;
	struct nr_ctl_fault *slot = &ctl->faults[0];

	for (const char *c = msg; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	h |= 1; /* 0 marks a free slot */
	for (size_t i = 0; i < sizeof(ctl->faults) / sizeof(ctl->faults[0]); i++) {
		struct nr_ctl_fault *f = &ctl->faults[i];

		if (f->hash == h) {
			if (now - f->last_ms < NR_FAULT_REPEAT_MS) {
				f->suppressed++;
				return true;
			}
			if (f->suppressed) {
				size_t at = strlen(msg);

				snprintf(msg + at, len - at, " (%u more since the last report)",
					 f->suppressed);
			}
			f->last_ms = now;
			f->suppressed = 0;
			return false;
		}
		if (f->last_ms < slot->last_ms)
			slot = f;
	}
	*slot = (struct nr_ctl_fault){ .hash = h, .last_ms = now };
	return false;
}

void nr_ctl_emit(struct nr_ctl *ctl, enum nr_event_type type, const char *node,
		 const char *object, const char *fmt, ...)
{
	char msg[NR_ERR_MSG_MAX];
	struct nr_pending *p;
	va_list ap;

	if (!ctl->event_cb)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (type == NR_EVENT_ERROR && fault_held_back(ctl, msg, sizeof(msg)))
		return;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->msg = strdup(msg)) || (node && !(p->ev_node = strdup(node))) ||
	    (object && !(p->ev_object = strdup(object)))) {
		if (p) {
			free(p->msg);
			free(p->ev_node);
		}
		free(p);
		return; /* out of memory: an event is lost, not state */
	}
	p->kind = NR_OP_EVENT;
	p->ev_type = type;
	nr_ctl_deliver_event(ctl, p);
}

/* After a purge (or while one runs) the model no longer describes the
 * kernel: only close makes sense. */
static int check_usable(const struct nr_ctl *ctl)
{
	if (ctl->purged || ctl->purge_req)
		return nr_last_error_set(-ESHUTDOWN, "the controller was purged; close it");
	return 0;
}

static struct nr_pending *pending_new(struct nr_ctl *ctl, enum nr_op_kind kind,
				      nr_ctl_done_cb cb, void *data)
{
	struct nr_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = kind;
	p->done_cb = cb;
	p->data = data;
	return p;
}

static void pending_queue(struct nr_ctl *ctl, struct nr_pending *p)
{
	ctl->store_dirty = true; /* every queued request changed the model */
	/* Queued while a pass runs (a callback, or a loop turn while its batch
	 * is out): that pass neither sent it nor answers it. Its record of the
	 * kernel stays right: during a pass a change leaves ctl->desired alone
	 * and asks for a full pass instead (nr_ctl_incremental), so what the
	 * pass adopts as observed is what it sent. */
	*ctl->pending_tail = p;
	ctl->pending_tail = &p->next;
	if (ctl->started)
		nr_ctl_schedule(ctl, 0);
}

/* Remember what a node request touches, so a failed kernel operation can be
 * reported to the request it belongs to. */
static void pending_track_cidr(struct nr_pending *p, const struct nr_prefix *cidr)
{
	for (int i = 0; cidr->addr.family && i < 4; i++) {
		if (!p->dst[i].addr.family || nr_prefix_eq(&p->dst[i], cidr)) {
			p->dst[i] = *cidr;
			return;
		}
	}
}

/* Called before and after an update: both the CIDRs a node leaves and the
 * ones it gets are this request's. */
static void pending_track_node(const struct nr_ctl *ctl, struct nr_pending *p, const struct nr_node *n)
{
	pending_track_cidr(p, &n->cidr4);
	pending_track_cidr(p, &n->cidr6);
	p->nh_id[0] = nr_ctl_nh_id(ctl, n->index, false);
	p->nh_id[1] = nr_ctl_nh_id(ctl, n->index, true);
}

void nr_ctl_pending_finish_all(struct nr_ctl *ctl, int status, const char *msg)
{
	struct nr_pending *p = ctl->pending;

	ctl->pending = NULL;
	ctl->pending_tail = &ctl->pending;
	while (p) {
		struct nr_pending *next = p->next;

		nr_ctl_pending_run(ctl, p, status, msg);
		p = next;
	}
}

static bool failure_is_mine(const struct nr_pending *p, const struct nr_ctl_failure *f)
{
	for (int i = 0; i < 4; i++)
		if (p->dst[i].addr.family && f->dst.addr.family &&
		    nr_prefix_overlaps(&p->dst[i], &f->dst))
			return true;
	for (int i = 0; i < 2; i++)
		if (p->nh_id[i] && p->nh_id[i] == f->nh_id)
			return true;
	return false;
}

static void remember_failures(struct nr_ctl *ctl, const struct nr_ctl_failure *fails, size_t n)
{
	struct nr_ctl_failure *copy = n ? malloc(n * sizeof(*copy)) : NULL;

	free(ctl->last_fails);
	ctl->last_fails = copy;
	ctl->n_last_fails = copy ? n : 0;
	if (copy)
		memcpy(copy, fails, n * sizeof(*copy));
}

bool nr_ctl_route_blocked(const struct nr_ctl *ctl, const struct nr_prefix *dst)
{
	for (size_t i = 0; i < ctl->n_last_fails; i++)
		if (ctl->last_fails[i].dst.addr.family && nr_prefix_eq(&ctl->last_fails[i].dst, dst))
			return true;
	return false;
}

void nr_ctl_pending_finish(struct nr_ctl *ctl, struct nr_pending *list,
			   const struct nr_ctl_failure *fails, size_t n_fails,
			   int pass_status, const char *pass_msg)
{
	struct nr_pending *p = list;

	if (nr_ctl_masq_hold(ctl, list, fails, n_fails, pass_status, pass_msg))
		return; /* answered once the masquerade table is in line too */
	remember_failures(ctl, fails, n_fails);
	for (size_t i = 0; i < n_fails; i++) /* a foreign nexthop has this id */
		if (fails[i].nh_id && fails[i].code == -EEXIST)
			nr_ctl_nh_taken(ctl, fails[i].nh_id);
	while (p) {
		struct nr_pending *next = p->next;
		int status = p->status < 0 ? p->status : pass_status;
		const char *msg = p->status < 0 ? p->msg : pass_msg;

		for (size_t i = 0; status == 0 && i < n_fails; i++) {
			/* A node the model kept (and the state file has) is not
			 * undone by a kernel refusal of its route: the change was
			 * made, and the route is retried until it goes in. The
			 * refusal is the node's state ("blocked") and an event. */
			if (p->kind == NR_OP_NODE)
				continue;
			if (p->kind == NR_OP_START || p->kind == NR_OP_MODE || failure_is_mine(p, &fails[i])) {
				status = fails[i].code;
				msg = fails[i].text;
			}
		}
		nr_ctl_pending_run(ctl, p, status, msg);
		p = next;
	}
}

/* ---- nodes ---------------------------------------------------------------- */

static int node_req_from_spec(const struct nr_node_spec *spec, struct nr_node_req *req,
			      struct nr_err *err)
{
	const char *const *cidrs = OPTS_GET(spec, pod_cidrs, NULL);
	const char *ip4 = OPTS_GET(spec, ipv4, NULL), *ip6 = OPTS_GET(spec, ipv6, NULL);

	memset(req, 0, sizeof(*req));
	req->name = OPTS_GET(spec, name, NULL);
	if (!req->name)
		return nr_err_set(err, -EINVAL, "node name is required");
	if (ip4 && *ip4 && nr_addr_parse(ip4, &req->ip4, err) < 0)
		return nr_err_prefix(err, -EINVAL, "node %s: ipv4 ", req->name);
	if (ip6 && *ip6 && nr_addr_parse(ip6, &req->ip6, err) < 0)
		return nr_err_prefix(err, -EINVAL, "node %s: ipv6 ", req->name);
	if (req->ip4.family && req->ip4.family != AF_INET)
		return nr_err_set(err, -EINVAL, "node %s: ipv4 %s is not an IPv4 address", req->name, ip4);
	if (req->ip6.family && req->ip6.family != AF_INET6)
		return nr_err_set(err, -EINVAL, "node %s: ipv6 %s is not an IPv6 address", req->name, ip6);
	for (size_t i = 0; cidrs && cidrs[i]; i++) {
		struct nr_prefix p;
		struct nr_prefix *slot;

		if (nr_prefix_parse(cidrs[i], &p, err) < 0)
			return nr_err_prefix(err, -EINVAL, "node %s: pod CIDR ", req->name);
		slot = p.addr.family == AF_INET ? &req->cidr4 : &req->cidr6;
		if (slot->addr.family)
			return nr_err_set(err, -EINVAL, "node %s: two pod CIDRs of one family (%s)",
					  req->name, cidrs[i]);
		*slot = p;
	}
	return 0;
}

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

/* The check at once when the answer is known or cheap to get. A node add
 * while a full pass is due anyway (a bulk of adds, a batch in flight)
 * leaves an unknown answer to that pass, which asks for all of them at
 * once (pipelined) and refuses the node there, before planning: 500 adds
 * in one loop turn cost no round trip each. *defer tells. */
static int check_direct(struct nr_ctl *ctl, const struct nr_node_req *req, bool may_defer,
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
		if (!r && may_defer && !nr_ctl_incremental(ctl)) {
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
static int check_local_ips(struct nr_ctl *ctl, const struct nr_node_req *req, struct nr_err *err)
{
	const struct nr_addr *ips[2] = { &req->ip4, &req->ip6 };
	char buf[NR_ADDR_STRLEN];

	if (strcmp(req->name, nr_model_local_name(ctl->model)))
		return 0;
	for (int i = 0; i < 2; i++) {
		uint32_t ifindex;

		if (ips[i]->family && nr_nl_addr_find(ctl->query, ips[i], &ifindex, NULL) < 0)
			return nr_err_set(err, -EADDRNOTAVAIL,
					  "node %s (this node): IP %s is not an address of any link in %s%s",
					  req->name, nr_addr_str(ips[i], buf, sizeof(buf)),
					  ctl->netns ? "network namespace " : "this network namespace",
					  ctl->netns ? ctl->netns : "");
	}
	return 0;
}

static int node_change(struct nr_ctl *ctl, const struct nr_node_spec *spec, bool update,
		       nr_ctl_done_cb cb, void *data)
{
	struct nr_err err = { 0 };
	struct nr_node_req req;
	const struct nr_node *n;
	struct nr_kstate old;
	struct nr_pending *p;
	bool local = false, defer = false;
	int rc;

	nr_last_error_clear();
	if (!ctl || ctl->closing || !spec)
		return nr_last_error_set(-EINVAL, "node: no controller (or closing), or no spec");
	if ((rc = check_usable(ctl)) < 0)
		return rc;
	if (!OPTS_VALID(spec, nr_node_spec, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	rc = node_req_from_spec(spec, &req, &err);
	if (rc == 0)
		rc = nr_etcd_check_node_call(ctl->etcd, req.name, &err);
	if (rc == 0)
		rc = check_local_ips(ctl, &req, &err);
	if (rc == 0)
		rc = check_direct(ctl, &req, !update, &defer, &err);
	if (rc < 0)
		return nr_last_error_set_from(&err, rc);
	p = pending_new(ctl, NR_OP_NODE, cb, data);
	if (!p || (defer && !(p->id = strdup(req.name)))) {
		free(p);
		return nr_last_error_set(-ENOMEM, "out of memory");
	}
	p->check_reach = defer;
	nr_ctl_before_change(ctl, false, req.name, &old);
	if (update) {
		/* failures of the old CIDRs' removal count as this request's too */
		n = nr_model_node_get(ctl->model, req.name);
		if (n)
			pending_track_node(ctl, p, n);
		rc = nr_model_node_update(ctl->model, &req, &n, &err);
	} else {
		rc = nr_model_node_add(ctl->model, &req, &n, &err);
	}
	if (rc == 0) {
		pending_track_node(ctl, p, n);
		local = n == nr_model_local_node(ctl->model);
	}
	/* may emit NODE_UNREACHABLE, whose callback may remove the node: n is
	 * not used after this */
	nr_ctl_after_change(ctl, false, req.name, &old);
	if (rc < 0) {
		free(p->id);
		free(p);
		return nr_last_error_set_from(&err, rc);
	}
	if (local)
		ctl->full_pass = true; /* every native route carries its IP as src */
	nr_ctl_emit(ctl, update ? NR_EVENT_NODE_UPDATED : NR_EVENT_NODE_ADDED, req.name, NULL,
		    "node %s %s", req.name, update ? "updated" : "added");
	pending_queue(ctl, p);
	return 0;
}

NR_API int nr_ctl_node_add(struct nr_ctl *ctl, const struct nr_node_spec *spec,
			   nr_ctl_done_cb cb, void *data)
{
	return node_change(ctl, spec, false, cb, data);
}

NR_API int nr_ctl_node_update(struct nr_ctl *ctl, const struct nr_node_spec *spec,
			      nr_ctl_done_cb cb, void *data)
{
	return node_change(ctl, spec, true, cb, data);
}

NR_API int nr_ctl_node_remove(struct nr_ctl *ctl, const char *name, nr_ctl_done_cb cb, void *data)
{
	struct nr_err err = { 0 };
	const struct nr_node *n;
	struct nr_kstate old;
	struct nr_pending *p;
	int rc;

	nr_last_error_clear();
	if (!ctl || ctl->closing || !name)
		return nr_last_error_set(-EINVAL, "node remove: no controller (or closing), or no name");
	if ((rc = check_usable(ctl)) < 0)
		return rc;
	n = nr_model_node_get(ctl->model, name);
	if (!n)
		return nr_last_error_set(-ENOENT, "node %s: no such node", name);
	if ((rc = nr_etcd_check_node_call(ctl->etcd, name, &err)) < 0)
		return nr_last_error_set_from(&err, rc);
	if (!strcmp(name, nr_model_local_name(ctl->model)))
		return nr_last_error_set(-EBUSY, "node %s is this node; it cannot be removed", name);
	p = pending_new(ctl, NR_OP_NODE, cb, data);
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	pending_track_node(ctl, p, n);
	nr_ctl_before_change(ctl, false, name, &old);
	rc = nr_model_node_remove(ctl->model, name, &err);
	nr_ctl_after_change(ctl, false, name, &old);
	if (rc < 0) {
		free(p);
		return nr_last_error_set_from(&err, rc);
	}
	nr_ctl_emit(ctl, NR_EVENT_NODE_REMOVED, name, NULL, "node %s removed", name);
	pending_queue(ctl, p);
	return 0;
}

/* ---- endpoints ------------------------------------------------------------ */

static void endpoint_snapshot(struct nr_ctl *ctl, struct nr_pending *p, const struct nr_endpoint *ep)
{
	struct nr_addr gw;

	snprintf(p->ep.ifname, sizeof(p->ep.ifname), "%s", ep->ifname);
	p->ep.ifindex = ep->ifindex;
	nr_addr_str(&ep->ip4, p->ep.ipv4, sizeof(p->ep.ipv4));
	nr_addr_str(&ep->ip6, p->ep.ipv6, sizeof(p->ep.ipv6));
	if (ep->ip4.family && nr_model_gateway(ctl->model, AF_INET, &gw) == 0)
		nr_addr_str(&gw, p->ep.gw4, sizeof(p->ep.gw4));
	if (ep->ip6.family && nr_model_gateway(ctl->model, AF_INET6, &gw) == 0)
		nr_addr_str(&gw, p->ep.gw6, sizeof(p->ep.gw6));
	p->ep.mtu = nr_ctl_pod_mtu(ctl);
	p->dst[0] = (struct nr_prefix){ .addr = ep->ip4, .len = 32 };
	p->dst[1] = (struct nr_prefix){ .addr = ep->ip6, .len = 128 };
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

		if (nr_nl_link_index(ctl->query, req->ifname, &ifindex, err) < 0)
			return nr_err_set(err, -ENODEV, "endpoint %s: interface %s does not exist%s%s",
					  req->id, req->ifname, ctl->netns ? " in " : "",
					  ctl->netns ? ctl->netns : "");
		if (req->ifindex && req->ifindex != ifindex)
			return nr_err_set(err, -EINVAL, "endpoint %s: %s has index %u, not %u", req->id,
					  req->ifname, ifindex, req->ifindex);
		req->ifindex = ifindex;
	} else {
		struct nr_nl_link link;

		if (nr_nl_link_get(ctl->query, NULL, req->ifindex, &link, err) < 0)
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
	int rc;

	nr_last_error_clear();
	if (!ctl || ctl->closing || !spec)
		return nr_last_error_set(-EINVAL, "endpoint add: no controller (or closing), or no spec");
	if ((rc = check_usable(ctl)) < 0)
		return rc;
	if (!OPTS_VALID(spec, nr_endpoint_spec, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	if ((rc = nr_etcd_check_endpoint_call(ctl->etcd, &err)) < 0)
		return nr_last_error_set_from(&err, rc);
	rc = endpoint_req_from_spec(ctl, spec, &req, &err);
	if (rc < 0)
		return nr_last_error_set_from(&err, rc);
	p = pending_new(ctl, NR_OP_ENDPOINT, NULL, data);
	if (!p || !(p->id = strdup(req.id))) {
		free(p);
		return nr_last_error_set(-ENOMEM, "out of memory");
	}
	p->ep_cb = cb;
	nr_ctl_before_change(ctl, true, req.id, &old);
	rc = nr_model_endpoint_add(ctl->model, &req, &ep, &err);
	if (rc == 0) {
		rc = nr_ctl_host_endpoint_up(ctl, ep, &err);
		if (rc < 0) /* undo: a refused call changes nothing */
			nr_model_endpoint_remove(ctl->model, req.id, NULL);
	}
	nr_ctl_after_change(ctl, true, req.id, &old);
	if (rc < 0) {
		free(p->id);
		free(p);
		return nr_last_error_set_from(&err, rc);
	}
	endpoint_snapshot(ctl, p, ep);
	nr_ctl_emit(ctl, NR_EVENT_ENDPOINT_ADDED, nr_model_local_name(ctl->model), p->ep.ipv4[0] ? p->ep.ipv4 : p->ep.ipv6,
		    "endpoint %s added on %s", req.id, p->ep.ifname);
	pending_queue(ctl, p);
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
	if ((rc = check_usable(ctl)) < 0)
		return rc;
	ep = nr_model_endpoint_get(ctl->model, id);
	if (!ep)
		return nr_last_error_set(-ENOENT, "endpoint %s: no such endpoint", id);
	p = pending_new(ctl, NR_OP_REMOVE_EP, cb, data);
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	endpoint_snapshot(ctl, p, ep);
	nr_ctl_host_endpoint_down(ctl, ep);
	nr_ctl_before_change(ctl, true, id, &old);
	rc = nr_model_endpoint_remove(ctl->model, id, &err);
	nr_ctl_after_change(ctl, true, id, &old);
	if (rc < 0) {
		free(p);
		return nr_last_error_set_from(&err, rc);
	}
	nr_ctl_emit(ctl, NR_EVENT_ENDPOINT_REMOVED, nr_model_local_name(ctl->model), NULL,
		    "endpoint %s removed", id);
	pending_queue(ctl, p);
	return 0;
}

/* ---- mode ----------------------------------------------------------------- */

static void apply_switch(bool *field, enum nr_switch sw)
{
	if (sw == NR_SWITCH_ON)
		*field = true;
	else if (sw == NR_SWITCH_OFF)
		*field = false;
}

NR_API int nr_ctl_mode_set_opts(struct nr_ctl *ctl, const struct nr_mode_opts *opts,
				nr_ctl_done_cb cb, void *data)
{
	struct nr_err err = { 0 };
	struct nr_cluster_config cfg;
	enum nr_switch adnr, skip;
	struct nr_pending *p;
	int rc;

	nr_last_error_clear();
	if (!ctl || ctl->closing || !opts)
		return nr_last_error_set(-EINVAL, "mode set: no controller (or closing), or no options");
	if ((rc = check_usable(ctl)) < 0)
		return rc;
	if (!OPTS_VALID(opts, nr_mode_opts, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	cfg = *nr_model_config(ctl->model);
	if (OPTS_GET(opts, mode, 0)) {
		if (!nr_config_routing_mode_str(opts->mode))
			return nr_last_error_set(-EINVAL, "routing mode %d: expected native, tunnel "
						 "or hybrid", (int)opts->mode);
		cfg.routing_mode = opts->mode;
	}
	adnr = OPTS_GET(opts, auto_direct_node_routes, NR_SWITCH_KEEP);
	skip = OPTS_GET(opts, direct_routing_skip_unreachable, NR_SWITCH_KEEP);
	if (adnr > NR_SWITCH_OFF || skip > NR_SWITCH_OFF)
		return nr_last_error_set(-EINVAL, "mode set: switch value %d: expected keep (0), "
					 "on (1) or off (2)", adnr > NR_SWITCH_OFF ? (int)adnr : (int)skip);
	apply_switch(&cfg.auto_direct_node_routes, adnr);
	apply_switch(&cfg.direct_routing_skip_unreachable, skip);
	/* Switches that depend on others follow them in the same step, so a
	 * cluster-wide `mode set tunnel` never stops half-way on one node:
	 * tunnel mode has no direct routes, and skipping unreachable nodes
	 * means nothing without them. Only a switch asked for explicitly is
	 * refused (by the check of the whole configuration below). */
	if (cfg.routing_mode == NR_MODE_TUNNEL && adnr == NR_SWITCH_KEEP)
		cfg.auto_direct_node_routes = false;
	if (!cfg.auto_direct_node_routes && skip == NR_SWITCH_KEEP)
		cfg.direct_routing_skip_unreachable = false;
	p = pending_new(ctl, NR_OP_MODE, cb, data);
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	rc = nr_model_set_config(ctl->model, &cfg, &err);
	if (rc < 0) {
		free(p);
		return nr_last_error_set_from(&err, rc);
	}
	/* the new mode may need answers tunnel mode never asked for, and
	 * changes every remote node's part of the plan */
	ctl->reach_stale = true;
	ctl->full_pass = true;
	nr_ctl_emit(ctl, NR_EVENT_MODE_CHANGED, NULL, nr_routing_mode_str(cfg.routing_mode),
		    "routing mode is now %s, auto-direct-node-routes %s, direct-routing-skip-unreachable %s",
		    nr_routing_mode_str(cfg.routing_mode), cfg.auto_direct_node_routes ? "on" : "off",
		    cfg.direct_routing_skip_unreachable ? "on" : "off");
	pending_queue(ctl, p);
	return 0;
}

NR_API int nr_ctl_mode_set(struct nr_ctl *ctl, enum nr_routing_mode mode, nr_ctl_done_cb cb, void *data)
{
	NR_OPTS(nr_mode_opts, opts, .mode = mode);

	if (!mode) /* 0 means "keep" only in the opts form */
		return nr_last_error_set(-EINVAL, "routing mode 0: expected native, tunnel or hybrid");
	return nr_ctl_mode_set_opts(ctl, &opts, cb, data);
}
