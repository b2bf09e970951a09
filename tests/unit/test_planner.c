/* core/planner: desired kernel state from the model. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/planner.h"
#include "parse_helpers.h"


static struct nr_model *seed(enum nr_routing_mode mode, bool adnr, bool skip)
{
	struct nr_cluster_config c;
	struct nr_model *m;
	struct nr_node_req n1 = { .name = "node-1", .ip4 = A("192.168.1.10") };
	struct nr_node_req n2 = { .name = "node-2", .ip4 = A("192.168.1.11") };
	struct nr_err err = { 0 };

	nr_config_init(&c);
	c.routing_mode = mode;
	c.auto_direct_node_routes = adnr;
	c.direct_routing_skip_unreachable = skip;
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/16");
	cr_assert_eq(nr_model_new(&c, "node-1", &m, &err), 0, "%s", err.msg);
	cr_assert_eq(nr_model_node_add(m, &n1, NULL, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &n2, NULL, NULL), 0);
	return m;
}

static struct nr_reach R(const char *ip, uint8_t kind, uint32_t ifindex)
{
	struct nr_reach r = { .ip = A(ip), .kind = kind, .ifindex = ifindex };

	if (kind == NR_REACH_GATEWAY)
		r.gw = A("192.168.1.1");
	return r;
}

static const char *S(const struct nr_prefix *p)
{
	static char b[4][NR_ADDR_STRLEN];
	static int i;

	return nr_prefix_str(p, b[i++ % 4], NR_ADDR_STRLEN);
}

Test(planner, native_route_uses_nexthop_object_and_local_source)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, true, false);
	struct nr_reach r = R("192.168.1.11", NR_REACH_DIRECT, 2);
	struct nr_plan_input in = { .model = m, .reach = &r, .n_reach = 1 };
	struct nr_kstate ks;
	struct nr_addr src = A("192.168.1.10");

	cr_assert_eq(nr_plan(&in, &ks, NULL, NULL), 0);
	cr_assert_eq(ks.n_routes, 1);
	cr_assert_eq(ks.n_nexthops, 1);
	cr_assert_str_eq(S(&ks.routes[0].dst), "10.0.1.0/24");
	cr_assert_eq(ks.routes[0].kind, NR_ROUTE_NATIVE);
	cr_assert_eq(ks.routes[0].nh_id, NR_NH_ID_BASE + 1 * 2);
	cr_assert(nr_addr_eq(&ks.routes[0].src, &src));
	cr_assert_eq(ks.nexthops[0].id, ks.routes[0].nh_id);
	cr_assert(nr_addr_eq(&ks.nexthops[0].gw, &r.ip));
	cr_assert_eq(ks.nexthops[0].ifindex, 2);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, local_cidr_is_never_routed)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, true, false);
	struct nr_reach r[2] = { R("192.168.1.11", NR_REACH_DIRECT, 2),
				 R("192.168.1.10", NR_REACH_DIRECT, 1) };
	struct nr_plan_input in = { .model = m, .reach = r, .n_reach = 2 };
	struct nr_prefix local = nr_model_local_node(m)->cidr4;
	struct nr_kstate ks;

	cr_assert_eq(nr_plan(&in, &ks, NULL, NULL), 0);
	for (size_t i = 0; i < ks.n_routes; i++)
		cr_assert(!nr_prefix_overlaps(&ks.routes[i].dst, &local), "%s", S(&ks.routes[i].dst));
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, classic_routes_carry_gateway_and_device)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, true, false);
	struct nr_reach r = R("192.168.1.11", NR_REACH_DIRECT, 2);
	struct nr_plan_input in = { .model = m, .reach = &r, .n_reach = 1,
				    .flags = NR_PLAN_CLASSIC_ROUTES };
	struct nr_kstate ks;

	cr_assert_eq(nr_plan(&in, &ks, NULL, NULL), 0);
	cr_assert_eq(ks.n_nexthops, 0);
	cr_assert_eq(ks.routes[0].nh_id, 0);
	cr_assert(nr_addr_eq(&ks.routes[0].gw, &r.ip));
	cr_assert_eq(ks.routes[0].ifindex, 2);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, node_behind_gateway_is_an_error_naming_it)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, true, false);
	struct nr_reach r = R("192.168.1.11", NR_REACH_GATEWAY, 2);
	struct nr_plan_input in = { .model = m, .reach = &r, .n_reach = 1 };
	struct nr_kstate ks;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_plan(&in, &ks, NULL, &err), -EHOSTUNREACH);
	cr_assert(strstr(err.msg, "node node-2: 192.168.1.11 is not directly reachable (the route goes via 192.168.1.1)"),
		  "%s", err.msg);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, node_behind_gateway_is_skipped_and_reported_with_skip_unreachable)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, true, true);
	struct nr_reach r = R("192.168.1.11", NR_REACH_GATEWAY, 2);
	struct nr_plan_input in = { .model = m, .reach = &r, .n_reach = 1 };
	struct nr_plan_report rep;
	struct nr_kstate ks;

	cr_assert_eq(nr_plan(&in, &ks, &rep, NULL), 0);
	cr_assert_eq(ks.n_routes, 0);
	cr_assert_eq(rep.n_skipped, 1);
	cr_assert_str_eq(rep.skipped[0].name, "node-2");
	cr_assert_eq(rep.skipped[0].reason, NR_SKIP_UNREACHABLE);
	nr_plan_report_free(&rep);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, unknown_reachability_is_skipped_not_an_error)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, true, false);
	struct nr_plan_input in = { .model = m };
	struct nr_plan_report rep;
	struct nr_kstate ks;

	cr_assert_eq(nr_plan(&in, &ks, &rep, NULL), 0);
	cr_assert_eq(ks.n_routes, 0);
	cr_assert_eq(rep.n_skipped, 1);
	cr_assert_eq(rep.skipped[0].reason, NR_SKIP_REACH_UNKNOWN);
	nr_plan_report_free(&rep);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, native_without_auto_direct_routes_leaves_remote_cidrs_to_the_underlay)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, false, false);
	struct nr_reach r = R("192.168.1.11", NR_REACH_DIRECT, 2);
	struct nr_plan_input in = { .model = m, .reach = &r, .n_reach = 1 };
	struct nr_plan_report rep;
	struct nr_kstate ks;

	cr_assert_eq(nr_plan(&in, &ks, &rep, NULL), 0);
	cr_assert_eq(ks.n_routes, 0);
	cr_assert(rep.remote_routes_unmanaged);
	nr_plan_report_free(&rep);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, tunnel_route_goes_onlink_via_vtep_with_device_mtu)
{
	struct nr_model *m = seed(NR_MODE_TUNNEL, false, false);
	struct nr_plan_input in = { .model = m, .tunnel = { .ifindex = 9, .mtu = 1450 } };
	struct nr_kstate ks;
	const uint8_t mac[6] = { 0x02, 0x4e, 192, 168, 1, 11 };
	struct nr_addr vtep = A("10.0.1.0"), under = A("192.168.1.11");

	cr_assert_eq(nr_plan(&in, &ks, NULL, NULL), 0);
	cr_assert_eq(ks.n_routes, 1);
	cr_assert_eq(ks.routes[0].kind, NR_ROUTE_TUNNEL);
	cr_assert(ks.routes[0].onlink);
	cr_assert(nr_addr_eq(&ks.routes[0].gw, &vtep));
	cr_assert_eq(ks.routes[0].ifindex, 9);
	cr_assert_eq(ks.routes[0].mtu, 1450);
	cr_assert_eq(ks.n_neighs, 1);
	cr_assert(nr_addr_eq(&ks.neighs[0].ip, &vtep));
	cr_assert_arr_eq(ks.neighs[0].mac, mac, 6);
	cr_assert_eq(ks.n_fdbs, 1);
	cr_assert_arr_eq(ks.fdbs[0].mac, mac, 6);
	cr_assert(nr_addr_eq(&ks.fdbs[0].dst, &under));
	cr_assert_eq(ks.n_nexthops, 0);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, tunnel_without_device_is_skipped_and_reported)
{
	struct nr_model *m = seed(NR_MODE_TUNNEL, false, false);
	struct nr_plan_input in = { .model = m };
	struct nr_plan_report rep;
	struct nr_kstate ks;

	cr_assert_eq(nr_plan(&in, &ks, &rep, NULL), 0);
	cr_assert_eq(ks.n_routes, 0);
	cr_assert_eq(rep.n_skipped, 1);
	cr_assert_eq(rep.skipped[0].reason, NR_SKIP_NO_TUNNEL);
	nr_plan_report_free(&rep);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, hybrid_is_native_when_direct_and_tunnel_otherwise)
{
	struct nr_model *m = seed(NR_MODE_HYBRID, false, false);
	struct nr_node_req n3 = { .name = "node-3", .ip4 = A("192.168.2.12") };
	struct nr_reach r[2] = { R("192.168.2.12", NR_REACH_GATEWAY, 2),
				 R("192.168.1.11", NR_REACH_DIRECT, 2) };
	struct nr_plan_input in = { .model = m, .reach = r, .n_reach = 2,
				    .tunnel = { .ifindex = 9, .mtu = 1450 } };
	struct nr_plan_report rep;
	struct nr_kstate ks;

	cr_assert_eq(nr_model_node_add(m, &n3, NULL, NULL), 0);
	cr_assert_eq(nr_plan(&in, &ks, &rep, NULL), 0);
	cr_assert_eq(ks.n_routes, 2);
	cr_assert_str_eq(S(&ks.routes[0].dst), "10.0.1.0/24");
	cr_assert_eq(ks.routes[0].kind, NR_ROUTE_NATIVE);
	cr_assert_str_eq(S(&ks.routes[1].dst), "10.0.2.0/24");
	cr_assert_eq(ks.routes[1].kind, NR_ROUTE_TUNNEL);
	cr_assert_eq(rep.n_native, 1);
	cr_assert_eq(rep.n_tunnel, 1);
	nr_plan_report_free(&rep);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, ipv6_cidr_uses_odd_nexthop_id)
{
	struct nr_cluster_config c;
	struct nr_model *m;
	struct nr_node_req n1 = { .name = "a", .ip6 = A("2001:db8::10") };
	struct nr_node_req n2 = { .name = "b", .ip6 = A("2001:db8::11") };
	struct nr_reach r = R("2001:db8::11", NR_REACH_DIRECT, 3);
	struct nr_plan_input in = { .reach = &r, .n_reach = 1 };
	struct nr_kstate ks;

	nr_config_init(&c);
	c.auto_direct_node_routes = true;
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("fd00::/104");
	cr_assert_eq(nr_model_new(&c, "a", &m, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &n1, NULL, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &n2, NULL, NULL), 0);
	in.model = m;
	cr_assert_eq(nr_plan(&in, &ks, NULL, NULL), 0);
	cr_assert_eq(ks.n_routes, 1);
	cr_assert_str_eq(S(&ks.routes[0].dst), "fd00::1:0/112");
	cr_assert_eq(ks.routes[0].nh_id, NR_NH_ID_BASE + 1 * 2 + 1);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, endpoint_gets_host_route_and_unknown_device_is_reported)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, true, false);
	struct nr_endpoint_req a = { .id = "pod-a", .ifindex = 12 };
	struct nr_endpoint_req b = { .id = "pod-b", .ifname = "veth-b" };
	struct nr_plan_input in = { .model = m };
	struct nr_plan_report rep;
	struct nr_kstate ks;

	cr_assert_eq(nr_model_endpoint_add(m, &a, NULL, NULL), 0);
	cr_assert_eq(nr_model_endpoint_add(m, &b, NULL, NULL), 0);
	cr_assert_eq(nr_plan(&in, &ks, &rep, NULL), 0);
	cr_assert_eq(ks.n_routes, 1);
	cr_assert_str_eq(S(&ks.routes[0].dst), "10.0.0.2/32");
	cr_assert_eq(ks.routes[0].kind, NR_ROUTE_ENDPOINT);
	cr_assert_eq(ks.routes[0].scope, 253);
	cr_assert_eq(ks.routes[0].ifindex, 12);
	cr_assert_eq(rep.n_skipped, 2, "pod-b and node-2's unknown reachability");
	nr_plan_report_free(&rep);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(planner, removed_node_disappears_from_the_plan)
{
	struct nr_model *m = seed(NR_MODE_NATIVE, true, false);
	struct nr_reach r = R("192.168.1.11", NR_REACH_DIRECT, 2);
	struct nr_plan_input in = { .model = m, .reach = &r, .n_reach = 1 };
	struct nr_kstate ks;

	cr_assert_eq(nr_model_node_remove(m, "node-2", NULL), 0);
	cr_assert_eq(nr_plan(&in, &ks, NULL, NULL), 0);
	cr_assert_eq(ks.n_routes + ks.n_nexthops, 0);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

static struct nr_model *big(size_t n, struct nr_reach **reach)
{
	struct nr_cluster_config c;
	struct nr_model *m;

	nr_config_init(&c);
	c.auto_direct_node_routes = true;
	c.routing_mode = NR_MODE_HYBRID;
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/8");
	cr_assert_eq(nr_model_new(&c, "n0", &m, NULL), 0);
	*reach = calloc(n, sizeof(**reach));
	for (size_t i = 0; i < n; i++) {
		char name[24]; /* "n" + up to 20 digits */
		struct nr_node_req q = { .name = name, .ip4 = { .family = AF_INET,
				.bytes = { 172, 16, (uint8_t)(i >> 8), (uint8_t)i } } };

		snprintf(name, sizeof(name), "n%zu", i);
		cr_assert_eq(nr_model_node_add(m, &q, NULL, NULL), 0);
		(*reach)[n - 1 - i] = (struct nr_reach){ .ip = q.ip4,
			.kind = i % 3 ? NR_REACH_DIRECT : NR_REACH_GATEWAY, .ifindex = 2 };
	}
	return m;
}

