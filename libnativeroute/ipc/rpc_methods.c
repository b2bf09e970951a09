#include "ipc/rpc_methods.h"

#include "bpf/bpf_names.h"
#include "ctl/ctl_lookup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nativeroute/controller.h>
#include <nativeroute/error.h>
#include <nativeroute/opts.h>
#include <nativeroute/version.h>

#include "ipc/rpc_codec.h"

/* ---- packing results ---------------------------------------------------- */

/* "" from the controller means "none": nil on the wire. */
static void pack_opt_str(msgpack_packer *pk, const char *key, const char *val)
{
	nr_rpc_pack_str(pk, key);
	nr_rpc_pack_str(pk, val && *val ? val : NULL);
}

static void pack_node(msgpack_packer *pk, const struct nr_node_info *n)
{
	msgpack_pack_map(pk, 6);
	nr_rpc_pack_kv_str(pk, "name", n->name);
	pack_opt_str(pk, "ipv4", n->ipv4);
	pack_opt_str(pk, "ipv6", n->ipv6);
	nr_rpc_pack_str(pk, "pod_cidrs");
	msgpack_pack_array(pk, n->n_pod_cidrs);
	for (size_t i = 0; i < n->n_pod_cidrs; i++)
		nr_rpc_pack_str(pk, n->pod_cidrs[i]);
	nr_rpc_pack_kv_str(pk, "state", n->state);
	nr_rpc_pack_kv_bool(pk, "local", n->local);
}

static void pack_endpoint(msgpack_packer *pk, const struct nr_endpoint_info *ep)
{
	const char *gw = ep->gateway4 && *ep->gateway4 ? ep->gateway4 : ep->gateway6;

	msgpack_pack_map(pk, 8);
	nr_rpc_pack_kv_str(pk, "id", ep->id);
	nr_rpc_pack_kv_u64(pk, "mtu", ep->mtu);
	pack_opt_str(pk, "ifname", ep->ifname);
	nr_rpc_pack_kv_u64(pk, "ifindex", ep->ifindex);
	pack_opt_str(pk, "ipv4", ep->ipv4);
	pack_opt_str(pk, "ipv6", ep->ipv6);
	pack_opt_str(pk, "gateway", gw);
	pack_opt_str(pk, "gateway6", ep->gateway6);
}

static void pack_route(msgpack_packer *pk, const struct nr_route_info *r)
{
	msgpack_pack_map(pk, 7);
	nr_rpc_pack_kv_str(pk, "dst", r->dst);
	nr_rpc_pack_kv_str(pk, "kind", r->kind);
	pack_opt_str(pk, "via", r->via);
	pack_opt_str(pk, "dev", r->dev);
	pack_opt_str(pk, "node", r->node);
	nr_rpc_pack_kv_u64(pk, "mtu", r->mtu);
	nr_rpc_pack_kv_bool(pk, "programmed", r->programmed);
}

void nr_rpc_pack_event(msgpack_packer *pk, const struct nr_event *ev, uint64_t seq)
{
	msgpack_pack_map(pk, 5);
	nr_rpc_pack_kv_u64(pk, "seq", seq);
	nr_rpc_pack_kv_str(pk, "type", nr_event_type_str(ev->type));
	pack_opt_str(pk, "node", ev->node);
	pack_opt_str(pk, "object", ev->object);
	nr_rpc_pack_kv_str(pk, "message", ev->message ? ev->message : "");
}

static const char *tunnel_of(enum nr_routing_mode mode)
{
	return mode == NR_MODE_NATIVE ? "disabled" : "vxlan";
}

static int get_status(struct nr_ctl *ctl, struct nr_status *st, struct nr_err *err)
{
	int rc;

	memset(st, 0, sizeof(*st));
	st->sz = sizeof(*st);
	rc = nr_ctl_status(ctl, st);
	return rc < 0 ? nr_err_set(err, rc, "%s", nr_last_errmsg()) : 0;
}

/* ---- lookups: nodes by name (ctl_lookup.h), endpoints by iteration ------- */

/* node.get, endpoint.get, and the node a mutation answers with: the one
 * object whose name (or id) is `key`, packed with `pk` when found. */
struct find {
	const char *key;
	msgpack_packer *pk;
	bool found;
};

static int find_node_cb(const struct nr_node_info *n, void *data)
{
	struct find *f = data;

	if (strcmp(n->name, f->key) != 0)
		return 0;
	f->found = true;
	pack_node(f->pk, n);
	return 1;
}

