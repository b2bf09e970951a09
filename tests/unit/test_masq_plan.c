/* nft/masq_plan: which pod traffic is masqueraded (Cilium's native-routing
 * rules) and the nftables table text that says so. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nft/masq_plan.h"
#include "parse_helpers.h"

static struct nr_cluster_config cluster(const char *nrc4, const char *nrc6, const char *const *pools)
{
	struct nr_cluster_config c;

	nr_config_init(&c);
	c.ipam_mode = NR_IPAM_KUBERNETES;
	for (size_t i = 0; pools && pools[i]; i++)
		c.cluster_cidrs[c.n_cluster_cidrs++] = P(pools[i]);
	if (nrc4)
		c.native_routing_cidr4 = P(nrc4);
	if (nrc6)
		c.native_routing_cidr6 = P(nrc6);
	return c;
}

static struct nr_masq_config masq(enum nr_switch v4, enum nr_switch v6, const char *const *extra)
{
	struct nr_masq_config mc;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_masq_config_parse(&mc, v4, v6, extra, true, &err), 0, "%s", err.msg);
	return mc;
}

static struct nr_masq_plan plan(const struct nr_masq_config *mc, const struct nr_cluster_config *c,
				const char *pod4, const char *pod6)
{
	struct nr_masq_plan p;
	struct nr_prefix c4 = { 0 }, c6 = { 0 };

	if (pod4)
		c4 = P(pod4);
	if (pod6)
		c6 = P(pod6);
	nr_masq_plan(mc, c, &c4, &c6, "nativeroute", &p);
	return p;
}

static char *excluded(const struct nr_masq_plan *p)
{
	static char buf[1024];

	nr_masq_excluded_str(p, buf, sizeof(buf));
	return buf;
}

static unsigned normalize(const char *const *in, struct nr_prefix *v)
{
	unsigned n = 0;

	for (; in[n]; n++)
		v[n] = P(in[n]);
	return nr_masq_normalize(v, n);
}

static void expect_list(const struct nr_prefix *v, unsigned n, const char *const *want)
{
	unsigned i;

	for (i = 0; want[i]; i++) {
		char buf[NR_ADDR_STRLEN];

		cr_assert_lt(i, n, "only %u prefixes, wanted %s next", n, want[i]);
		cr_assert_str_eq(nr_prefix_str(&v[i], buf, sizeof(buf)), want[i], "prefix %u", i);
	}
	cr_assert_eq(n, i, "%u prefixes, wanted %u", n, i);
}

/* ---- normalising the excluded destinations --------------------------------- */

Test(masq_normalize, sorts_and_drops_prefixes_inside_others)
{
	struct nr_prefix v[8];
	unsigned n = normalize((const char *[]){ "192.168.0.0/16", "10.0.0.0/24", "10.0.0.0/8",
						 "192.168.7.0/24", NULL }, v);

	expect_list(v, n, (const char *[]){ "10.0.0.0/8", "192.168.0.0/16", NULL });
}

Test(masq_normalize, merges_siblings_into_their_parent_repeatedly)
{
	struct nr_prefix v[8];
	unsigned n = normalize((const char *[]){ "10.0.3.0/24", "10.0.1.0/24", "10.0.0.0/24",
						 "10.0.2.0/24", "10.0.5.0/24", NULL }, v);

	/* 0+1 -> 0/23, 2+3 -> 2/23, then 0/23+2/23 -> 0/22; 5 has no sibling */
	expect_list(v, n, (const char *[]){ "10.0.0.0/22", "10.0.5.0/24", NULL });
}

Test(masq_normalize, keeps_families_apart_and_drops_duplicates)
{
	struct nr_prefix v[8];
	unsigned n = normalize((const char *[]){ "fd00::/48", "10.0.0.0/16", "fd00::/48",
						 "10.0.0.0/16", NULL }, v);

	expect_list(v, n, (const char *[]){ "10.0.0.0/16", "fd00::/48", NULL });
}

Test(masq_normalize, adjacent_non_siblings_stay_apart)
{
	struct nr_prefix v[8];
	unsigned n = normalize((const char *[]){ "10.0.2.0/24", "10.0.1.0/24", NULL }, v);

	expect_list(v, n, (const char *[]){ "10.0.1.0/24", "10.0.2.0/24", NULL });
}

/* ---- the plan ---------------------------------------------------------------- */

Test(masq_plan, native_routing_cidr_is_left_alone_and_beats_cluster_cidrs)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", NULL, (const char *[]){ "10.42.0.0/16", NULL });
	struct nr_masq_config mc = masq(0, 0, NULL);
	struct nr_masq_plan p = plan(&mc, &c, "10.0.0.0/24", NULL);

	cr_assert(p.fam[0].on);
	cr_assert_eq(p.fam[0].source, NR_MASQ_SRC_NATIVE_CIDR);
	/* the local pod CIDR lies inside: merged away */
	cr_assert_str_eq(excluded(&p), "10.0.0.0/16");
}

