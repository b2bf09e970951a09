/* How nrctl shows the daemon's answers: a table for people, JSON with the
 * RPC field names for scripts. */
#include "print.h"

#include <stddef.h>
#include <stdio.h>

#include <nativeroute/bpf.h>
#include <nativeroute/error.h>

static const char *const nr_bpf_verdict_names[NR_BPF_VERDICTS] = NR_BPF_VERDICT_NAMES;

const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

void json_node(struct json *j, const void *item)
{
	const struct nr_node_info *n = item;

	json_begin_obj(j, NULL);
	json_str(j, "name", n->name);
	json_opt_str(j, "ipv4", n->ipv4);
	json_opt_str(j, "ipv6", n->ipv6);
	json_begin_arr(j, "pod_cidrs");
	for (size_t i = 0; i < n->n_pod_cidrs; i++)
		json_str(j, NULL, n->pod_cidrs[i]);
	json_end_arr(j);
	json_str(j, "state", n->state);
	json_bool(j, "local", n->local);
	json_end_obj(j);
}

static void cidrs_text(const struct nr_node_info *n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n->n_pod_cidrs && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", n->pod_cidrs[i]);
	if (!n->n_pod_cidrs)
		snprintf(buf, len, "-");
}

void table_node_header(const char *indent)
{
	printf("%s%-20s %-16s %-24s %-32s %s\n", indent, "NAME", "IPV4", "IPV6", "POD CIDRS", "STATE");
}

void table_node_row(const void *item, const char *indent)
{
	const struct nr_node_info *node = item;
	char cidrs[512];

	cidrs_text(node, cidrs, sizeof(cidrs));
	printf("%s%-20s %-16s %-24s %-32s %s\n", indent, node->name, dash(node->ipv4),
	       dash(node->ipv6), cidrs, node->state);
}

void json_route(struct json *j, const void *item)
{
	const struct nr_route_info *r = item;

	json_begin_obj(j, NULL);
	json_str(j, "dst", r->dst);
	json_str(j, "kind", r->kind);
	json_opt_str(j, "via", r->via);
	json_opt_str(j, "dev", r->dev);
	json_opt_str(j, "node", r->node);
	json_u64(j, "mtu", r->mtu);
	json_bool(j, "programmed", r->programmed);
	json_end_obj(j);
}

void table_route_header(const char *indent)
{
	printf("%s%-24s %-9s %-18s %-12s %-20s %-6s %s\n", indent, "DESTINATION", "KIND", "VIA",
	       "DEV", "NODE", "MTU", "PROGRAMMED");
}

void table_route_row(const void *item, const char *indent)
{
	const struct nr_route_info *r = item;
	char mtu[16];

	snprintf(mtu, sizeof(mtu), "%u", r->mtu);
	printf("%s%-24s %-9s %-18s %-12s %-20s %-6s %s\n", indent, r->dst, r->kind, dash(r->via),
	       dash(r->dev), dash(r->node), r->mtu ? mtu : "-", r->programmed ? "yes" : "no");
}

void json_endpoint(struct json *j, const void *item)
{
	const struct nr_endpoint_info *e = item;

	json_begin_obj(j, NULL);
	json_str(j, "id", e->id);
	json_opt_str(j, "ifname", e->ifname);
	json_u64(j, "ifindex", e->ifindex);
	json_opt_str(j, "ipv4", e->ipv4);
	json_opt_str(j, "ipv6", e->ipv6);
	json_opt_str(j, "gateway", *e->gateway4 ? e->gateway4 : e->gateway6);
	json_opt_str(j, "gateway6", e->gateway6);
	if (e->sz >= offsetof(struct nr_endpoint_info, mtu) + sizeof(e->mtu))
		json_u64(j, "mtu", e->mtu);
	json_end_obj(j);
}

void table_endpoint_header(const char *indent)
{
	printf("%s%-24s %-16s %-16s %-24s %-24s %s\n", indent, "ID", "IFNAME", "IPV4", "IPV6",
	       "GATEWAY", "MTU");
}