static int find_ep_cb(const struct nr_endpoint_info *ep, void *data)
{
	struct find *f = data;

	if (strcmp(ep->id, f->key) != 0)
		return 0;
	f->found = true;
	pack_endpoint(f->pk, ep);
	return 1;
}

static int count_cb(const void *item, void *data)
{
	(void)item;
	(*(size_t *)data)++;
	return 0;
}

static int count_nodes(const struct nr_node_info *n, void *data) { return count_cb(n, data); }
static int count_eps(const struct nr_endpoint_info *e, void *data) { return count_cb(e, data); }
static int count_routes(const struct nr_route_info *r, void *data) { return count_cb(r, data); }
static int pack_node_cb(const struct nr_node_info *n, void *pk) { pack_node(pk, n); return 0; }
static int pack_ep_cb(const struct nr_endpoint_info *e, void *pk) { pack_endpoint(pk, e); return 0; }
static int pack_route_cb(const struct nr_route_info *r, void *pk) { pack_route(pk, r); return 0; }

enum list_kind { LIST_NODES, LIST_ENDPOINTS, LIST_ROUTES };

/* Walk one of the controller's lists, counting its items into *(size_t *)data
 * or packing them with the msgpack_packer in data. The foreach functions
 * differ in their item type, so the choice is a switch, not a pointer. */
static void list_walk(struct nr_ctl *ctl, enum list_kind kind, bool pack, void *data)
{
	switch (kind) {
	case LIST_NODES:
		nr_ctl_node_foreach(ctl, pack ? pack_node_cb : count_nodes, data);
		break;
	case LIST_ENDPOINTS:
		nr_ctl_endpoint_foreach(ctl, pack ? pack_ep_cb : count_eps, data);
		break;
	case LIST_ROUTES:
		nr_ctl_route_foreach(ctl, pack ? pack_route_cb : count_routes, data);
		break;
	}
}

/* Answer with the node called `name`, or nil if it has gone meanwhile. */
static void reply_node(struct nr_rpc_call *call, const char *name)
{
	msgpack_packer *pk = nr_rpc_call_begin(call);
	struct find f = { .key = name, .pk = pk };

	nr_ctl_node_lookup(nr_rpc_call_ctl(call), name, find_node_cb, &f);
	if (!f.found)
		msgpack_pack_nil(pk);
	nr_rpc_call_end(call);
}

/* ---- async completion ----------------------------------------------------- */

/* What a mutation needs after the controller calls back: the request's zone
 * (and so its strings) is gone by then. */
struct pending {
	struct nr_rpc_call *call;
	bool reply_node; /* answer with the node, else with true */
	char name[256];
};

static struct pending *pending_new(struct nr_rpc_call *call, const char *name, bool reply_node)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->call = call;
	p->reply_node = reply_node;
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	return p;
}

static void on_done(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	struct pending *p = data;

	(void)ctl;
	if (status < 0) {
		nr_rpc_call_fail(p->call, status, errmsg);
	} else if (p->reply_node) {
		reply_node(p->call, p->name);
	} else {
		msgpack_pack_true(nr_rpc_call_begin(p->call));
		nr_rpc_call_end(p->call);
	}
	free(p);
}

/* Hand a prepared pending op to the controller call's return code. */
static int started(int rc, struct pending *p, struct nr_err *err)
{
	if (rc < 0) {
		free(p);
		return nr_err_set(err, rc, "%s", nr_last_errmsg());
	}
	return 0;
}

/* ---- methods ------------------------------------------------------------ */

#define CHECK_KEYS(params, err, ...)                                        \
	do {                                                                 \
		static const char *const known_[] = { __VA_ARGS__, NULL };   \
		int rc_ = nr_rpc_check_keys((params), known_, (err));        \
		if (rc_ < 0)                                                 \
			return rc_;                                          \
	} while (0)

/* status, ipam.status and mode.get: no parameters but "verbose", and an
 * answer made from the controller's status. */
static int status_query(struct nr_rpc_call *call, const msgpack_object *params,
			struct nr_status *st, struct nr_err *err)
{
	CHECK_KEYS(params, err, "verbose");
	return get_status(nr_rpc_call_ctl(call), st, err);
}

static int local_name_cb(const struct nr_node_info *n, void *pk)
{
	if (!n->local)
		return 0;
	nr_rpc_pack_str(pk, n->name);
	return 1;
}

