/* Answers of the daemon into the client's callbacks: a result is decoded
 * into the public structs of client.h (strings stay in the message's zone,
 * valid for the callback only), an error goes to the same callback with
 * empty results. */
#include "ipc/client_internal.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/client_compat.h"
#include "bpf/bpf_names.h"
#include "ipc/rpc_codec.h"

/* ---- decoding fields ------------------------------------------------------- */

/* Decoding goes on past a bad field (so each helper stays a one-liner at
 * its use) and the first failure is remembered in rc. */
struct decode {
	msgpack_zone *zone;
	int rc;
};

static const char *str_or_empty(struct decode *d, const msgpack_object *map, const char *key,
				bool required)
{
	const char *s = NULL;

	if (nr_rpc_get_str(d->zone, map, key, required, &s, NULL) < 0)
		d->rc = -EPROTO;
	return s ? s : "";
}

static size_t u64_of(struct decode *d, const msgpack_object *map, const char *key)
{
	uint64_t v = 0;

	if (nr_rpc_get_u64(map, key, false, &v, NULL) < 0)
		d->rc = -EPROTO;
	return v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

static bool bool_of(struct decode *d, const msgpack_object *map, const char *key)
{
	bool v = false;

	if (nr_rpc_get_bool(map, key, false, &v, NULL) < 0)
		d->rc = -EPROTO;
	return v;
}

static bool is_map(struct decode *d, const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_MAP)
		return true;
	d->rc = -EPROTO;
	return false;
}

static void *zalloc_array(struct decode *d, size_t n, size_t size)
{
	void *p = msgpack_zone_malloc(d->zone, n ? n * size : 1);

	if (!p)
		d->rc = -ENOMEM;
	else
		memset(p, 0, n ? n * size : 1);
	return p;
}

/* ---- decoding objects -------------------------------------------------------- */

/* The object decoders take `void *` so that one array decoder serves all. */
static void node_of(struct decode *d, const msgpack_object *o, void *out)
{
	struct nr_node_info *n = out;
	const char *const *cidrs = NULL;

	memset(n, 0, sizeof(*n));
	n->sz = sizeof(*n);
	if (!is_map(d, o))
		return;
	n->name = str_or_empty(d, o, "name", true);
	n->ipv4 = str_or_empty(d, o, "ipv4", false);
	n->ipv6 = str_or_empty(d, o, "ipv6", false);
	n->state = str_or_empty(d, o, "state", false);
	n->local = bool_of(d, o, "local");
	if (nr_rpc_get_str_array(d->zone, o, "pod_cidrs", false, &cidrs, &n->n_pod_cidrs, NULL) < 0)
		d->rc = -EPROTO;
	if (!cidrs) {
		static const char *const none[] = { NULL };

		cidrs = none;
	}
	n->pod_cidrs = cidrs;
}

static void endpoint_of(struct decode *d, const msgpack_object *o, void *out)
{
	struct nr_endpoint_info *e = out;
	size_t mtu;
	const char *gw, *gw6;
	uint64_t ifindex = 0;

	memset(e, 0, sizeof(*e));
	e->sz = sizeof(*e);
	if (!is_map(d, o))
		return;
	e->id = str_or_empty(d, o, "id", true);
	e->ifname = str_or_empty(d, o, "ifname", false);
	if (nr_rpc_get_u64(o, "ifindex", false, &ifindex, NULL) < 0 || ifindex > UINT32_MAX)
		d->rc = -EPROTO;
	e->ifindex = (uint32_t)ifindex;
	e->ipv4 = str_or_empty(d, o, "ipv4", false);
	e->ipv6 = str_or_empty(d, o, "ipv6", false);
	gw = str_or_empty(d, o, "gateway", false);
	gw6 = str_or_empty(d, o, "gateway6", false);
	/* "gateway" is the IPv4 gateway when the pod has IPv4, else the IPv6 one. */
	/* since 1.1; an older daemon does not say (0) */
	mtu = u64_of(d, o, "mtu");
	e->mtu = mtu > UINT32_MAX ? 0 : (uint32_t)mtu;
	e->gateway4 = *e->ipv4 ? gw : "";
	e->gateway6 = *gw6 ? gw6 : (*e->ipv4 ? "" : gw);
}