void table_endpoint_row(const void *item, const char *indent)
{
	const struct nr_endpoint_info *e = item;
	char mtu[16] = "-";

	/* the MTU came with 1.1: an older library's item has no room for it */
	if (e->sz >= offsetof(struct nr_endpoint_info, mtu) + sizeof(e->mtu) && e->mtu)
		snprintf(mtu, sizeof(mtu), "%u", e->mtu);
	printf("%s%-24s %-16s %-16s %-24s %-24s %s\n", indent, e->id, dash(e->ifname),
	       dash(e->ipv4), dash(e->ipv6), dash(*e->gateway4 ? e->gateway4 : e->gateway6), mtu);
}

static const char *on_off(bool b)
{
	return b ? "Enabled" : "Disabled";
}

/* Cilium's line: "Masquerading: nftables [IPv4: Enabled, IPv6: Disabled]",
 * then what is left alone and why. */
static void print_masquerade(const struct nr_status *st)
{
	const char *excl = st->masquerade_excluded, *note = st->masquerade_note;

	if (!st->masquerade_ipv4 && !st->masquerade_ipv6)
		printf("Masquerading: Disabled\n");
	else
		printf("Masquerading: nftables [IPv4: %s, IPv6: %s]%s\n", on_off(st->masquerade_ipv4),
		       on_off(st->masquerade_ipv6),
		       st->masquerade_programmed ? "" : "  (not programmed yet)");
	if (*excl)
		printf("  Not masqueraded: %s\n", excl);
	if (*note)
		printf("  Note: %s\n", note);
}

static const char *nodes_word(size_t n)
{
	return n == 1 ? "node" : "nodes";
}

/* Appended fields; a struct from an older library (sz) has none of them. */
static bool has_health(const struct nr_status *st)
{
	return st->sz >= offsetof(struct nr_status, pod_ips_total6) + sizeof(st->pod_ips_total6);
}