Test(planner, output_is_sorted_and_deterministic)
{
	struct nr_reach *reach;
	struct nr_model *m = big(500, &reach);
	struct nr_plan_input in = { .model = m, .reach = reach, .n_reach = 500,
				    .tunnel = { .ifindex = 9, .mtu = 1450 } };
	struct nr_kstate a, b;

	cr_assert_eq(nr_plan(&in, &a, NULL, NULL), 0);
	cr_assert_eq(nr_plan(&in, &b, NULL, NULL), 0);
	cr_assert_eq(a.n_routes, 499);
	cr_assert_eq(a.n_routes, b.n_routes);
	for (size_t i = 0; i < a.n_routes; i++) {
		cr_assert(nr_kroute_same(&a.routes[i], &b.routes[i]));
		if (i)
			cr_assert_lt(nr_kroute_cmp_key(&a.routes[i - 1], &a.routes[i]), 0);
	}
	for (size_t i = 1; i < a.n_nexthops; i++)
		cr_assert_lt(a.nexthops[i - 1].id, a.nexthops[i].id);
	for (size_t i = 1; i < a.n_neighs; i++)
		cr_assert_lt(nr_kneigh_cmp_key(&a.neighs[i - 1], &a.neighs[i]), 0);
	nr_kstate_free(&a);
	nr_kstate_free(&b);
	free(reach);
	nr_model_free(m);
}