static int m_status(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		    struct nr_err *err)
{
	struct nr_ctl *ctl = nr_rpc_call_ctl(call);
	struct nr_status st;
	msgpack_packer *pk;
	int rc;

	(void)zone;
	rc = status_query(call, params, &st, err);
	if (rc < 0)
		return rc;
	pk = nr_rpc_call_begin(call);
	msgpack_pack_map(pk, 32 + NR_BPF_VERDICTS + 4 + 15);
	nr_rpc_pack_kv_str(pk, "version", nr_version_string());
	nr_rpc_pack_str(pk, "local_node");
	if (nr_ctl_node_foreach(ctl, local_name_cb, pk) != 1)
		msgpack_pack_nil(pk);
	nr_rpc_pack_kv_bool(pk, "healthy", st.healthy);
	nr_rpc_pack_kv_str(pk, "problems", st.problems);
	nr_rpc_pack_kv_u64(pk, "nodes_native", st.nodes_native);
	nr_rpc_pack_kv_u64(pk, "nodes_tunnel", st.nodes_tunnel);
	nr_rpc_pack_kv_u64(pk, "nodes_no_cidr", st.nodes_no_cidr);
	nr_rpc_pack_kv_u64(pk, "endpoints_broken", st.endpoints_broken);
	nr_rpc_pack_kv_bool(pk, "netns_gone", st.netns_gone);
	nr_rpc_pack_str(pk, "store_error"); /* -errno of the last failed save, 0 = fine */
	msgpack_pack_int64(pk, st.store_error);
	nr_rpc_pack_kv_str(pk, "store_error_name", st.store_error ? nr_err_name(st.store_error) : "");
	nr_rpc_pack_kv_str(pk, "pod_cidr4", st.pod_cidr4);
	nr_rpc_pack_kv_str(pk, "pod_cidr6", st.pod_cidr6);
	nr_rpc_pack_kv_u64(pk, "pod_ips_used4", st.pod_ips_used4);
	nr_rpc_pack_kv_u64(pk, "pod_ips_total4", st.pod_ips_total4);
	nr_rpc_pack_kv_u64(pk, "pod_ips_used6", st.pod_ips_used6);
	nr_rpc_pack_kv_u64(pk, "pod_ips_total6", st.pod_ips_total6);
	nr_rpc_pack_kv_str(pk, "routing_mode", nr_routing_mode_str(st.routing_mode));
	nr_rpc_pack_kv_str(pk, "tunnel", tunnel_of(st.routing_mode));
	nr_rpc_pack_kv_bool(pk, "native_routing", st.routing_mode != NR_MODE_TUNNEL);
	nr_rpc_pack_kv_str(pk, "ipam_mode", nr_ipam_mode_str(st.ipam_mode));
	nr_rpc_pack_kv_bool(pk, "auto_direct_node_routes", st.auto_direct_node_routes);
	nr_rpc_pack_kv_bool(pk, "nexthop_objects", st.nexthop_objects);
	nr_rpc_pack_kv_bool(pk, "started", st.started);
	nr_rpc_pack_kv_u64(pk, "nodes", st.nodes);
	nr_rpc_pack_kv_u64(pk, "nodes_unreachable", st.nodes_unreachable);
	nr_rpc_pack_kv_u64(pk, "endpoints", st.endpoints);
	nr_rpc_pack_kv_u64(pk, "routes_planned", st.routes_planned);
	nr_rpc_pack_kv_u64(pk, "routes_programmed", st.routes_programmed);
	nr_rpc_pack_kv_u64(pk, "ipam_used", st.ipam_used);
	nr_rpc_pack_kv_u64(pk, "ipam_total", st.ipam_total);
	nr_rpc_pack_kv_u64(pk, "resyncs", st.resyncs);
	nr_rpc_pack_kv_u64(pk, "drift_repairs", st.drift_repairs);
	nr_rpc_pack_kv_u64(pk, "netlink_errors", st.netlink_errors);
	nr_rpc_pack_kv_u64(pk, "full_passes", st.full_passes);
	nr_rpc_pack_kv_u64(pk, "incremental_passes", st.incremental_passes);
	nr_rpc_pack_kv_bool(pk, "direct_routing_skip_unreachable", st.direct_routing_skip_unreachable);
	/* eBPF host routing (Cilium's words: BPF or Legacy) */
	nr_rpc_pack_kv_str(pk, "host_routing", st.host_routing_bpf ? "BPF" : "Legacy");
	nr_rpc_pack_kv_str(pk, "host_routing_reason", st.host_routing_reason);
	nr_rpc_pack_kv_u64(pk, "bpf_routes", st.bpf_routes);
	nr_rpc_pack_kv_u64(pk, "bpf_endpoints", st.bpf_endpoints);
	nr_rpc_pack_kv_u64(pk, "bpf_map_repairs", st.bpf_map_repairs);
	for (int i = 0; i < NR_BPF_VERDICTS; i++) {
		char key[48];

		snprintf(key, sizeof(key), "bpf_packets_%s", nr_bpf_verdict_names[i]);
		nr_rpc_pack_kv_u64(pk, key, st.bpf_packets[i]);
	}
	nr_rpc_pack_kv_bool(pk, "masquerade_ipv4", st.masquerade_ipv4);
	nr_rpc_pack_kv_bool(pk, "masquerade_ipv6", st.masquerade_ipv6);
	nr_rpc_pack_kv_bool(pk, "masquerade_programmed", st.masquerade_programmed);
	nr_rpc_pack_kv_str(pk, "masquerade_excluded", st.masquerade_excluded);
	nr_rpc_pack_kv_str(pk, "masquerade_note", st.masquerade_note);
	nr_rpc_pack_kv_str(pk, "store", st.store_etcd ? "etcd" : st.store_file ? "file" : "none");
	nr_rpc_pack_kv_bool(pk, "store_healthy", !st.store_etcd || st.store_healthy);
	nr_rpc_pack_kv_u64(pk, "store_unhealthy_since",
			   st.store_unhealthy_since > 0 ? (uint64_t)st.store_unhealthy_since : 0);
	nr_rpc_pack_kv_str(pk, "store_detail", st.store_detail);
	nr_rpc_call_end(call);
	return 0;
}