static void route_of(struct decode *d, const msgpack_object *o, void *out)
{
	struct nr_route_info *r = out;
	size_t mtu;

	memset(r, 0, sizeof(*r));
	r->sz = sizeof(*r);
	if (!is_map(d, o))
		return;
	r->dst = str_or_empty(d, o, "dst", true);
	r->kind = str_or_empty(d, o, "kind", false);
	r->via = str_or_empty(d, o, "via", false);
	r->dev = str_or_empty(d, o, "dev", false);
	r->node = str_or_empty(d, o, "node", false);
	mtu = u64_of(d, o, "mtu");
	r->mtu = mtu > UINT32_MAX ? UINT32_MAX : (uint32_t)mtu;
	r->programmed = bool_of(d, o, "programmed");
}

static void status_of(struct decode *d, const msgpack_object *o, struct nr_status *st)
{
	const char *mode = NULL, *ipam = NULL, *store;
	const msgpack_object *store_err;

	memset(st, 0, sizeof(*st));
	st->sz = sizeof(*st);
	if (!is_map(d, o))
		return;
	mode = str_or_empty(d, o, "routing_mode", false);
	ipam = str_or_empty(d, o, "ipam_mode", false);
	if (nr_routing_mode_parse(mode, &st->routing_mode) < 0)
		st->routing_mode = 0;
	if (nr_ipam_mode_parse(ipam, &st->ipam_mode) < 0)
		st->ipam_mode = 0;
	st->auto_direct_node_routes = bool_of(d, o, "auto_direct_node_routes");
	st->nexthop_objects = bool_of(d, o, "nexthop_objects");
	st->started = bool_of(d, o, "started");
	st->nodes = u64_of(d, o, "nodes");
	st->nodes_unreachable = u64_of(d, o, "nodes_unreachable");
	st->endpoints = u64_of(d, o, "endpoints");
	st->routes_planned = u64_of(d, o, "routes_planned");
	st->routes_programmed = u64_of(d, o, "routes_programmed");
	st->ipam_used = u64_of(d, o, "ipam_used");
	st->ipam_total = u64_of(d, o, "ipam_total");
	st->resyncs = u64_of(d, o, "resyncs");
	st->drift_repairs = u64_of(d, o, "drift_repairs");
	st->netlink_errors = u64_of(d, o, "netlink_errors");
	st->full_passes = u64_of(d, o, "full_passes");
	st->incremental_passes = u64_of(d, o, "incremental_passes");
	st->direct_routing_skip_unreachable = bool_of(d, o, "direct_routing_skip_unreachable");
	/* optional: older daemons have no eBPF fields (Legacy, no reason) */
	st->host_routing_bpf = !strcmp(str_or_empty(d, o, "host_routing", false), "BPF");
	snprintf(st->host_routing_reason, sizeof(st->host_routing_reason), "%s",
		 str_or_empty(d, o, "host_routing_reason", false));
	st->bpf_routes = u64_of(d, o, "bpf_routes");
	st->bpf_endpoints = u64_of(d, o, "bpf_endpoints");
	st->bpf_map_repairs = u64_of(d, o, "bpf_map_repairs");
	for (int i = 0; i < NR_BPF_VERDICTS; i++) {
		char key[48];

		snprintf(key, sizeof(key), "bpf_packets_%s", nr_bpf_verdict_names[i]);
		st->bpf_packets[i] = u64_of(d, o, key);
	}
	st->masquerade_ipv4 = bool_of(d, o, "masquerade_ipv4");
	st->masquerade_ipv6 = bool_of(d, o, "masquerade_ipv6");
	st->masquerade_programmed = bool_of(d, o, "masquerade_programmed");
	snprintf(st->masquerade_excluded, sizeof(st->masquerade_excluded), "%s",
		 str_or_empty(d, o, "masquerade_excluded", false));
	snprintf(st->masquerade_note, sizeof(st->masquerade_note), "%s",
		 str_or_empty(d, o, "masquerade_note", false));
	/* the store fields are newer: an older daemon has none (file, healthy) */
	store = str_or_empty(d, o, "store", false);
	st->store_etcd = !strcmp(store, "etcd");
	st->store_file = !strcmp(store, "file");
	st->store_healthy = !st->store_etcd || bool_of(d, o, "store_healthy");
	st->store_unhealthy_since = (int64_t)u64_of(d, o, "store_unhealthy_since");
	snprintf(st->store_detail, sizeof(st->store_detail), "%s",
		 str_or_empty(d, o, "store_detail", false));
	/* appended fields; a daemon before them has no health verdict: it said
	 * "Ok" whenever it had started */
	st->healthy = nr_rpc_map_get(o, "healthy") ? bool_of(d, o, "healthy") : st->started;
	st->problems = str_or_empty(d, o, "problems", false);
	st->nodes_native = u64_of(d, o, "nodes_native");
	st->nodes_tunnel = u64_of(d, o, "nodes_tunnel");
	st->nodes_no_cidr = u64_of(d, o, "nodes_no_cidr");
	st->endpoints_broken = u64_of(d, o, "endpoints_broken");
	st->netns_gone = bool_of(d, o, "netns_gone");
	store_err = nr_rpc_map_get(o, "store_error");
	if (store_err && store_err->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && store_err->via.i64 >= INT_MIN)
		st->store_error = (int)store_err->via.i64;
	st->version = str_or_empty(d, o, "version", false);
	st->local_node = str_or_empty(d, o, "local_node", false);
	st->pod_cidr4 = str_or_empty(d, o, "pod_cidr4", false);
	st->pod_cidr6 = str_or_empty(d, o, "pod_cidr6", false);
	st->pod_ips_used4 = u64_of(d, o, "pod_ips_used4");
	st->pod_ips_total4 = u64_of(d, o, "pod_ips_total4");
	st->pod_ips_used6 = u64_of(d, o, "pod_ips_used6");
	st->pod_ips_total6 = u64_of(d, o, "pod_ips_total6");
}