Test(masq_plan, without_native_routing_cidr_the_cluster_cidrs_are_used_and_said)
{
	struct nr_cluster_config c = cluster(NULL, NULL,
		(const char *[]){ "10.42.0.0/16", "10.43.0.0/16", "fd00:10::/96", NULL });
	struct nr_masq_config mc = masq(0, 0, NULL);
	struct nr_masq_plan p = plan(&mc, &c, "10.42.1.0/24", "fd00:10::/112");
	char note[256];

	cr_assert(p.fam[0].on && p.fam[1].on);
	cr_assert_eq(p.fam[0].source, NR_MASQ_SRC_CLUSTER_CIDRS);
	/* two sibling /16s are one /15 */
	cr_assert_str_eq(excluded(&p), "10.42.0.0/15 fd00:10::/96");
	nr_masq_note_str(&p, note, sizeof(note));
	cr_assert_str_eq(note, "IPv4: no native-routing CIDR, the cluster CIDRs are used; "
			       "IPv6: no native-routing CIDR, the cluster CIDRs are used");
}

Test(masq_plan, a_local_pod_cidr_outside_the_native_cidr_is_still_left_alone)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", NULL, NULL);
	struct nr_masq_config mc = masq(0, 0, NULL);
	struct nr_masq_plan p = plan(&mc, &c, "172.20.0.0/24", NULL);

	cr_assert_str_eq(excluded(&p), "10.0.0.0/16 172.20.0.0/24");
	struct nr_prefix want = P("172.20.0.0/24");

	cr_assert(nr_prefix_eq(&p.fam[0].src, &want));
}

Test(masq_plan, extra_cidrs_go_to_their_own_family)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", "fd00:10::/64", NULL);
	struct nr_masq_config mc = masq(0, 0, (const char *[]){ "2001:db8::/32", "192.168.0.0/16", NULL });
	struct nr_masq_plan p = plan(&mc, &c, "10.0.0.0/24", "fd00:10::/112");

	cr_assert_str_eq(excluded(&p), "10.0.0.0/16 192.168.0.0/16 2001:db8::/32 fd00:10::/64");
}

Test(masq_plan, each_family_switches_alone)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", "fd00:10::/64", NULL);
	struct nr_masq_config mc = masq(NR_SWITCH_OFF, NR_SWITCH_ON, NULL);
	struct nr_masq_plan p = plan(&mc, &c, "10.0.0.0/24", "fd00:10::/112");
	char note[256];

	cr_assert(!p.fam[0].on && p.fam[1].on);
	cr_assert_str_eq(excluded(&p), "fd00:10::/64");
	nr_masq_note_str(&p, note, sizeof(note));
	cr_assert_str_eq(note, "IPv4: disabled");
}

Test(masq_plan, default_is_off_without_any_cluster_range_or_local_cidr)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", NULL, NULL);
	struct nr_masq_config mc = masq(0, 0, NULL);
	struct nr_masq_plan p = plan(&mc, &c, NULL, "fd00:10::/112");
	char note[256];

	cr_assert(!nr_masq_plan_any(&p));
	nr_masq_note_str(&p, note, sizeof(note));
	cr_assert_str_eq(note, "IPv4: no local pod CIDR; IPv6: no native-routing or cluster CIDR");
}

/* ---- options ------------------------------------------------------------------- */

Test(masq_config, switched_on_without_a_cluster_range_is_refused)
{
	struct nr_cluster_config c = cluster(NULL, NULL, (const char *[]){ "10.0.0.0/16", NULL });
	struct nr_masq_config mc = masq(NR_SWITCH_ON, NR_SWITCH_ON, NULL);
	struct nr_err err = { 0 };

	cr_assert_eq(nr_masq_config_check(&mc, &c, &err), -EINVAL);
	cr_assert(strstr(err.msg, "IPv6 masquerading needs native_routing_cidr6 or an IPv6 cluster CIDR"),
		  "%s", err.msg);
	mc.on[1] = NR_SWITCH_KEEP; /* the default just stays off */
	cr_assert_eq(nr_masq_config_check(&mc, &c, &err), 0, "%s", err.msg);
}

Test(masq_config, bad_extra_cidr_is_named)
{
	struct nr_masq_config mc;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_masq_config_parse(&mc, 0, 0, (const char *[]){ "10.1.2.3/8", NULL }, true, &err),
		     -EINVAL);
	cr_assert(strstr(err.msg, "non-masquerade CIDR") && strstr(err.msg, "10.1.2.3/8"), "%s", err.msg);
	cr_assert_eq(nr_masq_config_parse(&mc, 3, 0, NULL, true, &err), -EINVAL);
	cr_assert(strstr(err.msg, "masquerade_ipv4 3"), "%s", err.msg);
}

