/* Reachability of node IPs, the planner's input for native and hybrid mode:
 * one RTM_GETROUTE per node IP, remembered until links, addresses or the
 * periodic resync make the answers stale. A full pass asks for every IP
 * it lacks at once, pipelined and from the loop in slices (nr_nl_reach_pump):
 * at a restart with 10,000 nodes that is ~160 sendmsg calls instead of
 * 10,000 round trips, and the loop never waits for them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_reach.h"
#include "util/clock.h"
#include "util/hmap.h"

struct reach_entry {
	struct nr_hnode node;
	struct nr_reach answer;
};

/* Entries come from blocks and are only ever dropped all together (clear):
 * freeing 10,000 small allocations at once, on the loop, cost milliseconds
 * (and the next large malloc as much again, consolidating them). */
#define ENTRIES_PER_BLOCK 512
struct entry_block {
	struct entry_block *next;
	size_t used;
	struct reach_entry e[ENTRIES_PER_BLOCK];
};

struct nr_reach_cache {
	struct nr_hmap map;
	struct entry_block *blocks; /* the newest first */
	struct nr_reach *array; /* the planner's input, rebuilt per pass */
	size_t n_array, cap_array;
	/* kernel events that may change how node IPs are reached, counted:
	 * one that comes while lookups are out finds no entry to drop yet,
	 * and the answers taken after it may be stale (nr_ctl_reach_fill_pump) */
	uint64_t events;
};

