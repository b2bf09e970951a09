/* bpf/bpf_entries: the eBPF map entries a plan calls for (layouts of
 * include/nativeroute/bpf.h) and the diff between two sets of them. Pure:
 * no maps, no root. Plans come from the real planner. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/bpf_entries.h"
#include "core/planner.h"
#include "parse_helpers.h"

static struct nr_model *seed(enum nr_routing_mode mode)
{
	struct nr_cluster_config c;
	struct nr_model *m;
	struct nr_node_req n1 = { .name = "node-1", .ip4 = A("192.168.1.10") };
	struct nr_node_req n2 = { .name = "node-2", .ip4 = A("192.168.1.11") };
	struct nr_endpoint_req ep = { .id = "pod-a", .ifindex = 7 };

	nr_config_init(&c);
	c.routing_mode = mode;
	c.auto_direct_node_routes = mode != NR_MODE_TUNNEL;
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/16");
	cr_assert_eq(nr_model_new(&c, "node-1", &m, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &n1, NULL, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &n2, NULL, NULL), 0);
	cr_assert_eq(nr_model_endpoint_add(m, &ep, NULL, NULL), 0);
	return m;
}

static void plan(struct nr_model *m, bool classic, struct nr_kstate *ks)
{
	struct nr_reach r = { .ip = A("192.168.1.11"), .kind = NR_REACH_DIRECT, .ifindex = 2 };
	struct nr_plan_input in = { .model = m, .reach = &r, .n_reach = 1,
				    .tunnel = { .ifindex = 9, .mtu = 1450 },
				    .flags = classic ? NR_PLAN_CLASSIC_ROUTES : 0 };

	cr_assert_eq(nr_plan(&in, ks, NULL, NULL), 0);
}

static const struct nr_bpf_route_entry *route(const struct nr_bpf_entries *e, const char *cidr)
{
	struct nr_bpf_route_key k;
	struct nr_prefix p = P(cidr);

	nr_bpf_route_key_make(&p, &k);
	return nr_bpf_entries_find_route(e, &k);
}

Test(bpf_entries, route_key_matches_family_then_prefix)
{
	struct nr_prefix p = P("10.0.1.0/24"), back;
	struct nr_bpf_route_key k;

	nr_bpf_route_key_make(&p, &k);
	cr_assert_eq(k.prefixlen, 8 + 24, "the family byte is part of the match");
	cr_assert_eq(k.family, NR_BPF_AF_INET);
	cr_assert_eq(k.addr[0], 10);
	cr_assert_eq(k.addr[2], 1);
	for (int i = 4; i < 16; i++)
		cr_assert_eq(k.addr[i], 0);
	cr_assert_eq(k.pad[0] | k.pad[1] | k.pad[2], 0);
	nr_bpf_route_key_prefix(&k, &back);
	cr_assert(nr_prefix_eq(&p, &back));
	p = P("fd00:10::/112");
	nr_bpf_route_key_make(&p, &k);
	cr_assert_eq(k.prefixlen, 8 + 112);
	cr_assert_eq(k.family, NR_BPF_AF_INET6);
	cr_assert_eq(k.addr[0], 0xfd);
}

Test(bpf_entries, native_route_carries_node_ip_and_underlay_ifindex)
{
	struct nr_model *m = seed(NR_MODE_NATIVE);
	struct nr_kstate ks;
	struct nr_bpf_entries e;
	const struct nr_bpf_route_entry *r;

	plan(m, false, &ks);
	cr_assert_eq(nr_bpf_entries_from_kstate(&ks, &e), 0);
	cr_assert_eq(e.n_routes, 2, "node-2's CIDR and pod-a's /32");
	r = route(&e, "10.0.1.0/24");
	cr_assert_not_null(r);
	cr_assert_eq(r->val.kind, NR_BPF_ROUTE_NATIVE);
	cr_assert_eq(r->val.node_family, AF_INET);
	cr_assert_eq(memcmp(r->val.node_ip, (uint8_t[]){ 192, 168, 1, 11 }, 4), 0);
	cr_assert_eq(r->val.ifindex, 2);
	cr_assert_eq(r->val.flags, NR_BPF_ROUTE_F_NEXTHOP_OBJ);
	nr_bpf_entries_free(&e);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(bpf_entries, classic_route_is_described_the_same_without_the_nexthop_flag)
{
	struct nr_model *m = seed(NR_MODE_NATIVE);
	struct nr_kstate ks;
	struct nr_bpf_entries e;
	const struct nr_bpf_route_entry *r;

	plan(m, true, &ks);
	cr_assert_eq(nr_bpf_entries_from_kstate(&ks, &e), 0);
	r = route(&e, "10.0.1.0/24");
	cr_assert_not_null(r);
	cr_assert_eq(memcmp(r->val.node_ip, (uint8_t[]){ 192, 168, 1, 11 }, 4), 0);
	cr_assert_eq(r->val.ifindex, 2);
	cr_assert_eq(r->val.flags, 0);
	nr_bpf_entries_free(&e);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(bpf_entries, tunnel_route_names_the_remote_node_behind_the_vtep)
{
	struct nr_model *m = seed(NR_MODE_TUNNEL);
	struct nr_kstate ks;
	struct nr_bpf_entries e;
	const struct nr_bpf_route_entry *r;

	plan(m, false, &ks);
	cr_assert_eq(nr_bpf_entries_from_kstate(&ks, &e), 0);
	r = route(&e, "10.0.1.0/24");
	cr_assert_not_null(r);
	cr_assert_eq(r->val.kind, NR_BPF_ROUTE_TUNNEL);
	cr_assert_eq(r->val.ifindex, 9, "the VXLAN device");
	cr_assert_eq(memcmp(r->val.node_ip, (uint8_t[]){ 192, 168, 1, 11 }, 4), 0,
		     "the underlay IP from the FDB entry, not the VTEP gateway");
	nr_bpf_entries_free(&e);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(bpf_entries, endpoint_gets_a_local_route_and_an_endpoint_entry)
{
	struct nr_model *m = seed(NR_MODE_NATIVE);
	struct nr_kstate ks;
	struct nr_bpf_entries e;
	const struct nr_bpf_route_entry *r;

	plan(m, false, &ks);
	cr_assert_eq(nr_bpf_entries_from_kstate(&ks, &e), 0);
	r = route(&e, "10.0.0.2/32");
	cr_assert_not_null(r);
	cr_assert_eq(r->val.kind, NR_BPF_ROUTE_LOCAL);
	cr_assert_eq(r->val.ifindex, 7);
	cr_assert_eq(r->val.node_family, 0);
	cr_assert_eq(e.n_eps, 1);
	cr_assert_eq(e.eps[0].key.family, AF_INET);
	cr_assert_eq(memcmp(e.eps[0].key.addr, (uint8_t[]){ 10, 0, 0, 2 }, 4), 0);
	cr_assert_eq(e.eps[0].val.ifindex, 7);
	nr_bpf_entries_free(&e);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(bpf_entries, routes_the_kernel_refused_get_no_entry)
{
	struct nr_model *m = seed(NR_MODE_NATIVE);
	struct nr_kstate ks;
	struct nr_bpf_entries e;
	struct nr_bpf_refusal by_prefix[1] = { { .dst = P("10.0.1.0/24") } };
	struct nr_bpf_refusal by_pod[1] = { { .dst = P("10.0.0.2/32") } };
	struct nr_bpf_refusal other[1] = { { .dst = P("10.0.9.0/24") } };
	struct nr_bpf_refusal by_nexthop[1] = { { .nh_id = 0 } };

	plan(m, false, &ks);
	for (size_t i = 0; i < ks.n_routes; i++)
		if (ks.routes[i].nh_id)
			by_nexthop[0].nh_id = ks.routes[i].nh_id;
	cr_assert_neq(by_nexthop[0].nh_id, 0, "node-2's route uses a nexthop object");

	cr_assert_eq(nr_bpf_entries_programmed(&ks, by_prefix, 1, &e), 0);
	cr_assert_null(route(&e, "10.0.1.0/24"), "a refused route has no entry");
	cr_assert_not_null(route(&e, "10.0.0.2/32"), "the others keep theirs");
	cr_assert_eq(e.n_eps, 1);
	nr_bpf_entries_free(&e);

	cr_assert_eq(nr_bpf_entries_programmed(&ks, by_nexthop, 1, &e), 0);
	cr_assert_null(route(&e, "10.0.1.0/24"), "a route over a refused nexthop has no entry");
	cr_assert_eq(e.n_routes, 1);
	nr_bpf_entries_free(&e);

	cr_assert_eq(nr_bpf_entries_programmed(&ks, by_pod, 1, &e), 0);
	cr_assert_null(route(&e, "10.0.0.2/32"), "a refused pod route has no entry");
	cr_assert_eq(e.n_eps, 0, "and its pod no endpoint entry");
	cr_assert_not_null(route(&e, "10.0.1.0/24"));
	nr_bpf_entries_free(&e);

	cr_assert_eq(nr_bpf_entries_programmed(&ks, other, 1, &e), 0);
	cr_assert_eq(e.n_routes, 2, "a refusal of another prefix hides nothing");
	cr_assert_eq(e.n_eps, 1);
	nr_bpf_entries_free(&e);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(bpf_entries, diff_writes_missing_and_changed_and_deletes_stale_only)
{
	struct nr_model *m = seed(NR_MODE_NATIVE);
	struct nr_kstate ks;
	struct nr_bpf_entries want, have;
	struct nr_bpf_diff d;
	struct nr_bpf_route_entry stale = { 0 };
	struct nr_prefix sp = P("10.0.9.0/24");

	plan(m, false, &ks);
	cr_assert_eq(nr_bpf_entries_from_kstate(&ks, &want), 0);
	cr_assert_eq(nr_bpf_entries_copy(&want, &have), 0);

	cr_assert_eq(nr_bpf_diff(&want, &have, &d), 0);
	cr_assert_eq(d.n_put_routes + d.n_del_routes + d.n_put_eps + d.n_del_eps, 0,
		     "equal sets: nothing to write (adopt on restart)");
	nr_bpf_diff_free(&d);

	have.routes[0].val.ifindex = 99;                  /* changed by hand */
	nr_bpf_entries_del_ep(&have, &have.eps[0].key);   /* deleted by hand */
	nr_bpf_route_key_make(&sp, &stale.key);           /* left over */
	stale.val.kind = NR_BPF_ROUTE_NATIVE;
	cr_assert_eq(nr_bpf_entries_put_route(&have, &stale), 0);
	cr_assert_eq(nr_bpf_diff(&want, &have, &d), 0);
	cr_assert_eq(d.n_put_routes, 1);
	cr_assert_eq(memcmp(&d.put_routes[0], &want.routes[0], sizeof(want.routes[0])), 0,
		     "the changed entry is rewritten with the planned value");
	cr_assert_eq(d.n_put_eps, 1);
	cr_assert_eq(d.n_del_routes, 1);
	cr_assert_eq(memcmp(&d.del_routes[0], &stale.key, sizeof(stale.key)), 0);
	cr_assert_eq(d.n_del_eps, 0);
	nr_bpf_diff_free(&d);
	nr_bpf_entries_free(&want);
	nr_bpf_entries_free(&have);
	nr_kstate_free(&ks);
	nr_model_free(m);
}

Test(bpf_entries, sorted_upkeep_keeps_keys_unique_and_ordered)
{
	struct nr_bpf_entries e = { 0 };
	const char *cidrs[] = { "10.0.3.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.1.0/24" };

	for (int i = 0; i < 4; i++) {
		struct nr_bpf_route_entry r = { 0 };
		struct nr_prefix p = P(cidrs[i]);

		nr_bpf_route_key_make(&p, &r.key);
		r.val.ifindex = (uint32_t)i;
		cr_assert_eq(nr_bpf_entries_put_route(&e, &r), 0);
	}
	cr_assert_eq(e.n_routes, 3, "a second put of a key overwrites");
	cr_assert_eq(route(&e, "10.0.1.0/24")->val.ifindex, 3);
	for (size_t i = 1; i < e.n_routes; i++)
		cr_assert_lt(nr_bpf_route_entry_cmp(&e.routes[i - 1], &e.routes[i]), 0);
	nr_bpf_entries_del_route(&e, &e.routes[0].key);
	cr_assert_eq(e.n_routes, 2);
	nr_bpf_entries_free(&e);
}
