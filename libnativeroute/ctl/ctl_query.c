/* Read-only views: the status snapshot and the node, endpoint and route
 * iterators. Text is formatted into stack buffers valid during the callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>

#include "nativeroute/version.h"

#include "ctl/ctl_internal.h"
#include "ctl/ctl_lookup.h"
#include "ctl/ctl_masq.h"
#include "ctl/ctl_pending.h"
#include "store/etcd.h"
#include "netlink/nl_link.h"
#include "util/last_error.h"

typedef int (*cmp_fn)(const void *, const void *);

static const struct nr_kroute *find_route(const struct nr_kstate *s, const struct nr_prefix *dst)
{
	struct nr_kroute key = { .dst = *dst };

	if (!s->n_routes) /* no plan yet (before the first pass): no NULL to bsearch */
		return NULL;
	return bsearch(&key, s->routes, s->n_routes, sizeof(key), (cmp_fn)nr_kroute_cmp_key);
}

static bool route_programmed(const struct nr_ctl *ctl, const struct nr_kroute *want)
{
	const struct nr_kroute *have = find_route(&ctl->observed, &want->dst);

	return have && nr_kroute_same(want, have);
}

void nr_ctl_netns_remember(struct nr_ctl *ctl)
{
	char path[PATH_MAX];
	struct stat sb;

	if (!ctl->netns)
		return;
	snprintf(path, sizeof(path), "%s%s", strchr(ctl->netns, '/') ? "" : "/run/netns/", ctl->netns);
	if (stat(path, &sb) == 0) {
		ctl->netns_dev = sb.st_dev;
		ctl->netns_ino = sb.st_ino;
	}
}

/* `ip netns delete` unmounts the name; the namespace lives on while our
 * sockets hold it, but nothing else can reach it any more (its pods and
 * links went with their owner's view of it): that is an outage. */
static bool netns_gone(const struct nr_ctl *ctl)
{
	char path[PATH_MAX];
	struct stat sb;

	if (!ctl->netns || !ctl->netns_ino)
		return false;
	snprintf(path, sizeof(path), "%s%s", strchr(ctl->netns, '/') ? "" : "/run/netns/", ctl->netns);
	return stat(path, &sb) < 0 || sb.st_ino != ctl->netns_ino || sb.st_dev != ctl->netns_dev;
}

/* The plan's skipped nodes by name, for the walks over every node: the
 * report lists them in plan order, and a search of it per node would make
 * a walk quadratic (100,000 nodes, some thousands unreachable). */
struct skip_index {
	const struct nr_plan_skip **by_name; /* NULL: search the report itself */
	size_t n;
};

static int skip_cmp(const void *a, const void *b)
{
	const struct nr_plan_skip *x = *(const struct nr_plan_skip *const *)a;
	const struct nr_plan_skip *y = *(const struct nr_plan_skip *const *)b;
	int c = strcmp(x->name, y->name);

	/* of two entries for one name, the report's first decides (as a search
	 * of the report in order would) */
	return c ? c : x < y ? -1 : x > y;
}

static void skip_index_build(const struct nr_ctl *ctl, struct skip_index *ix)
{
	ix->n = ctl->report.n_skipped;
	ix->by_name = ix->n > 8 ? malloc(ix->n * sizeof(*ix->by_name)) : NULL;
	if (!ix->by_name) /* few, or out of memory: the report in order */
		return;
	for (size_t i = 0; i < ix->n; i++)
		ix->by_name[i] = &ctl->report.skipped[i];
	qsort(ix->by_name, ix->n, sizeof(*ix->by_name), skip_cmp);
}

