/* core/cidrset: the set of disjoint, owner-tagged prefixes behind
 * kubernetes-mode IPAM. Behaviour first, then a randomized differential run
 * against a plain list of members (fixed seeds, so a failure replays; set
 * NR_TEST_SEED=<n> to try another). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/cidrset.h"

static struct nr_prefix P(const char *s)
{
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse(s, &p, NULL), 0, "parse %s", s);
	return p;
}

static const char *str(const struct nr_prefix *p, char *buf)
{
	return nr_prefix_str(p, buf, NR_ADDR_STRLEN);
}

/* Adds each prefix, owned by its own text. */
static void add_all(struct nr_cidrset *s, const char *const *list)
{
	for (; *list; list++) {
		struct nr_prefix p = P(*list);

		cr_assert_eq(nr_cidrset_add(s, &p, *list), 0, "add %s", *list);
	}
}

/* overlap(q) must answer `want` (NULL: no overlap), owned by that text. */
static void expect_hit(const struct nr_cidrset *s, const char *q, const char *want)
{
	struct nr_prefix p = P(q), hit;
	const void *owner = NULL;
	char b[NR_ADDR_STRLEN];
	bool r = nr_cidrset_overlap(s, &p, &hit, &owner);

	if (!want) {
		cr_assert(!r, "%s: overlaps %s", q, r ? str(&hit, b) : "");
		return;
	}
	cr_assert(r, "%s: no overlap, want %s", q, want);
	cr_assert_str_eq(str(&hit, b), want, "%s: hit %s, want %s", q, b, want);
	cr_assert_str_eq((const char *)owner, want, "%s: owner %s", q, (const char *)owner);
}

Test(cidrset, empty_set_overlaps_nothing)
{
	struct nr_cidrset s = { 0 };

	expect_hit(&s, "0.0.0.0/0", NULL);
	expect_hit(&s, "::/0", NULL);
	cr_assert_eq(s.n, 0);
}

Test(cidrset, overlap_reports_the_member_containing_or_equal_to_the_query)
{
	struct nr_cidrset s = { 0 };

	add_all(&s, (const char *const[]){ "10.0.0.0/24", "10.0.1.0/26", "10.0.1.64/26", NULL });
	expect_hit(&s, "10.0.0.0/24", "10.0.0.0/24");
	expect_hit(&s, "10.0.0.128/25", "10.0.0.0/24");
	expect_hit(&s, "10.0.0.77/32", "10.0.0.0/24");
	expect_hit(&s, "10.0.1.96/27", "10.0.1.64/26");
	expect_hit(&s, "10.0.1.128/26", NULL);
	expect_hit(&s, "10.0.2.0/24", NULL);
	nr_cidrset_destroy(&s);
}

Test(cidrset, overlap_reports_the_lowest_member_inside_the_query)
{
	struct nr_cidrset s = { 0 };

	add_all(&s, (const char *const[]){ "10.0.3.0/24", "10.0.1.64/26", "10.0.1.0/26",
					   "10.9.0.0/16", NULL });
	expect_hit(&s, "10.0.0.0/16", "10.0.1.0/26");
	expect_hit(&s, "10.0.1.0/25", "10.0.1.0/26");
	expect_hit(&s, "10.0.2.0/23", "10.0.3.0/24");
	expect_hit(&s, "10.8.0.0/15", "10.9.0.0/16");
	expect_hit(&s, "0.0.0.0/0", "10.0.1.0/26");
	expect_hit(&s, "10.0.2.0/24", NULL);
	nr_cidrset_destroy(&s);
}

Test(cidrset, add_refuses_any_overlap_and_changes_nothing)
{
	struct nr_cidrset s = { 0 };
	static const char *const bad[] = { "10.0.1.0/26", "10.0.1.0/24", "10.0.1.32/27",
					   "10.0.0.0/8",  "0.0.0.0/0",	 "10.0.1.63/32", NULL };

	add_all(&s, (const char *const[]){ "10.0.1.0/26", "10.0.2.0/26", NULL });
	for (const char *const *b = bad; *b; b++) {
		struct nr_prefix p = P(*b);

		cr_assert_eq(nr_cidrset_add(&s, &p, "x"), -EEXIST, "add %s", *b);
	}
	cr_assert_eq(s.n, 2);
	expect_hit(&s, "10.0.0.0/16", "10.0.1.0/26");
	expect_hit(&s, "10.0.2.0/24", "10.0.2.0/26");
	expect_hit(&s, "10.0.1.64/26", NULL);
	nr_cidrset_destroy(&s);
}

Test(cidrset, add_refuses_bad_input_with_einval)
{
	struct nr_cidrset s = { 0 };
	struct nr_prefix p = P("10.0.0.0/24"), nofam = p, toolong = p;

	nofam.addr.family = 0;
	toolong.len = 33;
	cr_assert_eq(nr_cidrset_add(&s, &p, NULL), -EINVAL);
	cr_assert_eq(nr_cidrset_add(&s, &nofam, "a"), -EINVAL);
	cr_assert_eq(nr_cidrset_add(&s, &toolong, "a"), -EINVAL);
	cr_assert_eq(s.n, 0);
	cr_assert(!nr_cidrset_overlap(&s, &toolong, NULL, NULL));
	cr_assert_eq(nr_cidrset_del(&s, &toolong), -ENOENT);
}