/* An array of objects, each decoded by item_of into `size` bytes. */
static void *array_of(struct decode *d, const msgpack_object *o, size_t size,
		      void (*item_of)(struct decode *d, const msgpack_object *o, void *out),
		      size_t *n)
{
	char *v;

	if (o->type != MSGPACK_OBJECT_ARRAY) {
		d->rc = -EPROTO;
		return NULL;
	}
	*n = o->via.array.size;
	v = zalloc_array(d, *n, size);
	for (size_t i = 0; v && i < *n; i++)
		item_of(d, &o->via.array.ptr[i], v + i * size);
	return v;
}

/* The items of a 1.0 array answer: each item's 1.0 prefix at the 1.0
 * stride (client_compat.h); the items themselves while the sizes agree. */
static const void *array_1_0(struct decode *d, const void *items, size_t n, size_t size,
			     size_t size_1_0)
{
	char *v;

	if (!items || size == size_1_0)
		return items;
	v = zalloc_array(d, n, size_1_0);
	for (size_t i = 0; v && i < n; i++) {
		size_t sz = size_1_0;

		memcpy(v + i * size_1_0, (const char *)items + i * size, size_1_0);
		memcpy(v + i * size_1_0, &sz, sizeof(sz));
	}
	return v;
}

/* An ipam.status answer: the public info and the items that
 * nr_ipam_allocation_at() reaches from it (whatever `allocations` holds). */
struct ipam_answer {
	struct nr_ipam_info info;
	const struct nr_ipam_allocation *items;
};

NR_API const struct nr_ipam_allocation *nr_ipam_allocation_at(const struct nr_ipam_info *info,
							      size_t i)
{
	const struct ipam_answer *a;

	if (!info || i >= info->n_allocations)
		return NULL;
	a = (const struct ipam_answer *)((const char *)info - offsetof(struct ipam_answer, info));
	return &a->items[i];
}

static void ipam_of(struct decode *d, const msgpack_object *o, struct ipam_answer *a)
{
	const msgpack_object *allocs = nr_rpc_map_get(o, "allocations");
	struct nr_ipam_info *info = &a->info;
	struct nr_ipam_allocation *v = NULL;
	const char *mode;

	*info = (struct nr_ipam_info){ .sz = sizeof(*info) };
	if (o->type != MSGPACK_OBJECT_MAP || !allocs || allocs->type != MSGPACK_OBJECT_ARRAY) {
		d->rc = -EPROTO;
		return;
	}
	mode = str_or_empty(d, o, "mode", false);
	if (nr_ipam_mode_parse(mode, &info->mode) < 0)
		info->mode = 0;
	info->used = u64_of(d, o, "used");
	info->total = u64_of(d, o, "total");
	info->n_allocations = allocs->via.array.size;
	v = zalloc_array(d, info->n_allocations, sizeof(*v));
	for (size_t i = 0; v && i < info->n_allocations; i++) {
		v[i].sz = sizeof(v[i]);
		v[i].node = str_or_empty(d, &allocs->via.array.ptr[i], "node", true);
		v[i].cidr = str_or_empty(d, &allocs->via.array.ptr[i], "cidr", true);
	}
	a->items = v;
	info->allocations = array_1_0(d, v, info->n_allocations, sizeof(*v),
				      sizeof(struct nr_ipam_allocation_1_0));
}