static const struct nr_plan_skip *skip_find(const struct nr_ctl *ctl, const struct skip_index *ix,
					    const char *name)
{
	size_t lo = 0, hi = ix->n;

	if (!ix->by_name) {
		for (size_t i = 0; i < ctl->report.n_skipped; i++)
			if (!strcmp(ctl->report.skipped[i].name, name))
				return &ctl->report.skipped[i];
		return NULL;
	}
	while (lo < hi) { /* the first entry not below name */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->by_name[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && !strcmp(ix->by_name[lo]->name, name) ? ix->by_name[lo] : NULL;
}

static const char *node_state(const struct nr_ctl *ctl, const struct skip_index *ix,
			      const struct nr_node *n);

static const struct nr_node *route_owner_node(const struct nr_ctl *ctl, const struct nr_kroute *r);

/* The remote node whose state a planned route decides, NULL when none:
 * what node_state says of a node, seen from its route (its IPv4 CIDR's
 * route when planned, else its IPv6 CIDR's). */
static const struct nr_node *decided_node(const struct nr_ctl *ctl, const struct skip_index *ix,
					  const struct nr_node *self, const struct nr_kroute *r)
{
	const struct nr_node *n;

	if (r->kind != NR_ROUTE_NATIVE && r->kind != NR_ROUTE_TUNNEL)
		return NULL;
	n = route_owner_node(ctl, r);
	if (!n || n == self)
		return NULL;
	if (!nr_prefix_eq(&r->dst, &n->cidr4) &&
	    (!nr_prefix_eq(&r->dst, &n->cidr6) ||
	     (n->cidr4.addr.family && find_route(&ctl->desired, &n->cidr4))))
		return NULL;
	return skip_find(ctl, ix, n->name) ? NULL : n;
}

/* Nodes whose state is "unrouted" and that have no CIDR at all. */
static size_t count_no_cidr(const struct nr_ctl *ctl, const struct skip_index *ix,
			    const struct nr_node *self)
{
	size_t count = 0;

	if (!nr_model_nodes_without_cidr(ctl->model))
		return 0; /* without a walk: every node is a cache miss */
	for (const struct nr_node *n = nr_model_node_next(ctl->model, NULL); n;
	     n = nr_model_node_next(ctl->model, n)) {
		const struct nr_plan_skip *skip;

		if (n == self || n->cidr4.addr.family || n->cidr6.addr.family)
			continue;
		skip = skip_find(ctl, ix, n->name);
		count += skip ? skip->reason == NR_SKIP_NO_CIDR : ctl->started;
	}
	return count;
}

/* The node and route counts of the status, as node_state would give them
 * node by node but from one merge walk of the planned and the programmed
 * routes (both sorted by destination): a lookup per node was 45 ms at
 * 100,000 nodes. Kept until something they depend on changes (see struct
 * nr_ctl_tally): a status between changes costs nothing. */
static const struct nr_ctl_tally *tally(struct nr_ctl *ctl)
{
	const struct nr_kstate *d = &ctl->desired, *o = &ctl->observed;
	struct nr_ctl_tally *t = &ctl->tally;
	struct nr_ctl_tally now = {
		.model = ctl->model, .gen = nr_model_generation(ctl->model),
		.passes = ctl->full_passes + ctl->incremental_passes,
		.started = ctl->started, .purged = ctl->purged,
	};
	const struct nr_node *self = nr_model_local_node(ctl->model);
	struct skip_index ix;
	size_t j = 0;

	if (t->valid && t->model == now.model && t->gen == now.gen && t->passes == now.passes &&
	    t->started == now.started && t->purged == now.purged)
		return t;
	skip_index_build(ctl, &ix);
	for (size_t i = 0; i < d->n_routes; i++) {
		const struct nr_kroute *r = &d->routes[i];
		int c = -1;

		while (j < o->n_routes && (c = nr_kroute_cmp_key(&o->routes[j], r)) < 0)
			j++;
		if (c != 0 || !nr_kroute_same(r, &o->routes[j]))
			continue; /* not programmed: the node is "pending" or "blocked" */
		now.routes_programmed++;
		if (decided_node(ctl, &ix, self, r))
			*(r->kind == NR_ROUTE_TUNNEL ? &now.tunnel : &now.native) += 1;
	}
	now.no_cidr = count_no_cidr(ctl, &ix, self);
	free(ix.by_name);
	/* a pass in flight changes the plan and the record as it goes */
	now.valid = !ctl->flight;
	*t = now;
	return t;
}

/* Local pod addresses of one family: used counts the gateway, total leaves
 * out the network and IPv4 broadcast addresses. */
static void pod_ips(const struct nr_ctl *ctl, uint8_t family, size_t used_eps, char *cidr,
		    size_t *used, size_t *total)
{
	const struct nr_node *self = nr_model_local_node(ctl->model);
	const struct nr_prefix *p = self ? nr_node_cidr(self, family) : NULL;
	unsigned int host;

	*used = *total = 0;
	cidr[0] = '\0';
	if (!p)
		return;
	nr_prefix_str(p, cidr, NR_ADDR_STRLEN);
	host = nr_addr_bits(family) - p->len;
	*total = host >= 63 ? SIZE_MAX : (1ull << host) - (family == AF_INET && host >= 2 ? 2 : 1);
	*used = used_eps + 1;
}

#define PROBLEM(...)                                                                            \
	do {                                                                                    \
		if (at < sizeof(ctl->st_problems))                                              \
			at += (size_t)snprintf(ctl->st_problems + at, sizeof(ctl->st_problems) - at, \
					       "%s", at ? "; " : "");                          \
		if (at < sizeof(ctl->st_problems))                                              \
			at += (size_t)snprintf(ctl->st_problems + at, sizeof(ctl->st_problems) - at, \
					       __VA_ARGS__);                                    \
	} while (0)

/* What is wrong, subsystem by subsystem; "" when nothing is. */
static void problems(struct nr_ctl *ctl, struct nr_status *s, size_t nodes_lost)
{
	size_t at = 0;

	ctl->st_problems[0] = '\0';
	if (!s->started)
		PROBLEM("controller: starting");
	if (s->netns_gone)
		PROBLEM("namespace: %s was deleted", ctl->netns);
	if (s->routes_programmed < s->routes_planned)
		PROBLEM("routes: %zu/%zu programmed", s->routes_programmed, s->routes_planned);
	if (nodes_lost)
		PROBLEM("nodes: %zu without a route (not reachable or waiting for the tunnel)",
			nodes_lost);
	if (s->endpoints_broken)
		PROBLEM("endpoints: %zu broken (host interface gone)", s->endpoints_broken);
	if (s->store_error)
		PROBLEM("store: %s", ctl->store_msg);
	if (s->store_etcd && !s->store_healthy)
		PROBLEM("store: etcd %s", s->store_detail);
	if ((s->masquerade_ipv4 || s->masquerade_ipv6) && !s->masquerade_programmed)
		PROBLEM("masquerading: the nftables table is not as planned");
}

NR_API int nr_ctl_status(struct nr_ctl *ctl, struct nr_status *st)
{
	const struct nr_cluster_config *cfg;
	struct nr_status s = { .sz = sizeof(s) };
	const struct nr_ipam *ipam;
	const struct nr_ctl_tally *t;
	size_t eps4 = 0, eps6 = 0, nodes_lost = 0;

	if (!ctl || !st || st->sz < sizeof(size_t))
		return nr_last_error_set(-EINVAL, "nr_ctl_status: %s", !ctl ? "no controller"
					 : !st ? "no status struct" : "st->sz is smaller than a size_t");
	if (nr_ctl_loaded(ctl) < 0) /* a saved state still loading is waited for */
		return ctl->load.rc;
	cfg = nr_model_config(ctl->model);
	ipam = nr_model_ipam(ctl->model);
	s.routing_mode = cfg->routing_mode;
	s.ipam_mode = cfg->ipam_mode;
	s.auto_direct_node_routes = cfg->auto_direct_node_routes;
	s.direct_routing_skip_unreachable = cfg->direct_routing_skip_unreachable;
	s.nexthop_objects = !ctl->classic_routes;
	s.started = ctl->started;
	s.nodes = nr_model_node_count(ctl->model);
	for (size_t i = 0; i < ctl->report.n_skipped; i++)
		if (ctl->report.skipped[i].reason == NR_SKIP_UNREACHABLE ||
		    ctl->report.skipped[i].reason == NR_SKIP_REACH_UNKNOWN)
			s.nodes_unreachable++;
	/* every node counted where its state says */
	t = tally(ctl);
	s.nodes_native = t->native;
	s.nodes_tunnel = t->tunnel;
	s.nodes_no_cidr = t->no_cidr;
	for (size_t i = 0; i < ctl->report.n_skipped; i++) {
		uint8_t why = ctl->report.skipped[i].reason;

		/* a skip the configuration asked for is reported, not a fault */
		if (why == NR_SKIP_REACH_UNKNOWN || why == NR_SKIP_NO_TUNNEL || why == NR_SKIP_NO_NODE_IP)
			nodes_lost++;
	}
	s.endpoints = nr_model_endpoint_count(ctl->model);
	for (const struct nr_endpoint *ep = nr_model_endpoint_next(ctl->model, NULL); ep;
	     ep = nr_model_endpoint_next(ctl->model, ep)) {
		eps4 += ep->ip4.family != 0;
		eps6 += ep->ip6.family != 0;
	}
	for (const struct nr_ctl_gone *g = ctl->gone; g; g = g->next)
		s.endpoints_broken++;
	s.routes_planned = ctl->desired.n_routes;
	s.routes_programmed = t->routes_programmed;
	for (size_t i = 0; i < nr_ipam_pool_count(ipam); i++) {
		struct nr_ipam_pool_info pi;

		if (nr_ipam_pool_info(ipam, i, &pi) < 0)
			continue;
		s.ipam_used += pi.used;
		s.ipam_total = s.ipam_total + pi.total < s.ipam_total ? SIZE_MAX : s.ipam_total + pi.total;
	}
	if (cfg->ipam_mode == NR_IPAM_KUBERNETES) {
		/* the caller assigns CIDRs; the cluster CIDRs still bound how many
		 * node-sized blocks exist (0 when none is configured) */
		s.ipam_used = nr_ipam_claim_count(ipam);
		for (unsigned int i = 0; i < cfg->n_cluster_cidrs; i++) {
			const struct nr_prefix *c = &cfg->cluster_cidrs[i];
			unsigned int bits = nr_config_mask_size(cfg, c->addr.family) - c->len;

			s.ipam_total = bits >= 63 || s.ipam_total + (1ull << bits) < s.ipam_total
					       ? SIZE_MAX : s.ipam_total + (1ull << bits);
		}
	}
	s.resyncs = ctl->resyncs;
	s.drift_repairs = ctl->drift_repairs;
	s.netlink_errors = ctl->netlink_errors;
	s.full_passes = ctl->full_passes;
	s.incremental_passes = ctl->incremental_passes;
	s.direct_routing_skip_unreachable = cfg->direct_routing_skip_unreachable;
	nr_ctl_bpf_status(ctl, &s);
	nr_ctl_masq_status(ctl, &s);
	s.store_file = ctl->store != NULL;
	if (ctl->etcd)
		nr_etcd_status(ctl->etcd, &s);
	s.netns_gone = netns_gone(ctl);
	s.store_error = ctl->store_error;
	s.version = nr_version_string();
	s.local_node = nr_model_local_name(ctl->model);
	pod_ips(ctl, AF_INET, eps4, ctl->st_cidr4, &s.pod_ips_used4, &s.pod_ips_total4);
	pod_ips(ctl, AF_INET6, eps6, ctl->st_cidr6, &s.pod_ips_used6, &s.pod_ips_total6);
	s.pod_cidr4 = ctl->st_cidr4;
	s.pod_cidr6 = ctl->st_cidr6;
	problems(ctl, &s, nodes_lost);
	s.problems = ctl->st_problems;
	s.healthy = !ctl->st_problems[0];
	/* copy only what the caller's struct has room for */
	memcpy((char *)st + sizeof(size_t), (char *)&s + sizeof(size_t),
	       (st->sz < sizeof(s) ? st->sz : sizeof(s)) - sizeof(size_t));
	return 0;
}

/* An iterator's return values other than 0 come with a current
 * nr_last_errmsg(), as for every failing call. */
static int walk_refused(const char *fn, const struct nr_ctl *ctl)
{
	return nr_last_error_set(-EINVAL, "%s: %s", fn, ctl ? "no function" : "no controller");
}

static int walk_stopped(const char *what, int rc)
{
	return nr_last_error_set(rc, "%s walk stopped by the callback (it returned %d)", what, rc);
}

static const char *node_state(const struct nr_ctl *ctl, const struct skip_index *ix,
			      const struct nr_node *n)
{
	const struct nr_prefix *cidrs[2] = { &n->cidr4, &n->cidr6 };
	const struct nr_plan_skip *skip;

	if (n == nr_model_local_node(ctl->model))
		return "local";
	if ((skip = skip_find(ctl, ix, n->name)))
		return skip->reason == NR_SKIP_NO_CIDR ? "unrouted" : "unreachable";
	for (int i = 0; i < 2; i++) {
		const struct nr_kroute *r;

		if (!cidrs[i]->addr.family || !(r = find_route(&ctl->desired, cidrs[i])))
			continue;
		if (!route_programmed(ctl, r))
			return nr_ctl_route_blocked(ctl, cidrs[i]) ? "blocked" : "pending";
		return r->kind == NR_ROUTE_TUNNEL ? "tunnel" : "native";
	}
	return ctl->started ? "unrouted" : "pending";
}

/* What nr_node_fn is handed about one node; the text lives in buf. */
struct node_text {
	char ip4[NR_ADDR_STRLEN], ip6[NR_ADDR_STRLEN], c4[NR_ADDR_STRLEN], c6[NR_ADDR_STRLEN];
	const char *cidrs[2];
};

static void node_info_fill(const struct nr_ctl *ctl, const struct skip_index *ix,
			   const struct nr_node *n, struct node_text *t, struct nr_node_info *info)
{
	*info = (struct nr_node_info){ .sz = sizeof(*info), .name = n->name, .pod_cidrs = t->cidrs };
	info->ipv4 = nr_addr_str(&n->ip4, t->ip4, sizeof(t->ip4));
	info->ipv6 = nr_addr_str(&n->ip6, t->ip6, sizeof(t->ip6));
	if (n->cidr4.addr.family)
		t->cidrs[info->n_pod_cidrs++] = nr_prefix_str(&n->cidr4, t->c4, sizeof(t->c4));
	if (n->cidr6.addr.family)
		t->cidrs[info->n_pod_cidrs++] = nr_prefix_str(&n->cidr6, t->c6, sizeof(t->c6));
	info->state = node_state(ctl, ix, n);
	info->local = n == nr_model_local_node(ctl->model);
}

NR_API int nr_ctl_node_foreach(struct nr_ctl *ctl, nr_node_fn fn, void *data)
{
	struct skip_index ix = { .by_name = NULL };
	size_t visited = 0;
	int rc = 0;

	if (!ctl || !fn)
		return walk_refused("nr_ctl_node_foreach", ctl);
	if (nr_ctl_loaded(ctl) < 0)
		return ctl->load.rc;
	for (const struct nr_node *n = nr_model_node_next(ctl->model, NULL); n;
	     n = nr_model_node_next(ctl->model, n)) {
		struct node_text t;
		struct nr_node_info info;

		/* sorted once the walk is long: one that stops at its first
		 * nodes (the status RPC looks for the local node) does not
		 * pay for sorting every skipped name */
		if (++visited == 32)
			skip_index_build(ctl, &ix);
		node_info_fill(ctl, &ix, n, &t, &info);
		rc = fn(&info, data);
		if (rc) {
			rc = walk_stopped("node", rc);
			break;
		}
	}
	free(ix.by_name);
	return rc;
}

int nr_ctl_node_lookup(struct nr_ctl *ctl, const char *name, nr_node_fn fn, void *data)
{
	struct skip_index ix = { .by_name = NULL }; /* one node: the report searched */
	const struct nr_node *n;
	struct node_text t;
	struct nr_node_info info;

	if (!ctl || !fn || !name)
		return walk_refused("nr_ctl_node_lookup", ctl);
	if (nr_ctl_loaded(ctl) < 0)
		return ctl->load.rc;
	n = nr_model_node_get(ctl->model, name);
	if (!n)
		return 0;
	node_info_fill(ctl, &ix, n, &t, &info);
	fn(&info, data);
	return 1;
}

NR_API int nr_ctl_endpoint_foreach(struct nr_ctl *ctl, nr_endpoint_fn fn, void *data)
{
	struct nr_addr gw4 = { 0 }, gw6 = { 0 };
	char g4[NR_ADDR_STRLEN], g6[NR_ADDR_STRLEN];
	uint32_t mtu;

	if (!ctl || !fn)
		return walk_refused("nr_ctl_endpoint_foreach", ctl);
	if (nr_ctl_loaded(ctl) < 0)
		return ctl->load.rc;
	mtu = nr_ctl_pod_mtu(ctl);
	nr_model_gateway(ctl->model, AF_INET, &gw4);
	nr_model_gateway(ctl->model, AF_INET6, &gw6);
	nr_addr_str(&gw4, g4, sizeof(g4));
	nr_addr_str(&gw6, g6, sizeof(g6));
	for (const struct nr_endpoint *ep = nr_model_endpoint_next(ctl->model, NULL); ep;
	     ep = nr_model_endpoint_next(ctl->model, ep)) {
		char ip4[NR_ADDR_STRLEN], ip6[NR_ADDR_STRLEN];
		struct nr_endpoint_info info = {
			.sz = sizeof(info), .id = ep->id, .ifname = ep->ifname, .ifindex = ep->ifindex,
			.ipv4 = nr_addr_str(&ep->ip4, ip4, sizeof(ip4)),
			.ipv6 = nr_addr_str(&ep->ip6, ip6, sizeof(ip6)),
			.gateway4 = ep->ip4.family ? g4 : "", .gateway6 = ep->ip6.family ? g6 : "",
			.mtu = mtu,
		};
		int rc = fn(&info, data);

		if (rc)
			return walk_stopped("endpoint", rc);
	}
	return 0;
}

/* Device names for the route view: a handful of distinct devices, looked up
 * once per walk. */
struct dev_names {
	uint32_t ifindex[16];
	char name[16][IFNAMSIZ];
	int n;
};

static const char *dev_name(struct nr_ctl *ctl, struct dev_names *d, uint32_t ifindex)
{
	struct nr_nl_link link;

	for (int i = 0; i < d->n; i++)
		if (d->ifindex[i] == ifindex)
			return d->name[i];
	if (ctl->k->link_get(ctl->query, NULL, ifindex, &link, NULL) < 0)
		snprintf(link.name, sizeof(link.name), "#%u", ifindex);
	if (d->n == 16)
		d->n = 0;
	d->ifindex[d->n] = ifindex;
	snprintf(d->name[d->n], IFNAMSIZ, "%s", link.name);
	return d->name[d->n++];
}

/* A route's kind; a route as dumped (the record of the kernel after a
 * pass that sent nothing) does not say: what it looks like. */
static uint8_t route_kind(const struct nr_ctl *ctl, const struct nr_kroute *r)
{
	if (r->kind)
		return r->kind;
	return !r->gw.family ? NR_ROUTE_ENDPOINT
	       : r->ifindex && r->ifindex == ctl->vxlan_ifindex ? NR_ROUTE_TUNNEL : NR_ROUTE_NATIVE;
}

/* The remote node a route leads to, NULL for an endpoint's. */
static const struct nr_node *route_owner_node(const struct nr_ctl *ctl, const struct nr_kroute *r)
{
	const struct nr_node *n = NULL;
	uint32_t index;
	uint8_t kind = route_kind(ctl, r);

	if (r->nh_id && nr_ctl_nh_index(ctl, r->nh_id, &index)) {
		n = nr_model_node_by_index(ctl->model, index);
	} else if (kind == NR_ROUTE_NATIVE) {
		n = nr_model_node_by_ip(ctl->model, &r->gw);
	} else if (kind == NR_ROUTE_TUNNEL) {
		struct nr_kneigh nk = { .ip = r->gw, .ifindex = r->ifindex };
		const struct nr_kneigh *ne = bsearch(&nk, ctl->desired.neighs, ctl->desired.n_neighs,
						     sizeof(nk), (cmp_fn)nr_kneigh_cmp_key);
		struct nr_kfdb fk = { .ifindex = r->ifindex };
		const struct nr_kfdb *fe;

		if (ne) {
			memcpy(fk.mac, ne->mac, 6);
			fe = bsearch(&fk, ctl->desired.fdbs, ctl->desired.n_fdbs, sizeof(fk),
				     (cmp_fn)nr_kfdb_cmp_key);
			if (fe)
				n = nr_model_node_by_ip(ctl->model, &fe->dst);
		}
	}
	return n;
}

const char *nr_ctl_route_owner(const struct nr_ctl *ctl, const struct nr_kroute *r)
{
	const struct nr_node *n;
	uint32_t index;

	if (!(r->nh_id && nr_ctl_nh_index(ctl, r->nh_id, &index)) &&
	    route_kind(ctl, r) == NR_ROUTE_ENDPOINT) { /* an endpoint's */
		for (const struct nr_endpoint *ep = nr_model_endpoint_next(ctl->model, NULL); ep;
		     ep = nr_model_endpoint_next(ctl->model, ep))
			if (nr_addr_eq(&ep->ip4, &r->dst.addr) || nr_addr_eq(&ep->ip6, &r->dst.addr))
				return ep->id;
		return "";
	}
	n = route_owner_node(ctl, r);
	return n ? n->name : "";
}

NR_API int nr_ctl_route_foreach(struct nr_ctl *ctl, nr_route_fn fn, void *data)
{
	struct dev_names devs = { .n = 0 };

	if (!ctl || !fn)
		return walk_refused("nr_ctl_route_foreach", ctl);
	if (nr_ctl_loaded(ctl) < 0)
		return ctl->load.rc;
	for (size_t i = 0; i < ctl->desired.n_routes; i++) {
		const struct nr_kroute *r = &ctl->desired.routes[i];
		char dst[NR_ADDR_STRLEN], via[NR_ADDR_STRLEN] = "";
		uint32_t ifindex = r->ifindex;
		struct nr_route_info info = { .sz = sizeof(info), .mtu = r->mtu };
		int rc;

		if (r->nh_id) {
			struct nr_knexthop key = { .id = r->nh_id };
			const struct nr_knexthop *nh = bsearch(&key, ctl->desired.nexthops,
							       ctl->desired.n_nexthops, sizeof(key),
							       (cmp_fn)nr_knexthop_cmp_key);
			if (nh) {
				nr_addr_str(&nh->gw, via, sizeof(via));
				ifindex = nh->ifindex;
			}
		} else {
			nr_addr_str(&r->gw, via, sizeof(via));
		}
		info.dst = nr_prefix_str(&r->dst, dst, sizeof(dst));
		info.kind = r->kind == NR_ROUTE_TUNNEL ? "tunnel"
			    : r->kind == NR_ROUTE_ENDPOINT ? "endpoint" : "native";
		info.via = via;
		info.dev = dev_name(ctl, &devs, ifindex);
		info.node = nr_ctl_route_owner(ctl, r);
		info.programmed = route_programmed(ctl, r);
		rc = fn(&info, data);
		if (rc)
			return walk_stopped("route", rc);
	}
	return 0;
}