/* Fields shared by node.add and node.update. */
static int node_spec_from(const msgpack_object *params, msgpack_zone *zone,
			  struct nr_node_spec *spec, struct nr_err *err)
{
	int rc;

	CHECK_KEYS(params, err, "name", "ipv4", "ipv6", "pod_cidrs");
	if ((rc = nr_rpc_get_str(zone, params, "name", true, &spec->name, err)) < 0 ||
	    (rc = nr_rpc_get_str(zone, params, "ipv4", false, &spec->ipv4, err)) < 0 ||
	    (rc = nr_rpc_get_str(zone, params, "ipv6", false, &spec->ipv6, err)) < 0 ||
	    (rc = nr_rpc_get_str_array(zone, params, "pod_cidrs", false, &spec->pod_cidrs, NULL,
				       err)) < 0)
		return rc;
	return 0;
}

static int node_change(struct nr_rpc_call *call, const msgpack_object *params,
		       msgpack_zone *zone, struct nr_err *err, bool update)
{
	NR_OPTS(nr_node_spec, spec);
	struct pending *p;
	int rc;

	rc = node_spec_from(params, zone, &spec, err);
	if (rc < 0)
		return rc;
	p = pending_new(call, spec.name, true);
	if (!p)
		return nr_err_set(err, -ENOMEM, "out of memory");
	rc = update ? nr_ctl_node_update(nr_rpc_call_ctl(call), &spec, on_done, p)
		    : nr_ctl_node_add(nr_rpc_call_ctl(call), &spec, on_done, p);
	return started(rc, p, err);
}

static int m_node_add(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		      struct nr_err *err)
{
	return node_change(call, params, zone, err, false);
}

static int m_node_update(struct nr_rpc_call *call, const msgpack_object *params,
			 msgpack_zone *zone, struct nr_err *err)
{
	return node_change(call, params, zone, err, true);
}

/* node.remove and endpoint.remove: the one parameter `key` names what goes;
 * the answer is true once the controller has removed it. */
static int remove_named(struct nr_rpc_call *call, const msgpack_object *params,
			msgpack_zone *zone, struct nr_err *err, const char *key,
			int (*remove)(struct nr_ctl *ctl, const char *name, nr_ctl_done_cb cb,
				      void *data))
{
	const char *const known[] = { key, NULL };
	const char *name = NULL;
	struct pending *p;
	int rc;

	rc = nr_rpc_check_keys(params, known, err);
	if (rc < 0)
		return rc;
	rc = nr_rpc_get_str(zone, params, key, true, &name, err);
	if (rc < 0)
		return rc;
	p = pending_new(call, name, false);
	if (!p)
		return nr_err_set(err, -ENOMEM, "out of memory");
	return started(remove(nr_rpc_call_ctl(call), name, on_done, p), p, err);
}