/* Scale without a clock: timing belongs to bench/ (RESULTS.md), a unit test
 * on a shared, sanitized machine only checks that 10,000 nodes plan fully
 * and identically twice over. */
Test(planner, plans_10000_nodes_completely_and_deterministically)
{
	struct nr_reach *reach;
	struct nr_model *m = big(10000, &reach);
	struct nr_plan_input in = { .model = m, .reach = reach, .n_reach = 10000,
				    .tunnel = { .ifindex = 9, .mtu = 1450 } };
	struct nr_kstate a, b;

	cr_assert_eq(nr_plan(&in, &a, NULL, NULL), 0);
	cr_assert_eq(nr_plan(&in, &b, NULL, NULL), 0);
	cr_assert_eq(a.n_routes, 9999);
	cr_assert_eq(b.n_routes, a.n_routes);
	for (size_t i = 0; i < a.n_routes; i++)
		cr_assert_eq(nr_kroute_cmp_key(&a.routes[i], &b.routes[i]), 0);
	nr_kstate_free(&a);
	nr_kstate_free(&b);
	free(reach);
	nr_model_free(m);
}

/* The per-node and per-endpoint planners are what a controller uses to keep
 * its desired state current without re-planning everything: their union
 * must be exactly the full plan, object for object. */
static void append_all(struct nr_kstate *acc, const struct nr_kstate *part)
{
#define APPEND(field, n)                                                                   \
	do {                                                                               \
		acc->field = realloc(acc->field, (acc->n + part->n + 1) * sizeof(*acc->field)); \
		memcpy(acc->field + acc->n, part->field, part->n * sizeof(*part->field));  \
		acc->n += part->n;                                                         \
	} while (0)
	APPEND(nexthops, n_nexthops);
	APPEND(routes, n_routes);
	APPEND(neighs, n_neighs);
	APPEND(fdbs, n_fdbs);
#undef APPEND
}