Test(cidrset, del_removes_only_an_exact_member)
{
	struct nr_cidrset s = { 0 };
	struct nr_prefix branch = P("10.0.0.0/25"), inside = P("10.0.0.0/27"),
			 outside = P("10.0.1.0/26"), a = P("10.0.0.0/26");

	add_all(&s, (const char *const[]){ "10.0.0.0/26", "10.0.0.64/26", NULL });
	/* 10.0.0.0/25 is where the two part: not a member */
	cr_assert_eq(nr_cidrset_del(&s, &branch), -ENOENT);
	cr_assert_eq(nr_cidrset_del(&s, &inside), -ENOENT);
	cr_assert_eq(nr_cidrset_del(&s, &outside), -ENOENT);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(nr_cidrset_del(&s, &a), 0);
	cr_assert_eq(nr_cidrset_del(&s, &a), -ENOENT);
	cr_assert_eq(s.n, 1);
	expect_hit(&s, "10.0.0.0/24", "10.0.0.64/26");
	/* the freed space can be claimed again, also by a wider prefix */
	cr_assert_eq(nr_cidrset_add(&s, &a, "again"), 0);
	cr_assert_eq(nr_cidrset_del(&s, &a), 0);
	a = P("10.0.0.64/26");
	cr_assert_eq(nr_cidrset_del(&s, &a), 0);
	cr_assert_eq(s.n, 0);
	cr_assert_null(s.root4);
	add_all(&s, (const char *const[]){ "10.0.0.0/24", NULL });
	nr_cidrset_destroy(&s);
}

Test(cidrset, families_are_separate_and_edges_work)
{
	struct nr_cidrset s = { 0 };

	add_all(&s, (const char *const[]){ "0.0.0.0/1", "128.0.0.0/1", "fd00::/64",
					   "fd00:0:0:1::5/128", "fd00:0:0:1::4/128", NULL });
	expect_hit(&s, "255.255.255.255/32", "128.0.0.0/1");
	expect_hit(&s, "0.0.0.0/0", "0.0.0.0/1");
	expect_hit(&s, "::/0", "fd00::/64");
	expect_hit(&s, "fd00:0:0:1::/64", "fd00:0:0:1::4/128");
	expect_hit(&s, "fd00:0:0:1::5/128", "fd00:0:0:1::5/128");
	expect_hit(&s, "fd00:0:0:1::6/127", NULL);
	expect_hit(&s, "fd00:0:0:2::/64", NULL);
	cr_assert_eq(s.n, 5);
	nr_cidrset_destroy(&s);
	cr_assert_eq(s.n, 0);
	add_all(&s, (const char *const[]){ "0.0.0.0/0", "::/0", NULL });
	expect_hit(&s, "1.2.3.4/32", "0.0.0.0/0");
	expect_hit(&s, "::1/128", "::/0");
	nr_cidrset_destroy(&s);
}

/* Callers hand in clean prefixes (util/addr.h), but a stray host bit must
 * not leak into what overlap reports, nor make del miss the member. */
Test(cidrset, host_bits_past_the_length_are_ignored)
{
	struct nr_cidrset s = { 0 };
	struct nr_prefix p4 = P("10.0.0.0/24"), p6 = P("fd00::/120");

	p4.addr.bytes[3] = 5;
	p6.addr.bytes[15] = 1;
	cr_assert_eq(nr_cidrset_add(&s, &p4, "10.0.0.0/24"), 0);
	cr_assert_eq(nr_cidrset_add(&s, &p6, "fd00::/120"), 0);
	expect_hit(&s, "10.0.0.0/16", "10.0.0.0/24");
	expect_hit(&s, "fd00::/64", "fd00::/120");
	p4.addr.bytes[3] = 9;
	p6.addr.bytes[15] = 7;
	cr_assert_eq(nr_cidrset_del(&s, &p4), 0);
	cr_assert_eq(nr_cidrset_del(&s, &p6), 0);
	cr_assert_eq(s.n, 0);
}

/* ---- randomized, against a list -------------------------------------- */

#define MAXM 512
#define OPS 6000

struct model {
	struct nr_prefix p[MAXM];
	const void *owner[MAXM];
	size_t n;
};

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* A containing/equal member if any (members are disjoint: at most one),
 * else the lowest member inside q. */
static int model_overlap(const struct model *m, const struct nr_prefix *q)
{
	int best = -1;

	for (size_t i = 0; i < m->n; i++) {
		if (m->p[i].addr.family != q->addr.family)
			continue;
		if (nr_prefix_contains(&m->p[i], q))
			return (int)i;
		if (nr_prefix_contains(q, &m->p[i]) &&
		    (best < 0 || nr_addr_cmp(&m->p[i].addr, &m->p[best].addr) < 0))
			best = (int)i;
	}
	return best;
}

