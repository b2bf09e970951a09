/* The node mutations: add, update, remove. Each checks and applies its
 * change to the model at once (a refusal returns < 0, changes nothing and
 * never calls back), then queues the caller's callback for the end of the
 * next reconcile pass, which programs the kernel. Calls made in one loop
 * turn share one pass, so 10,000 node adds cost one plan and one batch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "ctl/ctl_node_check.h"
#include "ctl/ctl_pending.h"
#include "store/etcd.h"
#include "util/last_error.h"
#include "util/opts_internal.h"

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
	if ((rc = nr_ctl_check_usable(ctl)) < 0)
		return rc;
	if (!OPTS_VALID(spec, nr_node_spec, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	rc = node_req_from_spec(spec, &req, &err);
	if (rc == 0) {
		nr_model_node_prefetch(ctl->model, &req); /* overlaps the checks */
		rc = nr_etcd_check_node_call(ctl->etcd, req.name, &err);
	}
	if (rc == 0)
		rc = nr_ctl_check_local_ips(ctl, &req, &err);
	if (rc == 0)
		rc = nr_ctl_check_direct(ctl, &req, !update, &defer, &err);
	if (rc < 0)
		return nr_last_error_set_from(&err, rc);
	p = nr_ctl_pending_new_named(NR_OP_NODE, cb, data, defer ? req.name : NULL);
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	p->check_reach = defer;
	nr_ctl_before_change(ctl, false, req.name, &old);
	if (update)
		rc = nr_model_node_update(ctl->model, &req, &n, &err);
	else
		rc = nr_model_node_add(ctl->model, &req, &n, &err);
	if (rc == 0)
		local = n == nr_model_local_node(ctl->model);
	/* may emit NODE_UNREACHABLE, whose callback may remove the node: n is
	 * not used after this */
	nr_ctl_after_change(ctl, false, req.name, &old);
	if (rc < 0) {
		nr_ctl_pending_free(p);
		return nr_last_error_set_from(&err, rc);
	}
	if (local)
		ctl->full_pass = true; /* every native route carries its IP as src */
	nr_ctl_emit(ctl, update ? NR_EVENT_NODE_UPDATED : NR_EVENT_NODE_ADDED, req.name, NULL,
		    "node %s %s", req.name, update ? "updated" : "added");
	nr_ctl_pending_queue(ctl, p);
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
	if ((rc = nr_ctl_check_usable(ctl)) < 0)
		return rc;
	n = nr_model_node_get(ctl->model, name);
	if (!n)
		return nr_last_error_set(-ENOENT, "node %s: no such node", name);
	if ((rc = nr_etcd_check_node_call(ctl->etcd, name, &err)) < 0)
		return nr_last_error_set_from(&err, rc);
	if (!strcmp(name, nr_model_local_name(ctl->model)))
		return nr_last_error_set(-EBUSY, "node %s is this node; it cannot be removed", name);
	p = nr_ctl_pending_new(NR_OP_NODE, cb, data);
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	nr_ctl_before_change(ctl, false, name, &old);
	rc = nr_model_node_remove(ctl->model, name, &err);
	nr_ctl_after_change(ctl, false, name, &old);
	if (rc < 0) {
		nr_ctl_pending_free(p);
		return nr_last_error_set_from(&err, rc);
	}
	nr_ctl_emit(ctl, NR_EVENT_NODE_REMOVED, name, NULL, "node %s removed", name);
	nr_ctl_pending_queue(ctl, p);
	return 0;
}