static int m_node_remove(struct nr_rpc_call *call, const msgpack_object *params,
			 msgpack_zone *zone, struct nr_err *err)
{
	return remove_named(call, params, zone, err, "name", nr_ctl_node_remove);
}

/* node.get and endpoint.get: the one parameter `key` names the object.
 * Packed aside first, so that "not found" is an error, not half a reply. */
static int reply_found(struct nr_rpc_call *call, const msgpack_object *params,
		       msgpack_zone *zone, struct nr_err *err, enum list_kind kind)
{
	const char *key = kind == LIST_NODES ? "name" : "id";
	const char *const known[] = { key, NULL };
	struct nr_ctl *ctl = nr_rpc_call_ctl(call);
	struct find f = { 0 };
	msgpack_sbuffer sb;
	msgpack_packer spk;
	msgpack_packer *pk;
	int rc;

	rc = nr_rpc_check_keys(params, known, err);
	if (rc < 0)
		return rc;
	rc = nr_rpc_get_str(zone, params, key, true, &f.key, err);
	if (rc < 0)
		return rc;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&spk, &sb, msgpack_sbuffer_write);
	f.pk = &spk;
	if (kind == LIST_NODES)
		nr_ctl_node_lookup(ctl, f.key, find_node_cb, &f);
	else
		nr_ctl_endpoint_foreach(ctl, find_ep_cb, &f);
	if (!f.found) {
		msgpack_sbuffer_destroy(&sb);
		return kind == LIST_NODES
			       ? nr_err_set(err, -ENOENT, "no node named \"%s\"", f.key)
			       : nr_err_set(err, -ENOENT, "no endpoint with id \"%s\"", f.key);
	}
	pk = nr_rpc_call_begin(call);
	pk->callback(pk->data, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	nr_rpc_call_end(call);
	return 0;
}

static int m_node_get(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		      struct nr_err *err)
{
	return reply_found(call, params, zone, err, LIST_NODES);
}

/* Answer with the whole list, counted first: the array header comes
 * before the items. The methods take no parameters but the "verbose" of
 * DESIGN §6. */
static int reply_list(struct nr_rpc_call *call, const msgpack_object *params,
		      struct nr_err *err, enum list_kind kind)
{
	struct nr_ctl *ctl = nr_rpc_call_ctl(call);
	msgpack_packer *pk;
	size_t n = 0;

	CHECK_KEYS(params, err, "verbose");
	list_walk(ctl, kind, false, &n);
	pk = nr_rpc_call_begin(call);
	msgpack_pack_array(pk, n);
	list_walk(ctl, kind, true, pk);
	nr_rpc_call_end(call);
	return 0;
}

static int m_node_list(struct nr_rpc_call *call, const msgpack_object *params,
		       msgpack_zone *zone, struct nr_err *err)
{
	(void)zone;
	return reply_list(call, params, err, LIST_NODES);
}

struct ipam_walk {
	msgpack_packer *pk;
	size_t n;
};

static int ipam_count_cb(const struct nr_node_info *n, void *data)
{
	((struct ipam_walk *)data)->n += n->n_pod_cidrs;
	return 0;
}

static int ipam_pack_cb(const struct nr_node_info *n, void *data)
{
	struct ipam_walk *w = data;

	for (size_t i = 0; i < n->n_pod_cidrs; i++) {
		msgpack_pack_map(w->pk, 2);
		nr_rpc_pack_kv_str(w->pk, "node", n->name);
		nr_rpc_pack_kv_str(w->pk, "cidr", n->pod_cidrs[i]);
	}
	return 0;
}