Test(planner, union_of_per_node_and_per_endpoint_plans_is_the_full_plan)
{
	struct nr_reach *reach;
	struct nr_model *m = big(300, &reach);
	struct nr_plan_input in = { .model = m, .reach = reach, .n_reach = 300,
				    .tunnel = { .ifindex = 9, .mtu = 1450 } };
	struct nr_endpoint_req ep = { .id = "pod-1", .ifindex = 7 };
	struct nr_kstate full = { 0 }, acc = { 0 };

	cr_assert_eq(nr_model_endpoint_add(m, &ep, NULL, NULL), 0);
	cr_assert_eq(nr_plan(&in, &full, NULL, NULL), 0);
	cr_assert_gt(full.n_routes, 150, "the model must plan something to compare");
	for (const struct nr_node *n = nr_model_node_next(m, NULL); n; n = nr_model_node_next(m, n)) {
		struct nr_kstate part = { 0 };

		cr_assert_eq(nr_plan_node(&in, n, &part, NULL, NULL), 0);
		append_all(&acc, &part);
		nr_kstate_free(&part);
	}
	for (const struct nr_endpoint *e = nr_model_endpoint_next(m, NULL); e;
	     e = nr_model_endpoint_next(m, e)) {
		struct nr_kstate part = { 0 };

		cr_assert_eq(nr_plan_endpoint(&in, e, &part, NULL, NULL), 0);
		cr_assert_eq(part.n_routes, 1);
		append_all(&acc, &part);
		nr_kstate_free(&part);
	}
	nr_kstate_sort(&acc);
	cr_assert_eq(acc.n_routes, full.n_routes);
	cr_assert_eq(acc.n_nexthops, full.n_nexthops);
	cr_assert_eq(acc.n_neighs, full.n_neighs);
	cr_assert_eq(acc.n_fdbs, full.n_fdbs);
	for (size_t i = 0; i < full.n_routes; i++)
		cr_assert(nr_kroute_cmp_key(&acc.routes[i], &full.routes[i]) == 0 &&
			  nr_kroute_same(&acc.routes[i], &full.routes[i]), "route %zu differs", i);
	for (size_t i = 0; i < full.n_nexthops; i++)
		cr_assert(nr_knexthop_same(&acc.nexthops[i], &full.nexthops[i]), "nexthop %zu differs", i);
	for (size_t i = 0; i < full.n_neighs; i++)
		cr_assert(nr_kneigh_same(&acc.neighs[i], &full.neighs[i]), "neigh %zu differs", i);
	for (size_t i = 0; i < full.n_fdbs; i++)
		cr_assert(nr_kfdb_same(&acc.fdbs[i], &full.fdbs[i]), "fdb %zu differs", i);
	nr_kstate_free(&full);
	nr_kstate_free(&acc);
	free(reach);
	nr_model_free(m);
}

