/* Randomized: thousands of add/update/remove operations on a model, with
 * the invariants checked after every one. Seeded; the seed is printed and
 * can be replayed with NR_TEST_SEED=<n>. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/planner.h"

#define NAMES 40
#define OPS 4000

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static uint64_t pick_seed(void)
{
	const char *env = getenv("NR_TEST_SEED");
	uint64_t s = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();

	if (!s)
		s = 1;
	fprintf(stderr, "test_model_random: seed %llu (replay with NR_TEST_SEED=%llu)\n",
		(unsigned long long)s, (unsigned long long)s);
	return s;
}

struct shadow {
	bool present;
	struct nr_prefix cidr4; /* what the node held when last seen */
};

static int cmp_prefix(const void *a, const void *b)
{
	return nr_prefix_cmp(a, b);
}

static struct nr_addr node_ip(uint32_t k)
{
	return (struct nr_addr){ .family = AF_INET, .bytes = { 192, 168, 1, (uint8_t)(k + 1) } };
}

static void check_invariants(struct nr_model *m, const struct shadow *sh, uint64_t seed, int op)
{
	struct nr_prefix cidrs[NAMES];
	struct nr_reach reach[NAMES];
	size_t nc = 0, nn = 0, none = 0, routed[NAMES] = { 0 };
	const struct nr_node *local = nr_model_local_node(m);
	struct nr_plan_input in = { .model = m, .reach = reach };
	struct nr_kstate ks;
	struct nr_err err = { 0 };

	for (const struct nr_node *n = nr_model_node_next(m, NULL); n; n = nr_model_node_next(m, n)) {
		unsigned k;

		cr_assert_eq(sscanf(n->name, "n%u", &k), 1);
		cr_assert(sh[k].present, "seed %llu op %d: %s should not exist",
			  (unsigned long long)seed, op, n->name);
		cr_assert_eq(nr_model_node_get(m, n->name), n);
		cr_assert_eq(nr_model_node_by_ip(m, &n->ip4), n);
		cr_assert_eq(nr_model_node_by_index(m, n->index), n);
		if (n->cidr4.addr.family) {
			cr_assert(nr_ipam_in_use(nr_model_ipam(m), &n->cidr4));
			cidrs[nc++] = n->cidr4;
		}
		none += !n->cidr4.addr.family && !n->cidr6.addr.family;
		reach[in.n_reach++] = (struct nr_reach){ .ip = n->ip4, .kind = NR_REACH_DIRECT,
							 .ifindex = 2 };
		nn++;
	}
	for (int k = 0; k < NAMES; k++) {
		char name[8];

		snprintf(name, sizeof(name), "n%d", k);
		cr_assert_eq(sh[k].present, nr_model_node_get(m, name) != NULL,
			     "seed %llu op %d: %s", (unsigned long long)seed, op, name);
	}
	cr_assert_eq(nn, nr_model_node_count(m));
	cr_assert_eq(none, nr_model_nodes_without_cidr(m), "seed %llu op %d: %zu nodes without a CIDR",
		     (unsigned long long)seed, op, none);
	/* No two nodes share (or overlap) a CIDR. */
	qsort(cidrs, nc, sizeof(cidrs[0]), cmp_prefix);
	for (size_t i = 1; i < nc; i++)
		cr_assert(!nr_prefix_overlaps(&cidrs[i - 1], &cidrs[i]),
			  "seed %llu op %d: CIDR shared", (unsigned long long)seed, op);
	/* IPAM counts exactly the nodes' CIDRs (cluster-pool). */
	if (nr_ipam_pool_count(nr_model_ipam(m))) {
		struct nr_ipam_pool_info info;

		nr_ipam_pool_info(nr_model_ipam(m), 0, &info);
		cr_assert_eq(info.used - info.reserved, nc, "seed %llu op %d",
			     (unsigned long long)seed, op);
	} else {
		cr_assert_eq(nr_ipam_claim_count(nr_model_ipam(m)), nc);
	}
	/* Every remote node's CIDR is routed exactly once; nothing else is. */
	cr_assert_eq(nr_plan(&in, &ks, NULL, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < ks.n_routes; i++) {
		const struct nr_kroute *r = &ks.routes[i];
		const struct nr_node *owner = NULL;

		for (const struct nr_node *n = nr_model_node_next(m, NULL); n;
		     n = nr_model_node_next(m, n))
			if (nr_prefix_eq(&n->cidr4, &r->dst))
				owner = n;
		cr_assert_not_null(owner, "seed %llu op %d: route to no node", (unsigned long long)seed, op);
		cr_assert_neq(owner, local, "local CIDR routed");
		routed[owner->index % NAMES]++;
		cr_assert_eq(r->nh_id, NR_NH_ID_BASE + owner->index * 2);
	}
	for (size_t i = 0; i < ks.n_nexthops; i++)
		cr_assert_not_null(nr_model_node_by_index(m, (ks.nexthops[i].id - NR_NH_ID_BASE) / 2),
				   "nexthop of a removed node");
	for (const struct nr_node *n = nr_model_node_next(m, NULL); n; n = nr_model_node_next(m, n))
		if (n != local && n->cidr4.addr.family)
			cr_assert_eq(routed[n->index % NAMES], 1, "seed %llu op %d: %s routed %zu times",
				     (unsigned long long)seed, op, n->name, routed[n->index % NAMES]);
	nr_kstate_free(&ks);
}

static void run(enum nr_ipam_mode mode)
{
	uint64_t seed = pick_seed();
	struct nr_cluster_config c;
	struct shadow sh[NAMES] = { 0 };
	struct nr_model *m;
	unsigned ok = 0, refused = 0;

	rng_state = seed;
	nr_config_init(&c);
	c.ipam_mode = mode;
	c.auto_direct_node_routes = true;
	c.cluster_cidrs[c.n_cluster_cidrs++] = (struct nr_prefix){
		.addr = { .family = AF_INET, .bytes = { 10, 0, 0, 0 } }, .len = 19 };
	cr_assert_eq(nr_model_new(&c, "n0", &m, NULL), 0);
	for (int op = 0; op < OPS; op++) {
		uint32_t k = rnd(NAMES), what = rnd(10);
		char name[8];
		struct nr_node_req q = { .name = name, .ip4 = node_ip(k) };
		struct nr_err err = { 0 };
		int r;

		snprintf(name, sizeof(name), "n%u", k);
		if (mode == NR_IPAM_KUBERNETES || rnd(4) == 0) {
			/* a requested CIDR: /24 or /23 somewhere in 10.0.0.0/19 */
			uint8_t len = rnd(3) ? 24 : 23;
			uint8_t third = (uint8_t)(rnd(32) & (len == 23 ? 0x1e : 0x1f));

			q.cidr4 = (struct nr_prefix){ .addr = { .family = AF_INET,
					.bytes = { 10, 0, third, 0 } }, .len = len };
		}
		if (what < 5) {
			r = nr_model_node_add(m, &q, NULL, &err);
			if (sh[k].present)
				cr_assert_eq(r, -EEXIST);
			if (r == 0) {
				sh[k].present = true;
				sh[k].cidr4 = nr_model_node_get(m, name)->cidr4;
			} else {
				cr_assert(r == -EEXIST || r == -ENOSPC || r == -EINVAL, "%d %s", r, err.msg);
				cr_assert(err.msg[0], "refusal without a message");
			}
		} else if (what < 8) {
			if (rnd(2))
				q.ip4 = node_ip((k + rnd(NAMES)) % NAMES); /* maybe someone else's */
			r = nr_model_node_update(m, &q, NULL, &err);
			if (!sh[k].present)
				cr_assert_eq(r, -ENOENT);
			if (r == 0)
				sh[k].cidr4 = nr_model_node_get(m, name)->cidr4;
			else
				cr_assert(err.msg[0]);
		} else {
			struct nr_prefix old = sh[k].cidr4;

			r = nr_model_node_remove(m, name, &err);
			cr_assert_eq(r, sh[k].present ? 0 : -ENOENT, "%s", err.msg);
			if (r == 0) {
				sh[k].present = false;
				/* the freed CIDR is reusable right away */
				if (old.addr.family)
					cr_assert(!nr_ipam_in_use(nr_model_ipam(m), &old));
			}
		}
		r == 0 ? ok++ : refused++;
		check_invariants(m, sh, seed, op);
	}
	cr_log_info("seed %llu: %u ops applied, %u refused", (unsigned long long)seed, ok, refused);
	cr_assert_gt(ok, OPS / 8, "too few operations succeeded to test anything");
	nr_model_free(m);
}

Test(model_random, cluster_pool_invariants_hold_under_random_operations, .timeout = 300)
{
	run(NR_IPAM_CLUSTER_POOL);
}

Test(model_random, kubernetes_invariants_hold_under_random_operations, .timeout = 300)
{
	run(NR_IPAM_KUBERNETES);
}