static int m_ipam_status(struct nr_rpc_call *call, const msgpack_object *params,
			 msgpack_zone *zone, struct nr_err *err)
{
	struct nr_ctl *ctl = nr_rpc_call_ctl(call);
	struct ipam_walk w = { 0 };
	struct nr_status st;
	int rc;

	(void)zone;
	rc = status_query(call, params, &st, err);
	if (rc < 0)
		return rc;
	nr_ctl_node_foreach(ctl, ipam_count_cb, &w);
	w.pk = nr_rpc_call_begin(call);
	msgpack_pack_map(w.pk, 4);
	nr_rpc_pack_kv_str(w.pk, "mode", nr_ipam_mode_str(st.ipam_mode));
	nr_rpc_pack_kv_u64(w.pk, "used", st.ipam_used);
	nr_rpc_pack_kv_u64(w.pk, "total", st.ipam_total);
	nr_rpc_pack_str(w.pk, "allocations");
	msgpack_pack_array(w.pk, w.n);
	nr_ctl_node_foreach(ctl, ipam_pack_cb, &w);
	nr_rpc_call_end(call);
	return 0;
}

static void on_endpoint(struct nr_ctl *ctl, int status, const char *errmsg,
			const struct nr_endpoint_info *ep, void *data)
{
	struct pending *p = data;

	(void)ctl;
	if (status < 0 || !ep) {
		nr_rpc_call_fail(p->call, status < 0 ? status : -EPROTO, errmsg);
	} else {
		pack_endpoint(nr_rpc_call_begin(p->call), ep);
		nr_rpc_call_end(p->call);
	}
	free(p);
}

static int m_endpoint_add(struct nr_rpc_call *call, const msgpack_object *params,
			  msgpack_zone *zone, struct nr_err *err)
{
	NR_OPTS(nr_endpoint_spec, spec);
	const char *ip = NULL;
	struct pending *p;
	int rc;

	CHECK_KEYS(params, err, "id", "ifname", "ifindex", "ip", "ipv4", "ipv6");
	if ((rc = nr_rpc_get_str(zone, params, "id", true, &spec.id, err)) < 0 ||
	    (rc = nr_rpc_get_str(zone, params, "ifname", false, &spec.ifname, err)) < 0 ||
	    (rc = nr_rpc_get_u32(params, "ifindex", false, &spec.ifindex, err)) < 0 ||
	    (rc = nr_rpc_get_str(zone, params, "ip", false, &ip, err)) < 0 ||
	    (rc = nr_rpc_get_str(zone, params, "ipv4", false, &spec.ipv4, err)) < 0 ||
	    (rc = nr_rpc_get_str(zone, params, "ipv6", false, &spec.ipv6, err)) < 0)
		return rc;
	if (!spec.ifname == !spec.ifindex)
		return nr_err_set(err, -EINVAL, "endpoint \"%s\": give exactly one of ifname, ifindex",
				  spec.id);
	if (ip) {
		/* "ip" is the family-agnostic spelling of DESIGN §6. */
		const char **slot = strchr(ip, ':') ? &spec.ipv6 : &spec.ipv4;

		if (*slot)
			return nr_err_set(err, -EINVAL, "endpoint \"%s\": \"ip\" %s repeats \"%s\"",
					  spec.id, ip, slot == &spec.ipv6 ? "ipv6" : "ipv4");
		*slot = ip;
	}
	p = pending_new(call, spec.id, false);
	if (!p)
		return nr_err_set(err, -ENOMEM, "out of memory");
	return started(nr_ctl_endpoint_add(nr_rpc_call_ctl(call), &spec, on_endpoint, p), p, err);
}

static int m_endpoint_remove(struct nr_rpc_call *call, const msgpack_object *params,
			     msgpack_zone *zone, struct nr_err *err)
{
	return remove_named(call, params, zone, err, "id", nr_ctl_endpoint_remove);
}

static int m_endpoint_get(struct nr_rpc_call *call, const msgpack_object *params,
			  msgpack_zone *zone, struct nr_err *err)
{
	return reply_found(call, params, zone, err, LIST_ENDPOINTS);
}

static int m_endpoint_list(struct nr_rpc_call *call, const msgpack_object *params,
			   msgpack_zone *zone, struct nr_err *err)
{
	(void)zone;
	return reply_list(call, params, err, LIST_ENDPOINTS);
}

static int m_route_list(struct nr_rpc_call *call, const msgpack_object *params,
			msgpack_zone *zone, struct nr_err *err)
{
	(void)zone;
	return reply_list(call, params, err, LIST_ROUTES);
}

static void pack_mode(msgpack_packer *pk, const struct nr_status *st)
{
	msgpack_pack_map(pk, 4);
	nr_rpc_pack_kv_str(pk, "mode", nr_routing_mode_str(st->routing_mode));
	nr_rpc_pack_kv_bool(pk, "auto_direct_node_routes", st->auto_direct_node_routes);
	nr_rpc_pack_kv_bool(pk, "direct_routing_skip_unreachable",
			    st->direct_routing_skip_unreachable);
	nr_rpc_pack_kv_str(pk, "tunnel", tunnel_of(st->routing_mode));
}