/* IPv6 checks an onlink gateway against the table: a gateway inside the
 * remote CIDR would clash with the native route being replaced on a mode
 * switch. The IPv6 VTEP gateway is link-local, made from the VTEP MAC. */
Test(planner, ipv6_tunnel_gateway_is_link_local_from_the_vtep_mac)
{
	struct nr_cluster_config c;
	struct nr_model *m;
	struct nr_node_req self = { .name = "n1", .ip4 = A("192.168.1.10"), .cidr6 = P("fd10::/112") };
	struct nr_node_req peer = { .name = "n2", .ip4 = A("192.168.1.11"), .cidr6 = P("fd10::1:0/112") };
	struct nr_plan_input in = { .tunnel = { .ifindex = 9, .mtu = 1450 } };
	struct nr_kstate ks;
	struct nr_addr want = A("fe80::4e:c0ff:fea8:10b"); /* MAC 02:4e:c0:a8:01:0b */

	nr_config_init(&c);
	c.routing_mode = NR_MODE_TUNNEL;
	c.ipam_mode = NR_IPAM_KUBERNETES;
	cr_assert_eq(nr_model_new(&c, "n1", &m, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &self, NULL, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &peer, NULL, NULL), 0);
	in.model = m;
	cr_assert_eq(nr_plan(&in, &ks, NULL, NULL), 0);
	cr_assert_eq(ks.n_routes, 1);
	cr_assert(nr_addr_eq(&ks.routes[0].gw, &want), "gateway is %s", S(&(struct nr_prefix){ .addr = ks.routes[0].gw, .len = 128 }));
	cr_assert_eq(ks.n_neighs, 1);
	cr_assert(nr_addr_eq(&ks.neighs[0].ip, &want));
	nr_kstate_free(&ks);
	nr_model_free(m);
}

