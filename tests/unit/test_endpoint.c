/* core/endpoint through the model: local pod addresses. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/model.h"
#include "parse_helpers.h"


/* node-1 is local with 10.0.0.0/24 and, when dual, fd00::/112. */
static struct nr_model *local_model(bool dual, uint8_t mask4)
{
	struct nr_cluster_config c;
	struct nr_model *m;
	struct nr_node_req n = { .name = "node-1", .ip4 = A("192.168.1.10") };

	nr_config_init(&c);
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/16");
	if (dual)
		c.cluster_cidrs[c.n_cluster_cidrs++] = P("fd00::/104");
	c.mask_size4 = mask4;
	cr_assert_eq(nr_model_new(&c, "node-1", &m, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &n, NULL, NULL), 0);
	return m;
}

static const struct nr_endpoint *ep_add(struct nr_model *m, const char *id, const char *ifname,
					const char *ip)
{
	struct nr_endpoint_req r = { .id = id, .ifname = ifname };
	const struct nr_endpoint *e;
	struct nr_err err = { 0 };

	if (ip)
		r.ip4 = A(ip);
	cr_assert_eq(nr_model_endpoint_add(m, &r, &e, &err), 0, "%s", err.msg);
	return e;
}

Test(endpoint, first_pod_gets_second_host_address_after_gateway)
{
	struct nr_model *m = local_model(false, 24);
	const struct nr_endpoint *e = ep_add(m, "pod-a", "veth-a", NULL);
	struct nr_addr gw;
	char b[NR_ADDR_STRLEN];

	cr_assert_str_eq(nr_addr_str(&e->ip4, b, sizeof(b)), "10.0.0.2");
	cr_assert_eq(nr_model_gateway(m, AF_INET, &gw), 0);
	cr_assert_str_eq(nr_addr_str(&gw, b, sizeof(b)), "10.0.0.1");
	nr_model_free(m);
}

Test(endpoint, dual_stack_pod_gets_both_families)
{
	struct nr_model *m = local_model(true, 24);
	const struct nr_endpoint *e = ep_add(m, "pod-a", "veth-a", NULL);
	char b[NR_ADDR_STRLEN];

	cr_assert_str_eq(nr_addr_str(&e->ip6, b, sizeof(b)), "fd00::2");
	nr_model_free(m);
}

Test(endpoint, requested_address_is_honoured)
{
	struct nr_model *m = local_model(false, 24);
	const struct nr_endpoint *e = ep_add(m, "pod-a", "veth-a", "10.0.0.77");

	cr_assert_eq(e->ip4.bytes[3], 77);
	cr_assert_eq(ep_add(m, "pod-b", "veth-b", NULL)->ip4.bytes[3], 2);
	nr_model_free(m);
}

static void refused(struct nr_model *m, const char *ip, int code, const char *needle)
{
	struct nr_endpoint_req r = { .id = "pod-x", .ifname = "veth-x", .ip4 = A(ip) };
	struct nr_err err = { 0 };

	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, &err), code, "%s", ip);
	cr_assert(strstr(err.msg, needle), "\"%s\" lacks \"%s\"", err.msg, needle);
}

Test(endpoint, network_gateway_broadcast_and_outside_addresses_are_refused)
{
	struct nr_model *m = local_model(false, 24);

	refused(m, "10.0.0.0", -EINVAL, "10.0.0.0 is the network address of 10.0.0.0/24");
	refused(m, "10.0.0.1", -EINVAL, "10.0.0.1 is the gateway address");
	refused(m, "10.0.0.255", -EINVAL, "broadcast");
	refused(m, "10.0.1.5", -EINVAL, "outside the local pod CIDR 10.0.0.0/24");
	nr_model_free(m);
}

Test(endpoint, address_in_use_is_refused)
{
	struct nr_model *m = local_model(false, 24);

	ep_add(m, "pod-a", "veth-a", "10.0.0.9");
	refused(m, "10.0.0.9", -EEXIST, "10.0.0.9 is already in use");
	nr_model_free(m);
}

Test(endpoint, small_cidr_is_exhausted_with_usage_message)
{
	struct nr_model *m = local_model(false, 30);
	struct nr_endpoint_req r = { .id = "pod-b", .ifname = "veth-b" };
	struct nr_err err = { 0 };

	ep_add(m, "pod-a", "veth-a", NULL);
	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, &err), -ENOSPC);
	cr_assert_str_eq(err.msg, "local pod CIDR 10.0.0.0/30 exhausted: 1/1 addresses in use");
	nr_model_free(m);
}

