/* Reachability of node IPs, the planner's input for native and hybrid mode:
 * one RTM_GETROUTE per node IP, remembered until links, addresses or the
 * periodic resync make the answers stale. A pass asks for every IP it
 * lacks at once (pipelined, nr_nl_reach_many): at a restart with 10,000
 * nodes that is 20 sendmsg calls instead of 10,000 round trips. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_reach.h"
#include "util/hmap.h"

struct reach_entry {
	struct nr_hnode node;
	struct nr_reach answer;
};

struct nr_reach_cache {
	struct nr_hmap map;
	struct nr_reach *array; /* the planner's input, rebuilt per pass */
	size_t n_array, cap_array;
};

int nr_reach_cache_new(struct nr_reach_cache **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void nr_reach_cache_clear(struct nr_reach_cache *c)
{
	for (size_t b = 0; c->map.buckets && b <= c->map.mask; b++) {
		struct nr_hnode *h = c->map.buckets[b];

		while (h) {
			struct nr_hnode *next = h->next;

			free(nr_container_of(h, struct reach_entry, node));
			h = next;
		}
	}
	nr_hmap_destroy(&c->map);
	memset(&c->map, 0, sizeof(c->map));
}

void nr_reach_cache_free(struct nr_reach_cache *c)
{
	if (!c)
		return;
	nr_reach_cache_clear(c);
	free(c->array);
	free(c);
}

static void take_answer(const struct nr_addr *ip, int rc, const struct nr_nl_reach *r,
			struct nr_reach *out)
{
	memset(out, 0, sizeof(*out));
	out->ip = *ip;
	if (rc < 0)
		return; /* no route: unknown, the planner skips and reports it */
	out->ifindex = r->ifindex;
	if (r->kind == NR_NL_REACH_GATEWAY) {
		out->kind = NR_REACH_GATEWAY;
		out->gw = r->gw;
	} else if (r->kind == NR_NL_REACH_DIRECT) {
		out->kind = NR_REACH_DIRECT;
	}
	/* NR_NL_REACH_LOCAL: a remote node claiming one of our addresses is a
	 * configuration error; leave it unknown so nothing is routed to it. */
}

static const struct nr_reach *cache_find(struct nr_reach_cache *c, const struct nr_addr *ip)
{
	for (struct nr_hnode *h = nr_hmap_first(&c->map, nr_addr_hash(ip)); h; h = nr_hmap_next(h)) {
		struct reach_entry *e = nr_container_of(h, struct reach_entry, node);

		if (nr_addr_eq(&e->answer.ip, ip))
			return &e->answer;
	}
	return NULL;
}

/* Remember an answer; NULL when there is no memory for it (then it is not
 * remembered, and a copy is returned by the caller). */
static const struct nr_reach *cache_put(struct nr_reach_cache *c, const struct nr_reach *answer)
{
	struct reach_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->answer = *answer;
	if (nr_hmap_insert(&c->map, &e->node, nr_addr_hash(&answer->ip)) < 0) {
		free(e);
		return NULL;
	}
	return &e->answer;
}

const struct nr_reach *nr_reach_cache_peek(struct nr_ctl *ctl, const struct nr_addr *ip)
{
	return cache_find(ctl->reach, ip);
}

const struct nr_reach *nr_reach_cache_get(struct nr_ctl *ctl, const struct nr_addr *ip)
{
	static _Thread_local struct nr_reach copy;
	const struct nr_reach *hit = cache_find(ctl->reach, ip);
	struct nr_nl_reach r;
	struct nr_err err = { 0 };
	int rc;

	if (hit)
		return hit;
	rc = ctl->k->reach(ctl->query, ip, &r, &err);
	take_answer(ip, rc, &r, &copy);
	hit = cache_put(ctl->reach, &copy);
	return hit ? hit : &copy;
}

/* Ask for every IP of `ips` the cache lacks, in one pipelined exchange. */
static int cache_fill(struct nr_ctl *ctl, const struct nr_addr *ips, size_t n)
{
	struct nr_addr *miss = malloc((n ? n : 1) * sizeof(*miss));
	struct nr_nl_reach *ans = NULL;
	int *rc = NULL, r = -ENOMEM;
	size_t k = 0;

	if (!miss)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!cache_find(ctl->reach, &ips[i]))
			miss[k++] = ips[i];
	if (k == 0) {
		free(miss);
		return 0;
	}
	ans = malloc(k * sizeof(*ans));
	rc = malloc(k * sizeof(*rc));
	if (ans && rc) {
		struct nr_err err = { 0 };

		/* a socket failure leaves those answers unknown (-EIO): the
		 * planner skips them, and the pass after the retry asks again */
		r = ctl->k->reach_many(ctl->nl, miss, k, ans, rc, &err);
		for (size_t i = 0; i < k; i++) {
			struct nr_reach a;

			if (rc[i] == -EIO)
				continue;
			take_answer(&miss[i], rc[i], &ans[i], &a);
			if (!cache_find(ctl->reach, &a.ip)) /* an IP may be listed twice */
				cache_put(ctl->reach, &a);
		}
	}
	free(miss);
	free(ans);
	free(rc);
	return r;
}