/* nr_plan_slices: the plan made a few nodes at a time (the controller's
 * loop must not stall for the whole plan) is nr_plan's, object for object,
 * whether reachability comes from the array or from a lookup function. */
struct reach_table {
	const struct nr_reach *r;
	size_t n;
};

static const struct nr_reach *table_lookup(void *data, const struct nr_addr *ip)
{
	const struct reach_table *t = data;

	for (size_t i = 0; i < t->n; i++)
		if (nr_addr_eq(&t->r[i].ip, ip))
			return &t->r[i];
	return NULL; /* never asked */
}

static void plan_in_slices(const struct nr_plan_input *in, size_t budget, struct nr_kstate *out,
			   struct nr_plan_report *rep, size_t *steps)
{
	struct nr_plan_slices *s;
	int rc;

	*steps = 0;
	cr_assert_eq(nr_plan_slices_new(in, &s, NULL), 0);
	while ((rc = nr_plan_slices_step(s, budget, NULL)) == 1)
		(*steps)++;
	cr_assert_eq(rc, 0);
	nr_plan_slices_take(s, out, rep);
	nr_plan_slices_free(s);
}

static void assert_same_plan(const struct nr_kstate *a, const struct nr_kstate *b)
{
	cr_assert_eq(a->n_routes, b->n_routes);
	cr_assert_eq(a->n_nexthops, b->n_nexthops);
	cr_assert_eq(a->n_neighs, b->n_neighs);
	cr_assert_eq(a->n_fdbs, b->n_fdbs);
	for (size_t i = 0; i < a->n_routes; i++)
		cr_assert(nr_kroute_cmp_key(&a->routes[i], &b->routes[i]) == 0 &&
			  nr_kroute_same(&a->routes[i], &b->routes[i]), "route %zu differs", i);
	for (size_t i = 0; i < a->n_nexthops; i++)
		cr_assert(nr_knexthop_same(&a->nexthops[i], &b->nexthops[i]), "nexthop %zu differs", i);
	for (size_t i = 0; i < a->n_neighs; i++)
		cr_assert(nr_kneigh_same(&a->neighs[i], &b->neighs[i]), "neigh %zu differs", i);
	for (size_t i = 0; i < a->n_fdbs; i++)
		cr_assert(nr_kfdb_same(&a->fdbs[i], &b->fdbs[i]), "fdb %zu differs", i);
}

