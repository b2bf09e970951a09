/* core/model + core/node: the node table and its rules. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/model.h"
#include "parse_helpers.h"


static struct nr_model *model(enum nr_ipam_mode mode)
{
	struct nr_cluster_config c;
	struct nr_model *m;
	struct nr_err err = { 0 };

	nr_config_init(&c);
	c.ipam_mode = mode;
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/16");
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("fd00::/104");
	cr_assert_eq(nr_model_new(&c, "node-1", &m, &err), 0, "%s", err.msg);
	return m;
}

static const struct nr_node *add(struct nr_model *m, const char *name, const char *ip)
{
	struct nr_node_req s = { .name = name, .ip4 = A(ip) };
	const struct nr_node *n;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_model_node_add(m, &s, &n, &err), 0, "%s", err.msg);
	return n;
}

Test(node_name, accepts_dns1123_subdomains)
{
	cr_assert_eq(nr_node_name_check("node-1", NULL), 0);
	cr_assert_eq(nr_node_name_check("a.b-c.d0", NULL), 0);
	cr_assert_eq(nr_node_name_check("0", NULL), 0);
}

Test(node_name, refuses_uppercase_naming_the_character)
{
	struct nr_err err = { 0 };

	cr_assert_eq(nr_node_name_check("Node1", &err), -EINVAL);
	cr_assert(strstr(err.msg, "'N'"), "%s", err.msg);
}

Test(node_name, refuses_bad_label_edges_and_lengths)
{
	char longname[300];

	cr_assert_eq(nr_node_name_check("", NULL), -EINVAL);
	cr_assert_eq(nr_node_name_check("-a", NULL), -EINVAL);
	cr_assert_eq(nr_node_name_check("a-", NULL), -EINVAL);
	cr_assert_eq(nr_node_name_check("a..b", NULL), -EINVAL);
	cr_assert_eq(nr_node_name_check("a.-b", NULL), -EINVAL);
	cr_assert_eq(nr_node_name_check("a.", NULL), -EINVAL);
	memset(longname, 'a', 64);
	longname[64] = '\0';
	cr_assert_eq(nr_node_name_check(longname, NULL), -EINVAL, "label of 64");
	memset(longname, 'a', sizeof(longname));
	for (int i = 50; i < 254; i += 50)
		longname[i] = '.';
	longname[254] = '\0';
	cr_assert_eq(nr_node_name_check(longname, NULL), -EINVAL, "254 chars");
}

Test(model, add_allocates_cidrs_of_every_pool_family)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	const struct nr_node *n = add(m, "node-1", "192.168.1.10");
	char b[NR_ADDR_STRLEN];

	cr_assert_str_eq(nr_prefix_str(&n->cidr4, b, sizeof(b)), "10.0.0.0/24");
	cr_assert_str_eq(nr_prefix_str(&n->cidr6, b, sizeof(b)), "fd00::/112");
	cr_assert_eq(n->index, 0);
	nr_model_free(m);
}

Test(model, node_lookup_by_name_ip_and_index)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	const struct nr_node *n = add(m, "node-2", "192.168.1.11");
	struct nr_addr ip = A("192.168.1.11");

	cr_assert_eq(nr_model_node_get(m, "node-2"), n);
	cr_assert_eq(nr_model_node_by_ip(m, &ip), n);
	cr_assert_eq(nr_model_node_by_index(m, n->index), n);
	cr_assert_null(nr_model_node_get(m, "node-3"));
	nr_model_free(m);
}

Test(model, duplicate_name_is_refused)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "node-2", .ip4 = A("192.168.1.12") };
	struct nr_err err = { 0 };

	add(m, "node-2", "192.168.1.11");
	cr_assert_eq(nr_model_node_add(m, &s, NULL, &err), -EEXIST);
	cr_assert_str_eq(err.msg, "node node-2 already exists");
	nr_model_free(m);
}

Test(model, duplicate_ip_is_refused_naming_the_owner)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "node-3", .ip4 = A("192.168.1.11") };
	struct nr_err err = { 0 };

	add(m, "node-2", "192.168.1.11");
	cr_assert_eq(nr_model_node_add(m, &s, NULL, &err), -EEXIST);
	cr_assert_str_eq(err.msg, "node node-3: IP 192.168.1.11 already belongs to node node-2");
	cr_assert_eq(nr_model_node_count(m), 1);
	nr_model_free(m);
}

Test(model, node_ip_inside_cluster_cidr_is_refused)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "node-3", .ip4 = A("10.0.9.9") };
	struct nr_err err = { 0 };

	cr_assert_eq(nr_model_node_add(m, &s, NULL, &err), -EINVAL);
	cr_assert(strstr(err.msg, "10.0.9.9 lies inside cluster CIDR 10.0.0.0/16"), "%s", err.msg);
	nr_model_free(m);
}

Test(model, node_without_ip_is_refused)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "node-3" };

	cr_assert_eq(nr_model_node_add(m, &s, NULL, NULL), -EINVAL);
	nr_model_free(m);
}

Test(model, ip_of_wrong_family_is_refused)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "node-3", .ip4 = A("2001:db8::1") };

	cr_assert_eq(nr_model_node_add(m, &s, NULL, NULL), -EINVAL);
	nr_model_free(m);
}

Test(model, index_is_lowest_free_and_reused)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);

	add(m, "a", "192.168.1.1");
	add(m, "b", "192.168.1.2");
	add(m, "c", "192.168.1.3");
	cr_assert_eq(nr_model_node_remove(m, "b", NULL), 0);
	cr_assert_eq(add(m, "d", "192.168.1.4")->index, 1);
	nr_model_free(m);
}

Test(model, remove_frees_ip_and_name)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_addr ip = A("192.168.1.1");

	add(m, "a", "192.168.1.1");
	cr_assert_eq(nr_model_node_remove(m, "a", NULL), 0);
	cr_assert_null(nr_model_node_get(m, "a"));
	cr_assert_null(nr_model_node_by_ip(m, &ip));
	add(m, "b", "192.168.1.1");
	cr_assert_eq(nr_model_node_remove(m, "zz", NULL), -ENOENT);
	nr_model_free(m);
}

Test(model, removed_node_returning_gets_its_cidr_back)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	char b[NR_ADDR_STRLEN];

	add(m, "a", "192.168.1.1");
	add(m, "b", "192.168.1.2");
	cr_assert_eq(nr_model_node_remove(m, "b", NULL), 0);
	cr_assert_str_eq(nr_prefix_str(&add(m, "b", "192.168.1.2")->cidr4, b, sizeof(b)),
			 "10.0.1.0/24");
	nr_model_free(m);
}

Test(model, update_changes_ip_and_rekeys_lookup)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "a", .ip4 = A("192.168.1.9") };
	struct nr_addr old = A("192.168.1.1");
	const struct nr_node *n;
	struct nr_prefix cidr;

	cidr = add(m, "a", "192.168.1.1")->cidr4;
	cr_assert_eq(nr_model_node_update(m, &s, &n, NULL), 0);
	cr_assert_null(nr_model_node_by_ip(m, &old));
	cr_assert_eq(nr_model_node_by_ip(m, &s.ip4), n);
	cr_assert(nr_prefix_eq(&n->cidr4, &cidr), "CIDR kept");
	nr_model_free(m);
}

Test(model, update_to_another_nodes_ip_is_refused_and_changes_nothing)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "a", .ip4 = A("192.168.1.2") };
	uint64_t gen;

	add(m, "a", "192.168.1.1");
	add(m, "b", "192.168.1.2");
	gen = nr_model_generation(m);
	cr_assert_eq(nr_model_node_update(m, &s, NULL, NULL), -EEXIST);
	cr_assert_eq(nr_model_node_get(m, "a")->ip4.bytes[3], 1);
	cr_assert_eq(nr_model_generation(m), gen);
	nr_model_free(m);
}

Test(model, update_moves_cidr_and_frees_the_old_one)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "a", .ip4 = A("192.168.1.1"), .cidr4 = P("10.0.5.0/24") };
	struct nr_prefix old = P("10.0.0.0/24");
	const struct nr_node *n;

	add(m, "a", "192.168.1.1");
	cr_assert_eq(nr_model_node_update(m, &s, &n, NULL), 0);
	cr_assert(nr_prefix_eq(&n->cidr4, &s.cidr4));
	cr_assert(!nr_ipam_in_use(nr_model_ipam(m), &old));
	nr_model_free(m);
}

Test(model, update_to_taken_cidr_keeps_the_old_one)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "a", .ip4 = A("192.168.1.1"), .cidr4 = P("10.0.1.0/24") };
	struct nr_prefix old = P("10.0.0.0/24");
	struct nr_err err = { 0 };

	add(m, "a", "192.168.1.1");
	add(m, "b", "192.168.1.2");
	cr_assert_eq(nr_model_node_update(m, &s, NULL, &err), -EEXIST);
	cr_assert(nr_prefix_eq(&nr_model_node_get(m, "a")->cidr4, &old));
	cr_assert(nr_ipam_in_use(nr_model_ipam(m), &old));
	nr_model_free(m);
}

Test(model, update_of_missing_node_is_enoent)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "a", .ip4 = A("192.168.1.1") };

	cr_assert_eq(nr_model_node_update(m, &s, NULL, NULL), -ENOENT);
	nr_model_free(m);
}

Test(model, iteration_is_in_index_order_and_complete)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	char name[16], ip[32];
	uint32_t last = 0;
	size_t seen = 0;

	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(ip, sizeof(ip), "192.168.2.%d", i + 1);
		add(m, name, ip);
	}
	nr_model_node_remove(m, "n3", NULL);
	nr_model_node_remove(m, "n19", NULL);
	for (const struct nr_node *n = nr_model_node_next(m, NULL); n; n = nr_model_node_next(m, n)) {
		cr_assert(seen == 0 || n->index > last);
		last = n->index;
		seen++;
	}
	cr_assert_eq(seen, 18);
	nr_model_free(m);
}

Test(model, restore_keeps_given_index_and_cidr)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "a", .ip4 = A("192.168.1.1"), .cidr4 = P("10.0.9.0/24"),
				  .cidr6 = P("fd00::9:0/112") };
	const struct nr_node *n;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_model_node_restore(m, &s, 41, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n->index, 41);
	cr_assert(nr_prefix_eq(&n->cidr4, &s.cidr4));
	cr_assert_eq(add(m, "b", "192.168.1.2")->index, 0);
	nr_model_free(m);
}

Test(model, restore_onto_taken_index_is_refused)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_node_req s = { .name = "b", .ip4 = A("192.168.1.2") };
	struct nr_err err = { 0 };

	add(m, "a", "192.168.1.1");
	cr_assert_eq(nr_model_node_restore(m, &s, 0, NULL, &err), -EEXIST);
	cr_assert_str_eq(err.msg, "node b: index 0 already belongs to node a");
	nr_model_free(m);
}

Test(model, failed_add_releases_what_it_took)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	/* v4 CIDR is fine, v6 CIDR is outside the pool: nothing must stay taken. */
	struct nr_node_req s = { .name = "a", .ip4 = A("192.168.1.1"), .cidr4 = P("10.0.3.0/24"),
				  .cidr6 = P("fd01::/112") };
	struct nr_prefix v4 = P("10.0.3.0/24");

	cr_assert_eq(nr_model_node_add(m, &s, NULL, NULL), -EINVAL);
	cr_assert(!nr_ipam_in_use(nr_model_ipam(m), &v4));
	cr_assert_eq(nr_model_node_count(m), 0);
	nr_model_free(m);
}