/* Whether any remembered answer could change because of an event about
 * `dst` (a route) or `ifindex` (a link): only those make the answers stale.
 * Without this filter every pod's veth and every foreign route anywhere
 * would re-ask the kernel for every node and force a full pass - O(nodes)
 * per pod. A linear walk here is microseconds even at 10,000 nodes. */
bool nr_reach_cache_affected(struct nr_ctl *ctl, const struct nr_prefix *dst, uint32_t ifindex)
{
	struct nr_reach_cache *c = ctl->reach;

	for (size_t b = 0; c->map.buckets && b <= c->map.mask; b++) {
		for (struct nr_hnode *h = c->map.buckets[b]; h; h = h->next) {
			const struct nr_reach *a = &nr_container_of(h, struct reach_entry, node)->answer;

			if (ifindex && a->ifindex == ifindex)
				return true;
			if (dst && dst->addr.family == a->ip.family && nr_prefix_contains_addr(dst, &a->ip))
				return true;
		}
	}
	return false;
}

/* The cached answer, or "unknown" (ip set) without asking. */
static const struct nr_reach *nr_reach_cache_get_cached(struct nr_ctl *ctl, const struct nr_addr *ip)
{
	static _Thread_local struct nr_reach unknown;
	const struct nr_reach *hit = cache_find(ctl->reach, ip);

	if (hit)
		return hit;
	memset(&unknown, 0, sizeof(unknown));
	unknown.ip = *ip;
	return &unknown;
}

/* The answers for every remote node IP, as the planner wants them. Tunnel
 * mode needs none. `demote_gateways` turns "behind a gateway" into
 * "unknown": used after the planner refused a node that lost direct
 * reachability, so one such node is reported instead of stopping every
 * other node's routes. */
/* One walk over the remote nodes: their IPs with what the cache knows. */
static int collect(struct nr_ctl *ctl, bool demote_gateways)
{
	struct nr_reach_cache *c = ctl->reach;
	const struct nr_node *self = nr_model_local_node(ctl->model);

	c->n_array = 0;
	for (const struct nr_node *nd = nr_model_node_next(ctl->model, NULL); nd;
	     nd = nr_model_node_next(ctl->model, nd)) {
		const struct nr_addr *ips[2] = { &nd->ip4, &nd->ip6 };

		if (nd == self)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!ips[i]->family)
				continue;
			if (c->n_array == c->cap_array) {
				size_t cap = c->cap_array ? c->cap_array * 2 : 64;
				struct nr_reach *grown = realloc(c->array, cap * sizeof(*grown));

				if (!grown)
					return -ENOMEM;
				c->array = grown;
				c->cap_array = cap;
			}
			c->array[c->n_array] = *nr_reach_cache_get_cached(ctl, ips[i]);
			if (demote_gateways && c->array[c->n_array].kind == NR_REACH_GATEWAY)
				c->array[c->n_array].kind = NR_REACH_UNKNOWN;
			c->n_array++;
		}
	}
	return 0;
}

int nr_ctl_reach_prefill(struct nr_ctl *ctl)
{
	struct nr_reach_cache *c = ctl->reach;
	struct nr_addr *ips;
	int rc;

	if (nr_model_config(ctl->model)->routing_mode == NR_MODE_TUNNEL)
		return 0;
	/* which IPs (answers unknown where the cache lacks them), then ask for
	 * the missing ones at once; a failed lookup stays unknown: the planner
	 * skips and reports it */
	rc = collect(ctl, false);
	if (rc < 0)
		return rc;
	ips = malloc((c->n_array ? c->n_array : 1) * sizeof(*ips));
	if (!ips)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_array; i++)
		ips[i] = c->array[i].ip;
	cache_fill(ctl, ips, c->n_array);
	free(ips);
	c->n_array = 0;
	return 0;
}

int nr_ctl_reach_array(struct nr_ctl *ctl, bool demote_gateways, const struct nr_reach **out,
		       size_t *n)
{
	struct nr_reach_cache *c = ctl->reach;
	int rc = 0;

	c->n_array = 0;
	if (nr_model_config(ctl->model)->routing_mode != NR_MODE_TUNNEL) {
		rc = nr_ctl_reach_prefill(ctl);
		if (rc == 0)
			rc = collect(ctl, demote_gateways);
	}
	*out = c->array;
	*n = c->n_array;
	return rc;
}