Test(endpoint, removed_address_is_reused)
{
	struct nr_model *m = local_model(false, 24);

	ep_add(m, "pod-a", "veth-a", NULL);
	ep_add(m, "pod-b", "veth-b", NULL);
	cr_assert_eq(nr_model_endpoint_remove(m, "pod-a", NULL), 0);
	cr_assert_eq(ep_add(m, "pod-c", "veth-c", NULL)->ip4.bytes[3], 2);
	cr_assert_eq(nr_model_endpoint_remove(m, "pod-a", NULL), -ENOENT);
	nr_model_free(m);
}

Test(endpoint, duplicate_id_ifname_or_ifindex_is_refused)
{
	struct nr_model *m = local_model(false, 24);
	struct nr_endpoint_req r = { .id = "pod-a", .ifname = "veth-z" };
	struct nr_err err = { 0 };

	ep_add(m, "pod-a", "veth-a", NULL);
	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, &err), -EEXIST);
	r.id = "pod-b";
	r.ifname = "veth-a";
	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, &err), -EEXIST);
	cr_assert(strstr(err.msg, "veth-a is already used by endpoint pod-a"), "%s", err.msg);
	cr_assert_eq(nr_model_endpoint_set_ifindex(m, "pod-a", 7, NULL), 0);
	r.ifname = NULL;
	r.ifindex = 7;
	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, &err), -EEXIST);
	nr_model_free(m);
}

Test(endpoint, bad_id_and_ifname_are_refused)
{
	struct nr_model *m = local_model(false, 24);
	struct nr_endpoint_req r = { .id = "has space", .ifname = "veth-a" };

	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, NULL), -EINVAL);
	r.id = "ok";
	r.ifname = "a-very-long-interface-name";
	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, NULL), -EINVAL);
	r.ifname = NULL;
	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, NULL), -EINVAL, "no ifname nor ifindex");
	nr_model_free(m);
}

Test(endpoint, needs_the_local_node)
{
	struct nr_cluster_config c;
	struct nr_model *m;
	struct nr_endpoint_req r = { .id = "pod-a", .ifname = "veth-a" };

	nr_config_init(&c);
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/16");
	cr_assert_eq(nr_model_new(&c, "node-1", &m, NULL), 0);
	cr_assert_eq(nr_model_endpoint_add(m, &r, NULL, NULL), -ENOENT);
	nr_model_free(m);
}

Test(endpoint, local_node_with_endpoints_cannot_be_removed_or_moved)
{
	struct nr_model *m = local_model(false, 24);
	struct nr_node_req n = { .name = "node-1", .ip4 = A("192.168.1.10"), .cidr4 = P("10.0.9.0/24") };
	struct nr_err err = { 0 };

	ep_add(m, "pod-a", "veth-a", NULL);
	cr_assert_eq(nr_model_node_remove(m, "node-1", &err), -EBUSY);
	cr_assert_eq(nr_model_node_update(m, &n, NULL, &err), -EBUSY);
	cr_assert(strstr(err.msg, "1 endpoints use it"), "%s", err.msg);
	cr_assert_eq(nr_model_endpoint_remove(m, "pod-a", NULL), 0);
	cr_assert_eq(nr_model_node_update(m, &n, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(ep_add(m, "pod-b", "veth-b", NULL)->ip4.bytes[2], 9, "allocates from the new CIDR");
	nr_model_free(m);
}

Test(endpoint, iteration_is_in_insertion_order)
{
	struct nr_model *m = local_model(false, 24);
	const char *want[] = { "c", "a", "b" };
	size_t i = 0;

	ep_add(m, "c", "v1", NULL);
	ep_add(m, "a", "v2", NULL);
	ep_add(m, "b", "v3", NULL);
	for (const struct nr_endpoint *e = nr_model_endpoint_next(m, NULL); e;
	     e = nr_model_endpoint_next(m, e))
		cr_assert_str_eq(e->id, want[i++]);
	cr_assert_eq(i, 3);
	cr_assert_eq(nr_model_endpoint_count(m), 3);
	nr_model_free(m);
}