void print_status_text(const struct nr_status *st)
{
	bool v11 = has_health(st);
	const char *routing = st->routing_mode == NR_MODE_TUNNEL   ? "Tunnel [vxlan]"
			      : st->routing_mode == NR_MODE_HYBRID ? "Hybrid"
								   : "Native";

	/* the first line says Ok only when every subsystem is fine (an older
	 * daemon has no verdict: judged by the fields it sends) */
	bool masq_bad = (st->masquerade_ipv4 || st->masquerade_ipv6) && !st->masquerade_programmed;
	bool store_bad = st->store_etcd && !st->store_healthy;

	if (v11 && !st->healthy)
		printf("Controller:              Degraded: %s\n", st->problems);
	else if (v11)
		printf("Controller:              %s\n", st->started ? "Ok" : "Starting");
	else
		printf("Controller:              %s\n", !st->started ? "Starting"
						   : masq_bad ? "Degraded (masquerading not programmed)"
						   : store_bad ? "Degraded (store)" : "Ok");
	if (v11)
		printf("Version: %s   Node: %s\n", st->version, st->local_node);
	if (v11 && st->routing_mode == NR_MODE_HYBRID)
		printf("Routing: Network: Hybrid   Native: %zu %s   Tunnel [vxlan]: %zu %s\n",
		       st->nodes_native, nodes_word(st->nodes_native), st->nodes_tunnel,
		       nodes_word(st->nodes_tunnel));
	else
		printf("Routing: Network: %s\n", routing);
	printf("Native Routing: %s\n", on_off(st->routing_mode != NR_MODE_TUNNEL));
	printf("Tunnel: %s\n", st->routing_mode == NR_MODE_NATIVE ? "Disabled" : "vxlan");
	printf("Auto Direct Node Routes: %s\n", on_off(st->auto_direct_node_routes));
	printf("Direct Routing Skip Unreachable: %s\n", on_off(st->direct_routing_skip_unreachable));
	/* which allocator is in effect: without a shared store, cluster-pool
	 * is correct only while this controller is the cluster's only one */
	printf("IPAM: %s  node CIDRs: %zu/%zu allocated  (allocator: %s)",
	       nr_ipam_mode_str(st->ipam_mode), st->ipam_used, st->ipam_total,
	       st->ipam_mode == NR_IPAM_KUBERNETES ? "the orchestrator (--pod-cidr)"
	       : st->store_etcd		    ? "etcd, shared by every node"
						    : "this controller alone (single-allocator rule)");
	if (v11 && *st->pod_cidr4)
		printf("   IPv4: %zu/%zu allocated from %s", st->pod_ips_used4, st->pod_ips_total4,
		       st->pod_cidr4);
	if (v11 && *st->pod_cidr6)
		printf("   IPv6: %zu/%zu allocated from %s", st->pod_ips_used6, st->pod_ips_total6,
		       st->pod_cidr6);
	printf("\n");
	if (v11)
		printf("Nodes: %zu (%zu native, %zu tunnel, %zu unreachable, %zu without CIDR)\n",
		       st->nodes, st->nodes_native, st->nodes_tunnel, st->nodes_unreachable,
		       st->nodes_no_cidr);
	else
		printf("Nodes: %zu (%zu unreachable)\n", st->nodes, st->nodes_unreachable);
	printf("Routes: %zu/%zu programmed (%s)\n", st->routes_programmed, st->routes_planned,
	       st->nexthop_objects ? "nexthop objects" : "classic routes");
	if (v11)
		printf("Endpoints: %zu (%zu broken)\n", st->endpoints, st->endpoints_broken);
	else
		printf("Endpoints: %zu\n", st->endpoints);
	printf("Resyncs: %llu   Drift repairs: %llu   Netlink errors: %llu\n",
	       (unsigned long long)st->resyncs, (unsigned long long)st->drift_repairs,
	       (unsigned long long)st->netlink_errors);
	printf("Passes: %llu incremental, %llu full\n", (unsigned long long)st->incremental_passes,
	       (unsigned long long)st->full_passes);
	if (st->host_routing_bpf)
		printf("Host Routing: BPF\n");
	else
		printf("Host Routing: Legacy%s%s%s\n", *st->host_routing_reason ? " (" : "",
		       st->host_routing_reason, *st->host_routing_reason ? ")" : "");
	if (st->bpf_routes || st->bpf_endpoints || st->host_routing_bpf) {
		printf("BPF Maps: %zu routes, %zu endpoints, %llu entries repaired\n", st->bpf_routes,
		       st->bpf_endpoints, (unsigned long long)st->bpf_map_repairs);
		printf("BPF Verdicts (packets):");
		for (int i = 0; i < NR_BPF_VERDICTS; i++)
			printf(" %s=%llu", nr_bpf_verdict_names[i],
			       (unsigned long long)st->bpf_packets[i]);
		printf("\n");
	}
	print_masquerade(st);
	if (st->store_etcd)
		printf("Store: etcd %s\n", st->store_detail);
	else
		printf("Store: %s\n", st->store_file ? "file" : "memory (no state dir)");
}