Test(model_k8s, node_without_cidr_is_allowed_and_gets_none)
{
	struct nr_model *m = model(NR_IPAM_KUBERNETES);
	const struct nr_node *n = add(m, "a", "192.168.1.1");

	cr_assert_eq(n->cidr4.addr.family, 0);
	cr_assert_eq(n->cidr6.addr.family, 0);
	nr_model_free(m);
}

Test(model_k8s, overlapping_node_cidrs_are_refused)
{
	struct nr_model *m = model(NR_IPAM_KUBERNETES);
	struct nr_node_req a = { .name = "a", .ip4 = A("192.168.1.1"), .cidr4 = P("10.0.0.0/23") };
	struct nr_node_req b = { .name = "b", .ip4 = A("192.168.1.2"), .cidr4 = P("10.0.1.0/24") };
	struct nr_err err = { 0 };

	cr_assert_eq(nr_model_node_add(m, &a, NULL, NULL), 0);
	cr_assert_eq(nr_model_node_add(m, &b, NULL, &err), -EEXIST);
	cr_assert_str_eq(err.msg, "10.0.1.0/24 overlaps 10.0.0.0/23 of node a");
	nr_model_free(m);
}

Test(model_k8s, update_may_grow_a_cidr_over_its_own_old_one)
{
	struct nr_model *m = model(NR_IPAM_KUBERNETES);
	struct nr_node_req a = { .name = "a", .ip4 = A("192.168.1.1"), .cidr4 = P("10.0.0.0/24") };

	cr_assert_eq(nr_model_node_add(m, &a, NULL, NULL), 0);
	a.cidr4 = P("10.0.0.0/23");
	cr_assert_eq(nr_model_node_update(m, &a, NULL, NULL), 0);
	nr_model_free(m);
}