Test(masq_config, without_nftables_on_is_refused_and_the_default_is_off)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", NULL, NULL);
	struct nr_masq_config mc;
	struct nr_masq_plan p;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_masq_config_parse(&mc, NR_SWITCH_ON, 0, NULL, false, &err), 0);
	cr_assert_eq(nr_masq_config_check(&mc, &c, &err), -EINVAL);
	cr_assert(strstr(err.msg, "without nftables"), "%s", err.msg);
	mc.on[0] = NR_SWITCH_KEEP;
	p = plan(&mc, &c, "10.0.0.0/24", NULL);
	cr_assert(!p.fam[0].on);
	cr_assert_str_eq(p.fam[0].off_reason, "built without nftables");
}

/* ---- the text --------------------------------------------------------------------- */

Test(masq_text, dual_stack_table_as_nft_lists_it)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", NULL, (const char *[]){ "fd00:10::/96", NULL });
	struct nr_masq_config mc = masq(0, 0, (const char *[]){ "198.51.100.0/24", NULL });
	struct nr_masq_plan p = plan(&mc, &c, "10.0.0.0/24", "fd00:10::/112");
	char *t = nr_masq_render(&p), *s = nr_masq_script(&p);

	cr_assert_str_eq(t,
		"table inet nativeroute {\n"
		"\tcomment \"libnativeroute masquerading: changes are reverted\"\n"
		"\tset nomasq4 {\n"
		"\t\ttype ipv4_addr\n"
		"\t\tflags interval\n"
		"\t\telements = { 10.0.0.0/16, 198.51.100.0/24 }\n"
		"\t}\n"
		"\n"
		"\tset nomasq6 {\n"
		"\t\ttype ipv6_addr\n"
		"\t\tflags interval\n"
		"\t\telements = { fd00:10::/96 }\n"
		"\t}\n"
		"\n"
		"\tchain postrouting {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		"\t\tip saddr 10.0.0.0/24 ip daddr != @nomasq4 masquerade\n"
		"\t\tip6 saddr fd00:10::/112 ip6 daddr != @nomasq6 masquerade\n"
		"\t}\n"
		"}\n");
	/* one transaction: create-if-missing, delete, create */
	const char *head = "table inet nativeroute\ndelete table inet nativeroute\n";

	cr_assert(!strncmp(s, head, strlen(head)), "%s", s);
	cr_assert_str_eq(s + strlen(head), t);
	free(t);
	free(s);
}

Test(masq_text, one_family_only_has_no_set_or_rule_of_the_other)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", "fd00:10::/64", NULL);
	struct nr_masq_config mc = masq(0, NR_SWITCH_OFF, NULL);
	struct nr_masq_plan p = plan(&mc, &c, "10.0.0.0/24", "fd00:10::/112");
	char *t = nr_masq_render(&p);

	cr_assert(strstr(t, "set nomasq4") && strstr(t, "ip saddr 10.0.0.0/24"), "%s", t);
	cr_assert(!strstr(t, "nomasq6") && !strstr(t, "ip6"), "%s", t);
	free(t);
}

Test(masq_text, listings_compare_without_layout)
{
	cr_assert(nr_masq_listing_eq("table inet x {\n\tset s {\n\t\telements = { a, b }\n\t}\n}\n",
				     "table inet x { set s { elements = { a,\n\t\t\t     b } } }"));
	cr_assert(nr_masq_listing_eq("  a b\n", "a b"));
	cr_assert(!nr_masq_listing_eq("a b", "ab"));
	cr_assert(!nr_masq_listing_eq("a b c", "a b"));
	cr_assert(!nr_masq_listing_eq("a b", NULL));
	cr_assert(nr_masq_listing_eq(NULL, NULL));
}

Test(masq_text, a_controller_of_another_route_table_owns_another_table)
{
	struct nr_cluster_config c = cluster("10.0.0.0/16", NULL, NULL);
	struct nr_masq_config mc = masq(0, 0, NULL);
	struct nr_masq_plan p;
	struct nr_prefix c4 = P("10.0.0.0/24"), none = { 0 };
	char name[NR_MASQ_TABLE_NAME_MAX], *s;

	nr_masq_table_name(254, 201, name, sizeof(name));
	cr_assert_str_eq(name, "nativeroute");
	nr_masq_table_name(100, 202, name, sizeof(name));
	cr_assert_str_eq(name, "nativeroute_100_202");
	nr_masq_plan(&mc, &c, &c4, &none, name, &p);
	s = nr_masq_script(&p);
	const char *head = "table inet nativeroute_100_202\ndelete table inet nativeroute_100_202\n"
			   "table inet nativeroute_100_202 {\n";

	cr_assert(!strncmp(s, head, strlen(head)), "%s", s);
	free(s);
}
