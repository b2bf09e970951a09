/* core/kstate: sort keys, "same" comparisons, VTEP MAC derivation. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/kstate.h"

static struct nr_prefix P(const char *s)
{
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse(s, &p, NULL), 0);
	return p;
}

static struct nr_addr A(const char *s)
{
	struct nr_addr a;

	cr_assert_eq(nr_addr_parse(s, &a, NULL), 0);
	return a;
}

Test(kstate, sort_orders_routes_by_destination)
{
	struct nr_kstate s = { 0 };

	s.routes = calloc(3, sizeof(*s.routes));
	s.n_routes = 3;
	s.routes[0].dst = P("10.0.2.0/24");
	s.routes[1].dst = P("10.0.0.0/24");
	s.routes[2].dst = P("10.0.1.0/24");
	nr_kstate_sort(&s);
	for (size_t i = 0; i + 1 < s.n_routes; i++)
		cr_assert_lt(nr_kroute_cmp_key(&s.routes[i], &s.routes[i + 1]), 0);
	nr_kstate_free(&s);
	cr_assert_null(s.routes);
	cr_assert_eq(s.n_routes, 0);
}

Test(kstate, sort_orders_nexthops_by_id_and_neighs_by_ifindex_then_ip)
{
	struct nr_kstate s = { 0 };

	s.nexthops = calloc(2, sizeof(*s.nexthops));
	s.n_nexthops = 2;
	s.nexthops[0].id = NR_NH_ID_BASE + 3;
	s.nexthops[1].id = NR_NH_ID_BASE + 1;
	s.neighs = calloc(3, sizeof(*s.neighs));
	s.n_neighs = 3;
	s.neighs[0] = (struct nr_kneigh){ .ip = A("10.0.0.9"), .ifindex = 2 };
	s.neighs[1] = (struct nr_kneigh){ .ip = A("10.0.0.1"), .ifindex = 5 };
	s.neighs[2] = (struct nr_kneigh){ .ip = A("10.0.0.5"), .ifindex = 2 };
	nr_kstate_sort(&s);
	cr_assert_eq(s.nexthops[0].id, NR_NH_ID_BASE + 1);
	cr_assert_eq(s.neighs[0].ip.bytes[3], 5);
	cr_assert_eq(s.neighs[1].ip.bytes[3], 9);
	cr_assert_eq(s.neighs[2].ifindex, 5);
	nr_kstate_free(&s);
}

Test(kstate, free_accepts_null)
{
	nr_kstate_free(NULL);
}

Test(kstate, route_same_ignores_kind_but_not_mtu)
{
	struct nr_kroute a = { .dst = P("10.0.1.0/24"), .kind = NR_ROUTE_TUNNEL, .mtu = 1450 };
	struct nr_kroute b = a;

	b.kind = 0;
	cr_assert(nr_kroute_same(&a, &b));
	b.mtu = 1500;
	cr_assert(!nr_kroute_same(&a, &b));
}

Test(kstate, nexthop_same_compares_gateway_and_device)
{
	struct nr_knexthop a = { .id = 7, .gw = A("192.168.1.11"), .ifindex = 2 };
	struct nr_knexthop b = a;

	cr_assert(nr_knexthop_same(&a, &b));
	b.ifindex = 3;
	cr_assert(!nr_knexthop_same(&a, &b));
	b = a;
	b.gw = A("192.168.1.12");
	cr_assert(!nr_knexthop_same(&a, &b));
}

Test(kstate, neigh_and_fdb_same_compare_mac)
{
	struct nr_kneigh n1 = { .ip = A("10.0.1.0"), .mac = { 2, 0x4e, 1, 2, 3, 4 }, .ifindex = 9 };
	struct nr_kneigh n2 = n1;
	struct nr_kfdb f1 = { .mac = { 2, 0x4e, 1, 2, 3, 4 }, .dst = A("192.168.1.11"), .ifindex = 9 };
	struct nr_kfdb f2 = f1;

	cr_assert(nr_kneigh_same(&n1, &n2));
	cr_assert(nr_kfdb_same(&f1, &f2));
	n2.mac[5] = 5;
	f2.dst = A("192.168.1.12");
	cr_assert(!nr_kneigh_same(&n1, &n2));
	cr_assert(!nr_kfdb_same(&f1, &f2));
}

Test(kstate, vtep_mac_of_ipv4_embeds_the_address)
{
	struct nr_addr ip = A("192.168.1.11");
	uint8_t mac[6];
	const uint8_t want[6] = { 0x02, 0x4e, 192, 168, 1, 11 };

	nr_vtep_mac(&ip, mac);
	cr_assert_arr_eq(mac, want, 6);
}

Test(kstate, vtep_mac_of_ipv6_is_stable_local_unicast_and_distinct)
{
	struct nr_addr a = A("fd00::10"), b = A("fd00::11");
	uint8_t m1[6], m2[6], m3[6];

	nr_vtep_mac(&a, m1);
	nr_vtep_mac(&a, m2);
	nr_vtep_mac(&b, m3);
	cr_assert_arr_eq(m1, m2, 6);
	cr_assert(memcmp(m1, m3, 6));
	cr_assert_eq(m1[0], 0x02);
	cr_assert_eq(m1[1], 0x4e);
}