/* ---- results into callbacks ----------------------------------------------------- */

/* What a callback receives, whichever fields its kind uses; all empty for
 * an error. */
struct result {
	const struct nr_status *status;
	const struct nr_node_info *node, *nodes;
	const struct nr_endpoint_info *endpoint, *endpoints;
	const struct nr_route_info *routes;
	size_t n; /* of nodes, endpoints or routes */
	const struct nr_ipam_info *ipam;
	enum nr_routing_mode mode;
	bool auto_direct_node_routes;
};

/* A result with the storage its single objects point into. */
struct decoded {
	struct result r;
	struct nr_status status;
	struct nr_node_info node;
	struct nr_endpoint_info endpoint;
	struct ipam_answer ipam;
};

static void mode_of(struct decode *d, const msgpack_object *o, struct result *r)
{
	struct decode lenient = *d;
	const char *text = NULL;

	if (o->type != MSGPACK_OBJECT_MAP || nr_rpc_get_str(d->zone, o, "mode", true, &text, NULL) < 0 ||
	    nr_routing_mode_parse(text, &r->mode) < 0) {
		d->rc = -EPROTO;
		return;
	}
	/* The mode is the answer; an unreadable switch reads as off rather
	 * than failing the call. */
	r->auto_direct_node_routes = bool_of(&lenient, o, "auto_direct_node_routes");
}

static void result_of(struct decode *d, enum call_kind kind, const msgpack_object *res,
		      struct decoded *out)
{
	struct result *r = &out->r;

	switch (kind) {
	case K_DONE:
	case K_SUBSCRIBE:
	case K_RESUBSCRIBE:
		break;
	case K_STATUS:
		status_of(d, res, &out->status);
		r->status = &out->status;
		break;
	case K_NODE:
		/* nil: the node went away before the daemon could answer with it. */
		if (res->type == MSGPACK_OBJECT_NIL)
			break;
		node_of(d, res, &out->node);
		r->node = &out->node;
		break;
	case K_NODES:
		r->nodes = array_of(d, res, sizeof(*r->nodes), node_of, &r->n);
		r->nodes = array_1_0(d, r->nodes, r->n, sizeof(*r->nodes),
				     sizeof(struct nr_node_info_1_0));
		break;
	case K_NODE_EACH:
		r->nodes = array_of(d, res, sizeof(*r->nodes), node_of, &r->n);
		break;
	case K_ENDPOINT:
		endpoint_of(d, res, &out->endpoint);
		r->endpoint = &out->endpoint;
		break;
	case K_ENDPOINTS:
		r->endpoints = array_of(d, res, sizeof(*r->endpoints), endpoint_of, &r->n);
		r->endpoints = array_1_0(d, r->endpoints, r->n, sizeof(*r->endpoints),
					 sizeof(struct nr_endpoint_info_1_0));
		break;
	case K_ENDPOINT_EACH:
		r->endpoints = array_of(d, res, sizeof(*r->endpoints), endpoint_of, &r->n);
		break;
	case K_ROUTES:
		r->routes = array_of(d, res, sizeof(*r->routes), route_of, &r->n);
		r->routes = array_1_0(d, r->routes, r->n, sizeof(*r->routes),
				      sizeof(struct nr_route_info_1_0));
		break;
	case K_ROUTE_EACH:
		r->routes = array_of(d, res, sizeof(*r->routes), route_of, &r->n);
		break;
	case K_MODE:
		mode_of(d, res, r);
		break;
	case K_IPAM:
		ipam_of(d, res, &out->ipam);
		r->ipam = &out->ipam.info;
		break;
	}
}

/* A walk's fn returned rc (0 goes on): the status done gets, with its text. */
static int walk_status(struct nr_client *c, int rc, const char **msg, char *buf, size_t size)
{
	if (nr_client_closing(c)) {
		*msg = "client closed";
		return -ECANCELED;
	}
	if (rc) {
		snprintf(buf, size, "walk stopped by the callback (it returned %d)", rc);
		*msg = buf;
	}
	return rc;
}

