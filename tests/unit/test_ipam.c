/* core/ipam: cluster-pool allocation, stickiness, reservations, exhaustion,
 * and kubernetes-mode validation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/ipam.h"

static struct nr_prefix P(const char *s)
{
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse(s, &p, NULL), 0, "parse %s", s);
	return p;
}

static struct nr_ipam *pool(const char *cidr, uint8_t mask4, uint8_t mask6)
{
	struct nr_cluster_config c;
	struct nr_ipam *ipam;
	struct nr_err err = { 0 };

	nr_config_init(&c);
	c.cluster_cidrs[c.n_cluster_cidrs++] = P(cidr);
	c.mask_size4 = mask4;
	c.mask_size6 = mask6;
	cr_assert_eq(nr_ipam_new(&c, &ipam, &err), 0, "%s", err.msg);
	return ipam;
}

static struct nr_ipam *k8s(const char *cidr)
{
	struct nr_cluster_config c;
	struct nr_ipam *ipam;

	nr_config_init(&c);
	c.ipam_mode = NR_IPAM_KUBERNETES;
	if (cidr)
		c.cluster_cidrs[c.n_cluster_cidrs++] = P(cidr);
	cr_assert_eq(nr_ipam_new(&c, &ipam, NULL), 0);
	return ipam;
}

static const char *alloc_str(struct nr_ipam *ipam, uint8_t fam, const char *owner, char *buf)
{
	struct nr_prefix p;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_ipam_allocate(ipam, fam, owner, &p, &err), 0, "%s", err.msg);
	return nr_prefix_str(&p, buf, NR_ADDR_STRLEN);
}

Test(ipam, allocates_lowest_free_block_in_order)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	char b[NR_ADDR_STRLEN];

	cr_assert_str_eq(alloc_str(ipam, AF_INET, "a", b), "10.0.0.0/24");
	cr_assert_str_eq(alloc_str(ipam, AF_INET, "b", b), "10.0.1.0/24");
	nr_ipam_free(ipam);
}

Test(ipam, released_block_is_reused_lowest_first)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix p = P("10.0.0.0/24");
	char b[NR_ADDR_STRLEN];

	alloc_str(ipam, AF_INET, "a", b);
	alloc_str(ipam, AF_INET, "b", b);
	cr_assert_eq(nr_ipam_release(ipam, &p, "a"), 0);
	cr_assert_str_eq(alloc_str(ipam, AF_INET, "c", b), "10.0.0.0/24");
	nr_ipam_free(ipam);
}

Test(ipam, returning_node_gets_its_old_block_while_free)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix p = P("10.0.1.0/24");
	char b[NR_ADDR_STRLEN];

	alloc_str(ipam, AF_INET, "a", b);
	alloc_str(ipam, AF_INET, "b", b);
	alloc_str(ipam, AF_INET, "c", b);
	cr_assert_eq(nr_ipam_release(ipam, &p, "b"), 0);
	cr_assert_eq(nr_ipam_sticky_count(ipam), 1);
	cr_assert_str_eq(alloc_str(ipam, AF_INET, "b", b), "10.0.1.0/24");
	cr_assert_eq(nr_ipam_sticky_count(ipam), 0);
	nr_ipam_free(ipam);
}

Test(ipam, returning_node_gets_lowest_free_when_old_block_taken)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix p = P("10.0.0.0/24");
	char b[NR_ADDR_STRLEN];

	alloc_str(ipam, AF_INET, "a", b);
	cr_assert_eq(nr_ipam_release(ipam, &p, "a"), 0);
	cr_assert_str_eq(alloc_str(ipam, AF_INET, "z", b), "10.0.0.0/24");
	cr_assert_str_eq(alloc_str(ipam, AF_INET, "a", b), "10.0.1.0/24");
	nr_ipam_free(ipam);
}

Test(ipam, sticky_memory_is_bounded_oldest_first)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	char b[NR_ADDR_STRLEN], name[8];

	nr_ipam_set_sticky_limit(ipam, 2);
	for (int i = 0; i < 3; i++) {
		struct nr_prefix p;

		snprintf(name, sizeof(name), "n%d", i);
		cr_assert_eq(nr_ipam_allocate(ipam, AF_INET, name, &p, NULL), 0);
		cr_assert_eq(nr_ipam_release(ipam, &p, name), 0);
		(void)b;
	}
	cr_assert_eq(nr_ipam_sticky_count(ipam), 2);
	nr_ipam_free(ipam);
}

Test(ipam, exhausted_slash8_pool_reports_usage)
{
	struct nr_ipam *ipam = pool("10.0.0.0/8", 24, 0);
	struct nr_err err = { 0 };
	struct nr_prefix p;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 65536; i++)
		cr_assert_eq(nr_ipam_allocate(ipam, AF_INET, NULL, &p, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(nr_ipam_allocate(ipam, AF_INET, "x", &p, &err), -ENOSPC);
	cr_assert_str_eq(err.msg, "cluster pool 10.0.0.0/8 exhausted: 65536/65536 /24 blocks allocated");
	cr_assert_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 2000);
	nr_ipam_free(ipam);
}

Test(ipam, second_pool_of_family_is_used_when_first_is_full)
{
	struct nr_cluster_config c;
	struct nr_ipam *ipam;
	char b[NR_ADDR_STRLEN];

	nr_config_init(&c);
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.0.0.0/24");
	c.cluster_cidrs[c.n_cluster_cidrs++] = P("10.1.0.0/24");
	c.mask_size4 = 25;
	cr_assert_eq(nr_ipam_new(&c, &ipam, NULL), 0);
	alloc_str(ipam, AF_INET, "a", b);
	alloc_str(ipam, AF_INET, "b", b);
	cr_assert_str_eq(alloc_str(ipam, AF_INET, "c", b), "10.1.0.0/25");
	nr_ipam_free(ipam);
}

Test(ipam, huge_ipv6_pool_allocates_without_cost)
{
	struct nr_ipam *ipam = pool("fd00::/32", 0, 112);
	struct nr_ipam_pool_info info;
	char b[NR_ADDR_STRLEN];

	cr_assert_str_eq(alloc_str(ipam, AF_INET6, "a", b), "fd00::/112");
	cr_assert_str_eq(alloc_str(ipam, AF_INET6, "b", b), "fd00::1:0/112");
	cr_assert_eq(nr_ipam_pool_info(ipam, 0, &info), 0);
	cr_assert_eq(info.total, UINT64_C(1) << 60, "capped");
	cr_assert_eq(info.used, 2);
	nr_ipam_free(ipam);
}

Test(ipam, ipv6_104_pool_has_256_blocks_of_112)
{
	struct nr_ipam *ipam = pool("fd00::/104", 0, 112);
	struct nr_ipam_pool_info info;

	cr_assert_eq(nr_ipam_pool_info(ipam, 0, &info), 0);
	cr_assert_eq(info.total, 256);
	nr_ipam_free(ipam);
}

Test(ipam, allocation_of_missing_family_is_refused)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_err err = { 0 };
	struct nr_prefix p;

	cr_assert_eq(nr_ipam_allocate(ipam, AF_INET6, "a", &p, &err), -EINVAL);
	cr_assert(strstr(err.msg, "no IPv6 cluster pool"), "%s", err.msg);
	nr_ipam_free(ipam);
}

Test(ipam, claim_of_taken_block_is_refused)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix p = P("10.0.7.0/24");
	struct nr_err err = { 0 };

	cr_assert_eq(nr_ipam_claim(ipam, &p, "a", NULL), 0);
	cr_assert_eq(nr_ipam_claim(ipam, &p, "b", &err), -EEXIST);
	cr_assert_str_eq(err.msg, "10.0.7.0/24 is already allocated");
	cr_assert(nr_ipam_in_use(ipam, &p));
	nr_ipam_free(ipam);
}

Test(ipam, claim_of_wrong_size_or_outside_is_refused)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix wrong = P("10.0.0.0/23"), outside = P("11.0.0.0/24");
	struct nr_err err = { 0 };

	cr_assert_eq(nr_ipam_claim(ipam, &wrong, "a", &err), -EINVAL);
	cr_assert_str_eq(err.msg, "10.0.0.0/23: not a /24 block of cluster pool 10.0.0.0/16");
	cr_assert_eq(nr_ipam_claim(ipam, &outside, "a", &err), -EINVAL);
	cr_assert_str_eq(err.msg, "11.0.0.0/24 is outside every cluster pool (10.0.0.0/16)");
	nr_ipam_free(ipam);
}

Test(ipam, reserved_blocks_are_skipped_and_cannot_be_claimed)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix r = P("10.0.0.0/23"), blk = P("10.0.1.0/24");
	struct nr_ipam_pool_info info;
	struct nr_err err = { 0 };
	char b[NR_ADDR_STRLEN];

	cr_assert_eq(nr_ipam_reserve(ipam, &r, &err), 0, "%s", err.msg);
	cr_assert_str_eq(alloc_str(ipam, AF_INET, "a", b), "10.0.2.0/24");
	cr_assert_eq(nr_ipam_claim(ipam, &blk, "b", &err), -EEXIST);
	cr_assert_str_eq(err.msg, "10.0.1.0/24 is reserved");
	cr_assert_eq(nr_ipam_release(ipam, &blk, "b"), -EPERM);
	nr_ipam_pool_info(ipam, 0, &info);
	cr_assert_eq(info.reserved, 2);
	cr_assert_eq(info.used, 3);
	nr_ipam_free(ipam);
}

Test(ipam, reservation_smaller_than_a_block_takes_the_whole_block)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix r = P("10.0.0.128/25");
	char b[NR_ADDR_STRLEN];

	cr_assert_eq(nr_ipam_reserve(ipam, &r, NULL), 0);
	cr_assert_str_eq(alloc_str(ipam, AF_INET, "a", b), "10.0.1.0/24");
	nr_ipam_free(ipam);
}

Test(ipam, reservation_over_allocated_block_is_refused)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix r = P("10.0.0.0/22");
	struct nr_err err = { 0 };
	char b[NR_ADDR_STRLEN];

	alloc_str(ipam, AF_INET, "a", b);
	cr_assert_eq(nr_ipam_reserve(ipam, &r, &err), -EEXIST);
	cr_assert(strstr(err.msg, "10.0.0.0/22"), "%s", err.msg);
	nr_ipam_free(ipam);
}

Test(ipam, reservation_outside_pools_is_refused)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix r = P("192.168.0.0/24");

	cr_assert_eq(nr_ipam_reserve(ipam, &r, NULL), -EINVAL);
	nr_ipam_free(ipam);
}

Test(ipam, release_of_unallocated_block_is_enoent)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix p = P("10.0.3.0/24");

	cr_assert_eq(nr_ipam_release(ipam, &p, "a"), -ENOENT);
	nr_ipam_free(ipam);
}

Test(ipam_k8s, accepts_given_cidr_inside_cluster_cidr)
{
	struct nr_ipam *ipam = k8s("10.0.0.0/8");
	struct nr_prefix p = P("10.0.0.0/24");

	cr_assert_eq(nr_ipam_claim(ipam, &p, "a", NULL), 0);
	cr_assert_eq(nr_ipam_claim_count(ipam), 1);
	nr_ipam_free(ipam);
}

Test(ipam_k8s, refuses_cidr_outside_cluster_cidr)
{
	struct nr_ipam *ipam = k8s("10.0.0.0/16");
	struct nr_prefix p = P("10.1.0.0/24");
	struct nr_err err = { 0 };

	cr_assert_eq(nr_ipam_claim(ipam, &p, "a", &err), -EINVAL);
	cr_assert_str_eq(err.msg, "10.1.0.0/24 is outside the cluster CIDR 10.0.0.0/16");
	nr_ipam_free(ipam);
}

Test(ipam_k8s, refuses_overlap_naming_the_other_node)
{
	struct nr_ipam *ipam = k8s(NULL);
	struct nr_prefix a = P("10.0.0.0/16"), b = P("10.0.5.0/24"), c = P("10.0.0.0/8");
	struct nr_err err = { 0 };

	cr_assert_eq(nr_ipam_claim(ipam, &a, "node-a", NULL), 0);
	cr_assert_eq(nr_ipam_claim(ipam, &b, "node-b", &err), -EEXIST);
	cr_assert_str_eq(err.msg, "10.0.5.0/24 overlaps 10.0.0.0/16 of node node-a");
	cr_assert_eq(nr_ipam_claim(ipam, &c, "node-c", &err), -EEXIST);
	cr_assert_str_eq(err.msg, "10.0.0.0/8 overlaps 10.0.0.0/16 of node node-a");
	nr_ipam_free(ipam);
}

Test(ipam_k8s, released_cidr_can_be_claimed_again)
{
	struct nr_ipam *ipam = k8s(NULL);
	struct nr_prefix a = P("fd00:1::/64");

	cr_assert_eq(nr_ipam_claim(ipam, &a, "a", NULL), 0);
	cr_assert_eq(nr_ipam_release(ipam, &a, "a"), 0);
	cr_assert_eq(nr_ipam_claim(ipam, &a, "b", NULL), 0);
	nr_ipam_free(ipam);
}

Test(ipam_k8s, refuses_cidr_too_small_for_pods)
{
	struct nr_ipam *ipam = k8s(NULL);
	struct nr_prefix a = P("10.0.0.0/31");

	cr_assert_eq(nr_ipam_claim(ipam, &a, "a", NULL), -EINVAL);
	nr_ipam_free(ipam);
}

Test(ipam_k8s, allocation_is_refused)
{
	struct nr_ipam *ipam = k8s(NULL);
	struct nr_prefix p;
	struct nr_err err = { 0 };

	cr_assert_eq(nr_ipam_allocate(ipam, AF_INET, "a", &p, &err), -EINVAL);
	cr_assert(strstr(err.msg, "kubernetes"), "%s", err.msg);
	nr_ipam_free(ipam);
}

Test(ipam_k8s, reservation_blocks_overlapping_claims)
{
	struct nr_ipam *ipam = k8s(NULL);
	struct nr_prefix r = P("10.0.0.0/24"), p = P("10.0.0.0/25");
	struct nr_err err = { 0 };

	cr_assert_eq(nr_ipam_reserve(ipam, &r, NULL), 0);
	cr_assert_eq(nr_ipam_claim(ipam, &p, "a", &err), -EEXIST);
	cr_assert_str_eq(err.msg, "10.0.0.0/25 overlaps reserved 10.0.0.0/24");
	cr_assert_eq(nr_ipam_release(ipam, &r, NULL), -EPERM);
	nr_ipam_free(ipam);
}

Test(ipam, claim_with_host_bits_is_refused)
{
	struct nr_ipam *ipam = pool("10.0.0.0/16", 24, 0);
	struct nr_prefix p = P("10.0.1.0/24");
	struct nr_err err = { 0 };

	p.addr.bytes[3] = 5;
	cr_assert_eq(nr_ipam_claim(ipam, &p, "a", &err), -EINVAL);
	cr_assert(strstr(err.msg, "host bits"), "%s", err.msg);
	nr_ipam_free(ipam);
}