void json_status(struct json *j, const char *key, const struct nr_status *st)
{
	json_begin_obj(j, key);
	json_str(j, "routing_mode", nr_routing_mode_str(st->routing_mode));
	json_str(j, "tunnel", st->routing_mode == NR_MODE_NATIVE ? "disabled" : "vxlan");
	json_bool(j, "native_routing", st->routing_mode != NR_MODE_TUNNEL);
	json_str(j, "ipam_mode", nr_ipam_mode_str(st->ipam_mode));
	json_bool(j, "auto_direct_node_routes", st->auto_direct_node_routes);
	json_bool(j, "nexthop_objects", st->nexthop_objects);
	json_bool(j, "started", st->started);
	json_u64(j, "nodes", st->nodes);
	json_u64(j, "nodes_unreachable", st->nodes_unreachable);
	json_u64(j, "endpoints", st->endpoints);
	json_u64(j, "routes_planned", st->routes_planned);
	json_u64(j, "routes_programmed", st->routes_programmed);
	json_u64(j, "ipam_used", st->ipam_used);
	json_u64(j, "ipam_total", st->ipam_total);
	json_u64(j, "resyncs", st->resyncs);
	json_u64(j, "drift_repairs", st->drift_repairs);
	json_u64(j, "netlink_errors", st->netlink_errors);
	json_u64(j, "full_passes", st->full_passes);
	json_u64(j, "incremental_passes", st->incremental_passes);
	json_str(j, "host_routing", st->host_routing_bpf ? "BPF" : "Legacy");
	json_str(j, "host_routing_reason", st->host_routing_reason);
	json_u64(j, "bpf_routes", st->bpf_routes);
	json_u64(j, "bpf_endpoints", st->bpf_endpoints);
	json_u64(j, "bpf_map_repairs", st->bpf_map_repairs);
	for (int i = 0; i < NR_BPF_VERDICTS; i++) {
		char name[48];

		snprintf(name, sizeof(name), "bpf_packets_%s", nr_bpf_verdict_names[i]);
		json_u64(j, name, st->bpf_packets[i]);
	}
	json_bool(j, "masquerade_ipv4", st->masquerade_ipv4);
	json_bool(j, "masquerade_ipv6", st->masquerade_ipv6);
	json_bool(j, "masquerade_programmed", st->masquerade_programmed);
	json_str(j, "masquerade_excluded", st->masquerade_excluded);
	json_str(j, "masquerade_note", st->masquerade_note);
	json_str(j, "store", st->store_etcd ? "etcd" : st->store_file ? "file" : "none");
	json_bool(j, "store_healthy", !st->store_etcd || st->store_healthy);
	json_u64(j, "store_unhealthy_since",
		 st->store_unhealthy_since > 0 ? (uint64_t)st->store_unhealthy_since : 0);
	json_str(j, "store_detail", st->store_detail);
	json_bool(j, "direct_routing_skip_unreachable", st->direct_routing_skip_unreachable);
	if (has_health(st)) { /* every field the RPC returns, by its name */
		json_str(j, "version", st->version);
		json_str(j, "local_node", st->local_node);
		json_bool(j, "healthy", st->healthy);
		json_str(j, "problems", st->problems);
		json_u64(j, "nodes_native", st->nodes_native);
		json_u64(j, "nodes_tunnel", st->nodes_tunnel);
		json_u64(j, "nodes_no_cidr", st->nodes_no_cidr);
		json_u64(j, "endpoints_broken", st->endpoints_broken);
		json_bool(j, "netns_gone", st->netns_gone);
		json_i64(j, "store_error", st->store_error);
		json_str(j, "store_error_name", st->store_error ? nr_err_name(st->store_error) : "");
		json_str(j, "pod_cidr4", st->pod_cidr4);
		json_str(j, "pod_cidr6", st->pod_cidr6);
		json_u64(j, "pod_ips_used4", st->pod_ips_used4);
		json_u64(j, "pod_ips_total4", st->pod_ips_total4);
		json_u64(j, "pod_ips_used6", st->pod_ips_used6);
		json_u64(j, "pod_ips_total6", st->pod_ips_total6);
	}
	json_end_obj(j);
}

const struct list_view nodes_view = {
	"nodes", "Node details:", json_node, table_node_header, table_node_row,
};
const struct list_view routes_view = {
	"routes", "Route details:", json_route, table_route_header, table_route_row,
};
const struct list_view endpoints_view = {
	"endpoints", "Endpoint details:", json_endpoint, table_endpoint_header, table_endpoint_row,
};

void list_begin(struct json *j, const struct list_view *v, bool section)
{
	if (j) {
		json_begin_arr(j, section ? v->key : NULL);
		return;
	}
	if (section)
		printf("%s\n", v->title);
	v->table_header(section ? "  " : "");
}

void list_item(struct json *j, const struct list_view *v, const void *item, bool section)
{
	if (j)
		v->json_item(j, item);
	else
		v->table_row(item, section ? "  " : "");
}

void list_end(struct json *j, const struct list_view *v, bool section)
{
	(void)v;
	if (!j)
		return;
	json_end_arr(j);
	if (!section)
		json_done(j);
}