/* Each item to the walk's fn (of type FN), then the done callback. */
#define WALK(FN, items)                                                                   	do {                                                                              		char stop_[64];                                                           		for (size_t i_ = 0; status == 0 && i_ < r->n; i_++)                       			status = walk_status(c, ((FN)k->fn)(&(items)[i_], k->data), &msg, 					     stop_, sizeof(stop_));                       		((nr_client_done_cb)k->cb)(c, status, msg, k->data);                      	} while (0)

/* The one place that knows each kind's callback type. */
static void call_answer(struct nr_client *c, struct call *k, int status, const char *msg,
			const struct result *r)
{
	switch (k->kind) {
	case K_DONE:
	case K_SUBSCRIBE:
		((nr_client_done_cb)k->cb)(c, status, msg, k->data);
		break;
	case K_STATUS:
		((nr_client_status_cb)k->cb)(c, status, msg, r->status, k->data);
		break;
	case K_NODE:
		((nr_client_node_cb)k->cb)(c, status, msg, r->node, k->data);
		break;
	case K_NODES:
		((nr_client_nodes_cb)k->cb)(c, status, msg, r->nodes, r->n, k->data);
		break;
	case K_ENDPOINT:
		((nr_client_endpoint_cb)k->cb)(c, status, msg, r->endpoint, k->data);
		break;
	case K_ENDPOINTS:
		((nr_client_endpoints_cb)k->cb)(c, status, msg, r->endpoints, r->n, k->data);
		break;
	case K_ROUTES:
		((nr_client_routes_cb)k->cb)(c, status, msg, r->routes, r->n, k->data);
		break;
	case K_MODE:
		((nr_client_mode_cb)k->cb)(c, status, msg, r->mode, r->auto_direct_node_routes,
					   k->data);
		break;
	case K_IPAM:
		((nr_client_ipam_cb)k->cb)(c, status, msg, r->ipam, k->data);
		break;
	case K_NODE_EACH:
		WALK(nr_node_fn, r->nodes);
		break;
	case K_ENDPOINT_EACH:
		WALK(nr_endpoint_fn, r->endpoints);
		break;
	case K_ROUTE_EACH:
		WALK(nr_route_fn, r->routes);
		break;
	case K_RESUBSCRIBE:
		break;
	}
	free(k);
}

void nr_client_call_fail(struct nr_client *c, struct call *k, int status, const char *msg)
{
	static const struct result none;

	call_answer(c, k, status, msg, &none);
}

void nr_client_call_complete(struct nr_client *c, struct call *k, const msgpack_object *res,
			     msgpack_zone *zone)
{
	struct decode d = { .zone = zone };
	struct decoded out = { 0 };

	result_of(&d, k->kind, res, &out);
	if (d.rc < 0)
		nr_client_call_fail(c, k, d.rc == -ENOMEM ? -ENOMEM : -EPROTO,
				    "malformed result from the daemon");
	else
		call_answer(c, k, 0, NULL, &out.r);
}

/* ---- events ------------------------------------------------------------------------ */

static int event_type_parse(const char *text, enum nr_event_type *out)
{
	for (int t = NR_EVENT_NODE_ADDED; t <= NR_EVENT_ENDPOINT_GONE; t++) {
		if (strcmp(nr_event_type_str((enum nr_event_type)t), text) == 0) {
			*out = (enum nr_event_type)t;
			return 0;
		}
	}
	return -EINVAL;
}

bool nr_client_event_of(msgpack_zone *zone, const msgpack_object *p, struct nr_event *ev,
			uint64_t *seq)
{
	struct decode d = { .zone = zone };
	const char *type;

	*ev = (struct nr_event){ .sz = sizeof(*ev) };
	*seq = 0;
	if (p->type != MSGPACK_OBJECT_MAP)
		return false;
	type = str_or_empty(&d, p, "type", true);
	nr_rpc_get_u64(p, "seq", false, seq, NULL);
	ev->node = str_or_empty(&d, p, "node", false);
	ev->object = str_or_empty(&d, p, "object", false);
	ev->message = str_or_empty(&d, p, "message", false);
	if (!*ev->node)
		ev->node = NULL;
	if (!*ev->object)
		ev->object = NULL;
	return d.rc == 0 && event_type_parse(type, &ev->type) == 0;
}