int nr_reach_cache_new(struct nr_reach_cache **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void nr_reach_cache_clear(struct nr_reach_cache *c)
{
	while (c->blocks) {
		struct entry_block *next = c->blocks->next;

		free(c->blocks);
		c->blocks = next;
	}
	nr_hmap_destroy(&c->map);
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
	struct reach_entry *e;

	if (!c->blocks || c->blocks->used == ENTRIES_PER_BLOCK) {
		struct entry_block *b = malloc(sizeof(*b));

		if (!b)
			return NULL;
		b->next = c->blocks;
		b->used = 0;
		c->blocks = b;
	}
	e = &c->blocks->e[c->blocks->used];
	memset(e, 0, sizeof(*e));
	e->answer = *answer;
	if (nr_hmap_insert(&c->map, &e->node, nr_addr_hash(&answer->ip)) < 0)
		return NULL;
	c->blocks->used++;
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

/* Whether any remembered answer could change because of an event about
 * `dst` (a route) or `ifindex` (a link): only those make the answers stale.
 * Without this filter every pod's veth and every foreign route anywhere
 * would re-ask the kernel for every node and force a full pass - O(nodes)
 * per pod. A linear walk here is microseconds even at 10,000 nodes. */
struct affected_q {
	const struct nr_prefix *dst;
	uint32_t ifindex;
};

static bool entry_affected(struct nr_hnode *h, void *data)
{
	const struct affected_q *q = data;
	const struct nr_reach *a = &nr_container_of(h, struct reach_entry, node)->answer;

	return (q->ifindex && a->ifindex == q->ifindex) ||
	       (q->dst && q->dst->addr.family == a->ip.family &&
		nr_prefix_contains_addr(q->dst, &a->ip));
}

bool nr_reach_cache_affected(struct nr_ctl *ctl, const struct nr_prefix *dst, uint32_t ifindex)
{
	struct affected_q q = { .dst = dst, .ifindex = ifindex };

	ctl->reach->events++;
	return nr_hmap_any(&ctl->reach->map, entry_affected, &q);
}

/* ---- asked from the loop, in slices ---------------------------------------- */

struct nr_reach_fill {
	struct nr_nl_reach_async a;
	struct nr_addr *ips;
	struct nr_nl_reach *ans;
	int *rc;
	size_t n, cap;
	size_t taken;         /* answers before this one are in the cache */
	bool all;             /* every node's IPs: collected in slices */
	uint32_t next_index;  /* ... from this node index on */
	/* a large set is looked up by a worker (nr_ctl_send_lookups): */
	bool offload;
	bool started, ran;    /* the worker was started / has ended */
	int ran_rc;           /* ... with this */
	uint64_t events;      /* the cache's event count when the asking began */
};

/* From this many addresses on the lookups run on the thread pool: each is
 * a few microseconds of kernel work in the asking thread (~50 ms for a
 * full pass at 10,000 nodes); a few of them are not worth a worker's round
 * trip (an incremental pass's new nodes). */
#define OFFLOAD_MIN 256
/* Answers put in the cache between two clock reads. */
#define TAKE_SLICE 128

/* Nodes whose IPs are collected between two pumps: the walk with a cache
 * lookup per IP is itself milliseconds at 10,000 nodes. */
#define FILL_NODES_PER_PUMP 512

void nr_ctl_reach_fill_free(struct nr_reach_fill *f)
{
	if (!f)
		return;
	free(f->ips);
	free(f->ans);
	free(f->rc);
	free(f);
}

static void fill_collect(struct nr_ctl *ctl, struct nr_reach_fill *f, const struct nr_node *nd)
{
	const struct nr_addr *ips[2] = { &nd->ip4, &nd->ip6 };

	if (nd == nr_model_local_node(ctl->model))
		return;
	for (int i = 0; i < 2 && f->n < f->cap; i++)
		if (ips[i]->family && !cache_find(ctl->reach, ips[i]))
			f->ips[f->n++] = *ips[i];
}

/* The next nodes' IPs (all: from the model by index, in slices, the model
 * changing in between; a node added behind the cursor or beyond the room
 * reserved waits for the next pass). */
static void fill_more(struct nr_ctl *ctl, struct nr_reach_fill *f)
{
	const struct nr_node *nd = nr_model_node_from(ctl->model, f->next_index);

	for (int k = 0; nd && k < FILL_NODES_PER_PUMP && f->n < f->cap; k++) {
		fill_collect(ctl, f, nd);
		f->next_index = nd->index + 1;
		nd = nr_model_node_from(ctl->model, f->next_index);
	}
	nr_nl_reach_ready(&f->a, f->n, !nd || f->n >= f->cap);
}

/* An incremental pass names the nodes added since the last one (none,
 * usually: then nothing is walked - a walk of every node here cost each
 * node add ~20 loop turns at 10,000 nodes); a full pass asks for all. */
static int fill_begin(struct nr_ctl *ctl, bool all, char *const *names, size_t n,
		      struct nr_reach_fill **ret)
{
	struct nr_reach_fill *f;

	*ret = NULL;
	if (nr_model_config(ctl->model)->routing_mode == NR_MODE_TUNNEL)
		return 0;
	if (!all && !n)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->all = all;
	f->cap = 2 * (all ? nr_model_node_count(ctl->model) : n) + 1;
	f->ips = malloc(f->cap * sizeof(*f->ips));
	f->ans = malloc(f->cap * sizeof(*f->ans));
	f->rc = malloc(f->cap * sizeof(*f->rc));
	if (!f->ips || !f->ans || !f->rc) {
		nr_ctl_reach_fill_free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; !all && i < n; i++) {
		const struct nr_node *nd = nr_model_node_get(ctl->model, names[i]);

		if (nd)
			fill_collect(ctl, f, nd);
	}
	if (!all && !f->n) {
		nr_ctl_reach_fill_free(f);
		return 0;
	}
	f->offload = ctl->k->reach_run && f->cap >= OFFLOAD_MIN;
	f->events = ctl->reach->events;
	/* one sequence number per possible address, reserved now */
	nr_nl_reach_begin_open(&f->a, ctl->nl, f->ips, f->cap, f->ans, f->rc);
	nr_nl_reach_ready(&f->a, f->n, !f->all);
	*ret = f;
	return 0;
}

int nr_ctl_reach_fill_begin(struct nr_ctl *ctl, char *const *names, size_t n,
			    struct nr_reach_fill **ret)
{
	return fill_begin(ctl, false, names, n, ret);
}

int nr_ctl_reach_fill_all(struct nr_ctl *ctl, struct nr_reach_fill **ret)
{
	return fill_begin(ctl, true, NULL, 0, ret);
}

/* The answers received so far into the cache, in order (each pump takes
 * what arrived, so the cache grows in slices too), for at most budget_ns;
 * true when none is left to take. A lookup the socket lost (-EIO) stays
 * unasked, so a later pass asks again. */
static bool fill_take(struct nr_ctl *ctl, struct nr_reach_fill *f, uint64_t budget_ns)
{
	uint64_t t0 = nr_mono_ns();

	for (size_t k = 1; f->taken < f->a.ready && f->rc[f->taken] != 1; f->taken++, k++) {
		size_t i = f->taken;
		struct nr_reach a;

		if (k % TAKE_SLICE == 0 && nr_mono_ns() - t0 >= budget_ns)
			return false;
		if (f->rc[i] == -EIO)
			continue;
		take_answer(&f->ips[i], f->rc[i], &f->ans[i], &a);
		if (!cache_find(ctl->reach, &a.ip)) /* an IP may be listed twice */
			cache_put(ctl->reach, &a);
	}
	return true;
}

static const struct nr_ctl_job lookups_job;

/* The worker's way: collect every IP (slices), look them all up on the
 * pool, take the answers (slices). */
static int pump_offloaded(struct nr_ctl *ctl, struct nr_reach_fill *f, uint64_t budget_ns,
			  void (*then)(struct nr_ctl *ctl, int rc))
{
	uint64_t t0 = nr_mono_ns();

	if (!f->started) {
		while (!f->a.complete) {
			fill_more(ctl, f);
			if (!f->a.complete && nr_mono_ns() - t0 >= budget_ns)
				return NR_NL_REACH_MORE;
		}
		f->started = true;
		if (nr_ctl_send_job(ctl, &lookups_job, f, then))
			return NR_CTL_REACH_WORKER;
		f->ran = true; /* closing: nothing was asked */
		f->ran_rc = -ECANCELED;
	}
	if (!f->ran)
		return NR_CTL_REACH_WORKER;
	if (f->ran_rc < 0)
		nr_nl_reach_end(&f->a);
	if (!fill_take(ctl, f, budget_ns))
		return NR_NL_REACH_MORE;
	return f->ran_rc;
}

static int pump(struct nr_ctl *ctl, struct nr_reach_fill *f, uint64_t budget_ns,
		void (*then)(struct nr_ctl *ctl, int rc))
{
	int rc;

	if (f->offload)
		return pump_offloaded(ctl, f, budget_ns, then);
	if (!f->a.complete)
		fill_more(ctl, f);
	rc = ctl->k->reach_pump(&f->a, budget_ns);
	if (rc < 0)
		nr_nl_reach_end(&f->a);
	fill_take(ctl, f, UINT64_MAX);
	return rc;
}

int nr_ctl_reach_fill_pump(struct nr_ctl *ctl, struct nr_reach_fill *f, uint64_t budget_ns,
			   void (*then)(struct nr_ctl *ctl, int rc))
{
	int rc = pump(ctl, f, budget_ns, then);

	/* done: an event that came meanwhile may have changed an answer
	 * already given; the next full pass asks again */
	if (rc <= 0 && ctl->reach->events != f->events) {
		ctl->reach_stale = true;
		nr_ctl_schedule(ctl, NR_DRIFT_DEBOUNCE_MS);
	}
	return rc;
}

static int lookups_run(struct nr_ctl *ctl, void *arg)
{
	struct nr_reach_fill *f = arg;

	return ctl->k->reach_run(&f->a);
}

static void lookups_ended(void *arg, int rc)
{
	struct nr_reach_fill *f = arg;

	f->ran = true;
	f->ran_rc = rc;
}

static void lookups_free(void *arg)
{
	nr_ctl_reach_fill_free(arg);
}

static const struct nr_ctl_job lookups_job = {
	.run = lookups_run, .ended = lookups_ended, .free = lookups_free,
};

void nr_ctl_reach_fill_release(struct nr_ctl *ctl, struct nr_reach_fill *f)
{
	nr_ctl_send_release_job(ctl, &lookups_job, f);
}

const struct nr_reach *nr_ctl_reach_lookup(void *view, const struct nr_addr *ip)
{
	struct nr_ctl_reach_view *v = view;
	const struct nr_reach *hit = cache_find(v->ctl->reach, ip);

	if (hit && v->demote_gateways && hit->kind == NR_REACH_GATEWAY) {
		v->tmp = *hit;
		v->tmp.kind = NR_REACH_UNKNOWN;
		return &v->tmp;
	}
	return hit;
}
