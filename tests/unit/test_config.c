/* core/config: mode strings and the rules for a valid cluster config. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core/config.h"

static struct nr_prefix P(const char *s)
{
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse(s, &p, NULL), 0, "parse %s", s);
	return p;
}

static struct nr_cluster_config base(void)
{
	struct nr_cluster_config c;

	nr_config_init(&c);
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/8");
	return c;
}

static void refused(const struct nr_cluster_config *c, const char *needle)
{
	struct nr_err err = { 0 };

	cr_assert_eq(nr_config_validate(c, &err), -EINVAL, "accepted, wanted: %s", needle);
	cr_assert(strstr(err.msg, needle), "message \"%s\" lacks \"%s\"", err.msg, needle);
}

Test(config, routing_mode_strings_round_trip)
{
	const char *names[] = { "native", "tunnel", "hybrid" };

	for (int i = 0; i < 3; i++) {
		enum nr_routing_mode m;

		cr_assert_eq(nr_config_routing_mode_parse(names[i], &m, NULL), 0);
		cr_assert_str_eq(nr_config_routing_mode_str(m), names[i]);
	}
}

Test(config, ipam_mode_strings_round_trip)
{
	const char *names[] = { "cluster-pool", "kubernetes" };

	for (int i = 0; i < 2; i++) {
		enum nr_ipam_mode m;

		cr_assert_eq(nr_config_ipam_mode_parse(names[i], &m, NULL), 0);
		cr_assert_str_eq(nr_config_ipam_mode_str(m), names[i]);
	}
}

Test(config, unknown_mode_string_is_refused_naming_it)
{
	struct nr_err err = { 0 };
	enum nr_routing_mode m;
	enum nr_ipam_mode im;

	cr_assert_eq(nr_config_routing_mode_parse("vxlan", &m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "vxlan"), "%s", err.msg);
	cr_assert_eq(nr_config_ipam_mode_parse("Kubernetes", &im, &err), -EINVAL);
	cr_assert(strstr(err.msg, "Kubernetes"), "%s", err.msg);
	cr_assert_null(nr_config_routing_mode_str((enum nr_routing_mode)9));
}

Test(config, defaults_are_native_cluster_pool_24_and_112)
{
	struct nr_cluster_config c;

	nr_config_init(&c);
	cr_assert_eq(c.routing_mode, NR_MODE_NATIVE);
	cr_assert_eq(c.ipam_mode, NR_IPAM_CLUSTER_POOL);
	cr_assert_eq(nr_config_mask_size(&c, AF_INET), 24);
	cr_assert_eq(nr_config_mask_size(&c, AF_INET6), 112);
}

Test(config, dual_stack_config_is_valid)
{
	struct nr_cluster_config c = base();

	c.cluster_cidrs[c.n_cluster_cidrs++] = P("fd00::/104");
	c.auto_direct_node_routes = true;
	cr_assert_eq(nr_config_validate(&c, NULL), 0);
	cr_assert(nr_config_has_pool(&c, AF_INET6));
}

Test(config, cluster_pool_without_cidr_is_refused)
{
	struct nr_cluster_config c;

	nr_config_init(&c);
	refused(&c, "needs at least one cluster CIDR");
}

Test(config, kubernetes_mode_needs_no_cidr)
{
	struct nr_cluster_config c;

	nr_config_init(&c);
	c.ipam_mode = NR_IPAM_KUBERNETES;
	cr_assert_eq(nr_config_validate(&c, NULL), 0);
}

Test(config, auto_direct_routes_with_tunnel_is_refused)
{
	struct nr_cluster_config c = base();

	c.routing_mode = NR_MODE_TUNNEL;
	c.auto_direct_node_routes = true;
	refused(&c, "auto_direct_node_routes needs routing mode native or hybrid");
}

Test(config, skip_unreachable_without_auto_direct_routes_is_refused)
{
	struct nr_cluster_config c = base();

	c.direct_routing_skip_unreachable = true;
	refused(&c, "needs auto_direct_node_routes");
}

Test(config, mask_shorter_than_cluster_cidr_is_refused)
{
	struct nr_cluster_config c;

	nr_config_init(&c);
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/26");
	refused(&c, "mask size /24 is shorter than cluster CIDR 10.0.0.0/26");
}

Test(config, mask_leaving_no_room_for_pods_is_refused)
{
	struct nr_cluster_config c = base();

	c.mask_size4 = 31;
	refused(&c, "/31 leaves no room");
	c.mask_size4 = 24;
	c.mask_size6 = 130;
	refused(&c, "/130 > 128");
}

Test(config, overlapping_cluster_cidrs_are_refused)
{
	struct nr_cluster_config c = base();

	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.5.0.0/16");
	refused(&c, "cluster CIDR 10.5.0.0/16 overlaps cluster CIDR 10.0.0.0/8");
}

Test(config, cluster_cidr_with_host_bits_is_refused)
{
	struct nr_cluster_config c = base();

	c.cluster_cidrs[0].addr.bytes[3] = 1;
	refused(&c, "host bits set");
}

Test(config, unknown_enum_values_are_refused)
{
	struct nr_cluster_config c = base();

	c.routing_mode = (enum nr_routing_mode)0;
	refused(&c, "routing mode 0");
	c = base();
	c.ipam_mode = (enum nr_ipam_mode)5;
	refused(&c, "ipam mode 5");
}

Test(config, native_routing_cidr_with_tunnel_is_refused)
{
	struct nr_cluster_config c = base();

	c.routing_mode = NR_MODE_TUNNEL;
	c.native_routing_cidr4 = P("10.0.0.0/8");
	refused(&c, "native routing CIDR 10.0.0.0/8 needs routing mode native or hybrid");
}

Test(config, native_routing_cidr_of_wrong_family_is_refused)
{
	struct nr_cluster_config c = base();

	c.native_routing_cidr4 = P("fd00::/8");
	refused(&c, "is not an IPv4 prefix");
}

Test(config, node_ip_inside_cluster_cidr_is_refused)
{
	struct nr_cluster_config c = base();
	struct nr_err err = { 0 };
	struct nr_addr in, out;

	nr_addr_parse("10.1.2.3", &in, NULL);
	nr_addr_parse("192.168.1.10", &out, NULL);
	cr_assert_eq(nr_config_check_node_ip(&c, &in, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "node IP 10.1.2.3 lies inside cluster CIDR 10.0.0.0/8");
	cr_assert_eq(nr_config_check_node_ip(&c, &out, NULL), 0);
}

Test(config, too_many_cluster_cidrs_are_refused)
{
	struct nr_cluster_config c = base();

	c.n_cluster_cidrs = NR_MAX_CLUSTER_CIDRS + 1;
	refused(&c, "at most");
}