static int m_mode_get(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		      struct nr_err *err)
{
	struct nr_status st;
	int rc;

	(void)zone;
	rc = status_query(call, params, &st, err);
	if (rc < 0)
		return rc;
	pack_mode(nr_rpc_call_begin(call), &st);
	nr_rpc_call_end(call);
	return 0;
}

static void on_mode_set(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	struct pending *p = data;
	struct nr_status st;

	if (status < 0) {
		nr_rpc_call_fail(p->call, status, errmsg);
	} else if (get_status(ctl, &st, NULL) < 0) {
		msgpack_pack_true(nr_rpc_call_begin(p->call));
		nr_rpc_call_end(p->call);
	} else {
		pack_mode(nr_rpc_call_begin(p->call), &st);
		nr_rpc_call_end(p->call);
	}
	free(p);
}

static int get_switch(const msgpack_object *params, const char *key, enum nr_switch *out,
		      struct nr_err *err)
{
	bool on = false;
	int rc;

	*out = NR_SWITCH_KEEP;
	if (!nr_rpc_map_get(params, key) || nr_rpc_map_get(params, key)->type == MSGPACK_OBJECT_NIL)
		return 0;
	rc = nr_rpc_get_bool(params, key, false, &on, err);
	if (rc == 0)
		*out = on ? NR_SWITCH_ON : NR_SWITCH_OFF;
	return rc;
}

static int m_mode_set(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		      struct nr_err *err)
{
	NR_OPTS(nr_mode_opts, mo);
	const char *text = NULL;
	struct pending *p;
	int rc;

	CHECK_KEYS(params, err, "mode", "auto_direct_node_routes", "direct_routing_skip_unreachable");
	if ((rc = nr_rpc_get_str(zone, params, "mode", false, &text, err)) < 0 ||
	    (rc = get_switch(params, "auto_direct_node_routes", &mo.auto_direct_node_routes, err)) < 0 ||
	    (rc = get_switch(params, "direct_routing_skip_unreachable",
			     &mo.direct_routing_skip_unreachable, err)) < 0)
		return rc;
	if (text && nr_routing_mode_parse(text, &mo.mode) < 0)
		return nr_err_set(err, -EINVAL, "mode \"%s\": expected native, tunnel or hybrid", text);
	if (!text && mo.auto_direct_node_routes == NR_SWITCH_KEEP &&
	    mo.direct_routing_skip_unreachable == NR_SWITCH_KEEP)
		return nr_err_set(err, -EINVAL, "mode.set: nothing to change (give mode and/or a switch)");
	p = pending_new(call, NULL, false);
	if (!p)
		return nr_err_set(err, -ENOMEM, "out of memory");
	/* The controller checks the combination as a whole: all or nothing. */
	return started(nr_ctl_mode_set_opts(nr_rpc_call_ctl(call), &mo, on_mode_set, p), p, err);
}

static int m_events_subscribe(struct nr_rpc_call *call, const msgpack_object *params,
			      msgpack_zone *zone, struct nr_err *err)
{
	(void)zone;
	CHECK_KEYS(params, err, "verbose");
	nr_rpc_call_subscribe(call);
	msgpack_pack_true(nr_rpc_call_begin(call));
	nr_rpc_call_end(call);
	return 0;
}

static const struct nr_rpc_method methods[] = {
	{ "status", false, m_status },
	{ "node.add", true, m_node_add },
	{ "node.update", true, m_node_update },
	{ "node.remove", true, m_node_remove },
	{ "node.get", false, m_node_get },
	{ "node.list", false, m_node_list },
	{ "ipam.status", false, m_ipam_status },
	{ "endpoint.add", true, m_endpoint_add },
	{ "endpoint.remove", true, m_endpoint_remove },
	{ "endpoint.get", false, m_endpoint_get },
	{ "endpoint.list", false, m_endpoint_list },
	{ "route.list", false, m_route_list },
	{ "mode.get", false, m_mode_get },
	{ "mode.set", true, m_mode_set },
	{ "events.subscribe", false, m_events_subscribe },
};

const struct nr_rpc_method *nr_rpc_method_find(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}