Test(planner, plan_in_slices_is_the_full_plan)
{
	struct nr_reach *reach;
	struct nr_model *m = big(3000, &reach);
	struct reach_table t = { reach, 3000 };
	struct nr_plan_input in = { .model = m, .reach = reach, .n_reach = 3000,
				    .tunnel = { .ifindex = 9, .mtu = 1450 } };
	struct nr_plan_input by_fn = { .model = m, .reach_fn = table_lookup, .reach_data = &t,
				       .tunnel = { .ifindex = 9, .mtu = 1450 } };
	struct nr_endpoint_req ep = { .id = "pod-1", .ifindex = 7 };
	struct nr_kstate full, sliced, sliced_fn;
	struct nr_plan_report rf, rs;
	size_t steps;

	cr_assert_eq(nr_model_endpoint_add(m, &ep, NULL, NULL), 0);
	cr_assert_eq(nr_plan(&in, &full, &rf, NULL), 0);
	plan_in_slices(&in, 7, &sliced, &rs, &steps);
	cr_assert_gt(steps, 3000 / 7, "planned in %zu steps", steps);
	assert_same_plan(&full, &sliced);
	cr_assert_eq(rs.n_native, rf.n_native);
	cr_assert_eq(rs.n_tunnel, rf.n_tunnel);
	cr_assert_eq(rs.n_endpoint, 1);
	nr_kstate_free(&sliced);
	nr_plan_report_free(&rs);
	plan_in_slices(&by_fn, 1000, &sliced_fn, NULL, &steps);
	assert_same_plan(&full, &sliced_fn);
	nr_kstate_free(&full);
	nr_kstate_free(&sliced_fn);
	nr_plan_report_free(&rf);
	free(reach);
	nr_model_free(m);
}

/* Between slices the model changes: a node added behind the cursor waits
 * for the next plan; one whose IP nobody asked about yet (the lookup
 * function says NULL) is left out without a report; a gateway node still
 * stops the plan with the error naming it. */
Test(planner, plan_in_slices_while_the_model_changes)
{
	struct nr_cluster_config c;
	struct nr_model *m;
	struct nr_reach answers[3] = { R("192.168.1.11", NR_REACH_DIRECT, 2),
				       R("192.168.1.12", NR_REACH_DIRECT, 2),
				       R("192.168.1.13", NR_REACH_GATEWAY, 2) };
	struct reach_table t = { answers, 2 };
	struct nr_node_req self = { .name = "self", .ip4 = A("192.168.1.10") };
	struct nr_node_req a = { .name = "a", .ip4 = A("192.168.1.11") };
	struct nr_node_req b = { .name = "b", .ip4 = A("192.168.1.12") };
	struct nr_node_req late = { .name = "late", .ip4 = A("192.168.1.99") };
	struct nr_node_req gw = { .name = "gw", .ip4 = A("192.168.1.13") };
	struct nr_plan_input in = { .reach_fn = table_lookup, .reach_data = &t };
	struct nr_plan_slices *s;
	struct nr_plan_report rep;
	struct nr_kstate ks;
	struct nr_err err = { 0 };
	int rc;

	nr_config_init(&c);
	c.auto_direct_node_routes = true;
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/16");
	cr_assert_eq(nr_model_new(&c, "self", &m, NULL), 0);
	in.model = m;
	cr_assert_eq(nr_model_node_add(m, &self, NULL, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &a, NULL, NULL), 0);
	cr_assert_eq(nr_plan_slices_new(&in, &s, NULL), 0);
	cr_assert_eq(nr_plan_slices_step(s, 1, NULL), 1); /* self */
	cr_assert_eq(nr_model_node_add(m, &b, NULL, NULL), 0);    /* ahead of the cursor */
	cr_assert_eq(nr_model_node_add(m, &late, NULL, NULL), 0); /* never asked */
	while ((rc = nr_plan_slices_step(s, 1, NULL)) == 1)
		;
	cr_assert_eq(rc, 0);
	nr_plan_slices_take(s, &ks, &rep);
	nr_plan_slices_free(s);
	cr_assert_eq(ks.n_routes, 2, "a and b are routed, late waits: %zu routes", ks.n_routes);
	cr_assert_eq(rep.n_skipped, 0, "nothing reported for the node nobody asked about");
	nr_kstate_free(&ks);
	nr_plan_report_free(&rep);

	t.n = 3;
	cr_assert_eq(nr_model_node_add(m, &gw, NULL, NULL), 0);
	cr_assert_eq(nr_plan_slices_new(&in, &s, NULL), 0);
	while ((rc = nr_plan_slices_step(s, 2, &err)) == 1)
		;
	cr_assert_eq(rc, -EHOSTUNREACH);
	cr_assert(strstr(err.msg, "gw") && strstr(err.msg, "192.168.1.13"), "%s", err.msg);
	nr_plan_slices_free(s); /* mid-plan: frees what it made */
	nr_model_free(m);
}
