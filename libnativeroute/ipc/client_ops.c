/* The operations of include/nativeroute/client.h: each checks its
 * arguments, says how to pack its parameters, and starts a call; the
 * answer comes back through client_answers.c. */
#include <nativeroute/client.h>

#include <errno.h>
#include <string.h>

#include <nativeroute/opts.h>

#include "ipc/client_internal.h"
#include "ipc/rpc_codec.h"
#include "util/last_error.h"
#include "util/opts_internal.h"

/* The callback types differ by kind; a call stores them all alike. */
#define CB(f) ((void (*)(void))(f))

static void pack_name(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_map(pk, 1);
	nr_rpc_pack_kv_str(pk, "name", arg);
}

static void pack_id(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_map(pk, 1);
	nr_rpc_pack_kv_str(pk, "id", arg);
}

static void pack_node_spec(msgpack_packer *pk, const void *arg)
{
	const struct nr_node_spec *s = arg;
	const char *ipv4 = OPTS_GET(s, ipv4, NULL), *ipv6 = OPTS_GET(s, ipv6, NULL);
	const char *const *cidrs = OPTS_GET(s, pod_cidrs, NULL);
	size_t n = 0;

	msgpack_pack_map(pk, 1 + !!ipv4 + !!ipv6 + !!cidrs);
	nr_rpc_pack_kv_str(pk, "name", s->name);
	if (ipv4)
		nr_rpc_pack_kv_str(pk, "ipv4", ipv4);
	if (ipv6)
		nr_rpc_pack_kv_str(pk, "ipv6", ipv6);
	if (cidrs) {
		while (cidrs[n])
			n++;
		nr_rpc_pack_str(pk, "pod_cidrs");
		msgpack_pack_array(pk, n);
		for (size_t i = 0; i < n; i++)
			nr_rpc_pack_str(pk, cidrs[i]);
	}
}

static void pack_endpoint_spec(msgpack_packer *pk, const void *arg)
{
	const struct nr_endpoint_spec *s = arg;
	const char *ifname = OPTS_GET(s, ifname, NULL);
	uint32_t ifindex = OPTS_GET(s, ifindex, 0);
	const char *ipv4 = OPTS_GET(s, ipv4, NULL), *ipv6 = OPTS_GET(s, ipv6, NULL);

	msgpack_pack_map(pk, 1 + !!ifname + !!ifindex + !!ipv4 + !!ipv6);
	nr_rpc_pack_kv_str(pk, "id", s->id);
	if (ifname)
		nr_rpc_pack_kv_str(pk, "ifname", ifname);
	if (ifindex)
		nr_rpc_pack_kv_u64(pk, "ifindex", ifindex);
	if (ipv4)
		nr_rpc_pack_kv_str(pk, "ipv4", ipv4);
	if (ipv6)
		nr_rpc_pack_kv_str(pk, "ipv6", ipv6);
}

static void pack_mode(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_map(pk, 1);
	nr_rpc_pack_kv_str(pk, "mode", arg);
}

/* mode.set with the switches: only the fields the caller changes. */
static void pack_mode_opts(msgpack_packer *pk, const void *arg)
{
	const struct nr_mode_opts *o = arg;
	enum nr_switch adnr = OPTS_GET(o, auto_direct_node_routes, NR_SWITCH_KEEP);
	enum nr_switch skip = OPTS_GET(o, direct_routing_skip_unreachable, NR_SWITCH_KEEP);
	enum nr_routing_mode mode = OPTS_GET(o, mode, 0);

	msgpack_pack_map(pk, (mode != 0) + (adnr != NR_SWITCH_KEEP) + (skip != NR_SWITCH_KEEP));
	if (mode)
		nr_rpc_pack_kv_str(pk, "mode", nr_routing_mode_str(mode));
	if (adnr != NR_SWITCH_KEEP)
		nr_rpc_pack_kv_bool(pk, "auto_direct_node_routes", adnr == NR_SWITCH_ON);
	if (skip != NR_SWITCH_KEEP)
		nr_rpc_pack_kv_bool(pk, "direct_routing_skip_unreachable", skip == NR_SWITCH_ON);
}

static int check_spec(const void *spec, const char *key, const char *what)
{
	if (!spec || !key || !*key)
		return nr_last_error_set(-EINVAL, "%s is required", what);
	return 0;
}

NR_API int nr_client_status(struct nr_client *c, nr_client_status_cb cb, void *data)
{
	return nr_client_call_start(c, K_STATUS, "status", NULL, NULL, CB(cb), data);
}