static int model_find(const struct model *m, const struct nr_prefix *q)
{
	for (size_t i = 0; i < m->n; i++)
		if (nr_prefix_eq(&m->p[i], q))
			return (int)i;
	return -1;
}

/* Random prefixes in a few narrow ranges of each family, so that most
 * queries land near members: long prefixes under a short shared head, and
 * now and then a short one covering many. */
static struct nr_prefix random_prefix(void)
{
	static const char *const bases[] = { "10.0.0.0/22", "10.0.8.0/24", "192.168.255.0/24",
					     "fd00::/118",  "fd00:1::/120", "2001:db8::ff00/120" };
	struct nr_prefix base = P(bases[rnd(6)]), out;
	unsigned bits = nr_addr_bits(base.addr.family);
	uint8_t len;

	for (unsigned i = base.len; i < bits; i++)
		if (rnd(2))
			base.addr.bytes[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	switch (rnd(16)) {
	case 0: /* wider than the range: covers a whole region or more */
		len = (uint8_t)rnd(base.len + 1u);
		break;
	case 1: /* host routes */
	case 2:
		len = (uint8_t)bits;
		break;
	default:
		len = (uint8_t)(base.len + rnd(bits - base.len + 1u));
	}
	nr_prefix_make(&base.addr, len, &out);
	return out;
}

static void check_overlap(const struct nr_cidrset *s, const struct model *m,
			  const struct nr_prefix *q, uint64_t seed, int op)
{
	struct nr_prefix hit;
	const void *owner = NULL;
	char b1[NR_ADDR_STRLEN], b2[NR_ADDR_STRLEN];
	int want = model_overlap(m, q);
	bool got = nr_cidrset_overlap(s, q, &hit, &owner);

	cr_assert_eq(got, want >= 0, "seed %llu op %d: overlap(%s) = %d, want %s",
		     (unsigned long long)seed, op, str(q, b1), got,
		     want >= 0 ? str(&m->p[want], b2) : "none");
	if (want < 0)
		return;
	cr_assert(nr_prefix_eq(&hit, &m->p[want]), "seed %llu op %d: overlap(%s) hit %s, want %s",
		  (unsigned long long)seed, op, str(q, b1), str(&hit, b2),
		  nr_prefix_str(&m->p[want], (char[NR_ADDR_STRLEN]){ 0 }, NR_ADDR_STRLEN));
	cr_assert_eq(owner, m->owner[want], "seed %llu op %d: overlap(%s): wrong owner",
		     (unsigned long long)seed, op, str(q, b1));
}

static void run_seed(uint64_t seed)
{
	static char tags[OPS]; /* owner i is &tags[i]: distinct pointers */
	struct nr_cidrset s = { 0 };
	struct model m = { .n = 0 };
	char b[NR_ADDR_STRLEN];

	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	for (int op = 0; op < OPS; op++) {
		struct nr_prefix q = random_prefix();
		/* grow for the first half, then shrink: deep tries and empty ones */
		uint32_t kind = rnd(10) + (op < OPS / 2 ? 0 : 4);
		int r, i;

		if (kind < 6) { /* add */
			int want = model_overlap(&m, &q) >= 0 ? -EEXIST : 0;

			if (!want && m.n == MAXM)
				continue;
			r = nr_cidrset_add(&s, &q, &tags[op]);
			cr_assert_eq(r, want, "seed %llu op %d: add %s = %d, want %d",
				     (unsigned long long)seed, op, str(&q, b), r, want);
			if (!r) {
				m.p[m.n] = q;
				m.owner[m.n++] = &tags[op];
			}
		} else if (kind < 7 || kind >= 10) { /* del: mostly of a member */
			if (kind != 6 && m.n)
				q = m.p[rnd((uint32_t)m.n)];
			i = model_find(&m, &q);
			r = nr_cidrset_del(&s, &q);
			cr_assert_eq(r, i >= 0 ? 0 : -ENOENT, "seed %llu op %d: del %s = %d",
				     (unsigned long long)seed, op, str(&q, b), r);
			if (i >= 0) {
				m.p[i] = m.p[m.n - 1];
				m.owner[i] = m.owner[--m.n];
			}
		} else {
			check_overlap(&s, &m, &q, seed, op);
		}
		cr_assert_eq(s.n, m.n, "seed %llu op %d: n %zu, want %zu", (unsigned long long)seed,
			     op, s.n, m.n);
	}
	/* every member still answers for itself, then empty it the slow way */
	while (m.n) {
		check_overlap(&s, &m, &m.p[m.n - 1], seed, OPS);
		cr_assert_eq(nr_cidrset_del(&s, &m.p[m.n - 1]), 0);
		m.n--;
	}
	cr_assert_null(s.root4);
	cr_assert_null(s.root6);
	nr_cidrset_destroy(&s);
}

Test(cidrset_random, agrees_with_a_list_of_members, .timeout = 300)
{
	const char *env = getenv("NR_TEST_SEED");

	if (env) {
		run_seed(strtoull(env, NULL, 0));
		return;
	}
	for (uint64_t seed = 1; seed <= 40; seed++)
		run_seed(seed);
}