Test(model, set_config_switches_routing_mode_but_not_pools)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	struct nr_cluster_config c = *nr_model_config(m);
	struct nr_err err = { 0 };

	c.routing_mode = NR_MODE_HYBRID;
	cr_assert_eq(nr_model_set_config(m, &c, NULL), 0);
	cr_assert_eq(nr_model_config(m)->routing_mode, NR_MODE_HYBRID);
	c.cluster_cidrs[0] = P("10.1.0.0/16");
	cr_assert_eq(nr_model_set_config(m, &c, &err), -EINVAL);
	cr_assert(strstr(err.msg, "cannot change"), "%s", err.msg);
	nr_model_free(m);
}

Test(model, bad_local_name_is_refused)
{
	struct nr_cluster_config c;
	struct nr_model *m;

	nr_config_init(&c);
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/16");
	cr_assert_eq(nr_model_new(&c, "Bad_Name", &m, NULL), -EINVAL);
}

Test(model, generation_advances_on_change_only)
{
	struct nr_model *m = model(NR_IPAM_CLUSTER_POOL);
	uint64_t g0 = nr_model_generation(m);

	add(m, "a", "192.168.1.1");
	cr_assert_gt(nr_model_generation(m), g0);
	g0 = nr_model_generation(m);
	nr_model_node_remove(m, "nope", NULL);
	cr_assert_eq(nr_model_generation(m), g0);
	nr_model_free(m);
}