static int node_change(struct nr_client *c, const char *method, const struct nr_node_spec *spec,
		       nr_client_node_cb cb, void *data)
{
	struct nr_err err = { 0 };
	int rc = check_spec(spec, spec ? spec->name : NULL, "node spec with a name");

	if (rc < 0)
		return rc;
	if (!OPTS_VALID(spec, nr_node_spec, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	return nr_client_call_start(c, K_NODE, method, pack_node_spec, spec, CB(cb), data);
}

NR_API int nr_client_node_add(struct nr_client *c, const struct nr_node_spec *spec,
			      nr_client_node_cb cb, void *data)
{
	return node_change(c, "node.add", spec, cb, data);
}

NR_API int nr_client_node_update(struct nr_client *c, const struct nr_node_spec *spec,
				 nr_client_node_cb cb, void *data)
{
	return node_change(c, "node.update", spec, cb, data);
}

/* A call about one object, given by its name (or id). */
static int call_named(struct nr_client *c, enum call_kind kind, const char *method,
		      nr_client_pack_fn pack, const char *name, const char *what,
		      void (*cb)(void), void *data)
{
	int rc = check_spec(name, name, what);

	return rc < 0 ? rc : nr_client_call_start(c, kind, method, pack, name, cb, data);
}

NR_API int nr_client_node_remove(struct nr_client *c, const char *name, nr_client_done_cb cb,
				 void *data)
{
	return call_named(c, K_DONE, "node.remove", pack_name, name, "node name", CB(cb), data);
}

NR_API int nr_client_node_get(struct nr_client *c, const char *name, nr_client_node_cb cb,
			      void *data)
{
	return call_named(c, K_NODE, "node.get", pack_name, name, "node name", CB(cb), data);
}

NR_API int nr_client_node_list(struct nr_client *c, nr_client_nodes_cb cb, void *data)
{
	return nr_client_call_start(c, K_NODES, "node.list", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_node_foreach(struct nr_client *c, nr_node_fn fn, nr_client_done_cb done,
				  void *data)
{
	return nr_client_walk_start(c, K_NODE_EACH, "node.list", CB(fn), done, data);
}

NR_API int nr_client_endpoint_foreach(struct nr_client *c, nr_endpoint_fn fn,
				      nr_client_done_cb done, void *data)
{
	return nr_client_walk_start(c, K_ENDPOINT_EACH, "endpoint.list", CB(fn), done, data);
}

NR_API int nr_client_route_foreach(struct nr_client *c, nr_route_fn fn, nr_client_done_cb done,
				   void *data)
{
	return nr_client_walk_start(c, K_ROUTE_EACH, "route.list", CB(fn), done, data);
}

NR_API int nr_client_ipam_status(struct nr_client *c, nr_client_ipam_cb cb, void *data)
{
	return nr_client_call_start(c, K_IPAM, "ipam.status", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_endpoint_add(struct nr_client *c, const struct nr_endpoint_spec *spec,
				  nr_client_endpoint_cb cb, void *data)
{
	struct nr_err err = { 0 };
	int rc = check_spec(spec, spec ? spec->id : NULL, "endpoint spec with an id");

	if (rc < 0)
		return rc;
	if (!OPTS_VALID(spec, nr_endpoint_spec, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	return nr_client_call_start(c, K_ENDPOINT, "endpoint.add", pack_endpoint_spec, spec, CB(cb),
				    data);
}

NR_API int nr_client_mode_set_opts(struct nr_client *c, const struct nr_mode_opts *opts,
				   nr_client_mode_cb cb, void *data)
{
	struct nr_err err = { 0 };
	enum nr_switch adnr, skip;
	enum nr_routing_mode mode;

	if (!opts)
		return nr_last_error_set(-EINVAL, "mode set: no options");
	if (!OPTS_VALID(opts, nr_mode_opts, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	mode = OPTS_GET(opts, mode, 0);
	adnr = OPTS_GET(opts, auto_direct_node_routes, NR_SWITCH_KEEP);
	skip = OPTS_GET(opts, direct_routing_skip_unreachable, NR_SWITCH_KEEP);
	if (mode && strcmp(nr_routing_mode_str(mode), "unknown") == 0)
		return nr_last_error_set(-EINVAL, "routing mode %d: expected native, tunnel or hybrid",
					 (int)mode);
	if (adnr > NR_SWITCH_OFF || skip > NR_SWITCH_OFF)
		return nr_last_error_set(-EINVAL, "mode set: switch value %d: expected keep (0), "
					 "on (1) or off (2)", adnr > NR_SWITCH_OFF ? (int)adnr : (int)skip);
	if (!mode && adnr == NR_SWITCH_KEEP && skip == NR_SWITCH_KEEP)
		return nr_last_error_set(-EINVAL, "mode set: nothing to change (give a mode and/or a switch)");
	return nr_client_call_start(c, K_MODE, "mode.set", pack_mode_opts, opts, CB(cb), data);
}

NR_API int nr_client_endpoint_remove(struct nr_client *c, const char *id, nr_client_done_cb cb,
				     void *data)
{
	return call_named(c, K_DONE, "endpoint.remove", pack_id, id, "endpoint id", CB(cb), data);
}

NR_API int nr_client_endpoint_get(struct nr_client *c, const char *id, nr_client_endpoint_cb cb,
				  void *data)
{
	return call_named(c, K_ENDPOINT, "endpoint.get", pack_id, id, "endpoint id", CB(cb), data);
}

NR_API int nr_client_endpoint_list(struct nr_client *c, nr_client_endpoints_cb cb, void *data)
{
	return nr_client_call_start(c, K_ENDPOINTS, "endpoint.list", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_route_list(struct nr_client *c, nr_client_routes_cb cb, void *data)
{
	return nr_client_call_start(c, K_ROUTES, "route.list", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_mode_get(struct nr_client *c, nr_client_mode_cb cb, void *data)
{
	return nr_client_call_start(c, K_MODE, "mode.get", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_mode_set(struct nr_client *c, enum nr_routing_mode mode,
			      nr_client_mode_cb cb, void *data)
{
	const char *text = nr_routing_mode_str(mode);

	if (strcmp(text, "unknown") == 0)
		return nr_last_error_set(-EINVAL, "routing mode %d: expected native, tunnel or hybrid",
					 (int)mode);
	return nr_client_call_start(c, K_MODE, "mode.set", pack_mode, text, CB(cb), data);
}

